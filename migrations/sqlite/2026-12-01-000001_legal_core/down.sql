DROP TABLE release_delegations;
ALTER TABLE registers DROP COLUMN patient_information_covers_research;
