//! An invoice's balance and payment status, computed from its payments and credit notes (issue 15,
//! item 5: "partial payments and overpayments shown; the invoice's balance and status follow"). An
//! issued invoice never changes (migration `2026-12-07-000010_billing`), so none of this is stored on
//! it: it follows from the append-only payments and the issued credit notes.
//!
//! balance = gross + credited (the credit notes' gross, negative) − paid. Status:
//! - `draft`: not issued;
//! - `credited`: nothing paid and the credit notes take back the whole gross;
//! - `overpaid`: the balance is below zero (the excess is shown as a negative balance);
//! - `paid`: the balance is zero;
//! - `partially_paid`: something paid, something left;
//! - `issued`: nothing paid, something left.
//!
//! Overdue is apart from the status: issued, a balance above zero and past the due date on the
//! Europe/Stockholm day ([`super::reminder::is_overdue`]).
use chrono::NaiveDate;

/// What an invoice stands at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: &'static str,
    pub paid_ore: i64,
    /// The credit notes' gross taken back, as a positive amount.
    pub credited_ore: i64,
    pub balance_ore: i64,
    pub overdue: bool,
}

/// Every status a filter may name.
pub const STATUSES: [&str; 6] = [
    "draft",
    "issued",
    "partially_paid",
    "paid",
    "overpaid",
    "credited",
];

/// The standing of an invoice (`kind` `invoice`) or credit note with `gross_ore`, credit notes of
/// `credited_gross_ore` (negative or zero) and payments of `paid_ore`.
pub fn standing(
    kind: &str,
    issued: bool,
    gross_ore: i64,
    credited_gross_ore: i64,
    paid_ore: i64,
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> Standing {
    if !issued {
        return Standing {
            status: "draft",
            paid_ore: 0,
            credited_ore: 0,
            balance_ore: 0,
            overdue: false,
        };
    }
    if kind != "invoice" {
        // A credit note is not paid: it counts against its invoice's balance.
        return Standing {
            status: "issued",
            paid_ore: 0,
            credited_ore: 0,
            balance_ore: 0,
            overdue: false,
        };
    }
    let owed = gross_ore.saturating_add(credited_gross_ore);
    let balance = owed.saturating_sub(paid_ore);
    let status = if paid_ore == 0 && owed <= 0 && credited_gross_ore != 0 {
        "credited"
    } else if balance < 0 {
        "overpaid"
    } else if balance == 0 {
        "paid"
    } else if paid_ore > 0 {
        "partially_paid"
    } else {
        "issued"
    };
    Standing {
        status,
        paid_ore,
        credited_ore: credited_gross_ore.saturating_neg(),
        balance_ore: balance,
        overdue: super::reminder::is_overdue(due, balance, today),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
    }

    fn st(credited: i64, paid: i64, today: u32) -> Standing {
        standing(
            "invoice",
            true,
            125_000,
            credited,
            paid,
            Some(day(15)),
            day(today),
        )
    }

    #[test]
    fn issued_partially_paid_paid_and_overpaid() {
        assert_eq!(st(0, 0, 1).status, "issued");
        assert_eq!(st(0, 25_000, 1).status, "partially_paid");
        assert_eq!(st(0, 25_000, 1).balance_ore, 100_000);
        assert_eq!(st(0, 125_000, 1).status, "paid");
        let over = st(0, 130_000, 1);
        assert_eq!((over.status, over.balance_ore), ("overpaid", -5_000));
    }

    #[test]
    fn credit_notes_count_against_the_balance() {
        let full = st(-125_000, 0, 20);
        assert_eq!(
            (full.status, full.balance_ore, full.overdue),
            ("credited", 0, false)
        );
        assert_eq!(full.credited_ore, 125_000);
        // A partial credit and the rest paid: paid.
        assert_eq!(st(-25_000, 100_000, 20).status, "paid");
        // A full credit after a payment: the payment is an overpayment to pay back.
        let back = st(-125_000, 50_000, 20);
        assert_eq!((back.status, back.balance_ore), ("overpaid", -50_000));
    }

    #[test]
    fn overdue_is_a_balance_left_after_the_due_day() {
        assert!(!st(0, 0, 15).overdue);
        assert!(st(0, 0, 16).overdue);
        assert!(st(0, 1, 16).overdue);
        assert!(!st(0, 125_000, 16).overdue);
        let draft = standing("invoice", false, 1, 0, 0, Some(day(1)), day(20));
        assert_eq!((draft.status, draft.overdue), ("draft", false));
        let credit = standing("credit_note", true, -1, 0, 0, None, day(20));
        assert_eq!(credit.status, "issued");
    }
}
