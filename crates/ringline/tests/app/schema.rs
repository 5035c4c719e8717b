//! The two migration folders describe the same schema: on each backend, the tables and columns
//! the migrations create — each column's name, whether it may be NULL, and its type class — are
//! exactly those `src/db/schema.rs` declares (which both backends' queries are compiled against).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use ringline::db::DbConn;

use crate::harness::TestApp;

/// Column → (nullable, type class) per table.
type Schema = BTreeMap<String, BTreeMap<String, (bool, &'static str)>>;

/// The type class of a diesel SQL type name or a database's declared type.
fn class(ty: &str) -> &'static str {
    let t = ty.to_ascii_lowercase();
    if t.contains("bigint") || t.contains("int8") || t == "integer" || t.contains("int4") || t.contains("int") {
        "integer"
    } else if t.contains("text") || t.contains("char") {
        "text"
    } else if t.contains("bool") {
        "bool"
    } else if t.contains("double") || t.contains("float") || t.contains("real") {
        "float"
    } else if t.contains("timestamp") {
        "timestamp"
    } else if t.contains("date") {
        "date"
    } else {
        "other"
    }
}

/// The tables of `src/db/schema.rs`, read from its `diesel::table!` blocks.
fn declared() -> Schema {
    let src = include_str!("../../src/db/schema.rs");
    let mut out = Schema::new();
    let mut table: Option<String> = None;
    for line in src.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_suffix('{')
            && let Some(name) = rest.split_whitespace().next()
            && !l.starts_with("diesel::")
            && rest.contains('(')
        {
            table = Some(name.to_string());
            out.entry(name.to_string()).or_default();
            continue;
        }
        if l == "}" {
            table = None;
            continue;
        }
        if let (Some(t), Some((col, ty))) = (&table, l.trim_end_matches(',').split_once("->")) {
            let ty = ty.trim();
            let nullable = ty.starts_with("Nullable<");
            let inner = ty.trim_start_matches("Nullable<").trim_end_matches('>');
            out.entry(t.clone())
                .or_default()
                .insert(col.trim().to_string(), (nullable, class(inner)));
        }
    }
    out
}

#[derive(QueryableByName)]
struct Col {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// The tables the migrations created (diesel's own bookkeeping table aside).
fn created(conn: &mut DbConn) -> Schema {
    let cols: Vec<Col> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
             (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .expect("sqlite columns"),
        DbConn::Pg(c) => diesel::sql_query(
            "SELECT table_name::text, column_name::text, data_type::text, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
        )
        .load(c)
        .expect("postgres columns"),
    };
    let mut out = Schema::new();
    for c in cols {
        out.entry(c.table_name)
            .or_default()
            .insert(c.column_name, (c.nullable, class(&c.data_type)));
    }
    out
}

async fn migrations_match_the_declared_schema(app: TestApp) {
    let mut conn = app.conn();
    let want = declared();
    assert!(want.len() > 30, "schema.rs parsed: {} tables", want.len());
    let got = created(&mut conn);
    let mut problems = Vec::new();
    for (t, cols) in &want {
        match got.get(t) {
            None => problems.push(format!("table {t} is declared but not created")),
            Some(g) => {
                for (c, spec) in cols {
                    match g.get(c) {
                        None => problems.push(format!("{t}.{c} is declared but not created")),
                        Some(have) if have != spec => {
                            problems.push(format!("{t}.{c}: declared {spec:?}, created {have:?}"))
                        }
                        _ => {}
                    }
                }
                for c in g.keys().filter(|c| !cols.contains_key(*c)) {
                    problems.push(format!("{t}.{c} is created but not declared"));
                }
            }
        }
    }
    for t in got.keys().filter(|t| !want.contains_key(*t)) {
        problems.push(format!("table {t} is created but not declared"));
    }
    assert!(problems.is_empty(), "{:?}: {problems:#?}", app.backend);
}

on_both_backends!(migrations_match_the_declared_schema);

/// Every migration of a backend has a version of its own: diesel takes the version from the
/// folder name up to the first `_` and records it once applied, so a second folder with the
/// same version is never run (two branches each adding `2026-12-08-000001_…` left the dispatch
/// kinds' columns uncreated). Both backends list the same folders.
#[test]
fn migration_versions_are_unique() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut names = BTreeMap::new();
    for backend in ["sqlite", "postgres"] {
        let mut folders: Vec<String> = std::fs::read_dir(dir.join(backend))
            .unwrap_or_else(|e| panic!("migrations/{backend}: {e}"))
            .map(|e| e.expect("a folder entry").file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for f in &folders {
            let version = f.split('_').next().unwrap_or_default().to_string();
            if let Some(other) = seen.insert(version.clone(), f.clone()) {
                panic!("migrations/{backend}: {other} and {f} share the version {version}");
            }
        }
        names.insert(backend, folders);
    }
    assert_eq!(
        names["sqlite"], names["postgres"],
        "both backends list the same migrations"
    );
}
