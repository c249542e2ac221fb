//! The agreement review (avtalsgranskning): every version of a collaboration's agreement with its
//! files, a clause-by-clause comparison of two chosen versions, and the negotiated deviations from
//! the template with their reasons.
//!
//! - The files are the API's own file routes (they accept the session cookie for GET).
//! - The comparison is the one the API's diff answers with (`app::agreements::compare`, the data of
//!   `app::agreements::diff`); each clause is marked added, removed or changed in words, and lines
//!   with `<ins>`/`<del>` and a text label, never by colour alone.
//! - CPUA legal records a deviation through the API's own command (`app::agreements::add_deviation`),
//!   offered only while the agreement may still be drawn (seed 001, "6. Avtal upprättas").
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde::Serialize;

use super::form::{anchor, Entered, Form, FormErrors};
use super::{PageEnv, PageResult};
use crate::app::agreements::{AgreementReview, DeviationInput};
use crate::app::AppError;
use crate::domain::agreement::diff::{ChangeKind, DocumentDiff, LineChange};

/// One line of a changed clause: `same`, `added` or `removed`.
#[derive(Serialize)]
struct LineShown {
    op: &'static str,
    text: String,
}

/// One clause that differs between the two versions.
#[derive(Serialize)]
struct ClauseShown {
    /// `added`, `removed` or `changed`.
    change: &'static str,
    change_label: String,
    title: String,
    old_title: String,
    lines: Vec<LineShown>,
}

#[derive(Serialize)]
struct DiffShown {
    from: i32,
    to: i32,
    clauses: Vec<ClauseShown>,
    unchanged: usize,
}

#[derive(Serialize)]
struct VersionChoice {
    number: i32,
    from: bool,
    to: bool,
}

/// The deviation form's fields and their messages.
#[derive(Serialize, Default)]
struct DeviationForm {
    number: i32,
    clause: String,
    text: String,
    reason: String,
    clause_error: String,
    text_error: String,
    reason_error: String,
    anchor_clause: String,
    anchor_text: String,
    anchor_reason: String,
}

#[derive(Serialize)]
struct ReviewPage {
    id: String,
    review: AgreementReview,
    choices: Vec<VersionChoice>,
    diff: Option<DiffShown>,
    form: Option<DeviationForm>,
    /// CPUA legal, when the agreement may no longer be changed: the form is not offered, and the
    /// page says why.
    deviation_closed: bool,
    errors: FormErrors,
}

fn shown(d: &DocumentDiff, env: &PageEnv) -> DiffShown {
    let mut clauses = Vec::new();
    let mut unchanged = 0;
    for c in &d.changes {
        let (change, key) = match c.change {
            ChangeKind::Unchanged => {
                unchanged += 1;
                continue;
            }
            ChangeKind::Added => ("added", "review.diff.added"),
            ChangeKind::Removed => ("removed", "review.diff.removed"),
            ChangeKind::Changed => ("changed", "review.diff.changed"),
        };
        let title = c
            .new_title
            .clone()
            .or_else(|| c.old_title.clone())
            .unwrap_or_else(|| c.code.clone());
        // A renumbered or renamed clause says what it was called before.
        let old_title = match (&c.old_title, &c.new_title) {
            (Some(o), Some(n)) if o != n => o.clone(),
            _ => String::new(),
        };
        clauses.push(ClauseShown {
            change,
            change_label: env.t(key),
            title,
            old_title,
            lines: c
                .lines
                .iter()
                .map(|l| match l {
                    LineChange::Same(t) => LineShown {
                        op: "same",
                        text: t.clone(),
                    },
                    LineChange::Added(t) => LineShown {
                        op: "added",
                        text: t.clone(),
                    },
                    LineChange::Removed(t) => LineShown {
                        op: "removed",
                        text: t.clone(),
                    },
                })
                .collect(),
        });
    }
    DiffShown {
        from: d.old_version as i32,
        to: d.new_version as i32,
        clauses,
        unchanged,
    }
}

/// The two versions to compare: as asked (`from`, `to`), else the two newest. A number that is not
/// a number is a bad parameter (the page answers 400 with the reason).
fn chosen(req: &HttpRequest, numbers: &[i32]) -> Result<Option<(i32, i32)>, AppError> {
    let mut from = None;
    let mut to = None;
    for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let slot = match k.as_ref() {
            "from" => &mut from,
            "to" => &mut to,
            _ => continue,
        };
        if v.is_empty() {
            continue;
        }
        *slot = Some(
            v.trim()
                .parse::<i32>()
                .map_err(|_| AppError::invalid(k.as_ref(), crate::msg!("required.version")))?,
        );
    }
    Ok(match (from, to) {
        (Some(f), Some(t)) => Some((f, t)),
        _ => match numbers {
            [.., a, b] => Some((*a, *b)),
            _ => None,
        },
    })
}

async fn load_review(env: &PageEnv, id: String) -> Result<AgreementReview, super::PageError> {
    let actor = env.actor()?.clone();
    env.blocking(move |s| {
        s.svc
            .read(|c| crate::app::agreements::review(c, &s.svc.rulebooks, &actor, &id))
    })
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_review(
    env: &PageEnv,
    status: StatusCode,
    id: String,
    review: AgreementReview,
    pair: Option<(i32, i32)>,
    entered: Option<Entered>,
    errors: FormErrors,
) -> PageResult {
    let diff = match pair {
        Some((from, to)) => {
            let actor = env.actor()?.clone();
            let cid = id.clone();
            let d = env
                .blocking(move |s| {
                    s.svc.read(|c| {
                        crate::app::agreements::compare(c, &s.svc.rulebooks, &actor, &cid, from, to)
                    })
                })
                .await?;
            Some(shown(&d, env))
        }
        None => None,
    };
    let choices = review
        .versions
        .iter()
        .map(|v| VersionChoice {
            number: v.number,
            from: pair.is_some_and(|(f, _)| f == v.number),
            to: pair.is_some_and(|(_, t)| t == v.number),
        })
        .collect();
    let form = match (review.may_add_deviation, review.versions.last()) {
        (true, Some(latest)) => {
            let e = entered.unwrap_or_default();
            let msg = |f: &str| errors.at(f).unwrap_or_default().to_string();
            Some(DeviationForm {
                number: latest.number,
                clause: e.value("clause"),
                text: e.value("text"),
                reason: e.value("reason"),
                clause_error: msg("clause"),
                text_error: msg("text"),
                reason_error: msg("reason"),
                anchor_clause: anchor("clause"),
                anchor_text: anchor("text"),
                anchor_reason: anchor("reason"),
            })
        }
        _ => None,
    };
    let deviation_closed = form.is_none()
        && !review.versions.is_empty()
        && env.actor()?.role == crate::domain::role::Role::CpuaLegal;
    env.render_status(
        status,
        "review",
        "review.title",
        ReviewPage {
            deviation_closed,
            id,
            review,
            choices,
            diff,
            form,
            errors,
        },
    )
}

/// The agreement review page.
pub async fn agreements(env: PageEnv, req: HttpRequest, path: web::Path<String>) -> PageResult {
    let id = path.into_inner();
    let review = load_review(&env, id.clone()).await?;
    let numbers: Vec<i32> = review.versions.iter().map(|v| v.number).collect();
    let pair = chosen(&req, &numbers).map_err(|e| env.fail(e))?;
    render_review(
        &env,
        StatusCode::OK,
        id,
        review,
        pair,
        None,
        FormErrors::default(),
    )
    .await
}

/// CPUA legal records a deviation on a version: a new version is drawn with it.
pub async fn add_deviation(
    env: PageEnv,
    path: web::Path<(String, String)>,
    form: Form,
) -> PageResult {
    let (id, n) = path.into_inner();
    let number: i32 = n
        .parse()
        .map_err(|_| env.fail(AppError::NotFound(crate::msg!("thing.agreement_version"))))?;
    let actor = env.actor()?.clone();
    let outcome = match form.read::<DeviationInput>() {
        Err(e) => Err(e),
        Ok(input) => {
            let (state, cid) = (env.state.clone(), id.clone());
            crate::http::blocking(move || {
                let now = state.svc.clock.now();
                state.svc.write(|c| {
                    crate::app::agreements::add_deviation(
                        c,
                        &state.svc.rulebooks,
                        &state.svc.templates,
                        &actor,
                        &cid,
                        number,
                        input,
                        now,
                    )
                })
            })
            .await
        }
    };
    match outcome {
        Ok(_) => Ok(env.see_other(&format!("/collaborations/{id}/agreements"))),
        Err(e) => match FormErrors::of(&e, env.lang) {
            Some(errors) => {
                let review = load_review(&env, id.clone()).await?;
                let numbers: Vec<i32> = review.versions.iter().map(|v| v.number).collect();
                let pair = match numbers.as_slice() {
                    [.., a, b] => Some((*a, *b)),
                    _ => None,
                };
                render_review(
                    &env,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    id,
                    review,
                    pair,
                    Some(form.entered()),
                    errors,
                )
                .await
            }
            None => Err(env.fail(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_two_newest_versions_are_compared_unless_others_are_asked_for() {
        let r = TestRequest::with_uri("/x").to_http_request();
        assert_eq!(chosen(&r, &[1, 2, 3]).unwrap(), Some((2, 3)));
        assert_eq!(chosen(&r, &[1]).unwrap(), None);
        let r = TestRequest::with_uri("/x?from=1&to=3").to_http_request();
        assert_eq!(chosen(&r, &[1, 2, 3]).unwrap(), Some((1, 3)));
        let r = TestRequest::with_uri("/x?from=one&to=3").to_http_request();
        assert!(chosen(&r, &[1, 2, 3]).is_err());
    }
}
