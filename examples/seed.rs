//! Seeds N collaborations for the load benchmark (`scripts/load.sh`), straight through the storage
//! layer: one collaboration is created through the real command (classification and audit event
//! included), then copied N − 1 times with new ids, references and creation times (spread over the
//! two years before the last 60 days), each copy written with its projections, access rows and its
//! own sealed creation event by the repository's bulk insert (`repo::insert_collaborations_bulk`:
//! multi-row INSERTs of the rows production writes), 10,000 to a transaction.
//!
//! The copies are a mix, so that every shipped list and filter has full pages at every size: spread
//! over the example registers (five CPUAs) and five companies (the demo company and four more);
//! five in ten at the preparation step; four in ten at the release decision with the register's CPUA
//! reviewing a complete application, due between 15 days ago and 25 days ahead (so about a third
//! of them overdue); one in ten at the data application with an incomplete application.
//!
//! `DATABASE_URL=sqlite:///tmp/load.db cargo run --release --example seed -- 100000`
use chrono::{Duration, Utc};
use samverkan::app::audit::collaboration_stream;
use samverkan::app::collaborations::{self, NewCollaborationInput};
use samverkan::config::Settings;
use samverkan::db::conn::write_transaction;
use samverkan::db::repo;
use samverkan::domain::audit::{AuditEvent, Payload};
use samverkan::domain::collaboration::{CpuaReview, Dossier};
use samverkan::domain::events::EventType;
use samverkan::domain::ids::CollaborationId;
use samverkan::domain::organisation::{OrgKind, OrgNumber, Organisation};
use samverkan::domain::step::Step;

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
    let actor = samverkan::db::identity::first_actor_by_username(&mut conn, "company")?
        .ok_or_else(|| anyhow::anyhow!("the demo account 'company' is missing (local mode)"))?;
    let (regs, _) = repo::list_registers(&mut conn, None, None, 200)?;
    let regs: Vec<_> = regs.into_iter().filter(|r| r.is_example).collect();
    let cpuas = repo::current_cpuas(
        &mut conn,
        &regs.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
    )?;
    let now = Utc::now();
    let today = now.date_naive();
    let mut companies = vec![actor.org.clone()];
    for k in 1..5u32 {
        let org = Organisation {
            id: samverkan::domain::ids::OrgId::new(),
            name: format!("Lastprov {k} AB"),
            kind: OrgKind::Company,
            org_number: org_number(556_000_000 + k * 1_111)?,
            vat_number: None,
            address: None,
        };
        let org = write_transaction(&mut conn, |c| {
            samverkan::app::reference::insert_organisation_audited(c, &actor, org, now)
        })
        .map_err(|e| anyhow::anyhow!("creating a load company: {e}"))?;
        companies.push(org.id);
    }
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
    let (template, _) = repo::load_collaboration(&mut conn, &rulebooks, &id)?
        .ok_or_else(|| anyhow::anyhow!("the template is not stored"))?;
    let started = std::time::Instant::now();
    // Creation times over the two years that end 60 days ago, oldest first.
    let span = Duration::days(730).num_seconds() as f64;
    let base = now - Duration::days(790);
    let mut done = 1;
    while done < n {
        let upto = (done + BATCH).min(n);
        write_transaction(&mut conn, |c| -> Result<(), samverkan::app::AppError> {
            let mut batch = Vec::with_capacity(upto - done);
            for i in done..upto {
                let mut copy = template.clone();
                copy.id = CollaborationId::new();
                copy.reference = format!("LOAD-{i:07}");
                let reg = &regs[i % regs.len()];
                copy.registers = vec![reg.id.clone()];
                copy.company = companies[i % companies.len()].clone();
                let at = base + Duration::seconds((span * i as f64 / n as f64) as i64);
                copy.created_at = samverkan::domain::audit::truncate_micros(at);
                let kind = i % 10;
                if kind >= 5 {
                    let (cpua, cpua_name) = cpuas
                        .get(&reg.id)
                        .cloned()
                        .ok_or_else(|| anyhow::anyhow!("register {} has no CPUA", reg.code))?;
                    let due = today + Duration::days((i % 41) as i64 - 15);
                    let complete = (due - Duration::days(30))
                        .and_hms_opt(9, 0, 0)
                        .map(|t| t.and_utc());
                    let submitted = complete.map(|t| t - Duration::days(2));
                    let at_decision = kind < 9;
                    copy.step = if at_decision {
                        Step::ReleaseDecision
                    } else {
                        Step::DataApplication
                    };
                    copy.cpua_reviews = vec![CpuaReview {
                        cpua,
                        cpua_name,
                        registers: copy.registers.clone(),
                        application_submitted_at: submitted,
                        dossier: Dossier::default(),
                        application_complete_at: complete.filter(|_| at_decision),
                        decision_due_on: Some(due).filter(|_| at_decision),
                        decision: None,
                        release: None,
                        recommendation: None,
                        history: vec![],
                        appeals: vec![],
                        completion: None,
                    }];
                }
                // The creation event exactly as `audit::record` seals it, first of its stream.
                let state =
                    samverkan::domain::state::to_stored(&copy).map_err(anyhow::Error::from)?;
                let event = AuditEvent::seal(
                    collaboration_stream(copy.id.as_str()),
                    None,
                    at,
                    (
                        actor.account.as_str(),
                        &actor.name,
                        Some(actor.org.as_str()),
                        actor.role.code(),
                    ),
                    EventType::CollaborationCreated.code(),
                    EventType::CollaborationCreated.visibility(),
                    Payload {
                        before: None,
                        after: Some(state.clone()),
                        state: Some(state),
                        files: Default::default(),
                    },
                );
                batch.push((copy, at, event));
            }
            // Multi-row INSERTs of the same rows the one-at-a-time path writes.
            repo::insert_collaborations_bulk(c, &batch)?;
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
        done = upto;
        // Fresh statistics as the tables grow, so the access rebuild's plans stay index lookups.
        diesel::connection::SimpleConnection::batch_execute(&mut *conn, "ANALYZE")?;
        eprintln!(
            "{done} collaborations ({:.0}/s)",
            done as f64 / started.elapsed().as_secs_f64()
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    // On PostgreSQL also VACUUM: a bulk load leaves the visibility map unset, so until autovacuum
    // comes by, every index-only scan (the lists' capped counts) reads the table's rows as well
    // (a company's count at 100 k: 2-3.6 ms before, 0.35 ms after). The benchmark measures the
    // database as it is once autovacuum has run, not in the minutes after a bulk load.
    let last = match &*conn {
        samverkan::db::conn::DbConn::Postgres(_) => "VACUUM ANALYZE",
        samverkan::db::conn::DbConn::Sqlite(_) => "ANALYZE",
    };
    diesel::connection::SimpleConnection::batch_execute(&mut *conn, last)?;
    println!(
        "seeded {n} collaborations in {seconds:.1} s ({:.0}/s)",
        n as f64 / seconds
    );
    Ok(())
}

/// A valid organisation number from its first nine digits (the tenth is the Luhn check digit).
fn org_number(first_nine: u32) -> anyhow::Result<OrgNumber> {
    (0..10)
        .find_map(|d| OrgNumber::parse(&format!("{first_nine:09}{d}")).ok())
        .ok_or_else(|| anyhow::anyhow!("no check digit for {first_nine}"))
}
