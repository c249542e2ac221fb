//! Signing the agreement (issue 14): envelopes, signers, the built-in simple electronic signature,
//! decline, void, and what the release guard reads. Every change is one transaction with its audit
//! event in the collaboration's chain and its notices in the outbox; the rules are
//! `domain::signing`'s.
//!
//! Seed 001, "6. Avtal upprättas": step 6 ends with the agreement; seed 000, "Forskningssamarbete med
//! industrin": CPUA, research principal and company are its parties, so each signs.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;

use super::agreements::{signing_version, SigningVersion};
use super::audit::record_case_event;
use super::{authz, AppError, FieldError};
use crate::db::outbox::{self as outbox_store, OutboxRow};
use crate::db::repo::{self, ts, utc};
use crate::db::signing::{self as store, EnvelopeRow, EvidenceRow, SignerRow};
use crate::db::{identity, DbConn};
use crate::domain::agreement::data::PartyRole;
use crate::domain::classification::RulebookSet;
use crate::domain::collaboration::Collaboration;
use crate::domain::email::EmailAddress;
use crate::domain::events::EventType;
use crate::domain::ids::{CollaborationId, OrgId};
use crate::domain::lang::Lang;
use crate::domain::lifecycle::Refusal;
use crate::domain::role::Actor;
use crate::domain::signing::{
    self as rules, consent, EnvelopeStatus, Execution, OrderMode, PartyRule, SignAttempt,
    SignerFacts,
};
use std::collections::BTreeMap;

/// Why an open envelope was voided: a newer version was drawn.
pub const END_SUPERSEDED: &str = "superseded";
/// Why an open envelope was voided: its signers or order changed after it was sent (it is resent).
pub const END_SIGNERS_CHANGED: &str = "signers_changed";

/// The built-in method: a simple electronic signature (enkel elektronisk underskrift).
pub const METHOD_BUILTIN: &str = "builtin";
pub const LEVEL_SIMPLE: &str = "simple";

/// The signing settings in force (`[signing]`).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Days from sending to expiry.
    pub expiry_days: i64,
    /// How recent the sign-in must be for a signature.
    pub fresh_login_minutes: i64,
}

/// Draft and/or send the envelope of a version.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeInput {
    /// Send it now (a draft otherwise).
    #[serde(default)]
    pub send: bool,
    /// `default` (principal and company in parallel, then the CPUAs), `parallel` or `sequence`.
    #[serde(default)]
    pub order: Option<String>,
    /// Who signs for each party; when absent, one signatory per party of the version. Two signers
    /// for one organisation sign jointly (both must sign).
    #[serde(default)]
    pub signers: Option<Vec<SignerInput>>,
    /// Per party (organisation id) with several signers: `all` (jointly, the default: every listed
    /// signer signs) or `any` (one of several: the first to sign satisfies the party and the
    /// others' turns end).
    #[serde(default)]
    pub party_rules: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignerInput {
    /// The party's organisation id.
    pub organisation: String,
    /// The capacity the signatory signs in, e.g. `firmatecknare`; default from the agreement terms.
    #[serde(default)]
    pub capacity: Option<String>,
    /// The named signatory's full name. Given with `email`: a named slot, signed only by the
    /// person with that e-mail in the organisation (case-insensitive), and only they are asked.
    #[serde(default)]
    pub name: Option<String>,
    /// The named signatory's e-mail: a member of the organisation who may sign for the party.
    #[serde(default)]
    pub email: Option<String>,
}

/// A signature by the built-in method.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureInput {
    /// The digest the signer was shown (the envelope's `digest`).
    pub digest: String,
    /// The consent text version the signer agreed to (the envelope's `consent.version`).
    pub consent_text_version: String,
    /// The signer's full name, typed.
    pub typed_name: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    /// Why the party declines; negotiation resumes on a new version.
    pub reason: String,
}

/// What the request says of the person signing, read at the edge.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// The SHA-256 of the session token the request came with.
    pub credential_hash: Option<String>,
    /// From the socket, or from a trusted proxy's `X-Forwarded-For` only.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub lang: Lang,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub method: String,
    pub level: String,
    pub provider: String,
    pub subject: String,
    pub auth_time: Option<DateTime<Utc>>,
    pub acr: Option<String>,
    pub amr: Option<String>,
    pub name: String,
    pub email: String,
    pub organisation_name: String,
    pub capacity: String,
    pub consent_version: String,
    pub consent_language: String,
    pub consent_sha256: String,
    pub digest: String,
    pub server_time: DateTime<Utc>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignerView {
    pub id: String,
    pub position: i32,
    /// `research_principal`, `company` or `cpua`.
    pub party: String,
    pub organisation: String,
    pub organisation_name: String,
    pub capacity: String,
    /// The named signatory's full name; `null` when any behörig företrädare of the party may sign.
    pub name: Option<String>,
    /// The named signatory's e-mail; `null` when the slot names nobody.
    pub email: Option<String>,
    /// The turn group: lower groups sign first.
    pub group: i32,
    /// `pending`, `signed`, `declined` or `not_needed` (another signatory of a party whose rule is
    /// `any` signed first).
    pub status: String,
    /// The party's rule: `all` (jointly) or `any` (one of several).
    pub party_rule: String,
    pub signed_at: Option<DateTime<Utc>>,
    pub evidence: Option<EvidenceView>,
}

/// The consent text the caller would agree to by signing now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub version: String,
    pub language: String,
    pub text: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnvelopeView {
    pub id: String,
    pub collaboration_id: String,
    pub version: i32,
    /// The version's digest, which every signature must carry.
    pub digest: String,
    /// `draft`, `sent`, `completed`, `declined`, `expired` or `voided`.
    pub status: String,
    pub order: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `superseded`, `signers_changed`, `declined` or `expired`.
    pub end_reason: Option<String>,
    pub decline_reason: Option<String>,
    pub reminders_sent: i32,
    pub signers: Vec<SignerView>,
    /// The signers whose turn it is now (ids).
    pub turn: Vec<String>,
    /// Whether the caller signs in this turn, and the consent text it would agree to.
    pub consent: Option<ConsentView>,
    /// The sealed executed agreement, once written.
    pub executed_pdf_sha256: Option<String>,
    pub executed_pdf_url: String,
}

fn status_of(row: &EnvelopeRow) -> Result<EnvelopeStatus, AppError> {
    EnvelopeStatus::parse(&row.status).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("stored envelope status {:?}", row.status))
    })
}

fn party_of(code: &str) -> Result<PartyRole, AppError> {
    match code {
        "research_principal" => Ok(PartyRole::ResearchPrincipal),
        "company" => Ok(PartyRole::Company),
        "cpua" => Ok(PartyRole::Cpua),
        other => Err(AppError::Internal(anyhow::anyhow!(
            "stored signer party {other:?}"
        ))),
    }
}

fn party_code(p: PartyRole) -> &'static str {
    match p {
        PartyRole::ResearchPrincipal => "research_principal",
        PartyRole::Company => "company",
        PartyRole::Cpua => "cpua",
    }
}

/// The newest envelope of a version as the release guard reads it: its status, digest and each
/// signer's evidence digest.
pub fn execution(
    conn: &mut DbConn,
    collaboration: &str,
    number: i32,
) -> Result<Option<Execution>, AppError> {
    let Some(e) = store::latest_envelope(conn, collaboration, number)? else {
        return Ok(None);
    };
    let evidence = store::evidence(conn, &e.id)?;
    let signers = store::signers(conn, &e.id)?
        .into_iter()
        .map(|s| SignerFacts {
            org: OrgId::from_db(s.organisation_id.clone()),
            signed_digest: evidence
                .iter()
                .find(|x| x.signer_id == s.id)
                .map(|x| x.digest.clone()),
            name: s.organisation_name.clone(),
        })
        .collect();
    // Sealed: the executed PDF is stored, still hashes to the hash stored with it, and its seal
    // verifies over the whole file (issue 14, "The release guard": "the seal verifying").
    let sealed = match (&e.executed_pdf, &e.executed_pdf_sha256) {
        (Some(pdf), Some(sha)) => {
            crate::domain::audit::sha256_hex(pdf) == *sha
                && seal_by_known_key(conn, pdf, e.executed_seal_certificate.as_deref())?
        }
        _ => false,
    };
    let party_rules = rules_of(conn, &e.id)?
        .into_iter()
        .map(|(o, r)| (OrgId::from_db(o), r))
        .collect();
    Ok(Some(Execution {
        status: status_of(&e)?,
        digest: e.digest.clone(),
        signers,
        sealed,
        party_rules,
    }))
}

/// Whether the executed PDF's seal verifies with one of this installation's seal certificates (issue
/// 14, "The release guard": "the seal verifying"; sealed "with the organisation's key"): the one
/// recorded with the PDF, which must be a known seal certificate (the configured one or one used
/// before a rotation). A PDF sealed before fingerprints were recorded is checked against every known
/// certificate. A seal made with any other key, even a valid one, is not the organisation's.
fn seal_by_known_key(
    conn: &mut DbConn,
    pdf: &[u8],
    recorded: Option<&str>,
) -> Result<bool, AppError> {
    let candidates = match recorded {
        Some(sha) => store::seal_certificate(conn, sha)?
            .into_iter()
            .collect::<Vec<_>>(),
        None => store::seal_certificates(conn)?
            .into_iter()
            .map(|(_, der)| der)
            .collect(),
    };
    Ok(candidates
        .iter()
        .any(|der| crate::render::seal::verify(pdf, Some(der))))
}

/// An envelope's party rules as stored (a party not named signs jointly).
fn rules_of(conn: &mut DbConn, envelope: &str) -> Result<BTreeMap<String, PartyRule>, AppError> {
    store::party_rules(conn, envelope)?
        .into_iter()
        .map(|(o, r)| match PartyRule::parse(&r) {
            Some(r) => Ok((o, r)),
            None => Err(AppError::Internal(anyhow::anyhow!(
                "stored party rule {r:?}"
            ))),
        })
        .collect()
}

/// The party rules asked for, checked against the version's parties; only `any` is kept (`all`
/// is the default).
fn planned_rules(
    v: &SigningVersion,
    asked: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, PartyRule>, AppError> {
    let mut out = BTreeMap::new();
    let mut errs = Vec::new();
    for (org, rule) in asked.into_iter().flatten() {
        let org = org.trim();
        let field = format!("party_rules.{org}");
        if !v
            .parties
            .iter()
            .any(|p| !p.organisation.is_empty() && p.organisation == org)
        {
            errs.push(FieldError::new(
                field,
                crate::msg!("signing_signer_not_party", organisation = org),
            ));
            continue;
        }
        match PartyRule::parse(rule.trim()) {
            Some(PartyRule::All) => {}
            Some(r) => {
                out.insert(org.to_string(), r);
            }
            None => errs.push(FieldError::new(
                field,
                crate::msg!(
                    "signing_party_rule_unknown",
                    rule = rule.trim(),
                    allowed = crate::domain::messages::Arg::any_of(
                        PartyRule::ALL.iter().map(|r| r.code())
                    )
                ),
            )),
        }
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    Ok(out)
}

fn store_rules(
    conn: &mut DbConn,
    envelope: &str,
    rules: &BTreeMap<String, PartyRule>,
) -> Result<(), AppError> {
    let rows: Vec<(String, String)> = rules
        .iter()
        .map(|(o, r)| (o.clone(), r.code().to_string()))
        .collect();
    Ok(store::set_party_rules(conn, envelope, &rows)?)
}

/// The days an envelope stays open once sent (issue 14, "Model": "default 30 days, configurable per
/// CPUA"): each CPUA party's own setting, else `signing.expiry_days`; with several CPUAs the
/// shortest, so no authority's limit is exceeded.
fn expiry_days(conn: &mut DbConn, policy: &Policy, signers: &[SignerRow]) -> Result<i64, AppError> {
    let mut days: Option<i64> = None;
    let mut seen = BTreeSet::new();
    for s in signers.iter().filter(|s| s.party_role == "cpua") {
        if !seen.insert(s.organisation_id.as_str()) {
            continue;
        }
        let own = store::policy_expiry_days(conn, &s.organisation_id)?
            .map(i64::from)
            .unwrap_or(policy.expiry_days);
        days = Some(days.map_or(own, |d| d.min(own)));
    }
    Ok(days.unwrap_or(policy.expiry_days))
}

/// Takes the case's row lock (PostgreSQL `FOR UPDATE`; SQLite's writer lock orders writes) for a
/// caller that reads before it writes in one transaction.
pub fn lock(conn: &mut DbConn, id: &str) -> Result<(), AppError> {
    if let Some(cid) = CollaborationId::parse(id) {
        repo::lock_collaboration(conn, &cid)?;
    }
    Ok(())
}

fn version(conn: &mut DbConn, c: &Collaboration, number: i32) -> Result<SigningVersion, AppError> {
    signing_version(conn, c, number)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.agreement_version")))
}

/// Tells the signing people of the given organisations (each by its party's signing role) of an
/// envelope event, one outbox row per person, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn tell(
    conn: &mut DbConn,
    c: &Collaboration,
    env: &EnvelopeRow,
    orgs: &[(OrgId, PartyRole, Option<BTreeSet<String>>)],
    event: &str,
    kind: &str,
    dedup: Option<&str>,
    extra: Value,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut data = json!({
        "collaboration_id": c.id.as_str(),
        "reference": c.reference,
        "title": c.title,
        "version": env.version,
        "expires_on": utc(env.expires_at)
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .date_naive()
            .to_string(),
    });
    if let (Some(o), Value::Object(e)) = (data.as_object_mut(), extra) {
        o.extend(e);
    }
    let mut seen = BTreeSet::new();
    let mut rows: Vec<OutboxRow> = Vec::new();
    for (org, party, named) in orgs {
        for p in outbox_store::people_with_role(conn, org, authz::signing_role(*party))? {
            // A named signatory's party: only the named people are told.
            if named
                .as_ref()
                .is_some_and(|n| !n.contains(&p.email.trim().to_lowercase()))
            {
                continue;
            }
            if seen.insert(p.account.to_string()) {
                let key = dedup.map(|d| format!("{d}:{}", p.account));
                rows.push(super::notify::row_for(
                    &p,
                    Some(c.id.as_str()),
                    event,
                    kind,
                    key,
                    &data,
                    now,
                ));
            }
        }
    }
    Ok(outbox_store::insert(conn, &rows)?)
}

/// Who hears of an envelope: per party, the e-mails of its named signatories, or `None` when a
/// slot of it names nobody (then every person with the party's signing role is told).
type Audience = Vec<(OrgId, PartyRole, Option<BTreeSet<String>>)>;

fn everyone(signers: &[SignerRow]) -> Result<Audience, AppError> {
    let mut out: Audience = Vec::new();
    for s in signers {
        let org = OrgId::from_db(s.organisation_id.clone());
        let party = party_of(&s.party_role)?;
        let named = s.signer_email.as_ref().map(|e| e.to_lowercase());
        match out.iter_mut().find(|(o, p, _)| *o == org && *p == party) {
            Some((_, _, seen)) => match (seen.as_mut(), named) {
                (Some(set), Some(e)) => {
                    set.insert(e);
                }
                _ => *seen = None,
            },
            None => out.push((org, party, named.map(|e| BTreeSet::from([e])))),
        }
    }
    Ok(out)
}

/// The pending signers whose turn it is.
fn in_turn(signers: &[SignerRow]) -> Vec<&SignerRow> {
    let current = rules::current_group(signers.iter().map(|s| {
        (
            u32::try_from(s.turn_group).unwrap_or(0),
            s.status != "pending",
        )
    }));
    signers
        .iter()
        .filter(|s| s.status == "pending" && current == u32::try_from(s.turn_group).ok())
        .collect()
}

fn turn_orgs(signers: &[SignerRow]) -> Result<Audience, AppError> {
    let now: Vec<SignerRow> = in_turn(signers).into_iter().cloned().collect();
    everyone(&now)
}

/// Voids the collaboration's open envelope, if any (a new version was drawn, or the signers changed
/// after sending), telling its signers. Evidence already given stays.
pub fn void_open(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(open) = store::open_envelope(conn, c.id.as_str())? else {
        return Ok(());
    };
    void(conn, actor, c, &open, reason, now)
}

fn void(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    open: &EnvelopeRow,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !store::end(conn, &open.id, "voided", reason, None, now)? {
        return Ok(());
    }
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::EnvelopeVoided,
        None,
        json!({"envelope": open.id, "agreement_version": open.version, "reason": reason}),
        now,
    )?;
    // A draft was never sent: nobody was asked, nobody is told.
    if open.status == "sent" {
        let signers = store::signers(conn, &open.id)?;
        let orgs = everyone(&signers)?;
        tell(
            conn,
            c,
            open,
            &orgs,
            "envelope_voided",
            super::notify::KIND_NOTICE,
            None,
            json!({"reason": reason}),
            now,
        )?;
    }
    Ok(())
}

/// One signer slot as asked, checked against the version's parties.
#[derive(Debug, Clone)]
struct Planned {
    role: PartyRole,
    org: OrgId,
    party_name: String,
    capacity: String,
    name: Option<String>,
    email: Option<EmailAddress>,
}

/// The named signatory of a slot, when asked: both a name and an e-mail, the e-mail a member of
/// the organisation who may sign for the party. Errors name the field.
fn named_signatory(
    conn: &mut DbConn,
    i: usize,
    s: &SignerInput,
    org: &OrgId,
    role: PartyRole,
    errs: &mut Vec<FieldError>,
) -> Result<(Option<String>, Option<EmailAddress>), AppError> {
    let blank = |x: &Option<String>| x.as_deref().is_none_or(|t| t.trim().is_empty());
    if blank(&s.name) && blank(&s.email) {
        return Ok((None, None));
    }
    let name = match s.name.as_deref().map(rules::SignatoryName::parse) {
        None => {
            errs.push(FieldError::new(
                format!("signers[{i}].name"),
                crate::msg!("signing_signer_name_required"),
            ));
            None
        }
        Some(Ok(n)) => Some(n.into_string()),
        Some(Err(m)) => {
            errs.push(FieldError::new(
                format!("signers[{i}].name"),
                crate::msg!("text", reason = m),
            ));
            None
        }
    };
    let email = match s.email.as_deref().map(EmailAddress::parse) {
        None => {
            errs.push(FieldError::new(
                format!("signers[{i}].email"),
                crate::msg!("signing_signer_email_required"),
            ));
            None
        }
        Some(Ok(e)) => {
            let known = outbox_store::people_with_role(conn, org, authz::signing_role(role))?
                .iter()
                .any(|p| p.email.trim().eq_ignore_ascii_case(e.as_str()));
            if known {
                Some(e)
            } else {
                errs.push(FieldError::new(
                    format!("signers[{i}].email"),
                    crate::msg!("signing_signer_email_unknown", email = e.as_str()),
                ));
                None
            }
        }
        Some(Err(m)) => {
            errs.push(FieldError::new(
                format!("signers[{i}].email"),
                crate::msg!("text", reason = m),
            ));
            None
        }
    };
    Ok((name, email))
}

/// The signers asked for, checked against the version's parties; or one per party by default.
fn planned_signers(
    conn: &mut DbConn,
    v: &SigningVersion,
    asked: Option<&[SignerInput]>,
) -> Result<Vec<Planned>, AppError> {
    let default_capacity = |p: &crate::domain::agreement::data::Party| {
        let t = p.signatory.title.trim();
        if t.is_empty() {
            "behörig företrädare".to_string()
        } else {
            t.to_string()
        }
    };
    let parties: Vec<&crate::domain::agreement::data::Party> = v
        .parties
        .iter()
        .filter(|p| !p.organisation.is_empty())
        .collect();
    let Some(asked) = asked else {
        return Ok(parties
            .iter()
            .map(|p| Planned {
                role: p.role,
                org: OrgId::from_db(p.organisation.clone()),
                party_name: p.name.clone(),
                capacity: default_capacity(p),
                name: None,
                email: None,
            })
            .collect());
    };
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for (i, s) in asked.iter().enumerate() {
        let Some(p) = parties
            .iter()
            .find(|p| p.organisation == s.organisation.trim())
        else {
            errs.push(FieldError::new(
                format!("signers[{i}].organisation"),
                crate::msg!(
                    "signing_signer_not_party",
                    organisation = s.organisation.trim()
                ),
            ));
            continue;
        };
        let capacity = match &s.capacity {
            None => default_capacity(p),
            Some(c) => match crate::domain::text::parse_line(c, 200) {
                Ok(c) if !c.is_empty() => c,
                Ok(_) => {
                    errs.push(FieldError::new(
                        format!("signers[{i}].capacity"),
                        crate::msg!("required.field"),
                    ));
                    continue;
                }
                Err(m) => {
                    errs.push(FieldError::new(
                        format!("signers[{i}].capacity"),
                        crate::msg!("text", reason = m),
                    ));
                    continue;
                }
            },
        };
        let org = OrgId::from_db(p.organisation.clone());
        let (name, email) = named_signatory(conn, i, s, &org, p.role, &mut errs)?;
        if let Some(e) = &email {
            let twice = out
                .iter()
                .any(|x: &Planned| x.org == org && x.email.as_ref() == Some(e));
            if twice {
                errs.push(FieldError::new(
                    format!("signers[{i}].email"),
                    crate::msg!("signing_signer_email_twice", email = e.as_str()),
                ));
                continue;
            }
        }
        out.push(Planned {
            role: p.role,
            org,
            party_name: p.name.clone(),
            capacity,
            name,
            email,
        });
    }
    let missing: Vec<String> = parties
        .iter()
        .filter(|p| {
            !asked
                .iter()
                .any(|s| s.organisation.trim() == p.organisation)
        })
        .map(|p| p.name.clone())
        .collect();
    if !missing.is_empty() {
        errs.push(FieldError::new(
            "signers",
            crate::msg!(
                "signing_party_without_signer",
                parties = crate::domain::messages::Arg::all_of(missing)
            ),
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    // Signers of one party stay next to each other, in the parties' order.
    out.sort_by_key(|x| {
        parties
            .iter()
            .position(|p| p.organisation == x.org.as_str())
            .unwrap_or(usize::MAX)
    });
    Ok(out)
}

fn signer_rows(
    envelope: &str,
    order: OrderMode,
    planned: &[Planned],
    party_rules: &BTreeMap<String, PartyRule>,
) -> Vec<SignerRow> {
    let roles: Vec<PartyRole> = planned.iter().map(|x| x.role).collect();
    let mut groups = rules::turn_groups(order, &roles);
    // One of several: the party's signatories share one turn (in a sequence too), so whichever
    // of them signs first satisfies the party.
    for (org, rule) in party_rules {
        if *rule != PartyRule::Any {
            continue;
        }
        let first = planned
            .iter()
            .zip(&groups)
            .filter(|(x, _)| x.org.as_str() == org)
            .map(|(_, g)| *g)
            .min();
        if let Some(first) = first {
            for (x, g) in planned.iter().zip(groups.iter_mut()) {
                if x.org.as_str() == org {
                    *g = first;
                }
            }
        }
    }
    planned
        .iter()
        .zip(groups)
        .enumerate()
        .map(|(i, (x, group))| SignerRow {
            id: uuid::Uuid::new_v4().to_string(),
            envelope_id: envelope.to_string(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            party_role: party_code(x.role).to_string(),
            organisation_id: x.org.to_string(),
            organisation_name: x.party_name.clone(),
            capacity: x.capacity.clone(),
            turn_group: i32::try_from(group).unwrap_or(i32::MAX),
            status: "pending".into(),
            signed_at: None,
            signed_by: None,
            signer_name: x.name.clone(),
            signer_email: x.email.as_ref().map(|e| e.as_str().to_string()),
        })
        .collect()
}

/// Whether a sent envelope's signers and order already are what is asked.
fn same_plan(
    rows: &[SignerRow],
    order: OrderMode,
    env: &EnvelopeRow,
    planned: &[Planned],
    stored_rules: &BTreeMap<String, PartyRule>,
    rules: &BTreeMap<String, PartyRule>,
) -> bool {
    stored_rules == rules
        && env.order_mode == order.code()
        && rows.len() == planned.len()
        && rows.iter().zip(planned).all(|(r, x)| {
            r.organisation_id == x.org.as_str()
                && r.capacity == x.capacity
                && r.signer_name == x.name
                && r.signer_email.as_deref() == x.email.as_ref().map(|e| e.as_str())
        })
}

fn send(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    env: &mut EnvelopeRow,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let signers = store::signers(conn, &env.id)?;
    let days = expiry_days(conn, policy, &signers)?;
    let expires = now + Duration::days(days);
    store::mark_sent(conn, &env.id, now, expires)?;
    env.status = "sent".into();
    env.sent_at = Some(ts(now));
    env.expires_at = ts(expires);
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::EnvelopeSent,
        None,
        json!({"envelope": env.id, "agreement_version": env.version, "digest": env.digest,
               "expires_at": utc(env.expires_at), "expiry_days": days}),
        now,
    )?;
    let orgs = turn_orgs(&signers)?;
    tell(
        conn,
        c,
        env,
        &orgs,
        "signing_requested",
        super::notify::KIND_NOTICE,
        None,
        json!({}),
        now,
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn new_envelope(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    v: &SigningVersion,
    order: OrderMode,
    planned: &[Planned],
    rules: &BTreeMap<String, PartyRule>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<EnvelopeRow, AppError> {
    let row = EnvelopeRow {
        id: uuid::Uuid::new_v4().to_string(),
        collaboration_id: c.id.as_str().to_string(),
        seq: store::next_seq(conn, c.id.as_str())?,
        version: v.number,
        digest: v.digest.clone(),
        status: "draft".into(),
        order_mode: order.code().into(),
        expires_at: ts(now + Duration::days(policy.expiry_days)),
        created_at: ts(now),
        created_by: actor.account.as_str().to_string(),
        sent_at: None,
        completed_at: None,
        ended_at: None,
        end_reason: None,
        decline_reason: None,
        reminders_sent: 0,
        executed_pdf: None,
        executed_pdf_sha256: None,
        executed_seal_certificate: None,
    };
    store::insert_envelope(conn, &row)?;
    let signers = signer_rows(&row.id, order, planned, rules);
    store::insert_signers(conn, &signers)?;
    store_rules(conn, &row.id, rules)?;
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::EnvelopeDrafted,
        None,
        json!({"envelope": row.id, "agreement_version": v.number, "digest": v.digest,
               "order": order.code(), "signers": signers_json(&signers),
               "party_rules": rules_json(rules)}),
        now,
    )?;
    Ok(row)
}

fn rules_json(rules: &BTreeMap<String, PartyRule>) -> Value {
    Value::Object(
        rules
            .iter()
            .map(|(o, r)| (o.clone(), json!(r.code())))
            .collect(),
    )
}

fn signers_json(rows: &[SignerRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|s| {
                json!({"organisation": s.organisation_id, "party": s.party_role,
                       "capacity": s.capacity, "group": s.turn_group,
                       "name": s.signer_name, "email": s.signer_email})
            })
            .collect(),
    )
}

/// The version may get an envelope: it is the newest, and its agreement is not yet recorded.
fn may_open(c: &Collaboration, v: &SigningVersion) -> Result<(), AppError> {
    let number = u32::try_from(v.number).unwrap_or(0);
    if !v.is_latest {
        return Err(
            Refusal::precondition(crate::msg!("signing_superseded", number = number)).into(),
        );
    }
    match crate::domain::lifecycle::agreement_draft(c) {
        Ok(a) if a == v.amendment => Ok(()),
        Ok(_) => {
            Err(Refusal::precondition(crate::msg!("signing_superseded", number = number)).into())
        }
        Err(r) => Err(r.into()),
    }
}

/// CPUA legal drafts, edits and sends the envelope of a version. Returns the view and whether a new
/// envelope was made (a first draft, or a resend after a change).
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    policy: &Policy,
    actor: &Actor,
    id: &str,
    number: i32,
    input: EnvelopeInput,
    now: DateTime<Utc>,
) -> Result<(EnvelopeView, bool), AppError> {
    lock(conn, id)?;
    let c = super::collaborations::visible(conn, rulebooks, actor, id)?;
    let v = version(conn, &c, number)?;
    let cpuas: BTreeSet<OrgId> = v
        .parties
        .iter()
        .filter(|p| p.role == PartyRole::Cpua && !p.organisation.is_empty())
        .map(|p| OrgId::from_db(p.organisation.clone()))
        .collect();
    authz::may_prepare_envelope(actor, &cpuas)?;
    let order = match input.order.as_deref() {
        None => None,
        Some(s) => Some(OrderMode::parse(s.trim()).ok_or_else(|| {
            AppError::invalid(
                "order",
                crate::msg!(
                    "signing_order_unknown",
                    order = s.trim(),
                    allowed = crate::domain::messages::Arg::any_of(
                        OrderMode::ALL.iter().map(|o| o.code())
                    )
                ),
            )
        })?),
    };
    let planned = planned_signers(conn, &v, input.signers.as_deref())?;
    let rules = planned_rules(&v, input.party_rules.as_ref())?;
    may_open(&c, &v)?;
    if let Some(latest) = store::latest_envelope(conn, c.id.as_str(), number)? {
        if status_of(&latest)? == EnvelopeStatus::Completed {
            return Err(Refusal::precondition(crate::msg!(
                "signing_completed",
                number = u32::try_from(number).unwrap_or(0)
            ))
            .into());
        }
    }
    let open = store::open_envelope(conn, c.id.as_str())?;
    let (mut env, created) = match open {
        Some(o) if o.version != number => {
            void(conn, actor, &c, &o, END_SUPERSEDED, now)?;
            let order = order.unwrap_or_default();
            (
                new_envelope(conn, actor, &c, &v, order, &planned, &rules, policy, now)?,
                true,
            )
        }
        Some(mut o) if o.status == "draft" => {
            let order = order
                .or_else(|| OrderMode::parse(&o.order_mode))
                .unwrap_or_default();
            let rows = store::signers(conn, &o.id)?;
            let stored = rules_of(conn, &o.id)?;
            if !same_plan(&rows, order, &o, &planned, &stored, &rules) {
                store::set_order(conn, &o.id, order.code())?;
                o.order_mode = order.code().into();
                store::delete_signers(conn, &o.id)?;
                let signers = signer_rows(&o.id, order, &planned, &rules);
                store::insert_signers(conn, &signers)?;
                store_rules(conn, &o.id, &rules)?;
                record_case_event(
                    conn,
                    actor,
                    c.id.as_str(),
                    EventType::EnvelopeDrafted,
                    None,
                    json!({"envelope": o.id, "agreement_version": o.version, "digest": o.digest,
                           "order": order.code(), "signers": signers_json(&signers),
                           "party_rules": rules_json(&rules)}),
                    now,
                )?;
            }
            (o, false)
        }
        Some(o) => {
            // Sent: a change voids it and sends a new one; no change leaves it as it is.
            let order = order
                .or_else(|| OrderMode::parse(&o.order_mode))
                .unwrap_or_default();
            let rows = store::signers(conn, &o.id)?;
            let stored = rules_of(conn, &o.id)?;
            let changed =
                (input.signers.is_some() || input.order.is_some() || input.party_rules.is_some())
                    && !same_plan(&rows, order, &o, &planned, &stored, &rules);
            if changed {
                void(conn, actor, &c, &o, END_SIGNERS_CHANGED, now)?;
                let mut n =
                    new_envelope(conn, actor, &c, &v, order, &planned, &rules, policy, now)?;
                send(conn, actor, &c, &mut n, policy, now)?;
                return Ok((view_of(conn, actor, &c, n, Lang::default())?, true));
            }
            (o, false)
        }
        None => {
            let order = order.unwrap_or_default();
            (
                new_envelope(conn, actor, &c, &v, order, &planned, &rules, policy, now)?,
                true,
            )
        }
    };
    if input.send && env.status == "draft" {
        send(conn, actor, &c, &mut env, policy, now)?;
    }
    Ok((view_of(conn, actor, &c, env, Lang::default())?, created))
}

/// Whether the actor may draft and send the envelope of a version (the legal team of a CPUA that is
/// a party to it): what a page asks before it offers the form `prepare` would refuse.
pub fn may_prepare(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    number: i32,
) -> Result<bool, AppError> {
    let c = super::collaborations::visible(conn, rulebooks, actor, id)?;
    let v = version(conn, &c, number)?;
    let cpuas: BTreeSet<OrgId> = v
        .parties
        .iter()
        .filter(|p| p.role == PartyRole::Cpua && !p.organisation.is_empty())
        .map(|p| OrgId::from_db(p.organisation.clone()))
        .collect();
    Ok(authz::may_prepare_envelope(actor, &cpuas).is_ok() && v.is_latest)
}

/// The newest envelope of a version, as the actor sees it.
pub fn get(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    number: i32,
    lang: Lang,
) -> Result<EnvelopeView, AppError> {
    let c = super::collaborations::visible(conn, rulebooks, actor, id)?;
    version(conn, &c, number)?;
    let env = store::latest_envelope(conn, c.id.as_str(), number)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.envelope")))?;
    view_of(conn, actor, &c, env, lang)
}

/// The signer slot the actor fills: a pending slot of the actor's organisation whose party the
/// actor's role signs for. A person signs one slot of an envelope. A named slot (issue 14,
/// "Signers": the behörig företrädare named when drafting) is filled only by the person whose
/// account e-mail is the slot's (case-insensitive), and that person fills it before any unnamed
/// slot of the party; a person whose party's pending slots all name someone else is refused, naming
/// them.
fn slot_of<'a>(
    conn: &mut DbConn,
    actor: &Actor,
    signers: &'a [SignerRow],
) -> Result<Option<&'a SignerRow>, AppError> {
    let mut mine = Vec::new();
    for s in signers {
        if authz::may_sign_for(
            actor,
            &OrgId::from_db(s.organisation_id.clone()),
            party_of(&s.party_role)?,
        ) {
            mine.push(s);
        }
    }
    if mine.is_empty() {
        return Err(AppError::Forbidden(crate::msg!("forbidden.signer")));
    }
    if mine
        .iter()
        .any(|s| s.signed_by.as_deref() == Some(actor.account.as_str()))
    {
        return Ok(None);
    }
    let email = identity::account_by_id(conn, &actor.account)?
        .map(|a| a.email)
        .unwrap_or_default();
    choose_slot(mine, &email, None)
}

/// Of a party's slots, the one a person with this e-mail signs: the pending slot that names them
/// (e-mail compared case-insensitively), else an unnamed pending slot (the one of the given capacity
/// first, when a provider reports one), else none when nothing is pending. A person whose party's
/// pending slots all name someone else is refused, naming them: a named signer is the only one who
/// may fill their slot, whichever method they sign by (issue 14, "signers from the version's
/// parties").
fn choose_slot<'a>(
    mine: Vec<&'a SignerRow>,
    email: &str,
    capacity: Option<&str>,
) -> Result<Option<&'a SignerRow>, AppError> {
    let email = email.trim();
    let pending: Vec<&SignerRow> = mine.into_iter().filter(|s| s.status == "pending").collect();
    let named_me = pending.iter().find(|s| {
        s.signer_email
            .as_deref()
            .is_some_and(|e| !email.is_empty() && e.trim().eq_ignore_ascii_case(email))
    });
    if let Some(s) = named_me {
        return Ok(Some(s));
    }
    let unnamed: Vec<&SignerRow> = pending
        .iter()
        .copied()
        .filter(|s| s.signer_email.is_none())
        .collect();
    let by_capacity = capacity.and_then(|c| {
        unnamed
            .iter()
            .find(|s| s.capacity.eq_ignore_ascii_case(c.trim()))
    });
    if let Some(s) = by_capacity.or(unnamed.first()) {
        return Ok(Some(s));
    }
    if pending.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = pending
        .iter()
        .filter_map(|s| s.signer_name.clone())
        .collect();
    Err(Refusal::precondition(crate::msg!(
        "signing_slot_named",
        names = crate::domain::messages::Arg::any_of(names)
    ))
    .into())
}

/// Why the actor has no slot left to sign: they signed already, or another signatory of their
/// party, whose rule is "one of several", signed first.
fn no_slot(actor: &Actor, signers: &[SignerRow]) -> AppError {
    let signed_self = signers
        .iter()
        .any(|s| s.signed_by.as_deref() == Some(actor.account.as_str()));
    match signers
        .iter()
        .find(|s| s.organisation_id == actor.org.as_str() && s.status == store::SIGNER_NOT_NEEDED)
    {
        Some(s) if !signed_self => Refusal::precondition(crate::msg!(
            "signing_party_satisfied",
            party = s.organisation_name.as_str()
        ))
        .into(),
        _ => Refusal::precondition(crate::msg!("signing_already_signed")).into(),
    }
}

fn agreement_name(c: &Collaboration) -> String {
    format!("{} ({})", c.reference, c.title)
}

fn consent_for(
    c: &Collaboration,
    env: &EnvelopeRow,
    signer: &SignerRow,
    person: &str,
    lang: Lang,
) -> ConsentView {
    let text = consent::text(
        lang,
        &consent::ConsentFacts {
            signer: person,
            capacity: &signer.capacity,
            party: &signer.organisation_name,
            agreement: &agreement_name(c),
            version: u32::try_from(env.version).unwrap_or(0),
            digest: &env.digest,
        },
    );
    ConsentView {
        version: consent::CURRENT.to_string(),
        language: lang.code().to_string(),
        sha256: consent::sha256(&text),
        text,
    }
}

/// A party signs by the built-in method (issue 14, "Signing").
#[allow(clippy::too_many_arguments)]
pub fn sign(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    policy: &Policy,
    actor: &Actor,
    req: &RequestFacts,
    id: &str,
    number: i32,
    input: SignatureInput,
    now: DateTime<Utc>,
) -> Result<EnvelopeView, AppError> {
    let mut errs = Vec::new();
    let digest = input.digest.trim().to_ascii_lowercase();
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        errs.push(FieldError::new(
            "digest",
            crate::msg!("signing_digest_format"),
        ));
    }
    if input.typed_name.trim().is_empty() {
        errs.push(FieldError::new("typed_name", crate::msg!("required.field")));
    }
    if input.consent_text_version.trim().is_empty() {
        errs.push(FieldError::new(
            "consent_text_version",
            crate::msg!("required.field"),
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    lock(conn, id)?;
    let c = super::collaborations::visible(conn, rulebooks, actor, id)?;
    version(conn, &c, number)?;
    let env = store::latest_envelope(conn, c.id.as_str(), number)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.envelope")))?;
    let signers = store::signers(conn, &env.id)?;
    let Some(slot) = slot_of(conn, actor, &signers)? else {
        return Err(no_slot(actor, &signers));
    };
    let slot = slot.clone();
    let account = identity::account_by_id(conn, &actor.account)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the signing account is gone")))?;
    let session = match &req.credential_hash {
        Some(h) => identity::live_session(conn, h, now)?.map(|(s, _, _)| s),
        None => None,
    };
    let latest = super::agreements::latest_number(conn, &c)?;
    let turn: Vec<&SignerRow> = in_turn(&signers);
    let current = rules::current_group(signers.iter().map(|s| {
        (
            u32::try_from(s.turn_group).unwrap_or(0),
            s.status != "pending",
        )
    }));
    let mut waiting: Vec<String> = turn.iter().map(|s| s.organisation_name.clone()).collect();
    waiting.dedup();
    let status = status_of(&env)?;
    let auth_time = session.as_ref().and_then(|s| s.auth_time).map(utc);
    let attempt = SignAttempt {
        now,
        version: u32::try_from(number).unwrap_or(0),
        status,
        expires_at: utc(env.expires_at),
        newer_version: latest.is_some_and(|l| l > number),
        envelope_digest: &env.digest,
        shown_digest: &digest,
        signer_group: u32::try_from(slot.turn_group).unwrap_or(0),
        current_group: current,
        waiting_for: waiting,
        consent_version: input.consent_text_version.trim(),
        typed_name: &input.typed_name,
        person_name: &account.display_name,
        auth_time,
        fresh_login_minutes: policy.fresh_login_minutes,
    };
    rules::check_signature(&attempt)?;
    let consent = consent_for(&c, &env, &slot, &account.display_name, req.lang);
    let evidence = EvidenceRow {
        id: uuid::Uuid::new_v4().to_string(),
        envelope_id: env.id.clone(),
        signer_id: slot.id.clone(),
        collaboration_id: c.id.as_str().to_string(),
        version: number,
        method: METHOD_BUILTIN.into(),
        level: LEVEL_SIMPLE.into(),
        provider: session
            .as_ref()
            .and_then(|s| s.provider.clone())
            .unwrap_or_else(|| "local".into()),
        subject: account
            .subject
            .clone()
            .unwrap_or_else(|| account.username.clone()),
        auth_time: auth_time.map(ts),
        acr: session.as_ref().and_then(|s| s.acr.clone()),
        amr: session.as_ref().and_then(|s| s.amr.clone()),
        account_id: account.id.clone(),
        name: account.display_name.clone(),
        email: account.email.clone(),
        organisation_id: slot.organisation_id.clone(),
        organisation_name: slot.organisation_name.clone(),
        capacity: slot.capacity.clone(),
        typed_name: input.typed_name.trim().to_string(),
        consent_version: consent.version.clone(),
        consent_language: consent.language.clone(),
        consent_sha256: consent.sha256.clone(),
        digest: env.digest.clone(),
        server_time: ts(now),
        client_ip: req.client_ip.clone(),
        user_agent: req.user_agent.clone(),
    };
    record_signature(conn, actor, &c, &env, &slot, &turn, &evidence, now)?;
    let env = store::envelope(conn, &env.id)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the envelope vanished")))?;
    view_of(conn, actor, &c, env, req.lang)
}

/// Records one signature's evidence and runs the completion path shared by the built-in method and
/// the providers: the slot signed, the audit event, and then either the envelope completed (everyone
/// told) or, when a new turn opened, its signers asked. `turn` is who was in turn before.
#[allow(clippy::too_many_arguments)]
fn record_signature(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    env: &EnvelopeRow,
    slot: &SignerRow,
    turn: &[&SignerRow],
    evidence: &EvidenceRow,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    store::insert_evidence(conn, evidence)?;
    if !store::mark_signer(conn, &slot.id, "signed", actor.account.as_str(), now)? {
        return Err(AppError::RaceLost(crate::msg!("race_lost.collaboration")));
    }
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::SignatureRecorded,
        None,
        serde_json::to_value(evidence_view(evidence))
            .map(|mut v| {
                if let Some(o) = v.as_object_mut() {
                    o.insert("envelope".into(), json!(env.id));
                    o.insert("agreement_version".into(), json!(env.version));
                    o.insert("signer".into(), json!(slot.id));
                }
                v
            })
            .map_err(|e| AppError::Internal(e.into()))?,
        now,
    )?;
    // One of several: the party is satisfied, its other signatories' turns end.
    if rules_of(conn, &env.id)?.get(&slot.organisation_id) == Some(&PartyRule::Any) {
        store::release_others(conn, &env.id, &slot.organisation_id)?;
    }
    let after = store::signers(conn, &env.id)?;
    if after
        .iter()
        .all(|s| s.status == "signed" || s.status == store::SIGNER_NOT_NEEDED)
    {
        store::complete(conn, &env.id, now)?;
        // The executed agreement is sealed by a job (issue 14, "Executed agreement": "a job appends
        // a certificate of completion … and seals it"): its durable marker is written here, in the
        // completion's transaction, and `signing_seal` seals outside any write transaction (the
        // timestamp authority is never asked while the write lock is held). Until the seal is
        // stored the PDF is refused (`executed_pdf_sealing`) and the release guard is not met.
        store::insert_seal_job(conn, &env.id, c.id.as_str(), now)?;
        record_case_event(
            conn,
            actor,
            c.id.as_str(),
            EventType::EnvelopeCompleted,
            None,
            json!({"envelope": env.id, "agreement_version": env.version, "digest": env.digest}),
            now,
        )?;
        let orgs = everyone(&after)?;
        tell(
            conn,
            c,
            env,
            &orgs,
            "envelope_completed",
            super::notify::KIND_NOTICE,
            None,
            json!({}),
            now,
        )?;
    } else {
        let before: BTreeSet<&str> = turn.iter().map(|s| s.id.as_str()).collect();
        let next = in_turn(&after);
        // A new turn opened: its signers are asked now.
        if next.iter().all(|s| !before.contains(s.id.as_str())) {
            let orgs = turn_orgs(&after)?;
            tell(
                conn,
                c,
                env,
                &orgs,
                "signing_requested",
                super::notify::KIND_NOTICE,
                None,
                json!({}),
                now,
            )?;
        }
    }
    Ok(())
}

/// A signature or a decline an external provider reports (issue 14, "An external e-signature
/// service"), read from its verified event.
#[derive(Debug, Clone)]
pub struct ProviderResult<'a> {
    /// The provider's configured name: the evidence's `method` and `provider`.
    pub provider: &'a str,
    pub collaboration_id: &'a str,
    pub version: i32,
    pub organisation_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub capacity: &'a str,
    /// The digest the provider had the signer sign.
    pub digest: &'a str,
    /// `AES` or `QES`.
    pub level: &'a str,
    pub signed_at: DateTime<Utc>,
    /// The provider's own reference to the transaction (the evidence's `subject`).
    pub provider_reference: &'a str,
    /// The SHA-256 of the event body as received (the evidence's `consent_sha256`: what the signer
    /// agreed to is the provider's record, tied to it by this hash).
    pub body_sha256: &'a str,
}

/// The account a provider's signatures and audit events are recorded under.
pub fn provider_actor(provider: &str) -> Actor {
    Actor::new(
        crate::domain::ids::AccountId::from_db(format!("signing-provider:{provider}")),
        format!("signing provider {provider}"),
        OrgId::from_db("system".into()),
        crate::domain::role::Role::Administrator,
    )
}

/// The envelope and the signer slot a provider's result is for, with whose turn it is: refused,
/// naming the rule, like a signature by the built-in method.
fn provider_slot(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    r: &ProviderResult,
) -> Result<(Collaboration, EnvelopeRow, Vec<SignerRow>, SignerRow), AppError> {
    let not_found = || AppError::NotFound(crate::msg!("thing.collaboration"));
    let cid = CollaborationId::parse(r.collaboration_id).ok_or_else(not_found)?;
    repo::lock_collaboration(conn, &cid)?;
    let (c, _) = repo::load_collaboration(conn, rulebooks, &cid)?.ok_or_else(not_found)?;
    version(conn, &c, r.version)?;
    let env = store::latest_envelope(conn, c.id.as_str(), r.version)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.envelope")))?;
    let signers = store::signers(conn, &env.id)?;
    let mine: Vec<&SignerRow> = signers
        .iter()
        .filter(|s| s.organisation_id == r.organisation_id)
        .collect();
    if mine.is_empty() {
        return Err(Refusal::invalid(
            "signer.organisation_id",
            crate::msg!("signing_signer_not_party", organisation = r.organisation_id),
        )
        .into());
    }
    let slot = choose_slot(mine, r.email, Some(r.capacity))?.cloned();
    let Some(slot) = slot else {
        return Err(Refusal::precondition(crate::msg!("signing_already_signed")).into());
    };
    Ok((c, env, signers, slot))
}

/// Records a signature an external provider reports: the same rules as the built-in method's that
/// do not concern the signer's session (sent, unexpired, no newer version, the envelope's digest,
/// the signer's turn), then evidence with the provider's name as `method` and its level, and the
/// same completion path. Returns the envelope after it.
pub fn record_provider_signature(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    policy: &Policy,
    r: &ProviderResult,
    now: DateTime<Utc>,
) -> Result<EnvelopeRow, AppError> {
    let (c, env, signers, slot) = provider_slot(conn, rulebooks, r)?;
    let latest = super::agreements::latest_number(conn, &c)?;
    let turn: Vec<&SignerRow> = in_turn(&signers);
    let current = rules::current_group(signers.iter().map(|s| {
        (
            u32::try_from(s.turn_group).unwrap_or(0),
            s.status != "pending",
        )
    }));
    let mut waiting: Vec<String> = turn.iter().map(|s| s.organisation_name.clone()).collect();
    waiting.dedup();
    let digest = r.digest.trim().to_ascii_lowercase();
    let attempt = SignAttempt {
        now,
        version: u32::try_from(r.version).unwrap_or(0),
        status: status_of(&env)?,
        expires_at: utc(env.expires_at),
        newer_version: latest.is_some_and(|l| l > r.version),
        envelope_digest: &env.digest,
        shown_digest: &digest,
        signer_group: u32::try_from(slot.turn_group).unwrap_or(0),
        current_group: current,
        waiting_for: waiting,
        consent_version: consent::CURRENT,
        typed_name: r.name,
        person_name: r.name,
        auth_time: Some(r.signed_at),
        fresh_login_minutes: policy.fresh_login_minutes,
    };
    rules::check_envelope(&attempt)?;
    let actor = provider_actor(r.provider);
    let capacity = if r.capacity.trim().is_empty() {
        slot.capacity.clone()
    } else {
        r.capacity.trim().to_string()
    };
    let evidence = EvidenceRow {
        id: uuid::Uuid::new_v4().to_string(),
        envelope_id: env.id.clone(),
        signer_id: slot.id.clone(),
        collaboration_id: c.id.as_str().to_string(),
        version: r.version,
        method: r.provider.to_string(),
        level: r.level.to_string(),
        provider: r.provider.to_string(),
        subject: r.provider_reference.to_string(),
        auth_time: Some(ts(r.signed_at)),
        acr: None,
        amr: None,
        account_id: actor.account.as_str().to_string(),
        name: r.name.trim().to_string(),
        email: r.email.trim().to_string(),
        organisation_id: slot.organisation_id.clone(),
        organisation_name: slot.organisation_name.clone(),
        capacity,
        typed_name: r.name.trim().to_string(),
        consent_version: format!("provider:{}", r.provider),
        consent_language: String::new(),
        consent_sha256: r.body_sha256.to_string(),
        digest: env.digest.clone(),
        server_time: ts(now),
        client_ip: None,
        user_agent: None,
    };
    record_signature(conn, &actor, &c, &env, &slot, &turn, &evidence, now)?;
    store::envelope(conn, &env.id)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the envelope vanished")))
}

/// A signer declined at the provider: the envelope ends and everyone is told, as a decline on the
/// page does. Returns the envelope after it.
pub fn record_provider_decline(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    r: &ProviderResult,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<EnvelopeRow, AppError> {
    let (c, env, signers, slot) = provider_slot(conn, rulebooks, r)?;
    require_sent(&env)?;
    let digest = r.digest.trim().to_ascii_lowercase();
    if digest != env.digest {
        let mut f = Refusal::precondition(crate::msg!(
            "signing_digest_mismatch",
            number = u32::try_from(r.version).unwrap_or(0)
        ));
        f.field = Some("digest".into());
        return Err(f.into());
    }
    let actor = provider_actor(r.provider);
    end_declined(
        conn,
        &actor,
        &c,
        &env,
        &signers,
        &slot,
        reason,
        json!({"provider": r.provider, "provider_reference": r.provider_reference}),
        now,
    )
}

/// A party declines with a reason: the envelope ends and everyone is told; negotiation resumes on a
/// new version.
#[allow(clippy::too_many_arguments)]
pub fn decline(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    number: i32,
    input: DeclineInput,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<EnvelopeView, AppError> {
    let reason = crate::domain::text::parse_text(&input.reason, 5_000)
        .map_err(|m| AppError::invalid("reason", crate::msg!("text", reason = m)))?;
    if reason.trim().is_empty() {
        return Err(AppError::invalid("reason", crate::msg!("required.field")));
    }
    lock(conn, id)?;
    let c = super::collaborations::visible(conn, rulebooks, actor, id)?;
    version(conn, &c, number)?;
    let env = store::latest_envelope(conn, c.id.as_str(), number)?
        .ok_or_else(|| AppError::NotFound(crate::msg!("thing.envelope")))?;
    let signers = store::signers(conn, &env.id)?;
    let Some(slot) = slot_of(conn, actor, &signers)? else {
        return Err(no_slot(actor, &signers));
    };
    let slot = slot.clone();
    require_sent(&env)?;
    let env = end_declined(
        conn,
        actor,
        &c,
        &env,
        &signers,
        &slot,
        &reason,
        json!({}),
        now,
    )?;
    view_of(conn, actor, &c, env, lang)
}

/// Refused unless the envelope is out for signing.
fn require_sent(env: &EnvelopeRow) -> Result<(), AppError> {
    match status_of(env)? {
        EnvelopeStatus::Sent => Ok(()),
        other => Err(Refusal::precondition(crate::msg!(
            "signing_not_open",
            status = other.words()
        ))
        .into()),
    }
}

/// A signer's decline, by the built-in method or a provider: the slot declined, the envelope
/// ended, the audit event (with `extra` fields) and everyone told. Returns the ended envelope.
#[allow(clippy::too_many_arguments)]
fn end_declined(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    env: &EnvelopeRow,
    signers: &[SignerRow],
    slot: &SignerRow,
    reason: &str,
    extra: Value,
    now: DateTime<Utc>,
) -> Result<EnvelopeRow, AppError> {
    store::mark_signer(conn, &slot.id, "declined", actor.account.as_str(), now)?;
    store::end(conn, &env.id, "declined", "declined", Some(reason), now)?;
    let mut after = json!({"envelope": env.id, "agreement_version": env.version,
                           "signer": slot.id, "organisation": slot.organisation_id,
                           "reason": reason});
    if let (Some(o), Value::Object(more)) = (after.as_object_mut(), extra) {
        o.extend(more);
    }
    record_case_event(
        conn,
        actor,
        c.id.as_str(),
        EventType::EnvelopeDeclined,
        None,
        after,
        now,
    )?;
    let orgs = everyone(signers)?;
    tell(
        conn,
        c,
        env,
        &orgs,
        "envelope_declined",
        super::notify::KIND_NOTICE,
        None,
        json!({"organisation_name": slot.organisation_name, "reason": reason}),
        now,
    )?;
    store::envelope(conn, &env.id)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the envelope vanished")))
}

/// What the seal job needs of a completed envelope, read in one read transaction: the version's
/// stored PDF and the certificate of completion to append (issue 14, "Executed agreement": agreement,
/// version, digest, file hashes, each signer with party, capacity, method, level, times, IP).
/// `None` when there is nothing to seal: the envelope is gone, not completed, or already sealed.
pub struct SealInput {
    pub envelope_id: String,
    pub collaboration_id: String,
    pub version: i32,
    pub pdf: Vec<u8>,
    pub certificate: crate::render::seal::CompletionCertificate,
}

pub fn seal_input(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    envelope: &str,
) -> Result<Option<SealInput>, AppError> {
    use crate::render::seal::{CertificateSigner, CompletionCertificate};
    let Some(env) = store::envelope(conn, envelope)? else {
        return Ok(None);
    };
    if env.status != "completed" || env.executed_pdf.is_some() {
        return Ok(None);
    }
    let cid = CollaborationId::parse(&env.collaboration_id).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "stored collaboration id {:?}",
            env.collaboration_id
        ))
    })?;
    let (c, _) = repo::load_collaboration(conn, rulebooks, &cid)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the envelope's case is gone")))?;
    let number = env.version;
    let stored = super::agreements::stored_for_seal(conn, c.id.as_str(), number)?;
    let signers = store::signers(conn, &env.id)?;
    let evidence = store::evidence(conn, &env.id)?;
    let lang = stored.lang;
    let party = |code: &str| match (code, lang) {
        ("research_principal", Lang::Sv) => "Forskningshuvudman",
        ("research_principal", Lang::En) => "Research principal",
        ("company", Lang::Sv) => "Företag",
        ("company", Lang::En) => "Company",
        (_, Lang::Sv) => "Personuppgiftsansvarig myndighet (CPUA)",
        (_, Lang::En) => "Responsible authority (CPUA)",
    };
    let certificate = CompletionCertificate {
        lang,
        title: c.title.clone(),
        reference: c.reference.clone(),
        version: u32::try_from(number).unwrap_or(0),
        digest: env.digest.clone(),
        file_hashes: stored.file_hashes,
        signers: evidence
            .iter()
            .map(|e| CertificateSigner {
                name: e.name.clone(),
                party: format!(
                    "{} ({})",
                    party(
                        signers
                            .iter()
                            .find(|s| s.id == e.signer_id)
                            .map(|s| s.party_role.as_str())
                            .unwrap_or("cpua")
                    ),
                    e.organisation_name
                ),
                capacity: e.capacity.clone(),
                method: e.method.clone(),
                level: e.level.clone(),
                signed_at: utc(e.server_time),
                ip: e.client_ip.clone().unwrap_or_else(|| "-".into()),
            })
            .collect(),
    };
    Ok(Some(SealInput {
        envelope_id: env.id,
        collaboration_id: c.id.as_str().to_string(),
        version: number,
        pdf: stored.pdf,
        certificate,
    }))
}

/// Stores a sealed executed agreement (in a short write transaction of its own, after the seal was
/// made outside any): the PDF, its SHA-256 and the fingerprint of the seal certificate, that
/// certificate among the installation's known seal certificates, the job done, and the
/// `executed_agreement_sealed` audit event. Refused (nothing written) when `owner` no longer holds
/// the job's lease: another instance took it over.
#[allow(clippy::too_many_arguments)]
pub fn store_seal(
    conn: &mut DbConn,
    input: &SealInput,
    owner: &str,
    executed: &[u8],
    key: &crate::render::seal::SealKey,
    timestamped: bool,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    lock(conn, &input.collaboration_id)?;
    if !store::seal_job_done(conn, &input.envelope_id, owner, now)? {
        return Err(AppError::RaceLost(crate::msg!("race_lost.collaboration")));
    }
    let sha = crate::domain::audit::sha256_hex(executed);
    let cert = key.certificate_sha256();
    store::record_seal_certificate(conn, &cert, key.certificate_der(), &key.organisation(), now)?;
    if !store::set_executed_pdf(conn, &input.envelope_id, executed, &sha, &cert)? {
        // Sealed already (or no longer completed): the stored one stays, nothing else is written.
        return Err(AppError::RaceLost(crate::msg!("race_lost.collaboration")));
    }
    record_case_event(
        conn,
        &super::audit::system_actor(),
        &input.collaboration_id,
        EventType::ExecutedAgreementSealed,
        None,
        json!({"envelope": input.envelope_id, "agreement_version": input.version,
               "executed_pdf_sha256": sha, "seal_certificate_sha256": cert,
               "timestamp": timestamped}),
        now,
    )?;
    Ok(sha)
}

/// The SHA-256 of an envelope's executed PDF, once its seal is stored.
pub fn executed_pdf_sha256(conn: &mut DbConn, envelope: &str) -> Result<Option<String>, AppError> {
    Ok(store::envelope(conn, envelope)?.and_then(|e| e.executed_pdf_sha256))
}

/// The sealed executed agreement of a version: refused until the envelope is completed, and until
/// the seal is written ("never served before its seal is written").
pub fn executed_pdf(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    actor: &Actor,
    id: &str,
    number: i32,
) -> Result<(Vec<u8>, String), AppError> {
    let c = super::collaborations::visible(conn, rulebooks, actor, id)?;
    let v = version(conn, &c, number)?;
    let env = store::latest_envelope(conn, c.id.as_str(), number)?;
    let n = u32::try_from(number).unwrap_or(0);
    match env {
        Some(e) if status_of(&e)? == EnvelopeStatus::Completed && e.digest == v.digest => {
            match (e.executed_pdf, e.executed_pdf_sha256) {
                (Some(pdf), Some(sha)) => Ok((pdf, sha)),
                _ => Err(
                    Refusal::precondition(crate::msg!("executed_pdf_sealing", number = n)).into(),
                ),
            }
        }
        _ => Err(
            Refusal::precondition(crate::msg!("agreement_not_executed", number = n))
                .missing(["envelope.completed"])
                .into(),
        ),
    }
}

fn evidence_view(e: &EvidenceRow) -> EvidenceView {
    EvidenceView {
        method: e.method.clone(),
        level: e.level.clone(),
        provider: e.provider.clone(),
        subject: e.subject.clone(),
        auth_time: e.auth_time.map(utc),
        acr: e.acr.clone(),
        amr: e.amr.clone(),
        name: e.name.clone(),
        email: e.email.clone(),
        organisation_name: e.organisation_name.clone(),
        capacity: e.capacity.clone(),
        consent_version: e.consent_version.clone(),
        consent_language: e.consent_language.clone(),
        consent_sha256: e.consent_sha256.clone(),
        digest: e.digest.clone(),
        server_time: utc(e.server_time),
        client_ip: e.client_ip.clone(),
        user_agent: e.user_agent.clone(),
    }
}

fn view_of(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
    env: EnvelopeRow,
    lang: Lang,
) -> Result<EnvelopeView, AppError> {
    let signers = store::signers(conn, &env.id)?;
    let evidence = store::evidence(conn, &env.id)?;
    let party_rules = rules_of(conn, &env.id)?;
    let open = env.status == "sent";
    let turn: Vec<String> = if open {
        in_turn(&signers).iter().map(|s| s.id.clone()).collect()
    } else {
        vec![]
    };
    let consent = if open {
        match slot_of(conn, actor, &signers) {
            Ok(Some(s)) if turn.contains(&s.id) => Some(consent_for(c, &env, s, &actor.name, lang)),
            _ => None,
        }
    } else {
        None
    };
    Ok(EnvelopeView {
        executed_pdf_url: format!(
            "/api/v1/collaborations/{}/agreements/{}/executed.pdf",
            c.id.as_str(),
            env.version
        ),
        id: env.id.clone(),
        collaboration_id: env.collaboration_id.clone(),
        version: env.version,
        digest: env.digest.clone(),
        status: env.status.clone(),
        order: env.order_mode.clone(),
        created_at: utc(env.created_at),
        sent_at: env.sent_at.map(utc),
        expires_at: utc(env.expires_at),
        completed_at: env.completed_at.map(utc),
        ended_at: env.ended_at.map(utc),
        end_reason: env.end_reason.clone(),
        decline_reason: env.decline_reason.clone(),
        reminders_sent: env.reminders_sent,
        signers: signers
            .iter()
            .map(|s| SignerView {
                id: s.id.clone(),
                position: s.position,
                party: s.party_role.clone(),
                organisation: s.organisation_id.clone(),
                organisation_name: s.organisation_name.clone(),
                name: s.signer_name.clone(),
                email: s.signer_email.clone(),
                capacity: s.capacity.clone(),
                group: s.turn_group,
                status: s.status.clone(),
                party_rule: party_rules
                    .get(&s.organisation_id)
                    .copied()
                    .unwrap_or_default()
                    .code()
                    .to_string(),
                signed_at: s.signed_at.map(utc),
                evidence: evidence
                    .iter()
                    .find(|e| e.signer_id == s.id)
                    .map(evidence_view),
            })
            .collect(),
        turn,
        consent,
        executed_pdf_sha256: env.executed_pdf_sha256.clone(),
    })
}

/// Days between reminders, and how many at most (issue 14, "Reminders").
pub const REMINDER_EVERY_DAYS: i64 = 5;
pub const REMINDERS_AT_MOST: i32 = 5;

/// How many reminders are due after `elapsed` since sending: one after 5 days, then every 5, at most 5.
pub fn reminders_due(elapsed: Duration) -> i32 {
    let n = elapsed.num_days() / REMINDER_EVERY_DAYS;
    i32::try_from(n.clamp(0, i64::from(REMINDERS_AT_MOST))).unwrap_or(REMINDERS_AT_MOST)
}

/// The scheduler's work on one sent envelope: expire it when past its expiry (everyone told), else
/// write the reminders due to those whose turn it is. Returns how many rows it wrote.
pub fn tick(
    conn: &mut DbConn,
    rulebooks: &RulebookSet,
    envelope: &str,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let Some(env) = store::envelope(conn, envelope)? else {
        return Ok(0);
    };
    lock(conn, &env.collaboration_id)?;
    let Some(env) = store::envelope(conn, envelope)? else {
        return Ok(0);
    };
    if env.status != "sent" {
        return Ok(0);
    }
    let Some(cid) = CollaborationId::parse(&env.collaboration_id) else {
        return Ok(0);
    };
    let Some((c, _)) = repo::load_collaboration(conn, rulebooks, &cid)? else {
        return Ok(0);
    };
    let signers = store::signers(conn, &env.id)?;
    let system = super::audit::system_actor();
    if now >= utc(env.expires_at) {
        store::end(conn, &env.id, "expired", "expired", None, now)?;
        record_case_event(
            conn,
            &system,
            c.id.as_str(),
            EventType::EnvelopeExpired,
            None,
            json!({"envelope": env.id, "agreement_version": env.version,
                   "expires_at": utc(env.expires_at)}),
            now,
        )?;
        let orgs = everyone(&signers)?;
        return tell(
            conn,
            &c,
            &env,
            &orgs,
            "envelope_expired",
            super::notify::KIND_NOTICE,
            None,
            json!({}),
            now,
        );
    }
    let sent = env.sent_at.map(utc).unwrap_or(now);
    let due = reminders_due(now - sent);
    if due <= env.reminders_sent {
        return Ok(0);
    }
    store::set_reminders(conn, &env.id, due)?;
    let orgs = turn_orgs(&signers)?;
    tell(
        conn,
        &c,
        &env,
        &orgs,
        "signing_reminder",
        super::notify::KIND_DEADLINE,
        Some(&format!("signing_reminder:{}:{due}", env.id)),
        json!({"reminder": due}),
        now,
    )
}

/// Issue 16 (to-do): the sent envelope of the case whose turn is the actor's, as the day it expires
/// and the version number; empty when the actor signs nothing now.
pub fn awaiting_signature(
    conn: &mut DbConn,
    actor: &Actor,
    c: &Collaboration,
) -> Result<Vec<(Option<chrono::NaiveDate>, i32)>, AppError> {
    let Some(env) = store::open_envelope(conn, c.id.as_str())? else {
        return Ok(vec![]);
    };
    if env.status != "sent" {
        return Ok(vec![]);
    }
    let signers = store::signers(conn, &env.id)?;
    for s in in_turn(&signers) {
        if authz::may_sign_for(
            actor,
            &OrgId::from_db(s.organisation_id.clone()),
            party_of(&s.party_role)?,
        ) {
            return Ok(vec![(Some(env.expires_at.date()), env.version)]);
        }
    }
    Ok(vec![])
}

/// An organisation's signing policy (issue 14, "Model": the expiry is "default 30 days,
/// configurable per CPUA").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SigningPolicyView {
    pub organisation: String,
    /// Days from sending an envelope this organisation is a CPUA party to until it expires.
    pub expiry_days: i64,
    /// Whether the organisation set it (else it is the default `signing.expiry_days`).
    pub own: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningPolicyInput {
    /// 1 to 365.
    pub expiry_days: i64,
}

/// The shortest and longest expiry a CPUA may set (days).
pub const EXPIRY_DAYS_MIN: i64 = 1;
pub const EXPIRY_DAYS_MAX: i64 = 365;

/// The organisation's signing policy as in force.
pub fn signing_policy(
    conn: &mut DbConn,
    policy: &Policy,
    actor: &Actor,
    org: &OrgId,
) -> Result<SigningPolicyView, AppError> {
    authz::may_set_signing_policy(actor, org)?;
    let own = store::policy_expiry_days(conn, org.as_str())?;
    Ok(SigningPolicyView {
        organisation: org.to_string(),
        expiry_days: own.map(i64::from).unwrap_or(policy.expiry_days),
        own: own.is_some(),
    })
}

/// A CPUA's administrator or legal team sets the expiry of the envelopes it is a party to; it is
/// used when an envelope is sent (with several CPUAs, the shortest).
pub fn set_signing_policy(
    conn: &mut DbConn,
    policy: &Policy,
    actor: &Actor,
    org: &OrgId,
    input: SigningPolicyInput,
    now: DateTime<Utc>,
) -> Result<SigningPolicyView, AppError> {
    authz::may_set_signing_policy(actor, org)?;
    if !(EXPIRY_DAYS_MIN..=EXPIRY_DAYS_MAX).contains(&input.expiry_days) {
        return Err(AppError::invalid(
            "expiry_days",
            crate::msg!(
                "signing_policy_days",
                min = EXPIRY_DAYS_MIN,
                max = EXPIRY_DAYS_MAX
            ),
        ));
    }
    let before = signing_policy(conn, policy, actor, org)?;
    let days = i32::try_from(input.expiry_days).unwrap_or(i32::MAX);
    store::set_policy_expiry_days(conn, org.as_str(), days, actor.account.as_str(), now)?;
    let after = signing_policy(conn, policy, actor, org)?;
    // On the organisation's own audit stream (as its webhook subscriptions), in the same
    // transaction: who set which expiry, and what it was before.
    let json = |v: &SigningPolicyView| serde_json::to_value(v).map_err(anyhow::Error::from);
    super::audit::record(
        conn,
        &super::webhooks_out::org_stream(org),
        actor,
        EventType::SigningPolicySet,
        Some(json(&before)?),
        Some(json(&after)?),
        now,
    )?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_expires_after_the_shortest_cpua_expiry_else_the_default() {
        // Pure part of `expiry_days`: the minimum over the CPUAs' own-or-default days.
        let pick = |own: &[Option<i64>], default: i64| {
            own.iter()
                .map(|d| d.unwrap_or(default))
                .min()
                .unwrap_or(default)
        };
        assert_eq!(pick(&[], 30), 30);
        assert_eq!(pick(&[Some(10)], 30), 10);
        assert_eq!(pick(&[Some(40), None], 30), 30);
        assert_eq!(pick(&[Some(40), Some(14)], 30), 14);
    }

    #[test]
    fn reminders_come_after_five_days_then_every_five_at_most_five() {
        let d = Duration::days;
        assert_eq!(reminders_due(d(4)), 0);
        assert_eq!(reminders_due(d(5)), 1);
        assert_eq!(reminders_due(d(9)), 1);
        assert_eq!(reminders_due(d(10)), 2);
        assert_eq!(reminders_due(d(25)), 5);
        assert_eq!(reminders_due(d(29)), 5);
        assert_eq!(reminders_due(d(400)), 5);
        assert_eq!(reminders_due(-d(1)), 0);
    }
}
