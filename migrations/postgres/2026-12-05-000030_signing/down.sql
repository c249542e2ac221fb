DROP TABLE signing_evidence;
DROP FUNCTION signing_evidence_append_only();
DROP TABLE signing_signers;
DROP TABLE signing_envelopes;
