//! The nine steps of seed 001 ("Process för samverkan och utlämnande av kvalitetsregisterdata för
//! forskning") and the terminal states. Its own module so that the collaboration's state and the lifecycle
//! that changes it do not import each other.
use serde::{Deserialize, Serialize};

/// A step of the process, or a terminal state (steg).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 1. Förarbete.
    Preparation,
    /// 2. Etablera tidig kontakt med registerhållare.
    RegisterContact,
    /// 3. Ansökan om etiskt godkännande.
    EthicsReview,
    /// 4. Ansökan om datauttag.
    DataApplication,
    /// 5. Beslut om utlämnande.
    ReleaseDecision,
    /// 6. Avtal upprättas.
    Agreement,
    /// 7. Utlämnande av data.
    DataRelease,
    /// 8. Resultat och redovisning/publicering.
    Results,
    /// 9. Arkivering och radering av kopior.
    Archiving,
    /// Terminal: every CPUA refused (avslag).
    Refused,
    /// Terminal: the parties withdrew (återkallat).
    Withdrawn,
    /// Terminal: copies archived or deleted and confirmed (avslutat).
    Closed,
}

impl Step {
    pub const ALL: [Step; 12] = [
        Step::Preparation,
        Step::RegisterContact,
        Step::EthicsReview,
        Step::DataApplication,
        Step::ReleaseDecision,
        Step::Agreement,
        Step::DataRelease,
        Step::Results,
        Step::Archiving,
        Step::Refused,
        Step::Withdrawn,
        Step::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Step::Preparation => "preparation",
            Step::RegisterContact => "register_contact",
            Step::EthicsReview => "ethics_review",
            Step::DataApplication => "data_application",
            Step::ReleaseDecision => "release_decision",
            Step::Agreement => "agreement",
            Step::DataRelease => "data_release",
            Step::Results => "results",
            Step::Archiving => "archiving",
            Step::Refused => "refused",
            Step::Withdrawn => "withdrawn",
            Step::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|st| st.code() == s)
    }

    /// The number of the step in seed 001 (1–9); none for terminal states.
    pub fn number(self) -> Option<u8> {
        match self {
            Step::Preparation => Some(1),
            Step::RegisterContact => Some(2),
            Step::EthicsReview => Some(3),
            Step::DataApplication => Some(4),
            Step::ReleaseDecision => Some(5),
            Step::Agreement => Some(6),
            Step::DataRelease => Some(7),
            Step::Results => Some(8),
            Step::Archiving => Some(9),
            _ => None,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Step::Refused | Step::Withdrawn | Step::Closed)
    }

    /// Details may be edited until the data application is made.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            Step::Preparation | Step::RegisterContact | Step::EthicsReview
        )
    }
}
