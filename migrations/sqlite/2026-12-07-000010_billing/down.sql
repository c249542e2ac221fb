DROP TABLE invoice_files;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE invoice_series;
DROP TABLE work_log_lines;
