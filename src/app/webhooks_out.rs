//! Outbound events (utgående händelser, issue 16 item 8): an organisation subscribes its diary, e-archive
//! or ERP system to event types of the cases it is on; each event becomes one delivery row per matching
//! subscription, written in the command's own transaction ([`enqueue`]: none for a change that rolls
//! back, none lost for one that commits), and the webhook worker ([`Worker`]) sends it as a signed HTTP
//! callback in the Standard Webhooks scheme, retrying with a doubling pause, and logs each attempt.
//!
//! - Signature: `webhook-id` (the delivery's id, the same on every attempt), `webhook-timestamp` (Unix
//!   seconds of the attempt, by the wall clock: the receiver checks it against its own), and
//!   `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the
//!   subscription's secret `whsec_<base64>`.
//! - The secret is shown once, in the answer that creates the subscription. It is stored as is (it
//!   must be recoverable to sign), never listed, never logged.
//! - Visibility: an organisation hears only of cases it is on (the company, the research principal, the
//!   CPUAs of the registers and every CPUA applied to; [`super::authz::Scope`]), the same rule as
//!   reading the case ([`super::authz::can_see`]).
//! - Outside local mode a URL must resolve to public addresses only (no loopback, private, link-local
//!   or other special-purpose address), checked when the subscription is made and again before each
//!   attempt, which then connects to the address checked; redirects are never followed.
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{AppError, Services};
use crate::config::WebhookSettings;
use crate::db::repo::{ts, utc};
use crate::db::webhooks_out::{self as store, status, DeliveryRow, SubscriptionRow};
use crate::db::DbConn;
use crate::domain::collaboration::Collaboration;
use crate::domain::events::EventType;
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::lifecycle::DomainEvent;
use crate::domain::register::RegisterFacts;
use crate::domain::role::Actor;

/// The event types a subscription may name: the codes of the lifecycle's domain events
/// ([`DomainEvent::code`]).
pub const EVENT_TYPES: [&str; 7] = [
    "feasibility_requested",
    "application_completed",
    "decision_taken",
    "cost_agreement_recorded",
    "data_released",
    "key_file_deleted",
    "disposal_confirmed",
];

/// The longest URL and description accepted.
pub const MAX_URL: usize = 2000;
pub const MAX_DESCRIPTION: usize = 500;
/// How much of a receiver's answer is read (the rest is dropped), and how much of it the log keeps.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
const MAX_ERROR_CHARS: usize = 300;
/// How many deliveries the log answers with, newest first.
pub const LOG_LIMIT: i64 = 200;

/// A new subscription (prenumeration på händelser).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// Where events are POSTed: `https://…` (or `http://…`).
    pub url: String,
    /// The event types wanted, at least one (see [`EVENT_TYPES`]).
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// A subscription as its organisation sees it: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// The answer that creates a subscription: the only one that holds its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub subscription: SubscriptionView,
    /// `whsec_<base64>`: verify each delivery with it (Standard Webhooks). Shown once.
    pub secret: String,
}

/// One delivery in the log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` header: the same on every attempt.
    pub id: String,
    /// The event; one event delivered to several subscriptions keeps its id.
    pub event_id: String,
    pub event_type: String,
    pub collaboration_id: Option<String>,
    /// `pending`, `delivered`, `dead` (every attempt failed) or `cancelled` (the subscription went).
    pub status: String,
    pub attempts: i32,
    /// The HTTP status of the last attempt; none when nothing answered.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

fn view_of(r: SubscriptionRow) -> SubscriptionView {
    SubscriptionView {
        event_types: serde_json::from_str(&r.event_types).unwrap_or_default(),
        id: r.id,
        organisation_id: r.organisation_id,
        url: r.url,
        description: r.description,
        created_at: utc(r.created_at),
    }
}

fn delivery_view(r: DeliveryRow) -> DeliveryView {
    let pending = r.status == status::PENDING;
    DeliveryView {
        id: r.id,
        event_id: r.event_id,
        event_type: r.event_type,
        collaboration_id: r.collaboration_id,
        status: r.status,
        attempts: r.attempts,
        last_status: r.last_status,
        last_error: r.last_error,
        created_at: utc(r.created_at),
        next_attempt_at: pending.then(|| utc(r.next_attempt_at)),
        delivered_at: r.delivered_at.map(utc),
    }
}

// ---------- the URL rule ----------

/// Whether an address is one a production installation must not call: loopback, private, link-local,
/// shared (CGNAT), unspecified, broadcast, multicast, documentation, benchmarking or reserved ranges,
/// and IPv6 unique-local, site-local, and IPv4 addresses mapped into IPv6 or NAT64 that are any of these.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.is_multicast()
                || v.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240
        }
        IpAddr::V6(v) => {
            if let Some(v4) = v.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v.segments();
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let o = v.octets();
                return is_internal(IpAddr::V4(std::net::Ipv4Addr::new(
                    o[12], o[13], o[14], o[15],
                )));
            }
            v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[..6] == [0, 0, 0, 0, 0, 0]
        }
    }
}

/// A URL that passed the rule, with the address to connect to when it was resolved (outside local
/// mode).
#[derive(Debug, Clone)]
pub struct CheckedUrl {
    pub url: url::Url,
    pub pinned: Option<SocketAddr>,
}

/// The rule of a subscription's URL: absolute `http` or `https` with a host, at most [`MAX_URL`]
/// characters, no credentials; with `guard` (every mode but local) every address its host resolves to
/// must be public ([`is_internal`]). Each refusal is a 422 naming `url`.
pub fn check_url(raw: &str, guard: bool) -> Result<CheckedUrl, AppError> {
    let bad = |m| AppError::invalid("url", m);
    let raw = raw.trim();
    if raw.len() > MAX_URL {
        return Err(bad(crate::msg!(
            "webhook_out.too_long",
            max = MAX_URL.to_string()
        )));
    }
    let url = url::Url::parse(raw).map_err(|_| bad(crate::msg!("webhook_out.url_invalid")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(crate::msg!(
            "webhook_out.url_scheme",
            scheme = url.scheme().to_string()
        )));
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad(crate::msg!("webhook_out.url_invalid")));
    }
    if !guard {
        return Ok(CheckedUrl { url, pinned: None });
    }
    let addrs = resolve(&url).map_err(|_| bad(crate::msg!("webhook_out.url_unresolved")))?;
    if let Some(a) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(bad(crate::msg!(
            "webhook_out.url_internal",
            address = a.ip().to_string()
        )));
    }
    let pinned = addrs
        .first()
        .copied()
        .ok_or_else(|| bad(crate::msg!("webhook_out.url_unresolved")))?;
    Ok(CheckedUrl {
        url,
        pinned: Some(pinned),
    })
}

fn resolve(url: &url::Url) -> std::io::Result<Vec<SocketAddr>> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(v)) => vec![SocketAddr::new(IpAddr::V4(v), port)],
        Some(url::Host::Ipv6(v)) => vec![SocketAddr::new(IpAddr::V6(v), port)],
        Some(url::Host::Domain(d)) => (d, port).to_socket_addrs()?.collect(),
        None => vec![],
    };
    if addrs.is_empty() {
        return Err(std::io::Error::other("no address"));
    }
    Ok(addrs)
}

/// Checks the event types: at least one, each known; returns them without repeats, in order given.
pub fn check_event_types(given: &[String]) -> Result<Vec<String>, AppError> {
    if given.is_empty() {
        return Err(AppError::invalid(
            "event_types",
            crate::msg!("webhook_out.event_types_required"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for t in given {
        let t = t.trim();
        if !EVENT_TYPES.contains(&t) {
            return Err(AppError::invalid(
                "event_types",
                crate::msg!(
                    "webhook_out.event_type_unknown",
                    value = t.to_string(),
                    allowed = crate::domain::messages::Arg::any_of(EVENT_TYPES)
                ),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

// ---------- the secret and the signature ----------

/// A new secret: 32 random bytes from the operating system, `whsec_<base64>`.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The `webhook-signature` value of one attempt: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = super::signing_providers::check_secrets(&[secret.to_string()])?
        .into_iter()
        .next()
        .ok_or_else(|| "no secret".to_string())?;
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|e| format!("hmac key: {e}"))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

// ---------- the commands ----------

/// The organisation's audit stream, where its subscriptions are recorded (as its invitations are).
pub fn org_stream(org: &OrgId) -> String {
    format!("organisation:{org}")
}

fn json_of(v: &SubscriptionView) -> Result<serde_json::Value, AppError> {
    Ok(serde_json::to_value(v).map_err(anyhow::Error::from)?)
}

/// Creates a subscription of `org` (the URL checked by the caller, outside the transaction, since it
/// may resolve a name). The answer holds the secret, once.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
    input: SubscriptionInput,
    url: CheckedUrl,
    now: DateTime<Utc>,
) -> Result<CreatedSubscription, AppError> {
    super::authz::may_manage_webhooks(actor, org)?;
    let event_types = check_event_types(&input.event_types)?;
    let description = input.description.trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::invalid(
            "description",
            crate::msg!("webhook_out.too_long", max = MAX_DESCRIPTION.to_string()),
        ));
    }
    if crate::db::repo::find_organisation(conn, org)?.is_none() {
        return Err(AppError::NotFound(crate::msg!("thing.organisation")));
    }
    let secret = new_secret();
    let row = SubscriptionRow {
        id: uuid::Uuid::new_v4().to_string(),
        organisation_id: org.as_str().to_string(),
        url: url.url.to_string(),
        event_types: serde_json::to_string(&event_types).map_err(anyhow::Error::from)?,
        description,
        secret: secret.clone(),
        created_by: actor.account.as_str().to_string(),
        created_at: ts(now),
        deleted_at: None,
    };
    store::insert_subscription(conn, &row)?;
    tracing::info!(subscription = %row.id, org = %row.organisation_id, "webhook subscription created");
    let view = view_of(row);
    // On the organisation's own audit stream, in the same transaction; the view holds no secret.
    super::audit::record(
        conn,
        &org_stream(org),
        actor,
        EventType::WebhookSubscriptionCreated,
        None,
        Some(json_of(&view)?),
        now,
    )?;
    Ok(CreatedSubscription {
        subscription: view,
        secret,
    })
}

/// The live subscriptions of `org`, oldest first, without their secrets.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
) -> Result<Vec<SubscriptionView>, AppError> {
    super::authz::may_manage_webhooks(actor, org)?;
    Ok(store::list(conn, org.as_str())?
        .into_iter()
        .map(view_of)
        .collect())
}

fn not_found() -> AppError {
    AppError::NotFound(crate::msg!("thing.webhook_subscription"))
}

/// Deletes a subscription: nothing more is sent to it; deliveries still pending are cancelled.
pub fn delete(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    super::authz::may_manage_webhooks(actor, org)?;
    let before = store::live(conn, org.as_str(), id)?.ok_or_else(not_found)?;
    if !store::delete(conn, org.as_str(), id, now)? {
        return Err(not_found());
    }
    tracing::info!(subscription = %id, org = %org, "webhook subscription deleted");
    let before = json_of(&view_of(before))?;
    super::audit::record(
        conn,
        &org_stream(org),
        actor,
        EventType::WebhookSubscriptionDeleted,
        Some(before),
        Some(serde_json::json!({"id": id, "deleted_at": now})),
        now,
    )?;
    Ok(())
}

/// The delivery log of a live subscription, newest first (at most [`LOG_LIMIT`]).
pub fn deliveries(
    conn: &mut DbConn,
    actor: &Actor,
    org: &OrgId,
    id: &str,
) -> Result<Vec<DeliveryView>, AppError> {
    super::authz::may_manage_webhooks(actor, org)?;
    let sub = store::live(conn, org.as_str(), id)?.ok_or_else(not_found)?;
    Ok(store::deliveries(conn, &sub.id, LOG_LIMIT)?
        .into_iter()
        .map(delivery_view)
        .collect())
}

// ---------- events in, in the command's transaction ----------

/// The organisations that may see a collaboration, as [`super::authz::can_see`] decides for their
/// people: the company, the research principal, the CPUAs of its registers now and every CPUA applied to.
pub fn organisations_on(
    c: &Collaboration,
    registers: &BTreeMap<RegisterId, RegisterFacts>,
) -> BTreeSet<OrgId> {
    let scope = super::authz::Scope::of(
        c,
        c.registers
            .iter()
            .filter_map(|r| registers.get(r).map(|f| f.cpua.clone())),
    );
    let mut orgs = scope.cpuas;
    orgs.insert(scope.company);
    orgs.extend(scope.principal);
    orgs
}

/// The body of one event: `{"type", "timestamp", "data"}` (the Standard Webhooks convention); `data`
/// holds the event id, the case and what the event's notice says (never a token or secret).
pub fn payload_of(
    c: &Collaboration,
    event: &DomainEvent,
    event_id: &str,
    registers: &BTreeMap<RegisterId, RegisterFacts>,
    now: DateTime<Utc>,
) -> serde_json::Value {
    let mut data = super::notify::data_of(c, event, registers);
    if let Some(o) = data.as_object_mut() {
        o.insert("event_id".into(), event_id.into());
    }
    serde_json::json!({
        "type": event.code(),
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    })
}

/// Writes one delivery row per event and live subscription, of an organisation on the case, that
/// names the event's type. Call it in the command's own transaction. Returns how many were written.
pub fn enqueue(
    conn: &mut DbConn,
    c: &Collaboration,
    events: &[DomainEvent],
    registers: &BTreeMap<RegisterId, RegisterFacts>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    if events.is_empty() {
        return Ok(0);
    }
    let orgs: Vec<String> = organisations_on(c, registers)
        .into_iter()
        .map(|o| o.as_str().to_string())
        .collect();
    let subs = store::live_for_orgs(conn, &orgs)?;
    if subs.is_empty() {
        return Ok(0);
    }
    let wanted: Vec<(SubscriptionRow, Vec<String>)> = subs
        .into_iter()
        .map(|s| {
            let types = serde_json::from_str(&s.event_types).unwrap_or_default();
            (s, types)
        })
        .collect();
    let mut rows = Vec::new();
    for event in events {
        let code = event.code();
        let event_id = uuid::Uuid::new_v4().to_string();
        let body = payload_of(c, event, &event_id, registers, now).to_string();
        for (s, types) in &wanted {
            if types.iter().any(|t| t == code) {
                rows.push(DeliveryRow {
                    id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
                    subscription_id: s.id.clone(),
                    event_id: event_id.clone(),
                    event_type: code.to_string(),
                    collaboration_id: Some(c.id.as_str().to_string()),
                    payload: body.clone(),
                    status: status::PENDING.to_string(),
                    attempts: 0,
                    next_attempt_at: ts(now),
                    lease_until: None,
                    lease_owner: None,
                    last_status: None,
                    last_error: None,
                    created_at: ts(now),
                    delivered_at: None,
                });
            }
        }
    }
    Ok(store::insert_deliveries(conn, &rows)?)
}

// ---------- the sender ----------

/// How the webhook worker behaves, from `[webhooks]` and the mode.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub lease: Duration,
    pub poll: Duration,
    pub timeout: Duration,
    pub batch: i64,
    /// Every mode but local: refuse internal addresses before each attempt, and connect to the one
    /// checked.
    pub guard: bool,
}

impl WorkerConfig {
    pub fn from_settings(s: &WebhookSettings, guard: bool) -> WorkerConfig {
        WorkerConfig {
            max_attempts: s.max_attempts,
            retry_base: Duration::from_secs(s.retry_base_seconds),
            lease: Duration::from_secs(s.lease_seconds),
            poll: Duration::from_millis(s.poll_interval_ms),
            timeout: Duration::from_secs(s.timeout_seconds),
            batch: s.batch_size,
            guard,
        }
    }

    /// The pause after the `attempts`-th failure: the base, doubled each time, at most six hours.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(6 * 3600))
    }

    fn client(&self, pin: Option<(&str, SocketAddr)>) -> Result<reqwest::Client, String> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(concat!("samverkan-webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some((host, addr)) = pin {
            b = b.resolve(host, addr);
        }
        b.build().map_err(|e| format!("http client: {e}"))
    }
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(6))
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
    pub dead: usize,
}

/// The outcome of one attempt: the HTTP status if something answered, and the failure if it failed.
struct Attempt {
    status: Option<i32>,
    error: Option<String>,
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_ERROR_CHARS).collect();
    if s.chars().count() > MAX_ERROR_CHARS {
        out.push('…');
    }
    out
}

async fn attempt(
    cfg: &WorkerConfig,
    shared: &reqwest::Client,
    sub: &SubscriptionRow,
    row: &DeliveryRow,
) -> Attempt {
    let failed = |e: String| Attempt {
        status: None,
        error: Some(shorten(&e)),
    };
    let checked = match check_url(&sub.url, cfg.guard) {
        Ok(c) => c,
        Err(_) => {
            return failed(
                "the URL is refused (it resolves to an internal address, or not at all)".into(),
            )
        }
    };
    let pinned;
    let client = match (checked.pinned, checked.url.host_str()) {
        (Some(addr), Some(host)) => match cfg.client(Some((host, addr))) {
            Ok(c) => {
                pinned = c;
                &pinned
            }
            Err(e) => return failed(e),
        },
        _ => shared,
    };
    // The wall clock, not the service clock: the receiver checks the timestamp against its own.
    let stamp = Utc::now().timestamp();
    let signature = match sign(&sub.secret, &row.id, stamp, row.payload.as_bytes()) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let sent = client
        .post(checked.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &row.id)
        .header("webhook-timestamp", stamp.to_string())
        .header("webhook-signature", signature)
        .body(row.payload.clone())
        .send()
        .await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            return failed(msg);
        }
    };
    let code = resp.status();
    // The answer is read only so far, then dropped.
    let mut answer = Vec::new();
    while answer.len() < MAX_ANSWER_BYTES {
        match resp.chunk().await {
            Ok(Some(c)) => {
                answer.extend_from_slice(&c[..c.len().min(MAX_ANSWER_BYTES - answer.len())])
            }
            _ => break,
        }
    }
    let status = Some(i32::from(code.as_u16()));
    if code.is_success() {
        Attempt {
            status,
            error: None,
        }
    } else {
        let text = String::from_utf8_lossy(&answer);
        Attempt {
            status,
            error: Some(shorten(&format!("HTTP {}: {}", code.as_u16(), text.trim()))),
        }
    }
}

/// One round: claim what is due, send it, record each outcome.
pub fn run_once(
    svc: &Services,
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    cfg: &WorkerConfig,
    owner: &str,
) -> Result<Round, AppError> {
    let now = svc.clock.now();
    if !svc.read(|c| Ok(store::any_due(c, now)?))? {
        return Ok(Round::default());
    }
    let lease_until = now + chrono_of(cfg.lease);
    let rows = svc.write(|c| Ok(store::claim(c, owner, now, lease_until, cfg.batch)?))?;
    let mut round = Round::default();
    for row in rows {
        let sub = svc.read(|c| Ok(store::by_id(c, &row.subscription_id)?))?;
        let outcome = match &sub {
            Some(s) if s.deleted_at.is_none() => rt.block_on(attempt(cfg, client, s, &row)),
            _ => Attempt {
                status: None,
                error: Some("the subscription was deleted".into()),
            },
        };
        let now = svc.clock.now();
        match outcome.error {
            None => {
                let code = outcome.status.unwrap_or(200);
                svc.write(|c| Ok(store::mark_delivered(c, &row.id, owner, code, now)?))?;
                tracing::info!(delivery = %row.id, event = %row.event_type, status = code, "webhook delivered");
                round.delivered += 1;
            }
            Some(e) => {
                let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                let retry_at = (attempts < cfg.max_attempts && sub.is_some())
                    .then(|| now + chrono_of(cfg.backoff(attempts)));
                svc.write(|c| {
                    Ok(store::mark_failed(
                        c,
                        &row.id,
                        owner,
                        outcome.status,
                        &e,
                        retry_at,
                    )?)
                })?;
                if retry_at.is_some() {
                    tracing::warn!(delivery = %row.id, attempts, error = %e, "webhook not delivered; retried later");
                    round.failed += 1;
                } else {
                    tracing::error!(delivery = %row.id, attempts, error = %e, "webhook dead after its last attempt");
                    round.dead += 1;
                }
            }
        }
    }
    Ok(round)
}

/// The webhook worker in a thread of its own (with a runtime of its own for the HTTP client); stops
/// when dropped.
pub struct Worker {
    stop: Arc<AtomicBool>,
    /// Dropping it wakes the worker from its pause between rounds.
    wake: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    pub fn start(svc: Services, cfg: WorkerConfig) -> anyhow::Result<Worker> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("cannot start a runtime for webhooks: {e}"))?;
        let client = cfg.client(None).map_err(|e| anyhow::anyhow!(e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (wake, woken) = std::sync::mpsc::channel::<()>();
        let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let thread = std::thread::Builder::new()
            .name("webhooks-out".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match run_once(&svc, &rt, &client, &cfg, &owner) {
                        // Work left over: go on at once.
                        Ok(r) if r.delivered + r.failed + r.dead > 0 => continue,
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "the webhook round failed"),
                    }
                    if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) =
                        woken.recv_timeout(cfg.poll)
                    {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            stop,
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Asks the worker to stop and waits for the delivery in hand.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Worker {
    /// Stops the worker and waits for the round in hand, so that nothing is sent, and no database
    /// used, by a worker whose application has gone.
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::collaboration::DecisionOutcome;

    #[test]
    fn internal_addresses_are_recognised_and_public_ones_are_not() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in [
            "193.10.1.1",
            "8.8.8.8",
            "2a00:1450:4001::1",
            "::ffff:193.10.1.1",
        ] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }

    fn field_of(e: AppError) -> String {
        match e {
            AppError::Invalid(errs) => errs[0].field.clone(),
            other => panic!("not a 422: {other:?}"),
        }
    }

    #[test]
    fn a_url_is_http_or_https_and_outside_local_mode_never_internal() {
        for bad in [
            "ftp://example.org/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "not a url",
            "https://user:pw@example.org/",
        ] {
            assert_eq!(field_of(check_url(bad, false).unwrap_err()), "url", "{bad}");
        }
        // Local mode: a receiver on this machine is fine (the tests use one).
        assert!(check_url("http://127.0.0.1:9000/hook", false).is_ok());
        // Production: loopback, private and link-local addresses, also by name, are refused.
        for bad in [
            "http://127.0.0.1:9000/hook",
            "https://10.0.0.5/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:8080/hook",
        ] {
            assert_eq!(field_of(check_url(bad, true).unwrap_err()), "url", "{bad}");
        }
        let ok = check_url("https://193.10.1.1/hook", true).unwrap();
        assert_eq!(ok.pinned.unwrap().port(), 443);
    }

    #[test]
    fn event_types_are_known_codes_and_every_domain_event_has_one() {
        assert!(check_event_types(&[]).is_err());
        assert!(check_event_types(&["decision_made".into()]).is_err());
        assert_eq!(
            check_event_types(&["decision_taken".into(), "decision_taken".into()]).unwrap(),
            vec!["decision_taken".to_string()]
        );
        let o = OrgId::new();
        let d = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let all = [
            DomainEvent::FeasibilityRequested { registers: vec![] },
            DomainEvent::ApplicationCompleted {
                cpua: o.clone(),
                cpua_name: "x".into(),
                due_on: None,
            },
            DomainEvent::DecisionTaken {
                cpua: o.clone(),
                cpua_name: "x".into(),
                outcome: DecisionOutcome::Approved,
            },
            DomainEvent::CostAgreementRecorded {
                reference: "r".into(),
            },
            DomainEvent::DataReleased {
                cpua: o.clone(),
                cpua_name: "x".into(),
                released_on: d,
                key_deletion_on: d,
            },
            DomainEvent::KeyFileDeleted {
                cpua: o,
                cpua_name: "x".into(),
                deleted_on: d,
            },
            DomainEvent::DisposalConfirmed,
        ];
        let codes: Vec<&str> = all.iter().map(DomainEvent::code).collect();
        assert_eq!(codes, EVENT_TYPES);
    }

    #[test]
    fn the_signature_is_standard_webhooks_v1() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let s = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(s, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(new_secret().starts_with("whsec_"));
        assert_ne!(new_secret(), new_secret());
    }

    #[test]
    fn the_pause_doubles_after_each_failure_up_to_six_hours() {
        let cfg = WorkerConfig::from_settings(&WebhookSettings::default(), true);
        assert_eq!(cfg.backoff(1), Duration::from_secs(30));
        assert_eq!(cfg.backoff(3), Duration::from_secs(120));
        assert_eq!(cfg.backoff(40), Duration::from_secs(6 * 3600));
    }
}
