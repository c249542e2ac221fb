//! Overdue invoices and their reminders (betalningspåminnelser), with no database (issue 15, item 6:
//! "Overdue and reminders through the mail scheduler").
//!
//! Rules (a product choice, documented in the README):
//! - An invoice is overdue when it is issued, its balance is above zero, and today (the
//!   Europe/Stockholm day) is after its due date.
//! - The first reminder goes out on the first day after the due date, then one every
//!   [`INTERVAL_DAYS`] days, at most [`MAX_ROUNDS`] in all; after that finance follows up by hand.
//! - A scheduler that was down does not send the rounds it missed one after the other: it sends the
//!   latest round that is due, once.
use chrono::{Duration, NaiveDate};

/// Days between two reminders.
pub const INTERVAL_DAYS: i64 = 14;
/// The most reminders an invoice gets.
pub const MAX_ROUNDS: i32 = 3;

/// Whether an issued invoice with `balance_ore` left and `due` is overdue on `today`.
pub fn is_overdue(due: Option<NaiveDate>, balance_ore: i64, today: NaiveDate) -> bool {
    balance_ore > 0 && due.is_some_and(|d| today > d)
}

/// The day reminder `round` (1, 2, …) is due.
pub fn round_on(due: NaiveDate, round: i32) -> NaiveDate {
    due + Duration::days(1 + INTERVAL_DAYS * i64::from(round - 1))
}

/// The reminder round to send today, if any, given the last round sent (0 for none).
pub fn round_due(
    due: Option<NaiveDate>,
    balance_ore: i64,
    last_sent: i32,
    today: NaiveDate,
) -> Option<i32> {
    let due = due?;
    if !is_overdue(Some(due), balance_ore, today) {
        return None;
    }
    let latest = (1..=MAX_ROUNDS)
        .rev()
        .find(|r| round_on(due, *r) <= today)?;
    (latest > last_sent).then_some(latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn the_first_day_after_the_due_date_then_every_fourteen_days_at_most_three() {
        let due = Some(day(10, 31));
        assert_eq!(round_due(due, 100, 0, day(10, 31)), None);
        assert_eq!(round_due(due, 100, 0, day(11, 1)), Some(1));
        assert_eq!(round_due(due, 100, 1, day(11, 1)), None);
        assert_eq!(round_due(due, 100, 1, day(11, 14)), None);
        assert_eq!(round_due(due, 100, 1, day(11, 15)), Some(2));
        assert_eq!(round_due(due, 100, 2, day(11, 29)), Some(3));
        assert_eq!(round_due(due, 100, 3, day(12, 13)), None);
        assert_eq!(round_due(due, 100, 3, day(12, 31)), None);
    }

    #[test]
    fn a_paid_or_overpaid_invoice_gets_no_reminder_and_missed_rounds_are_not_sent_in_a_row() {
        let due = Some(day(10, 31));
        assert_eq!(round_due(due, 0, 0, day(11, 1)), None);
        assert_eq!(round_due(due, -5, 0, day(11, 1)), None);
        assert_eq!(round_due(None, 100, 0, day(11, 1)), None);
        // Down from the due date to 20 November: one reminder, round 2, then round 3 in its time.
        assert_eq!(round_due(due, 100, 0, day(11, 20)), Some(2));
        assert_eq!(round_due(due, 100, 2, day(11, 21)), None);
        assert_eq!(round_due(due, 100, 2, day(11, 29)), Some(3));
        assert!(is_overdue(due, 1, day(11, 1)));
        assert!(!is_overdue(due, 1, day(10, 31)));
    }
}
