//! The raw insert rate of the load benchmark (`scripts/load.sh`): the same INSERTs a create makes
//! (the year's counter, the collaboration row with its projections and access rows, its audit
//! event), one transaction per create, one after the other, with no validation, classification or
//! response view. Each commit waits for the database's durability (fsync on PostgreSQL; on SQLite
//! in WAL mode with `synchronous = NORMAL`, the setting the service uses). The service's create
//! rate is read beside this one.
//!
//! `DATABASE_URL=sqlite:///tmp/load.db cargo run --release --example raw_create -- 2000`
use chrono::Utc;
use samverkan::app::audit::{collaboration_stream, record};
use samverkan::config::Settings;
use samverkan::db::conn::write_transaction;
use samverkan::db::repo;
use samverkan::domain::events::EventType;
use samverkan::domain::ids::CollaborationId;

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("usage: raw_create <number of creates>"))?;
    let settings = Settings::load(std::path::Path::new("config"))?;
    let clock = samverkan::app::clock::SystemClock;
    let db = samverkan::startup::prepare_database(&settings, &clock)?;
    let rulebooks = samverkan::startup::load_rulebooks(&settings)?;
    let mut conn = db.pool.get()?;
    let actor = samverkan::db::identity::first_actor_by_username(&mut conn, "company")?
        .ok_or_else(|| anyhow::anyhow!("the demo account 'company' is missing (local mode)"))?;
    // A stored collaboration as the state to copy (the benchmark's seeded database has many).
    let ids = repo::collaboration_ids(&mut conn, None, 1)?;
    let id = ids
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("seed the database first (examples/seed.rs)"))?;
    let (mut template, _) =
        repo::load_collaboration(&mut conn, &rulebooks, &CollaborationId::from_db(id))?
            .ok_or_else(|| anyhow::anyhow!("the template is not stored"))?;
    // As created: at the preparation step, no CPUA review yet.
    template.step = samverkan::domain::step::Step::Preparation;
    template.cpua_reviews.clear();
    let started = std::time::Instant::now();
    for i in 0..n {
        let now = Utc::now();
        write_transaction(&mut conn, |c| -> Result<(), samverkan::app::AppError> {
            let k = repo::next_counter(c, "raw-create")?;
            let mut copy = template.clone();
            copy.id = CollaborationId::new();
            copy.reference = format!("RAW-{k:07}-{i}");
            copy.created_at = samverkan::domain::audit::truncate_micros(now);
            repo::insert_collaboration(c, &copy, now)?;
            let state = samverkan::domain::state::to_stored(&copy).map_err(anyhow::Error::from)?;
            record(
                c,
                &collaboration_stream(copy.id.as_str()),
                &actor,
                EventType::CollaborationCreated,
                None,
                Some(state),
                now,
            )?;
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("inserting: {e}"))?;
    }
    let s = started.elapsed().as_secs_f64();
    println!("raw creates: {n} in {s:.2} s = {:.0}/s", n as f64 / s);
    Ok(())
}
