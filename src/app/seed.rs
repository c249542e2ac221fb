//! Reference data for a fresh database, and the demo accounts of local mode.
use chrono::{DateTime, Utc};

use super::audit::{record, system_actor};
use super::reference::{insert_organisation_audited, insert_register_audited};
use super::AppError;
use crate::db::identity::{self, AccountRow, MembershipRow};
use crate::db::repo;
use crate::db::DbConn;
use crate::domain::events::EventType;
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::organisation::{OrgKind, OrgNumber, Organisation, VatNumber};
use crate::domain::register::Register;
use crate::domain::role::Role;

/// The six CPUA authorities after the consolidation from 13 to 6 (seed 002, appendix
/// "Förändringar i systemet för kunskapsstyrning och datautlämnande"), with their organisation
/// numbers.
pub const CPUAS: [(&str, &str); 6] = [
    ("Region Stockholm", "232100-0016"),
    ("Västra Götalandsregionen", "232100-0131"),
    ("Region Skåne", "232100-0255"),
    ("Region Uppsala", "232100-0024"),
    ("Region Östergötland", "232100-0040"),
    ("Region Västerbotten", "232100-0222"),
];

/// Example registers (marked as examples), each under one of the CPUAs above by index.
/// Example registers: code, name, CPUA (index into `CPUAS`), and whether the patient information covers
/// research (EX-NEONATAL does not, to show the retrospective-consent path of seed 000, "Vilka registerdata
/// går att använda för forskning?").
pub const EXAMPLE_REGISTERS: [(&str, &str, usize, bool); 6] = [
    (
        "EX-HJARTA",
        "Exempelregistret för hjärtintensivvård",
        3,
        true,
    ),
    ("EX-STROKE", "Exempelregistret för stroke", 5, true),
    ("EX-HOFT", "Exempelregistret för höftprotes", 1, true),
    ("EX-DIABETES", "Exempelregistret för diabetes", 1, true),
    ("EX-NEONATAL", "Exempelregistret för neonatalvård", 0, false),
    ("EX-CANCER", "Exempelregistret för bröstcancer", 2, true),
];

/// Demo organisations of local mode: two companies (so isolation between companies shows out of the
/// box) and a university.
pub const DEMO_ORGS: [(&str, OrgKind, &str); 3] = [
    ("Exempel Läkemedel AB", OrgKind::Company, "556677-8899"),
    ("Prov Medicinteknik AB", OrgKind::Company, "559900-1236"),
    ("Exempeluniversitetet", OrgKind::University, "202100-1231"),
];

/// Demo accounts of local mode: (username, name, role, organisation name).
pub const DEMO_ACCOUNTS: [(&str, &str, Role, &str); 8] = [
    (
        "company",
        "Karin Företagsson",
        Role::CompanyRepresentative,
        "Exempel Läkemedel AB",
    ),
    (
        "company-b",
        "Bo Bolagsson",
        Role::CompanyRepresentative,
        "Prov Medicinteknik AB",
    ),
    (
        "principal",
        "Per Forskare",
        Role::ResearchPrincipalRepresentative,
        "Exempeluniversitetet",
    ),
    (
        "register-holder",
        "Rita Registerhållare",
        Role::RegisterHolder,
        "Region Uppsala",
    ),
    ("legal", "Lars Jurist", Role::CpuaLegal, "Region Uppsala"),
    (
        "legal-vgr",
        "Vera Jurist",
        Role::CpuaLegal,
        "Västra Götalandsregionen",
    ),
    ("finance", "Fia Ekonom", Role::Finance, "Region Uppsala"),
    (
        "admin",
        "Adam Administratör",
        Role::Administrator,
        "Region Stockholm",
    ),
];

fn org(name: &str, kind: OrgKind, number: &str) -> Result<Organisation, AppError> {
    let org_number = OrgNumber::parse(number).map_err(|e| {
        AppError::Internal(anyhow::anyhow!("seed organisation number {number}: {e}"))
    })?;
    let vat_number = VatNumber::parse(&format!("SE{}01", org_number.digits())).ok();
    Ok(Organisation {
        id: OrgId::new(),
        name: name.to_string(),
        kind,
        org_number,
        vat_number,
        address: None,
    })
}

/// Seeds the reference data into an empty database. Returns whether anything was written.
pub fn seed_reference_data(conn: &mut DbConn, now: DateTime<Utc>) -> Result<bool, AppError> {
    if repo::count_organisations(conn)? > 0 {
        return Ok(false);
    }
    let system = system_actor();
    let mut cpua_ids = Vec::new();
    for (name, number) in CPUAS {
        let o = insert_organisation_audited(
            conn,
            &system,
            org(name, OrgKind::CpuaAuthority, number)?,
            now,
        )?;
        cpua_ids.push(o.id);
    }
    for (code, name, cpua, covers) in EXAMPLE_REGISTERS {
        let reg = Register {
            id: RegisterId::new(),
            code: code.to_string(),
            name: name.to_string(),
            is_example: true,
            patient_information_covers_research: covers,
        };
        insert_register_audited(conn, &system, reg, &cpua_ids[cpua], now)?;
    }
    Ok(true)
}

/// Makes sure the demo organisations and accounts exist (local mode only).
pub fn seed_demo_accounts(conn: &mut DbConn, now: DateTime<Utc>) -> Result<(), AppError> {
    let system = system_actor();
    for (name, kind, number) in DEMO_ORGS {
        let n = OrgNumber::parse(number)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("demo org {number}: {e}")))?;
        if repo::organisation_by_number(conn, &n)?.is_none() {
            insert_organisation_audited(conn, &system, org(name, kind, number)?, now)?;
        }
    }
    let (orgs, _) = repo::list_organisations(conn, None, None, 10_000)?;
    for (username, display, role, org_name) in DEMO_ACCOUNTS {
        if identity::account_by_username(conn, username)?.is_some() {
            continue;
        }
        let Some(o) = orgs.iter().find(|o| o.name == org_name) else {
            continue;
        };
        let mut row = AccountRow::new(
            username,
            display,
            &format!("{username}@demo.samverkan.invalid"),
            true,
            now,
        );
        row.email_verified = true;
        identity::insert_account(conn, &row)?;
        let membership = MembershipRow::new(&row.account_id(), &o.id, role, "seed", None, now);
        identity::insert_membership(conn, &membership)?;
        record(
            conn,
            &format!("account:{}", row.id),
            &system,
            EventType::AccountCreated,
            None,
            Some(serde_json::json!({
                "username": row.username, "email": row.email,
                "memberships": [{"id": membership.id, "role": membership.role,
                                 "organisation": membership.organisation_id}]
            })),
            now,
        )?;
    }
    Ok(())
}
