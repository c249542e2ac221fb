//! The written cost agreement measured against the register holder's estimate (kostnadsöverenskommelse
//! mot kostnadsuppskattning), and the most that may be charged under it (takbelopp). Issue 15, item 1:
//! "One source of truth for costs … A cost agreement far from the estimate asks for a confirmation with
//! a reason."
//!
//! Seed 000 (`000 Beskrivning Process för samverkan - Nationella kvalitetsregister.md`, "Ersättning för
//! datauttag för forskning") only says that the costs of work beyond routine are agreed in writing
//! before data are released; it names no tolerance. **Product choice:** an agreed total below 50 % or
//! above 200 % of the estimate the register holders gave at step 2 is "far from it" — a "bör" warning
//! passed with a recorded reason, never a block (the parties may well have agreed a different scope).
//! Exactly 50 % and exactly 200 % are within.
use crate::domain::collaboration::{Collaboration, CostAgreement};
use crate::domain::money::Money;

/// Below this share of the estimate (percent) the agreement is far from it.
pub const LOW_PERCENT: i128 = 50;
/// Above this share of the estimate (percent) the agreement is far from it.
pub const HIGH_PERCENT: i128 = 200;

/// The code of the "bör" warning (passed with `acknowledge: [{code, reason}]`).
pub const FAR_FROM_ESTIMATE: &str = "cost_far_from_estimate";

/// How an agreed total stands to the estimate when it is far from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deviation {
    /// Below [`LOW_PERCENT`] of the estimate.
    Below,
    /// Above [`HIGH_PERCENT`] of the estimate.
    Above,
}

/// The most that may be charged under the agreement: its ceiling, else its estimate.
pub fn ceiling(a: &CostAgreement) -> Money {
    a.ceiling.unwrap_or(a.estimate)
}

/// The register holders' estimate for the collaboration (step 2): the sum of the estimated costs
/// their feasibility answers give; none when no answer gives one (or the sum overflows, which no
/// real estimate does).
pub fn feasibility_estimate(c: &Collaboration) -> Option<Money> {
    let mut costs = c.feasibility.iter().filter_map(|f| f.estimated_cost);
    let first = costs.next()?;
    costs.try_fold(first, |sum, m| sum.checked_add(m).ok())
}

/// Whether `agreed` is far from `estimate` (see the module's product choice). An estimate of zero
/// makes any positive agreed amount far above it.
pub fn deviation(agreed: Money, estimate: Money) -> Option<Deviation> {
    let (a, e) = (i128::from(agreed.ore()), i128::from(estimate.ore()));
    if a * 100 < e * LOW_PERCENT {
        Some(Deviation::Below)
    } else if a * 100 > e * HIGH_PERCENT {
        Some(Deviation::Above)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kr(k: i64) -> Money {
        Money::from_kronor(k).unwrap()
    }

    fn ore(o: i64) -> Money {
        Money::from_ore(o).unwrap()
    }

    /// Issue 15: "a cost agreement of 0.01 kr against an estimate of 10 000 kr was accepted".
    #[test]
    fn one_ore_against_ten_thousand_kronor_is_far_below() {
        assert_eq!(deviation(ore(1), kr(10_000)), Some(Deviation::Below));
    }

    #[test]
    fn the_bounds_are_half_and_double_inclusive() {
        assert_eq!(deviation(kr(5_000), kr(10_000)), None);
        assert_eq!(deviation(ore(499_999), kr(10_000)), Some(Deviation::Below));
        assert_eq!(deviation(kr(20_000), kr(10_000)), None);
        assert_eq!(
            deviation(ore(2_000_001), kr(10_000)),
            Some(Deviation::Above)
        );
        assert_eq!(deviation(kr(10_000), kr(10_000)), None);
        assert_eq!(deviation(Money::ZERO, Money::ZERO), None);
        assert_eq!(deviation(ore(1), Money::ZERO), Some(Deviation::Above));
        // No overflow at the extremes.
        assert_eq!(
            deviation(ore(i64::MAX), ore(i64::MAX)),
            None,
            "i128 arithmetic"
        );
        assert_eq!(deviation(ore(i64::MAX), ore(1)), Some(Deviation::Above));
    }

    #[test]
    fn the_ceiling_is_the_ceiling_else_the_estimate() {
        let json = serde_json::json!({
            "reference": "KOST-1", "signed_on": "2026-09-01", "estimate": 1_000_000,
            "hourly_rate": 95_000, "recorded_by": "00000000-0000-4000-8000-000000000000"});
        let mut a: CostAgreement = serde_json::from_value(json).unwrap();
        assert_eq!(ceiling(&a), kr(10_000));
        a.ceiling = Some(kr(12_000));
        assert_eq!(ceiling(&a), kr(12_000));
    }

    /// A cost agreement stored before rates, expenses and the ceiling existed still reads, with none
    /// of them; one with them round-trips; a role without its own rate takes the general rate.
    #[test]
    fn an_older_cost_agreement_reads_and_rates_fall_back_to_the_hourly_rate() {
        let old = serde_json::json!({
            "reference": "KOST-1", "signed_on": "2026-09-01", "estimate": 1_000_000,
            "hourly_rate": 95_000, "recorded_by": "00000000-0000-4000-8000-000000000000"});
        let mut a: CostAgreement = serde_json::from_value(old.clone()).unwrap();
        assert!(a.rates.is_empty());
        assert_eq!(a.expenses, Money::ZERO);
        assert_eq!(a.ceiling, None);
        assert_eq!(a.rate_for("statistician"), Some(ore(95_000)));
        a.rates.push(crate::domain::collaboration::RoleRate {
            role: "statistician".into(),
            hourly_rate: ore(120_000),
        });
        a.expenses = kr(500);
        a.ceiling = Some(kr(11_000));
        assert_eq!(a.rate_for("statistician"), Some(ore(120_000)));
        assert_eq!(a.rate_for("data_manager"), Some(ore(95_000)));
        let back: CostAgreement =
            serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        a.hourly_rate = None;
        assert_eq!(a.rate_for("data_manager"), None);
        // A negative rate cannot be read in around Money's check.
        let mut bad = old;
        bad["rates"] = serde_json::json!([{"role": "statistician", "hourly_rate": -1}]);
        assert!(serde_json::from_value::<CostAgreement>(bad).is_err());
    }
}
