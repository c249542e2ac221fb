//! Builds the application on any address (port 0 in tests) with its database ready.
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::TracingLogger;

use crate::app::clock::Clock;
use crate::app::{seed, Services};
use crate::config::{AuthMode, Settings};
use crate::db::conn::{run_migrations, under_start_lock};
use crate::db::Db;
use crate::http::{authenticate, routes, AppState};

pub struct Application {
    port: u16,
    server: Server,
    /// The server's own audit checkpoints; stops when the application is dropped.
    _checkpointer: Option<crate::app::checkpoint::Checkpointer>,
    /// The mail outbox worker (with the deadline scheduler), when `[mail] smtp_url` is set.
    _mail_worker: Option<crate::app::outbox::Worker>,
    /// The webhook worker (outbound events), unless `[webhooks] enabled = false`.
    _webhook_worker: Option<crate::app::webhooks_out::Worker>,
    /// The seal worker (executed agreements), unless `signing.seal_worker = false`.
    _seal_worker: Option<crate::app::signing_seal::Worker>,
}

/// The outbox worker for these settings, or `None` (with a warning) when no SMTP server is configured:
/// mail then stays in the outbox.
pub fn mail_worker(
    settings: &Settings,
    svc: &Services,
) -> anyhow::Result<Option<crate::app::outbox::Worker>> {
    let templates = Arc::new(crate::app::mailer::MailTemplates::builtin()?);
    let Some(mailer) = crate::app::mailer::Mailer::from_settings(&settings.mail)? else {
        tracing::warn!("no mail.smtp_url: notices and reminders are written to the outbox and stay there until an SMTP server is configured");
        return Ok(None);
    };
    let cfg =
        crate::app::outbox::WorkerConfig::from_settings(&settings.public_url(), &settings.mail);
    tracing::info!(from = %settings.mail.from, "mail: sending the outbox through SMTP");
    Ok(Some(crate::app::outbox::Worker::start(
        svc.clone(),
        Arc::new(mailer),
        templates,
        cfg,
    )))
}

/// The webhook worker for these settings, or `None` when `[webhooks] enabled = false` (deliveries then
/// wait for an instance that sends them). Outside local mode it refuses internal addresses.
pub fn webhook_worker(
    settings: &Settings,
    svc: &Services,
) -> anyhow::Result<Option<crate::app::webhooks_out::Worker>> {
    if !settings.webhooks.enabled {
        tracing::info!("webhooks.enabled = false: outbound events wait in their delivery log");
        return Ok(None);
    }
    let cfg = crate::app::webhooks_out::WorkerConfig::from_settings(
        &settings.webhooks,
        settings.auth.mode != AuthMode::Local,
    );
    Ok(Some(crate::app::webhooks_out::Worker::start(
        svc.clone(),
        cfg,
    )?))
}

/// The audit signing key at its configured place (generated there on first start), or `None` with a
/// warning when there is no place for it (PostgreSQL without `audit.data_dir`/`signing_key_file`).
pub fn audit_signing_key(
    settings: &Settings,
) -> anyhow::Result<Option<Arc<crate::app::checkpoint::SigningKeyPair>>> {
    match settings.signing_key_path() {
        Some(path) => Ok(Some(Arc::new(
            crate::app::checkpoint::SigningKeyPair::load_or_generate(&path)?,
        ))),
        None => {
            tracing::warn!("no audit signing key: set audit.data_dir or audit.signing_key_file to sign checkpoints of the audit trail");
            Ok(None)
        }
    }
}

/// The seal of executed agreements at its configured place (generated there on first start); with
/// no place for it (PostgreSQL without `audit.data_dir` or `signing.seal_key_file`), a key made for
/// this run, with a warning: seals made with it still verify (the certificate is in each seal), but
/// the next start seals under another certificate.
pub fn seal_key(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<crate::render::seal::SealKey> {
    let org = settings.signing.seal_organisation.as_str();
    match settings.seal_key_path() {
        Some(path) => crate::render::seal::SealKey::load_or_generate(&path, org)
            .map_err(|e| e.context(format!("signing.seal_key_file {}", path.display()))),
        None => {
            tracing::warn!("no place for the seal key: set audit.data_dir or signing.seal_key_file; executed agreements are sealed with a key made for this run");
            crate::render::seal::SealKey::generate(org, now)
        }
    }
}

/// Connects, applies the migrations and seeds reference data (and, in local mode, demo accounts),
/// all under the start lock (a PostgreSQL advisory lock; SQLite's write lock), so that instances
/// starting together on one database take turns instead of colliding.
pub fn prepare_database(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database_url, settings.database.pool_size)?;
    let mut conn = db.pool.get()?;
    let now = clock.now();
    let backend = db.url.backend_name();
    let local = settings.auth.mode == AuthMode::Local;
    under_start_lock(&mut conn, |c| {
        let applied = run_migrations(c)?;
        if applied > 0 {
            tracing::info!(applied, backend, "migrations applied");
        }
        if seed::seed_reference_data(c, now)
            .map_err(|e| anyhow::anyhow!("seeding reference data: {e}"))?
        {
            tracing::info!("reference data seeded: the six CPUA authorities and example registers");
        }
        if local {
            seed::seed_demo_accounts(c, now)
                .map_err(|e| anyhow::anyhow!("seeding demo accounts: {e}"))?;
        }
        let purged = crate::db::identity::purge_ended_sessions(c, now)
            .map_err(|e| anyhow::anyhow!("purging ended sessions: {e}"))?;
        if purged > 0 {
            tracing::info!(purged, "ended sessions purged");
        }
        Ok(())
    })?;
    Ok(db)
}

/// Loads and checks every rulebook version: from the configuration folder's `rulebook/` when it
/// exists, else the versions compiled into the binary. Any error stops the start with file, line
/// and reason, so the service never runs on a half-loaded rulebook.
pub fn load_rulebooks(
    settings: &Settings,
) -> anyhow::Result<crate::domain::classification::RulebookSet> {
    let dir = settings.config_dir.join("rulebook");
    let (from, loaded) = if dir.is_dir() {
        (dir.display().to_string(), crate::rulebook::load_dir(&dir))
    } else {
        (
            "the binary (embedded)".to_string(),
            crate::rulebook::load_embedded(),
        )
    };
    tracing::debug!(from = %from, "classification rulebook");
    loaded.map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "the classification rulebook in {from} has errors:\n{}",
            lines.join("\n")
        )
    })
}

/// Loads and checks the contract templates; a broken one stops the start with file, line and reason.
/// Without the configured folder the templates compiled into the binary are used, so the binary starts
/// from any folder; a folder that exists replaces them as a whole.
pub fn load_templates(settings: &Settings) -> anyhow::Result<crate::templates::TemplateSet> {
    let dir = &settings.templates_dir;
    if !dir.is_dir() {
        tracing::debug!(dir = %dir.display(), "no contract-template folder: using the embedded templates");
        return crate::templates::TemplateSet::builtin().map_err(|errs| {
            let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(
                "the embedded contract templates have errors:\n{}",
                lines.join("\n")
            )
        });
    }
    crate::templates::TemplateSet::load(dir).map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "the contract templates in {} have errors:\n{}",
            dir.display(),
            lines.join("\n")
        )
    })
}

impl Application {
    pub fn build(mut settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.addr).map_err(|e| {
            anyhow::anyhow!("SAMVERKAN_ADDR: cannot listen on {}: {e}", settings.addr)
        })?;
        let local = listener.local_addr()?;
        // The address actually listened on (port 0 becomes the port given): the service's own
        // address, when none is configured, is read from it (`Settings::public_url`).
        settings.addr = local.to_string();
        if settings.auth.mode == AuthMode::Local {
            if !local.ip().is_loopback() {
                anyhow::bail!(
                    "auth.mode = \"local\" serves demo accounts without passwords and refuses to start on {local}: bind a loopback address (127.0.0.1) or configure an identity provider"
                );
            }
            tracing::warn!(addr = %local, "local mode: demo accounts are served (loopback only)");
        }
        // Discovery before anything else is prepared: a provider that cannot be reached stops the
        // start, naming it.
        let providers = if settings.auth.mode == AuthMode::Oidc {
            crate::app::oidc::Providers::discover_blocking(&settings.auth)?
        } else {
            crate::app::oidc::Providers::default()
        };
        let message_errors = crate::domain::messages::check_embedded();
        if !message_errors.is_empty() {
            anyhow::bail!(
                "the message catalogues have errors:\n{}",
                message_errors.join("\n")
            );
        }
        let rulebooks = Arc::new(load_rulebooks(&settings)?);
        let templates = Arc::new(load_templates(&settings)?);
        let db = prepare_database(&settings, clock.as_ref())?;
        let workers = settings.server.workers;
        let blocking_threads = match settings.server.blocking_threads {
            0 => 2 * settings.database.pool_size as usize,
            n => n,
        };
        let key = audit_signing_key(&settings)?;
        let clock_now = clock.now();
        let svc = Services {
            db,
            clock,
            rulebooks,
            templates,
            audit_key: key.as_ref().map(|k| Arc::new(k.public())),
            views: Arc::default(),
        };
        let minutes = settings.audit.checkpoint_interval_minutes;
        let checkpointer = key.filter(|_| minutes > 0).map(|k| {
            crate::app::checkpoint::Checkpointer::start(
                svc.clone(),
                k,
                std::time::Duration::from_secs(minutes * 60),
            )
        });
        let mail_worker = mail_worker(&settings, &svc)?;
        let webhook_worker = webhook_worker(&settings, &svc)?;
        let seal = Arc::new(seal_key(&settings, clock_now)?);
        // The configured seal certificate is known to the release guard before it sealed anything.
        crate::app::signing_seal::register_key(&svc, &seal)
            .map_err(|e| anyhow::anyhow!("recording the seal certificate: {e}"))?;
        let seal_cfg =
            crate::app::signing_seal::SealConfig::from_settings(&settings.signing, seal.clone())?;
        let sealer = Arc::new(crate::app::signing_seal::Sealer::new(
            seal_cfg.clone(),
            settings.signing.seal_after_commit,
        ));
        let seal_worker = settings.signing.seal_worker.then(|| {
            crate::app::signing_seal::Worker::start(svc.clone(), seal_cfg, sealer.nudge.clone())
        });
        let documents = crate::app::document_store::from_settings(&settings.documents, &svc)?;
        let state = web::Data::new(
            AppState::new(svc, settings, seal, documents, sealer).with_providers(providers),
        );
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(authenticate))
                .wrap(from_fn(crate::http::edge::edge))
                // gzip when the client sends Accept-Encoding: gzip.
                .wrap(actix_web::middleware::Compress::default())
                .wrap(TracingLogger::<crate::http::problem::RequestLog>::new())
                .configure(routes)
        })
        .worker_max_blocking_threads(blocking_threads)
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Application {
            port: local.port(),
            server: server.run(),
            _checkpointer: checkpointer,
            _mail_worker: mail_worker,
            _webhook_worker: webhook_worker,
            _seal_worker: seal_worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves on a thread of its own (with a runtime of its own) until the returned value is
    /// stopped or dropped, which stops the server, ends its workers, checkpoints and mail, and waits
    /// for all of them: nothing of this application runs on after that. Tests and embedders use it.
    pub fn serve_in_thread(self) -> std::io::Result<RunningServer> {
        let handle = self.server.handle();
        let thread = std::thread::Builder::new()
            .name("samverkan-server".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => {
                        if let Err(e) = rt.block_on(self.run_until_stopped()) {
                            tracing::error!(error = %e, "the server stopped with an error");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot start the server's runtime"),
                }
            })?;
        Ok(RunningServer {
            handle,
            thread: Some(thread),
        })
    }
}

/// An [`Application`] serving on its own thread; stopping or dropping it stops the server (without
/// waiting for open connections) and joins everything it started.
pub struct RunningServer {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(thread) = self.thread.take() {
            // The stop command is sent at once; the server thread drives it to completion.
            drop(self.handle.stop(false));
            let _ = thread.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}
