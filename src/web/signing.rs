//! Signing pages (underskrift, issue 14): the envelope of one agreement version in words, and its
//! three forms — CPUA legal drafts and sends it, the signer whose turn it is signs (typed name and
//! consent), any party declines with a reason.
//!
//! - Every form calls the API's own command (`app::signing::prepare`, `sign`, `decline`) with the
//!   API's own input types, `Policy` and `RequestFacts` (`crate::http::signing_api::{policy, facts}`):
//!   no second write path.
//! - A form is offered only when the server would take it: the draft form to the legal team of a CPUA
//!   party (`app::signing::may_prepare`), the sign form when the envelope's `consent` says it is the
//!   reader's turn, the decline form to a party with a pending signature of a sent envelope.
//! - Refusals (digest changed, not your turn, expired, superseded, wrong name, a sign-in too old) come
//!   back as this page with 422, the summary and each message at its field. A sign-in too old says
//!   how to sign in again (seed 001, "6. Avtal upprättas": each party signs the exact version; issue
//!   14, "Signing": the built-in signature needs a fresh sign-in).
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Serialize;

use super::form::{anchor, Entered, FieldMessage, Form, FormErrors};
use super::{PageEnv, PageError, PageResult};
use crate::app::agreements::AgreementVersionView;
use crate::app::signing::{self, DeclineInput, EnvelopeInput, EnvelopeView, SignatureInput};
use crate::app::AppError;
use crate::config::AuthMode;
use crate::domain::lang::Lang;

/// One signer as the page shows it.
#[derive(Serialize)]
struct SignerShown {
    party: String,
    organisation: String,
    capacity: String,
    status: String,
    signed_at: String,
    in_turn: bool,
    /// The party's rule in words, when it lists several signatories (jointly or one of several).
    rule: String,
}

/// The envelope in words.
#[derive(Serialize)]
struct EnvelopeShown {
    status: String,
    status_code: String,
    order: String,
    sent_at: String,
    expires_at: String,
    completed_at: String,
    decline_reason: String,
    signers: Vec<SignerShown>,
    /// The organisations whose turn it is.
    waiting: String,
    completed: bool,
    /// Completed but the seal is not written yet.
    sealing: bool,
    executed_pdf_url: String,
}

#[derive(Serialize, Default)]
struct PrepareForm {
    orders: Vec<OrderChoice>,
    /// The form's version: the draft as the form was made from it (a stale form is refused).
    version: String,
    /// A draft's signers, sent again (as edited) so that saving or sending keeps them.
    signers: Vec<KeptSigner>,
    /// The row that adds a signer to a draft, as `signers[<after the last>]`.
    add: Option<AddSigner>,
    /// The message of a refusal about the signers as a whole (a party left without a signer).
    signers_error: String,
    anchor_signers: String,
    /// Per party with more than one signer: jointly (`all`) or one of several (`any`).
    rules: Vec<PartyRuleChoice>,
}

/// One text field of a signer row: its name, element id, value and message.
#[derive(Serialize, Default)]
struct SignerField {
    name: String,
    anchor: String,
    value: String,
    error: String,
}

#[derive(Serialize)]
struct KeptSigner {
    index: usize,
    organisation: String,
    organisation_name: String,
    party: String,
    capacity: SignerField,
    name: SignerField,
    email: SignerField,
    /// Ticked to remove this signer from the draft.
    remove: bool,
    anchor_remove: String,
}

#[derive(Serialize)]
struct AddSigner {
    organisation: SignerField,
    choices: Vec<OrgChoice>,
    capacity: SignerField,
    name: SignerField,
    email: SignerField,
}

#[derive(Serialize)]
struct OrgChoice {
    value: String,
    label: String,
    selected: bool,
}

/// The rule of one party with several signers (issue 14, "Signers": "where a party needs two
/// signatories jointly or one of several, say so"), sent as `party_rules.<organisation id>`.
#[derive(Serialize)]
struct PartyRuleChoice {
    organisation_name: String,
    field: String,
    anchor: String,
    any: bool,
    error: String,
}

#[derive(Serialize)]
struct OrderChoice {
    code: &'static str,
    label: String,
    selected: bool,
}

#[derive(Serialize, Default)]
struct SignForm {
    consent_text: String,
    consent_version: String,
    digest: String,
    typed_name: String,
    consented: bool,
    typed_name_error: String,
    consent_error: String,
    digest_error: String,
    anchor_typed_name: String,
    anchor_consent: String,
    anchor_digest: String,
}

#[derive(Serialize, Default)]
struct DeclineForm {
    reason: String,
    reason_error: String,
    anchor_reason: String,
}

#[derive(Serialize)]
struct SigningPage {
    id: String,
    number: i32,
    digest: String,
    html: String,
    pdf: String,
    envelope: Option<EnvelopeShown>,
    prepare: Option<PrepareForm>,
    sign: Option<SignForm>,
    decline: Option<DeclineForm>,
    /// A party whose signature is pending but whose turn has not come.
    not_yet: bool,
    /// The refusal was a sign-in too old: where to sign in again.
    step_up: Option<String>,
    errors: FormErrors,
}

/// The form a refusal came back to, with what was entered.
enum Posted {
    Prepare,
    Sign,
    Decline,
}

fn number(env: &PageEnv, n: &str) -> Result<i32, PageError> {
    n.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| env.fail(AppError::NotFound(crate::msg!("thing.agreement_version"))))
}

fn party_name(lang: Lang, party: &str) -> String {
    super::text::t(
        lang,
        match party {
            "research_principal" => "signing.party.research_principal",
            "company" => "signing.party.company",
            _ => "signing.party.cpua",
        },
    )
}

fn status_name(lang: Lang, status: &str) -> String {
    super::text::t(
        lang,
        match status {
            "draft" => "signing.status.draft",
            "sent" => "signing.status.sent",
            "completed" => "signing.status.completed",
            "declined" => "signing.status.declined",
            "expired" => "signing.status.expired",
            _ => "signing.status.voided",
        },
    )
}

fn signer_status_name(lang: Lang, status: &str) -> String {
    super::text::t(
        lang,
        match status {
            "signed" => "signing.signer.signed",
            "declined" => "signing.signer.declined",
            crate::db::signing::SIGNER_NOT_NEEDED => "signing.signer.not_needed",
            _ => "signing.signer.pending",
        },
    )
}

fn order_name(lang: Lang, order: &str) -> String {
    super::text::t(
        lang,
        match order {
            "parallel" => "signing.order.parallel",
            "sequence" => "signing.order.sequence",
            _ => "signing.order.default",
        },
    )
}

fn shown(v: &EnvelopeView, lang: Lang) -> EnvelopeShown {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| super::helpers::format_datetime(t, lang))
            .unwrap_or_default()
    };
    let mut waiting: Vec<String> = v
        .signers
        .iter()
        .filter(|s| v.turn.contains(&s.id))
        .map(|s| s.organisation_name.clone())
        .collect();
    waiting.dedup();
    let completed = v.status == "completed";
    EnvelopeShown {
        status: status_name(lang, &v.status),
        status_code: v.status.clone(),
        order: order_name(lang, &v.order),
        sent_at: when(v.sent_at),
        expires_at: super::helpers::format_datetime(v.expires_at, lang),
        completed_at: when(v.completed_at),
        decline_reason: v.decline_reason.clone().unwrap_or_default(),
        signers: v
            .signers
            .iter()
            .map(|s| SignerShown {
                party: party_name(lang, &s.party),
                organisation: s.organisation_name.clone(),
                capacity: s.capacity.clone(),
                status: signer_status_name(lang, &s.status),
                signed_at: when(s.signed_at),
                in_turn: v.turn.contains(&s.id),
                rule: if v
                    .signers
                    .iter()
                    .filter(|o| o.organisation == s.organisation)
                    .count()
                    > 1
                {
                    super::text::t(
                        lang,
                        if s.party_rule == "any" {
                            "signing.rule.any"
                        } else {
                            "signing.rule.all"
                        },
                    )
                } else {
                    String::new()
                },
            })
            .collect(),
        waiting: waiting.join(", "),
        completed,
        sealing: completed && v.executed_pdf_sha256.is_none(),
        executed_pdf_url: v.executed_pdf_url.clone(),
    }
}

/// The form's version of a draft: a short hash of what the form shows and sends (status, order,
/// signers, rules), so that a form made from an older state of the envelope is told so rather than
/// overwriting the newer one. No envelope yet is `none`.
fn form_version(v: Option<&EnvelopeView>) -> String {
    use sha2::{Digest, Sha256};
    let Some(v) = v else {
        return "none".into();
    };
    let signers: Vec<_> = v
        .signers
        .iter()
        .map(|s| {
            serde_json::json!([
                s.organisation,
                s.capacity,
                s.name,
                s.email,
                s.party_rule,
                s.status
            ])
        })
        .collect();
    let body = serde_json::json!([v.id, v.status, v.order, signers]).to_string();
    hex::encode(&Sha256::digest(body.as_bytes())[..8])
}

/// A text field of signer row `index`: what was posted (after a refusal), else the draft's value.
fn signer_field(
    index: usize,
    key: &str,
    stored: Option<&str>,
    entered: &Option<&Entered>,
    error: &impl Fn(&str) -> String,
) -> SignerField {
    let name = format!("signers[{index}].{key}");
    SignerField {
        anchor: anchor(&name),
        value: match entered {
            Some(e) => e.value(&name),
            None => stored.unwrap_or_default().to_string(),
        },
        error: error(&name),
        name,
    }
}

/// A draft's signers as the form sends them again, the row that adds one, and a rule choice for
/// each party that has more than one: what was posted (after a refusal), else the draft's values
/// (a rule is jointly unless the draft says otherwise).
fn prepare_parties(
    v: &EnvelopeView,
    lang: Lang,
    entered: Option<&Entered>,
    error: impl Fn(&str) -> String,
) -> (Vec<KeptSigner>, AddSigner, Vec<PartyRuleChoice>) {
    let signers = v
        .signers
        .iter()
        .enumerate()
        .map(|(index, s)| KeptSigner {
            index,
            organisation: s.organisation.clone(),
            organisation_name: s.organisation_name.clone(),
            party: party_name(lang, &s.party),
            capacity: signer_field(index, "capacity", Some(&s.capacity), &entered, &error),
            name: signer_field(index, "name", s.name.as_deref(), &entered, &error),
            email: signer_field(index, "email", s.email.as_deref(), &entered, &error),
            remove: entered.is_some_and(|e| e.has("_remove", &index.to_string())),
            anchor_remove: anchor(&format!("_remove.{index}")),
        })
        .collect();
    let next = v.signers.len();
    let organisation = signer_field(next, "organisation", None, &entered, &error);
    let mut choices: Vec<OrgChoice> = Vec::new();
    for s in &v.signers {
        if choices.iter().any(|c| c.value == s.organisation) {
            continue;
        }
        choices.push(OrgChoice {
            selected: organisation.value == s.organisation,
            label: format!("{} ({})", s.organisation_name, party_name(lang, &s.party)),
            value: s.organisation.clone(),
        });
    }
    let add = AddSigner {
        capacity: signer_field(next, "capacity", None, &entered, &error),
        name: signer_field(next, "name", None, &entered, &error),
        email: signer_field(next, "email", None, &entered, &error),
        organisation,
        choices,
    };
    let mut rules: Vec<PartyRuleChoice> = Vec::new();
    for s in &v.signers {
        let several = v
            .signers
            .iter()
            .filter(|o| o.organisation == s.organisation)
            .count()
            > 1;
        let field = format!("party_rules.{}", s.organisation);
        if !several || rules.iter().any(|r| r.field == field) {
            continue;
        }
        let rule = entered
            .map(|e| e.value(&field))
            .unwrap_or_else(|| s.party_rule.clone());
        rules.push(PartyRuleChoice {
            organisation_name: s.organisation_name.clone(),
            anchor: anchor(&field),
            any: rule == "any",
            error: error(&field),
            field,
        });
    }
    (signers, add, rules)
}

/// Whether the reader has a pending signature of this envelope (what `decline` and `sign` look for:
/// a person of the signer's organisation in the party's signing role).
fn pending_for_reader(v: &EnvelopeView, actor: &crate::domain::role::Actor) -> bool {
    v.signers.iter().any(|s| {
        s.status == "pending"
            && s.organisation == actor.org.as_str()
            && party_role(&s.party)
                .is_some_and(|p| crate::app::authz::signing_role(p) == actor.role)
    })
}

fn party_role(code: &str) -> Option<crate::domain::agreement::data::PartyRole> {
    use crate::domain::agreement::data::PartyRole;
    match code {
        "research_principal" => Some(PartyRole::ResearchPrincipal),
        "company" => Some(PartyRole::Company),
        "cpua" => Some(PartyRole::Cpua),
        _ => None,
    }
}

/// What the page reads: the version, its newest envelope (none yet is no error), and whether the
/// reader may prepare it.
async fn load(
    env: &PageEnv,
    id: String,
    number: i32,
) -> Result<(AgreementVersionView, Option<EnvelopeView>, bool), PageError> {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    env.blocking(move |s| {
        s.svc.read(|c| {
            let version = crate::app::agreements::list(c, &s.svc.rulebooks, &actor, &id)?
                .into_iter()
                .find(|v| v.number == number)
                .ok_or_else(|| AppError::NotFound(crate::msg!("thing.agreement_version")))?;
            let envelope = match signing::get(c, &s.svc.rulebooks, &actor, &id, number, lang) {
                Ok(v) => Some(v),
                Err(AppError::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            let may_prepare = signing::may_prepare(c, &s.svc.rulebooks, &actor, &id, number)?;
            Ok((version, envelope, may_prepare))
        })
    })
    .await
}

/// Where a person signs in again for a fresh sign-in: the step-up in oidc mode; in local mode the
/// sign-in page (signing out first is the way to a new sign-in).
fn step_up_href(env: &PageEnv, id: &str, number: i32) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("next", &here(id, number));
    match env.state.settings.auth.mode {
        AuthMode::Local => format!("/sign-in?{}", q.finish()),
        _ => format!("/auth/step-up?{}", q.finish()),
    }
}

/// The errors of a refusal, with a refusal that names one field put at that field.
fn errors_of(e: &AppError, lang: Lang) -> Option<(FormErrors, Option<String>)> {
    let mut errors = FormErrors::of(e, lang)?;
    let p = crate::http::problem::problem_in(e, lang);
    if let Some(f) = &p.field {
        if errors.at(f).is_none() {
            errors.fields.push(FieldMessage {
                field: f.clone(),
                anchor: anchor(f),
                message: p.detail.clone(),
            });
        }
        // The message is at its field (and linked from the summary); the summary says only that.
        errors.summary = super::text::t(lang, "common.form.fix_below");
    }
    // The missing items are the page's to say in words (whose turn, a fresh sign-in), not codes.
    errors.details.clear();
    Some((errors, p.rule))
}

#[allow(clippy::too_many_arguments)]
async fn render(
    env: &PageEnv,
    status: StatusCode,
    id: String,
    number: i32,
    posted: Option<(Posted, Entered)>,
    errors: FormErrors,
    rule: Option<String>,
) -> PageResult {
    let (version, envelope, may_prepare) = load(env, id.clone(), number).await?;
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let msg = |f: &str| errors.at(f).unwrap_or_default().to_string();
    let (form, entered) = match posted {
        Some((p, e)) => (Some(p), e),
        None => (None, Entered::default()),
    };
    let open = envelope
        .as_ref()
        .is_some_and(|v| v.status == "sent" || v.status == "completed");
    let prepare = (may_prepare && !open).then(|| {
        let chosen = match form {
            Some(Posted::Prepare) => entered.value("order"),
            _ => envelope
                .as_ref()
                .map(|v| v.order.clone())
                .unwrap_or_default(),
        };
        let draft = envelope.as_ref().filter(|v| v.status == "draft");
        let posted = matches!(form, Some(Posted::Prepare)).then_some(&entered);
        let (signers, add, rules) = match draft {
            Some(v) => {
                let (s, a, r) = prepare_parties(v, lang, posted, msg);
                (s, Some(a), r)
            }
            None => (Vec::new(), None, Vec::new()),
        };
        PrepareForm {
            version: form_version(envelope.as_ref()),
            add,
            signers_error: msg("signers"),
            anchor_signers: anchor("signers"),
            orders: ["default", "parallel", "sequence"]
                .into_iter()
                .map(|code| OrderChoice {
                    code,
                    label: order_name(lang, code),
                    selected: chosen == code,
                })
                .collect(),
            signers,
            rules,
        }
    });
    let is_sign = matches!(form, Some(Posted::Sign));
    let sign = envelope
        .as_ref()
        .and_then(|v| v.consent.as_ref().map(|c| (v, c)))
        .map(|(v, c)| SignForm {
            consent_text: c.text.clone(),
            consent_version: c.version.clone(),
            digest: v.digest.clone(),
            typed_name: if is_sign {
                entered.value("typed_name")
            } else {
                String::new()
            },
            consented: is_sign && entered.has("_consent", "yes"),
            typed_name_error: msg("typed_name"),
            consent_error: msg("_consent"),
            digest_error: msg("digest"),
            anchor_typed_name: anchor("typed_name"),
            anchor_consent: anchor("_consent"),
            anchor_digest: anchor("digest"),
        });
    let pending = envelope
        .as_ref()
        .is_some_and(|v| v.status == "sent" && pending_for_reader(v, &actor));
    let decline = pending.then(|| DeclineForm {
        reason: match form {
            Some(Posted::Decline) => entered.value("reason"),
            _ => String::new(),
        },
        reason_error: msg("reason"),
        anchor_reason: anchor("reason"),
    });
    let not_yet = pending && sign.is_none();
    let step_up =
        (rule.as_deref() == Some("signing_fresh_login")).then(|| step_up_href(env, &id, number));
    let base = format!("/api/v1/collaborations/{id}/agreements/{number}");
    env.render_status(
        status,
        "signing",
        "signing.title",
        SigningPage {
            envelope: envelope.as_ref().map(|v| shown(v, lang)),
            digest: envelope
                .as_ref()
                .map(|v| v.digest.clone())
                .unwrap_or(version.digest),
            html: format!("{base}.html"),
            pdf: format!("{base}.pdf"),
            id,
            number,
            prepare,
            sign,
            decline,
            not_yet,
            step_up,
            errors,
        },
    )
}

fn here(id: &str, number: i32) -> String {
    format!("/collaborations/{id}/agreements/{number}/signing")
}

/// The envelope page of a version.
pub async fn page(env: PageEnv, path: web::Path<(String, String)>) -> PageResult {
    let (id, n) = path.into_inner();
    let number = number(&env, &n)?;
    render(
        &env,
        StatusCode::OK,
        id,
        number,
        None,
        FormErrors::default(),
        None,
    )
    .await
}

/// After a command: back to the page, or the page again with the refusal (422).
async fn answer(
    env: &PageEnv,
    id: String,
    number: i32,
    outcome: Result<(), AppError>,
    posted: Posted,
    form: &Form,
) -> PageResult {
    match outcome {
        Ok(()) => Ok(env.see_other(&here(&id, number))),
        Err(e) => match errors_of(&e, env.lang) {
            Some((errors, rule)) => {
                render(
                    env,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    id,
                    number,
                    Some((posted, form.entered())),
                    errors,
                    rule,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

/// The draft form's fields as the API's `EnvelopeInput`: the signer rows (`signers[i].…`) less
/// those ticked to remove (`_remove[]`) and less an empty "add a signer" row, with the form's row
/// index of each signer sent (to put a message about `signers[k]` back at its row).
fn envelope_json(form: &Form) -> Result<(serde_json::Value, Vec<usize>), AppError> {
    let mut json = form.to_json();
    let removed: Vec<&str> = form
        .0
        .iter()
        .filter(|(k, _)| k == "_remove[]")
        .map(|(_, v)| v.trim())
        .collect();
    let mut rows: Vec<usize> = form
        .0
        .iter()
        .filter_map(|(k, _)| {
            let rest = k.strip_prefix("signers[")?;
            rest[..rest.find(']')?].parse().ok()
        })
        .filter(|i: &usize| *i <= 1000)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    if rows.is_empty() {
        return Ok((json, Vec::new()));
    }
    let mut list = Vec::new();
    let mut map = Vec::new();
    for i in rows {
        if removed.contains(&i.to_string().as_str()) {
            continue;
        }
        let mut o = serde_json::Map::new();
        for key in ["organisation", "capacity", "name", "email"] {
            if let Some(v) = form
                .get(&format!("signers[{i}].{key}"))
                .filter(|v| !v.trim().is_empty())
            {
                o.insert(key.into(), serde_json::Value::from(v));
            }
        }
        if o.is_empty() {
            continue;
        }
        if !o.contains_key("organisation") {
            return Err(AppError::invalid(
                &format!("signers[{i}].organisation"),
                crate::msg!("required.field"),
            ));
        }
        list.push(serde_json::Value::Object(o));
        map.push(i);
    }
    if let Some(root) = json.as_object_mut() {
        root.insert("signers".into(), serde_json::Value::Array(list));
    }
    Ok((json, map))
}

/// A message about `signers[k]…` (the k-th signer sent) put back at the form's row `map[k]`.
fn at_rows(e: AppError, map: &[usize]) -> AppError {
    let AppError::Invalid(mut errs) = e else {
        return e;
    };
    for f in &mut errs {
        let Some(rest) = f.field.strip_prefix("signers[") else {
            continue;
        };
        let Some(close) = rest.find(']') else {
            continue;
        };
        if let Some(row) = rest[..close].parse::<usize>().ok().and_then(|k| map.get(k)) {
            f.field = format!("signers[{row}]{}", &rest[close + 1..]);
        }
    }
    AppError::Invalid(errs)
}

/// CPUA legal drafts (and sends) the envelope, adding, naming and removing signers of a draft: the
/// API's `prepare_envelope` with the same input. The form carries its version ([`form_version`]);
/// when the envelope changed since the form was made, nothing is written and the page says so (409)
/// with the envelope as it is now.
pub async fn prepare(env: PageEnv, path: web::Path<(String, String)>, form: Form) -> PageResult {
    let (id, n) = path.into_inner();
    let number = number(&env, &n)?;
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let seen = form.get("version").map(|v| v.trim().to_string());
    let outcome = match envelope_json(&form).and_then(|(json, map)| {
        match crate::http::extract::parse_value::<EnvelopeInput>(json) {
            Ok(input) => Ok((input, map)),
            Err(e) => Err(at_rows(e, &map)),
        }
    }) {
        Err(e) => Err(e),
        Ok((input, map)) => {
            let (state, cid) = (env.state.clone(), id.clone());
            crate::http::blocking(move || {
                let now = state.svc.clock.now();
                let policy = crate::http::signing_api::policy(&state);
                state.svc.write(|c| {
                    // The case's row lock before the form's version is compared, so two posts of
                    // one version cannot both pass the check on PostgreSQL (SQLite's writer lock
                    // already orders them): the second sees the first's change and is stale.
                    signing::lock(c, &cid)?;
                    if let Some(seen) = &seen {
                        let current =
                            match signing::get(c, &state.svc.rulebooks, &actor, &cid, number, lang)
                            {
                                Ok(v) => Some(v),
                                Err(AppError::NotFound(_)) => None,
                                Err(e) => return Err(e),
                            };
                        if form_version(current.as_ref()) != *seen {
                            return Ok(false);
                        }
                    }
                    signing::prepare(
                        c,
                        &state.svc.rulebooks,
                        &policy,
                        &actor,
                        &cid,
                        number,
                        input,
                        now,
                    )
                    .map_err(|e| at_rows(e, &map))?;
                    Ok(true)
                })
            })
            .await
        }
    };
    match outcome {
        Ok(false) => {
            let errors = FormErrors {
                summary: super::text::t(lang, "signing.prepare.stale"),
                any: true,
                ..FormErrors::default()
            };
            render(&env, StatusCode::CONFLICT, id, number, None, errors, None).await
        }
        Ok(true) => answer(&env, id, number, Ok(()), Posted::Prepare, &form).await,
        Err(e) => answer(&env, id, number, Err(e), Posted::Prepare, &form).await,
    }
}

/// The consent box was not ticked: the page's own check before the command.
fn consent_missing(lang: Lang) -> FormErrors {
    FormErrors {
        summary: super::text::t(lang, "common.form.fix_below"),
        fields: vec![FieldMessage {
            field: "_consent".into(),
            anchor: anchor("_consent"),
            message: super::text::t(lang, "signing.sign.consent_required"),
        }],
        details: Vec::new(),
        any: true,
    }
}

/// The signer in turn signs: the API's `sign_envelope`, with the request's facts.
pub async fn sign(
    env: PageEnv,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Form,
) -> PageResult {
    let (id, n) = path.into_inner();
    let number = number(&env, &n)?;
    let actor = env.actor()?.clone();
    if form.get("_consent") != Some("yes") {
        return render(
            &env,
            StatusCode::UNPROCESSABLE_ENTITY,
            id,
            number,
            Some((Posted::Sign, form.entered())),
            consent_missing(env.lang),
            None,
        )
        .await;
    }
    let mut facts = crate::http::signing_api::facts(&req, &env.state);
    // The consent text was shown in the page's language.
    facts.lang = env.lang;
    let outcome = match form.read::<SignatureInput>() {
        Err(e) => Err(e),
        Ok(input) => {
            let (state, cid) = (env.state.clone(), id.clone());
            crate::http::blocking(move || {
                let now = state.svc.clock.now();
                let policy = crate::http::signing_api::policy(&state);
                let mut view = state.svc.write(|c| {
                    signing::sign(
                        c,
                        &state.svc.rulebooks,
                        &policy,
                        &actor,
                        &facts,
                        &cid,
                        number,
                        input,
                        now,
                    )
                })?;
                crate::http::signing_api::after_completion(&state, &mut view)
            })
            .await
        }
    };
    answer(&env, id, number, outcome, Posted::Sign, &form).await
}

/// A party declines with a reason: the API's `decline_envelope`.
pub async fn decline(env: PageEnv, path: web::Path<(String, String)>, form: Form) -> PageResult {
    let (id, n) = path.into_inner();
    let number = number(&env, &n)?;
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let outcome = match form.read::<DeclineInput>() {
        Err(e) => Err(e),
        Ok(input) => {
            let (state, cid) = (env.state.clone(), id.clone());
            crate::http::blocking(move || {
                let now = state.svc.clock.now();
                state.svc.write(|c| {
                    signing::decline(
                        c,
                        &state.svc.rulebooks,
                        &actor,
                        &cid,
                        number,
                        input,
                        lang,
                        now,
                    )
                })
            })
            .await
            .map(|_| ())
        }
    };
    answer(&env, id, number, outcome, Posted::Decline, &form).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_naming_one_field_is_shown_at_that_field_and_codes_are_not_listed() {
        let e: AppError = crate::domain::lifecycle::Refusal::invalid(
            "typed_name",
            crate::msg!("signing_name_mismatch"),
        )
        .into();
        let (errors, rule) = errors_of(&e, Lang::En).expect("a form's fault");
        assert_eq!(rule.as_deref(), Some("signing_name_mismatch"));
        assert!(errors
            .at("typed_name")
            .is_some_and(|m| m.contains("your name")));
        assert_eq!(
            errors.summary,
            super::super::text::t(Lang::En, "common.form.fix_below")
        );
        let e: AppError = crate::domain::lifecycle::Refusal::precondition(crate::msg!(
            "signing_fresh_login",
            minutes = 15
        ))
        .missing(["fresh_login"])
        .into();
        let (errors, rule) = errors_of(&e, Lang::Sv).expect("a form's fault");
        assert_eq!(rule.as_deref(), Some("signing_fresh_login"));
        assert!(errors.details.is_empty(), "no codes: {:?}", errors.details);
        assert!(
            errors.summary.contains("färsk inloggning"),
            "{}",
            errors.summary
        );
        assert!(errors_of(&AppError::NotFound(crate::msg!("thing.envelope")), Lang::Sv).is_none());
    }

    #[test]
    fn every_status_party_and_order_has_words_in_both_languages() {
        for lang in [Lang::Sv, Lang::En] {
            for s in [
                "draft",
                "sent",
                "completed",
                "declined",
                "expired",
                "voided",
            ] {
                assert!(!status_name(lang, s).starts_with("signing."), "{s}");
            }
            for p in ["research_principal", "company", "cpua"] {
                assert!(!party_name(lang, p).starts_with("signing."), "{p}");
                assert!(party_role(p).is_some());
            }
            for o in ["default", "parallel", "sequence"] {
                assert!(!order_name(lang, o).starts_with("signing."), "{o}");
            }
            for s in ["pending", "signed", "declined", "not_needed"] {
                assert!(!signer_status_name(lang, s).starts_with("signing."), "{s}");
            }
            for r in ["signing.rule.any", "signing.rule.all"] {
                assert!(
                    !super::super::text::t(lang, r).starts_with("signing."),
                    "{r}"
                );
            }
        }
        assert_ne!(
            status_name(Lang::Sv, "completed"),
            status_name(Lang::En, "completed")
        );
    }
}
