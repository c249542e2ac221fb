-- Payments of invoices (issue 15, items 5, 6 and 8): recorded by hand or imported from a bank's
-- camt.054 file. An invoice's balance and status are computed from its payments and credit notes
-- (an issued invoice never changes, so nothing is stored on it). A payment is a bookkeeping voucher:
-- append-only, triggers refuse UPDATE and DELETE, whoever asks.

-- One imported camt.054 file: its SHA-256, message id and how many entries it held.
CREATE TABLE payment_imports (
    id TEXT PRIMARY KEY NOT NULL,
    cpua_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    message_id TEXT,
    entries INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    unmatched INTEGER NOT NULL,
    already_recorded INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX payment_imports_cpua ON payment_imports (cpua_id, recorded_at);

-- A payment (inbetalning) to a CPUA's bankgiro: matched to an invoice, or kept unmatched for
-- finance to place. Amounts in öre; the bank reference is counted once per CPUA.
CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    cpua_id TEXT NOT NULL,
    invoice_id TEXT REFERENCES invoices (id),
    amount_ore BIGINT NOT NULL CHECK (amount_ore > 0),
    currency TEXT NOT NULL,
    value_date DATE NOT NULL,
    bank_reference TEXT NOT NULL,
    ocr_reference TEXT,
    -- Why an unmatched payment matched no invoice (code), for finance.
    unmatched_reason TEXT,
    source TEXT NOT NULL CHECK (source IN ('manual', 'camt054')),
    import_id TEXT REFERENCES payment_imports (id),
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    CHECK (source = 'manual' OR import_id IS NOT NULL)
);
CREATE UNIQUE INDEX payments_bank_reference ON payments (cpua_id, bank_reference);
CREATE INDEX payments_invoice ON payments (invoice_id, value_date);
CREATE INDEX payments_cpua_date ON payments (cpua_id, value_date);

-- An invoice's credit notes (its balance), an OCR reference of a CPUA (matching a payment), and
-- the issued invoices past their due date across CPUAs (the reminder scheduler).
CREATE INDEX invoices_credits ON invoices (credits_invoice_id, status);
CREATE INDEX invoices_ocr ON invoices (cpua_id, ocr);
CREATE INDEX invoices_overdue ON invoices (status, kind, due_date);

-- The overdue reminders sent for an invoice (påminnelse): one row per invoice and round, so a
-- restart or a second instance never sends a round twice.
CREATE TABLE invoice_reminders (
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    round INTEGER NOT NULL CHECK (round >= 1),
    sent_on DATE NOT NULL,
    balance_ore BIGINT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (invoice_id, round)
);

CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments
BEGIN SELECT RAISE(ABORT, 'payment_immutable: a recorded payment never changes'); END;
CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments
BEGIN SELECT RAISE(ABORT, 'payment_immutable: a recorded payment is never deleted'); END;
CREATE TRIGGER payment_imports_no_update BEFORE UPDATE ON payment_imports
BEGIN SELECT RAISE(ABORT, 'payment_immutable: a recorded import never changes'); END;
CREATE TRIGGER payment_imports_no_delete BEFORE DELETE ON payment_imports
BEGIN SELECT RAISE(ABORT, 'payment_immutable: a recorded import is never deleted'); END;
