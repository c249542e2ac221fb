ALTER TABLE signing_envelopes DROP COLUMN executed_seal_certificate;
DROP TABLE signing_seal_certificates;
DROP TABLE signing_seal_jobs;
