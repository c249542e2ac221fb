-- Issue 14, "Signers": a signer slot may name the behörig företrädare who signs it. A named slot is
-- signed only by the person with that e-mail in that organisation, and only they are invited.
ALTER TABLE signing_signers ADD COLUMN signer_name TEXT NULL;
ALTER TABLE signing_signers ADD COLUMN signer_email TEXT NULL;
