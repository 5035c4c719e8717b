//! First start: with an empty database, load Datong's divisions and county boundary from the
//! bundled data and create the default program "大通县'一环三线'党建示范带" with its four zones
//! (SPEC §3). Each step runs only when its table is empty, so restarting never duplicates it.

use diesel::prelude::*;
use ringline_core::geo::{Crs, LonLat, to_wgs84};
use ringline_core::zone::ZoneGeometry;

use crate::db::schema::{boundaries, divisions, programs};
use crate::db::{DbConn, DbError, DbResult};
use crate::import::divisions::{self as imp, ImportError, Options};
use crate::import::table::parse_csv_bytes;
use crate::zones::{self, NewProgram, NewZone};

/// Datong's divisions (NBS 2023 codes), bundled.
pub const DATONG_DIVISIONS_CSV: &str = include_str!("../../../data/datong/divisions.csv");
/// Datong's county outline in GCJ-02, bundled (Vonng/adcode, CC BY 4.0).
pub const DATONG_BOUNDARY_GCJ02: &str = include_str!("../../../data/datong/county_boundary_gcj02.json");
/// Datong county code.
pub const DATONG_COUNTY: &str = "630121000000";

/// What the first start did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seeded {
    /// Divisions loaded (0 when already present).
    pub divisions: usize,
    /// Whether the boundary was stored.
    pub boundary: bool,
    /// Whether the default program was created.
    pub program: bool,
}

/// Runs the first-start steps that are still needed.
pub fn first_start(conn: &mut DbConn) -> Result<Seeded, ImportError> {
    let mut seeded = Seeded::default();
    let n: i64 = divisions::table.count().get_result(conn)?;
    if n == 0 {
        let table = parse_csv_bytes(DATONG_DIVISIONS_CSV.as_bytes(), "data/datong/divisions.csv".into())?;
        let opts = Options::default();
        let mut incoming = Vec::new();
        let mut issues = Vec::new();
        let file = imp::read_rows(&table, &opts, &mut incoming, &mut issues);
        let plan = imp::plan(conn, incoming, vec![file], issues, &opts)?;
        seeded.divisions = match imp::apply(
            conn,
            &crate::access::Access::system(),
            &plan,
            "data/datong/divisions.csv",
            &mut |_, _| {},
        ) {
            Ok(()) => plan.new.len(),
            // Another instance starting on the same database loaded them first.
            Err(ImportError::Changed) => 0,
            Err(e) => return Err(e),
        };
    }
    let b: i64 = boundaries::table.count().get_result(conn)?;
    if b == 0 {
        let geojson = boundary_to_wgs84(DATONG_BOUNDARY_GCJ02).map_err(|e| ImportError::Db(DbError::Task(e)))?;
        diesel::insert_into(boundaries::table)
            .values((
                boundaries::division_code.eq(DATONG_COUNTY),
                boundaries::geojson.eq(geojson),
                boundaries::source.eq("Vonng/adcode data/fences/630121.json (CC BY 4.0), GCJ-02 converted to WGS-84"),
            ))
            .execute(conn)?;
        seeded.boundary = true;
    }
    let p: i64 = programs::table.count().get_result(conn)?;
    if p == 0 {
        create_datong_program(conn)?;
        seeded.program = true;
    }
    Ok(seeded)
}

/// Converts a GeoJSON Polygon or MultiPolygon (geometry or Feature) from GCJ-02 to a WGS-84
/// GeoJSON geometry string.
pub fn boundary_to_wgs84(gcj: &str) -> Result<String, String> {
    let geometry = geometry_of(gcj)?;
    let conv = |ring: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        ring.iter()
            .filter(|p| p.len() >= 2)
            .map(|p| {
                let w = to_wgs84(Crs::Gcj02, LonLat { lon: p[0], lat: p[1] });
                vec![(w.lon * 1e6).round() / 1e6, (w.lat * 1e6).round() / 1e6]
            })
            .collect()
    };
    let value = match geometry.value {
        geojson::Value::Polygon(rings) => geojson::Value::Polygon(rings.iter().map(conv).collect()),
        geojson::Value::MultiPolygon(polys) => {
            geojson::Value::MultiPolygon(polys.iter().map(|rings| rings.iter().map(conv).collect()).collect())
        }
        _ => return Err("boundary must be a Polygon or MultiPolygon".into()),
    };
    Ok(geojson::Geometry::new(value).to_string())
}

/// The geometry of a GeoJSON text: the geometry itself, a Feature's, or the first one of a
/// FeatureCollection.
fn geometry_of(text: &str) -> Result<geojson::Geometry, String> {
    let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| e.to_string())?;
    match gj {
        geojson::GeoJson::Geometry(g) => Ok(g),
        geojson::GeoJson::Feature(f) => f.geometry.ok_or_else(|| "feature without geometry".to_string()),
        geojson::GeoJson::FeatureCollection(fc) => fc
            .features
            .into_iter()
            .find_map(|f| f.geometry)
            .ok_or_else(|| "feature collection without geometry".to_string()),
    }
}

/// Reads a stored boundary as outer rings of WGS-84 points (one per polygon).
pub fn boundary_rings(conn: &mut DbConn, code: &str) -> DbResult<Vec<Vec<LonLat>>> {
    let text: Option<String> = boundaries::table
        .find(code)
        .select(boundaries::geojson)
        .first(conn)
        .optional()?;
    Ok(text.and_then(|t| polygon_rings(&t).ok()).unwrap_or_default())
}

/// The outer rings (one per polygon) of a GeoJSON Polygon or MultiPolygon, given as a geometry,
/// a Feature or the first geometry of a FeatureCollection; coordinates as written.
pub fn polygon_rings(text: &str) -> Result<Vec<Vec<LonLat>>, String> {
    let g = geometry_of(text)?;
    let ring = |r: &Vec<Vec<f64>>| {
        r.iter()
            .filter(|p| p.len() >= 2)
            .map(|p| LonLat { lon: p[0], lat: p[1] })
            .collect()
    };
    match g.value {
        geojson::Value::Polygon(rings) => Ok(rings.first().map(ring).into_iter().collect()),
        geojson::Value::MultiPolygon(polys) => Ok(polys.iter().filter_map(|p| p.first().map(ring)).collect()),
        _ => Err("the geometry is not a Polygon or MultiPolygon".into()),
    }
}

/// The stored WGS-84 point of a division (a town seat), if any.
fn seat(conn: &mut DbConn, code: &str) -> DbResult<Option<LonLat>> {
    let row: Option<(Option<f64>, Option<f64>)> = divisions::table
        .find(code)
        .select((divisions::lon, divisions::lat))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(lon, lat)| Some(LonLat { lon: lon?, lat: lat? })))
}

fn seats(conn: &mut DbConn, codes: &[&str]) -> DbResult<Option<Vec<LonLat>>> {
    let mut out = Vec::new();
    for c in codes {
        match seat(conn, c)? {
            Some(p) => out.push(p),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// Creates Datong's default program and its four zones (SPEC §3) from the stored town seats,
/// then computes membership. Zones whose seats are missing are skipped.
pub fn create_datong_program(conn: &mut DbConn) -> DbResult<i64> {
    let id = zones::create_program(
        conn,
        &NewProgram {
            name: "大通县\u{201c}一环三线\u{201d}党建示范带".into(),
            name_en: "Datong \u{2018}One Ring, Three Lines\u{2019}".into(),
            county_code: DATONG_COUNTY.into(),
            start_year: 2026,
            end_year: 2028,
            description: "以党建引领乡村振兴：一环（县城周边商贸经济示范区）、三线（东峡线、城关线、川外片区第三线）。"
                .into(),
        },
    )?;
    // Town seats: 桥头镇 100, 城关镇 101, 塔尔镇 102, 东峡镇 103, 黄家寨镇 104, 长宁镇 105,
    // 新庄镇 108, 向化藏族乡 208, 桦林乡 209.
    let zones: Vec<(NewZone, Vec<&str>)> = vec![
        (
            NewZone {
                name: "一环 商贸经济示范区".into(),
                name_en: "Ring: commerce and economy demonstration zone".into(),
                theme: "commerce_economy".into(),
                area: "县城周边".into(),
                goals: "周边村发展产业、创建党建品牌；在职党员进社区；共驻共建、资源共享；两新组织党建覆盖。".into(),
                geometry: ZoneGeometry::Ring {
                    centre: LonLat { lon: 0.0, lat: 0.0 },
                    inner_km: 0.0,
                    outer_km: 7.0,
                },
                geometry_note: Some("assumption".into()),
                allow_overlap: false,
                sort_order: 1,
            },
            vec!["630121100000"],
        ),
        (
            line("东峡线", "Dongxia line", "new_rural_construction", "东峡片区", 2),
            vec!["630121209000", "630121103000", "630121208000"],
        ),
        (
            line("城关线", "Chengguan line", "characteristic_industry", "城关片区", 3),
            vec!["630121102000", "630121101000", "630121108000"],
        ),
        (
            line(
                "第三线（川外片区）",
                "Third line (Chuanwai area)",
                "collective_economy",
                "川外片区",
                4,
            ),
            vec!["630121104000", "630121105000"],
        ),
    ];
    for (mut z, seat_codes) in zones {
        let Some(points) = seats(conn, &seat_codes)? else {
            continue;
        };
        z.geometry = match z.geometry {
            ZoneGeometry::Ring { inner_km, outer_km, .. } => ZoneGeometry::Ring {
                centre: points[0],
                inner_km,
                outer_km,
            },
            ZoneGeometry::Line { half_width_km, .. } => ZoneGeometry::Line {
                path: points,
                half_width_km,
            },
            g => g,
        };
        zones::create_zone(conn, id, &z)?;
    }
    zones::recompute_program(conn, id)?;
    Ok(id)
}

fn line(name: &str, name_en: &str, theme: &str, area: &str, sort_order: i32) -> NewZone {
    NewZone {
        name: name.into(),
        name_en: name_en.into(),
        theme: theme.into(),
        area: area.into(),
        goals: "一村一品；支部+协会+公司+市场；以村级经济带动片区发展。".into(),
        geometry: ZoneGeometry::Line {
            path: Vec::new(),
            half_width_km: 2.0,
        },
        geometry_note: Some("assumption".into()),
        allow_overlap: false,
        sort_order,
    }
}
