//! The seal job (issue 14, "Executed agreement": "when the last signer signs, a job appends a
//! certificate of completion … and seals it"). The completion writes a `signing_seal_jobs` row in
//! its own transaction; this worker claims due rows under a lease (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, the single writer on SQLite: safe with several instances), reads what it needs in a
//! read transaction, renders and seals — asking the timestamp authority — outside any transaction,
//! and stores the executed PDF, its hash, the seal certificate and the audit event in one short
//! write transaction. A worker that dies between leaves the row to come back when its lease runs
//! out (restart-safe); until then the PDF is refused (`executed_pdf_sealing`) and the release
//! guard is not met.
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::{AppError, Services};
use crate::config::SigningSettings;
use crate::db::signing::{self as store, SealJobRow};
use crate::render::seal::SealKey;
use crate::render::tsa::Tsa;

/// How the seal job behaves, from `[signing]`.
#[derive(Clone)]
pub struct SealConfig {
    pub key: Arc<SealKey>,
    /// The timestamp authority asked for a token (`signing.tsa_url`), if any.
    pub tsa: Option<Tsa>,
    /// How long a claimed job stays with the instance sealing it.
    pub lease: Duration,
    /// How often the worker looks for jobs.
    pub poll: Duration,
    /// Attempts before a job is given up (dead, logged as an error).
    pub max_attempts: u32,
    pub batch: i64,
}

impl SealConfig {
    pub fn from_settings(s: &SigningSettings, key: Arc<SealKey>) -> anyhow::Result<SealConfig> {
        Ok(SealConfig {
            key,
            tsa: Tsa::from_settings(s)?,
            lease: Duration::from_secs(s.seal_lease_seconds.max(1)),
            poll: Duration::from_millis(s.seal_poll_interval_ms.max(10)),
            max_attempts: 10,
            batch: 10,
        })
    }

    /// The pause after the `attempts`-th failure: 30 s, doubled each time, at most an hour.
    fn backoff(attempts: u32) -> chrono::Duration {
        let secs = 30u64.saturating_mul(2u64.saturating_pow(attempts.saturating_sub(1).min(10)));
        chrono::Duration::seconds(i64::try_from(secs.min(3600)).unwrap_or(3600))
    }
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::minutes(2))
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sealed: usize,
    pub failed: usize,
}

/// Records this installation's seal certificate among the known ones (at start, so the release
/// guard knows the configured key even before it sealed anything).
pub fn register_key(svc: &Services, key: &SealKey) -> Result<(), AppError> {
    let now = svc.clock.now();
    svc.write(|c| {
        Ok(store::record_seal_certificate(
            c,
            &key.certificate_sha256(),
            key.certificate_der(),
            &key.organisation(),
            now,
        )?)
    })
}

/// One round: claim what is due, seal each, record each outcome.
pub fn run_once(svc: &Services, cfg: &SealConfig, owner: &str) -> Result<Round, AppError> {
    let now = svc.clock.now();
    let lease_until = now + chrono_of(cfg.lease);
    let jobs = svc.write(|c| {
        Ok(store::claim_seal_jobs(
            c,
            owner,
            now,
            lease_until,
            cfg.batch,
        )?)
    })?;
    let mut round = Round::default();
    for job in jobs {
        match seal_one(svc, cfg, owner, &job) {
            Ok(()) => round.sealed += 1,
            Err(e) => {
                round.failed += 1;
                let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                let now = svc.clock.now();
                let retry_at =
                    (attempts < cfg.max_attempts).then(|| now + SealConfig::backoff(attempts));
                let text = e.to_string();
                svc.write(|c| Ok(store::seal_job_failed(c, &job.id, owner, &text, retry_at)?))?;
                if retry_at.is_some() {
                    tracing::warn!(envelope = %job.id, attempts, error = %text, "the executed agreement was not sealed; tried again later");
                } else {
                    tracing::error!(envelope = %job.id, attempts, error = %text, "the executed agreement could not be sealed: the seal job is given up");
                }
            }
        }
    }
    Ok(round)
}

fn seal_one(
    svc: &Services,
    cfg: &SealConfig,
    owner: &str,
    job: &SealJobRow,
) -> Result<(), AppError> {
    let input = svc.read(|c| super::signing::seal_input(c, &svc.rulebooks, &job.id))?;
    let Some(input) = input else {
        // Nothing to seal (sealed already, or no longer completed): the job is done.
        let now = svc.clock.now();
        svc.write(|c| Ok(store::seal_job_done(c, &job.id, owner, now)?))?;
        return Ok(());
    };
    // Outside any transaction: rendering, hashing, signing and the timestamp authority's answer.
    let now: DateTime<Utc> = svc.clock.now();
    let (executed, timestamped) = crate::render::seal::seal_with(
        &input.pdf,
        &input.certificate,
        &cfg.key,
        now,
        cfg.tsa.as_ref(),
    )
    .map_err(|e| AppError::Internal(e.context("sealing the executed agreement")))?;
    let now = svc.clock.now();
    let sha = svc.write(|c| {
        super::signing::store_seal(c, &input, owner, &executed, &cfg.key, timestamped, now)
    })?;
    tracing::info!(envelope = %input.envelope_id, sha256 = %sha, timestamped, "executed agreement sealed");
    Ok(())
}

/// Wakes a waiting worker when a completion wrote a job.
#[derive(Default)]
pub struct Nudge {
    pending: Mutex<bool>,
    cond: Condvar,
}

impl Nudge {
    pub fn wake(&self) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *p = true;
        self.cond.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let (mut p, _) = self
            .cond
            .wait_timeout_while(p, timeout, |p| !*p)
            .unwrap_or_else(|e| e.into_inner());
        *p = false;
    }
}

/// The seal job as the application runs it: after the completing request's commit (when
/// `signing.seal_after_commit`), and in a worker thread of its own (when `signing.seal_worker`).
pub struct Sealer {
    pub cfg: SealConfig,
    pub after_commit: bool,
    pub nudge: Arc<Nudge>,
    owner: String,
}

impl Sealer {
    pub fn new(cfg: SealConfig, after_commit: bool) -> Sealer {
        Sealer {
            cfg,
            after_commit,
            nudge: Arc::default(),
            owner: owner_id(),
        }
    }

    /// After a command committed a completion: seals now (outside any transaction) when so
    /// configured, else wakes the worker. A failure is logged and left to the worker: the
    /// signature is committed whatever happens here.
    pub fn completed(&self, svc: &Services) {
        if self.after_commit {
            if let Err(e) = run_once(svc, &self.cfg, &self.owner) {
                tracing::warn!(error = %e, "sealing after the completion failed; the seal worker tries again");
            }
        }
        self.nudge.wake();
    }
}

fn owner_id() -> String {
    format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

/// The worker in a thread of its own; stops when dropped.
pub struct Worker {
    stop: Arc<AtomicBool>,
    nudge: Arc<Nudge>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    pub fn start(svc: Services, cfg: SealConfig, nudge: Arc<Nudge>) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let wait = nudge.clone();
        let owner = owner_id();
        let thread = std::thread::Builder::new()
            .name("seal-jobs".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match run_once(&svc, &cfg, &owner) {
                        Ok(r) if r.sealed > 0 => continue,
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "the seal job round failed"),
                    }
                    wait.wait(cfg.poll);
                }
            })
            .ok();
        Worker {
            stop,
            nudge,
            thread,
        }
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.nudge.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Worker {
    /// Stops the worker and waits for the seal in hand.
    fn drop(&mut self) {
        self.halt();
    }
}
