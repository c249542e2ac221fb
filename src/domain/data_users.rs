//! Named data users (issue 16, item 6): who in the project may access the personal data, seed 000,
//! "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)", the dossier's fifth item
//! ("Uppgift om vilka som har tillgång till personuppgifterna i forskningsprojektet").
//!
//! Grade: the seed lists the item as information the application must contain; it says nothing about
//! each person's undertaking being a precondition. So the dossier item counts as satisfied when at least
//! one person is named and active (not pending, removed or refused); an undertaking not yet confirmed is a hint
//! ([`pending_undertakings`]), never a block.
//!
//! Adding a person after release (step 7 or later) needs the CPUA's approval; before release it does not.
//! Removal is a status, never a deletion.

use crate::domain::step::Step;
use sha2::{Digest, Sha256};

/// Where a named data user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataUserStatus {
    /// Named and (where needed) approved.
    Active,
    /// Added after release; waits for the CPUA's legal team.
    PendingApproval,
    /// The CPUA refused the addition (with a reason).
    Refused,
    /// Removed; the record stays.
    Removed,
}

impl DataUserStatus {
    pub fn code(self) -> &'static str {
        match self {
            DataUserStatus::Active => "active",
            DataUserStatus::PendingApproval => "pending_approval",
            DataUserStatus::Refused => "refused",
            DataUserStatus::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DataUserStatus::Active,
            DataUserStatus::PendingApproval,
            DataUserStatus::Refused,
            DataUserStatus::Removed,
        ]
        .into_iter()
        .find(|st| st.code() == s)
    }
}

/// Why a data-user command is refused ("ska").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataUserRefusal {
    /// The case is closed, refused or withdrawn: nobody can be added.
    CaseTerminal,
    /// Approve/refuse only applies to a pending addition.
    NotPending,
    /// A refusal needs a reason.
    ReasonRequired,
    /// Already removed.
    AlreadyRemoved,
    /// The signed-in person's e-mail is not the named user's.
    NotThePerson,
    /// The undertaking was already confirmed.
    AlreadyConfirmed,
}

/// Whether a case at `step` has released data (seed 001 step 7 "Utlämnande av data" or later).
pub fn after_release(step: Step) -> bool {
    matches!(step, Step::DataRelease | Step::Results | Step::Archiving)
}

/// The status a newly named person gets: active before release, pending the CPUA's approval after.
pub fn status_on_add(step: Step) -> Result<DataUserStatus, DataUserRefusal> {
    if step.is_terminal() {
        return Err(DataUserRefusal::CaseTerminal);
    }
    Ok(if after_release(step) {
        DataUserStatus::PendingApproval
    } else {
        DataUserStatus::Active
    })
}

/// The CPUA approves (`None`) or refuses (`Some(reason)`) a pending addition.
pub fn decide(
    current: DataUserStatus,
    refusal_reason: Option<&str>,
) -> Result<DataUserStatus, DataUserRefusal> {
    if current != DataUserStatus::PendingApproval {
        return Err(DataUserRefusal::NotPending);
    }
    match refusal_reason {
        None => Ok(DataUserStatus::Active),
        Some(r) if r.trim().is_empty() => Err(DataUserRefusal::ReasonRequired),
        Some(_) => Ok(DataUserStatus::Refused),
    }
}

/// Removal keeps the record; removing twice is refused.
pub fn remove(current: DataUserStatus) -> Result<DataUserStatus, DataUserRefusal> {
    if current == DataUserStatus::Removed {
        return Err(DataUserRefusal::AlreadyRemoved);
    }
    Ok(DataUserStatus::Removed)
}

/// The person confirms their own undertaking: the signed-in account's e-mail must be the named one.
pub fn may_confirm(
    named_email: &str,
    account_email: &str,
    already_confirmed: bool,
) -> Result<(), DataUserRefusal> {
    if !named_email
        .trim()
        .eq_ignore_ascii_case(account_email.trim())
    {
        return Err(DataUserRefusal::NotThePerson);
    }
    if already_confirmed {
        return Err(DataUserRefusal::AlreadyConfirmed);
    }
    Ok(())
}

/// The SHA-256 (hex) of the consent text the person confirmed, recorded with its version.
pub fn consent_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A named user as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedUser {
    pub status: DataUserStatus,
    pub undertaking_confirmed: bool,
}

/// The dossier's fifth item is satisfied when at least one named person is active: named before
/// release, or approved by the CPUA after. An addition still waiting for the CPUA does not count yet,
/// nor a refused or removed one (see the module comment for why undertakings do not count here).
pub fn dossier_item_satisfied(users: &[NamedUser]) -> bool {
    users.iter().any(|u| u.status == DataUserStatus::Active)
}

/// The indexes of active users who have not confirmed their undertaking: a hint, not a block.
pub fn pending_undertakings(users: &[NamedUser]) -> Vec<usize> {
    users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.status == DataUserStatus::Active && !u.undertaking_confirmed)
        .map(|(i, _)| i)
        .collect()
}

/// Whether the person may access the personal data: active and the undertaking confirmed.
pub fn may_access(u: &NamedUser) -> bool {
    u.status == DataUserStatus::Active && u.undertaking_confirmed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(status: DataUserStatus, confirmed: bool) -> NamedUser {
        NamedUser {
            status,
            undertaking_confirmed: confirmed,
        }
    }

    #[test]
    fn before_release_no_approval_is_needed() {
        for s in [
            Step::Preparation,
            Step::DataApplication,
            Step::ReleaseDecision,
            Step::Agreement,
        ] {
            assert_eq!(status_on_add(s), Ok(DataUserStatus::Active), "{s:?}");
        }
    }

    #[test]
    fn from_release_on_the_cpua_must_approve() {
        for s in [Step::DataRelease, Step::Results, Step::Archiving] {
            assert_eq!(
                status_on_add(s),
                Ok(DataUserStatus::PendingApproval),
                "{s:?}"
            );
        }
    }

    #[test]
    fn a_closed_case_takes_nobody() {
        for s in [Step::Closed, Step::Refused, Step::Withdrawn] {
            assert_eq!(status_on_add(s), Err(DataUserRefusal::CaseTerminal));
        }
    }

    #[test]
    fn approve_and_refuse_only_a_pending_addition_and_refusal_needs_a_reason() {
        let p = DataUserStatus::PendingApproval;
        assert_eq!(decide(p, None), Ok(DataUserStatus::Active));
        assert_eq!(decide(p, Some("no need")), Ok(DataUserStatus::Refused));
        assert_eq!(decide(p, Some("  ")), Err(DataUserRefusal::ReasonRequired));
        assert_eq!(
            decide(DataUserStatus::Active, None),
            Err(DataUserRefusal::NotPending)
        );
    }

    #[test]
    fn removal_is_a_status_and_only_once() {
        assert_eq!(remove(DataUserStatus::Active), Ok(DataUserStatus::Removed));
        assert_eq!(
            remove(DataUserStatus::Removed),
            Err(DataUserRefusal::AlreadyRemoved)
        );
    }

    #[test]
    fn only_the_named_person_confirms_once() {
        assert_eq!(
            may_confirm("Anna@Example.se", "anna@example.se", false),
            Ok(())
        );
        assert_eq!(
            may_confirm("anna@example.se", "bo@example.se", false),
            Err(DataUserRefusal::NotThePerson)
        );
        assert_eq!(
            may_confirm("anna@example.se", "anna@example.se", true),
            Err(DataUserRefusal::AlreadyConfirmed)
        );
    }

    #[test]
    fn the_dossier_item_needs_a_named_person_not_every_undertaking() {
        assert!(!dossier_item_satisfied(&[]));
        assert!(!dossier_item_satisfied(&[u(DataUserStatus::Removed, true)]));
        assert!(dossier_item_satisfied(&[u(DataUserStatus::Active, false)]));
        // Waiting for the CPUA's approval, or refused: not (yet) a person with access.
        assert!(!dossier_item_satisfied(&[
            u(DataUserStatus::PendingApproval, false),
            u(DataUserStatus::Refused, true),
        ]));
        assert_eq!(
            pending_undertakings(&[
                u(DataUserStatus::Active, true),
                u(DataUserStatus::Active, false),
                u(DataUserStatus::Removed, false),
            ]),
            vec![1]
        );
    }

    #[test]
    fn access_needs_the_undertaking() {
        assert!(!may_access(&u(DataUserStatus::Active, false)));
        assert!(may_access(&u(DataUserStatus::Active, true)));
        assert!(!may_access(&u(DataUserStatus::PendingApproval, true)));
    }

    #[test]
    fn the_consent_hash_is_sha256_hex() {
        assert_eq!(
            consent_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            DataUserStatus::parse("pending_approval"),
            Some(DataUserStatus::PendingApproval)
        );
    }
}
