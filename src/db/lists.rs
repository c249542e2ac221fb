//! Lists that do not grow with the table (issue 10). Every shipped list reads one index range in
//! its order and stops after a page: keyset pagination (the sort key of the last row of the previous
//! page) instead of OFFSET, visibility through the `collaboration_access` projection instead of an OR
//! over three relations, and a total counted only up to [`COUNT_CAP`].
//!
//! The SQL is built here as text with `?` placeholders and typed binds, one builder for production and
//! for the query-plan test (`tests/query_plans.rs` asks [`collaboration_list_sql`] for the very statement
//! the list runs), so the two cannot drift apart. PostgreSQL gets `$1 … $n` in place of `?`.
use chrono::{NaiveDate, NaiveDateTime};
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Binary, Date, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{QueryableByName, RunQueryDsl};

use super::DbConn;
use crate::domain::ids::{OrgId, RegisterId};
use crate::domain::step::Step;

pub type QResult<T> = Result<T, diesel::result::Error>;

/// Totals are counted up to this many rows; past it the total says "at least" (`total_exact: false`).
pub const COUNT_CAP: i64 = 1000;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Timestamp(NaiveDateTime),
    Date(NaiveDate),
    Int(i64),
}

/// One statement: SQL with `?` placeholders and its binds, in order.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn bind(&mut self, s: &str, b: Bind) -> &mut Self {
        self.text.push_str(s);
        self.binds.push(b);
        self
    }

    /// The text for PostgreSQL: `$1 … $n` in place of each `?` (the builder never writes `?` inside a
    /// literal). Statements run through `Prepared`, which numbers them by diesel's own writer; this
    /// is for statements written out by hand, as the query plan test's `PREPARE`.
    pub fn postgres_text(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        let mut n = 0;
        for ch in self.text.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    }
}

/// A statement built here, as diesel sends it: the text split at each `?`, a bind in each gap, and
/// nothing that marks it unsafe to keep. So each connection prepares it once, under a name, and
/// reuses it (diesel's statement cache, keyed by the text and the bind types; the texts are a few
/// dozen shapes, one per filter combination). `diesel::sql_query` would send every list as an
/// unnamed statement, which PostgreSQL parses and plans again at every call: 0.7–2.7 ms a list at
/// 100 k rows, more than running it.
struct Prepared<'a>(&'a Sql);

impl diesel::query_builder::QueryId for Prepared<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Prepared<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}

macro_rules! prepared_fragment {
    ($backend:ty) => {
        impl diesel::query_builder::QueryFragment<$backend> for Prepared<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, $backend>,
            ) -> QResult<()> {
                let mut pieces = self.0.text.split('?');
                if let Some(first) = pieces.next() {
                    out.push_sql(first);
                }
                let mut binds = self.0.binds.iter();
                for piece in pieces {
                    match binds.next() {
                        Some(Bind::Text(s)) => out.push_bind_param::<Text, String>(s)?,
                        Some(Bind::Timestamp(t)) => {
                            out.push_bind_param::<Timestamp, NaiveDateTime>(t)?
                        }
                        Some(Bind::Date(d)) => out.push_bind_param::<Date, NaiveDate>(d)?,
                        Some(Bind::Int(i)) => out.push_bind_param::<BigInt, i64>(i)?,
                        None => {
                            return Err(diesel::result::Error::QueryBuilderError(
                                "a list statement has more placeholders than binds".into(),
                            ))
                        }
                    }
                    out.push_sql(piece);
                }
                if binds.next().is_some() {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "a list statement has more binds than placeholders".into(),
                    ));
                }
                Ok(())
            }
        }
    };
}

prepared_fragment!(Pg);
prepared_fragment!(Sqlite);

/// Runs a query built here and reads its rows.
pub fn load<R>(conn: &mut DbConn, sql: &Sql) -> QResult<Vec<R>>
where
    R: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    match conn {
        DbConn::Postgres(c) => Prepared(sql).load(c),
        DbConn::Sqlite(c) => Prepared(sql).load(c),
    }
}

/// Runs a statement built here; returns the rows it touched.
pub fn execute(conn: &mut DbConn, sql: &Sql) -> QResult<usize> {
    match conn {
        DbConn::Postgres(c) => Prepared(sql).execute(c),
        DbConn::Sqlite(c) => Prepared(sql).execute(c),
    }
}

// ---------- who may see what ----------

/// Which collaborations an actor may see, as a SQL filter: the same rule as `app::authz::can_see`,
/// read from `collaboration_access`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// An administrator.
    All,
    /// A company representative: the company's own collaborations.
    Company(OrgId),
    /// A research-principal representative: where the organisation is principal or company.
    Principal(OrgId),
    /// CPUA staff (legal, register holders, finance): where the authority is a CPUA now (of a
    /// register) or was applied to.
    Cpua(OrgId),
}

impl Visible {
    /// The organisation whose access rows decide, and the relation rule on alias `a`.
    fn org_and_rule(&self, a: &str) -> Option<(&OrgId, String)> {
        match self {
            Visible::All => None,
            Visible::Company(o) => Some((o, format!("{a}.is_company = 1"))),
            Visible::Principal(o) => {
                Some((o, format!("({a}.is_company = 1 OR {a}.is_principal = 1)")))
            }
            Visible::Cpua(o) => Some((o, format!("{a}.is_cpua = 1"))),
        }
    }
}

/// The number an access row keeps for a step code: its place in [`Step::ALL`] (stable: new steps are
/// added at the end), or -1, which no row has, for a code that is no step.
pub fn step_no(code: &str) -> i64 {
    Step::ALL
        .iter()
        .position(|s| s.code() == code)
        .map_or(-1, |i| i as i64)
}

/// `CASE c.step WHEN 'preparation' THEN 0 … END`: [`step_no`] in SQL, for the access rebuild.
fn step_no_sql() -> String {
    let mut sql = String::from("CASE c.step");
    for (i, s) in Step::ALL.iter().enumerate() {
        sql.push_str(&format!(" WHEN '{}' THEN {i}", s.code()));
    }
    sql.push_str(" ELSE -1 END");
    sql
}

/// Which collaborations the rebuild covers.
pub enum AccessScope<'a> {
    One(&'a str),
    OfRegister(&'a str),
    /// Several collaborations at once (a bulk load); keep it to a few hundred ids a call.
    Many(&'a [String]),
}

/// Rebuilds the `collaboration_access` rows of the collaborations in scope from their stored rows
/// (company, principal), the current CPUA of each register, and every CPUA applied to. Call it after
/// the collaboration's row and projection rows are written, or after a register moved CPUA.
pub fn rebuild_access(conn: &mut DbConn, scope: AccessScope<'_>) -> QResult<()> {
    let (pred, binds): (String, Vec<&str>) = match scope {
        AccessScope::One(id) => ("c.id = ?".into(), vec![id]),
        AccessScope::OfRegister(r) => (
            "c.id IN (SELECT cr0.collaboration_id FROM collaboration_registers cr0 WHERE cr0.register_id = ?)".into(),
            vec![r],
        ),
        AccessScope::Many(ids) => {
            if ids.is_empty() {
                return Ok(());
            }
            (
                format!("c.id IN ({})", vec!["?"; ids.len()].join(", ")),
                ids.iter().map(String::as_str).collect(),
            )
        }
    };
    let bind_pred = |sql: &mut Sql| {
        sql.push(&pred);
        for b in &binds {
            sql.binds.push(Bind::Text((*b).into()));
        }
    };
    let mut del = Sql::default();
    match scope {
        AccessScope::One(id) => {
            del.bind(
                "DELETE FROM collaboration_access WHERE collaboration_id = ?",
                Bind::Text(id.into()),
            );
        }
        AccessScope::OfRegister(r) => {
            del.bind(
                "DELETE FROM collaboration_access WHERE collaboration_id IN \
                 (SELECT cr0.collaboration_id FROM collaboration_registers cr0 WHERE cr0.register_id = ?)",
                Bind::Text(r.into()),
            );
        }
        AccessScope::Many(_) => {
            del.push("DELETE FROM collaboration_access WHERE collaboration_id IN (SELECT c.id FROM collaborations c WHERE ");
            bind_pred(&mut del);
            del.push(")");
        }
    }
    execute(conn, &del)?;
    let step = step_no_sql();
    let mut ins = Sql::default();
    ins.push(
        "INSERT INTO collaboration_access \
         (org_id, collaboration_id, created_at, is_company, is_principal, is_cpua, next_due_on, step_no) \
         SELECT org_id, collaboration_id, MAX(created_at), MAX(is_company), MAX(is_principal), \
         MAX(is_cpua), (SELECT MIN(r2.decision_due_on) FROM cpua_reviews r2 \
         WHERE r2.collaboration_id = x.collaboration_id), MAX(step_no) FROM (",
    );
    ins.push(&format!(
        "SELECT c.company_id AS org_id, c.id AS collaboration_id, c.created_at AS created_at, \
         1 AS is_company, 0 AS is_principal, 0 AS is_cpua, {step} AS step_no FROM collaborations c WHERE "
    ));
    bind_pred(&mut ins);
    ins.push(&format!(
        " UNION ALL SELECT c.principal_id, c.id, c.created_at, 0, 1, 0, {step} FROM collaborations c \
         WHERE c.principal_id IS NOT NULL AND "
    ));
    bind_pred(&mut ins);
    ins.push(&format!(
        " UNION ALL SELECT rc.cpua_id, c.id, c.created_at, 0, 0, 1, {step} FROM collaborations c \
         JOIN collaboration_registers cr ON cr.collaboration_id = c.id \
         JOIN register_cpua rc ON rc.register_id = cr.register_id AND rc.valid_to IS NULL WHERE "
    ));
    bind_pred(&mut ins);
    ins.push(&format!(
        " UNION ALL SELECT r.cpua_id, c.id, c.created_at, 0, 0, 1, {step} FROM collaborations c \
         JOIN cpua_reviews r ON r.collaboration_id = c.id WHERE "
    ));
    bind_pred(&mut ins);
    ins.push(") x GROUP BY org_id, collaboration_id");
    execute(conn, &ins)?;
    Ok(())
}

// ---------- the collaboration list ----------

/// The filters of the collaboration list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollabFilter {
    pub step: Option<String>,
    pub cpua: Option<OrgId>,
    pub register: Option<RegisterId>,
    /// Only collaborations with an undecided CPUA decision due before this day.
    pub overdue_on: Option<NaiveDate>,
    /// Only collaborations of this type in force (a classification type code): legal's decision,
    /// else the rulebook's, as the stored state records it (the generated column
    /// `collaborations.collaboration_type`, migration `2026-12-05-000010_list_type_filter`).
    pub collaboration_type: Option<String>,
    /// Issue 16: only collaborations whose CPUA case number (diarienummer) is exactly this (index
    /// `case_files_case_number`).
    pub case_number: Option<String>,
    /// Issue 16: only collaborations whose handling lawyer is this account (`assigned=mine`; index
    /// `case_files_assignee`).
    pub assignee: Option<String>,
    /// Issue 12: only collaborations whose title or reference contains this text, already folded to
    /// lower case by [`fold`] (the list's "search"). A condition on the rows the driver's index
    /// range delivers, not an index of its own: it narrows a list already bounded by visibility and
    /// the other filters. A "contains" match cannot use a B-tree, so a rare text is looked for
    /// through the whole visible range (the administrator's: every collaboration; PostgreSQL may
    /// then scan and sort). It is therefore not among the lists `tests/query_plans.rs` claims; a
    /// trigram index (pg_trgm) or FTS5 would be the next step if searches by administrators at
    /// a million rows matter.
    pub search: Option<String>,
}

/// Lower case by Unicode's rules (Å → å, Ü → ü), the same fold the database applies through the
/// SQL function `samverkan_fold`: registered on every SQLite connection (`db::conn`), and on
/// PostgreSQL created by migration `2026-12-08-000060_list_search` over `lower`, which folds by
/// the database's `LC_CTYPE` (a UTF-8 locale, as `initdb` gives by default).
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// The `LIKE` pattern "contains `needle`", with `\`, `%` and `_` escaped (the statement says
/// `ESCAPE '\'`), so a search for `50%` finds "50%" and not everything.
pub fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for ch in needle.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// How a collaboration list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollabSort {
    /// Newest first: `created_at` descending, then id descending.
    Newest,
    /// Work-queue order: the earliest undecided CPUA decision due date first, then id. Only
    /// collaborations with an undecided, dated CPUA review are listed (of the `cpua` filter's authority
    /// when there is one; otherwise each collaboration once, by its earliest such date).
    Due,
}

impl CollabSort {
    pub fn code(self) -> &'static str {
        match self {
            CollabSort::Newest => "newest",
            CollabSort::Due => "due",
        }
    }
}

/// A creation time as a cursor carries it: UTC, to the microsecond, as stored.
pub fn key_time(at: &NaiveDateTime) -> String {
    at.format(KEY_TIME).to_string()
}

/// A cursor's creation time back ([`key_time`]); `None` when it is not one.
pub fn parse_key_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

const KEY_TIME: &str = "%Y-%m-%dT%H:%M:%S%.6f";

/// The sort key of one row: where the next page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKey {
    Created { at: NaiveDateTime, id: String },
    Due { on: NaiveDate, id: String },
}

/// Which table drives a list: the one whose index delivers the rows in order.
enum Driver {
    Collaborations,
    Register,
    Access,
    /// The actor's own access rows in due order (`next_due_on`).
    AccessDue,
    CpuaFilter,
    Reviews,
    CpuaReviews,
}

struct Built {
    /// The driving table, and (when it is not `collaborations` itself) the join that reads the
    /// collaboration's row.
    from: Sql,
    join: &'static str,
    /// Whether a condition reads the collaboration's row (`c.`): the count leaves the join out when
    /// none does (the foreign key of the driver's `collaboration_id` keeps the total the same).
    conds_read_c: bool,
    conds: Sql,
    order: &'static str,
    key_cols: &'static str,
    keyset_cols: &'static str,
}

fn built(visible: &Visible, f: &CollabFilter, sort: CollabSort) -> Built {
    let driver = match sort {
        CollabSort::Due if f.cpua.is_some() => Driver::CpuaReviews,
        CollabSort::Due if *visible != Visible::All => Driver::AccessDue,
        CollabSort::Due => Driver::Reviews,
        CollabSort::Newest if f.register.is_some() => Driver::Register,
        CollabSort::Newest if f.cpua.is_some() => Driver::CpuaFilter,
        CollabSort::Newest if *visible != Visible::All => Driver::Access,
        CollabSort::Newest => Driver::Collaborations,
    };
    let mut from = Sql::default();
    let mut conds = Sql::default();
    // Every condition starts with " AND "; the driver's own come first.
    conds.push("1 = 1");
    const JOIN_C: &str = " JOIN collaborations c ON c.id = d.collaboration_id";
    let join = if matches!(driver, Driver::Collaborations) {
        ""
    } else {
        JOIN_C
    };
    let (order, key_cols, keyset_cols) = match driver {
        Driver::Collaborations => {
            from.push("collaborations c");
            (
                "c.created_at DESC, c.id DESC",
                "c.created_at AS key_at, CAST(NULL AS DATE) AS key_on, c.id AS key_id",
                "(c.created_at, c.id) < ",
            )
        }
        Driver::Register => {
            from.push("collaboration_registers d");
            let r = f.register.as_ref().map(|r| r.as_str().to_string());
            conds.bind(" AND d.register_id = ?", Bind::Text(r.unwrap_or_default()));
            (
                "d.created_at DESC, d.collaboration_id DESC",
                "d.created_at AS key_at, CAST(NULL AS DATE) AS key_on, d.collaboration_id AS key_id",
                "(d.created_at, d.collaboration_id) < ",
            )
        }
        Driver::Access | Driver::CpuaFilter => {
            from.push("collaboration_access d");
            if matches!(driver, Driver::CpuaFilter) {
                let o = f.cpua.as_ref().map(|o| o.as_str().to_string());
                conds.bind(
                    " AND d.org_id = ? AND d.is_cpua = 1",
                    Bind::Text(o.unwrap_or_default()),
                );
            } else if let Some((o, rule)) = visible.org_and_rule("d") {
                conds.bind(" AND d.org_id = ?", Bind::Text(o.as_str().into()));
                conds.push(" AND ");
                conds.push(&rule);
            }
            (
                "d.created_at DESC, d.collaboration_id DESC",
                "d.created_at AS key_at, CAST(NULL AS DATE) AS key_on, d.collaboration_id AS key_id",
                "(d.created_at, d.collaboration_id) < ",
            )
        }
        Driver::AccessDue => {
            from.push("collaboration_access d");
            if let Some((o, rule)) = visible.org_and_rule("d") {
                conds.bind(" AND d.org_id = ?", Bind::Text(o.as_str().into()));
                conds.push(" AND ");
                conds.push(&rule);
            }
            conds.push(" AND d.next_due_on IS NOT NULL");
            (
                "d.next_due_on ASC, d.collaboration_id ASC",
                "CAST(NULL AS TIMESTAMP) AS key_at, d.next_due_on AS key_on, d.collaboration_id AS key_id",
                "(d.next_due_on, d.collaboration_id) > ",
            )
        }
        Driver::Reviews | Driver::CpuaReviews => {
            from.push("cpua_reviews d");
            if let Some(o) = &f.cpua {
                conds.bind(" AND d.cpua_id = ?", Bind::Text(o.as_str().into()));
            }
            conds.push(" AND d.decision_due_on IS NOT NULL");
            if matches!(driver, Driver::Reviews) {
                // Each collaboration once: by its earliest undecided due date (then the lowest CPUA id).
                conds.push(
                    " AND NOT EXISTS (SELECT 1 FROM cpua_reviews e \
                     WHERE e.collaboration_id = d.collaboration_id AND e.decision_due_on IS NOT NULL \
                     AND (e.decision_due_on < d.decision_due_on \
                     OR (e.decision_due_on = d.decision_due_on AND e.cpua_id < d.cpua_id)))",
                );
            }
            (
                "d.decision_due_on ASC, d.collaboration_id ASC",
                "CAST(NULL AS TIMESTAMP) AS key_at, d.decision_due_on AS key_on, d.collaboration_id AS key_id",
                "(d.decision_due_on, d.collaboration_id) > ",
            )
        }
    };
    if let Some(day) = f.overdue_on {
        // Overdue lists are always in due order (the handler sees to it), so `d` is a review or the
        // actor's access rows in due order.
        if matches!(driver, Driver::AccessDue) {
            conds.bind(" AND d.next_due_on < ?", Bind::Date(day));
        } else {
            conds.bind(" AND d.decision_due_on < ?", Bind::Date(day));
        }
    }
    // The other conditions name the driver's collaboration id, so the planner may join their index
    // ranges with the driver's without reading collaborations.
    let idcol = if matches!(driver, Driver::Collaborations) {
        "c.id"
    } else {
        "d.collaboration_id"
    };
    // Visibility, unless the driver is the actor's own access rows, or the CPUA filter names the
    // actor's own authority (its access rows as CPUA, and every CPUA applied to has such rows).
    let own_cpua = matches!((visible, &f.cpua), (Visible::Cpua(v), Some(o)) if v == o)
        && matches!(driver, Driver::CpuaFilter | Driver::CpuaReviews);
    if !matches!(driver, Driver::Access | Driver::AccessDue) && !own_cpua {
        if let Some((o, rule)) = visible.org_and_rule("v") {
            conds.bind(
                &format!(
                    " AND EXISTS (SELECT 1 FROM collaboration_access v WHERE v.org_id = ? \
                     AND v.collaboration_id = {idcol} AND "
                ),
                Bind::Text(o.as_str().into()),
            );
            conds.push(&rule);
            conds.push(")");
        }
    }
    if let Some(o) = &f.cpua {
        if !matches!(driver, Driver::CpuaFilter | Driver::CpuaReviews) {
            conds.bind(
                &format!(
                    " AND EXISTS (SELECT 1 FROM collaboration_access x WHERE x.org_id = ? \
                     AND x.collaboration_id = {idcol} AND x.is_cpua = 1)"
                ),
                Bind::Text(o.as_str().into()),
            );
        }
    }
    if let Some(r) = &f.register {
        if !matches!(driver, Driver::Register) {
            conds.bind(
                &format!(
                    " AND EXISTS (SELECT 1 FROM collaboration_registers r \
                     WHERE r.collaboration_id = {idcol} AND r.register_id = ?)"
                ),
                Bind::Text(r.as_str().into()),
            );
        }
    }
    // The access rows carry the step's number (`step_no`, migration `2026-12-10-000040_access_step`), so
    // a party's list filtered by step, and its count, read one index and never the collaborations.
    let step_on_access = matches!(
        driver,
        Driver::Access | Driver::AccessDue | Driver::CpuaFilter
    );
    if let Some(s) = &f.step {
        if step_on_access {
            conds.bind(" AND d.step_no = ?", Bind::Int(step_no(s)));
        } else {
            conds.bind(" AND c.step = ?", Bind::Text(s.clone()));
        }
    }
    if let Some(t) = &f.collaboration_type {
        conds.bind(" AND c.collaboration_type = ?", Bind::Text(t.clone()));
    }
    // Issue 16: a case number or a handling lawyer, each an index range of `case_files`.
    if let Some(n) = &f.case_number {
        conds.bind(
            &format!(
                " AND EXISTS (SELECT 1 FROM case_files k \
                 WHERE k.case_number = ? AND k.collaboration_id = {idcol})"
            ),
            Bind::Text(n.clone()),
        );
    }
    if let Some(a) = &f.assignee {
        conds.bind(
            &format!(
                " AND EXISTS (SELECT 1 FROM case_files m \
                 WHERE m.assignee = ? AND m.collaboration_id = {idcol})"
            ),
            Bind::Text(a.clone()),
        );
    }
    if let Some(t) = &f.search {
        let pattern = contains_pattern(t);
        conds.bind(
            " AND (samverkan_fold(c.title) LIKE ? ESCAPE '\\'",
            Bind::Text(pattern.clone()),
        );
        conds.bind(
            " OR samverkan_fold(c.reference) LIKE ? ESCAPE '\\')",
            Bind::Text(pattern),
        );
    }
    let conds_read_c = matches!(driver, Driver::Collaborations)
        || (f.step.is_some() && !step_on_access)
        || f.collaboration_type.is_some()
        || f.search.is_some();
    Built {
        from,
        join,
        conds_read_c,
        conds,
        order,
        key_cols,
        keyset_cols,
    }
}

fn append(into: &mut Sql, part: &Sql) {
    into.text.push_str(&part.text);
    into.binds.extend(part.binds.iter().cloned());
}

/// The statement of one page of the collaboration list: `limit` rows after `after`.
pub fn collaboration_list_sql(
    visible: &Visible,
    f: &CollabFilter,
    sort: CollabSort,
    after: Option<&ListKey>,
    limit: i64,
) -> Sql {
    let b = built(visible, f, sort);
    let mut sql = Sql::default();
    sql.push("SELECT c.version AS version, c.state AS state, c.state_z AS state_z, ");
    sql.push(b.key_cols);
    sql.push(" FROM ");
    append(&mut sql, &b.from);
    sql.push(b.join);
    sql.push(" WHERE ");
    append(&mut sql, &b.conds);
    match after {
        Some(ListKey::Created { at, id }) => {
            sql.push(" AND ");
            sql.push(b.keyset_cols);
            sql.bind("(?, ", Bind::Timestamp(*at));
            sql.bind("?)", Bind::Text(id.clone()));
        }
        Some(ListKey::Due { on, id }) => {
            sql.push(" AND ");
            sql.push(b.keyset_cols);
            sql.bind("(?, ", Bind::Date(*on));
            sql.bind("?)", Bind::Text(id.clone()));
        }
        None => {}
    }
    sql.push(" ORDER BY ");
    sql.push(b.order);
    sql.bind(" LIMIT ?", Bind::Int(limit));
    sql
}

/// The statement that counts the list's rows up to [`COUNT_CAP`] + 1. It reads only the driving
/// table's index (and the visibility rows) unless a condition needs the collaboration's row: every
/// driver row's `collaboration_id` names a stored collaboration, so the join changes no total.
pub fn collaboration_count_sql(visible: &Visible, f: &CollabFilter, sort: CollabSort) -> Sql {
    let b = built(visible, f, sort);
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ");
    append(&mut sql, &b.from);
    if b.conds_read_c {
        sql.push(b.join);
    }
    sql.push(" WHERE ");
    append(&mut sql, &b.conds);
    sql.bind(" LIMIT ?) t", Bind::Int(COUNT_CAP + 1));
    sql
}

#[derive(QueryableByName)]
struct ListRow {
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Binary>)]
    state_z: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    key_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Date>)]
    key_on: Option<NaiveDate>,
    #[diesel(sql_type = Text)]
    key_id: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A page of collaborations: each with its version and sort key, in list order.
pub type CollabPage = Vec<(crate::domain::collaboration::Collaboration, i64, ListKey)>;

/// One page of the collaboration list (`limit` rows after `after`).
pub fn list_collaborations(
    conn: &mut DbConn,
    visible: &Visible,
    f: &CollabFilter,
    sort: CollabSort,
    after: Option<&ListKey>,
    limit: i64,
) -> QResult<CollabPage> {
    let rows: Vec<ListRow> = load(
        conn,
        &collaboration_list_sql(visible, f, sort, after, limit),
    )?;
    rows.into_iter()
        .map(|r| {
            let key = match (r.key_at, r.key_on) {
                (Some(at), _) => ListKey::Created { at, id: r.key_id },
                (None, Some(on)) => ListKey::Due { on, id: r.key_id },
                (None, None) => {
                    return Err(diesel::result::Error::DeserializationError(
                        "a list row without its sort key".into(),
                    ))
                }
            };
            // A list line never reads the classification, so it is not recomputed.
            let text = super::repo::state_text(r.state, r.state_z.as_deref())?;
            let c = crate::domain::state::load_for_summary(&text)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            Ok((c, r.version, key))
        })
        .collect()
}

/// How many rows the list has, counted up to [`COUNT_CAP`] + 1 (so "more than the cap" is known).
pub fn count_collaborations(
    conn: &mut DbConn,
    visible: &Visible,
    f: &CollabFilter,
    sort: CollabSort,
) -> QResult<i64> {
    let rows: Vec<CountRow> = load(conn, &collaboration_count_sql(visible, f, sort))?;
    Ok(rows.first().map(|r| r.n).unwrap_or(0))
}

// ---------- organisations ----------

/// The statement of one page of organisations in name order (then id), optionally of one kind.
pub fn organisation_list_sql(kind: Option<&str>, after: Option<(&str, &str)>, limit: i64) -> Sql {
    let mut sql = Sql::default();
    sql.push(
        "SELECT o.id, o.name, o.kind, o.org_number, o.vat_number, o.address, o.created_at \
         FROM organisations o WHERE 1 = 1",
    );
    if let Some(k) = kind {
        sql.bind(" AND o.kind = ?", Bind::Text(k.into()));
    }
    if let Some((name, id)) = after {
        sql.bind(" AND (o.name, o.id) > (?, ", Bind::Text(name.into()));
        sql.bind("?)", Bind::Text(id.into()));
    }
    sql.bind(" ORDER BY o.name ASC, o.id ASC LIMIT ?", Bind::Int(limit));
    sql
}

/// How many organisations (of a kind) there are, counted up to [`COUNT_CAP`] + 1.
pub fn count_organisations(conn: &mut DbConn, kind: Option<&str>) -> QResult<i64> {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM organisations o WHERE 1 = 1");
    if let Some(k) = kind {
        sql.bind(" AND o.kind = ?", Bind::Text(k.into()));
    }
    sql.bind(" LIMIT ?) t", Bind::Int(COUNT_CAP + 1));
    let rows: Vec<CountRow> = load(conn, &sql)?;
    Ok(rows.first().map(|r| r.n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement whose binds do not match its placeholders is refused before it is sent, whichever
    /// side has more; a matching one runs with its binds in order.
    #[test]
    fn a_prepared_statement_takes_exactly_one_bind_a_placeholder() {
        use diesel::Connection;
        let mut c = diesel::sqlite::SqliteConnection::establish(":memory:").expect("sqlite");
        #[derive(QueryableByName)]
        struct Pair {
            #[diesel(sql_type = Text)]
            a: String,
            #[diesel(sql_type = BigInt)]
            b: i64,
        }
        let mut sql = Sql::default();
        sql.bind("SELECT ? AS a, ", Bind::Text("x".into()));
        sql.bind("? AS b", Bind::Int(7));
        let rows: Vec<Pair> = Prepared(&sql).load(&mut c).expect("runs");
        assert_eq!((rows[0].a.as_str(), rows[0].b), ("x", 7));
        let mut fewer = sql.clone();
        fewer.binds.pop();
        assert!(matches!(
            Prepared(&fewer).execute(&mut c),
            Err(diesel::result::Error::QueryBuilderError(_))
        ));
        let mut more = sql.clone();
        more.binds.push(Bind::Int(8));
        assert!(matches!(
            Prepared(&more).execute(&mut c),
            Err(diesel::result::Error::QueryBuilderError(_))
        ));
    }

    #[test]
    fn every_step_has_its_own_number_and_the_sql_gives_the_same_numbers() {
        let sql = step_no_sql();
        let mut seen = std::collections::HashSet::new();
        for s in Step::ALL {
            let n = step_no(s.code());
            assert!(n >= 0 && seen.insert(n), "{s:?} -> {n}");
            assert!(
                sql.contains(&format!("WHEN '{}' THEN {n}", s.code())),
                "{sql}"
            );
        }
        // A code that is no step matches no access row (rows of unknown steps hold -1 only in SQL's
        // ELSE, and a filter of an unknown step is refused before any query).
        assert_eq!(step_no("no_such_step"), -1);
        assert!(sql.ends_with(" ELSE -1 END"), "{sql}");
    }

    #[test]
    fn postgres_placeholders_are_numbered_in_order() {
        let mut s = Sql::default();
        s.bind("a = ?", Bind::Int(1))
            .bind(" AND b = ?", Bind::Int(2));
        assert_eq!(s.postgres_text(), "a = $1 AND b = $2");
    }

    #[test]
    fn a_search_is_a_contains_pattern_with_its_wildcards_escaped() {
        assert_eq!(contains_pattern("diabetes"), "%diabetes%");
        assert_eq!(contains_pattern("50%"), "%50\\%%");
        assert_eq!(contains_pattern("a_b"), "%a\\_b%");
        assert_eq!(contains_pattern("c:\\x"), "%c:\\\\x%");
        // Unicode's lower case, not ASCII's: a Swedish title folds as it reads.
        assert_eq!(fold("ÅNGEST Hos Ümit"), "ångest hos ümit");
    }

    #[test]
    fn the_count_joins_collaborations_only_when_a_condition_reads_it() {
        let o = OrgId::new();
        let join = "JOIN collaborations";
        for v in [Visible::Company(o.clone()), Visible::Cpua(o.clone())] {
            for f in [
                CollabFilter::default(),
                CollabFilter {
                    cpua: Some(o.clone()),
                    register: Some(RegisterId::new()),
                    ..Default::default()
                },
            ] {
                for sort in [CollabSort::Newest, CollabSort::Due] {
                    let c = collaboration_count_sql(&v, &f, sort);
                    assert!(!c.text.contains(join), "{}", c.text);
                    // The page itself reads the rows.
                    let l = collaboration_list_sql(&v, &f, sort, None, 10);
                    assert!(l.text.contains(join), "{}", l.text);
                }
            }
            // The step is on the access rows; the type is only on the collaboration's row.
            let step = CollabFilter {
                step: Some("preparation".into()),
                ..Default::default()
            };
            let c = collaboration_count_sql(&v, &step, CollabSort::Newest);
            assert!(!c.text.contains(join), "{}", c.text);
            assert!(c.text.contains("d.step_no = ?"), "{}", c.text);
            let by_type = CollabFilter {
                collaboration_type: Some("statistics".into()),
                ..Default::default()
            };
            let c = collaboration_count_sql(&v, &by_type, CollabSort::Newest);
            assert!(c.text.contains(join), "{}", c.text);
        }
        // Driven by the collaborations or a register's rows, the step is read from the collaboration.
        let step = CollabFilter {
            step: Some("preparation".into()),
            register: Some(RegisterId::new()),
            ..Default::default()
        };
        let c = collaboration_count_sql(&Visible::All, &step, CollabSort::Newest);
        assert!(c.text.contains("c.step = ?"), "{}", c.text);
    }

    #[test]
    fn every_placeholder_has_its_bind() {
        let o = OrgId::new();
        let f = CollabFilter {
            step: Some("preparation".into()),
            cpua: Some(OrgId::new()),
            register: Some(RegisterId::new()),
            overdue_on: NaiveDate::from_ymd_opt(2026, 9, 1),
            collaboration_type: Some("statistics".into()),
            case_number: Some("RS 2026/1".into()),
            assignee: Some("someone".into()),
            search: Some("50%".into()),
        };
        for v in [
            Visible::All,
            Visible::Company(o.clone()),
            Visible::Principal(o.clone()),
            Visible::Cpua(o),
        ] {
            let key = ListKey::Due {
                on: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
                id: "x".into(),
            };
            let s = collaboration_list_sql(&v, &f, CollabSort::Due, Some(&key), 10);
            assert_eq!(s.text.matches('?').count(), s.binds.len(), "{}", s.text);
            let c = collaboration_count_sql(&v, &CollabFilter::default(), CollabSort::Newest);
            assert_eq!(c.text.matches('?').count(), c.binds.len(), "{}", c.text);
        }
    }
}
