ALTER TABLE signing_signers DROP COLUMN signer_email;
ALTER TABLE signing_signers DROP COLUMN signer_name;
