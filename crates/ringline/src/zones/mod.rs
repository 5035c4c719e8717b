//! Programs and zones (SPEC C2, §3): a program is a county's plan for a period; its zones are
//! ring or line demonstration zones with a geometry. Membership of villages is computed from the
//! geometry by [`ringline_core::zone::members`] (with include/exclude overrides) and stored in
//! `zone_members`, so later scope filters can join on it; it is recomputed whenever zones,
//! overrides or divisions change.

use std::collections::HashMap;

use diesel::prelude::*;
use ringline_core::zone::{Candidate, ZoneGeometry, members, overlaps as core_overlaps};
use serde::Serialize;

use crate::access::{Access, CodeFilter, Permission};
use crate::audit::{self, Change};
use crate::db::schema::{programs, zone_members, zone_overrides, zones};
use crate::db::{DbConn, DbResult, now};
use crate::divisions;

pub mod kinds;

/// A program (示范创建方案).
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = programs)]
pub struct Program {
    /// Id.
    pub id: i64,
    /// Name (Chinese).
    pub name: String,
    /// Name (English).
    pub name_en: String,
    /// County (12-digit code) the program covers.
    pub county_code: String,
    /// First year of the period.
    pub start_year: i32,
    /// Last year of the period.
    pub end_year: i32,
    /// Description.
    pub description: String,
    /// Created (UTC).
    #[schema(value_type = String)]
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = zones)]
struct ZoneRow {
    id: i64,
    program_id: i64,
    name: String,
    name_en: String,
    kind: String,
    theme: String,
    area: String,
    goals: String,
    geometry: String,
    geometry_note: Option<String>,
    allow_overlap: bool,
    sort_order: i32,
}

/// A zone (示范区 / 示范带) with its member count.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Zone {
    /// Id.
    pub id: i64,
    /// Program id.
    pub program_id: i64,
    /// Name (Chinese).
    pub name: String,
    /// Name (English).
    pub name_en: String,
    /// `ring` or `line`.
    pub kind: String,
    /// Theme key: `commerce_economy`, `new_rural_construction`, `characteristic_industry`,
    /// `collective_economy`, or a county's own.
    pub theme: String,
    /// Area (片区) name.
    pub area: String,
    /// Goals, free text.
    pub goals: String,
    /// Geometry: ring (centre, inner/outer radius in km), polygon, or line (path, corridor
    /// half-width in km); points in WGS-84 degrees.
    #[schema(value_type = Object)]
    pub geometry: ZoneGeometry,
    /// `assumption` when the geometry is an assumed default to be confirmed by the county.
    pub geometry_note: Option<String>,
    /// Whether members may also belong to other zones of the program without a warning.
    pub allow_overlap: bool,
    /// Display order.
    pub sort_order: i32,
    /// Number of member villages.
    pub member_count: i64,
}

/// A member village of a zone, with the reason it is in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ZoneMember {
    /// 12-digit village code.
    pub code: String,
    /// Village name.
    pub name: String,
    /// Town code.
    pub town_code: Option<String>,
    /// Town name.
    pub town_name: Option<String>,
    /// `geometry`, `geometry_approximate` or `include_list`.
    pub reason: String,
    /// Distance to the ring centre or the line path, km.
    pub distance_km: Option<f64>,
    /// True when the village is placed at its town seat.
    pub approximate: bool,
}

/// A village that is a member of more than one zone of a program.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverlapWarning {
    /// Village code.
    pub code: String,
    /// Village name.
    pub name: String,
    /// Ids of the zones it is in.
    pub zone_ids: Vec<i64>,
}

/// The programs whose county the caller's scope touches, newest first.
pub fn programs(conn: &mut DbConn, access: &Access) -> DbResult<Vec<Program>> {
    let all: Vec<Program> = programs::table
        .order(programs::id.desc())
        .select(Program::as_select())
        .load(conn)?;
    Ok(all.into_iter().filter(|p| access.sees_county(&p.county_code)).collect())
}

/// One program, if the caller's scope touches its county.
pub fn program(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<Program>> {
    let p: Option<Program> = programs::table
        .find(id)
        .select(Program::as_select())
        .first(conn)
        .optional()?;
    Ok(p.filter(|p| access.sees_county(&p.county_code)))
}

fn to_zone(r: ZoneRow, member_count: i64) -> Zone {
    // Geometry JSON is written only by this module from a validated ZoneGeometry.
    let geometry = serde_json::from_str(&r.geometry).unwrap_or(ZoneGeometry::Polygon { ring: Vec::new() });
    Zone {
        id: r.id,
        program_id: r.program_id,
        name: r.name,
        name_en: r.name_en,
        kind: r.kind,
        theme: r.theme,
        area: r.area,
        goals: r.goals,
        geometry,
        geometry_note: r.geometry_note,
        allow_overlap: r.allow_overlap,
        sort_order: r.sort_order,
        member_count,
    }
}

/// Member counts per zone, counting only villages within the caller's scope.
fn member_counts(conn: &mut DbConn, access: &Access, zone_ids: &[i64]) -> DbResult<HashMap<i64, i64>> {
    let mut q = zone_members::table
        .filter(zone_members::zone_id.eq_any(zone_ids))
        .into_boxed();
    match access.code_filter() {
        CodeFilter::None => {}
        CodeFilter::Range(start, end) => {
            q = q.filter(zone_members::division_code.ge(start));
            if let Some(end) = end {
                q = q.filter(zone_members::division_code.lt(end));
            }
        }
        CodeFilter::List(codes) => q = q.filter(zone_members::division_code.eq_any(codes)),
    }
    let codes: Vec<i64> = q.select(zone_members::zone_id).load(conn)?;
    let mut counts = HashMap::new();
    for z in codes {
        *counts.entry(z).or_insert(0) += 1;
    }
    Ok(counts)
}

/// The zones of a program visible to the caller, in display order, with member counts within
/// the caller's scope.
pub fn zones_of(conn: &mut DbConn, access: &Access, program_id: i64) -> DbResult<Vec<Zone>> {
    if program(conn, access, program_id)?.is_none() {
        return Ok(Vec::new());
    }
    let rows: Vec<ZoneRow> = zones::table
        .filter(zones::program_id.eq(program_id))
        .order((zones::sort_order.asc(), zones::id.asc()))
        .select(ZoneRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts = member_counts(conn, access, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            to_zone(r, n)
        })
        .collect())
}

/// One zone, if its program is visible to the caller.
pub fn zone(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<Zone>> {
    let row: Option<ZoneRow> = zones::table
        .find(id)
        .select(ZoneRow::as_select())
        .first(conn)
        .optional()?;
    let Some(r) = row else { return Ok(None) };
    if program(conn, access, r.program_id)?.is_none() {
        return Ok(None);
    }
    let n = member_counts(conn, access, &[r.id])?.get(&r.id).copied().unwrap_or(0);
    Ok(Some(to_zone(r, n)))
}

/// The member villages of a zone within the caller's scope, ordered by code.
pub fn zone_members(conn: &mut DbConn, access: &Access, zone_id: i64) -> DbResult<Vec<ZoneMember>> {
    if zone(conn, access, zone_id)?.is_none() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, Option<f64>)> = zone_members::table
        .filter(zone_members::zone_id.eq(zone_id))
        .order(zone_members::division_code.asc())
        .select((
            zone_members::division_code,
            zone_members::reason,
            zone_members::distance_km,
        ))
        .load(conn)?;
    let rows: Vec<_> = rows.into_iter().filter(|r| access.sees_code(&r.0)).collect();
    let codes: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let info: HashMap<String, divisions::Division> = divisions::get_many(conn, access, &codes)?
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    Ok(rows
        .into_iter()
        .map(|(code, reason, distance_km)| {
            let d = info.get(&code);
            ZoneMember {
                name: d.map(|d| d.name.clone()).unwrap_or_default(),
                town_code: d.and_then(|d| d.parent_code.clone()),
                town_name: d.and_then(|d| d.parent_name.clone()),
                approximate: d.is_some_and(|d| d.approximate),
                code,
                reason,
                distance_km,
            }
        })
        .collect())
}

/// The zones (with membership reason and distance) a village belongs to, within visible
/// programs.
pub fn zones_of_village(conn: &mut DbConn, access: &Access, code: &str) -> DbResult<Vec<(Zone, ZoneMember)>> {
    if !access.sees_code(code) {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, Option<f64>)> = zone_members::table
        .filter(zone_members::division_code.eq(code))
        .select((zone_members::zone_id, zone_members::reason, zone_members::distance_km))
        .load(conn)?;
    let mut out = Vec::new();
    for (zone_id, reason, distance_km) in rows {
        if let Some(z) = zone(conn, access, zone_id)? {
            let m = ZoneMember {
                code: code.to_string(),
                name: String::new(),
                town_code: None,
                town_name: None,
                reason,
                distance_km,
                approximate: false,
            };
            out.push((z, m));
        }
    }
    out.sort_by_key(|(z, _)| (z.program_id, z.sort_order, z.id));
    Ok(out)
}

/// Zone ids per village code for a program, within the caller's scope (for colouring maps).
pub fn membership_map(conn: &mut DbConn, access: &Access, program_id: i64) -> DbResult<HashMap<String, Vec<i64>>> {
    if program(conn, access, program_id)?.is_none() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = zone_members::table
        .inner_join(zones::table)
        .filter(zones::program_id.eq(program_id))
        .select((zone_members::zone_id, zone_members::division_code))
        .load(conn)?;
    let mut map: HashMap<String, Vec<i64>> = HashMap::new();
    for (z, c) in rows.into_iter().filter(|(_, c)| access.sees_code(c)) {
        map.entry(c).or_default().push(z);
    }
    Ok(map)
}

/// The zones of a program in display order, each with the division codes of all its members
/// (callers keep the ones their figures cover). The program is `program_id`, or else the first
/// one the caller sees ([`programs`]); empty when there is none or it is not visible.
///
/// # Errors
/// Database errors.
pub fn zones_with_members(
    conn: &mut DbConn,
    access: &Access,
    program_id: Option<i64>,
) -> DbResult<Vec<(Zone, Vec<String>)>> {
    let pid = match program_id {
        Some(id) => id,
        None => match programs(conn, access)?.first() {
            Some(p) => p.id,
            None => return Ok(Vec::new()),
        },
    };
    let zs = zones_of(conn, access, pid)?;
    let ids: Vec<i64> = zs.iter().map(|z| z.id).collect();
    let rows: Vec<(i64, String)> = zone_members::table
        .filter(zone_members::zone_id.eq_any(&ids))
        .select((zone_members::zone_id, zone_members::division_code))
        .load(conn)?;
    let mut members: HashMap<i64, Vec<String>> = HashMap::new();
    for (zone, code) in rows {
        members.entry(zone).or_default().push(code);
    }
    Ok(zs
        .into_iter()
        .map(|z| {
            let codes = members.remove(&z.id).unwrap_or_default();
            (z, codes)
        })
        .collect())
}

/// Villages (within the caller's scope) in more than one zone of the program where the zones
/// do not allow overlap.
pub fn overlaps(conn: &mut DbConn, access: &Access, program_id: i64) -> DbResult<Vec<OverlapWarning>> {
    let zs = zones_of(conn, access, program_id)?;
    let allowed: HashMap<i64, bool> = zs.iter().map(|z| (z.id, z.allow_overlap)).collect();
    let map = membership_map(conn, access, program_id)?;
    let mut per_zone: HashMap<i64, Vec<String>> = HashMap::new();
    for (code, ids) in &map {
        for id in ids {
            per_zone.entry(*id).or_default().push(code.clone());
        }
    }
    let memberships: Vec<(i64, Vec<String>)> = per_zone.into_iter().collect();
    let found = core_overlaps(&memberships);
    let codes: Vec<String> = found.iter().map(|o| o.code.clone()).collect();
    let names: HashMap<String, String> = divisions::get_many(conn, access, &codes)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    Ok(found
        .into_iter()
        .filter(|o| {
            o.zones
                .iter()
                .filter(|z| !allowed.get(z).copied().unwrap_or(false))
                .count()
                >= 2
        })
        .map(|o| OverlapWarning {
            name: names.get(&o.code).cloned().unwrap_or_default(),
            code: o.code,
            zone_ids: o.zones,
        })
        .collect())
}

/// Recomputes the stored membership of every zone of every program.
pub fn recompute_all(conn: &mut DbConn) -> DbResult<()> {
    let ids: Vec<i64> = programs::table.select(programs::id).load(conn)?;
    for id in ids {
        recompute_program(conn, id)?;
    }
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = zone_members)]
struct NewMember<'a> {
    zone_id: i64,
    division_code: &'a str,
    reason: &'a str,
    distance_km: Option<f64>,
}

/// Recomputes the stored membership of the zones of one program from their geometry and
/// overrides, against the program county's active villages.
pub fn recompute_program(conn: &mut DbConn, program_id: i64) -> DbResult<()> {
    let system = Access::system();
    let Some(p) = program(conn, &system, program_id)? else {
        return Ok(());
    };
    let prefix = ringline_core::division::DivisionCode::parse(&p.county_code)
        .map(|c| c.prefix().to_string())
        .unwrap_or_else(|_| p.county_code.clone());
    let villages = divisions::villages_with_points(conn, &prefix)?;
    let candidates: Vec<Candidate> = villages
        .iter()
        .map(|v| Candidate {
            code: &v.code,
            point: v
                .lon
                .zip(v.lat)
                .map(|(lon, lat)| ringline_core::geo::LonLat { lon, lat }),
            approximate: v.approximate,
        })
        .collect();
    let zs = zones_of(conn, &system, program_id)?;
    crate::db::write_transaction(conn, |conn| {
        for z in &zs {
            let ov: Vec<(String, String)> = zone_overrides::table
                .filter(zone_overrides::zone_id.eq(z.id))
                .select((zone_overrides::division_code, zone_overrides::action))
                .load(conn)?;
            let include: Vec<&str> = ov.iter().filter(|o| o.1 == "include").map(|o| o.0.as_str()).collect();
            let exclude: Vec<&str> = ov.iter().filter(|o| o.1 == "exclude").map(|o| o.0.as_str()).collect();
            let ms = members(&z.geometry, &candidates, &include, &exclude);
            diesel::delete(zone_members::table.filter(zone_members::zone_id.eq(z.id))).execute(conn)?;
            for chunk in ms.chunks(1000) {
                let rows: Vec<NewMember> = chunk
                    .iter()
                    .map(|m| NewMember {
                        zone_id: z.id,
                        division_code: &m.code,
                        reason: m.reason.as_str(),
                        distance_km: m.distance_km.map(|d| (d * 1000.0).round() / 1000.0),
                    })
                    .collect();
                crate::insert_rows!(&mut *conn, zone_members::table, &rows, 1000);
            }
        }
        Ok(())
    })
}

/// Fields of a new program.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProgram {
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// County code.
    pub county_code: String,
    /// First year.
    pub start_year: i32,
    /// Last year.
    pub end_year: i32,
    /// Description.
    pub description: String,
}

/// Creates a program and returns its id.
pub fn create_program(conn: &mut DbConn, p: &NewProgram) -> DbResult<i64> {
    Ok(diesel::insert_into(programs::table)
        .values((
            programs::name.eq(&p.name),
            programs::name_en.eq(&p.name_en),
            programs::county_code.eq(&p.county_code),
            programs::start_year.eq(p.start_year),
            programs::end_year.eq(p.end_year),
            programs::description.eq(&p.description),
            programs::created_at.eq(now()),
        ))
        .returning(programs::id)
        .get_result(conn)?)
}

/// Fields of a new zone.
#[derive(Debug, Clone, PartialEq)]
pub struct NewZone {
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Theme key.
    pub theme: String,
    /// Area name.
    pub area: String,
    /// Goals.
    pub goals: String,
    /// Validated geometry.
    pub geometry: ZoneGeometry,
    /// `assumption` for an assumed default geometry.
    pub geometry_note: Option<String>,
    /// Allow overlap with other zones.
    pub allow_overlap: bool,
    /// Display order.
    pub sort_order: i32,
}

/// Creates a zone (membership is not computed; call [`recompute_program`]).
pub fn create_zone(conn: &mut DbConn, program_id: i64, z: &NewZone) -> DbResult<i64> {
    let geometry = serde_json::to_string(&z.geometry).map_err(|e| crate::db::DbError::Task(e.to_string()))?;
    Ok(diesel::insert_into(zones::table)
        .values((
            zones::program_id.eq(program_id),
            zones::name.eq(&z.name),
            zones::name_en.eq(&z.name_en),
            zones::kind.eq(z.geometry.kind().as_str()),
            zones::theme.eq(&z.theme),
            zones::area.eq(&z.area),
            zones::goals.eq(&z.goals),
            zones::geometry.eq(geometry),
            zones::geometry_note.eq(&z.geometry_note),
            zones::allow_overlap.eq(z.allow_overlap),
            zones::sort_order.eq(z.sort_order),
        ))
        .returning(zones::id)
        .get_result(conn)?)
}

/// An include or exclude entry of a zone.
#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Override {
    /// Village code.
    pub division_code: String,
    /// `include` or `exclude`.
    pub action: String,
    /// Why (free text).
    pub note: String,
}

/// The include/exclude lists of a zone, within the caller's scope.
pub fn overrides(conn: &mut DbConn, access: &Access, zone_id: i64) -> DbResult<Vec<Override>> {
    if zone(conn, access, zone_id)?.is_none() {
        return Ok(Vec::new());
    }
    let all: Vec<Override> = zone_overrides::table
        .filter(zone_overrides::zone_id.eq(zone_id))
        .order(zone_overrides::division_code.asc())
        .select((
            zone_overrides::division_code,
            zone_overrides::action,
            zone_overrides::note,
        ))
        .load(conn)?;
    Ok(all.into_iter().filter(|o| access.sees_code(&o.division_code)).collect())
}

/// Why a zone change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// No such zone.
    #[error("no zone has the id {0}")]
    UnknownZone(i64),
    /// The code is not an active village of the program's county.
    #[error("{0} is not an active village or community of this program's county")]
    NotAVillage(String),
    /// The geometry is invalid.
    #[error(transparent)]
    Geometry(#[from] ringline_core::zone::GeometryError),
    /// The caller's role may not change zones, or the village is outside their scope.
    #[error("your role may not change zones")]
    Forbidden,
    /// Database failure.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for ZoneError {
    fn from(e: diesel::result::Error) -> Self {
        ZoneError::Db(e.into())
    }
}

/// Puts a village on a zone's include list (`Some("include")`), exclude list
/// (`Some("exclude")`), or off both (`None`), then recomputes the program's membership, all in
/// one transaction.
pub fn set_override(
    conn: &mut DbConn,
    by: &Access,
    zone_id: i64,
    code: &str,
    action: Option<&str>,
    note: &str,
) -> Result<(), ZoneError> {
    if !by.can(Permission::Configure) {
        return Err(ZoneError::Forbidden);
    }
    crate::db::write_transaction(conn, |conn| {
        let z = zone(conn, by, zone_id)?.ok_or(ZoneError::UnknownZone(zone_id))?;
        let p = program(conn, by, z.program_id)?.ok_or(ZoneError::UnknownZone(zone_id))?;
        let county = ringline_core::division::DivisionCode::parse(&p.county_code)
            .map(|c| c.prefix().to_string())
            .unwrap_or_default();
        let d = divisions::get(conn, by, code)?;
        let ok = d
            .as_ref()
            .is_some_and(|d| d.level == "village" && d.status == divisions::ACTIVE && d.code.starts_with(&county));
        if !ok {
            return Err(ZoneError::NotAVillage(code.to_string()));
        }
        let before: Option<(String, String)> = zone_overrides::table
            .filter(
                zone_overrides::zone_id
                    .eq(zone_id)
                    .and(zone_overrides::division_code.eq(code)),
            )
            .select((zone_overrides::action, zone_overrides::note))
            .first(conn)
            .optional()?;
        diesel::delete(
            zone_overrides::table.filter(
                zone_overrides::zone_id
                    .eq(zone_id)
                    .and(zone_overrides::division_code.eq(code)),
            ),
        )
        .execute(conn)?;
        audit::record(
            conn,
            by,
            Change {
                action: action.unwrap_or("reset"),
                entity: "zone_override",
                entity_id: &format!("{zone_id}/{code}"),
                scope: county.clone(),
                before: before.map(|(a, n)| serde_json::json!({ "list": a, "note": n })),
                after: action.map(|a| serde_json::json!({ "list": a, "note": note })),
                ..Default::default()
            },
        )?;
        if let Some(action) = action {
            diesel::insert_into(zone_overrides::table)
                .values((
                    zone_overrides::zone_id.eq(zone_id),
                    zone_overrides::division_code.eq(code),
                    zone_overrides::action.eq(action),
                    zone_overrides::note.eq(note),
                ))
                .execute(conn)?;
        }
        recompute_program(conn, z.program_id)?;
        Ok(())
    })
}

/// Replaces a zone's geometry (validated first), clears its "assumption" note, and recomputes
/// the program's membership, in one transaction.
pub fn set_geometry(conn: &mut DbConn, by: &Access, zone_id: i64, geometry: &ZoneGeometry) -> Result<(), ZoneError> {
    if !by.can(Permission::Configure) {
        return Err(ZoneError::Forbidden);
    }
    geometry.validate()?;
    let json = serde_json::to_string(geometry).map_err(|e| crate::db::DbError::Task(e.to_string()))?;
    crate::db::write_transaction(conn, |conn| {
        let z = zone(conn, by, zone_id)?.ok_or(ZoneError::UnknownZone(zone_id))?;
        let county = program(conn, by, z.program_id)?
            .and_then(|p| ringline_core::division::DivisionCode::parse(&p.county_code).ok())
            .map(|c| c.prefix().to_string())
            .unwrap_or_default();
        audit::record(
            conn,
            by,
            Change {
                action: "update",
                entity: "zone",
                entity_id: &zone_id.to_string(),
                scope: county,
                before: Some(serde_json::json!({"geometry": z.geometry, "geometry_note": z.geometry_note})),
                after: Some(serde_json::json!({"geometry": geometry, "geometry_note": null})),
                ..Default::default()
            },
        )?;
        diesel::update(zones::table.find(zone_id))
            .set((
                zones::geometry.eq(json),
                zones::kind.eq(geometry.kind().as_str()),
                zones::geometry_note.eq(None::<String>),
            ))
            .execute(conn)?;
        recompute_program(conn, z.program_id)?;
        Ok(())
    })
}
