-- Billing of extraction work (issue 15, items 2-4 and 6): the work log, the CPUA's invoice series,
-- invoices and credit notes with their lines and their stored renderings. An issued invoice never
-- changes (bookkeeping law keeps vouchers seven years): triggers refuse UPDATE and DELETE of an
-- issued invoice, its lines and its files, whoever asks.

-- One line of work done for a collaboration (arbetslogg): hours at the cost agreement's rate, or a
-- direct expense. Amounts in öre; hours in hundredths (1.50 h = 150).
CREATE TABLE work_log_lines (
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    cpua_id TEXT NOT NULL,
    person_name TEXT NOT NULL,
    worked_on DATE NOT NULL,
    activity TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hours', 'expense')),
    hours_hundredths BIGINT NOT NULL CHECK (hours_hundredths >= 0),
    rate_ore BIGINT,
    amount_ore BIGINT NOT NULL CHECK (amount_ore >= 0),
    status TEXT NOT NULL CHECK (status IN ('logged', 'approved')),
    logged_by TEXT NOT NULL,
    logged_at TIMESTAMP NOT NULL,
    approved_by TEXT,
    approved_at TIMESTAMP,
    -- The reason given for passing the cost ceiling (a "bör" passed), if it was passed.
    ceiling_reason TEXT,
    invoice_id TEXT
);
CREATE INDEX work_log_lines_case ON work_log_lines (collaboration_id, worked_on, logged_at, id);

-- The invoice number series of a CPUA per year: a row-locked counter taken in the issuing
-- transaction, never a sequence (a sequence leaves gaps on rollback).
CREATE TABLE invoice_series (
    cpua_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    next_number BIGINT NOT NULL CHECK (next_number >= 1),
    PRIMARY KEY (cpua_id, year)
);

-- An invoice or credit note (faktura, kreditfaktura): a draft without a number, then issued.
CREATE TABLE invoices (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    credits_invoice_id TEXT REFERENCES invoices (id),
    number TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'issued')),
    cpua_id TEXT NOT NULL,
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    buyer_org_id TEXT NOT NULL,
    buyer_name TEXT NOT NULL,
    buyer_org_number TEXT NOT NULL,
    buyer_vat_number TEXT,
    buyer_country TEXT NOT NULL,
    buyer_reference TEXT,
    order_number TEXT,
    -- JSON: the seller as printed, its bankgiro, the buyer's postal address, contact and Peppol
    -- endpoint (what the document prints beyond the columns above).
    parties TEXT NOT NULL,
    payment_terms_days INTEGER NOT NULL,
    issue_date DATE,
    due_date DATE,
    ocr TEXT,
    currency TEXT NOT NULL,
    vat_treatment TEXT,
    net_ore BIGINT NOT NULL,
    vat_ore BIGINT NOT NULL,
    gross_ore BIGINT NOT NULL,
    note TEXT,
    -- The document every rendering was made from (JSON), once issued.
    document TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    issued_by TEXT,
    issued_at TIMESTAMP,
    CHECK (buyer_reference IS NOT NULL OR order_number IS NOT NULL),
    CHECK (status = 'draft' OR (number IS NOT NULL AND issue_date IS NOT NULL AND document IS NOT NULL)),
    CHECK (kind = 'invoice' OR credits_invoice_id IS NOT NULL)
);
CREATE UNIQUE INDEX invoices_number ON invoices (cpua_id, number);
-- The list of a CPUA's invoices by status, newest first; the overdue list by due date.
CREATE INDEX invoices_list ON invoices (cpua_id, status, created_at, id);
CREATE INDEX invoices_due ON invoices (cpua_id, status, due_date);
CREATE INDEX invoices_case ON invoices (collaboration_id, created_at);

CREATE TABLE invoice_lines (
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    line_number INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity_hundredths BIGINT NOT NULL,
    unit_code TEXT NOT NULL,
    unit_price_ore BIGINT NOT NULL,
    net_ore BIGINT NOT NULL,
    work_log_line_id TEXT,
    PRIMARY KEY (invoice_id, line_number)
);

-- The stored renderings of an issued invoice: the PDF in Swedish and English and the UBL, with the
-- SHA-256 of their bytes.
CREATE TABLE invoice_files (
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    kind TEXT NOT NULL CHECK (kind IN ('pdf_sv', 'pdf_en', 'ubl')),
    bytes BYTEA NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (invoice_id, kind)
);

-- An issued invoice never changes and is never deleted, nor truncated away.
CREATE FUNCTION invoice_issued_immutable() RETURNS trigger AS $$
DECLARE
    st TEXT;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'issued_invoice_immutable: invoices are never truncated';
    END IF;
    IF TG_TABLE_NAME = 'invoices' THEN
        IF OLD.status = 'issued' THEN
            RAISE EXCEPTION 'issued_invoice_immutable: an issued invoice never changes';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO st FROM invoices WHERE id = OLD.invoice_id;
        IF st = 'issued' THEN
            RAISE EXCEPTION 'issued_invoice_immutable: an issued invoice never changes';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status INTO st FROM invoices WHERE id = NEW.invoice_id;
        IF st = 'issued' THEN
            RAISE EXCEPTION 'issued_invoice_immutable: an issued invoice never changes';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoices_issued_immutable BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoice_issued_immutable();
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_issued_immutable();
CREATE TRIGGER invoice_lines_issued_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION invoice_issued_immutable();
CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_issued_immutable();
CREATE TRIGGER invoice_files_issued_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_files
    FOR EACH ROW EXECUTE FUNCTION invoice_issued_immutable();
CREATE TRIGGER invoice_files_no_truncate BEFORE TRUNCATE ON invoice_files
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_issued_immutable();
