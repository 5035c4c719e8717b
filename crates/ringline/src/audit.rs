//! The audit log (SPEC C10): every write (who, when, which record, before → after) and every
//! unmasked view of personal data. The application only appends; database triggers refuse
//! updates and deletes. Entries never contain passwords or unmasked personal data.

use diesel::prelude::*;
use serde::Serialize;

use crate::access::Access;
use crate::db::schema::audit_log;
use crate::db::{DbConn, DbResult, now};

/// One audit entry.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    /// Id (increasing).
    pub id: i64,
    /// When (UTC).
    #[schema(value_type = String)]
    pub at: chrono::NaiveDateTime,
    /// Acting user's id (`None` for the system).
    pub user_id: Option<i64>,
    /// Acting user's name.
    pub username: String,
    /// What was done: `create`, `update`, `delete`, `import`, `login`, `logout`,
    /// `password-reset`, `unmask`, …
    pub action: String,
    /// Kind of record: `user`, `zone`, `division`, `session`, …
    pub entity: String,
    /// Record id or code.
    pub entity_id: String,
    /// JSON of the record before (absent for creations).
    pub before_json: Option<String>,
    /// JSON of the record after (absent for deletions).
    pub after_json: Option<String>,
    /// Free-text detail (counts of an import, the field unmasked …).
    pub detail: String,
    /// Code prefix of the division subtree the entry concerns (`""`: everything), or `zone:ID`
    /// for a zone (a zone-scoped user, an import by one).
    pub scope: String,
}

/// A change to record.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    /// What was done (see [`Entry::action`]).
    pub action: &'a str,
    /// Kind of record.
    pub entity: &'a str,
    /// Record id or code.
    pub entity_id: &'a str,
    /// The record before.
    pub before: Option<serde_json::Value>,
    /// The record after.
    pub after: Option<serde_json::Value>,
    /// Free-text detail.
    pub detail: String,
    /// Significant code prefix of the division subtree the change concerns (`""`: everything),
    /// or `zone:ID` for a zone, which decides who may read the entry (see [`search`]).
    pub scope: String,
}

/// Appends an entry. Call inside the transaction of the write it records, so both land or
/// neither does.
pub fn record(conn: &mut DbConn, who: &Access, c: Change) -> DbResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now()),
            audit_log::user_id.eq(who.user_id),
            audit_log::username.eq(&who.username),
            audit_log::action.eq(c.action),
            audit_log::entity.eq(c.entity),
            audit_log::entity_id.eq(c.entity_id),
            audit_log::before_json.eq(c.before.map(|v| v.to_string())),
            audit_log::after_json.eq(c.after.map(|v| v.to_string())),
            audit_log::detail.eq(&c.detail),
            audit_log::scope.eq(&c.scope),
        ))
        .execute(conn)?;
    Ok(())
}

/// Filters of the audit search.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct Search {
    /// Acting username (exact).
    pub username: Option<String>,
    /// Action (exact).
    pub action: Option<String>,
    /// Entity kind (exact).
    pub entity: Option<String>,
    /// Record id or code (exact).
    pub entity_id: Option<String>,
    /// From this date (inclusive, `YYYY-MM-DD`).
    pub from: Option<chrono::NaiveDate>,
    /// To this date (inclusive, `YYYY-MM-DD`).
    pub to: Option<chrono::NaiveDate>,
}

/// Entries matching `s` that `access` may read, newest first, with the total count. Everything
/// is read by the system scope. A division scope reads the entries concerning its subtree and
/// those concerning a wider area that contains it (a county-wide zone change, a province import),
/// and those concerning a zone (`zone:ID`: a zone-scoped user, an import by one) whose program's
/// county lies within its subtree. A zone scope reads the entries made by users within that
/// zone and those concerning the zone.
pub fn search(conn: &mut DbConn, access: &Access, s: &Search, limit: i64, offset: i64) -> DbResult<(Vec<Entry>, i64)> {
    use crate::access::Scope;
    enum Readable {
        All,
        Subtree {
            prefix: String,
            end: Option<String>,
            /// The ancestors' prefixes and the zones within the subtree (`zone:ID`).
            ancestors: Vec<String>,
        },
        Actors(Vec<String>, String),
    }
    let readable = match &access.scope {
        Scope::All => Readable::All,
        Scope::Division(c) => {
            let prefix = c.prefix().to_string();
            let mut ancestors: Vec<String> = [0, 2, 4, 6, 9]
                .iter()
                .filter(|&&n| n < prefix.len())
                .map(|&n| prefix[..n].to_string())
                .collect();
            for (zone, county) in crate::access::zone_counties(conn)? {
                if county.starts_with(&prefix) {
                    ancestors.push(Scope::Zone(zone).as_string());
                }
            }
            Readable::Subtree {
                end: crate::db::prefix_end(&prefix),
                prefix,
                ancestors,
            }
        }
        Scope::Zone(_) => Readable::Actors(
            crate::users::usernames_within(conn, access).map_err(|e| match e {
                crate::users::UserError::Db(d) => d,
                other => crate::db::DbError::Task(other.to_string()),
            })?,
            access.scope.as_string(),
        ),
    };
    let build = || {
        let mut q = audit_log::table.into_boxed();
        match &readable {
            Readable::All => {}
            Readable::Subtree { prefix, end, ancestors } => {
                let within = audit_log::scope.ge(prefix.clone());
                q = match end {
                    Some(end) => q.filter(
                        within
                            .and(audit_log::scope.lt(end.clone()))
                            .or(audit_log::scope.eq_any(ancestors.clone())),
                    ),
                    None => q.filter(within.or(audit_log::scope.eq_any(ancestors.clone()))),
                };
            }
            Readable::Actors(a, zone) => {
                q = q.filter(
                    audit_log::username
                        .eq_any(a.clone())
                        .or(audit_log::scope.eq(zone.clone())),
                );
            }
        }
        if let Some(v) = s.username.as_ref().filter(|v| !v.is_empty()) {
            q = q.filter(audit_log::username.eq(v.clone()));
        }
        if let Some(v) = s.action.as_ref().filter(|v| !v.is_empty()) {
            q = q.filter(audit_log::action.eq(v.clone()));
        }
        if let Some(v) = s.entity.as_ref().filter(|v| !v.is_empty()) {
            q = q.filter(audit_log::entity.eq(v.clone()));
        }
        if let Some(v) = s.entity_id.as_ref().filter(|v| !v.is_empty()) {
            q = q.filter(audit_log::entity_id.eq(v.clone()));
        }
        // Dates outside years 1–9999 cannot be compared with stored timestamps; they bound nothing.
        let in_range = |d: &chrono::NaiveDate| (1..=9998).contains(&chrono::Datelike::year(d));
        if let Some(d) = s.from.filter(in_range).and_then(|d| d.and_hms_opt(0, 0, 0)) {
            q = q.filter(audit_log::at.ge(d));
        }
        if let Some(d) =
            s.to.filter(in_range)
                .and_then(|d| d.succ_opt())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        {
            q = q.filter(audit_log::at.lt(d));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order(audit_log::id.desc())
        .limit(limit)
        .offset(offset)
        .select(Entry::as_select())
        .load(conn)?;
    Ok((rows, total))
}
