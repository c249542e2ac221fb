ALTER TABLE invoices DROP COLUMN revision;
