DROP INDEX invoices_credits;
DROP INDEX invoices_ocr;
DROP INDEX invoices_overdue;
DROP TABLE invoice_reminders;
DROP TABLE payments;
DROP TABLE payment_imports;
