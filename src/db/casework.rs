//! Case handling (issue 16, items 2-5): completion requests, consultations and each CPUA's case file
//! (case number and handling lawyer). Rows in, rows out; the rules live in `app::casework`.
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::repo::QResult;
use super::schema::{case_files as cf, completion_requests as cr, consultations as co};
use super::DbConn;

/// One completion request (komplettering) of one CPUA's track.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = cr)]
pub struct CompletionRow {
    pub id: String,
    pub collaboration_id: String,
    pub cpua_id: String,
    /// JSON list of the items asked for.
    pub items: String,
    pub due_on: NaiveDate,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    /// JSON: the application's fields when the request was made.
    pub snapshot: String,
    pub answers: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
    pub resubmitted_snapshot: Option<String>,
}

/// One consultation (remiss).
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = co)]
pub struct ConsultationRow {
    pub id: String,
    pub collaboration_id: String,
    pub cpua_id: String,
    pub addressee_kind: String,
    pub addressee_org: Option<String>,
    pub addressee_role: Option<String>,
    pub addressee_email: Option<String>,
    pub addressee_name: Option<String>,
    pub question: String,
    pub due_on: NaiveDate,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub answer: Option<String>,
    pub answered_on: Option<NaiveDate>,
    pub answered_by: Option<String>,
    pub recorded_at: Option<NaiveDateTime>,
}

/// One CPUA's case file of a collaboration.
#[derive(Debug, Clone, Queryable, Insertable, Selectable)]
#[diesel(table_name = cf)]
pub struct CaseFileRow {
    pub collaboration_id: String,
    pub cpua_id: String,
    pub case_number: Option<String>,
    pub assignee: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub fn insert_completion(conn: &mut DbConn, r: &CompletionRow) -> QResult<()> {
    diesel::insert_into(cr::table).values(r).execute(conn)?;
    Ok(())
}

pub fn completions(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<CompletionRow>> {
    cr::table
        .filter(cr::collaboration_id.eq(collaboration))
        .order((cr::requested_at.asc(), cr::id.asc()))
        .select(CompletionRow::as_select())
        .load(conn)
}

pub fn completion(
    conn: &mut DbConn,
    collaboration: &str,
    id: &str,
) -> QResult<Option<CompletionRow>> {
    cr::table
        .filter(cr::collaboration_id.eq(collaboration))
        .filter(cr::id.eq(id))
        .select(CompletionRow::as_select())
        .first(conn)
        .optional()
}

/// Records the answer of a request still open; `false` when it was answered already (a lost race).
pub fn answer_completion(
    conn: &mut DbConn,
    id: &str,
    answers: &str,
    by: &str,
    at: NaiveDateTime,
    resubmitted: &str,
) -> QResult<bool> {
    let n = diesel::update(
        cr::table
            .filter(cr::id.eq(id))
            .filter(cr::answered_at.is_null()),
    )
    .set((
        cr::answers.eq(answers),
        cr::answered_by.eq(by),
        cr::answered_at.eq(at),
        cr::resubmitted_snapshot.eq(resubmitted),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn insert_consultation(conn: &mut DbConn, r: &ConsultationRow) -> QResult<()> {
    diesel::insert_into(co::table).values(r).execute(conn)?;
    Ok(())
}

pub fn consultations(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<ConsultationRow>> {
    co::table
        .filter(co::collaboration_id.eq(collaboration))
        .order((co::requested_at.asc(), co::id.asc()))
        .select(ConsultationRow::as_select())
        .load(conn)
}

pub fn consultation(
    conn: &mut DbConn,
    collaboration: &str,
    id: &str,
) -> QResult<Option<ConsultationRow>> {
    co::table
        .filter(co::collaboration_id.eq(collaboration))
        .filter(co::id.eq(id))
        .select(ConsultationRow::as_select())
        .first(conn)
        .optional()
}

/// Open consultations whose reminder may be due: due on or before `until` (index `consultations_open`).
pub fn open_consultations_due_by(
    conn: &mut DbConn,
    until: NaiveDate,
) -> QResult<Vec<ConsultationRow>> {
    co::table
        .filter(co::answer.is_null())
        .filter(co::due_on.le(until))
        .order((co::due_on.asc(), co::id.asc()))
        .select(ConsultationRow::as_select())
        .load(conn)
}

/// Open consultations addressed to an organisation and role (index `consultations_addressee`).
pub fn open_consultations_for(
    conn: &mut DbConn,
    org: &str,
    role: &str,
) -> QResult<Vec<ConsultationRow>> {
    co::table
        .filter(co::answer.is_null())
        .filter(co::addressee_org.eq(org))
        .filter(co::addressee_role.eq(role))
        .order((co::due_on.asc(), co::id.asc()))
        .select(ConsultationRow::as_select())
        .load(conn)
}

/// Records an answer of a consultation still open; `false` when it was answered already.
pub fn answer_consultation(
    conn: &mut DbConn,
    id: &str,
    answer: &str,
    on: NaiveDate,
    by: &str,
    at: NaiveDateTime,
) -> QResult<bool> {
    let n = diesel::update(co::table.filter(co::id.eq(id)).filter(co::answer.is_null()))
        .set((
            co::answer.eq(answer),
            co::answered_on.eq(on),
            co::answered_by.eq(by),
            co::recorded_at.eq(at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn case_files(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<CaseFileRow>> {
    cf::table
        .filter(cf::collaboration_id.eq(collaboration))
        .order(cf::cpua_id.asc())
        .select(CaseFileRow::as_select())
        .load(conn)
}

/// The case files assigned to a person (index `case_files_assignee`).
pub fn assigned_to(conn: &mut DbConn, account: &str) -> QResult<Vec<CaseFileRow>> {
    cf::table
        .filter(cf::assignee.eq(account))
        .order(cf::collaboration_id.asc())
        .select(CaseFileRow::as_select())
        .load(conn)
}

/// Writes a CPUA's case file: the row, created or replaced as a whole.
pub fn put_case_file(conn: &mut DbConn, r: &CaseFileRow) -> QResult<()> {
    let n = diesel::update(
        cf::table
            .filter(cf::collaboration_id.eq(&r.collaboration_id))
            .filter(cf::cpua_id.eq(&r.cpua_id)),
    )
    .set((
        cf::case_number.eq(&r.case_number),
        cf::assignee.eq(&r.assignee),
        cf::updated_at.eq(r.updated_at),
    ))
    .execute(conn)?;
    if n == 0 {
        diesel::insert_into(cf::table).values(r).execute(conn)?;
    }
    Ok(())
}
