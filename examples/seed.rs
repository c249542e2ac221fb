//! Seeds N collaborations for the load benchmark (`scripts/load.sh`), straight through the storage
//! layer: one collaboration is created through the real command (classification and audit event
//! included), then copied N − 1 times with new ids, references and creation times, spread over the
//! example registers, each copy written with its projections and its own sealed audit event by the
//! repository and audit functions production uses, 10,000 to a transaction.
//!
//! `DATABASE_URL=sqlite:///tmp/load.db cargo run --release --example seed -- 100000`
use chrono::{Duration, Utc};
use samverkan::app::audit::{collaboration_stream, record};
use samverkan::app::collaborations::{self, NewCollaborationInput};
use samverkan::config::Settings;
use samverkan::db::conn::write_transaction;
use samverkan::db::repo;
use samverkan::domain::events::EventType;
use samverkan::domain::ids::CollaborationId;

const BATCH: usize = 10_000;

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("usage: seed <number of collaborations>"))?;
    let settings = Settings::load(std::path::Path::new("config"))?;
    let clock = samverkan::app::clock::SystemClock;
    let db = samverkan::startup::prepare_database(&settings, &clock)?;
    let rulebooks = samverkan::startup::load_rulebooks(&settings)?;
    let mut conn = db.pool.get()?;
    let actor = repo::account_by_username(&mut conn, "company")?
        .ok_or_else(|| anyhow::anyhow!("the demo account 'company' is missing (local mode)"))?
        .actor()?;
    let (regs, _) = repo::list_registers(&mut conn, None, None, 200)?;
    let regs: Vec<_> = regs.into_iter().filter(|r| r.is_example).collect();
    let now = Utc::now();
    let today = now.date_naive();
    let input: NewCollaborationInput = serde_json::from_value(serde_json::json!({
        "title": "Långtidsutfall efter hjärtinfarkt",
        "purpose": "Att jämföra långtidsutfall mellan behandlingsstrategier.",
        "registers": [regs[0].id.to_string()],
        "requested_variables": ["alder", "kon", "diagnosdatum", "behandling"],
        "data_kind": "aggregated",
    }))?;
    let template = write_transaction(&mut conn, |c| {
        collaborations::create(c, &rulebooks, &actor, input, now, today)
    })
    .map_err(|e| anyhow::anyhow!("creating the template collaboration: {e}"))?;
    let id = CollaborationId::parse(template.collaboration["id"].as_str().unwrap_or_default())
        .ok_or_else(|| anyhow::anyhow!("the template has no id"))?;
    let (template, _) = repo::load_collaboration(&mut conn, &id)?
        .ok_or_else(|| anyhow::anyhow!("the template is not stored"))?;
    let started = std::time::Instant::now();
    let base = now - Duration::seconds(n as i64);
    let mut done = 1;
    while done < n {
        let upto = (done + BATCH).min(n);
        write_transaction(&mut conn, |c| -> Result<(), samverkan::app::AppError> {
            for i in done..upto {
                let mut copy = template.clone();
                copy.id = CollaborationId::new();
                copy.reference = format!("LOAD-{i:07}");
                copy.registers = vec![regs[i % regs.len()].id.clone()];
                let at = base + Duration::seconds(i as i64);
                copy.created_at = samverkan::domain::audit::truncate_micros(at);
                repo::insert_collaboration(c, &copy, at)?;
                let state = serde_json::to_value(&copy).map_err(anyhow::Error::from)?;
                record(
                    c,
                    &collaboration_stream(copy.id.as_str()),
                    &actor,
                    EventType::CollaborationCreated,
                    None,
                    Some(state),
                    at,
                )?;
            }
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
        done = upto;
        eprintln!(
            "{done} collaborations ({:.0}/s)",
            done as f64 / started.elapsed().as_secs_f64()
        );
    }
    diesel::connection::SimpleConnection::batch_execute(&mut *conn, "ANALYZE")?;
    println!(
        "seeded {n} collaborations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
