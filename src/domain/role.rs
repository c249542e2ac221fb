//! Who is acting: a role within an organisation.
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, OrgId};

/// The role an account acts in (roll).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A company representative (företagsrepresentant): starts collaborations.
    CompanyRepresentative,
    /// A representative of the research principal (företrädare för forskningshuvudman).
    ResearchPrincipalRepresentative,
    /// The register holder (registerhållare), employed by the register's CPUA.
    RegisterHolder,
    /// A lawyer at the CPUA authority (CPUA-jurist): reviews, decides, approves contracts.
    CpuaLegal,
    /// Finance staff at the CPUA authority (ekonomi): cost agreements and invoicing.
    Finance,
    /// A system administrator (administratör): reference data.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::CompanyRepresentative,
        Role::ResearchPrincipalRepresentative,
        Role::RegisterHolder,
        Role::CpuaLegal,
        Role::Finance,
        Role::Administrator,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::CompanyRepresentative => "company_representative",
            Role::ResearchPrincipalRepresentative => "research_principal_representative",
            Role::RegisterHolder => "register_holder",
            Role::CpuaLegal => "cpua_legal",
            Role::Finance => "finance",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }

    /// Staff of a CPUA authority see the collaborations of the registers their authority is
    /// responsible for.
    pub fn is_cpua_staff(self) -> bool {
        matches!(self, Role::RegisterHolder | Role::CpuaLegal | Role::Finance)
    }

    /// Parties to the collaboration (company, research principal) see only party-visible events.
    pub fn is_party(self) -> bool {
        matches!(
            self,
            Role::CompanyRepresentative | Role::ResearchPrincipalRepresentative
        )
    }
}

/// An authenticated principal (aktör): the account, its organisation and its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub account: AccountId,
    pub name: String,
    pub org: OrgId,
    pub role: Role,
}
