DROP TABLE signing_evidence;
DROP TABLE signing_signers;
DROP TABLE signing_envelopes;
