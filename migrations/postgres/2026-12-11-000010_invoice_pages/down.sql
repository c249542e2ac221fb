DROP INDEX payment_allocations_cpua;
DROP INDEX invoices_by_cpua;
