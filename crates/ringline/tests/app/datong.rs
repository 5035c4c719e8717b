//! Facts about the bundled Datong data, read straight from `data/datong/divisions.csv` with a
//! plain comma split (the file has no quoted fields), independently of the import code, and the
//! expected zone membership worked out by hand.

use ringline::core::geo::{Crs, LonLat, to_wgs84};

/// Datong county code.
pub const COUNTY: &str = "630121000000";
/// 桥头镇, the county seat and centre of the ring.
pub const QIAOTOU: &str = "630121100000";
/// 东峡镇.
pub const DONGXIA: &str = "630121103000";
/// 塔尔镇.
pub const TAER: &str = "630121102000";

/// Member counts of the four zones of the default program, in display order (ring, 东峡线,
/// 城关线, 第三线).
///
/// Worked out with a separate script (not the crate's code): the GCJ-02 points of the CSV
/// converted to WGS-84 by inverting the published GCJ-02 forward formula with fixed-point
/// iteration; villages without their own point placed at their town seat; haversine distance
/// (R = 6371.0088 km) to 桥头镇's seat for the ring (≤ 7 km), distance to the polyline of town
/// seats for the lines (≤ 2 km). By town:
/// - ring 64 = 桥头镇 35 (all; 2 with own points) + 朔北藏族乡 18 (its villages without a point;
///   its one village with a point, 马场村, lies 20 km away) + 良教乡 10 (its villages without a
///   point; its other two have points near the 城关线) + 塔尔镇 1 (河州庄村, own point 5.578 km
///   from the seat);
/// - 东峡线 37 = 东峡镇 14 + 桦林乡 14 + 向化藏族乡 9 (all placed at their seats);
/// - 城关线 48 = 城关镇 20 + 塔尔镇 14 + 新庄镇 12 + 良教乡 2 (上治泉村, 石庄村);
/// - 第三线 46 = 长宁镇 24 + 黄家寨镇 22.
///
/// No village lies within 50 m of a zone's edge, so the counts do not hang on rounding.
pub const ZONE_MEMBER_COUNTS: [i64; 4] = [64, 37, 48, 46];

/// One row of `divisions.csv`.
#[derive(Debug, Clone)]
pub struct Row {
    /// 12-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `county`, `town` or `village`.
    pub level: String,
    /// Parent code.
    pub parent: String,
    /// Own GCJ-02 point, if any.
    pub gcj: Option<(f64, f64)>,
}

/// All rows of the bundled `data/datong/divisions.csv`.
pub fn rows() -> Vec<Row> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/datong/divisions.csv");
    let text = std::fs::read_to_string(&path).expect("data/datong/divisions.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let gcj = match (f[5].parse::<f64>(), f[6].parse::<f64>()) {
                (Ok(lon), Ok(lat)) => Some((lon, lat)),
                _ => None,
            };
            Row {
                code: f[0].into(),
                name: f[1].into(),
                level: f[2].into(),
                parent: f[3].into(),
                gcj,
            }
        })
        .collect()
}

/// The rows of one level.
pub fn of_level(level: &str) -> Vec<Row> {
    rows().into_iter().filter(|r| r.level == level).collect()
}

/// The WGS-84 point of a GCJ-02 point.
pub fn wgs(lon: f64, lat: f64) -> LonLat {
    to_wgs84(Crs::Gcj02, LonLat { lon, lat })
}

/// The WGS-84 seat of a town (or the own point of any division that has one).
pub fn point_of(code: &str) -> LonLat {
    let r = rows()
        .into_iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("{code} is in the CSV"));
    let (lon, lat) = r.gcj.unwrap_or_else(|| panic!("{code} has a point in the CSV"));
    wgs(lon, lat)
}

#[test]
fn the_csv_has_the_documented_shape() {
    // data/README.md: 1 county, 20 towns, 313 villages, 29 of which have their own point.
    assert_eq!(of_level("county").len(), 1);
    assert_eq!(of_level("town").len(), 20);
    let villages = of_level("village");
    assert_eq!(villages.len(), 313);
    assert_eq!(villages.iter().filter(|v| v.gcj.is_some()).count(), 29);
    assert_eq!(villages.iter().filter(|v| v.parent == DONGXIA).count(), 14);
}
