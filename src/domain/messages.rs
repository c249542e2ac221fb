//! Messages (meddelanden): every refusal and error text comes from a catalogue keyed by rule code,
//! Swedish (`config/messages/sv.toml`) and English (`config/messages/en.toml`), compiled into the binary.
//!
//! The code never formats a sentence. It names a message id and its parameters with [`msg!`]:
//! `msg!("wrong_step", what = …, allowed = …, step = …)`. The id is the rule code, or `rule.variant`
//! when one rule is refused for several reasons. [`MESSAGES`] declares every id with the parameters its
//! template takes, and `msg!` checks at compile time that the id is declared and that exactly those
//! parameters are given. The tests below check that both catalogues hold every declared id, that each
//! template uses only declared parameters, and that no catalogue entry or declared id is unused. The text
//! is rendered at the edge, in the request's language ([`Message::render`]).
use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::lang::Lang;
use super::step::Step;

/// A message the code can emit (meddelande): its id and the parameters its template takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageDecl {
    pub id: &'static str,
    pub params: &'static [&'static str],
}

const fn m(id: &'static str, params: &'static [&'static str]) -> MessageDecl {
    MessageDecl { id, params }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn contains(list: &[&str], s: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i], s) {
            return true;
        }
        i += 1;
    }
    false
}

/// Compile-time check behind [`msg!`]: `id` is declared in [`MESSAGES`] and `given` names exactly its
/// parameters, each once. A mistake stops the build at the call.
pub const fn check(id: &str, given: &[&str]) {
    let mut i = 0;
    while i < MESSAGES.len() {
        if str_eq(MESSAGES[i].id, id) {
            let params = MESSAGES[i].params;
            if params.len() != given.len() {
                panic!("msg!: the parameters given are not the ones MESSAGES declares for this id");
            }
            let mut j = 0;
            while j < given.len() {
                if !contains(params, given[j]) {
                    panic!("msg!: a parameter given is not declared for this id in MESSAGES");
                }
                j += 1;
            }
            return;
        }
        i += 1;
    }
    panic!("msg!: this message id is not declared in MESSAGES");
}

/// A message with its parameters: `msg!("id", name = value, …)`. The id and the parameter names are
/// checked against [`MESSAGES`] at compile time; a value is anything with `Into<Arg>`.
#[macro_export]
macro_rules! msg {
    ($id:literal $(, $k:ident = $v:expr)* $(,)?) => {{
        const _: () = $crate::domain::messages::check($id, &[$(stringify!($k)),*]);
        $crate::domain::messages::Message::new(
            $id,
            vec![$((stringify!($k), $crate::domain::messages::Arg::from($v))),*],
        )
    }};
}

/// A parameter of a message: plain text (a name, a number, a date), or something rendered in the
/// message's language (a step, another message, a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Shown as given: names, ids, numbers, dates, codes.
    Text(String),
    /// A step of the process, by its name in the language.
    Step(Step),
    /// Another message, e.g. the action a step refusal is about.
    Msg(Box<Message>),
    /// "a, b or c".
    AnyOf(Vec<Arg>),
    /// "a, b and c".
    AllOf(Vec<Arg>),
    /// A text that comes in both languages, e.g. a label from the rulebook.
    Both { sv: String, en: String },
}

impl Arg {
    pub fn both(sv: impl Into<String>, en: impl Into<String>) -> Arg {
        Arg::Both {
            sv: sv.into(),
            en: en.into(),
        }
    }

    pub fn any_of<T: Into<Arg>>(items: impl IntoIterator<Item = T>) -> Arg {
        Arg::AnyOf(items.into_iter().map(Into::into).collect())
    }

    pub fn all_of<T: Into<Arg>>(items: impl IntoIterator<Item = T>) -> Arg {
        Arg::AllOf(items.into_iter().map(Into::into).collect())
    }

    fn render(&self, cat: &Catalogue, out: &mut String) {
        match self {
            Arg::Text(s) => out.push_str(s),
            Arg::Step(s) => out.push_str(cat.template(&step_id(*s)).unwrap_or(s.code())),
            Arg::Msg(m) => out.push_str(&m.render_in(cat)),
            Arg::Both { sv, en } => out.push_str(match cat.lang {
                Lang::Sv => sv,
                Lang::En => en,
            }),
            Arg::AnyOf(items) | Arg::AllOf(items) => {
                let word = if matches!(self, Arg::AnyOf(_)) {
                    &cat.or
                } else {
                    &cat.and
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        if i + 1 == items.len() {
                            out.push(' ');
                            out.push_str(word);
                            out.push(' ');
                        } else {
                            out.push_str(", ");
                        }
                    }
                    item.render(cat, out);
                }
            }
        }
    }
}

macro_rules! text_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::Text(v.to_string())
            }
        }
    )*};
}
text_arg!(
    String,
    &str,
    &String,
    u8,
    u16,
    u32,
    u64,
    usize,
    i32,
    i64,
    chrono::NaiveDate,
    &crate::domain::ids::OrgId
);

impl From<Step> for Arg {
    fn from(s: Step) -> Arg {
        Arg::Step(s)
    }
}

impl From<Message> for Arg {
    fn from(m: Message) -> Arg {
        Arg::Msg(Box::new(m))
    }
}

fn step_id(s: Step) -> String {
    format!("step.{}", s.code())
}

/// A message id with its parameters, rendered at the edge in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    id: &'static str,
    args: Vec<(&'static str, Arg)>,
}

impl Message {
    /// Use [`msg!`], which checks the id and the parameters at compile time.
    #[doc(hidden)]
    pub fn new(id: &'static str, args: Vec<(&'static str, Arg)>) -> Message {
        Message { id, args }
    }

    /// The id: the rule code, or `rule.variant`.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The stable rule code: the id up to its first dot.
    pub fn rule(&self) -> &'static str {
        self.id.split_once('.').map_or(self.id, |(r, _)| r)
    }

    pub fn arg(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The text in both languages, for a client that chooses itself.
    pub fn bilingual(&self) -> super::lang::Bilingual {
        super::lang::Bilingual {
            sv: self.render(Lang::Sv),
            en: self.render(Lang::En),
        }
    }

    /// The text in `lang`; falls back to English, then to the id, so a text is never lost.
    pub fn render(&self, lang: Lang) -> String {
        match catalogues() {
            Ok(c) => {
                let cat = c.get(lang);
                if cat.messages.contains_key(self.id) {
                    self.render_in(cat)
                } else {
                    self.render_in(&c.en)
                }
            }
            Err(_) => self.fallback(),
        }
    }

    fn render_in(&self, cat: &Catalogue) -> String {
        let Some(t) = cat.template(self.id) else {
            return self.fallback();
        };
        let mut out = String::with_capacity(t.len() + 32);
        for piece in pieces(t) {
            match piece {
                Piece::Text(s) => out.push_str(s),
                Piece::Param(name) => match self.arg(name) {
                    Some(a) => a.render(cat, &mut out),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
            }
        }
        out
    }

    fn fallback(&self) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|(k, v)| {
                let mut s = String::new();
                if let Ok(c) = catalogues() {
                    v.render(&c.en, &mut s);
                }
                format!("{k}={s}")
            })
            .collect();
        format!("{} ({})", self.id, args.join(", "))
    }
}

impl std::fmt::Display for Message {
    /// English, for logs and the command line; responses render in the request's language.
    ///
    /// The message is also kept as this thread's last rendered one, so that a refusal serde turned
    /// into English text (a domain type's `try_from` inside a body) can be given back in the
    /// response's language by [`take_rendered`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.render(Lang::En);
        LAST_RENDERED.with(|l| *l.borrow_mut() = Some(self.clone()));
        f.write_str(&text)
    }
}

thread_local! {
    static LAST_RENDERED: std::cell::RefCell<Option<Message>> = const { std::cell::RefCell::new(None) };
}

/// The message this thread last rendered through `Display`, if its English text is `english`
/// (serde's error text of it); taken, so it is given back once.
pub fn take_rendered(english: &str) -> Option<Message> {
    LAST_RENDERED
        .with(|l| l.borrow_mut().take())
        .filter(|m| m.render(Lang::En) == english)
}

/// One language's catalogue: message id → template.
#[derive(Debug)]
pub struct Catalogue {
    pub lang: Lang,
    pub messages: BTreeMap<String, String>,
    or: String,
    and: String,
}

impl Catalogue {
    fn template(&self, id: &str) -> Option<&str> {
        self.messages.get(id).map(String::as_str)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    lang: Lang,
    words: Words,
    messages: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Words {
    or: String,
    and: String,
}

/// Both catalogues.
#[derive(Debug)]
pub struct Catalogues {
    pub sv: Catalogue,
    pub en: Catalogue,
}

impl Catalogues {
    pub fn get(&self, lang: Lang) -> &Catalogue {
        match lang {
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        }
    }

    fn parse_one(name: &str, text: &str, lang: Lang) -> Result<Catalogue, String> {
        let f: CatalogueFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        if f.lang != lang {
            return Err(format!("{name}: lang is {:?}, expected {lang:?}", f.lang));
        }
        Ok(Catalogue {
            lang,
            messages: f.messages,
            or: f.words.or,
            and: f.words.and,
        })
    }

    pub fn parse(sv: &str, en: &str) -> Result<Catalogues, String> {
        Ok(Catalogues {
            sv: Catalogues::parse_one("sv.toml", sv, Lang::Sv)?,
            en: Catalogues::parse_one("en.toml", en, Lang::En)?,
        })
    }
}

const SV: &str = include_str!("../../config/messages/sv.toml");
const EN: &str = include_str!("../../config/messages/en.toml");

static EMBEDDED: LazyLock<Result<Catalogues, String>> = LazyLock::new(|| Catalogues::parse(SV, EN));

/// The catalogues compiled into the binary (read once; the start checks them, see [`check_embedded`]).
pub fn catalogues() -> Result<&'static Catalogues, &'static str> {
    EMBEDDED.as_ref().map_err(String::as_str)
}

enum Piece<'a> {
    Text(&'a str),
    Param(&'a str),
}

/// A template cut into text and `{name}` parameters; `{{` and `}}` are literal braces.
fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let Some(i) = rest.find(['{', '}']) else {
            out.push(Piece::Text(rest));
            break;
        };
        if i > 0 {
            out.push(Piece::Text(&rest[..i]));
        }
        let after = &rest[i + 1..];
        if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
            out.push(Piece::Text(&rest[i..i + 1]));
            rest = &after[1..];
        } else if rest[i..].starts_with('{') {
            match after.find('}') {
                Some(close) => {
                    out.push(Piece::Param(&after[..close]));
                    rest = &after[close + 1..];
                }
                None => {
                    out.push(Piece::Text(&rest[i..]));
                    break;
                }
            }
        } else {
            out.push(Piece::Text(&rest[i..i + 1]));
            rest = after;
        }
    }
    out
}

/// The parameters a template uses, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    pieces(template)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Param(n) => Some(n),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Every problem found in the embedded catalogues: a missing or extra entry, or a placeholder the
/// message does not declare. Empty when they are sound; the start refuses otherwise.
pub fn check_embedded() -> Vec<String> {
    let cats = match catalogues() {
        Ok(c) => c,
        Err(e) => return vec![e.to_string()],
    };
    let mut errs = Vec::new();
    let declared: BTreeMap<&str, &MessageDecl> = MESSAGES.iter().map(|d| (d.id, d)).collect();
    if declared.len() != MESSAGES.len() {
        errs.push("MESSAGES declares an id twice".to_string());
    }
    let steps: Vec<String> = Step::ALL.iter().map(|s| step_id(*s)).collect();
    for cat in [&cats.sv, &cats.en] {
        let name = cat.lang.code();
        for d in MESSAGES {
            match cat.messages.get(d.id) {
                None => errs.push(format!("{name}.toml lacks {}", d.id)),
                Some(t) => {
                    if t.trim().is_empty() {
                        errs.push(format!("{name}.toml: {} is empty", d.id));
                    }
                    for p in placeholders(t) {
                        if !d.params.contains(&p) {
                            errs.push(format!(
                                "{name}.toml: {} uses {{{p}}}, which the code does not give",
                                d.id
                            ));
                        }
                    }
                }
            }
        }
        for s in &steps {
            if !cat.messages.contains_key(s.as_str()) {
                errs.push(format!("{name}.toml lacks {s}"));
            }
        }
        for k in cat.messages.keys() {
            if !declared.contains_key(k.as_str()) && !steps.contains(k) {
                errs.push(format!("{name}.toml: {k} is no message the code emits"));
            }
        }
    }
    errs
}

/// Every message id the code can emit, with the parameters its template takes. `msg!` refuses an id
/// that is not here. Step names (`step.<code>`) are in the catalogues too, one per [`Step`].
pub const MESSAGES: &[MessageDecl] = &[
    m("thing.register", &[]),
    m("thing.organisation", &[]),
    m("thing.collaboration", &[]),
    m("thing.language", &[]),
    m("thing.record", &[]),
    m("thing.docs_asset", &[]),
    m("thing.delegation", &[]),
    m("thing.agreement_version", &[]),
    m("thing.agreement_file", &[]),
    m("thing.route", &["method", "path"]),
    // Reasons of the value parsers (text, dates, references, money, organisation numbers).
    m("control_characters.multi_line", &[]),
    m("control_characters.single_line", &[]),
    m("text.empty", &[]),
    m("date_range.outside", &["date", "min", "max"]),
    m("date.form", &["value"]),
    m("ethics_reference_format.form", &["value"]),
    m("doi.form", &["value"]),
    m("money.negative", &[]),
    m("money.overflow", &[]),
    m("org_number.format", &[]),
    m("org_number.check_digit", &[]),
    m("org_number.not_an_organisation", &[]),
    m("vat_number.format", &[]),
    m("vat_number.org_number", &["reason"]),
    m("vat_number.mismatch", &["number"]),
    // Answers of the HTTP edge and the application (AppError), by kind.
    // Sign-in through an OpenID provider, cookie sessions and CSRF (app::login, http::auth_routes).
    m("unauthenticated.unknown_session", &[]),
    m("csrf.missing_token", &[]),
    m("csrf.wrong_token", &[]),
    m("csrf.wrong_origin", &["origin"]),
    m("login.unknown_provider", &["provider", "known"]),
    m("login.next_not_relative", &[]),
    m("login.cookie_session_only", &[]),
    m("login.page.title", &[]),
    m("login.page.retry", &[]),
    m("login.provider_error", &["provider", "error"]),
    m("login.unknown_state", &[]),
    m("login.failed", &["provider"]),
    m("login.not_invited", &["email"]),
    m("login.step_up_refused", &[]),
    m("unauthenticated.no_token", &[]),
    m("unauthenticated.not_text", &[]),
    m("unauthenticated.not_bearer", &[]),
    m("unauthenticated.unknown_token", &[]),
    m("forbidden.role", &["role", "action"]),
    m("forbidden.own_track", &["action"]),
    m("forbidden.not_a_cpua", &[]),
    m("forbidden.create", &[]),
    m("forbidden.reference_data", &[]),
    m("forbidden.outbox", &[]),
    m("forbidden.metrics", &[]),
    m("forbidden.delegate", &[]),
    m("forbidden.draft", &[]),
    m("forbidden.deviation", &[]),
    m("forbidden.cors", &[]),
    m("conflict.delegation_revoked", &[]),
    m("race_lost.same_moment", &[]),
    m("race_lost.concurrent", &[]),
    m("race_lost.collaboration", &[]),
    m("precondition_failed.version", &["version", "sent"]),
    m("method_not_allowed", &["allow"]),
    m("too_many_requests.token", &["max", "secs"]),
    m("payload_too_large", &["limit"]),
    m("unsupported_media_type", &[]),
    m("malformed_json", &["line", "column"]),
    m("malformed_json.incomplete", &[]),
    m("read_body", &[]),
    m("unavailable.database", &[]),
    m("unavailable.migrations", &[]),
    m("unavailable.client_gone", &[]),
    m("malformed_cursor", &[]),
    m("other_list", &[]),
    m("one_of.sort", &["value"]),
    m("due_with_overdue", &[]),
    m("lists_busy", &["max"]),
    m("problem.invalid_cursor", &[]),
    m("problem.lists_busy", &[]),
    m("add_and_waive", &["code"]),
    m(
        "agreement_clause_missing",
        &["number", "clauses", "obligations"],
    ),
    m("agreement_closed", &[]),
    m("agreement_digest_mismatch", &["number"]),
    m("agreement_parties_outdated", &[]),
    m("agreement_required", &[]),
    m("agreement_version_kind", &["number", "amendment"]),
    m("agreement_version_kind.amendment_version", &["number"]),
    m("agreement_version_superseded", &["number"]),
    m("agreement_version_unknown", &["number"]),
    // Signing (issue 14).
    m("thing.envelope", &[]),
    m("signing_not_open", &["status"]),
    m("signing_expired", &["expires"]),
    m("signing_superseded", &["number"]),
    m("signing_digest_mismatch", &["number"]),
    m("signing_digest_format", &[]),
    m("signing_not_your_turn", &["waiting"]),
    m("signing_consent_outdated", &["current"]),
    m("signing_fresh_login", &["minutes"]),
    m("signing_name_mismatch", &[]),
    m("signing_already_signed", &[]),
    m("signing_completed", &["number"]),
    m("signing_signer_not_party", &["organisation"]),
    m("signing_party_without_signer", &["parties"]),
    m("signing_signer_name_required", &[]),
    m("signing_signer_email_required", &[]),
    m("signing_signer_email_unknown", &["email"]),
    m("signing_signer_email_twice", &["email"]),
    m("signing_slot_named", &["names"]),
    m("signing_order_unknown", &["order", "allowed"]),
    m("signing_party_rule_unknown", &["rule", "allowed"]),
    m("signing_party_satisfied", &["party"]),
    m("signing_policy_days", &["min", "max"]),
    m("forbidden.signing_policy", &[]),
    // Signing providers (issue 14, "An external e-signature service").
    m("thing.signing_provider", &[]),
    m("signing_provider_unsupported", &["provider", "operation"]),
    m("signing_builtin_no_cancel", &[]),
    m("webhook_headers_missing", &[]),
    m("webhook_id_invalid", &[]),
    m("webhook_timestamp_invalid", &[]),
    m("webhook_timestamp_stale", &["seconds"]),
    m("webhook_signature_invalid", &[]),
    m("webhook_signed_at_future", &[]),
    m("agreement_not_executed", &["number"]),
    m("agreement_not_executed.status", &["number", "status"]),
    m("agreement_not_executed.digest", &["number"]),
    m("agreement_not_executed.party", &["number", "parties"]),
    m("agreement_not_executed.seal", &["number"]),
    m("executed_pdf_sealing", &["number"]),
    m("forbidden.envelope", &[]),
    m("forbidden.signer", &[]),
    m("already_archiving", &[]),
    m("already_decided", &["cpua_name"]),
    m("already_decided.amendment", &[]),
    m("already_released", &[]),
    m("already_submitted", &[]),
    m("amendment_agreement_recorded", &[]),
    m("amendment_agreement_required", &[]),
    m("amendment_open", &[]),
    m("amendment_open.still_open", &[]),
    m("application_already_complete", &["cpua_name"]),
    m("applications_complete", &[]),
    m("approval_waits", &[]),
    m("bool", &[]),
    m("collaboration_type_undecided", &[]),
    m("collaboration_type_undecided.in_preparation", &[]),
    m("company_kind", &["name"]),
    m("conditions_required", &[]),
    m("control_characters", &["reason"]),
    m("control_characters.field_name", &[]),
    m("cost_agreement_after_release", &[]),
    m("cost_estimate_required", &[]),
    m("cpua_authority", &["name"]),
    m("date_in_future", &["date"]),
    m("date_in_future.delegation", &[]),
    m("date_range", &["reason"]),
    m("decision_before_application", &[]),
    m("decisions_pending", &[]),
    m("derived_fact", &["field"]),
    m("disposal_confirmation_required", &[]),
    m("doi", &["reason"]),
    m("dossier_incomplete", &["cpua_name"]),
    m("dossier_incomplete.none", &[]),
    m("duplicate", &["value"]),
    m("etag", &[]),
    m("ethics_reference_format", &["reason"]),
    m("evidence_after_release", &[]),
    m("extended_retention_needs_ethics_approval", &[]),
    m("extended_retention_needs_justification", &["default"]),
    m("fact", &["reason"]),
    m("findings_required", &[]),
    m("forbidden", &["reason"]),
    m("forbidden_ground.duplicate_research", &[]),
    m("forbidden_ground.research_quality", &[]),
    m("ground_not_accepted", &[]),
    m("identity_numbers_not_accepted", &[]),
    m("invalid", &["reason"]),
    m("key_deletion_before_release", &[]),
    m("linkage_after_release", &[]),
    m("max", &["max"]),
    m("max_items", &["max"]),
    m("max_items.variables", &["max"]),
    m("max_length", &["max"]),
    m("missing", &["item", "step"]),
    m("money", &["reason"]),
    m("new_application_required", &[]),
    m("new_ethics_approval_required", &[]),
    m("new_ethics_approval_required.not_the_existing", &[]),
    m("no_agreement_for_a_decision", &[]),
    m("no_approved_amendment", &[]),
    m("no_approved_amendment.release", &[]),
    m("no_delegation", &[]),
    m("no_delegation.no_register", &[]),
    m("no_linkage", &[]),
    m("no_linkage.no_review", &[]),
    m("no_open_amendment", &[]),
    m("no_register_of_yours", &[]),
    m("no_third_country", &[]),
    m("not_a_cpua_of_collaboration.amendment_decision", &[]),
    m("not_a_cpua_of_collaboration.key_custodian", &[]),
    m("not_a_cpua_of_collaboration.no_application", &[]),
    m("not_a_cpua_of_collaboration.no_register", &[]),
    m("not_a_cpua_of_collaboration.nothing_released", &[]),
    m("not_a_linkage_authority_of_collaboration", &[]),
    m("not_a_register_of_collaboration", &[]),
    m("not_a_transition", &[]),
    m("not_classified", &[]),
    m("not_classified.override", &[]),
    m("not_editable", &[]),
    m("not_editable.released", &[]),
    m("not_of_this_cpua", &[]),
    m("not_releasable", &[]),
    m("not_releasable.review", &["cpua_name", "status"]),
    m("not_waivable", &["code"]),
    m("not_your_register", &[]),
    m("nothing_appealed", &[]),
    m("nothing_released", &[]),
    m("nothing_released.amendment", &[]),
    m("nothing_to_override", &[]),
    m("nothing_to_recommend", &[]),
    m("nothing_to_reconsider", &[]),
    m("obligations_unmet", &["obligations"]),
    m("one_of.collaboration_type", &["value"]),
    m("one_of.delegate", &[]),
    m("one_of.obligation_code", &["value"]),
    m("one_of.organisation_kind", &[]),
    m("one_of.refusal_ground", &["values"]),
    m("one_of.step", &["value"]),
    m("one_of.variant", &["value", "expected"]),
    m("none_expected", &[]),
    m("country.not_a_code", &["value"]),
    m("country.unassigned", &["value"]),
    m("org_number", &["reason"]),
    m("own_company", &[]),
    m("own_organisation", &[]),
    m("password_separately", &[]),
    m("patient_information_does_not_cover_research", &[]),
    m("preparation_incomplete", &["missing"]),
    m("problem.conflict", &[]),
    m("problem.forbidden", &[]),
    m("problem.internal", &[]),
    m("problem.internal.detail", &[]),
    m("problem.invalid_input", &[]),
    m("problem.malformed_request", &[]),
    m("problem.method_not_allowed", &[]),
    m("problem.not_found", &[]),
    m("problem.not_found.detail", &["what"]),
    m("problem.payload_too_large", &[]),
    m("problem.precondition_failed", &[]),
    m("problem.precondition_not_met", &[]),
    m("problem.rule_broken", &[]),
    m("problem.too_many_requests", &[]),
    m("problem.unauthenticated", &[]),
    m("problem.unavailable", &[]),
    m("problem.unsupported_media_type", &[]),
    m("refusal_ground_required", &[]),
    m("register_code", &["reason"]),
    m("register_without_cpua", &["reg"]),
    m("release_before_decision", &["decided"]),
    m("released", &[]),
    m("releases_pending", &[]),
    m("required.company", &[]),
    m("required.delegate_account", &[]),
    m("required.field", &[]),
    m("required.terms", &[]),
    m("required.version", &[]),
    m("required_text", &["number", "clause", "obligation", "text"]),
    m("research_principal_kind", &[]),
    m("ruling_before_decision", &[]),
    m("socialstyrelsen_links_its_own_data", &[]),
    m("sub_clause_required", &["n"]),
    m("terminal_state", &["step"]),
    m("text", &["reason"]),
    m("transfer_basis_required", &[]),
    m("type", &["reason"]),
    m("type.integer", &[]),
    m("type.number", &[]),
    m("type.boolean", &[]),
    m("type.text", &[]),
    m("type.list", &[]),
    m("type.object", &[]),
    m("unchanged.cpua", &[]),
    m("unchanged.research_question", &[]),
    m("unique.org_number", &["number"]),
    m("unique.register_code", &["code"]),
    m("unknown_account", &["username"]),
    m("unknown_account.no_such", &[]),
    m("unknown_clause", &["clauses"]),
    m("unknown_clause.in_version", &["number", "clause"]),
    m("unknown_field", &["name", "expected"]),
    m("unknown_linkage_responsible", &[]),
    m("unknown_organisation", &["id"]),
    m("unknown_organisation.no_such", &[]),
    m("unknown_parameter", &["allowed"]),
    m("unknown_register", &["id"]),
    m("key_file.already_deleted", &["date"]),
    m("key_file.before_release", &["released_on"]),
    m("key_file.none_open", &[]),
    m("key_file.not_released", &["cpua_name"]),
    m("mail_language", &["value"]),
    m("outbox_status", &["value", "allowed"]),
    m("use_until_not_after_today", &["date"]),
    m("use_until_without_approval", &[]),
    m("usage_period_not_set", &[]),
    m("usage_period_not_over", &["date"]),
    m("what.usage_period_end", &[]),
    m("uuid", &["value"]),
    m("uuid.account", &[]),
    m("uuid.not_an_id", &[]),
    m("vat_number", &["reason"]),
    m("warning_needs_reason", &["codes"]),
    m("what.agreement", &[]),
    m("what.amendment", &[]),
    m("what.archiving", &[]),
    m("what.close", &[]),
    m("what.confirm_disposal", &[]),
    m("what.cost_agreement", &[]),
    m("what.data_application", &[]),
    m("what.data_release", &[]),
    m("what.ethics_application", &[]),
    m("what.ethics_approval", &[]),
    m("what.evidence", &[]),
    m("what.feasibility", &[]),
    m("what.register_contact", &[]),
    m("what.release_decision", &[]),
    m("what.results", &[]),
    m("what.to_results", &[]),
    m("written_reasons_required", &[]),
    // Identity: people, roles, invitations, companies and API keys (app::identity, app::apikeys).
    m("thing.membership", &[]),
    m("thing.invitation", &[]),
    m("thing.api_key", &[]),
    m("forbidden.read_only_key", &["method"]),
    m("forbidden.api_key_manages", &[]),
    m("forbidden.api_key_switch", &[]),
    m("forbidden.manage_people", &[]),
    m("forbidden.company_role", &[]),
    m("forbidden.grant_membership", &[]),
    m("forbidden.api_keys", &[]),
    m("conflict.last_administrator", &[]),
    m("conflict.already_member", &["email"]),
    m("conflict.invitation_open", &["email"]),
    m("conflict.invitation_closed", &[]),
    m("conflict.membership_exists", &[]),
    m("conflict.membership_revoked", &[]),
    m("conflict.api_key_revoked", &[]),
    m("email", &["reason"]),
    m("email.form", &["value"]),
    m("one_of.role", &["values"]),
    m("one_of.api_key_scope", &[]),
    m("not_your_membership", &[]),
    m("role_for_organisation_kind", &["role", "name"]),
    m("wrong_step", &["what", "allowed", "step"]),
    // Documents and attachments (issue 16).
    m("problem.gone", &[]),
    m("thing.document", &[]),
    m("one_of.document_type", &["values"]),
    m("one_of.document_visibility", &[]),
    m("one_of.document_satisfies", &["values"]),
    m("document_content_type", &["accepted"]),
    m("document_too_large", &["limit"]),
    m("document_file_name", &[]),
    m("document_multipart", &[]),
    m("document_field_unknown", &["field"]),
    m(
        "document_redacted",
        &["when", "who", "organisation", "reason"],
    ),
    m("document_already_redacted", &[]),
    m("forbidden.document_upload", &[]),
    m("forbidden.document_redact", &[]),
    m("document_field_utf8", &[]),
    // Case handling (issue 16: completion requests, consultations, assignment, case numbers).
    m("completion.not_under_review", &[]),
    m("completion.already_open", &["cpua_name"]),
    m("completion.none_open", &[]),
    m("returned_for_completion", &["cpua_name", "due_on"]),
    m("completion.due_not_ahead", &[]),
    m("casework.text_required", &[]),
    m("casework.text_too_long", &["max"]),
    m("casework.case_number", &[]),
    m("casework.items_required", &[]),
    m("casework.unknown_field", &[]),
    m("casework.completion_answered", &[]),
    m("casework.no_such_item", &["count"]),
    m("casework.addressee_role", &[]),
    m("casework.addressee_email", &[]),
    m("casework.addressee", &[]),
    m("casework.consultation_answered", &[]),
    m("casework.not_in_future", &[]),
    m("casework.assignee", &[]),
    m("casework.assigned_mine", &[]),
    m("thing.completion_request", &[]),
    m("thing.consultation", &[]),
    m("forbidden.casework", &[]),
    // Named data users (issue 16 item 6).
    m("thing.data_user", &[]),
    m("forbidden.data_users", &[]),
    m("data_users.case_terminal", &[]),
    m("data_users.not_pending", &[]),
    m("data_users.reason_required", &[]),
    m("data_users.already_removed", &[]),
    m("data_users.already_confirmed", &[]),
    m("data_users.already_named", &[]),
    m("data_users.not_named", &[]),
    m("data_users.accept_required", &[]),
    m("data_users.undertaking_version", &["version"]),
    // Outbound events (issue 16, item 8).
    m("webhook_out.url_invalid", &[]),
    m("webhook_out.url_scheme", &["scheme"]),
    m("webhook_out.url_unresolved", &[]),
    m("webhook_out.url_internal", &["address"]),
    m("webhook_out.too_long", &["max"]),
    m("webhook_out.event_types_required", &[]),
    m("webhook_out.event_type_unknown", &["value", "allowed"]),
    m("thing.webhook_subscription", &[]),
    m("forbidden.webhooks", &[]),
    // Billing (issue 15: work log, invoices, credit notes)
    m("worklog.no_cost_agreement", &[]),
    m("worklog.rate_missing", &[]),
    m("worklog.hours", &[]),
    m("worklog.expense", &[]),
    m("worklog.already_approved", &[]),
    m("credit.lines", &[]),
    m("credit.amount", &[]),
    m("credit.exceeds", &["left"]),
    m("credit.not_issued", &[]),
    m("credit.one_of", &[]),
    m("forbidden.work_log", &[]),
    m("forbidden.approve_own", &[]),
    m("forbidden.invoice", &[]),
    m("thing.work_log_line", &[]),
    m("thing.invoice", &[]),
    m("invoice.buyer_country", &[]),
    m("invoice.buyer_vat_missing", &["country"]),
    m("invoice.buyer_vat_format", &["prefix"]),
    m("invoice.party_field", &[]),
    m("invoice.bankgiro", &[]),
    m("invoice.endpoint", &[]),
    m("invoice.buyer_reference_required", &[]),
    m("invoice.terms", &[]),
    m("invoice.no_lines", &[]),
    m("invoice.injected_fault", &[]),
    m("invoice.already_issued", &[]),
    m("invoice.not_issued", &[]),
    m("invoice.status_filter", &[]),
    m("invoice.lang", &[]),
    // Billing: the cost agreement against the estimate (domain::billing::cost, issue 15 item 1).
    m("cost_far_from_estimate.below", &["agreed", "estimate"]),
    m("cost_far_from_estimate.above", &["agreed", "estimate"]),
    m("cost_ceiling_below_estimate", &[]),
    m("camt", &["line", "path", "problem"]),
    // The collaboration list's search (issue 12).
    m("min_length.search", &["min"]),
    // The S3 document store (issue 16, item 1).
    m("problem.bad_gateway", &[]),
    m("document_store.credentials", &["status", "code"]),
    m("document_store.refused", &["status", "code"]),
    m("document_store.unreachable", &[]),
    m("document_store.changed", &[]),
    m("document_store.missing", &[]),
    // Payments, balance and the finance export (issue 15, items 5, 6 and 8).
    m("payment.target", &[]),
    m("payment.amount", &[]),
    m("payment.currency", &["currency"]),
    m("payment.value_date", &[]),
    m("payment.bank_reference", &[]),
    m("payment.payer_name", &["max"]),
    m("thing.payment", &[]),
    m("payment.allocate_matched", &[]),
    m("payment.allocate_invoice", &[]),
    m("payment.allocate_amount", &["remaining", "currency"]),
    m("payment.duplicate", &[]),
    m("payment.unknown_ocr", &[]),
    m("payment.not_open", &[]),
    m("payment.import_empty", &[]),
    m(
        "payment.import_duplicate",
        &["reference", "first", "second"],
    ),
    m("payment.import_no_reference", &["line"]),
    m("payment.import_not_positive", &["line"]),
    m("payment.overflow", &[]),
    m("forbidden.payment", &[]),
    m("export.date", &[]),
    m("export.period", &["max"]),
    m("payment.import_media_type", &[]),
    // Issue 15 (bill15c): receipts of expense lines, editing a draft, crediting chosen lines.
    m("thing.receipt", &[]),
    m("worklog.receipt_expense_only", &[]),
    m("worklog.receipt_present", &[]),
    m("worklog.receipt_content", &[]),
    m("invoice.draft_stale", &["revision", "sent"]),
    m("invoice.draft_lines", &[]),
    m("invoice.draft_line_unknown", &["line"]),
    m("invoice.not_draft", &[]),
    m("credit.quantity", &["max"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_hold_every_message_with_only_the_parameters_the_code_gives() {
        let errs = check_embedded();
        assert!(errs.is_empty(), "{}", errs.join("\n"));
    }

    #[test]
    fn every_declared_message_is_emitted_somewhere_in_the_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut text = String::new();
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("src is readable") {
                let p = e.expect("a directory entry").path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs")
                    && !p.ends_with("domain/messages.rs")
                {
                    let src = std::fs::read_to_string(&p).expect("a source file");
                    // `msg!(` followed by a line break and indentation counts as `msg!(`.
                    for (i, part) in src.split("msg!(").enumerate() {
                        if i > 0 {
                            text.push_str("msg!(");
                            text.push_str(part.trim_start());
                        } else {
                            text.push_str(part);
                        }
                    }
                }
            }
        }
        let unused: Vec<&str> = MESSAGES
            .iter()
            .map(|d| d.id)
            .filter(|id| !text.contains(&format!("msg!(\"{id}\"")))
            .collect();
        assert!(unused.is_empty(), "declared but never emitted: {unused:?}");
    }

    #[test]
    fn a_message_renders_in_swedish_and_english_with_its_parameters() {
        let m = msg!(
            "wrong_step",
            what = msg!("what.archiving"),
            allowed = Arg::any_of([Step::Results, Step::Archiving]),
            step = Step::Preparation
        );
        assert_eq!(m.rule(), "wrong_step");
        let sv = m.render(Lang::Sv);
        let en = m.render(Lang::En);
        assert!(sv.contains("eller") && sv.contains("förarbete"), "{sv}");
        assert!(en.contains(" or ") && en.contains("preparation"), "{en}");
        assert!(!sv.contains('{') && !en.contains('{'), "{sv} / {en}");
    }

    #[test]
    fn a_variant_keeps_the_rule_code_before_its_dot() {
        let m = msg!("not_editable.released");
        assert_eq!(m.rule(), "not_editable");
        assert_eq!(m.id(), "not_editable.released");
    }

    #[test]
    fn a_template_with_a_placeholder_the_code_does_not_give_is_found() {
        let sv = "lang = \"sv\"\n[words]\nor = \"eller\"\nand = \"och\"\n[messages]\nwrong_step = \"{nope}\"\n";
        let c = Catalogues::parse(sv, EN).expect("parses");
        let t = c.sv.template("wrong_step").expect("present");
        let decl = MESSAGES
            .iter()
            .find(|d| d.id == "wrong_step")
            .expect("declared");
        assert!(placeholders(t).iter().any(|p| !decl.params.contains(p)));
    }

    #[test]
    fn double_braces_are_literal_and_not_parameters() {
        assert_eq!(placeholders("POST {{\"to\": 1}} to {x}"), vec!["x"]);
        let c = catalogues().expect("embedded catalogues parse");
        let en = msg!("not_a_transition").render_in(&c.en);
        assert!(en.contains("POST {\"to\": \"release_decision\""), "{en}");
    }

    #[test]
    fn lists_join_with_the_language_s_word() {
        let c = catalogues().expect("embedded catalogues parse");
        let mut sv = String::new();
        Arg::all_of(["a", "b", "c"]).render(&c.sv, &mut sv);
        assert_eq!(sv, "a, b och c");
        let mut en = String::new();
        Arg::any_of(["a"]).render(&c.en, &mut en);
        assert_eq!(en, "a");
    }
}
