//! The documents section of the case page (issue 16): the case's documents with download links, a
//! form to upload one (`multipart/form-data`, read by the API's own reader into the API's own
//! command) and a form per document to redact it with a reason. A refused form comes back on the case
//! page with each message at its field and in the summary.
use actix_web::{web, HttpRequest, ResponseError};
use serde::Serialize;

use super::form::{anchor, FieldMessage, Form, FormErrors};
use super::{PageEnv, PageError, PageResult};
use crate::app::documents::{self, DocumentView, RedactInput};
use crate::app::AppError;
use crate::domain::document::{DocumentType, DOSSIER_ITEMS};
use crate::domain::lang::Lang;
use crate::domain::role::Role;

/// What the section was sent (to show again) and answered.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    pub errors: FormErrors,
    pub doc_type: String,
    pub visibility: String,
    pub satisfies: String,
    /// The document whose redact form was refused, and the reason typed.
    pub redact: Option<(String, String)>,
    /// `uploaded` or `redacted` after a form went through.
    pub done: Option<&'static str>,
}

impl Posted {
    /// `?documents=uploaded|redacted` after a redirect.
    pub fn from_query(q: &str) -> Posted {
        let done = url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "documents")
            .and_then(|(_, v)| match v.as_ref() {
                "uploaded" => Some("uploaded"),
                "redacted" => Some("redacted"),
                _ => None,
            });
        Posted {
            done,
            ..Posted::default()
        }
    }
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct Shown {
    id: String,
    type_label: String,
    file_name: String,
    size: String,
    sha256: String,
    uploaded_by: String,
    at: String,
    internal: bool,
    href: String,
    satisfies: Vec<String>,
    redacted: bool,
    redaction: String,
    may_redact: bool,
    redact_action: String,
    reason_id: String,
    reason_error: String,
    reason_value: String,
}

/// The section as the template reads it.
#[derive(Serialize, Default)]
pub struct Section {
    items: Vec<Shown>,
    may_upload: bool,
    action: String,
    types: Vec<Choice>,
    satisfies: Vec<Choice>,
    internal: bool,
    type_error: String,
    visibility_error: String,
    satisfies_error: String,
    file_error: String,
    max_size: String,
    done: String,
}

fn label(lang: Lang, (sv, en): (&str, &str)) -> String {
    match lang {
        Lang::Sv => sv.to_string(),
        Lang::En => en.to_string(),
    }
}

/// A dossier item's or obligation's name in the language.
fn item_label(lang: Lang, item: &str) -> String {
    if let Some(rest) = item.strip_prefix("dossier.") {
        let key = match rest {
            "recipient_principal" => "documents.item.recipient_principal",
            "project_description" => "documents.item.project_description",
            "ethics_documents" => "documents.item.ethics_documents",
            "requested_data" => "documents.item.requested_data",
            _ => "documents.item.access_and_storage",
        };
        return super::text::t(lang, key);
    }
    // An obligation by its code, as the rulebook names it.
    item.replace('_', " ")
}

fn human_size(lang: Lang, n: i64) -> String {
    let (v, key) = if n >= 1024 * 1024 {
        (
            format!("{:.1}", n as f64 / (1024.0 * 1024.0)),
            "documents.size_mb",
        )
    } else if n >= 1024 {
        (
            format!("{:.0}", (n as f64 / 1024.0).ceil()),
            "documents.size_kb",
        )
    } else {
        (n.to_string(), "documents.size_b")
    };
    let v = match lang {
        Lang::Sv => v.replace('.', ","),
        Lang::En => v,
    };
    super::text::t_with(lang, key, &[("n", v)])
}

/// The documents section of the case `id` for the signed-in person.
pub async fn section(env: &PageEnv, id: &str, posted: Posted) -> Result<Section, PageError> {
    let actor = env.actor()?.clone();
    let lang = env.lang;
    let (a, i) = (actor.clone(), id.to_string());
    let list = env
        .blocking(move |s| s.svc.read(|c| documents::list(c, &s.svc, &a, &i)))
        .await?;
    let (a, i) = (actor.clone(), id.to_string());
    let may_upload = env
        .blocking(move |s| Ok(documents::may_upload(&s.svc, &a, &i).is_ok()))
        .await?;
    let at = |f: &str| posted.errors.at(f).unwrap_or("").to_string();
    let items = list
        .items
        .iter()
        .map(|d: &DocumentView| {
            let redaction = d
                .redaction
                .as_ref()
                .map(|r| {
                    super::text::t_with(
                        lang,
                        "documents.redacted_by",
                        &[
                            ("when", super::helpers::format_datetime(r.redacted_at, lang)),
                            ("who", r.redacted_by_name.clone()),
                            ("organisation", r.organisation.clone()),
                            ("reason", r.reason.clone()),
                        ],
                    )
                })
                .unwrap_or_default();
            let own = d.uploaded_by.organisation == actor.org.as_str();
            let reason_field = format!("redact-{}.reason", d.id);
            let (reason_error, reason_value) = match &posted.redact {
                Some((doc, typed)) if doc == &d.id => (
                    posted.errors.at(&reason_field).unwrap_or("").to_string(),
                    typed.clone(),
                ),
                _ => (String::new(), String::new()),
            };
            Shown {
                href: format!("/api/v1/collaborations/{id}/documents/{}", d.id),
                redact_action: format!("/collaborations/{id}/documents/{}/redact", d.id),
                reason_id: anchor(&reason_field),
                reason_error,
                reason_value,
                id: d.id.clone(),
                type_label: match lang {
                    Lang::Sv => d.type_label.sv.clone(),
                    Lang::En => d.type_label.en.clone(),
                },
                file_name: d.file_name.clone(),
                size: human_size(lang, d.size_bytes),
                sha256: d.sha256.clone(),
                uploaded_by: format!(
                    "{} ({})",
                    d.uploaded_by.name, d.uploaded_by.organisation_name
                ),
                at: super::helpers::format_datetime(d.uploaded_at, lang),
                internal: d.visibility == "internal",
                satisfies: d.satisfies.iter().map(|s| item_label(lang, s)).collect(),
                redacted: d.redaction.is_some(),
                redaction,
                may_redact: d.redaction.is_none()
                    && !matches!(
                        actor.credential,
                        crate::domain::role::Credential::ApiKey { .. }
                    )
                    && (own || actor.role == Role::CpuaLegal),
            }
        })
        .collect();
    let types = DocumentType::ALL
        .iter()
        .map(|t| Choice {
            value: t.code().into(),
            label: label(lang, t.label()),
            selected: posted.doc_type == t.code(),
        })
        .collect();
    let satisfies = DOSSIER_ITEMS
        .iter()
        .map(|item| Choice {
            value: item.to_string(),
            label: item_label(lang, item),
            selected: posted.satisfies == *item,
        })
        .collect();
    let done = match posted.done {
        Some("uploaded") => super::text::t(lang, "documents.done_uploaded"),
        Some("redacted") => super::text::t(lang, "documents.done_redacted"),
        _ => String::new(),
    };
    Ok(Section {
        items,
        may_upload,
        action: format!("/collaborations/{id}/documents"),
        types,
        satisfies,
        internal: posted.visibility == "internal",
        type_error: at("document.type"),
        visibility_error: at("document.visibility"),
        satisfies_error: at("document.satisfies"),
        file_error: at("document.file"),
        max_size: human_size(
            lang,
            i64::try_from(env.state.settings.documents.max_bytes).unwrap_or(i64::MAX),
        ),
        done,
    })
}

/// The errors of a refused form as the page shows them: each field renamed to where it sits on the
/// case page (`prefix.field`), and a too-large or wrongly sent file said at the field `file`.
fn page_errors(e: &AppError, lang: Lang, prefix: &str, default_field: &str) -> Option<FormErrors> {
    let at_default = |m: &crate::domain::messages::Message| {
        let field = format!("{prefix}.{default_field}");
        FormErrors {
            summary: super::text::t(lang, "common.form.fix_below"),
            fields: vec![FieldMessage {
                anchor: anchor(&field),
                field,
                message: m.render(lang),
            }],
            details: vec![],
            any: true,
        }
    };
    match e {
        AppError::PayloadTooLarge(m)
        | AppError::UnsupportedMediaType(m)
        | AppError::Conflict(m)
        | AppError::BadRequest(m) => Some(at_default(m)),
        _ => {
            let mut f = FormErrors::of(e, lang)?;
            for m in &mut f.fields {
                m.field = format!("{prefix}.{}", m.field);
                m.anchor = anchor(&m.field);
            }
            Some(f)
        }
    }
}

/// `POST /collaborations/{id}/documents`: the upload form, through the API's reader and command.
pub async fn upload(
    env: PageEnv,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> PageResult {
    let actor = env.actor()?.clone();
    let id = path.into_inner();
    let state = env.state.clone();
    let mut posted = Posted::default();
    let result: Result<(), AppError> = async {
        let (s, a, i) = (state.clone(), actor.clone(), id.clone());
        crate::http::blocking(move || documents::may_upload(&s.svc, &a, &i)).await?;
        let up = crate::http::documents_api::read_upload(
            &req,
            payload,
            state.settings.documents.max_bytes,
        )
        .await?;
        posted.doc_type = up.doc_type.clone().unwrap_or_default();
        posted.visibility = up.visibility.clone().unwrap_or_default();
        posted.satisfies = up.satisfies.clone().unwrap_or_default();
        let checked = documents::check(up)?;
        let (s, a, i) = (state.clone(), actor.clone(), id.clone());
        crate::http::blocking(move || {
            let now = s.svc.clock.now();
            documents::upload(&s.svc, s.documents.as_ref(), &a, &i, checked, now)
        })
        .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(env.see_other(&format!(
            "/collaborations/{id}?documents=uploaded#documents"
        ))),
        Err(e) => match page_errors(&e, env.lang, "document", "file") {
            Some(errors) => {
                posted.errors = errors;
                super::collaborations::render_case_with(
                    &env,
                    id,
                    e.status_code(),
                    None,
                    None,
                    posted,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

/// `POST /collaborations/{id}/documents/{doc}/redact`: the redact form (a reason), through the API's
/// command.
pub async fn redact(env: PageEnv, path: web::Path<(String, String)>, form: Form) -> PageResult {
    let actor = env.actor()?.clone();
    let (id, doc) = path.into_inner();
    let reason = form.get("reason").unwrap_or("").to_string();
    let (a, i, d, r) = (actor, id.clone(), doc.clone(), reason.clone());
    let result = env
        .blocking(move |s| {
            let now = s.svc.clock.now();
            documents::redact(
                &s.svc,
                s.documents.as_ref(),
                &a,
                &i,
                &d,
                RedactInput { reason: r },
                now,
            )
        })
        .await;
    match result {
        Ok(_) => Ok(env.see_other(&format!(
            "/collaborations/{id}?documents=redacted#documents"
        ))),
        Err(err) => {
            let e = err.error;
            match page_errors(&e, env.lang, &format!("redact-{doc}"), "reason") {
                Some(errors) => {
                    let posted = Posted {
                        errors,
                        redact: Some((doc, reason)),
                        ..Posted::default()
                    };
                    super::collaborations::render_case_with(
                        &env,
                        id,
                        e.status_code(),
                        None,
                        None,
                        posted,
                    )
                    .await
                }
                None => Err(env.fail(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_each_language() {
        assert_eq!(human_size(Lang::En, 512), "512 bytes");
        assert_eq!(human_size(Lang::Sv, 2 * 1024 * 1024 + 200_000), "2,2 MB");
        assert_eq!(human_size(Lang::En, 1500), "2 KB");
    }

    #[test]
    fn a_refused_file_is_said_at_the_file_field_of_the_upload_form() {
        let e = AppError::PayloadTooLarge(crate::msg!("document_too_large", limit = 10usize));
        let f = page_errors(&e, Lang::En, "document", "file").unwrap();
        assert_eq!(f.fields[0].field, "document.file");
        assert_eq!(f.fields[0].anchor, "f-document-file");
        let e = AppError::invalid("type", crate::msg!("required.field"));
        let f = page_errors(&e, Lang::Sv, "document", "file").unwrap();
        assert_eq!(f.fields[0].field, "document.type");
    }
}
