//! The rules of the work log (arbetslogg) and of invoicing it, as pure functions: what a line costs,
//! the cost ceiling of the written cost agreement, and which lines a credit note may take back.
//!
//! Seed 000 (`000_8f4d98e28584af27.txt`, "Ersättning för datauttag för forskning"): work beyond the
//! routine may be charged, "bedömas från fall till fall och vara reglerat skriftligt innan data lämnas
//! ut" — so a line is logged only against a written cost agreement, at its rate. Issue 15, item 2:
//! approaching or passing the agreement's ceiling warns; passing it needs a recorded reason (a "bör":
//! DOMAIN.md, "How strongly each rule binds" — a warning passed with a reason, never a silent block).
// A refusal is returned as the lifecycle returns it (`domain::lifecycle` allows the same).
#![allow(clippy::result_large_err)]
use crate::domain::collaboration::CostAgreement;
use crate::domain::lifecycle::advice::{Acknowledgement, Advice};
use crate::domain::lifecycle::{Refusal, SEED_000};
use crate::domain::money::Money;

/// The section of seed 000 the cost rules come from.
pub const COST_SECTION: &str = "Ersättning för datauttag för forskning";

/// The warning code when the logged total reaches [`APPROACH_PERCENT`] of the ceiling.
pub const CEILING_APPROACHED: &str = "cost_ceiling_approached";
/// The "bör" code when a line takes the logged total past the ceiling.
pub const CEILING_PASSED: &str = "cost_ceiling_passed";
/// From this share of the ceiling (percent) a line warns that the ceiling is near.
pub const APPROACH_PERCENT: i64 = 80;
/// The most hours one line may hold, in hundredths: one day.
pub const MAX_LINE_HUNDREDTHS: i64 = 24 * 100;
/// The prompt on approving an expense line that has no receipt (issue 15, item 2: expenses "with
/// receipt attachment"). Neither the seeds nor the issue say the receipt "ska" be there, so it never
/// blocks the approval: a "gärna".
pub const RECEIPT_MISSING: &str = "receipt_missing";

/// The ceiling of a cost agreement (kostnadstak): its own ceiling, else its estimate
/// ([`super::cost::ceiling`]).
pub fn ceiling_of(ca: &CostAgreement) -> Money {
    super::cost::ceiling(ca)
}

/// Hours or a direct expense.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Hours,
    Expense,
}

impl LineKind {
    pub fn code(self) -> &'static str {
        match self {
            LineKind::Hours => "hours",
            LineKind::Expense => "expense",
        }
    }

    pub fn parse(s: &str) -> Option<LineKind> {
        match s {
            "hours" => Some(LineKind::Hours),
            "expense" => Some(LineKind::Expense),
            _ => None,
        }
    }

    /// The UN/ECE Rec 20 unit on the invoice: `HUR` (hour) or `C62` (one).
    pub fn unit_code(self) -> &'static str {
        match self {
            LineKind::Hours => "HUR",
            LineKind::Expense => "C62",
        }
    }
}

/// What one line costs: hours × the agreement's hourly rate (rounded half away from zero to öre), or
/// the expense's amount. Returns (rate, amount). An hours line without a rate in the agreement is
/// refused naming `cost_agreement.hourly_rate`; the hours must be 0.01–24.00, an expense above zero.
pub fn line_amount(
    kind: LineKind,
    hours_hundredths: Option<i64>,
    expense_ore: Option<i64>,
    ca: &CostAgreement,
) -> Result<(Option<Money>, Money), Refusal> {
    match kind {
        LineKind::Hours => {
            let h = hours_hundredths.ok_or_else(|| {
                Refusal::invalid("hours_hundredths", crate::msg!("worklog.hours"))
            })?;
            if !(1..=MAX_LINE_HUNDREDTHS).contains(&h) {
                return Err(Refusal::invalid(
                    "hours_hundredths",
                    crate::msg!("worklog.hours"),
                ));
            }
            let rate = ca.hourly_rate.ok_or_else(|| {
                Refusal::invalid(
                    "cost_agreement.hourly_rate",
                    crate::msg!("worklog.rate_missing"),
                )
                .source(SEED_000, COST_SECTION)
            })?;
            let p = i128::from(rate.ore()) * i128::from(h);
            let ore = i64::try_from((p + 50) / 100)
                .map_err(|_| Refusal::invalid("hours_hundredths", crate::msg!("money.overflow")))?;
            let amount = Money::from_ore(ore)
                .map_err(|e| Refusal::invalid("hours_hundredths", e.message()))?;
            Ok((Some(rate), amount))
        }
        LineKind::Expense => {
            let ore = expense_ore
                .filter(|o| *o > 0)
                .ok_or_else(|| Refusal::invalid("amount_ore", crate::msg!("worklog.expense")))?;
            let amount =
                Money::from_ore(ore).map_err(|e| Refusal::invalid("amount_ore", e.message()))?;
            Ok((None, amount))
        }
    }
}

/// The outcome of the ceiling check for a line that may be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeilingOutcome {
    /// Warnings to show with the line (approaching, or passed with a reason).
    pub warnings: Vec<Advice>,
    /// The reason given for passing the ceiling, to record on the line.
    pub passed_reason: Option<String>,
}

fn approached(ceiling: Money) -> Advice {
    Advice::garna(
        CEILING_APPROACHED,
        format!(
            "Det loggade beloppet närmar sig kostnadstaket ({}).",
            ceiling.format(crate::domain::lang::Lang::Sv)
        ),
        format!(
            "The logged amount is approaching the cost ceiling ({}).",
            ceiling.format(crate::domain::lang::Lang::En)
        ),
        SEED_000,
        COST_SECTION,
    )
}

fn passed(ceiling: Money, total: i64) -> Advice {
    let t = Money::from_ore(total).unwrap_or(Money::ZERO);
    Advice::bor(
        CEILING_PASSED,
        format!(
            "Raden för det loggade beloppet till {} över kostnadstaket {}: kostnadsöverenskommelsen bör ändras först.",
            t.format(crate::domain::lang::Lang::Sv),
            ceiling.format(crate::domain::lang::Lang::Sv)
        ),
        format!(
            "The line takes the logged amount to {}, past the cost ceiling of {}: the cost agreement should be changed first.",
            t.format(crate::domain::lang::Lang::En),
            ceiling.format(crate::domain::lang::Lang::En)
        ),
        SEED_000,
        COST_SECTION,
    )
}

/// The ceiling rule for a new line of `line` öre when `logged` öre are logged already: below
/// [`APPROACH_PERCENT`] % of the ceiling nothing is said; from there up to the ceiling a warning;
/// past it the line is refused unless `acknowledged` passes [`CEILING_PASSED`] with a reason, which
/// is then recorded.
pub fn check_ceiling(
    ceiling: Money,
    logged: Money,
    line: Money,
    acknowledged: &[Acknowledgement],
) -> Result<CeilingOutcome, Refusal> {
    let total = i128::from(logged.ore()) + i128::from(line.ore());
    let cap = i128::from(ceiling.ore());
    if total > cap {
        let total_ore = i64::try_from(total).unwrap_or(i64::MAX);
        let warning = passed(ceiling, total_ore);
        let reason = acknowledged
            .iter()
            .find(|a| a.code == CEILING_PASSED && !a.reason.trim().is_empty())
            .map(|a| a.reason.trim().to_string());
        return match reason {
            Some(r) => Ok(CeilingOutcome {
                warnings: vec![warning],
                passed_reason: Some(r),
            }),
            None => {
                let mut r = Refusal::precondition(crate::msg!(
                    "warning_needs_reason",
                    codes = crate::domain::messages::Arg::all_of([CEILING_PASSED])
                ))
                .missing([format!("acknowledge.{CEILING_PASSED}")])
                .source(SEED_000, COST_SECTION);
                r.field = Some("acknowledge".into());
                r.warnings = vec![warning];
                Err(r)
            }
        };
    }
    let warnings = if total * 100 >= cap * i128::from(APPROACH_PERCENT) && total > 0 {
        vec![approached(ceiling)]
    } else {
        vec![]
    };
    Ok(CeilingOutcome {
        warnings,
        passed_reason: None,
    })
}

/// The prompt for approving a line: an expense without a receipt is approved, with the prompt
/// [`RECEIPT_MISSING`] (a "gärna", never a block). Work is charged as done and agreed (seed 000,
/// "Ersättning för datauttag för forskning"); the receipt is the evidence of a direct expense.
pub fn approval_advice(kind: LineKind, has_receipt: bool) -> Vec<Advice> {
    if kind == LineKind::Expense && !has_receipt {
        vec![Advice::garna(
            RECEIPT_MISSING,
            "Utlägget har inget kvitto bifogat. Raden godkänns ändå; bifoga gärna kvittot.",
            "The expense has no receipt attached. The line is approved all the same; please attach the receipt.",
            SEED_000,
            COST_SECTION,
        )]
    } else {
        vec![]
    }
}

/// Which part of an issued invoice a credit note takes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditScope {
    /// Every line.
    Full,
    /// The named lines (1, 2, …), whole.
    Lines(Vec<u32>),
    /// One line of this net amount (öre, positive), described by the reason.
    Amount(i64),
    /// The named lines (1, 2, …), each whole (`None`) or of a part of its quantity (hundredths,
    /// above zero and at most the line's): the net is that quantity × the unit price, to the öre.
    Chosen(Vec<(u32, Option<i64>)>),
}

/// One line a credit note carries: description, quantity (hundredths), unit, unit price (öre), net (öre).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditLine {
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_code: String,
    pub unit_price_ore: i64,
    pub net_ore: i64,
    pub work_log_line: Option<String>,
}

/// The lines of a credit note against an invoice whose lines are `lines` (number, line) and of
/// which `credited_ore` net were credited already: never more than is left of the invoice.
pub fn credit_lines(
    lines: &[(u32, CreditLine)],
    invoice_net_ore: i64,
    credited_ore: i64,
    scope: &CreditScope,
    reason: &str,
) -> Result<Vec<CreditLine>, Refusal> {
    let out: Vec<CreditLine> = match scope {
        CreditScope::Full => lines.iter().map(|(_, l)| l.clone()).collect(),
        CreditScope::Lines(ns) => {
            if ns.is_empty() {
                return Err(Refusal::invalid("lines", crate::msg!("credit.lines")));
            }
            let mut v = Vec::new();
            for (i, n) in ns.iter().enumerate() {
                if ns[..i].contains(n) {
                    return Err(Refusal::invalid("lines", crate::msg!("credit.lines")));
                }
                let l = lines
                    .iter()
                    .find(|(k, _)| k == n)
                    .ok_or_else(|| Refusal::invalid("lines", crate::msg!("credit.lines")))?;
                v.push(l.1.clone());
            }
            v
        }
        CreditScope::Chosen(chosen) => {
            if chosen.is_empty() {
                return Err(Refusal::invalid("lines", crate::msg!("credit.lines")));
            }
            let mut v = Vec::new();
            for (i, (n, part)) in chosen.iter().enumerate() {
                if chosen[..i].iter().any(|(k, _)| k == n) {
                    return Err(Refusal::invalid("lines", crate::msg!("credit.lines")));
                }
                let l = lines
                    .iter()
                    .find(|(k, _)| k == n)
                    .ok_or_else(|| Refusal::invalid("lines", crate::msg!("credit.lines")))?;
                let mut line = l.1.clone();
                if let Some(q) = *part {
                    let field = format!("quantities.{n}");
                    if q <= 0 || q > line.quantity_hundredths {
                        return Err(Refusal::invalid(
                            &field,
                            crate::msg!("credit.quantity", max = line.quantity_hundredths),
                        ));
                    }
                    if q < line.quantity_hundredths {
                        line.net_ore = part_of(line.unit_price_ore, q);
                        line.quantity_hundredths = q;
                    }
                }
                v.push(line);
            }
            v
        }
        CreditScope::Amount(a) => {
            if *a <= 0 {
                return Err(Refusal::invalid("amount_ore", crate::msg!("credit.amount")));
            }
            vec![CreditLine {
                description: reason.to_string(),
                quantity_hundredths: 100,
                unit_code: "C62".into(),
                unit_price_ore: *a,
                net_ore: *a,
                work_log_line: None,
            }]
        }
    };
    let sum: i64 = out.iter().map(|l| l.net_ore).sum();
    if sum <= 0 || credited_ore + sum > invoice_net_ore {
        return Err(Refusal::invalid(
            "amount_ore",
            crate::msg!(
                "credit.exceeds",
                left = (invoice_net_ore - credited_ore).max(0)
            ),
        ));
    }
    Ok(out)
}

/// `quantity_hundredths` hundredths of a unit at `unit_price_ore`, rounded half away from zero to
/// the öre (as an hours line's amount is).
fn part_of(unit_price_ore: i64, quantity_hundredths: i64) -> i64 {
    let p = i128::from(unit_price_ore) * i128::from(quantity_hundredths);
    let r = if p >= 0 {
        (p + 50) / 100
    } else {
        (p - 50) / 100
    };
    i64::try_from(r).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::AccountId;

    #[test]
    fn an_expense_without_a_receipt_is_approved_with_a_prompt_never_a_block() {
        use crate::domain::lifecycle::advice::Grade;
        let a = approval_advice(LineKind::Expense, false);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].code, RECEIPT_MISSING);
        // Not a "bör" and not a "ska": the seeds and the issue do not require the receipt.
        assert_eq!(a[0].grade, Grade::Garna);
        assert_eq!(a[0].source.section, COST_SECTION);
        assert!(approval_advice(LineKind::Expense, true).is_empty());
        assert!(approval_advice(LineKind::Hours, false).is_empty());
    }

    fn credit_fixture() -> Vec<(u32, CreditLine)> {
        vec![
            (
                1,
                CreditLine {
                    description: "Datauttag".into(),
                    quantity_hundredths: 300,
                    unit_code: "HUR".into(),
                    unit_price_ore: 95_001,
                    net_ore: 285_003,
                    work_log_line: Some("a".into()),
                },
            ),
            (
                2,
                CreditLine {
                    description: "Porto".into(),
                    quantity_hundredths: 100,
                    unit_code: "C62".into(),
                    unit_price_ore: 5_000,
                    net_ore: 5_000,
                    work_log_line: Some("b".into()),
                },
            ),
        ]
    }

    #[test]
    fn chosen_lines_are_credited_whole_or_in_part_of_their_quantity_never_more() {
        let l = credit_fixture();
        // Line 1 for 1.25 h of 3 h at 950,01 kr: 1 187,5125 kr -> 1 187,51 kr; line 2 whole.
        let out = credit_lines(
            &l,
            290_003,
            0,
            &CreditScope::Chosen(vec![(1, Some(125)), (2, None)]),
            "fel",
        )
        .unwrap();
        assert_eq!(out[0].quantity_hundredths, 125);
        assert_eq!(out[0].net_ore, 118_751);
        assert_eq!(out[1].net_ore, 5_000);
        // More than the line holds, nothing, or a line twice: refused at the line's quantity field.
        for (q, field) in [(301, "quantities.1"), (0, "quantities.1")] {
            let r = credit_lines(
                &l,
                290_003,
                0,
                &CreditScope::Chosen(vec![(1, Some(q))]),
                "x",
            )
            .unwrap_err();
            assert_eq!(r.field.as_deref(), Some(field), "{q}");
        }
        let r = credit_lines(
            &l,
            290_003,
            0,
            &CreditScope::Chosen(vec![(2, None), (2, None)]),
            "x",
        )
        .unwrap_err();
        assert_eq!(r.field.as_deref(), Some("lines"));
        let r = credit_lines(&l, 290_003, 0, &CreditScope::Chosen(vec![]), "x").unwrap_err();
        assert_eq!(r.field.as_deref(), Some("lines"));
        // What was credited before counts: line 1 whole does not fit after 10 kr were credited.
        let r = credit_lines(
            &l,
            290_003,
            286_000,
            &CreditScope::Chosen(vec![(1, None)]),
            "x",
        )
        .unwrap_err();
        assert_eq!(r.field.as_deref(), Some("amount_ore"));
    }

    fn ca(estimate: i64, rate: Option<i64>) -> CostAgreement {
        CostAgreement {
            reference: "KOST-1".into(),
            signed_on: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            estimate: Money::from_ore(estimate).unwrap(),
            hourly_rate: rate.map(|r| Money::from_ore(r).unwrap()),
            recorded_by: AccountId::new(),
            rates: vec![],
            expenses: Money::ZERO,
            ceiling: None,
        }
    }

    fn m(ore: i64) -> Money {
        Money::from_ore(ore).unwrap()
    }

    #[test]
    fn the_ceiling_is_the_agreed_ceiling_else_the_estimate() {
        assert_eq!(ceiling_of(&ca(4_500_000, None)), m(4_500_000));
        let with = CostAgreement {
            ceiling: Some(m(5_000_000)),
            ..ca(4_500_000, None)
        };
        assert_eq!(ceiling_of(&with), m(5_000_000));
    }

    #[test]
    fn an_hours_line_costs_hours_times_the_agreed_rate_and_needs_the_rate() {
        let (rate, amount) =
            line_amount(LineKind::Hours, Some(150), None, &ca(1, Some(95_001))).unwrap();
        assert_eq!(rate, Some(m(95_001)));
        // 1.5 h × 950,01 kr = 1 425,015 kr → 1 425,02 kr.
        assert_eq!(amount, m(142_502));
        let r = line_amount(LineKind::Hours, Some(150), None, &ca(1, None)).unwrap_err();
        assert_eq!(r.field.as_deref(), Some("cost_agreement.hourly_rate"));
        assert_eq!(r.rule, "worklog");
        for bad in [Some(0), Some(-5), Some(2401), None] {
            let r = line_amount(LineKind::Hours, bad, None, &ca(1, Some(1))).unwrap_err();
            assert_eq!(r.field.as_deref(), Some("hours_hundredths"), "{bad:?}");
        }
    }

    #[test]
    fn an_expense_line_costs_its_amount_which_must_be_positive() {
        let (rate, amount) =
            line_amount(LineKind::Expense, None, Some(1_845_000), &ca(1, None)).unwrap();
        assert_eq!((rate, amount), (None, m(1_845_000)));
        for bad in [Some(0), Some(-1), None] {
            let r = line_amount(LineKind::Expense, None, bad, &ca(1, None)).unwrap_err();
            assert_eq!(r.field.as_deref(), Some("amount_ore"));
        }
    }

    #[test]
    fn below_eighty_percent_nothing_is_said_from_there_a_warning() {
        let ceiling = m(100_000);
        let quiet = check_ceiling(ceiling, m(50_000), m(29_999), &[]).unwrap();
        assert!(quiet.warnings.is_empty());
        let near = check_ceiling(ceiling, m(50_000), m(30_000), &[]).unwrap();
        assert_eq!(near.warnings.len(), 1);
        assert_eq!(near.warnings[0].code, CEILING_APPROACHED);
        assert_eq!(near.passed_reason, None);
        // Exactly at the ceiling is not past it.
        let at = check_ceiling(ceiling, m(50_000), m(50_000), &[]).unwrap();
        assert_eq!(at.warnings[0].code, CEILING_APPROACHED);
    }

    #[test]
    fn passing_the_ceiling_is_refused_without_a_reason_and_recorded_with_one() {
        let ceiling = m(100_000);
        let r = check_ceiling(ceiling, m(90_000), m(10_001), &[]).unwrap_err();
        assert_eq!(r.field.as_deref(), Some("acknowledge"));
        assert_eq!(r.missing, vec![format!("acknowledge.{CEILING_PASSED}")]);
        assert_eq!(r.warnings[0].code, CEILING_PASSED);
        assert_eq!(
            r.warnings[0].grade,
            crate::domain::lifecycle::advice::Grade::Bor
        );
        let blank = [Acknowledgement {
            code: CEILING_PASSED.into(),
            reason: "  ".into(),
        }];
        assert!(check_ceiling(ceiling, m(90_000), m(10_001), &blank).is_err());
        let other = [Acknowledgement {
            code: "something_else".into(),
            reason: "x".into(),
        }];
        assert!(check_ceiling(ceiling, m(90_000), m(10_001), &other).is_err());
        let ok = [Acknowledgement {
            code: CEILING_PASSED.into(),
            reason: " Utökat uttag enligt mejl 2026-11-02 ".into(),
        }];
        let out = check_ceiling(ceiling, m(90_000), m(10_001), &ok).unwrap();
        assert_eq!(
            out.passed_reason.as_deref(),
            Some("Utökat uttag enligt mejl 2026-11-02")
        );
        assert_eq!(out.warnings[0].code, CEILING_PASSED);
        // A zero ceiling: any charge passes it.
        assert!(check_ceiling(Money::ZERO, Money::ZERO, m(1), &[]).is_err());
    }

    fn cl(net: i64) -> CreditLine {
        CreditLine {
            description: "x".into(),
            quantity_hundredths: 100,
            unit_code: "HUR".into(),
            unit_price_ore: net,
            net_ore: net,
            work_log_line: None,
        }
    }

    #[test]
    fn a_credit_note_never_takes_back_more_than_is_left() {
        let lines = [(1, cl(1_000)), (2, cl(500))];
        assert_eq!(
            credit_lines(&lines, 1_500, 0, &CreditScope::Full, "r")
                .unwrap()
                .len(),
            2
        );
        let one = credit_lines(&lines, 1_500, 0, &CreditScope::Lines(vec![2]), "r").unwrap();
        assert_eq!(one[0].net_ore, 500);
        assert!(credit_lines(&lines, 1_500, 0, &CreditScope::Lines(vec![3]), "r").is_err());
        assert!(credit_lines(&lines, 1_500, 0, &CreditScope::Lines(vec![1, 1]), "r").is_err());
        assert!(credit_lines(&lines, 1_500, 0, &CreditScope::Lines(vec![]), "r").is_err());
        let part = credit_lines(&lines, 1_500, 0, &CreditScope::Amount(300), "Rabatt").unwrap();
        assert_eq!(
            (part[0].net_ore, part[0].description.as_str()),
            (300, "Rabatt")
        );
        // After 1 300 credited, only 200 are left.
        assert!(credit_lines(&lines, 1_500, 1_300, &CreditScope::Amount(201), "r").is_err());
        assert!(credit_lines(&lines, 1_500, 1_300, &CreditScope::Amount(200), "r").is_ok());
        assert!(credit_lines(&lines, 1_500, 500, &CreditScope::Full, "r").is_err());
        assert!(credit_lines(&lines, 1_500, 0, &CreditScope::Amount(0), "r").is_err());
    }
}
