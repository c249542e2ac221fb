//! Matching incoming payments to open invoices (avstämning av inbetalningar), with no database: the
//! ledger gives the open invoices and the bank references it has already recorded, this module says
//! what each payment does, and the ledger writes all of it in one transaction or none (issue 15, item
//! 5: "matched on the OCR reference, partial payments and overpayments shown"; "Bad input": "an
//! import is all or nothing").
//!
//! Rules:
//! - A payment is matched on its OCR reference (Bankgirot's check digit, [`super::ocr::check`]): a
//!   structured reference must be a valid OCR number; in free remittance text every run of digits
//!   that is a valid OCR number of an open invoice is a candidate, and exactly one must match.
//! - A payment less than the balance is partial, more is an overpayment (the excess is shown, never
//!   dropped); several payments to one invoice in a file are applied in file order.
//! - A bank reference already recorded is not counted again (a re-sent or overlapping file); the same
//!   bank reference twice in one file refuses the whole file.
//! - Debits and entries that are not booked are not payments; a payment in another currency than the
//!   invoice is not matched.
use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;

use super::amount::Amount;
use super::camt::{BankTransaction, CreditDebit, Notification};
use super::ocr;

/// An invoice that can still be paid, as the ledger has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvoice {
    pub id: String,
    pub ocr: String,
    /// What is left to pay (may be zero or negative after earlier overpayments).
    pub balance: Amount,
}

/// A payment to be matched (inbetalning), from a bank file or recorded by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingPayment {
    /// The bank's reference: a payment is counted once by it.
    pub bank_reference: String,
    /// The OCR reference or remittance text the payer gave.
    pub reference: Option<String>,
    /// Whether `reference` is a structured creditor reference (else free text to search).
    pub structured: bool,
    /// The payer's name as the bank gave it (camt.054 `Dbtr/Nm`).
    pub payer_name: Option<String>,
    pub amount: Amount,
    pub booked_on: NaiveDate,
    /// The line in the bank file, for messages (0 for a payment recorded by hand).
    pub line: usize,
}

/// A bank transaction that is not a payment to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Money going out of the account.
    Debit { bank_reference: String },
    /// Not booked yet (`PDNG`, `INFO`).
    NotBooked {
        bank_reference: String,
        status: String,
    },
}

/// The payments of a camt.054 notification: booked credits. Debits and unbooked entries are
/// listed apart.
pub fn payments_of(n: &Notification) -> (Vec<IncomingPayment>, Vec<Skipped>) {
    let mut payments = vec![];
    let mut skipped = vec![];
    for t in &n.transactions {
        let bank_reference = t.bank_reference();
        if t.direction == CreditDebit::Debit {
            skipped.push(Skipped::Debit { bank_reference });
            continue;
        }
        if let Some(s) = t.status.as_deref().filter(|s| *s != "BOOK") {
            skipped.push(Skipped::NotBooked {
                bank_reference,
                status: s.to_string(),
            });
            continue;
        }
        payments.push(payment_of(t));
    }
    (payments, skipped)
}

fn payment_of(t: &BankTransaction) -> IncomingPayment {
    IncomingPayment {
        bank_reference: t.bank_reference(),
        reference: t.reference.clone(),
        structured: t.structured,
        payer_name: t.debtor_name.clone(),
        amount: t.amount,
        booked_on: t.booking_date,
        line: t.line,
    }
}

/// What a matched payment did to its invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The balance is now zero.
    Paid,
    /// Less than the balance: this much is still to pay.
    Partial { remaining: Amount },
    /// More than the balance: this much was paid too much.
    Overpaid { excess: Amount },
}

/// A payment matched to an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub invoice_id: String,
    pub payment: IncomingPayment,
    pub balance_before: Amount,
    pub balance_after: Amount,
    pub outcome: Outcome,
}

/// Why a payment matched no invoice; it is kept for finance to place by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnmatchedReason {
    /// The payer gave no reference.
    NoReference,
    /// The structured reference fails the OCR check (a typing error).
    InvalidOcr(String),
    /// A valid OCR number, but of no open invoice.
    UnknownOcr(String),
    /// Free text naming no open invoice's OCR number, or more than one.
    NoSingleInvoice,
    /// The invoice is in another currency.
    Currency { invoice_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    pub payment: IncomingPayment,
    pub reason: UnmatchedReason,
}

/// The result of matching a set of payments, to be written as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settlement {
    pub matched: Vec<Matched>,
    pub unmatched: Vec<Unmatched>,
    /// Payments whose bank reference is already recorded: not counted again.
    pub already_recorded: Vec<IncomingPayment>,
    /// Each invoice's balance after all of it, by invoice id.
    pub balances: BTreeMap<String, Amount>,
}

/// Why the whole set is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    #[error("the bank reference {reference:?} appears twice in the file (lines {first} and {second}); nothing is imported")]
    DuplicateReference {
        reference: String,
        first: usize,
        second: usize,
    },
    #[error("a payment at line {line} has no bank reference; nothing is imported")]
    NoBankReference { line: usize },
    #[error("a payment at line {line} is not a positive amount; nothing is imported")]
    NotPositive { line: usize },
    #[error("the balance of invoice {0} overflows")]
    Overflow(String),
}

/// Matches `payments` to `invoices`; `recorded` holds the bank references already counted.
pub fn settle(
    invoices: &[OpenInvoice],
    payments: &[IncomingPayment],
    recorded: &HashSet<String>,
) -> Result<Settlement, SettlementError> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for p in payments {
        if p.bank_reference.trim().is_empty() {
            return Err(SettlementError::NoBankReference { line: p.line });
        }
        if p.amount.minor() <= 0 {
            return Err(SettlementError::NotPositive { line: p.line });
        }
        if let Some(first) = seen.insert(p.bank_reference.as_str(), p.line) {
            return Err(SettlementError::DuplicateReference {
                reference: p.bank_reference.clone(),
                first,
                second: p.line,
            });
        }
    }
    let by_ocr: BTreeMap<&str, &OpenInvoice> =
        invoices.iter().map(|i| (i.ocr.as_str(), i)).collect();
    let mut out = Settlement {
        balances: invoices.iter().map(|i| (i.id.clone(), i.balance)).collect(),
        ..Settlement::default()
    };
    for p in payments {
        if recorded.contains(&p.bank_reference) {
            out.already_recorded.push(p.clone());
            continue;
        }
        let invoice = match find(&by_ocr, p) {
            Ok(i) => i,
            Err(reason) => {
                out.unmatched.push(Unmatched {
                    payment: p.clone(),
                    reason,
                });
                continue;
            }
        };
        let before = out
            .balances
            .get(&invoice.id)
            .copied()
            .unwrap_or(invoice.balance);
        if before.currency() != p.amount.currency() {
            out.unmatched.push(Unmatched {
                payment: p.clone(),
                reason: UnmatchedReason::Currency {
                    invoice_id: invoice.id.clone(),
                },
            });
            continue;
        }
        let after = p
            .amount
            .checked_neg()
            .and_then(|neg| before.checked_add(neg))
            .map_err(|_| SettlementError::Overflow(invoice.id.clone()))?;
        let outcome = match after.minor() {
            0 => Outcome::Paid,
            m if m > 0 => Outcome::Partial { remaining: after },
            _ => Outcome::Overpaid {
                excess: after
                    .checked_neg()
                    .map_err(|_| SettlementError::Overflow(invoice.id.clone()))?,
            },
        };
        out.balances.insert(invoice.id.clone(), after);
        out.matched.push(Matched {
            invoice_id: invoice.id.clone(),
            payment: p.clone(),
            balance_before: before,
            balance_after: after,
            outcome,
        });
    }
    Ok(out)
}

/// The invoice a payment's reference names.
fn find<'a>(
    by_ocr: &BTreeMap<&str, &'a OpenInvoice>,
    p: &IncomingPayment,
) -> Result<&'a OpenInvoice, UnmatchedReason> {
    let Some(reference) = p.reference.as_deref().filter(|r| !r.trim().is_empty()) else {
        return Err(UnmatchedReason::NoReference);
    };
    if p.structured {
        let digits: String = reference.chars().filter(|c| !c.is_whitespace()).collect();
        if !ocr::check(&digits) {
            return Err(UnmatchedReason::InvalidOcr(digits));
        }
        return by_ocr
            .get(digits.as_str())
            .copied()
            .ok_or(UnmatchedReason::UnknownOcr(digits));
    }
    let mut found: Vec<&OpenInvoice> = reference
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| ocr::check(run))
        .filter_map(|run| by_ocr.get(run).copied())
        .collect();
    found.dedup_by(|a, b| a.id == b.id);
    match found.as_slice() {
        [one] => Ok(one),
        _ => Err(UnmatchedReason::NoSingleInvoice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(id: &str, ocr: &str, ore: i64) -> OpenInvoice {
        OpenInvoice {
            id: id.into(),
            ocr: ocr.into(),
            balance: Amount::sek(ore),
        }
    }

    fn pay(bank: &str, reference: &str, ore: i64) -> IncomingPayment {
        IncomingPayment {
            bank_reference: bank.into(),
            reference: Some(reference.into()),
            structured: true,
            payer_name: None,
            amount: Amount::sek(ore),
            booked_on: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            line: 1,
        }
    }

    fn invoices() -> Vec<OpenInvoice> {
        // The OCR numbers of issue 15's worked examples.
        vec![
            inv("A", "20260001712", 1_250_000),
            inv("B", "1234574", 100_000),
        ]
    }

    #[test]
    fn a_full_payment_a_partial_and_an_overpayment() {
        let s = settle(
            &invoices(),
            &[
                pay("T1", "20260001712", 1_250_000),
                pay("T2", "1234574", 40_000),
            ],
            &HashSet::new(),
        )
        .unwrap();
        assert_eq!(s.matched.len(), 2);
        assert_eq!(s.matched[0].outcome, Outcome::Paid);
        assert_eq!(
            s.matched[1].outcome,
            Outcome::Partial {
                remaining: Amount::sek(60_000)
            }
        );
        assert_eq!(s.balances["A"], Amount::sek(0));
        assert_eq!(s.balances["B"], Amount::sek(60_000));
        let s = settle(
            &invoices(),
            &[pay("T3", "1234574", 150_000)],
            &HashSet::new(),
        )
        .unwrap();
        assert_eq!(
            s.matched[0].outcome,
            Outcome::Overpaid {
                excess: Amount::sek(50_000)
            }
        );
        assert_eq!(s.balances["B"], Amount::sek(-50_000));
        assert_eq!(s.matched[0].balance_before, Amount::sek(100_000));
    }

    #[test]
    fn several_payments_to_one_invoice_apply_in_order() {
        let s = settle(
            &invoices(),
            &[
                pay("T1", "1234574", 60_000),
                pay("T2", "1234574", 40_000),
                pay("T3", "1234574", 1),
            ],
            &HashSet::new(),
        )
        .unwrap();
        let outcomes: Vec<Outcome> = s.matched.iter().map(|m| m.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                Outcome::Partial {
                    remaining: Amount::sek(40_000)
                },
                Outcome::Paid,
                Outcome::Overpaid {
                    excess: Amount::sek(1)
                }
            ]
        );
        assert_eq!(s.matched[2].balance_before, Amount::sek(0));
    }

    #[test]
    fn an_ocr_with_a_wrong_check_digit_or_of_no_invoice_is_unmatched() {
        let mut free = pay("T4", "Faktura 1234574, tack!", 100_000);
        free.structured = false;
        let mut two = pay("T5", "1234574 och 20260001712", 1);
        two.structured = false;
        let mut none = pay("T6", "", 1);
        none.reference = None;
        let s = settle(
            &invoices(),
            &[
                pay("T1", "1234575", 100_000),
                pay("T2", "123455", 100_000),
                pay("T3", "2026 0001 712", 5),
                free,
                two,
                none,
            ],
            &HashSet::new(),
        )
        .unwrap();
        let reasons: Vec<&UnmatchedReason> = s.unmatched.iter().map(|u| &u.reason).collect();
        assert_eq!(
            reasons,
            vec![
                &UnmatchedReason::InvalidOcr("1234575".into()),
                &UnmatchedReason::UnknownOcr("123455".into()),
                &UnmatchedReason::NoSingleInvoice,
                &UnmatchedReason::NoReference,
            ]
        );
        // Spaces in a structured reference are ignored; free text naming one invoice matches it.
        let ids: Vec<&str> = s.matched.iter().map(|m| m.invoice_id.as_str()).collect();
        assert_eq!(ids, vec!["A", "B"]);
    }

    #[test]
    fn a_bank_reference_is_counted_once() {
        let recorded: HashSet<String> = ["T1".to_string()].into();
        let s = settle(
            &invoices(),
            &[pay("T1", "1234574", 100_000), pay("T2", "1234574", 10)],
            &recorded,
        )
        .unwrap();
        assert_eq!(s.already_recorded.len(), 1);
        assert_eq!(s.already_recorded[0].bank_reference, "T1");
        assert_eq!(s.matched.len(), 1);
        assert_eq!(s.balances["B"], Amount::sek(99_990));
        // Twice in one file: the whole file is refused.
        let mut second = pay("T2", "20260001712", 5);
        second.line = 9;
        let e = settle(
            &invoices(),
            &[pay("T2", "1234574", 10), second],
            &HashSet::new(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            SettlementError::DuplicateReference {
                reference: "T2".into(),
                first: 1,
                second: 9
            }
        );
    }

    #[test]
    fn a_payment_without_a_bank_reference_or_amount_refuses_the_whole_file() {
        assert_eq!(
            settle(&invoices(), &[pay(" ", "1234574", 1)], &HashSet::new()),
            Err(SettlementError::NoBankReference { line: 1 })
        );
        assert_eq!(
            settle(&invoices(), &[pay("T", "1234574", 0)], &HashSet::new()),
            Err(SettlementError::NotPositive { line: 1 })
        );
    }

    #[test]
    fn another_currency_is_not_matched() {
        let mut p = pay("T1", "1234574", 100);
        p.amount = Amount::new(100, super::super::amount::Currency::parse("EUR").unwrap());
        let s = settle(&invoices(), &[p], &HashSet::new()).unwrap();
        assert_eq!(
            s.unmatched[0].reason,
            UnmatchedReason::Currency {
                invoice_id: "B".into()
            }
        );
        assert_eq!(s.balances["B"], Amount::sek(100_000));
    }

    #[test]
    fn a_bank_file_gives_its_booked_credits_as_payments() {
        let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>M</MsgId></GrpHdr><Ntfctn>
<Ntry><Amt Ccy="SEK">400.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-01</Dt></BookgDt>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>B-1</AcctSvcrRef></Refs><Amt Ccy="SEK">400.00</Amt>
<RmtInf><Strd><CdtrRefInf><Ref>1234574</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="SEK">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-10-01</Dt></BookgDt><AcctSvcrRef>FEE</AcctSvcrRef></Ntry>
<Ntry><Amt Ccy="SEK">9.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts><BookgDt><Dt>2026-10-01</Dt></BookgDt><AcctSvcrRef>P</AcctSvcrRef></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"#;
        let n = super::super::camt::parse(xml.as_bytes()).unwrap();
        let (payments, skipped) = payments_of(&n);
        assert_eq!(payments.len(), 1);
        assert_eq!(
            skipped,
            vec![
                Skipped::Debit {
                    bank_reference: "FEE".into()
                },
                Skipped::NotBooked {
                    bank_reference: "P".into(),
                    status: "PDNG".into()
                }
            ]
        );
        let s = settle(&invoices(), &payments, &HashSet::new()).unwrap();
        assert_eq!(
            s.matched[0].outcome,
            Outcome::Partial {
                remaining: Amount::sek(60_000)
            }
        );
        assert_eq!(s.matched[0].payment.bank_reference, "B-1");
    }
}
