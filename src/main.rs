//! The `samverkan` command: serve (the default), migrate, audit verify.
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use samverkan::app::clock::SystemClock;
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
    /// Apply the database migrations and seed the reference data, then exit.
    Migrate,
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify every hash chain; exits 1 and names the first broken link if someone tampered.
    Verify,
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
        Cmd::Migrate => prepare_database(&settings, &SystemClock).map(|_| {
            println!("migrations applied and reference data in place");
            ExitCode::SUCCESS
        }),
        Cmd::Audit {
            command: AuditCmd::Verify,
        } => verify(&settings),
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

fn verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let db = samverkan::db::Db::connect(&settings.database_url, 1)?;
    let mut conn = db.pool.get()?;
    let reports = samverkan::app::audit::verify_all(&mut conn)
        .map_err(|e| anyhow::anyhow!("reading the audit trail: {e}"))?;
    let mut broken = 0;
    let mut events = 0;
    for r in &reports {
        events += r.events;
        if let Some(b) = &r.first_broken_link {
            broken += 1;
            println!("BROKEN  {}  event {}: {}", b.stream, b.seq, b.reason);
        }
    }
    println!(
        "{} streams, {} events checked: {}",
        reports.len(),
        events,
        if broken == 0 {
            "every chain is intact".to_string()
        } else {
            format!("{broken} broken")
        }
    );
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
