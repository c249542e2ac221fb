//! The to-do page (issue 16, item 4): what the process waits for from the signed-in person, read
//! through the same query as `GET /api/v1/me/todo` (`app::casework::todo`).
use actix_web::HttpRequest;
use serde::Serialize;

use super::{PageEnv, PageResult};

#[derive(Serialize)]
struct Line {
    link: String,
    reference: String,
    title: String,
    reason: String,
    subject: Option<String>,
    /// The day in the page's language, and as `YYYY-MM-DD` for `<time datetime>`.
    due_on: Option<String>,
    due_iso: Option<String>,
    overdue: bool,
}

#[derive(Serialize)]
struct TodoPage {
    lines: Vec<Line>,
}

pub async fn page(env: PageEnv, _req: HttpRequest) -> PageResult {
    let actor = env.actor()?.clone();
    let items = env
        .blocking(move |s| {
            let today = s.svc.clock.today();
            s.svc
                .read(|c| crate::app::casework::todo(c, &s.svc.rulebooks, &actor, today))
        })
        .await?;
    let lines = items
        .into_iter()
        .map(|i| Line {
            reason: env.t(&format!("todo.reason.{}", i.reason)),
            link: i.link,
            reference: i.reference,
            title: i.title,
            // The API names the agreement version in English ("version 2"); the page in its language.
            subject: match (i.reason.as_str(), &i.subject) {
                ("sign_agreement", Some(s)) => match s.strip_prefix("version ") {
                    Some(n) => Some(super::text::t_with(
                        env.lang,
                        "todo.agreement_version",
                        &[("n", n.to_string())],
                    )),
                    None => i.subject.clone(),
                },
                _ => i.subject.clone(),
            },
            due_on: i.due_on.map(|d| super::helpers::format_date(d, env.lang)),
            due_iso: i.due_on.map(|d| d.to_string()),
            overdue: i.overdue,
        })
        .collect();
    env.render("todo", "todo.title", TodoPage { lines })
}
