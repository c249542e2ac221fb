//! Authorization, in one place. Every route goes through the authentication middleware; every
//! query and command asks this module whether the actor may see or do what it asks. Records of
//! another organisation answer 404, never 403, so their existence does not leak.
use std::collections::BTreeSet;

use super::error::AppError;
use crate::domain::audit::Visibility;
use crate::domain::collaboration::Collaboration;
use crate::domain::ids::OrgId;
use crate::domain::lifecycle::CommandKind;
use crate::domain::role::{Actor, Credential, Role};

/// The organisations a collaboration concerns.
#[derive(Debug, Clone)]
pub struct Scope {
    pub company: OrgId,
    pub principal: Option<OrgId>,
    /// The CPUAs of its registers now, and every CPUA it has applied to.
    pub cpuas: BTreeSet<OrgId>,
}

impl Scope {
    pub fn of(c: &Collaboration, current_cpuas: impl IntoIterator<Item = OrgId>) -> Scope {
        let mut cpuas: BTreeSet<OrgId> = current_cpuas.into_iter().collect();
        cpuas.extend(c.cpua_reviews.iter().map(|r| r.cpua.clone()));
        Scope {
            company: c.company.clone(),
            principal: c.research_principal.clone(),
            cpuas,
        }
    }
}

/// Whether the actor may see the collaboration at all.
pub fn can_see(actor: &Actor, scope: &Scope) -> bool {
    match actor.role {
        Role::Administrator => true,
        Role::CompanyRepresentative => actor.org == scope.company,
        Role::ResearchPrincipalRepresentative => {
            scope.principal.as_ref() == Some(&actor.org) || actor.org == scope.company
        }
        Role::RegisterHolder | Role::CpuaLegal | Role::Finance => scope.cpuas.contains(&actor.org),
    }
}

/// The roles that may issue each kind of command.
pub fn roles_for(kind: CommandKind) -> &'static [Role] {
    use CommandKind::*;
    use Role::*;
    const PARTIES: &[Role] = &[CompanyRepresentative, ResearchPrincipalRepresentative];
    match kind {
        UpdateDetails
        | ToRegisterContact
        | ToEthicsReview
        | RecordEthicsApproval
        | ToDataApplication
        | RecordPublication
        | RecordReportBack
        | ToResults
        | ToArchiving
        | ConfirmDisposal
        | ToClosed
        | ToWithdrawn
        | OpenAmendment
        | RecordAmendmentEthics
        | SubmitAmendmentApplication
        | RecordDataProcessingAgreement
        | RecordIdentityNumberJustification
        | RecordRetrospectiveConsent
        | RecordLinkageApplication
        | RecordLinkageDecision
        | ResubmitApplication => PARTIES,
        RecordFeasibility => &[RegisterHolder],
        // The CPUA decides; a register holder only under a written delegation, which the domain checks
        // (seed 000, "Menprövning av centralt personuppgiftsansvarig myndighet (CPUA)").
        ToReleaseDecision | DecideAmendment => &[CpuaLegal, RegisterHolder],
        RecommendDecision
        | ReconsiderDecision
        | RecordAppealOutcome
        | ToAgreement
        | RecordAmendmentAgreement
        | RecordThirdCountryAssessment
        | RecordCoordination
        | OverrideClassification
        | ReturnForCompletion => &[CpuaLegal],
        ToDataRelease | ReleaseAmendmentData | RecordKeyFileDeleted => &[CpuaLegal, RegisterHolder],
        RecordCostAgreement => &[Finance, CpuaLegal],
        AddInternalNote => &[
            CompanyRepresentative,
            ResearchPrincipalRepresentative,
            CpuaLegal,
            RegisterHolder,
            Finance,
        ],
        // The system's own (the scheduler, on the last day of use): no person is given it.
        EndUsagePeriod => &[],
    }
}

/// Whether the actor may issue `kind` on a collaboration it can see; for per-CPUA commands by CPUA
/// staff, only on their own authority's track.
pub fn may(
    actor: &Actor,
    kind: CommandKind,
    scope: &Scope,
    cpua: Option<&OrgId>,
) -> Result<(), AppError> {
    if !roles_for(kind).contains(&actor.role) {
        return Err(AppError::Forbidden(crate::msg!(
            "forbidden.role",
            role = actor.role.code(),
            action = kind.code()
        )));
    }
    if actor.role.is_cpua_staff() {
        if let Some(o) = cpua {
            if o != &actor.org {
                return Err(AppError::Forbidden(crate::msg!(
                    "forbidden.own_track",
                    action = kind.code()
                )));
            }
        }
        if !scope.cpuas.contains(&actor.org) {
            return Err(AppError::Forbidden(crate::msg!("forbidden.not_a_cpua")));
        }
    }
    Ok(())
}

/// The role that signs for a party of the agreement (issue 14): the company's representative for
/// the company (also when it is the research principal), the principal's representative for the
/// research principal, and CPUA legal for a CPUA.
pub fn signing_role(party: crate::domain::agreement::data::PartyRole) -> Role {
    use crate::domain::agreement::data::PartyRole;
    match party {
        PartyRole::Company => Role::CompanyRepresentative,
        PartyRole::ResearchPrincipal => Role::ResearchPrincipalRepresentative,
        PartyRole::Cpua => Role::CpuaLegal,
    }
}

/// Whether the actor signs for the party `org` in the role `party`: a person (never an API key) of
/// that organisation in the party's signing role.
pub fn may_sign_for(
    actor: &Actor,
    org: &OrgId,
    party: crate::domain::agreement::data::PartyRole,
) -> bool {
    !matches!(actor.credential, Credential::ApiKey { .. })
        && &actor.org == org
        && actor.role == signing_role(party)
}

/// Envelopes are drafted, edited and sent by the legal team of a CPUA that is a party to the version.
pub fn may_prepare_envelope(actor: &Actor, cpua_parties: &BTreeSet<OrgId>) -> Result<(), AppError> {
    if actor.role == Role::CpuaLegal && cpua_parties.contains(&actor.org) {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.envelope")))
    }
}

/// Who may create a collaboration: the parties that start one.
pub fn may_create(actor: &Actor) -> Result<(), AppError> {
    match actor.role {
        Role::CompanyRepresentative | Role::ResearchPrincipalRepresentative => Ok(()),
        _ => Err(AppError::Forbidden(crate::msg!("forbidden.create"))),
    }
}

/// Reference data (organisations, registers, CPUA moves) are an administrator's.
pub fn require_admin(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Administrator {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.reference_data")))
    }
}

/// Whether a request with this HTTP method may change anything: everything but the safe methods of
/// RFC 9110 (GET, HEAD, OPTIONS, TRACE).
pub fn is_unsafe_method(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// The limit of the credential itself, checked once for every request by the authentication
/// middleware as soon as the actor is known: an API key of scope `read` makes no unsafe request
/// (POST, PUT, PATCH, DELETE), whatever the route.
pub fn may_use_method(actor: &Actor, method: &str) -> Result<(), AppError> {
    if actor.is_read_only() && is_unsafe_method(method) {
        return Err(AppError::Forbidden(crate::msg!(
            "forbidden.read_only_key",
            method = method
        )));
    }
    Ok(())
}

/// People, roles and API keys are managed by people signed in themselves: an API key cannot.
pub fn require_person(actor: &Actor) -> Result<(), AppError> {
    if matches!(actor.credential, Credential::ApiKey { .. }) {
        return Err(AppError::Forbidden(crate::msg!(
            "forbidden.api_key_manages"
        )));
    }
    Ok(())
}

/// Who manages the people of an organisation (its members and invitations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeopleManager {
    /// An administrator: any organisation, any role.
    Administrator,
    /// A company representative: their own company only, the company-representative role only.
    CompanyRepresentative,
}

/// Whether the actor manages the people of `org`, and as whom. An API key never does (403); an
/// administrator manages every organisation; a company representative their own company; anyone
/// else is refused, and another organisation's people answer 404 to all but administrators.
pub fn may_manage_people(actor: &Actor, org: &OrgId) -> Result<PeopleManager, AppError> {
    require_person(actor)?;
    if actor.role == Role::Administrator {
        return Ok(PeopleManager::Administrator);
    }
    if &actor.org != org {
        return Err(AppError::NotFound(crate::msg!("thing.organisation")));
    }
    if actor.role == Role::CompanyRepresentative {
        return Ok(PeopleManager::CompanyRepresentative);
    }
    Err(AppError::Forbidden(crate::msg!("forbidden.manage_people")))
}

/// API keys are created, listed and revoked by a company representative signed in as a person, for
/// their own company.
pub fn may_manage_api_keys(actor: &Actor) -> Result<(), AppError> {
    require_person(actor)?;
    if actor.role != Role::CompanyRepresentative {
        return Err(AppError::Forbidden(crate::msg!("forbidden.api_keys")));
    }
    Ok(())
}

/// Whether the actor sees an event: party-visible events are seen by everyone who sees the case; an
/// internal event only inside the organisation that wrote it. Unknown visibility is internal (fail closed).
pub fn sees_event(actor: &Actor, visibility: Visibility, written_by: Option<&str>) -> bool {
    match visibility {
        Visibility::Party => true,
        Visibility::Internal => written_by == Some(actor.org.as_str()),
    }
}

// ---------- documents and attachments (issue 16) ----------

/// Who uploads documents to a case they see: its parties and the CPUA staff of the case (a receipt
/// from finance, a decision from legal). An administrator manages reference data, not cases.
pub fn may_upload_document(actor: &Actor, scope: &Scope) -> Result<(), AppError> {
    let ok = match actor.role {
        Role::CompanyRepresentative | Role::ResearchPrincipalRepresentative => true,
        Role::RegisterHolder | Role::CpuaLegal | Role::Finance => scope.cpuas.contains(&actor.org),
        Role::Administrator => false,
    };
    if ok && can_see(actor, scope) {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!(
            "forbidden.document_upload"
        )))
    }
}

/// Whether the actor, who sees the case, sees a document of it: a party-visible one always; an
/// internal one only inside the organisation that uploaded it (an unknown stored visibility is
/// internal). Another organisation's internal document does not exist for the caller (404).
pub fn sees_document(
    actor: &Actor,
    visibility: crate::domain::document::DocumentVisibility,
    uploaded_by_org: &str,
) -> bool {
    use crate::domain::document::DocumentVisibility;
    match visibility {
        DocumentVisibility::Parties => true,
        DocumentVisibility::Internal => actor.org.as_str() == uploaded_by_org,
    }
}

/// Who redacts a document: the people of the organisation that uploaded it, and the legal team of a
/// CPUA of the case. An API key does not redact (a person answers for a tombstone).
pub fn may_redact_document(
    actor: &Actor,
    scope: &Scope,
    uploaded_by_org: &str,
) -> Result<(), AppError> {
    let refuse = || AppError::Forbidden(crate::msg!("forbidden.document_redact"));
    if matches!(actor.credential, Credential::ApiKey { .. }) {
        return Err(refuse());
    }
    let own = actor.org.as_str() == uploaded_by_org && actor.role != Role::Administrator;
    let legal = actor.role == Role::CpuaLegal && scope.cpuas.contains(&actor.org);
    if own || legal {
        Ok(())
    } else {
        Err(refuse())
    }
}

/// Issue 16: CPUA legal of one of the case's CPUAs handles it (consultations, the handling lawyer,
/// the case number) for its own authority.
pub fn may_handle_case(actor: &Actor, cpuas: &BTreeSet<OrgId>) -> Result<(), AppError> {
    if actor.role == Role::CpuaLegal && cpuas.contains(&actor.org) {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.casework")))
    }
}

/// Issue 16 item 6: the parties name the people who may access the data (the company's and the
/// research principal's representatives); CPUA legal of the case approves additions after release,
/// and either may remove a person.
pub fn may_name_data_users(actor: &Actor, scope: &Scope) -> Result<(), AppError> {
    let party = match actor.role {
        Role::CompanyRepresentative => actor.org == scope.company,
        Role::ResearchPrincipalRepresentative => scope.principal.as_ref() == Some(&actor.org),
        _ => false,
    };
    if party {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.data_users")))
    }
}

/// Who removes a named data user: a party (as [`may_name_data_users`]) or CPUA legal of the case.
pub fn may_remove_data_user(actor: &Actor, scope: &Scope) -> Result<(), AppError> {
    may_name_data_users(actor, scope).or_else(|_| may_handle_case(actor, &scope.cpuas))
}

/// Issue 16, item 8: an organisation's webhook subscriptions are managed by its own people, signed in as
/// persons (never an API key: the secret is shown to whoever creates one), in the role that speaks for
/// it. There is no organisation-administrator role, so: CPUA legal for a CPUA authority, the company
/// representative for a company, the research principal's representative for a principal. Another
/// organisation's subscriptions do not exist for the caller (404).
pub fn may_manage_webhooks(actor: &Actor, org: &OrgId) -> Result<(), AppError> {
    if &actor.org != org {
        return Err(AppError::NotFound(crate::msg!("thing.organisation")));
    }
    require_person(actor)?;
    match actor.role {
        Role::CpuaLegal | Role::CompanyRepresentative | Role::ResearchPrincipalRepresentative => {
            Ok(())
        }
        _ => Err(AppError::Forbidden(crate::msg!("forbidden.webhooks"))),
    }
}

// ---------- billing (issue 15) ----------

/// Who logs work on a case and approves its lines: the register holder or finance of a CPUA of the
/// case, for their own CPUA (the register centre's hours are billed by the CPUA).
pub fn may_log_work(actor: &Actor, scope: &Scope) -> Result<OrgId, AppError> {
    let staff = matches!(actor.role, Role::RegisterHolder | Role::Finance);
    if staff && scope.cpuas.contains(&actor.org) {
        Ok(actor.org.clone())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.work_log")))
    }
}

/// Whether the actor sees the work-log lines of `cpua`: that CPUA's staff (holder, finance, legal).
pub fn sees_work_log(actor: &Actor, cpua: &str) -> bool {
    actor.role.is_cpua_staff() && actor.org.as_str() == cpua
}

/// Who approves a work-log line: the register holder or finance of the line's CPUA, never the
/// person who logged it (four eyes on what is charged).
pub fn may_approve_work(actor: &Actor, cpua: &str, logged_by: &str) -> Result<(), AppError> {
    let staff = matches!(actor.role, Role::RegisterHolder | Role::Finance);
    if !staff || actor.org.as_str() != cpua {
        return Err(AppError::Forbidden(crate::msg!("forbidden.work_log")));
    }
    if actor.account.as_str() == logged_by {
        return Err(AppError::Forbidden(crate::msg!("forbidden.approve_own")));
    }
    Ok(())
}

/// Who attaches a receipt to an expense line: the register holder or finance of the line's CPUA,
/// as they log the line (issue 15, item 2). That CPUA's staff read it ([`sees_work_log`]).
pub fn may_attach_receipt(actor: &Actor, cpua: &str) -> Result<(), AppError> {
    let staff = matches!(actor.role, Role::RegisterHolder | Role::Finance);
    if staff && actor.org.as_str() == cpua {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.work_log")))
    }
}

/// Invoices and credit notes are drawn and issued by finance, for its own CPUA.
pub fn may_invoice(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Finance {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.invoice")))
    }
}

/// Whether the actor sees an invoice of `cpua` to `buyer`: the seller CPUA's staff and the buying
/// company's representatives. Anyone else is answered 404.
pub fn sees_invoice(actor: &Actor, cpua: &str, buyer: &str) -> bool {
    (actor.role.is_cpua_staff() && actor.org.as_str() == cpua)
        || (actor.role == Role::CompanyRepresentative && actor.org.as_str() == buyer)
}

// ---------- signing policy (issue 14) ----------

/// Who sets an organisation's signing policy (the expiry of envelopes it is a CPUA party to): its
/// administrator or its legal team, signed in as persons. Another organisation's policy is not
/// found.
pub fn may_set_signing_policy(actor: &Actor, org: &OrgId) -> Result<(), AppError> {
    if &actor.org != org {
        return Err(AppError::NotFound(crate::msg!("thing.organisation")));
    }
    require_person(actor)?;
    match actor.role {
        Role::Administrator | Role::CpuaLegal => Ok(()),
        _ => Err(AppError::Forbidden(crate::msg!("forbidden.signing_policy"))),
    }
}

/// Payments of a CPUA's invoices are recorded and imported, and its finance export read, by that
/// CPUA's finance staff (issue 15, items 5 and 8).
pub fn may_record_payments(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Finance {
        Ok(())
    } else {
        Err(AppError::Forbidden(crate::msg!("forbidden.payment")))
    }
}

/// Whether a finance officer may pay or export an invoice of `cpua`: only the seller CPUA's own
/// finance staff. Anyone else is answered 404.
pub fn pays_for(actor: &Actor, cpua: &str) -> bool {
    actor.role == Role::Finance && actor.org.as_str() == cpua
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::AccountId;

    #[test]
    fn documents_are_uploaded_by_parties_and_cpua_staff_and_redacted_by_their_own_or_legal() {
        use crate::domain::document::DocumentVisibility;
        let (company, cpua, other) = (OrgId::new(), OrgId::new(), OrgId::new());
        let scope = Scope {
            company: company.clone(),
            principal: None,
            cpuas: [cpua.clone()].into(),
        };
        let rep = actor(Role::CompanyRepresentative, &company);
        let legal = actor(Role::CpuaLegal, &cpua);
        let holder = actor(Role::RegisterHolder, &cpua);
        let admin = actor(Role::Administrator, &other);
        assert!(may_upload_document(&rep, &scope).is_ok());
        assert!(may_upload_document(&legal, &scope).is_ok());
        assert!(may_upload_document(&admin, &scope).is_err());
        assert!(may_upload_document(&actor(Role::CpuaLegal, &other), &scope).is_err());
        // An internal document is seen only by the organisation that uploaded it.
        assert!(sees_document(
            &rep,
            DocumentVisibility::Internal,
            company.as_str()
        ));
        assert!(!sees_document(
            &legal,
            DocumentVisibility::Internal,
            company.as_str()
        ));
        assert!(sees_document(
            &legal,
            DocumentVisibility::Parties,
            company.as_str()
        ));
        // The uploader's organisation and CPUA legal redact; a register holder of another's upload not.
        assert!(may_redact_document(&rep, &scope, company.as_str()).is_ok());
        assert!(may_redact_document(&legal, &scope, company.as_str()).is_ok());
        assert!(may_redact_document(&holder, &scope, company.as_str()).is_err());
        assert!(may_redact_document(&holder, &scope, cpua.as_str()).is_ok());
        assert!(may_redact_document(
            &actor(Role::CompanyRepresentative, &other),
            &scope,
            company.as_str()
        )
        .is_err());
        let mut key = rep.clone();
        key.credential = Credential::ApiKey {
            key: crate::domain::ids::ApiKeyId::new(),
            scope: crate::domain::role::ApiKeyScope::ReadWrite,
        };
        assert!(may_redact_document(&key, &scope, company.as_str()).is_err());
    }

    fn actor(role: Role, org: &OrgId) -> Actor {
        Actor::new(AccountId::new(), "x", org.clone(), role)
    }

    #[test]
    fn each_party_sees_only_its_own() {
        let (company, other, cpua) = (OrgId::new(), OrgId::new(), OrgId::new());
        let scope = Scope {
            company: company.clone(),
            principal: None,
            cpuas: [cpua.clone()].into(),
        };
        assert!(can_see(
            &actor(Role::CompanyRepresentative, &company),
            &scope
        ));
        assert!(!can_see(
            &actor(Role::CompanyRepresentative, &other),
            &scope
        ));
        assert!(can_see(&actor(Role::CpuaLegal, &cpua), &scope));
        assert!(!can_see(&actor(Role::CpuaLegal, &other), &scope));
        assert!(can_see(&actor(Role::Administrator, &other), &scope));
    }

    #[test]
    fn a_cpua_decides_only_on_its_own_track() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let scope = Scope {
            company: OrgId::new(),
            principal: None,
            cpuas: [a.clone(), b.clone()].into(),
        };
        let legal_a = actor(Role::CpuaLegal, &a);
        assert!(may(&legal_a, CommandKind::ToReleaseDecision, &scope, Some(&a)).is_ok());
        assert!(may(&legal_a, CommandKind::ToReleaseDecision, &scope, Some(&b)).is_err());
        let company = actor(Role::CompanyRepresentative, &scope.company);
        assert!(may(&company, CommandKind::ToReleaseDecision, &scope, Some(&a)).is_err());
    }

    fn key(scope: crate::domain::role::ApiKeyScope, org: &OrgId) -> Actor {
        let mut a = actor(Role::CompanyRepresentative, org);
        a.credential = Credential::ApiKey {
            key: crate::domain::ids::ApiKeyId::new(),
            scope,
        };
        a
    }

    #[test]
    fn a_read_key_makes_only_safe_requests() {
        use crate::domain::role::ApiKeyScope;
        let org = OrgId::new();
        let read = key(ApiKeyScope::Read, &org);
        for m in ["GET", "HEAD", "OPTIONS"] {
            assert!(may_use_method(&read, m).is_ok(), "{m}");
        }
        for m in ["POST", "PUT", "PATCH", "DELETE"] {
            assert!(may_use_method(&read, m).is_err(), "{m}");
        }
        let write = key(ApiKeyScope::ReadWrite, &org);
        assert!(may_use_method(&write, "POST").is_ok());
        let person = actor(Role::CompanyRepresentative, &org);
        assert!(may_use_method(&person, "DELETE").is_ok());
    }

    #[test]
    fn who_manages_an_organisations_people() {
        use crate::domain::role::ApiKeyScope;
        let (company, other) = (OrgId::new(), OrgId::new());
        let admin = actor(Role::Administrator, &other);
        assert_eq!(
            may_manage_people(&admin, &company).unwrap(),
            PeopleManager::Administrator
        );
        let rep = actor(Role::CompanyRepresentative, &company);
        assert_eq!(
            may_manage_people(&rep, &company).unwrap(),
            PeopleManager::CompanyRepresentative
        );
        // Another company's people do not exist for a representative.
        assert!(matches!(
            may_manage_people(&rep, &other),
            Err(AppError::NotFound(_))
        ));
        // A lawyer does not manage their own authority's people; an API key nobody's.
        let legal = actor(Role::CpuaLegal, &company);
        assert!(matches!(
            may_manage_people(&legal, &company),
            Err(AppError::Forbidden(_))
        ));
        let k = key(ApiKeyScope::ReadWrite, &company);
        assert!(matches!(
            may_manage_people(&k, &company),
            Err(AppError::Forbidden(_))
        ));
        assert!(may_manage_api_keys(&k).is_err());
        assert!(may_manage_api_keys(&rep).is_ok());
        assert!(may_manage_api_keys(&admin).is_err());
    }

    #[test]
    fn every_command_kind_has_roles_but_the_systems_own_which_no_person_is_given() {
        for &k in CommandKind::ALL {
            assert_eq!(roles_for(k).is_empty(), k.is_system(), "{k:?}");
        }
        assert!(CommandKind::EndUsagePeriod.is_system());
        assert_eq!(CommandKind::parse_transition("end_usage_period"), None);
        assert_eq!(CommandKind::parse_action("end_usage_period"), None);
    }
}
