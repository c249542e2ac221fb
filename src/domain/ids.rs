//! Identifiers. Each is a UUID kept as text in both databases.
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new() -> Self {
                $name(Uuid::new_v4().to_string())
            }

            /// Parses a UUID in its hyphenated form; anything else is refused.
            pub fn parse(s: &str) -> Option<Self> {
                Uuid::parse_str(s).ok().map(|u| $name(u.to_string()))
            }

            /// Wraps a value read back from our own database.
            pub fn from_db(s: String) -> Self {
                $name(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// Identifies an organisation (organisation).
    OrgId
);
id_type!(
    /// Identifies a quality register (kvalitetsregister).
    RegisterId
);
id_type!(
    /// Identifies a collaboration (samverkansärende).
    CollaborationId
);
id_type!(
    /// Identifies an account that acts in the system (användarkonto).
    AccountId
);
id_type!(
    /// Identifies a membership: one role a person holds in one organisation (roll i en organisation).
    MembershipId
);
id_type!(
    /// Identifies an API key of a company system (API-nyckel).
    ApiKeyId
);
id_type!(
    /// Identifies an invitation of a person to a role in an organisation (inbjudan).
    InvitationId
);
