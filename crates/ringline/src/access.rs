//! Who may see and do what (SPEC C10). A user's [`Access`] — role plus scope — is resolved once
//! per request from the session and handed to the data layer, which filters every read by it and
//! refuses writes outside it. A record outside the scope is reported exactly like a missing one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use diesel::prelude::*;
use ringline_core::division::DivisionCode;

use crate::auth::Role;
use crate::db::schema::zone_members;
use crate::db::{DbConn, DbResult, prefix_end};

/// What part of the data a user works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything (the command line and the system itself).
    All,
    /// A division subtree (county, town or village), by code.
    Division(DivisionCode),
    /// The member villages of one zone.
    Zone(i64),
}

/// Why a scope string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    /// Neither a division code nor `zone:ID`.
    #[error("scope {0:?} is neither a 12-digit division code nor zone:ID")]
    Malformed(String),
}

impl Scope {
    /// Parses a stored scope: a division code (`630121103000`), `zone:ID`, or `all`.
    pub fn parse(s: &str) -> Result<Scope, ScopeError> {
        let s = s.trim();
        if s == "all" {
            return Ok(Scope::All);
        }
        if let Some(id) = s.strip_prefix("zone:") {
            return id
                .parse()
                .map(Scope::Zone)
                .map_err(|_| ScopeError::Malformed(s.to_string()));
        }
        DivisionCode::parse(s)
            .map(Scope::Division)
            .map_err(|_| ScopeError::Malformed(s.to_string()))
    }

    /// The stored form.
    pub fn as_string(&self) -> String {
        match self {
            Scope::All => "all".into(),
            Scope::Division(c) => c.to_string(),
            Scope::Zone(id) => format!("zone:{id}"),
        }
    }
}

/// Things a role may do beyond reading its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read records in scope (every role).
    Read,
    /// Import divisions, change zones and programs.
    Configure,
    /// Create, disable and reset users within the scope.
    ManageUsers,
    /// Read and export the audit log.
    ReadAudit,
    /// See unmasked ID numbers and phone numbers (each view is audited).
    Unmask,
    /// Import registry records (units, party organizations, members) within the scope.
    Import,
    /// Configure dispatch batches (SPEC C7): create them, pin and forbid pairs, run the
    /// optimiser, confirm; edit village needs, twinning and the skill list; evaluate residencies.
    Dispatch,
    /// Record a residency's work logs and attendance and request leave, within the scope
    /// (county and town administrators, village reporters, dispatched cadres).
    RecordResidency,
    /// Decide leave requests: town administrators those of up to 3 days in their town, county
    /// administrators any (the level is checked by [`crate::cadres::residency::decide_leave`]).
    DecideLeave,
}

impl Role {
    /// Whether the role has `p`.
    pub fn can(self, p: Permission) -> bool {
        match p {
            Permission::Read => true,
            Permission::Configure | Permission::ManageUsers | Permission::Dispatch => self == Role::CountyAdmin,
            Permission::ReadAudit => matches!(self, Role::CountyAdmin | Role::Viewer),
            Permission::Unmask | Permission::Import | Permission::DecideLeave => {
                matches!(self, Role::CountyAdmin | Role::TownAdmin)
            }
            Permission::RecordResidency => matches!(
                self,
                Role::CountyAdmin | Role::TownAdmin | Role::VillageReporter | Role::DispatchedCadre
            ),
        }
    }
}

/// A resolved caller: identity, role and scope, with the zone's villages loaded for zone scopes.
#[derive(Debug, Clone)]
pub struct Access {
    /// User id (`None` for the system).
    pub user_id: Option<i64>,
    /// Username (`system` for the command line).
    pub username: String,
    /// Role.
    pub role: Role,
    /// Scope.
    pub scope: Scope,
    /// For a zone scope: the member villages, whose records are visible.
    zone_villages: Option<Arc<HashSet<String>>>,
    /// For a zone scope: the member villages and their ancestors (towns, county), which may be
    /// named and navigated for context but grant no access to their records.
    zone_context: Option<Arc<HashSet<String>>>,
}

impl Access {
    /// Full access, for the command line and first-start work.
    pub fn system() -> Access {
        Access {
            user_id: None,
            username: "system".into(),
            role: Role::CountyAdmin,
            scope: Scope::All,
            zone_villages: None,
            zone_context: None,
        }
    }

    /// Resolves a user's access; for a zone scope, loads the zone's villages (and, for
    /// context, their ancestors).
    pub fn resolve(conn: &mut DbConn, user_id: i64, username: &str, role: Role, scope: Scope) -> DbResult<Access> {
        let (zone_villages, zone_context) = match &scope {
            Scope::Zone(id) => {
                let codes: Vec<String> = zone_members::table
                    .filter(zone_members::zone_id.eq(id))
                    .select(zone_members::division_code)
                    .load(conn)?;
                let (villages, context) = zone_sets(codes);
                (Some(Arc::new(villages)), Some(Arc::new(context)))
            }
            _ => (None, None),
        };
        Ok(Access {
            user_id: Some(user_id),
            username: username.to_string(),
            role,
            scope,
            zone_villages,
            zone_context,
        })
    }

    /// Whether the role has `p`.
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }

    /// Whether records at a division code are visible: within a division scope's subtree, or
    /// one of a zone's member villages. This decides every record (registry, dispatch, economy,
    /// imports); a zone's towns and county are not in it ([`Access::names_code`]).
    pub fn sees_code(&self, code: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Division(c) => code.starts_with(c.prefix()),
            Scope::Zone(_) => self.zone_villages.as_ref().is_some_and(|s| s.contains(code)),
        }
    }

    /// Whether a division itself may be named and navigated to (division pages and lists, the
    /// town of a village): what [`Access::sees_code`] sees, and for a zone scope also the
    /// ancestors of its villages (their towns and county), for context. Never use it to grant
    /// a record: a town's organs, units and committees at a town code stay outside a zone.
    pub fn names_code(&self, code: &str) -> bool {
        match &self.scope {
            Scope::Zone(_) => self.zone_context.as_ref().is_some_and(|s| s.contains(code)),
            _ => self.sees_code(code),
        }
    }

    /// Whether anything of a county (a program's county, a batch's) is visible: the scope lies
    /// within the county or contains it (for a zone: its villages lie in the county).
    pub fn sees_county(&self, county_code: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Division(c) => {
                let county = DivisionCode::parse(county_code)
                    .map(|d| d.prefix().to_string())
                    .unwrap_or_default();
                c.prefix().starts_with(&county) || county.starts_with(c.prefix())
            }
            Scope::Zone(_) => self.zone_context.as_ref().is_some_and(|s| s.contains(county_code)),
        }
    }

    /// Whether the scope covers a whole county (everything, or a division subtree containing
    /// it): needed to act on what belongs to the county as a whole, such as a dispatch batch,
    /// whose plan and residencies span all its towns. A zone never covers a county.
    pub fn covers_county(&self, county_code: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Division(c) => county_code.starts_with(c.prefix()),
            Scope::Zone(_) => false,
        }
    }

    /// How a query over the division codes of records must be restricted (the SQL form of
    /// [`Access::sees_code`]).
    pub fn code_filter(&self) -> CodeFilter {
        match &self.scope {
            Scope::Zone(_) => sorted_list(self.zone_villages.as_deref()),
            _ => self.division_filter(),
        }
    }

    /// How a query over divisions themselves must be restricted (the SQL form of
    /// [`Access::names_code`]): for division lists and the town or county rows of summaries,
    /// never for records.
    pub fn names_filter(&self) -> CodeFilter {
        match &self.scope {
            Scope::Zone(_) => sorted_list(self.zone_context.as_deref()),
            _ => self.division_filter(),
        }
    }

    fn division_filter(&self) -> CodeFilter {
        match &self.scope {
            Scope::Division(c) => CodeFilter::Range(c.prefix().to_string(), prefix_end(c.prefix())),
            _ => CodeFilter::None,
        }
    }

    /// Whether this user's scope contains `scope` entirely, so they may give it to another user
    /// or manage a user who has it. A zone scope is contained when its program's county lies
    /// within the caller's division subtree; `zone_county` maps zone ids to their program's county
    /// code (see [`zone_counties`]).
    pub fn may_grant(&self, scope: &Scope, zone_county: &HashMap<i64, String>) -> bool {
        match (&self.scope, scope) {
            (Scope::All, _) => true,
            (Scope::Division(mine), Scope::Division(other)) => other.as_str().starts_with(mine.prefix()),
            (Scope::Division(mine), Scope::Zone(id)) => zone_county
                .get(id)
                .is_some_and(|county| county.starts_with(mine.prefix())),
            (Scope::Zone(a), Scope::Zone(b)) => a == b,
            _ => false,
        }
    }
}

/// A zone's member villages, and those villages with their ancestors.
fn zone_sets(codes: Vec<String>) -> (HashSet<String>, HashSet<String>) {
    let mut context: HashSet<String> = HashSet::new();
    for c in &codes {
        if let Ok(code) = DivisionCode::parse(c) {
            let mut p = code.parent();
            while let Some(a) = p {
                p = a.parent();
                context.insert(a.to_string());
            }
        }
        context.insert(c.clone());
    }
    (codes.into_iter().collect(), context)
}

/// A code list in order (empty without a set: nothing).
fn sorted_list(set: Option<&HashSet<String>>) -> CodeFilter {
    let mut v: Vec<String> = set.map(|s| s.iter().cloned().collect()).unwrap_or_default();
    v.sort();
    CodeFilter::List(v)
}

/// The county code of each zone's program, for [`Access::may_grant`].
pub fn zone_counties(conn: &mut DbConn) -> DbResult<HashMap<i64, String>> {
    use crate::db::schema::{programs, zones};
    let rows: Vec<(i64, String)> = zones::table
        .inner_join(programs::table)
        .select((zones::id, programs::county_code))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// A restriction on division codes, for the data layer to apply in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeFilter {
    /// No restriction.
    None,
    /// `start <= code < end` (no upper bound when `end` is `None`).
    Range(String, Option<String>),
    /// Exactly these codes.
    List(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        assert_eq!(Scope::parse("all"), Ok(Scope::All));
        assert_eq!(Scope::parse("zone:3"), Ok(Scope::Zone(3)));
        let town = Scope::parse("630121103000").expect("division");
        assert_eq!(town.as_string(), "630121103000");
        assert!(Scope::parse("zone:x").is_err());
        assert!(Scope::parse("63012110300").is_err());
    }

    #[test]
    fn division_scope_sees_its_subtree_only() {
        let a = Access {
            user_id: Some(1),
            username: "t".into(),
            role: Role::TownAdmin,
            scope: Scope::parse("630121103000").expect("scope"),
            zone_villages: None,
            zone_context: None,
        };
        assert!(a.sees_code("630121103000"));
        assert!(a.sees_code("630121103201"));
        assert!(!a.sees_code("630121101200"), "a village of 城关镇");
        assert!(!a.sees_code("630121000000"), "the county itself");
        assert!(a.sees_county("630121000000"));
        assert!(!a.sees_county("630102000000"));
        assert_eq!(
            a.code_filter(),
            CodeFilter::Range("630121103".into(), Some("630121104".into()))
        );
        let zones = HashMap::from([(1, "630121000000".to_string())]);
        assert!(a.may_grant(&Scope::parse("630121103201").expect("scope"), &zones));
        assert!(!a.may_grant(&Scope::parse("630121101000").expect("scope"), &zones));
        // A zone of the whole county is not within one town.
        assert!(!a.may_grant(&Scope::Zone(1), &zones));
        assert!(!a.may_grant(&Scope::Zone(99), &zones), "unknown zone");
        let county = Access {
            scope: Scope::parse("630121000000").expect("scope"),
            ..a.clone()
        };
        assert!(county.may_grant(&Scope::Zone(1), &zones));
    }

    #[test]
    fn zone_scope_sees_its_villages_and_only_names_their_towns() {
        // 西关村 (城关镇) and 石家庄村 (塔尔镇): two villages of one zone.
        let (villages, context) = zone_sets(vec!["630121101200".into(), "630121102201".into()]);
        let a = Access {
            user_id: Some(1),
            username: "z".into(),
            role: Role::TownAdmin,
            scope: Scope::Zone(3),
            zone_villages: Some(Arc::new(villages)),
            zone_context: Some(Arc::new(context)),
        };
        assert!(a.sees_code("630121101200"));
        assert!(
            !a.sees_code("630121101000"),
            "the town of a zone village: its own records are outside"
        );
        assert!(!a.sees_code("630121102000"));
        assert!(!a.sees_code("630121000000"), "the county");
        assert!(!a.sees_code("630121101209"), "another village of the town");
        assert!(a.names_code("630121101000") && a.names_code("630121102000") && a.names_code("630121000000"));
        assert!(!a.names_code("630121103000"), "a town with no village in the zone");
        assert_eq!(
            a.code_filter(),
            CodeFilter::List(vec!["630121101200".into(), "630121102201".into()])
        );
        // The villages, their two towns, the county, the city 630100 and the province 630000.
        let CodeFilter::List(named) = a.names_filter() else {
            panic!("a list")
        };
        assert_eq!(named.len(), 2 + 2 + 3);
        assert!(a.sees_county("630121000000"));
        assert!(!a.covers_county("630121000000"), "a zone never covers its county");
    }

    #[test]
    fn only_a_scope_containing_the_county_covers_it() {
        let town = Access {
            user_id: Some(1),
            username: "t".into(),
            role: Role::CountyAdmin,
            scope: Scope::parse("630121103000").expect("scope"),
            zone_villages: None,
            zone_context: None,
        };
        assert!(town.sees_county("630121000000"));
        assert!(!town.covers_county("630121000000"));
        let city = Access {
            scope: Scope::parse("630100000000").expect("scope"),
            ..town.clone()
        };
        assert!(city.covers_county("630121000000"));
        assert!(!city.covers_county("632221000000"), "a county of another city");
        assert!(Access::system().covers_county("630121000000"));
    }

    #[test]
    fn permissions_by_role() {
        assert!(Role::CountyAdmin.can(Permission::ManageUsers));
        assert!(!Role::TownAdmin.can(Permission::ManageUsers));
        assert!(Role::Viewer.can(Permission::ReadAudit));
        assert!(!Role::VillageReporter.can(Permission::ReadAudit));
        assert!(Role::TownAdmin.can(Permission::Unmask));
        assert!(!Role::Viewer.can(Permission::Unmask));
        assert!(Role::ALL.iter().all(|r| r.can(Permission::Read)));
        assert!(Role::CountyAdmin.can(Permission::Dispatch));
        assert!(!Role::TownAdmin.can(Permission::Dispatch));
        assert!(Role::TownAdmin.can(Permission::DecideLeave));
        assert!(!Role::DispatchedCadre.can(Permission::DecideLeave));
        assert!(Role::DispatchedCadre.can(Permission::RecordResidency));
        assert!(Role::VillageReporter.can(Permission::RecordResidency));
        assert!(!Role::Viewer.can(Permission::RecordResidency));
        assert!(!Role::UnitAdmin.can(Permission::RecordResidency));
    }
}
