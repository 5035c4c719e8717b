//! HTML pages: login, program (map + zones), zone (members with reasons), division tree and
//! division page. Pages never run scripts; maps are inline SVG.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use ringline_core::division::Level;
use ringline_core::geo::LonLat;
use ringline_core::zone::ZoneGeometry;
use serde::Deserialize;

use super::map::{MapInput, MapPoint, MapZone, render};
use super::{
    AppError, AppState, ClientIp, Guard, LANG_COOKIE, PageLang, PageUser, Route, admin, clear_session_cookie, route,
    session_cookie,
};
use crate::access::{Access, Permission};
use crate::auth::{self, SessionUser};
use crate::divisions::{self, Division, ListFilter};
use crate::i18n::{Lang, Tr};
use crate::zones::{self, Program, Zone, ZoneMember};

/// Zone colours by display position.
pub const ZONE_COLOURS: [&str; 8] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
];

/// Page routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm, Public};
    use Method as M;
    vec![
        route(M::GET, "/", Login, get(home)),
        route(M::GET, "/login", Public, get(login_form)),
        route(M::POST, "/login", Public, post(login_submit)),
        route(M::POST, "/logout", Login, post(logout)),
        route(M::GET, "/lang/{code}", Public, get(set_lang)),
        route(M::GET, "/static/style.css", Public, get(style_css)),
        route(M::GET, "/static/forms.js", Public, get(forms_js)),
        route(M::GET, "/programs/{id}", Login, get(program_page)),
        route(M::GET, "/zones/{id}", Login, get(zone_page)),
        route(M::GET, "/divisions", Login, get(divisions_page)),
        route(M::GET, "/divisions/{code}", Login, get(division_page)),
        route(M::GET, "/divisions.xlsx", Login, get(super::export::divisions_xlsx)),
        route(
            M::GET,
            "/zones/{id}/members.xlsx",
            Login,
            get(super::export::zone_members_xlsx),
        ),
        route(M::GET, "/account/password", Login, get(admin::password_form)),
        route(M::POST, "/account/password", Login, post(admin::password_change)),
        route(
            M::GET,
            "/admin/users",
            Perm(Permission::ManageUsers),
            get(admin::users_page),
        ),
        route(
            M::POST,
            "/admin/users",
            Perm(Permission::ManageUsers),
            post(admin::users_create),
        ),
        route(
            M::GET,
            "/admin/users/{id}",
            Perm(Permission::ManageUsers),
            get(admin::user_page),
        ),
        route(
            M::POST,
            "/admin/users/{id}",
            Perm(Permission::ManageUsers),
            post(admin::user_update),
        ),
        route(
            M::POST,
            "/admin/users/{id}/disable",
            Perm(Permission::ManageUsers),
            post(admin::user_disable),
        ),
        route(
            M::POST,
            "/admin/users/{id}/enable",
            Perm(Permission::ManageUsers),
            post(admin::user_enable),
        ),
        route(
            M::POST,
            "/admin/users/{id}/password",
            Perm(Permission::ManageUsers),
            post(admin::user_password),
        ),
        route(
            M::POST,
            "/admin/users/{id}/unmask",
            // Only user managers reach user pages; `users::unmask_phone` also checks Unmask.
            Perm(Permission::ManageUsers),
            post(admin::user_unmask),
        ),
        route(M::GET, "/audit", Perm(Permission::ReadAudit), get(admin::audit_page)),
        route(
            M::GET,
            "/audit.xlsx",
            Perm(Permission::ReadAudit),
            get(admin::audit_xlsx),
        ),
    ]
}

/// What every page's frame needs.
pub struct Chrome {
    /// Translator.
    pub t: Tr,
    /// Logged-in user.
    pub user: Option<SessionUser>,
    /// Current path (the language switch returns here).
    pub path: String,
}

impl Chrome {
    /// The frame for a logged-in page.
    pub fn of(u: &PageUser) -> Chrome {
        Chrome {
            t: u.t,
            user: Some(u.user.clone()),
            path: u.path.clone(),
        }
    }

    /// CSRF token for forms.
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map(|u| u.csrf_token.as_str()).unwrap_or("")
    }

    /// Label of the other language.
    pub fn other_lang_label(&self) -> &'static str {
        match self.t.lang() {
            Lang::Zh => "English",
            Lang::En => "中文",
        }
    }

    /// The user's role in words.
    pub fn role_label(&self) -> String {
        self.user
            .as_ref()
            .map(|u| self.t.get(&format!("role-{}", u.role)))
            .unwrap_or_default()
    }

    /// The text of key `<prefix>-<value>` in the page language, or `value` itself when there is
    /// no such key (values from the data that have no translation).
    pub fn label(&self, prefix: &str, value: &str) -> String {
        self.t.label(prefix, value)
    }

    /// A role's name in the page language.
    pub fn role_name(&self, role: &str) -> String {
        self.t.get(&format!("role-{role}"))
    }

    /// Whether the user may manage users (shows the admin link).
    pub fn can_manage_users(&self) -> bool {
        self.perm(Permission::ManageUsers)
    }

    /// Whether the user may change zones and import divisions.
    pub fn can_configure(&self) -> bool {
        self.perm(Permission::Configure)
    }

    /// Whether the user may import registry records (shows the import link).
    pub fn can_import(&self) -> bool {
        self.perm(Permission::Import)
    }

    /// Whether the user may read the audit log.
    pub fn can_read_audit(&self) -> bool {
        self.perm(Permission::ReadAudit)
    }

    fn perm(&self, p: Permission) -> bool {
        self.user
            .as_ref()
            .and_then(|u| auth::Role::parse(&u.role))
            .is_some_and(|r| r.can(p))
    }

    /// Code of the other language.
    pub fn other_lang(&self) -> &'static str {
        self.t.lang().other().code()
    }
}

/// Renders a template as an HTML response.
pub fn html<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => AppError::Internal(e.to_string()).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    status: u16,
    message: String,
}

/// An error as an HTML page in the user's language.
pub fn error_page(t: Tr, e: AppError) -> Response {
    if let AppError::Internal(cause) = &e {
        tracing::error!(error = %cause, "internal error");
    }
    let status = e.status();
    let message = e.message(t);
    let page = ErrorPage {
        c: Chrome {
            t,
            user: None,
            path: "/".into(),
        },
        status: status.as_u16(),
        message: message.clone(),
    };
    let mut response = (status, html(&page)).into_response();
    response.extensions_mut().insert(ErrorShown { message });
    response
}

/// The message of an error page rendered by [`error_page`], kept on the response so the login
/// guard can render it again in the caller's frame ([`error_page_for`]).
#[derive(Debug, Clone)]
pub struct ErrorShown {
    /// The message, in the page language.
    pub message: String,
}

/// An error page in the frame of a logged-in caller (navigation, language switch, account).
pub fn error_page_for(u: &PageUser, status: StatusCode, shown: ErrorShown) -> Response {
    // The language switch leads home: the path of a record that does not exist (or is outside
    // the scope) is not repeated, so both answers are the same page.
    let page = ErrorPage {
        c: Chrome {
            path: "/".into(),
            ..Chrome::of(u)
        },
        status: status.as_u16(),
        message: shown.message,
    };
    (status, html(&page)).into_response()
}

async fn style_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
}

async fn forms_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/forms.js"),
    )
}

async fn home(State(state): State<AppState>, u: PageUser) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| zones::programs(c, &access)).await {
        Ok(ps) => match ps.first() {
            Some(p) => Redirect::to(&format!("/programs/{}", p.id)).into_response(),
            None => Redirect::to("/divisions").into_response(),
        },
        Err(e) => error_page(u.t, e.into()),
    }
}

async fn set_lang(Path(code): Path<String>, Query(q): Query<HashMap<String, String>>, jar: CookieJar) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Zh);
    let back = safe_next(q.get("next").map(String::as_str));
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .permanent()
        .build();
    (jar.add(cookie), Redirect::to(&back)).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    username: String,
    error: Option<String>,
    notice: Option<String>,
    login_csrf: String,
}

/// Cookie holding the login form's double-submit CSRF token.
const LOGIN_CSRF_COOKIE: &str = "ringline_login_csrf";

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    changed: Option<String>,
}

/// A local path to return to after login or a language switch: it must start with a single
/// `/`, and may hold no backslash or control character (browsers read `/\host` and `/<TAB>/host`
/// as `//host`, another site). Anything else becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control() || c.is_whitespace())
    })
    .map(|n| {
        // Non-ASCII characters are percent-encoded so the Location header is valid ASCII.
        let mut out = String::with_capacity(n.len());
        for ch in n.chars() {
            if ch.is_ascii() {
                out.push(ch);
            } else {
                let mut buf = [0u8; 4];
                for b in ch.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
        out
    })
    .unwrap_or_else(|| "/".to_string())
}

fn new_login_csrf(jar: CookieJar) -> (CookieJar, String) {
    let token = auth::random_password() + &auth::random_password();
    let cookie = Cookie::build((LOGIN_CSRF_COOKIE, token.clone()))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    (jar.add(cookie), token)
}

async fn login_form(PageLang(t): PageLang, Query(q): Query<NextQuery>, jar: CookieJar) -> Response {
    let (jar, login_csrf) = new_login_csrf(jar);
    let page = LoginPage {
        c: Chrome {
            t,
            user: None,
            path: "/login".into(),
        },
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
        notice: q.changed.map(|_| t.get("login-password-changed")),
        login_csrf,
    };
    (jar, html(&page)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    csrf_token: String,
}

async fn login_submit(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Response {
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string());
    let next = safe_next(f.next.as_deref());
    let again = |jar: CookieJar, username: String, status: StatusCode, error: String| {
        let (jar, login_csrf) = new_login_csrf(jar);
        let page = LoginPage {
            c: Chrome {
                t,
                user: None,
                path: "/login".into(),
            },
            next: next.clone(),
            username,
            error: Some(error),
            notice: None,
            login_csrf,
        };
        (status, jar, html(&page)).into_response()
    };
    if expected.as_deref() != Some(f.csrf_token.as_str()) || f.csrf_token.is_empty() {
        return again(jar, f.username, StatusCode::FORBIDDEN, t.get("error-csrf"));
    }
    let (username, password) = (f.username.trim().to_string(), f.password);
    let u2 = username.clone();
    let result = state.db.run(move |c| auth::login(c, &u2, &password, &ip)).await;
    match result {
        Ok((token, _)) => {
            let jar = jar
                .add(session_cookie(token, state.config.secure_cookies))
                .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/login"));
            (jar, Redirect::to(&next)).into_response()
        }
        Err(auth::AuthError::BadCredentials) => {
            again(jar, username, StatusCode::UNAUTHORIZED, t.get("error-bad-credentials"))
        }
        Err(auth::AuthError::Throttled { retry_after_secs }) => {
            let msg = AppError::Throttled { retry_after_secs }.message(t);
            again(jar, username, StatusCode::TOO_MANY_REQUESTS, msg)
        }
        Err(auth::AuthError::Db(e)) => error_page(t, e.into()),
    }
}

async fn logout(State(state): State<AppState>, u: PageUser, jar: CookieJar) -> Response {
    let token = u.token.clone();
    if let Err(e) = state.db.run(move |c| auth::logout(c, &token)).await {
        return error_page(u.t, e.into());
    }
    (jar.remove(clear_session_cookie()), Redirect::to("/login")).into_response()
}

/// A zone prepared for display.
pub struct ZoneView {
    /// The zone.
    pub z: Zone,
    /// Name in the page language.
    pub name: String,
    /// Kind label.
    pub kind: String,
    /// Theme label.
    pub theme: String,
    /// Geometry described in words.
    pub geometry: String,
    /// Colour.
    pub colour: &'static str,
    /// Position in the program (selects the legend swatch class `sw<index>`).
    pub index: usize,
}

fn theme_label(t: Tr, theme: &str) -> String {
    let key = format!("theme-{}", theme.replace('_', "-"));
    let s = t.get(&key);
    if s == key { theme.to_string() } else { s }
}

/// Describes a geometry in words, with the distances in km.
pub fn describe_geometry(t: Tr, g: &ZoneGeometry, seat_names: &dyn Fn(LonLat) -> Option<String>) -> String {
    let name_or_point = |p: LonLat| seat_names(p).unwrap_or_else(|| format!("{:.5}, {:.5}", p.lon, p.lat));
    match g {
        ZoneGeometry::Ring {
            centre,
            inner_km,
            outer_km,
        } => t.args(
            "geometry-ring",
            &[
                ("centre", name_or_point(*centre)),
                ("inner", format!("{inner_km}")),
                ("outer", format!("{outer_km}")),
            ],
        ),
        ZoneGeometry::Polygon { ring } => {
            // A closed ring repeats its first point at the end; count corners, not points.
            let closed = ring.len() > 1 && ring.first() == ring.last();
            let corners = ring.len() - usize::from(closed);
            t.args("geometry-polygon", &[("count", corners.to_string())])
        }
        ZoneGeometry::Line { path, half_width_km } => t.args(
            "geometry-line",
            &[
                (
                    "path",
                    path.iter().map(|p| name_or_point(*p)).collect::<Vec<_>>().join(" → "),
                ),
                ("width", format!("{half_width_km}")),
            ],
        ),
    }
}

fn zone_views(t: Tr, zs: Vec<Zone>, seats: &[Division]) -> Vec<ZoneView> {
    let seat_names = |p: LonLat| {
        seats
            .iter()
            .find(|s| {
                s.lon
                    .zip(s.lat)
                    .is_some_and(|(lon, lat)| (lon - p.lon).abs() < 1e-9 && (lat - p.lat).abs() < 1e-9)
            })
            .map(|s| s.name.clone())
    };
    zs.into_iter()
        .enumerate()
        .map(|(i, z)| ZoneView {
            name: t.pick(&z.name, &z.name_en).to_string(),
            kind: t.get(&format!("kind-{}", z.kind)),
            theme: theme_label(t, &z.theme),
            geometry: describe_geometry(t, &z.geometry, &seat_names),
            colour: ZONE_COLOURS[i % ZONE_COLOURS.len()],
            index: i % ZONE_COLOURS.len(),
            z,
        })
        .collect()
}

/// Everything the program and zone pages load.
struct ProgramData {
    program: Program,
    zones: Vec<Zone>,
    towns: Vec<Division>,
    villages: Vec<Division>,
    membership: HashMap<String, Vec<i64>>,
    overlaps: Vec<zones::OverlapWarning>,
    boundary: Vec<Vec<LonLat>>,
    /// Every town seat of the county, to name the points of zone geometries (public geography,
    /// shown as names only, whatever the user's scope).
    seats: Vec<Division>,
}

async fn load_program(state: &AppState, id: i64, access: Access) -> Result<ProgramData, AppError> {
    state
        .db
        .run(move |c| {
            let program = zones::program(c, &access, id)?.ok_or(AppError::NotFound)?;
            let county = ringline_core::division::DivisionCode::parse(&program.county_code)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let under = Some(county.prefix().to_string());
            let zs = zones::zones_of(c, &access, id)?;
            let towns = divisions::list(
                c,
                &access,
                &ListFilter {
                    level: Some(Level::Town),
                    under: under.clone(),
                    ..Default::default()
                },
                i64::MAX,
                0,
            )?;
            let villages = divisions::list(
                c,
                &access,
                &ListFilter {
                    level: Some(Level::Village),
                    under,
                    ..Default::default()
                },
                i64::MAX,
                0,
            )?;
            let membership = zones::membership_map(c, &access, id)?;
            let overlaps = zones::overlaps(c, &access, id)?;
            let boundary = crate::seed::boundary_rings(c, &program.county_code)?;
            let seats = divisions::list(
                c,
                &Access::system(),
                &ListFilter {
                    level: Some(Level::Town),
                    under: Some(county.prefix().to_string()),
                    ..Default::default()
                },
                i64::MAX,
                0,
            )?;
            Ok(ProgramData {
                program,
                zones: zs,
                towns,
                villages,
                membership,
                overlaps,
                boundary,
                seats,
            })
        })
        .await
}

fn map_for(t: Tr, d: &ProgramData, views: &[ZoneView], only_zone: Option<i64>) -> String {
    let zones: Vec<MapZone> = views
        .iter()
        .filter(|v| only_zone.is_none_or(|id| id == v.z.id))
        .map(|v| MapZone {
            id: v.z.id,
            name: &v.name,
            geometry: &v.z.geometry,
            color: v.colour,
        })
        .collect();
    let mut points: Vec<MapPoint> = d
        .villages
        .iter()
        .filter_map(|v| {
            Some(MapPoint {
                code: &v.code,
                name: &v.name,
                point: LonLat {
                    lon: v.lon?,
                    lat: v.lat?,
                },
                approximate: v.approximate,
                seat: false,
            })
        })
        .collect();
    points.extend(d.towns.iter().filter_map(|s| {
        Some(MapPoint {
            code: &s.code,
            name: &s.name,
            point: LonLat {
                lon: s.lon?,
                lat: s.lat?,
            },
            approximate: false,
            seat: true,
        })
    }));
    let membership = match only_zone {
        Some(id) => d
            .membership
            .iter()
            .filter(|(_, z)| z.contains(&id))
            .map(|(k, _)| (k.clone(), vec![id]))
            .collect(),
        None => d.membership.clone(),
    };
    render(
        &MapInput {
            boundary: d.boundary.clone(),
            zones,
            points,
            membership,
            approximate_label: t.get("approximate-point"),
            title: t.get("map-title"),
            frame: only_zone
                .and_then(|id| views.iter().find(|v| v.z.id == id))
                .map(|v| super::map::zone_frame(&v.z.geometry, 4.0)),
        },
        900.0,
    )
}

#[derive(Template)]
#[template(path = "program.html")]
struct ProgramPage {
    c: Chrome,
    program: Program,
    program_name: String,
    zones: Vec<ZoneView>,
    map: String,
    overlaps: Vec<(String, String, String)>,
    villages_total: usize,
    villages_in_zones: usize,
    villages_approximate: usize,
    any_assumed: bool,
    a: super::records::Actions,
    new_zone: bool,
}

async fn program_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(sq): Query<super::records::SavedQuery>,
) -> Response {
    let t = u.t;
    let d = match load_program(&state, id, u.access.clone()).await {
        Ok(d) => d,
        Err(e) => return error_page(t, e),
    };
    let views = zone_views(t, d.zones.clone(), &d.seats);
    let map = map_for(t, &d, &views, None);
    let zone_name: HashMap<i64, String> = views.iter().map(|v| (v.z.id, v.name.clone())).collect();
    let overlaps = d
        .overlaps
        .iter()
        .map(|o| {
            (
                o.code.clone(),
                o.name.clone(),
                o.zone_ids
                    .iter()
                    .filter_map(|z| zone_name.get(z).cloned())
                    .collect::<Vec<_>>()
                    .join("、"),
            )
        })
        .collect();
    let page = ProgramPage {
        a: super::records::Actions::new(&u, crate::kind::KindId::Programs, id, sq.saved.as_deref()),
        new_zone: u.access.can(crate::access::Permission::Configure),
        c: Chrome::of(&u),
        program_name: t.pick(&d.program.name, &d.program.name_en).to_string(),
        villages_total: d.villages.len(),
        villages_in_zones: d.villages.iter().filter(|v| d.membership.contains_key(&v.code)).count(),
        villages_approximate: d.villages.iter().filter(|v| v.approximate).count(),
        any_assumed: views.iter().any(|v| v.z.geometry_note.as_deref() == Some("assumption")),
        program: d.program.clone(),
        zones: views,
        map,
        overlaps,
    };
    html(&page)
}

/// A zone member prepared for display.
pub struct MemberView {
    /// The member.
    pub m: ZoneMember,
    /// Reason in words.
    pub reason: String,
    /// Distance, formatted.
    pub distance: String,
}

#[derive(Template)]
#[template(path = "zone.html")]
struct ZonePage {
    c: Chrome,
    program: Program,
    program_name: String,
    zone: ZoneView,
    members: Vec<MemberView>,
    overrides: Vec<(String, String, String)>,
    map: String,
    a: super::records::Actions,
}

async fn zone_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(sq): Query<super::records::SavedQuery>,
) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let program_id = match state
        .db
        .run(move |c| zones::zone(c, &access, id).map_err(AppError::from))
        .await
    {
        Ok(Some(z)) => z.program_id,
        Ok(None) => return error_page(t, AppError::NotFound),
        Err(e) => return error_page(t, e),
    };
    let d = match load_program(&state, program_id, u.access.clone()).await {
        Ok(d) => d,
        Err(e) => return error_page(t, e),
    };
    let access = u.access.clone();
    let (members, overrides) = match state
        .db
        .run(move |c| Ok::<_, AppError>((zones::zone_members(c, &access, id)?, zones::overrides(c, &access, id)?)))
        .await
    {
        Ok(m) => m,
        Err(e) => return error_page(t, e),
    };
    let views = zone_views(t, d.zones.clone(), &d.seats);
    let map = map_for(t, &d, &views, Some(id));
    let Some(zone) = views.into_iter().find(|v| v.z.id == id) else {
        return error_page(t, AppError::NotFound);
    };
    let members = members
        .into_iter()
        .map(|m| MemberView {
            reason: t.get(&format!("reason-{}", m.reason.replace('_', "-"))),
            distance: m.distance_km.map(|d| format!("{d:.2}")).unwrap_or_default(),
            m,
        })
        .collect();
    let page = ZonePage {
        a: super::records::Actions::new(&u, crate::kind::KindId::Zones, id, sq.saved.as_deref()),
        c: Chrome::of(&u),
        program_name: t.pick(&d.program.name, &d.program.name_en).to_string(),
        program: d.program,
        zone,
        members,
        overrides: overrides
            .into_iter()
            .map(|o| (o.division_code, t.get(&format!("override-{}", o.action)), o.note))
            .collect(),
        map,
    };
    html(&page)
}

/// A town with its villages, for the tree.
pub struct TownNode {
    /// The town.
    pub town: Division,
    /// Its villages.
    pub villages: Vec<Division>,
}

#[derive(Template)]
#[template(path = "divisions.html")]
struct DivisionsPage {
    c: Chrome,
    roots: Vec<Division>,
    towns: Vec<TownNode>,
    zone_of: HashMap<String, String>,
    village_count: usize,
}

async fn divisions_page(State(state): State<AppState>, u: PageUser) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let level = |l: Level| ListFilter {
                level: Some(l),
                ..Default::default()
            };
            let roots = divisions::list(c, &access, &level(Level::County), 1000, 0)?;
            let towns = divisions::list(c, &access, &level(Level::Town), 100_000, 0)?;
            let villages = divisions::list(c, &access, &level(Level::Village), 1_000_000, 0)?;
            let mut zone_of = HashMap::new();
            for p in zones::programs(c, &access)? {
                let zs = zones::zones_of(c, &access, p.id)?;
                let names: HashMap<i64, (String, String)> =
                    zs.into_iter().map(|z| (z.id, (z.name, z.name_en))).collect();
                for (code, ids) in zones::membership_map(c, &access, p.id)? {
                    let n: Vec<String> = ids
                        .iter()
                        .filter_map(|i| names.get(i))
                        .map(|(zh, en)| t.pick(zh, en).to_string())
                        .collect();
                    zone_of.insert(code, n.join("、"));
                }
            }
            Ok::<_, AppError>((roots, towns, villages, zone_of))
        })
        .await;
    let (roots, towns, villages, zone_of) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let village_count = villages.len();
    let mut by_town: HashMap<String, Vec<Division>> = HashMap::new();
    for v in villages {
        by_town
            .entry(v.parent_code.clone().unwrap_or_default())
            .or_default()
            .push(v);
    }
    let mut towns: Vec<TownNode> = towns
        .into_iter()
        .map(|town| TownNode {
            villages: by_town.remove(&town.code).unwrap_or_default(),
            town,
        })
        .collect();
    // Villages whose town is outside the scope (a village or zone scope) are listed under a
    // node for their town without a link.
    for (code, villages) in by_town {
        let name = villages.first().and_then(|v| v.parent_name.clone()).unwrap_or_default();
        let town = Division {
            code,
            name,
            level: "town".into(),
            parent_code: None,
            parent_name: None,
            kind: None,
            urban_rural_code: None,
            lon: None,
            lat: None,
            approximate: false,
            status: "active".into(),
            retired_on: None,
        };
        towns.push(TownNode { town, villages });
    }
    towns.sort_by(|a, b| a.town.code.cmp(&b.town.code));
    html(&DivisionsPage {
        c: Chrome::of(&u),
        roots,
        towns,
        zone_of,
        village_count,
    })
}

#[derive(Template)]
#[template(path = "division.html")]
struct DivisionPage {
    c: Chrome,
    d: Division,
    kind: String,
    level: String,
    status: String,
    point: String,
    parent_visible: bool,
    children: Vec<Division>,
    zones: Vec<(i64, String, String, String)>,
    history: Vec<(String, String, String, String)>,
}

async fn division_page(State(state): State<AppState>, u: PageUser, Path(code): Path<String>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let Some(d) = divisions::get(c, &access, &code)? else {
                return Err(AppError::NotFound);
            };
            let children = divisions::list(
                c,
                &access,
                &ListFilter {
                    parent: Some(d.code.clone()),
                    ..Default::default()
                },
                10_000,
                0,
            )?;
            let zs = zones::zones_of_village(c, &access, &d.code)?;
            let history = divisions::history(c, &access, &d.code)?;
            let parent_visible = d.parent_code.as_deref().is_some_and(|p| access.names_code(p));
            Ok((d, children, zs, history, parent_visible))
        })
        .await;
    let (d, children, zs, history, parent_visible) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let kind = d
        .kind
        .as_ref()
        .map(|k| t.get(&format!("division-kind-{}", k.replace('_', "-"))))
        .unwrap_or_default();
    let zones = zs
        .into_iter()
        .map(|(z, m)| {
            (
                z.id,
                t.pick(&z.name, &z.name_en).to_string(),
                t.get(&format!("reason-{}", m.reason.replace('_', "-"))),
                m.distance_km.map(|d| format!("{d:.2}")).unwrap_or_default(),
            )
        })
        .collect();
    let level = t.get(&format!("level-{}", d.level));
    let status = match d.retired_on {
        Some(on) => t.args("division-retired-note", &[("date", on.to_string())]),
        None => t.get(&format!("status-{}", d.status)),
    };
    let point = format!("{}, {}", coord(&d.lon), coord(&d.lat));
    let history = history
        .into_iter()
        .map(|h| {
            let names = match (h.old_name, h.new_name) {
                (Some(o), Some(n)) if o != n => format!("{o} → {n}"),
                (_, Some(n)) => n,
                (Some(o), None) => o,
                (None, None) => String::new(),
            };
            (
                h.at.format("%Y-%m-%d %H:%M").to_string(),
                t.get(&format!("event-{}", h.event)),
                names,
                h.source,
            )
        })
        .collect();
    html(&DivisionPage {
        c: Chrome::of(&u),
        d,
        kind,
        level,
        status,
        point,
        parent_visible,
        children,
        zones,
        history,
    })
}

/// Formats an optional coordinate to 6 decimals.
pub fn coord(v: &Option<f64>) -> String {
    v.map(|x| format!("{x:.6}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next(Some("/zones/1?x=2")), "/zones/1?x=2");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
            "/a b",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/é/ok")), "/%C3%A9/ok");
    }
}
