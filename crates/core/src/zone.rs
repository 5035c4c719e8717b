//! Zone geometry and membership (SPEC C2).
//!
//! A zone is a *ring* (a centre with inner and outer radius, or a polygon) or a *line*
//! (a polyline with a corridor half-width). Membership of villages and units follows from
//! their points and can be overridden by include and exclude lists; every member carries the
//! reason it is in. All points are WGS-84 degrees, all distances km.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::geo::{EARTH_RADIUS_KM, LonLat, haversine_km, in_china};

/// Largest accepted outer radius of a ring zone, km.
pub const MAX_OUTER_KM: f64 = 500.0;

/// Largest accepted corridor half-width of a line zone, km.
pub const MAX_HALF_WIDTH_KM: f64 = 100.0;

/// Distance, km, within which a point counts as lying on a polygon's boundary (1 mm).
const BOUNDARY_EPS_KM: f64 = 1e-6;

/// Kind of a zone: a ring (一环) or a line (一线).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZoneKind {
    /// An area zone: a centre with radii, or a polygon.
    Ring,
    /// A corridor along a polyline.
    Line,
}

impl ZoneKind {
    /// Stable name: "ring" or "line".
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::Ring => "ring",
            ZoneKind::Line => "line",
        }
    }
}

impl fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ZoneKind {
    type Err = GeometryError;

    /// Parses "ring" or "line" (case-insensitive; also 环 and 线).
    ///
    /// # Errors
    /// [`GeometryError::UnknownKind`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "ring" | "环" => Ok(ZoneKind::Ring),
            "line" | "线" => Ok(ZoneKind::Line),
            _ => Err(GeometryError::UnknownKind { value: t.to_owned() }),
        }
    }
}

/// Why a zone geometry or kind was rejected. Messages are English and say what to fix;
/// [`GeometryError::key`] gives a stable identifier for translation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// A ring radius is NaN or infinite.
    #[error("ring radii must be numbers (inner {inner_km}, outer {outer_km} km)")]
    RadiusNotFinite {
        /// Inner radius, km.
        inner_km: f64,
        /// Outer radius, km.
        outer_km: f64,
    },
    /// Inner radius is negative or not smaller than the outer one.
    #[error("ring radii must satisfy 0 ≤ inner < outer (got inner {inner_km} km, outer {outer_km} km)")]
    Radii {
        /// Inner radius, km.
        inner_km: f64,
        /// Outer radius, km.
        outer_km: f64,
    },
    /// Outer radius exceeds [`MAX_OUTER_KM`].
    #[error("ring outer radius {outer_km} km is larger than the 500 km allowed")]
    OuterTooLarge {
        /// Outer radius, km.
        outer_km: f64,
    },
    /// A polygon has fewer than three distinct points.
    #[error("a polygon needs at least 3 distinct points (got {distinct})")]
    PolygonTooFewPoints {
        /// Number of distinct points given.
        distinct: usize,
    },
    /// A line has fewer than two points.
    #[error("a line needs at least 2 points (got {count})")]
    LineTooFewPoints {
        /// Number of points given.
        count: usize,
    },
    /// Corridor half-width not in (0, [`MAX_HALF_WIDTH_KM`]].
    #[error("line half-width must be more than 0 and at most 100 km (got {half_width_km} km)")]
    HalfWidth {
        /// Half-width given, km.
        half_width_km: f64,
    },
    /// A point has a NaN or infinite coordinate.
    #[error("point {index} (0 = first, or a ring's centre) has a coordinate that is not a number")]
    PointNotFinite {
        /// Position of the point in the path or ring (0 for a ring's centre).
        index: usize,
    },
    /// A point lies outside China's plausibility box ([`in_china`]).
    #[error("point {index} (lon {lon}, lat {lat}) is outside China; check for swapped or mistyped coordinates")]
    PointOutsideChina {
        /// Position of the point in the path or ring (0 for a ring's centre).
        index: usize,
        /// Longitude, degrees.
        lon: f64,
        /// Latitude, degrees.
        lat: f64,
    },
    /// A zone kind name was not recognised.
    #[error("unknown zone kind {value:?}; use ring or line")]
    UnknownKind {
        /// The input after trimming.
        value: String,
    },
}

impl GeometryError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            GeometryError::RadiusNotFinite { .. } => "geometry-radius-not-finite",
            GeometryError::Radii { .. } => "geometry-radii",
            GeometryError::OuterTooLarge { .. } => "geometry-outer-too-large",
            GeometryError::PolygonTooFewPoints { .. } => "geometry-polygon-too-few-points",
            GeometryError::LineTooFewPoints { .. } => "geometry-line-too-few-points",
            GeometryError::HalfWidth { .. } => "geometry-half-width",
            GeometryError::PointNotFinite { .. } => "geometry-point-not-finite",
            GeometryError::PointOutsideChina { .. } => "geometry-point-outside-china",
            GeometryError::UnknownKind { .. } => "zone-kind-unknown",
        }
    }
}

/// The geometry of a zone. Points are WGS-84 degrees, lengths km.
///
/// Serialised with a `type` tag: `{"type":"ring","centre":{…},"inner_km":0,"outer_km":7}`,
/// `{"type":"polygon","ring":[…]}`, `{"type":"line","path":[…],"half_width_km":2}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ZoneGeometry {
    /// Annulus (or disc when `inner_km` is 0) around a centre.
    Ring {
        /// Centre point.
        centre: LonLat,
        /// Inner radius, km (0 for a disc).
        inner_km: f64,
        /// Outer radius, km.
        outer_km: f64,
    },
    /// Polygon given by its outer ring; closing it (last point = first) is optional.
    Polygon {
        /// Vertices in order.
        ring: Vec<LonLat>,
    },
    /// Corridor of `half_width_km` on each side of a polyline.
    Line {
        /// Vertices of the polyline in order.
        path: Vec<LonLat>,
        /// Corridor half-width, km.
        half_width_km: f64,
    },
}

/// Local equirectangular projection centred on `origin`: returns (x, y) in km of `q`, with
/// x = Δlon·cos(lat₀)·R·π/180 and y = Δlat·R·π/180 ([`EARTH_RADIUS_KM`]).
///
/// At county scale the error is negligible (< 0.1 % within 100 km of the origin).
fn project(origin: LonLat, q: LonLat) -> (f64, f64) {
    let k = EARTH_RADIUS_KM.to_radians();
    let mut dlon = q.lon - origin.lon;
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    (dlon * origin.lat.to_radians().cos() * k, (q.lat - origin.lat) * k)
}

/// Distance in the plane from the origin to segment a–b.
fn origin_to_segment(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (a.0 + t * dx).hypot(a.1 + t * dy)
}

/// Shortest distance, km, from `p` to the chain of segments through `points`
/// (closed back to the first point when `closed`); infinity when `points` is empty.
fn distance_to_chain(p: LonLat, points: &[LonLat], closed: bool) -> f64 {
    let projected: Vec<(f64, f64)> = points.iter().map(|&q| project(p, q)).collect();
    match projected.as_slice() {
        [] => f64::INFINITY,
        [only] => only.0.hypot(only.1),
        _ => {
            let open = projected.windows(2).map(|w| origin_to_segment(w[0], w[1]));
            let closing = match (closed, projected.first(), projected.last()) {
                (true, Some(&first), Some(&last)) => Some(origin_to_segment(last, first)),
                _ => None,
            };
            open.chain(closing).fold(f64::INFINITY, f64::min)
        }
    }
}

/// Even-odd point-in-polygon test in the local projection centred on `p` (the point is the
/// origin); the boundary counts as inside.
fn polygon_contains(ring: &[LonLat], p: LonLat) -> bool {
    if ring.len() < 3 {
        return false;
    }
    if distance_to_chain(p, ring, true) <= BOUNDARY_EPS_KM {
        return true;
    }
    let projected: Vec<(f64, f64)> = ring.iter().map(|&q| project(p, q)).collect();
    let mut inside = false;
    let mut j = projected.len() - 1;
    for i in 0..projected.len() {
        let (xi, yi) = projected[i];
        let (xj, yj) = projected[j];
        // Does edge j–i cross the ray from the origin towards +x?
        if (yi > 0.0) != (yj > 0.0) {
            let x_cross = xi + (0.0 - yi) * (xj - xi) / (yj - yi);
            if x_cross > 0.0 {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Checks a point is finite and plausible.
fn check_point(index: usize, p: LonLat) -> Result<(), GeometryError> {
    if !p.is_finite() {
        return Err(GeometryError::PointNotFinite { index });
    }
    if !in_china(p) {
        return Err(GeometryError::PointOutsideChina {
            index,
            lon: p.lon,
            lat: p.lat,
        });
    }
    Ok(())
}

impl ZoneGeometry {
    /// The zone kind this geometry belongs to: [`ZoneKind::Ring`] for a ring or a polygon,
    /// [`ZoneKind::Line`] for a line.
    pub fn kind(&self) -> ZoneKind {
        match self {
            ZoneGeometry::Ring { .. } | ZoneGeometry::Polygon { .. } => ZoneKind::Ring,
            ZoneGeometry::Line { .. } => ZoneKind::Line,
        }
    }

    /// Validates the geometry.
    ///
    /// # Errors
    /// - ring: [`GeometryError::RadiusNotFinite`], [`GeometryError::Radii`] unless
    ///   0 ≤ inner < outer, [`GeometryError::OuterTooLarge`] above [`MAX_OUTER_KM`];
    /// - polygon: [`GeometryError::PolygonTooFewPoints`] below 3 distinct points;
    /// - line: [`GeometryError::LineTooFewPoints`] below 2 points, [`GeometryError::HalfWidth`]
    ///   unless 0 < half-width ≤ [`MAX_HALF_WIDTH_KM`];
    /// - any point: [`GeometryError::PointNotFinite`], [`GeometryError::PointOutsideChina`].
    pub fn validate(&self) -> Result<(), GeometryError> {
        match self {
            ZoneGeometry::Ring {
                centre,
                inner_km,
                outer_km,
            } => {
                let (inner_km, outer_km) = (*inner_km, *outer_km);
                if !inner_km.is_finite() || !outer_km.is_finite() {
                    return Err(GeometryError::RadiusNotFinite { inner_km, outer_km });
                }
                if inner_km < 0.0 || inner_km >= outer_km {
                    return Err(GeometryError::Radii { inner_km, outer_km });
                }
                if outer_km > MAX_OUTER_KM {
                    return Err(GeometryError::OuterTooLarge { outer_km });
                }
                check_point(0, *centre)
            }
            ZoneGeometry::Polygon { ring } => {
                for (i, p) in ring.iter().enumerate() {
                    check_point(i, *p)?;
                }
                let mut keys: Vec<(u64, u64)> = ring.iter().map(|p| (p.lon.to_bits(), p.lat.to_bits())).collect();
                keys.sort_unstable();
                keys.dedup();
                if keys.len() < 3 {
                    return Err(GeometryError::PolygonTooFewPoints { distinct: keys.len() });
                }
                Ok(())
            }
            ZoneGeometry::Line { path, half_width_km } => {
                if path.len() < 2 {
                    return Err(GeometryError::LineTooFewPoints { count: path.len() });
                }
                let w = *half_width_km;
                if !(w > 0.0 && w <= MAX_HALF_WIDTH_KM) {
                    return Err(GeometryError::HalfWidth { half_width_km: w });
                }
                for (i, p) in path.iter().enumerate() {
                    check_point(i, *p)?;
                }
                Ok(())
            }
        }
    }

    /// Distance, km, from `p` to the geometry.
    ///
    /// - ring: haversine distance to the centre;
    /// - line: shortest distance to the polyline, computed in a local equirectangular
    ///   projection centred on `p` (x = Δlon·cos(lat_p)·R·π/180, y = Δlat·R·π/180,
    ///   R = [`EARTH_RADIUS_KM`]); the error is negligible at county scale (< 0.1 % within
    ///   100 km);
    /// - polygon: 0 inside (boundary included), else the distance to the nearest edge in the
    ///   same projection.
    ///
    /// An empty path or ring gives infinity.
    pub fn distance_km(&self, p: LonLat) -> f64 {
        match self {
            ZoneGeometry::Ring { centre, .. } => haversine_km(*centre, p),
            ZoneGeometry::Line { path, .. } => distance_to_chain(p, path, false),
            ZoneGeometry::Polygon { ring } => {
                if polygon_contains(ring, p) {
                    0.0
                } else {
                    distance_to_chain(p, ring, true)
                }
            }
        }
    }

    /// True when `p` belongs to the geometry: ring, inner_km ≤ distance ≤ outer_km; polygon,
    /// inside by the even-odd rule (boundary counts as inside); line, distance ≤ half_width_km.
    pub fn contains(&self, p: LonLat) -> bool {
        match self {
            ZoneGeometry::Ring { inner_km, outer_km, .. } => {
                let d = self.distance_km(p);
                *inner_km <= d && d <= *outer_km
            }
            ZoneGeometry::Polygon { ring } => polygon_contains(ring, p),
            ZoneGeometry::Line { half_width_km, .. } => self.distance_km(p) <= *half_width_km,
        }
    }
}

/// A village or unit considered for membership of a zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate<'a> {
    /// Its code (a division code for villages, an identifier for units).
    pub code: &'a str,
    /// Its point, WGS-84 degrees, if known.
    pub point: Option<LonLat>,
    /// True when the point is borrowed (e.g. the town seat's for a village without its own).
    pub approximate: bool,
}

/// Why a candidate is a member of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberReason {
    /// Its own point lies inside the geometry.
    #[serde(rename = "geometry")]
    Geometry,
    /// Its approximate (borrowed) point lies inside the geometry.
    #[serde(rename = "geometry_approximate")]
    GeometryApproximate,
    /// It is on the zone's include list (and not inside the geometry).
    #[serde(rename = "include_list")]
    Included,
}

impl MemberReason {
    /// Stable name: "geometry", "geometry_approximate" or "include_list".
    pub fn as_str(self) -> &'static str {
        match self {
            MemberReason::Geometry => "geometry",
            MemberReason::GeometryApproximate => "geometry_approximate",
            MemberReason::Included => "include_list",
        }
    }
}

/// A member of a zone, with the reason it is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The candidate's code.
    pub code: String,
    /// Why it is a member.
    pub reason: MemberReason,
    /// Its distance to the geometry, km ([`ZoneGeometry::distance_km`]), whenever it has a
    /// point.
    pub distance_km: Option<f64>,
}

/// Computes the members of a zone (SPEC C2).
///
/// A candidate is a member when its point is inside `geometry` (reason
/// [`MemberReason::Geometry`], or [`MemberReason::GeometryApproximate`] when its point is
/// approximate), or else when its code is in `include` (reason [`MemberReason::Included`],
/// even without a point). A code in `exclude` is never a member, whatever else holds. Only
/// candidates are considered: an included code that is not a candidate is ignored. The
/// result is sorted by code; a code given twice among the candidates appears once (the
/// first candidate wins).
pub fn members(
    geometry: &ZoneGeometry,
    candidates: &[Candidate<'_>],
    include: &[&str],
    exclude: &[&str],
) -> Vec<Member> {
    let mut out: Vec<Member> = Vec::new();
    for c in candidates {
        if exclude.contains(&c.code) {
            continue;
        }
        let distance_km = c.point.map(|p| geometry.distance_km(p));
        let inside = c.point.is_some_and(|p| geometry.contains(p));
        let reason = if inside {
            if c.approximate {
                MemberReason::GeometryApproximate
            } else {
                MemberReason::Geometry
            }
        } else if include.contains(&c.code) {
            MemberReason::Included
        } else {
            continue;
        };
        out.push(Member {
            code: c.code.to_owned(),
            reason,
            distance_km,
        });
    }
    // Stable sort keeps the first of duplicate codes first; dedup then drops the rest.
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out.dedup_by(|later, earlier| later.code == earlier.code);
    out
}

/// A code that is a member of more than one zone of a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    /// The member's code.
    pub code: String,
    /// Ids of the zones it belongs to, ascending, each once.
    pub zones: Vec<i64>,
}

/// Lists every code that is a member of two or more zones (SPEC C2's data-integrity warning).
///
/// `memberships` holds (zone id, member codes) pairs. The result is sorted by code.
pub fn overlaps(memberships: &[(i64, Vec<String>)]) -> Vec<Overlap> {
    let mut by_code: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (zone, codes) in memberships {
        for code in codes {
            by_code.entry(code.as_str()).or_default().push(*zone);
        }
    }
    by_code
        .into_iter()
        .filter_map(|(code, mut zones)| {
            zones.sort_unstable();
            zones.dedup();
            (zones.len() >= 2).then(|| Overlap {
                code: code.to_owned(),
                zones,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::geo::{Crs, to_wgs84};

    fn ll(lon: f64, lat: f64) -> LonLat {
        LonLat { lon, lat }
    }

    /// km per degree of latitude: 6371.0088 · π / 180.
    const KM_PER_DEG: f64 = 111.195_08;

    fn disc(centre: LonLat, outer_km: f64) -> ZoneGeometry {
        ZoneGeometry::Ring {
            centre,
            inner_km: 0.0,
            outer_km,
        }
    }

    fn square() -> ZoneGeometry {
        ZoneGeometry::Polygon {
            ring: vec![ll(101.0, 37.0), ll(101.1, 37.0), ll(101.1, 37.1), ll(101.0, 37.1)],
        }
    }

    fn line() -> ZoneGeometry {
        ZoneGeometry::Line {
            path: vec![ll(101.0, 37.0), ll(101.1, 37.0)],
            half_width_km: 2.0,
        }
    }

    #[test]
    fn ring_distance_along_meridian() {
        // 0.05° of latitude: 0.05 · 111.19508 = 5.55975 km.
        let g = disc(ll(101.0, 37.0), 7.0);
        let d = g.distance_km(ll(101.0, 37.05));
        assert!((d - 0.05 * KM_PER_DEG).abs() < 1e-4, "{d}");
        assert!(g.contains(ll(101.0, 37.05)));
        // 0.07° = 7.7837 km: outside a 7 km disc.
        assert!(!g.contains(ll(101.0, 37.07)));
    }

    #[test]
    fn ring_inner_radius_excludes_near_points() {
        let g = ZoneGeometry::Ring {
            centre: ll(101.0, 37.0),
            inner_km: 3.0,
            outer_km: 7.0,
        };
        // 0.01° = 1.112 km < 3 km: in the hole.
        assert!(!g.contains(ll(101.0, 37.01)));
        // 5.560 km: in the annulus.
        assert!(g.contains(ll(101.0, 37.05)));
        assert!(!g.contains(ll(101.0, 37.0)));
    }

    #[test]
    fn line_distance_perpendicular() {
        // The path runs along lat 37.0 from lon 101.0 to 101.1; the foot of the perpendicular
        // from (101.05, 37.01) is (101.05, 37.0): 0.01 · 111.19508 = 1.11195 km.
        let g = line();
        let d = g.distance_km(ll(101.05, 37.01));
        assert!((d - 1.111_95).abs() < 1e-4, "{d}");
        assert!(g.contains(ll(101.05, 37.01)));
        // 0.02° = 2.2239 km > 2 km half-width.
        assert!(!g.contains(ll(101.05, 37.02)));
        assert_eq!(g.kind(), ZoneKind::Line);
    }

    #[test]
    fn line_distance_beyond_end_measures_to_endpoint() {
        // (101.2, 37.0) lies 0.1° of longitude east of the end (101.1, 37.0):
        // 0.1 · cos(37°) · 111.19508 = 0.1 · 0.7986355 · 111.19508 = 8.88043 km.
        let g = line();
        let d = g.distance_km(ll(101.2, 37.0));
        assert!((d - 8.880_43).abs() < 1e-4, "{d}");
        // (101.11, 37.01), diagonally beyond the end (101.1, 37.0): Δy = 0.01 · 111.19508 = 1.11195 km,
        // Δx = 0.01 · cos(37.01°) · 111.19508 = 0.88794 km → √(1.11195² + 0.88794²) = 1.42296 km.
        let d = g.distance_km(ll(101.11, 37.01));
        assert!((d - 1.422_96).abs() < 1e-3, "{d}");
        // the haversine distance to the endpoint agrees to well under 0.1 %
        let h = haversine_km(ll(101.11, 37.01), ll(101.1, 37.0));
        assert!((d - h).abs() / h < 1e-3);
    }

    #[test]
    fn polygon_square() {
        let g = square();
        assert_eq!(g.kind(), ZoneKind::Ring);
        assert!(g.contains(ll(101.05, 37.05)));
        assert_eq!(g.distance_km(ll(101.05, 37.05)), 0.0);
        // on an edge and on a vertex: inside
        assert!(g.contains(ll(101.1, 37.05)));
        assert!(g.contains(ll(101.0, 37.0)));
        assert!(!g.contains(ll(101.2, 37.05)));
        assert!(!g.contains(ll(101.05, 37.2)));
        // (101.2, 37.05) to the east edge lon 101.1: 0.1 · cos(37.05°) · 111.19508
        // = 0.1 · 0.7981104 · 111.19508 = 8.87459 km
        let d = g.distance_km(ll(101.2, 37.05));
        assert!((d - 8.874_59).abs() < 1e-4, "{d}");
        // (101.05, 37.2) to the north edge lat 37.1: 0.1 · 111.19508 = 11.11951 km
        let d = g.distance_km(ll(101.05, 37.2));
        assert!((d - 11.119_51).abs() < 1e-4, "{d}");
        // closing the ring explicitly changes nothing
        let closed = ZoneGeometry::Polygon {
            ring: vec![
                ll(101.0, 37.0),
                ll(101.1, 37.0),
                ll(101.1, 37.1),
                ll(101.0, 37.1),
                ll(101.0, 37.0),
            ],
        };
        assert!(closed.contains(ll(101.05, 37.05)));
        assert!(!closed.contains(ll(101.2, 37.05)));
    }

    #[test]
    fn polygon_concave() {
        // An L shape: the notch (101.075, 37.075) is outside.
        let g = ZoneGeometry::Polygon {
            ring: vec![
                ll(101.0, 37.0),
                ll(101.1, 37.0),
                ll(101.1, 37.05),
                ll(101.05, 37.05),
                ll(101.05, 37.1),
                ll(101.0, 37.1),
            ],
        };
        assert!(g.contains(ll(101.025, 37.075)));
        assert!(g.contains(ll(101.075, 37.025)));
        assert!(!g.contains(ll(101.075, 37.075)));
    }

    #[test]
    fn validation() {
        assert!(disc(ll(101.0, 37.0), 7.0).validate().is_ok());
        assert!(square().validate().is_ok());
        assert!(line().validate().is_ok());
        let bad = |g: ZoneGeometry| g.validate().unwrap_err().key();
        assert_eq!(
            bad(ZoneGeometry::Ring {
                centre: ll(101.0, 37.0),
                inner_km: 7.0,
                outer_km: 7.0
            }),
            "geometry-radii"
        );
        assert_eq!(
            bad(ZoneGeometry::Ring {
                centre: ll(101.0, 37.0),
                inner_km: -1.0,
                outer_km: 7.0
            }),
            "geometry-radii"
        );
        assert_eq!(bad(disc(ll(101.0, 37.0), f64::NAN)), "geometry-radius-not-finite");
        assert_eq!(bad(disc(ll(101.0, 37.0), 501.0)), "geometry-outer-too-large");
        assert_eq!(bad(disc(ll(37.0, 101.0), 7.0)), "geometry-point-outside-china");
        assert_eq!(bad(disc(ll(f64::INFINITY, 37.0), 7.0)), "geometry-point-not-finite");
        assert_eq!(
            bad(ZoneGeometry::Polygon {
                ring: vec![ll(101.0, 37.0), ll(101.1, 37.0), ll(101.0, 37.0)]
            }),
            "geometry-polygon-too-few-points"
        );
        assert_eq!(
            bad(ZoneGeometry::Line {
                path: vec![ll(101.0, 37.0)],
                half_width_km: 2.0
            }),
            "geometry-line-too-few-points"
        );
        for w in [0.0, -1.0, 100.5, f64::NAN] {
            assert_eq!(
                bad(ZoneGeometry::Line {
                    path: vec![ll(101.0, 37.0), ll(101.1, 37.0)],
                    half_width_km: w
                }),
                "geometry-half-width"
            );
        }
        let e = ZoneGeometry::Line {
            path: vec![ll(101.0, 37.0), ll(101.1, f64::NAN)],
            half_width_km: 2.0,
        }
        .validate()
        .unwrap_err();
        assert_eq!(e, GeometryError::PointNotFinite { index: 1 });
    }

    #[test]
    fn kinds() {
        assert_eq!("Ring".parse::<ZoneKind>().unwrap(), ZoneKind::Ring);
        assert_eq!("line".parse::<ZoneKind>().unwrap(), ZoneKind::Line);
        assert_eq!("belt".parse::<ZoneKind>().unwrap_err().key(), "zone-kind-unknown");
        assert_eq!(ZoneKind::Line.as_str(), "line");
        assert_eq!(MemberReason::Included.as_str(), "include_list");
        assert_eq!(MemberReason::GeometryApproximate.as_str(), "geometry_approximate");
    }

    #[test]
    fn membership_reasons_and_overrides() {
        let g = disc(ll(101.0, 37.0), 7.0);
        let candidates = [
            // 5.560 km away, own point
            Candidate {
                code: "c",
                point: Some(ll(101.0, 37.05)),
                approximate: false,
            },
            // 1.112 km away, borrowed point
            Candidate {
                code: "a",
                point: Some(ll(101.0, 37.01)),
                approximate: true,
            },
            // 11.12 km away, included
            Candidate {
                code: "b",
                point: Some(ll(101.0, 37.1)),
                approximate: false,
            },
            // no point, included
            Candidate {
                code: "d",
                point: None,
                approximate: false,
            },
            // inside but excluded
            Candidate {
                code: "e",
                point: Some(ll(101.0, 37.0)),
                approximate: false,
            },
            // no point, not included
            Candidate {
                code: "f",
                point: None,
                approximate: false,
            },
            // outside, not included
            Candidate {
                code: "g",
                point: Some(ll(102.0, 37.0)),
                approximate: false,
            },
            // included and excluded: exclude wins
            Candidate {
                code: "h",
                point: None,
                approximate: false,
            },
        ];
        let m = members(&g, &candidates, &["b", "d", "h", "zz"], &["e", "h"]);
        let codes: Vec<&str> = m.iter().map(|m| m.code.as_str()).collect();
        assert_eq!(codes, ["a", "b", "c", "d"]);
        assert_eq!(m[0].reason, MemberReason::GeometryApproximate);
        assert!((m[0].distance_km.unwrap() - 1.111_95).abs() < 1e-4);
        assert_eq!(m[1].reason, MemberReason::Included);
        assert!((m[1].distance_km.unwrap() - 11.119_51).abs() < 1e-4);
        assert_eq!(m[2].reason, MemberReason::Geometry);
        assert!((m[2].distance_km.unwrap() - 5.559_75).abs() < 1e-4);
        assert_eq!(m[3].reason, MemberReason::Included);
        assert_eq!(m[3].distance_km, None);
    }

    #[test]
    fn overlap_report() {
        let memberships = vec![
            (1, vec!["v2".to_owned(), "v1".to_owned()]),
            (2, vec!["v3".to_owned(), "v2".to_owned()]),
            (3, vec!["v2".to_owned(), "v3".to_owned(), "v2".to_owned()]),
            (4, vec!["v4".to_owned()]),
        ];
        assert_eq!(
            overlaps(&memberships),
            vec![
                Overlap {
                    code: "v2".into(),
                    zones: vec![1, 2, 3]
                },
                Overlap {
                    code: "v3".into(),
                    zones: vec![2, 3]
                },
            ]
        );
        assert!(overlaps(&[]).is_empty());
    }

    /// The Datong ring (SPEC §3): a 7 km disc round 桥头镇's seat. Town seats are the
    /// GCJ-02 points of /work/shared/data/datong/divisions.csv, converted to WGS-84.
    ///
    /// Expected haversine distances from 桥头镇's seat, computed by hand with the haversine
    /// formula (R = 6371.0088 km) from the WGS-84 points; the GCJ-02 offset is nearly the same
    /// for all four seats, so distances between the raw GCJ-02 points differ by < 15 m
    /// (6.782, 6.128, 8.574, 8.941 km):
    /// 良教乡 6.781 km and 朔北藏族乡 6.116 km are inside 7 km;
    /// 塔尔镇 8.573 km and 黄家寨镇 8.940 km are outside.
    #[test]
    fn datong_ring() {
        let seat = |lon, lat| to_wgs84(Crs::Gcj02, ll(lon, lat));
        let qiaotou = seat(101.683475, 36.927788);
        let g = disc(qiaotou, 7.0);
        assert!(g.validate().is_ok());
        let cases = [
            ("良教乡", seat(101.635769, 36.975396), 6.781, true),
            ("朔北藏族乡", seat(101.733, 36.96614), 6.116, true),
            ("塔尔镇", seat(101.640817, 36.996951), 8.573, false),
            ("黄家寨镇", seat(101.736475, 36.859454), 8.940, false),
        ];
        for (name, p, expected_km, inside) in cases {
            let d = g.distance_km(p);
            assert!((d - expected_km).abs() < 0.002, "{name} at {d} km");
            assert_eq!(g.contains(p), inside, "{name} at {d} km");
        }
    }
}
