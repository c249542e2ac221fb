DROP TABLE outbox;
ALTER TABLE accounts DROP COLUMN notices;
ALTER TABLE accounts DROP COLUMN language;
