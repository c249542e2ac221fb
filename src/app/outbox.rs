//! The outbox worker (utskick): claims due rows under a lease, renders and sends each, and records the
//! outcome. Safe with several instances on one database: a claim is its own committed transaction
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite), and only the holder of a
//! lease records its row's outcome. A sender that dies mid-send leaves its rows to come back when the
//! lease runs out; the stable Message-ID makes such a resend recognisable.
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::mailer::{MailTemplates, Mailer};
use super::{AppError, Services};
use crate::config::MailSettings;
use crate::db::outbox::{self as store, OutboxRow};
use crate::db::repo::utc;

/// How the worker behaves, from `[mail]` and `[server] public_url`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub public_url: String,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub lease: Duration,
    pub poll: Duration,
    pub deadline_interval: Duration,
    pub batch: i64,
}

impl WorkerConfig {
    pub fn from_settings(public_url: &str, m: &MailSettings) -> WorkerConfig {
        WorkerConfig {
            public_url: public_url.to_string(),
            max_attempts: m.max_attempts,
            retry_base: Duration::from_secs(m.retry_base_seconds),
            lease: Duration::from_secs(m.lease_seconds),
            poll: Duration::from_millis(m.poll_interval_ms),
            deadline_interval: Duration::from_secs(m.deadline_interval_seconds),
            batch: m.batch_size,
        }
    }

    /// The pause after the `attempts`-th failure: the base, doubled each time, at most six hours.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(6 * 3600))
    }
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(6))
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

/// One round: claim what is due, send it, record each outcome.
pub fn run_once(
    svc: &Services,
    mailer: &Mailer,
    templates: &MailTemplates,
    cfg: &WorkerConfig,
    owner: &str,
) -> Result<Round, AppError> {
    let now = svc.clock.now();
    let lease_until = now + chrono_of(cfg.lease);
    let rows = svc.write(|c| Ok(store::claim(c, owner, now, lease_until, cfg.batch)?))?;
    let mut round = Round::default();
    for row in rows {
        let outcome = deliver(mailer, templates, cfg, &row);
        let now = svc.clock.now();
        match outcome {
            Ok(()) => {
                svc.write(|c| Ok(store::mark_sent(c, &row.id, owner, now)?))?;
                tracing::info!(outbox = %row.id, event = %row.event, "mail sent");
                round.sent += 1;
            }
            Err(e) => {
                let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                let retry_at =
                    (attempts < cfg.max_attempts).then(|| now + chrono_of(cfg.backoff(attempts)));
                svc.write(|c| Ok(store::mark_failed(c, &row.id, owner, &e, retry_at)?))?;
                if retry_at.is_some() {
                    tracing::warn!(outbox = %row.id, attempts, error = %e, "mail not sent; retried later");
                    round.failed += 1;
                } else {
                    tracing::error!(outbox = %row.id, attempts, error = %e, "mail dead after its last attempt");
                    round.dead += 1;
                }
            }
        }
    }
    Ok(round)
}

fn deliver(
    mailer: &Mailer,
    templates: &MailTemplates,
    cfg: &WorkerConfig,
    row: &OutboxRow,
) -> Result<(), String> {
    let to = row
        .recipient_email
        .as_deref()
        .ok_or_else(|| "no address".to_string())?;
    let data: serde_json::Value =
        serde_json::from_str(&row.data).map_err(|e| format!("stored data: {e}"))?;
    let mail = templates
        .render(&row.language, &row.event, &data, &cfg.public_url)
        .map_err(|e| e.to_string())?;
    mailer.send(&row.recipient_name, to, &row.language, &row.id, &mail)
}

/// The worker in a thread of its own; stops when dropped.
pub struct Worker {
    stop: Arc<AtomicBool>,
    /// Dropping it wakes the worker from its pause between rounds.
    wake: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts sending (and, every `deadline_interval`, looking for deadlines that are due).
    pub fn start(
        svc: Services,
        mailer: Arc<Mailer>,
        templates: Arc<MailTemplates>,
        cfg: WorkerConfig,
    ) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (wake, woken) = std::sync::mpsc::channel::<()>();
        let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let thread = std::thread::Builder::new()
            .name("mail-outbox".into())
            .spawn(move || {
                let mut last_deadlines: Option<std::time::Instant> = None;
                while !flag.load(Ordering::Relaxed) {
                    if last_deadlines.is_none_or(|t| t.elapsed() >= cfg.deadline_interval) {
                        match super::deadlines::run(&svc) {
                            Ok(n) if n > 0 => {
                                tracing::info!(reminders = n, "deadline reminders written")
                            }
                            Ok(_) => {}
                            Err(e) => tracing::error!(error = %e, "looking for deadlines failed"),
                        }
                        last_deadlines = Some(std::time::Instant::now());
                    }
                    match run_once(&svc, &mailer, &templates, &cfg, &owner) {
                        // Work left over: go on at once.
                        Ok(r) if r.sent + r.failed + r.dead > 0 => continue,
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "the mail outbox round failed"),
                    }
                    if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) =
                        woken.recv_timeout(cfg.poll)
                    {
                        break;
                    }
                }
            })
            .ok();
        Worker {
            stop,
            wake: Some(wake),
            thread,
        }
    }

    /// Asks the worker to stop and waits for it to finish the mail in hand.
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
    /// Stops the worker and waits for the round in hand, so that no mail is being sent, and no
    /// database used, by a worker whose application has gone.
    fn drop(&mut self) {
        self.halt();
    }
}

/// One outbox row as the notification log and administrators see it: never the data it was written from
/// beyond the event, never a token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: String,
    pub collaboration_id: Option<String>,
    /// The event or deadline it tells of (its template).
    pub event: String,
    /// `notice` or `deadline`.
    pub kind: String,
    pub recipient_name: String,
    pub recipient_org: String,
    pub recipient_role: String,
    /// `pending`, `sent`, `dead`, `not_notified` (no e-mail address) or `opted_out`.
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure (administrators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl OutboxEntry {
    pub fn from_row(r: OutboxRow, with_error: bool) -> OutboxEntry {
        let pending = r.status == store::status::PENDING;
        OutboxEntry {
            id: r.id,
            collaboration_id: r.collaboration_id,
            event: r.event,
            kind: r.kind,
            recipient_name: r.recipient_name,
            recipient_org: r.recipient_org,
            recipient_role: r.recipient_role,
            status: r.status,
            attempts: r.attempts,
            created_at: utc(r.created_at),
            sent_at: r.sent_at.map(utc),
            next_attempt_at: pending.then(|| utc(r.next_attempt_at)),
            last_error: if with_error { r.last_error } else { None },
        }
    }
}

/// The outbox rows in one status, newest first (administrators: `status=dead` shows the last error).
pub fn admin_list(
    conn: &mut crate::db::DbConn,
    actor: &crate::domain::role::Actor,
    status: &str,
    limit: i64,
) -> Result<Vec<OutboxEntry>, AppError> {
    if actor.role != crate::domain::role::Role::Administrator {
        return Err(AppError::Forbidden(crate::msg!("forbidden.outbox")));
    }
    if !store::status::ALL.contains(&status) {
        return Err(AppError::invalid(
            "status",
            crate::msg!(
                "outbox_status",
                value = status,
                allowed = crate::domain::messages::Arg::all_of(store::status::ALL)
            ),
        ));
    }
    Ok(store::by_status(conn, status, limit)?
        .into_iter()
        .map(|r| OutboxEntry::from_row(r, true))
        .collect())
}

/// A person's mail settings.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NotificationSettings {
    /// Whether notices that are not deadlines are sent (deadline reminders always are).
    pub notices: bool,
    /// `sv` or `en`.
    pub language: String,
}

/// Changes the caller's own mail settings, recorded in the audit trail.
pub fn set_settings(
    conn: &mut crate::db::DbConn,
    actor: &crate::domain::role::Actor,
    notices: Option<bool>,
    language: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NotificationSettings, AppError> {
    if let Some(l) = language {
        if !super::mailer::LANGUAGES.contains(&l) {
            return Err(AppError::invalid(
                "language",
                crate::msg!("mail_language", value = l),
            ));
        }
    }
    let not_found = || AppError::NotFound(crate::msg!("thing.record"));
    let (old_language, old_notices) =
        store::preferences(conn, &actor.account)?.ok_or_else(not_found)?;
    if let Some(n) = notices {
        store::set_notices(conn, &actor.account, n)?;
    }
    if let Some(l) = language {
        store::set_language(conn, &actor.account, l)?;
    }
    let after = NotificationSettings {
        notices: notices.unwrap_or(old_notices),
        language: language.map(str::to_string).unwrap_or(old_language.clone()),
    };
    super::audit::record(
        conn,
        &format!("account:{}", actor.account),
        actor,
        crate::domain::events::EventType::NotificationPreferencesChanged,
        Some(serde_json::json!({"notices": old_notices, "language": old_language})),
        Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        now,
    )?;
    Ok(after)
}

/// What the case has told whom, and the deadlines still ahead (the notification log).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationLog {
    pub deadlines: Vec<super::deadlines::PendingDeadline>,
    pub notifications: Vec<OutboxEntry>,
}

/// The notification log of a collaboration: parties see what was sent to parties; CPUA staff and
/// administrators see everything.
pub fn notification_log(
    conn: &mut crate::db::DbConn,
    rulebooks: &crate::domain::classification::RulebookSet,
    actor: &crate::domain::role::Actor,
    id: &str,
    today: chrono::NaiveDate,
) -> Result<NotificationLog, AppError> {
    let c = super::collaborations::visible(conn, rulebooks, actor, id)?;
    let party = actor.role.is_party();
    let notifications = store::for_collaboration(conn, c.id.as_str())?
        .into_iter()
        .filter(|r| {
            !party
                || crate::domain::role::Role::parse(&r.recipient_role).is_some_and(|x| x.is_party())
        })
        .map(|r| OutboxEntry::from_row(r, false))
        .collect();
    Ok(NotificationLog {
        deadlines: super::deadlines::pending(&c, today),
        notifications,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_after_each_failure_up_to_six_hours() {
        let m = crate::config::Settings::defaults().mail;
        let cfg = WorkerConfig::from_settings("http://x", &m);
        assert_eq!(cfg.backoff(1), Duration::from_secs(30));
        assert_eq!(cfg.backoff(2), Duration::from_secs(60));
        assert_eq!(cfg.backoff(4), Duration::from_secs(240));
        assert_eq!(cfg.backoff(40), Duration::from_secs(6 * 3600));
    }
}
