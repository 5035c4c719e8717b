//! Coordinates: WGS-84 points, conversion from the Chinese web-map systems GCJ-02 and BD-09,
//! a plausibility box for China and great-circle distance.
//!
//! Points are stored in WGS-84 degrees; input declared GCJ-02 (AMap, Tencent, Tianditu's
//! Chinese layers) or BD-09 (Baidu) is converted with [`to_wgs84`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Mean Earth radius in km: the IUGG mean radius R₁ = (2a + b) / 3 of the WGS-84 ellipsoid,
/// 6371.0088 km (Moritz, "Geodetic Reference System 1980", IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Convergence threshold, in degrees, of the GCJ-02 → WGS-84 refinement (about 0.1 mm).
const REFINE_EPS_DEG: f64 = 1e-9;

/// Maximum number of refinement rounds of the GCJ-02 → WGS-84 inverse.
const REFINE_MAX_ROUNDS: usize = 20;

/// A point as longitude and latitude in degrees, WGS-84 unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LonLat {
    /// Longitude in degrees, east positive.
    pub lon: f64,
    /// Latitude in degrees, north positive.
    pub lat: f64,
}

impl LonLat {
    /// A point from longitude and latitude in degrees.
    pub fn new(lon: f64, lat: f64) -> LonLat {
        LonLat { lon, lat }
    }

    /// True when both coordinates are finite numbers.
    pub fn is_finite(self) -> bool {
        self.lon.is_finite() && self.lat.is_finite()
    }
}

/// A coordinate reference system that input points may be declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS-84 (GPS; EPSG:4326), the storage system.
    Wgs84,
    /// GCJ-02, the obfuscated system mandated for Chinese web maps (AMap, Tencent).
    Gcj02,
    /// BD-09, Baidu's further offset of GCJ-02.
    Bd09,
}

impl Crs {
    /// Stable name: "wgs84", "gcj02" or "bd09".
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unrecognised coordinate reference system name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown coordinate system {value:?}; use wgs84, gcj02 or bd09")]
pub struct CrsError {
    /// The input after trimming.
    pub value: String,
}

impl CrsError {
    /// Stable kebab-case identifier, used as an i18n key: "crs-unknown".
    pub fn key(&self) -> &'static str {
        "crs-unknown"
    }
}

impl FromStr for Crs {
    type Err = CrsError;

    /// Parses "wgs84"/"wgs-84", "gcj02"/"gcj-02" or "bd09"/"bd-09", case-insensitive.
    ///
    /// # Errors
    /// [`CrsError`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" => Ok(Crs::Wgs84),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            "bd09" | "bd-09" => Ok(Crs::Bd09),
            _ => Err(CrsError { value: t.to_owned() }),
        }
    }
}

/// GCJ-02 → WGS-84, accurate to well under 0.5 m.
///
/// Starts from the `coordtransform` crate's one-step inverse and refines it by fixed-point
/// iteration on the crate's forward `wgs84_to_gcj02`: w ← w − (forward(w) − g), until the
/// change is below 1e-9° or after 20 rounds.
fn gcj02_to_wgs84_refined(g: LonLat) -> LonLat {
    let (lon, lat) = coordtransform::gcj02_to_wgs84(g.lon, g.lat);
    let mut w = LonLat { lon, lat };
    for _ in 0..REFINE_MAX_ROUNDS {
        let (flon, flat) = coordtransform::wgs84_to_gcj02(w.lon, w.lat);
        let dlon = flon - g.lon;
        let dlat = flat - g.lat;
        w.lon -= dlon;
        w.lat -= dlat;
        if dlon.abs() < REFINE_EPS_DEG && dlat.abs() < REFINE_EPS_DEG {
            break;
        }
    }
    w
}

/// Converts a point declared in `crs` to WGS-84 degrees.
///
/// GCJ-02 is inverted iteratively (error well under 0.5 m); BD-09 goes to GCJ-02 with the
/// `coordtransform` crate's closed form, then to WGS-84 the same way. Outside the region in
/// which GCJ-02 applies (roughly China's box), GCJ-02 equals WGS-84 and the point is returned
/// unchanged apart from the BD-09 step. GCJ-02 is discontinuous at the edge of its own box
/// (`coordtransform`: longitude 72.004–135.05° E, latitude 3.86–53.55° N); within about a
/// kilometre of the northern and eastern edges, which fall inside [`in_china`]'s box, the
/// inverse can be off by up to about a kilometre.
///
/// ```
/// use ringline_core::geo::{Crs, LonLat, haversine_km, to_wgs84};
/// // eviltransform's Beijing test point: GCJ-02 (116.38404722455657, 39.91334545536069) is
/// // WGS-84 (116.377817, 39.911954).
/// let w = to_wgs84(Crs::Gcj02, LonLat { lon: 116.38404722455657, lat: 39.91334545536069 });
/// assert!(haversine_km(w, LonLat { lon: 116.377817, lat: 39.911954 }) < 0.0005);
/// ```
pub fn to_wgs84(crs: Crs, p: LonLat) -> LonLat {
    match crs {
        Crs::Wgs84 => p,
        Crs::Gcj02 => gcj02_to_wgs84_refined(p),
        Crs::Bd09 => {
            let (lon, lat) = coordtransform::bd09_to_gcj02(p.lon, p.lat);
            gcj02_to_wgs84_refined(LonLat { lon, lat })
        }
    }
}

/// Converts a WGS-84 point to `crs` (the forward direction, exact by definition of GCJ-02
/// and BD-09), using the `coordtransform` crate.
pub fn from_wgs84(crs: Crs, p: LonLat) -> LonLat {
    let (lon, lat) = match crs {
        Crs::Wgs84 => (p.lon, p.lat),
        Crs::Gcj02 => coordtransform::wgs84_to_gcj02(p.lon, p.lat),
        Crs::Bd09 => coordtransform::wgs84_to_bd09(p.lon, p.lat),
    };
    LonLat { lon, lat }
}

/// True when the point lies in China's rough bounding box, longitude 73.4–135.1° E and
/// latitude 18.1–53.6° N.
///
/// A plausibility check for input (catches swapped or mistyped coordinates), not a border:
/// it takes in parts of neighbouring countries and leaves out the southernmost islands.
pub fn in_china(p: LonLat) -> bool {
    (73.4..=135.1).contains(&p.lon) && (18.1..=53.6).contains(&p.lat)
}

/// Great-circle distance in km between two WGS-84 points by the haversine formula on a
/// sphere of radius [`EARTH_RADIUS_KM`] (error against the ellipsoid below 0.5 %).
pub fn haversine_km(a: LonLat, b: LonLat) -> f64 {
    let phi1 = a.lat.to_radians();
    let phi2 = b.lat.to_radians();
    let dphi = (b.lat - a.lat).to_radians();
    let dlambda = (b.lon - a.lon).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn ll(lon: f64, lat: f64) -> LonLat {
        LonLat { lon, lat }
    }

    /// (WGS-84, GCJ-02) pairs from the eviltransform test vectors (MIT licence,
    /// github.com/googollee/eviltransform), written here as (lon, lat).
    const EVIL: [((f64, f64), (f64, f64)); 3] = [
        ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
        ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
        ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ];

    #[test]
    fn gcj02_forward_matches_eviltransform() {
        for ((wlon, wlat), (glon, glat)) in EVIL {
            let g = from_wgs84(Crs::Gcj02, ll(wlon, wlat));
            assert!((g.lon - glon).abs() < 1e-7, "{g:?} vs {glon}");
            assert!((g.lat - glat).abs() < 1e-7, "{g:?} vs {glat}");
        }
    }

    #[test]
    fn gcj02_inverse_within_half_a_metre() {
        for ((wlon, wlat), (glon, glat)) in EVIL {
            let w = to_wgs84(Crs::Gcj02, ll(glon, glat));
            let err_km = haversine_km(w, ll(wlon, wlat));
            assert!(err_km < 0.0005, "error {} m", err_km * 1000.0);
        }
    }

    /// Reference values from the wandergis/coordtransform README (MIT licence).
    #[test]
    fn bd09_matches_wandergis() {
        let (blon, blat) = coordtransform::gcj02_to_bd09(116.404, 39.915);
        assert!((blon - 116.41036949371029).abs() < 1e-9);
        assert!((blat - 39.92133699351021).abs() < 1e-9);
        let (glon, glat) = coordtransform::bd09_to_gcj02(116.404, 39.915);
        assert!((glon - 116.39762729119315).abs() < 1e-9);
        assert!((glat - 39.90865673957631).abs() < 1e-9);
        // BD-09 → WGS-84 goes through that GCJ-02 point.
        let w = to_wgs84(Crs::Bd09, ll(116.404, 39.915));
        let back = from_wgs84(Crs::Gcj02, w);
        assert!(haversine_km(back, ll(116.39762729119315, 39.90865673957631)) < 0.0005);
        // and forward again to BD-09
        let b = from_wgs84(Crs::Bd09, w);
        assert!(haversine_km(b, ll(116.404, 39.915)) < 0.0005);
    }

    #[test]
    fn wgs84_is_identity() {
        let p = ll(101.6, 36.9);
        assert_eq!(to_wgs84(Crs::Wgs84, p), p);
        assert_eq!(from_wgs84(Crs::Wgs84, p), p);
    }

    #[test]
    fn crs_names() {
        assert_eq!("WGS-84".parse::<Crs>().unwrap(), Crs::Wgs84);
        assert_eq!("wgs84".parse::<Crs>().unwrap(), Crs::Wgs84);
        assert_eq!("GCJ02".parse::<Crs>().unwrap(), Crs::Gcj02);
        assert_eq!("gcj-02".parse::<Crs>().unwrap(), Crs::Gcj02);
        assert_eq!("Bd-09".parse::<Crs>().unwrap(), Crs::Bd09);
        assert_eq!("bd09".parse::<Crs>().unwrap(), Crs::Bd09);
        let e = "utm".parse::<Crs>().unwrap_err();
        assert_eq!(e.key(), "crs-unknown");
        for c in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
            assert_eq!(c.as_str().parse::<Crs>().unwrap(), c);
        }
    }

    #[test]
    fn china_box() {
        assert!(in_china(ll(101.683475, 36.927788)));
        assert!(!in_china(ll(36.927788, 101.683475))); // swapped
        assert!(!in_china(ll(2.35, 48.85))); // Paris
        assert!(!in_china(ll(f64::NAN, 36.0)));
    }

    #[test]
    fn haversine_hand_checks() {
        // One degree of latitude along a meridian: 6371.0088 · π / 180 = 111.19508 km.
        let d = haversine_km(ll(101.0, 36.0), ll(101.0, 37.0));
        assert!((d - 111.195_08).abs() < 1e-4, "{d}");
        // One degree of longitude on the equator: the same.
        let d = haversine_km(ll(0.0, 0.0), ll(1.0, 0.0));
        assert!((d - 111.195_08).abs() < 1e-4, "{d}");
        assert_eq!(haversine_km(ll(101.0, 37.0), ll(101.0, 37.0)), 0.0);
        // Antipodes: half the circumference, π · 6371.0088 = 20015.1144 km.
        let d = haversine_km(ll(0.0, 0.0), ll(180.0, 0.0));
        assert!((d - 20_015.114_4).abs() < 1e-3, "{d}");
    }

    // China's box, less the strips beyond GCJ-02's own edges (lon 135.05, lat 53.55) where
    // GCJ-02 is discontinuous and cannot be inverted to 0.5 m (see `to_wgs84`).
    proptest! {
        #[test]
        fn gcj_wgs_gcj_round_trip(lon in 73.4f64..135.0, lat in 18.1f64..53.5) {
            let g = ll(lon, lat);
            let back = from_wgs84(Crs::Gcj02, to_wgs84(Crs::Gcj02, g));
            prop_assert!(haversine_km(back, g) < 0.0005);
        }

        #[test]
        fn wgs_gcj_wgs_round_trip(lon in 73.4f64..135.0, lat in 18.1f64..53.5) {
            let w = ll(lon, lat);
            let back = to_wgs84(Crs::Gcj02, from_wgs84(Crs::Gcj02, w));
            prop_assert!(haversine_km(back, w) < 0.0005);
        }
    }
}
