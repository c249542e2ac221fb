//! Named data users (issue 16 item 6). Rows in, rows out; the rules live in `domain::data_users` and
//! `app::data_users`. No row is ever deleted.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::repo::QResult;
use super::schema::data_users as du;
use super::DbConn;

/// One named data user of a case (namngiven användare av personuppgifterna).
#[derive(Debug, Clone, Queryable, Insertable, Selectable, AsChangeset)]
#[diesel(table_name = du, treat_none_as_null = true)]
pub struct DataUserRow {
    pub id: String,
    pub collaboration_id: String,
    pub name: String,
    pub email: String,
    pub project_role: String,
    pub status: String,
    pub added_by: String,
    pub added_by_name: String,
    pub added_by_org: String,
    pub added_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_by_org: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub refusal_reason: Option<String>,
    pub removed_by: Option<String>,
    pub removed_by_name: Option<String>,
    pub removed_at: Option<NaiveDateTime>,
    pub removal_reason: Option<String>,
    pub undertaking_account: Option<String>,
    pub undertaking_at: Option<NaiveDateTime>,
    pub undertaking_version: Option<String>,
    pub undertaking_sha256: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &DataUserRow) -> QResult<()> {
    diesel::insert_into(du::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the row's new state (status, decision, removal, undertaking); `false` when it is gone.
pub fn update(conn: &mut DbConn, row: &DataUserRow) -> QResult<bool> {
    let n = diesel::update(du::table.find(&row.id))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// A case's named users in the order they were named.
pub fn of_collaboration(conn: &mut DbConn, collaboration: &str) -> QResult<Vec<DataUserRow>> {
    du::table
        .filter(du::collaboration_id.eq(collaboration))
        .order((du::added_at.asc(), du::id.asc()))
        .select(DataUserRow::as_select())
        .load(conn)
}

pub fn get(conn: &mut DbConn, collaboration: &str, id: &str) -> QResult<Option<DataUserRow>> {
    du::table
        .filter(du::collaboration_id.eq(collaboration))
        .filter(du::id.eq(id))
        .select(DataUserRow::as_select())
        .first(conn)
        .optional()
}

/// The named users with this e-mail address (index `data_users_email`), any case, oldest first.
pub fn with_email(conn: &mut DbConn, email: &str) -> QResult<Vec<DataUserRow>> {
    du::table
        .filter(du::email.eq(email))
        .order((du::added_at.asc(), du::id.asc()))
        .select(DataUserRow::as_select())
        .load(conn)
}

/// A case's reference and title, for naming it beside an undertaking.
pub fn collaboration_heading(
    conn: &mut DbConn,
    collaboration: &str,
) -> QResult<Option<(String, String)>> {
    use super::schema::collaborations as c;
    c::table
        .find(collaboration)
        .select((c::reference, c::title))
        .first(conn)
        .optional()
}
