//! The `samverkan` command: serve (the default), migrate, audit verify/checkpoint/export-heads,
//! backup.
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use samverkan::app::clock::{Clock, SystemClock};
use samverkan::config::{LogFormat, Settings};
use samverkan::startup::{prepare_database, Application};

#[derive(Parser)]
#[command(
    name = "samverkan",
    version,
    about = "Industry collaborations on Swedish quality-registry data"
)]
struct Cli {
    /// The folder with default.toml and <SAMVERKAN_ENV>.toml.
    #[arg(
        long,
        global = true,
        default_value = "config",
        env = "SAMVERKAN_CONFIG_DIR"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the API (the default).
    Serve,
    /// Send the mail outbox and write deadline reminders, and send the webhook deliveries, without
    /// serving HTTP (`serve` does this too); runs until interrupted. Several may run on one database.
    Worker,
    /// Apply the database migrations and seed the reference data, then exit.
    Migrate,
    /// Rebuild the list projections (registers, CPUA reviews, due dates, step) from every stored
    /// collaboration state, upcasting older state versions as they are read.
    Reproject,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server may run (for
    /// PostgreSQL, prints the pg_dump and pg_restore commands to use instead).
    Backup {
        /// The new file; it must not exist yet.
        file: PathBuf,
    },
    /// Classify the intake facts in a JSON file with the rulebook in force (nothing is stored).
    Classify {
        /// A JSON object of intake facts.
        file: PathBuf,
    },
    /// The classification rulebook.
    Rulebook {
        #[command(subcommand)]
        command: RulebookCmd,
    },
    /// The contract templates.
    Templates {
        #[command(subcommand)]
        command: TemplatesCmd,
    },
    /// Render a shipped example agreement (for template authors).
    Render {
        /// three-party, research-company-principal, regulatory-follow-up, statistics,
        /// commissioned-analysis, register-development
        #[arg(long)]
        example: String,
        /// sv or en
        #[arg(long, default_value = "sv")]
        lang: String,
        /// The output file; its extension (.docx, .pdf, .html) chooses the format.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum TemplatesCmd {
    /// List, per template, every variable it uses and whether the data model provides it; fail on
    /// unknown helpers, partials or variables with file, line and reason.
    Check {
        #[arg(default_value = "contract-templates")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum RulebookCmd {
    /// Check one rulebook file: unknown facts or values, rules that never fire, conflicting types,
    /// missing translations or sources. Errors name file and line.
    Check { file: PathBuf },
    /// Which stored collaborations would change type or obligations under NEW instead of OLD.
    Diff { old: PathBuf, new: PathBuf },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify every hash chain, each collaboration's state and agreement files against it, and the
    /// signed checkpoints; exits 1 and names each failed check (stream, event, check) if someone
    /// tampered.
    Verify {
        /// Also check the database against heads exported earlier (`audit export-heads`) and kept
        /// outside.
        #[arg(long)]
        heads: Option<PathBuf>,
    },
    /// Sign the head of every stream that moved since its last checkpoint.
    Checkpoint,
    /// Write the newest signed head of every stream as JSON lines, for an outside system to keep.
    ExportHeads {
        /// The file to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.level));
    let b = tracing_subscriber::fmt().with_env_filter(filter);
    match settings.log.format {
        LogFormat::Json => b.json().init(),
        LogFormat::Pretty => b.init(),
    }
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("samverkan: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&settings);
    let result = match cli.command.unwrap_or(Cmd::Serve) {
        Cmd::Serve => serve(settings).await,
        Cmd::Worker => worker(settings).await,
        Cmd::Migrate => prepare_database(&settings, &SystemClock).map(|_| {
            println!("migrations applied and reference data in place");
            ExitCode::SUCCESS
        }),
        Cmd::Reproject => reproject(&settings),
        Cmd::Audit {
            command: AuditCmd::Verify { heads },
        } => verify(&settings, heads.as_deref()),
        Cmd::Audit {
            command: AuditCmd::Checkpoint,
        } => checkpoint(&settings),
        Cmd::Audit {
            command: AuditCmd::ExportHeads { out },
        } => export_heads(&settings, out.as_deref()),
        Cmd::Backup { file } => backup(&settings, &file),
        Cmd::Classify { file } => classify_file(&settings, &file),
        Cmd::Rulebook {
            command: RulebookCmd::Check { file },
        } => rulebook_check(&file),
        Cmd::Rulebook {
            command: RulebookCmd::Diff { old, new },
        } => rulebook_diff(&settings, &old, &new),
        Cmd::Templates {
            command: TemplatesCmd::Check { dir },
        } => templates_check(&dir),
        Cmd::Render { example, lang, out } => render_example(&example, &lang, &out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "samverkan stopped");
            eprintln!("samverkan: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let addr = settings.addr.clone();
    let app = Application::build(settings, Arc::new(SystemClock))?;
    tracing::info!(%addr, port = app.port(), "samverkan serving; API docs at /api/docs");
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn worker(settings: Settings) -> anyhow::Result<ExitCode> {
    if settings.mail.smtp_url.is_empty() && !settings.webhooks.enabled {
        anyhow::bail!(
            "mail.smtp_url: not set and webhooks.enabled = false, so the worker has nothing to send (mail stays in the outbox)"
        );
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let svc = samverkan::app::Services {
        db: prepare_database(&settings, clock.as_ref())?,
        clock,
        rulebooks: Arc::new(samverkan::startup::load_rulebooks(&settings)?),
        templates: Arc::new(samverkan::startup::load_templates(&settings)?),
        audit_key: None,
        views: Arc::default(),
    };
    let mail = samverkan::startup::mail_worker(&settings, &svc)?;
    // Outbound events (issue 16): the webhook deliveries too, unless webhooks.enabled = false.
    let hooks = samverkan::startup::webhook_worker(&settings, &svc)?;
    tracing::info!(
        mail = mail.is_some(),
        webhooks = hooks.is_some(),
        "samverkan worker: sending the mail outbox and the webhook deliveries; Ctrl-C stops it"
    );
    println!("worker started");
    actix_web::rt::signal::ctrl_c().await?;
    if let Some(w) = mail {
        w.stop();
    }
    if let Some(w) = hooks {
        w.stop();
    }
    Ok(ExitCode::SUCCESS)
}

fn reproject(settings: &Settings) -> anyhow::Result<ExitCode> {
    let db = prepare_database(settings, &SystemClock)?;
    let rulebooks = samverkan::startup::load_rulebooks(settings)?;
    let svc_write = || -> anyhow::Result<usize> {
        let mut conn = db.pool.get()?;
        samverkan::db::conn::write_transaction(&mut conn, |c| {
            samverkan::app::collaborations::reproject_all(c, &rulebooks)
        })
        .map_err(|e| anyhow::anyhow!("rebuilding the projections: {e}"))
    };
    let n = svc_write()?;
    println!("{n} collaborations reprojected from their stored state");
    Ok(ExitCode::SUCCESS)
}

/// The configured signing key, read but never generated (verification changes nothing).
fn configured_key(
    settings: &Settings,
) -> anyhow::Result<Option<samverkan::app::checkpoint::SigningKeyPair>> {
    match settings.signing_key_path() {
        Some(p) => samverkan::app::checkpoint::SigningKeyPair::load(&p),
        None => Ok(None),
    }
}

fn verify(settings: &Settings, heads: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let exported = match heads {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("--heads: cannot read {}: {e}", p.display()))?;
            Some(
                samverkan::app::checkpoint::parse_heads(&text)
                    .map_err(|e| anyhow::anyhow!("--heads: {}: {e}", p.display()))?,
            )
        }
        None => None,
    };
    let key = configured_key(settings)?.map(|k| k.public());
    let db = samverkan::db::Db::connect(&settings.database_url, 1)?;
    let mut conn = db.pool.get()?;
    let reports = samverkan::app::audit::verify_all(&mut conn, key.as_ref())
        .map_err(|e| anyhow::anyhow!("reading the audit trail: {e}"))?;
    let mut broken = 0;
    let mut events = 0;
    let mut show = |b: &samverkan::domain::audit::BrokenLink| {
        broken += 1;
        println!(
            "BROKEN  {}  event {}  [{}]: {}",
            b.stream, b.seq, b.check, b.reason
        );
    };
    for r in &reports {
        events += r.events;
        r.findings.iter().for_each(&mut show);
    }
    if let Some(h) = &exported {
        samverkan::app::checkpoint::verify_heads(&mut conn, h)
            .map_err(|e| anyhow::anyhow!("reading the audit trail: {e}"))?
            .iter()
            .for_each(&mut show);
    }
    let checkpointed = reports
        .iter()
        .filter(|r| r.checkpoint_seq.is_some())
        .count();
    println!(
        "{} streams, {} events checked, {} with a signed checkpoint{}: {}",
        reports.len(),
        events,
        checkpointed,
        exported
            .as_ref()
            .map(|h| format!(", {} exported heads", h.len()))
            .unwrap_or_default(),
        if broken == 0 {
            "every chain is intact".to_string()
        } else {
            format!("{broken} problems")
        }
    );
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn checkpoint(settings: &Settings) -> anyhow::Result<ExitCode> {
    let key = samverkan::startup::audit_signing_key(settings)?.ok_or_else(|| {
        anyhow::anyhow!("no audit signing key: set audit.data_dir or audit.signing_key_file")
    })?;
    let db = samverkan::db::Db::connect(&settings.database_url, 1)?;
    let mut conn = db.pool.get()?;
    let now = SystemClock.now();
    let n = samverkan::db::conn::write_transaction(&mut conn, |c| {
        samverkan::app::checkpoint::checkpoint_all(c, &key, now)
    })
    .map_err(|e| anyhow::anyhow!("signing the audit heads: {e}"))?;
    println!("{n} stream heads signed with key {}", key.public().key_id());
    Ok(ExitCode::SUCCESS)
}

fn export_heads(settings: &Settings, out: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let key = configured_key(settings)?
        .ok_or_else(|| anyhow::anyhow!("no audit signing key found to export the heads of"))?;
    let db = samverkan::db::Db::connect(&settings.database_url, 1)?;
    let mut conn = db.pool.get()?;
    let heads = samverkan::app::checkpoint::export_heads(&mut conn, &key.public())
        .map_err(|e| anyhow::anyhow!("reading the checkpoints: {e}"))?;
    let mut text = String::new();
    for h in &heads {
        text.push_str(&serde_json::to_string(h)?);
        text.push('\n');
    }
    match out {
        Some(p) => {
            let tmp = p.with_extension("partial");
            std::fs::write(&tmp, &text)
                .and_then(|()| std::fs::rename(&tmp, p))
                .map_err(|e| anyhow::anyhow!("--out: cannot write {}: {e}", p.display()))?;
            println!("{} heads written to {}", heads.len(), p.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn backup(settings: &Settings, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    use samverkan::db::conn::DatabaseUrl;
    match DatabaseUrl::parse(&settings.database_url).map_err(anyhow::Error::msg)? {
        DatabaseUrl::Postgres(_) => {
            println!("samverkan backup copies SQLite databases; for PostgreSQL use its own tools:");
            println!(
                "  pg_dump --format=custom --file={} \"$DATABASE_URL\"",
                file.display()
            );
            println!(
                "  createdb NEW && pg_restore --no-owner --dbname=postgres://…/NEW {}",
                file.display()
            );
            println!("then `DATABASE_URL=postgres://…/NEW samverkan audit verify`.");
            Ok(ExitCode::from(2))
        }
        DatabaseUrl::Sqlite(_) => {
            if file.exists() {
                anyhow::bail!("{} exists already: choose a new file", file.display());
            }
            let target = file
                .to_str()
                .ok_or_else(|| anyhow::anyhow!("{}: the path is not UTF-8", file.display()))?;
            let db = samverkan::db::Db::connect(&settings.database_url, 1)?;
            let mut conn = db.pool.get()?;
            // VACUUM INTO writes a consistent snapshot (one read transaction) while others write.
            diesel::RunQueryDsl::execute(
                diesel::sql_query(format!("VACUUM INTO '{}'", target.replace('\'', "''"))),
                &mut *conn,
            )
            .map_err(|e| anyhow::anyhow!("backing up to {}: {e}", file.display()))?;
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            println!(
                "{} written ({size} bytes); keep the audit signing key ({}) with it",
                file.display(),
                settings
                    .signing_key_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "not configured".into())
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_rulebook_errors(errs: &[samverkan::domain::classification::RulebookError]) {
    for e in errs {
        eprintln!("{e}");
    }
}

fn rulebook_check(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    match samverkan::rulebook::check_file(file) {
        Ok(report) => {
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Err(errs) => {
            print_rulebook_errors(&errs);
            eprintln!("{}: {} error(s)", file.display(), errs.len());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn rulebook_diff(
    settings: &Settings,
    old: &std::path::Path,
    new: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let load = |p: &std::path::Path| {
        samverkan::rulebook::load_file(p).map_err(|errs| {
            print_rulebook_errors(&errs);
            anyhow::anyhow!("{} has {} error(s)", p.display(), errs.len())
        })
    };
    let (old, new) = (load(old)?, load(new)?);
    let db = samverkan::db::Db::connect(&settings.database_url, 1)?;
    let mut conn = db.pool.get()?;
    let cases = samverkan::app::classification::stored_cases(&mut conn)
        .map_err(|e| anyhow::anyhow!("reading the collaborations: {e}"))?;
    let changes = samverkan::rulebook::diff(&old, &new, &cases);
    println!(
        "{} stored collaborations tried against {} (was {}): {} would change",
        cases.len(),
        new.version,
        old.version,
        changes.len()
    );
    for c in &changes {
        let t = |t: Option<samverkan::domain::classification::CollaborationType>| {
            t.map(|t| t.to_string())
                .unwrap_or_else(|| "unclassified".into())
        };
        let codes = |v: &[samverkan::domain::classification::ObligationCode]| {
            v.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{}  type {} -> {}  obligations added [{}] removed [{}]",
            c.case_id,
            t(c.type_old),
            t(c.type_new),
            codes(&c.obligations_added),
            codes(&c.obligations_removed)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn classify_file(settings: &Settings, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let facts: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
    let rulebooks = samverkan::startup::load_rulebooks(settings)?;
    let today = SystemClock.now().date_naive();
    let needs_db = facts.get("registers").is_some();
    let result = if needs_db {
        let db = samverkan::db::Db::connect(&settings.database_url, 1)?;
        let mut conn = db.pool.get()?;
        samverkan::app::classification::what_if(&mut conn, &rulebooks, &facts, today)
    } else {
        samverkan::domain::classification::Facts::from_json(&facts)
            .map_err(|e| {
                samverkan::app::AppError::invalid(
                    &e.fact,
                    samverkan::msg!("fact", reason = e.message),
                )
            })
            .and_then(|f| {
                let book = samverkan::app::classification::rulebook_on(&rulebooks, today)?;
                Ok(samverkan::domain::classification::classify(book, &f, &[]))
            })
    };
    match result {
        Ok(c) => {
            println!("{}", serde_json::to_string_pretty(&c)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(samverkan::app::AppError::Invalid(errs)) => {
            for e in errs {
                eprintln!("{}: {}: {}", file.display(), e.field, e.message);
            }
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

fn templates_check(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    match samverkan::templates::check(dir) {
        Ok(report) => {
            println!("{}", report.to_text());
            Ok(ExitCode::SUCCESS)
        }
        Err(errs) => {
            for e in &errs {
                eprintln!("{e}");
            }
            eprintln!("{}: {} error(s)", dir.display(), errs.len());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn render_example(example: &str, lang: &str, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    let lang = samverkan::domain::lang::Lang::parse(lang)
        .ok_or_else(|| anyhow::anyhow!("--lang: sv or en, not '{lang}'"))?;
    let format = samverkan::render::Format::parse(&out.to_string_lossy())
        .ok_or_else(|| anyhow::anyhow!("--out: the file must end in .docx, .pdf or .html"))?;
    let bytes = samverkan::render::render_example(example, lang, format)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Written to a temporary file beside the target and renamed: never a half-written file.
    let tmp = out.with_extension("partial");
    std::fs::write(&tmp, &bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!("{} ({} bytes)", out.display(), bytes.len());
    Ok(ExitCode::SUCCESS)
}
