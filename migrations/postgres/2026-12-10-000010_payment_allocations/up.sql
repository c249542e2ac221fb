-- Issue 15, item 5: a payment whose OCR reference matched no invoice (recorded without one, with
-- the reason) is placed on an invoice later by finance, in part or in whole. A placement is a
-- bookkeeping voucher like the payment itself: append-only, never changed or undone (a wrong
-- placement is corrected by a refund and a new payment). The invoice's balance counts its
-- placements as paid; a payment's placements never exceed its amount (checked by the command in
-- the same transaction, under the payment's row lock).
CREATE TABLE payment_allocations (
    id TEXT PRIMARY KEY NOT NULL,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    cpua_id TEXT NOT NULL,
    amount_ore BIGINT NOT NULL CHECK (amount_ore > 0),
    allocated_by TEXT NOT NULL,
    allocated_at TIMESTAMP NOT NULL
);
CREATE INDEX payment_allocations_payment ON payment_allocations (payment_id);
CREATE INDEX payment_allocations_invoice ON payment_allocations (invoice_id);

-- The function of migration 2026-12-08-000010_payments.
CREATE TRIGGER payment_allocations_immutable BEFORE UPDATE OR DELETE ON payment_allocations
    FOR EACH ROW EXECUTE FUNCTION payment_immutable();
CREATE TRIGGER payment_allocations_no_truncate BEFORE TRUNCATE ON payment_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION payment_immutable();
