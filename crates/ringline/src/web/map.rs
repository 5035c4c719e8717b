//! Server-side SVG maps: the county outline, zones and villages as vector shapes, with no tiles
//! and no scripts, so the map works with no internet. Coordinates are WGS-84 degrees projected
//! equirectangularly around the map's middle latitude (distortion is negligible at county
//! scale); distances in km are drawn at the same scale.

use std::collections::HashMap;
use std::fmt::Write;

use ringline_core::geo::{EARTH_RADIUS_KM, LonLat};
use ringline_core::zone::ZoneGeometry;

/// A zone to draw.
#[derive(Debug, Clone)]
pub struct MapZone<'a> {
    /// Zone id (for the membership map).
    pub id: i64,
    /// Label.
    pub name: &'a str,
    /// Geometry in WGS-84.
    pub geometry: &'a ZoneGeometry,
    /// Fill/stroke colour (`#rrggbb`).
    pub color: &'a str,
}

/// A point to draw (village or town seat).
#[derive(Debug, Clone)]
pub struct MapPoint<'a> {
    /// Division code (links to its page).
    pub code: &'a str,
    /// Name (tooltip).
    pub name: &'a str,
    /// Position in WGS-84.
    pub point: LonLat,
    /// Drawn hollow and dashed when approximate (placed at the town seat).
    pub approximate: bool,
    /// Town seats are drawn as labelled squares.
    pub seat: bool,
}

/// Everything a map shows.
#[derive(Debug, Clone, Default)]
pub struct MapInput<'a> {
    /// County outline rings.
    pub boundary: Vec<Vec<LonLat>>,
    /// Zones.
    pub zones: Vec<MapZone<'a>>,
    /// Villages and seats.
    pub points: Vec<MapPoint<'a>>,
    /// Zone ids of each village code.
    pub membership: HashMap<String, Vec<i64>>,
    /// Tooltip suffix for approximate points (localised).
    pub approximate_label: String,
    /// Accessible title of the map (localised).
    pub title: String,
    /// When set, the map is framed on these points instead of the whole county (shapes outside
    /// are clipped).
    pub frame: Option<Vec<LonLat>>,
}

/// Points framing a zone's geometry with `margin_km` around it.
pub fn zone_frame(g: &ZoneGeometry, margin_km: f64) -> Vec<LonLat> {
    let km_lat = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;
    let pad = |p: LonLat, km: f64| {
        let dlat = km / km_lat;
        let dlon = km / (km_lat * p.lat.to_radians().cos());
        [
            LonLat {
                lon: p.lon - dlon,
                lat: p.lat - dlat,
            },
            LonLat {
                lon: p.lon + dlon,
                lat: p.lat + dlat,
            },
        ]
    };
    match g {
        ZoneGeometry::Ring { centre, outer_km, .. } => pad(*centre, outer_km + margin_km).to_vec(),
        ZoneGeometry::Polygon { ring } => ring.iter().flat_map(|p| pad(*p, margin_km)).collect(),
        ZoneGeometry::Line { path, half_width_km } => {
            path.iter().flat_map(|p| pad(*p, half_width_km + margin_km)).collect()
        }
    }
}

struct Projection {
    min_lon: f64,
    max_lat: f64,
    k: f64,
    cos0: f64,
}

impl Projection {
    fn xy(&self, p: LonLat) -> (f64, f64) {
        (
            (p.lon - self.min_lon) * self.cos0 * self.k,
            (self.max_lat - p.lat) * self.k,
        )
    }

    /// Pixels per km.
    fn px_per_km(&self) -> f64 {
        self.k / (EARTH_RADIUS_KM * std::f64::consts::PI / 180.0)
    }
}

/// Escapes text for SVG/XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Renders the map as an SVG element of the given pixel width.
pub fn render(input: &MapInput, width: f64) -> String {
    let mut pts: Vec<LonLat> = match &input.frame {
        Some(f) => f.clone(),
        None => input.boundary.iter().flatten().copied().collect(),
    };
    if pts.is_empty() {
        pts.extend(input.points.iter().map(|p| p.point));
        for z in &input.zones {
            match z.geometry {
                ZoneGeometry::Ring { centre, .. } => pts.push(*centre),
                ZoneGeometry::Polygon { ring } => pts.extend(ring.iter().copied()),
                ZoneGeometry::Line { path, .. } => pts.extend(path.iter().copied()),
            }
        }
    }
    if pts.is_empty() {
        return String::new();
    }
    let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &pts {
        min_lon = min_lon.min(p.lon);
        max_lon = max_lon.max(p.lon);
        min_lat = min_lat.min(p.lat);
        max_lat = max_lat.max(p.lat);
    }
    let pad_lon = ((max_lon - min_lon) * 0.03).max(0.01);
    let pad_lat = ((max_lat - min_lat) * 0.03).max(0.01);
    min_lon -= pad_lon;
    max_lon += pad_lon;
    min_lat -= pad_lat;
    max_lat += pad_lat;
    let cos0 = ((min_lat + max_lat) / 2.0).to_radians().cos();
    let k = width / ((max_lon - min_lon) * cos0);
    let height = (max_lat - min_lat) * k;
    let proj = Projection {
        min_lon,
        max_lat,
        k,
        cos0,
    };
    let ppk = proj.px_per_km();

    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="{title}"><title>{title}</title>"#,
        title = esc(&input.title)
    );
    for ring in &input.boundary {
        s.push_str(r#"<polygon class="county" points=""#);
        for p in ring {
            let (x, y) = proj.xy(*p);
            let _ = write!(s, "{x:.1},{y:.1} ");
        }
        s.push_str(r#""/>"#);
    }
    for z in &input.zones {
        let _ = write!(
            s,
            r#"<g class="zone" data-zone="{}"><title>{}</title>"#,
            z.id,
            esc(z.name)
        );
        match z.geometry {
            ZoneGeometry::Ring {
                centre,
                inner_km,
                outer_km,
            } => {
                let (cx, cy) = proj.xy(*centre);
                let r = outer_km * ppk;
                let ri = inner_km * ppk;
                let _ = write!(
                    s,
                    r#"<path fill="{c}" fill-opacity="0.18" stroke="{c}" stroke-width="2" fill-rule="evenodd" d="M{x0:.1},{cy:.1}a{r:.1},{r:.1} 0 1,0 {d:.1},0a{r:.1},{r:.1} 0 1,0 -{d:.1},0Z"#,
                    c = z.color,
                    x0 = cx - r,
                    d = 2.0 * r
                );
                if ri > 0.0 {
                    let _ = write!(
                        s,
                        "M{:.1},{cy:.1}a{ri:.1},{ri:.1} 0 1,0 {:.1},0a{ri:.1},{ri:.1} 0 1,0 -{:.1},0Z",
                        cx - ri,
                        2.0 * ri,
                        2.0 * ri
                    );
                }
                s.push_str(r#""/>"#);
                let _ = write!(s, r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3" fill="{}"/>"#, z.color);
            }
            ZoneGeometry::Polygon { ring } => {
                let _ = write!(
                    s,
                    r#"<polygon fill="{c}" fill-opacity="0.18" stroke="{c}" stroke-width="2" points=""#,
                    c = z.color
                );
                for p in ring {
                    let (x, y) = proj.xy(*p);
                    let _ = write!(s, "{x:.1},{y:.1} ");
                }
                s.push_str(r#""/>"#);
            }
            ZoneGeometry::Line { path, half_width_km } => {
                let mut d = String::new();
                for p in path {
                    let (x, y) = proj.xy(*p);
                    let _ = write!(d, "{x:.1},{y:.1} ");
                }
                let _ = write!(
                    s,
                    r#"<polyline fill="none" stroke="{c}" stroke-opacity="0.22" stroke-width="{w:.1}" stroke-linecap="round" stroke-linejoin="round" points="{d}"/><polyline fill="none" stroke="{c}" stroke-width="2" points="{d}"/>"#,
                    c = z.color,
                    w = 2.0 * half_width_km * ppk
                );
            }
        }
        s.push_str("</g>");
    }
    let colour_of: HashMap<i64, &str> = input.zones.iter().map(|z| (z.id, z.color)).collect();
    for p in input.points.iter().filter(|p| !p.seat) {
        let (x, y) = proj.xy(p.point);
        let colour = input
            .membership
            .get(p.code)
            .and_then(|ids| ids.iter().find_map(|id| colour_of.get(id)))
            .copied()
            .unwrap_or("#777777");
        let tip = if p.approximate {
            format!("{} ({}) — {}", p.name, p.code, input.approximate_label)
        } else {
            format!("{} ({})", p.name, p.code)
        };
        let shape = if p.approximate {
            format!(
                r#"<circle class="village approximate" cx="{x:.1}" cy="{y:.1}" r="7" fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="2.5,2">"#
            )
        } else {
            format!(
                r##"<circle class="village" cx="{x:.1}" cy="{y:.1}" r="3.6" fill="{colour}" stroke="#ffffff" stroke-width="0.8">"##
            )
        };
        let _ = write!(
            s,
            r#"<a href="/divisions/{}">{shape}<title>{}</title></circle></a>"#,
            esc(p.code),
            esc(&tip)
        );
    }
    for p in input.points.iter().filter(|p| p.seat) {
        let (x, y) = proj.xy(p.point);
        let _ = write!(
            s,
            r##"<a href="/divisions/{code}"><rect class="seat" x="{:.1}" y="{:.1}" width="6" height="6" fill="#222222"><title>{name}</title></rect><text class="seat-label" x="{:.1}" y="{:.1}" font-size="11">{name}</text></a>"##,
            x - 3.0,
            y - 3.0,
            x + 5.0,
            y - 4.0,
            code = esc(p.code),
            name = esc(p.name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_zones_and_points_with_escaping() {
        let ring = ZoneGeometry::Ring {
            centre: LonLat { lon: 101.0, lat: 37.0 },
            inner_km: 0.0,
            outer_km: 5.0,
        };
        let input = MapInput {
            boundary: vec![vec![
                LonLat { lon: 100.9, lat: 36.9 },
                LonLat { lon: 101.1, lat: 36.9 },
                LonLat { lon: 101.1, lat: 37.1 },
            ]],
            zones: vec![MapZone {
                id: 7,
                name: "一环",
                geometry: &ring,
                color: "#d62728",
            }],
            points: vec![
                MapPoint {
                    code: "630121100202",
                    name: "A<B",
                    point: LonLat { lon: 101.0, lat: 37.0 },
                    approximate: false,
                    seat: false,
                },
                MapPoint {
                    code: "630121100203",
                    name: "C",
                    point: LonLat { lon: 101.05, lat: 37.0 },
                    approximate: true,
                    seat: false,
                },
            ],
            membership: HashMap::from([("630121100202".to_string(), vec![7])]),
            approximate_label: "approximate".into(),
            title: "map".into(),
            frame: None,
        };
        let svg = render(&input, 800.0);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("A&lt;B"), "names are escaped");
        assert!(
            svg.contains(r##"fill="#d62728" stroke="#ffffff""##),
            "member coloured by its zone"
        );
        assert!(
            svg.contains("village approximate"),
            "approximate point drawn differently"
        );
        assert!(svg.contains("C (630121100203) — approximate"));
        // 5 km radius at 800 px over (0.2 + 2 × 0.01 padding) degrees of longitude at the
        // middle latitude 37°: k = 800 / (0.22 · cos 37°) = 4551.7 px per degree;
        // px/km = k / 111.195 = 40.93; r = 5 · 40.93 = 204.7 px.
        let k = 800.0 / (0.22 * (37.0f64).to_radians().cos());
        let r = 5.0 * k / 111.19508;
        assert!(svg.contains(&format!("a{r:.1},{r:.1}")), "radius {r:.1} in {svg}");
    }
}
