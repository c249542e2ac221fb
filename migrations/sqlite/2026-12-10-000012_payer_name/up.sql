-- Issue 15, item 5: the payer's name as the bank gave it (camt.054 `RltdPties/Dbtr/Nm`, in
-- versions 08 and later `RltdPties/Dbtr/Pty/Nm`), or as finance typed it for a payment recorded by
-- hand. Shown on the payment pages and in the finance export, for finance to place a payment that
-- matched no invoice. Set when the payment is recorded; the row never changes (triggers).
ALTER TABLE payments ADD COLUMN payer_name TEXT;
