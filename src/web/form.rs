//! Forms (formulär): a page's form is read into the API's own input types, so a form and an API
//! call pass the same validation and reach the same command.
//!
//! A field's name says where its value goes in the JSON the input type reads:
//!
//! - `purpose` is a string; an empty field is left out (as if not sent);
//! - `a.b` goes into the object `a` (any depth);
//! - `countries[]` is a list, one value per field sent (checkboxes, repeated inputs);
//! - `lines[0].text` is an item of a list of objects;
//! - `:int`, `:bool` and `:lines` after a name read an integer, a yes/no (`true`, `on`, `ja`,
//!   `yes` / anything else), or a text split into its non-empty lines (a list);
//! - `csrf_token`, `version` and names starting with `_` belong to the page, not the input.
//!
//! A form with errors is shown again with what was entered ([`Entered`]) and each message beside
//! its field ([`FormErrors`]).
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::app::AppError;
use crate::domain::lang::Lang;
use crate::http::AppState;

/// A form body (`application/x-www-form-urlencoded`), bounded like every body.
#[derive(Debug, Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `version` field: the version of the case the form was made from.
    pub fn version(&self) -> Option<i64> {
        self.get("version").and_then(|v| v.trim().parse().ok())
    }

    /// The fields that belong to the input, as JSON.
    pub fn to_json(&self) -> Value {
        to_json(&self.0)
    }

    /// The input type read from the fields, with the API's own checks and field names.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        crate::http::extract::parse_value(self.to_json())
    }

    /// What was entered, to show the form again.
    pub fn entered(&self) -> Entered {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &self.0 {
            if k == "csrf_token" {
                continue;
            }
            out.entry(strip_kind(k).trim_end_matches("[]").to_string())
                .or_default()
                .push(v.clone());
        }
        Entered(out)
    }
}

impl FromRequest for Form {
    type Error = AppError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Form, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.server.max_body_bytes)
            .unwrap_or(262_144);
        let is_form = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_form {
                return Err(AppError::UnsupportedMediaType(crate::msg!(
                    "unsupported_media_type"
                )));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| AppError::BadRequest(crate::msg!("read_body")))?;
                if body.len() + chunk.len() > limit {
                    return Err(AppError::PayloadTooLarge(crate::msg!(
                        "payload_too_large",
                        limit = limit
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Form(
                url::form_urlencoded::parse(&body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ))
        })
    }
}

fn strip_kind(name: &str) -> &str {
    for kind in [":int", ":bool", ":lines"] {
        if let Some(n) = name.strip_suffix(kind) {
            return n;
        }
    }
    name
}

fn is_page_field(name: &str) -> bool {
    name == "csrf_token" || name == "version" || name.starts_with('_')
}

enum Seg {
    Key(String),
    Index(usize),
}

fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            out.push(Seg::Key(rest[..open].to_string()));
            rest = &rest[open..];
            while let Some(r) = rest.strip_prefix('[') {
                let Some(close) = r.find(']') else { break };
                if let Ok(i) = r[..close].parse::<usize>() {
                    out.push(Seg::Index(i));
                }
                rest = &r[close + 1..];
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

fn slot<'a>(root: &'a mut Value, segs: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = root;
    for s in segs {
        cur = match s {
            Seg::Key(k) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                cur.as_object_mut()?.entry(k.clone()).or_insert(Value::Null)
            }
            Seg::Index(i) => {
                if !cur.is_array() {
                    *cur = Value::Array(Vec::new());
                }
                let a = cur.as_array_mut()?;
                // Bounded: an index far beyond the fields sent is not a list the form made.
                if *i > 1000 {
                    return None;
                }
                while a.len() <= *i {
                    a.push(Value::Null);
                }
                &mut a[*i]
            }
        };
    }
    Some(cur)
}

/// The form's input fields as JSON (see the module's naming rules).
pub fn to_json(pairs: &[(String, String)]) -> Value {
    let mut root = Value::Object(Map::new());
    for (name, raw) in pairs {
        if is_page_field(name) {
            continue;
        }
        let (base, kind) = match name.rsplit_once(':') {
            Some((b, k)) if ["int", "bool", "lines"].contains(&k) => (b, k),
            _ => (name.as_str(), ""),
        };
        let (base, list) = match base.strip_suffix("[]") {
            Some(b) => (b, true),
            None => (base, false),
        };
        let v = raw.trim();
        let value = match kind {
            "int" if v.is_empty() => continue,
            // Not a number: the text goes on, so the input type names the field and the rule.
            "int" => v
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(v)),
            "bool" => Value::Bool(matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "on" | "ja" | "yes" | "1"
            )),
            "lines" => Value::Array(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(Value::from)
                    .collect(),
            ),
            _ if v.is_empty() && !list => continue,
            _ if v.is_empty() => continue,
            _ => Value::from(raw.replace("\r\n", "\n")),
        };
        let Some(target) = slot(&mut root, &segments(base)) else {
            continue;
        };
        if list {
            if !target.is_array() {
                *target = Value::Array(Vec::new());
            }
            if let Some(a) = target.as_array_mut() {
                a.push(value);
            }
        } else {
            *target = value;
        }
    }
    drop_nulls(&mut root);
    root
}

/// Items left `null` by a gap in indexed names are dropped (`lines[0]`, `lines[2]`).
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Array(a) => {
            a.retain(|x| !x.is_null());
            a.iter_mut().for_each(drop_nulls);
        }
        Value::Object(o) => o.values_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// What a person entered, by field name (without `:kind` and `[]`), to fill the form again.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Entered(pub BTreeMap<String, Vec<String>>);

impl Entered {
    /// The first value entered in a field, or empty.
    pub fn value(&self, name: &str) -> String {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }

    /// Whether a value was among those entered (a checked box).
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0
            .get(name)
            .is_some_and(|v| v.iter().any(|x| x == value))
    }
}

/// One message at a field, and the id of the field's element for the summary's link.
#[derive(Debug, Clone, Serialize)]
pub struct FieldMessage {
    pub field: String,
    pub anchor: String,
    pub message: String,
}

/// A form's errors: the summary at the top and each message at its field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormErrors {
    /// What the refusal says as a whole (a rule that refused, a stale form).
    pub summary: String,
    pub fields: Vec<FieldMessage>,
    /// Anything else the refusal lists: missing items, unmet obligations, "bör" warnings.
    pub details: Vec<String>,
    pub any: bool,
}

/// The id of a field's element: the field's name with `.` and `[`, `]` as `-`.
pub fn anchor(field: &str) -> String {
    let a: String = field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("f-{}", a.trim_matches('-'))
}

impl FormErrors {
    /// The errors of a refused command, in the language. `None` when the error is not the form's
    /// fault (not found, forbidden, a server error): the page then fails as a whole.
    pub fn of(e: &AppError, lang: Lang) -> Option<FormErrors> {
        match e {
            AppError::Invalid(_)
            | AppError::Refused(_)
            | AppError::Conflict(_)
            | AppError::RaceLost(_)
            | AppError::PreconditionFailed(_)
            | AppError::BadParameter(_)
            | AppError::BadRequest(_) => {}
            _ => return None,
        }
        let p = crate::http::problem::problem_in(e, lang);
        let fields: Vec<FieldMessage> = p
            .errors
            .iter()
            .map(|f| FieldMessage {
                field: f.field.clone(),
                anchor: anchor(&f.field),
                message: f.message.clone(),
            })
            .collect();
        let mut details: Vec<String> = p.missing.clone();
        details.extend(p.obligations.iter().map(|o| match lang {
            Lang::Sv => format!("{}: {}", o.label_sv, o.evidence_sv),
            Lang::En => format!("{}: {}", o.label_en, o.evidence_en),
        }));
        details.extend(p.warnings.iter().map(|w| match lang {
            Lang::Sv => w.message_sv.clone(),
            Lang::En => w.message_en.clone(),
        }));
        let summary = match e {
            AppError::PreconditionFailed(_) => super::text::t(lang, "common.form.stale"),
            // Each field's message is listed (and linked) below; the summary says only that.
            AppError::Invalid(_) if !fields.is_empty() => {
                super::text::t(lang, "common.form.fix_below")
            }
            _ => p.detail.clone(),
        };
        Some(FormErrors {
            summary,
            any: true,
            fields,
            details,
        })
    }

    /// As [`of`](Self::of), for one of several forms on a page: each field renamed to where it sits
    /// (`form.field`), and a refusal that names no field (already decided, already answered, not
    /// under review) said at the form's main field, `form.default_field`.
    pub fn of_form(
        e: &AppError,
        lang: Lang,
        form: &str,
        default_field: &str,
    ) -> Option<FormErrors> {
        let mut f = FormErrors::of(e, lang)?;
        if f.fields.is_empty() {
            let field = format!("{form}.{default_field}");
            let message = if f.summary.is_empty() {
                crate::http::problem::problem_in(e, lang).detail
            } else {
                f.summary.clone()
            };
            f.fields.push(FieldMessage {
                anchor: anchor(&field),
                field,
                message,
            });
        } else {
            for m in &mut f.fields {
                m.field = format!("{form}.{}", m.field);
                m.anchor = anchor(&m.field);
            }
        }
        Some(f)
    }

    /// The message at a field, if any.
    pub fn at(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_say_where_each_value_goes() {
        let v = to_json(&pairs(&[
            ("csrf_token", "x"),
            ("version", "3"),
            ("_step", "2"),
            ("title", " Studie "),
            ("empty", ""),
            ("data.variables:lines", "a\r\n\r\n b \n"),
            ("countries[]", "SE"),
            ("countries[]", "NO"),
            ("cost.amount_ore:int", "125000"),
            ("feasible:bool", "on"),
            ("other:bool", "nej"),
            ("lines[1].text", "second"),
            ("lines[0].text", "first"),
            ("bad:int", "12kr"),
        ]));
        assert_eq!(
            v,
            json!({
                "title": " Studie ",
                "data": {"variables": ["a", "b"]},
                "countries": ["SE", "NO"],
                "cost": {"amount_ore": 125000},
                "feasible": true,
                "other": false,
                "lines": [{"text": "first"}, {"text": "second"}],
                "bad": "12kr",
            })
        );
    }

    #[test]
    fn a_far_index_is_not_a_list_and_gaps_are_closed() {
        let v = to_json(&pairs(&[("l[5000]", "x"), ("m[2]", "b"), ("m[0]", "a")]));
        assert_eq!(v, json!({"l": [], "m": ["a", "b"]}));
    }

    #[test]
    fn what_was_entered_is_kept_by_plain_name() {
        let f = Form(pairs(&[
            ("csrf_token", "secret"),
            ("countries[]", "SE"),
            ("countries[]", "NO"),
            ("cost:int", "12"),
        ]));
        let e = f.entered();
        assert!(e.has("countries", "NO"));
        assert_eq!(e.value("cost"), "12");
        assert!(!e.0.contains_key("csrf_token"));
        assert_eq!(f.version(), None);
    }

    #[test]
    fn anchors_are_element_ids() {
        assert_eq!(
            anchor("dossier.requested_data[0]"),
            "f-dossier-requested_data-0"
        );
        assert_eq!(anchor("title"), "f-title");
    }
}
