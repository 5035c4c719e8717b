//! Programs and zones as record kinds: created and edited on the web, through the API and on the
//! command line like every kind. A program (示范创建方案) belongs to a county, and changing it
//! needs a scope covering that county. A zone's geometry is typed as numbers and division codes
//! (a map editor is a separate piece): a ring's centre (a division code, whose own point is
//! used, or `LON,LAT` in WGS-84 degrees) with inner and outer radius in km; a line's path (points
//! separated by `;`) with a corridor half-width in km; or a polygon's vertices (`LON,LAT` per
//! point, separated by `;` or new lines). Writing a zone recomputes its program's membership in
//! the same transaction.

use std::collections::HashMap;

use diesel::prelude::*;
use ringline_core::division::Level;
use ringline_core::geo::{LonLat, in_china};
use ringline_core::zone::ZoneGeometry;

use super::{NewProgram, NewZone, Program, Zone};
use crate::access::{Access, Permission};
use crate::db::schema::{brands, programs, zone_members, zone_overrides, zones};
use crate::db::{DbConn, DbResult};
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// Zone themes (SPEC §3): `(key, Chinese, English)`.
pub const THEMES: crate::kind::Choices = &[
    ("commerce_economy", "商贸经济", "commerce and economy"),
    ("new_rural_construction", "新农村建设", "new rural construction"),
    ("characteristic_industry", "特色产业", "characteristic industry"),
    ("collective_economy", "村集体经济", "village collective economy"),
    ("other", "其他", "other"),
];

/// Zone shapes: `(key, Chinese, English)`.
pub const SHAPES: crate::kind::Choices = &[
    ("ring", "环形（圆心和半径）", "ring (centre and radius)"),
    ("line", "线形（路线和走廊宽度）", "line (path and corridor)"),
    ("polygon", "多边形", "polygon"),
];

/// Earliest and latest years a program may cover.
const YEARS: (i32, i32) = (1949, 2100);

// ---------------------------------------------------------------------------------------------
// Programs

impl NewProgram {
    fn same(&self, o: &NewProgram) -> bool {
        self.name == o.name
            && self.name_en == o.name_en
            && self.county_code == o.county_code
            && self.start_year == o.start_year
            && self.end_year == o.end_year
            && self.description == o.description
    }
}

/// The program kind.
pub struct Programs;

fn year(v: &mut Values, key: &str) -> Option<i32> {
    let raw = v.raw(key).to_string();
    let text = ringline_core::cell::clean(&raw)
        .trim_end_matches("年度")
        .trim_end_matches('年')
        .to_string();
    if text.is_empty() {
        v.required(key);
        return None;
    }
    match text.parse::<i32>() {
        Ok(y) if (YEARS.0..=YEARS.1).contains(&y) => Some(y),
        _ => {
            v.error(
                key,
                &raw,
                "year-out-of-range",
                format!("give a year from {} to {}", YEARS.0, YEARS.1),
            );
            v.args(vec![("first", YEARS.0.to_string()), ("last", YEARS.1.to_string())]);
            None
        }
    }
}

impl Kind for Programs {
    type New = NewProgram;
    type Record = Program;

    const DESC: Desc = Desc {
        id: KindId::Programs,
        key: "programs",
        entity: "program",
        fields: &[
            Field::new("name", Ty::Name, true),
            Field::new("name_en", Ty::Text, false),
            Field::new("county", Ty::Division(&[Level::County]), true).noted(),
            Field::new("start_year", Ty::Year, true),
            Field::new("end_year", Ty::Year, true),
            Field::new("description", Ty::LongText, false),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Programs, "id")),
            Column::new("name_en", Show::Text),
            Column::new("county_code", Show::Place),
            Column::new("start_year", Show::Int),
            Column::new("end_year", Show::Int),
            Column::detail("description", Show::Text),
        ],
        natural_key: &["county", "name"],
        filters: &[],
        perms: Perms {
            write: Permission::Configure,
            retire: Permission::Configure,
        },
        retire: Retire::Never,
        importable: false,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewProgram>> {
        let name = v.name("name");
        let name_en = v.text("name_en");
        let county = v.division("county", cx.divisions()?, &[Level::County]);
        if county.is_none() && v.is_empty("county") {
            v.required("county");
        }
        if let Some(c) = &county
            && !cx.access.covers_county(c)
        {
            let raw = v.raw("county").to_string();
            v.error(
                "county",
                &raw,
                "outside-scope",
                format!("{c} is outside your area; a program needs a scope covering its county"),
            );
        }
        let start = year(v, "start_year");
        let end = year(v, "end_year");
        if let (Some(s), Some(e)) = (start, end)
            && (e < s || e - s > 20)
        {
            let raw = v.raw("end_year").to_string();
            v.error(
                "end_year",
                &raw,
                "program-years",
                "the last year comes on or after the first, at most 20 years later",
            );
        }
        let description = v.long_text("description");
        if v.failed() {
            return Ok(None);
        }
        let (Some(name), Some(county_code), Some(start_year), Some(end_year)) = (name, county, start, end) else {
            return Ok(None);
        };
        Ok(Some(NewProgram {
            name,
            name_en,
            county_code,
            start_year,
            end_year,
            description,
        }))
    }

    fn key(n: &NewProgram) -> String {
        format!("{}\u{1f}{}", n.county_code, n.name)
    }

    fn area(n: &NewProgram) -> String {
        n.county_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewProgram]) -> DbResult<Vec<Option<Stored<NewProgram>>>> {
        let all: Vec<(i64, Program)> = programs::table
            .select((programs::id, Program::as_select()))
            .load(cx.conn)?;
        let by_key: HashMap<String, (i64, NewProgram)> = all
            .into_iter()
            .map(|(id, p)| {
                let n = new_program(&p);
                (Self::key(&n), (id, n))
            })
            .collect();
        Ok(news
            .iter()
            .map(|n| {
                by_key.get(&Self::key(n)).map(|(id, s)| Stored {
                    id: id.to_string(),
                    new: s.clone(),
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewProgram>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        // Changing a program needs a scope covering its county.
        Ok(super::program(cx.conn, cx.access, id)?
            .filter(|p| cx.access.covers_county(&p.county_code))
            .map(|p| new_program(&p)))
    }

    fn same(a: &NewProgram, b: &NewProgram) -> bool {
        a.same(b)
    }

    fn values(_cx: &mut Cx, n: &NewProgram) -> DbResult<Raw> {
        Ok(Raw::of([
            ("name", n.name.clone()),
            ("name_en", n.name_en.clone()),
            ("county", n.county_code.clone()),
            ("start_year", n.start_year.to_string()),
            ("end_year", n.end_year.to_string()),
            ("description", n.description.clone()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewProgram]) -> DbResult<Vec<String>> {
        rows.iter()
            .map(|p| super::create_program(conn, p).map(|id| id.to_string()))
            .collect()
    }

    fn update(conn: &mut DbConn, id: &str, p: &NewProgram) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        diesel::update(programs::table.find(id))
            .set((
                programs::name.eq(&p.name),
                programs::name_en.eq(&p.name_en),
                programs::county_code.eq(&p.county_code),
                programs::start_year.eq(p.start_year),
                programs::end_year.eq(p.end_year),
                programs::description.eq(&p.description),
            ))
            .execute(conn)?;
        super::recompute_program(conn, id)
    }

    fn retire(_cx: &mut Cx, _id: &str, _how: &RetireInput) -> DbResult<bool> {
        Ok(false)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let zones_left: i64 = zones::table.filter(zones::program_id.eq(id)).count().get_result(conn)?;
        if zones_left > 0 {
            return Ok(false);
        }
        Ok(diesel::delete(programs::table.find(id))
            .execute(conn)
            .is_ok_and(|n| n == 1))
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<Program>> {
        let all = super::programs(conn, access)?;
        Ok(page_of(all, q))
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<Program>> {
        match id.parse::<i64>() {
            Ok(id) => super::program(conn, access, id),
            Err(_) => Ok(None),
        }
    }
}

fn new_program(p: &Program) -> NewProgram {
    NewProgram {
        name: p.name.clone(),
        name_en: p.name_en.clone(),
        county_code: p.county_code.clone(),
        start_year: p.start_year,
        end_year: p.end_year,
        description: p.description.clone(),
    }
}

/// One page of records already loaded (programs and zones are few).
fn page_of<T>(all: Vec<T>, q: &ListQuery) -> Page<T> {
    let total = all.len() as i64;
    let items = all
        .into_iter()
        .skip(usize::try_from(q.offset).unwrap_or(0))
        .take(usize::try_from(q.limit).unwrap_or(0))
        .collect();
    Page { items, total }
}

// ---------------------------------------------------------------------------------------------
// Zones

/// A zone as checked: its program and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneNew {
    /// The program's id.
    pub program_id: i64,
    /// The program's county (scope key).
    pub county_code: String,
    /// The zone.
    pub zone: NewZone,
}

/// The zone kind.
pub struct Zones;

/// A point as typed: `LON,LAT` (WGS-84 degrees, in China) or a division code whose own point
/// is used (a division placed only approximately at its town seat is refused).
fn point(v: &mut Values, cx: &mut Cx, key: &str, typed: &str) -> DbResult<Option<LonLat>> {
    let t = typed.trim();
    if let Some((lon, lat)) = t.split_once([',', '，']) {
        return Ok(match (lon.trim().parse::<f64>(), lat.trim().parse::<f64>()) {
            (Ok(lon), Ok(lat)) if in_china(LonLat { lon, lat }) => Some(LonLat { lon, lat }),
            _ => {
                v.error(
                    key,
                    t,
                    "point-malformed",
                    "give a point as LON,LAT in WGS-84 degrees (longitude first, in China) or a division code",
                );
                None
            }
        });
    }
    let code = match ringline_core::division::DivisionCode::parse(t) {
        Ok(c) => c,
        Err(_) => {
            v.error(
                key,
                t,
                "point-malformed",
                "give a point as LON,LAT in WGS-84 degrees (longitude first, in China) or a division code",
            );
            return Ok(None);
        }
    };
    let d = crate::divisions::get(cx.conn, &Access::system(), code.as_str())?;
    Ok(match d {
        Some(d) if !d.approximate && d.lon.is_some() && d.lat.is_some() => Some(LonLat {
            lon: d.lon.unwrap_or_default(),
            lat: d.lat.unwrap_or_default(),
        }),
        Some(d) => {
            v.error(
                key,
                t,
                "point-approximate",
                format!("{} has no point of its own; give LON,LAT instead", d.name),
            );
            None
        }
        None => {
            v.error(
                key,
                t,
                "division-unknown",
                format!("{t} is not a division code in use here"),
            );
            None
        }
    })
}

fn points(v: &mut Values, cx: &mut Cx, key: &str) -> DbResult<Vec<LonLat>> {
    let text = v.long_text(key);
    let mut out = Vec::new();
    for part in text.split([';', '；', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        match point(v, cx, key, part)? {
            Some(p) => out.push(p),
            None => return Ok(Vec::new()),
        }
    }
    Ok(out)
}

fn km(v: &mut Values, key: &str, required: bool) -> Option<f64> {
    let x = v.decimal(key);
    match x {
        None if required && !v.failed() => {
            v.required(key);
            None
        }
        Some(k) if !(0.0..=500.0).contains(&k) => {
            let raw = v.raw(key).to_string();
            v.error(key, &raw, "km-out-of-range", "give a distance from 0 to 500 km");
            None
        }
        other => other,
    }
}

/// The text of a point (`LON,LAT` with 6 decimals, about 0.1 m).
fn point_text(p: LonLat) -> String {
    format!("{:.6},{:.6}", p.lon, p.lat)
}

impl Kind for Zones {
    type New = ZoneNew;
    type Record = Zone;

    const DESC: Desc = Desc {
        id: KindId::Zones,
        key: "zones",
        entity: "zone",
        fields: &[
            Field::new("program", Ty::Ref(KindId::Programs), true),
            Field::new("name", Ty::Name, true),
            Field::new("name_en", Ty::Text, false),
            Field::new("theme", Ty::Choice(THEMES), true),
            Field::new("area", Ty::Text, false),
            Field::new("goals", Ty::LongText, false),
            Field::new("shape", Ty::Choice(SHAPES), true).noted(),
            Field::new("centre", Ty::Text, false).noted(),
            Field::new("inner_km", Ty::Decimal, false),
            Field::new("outer_km", Ty::Decimal, false),
            Field::new("path", Ty::LongText, false).noted(),
            Field::new("half_width_km", Ty::Decimal, false),
            Field::new("polygon", Ty::LongText, false).noted(),
            Field::new("allow_overlap", Ty::Bool, false),
            Field::new("sort_order", Ty::Count, false),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Zones, "id")),
            Column::new("name_en", Show::Text),
            Column::new("kind", Show::Choice(SHAPES)),
            Column::new("theme", Show::Choice(THEMES)),
            Column::new("area", Show::Text),
            Column::new("member_count", Show::Int),
            Column::detail("goals", Show::Text),
            Column::detail("allow_overlap", Show::Bool),
            Column::detail("sort_order", Show::Int),
        ],
        natural_key: &["program", "name"],
        filters: &[Filter::Id("program_id", KindId::Programs)],
        perms: Perms {
            write: Permission::Configure,
            retire: Permission::Configure,
        },
        retire: Retire::Delete,
        importable: false,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<ZoneNew>> {
        let program = match v.required("program") {
            None => None,
            Some(typed) => {
                let all = super::programs(cx.conn, cx.access)?;
                let found: Vec<&Program> = all
                    .iter()
                    .filter(|p| p.id.to_string() == typed || p.name == typed || p.name_en == typed)
                    .collect();
                match found.as_slice() {
                    [p] if cx.access.covers_county(&p.county_code) => Some((p.id, p.county_code.clone())),
                    [_] => {
                        v.error(
                            "program",
                            &typed,
                            "outside-scope",
                            "changing a program's zones needs a scope covering its county",
                        );
                        None
                    }
                    _ => {
                        v.error(
                            "program",
                            &typed,
                            "program-not-found",
                            "no program has this name or id; pick one from the list",
                        );
                        None
                    }
                }
            }
        };
        let name = v.name("name");
        let name_en = v.text("name_en");
        let theme = v.choice("theme");
        let area = v.text("area");
        let goals = v.long_text("goals");
        let shape = v.choice("shape");
        let geometry = match shape {
            Some("ring") => {
                let centre = match v.required("centre") {
                    Some(c) => point(v, cx, "centre", &c)?,
                    None => None,
                };
                let inner = km(v, "inner_km", false).unwrap_or(0.0);
                let outer = km(v, "outer_km", true);
                centre.zip(outer).map(|(centre, outer_km)| ZoneGeometry::Ring {
                    centre,
                    inner_km: inner,
                    outer_km,
                })
            }
            Some("line") => {
                let path = points(v, cx, "path")?;
                let half = km(v, "half_width_km", true);
                if path.len() < 2 && !v.failed() {
                    v.error(
                        "path",
                        "",
                        "zone-path-short",
                        "a line needs at least two points, separated by ;",
                    );
                }
                half.filter(|_| path.len() >= 2)
                    .map(|half_width_km| ZoneGeometry::Line { path, half_width_km })
            }
            Some("polygon") => {
                let ring = points(v, cx, "polygon")?;
                if ring.len() < 3 && !v.failed() {
                    v.error(
                        "polygon",
                        "",
                        "zone-polygon-short",
                        "a polygon needs at least three points, separated by ; or new lines",
                    );
                }
                (ring.len() >= 3).then_some(ZoneGeometry::Polygon { ring })
            }
            _ => None,
        };
        if let Some(g) = &geometry
            && let Err(e) = g.validate()
        {
            v.error("shape", "", "zone-geometry-invalid", e.to_string());
        }
        let allow_overlap = v.flag("allow_overlap").unwrap_or(false);
        let sort_order = v.count("sort_order").unwrap_or(0);
        if v.failed() {
            return Ok(None);
        }
        let (Some((program_id, county_code)), Some(name), Some(theme), Some(geometry)) =
            (program, name, theme, geometry)
        else {
            return Ok(None);
        };
        Ok(Some(ZoneNew {
            program_id,
            county_code,
            zone: NewZone {
                name,
                name_en,
                theme: theme.to_string(),
                area,
                goals,
                geometry,
                geometry_note: None,
                allow_overlap,
                sort_order,
            },
        }))
    }

    fn key(n: &ZoneNew) -> String {
        format!("{}\u{1f}{}", n.program_id, n.zone.name)
    }

    fn area(n: &ZoneNew) -> String {
        n.county_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&ZoneNew]) -> DbResult<Vec<Option<Stored<ZoneNew>>>> {
        let mut out = Vec::with_capacity(news.len());
        for n in news {
            let id: Option<i64> = zones::table
                .filter(zones::program_id.eq(n.program_id))
                .filter(zones::name.eq(&n.zone.name))
                .select(zones::id)
                .first(cx.conn)
                .optional()?;
            out.push(match id {
                Some(id) => load_zone(cx.conn, id)?.map(|z| Stored {
                    id: id.to_string(),
                    new: z,
                }),
                None => None,
            });
        }
        Ok(out)
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<ZoneNew>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        // Changing a zone needs a scope covering its program's county.
        if super::zone(cx.conn, cx.access, id)?.is_none() {
            return Ok(None);
        }
        Ok(load_zone(cx.conn, id)?.filter(|z| cx.access.covers_county(&z.county_code)))
    }

    fn same(a: &ZoneNew, b: &ZoneNew) -> bool {
        a == b
    }

    fn values(_cx: &mut Cx, n: &ZoneNew) -> DbResult<Raw> {
        let z = &n.zone;
        let mut raw = Raw::of([
            ("program", n.program_id.to_string()),
            ("name", z.name.clone()),
            ("name_en", z.name_en.clone()),
            ("theme", z.theme.clone()),
            ("area", z.area.clone()),
            ("goals", z.goals.clone()),
            ("allow_overlap", z.allow_overlap.to_string()),
            ("sort_order", z.sort_order.to_string()),
        ]);
        match &z.geometry {
            ZoneGeometry::Ring {
                centre,
                inner_km,
                outer_km,
            } => {
                raw.set("shape", "ring");
                raw.set("centre", point_text(*centre));
                raw.set("inner_km", inner_km.to_string());
                raw.set("outer_km", outer_km.to_string());
            }
            ZoneGeometry::Line { path, half_width_km } => {
                raw.set("shape", "line");
                raw.set(
                    "path",
                    path.iter().map(|p| point_text(*p)).collect::<Vec<_>>().join("; "),
                );
                raw.set("half_width_km", half_width_km.to_string());
            }
            ZoneGeometry::Polygon { ring } => {
                raw.set("shape", "polygon");
                raw.set(
                    "polygon",
                    ring.iter().map(|p| point_text(*p)).collect::<Vec<_>>().join("; "),
                );
            }
        }
        Ok(raw)
    }

    fn insert(conn: &mut DbConn, rows: &[ZoneNew]) -> DbResult<Vec<String>> {
        let mut ids = Vec::with_capacity(rows.len());
        for z in rows {
            ids.push(super::create_zone(conn, z.program_id, &z.zone)?.to_string());
            super::recompute_program(conn, z.program_id)?;
        }
        Ok(ids)
    }

    fn update(conn: &mut DbConn, id: &str, z: &ZoneNew) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        let geometry = serde_json::to_string(&z.zone.geometry).map_err(|e| crate::db::DbError::Task(e.to_string()))?;
        let before: Option<i64> = zones::table.find(id).select(zones::program_id).first(conn).optional()?;
        diesel::update(zones::table.find(id))
            .set((
                zones::program_id.eq(z.program_id),
                zones::name.eq(&z.zone.name),
                zones::name_en.eq(&z.zone.name_en),
                zones::kind.eq(z.zone.geometry.kind().as_str()),
                zones::theme.eq(&z.zone.theme),
                zones::area.eq(&z.zone.area),
                zones::goals.eq(&z.zone.goals),
                zones::geometry.eq(geometry),
                zones::geometry_note.eq(None::<String>),
                zones::allow_overlap.eq(z.zone.allow_overlap),
                zones::sort_order.eq(z.zone.sort_order),
            ))
            .execute(conn)?;
        super::recompute_program(conn, z.program_id)?;
        if let Some(p) = before.filter(|p| *p != z.program_id) {
            super::recompute_program(conn, p)?;
        }
        Ok(())
    }

    fn retire(_cx: &mut Cx, _id: &str, _how: &RetireInput) -> DbResult<bool> {
        Ok(false)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let named: i64 = brands::table.filter(brands::zone_id.eq(id)).count().get_result(conn)?;
        if named > 0 {
            return Ok(false);
        }
        let program: Option<i64> = zones::table.find(id).select(zones::program_id).first(conn).optional()?;
        diesel::delete(zone_members::table.filter(zone_members::zone_id.eq(id))).execute(conn)?;
        diesel::delete(zone_overrides::table.filter(zone_overrides::zone_id.eq(id))).execute(conn)?;
        let n = diesel::delete(zones::table.find(id)).execute(conn)?;
        if let Some(p) = program {
            super::recompute_program(conn, p)?;
        }
        Ok(n == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<Zone>> {
        let mut all = Vec::new();
        for p in super::programs(conn, access)? {
            if q.value("program_id").is_some_and(|id| id != p.id.to_string()) {
                continue;
            }
            all.extend(super::zones_of(conn, access, p.id)?);
        }
        Ok(page_of(all, q))
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<Zone>> {
        match id.parse::<i64>() {
            Ok(id) => super::zone(conn, access, id),
            Err(_) => Ok(None),
        }
    }
}

/// A zone row as [`load_zone`] selects it: program, names, theme, area, goals, geometry JSON,
/// overlap flag, sort order and the program's county code.
type ZoneRow = (i64, String, String, String, String, String, String, bool, i32, String);

/// A stored zone with its program's county.
fn load_zone(conn: &mut DbConn, id: i64) -> DbResult<Option<ZoneNew>> {
    let row: Option<ZoneRow> = zones::table
        .inner_join(programs::table)
        .filter(zones::id.eq(id))
        .select((
            zones::program_id,
            zones::name,
            zones::name_en,
            zones::theme,
            zones::area,
            zones::goals,
            zones::geometry,
            zones::allow_overlap,
            zones::sort_order,
            programs::county_code,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(
        |(program_id, name, name_en, theme, area, goals, geometry, allow_overlap, sort_order, county_code)| {
            let geometry: ZoneGeometry = serde_json::from_str(&geometry).ok()?;
            Some(ZoneNew {
                program_id,
                county_code,
                zone: NewZone {
                    name,
                    name_en,
                    theme,
                    area,
                    goals,
                    geometry,
                    geometry_note: None,
                    allow_overlap,
                    sort_order,
                },
            })
        },
    ))
}
