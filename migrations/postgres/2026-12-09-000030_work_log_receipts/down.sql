DROP TABLE work_log_receipts;
