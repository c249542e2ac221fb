ALTER TABLE payments DROP COLUMN payer_name;
