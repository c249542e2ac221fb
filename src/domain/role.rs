//! Who is acting: a role within an organisation.
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, ApiKeyId, MembershipId, OrgId};

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

/// What an API key of a company system may do (behörighet för API-nyckel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyScope {
    /// Read the company's own collaborations.
    Read,
    /// Read and write the company's own collaborations.
    ReadWrite,
}

impl ApiKeyScope {
    pub fn code(self) -> &'static str {
        match self {
            ApiKeyScope::Read => "read",
            ApiKeyScope::ReadWrite => "read_write",
        }
    }

    pub fn parse(s: &str) -> Option<ApiKeyScope> {
        [ApiKeyScope::Read, ApiKeyScope::ReadWrite]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

/// How an actor proved who it is (inloggningssätt).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Credential {
    /// A bearer token of a session (API clients, local mode), or the system itself.
    #[default]
    Token,
    /// A browser session cookie: unsafe requests need the session's CSRF token.
    Cookie,
    /// An API key of a company system, with its scope.
    ApiKey { key: ApiKeyId, scope: ApiKeyScope },
}

/// An authenticated principal (aktör): the account, the organisation and role it acts in now (its
/// active membership), and how it signed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub account: AccountId,
    pub name: String,
    pub org: OrgId,
    pub role: Role,
    /// The active membership; `None` for the system itself and for API keys.
    #[serde(default)]
    pub membership: Option<MembershipId>,
    #[serde(default)]
    pub credential: Credential,
}

impl Actor {
    /// An actor acting through a bearer token with no recorded membership (the system, tests).
    pub fn new(account: AccountId, name: impl Into<String>, org: OrgId, role: Role) -> Actor {
        Actor {
            account,
            name: name.into(),
            org,
            role,
            membership: None,
            credential: Credential::Token,
        }
    }

    /// Whether the actor may only read: an API key with the read scope.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self.credential,
            Credential::ApiKey {
                scope: ApiKeyScope::Read,
                ..
            }
        )
    }
}
