//! Extractors at the edge: the acting principal, JSON bodies with field-named errors, paging.
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use chrono::NaiveDate;
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::{ready, Ready};

use crate::app::{AppError, FieldError};
use crate::domain::role::Actor;
use crate::domain::text::{check_characters, check_date_range, MAX_LIST_ITEMS, MAX_TEXT_CHARS};
use crate::http::AppState;

/// The authenticated principal, put in place by the authentication middleware.
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .map(Authenticated)
                .ok_or_else(|| AppError::Unauthenticated(crate::msg!("unauthenticated.no_token"))),
        )
    }
}

/// A JSON body, bounded in size, whose errors name the field at fault.
pub struct JsonBody<T>(pub T);

fn serde_error(path: String, e: serde_json::Error) -> AppError {
    use serde_json::error::Category;
    match e.classify() {
        // serde's own sentence is English; the line and column say where without it.
        Category::Syntax => AppError::BadRequest(crate::msg!(
            "malformed_json",
            line = e.line(),
            column = e.column()
        )),
        Category::Eof => AppError::BadRequest(crate::msg!("malformed_json.incomplete")),
        Category::Io => {
            tracing::warn!(error = %e, "reading the body");
            AppError::BadRequest(crate::msg!("read_body"))
        }
        Category::Data => {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let base = if path == "." { String::new() } else { path };
            let named = |m: &str| m.split('`').nth(1).map(str::to_string);
            let (field, message) = if msg.starts_with("missing field") {
                let f = named(&msg).unwrap_or_default();
                (
                    if base.is_empty() {
                        f
                    } else {
                        format!("{base}.{f}")
                    },
                    crate::msg!("required.field"),
                )
            } else if msg.starts_with("unknown field") {
                // The path already ends with the unknown key.
                let (name, expected) = quoted_and_expected(&msg);
                (
                    if base.is_empty() { name.clone() } else { base },
                    crate::msg!("unknown_field", name = name, expected = expected),
                )
            } else if msg.starts_with("unknown variant") {
                let (value, expected) = quoted_and_expected(&msg);
                (
                    base,
                    crate::msg!("one_of.variant", value = value, expected = expected),
                )
            } else if let Some(rest) = msg.strip_prefix("invalid type: ") {
                (base, type_message(rest))
            } else if let Some(m) = crate::domain::messages::take_rendered(&msg) {
                // A domain type refused the value through its own constructor (`try_from`): its
                // message, in the response's language, not the English text serde kept of it.
                (base, m)
            } else {
                (base, crate::msg!("invalid", reason = msg))
            };
            let field = if field.is_empty() {
                "body".into()
            } else {
                field
            };
            AppError::Invalid(vec![FieldError::new(field, message)])
        }
    }
}

/// The first quoted name of serde's "unknown field/variant `x`, expected one of `a`, `b`" and the
/// names it expects, as "a, b or c" in the response's language ("none" when serde says there are
/// none).
fn quoted_and_expected(msg: &str) -> (String, crate::domain::messages::Arg) {
    let mut quoted = msg.split('`').skip(1).step_by(2).map(str::to_string);
    let first = quoted.next().unwrap_or_default();
    let rest: Vec<String> = quoted.collect();
    let expected = if rest.is_empty() {
        crate::domain::messages::Arg::from(crate::msg!("none_expected"))
    } else {
        crate::domain::messages::Arg::any_of(rest)
    };
    (first, expected)
}

/// serde's "invalid type: string \"x\", expected i64" as what the field takes, in words of the
/// response's language; a shape not recognised keeps serde's text.
fn type_message(rest: &str) -> crate::domain::messages::Message {
    let expected = rest.rsplit(", expected ").next().unwrap_or(rest);
    let e = expected.trim_start_matches("a ").trim_start_matches("an ");
    let integer = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ];
    if integer.contains(&e) || e.starts_with("integer") {
        crate::msg!("type.integer")
    } else if e == "f64" || e == "f32" || e.starts_with("number") {
        crate::msg!("type.number")
    } else if e == "boolean" || e == "bool" {
        crate::msg!("type.boolean")
    } else if e.starts_with("string") || e == "str" || e == "char" || e.starts_with("borrowed str")
    {
        crate::msg!("type.text")
    } else if e.starts_with("sequence") || e.starts_with("tuple") {
        crate::msg!("type.list")
    } else if e.starts_with("map") || e.starts_with("struct") || e.starts_with("internally tagged")
    {
        crate::msg!("type.object")
    } else {
        crate::msg!("type", reason = rest)
    }
}

/// The checks every JSON body passes before it is read into its type, so that every text field
/// and every list of every endpoint obeys one validation, whatever handler it reaches:
///
/// - no string (value or key) holds NUL or another control character other than line break and
///   tab (`control_characters`; single-line fields refuse those too, in [`parse_line`]);
/// - no string is longer than [`MAX_TEXT_CHARS`] (`max_length`);
/// - no list has more than [`MAX_LIST_ITEMS`] items (`max_items`), and a list of texts names each
///   value once (`duplicate`: 40,000 × "US" is not a list of recipient countries);
/// - every string that is an ISO date (`YYYY-MM-DD`) lies in 1990–2100 (`date_range`): this is
///   the one place where every date the API takes is checked, whatever field carries it.
///
/// Each fault names its field by path (`recipient_countries[1]`, `dossier.requested_data[0]`).
///
/// [`parse_line`]: crate::domain::text::parse_line
pub fn check_body(v: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    walk(v, &mut String::new(), &mut errs);
    errs
}

const MAX_ERRORS: usize = 50;

fn field_name(path: &str) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.to_string()
    }
}

fn walk(v: &Value, path: &mut String, errs: &mut Vec<FieldError>) {
    if errs.len() >= MAX_ERRORS {
        return;
    }
    match v {
        Value::String(s) => check_string(s, path, errs),
        Value::Array(items) => {
            if items.len() > MAX_LIST_ITEMS {
                errs.push(FieldError::new(
                    field_name(path),
                    crate::msg!("max_items", max = MAX_LIST_ITEMS),
                ));
                return;
            }
            let mut seen = std::collections::HashSet::new();
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if let Value::String(s) = item {
                    if !seen.insert(s.as_str()) {
                        errs.push(FieldError::new(
                            path.clone(),
                            crate::msg!("duplicate", value = short(s)),
                        ));
                    }
                }
                walk(item, path, errs);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if check_characters(k, false).is_err() {
                    errs.push(FieldError::new(
                        field_name(&path.escape_debug().to_string()),
                        crate::msg!("control_characters.field_name"),
                    ));
                } else {
                    walk(item, path, errs);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn short(s: &str) -> String {
    let t: String = s.chars().take(40).collect();
    t.escape_debug().to_string()
}

fn check_string(s: &str, path: &str, errs: &mut Vec<FieldError>) {
    if let Err(m) = check_characters(s, true) {
        errs.push(FieldError::new(
            field_name(path),
            crate::msg!("control_characters", reason = m),
        ));
        return;
    }
    if s.chars().count() > MAX_TEXT_CHARS {
        errs.push(FieldError::new(
            field_name(path),
            crate::msg!("max_length", max = MAX_TEXT_CHARS),
        ));
        return;
    }
    // A date in any field: chrono reads `YYYY-MM-DD` (and wider years such as `+12345-01-01`).
    if s.len() <= 16
        && s.contains('-')
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'+')
    {
        if let Ok(d) = s.parse::<NaiveDate>() {
            if let Err(m) = check_date_range(d) {
                errs.push(FieldError::new(
                    field_name(path),
                    crate::msg!("date_range", reason = m),
                ));
            }
        }
    }
}

/// How many trial reads [`locate`] may spend to name the field of an error serde reports at the
/// root, and the largest body it tries them on: the search runs only on refused input, bounded.
const LOCATE_BUDGET: usize = 120;
const LOCATE_MAX_BODY: usize = 64 * 1024;

fn read<T: DeserializeOwned>(v: Value) -> Result<T, (String, serde_json::Error)> {
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
        let path = e.path().to_string();
        (path, e.into_inner())
    })
}

fn message_of<T: DeserializeOwned>(v: &Value) -> Option<String> {
    read::<T>(v.clone()).err().map(|(_, e)| e.to_string())
}

fn node_mut<'a>(v: &'a mut Value, at: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in at {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render_path(at: &[Seg]) -> String {
    let mut s = String::new();
    for seg in at {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Names the field of an error that serde reports without a path. Inside an internally tagged
/// enum (`{"action": "record_ethics_approval", "decided_on": …}`) serde buffers the body and
/// loses the path, so a wrong type would name `body`. The search removes one key at a time: the
/// key whose removal changes the error is at fault, unless it is the tag (removing the tag
/// changes the error too, but removing the tag together with the field at fault still gives the
/// tag's error). It then descends into that key's value; lists are cut after each item.
fn locate<T: DeserializeOwned>(root: &Value, msg: &str) -> Option<String> {
    let mut budget = LOCATE_BUDGET;
    let mut at: Vec<Seg> = Vec::new();
    loop {
        let mut probe = root.clone();
        let node = node_mut(&mut probe, &at)?.clone();
        let found = match node {
            Value::Object(map) if !map.is_empty() && map.len() <= 64 => {
                let mut changed: Vec<(String, Option<String>)> = Vec::new();
                for k in map.keys() {
                    if budget == 0 {
                        return None;
                    }
                    budget -= 1;
                    let mut v = root.clone();
                    if let Some(Value::Object(m)) = node_mut(&mut v, &at) {
                        m.remove(k);
                    }
                    let e = message_of::<T>(&v);
                    if e.as_deref() != Some(msg) {
                        changed.push((k.clone(), e));
                    }
                }
                match changed.len() {
                    0 => None,
                    1 => Some(Seg::Key(changed.remove(0).0)),
                    _ => {
                        budget = budget.checked_sub(1)?;
                        let mut v = root.clone();
                        if let Some(Value::Object(m)) = node_mut(&mut v, &at) {
                            for (k, _) in &changed {
                                m.remove(k);
                            }
                        }
                        let all = message_of::<T>(&v);
                        let culprits: Vec<&String> = changed
                            .iter()
                            .filter(|(_, e)| *e != all)
                            .map(|(k, _)| k)
                            .collect();
                        (culprits.len() == 1).then(|| Seg::Key(culprits[0].clone()))
                    }
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let mut hit = None;
                for i in 0..items.len() {
                    if budget == 0 {
                        return None;
                    }
                    budget -= 1;
                    let mut v = root.clone();
                    if let Some(Value::Array(a)) = node_mut(&mut v, &at) {
                        a.truncate(i + 1);
                    }
                    if message_of::<T>(&v).as_deref() == Some(msg) {
                        hit = Some(Seg::Index(i));
                        break;
                    }
                }
                hit
            }
            _ => None,
        };
        match found {
            Some(seg) => at.push(seg),
            None => return (!at.is_empty()).then(|| render_path(&at)),
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.server.max_body_bytes)
            .unwrap_or(262_144);
        let json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let too_large =
                || AppError::PayloadTooLarge(crate::msg!("payload_too_large", limit = limit));
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large());
            }
            if !json {
                return Err(AppError::UnsupportedMediaType(crate::msg!(
                    "unsupported_media_type"
                )));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    tracing::warn!(error = %e, "reading the body");
                    AppError::BadRequest(crate::msg!("read_body"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let value: Value =
                serde_json::from_slice(&body).map_err(|e| serde_error(".".into(), e))?;
            parse_checked(value, body.len() <= LOCATE_MAX_BODY).map(JsonBody)
        })
    }
}

/// A JSON value read into its input type with every check a JSON body passes ([`check_body`]) and
/// errors that name the field: what the pages' forms use, so that a form and an API call are
/// validated alike.
pub fn parse_value<T: DeserializeOwned>(value: Value) -> Result<T, AppError> {
    let small = value.to_string().len() <= LOCATE_MAX_BODY;
    parse_checked(value, small)
}

fn parse_checked<T: DeserializeOwned>(value: Value, small: bool) -> Result<T, AppError> {
    let errs = check_body(&value);
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    match read::<T>(value.clone()) {
        Ok(v) => Ok(v),
        Err((path, e)) => {
            let msg = e.to_string();
            // Missing and unknown fields name themselves in the message.
            let named = msg.starts_with("missing field") || msg.starts_with("unknown field");
            let root = (path.is_empty() || path == ".") && !named;
            let path = match (root, small, value.is_object()) {
                (true, true, true) => locate::<T>(&value, &msg).unwrap_or(path),
                _ => path,
            };
            Err(serde_error(path, e))
        }
    }
}

/// The query string as key/value pairs, refusing keys not in `allowed`.
pub fn query_pairs(req: &HttpRequest, allowed: &[&str]) -> Result<Vec<(String, String)>, AppError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let unknown: Vec<FieldError> = pairs
        .iter()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .map(|(k, _)| {
            FieldError::new(
                k.clone(),
                crate::msg!(
                    "unknown_parameter",
                    allowed = crate::domain::messages::Arg::all_of(allowed.iter().copied())
                ),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::Invalid(unknown));
    }
    Ok(pairs)
}

/// Page size and position of a keyset-paginated list: `per_page` (at most `api.max_page_size`) and
/// the opaque `cursor` from the previous page's `next_cursor`.
pub struct Paging {
    pub per_page: i64,
    pub cursor: Option<String>,
}

/// A cursor whose key does not fit the list: answered 400 naming `cursor`.
pub fn other_list() -> AppError {
    AppError::BadParameter(FieldError::new("cursor", crate::msg!("other_list")))
}

fn malformed_cursor() -> AppError {
    AppError::BadParameter(FieldError::new("cursor", crate::msg!("malformed_cursor")))
}

/// The check that binds a cursor to its list: the first 16 hex digits of SHA-256 over the list's
/// filter fingerprint and the key. It is an integrity check, not a secret: a cursor only says where a
/// page starts, and every row is still filtered by what the actor may see.
fn cursor_check(fingerprint: &str, key: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"samverkan-cursor-v1\0");
    h.update(fingerprint.as_bytes());
    for k in key {
        h.update(b"\0");
        h.update(k.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CursorBody {
    /// The sort key of the last row shown.
    k: Vec<String>,
    /// [`cursor_check`] of the filter fingerprint and `k`.
    c: String,
}

/// An opaque cursor for the page after the row with sort key `key`, in the list named by
/// `fingerprint` (the sort and every filter, and who asks).
pub fn encode_cursor(fingerprint: &str, key: Vec<String>) -> String {
    use base64::Engine;
    let c = cursor_check(fingerprint, &key);
    let body = serde_json::to_vec(&CursorBody { k: key, c }).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body)
}

impl Paging {
    /// The sort key the cursor carries, if there is one. A cursor that is not ours, was changed, or
    /// belongs to another list (other filters, sort or caller) is answered 400 naming `cursor`.
    pub fn after(&self, fingerprint: &str, parts: usize) -> Result<Option<Vec<String>>, AppError> {
        use base64::Engine;
        let Some(raw) = &self.cursor else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim_end_matches('='))
            .map_err(|_| malformed_cursor())?;
        let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| malformed_cursor())?;
        if body.k.len() != parts || body.c != cursor_check(fingerprint, &body.k) {
            return Err(other_list());
        }
        Ok(Some(body.k))
    }

    /// The page of a list read with one row more than a page (`per_page + 1`): that extra row only
    /// says another page follows, whose cursor is `key_of` the page's last row.
    pub fn page_after_lookahead<T>(
        &self,
        req: &HttpRequest,
        mut items: Vec<T>,
        counted: i64,
        cap: i64,
        fingerprint: &str,
        key_of: impl Fn(&T) -> Vec<String>,
    ) -> Page<T> {
        let limit = usize::try_from(self.per_page).unwrap_or(usize::MAX);
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|x| encode_cursor(fingerprint, key_of(x)))
        } else {
            None
        };
        self.page(req, items, counted, cap, next)
    }

    /// The page of a list: its items, the total counted up to `cap` + 1, and the cursor of the next
    /// page when there is one. `next` is the request's own path and query with that cursor.
    pub fn page<T>(
        &self,
        req: &HttpRequest,
        items: Vec<T>,
        counted: i64,
        cap: i64,
        next_cursor: Option<String>,
    ) -> Page<T> {
        let next = next_cursor.as_ref().map(|c| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
                if k != "cursor" {
                    q.append_pair(&k, &v);
                }
            }
            q.append_pair("cursor", c);
            format!("{}?{}", req.path(), q.finish())
        });
        Page {
            items,
            per_page: self.per_page,
            total: counted.min(cap),
            total_exact: counted <= cap,
            next_cursor,
            next,
        }
    }

    pub fn parse(pairs: &[(String, String)], state: &AppState) -> Result<Paging, AppError> {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let max = state.settings.api.max_page_size;
        let per_page = match get("per_page") {
            None => state.settings.api.default_page_size,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=max).contains(p))
                .ok_or_else(|| AppError::invalid("per_page", crate::msg!("max", max = max)))?,
        };
        let cursor = get("cursor").map(str::to_string);
        Ok(Paging { per_page, cursor })
    }
}

/// A page of a list. Follow `next` (or send `cursor=<next_cursor>` with the same filters) for the
/// page after; there is none when `next` is null. Pages are keyset pages: a page costs the same
/// however deep it is, and rows added meanwhile never shift a page.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub per_page: i64,
    /// How many rows the list has, counted up to a cap (1000): exact when `total_exact` is true,
    /// otherwise "at least this many".
    pub total: i64,
    pub total_exact: bool,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
    /// The path and query of the next page, if there is one.
    pub next: Option<String>,
}

/// The version a client expects, from `If-Match: "N"`.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, AppError> {
    let Some(v) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    if s == "*" {
        return Ok(None);
    }
    s.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| AppError::invalid("If-Match", crate::msg!("etag")))
}

/// How long a list request waits for a place among the running list queries before it is answered
/// 503 with `Retry-After`.
pub const LIST_GATE_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// A place among the running list queries (see [`crate::db::conn::ListGate`]), waiting up to
/// [`LIST_GATE_WAIT`]; when none frees up, the 503 answer to send (with `Retry-After: 1`).
pub async fn enter_list_gate(
    gate: &std::sync::Arc<crate::db::conn::ListGate>,
) -> Result<crate::db::conn::ListPermit, AppError> {
    let deadline = std::time::Instant::now() + LIST_GATE_WAIT;
    loop {
        if let Some(p) = gate.try_enter() {
            return Ok(p);
        }
        if std::time::Instant::now() >= deadline {
            return Err(AppError::ListsBusy { max: gate.max() });
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Set when the request is dropped before its answer is ready (the client went away): the blocking
/// work checks it before each statement and stops, so an abandoned list does not run on.
pub struct Abandoned {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    armed: bool,
}

impl Abandoned {
    pub fn new() -> Abandoned {
        Abandoned {
            flag: Default::default(),
            armed: true,
        }
    }

    /// The flag the blocking work reads.
    pub fn flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.flag.clone()
    }

    /// The answer is ready: dropping no longer means the client left.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Default for Abandoned {
    fn default() -> Self {
        Abandoned::new()
    }
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(true, std::sync::atomic::Ordering::Release);
        }
    }
}
