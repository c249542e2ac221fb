//! Signing the agreement (undertecknande), issue 14: the pure rules. Seed 001, "6. Avtal upprättas"
//! ends step 6 with an agreement between the parties; seed 000, "Forskningssamarbete med industrin": with
//! industry it is an agreement between the register's CPUA, the research principal and the company, so
//! each of them signs, and (DOMAIN.md, "Several CPUAs in one agreement") every CPUA that is a party signs
//! for its registers. Seed 001, "7. Utlämnande av data": data are released after that agreement, so the
//! release guard asks for a fully executed agreement, computed from the stored evidence, never stored.
//!
//! Everything here is plain data in, a verdict out: the order of turns, whether one signature may be
//! given now, and whether a version is fully executed.
// A refusal is the lifecycle's own type, large by design (see `lifecycle`).
#![allow(clippy::result_large_err)]
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::agreement::data::PartyRole;
use super::agreement::evidence::AgreementVersionEvidence;
use super::collaboration::Collaboration;
use super::ids::OrgId;
use super::lifecycle::{Refusal, SEED_000, SEED_001};

pub mod consent;

/// Where an envelope is (kuvertets status): draft → sent → completed | declined | expired | voided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeStatus {
    Draft,
    Sent,
    Completed,
    Declined,
    Expired,
    Voided,
}

impl EnvelopeStatus {
    pub const ALL: [EnvelopeStatus; 6] = [
        EnvelopeStatus::Draft,
        EnvelopeStatus::Sent,
        EnvelopeStatus::Completed,
        EnvelopeStatus::Declined,
        EnvelopeStatus::Expired,
        EnvelopeStatus::Voided,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EnvelopeStatus::Draft => "draft",
            EnvelopeStatus::Sent => "sent",
            EnvelopeStatus::Completed => "completed",
            EnvelopeStatus::Declined => "declined",
            EnvelopeStatus::Expired => "expired",
            EnvelopeStatus::Voided => "voided",
        }
    }

    /// Parses a stored code; an unknown one is `None` (the caller fails with the cause).
    pub fn parse(s: &str) -> Option<EnvelopeStatus> {
        EnvelopeStatus::ALL.into_iter().find(|x| x.code() == s)
    }

    /// The status in words, Swedish and English, for a message (never the code).
    pub fn words(self) -> crate::domain::messages::Arg {
        let (sv, en) = match self {
            EnvelopeStatus::Draft => ("ett utkast som inte är skickat", "a draft not yet sent"),
            EnvelopeStatus::Sent => ("skickat för underskrift", "sent for signature"),
            EnvelopeStatus::Completed => (
                "redan undertecknat av alla parter",
                "already signed by every party",
            ),
            EnvelopeStatus::Declined => ("avböjt av en part", "declined by a party"),
            EnvelopeStatus::Expired => ("utgånget", "expired"),
            EnvelopeStatus::Voided => ("makulerat", "voided"),
        };
        crate::domain::messages::Arg::both(sv, en)
    }

    /// Still open: a draft being prepared or sent and waiting for signatures.
    pub fn is_open(self) -> bool {
        matches!(self, EnvelopeStatus::Draft | EnvelopeStatus::Sent)
    }
}

/// The longest signatory name accepted.
pub const SIGNATORY_NAME_MAX: usize = 200;

/// A named signatory's full name (issue 14, "Signers": the behörig företrädare who signs a party's
/// slot): one line, trimmed, not empty, at most [`SIGNATORY_NAME_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatoryName(String);

impl SignatoryName {
    /// Parses a name; the reason names what is wrong (catalogue `text.*`, `max_length`).
    pub fn parse(s: &str) -> Result<SignatoryName, super::messages::Message> {
        super::text::parse_line(s, SIGNATORY_NAME_MAX).map(SignatoryName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The order in which the parties sign (ordning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderMode {
    /// The research principal and the company in parallel, then the CPUA(s): the authority signs last
    /// and completes execution.
    #[default]
    Default,
    /// Everyone at once.
    Parallel,
    /// One signer after the other: the principal, the company, then each CPUA.
    Sequence,
}

impl OrderMode {
    pub const ALL: [OrderMode; 3] = [OrderMode::Default, OrderMode::Parallel, OrderMode::Sequence];

    pub fn code(self) -> &'static str {
        match self {
            OrderMode::Default => "default",
            OrderMode::Parallel => "parallel",
            OrderMode::Sequence => "sequence",
        }
    }

    pub fn parse(s: &str) -> Option<OrderMode> {
        OrderMode::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// How a party with several listed signatories signs (issue 14, "Signers": "where a party needs two
/// signatories jointly or one of several, say so").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyRule {
    /// Jointly (i förening): every listed signatory signs.
    #[default]
    All,
    /// One of several (var för sig): the first listed signatory to sign satisfies the party; the
    /// others' turns end.
    Any,
}

impl PartyRule {
    pub const ALL: [PartyRule; 2] = [PartyRule::All, PartyRule::Any];

    pub fn code(self) -> &'static str {
        match self {
            PartyRule::All => "all",
            PartyRule::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<PartyRule> {
        PartyRule::ALL.into_iter().find(|x| x.code() == s)
    }

    /// Whether a party's signatories, each with the digest its signature carries (none yet), meet
    /// this rule for `digest`: every one of them (`all`) or at least one (`any`). A party without
    /// signatories never does.
    pub fn met(self, signed: &[Option<&str>], digest: &str) -> bool {
        let carries = |d: &Option<&str>| *d == Some(digest);
        !signed.is_empty()
            && match self {
                PartyRule::All => signed.iter().all(carries),
                PartyRule::Any => signed.iter().any(carries),
            }
    }
}

/// Where a party comes in the sequence: the principal, the company, then the CPUAs.
fn party_rank(role: PartyRole) -> u32 {
    match role {
        PartyRole::ResearchPrincipal => 0,
        PartyRole::Company => 1,
        PartyRole::Cpua => 2,
    }
}

/// The turn group of each signer, in the order given (signers of one party next to each other). A
/// lower group signs first; signers of one group sign in any order among themselves.
pub fn turn_groups(mode: OrderMode, parties: &[PartyRole]) -> Vec<u32> {
    match mode {
        OrderMode::Parallel => vec![0; parties.len()],
        OrderMode::Default => parties
            .iter()
            .map(|p| u32::from(*p == PartyRole::Cpua))
            .collect(),
        OrderMode::Sequence => {
            // Stable by party rank, then by position: each signer its own turn.
            let mut idx: Vec<usize> = (0..parties.len()).collect();
            idx.sort_by_key(|&i| (party_rank(parties[i]), i));
            let mut groups = vec![0; parties.len()];
            for (turn, i) in idx.into_iter().enumerate() {
                groups[i] = u32::try_from(turn).unwrap_or(u32::MAX);
            }
            groups
        }
    }
}

/// The group whose turn it is: the lowest group with a signer still to sign; `None` when all signed.
pub fn current_group(signers: impl IntoIterator<Item = (u32, bool)>) -> Option<u32> {
    signers
        .into_iter()
        .filter(|(_, signed)| !signed)
        .map(|(g, _)| g)
        .min()
}

/// What the evidence says of one signer slot of an envelope: its party and the digest its signature
/// carries (none yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerFacts {
    pub org: OrgId,
    pub signed_digest: Option<String>,
    /// The party's name as the envelope holds it, for refusals in words (empty: the id is used).
    #[serde(default)]
    pub name: String,
}

/// The newest envelope of a version, as the release guard reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub status: EnvelopeStatus,
    /// The digest the envelope was drawn for.
    pub digest: String,
    pub signers: Vec<SignerFacts>,
    /// Whether the executed PDF (the version's PDF, a certificate of completion and the
    /// organisation's seal) is stored and its bytes still hash to the hash stored with it.
    #[serde(default)]
    pub sealed: bool,
    /// Each party's rule; a party not named signs jointly (`all`).
    #[serde(default)]
    pub party_rules: BTreeMap<OrgId, PartyRule>,
}

/// One attempt to sign, with everything the rule looks at.
#[derive(Debug, Clone)]
pub struct SignAttempt<'a> {
    pub now: DateTime<Utc>,
    pub version: u32,
    pub status: EnvelopeStatus,
    pub expires_at: DateTime<Utc>,
    /// Whether a newer agreement version exists than the envelope's.
    pub newer_version: bool,
    pub envelope_digest: &'a str,
    /// The digest the signer was shown and sends back.
    pub shown_digest: &'a str,
    pub signer_group: u32,
    pub current_group: Option<u32>,
    /// The parties whose turn it is now, by name, for the refusal.
    pub waiting_for: Vec<String>,
    pub consent_version: &'a str,
    pub typed_name: &'a str,
    pub person_name: &'a str,
    /// When the person last proved who they are (the session's `auth_time`).
    pub auth_time: Option<DateTime<Utc>>,
    pub fresh_login_minutes: i64,
}

/// Names are compared as people type them: trimmed, inner whitespace collapsed, case ignored.
pub fn same_name(typed: &str, name: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    !typed.trim().is_empty() && norm(typed) == norm(name)
}

/// Whether one signature may be given now (issue 14, "Signing"): the envelope is sent and unexpired,
/// no newer version exists, the digest is the envelope's, it is the signer's turn, the consent text is
/// the current one, the login is fresh, and the typed name is the person's. Checked in that order, so
/// the refusal names the first rule broken.
pub fn check_signature(a: &SignAttempt) -> Result<(), Refusal> {
    check_envelope(a)?;
    check_signer_consent(a)
}

/// The rules every signature meets whatever its method (a provider's too): the envelope is sent and
/// unexpired, no newer version exists, the digest is the envelope's and it is the signer's turn, in
/// that order. The built-in method's own rules (consent text, fresh login, typed name) are
/// [`check_signature`]'s; an external provider attests to its signer itself.
pub fn check_envelope(a: &SignAttempt) -> Result<(), Refusal> {
    match a.status {
        EnvelopeStatus::Sent => {}
        EnvelopeStatus::Expired => return Err(expired(a.expires_at)),
        EnvelopeStatus::Voided => {
            return Err(Refusal::precondition(crate::msg!(
                "signing_superseded",
                number = a.version
            )))
        }
        other => {
            return Err(Refusal::precondition(crate::msg!(
                "signing_not_open",
                status = other.words()
            )))
        }
    }
    if a.now >= a.expires_at {
        return Err(expired(a.expires_at));
    }
    if a.newer_version {
        return Err(Refusal::precondition(crate::msg!(
            "signing_superseded",
            number = a.version
        )));
    }
    if a.shown_digest != a.envelope_digest {
        let mut r =
            Refusal::precondition(crate::msg!("signing_digest_mismatch", number = a.version));
        r.field = Some("digest".into());
        return Err(r);
    }
    if a.current_group != Some(a.signer_group) {
        return Err(Refusal::precondition(crate::msg!(
            "signing_not_your_turn",
            waiting = crate::domain::messages::Arg::all_of(a.waiting_for.clone())
        ))
        .missing(a.waiting_for.iter().map(|w| format!("signature.{w}"))));
    }
    Ok(())
}

fn check_signer_consent(a: &SignAttempt) -> Result<(), Refusal> {
    if a.consent_version != consent::CURRENT {
        return Err(Refusal::invalid(
            "consent_text_version",
            crate::msg!("signing_consent_outdated", current = consent::CURRENT),
        ));
    }
    let fresh = a
        .auth_time
        .is_some_and(|t| a.now - t <= Duration::minutes(a.fresh_login_minutes) && t <= a.now);
    if !fresh {
        return Err(Refusal::precondition(crate::msg!(
            "signing_fresh_login",
            minutes = a.fresh_login_minutes
        ))
        .missing(["fresh_login"]));
    }
    if !same_name(a.typed_name, a.person_name) {
        return Err(Refusal::invalid(
            "typed_name",
            crate::msg!("signing_name_mismatch"),
        ));
    }
    Ok(())
}

fn expired(at: DateTime<Utc>) -> Refusal {
    Refusal::precondition(crate::msg!(
        "signing_expired",
        expires = at
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    ))
}

/// Whether a version is fully executed: its newest envelope completed for the version's own digest and
/// every party's signers carrying that digest (issue 14, "The release guard"). Computed from the
/// evidence each time, never stored.
pub fn executed(v: &AgreementVersionEvidence) -> Result<(), Refusal> {
    let number = v.number;
    let src = |r: Refusal| r.source(SEED_001, "6. Avtal upprättas");
    let Some(e) = &v.execution else {
        return Err(src(Refusal::precondition(crate::msg!(
            "agreement_not_executed",
            number = number
        ))
        .missing(["envelope"])));
    };
    if e.status != EnvelopeStatus::Completed {
        return Err(src(Refusal::precondition(crate::msg!(
            "agreement_not_executed.status",
            number = number,
            status = e.status.words()
        ))
        .missing(["envelope.completed"])));
    }
    if e.digest != v.digest {
        return Err(src(Refusal::precondition(crate::msg!(
            "agreement_not_executed.digest",
            number = number
        ))));
    }
    let mut unsigned: BTreeSet<&OrgId> = BTreeSet::new();
    for party in &v.parties {
        let mine: Vec<Option<&str>> = e
            .signers
            .iter()
            .filter(|s| &s.org == party)
            .map(|s| s.signed_digest.as_deref())
            .collect();
        let rule = e.party_rules.get(party).copied().unwrap_or_default();
        if !rule.met(&mine, &v.digest) {
            unsigned.insert(party);
        }
    }
    if !unsigned.is_empty() {
        let orgs: Vec<(String, String)> = unsigned
            .iter()
            .map(|o| {
                let name = e
                    .signers
                    .iter()
                    .find(|s| &s.org == *o && !s.name.is_empty())
                    .map_or_else(|| o.to_string(), |s| s.name.clone());
                (o.to_string(), name)
            })
            .collect();
        return Err(unsigned_parties(number, orgs));
    }
    // Issue 14, "The release guard": fully executed means sealed too.
    if !e.sealed {
        return Err(src(Refusal::precondition(crate::msg!(
            "agreement_not_executed.seal",
            number = number
        ))
        .missing(["envelope.executed_pdf"])));
    }
    Ok(())
}

/// The refusal naming the parties (by name) whose signature carrying the version's digest is
/// missing; `missing` lists them by id. `orgs` is (id, name).
fn unsigned_parties(number: u32, orgs: Vec<(String, String)>) -> Refusal {
    Refusal::precondition(crate::msg!(
        "agreement_not_executed.party",
        number = number,
        parties = crate::domain::messages::Arg::all_of(orgs.iter().map(|(_, n)| n.clone()))
    ))
    .source(SEED_001, "6. Avtal upprättas")
    .source(SEED_000, "Forskningssamarbete med industrin")
    .missing(orgs.into_iter().map(|(id, _)| format!("signature.{id}")))
}

/// The release guard (seed 001, "7. Utlämnande av data", after the agreement of step 6): the recorded
/// agreement names a stored version whose digest is still the recorded one and which is fully
/// executed. `v` is that version's evidence as stored now.
pub fn release_guard(
    c: &Collaboration,
    v: Option<&AgreementVersionEvidence>,
) -> Result<(), Refusal> {
    let Some(a) = &c.agreement else {
        // The step guard refuses a release before the agreement; nothing more to say here.
        return Ok(());
    };
    let v = v.filter(|v| v.number == a.version).ok_or_else(|| {
        Refusal::precondition(crate::msg!("agreement_not_executed", number = a.version))
            .source(SEED_001, "7. Utlämnande av data")
            .missing(["envelope"])
    })?;
    if v.digest != a.digest {
        return Err(Refusal::precondition(crate::msg!(
            "agreement_not_executed.digest",
            number = a.version
        ))
        .source(SEED_001, "7. Utlämnande av data"));
    }
    executed(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn org(n: u8) -> OrgId {
        OrgId::from_db(format!("org-{n}"))
    }

    fn version(execution: Option<Execution>) -> AgreementVersionEvidence {
        AgreementVersionEvidence {
            number: 2,
            digest: "d2".into(),
            clauses: BTreeSet::new(),
            weakened_clauses: BTreeSet::new(),
            cpua_parties: [org(3)].into(),
            parties: [org(1), org(2), org(3)].into(),
            amendment: None,
            is_latest: true,
            term_end: None,
            delete_within_days: None,
            execution,
        }
    }

    fn signed(o: u8, d: Option<&str>) -> SignerFacts {
        SignerFacts {
            org: org(o),
            signed_digest: d.map(str::to_string),
            name: format!("Org {o}"),
        }
    }

    fn completed(signers: Vec<SignerFacts>) -> Execution {
        Execution {
            status: EnvelopeStatus::Completed,
            digest: "d2".into(),
            signers,
            sealed: true,
            party_rules: BTreeMap::new(),
        }
    }

    #[test]
    fn a_signed_version_is_executed_only_once_sealed() {
        // Issue 14, "The release guard": the latest envelope completed, every party's evidence
        // carrying the digest, and the seal there.
        let all = || {
            vec![
                signed(1, Some("d2")),
                signed(2, Some("d2")),
                signed(3, Some("d2")),
            ]
        };
        assert!(executed(&version(Some(completed(all())))).is_ok());
        let mut unsealed = completed(all());
        unsealed.sealed = false;
        let r = executed(&version(Some(unsealed))).unwrap_err();
        assert_eq!(r.message.id(), "agreement_not_executed.seal");
        assert_eq!(r.missing, vec!["envelope.executed_pdf"]);
    }

    #[test]
    fn by_default_principal_and_company_sign_together_and_the_cpua_last() {
        // Issue 14, "Order": the authority signs last and completes execution.
        use PartyRole::*;
        assert_eq!(
            turn_groups(
                OrderMode::Default,
                &[Cpua, ResearchPrincipal, Company, Cpua]
            ),
            vec![1, 0, 0, 1]
        );
        assert_eq!(
            turn_groups(OrderMode::Parallel, &[Cpua, Company]),
            vec![0, 0]
        );
        assert_eq!(
            turn_groups(
                OrderMode::Sequence,
                &[Cpua, Company, ResearchPrincipal, Cpua]
            ),
            vec![2, 1, 0, 3]
        );
    }

    #[test]
    fn a_signatory_name_is_one_bounded_line() {
        assert_eq!(
            SignatoryName::parse("  Łukasz Nguyễn ").map(SignatoryName::into_string),
            Ok("Łukasz Nguyễn".to_string())
        );
        assert!(SignatoryName::parse("   ").is_err());
        assert!(SignatoryName::parse("a\nb").is_err());
        assert!(SignatoryName::parse(&"x".repeat(SIGNATORY_NAME_MAX + 1)).is_err());
        assert!(SignatoryName::parse(&"x".repeat(SIGNATORY_NAME_MAX)).is_ok());
    }

    #[test]
    fn the_turn_is_the_lowest_group_with_a_signer_left() {
        assert_eq!(current_group([(0, false), (0, true), (1, false)]), Some(0));
        assert_eq!(current_group([(0, true), (0, true), (1, false)]), Some(1));
        assert_eq!(current_group([(0, true), (1, true)]), None);
    }

    fn attempt<'a>() -> SignAttempt<'a> {
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
        SignAttempt {
            now,
            version: 2,
            status: EnvelopeStatus::Sent,
            expires_at: now + Duration::days(30),
            newer_version: false,
            envelope_digest: "d2",
            shown_digest: "d2",
            signer_group: 0,
            current_group: Some(0),
            waiting_for: vec!["Region Uppsala".into()],
            consent_version: consent::CURRENT,
            typed_name: "  karin  FÖRETAGSSON ",
            person_name: "Karin Företagsson",
            auth_time: Some(now - Duration::minutes(3)),
            fresh_login_minutes: 15,
        }
    }

    fn rule(a: &SignAttempt) -> &'static str {
        check_signature(a).err().map_or("ok", |r| r.rule)
    }

    #[test]
    fn a_signature_is_refused_naming_each_rule_it_breaks() {
        assert_eq!(rule(&attempt()), "ok");
        let a = attempt();
        assert_eq!(
            rule(&SignAttempt {
                status: EnvelopeStatus::Draft,
                ..a.clone()
            }),
            "signing_not_open"
        );
        assert_eq!(
            rule(&SignAttempt {
                now: a.expires_at,
                ..a.clone()
            }),
            "signing_expired"
        );
        assert_eq!(
            rule(&SignAttempt {
                newer_version: true,
                ..a.clone()
            }),
            "signing_superseded"
        );
        assert_eq!(
            rule(&SignAttempt {
                shown_digest: "d1",
                ..a.clone()
            }),
            "signing_digest_mismatch"
        );
        assert_eq!(
            rule(&SignAttempt {
                signer_group: 1,
                ..a.clone()
            }),
            "signing_not_your_turn"
        );
        assert_eq!(
            rule(&SignAttempt {
                consent_version: "sv-0",
                ..a.clone()
            }),
            "signing_consent_outdated"
        );
        assert_eq!(
            rule(&SignAttempt {
                auth_time: Some(a.now - Duration::minutes(16)),
                ..a.clone()
            }),
            "signing_fresh_login"
        );
        assert_eq!(
            rule(&SignAttempt {
                auth_time: None,
                ..a.clone()
            }),
            "signing_fresh_login"
        );
        assert_eq!(
            rule(&SignAttempt {
                typed_name: "Karin",
                ..a.clone()
            }),
            "signing_name_mismatch"
        );
    }

    #[test]
    fn a_version_is_executed_only_when_completed_and_every_party_signed_its_digest() {
        assert_eq!(
            executed(&version(None)).unwrap_err().rule,
            "agreement_not_executed"
        );
        let all = || {
            vec![
                signed(1, Some("d2")),
                signed(2, Some("d2")),
                signed(3, Some("d2")),
            ]
        };
        assert!(executed(&version(Some(completed(all())))).is_ok());
        let mut sent = completed(all());
        sent.status = EnvelopeStatus::Sent;
        let r = executed(&version(Some(sent))).unwrap_err();
        assert_eq!(r.message.id(), "agreement_not_executed.status");
        // Evidence carrying another version's digest does not count.
        let r = executed(&version(Some(completed(vec![
            signed(1, Some("d2")),
            signed(2, Some("d1")),
            signed(3, Some("d2")),
        ]))))
        .unwrap_err();
        assert_eq!(r.message.id(), "agreement_not_executed.party");
        assert_eq!(r.missing, vec!["signature.org-2"]);
        // In words, the party's name, not its id.
        let en = r.message.render(crate::domain::lang::Lang::En);
        assert!(en.contains("Org 2") && !en.contains("org-2"), "{en}");
        // A party with no signer at all is not executed either.
        let r = executed(&version(Some(completed(vec![
            signed(1, Some("d2")),
            signed(3, Some("d2")),
        ]))))
        .unwrap_err();
        assert_eq!(r.missing, vec!["signature.org-2"]);
        // An envelope drawn for another digest than the version's stored one.
        let mut other = completed(all());
        other.digest = "d1".into();
        assert_eq!(
            executed(&version(Some(other))).unwrap_err().message.id(),
            "agreement_not_executed.digest"
        );
    }

    #[test]
    fn a_party_signing_jointly_needs_every_listed_signatory() {
        // Issue 14, "Signers": two signatories jointly (i förening): both must carry the digest.
        let rule = PartyRule::All;
        assert!(rule.met(&[Some("d2"), Some("d2")], "d2"));
        assert!(!rule.met(&[Some("d2"), None], "d2"));
        assert!(!rule.met(&[Some("d2"), Some("d1")], "d2"));
        assert!(!rule.met(&[], "d2"));
        // In the release guard: org-2 lists two signatories, only one signed.
        let r = executed(&version(Some(completed(vec![
            signed(1, Some("d2")),
            signed(2, Some("d2")),
            signed(2, None),
            signed(3, Some("d2")),
        ]))))
        .unwrap_err();
        assert_eq!(r.missing, vec!["signature.org-2"]);
    }

    #[test]
    fn a_party_with_one_of_several_signatories_is_met_by_the_first_to_sign() {
        // Issue 14, "Signers": one of several (var för sig): one signature with the digest suffices,
        // but a signature carrying another digest does not.
        let rule = PartyRule::Any;
        assert!(rule.met(&[None, Some("d2")], "d2"));
        assert!(!rule.met(&[None, None], "d2"));
        assert!(!rule.met(&[Some("d1"), None], "d2"));
        assert!(!rule.met(&[], "d2"));
        let mut e = completed(vec![
            signed(1, Some("d2")),
            signed(2, None),
            signed(2, Some("d2")),
            signed(3, Some("d2")),
        ]);
        assert!(
            executed(&version(Some(e.clone()))).is_err(),
            "jointly by default"
        );
        e.party_rules.insert(org(2), PartyRule::Any);
        assert!(executed(&version(Some(e))).is_ok());
        assert_eq!(PartyRule::parse("any"), Some(PartyRule::Any));
        assert_eq!(PartyRule::parse("both"), None);
    }

    #[test]
    fn an_envelope_status_is_named_in_words_not_its_code() {
        // Issue 14, "Bad input": every refusal names the rule in the user's language.
        let mut a = attempt();
        a.status = EnvelopeStatus::Draft;
        let r = check_signature(&a).unwrap_err();
        let sv = r.message.render(crate::domain::lang::Lang::Sv);
        let en = r.message.render(crate::domain::lang::Lang::En);
        assert!(sv.contains("utkast") && !sv.contains("draft"), "{sv}");
        assert!(en.contains("a draft not yet sent"), "{en}");
    }
}
