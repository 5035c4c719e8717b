//! The context a kind's `check` and the drivers work in: the connection, the caller's access,
//! the clock, and reference data loaded once and only when a check needs it (the active
//! divisions, the unit and organization indexes, and anything a kind caches by type).

use std::any::{Any, TypeId};
use std::collections::HashMap;

use diesel::prelude::*;

use crate::access::Access;
use crate::clock::Clock;
use crate::db::schema::divisions;
use crate::db::{DbConn, DbResult};
use crate::registry::{self, OrgIndex, UnitIndex};

/// Active divisions, for reading what people type for a place: a 12-digit code, a label
/// ("东峡镇 南滩村": the town's name, a space, the village's name — what pickers offer), or a name
/// that only one division of the wanted level has.
#[derive(Debug, Default)]
pub struct Divisions {
    /// Code → level (`county`, `town`, `village`, …).
    pub level: HashMap<String, String>,
    /// Label → code.
    pub by_label: HashMap<String, String>,
    /// Name → codes.
    pub by_name: HashMap<String, Vec<String>>,
    /// Code → label.
    pub label: HashMap<String, String>,
    /// Retired code → the day it was retired.
    pub retired: HashMap<String, chrono::NaiveDate>,
}

impl Divisions {
    fn new(rows: Vec<(String, String, String, Option<String>)>) -> Divisions {
        let names: HashMap<&str, &str> = rows.iter().map(|r| (r.0.as_str(), r.2.as_str())).collect();
        let mut d = Divisions::default();
        for (code, level, name, parent) in &rows {
            let label = match (level.as_str(), parent.as_deref().and_then(|p| names.get(p))) {
                ("village", Some(town)) => format!("{town} {name}"),
                _ => name.clone(),
            };
            d.by_label.entry(label.clone()).or_insert_with(|| code.clone());
            d.label.insert(code.clone(), label);
            d.by_name.entry(name.clone()).or_default().push(code.clone());
            d.level.insert(code.clone(), level.clone());
        }
        d
    }
}

/// The context of checks and writes (module docs).
pub struct Cx<'c> {
    /// The connection (inside the writing transaction when applying).
    pub conn: &'c mut DbConn,
    /// The caller.
    pub access: &'c Access,
    /// The clock.
    pub clock: Clock,
    /// Mark written records as illustrative (generated demo data).
    pub illustrative: bool,
    divisions: Option<Divisions>,
    units: Option<UnitIndex>,
    orgs: Option<OrgIndex>,
    cache: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl<'c> Cx<'c> {
    /// A context for `access` on `conn`.
    pub fn new(conn: &'c mut DbConn, access: &'c Access, clock: Clock) -> Cx<'c> {
        Cx {
            conn,
            access,
            clock,
            illustrative: false,
            divisions: None,
            units: None,
            orgs: None,
            cache: HashMap::new(),
        }
    }

    /// Today in China time.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    /// Forgets loaded reference data (after a write, or when re-planning inside a transaction).
    pub fn reset(&mut self) {
        self.divisions = None;
        self.units = None;
        self.orgs = None;
        self.cache.clear();
    }

    /// Active divisions by code, label ("town village") and name.
    pub fn divisions(&mut self) -> DbResult<&Divisions> {
        if self.divisions.is_none() {
            let rows: Vec<(String, String, String, Option<String>)> = divisions::table
                .filter(divisions::status.eq(crate::divisions::ACTIVE))
                .select((
                    divisions::code,
                    divisions::level,
                    divisions::name,
                    divisions::parent_code,
                ))
                .load(self.conn)?;
            let mut d = Divisions::new(rows);
            d.retired = crate::divisions::retired(self.conn)?;
            self.divisions = Some(d);
        }
        Ok(self.divisions.get_or_insert_default())
    }

    /// Every stored unit by credit code and name (not scoped: references are checked against
    /// the caller's scope by the kind).
    pub fn units(&mut self) -> DbResult<&UnitIndex> {
        if self.units.is_none() {
            self.units = Some(registry::unit_index(self.conn)?);
        }
        Ok(self.units.get_or_insert_default())
    }

    /// Every stored party organization by code and name.
    pub fn orgs(&mut self) -> DbResult<&OrgIndex> {
        if self.orgs.is_none() {
            self.orgs = Some(registry::org_index(self.conn)?);
        }
        Ok(self.orgs.get_or_insert_default())
    }

    /// Reference data of a kind's own, loaded by `load` once per context.
    pub fn cached<T: Any + Send>(&mut self, load: impl FnOnce(&mut DbConn) -> DbResult<T>) -> DbResult<&T> {
        use std::collections::hash_map::Entry;
        let slot = match self.cache.entry(TypeId::of::<T>()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Box::new(load(self.conn)?)),
        };
        slot.downcast_ref::<T>()
            .ok_or_else(|| crate::db::DbError::Task("reference cache holds another type".into()))
    }
}
