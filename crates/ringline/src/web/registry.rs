//! Registry pages (SPEC C3): units, party organizations and members (lists with filters and
//! paging, detail pages), the audited unmasking of a member's personal data, the "two
//! coverages" page, and the XLSX export of each list.
//!
//! Every read goes through the scoped data layer ([`crate::registry::query`],
//! [`crate::registry::coverage`], [`crate::registry::links`]) with the caller's `Access`; a record
//! outside the scope answers 404 like a missing one. What a page shows holds no division code
//! outside the caller's scope: a member's home community outside it is shown by name only
//! ([`crate::registry::member::redact`]), and related records outside it are counted, not named.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{Method, header};
use axum::response::Response;
use axum::routing::{get, post};
use ringline_core::division::DivisionCode;
use serde::Deserialize;

use super::export::{export, headers};
use super::pages::{Chrome, error_page, html};
use super::{AppError, AppState, Guard, PageUser, Route, route};
use crate::access::{Access, Permission};
use crate::db::DbConn;
use crate::divisions;
use crate::i18n::{Lang, Tr};
use crate::import::spec::{MEMBER_STATUSES, ORG_KINDS, ORG_MODES, SEXES, UNIT_KINDS};
use crate::registry::coverage::{self, By, CoverageRow};
use crate::registry::links::{self, UnitRef};
use crate::registry::query::{self, Member, MemberFilter, PartyOrg, Unit};
use crate::zones;

/// Rows per list page.
pub const PAGE: i64 = 100;
/// Most rows in one XLSX export.
pub const EXPORT_MAX: i64 = 1_000_000;
/// Rows read from the data layer at a time while writing an export.
pub const EXPORT_PAGE: i64 = 10_000;
/// Employed members and covered units listed on a detail page.
const DETAIL_LIST: i64 = 100;

/// Registry page routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    vec![
        route(M::GET, "/units/{id}", Login, get(unit_page)),
        route(M::GET, "/orgs/{id}", Login, get(org_page)),
        route(M::GET, "/members/{id}", Login, get(member_page)),
        route(
            M::POST,
            "/members/{id}/unmask",
            Perm(Permission::Unmask),
            post(member_unmask),
        ),
        route(M::GET, "/coverage", Login, get(coverage_page)),
        route(M::GET, "/coverage.xlsx", Login, get(coverage_xlsx)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Filters shared with the API

fn bad(code: &'static str, message: String) -> AppError {
    AppError::BadRequest { code, message }
}

fn blank_is_none(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from)
}

/// `value` when it is a division code; a 422 otherwise.
pub(super) fn division_code(
    field: &str,
    code: &'static str,
    value: &Option<String>,
) -> Result<Option<String>, AppError> {
    let Some(v) = blank_is_none(value) else {
        return Ok(None);
    };
    match DivisionCode::parse(&v) {
        Ok(c) => Ok(Some(c.as_str().to_string())),
        Err(_) => Err(bad(
            code,
            format!("{field} must be a division code: 12 digits, such as 630121103000"),
        )),
    }
}

/// The grouping of the coverage table: `town` (default), `zone` or `county`.
pub(super) fn coverage_by(by: &Option<String>) -> Result<By, AppError> {
    match blank_is_none(by).as_deref() {
        None | Some("town") => Ok(By::Town),
        Some("zone") => Ok(By::Zone),
        Some("county") => Ok(By::County),
        Some(other) => Err(bad(
            "invalid-by",
            format!("by {other:?} is not one of town, zone, county"),
        )),
    }
}

/// Which coverage uncovered units lack: `organization` (default) or `work`, as the data layer
/// names it (`org`, `work`).
pub(super) fn lacking(value: &Option<String>) -> Result<&'static str, AppError> {
    match blank_is_none(value).as_deref() {
        None | Some("organization") => Ok("org"),
        Some("work") => Ok("work"),
        Some(other) => Err(bad(
            "invalid-lacking",
            format!("lacking {other:?} is not one of organization, work"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Labels and small formatting helpers

/// The label of `key` among `choices` (`(key, Chinese, English)`) in the page language; the
/// key itself when unknown.
pub fn choice_label(t: Tr, choices: &[(&str, &str, &str)], key: &str) -> String {
    choices
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| match t.lang() {
            Lang::Zh => (*zh).to_string(),
            Lang::En => (*en).to_string(),
        })
        .unwrap_or_else(|| key.to_string())
}

/// A rate (0–1) as a percentage with one decimal, or "—".
pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn yes_no(t: Tr, b: bool) -> String {
    t.get(if b { "reg-yes" } else { "reg-no" })
}

fn opt_num<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Names of the towns (and any other divisions) with these codes: public reference data, shown
/// by name (the codes are the records' own places or their ancestors).
fn division_names(
    conn: &mut DbConn,
    codes: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>, AppError> {
    let mut codes: Vec<String> = codes.into_iter().collect();
    codes.sort();
    codes.dedup();
    Ok(divisions::get_many(conn, &Access::system(), &codes)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect())
}

/// "town › village" for a record at a village, the town's name for one at a town.
fn place(code: &str, name: Option<&str>, towns: &HashMap<String, String>) -> String {
    let own = name.unwrap_or(code).to_string();
    match query::town_code_of(code) {
        Some(t) if t != code => match towns.get(&t) {
            Some(town) => format!("{town} › {own}"),
            None => own,
        },
        _ => own,
    }
}

fn town_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    codes.into_iter().filter_map(query::town_code_of).collect()
}

/// Previous and next page links of a list.
pub struct Pager {
    /// Query string of the previous page.
    pub prev: Option<String>,
    /// Query string of the next page.
    pub next: Option<String>,
    /// Position text ("1–100 / 250").
    pub position: String,
}

impl Pager {
    fn new(offset: i64, shown: usize, total: i64, qs: &dyn Fn(i64) -> String) -> Pager {
        let shown = shown as i64;
        Pager {
            prev: (offset > 0).then(|| qs((offset - PAGE).max(0))),
            next: (offset + shown < total).then(|| qs(offset + PAGE)),
            position: if shown == 0 {
                format!("0 / {total}")
            } else {
                format!("{}–{} / {total}", offset + 1, offset + shown)
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Units

/// A unit prepared for a list.
pub struct UnitView {
    /// The unit.
    pub u: Unit,
    /// Kind label.
    pub kind: String,
    /// Town › village.
    pub place: String,
    /// Headcount.
    pub headcount: String,
    /// Party members reported / registered.
    pub members: String,
}

fn unit_view(t: Tr, u: Unit, towns: &HashMap<String, String>) -> UnitView {
    UnitView {
        kind: choice_label(t, UNIT_KINDS, &u.kind),
        place: place(&u.division_code, u.division_name.as_deref(), towns),
        headcount: opt_num(u.headcount),
        members: format!(
            "{} / {}",
            u.party_member_count
                .map(|n| n.to_string())
                .unwrap_or_else(|| "—".into()),
            u.registered_members
        ),
        u,
    }
}

/// A party organization prepared for a list.
pub struct OrgView {
    /// The organization.
    pub o: PartyOrg,
    /// Kind label.
    pub kind: String,
    /// Mode label.
    pub mode: String,
    /// Host unit's or village's name.
    pub host: String,
}

fn org_view(t: Tr, o: PartyOrg) -> OrgView {
    OrgView {
        kind: choice_label(t, ORG_KINDS, &o.kind),
        mode: choice_label(t, ORG_MODES, &o.mode),
        host: o
            .unit_name
            .clone()
            .or_else(|| o.village_name.clone())
            .unwrap_or_else(|| t.get("reg-outside-scope")),
        o,
    }
}

/// A member prepared for a list.
pub struct MemberView {
    /// The member (masked; home community code withheld outside the scope).
    pub m: Member,
    /// Sex label.
    pub sex: String,
    /// Status label.
    pub status: String,
    /// Join date.
    pub join_date: String,
    /// Home community name.
    pub home: String,
}

fn member_view(t: Tr, access: &Access, m: Member) -> MemberView {
    let m = crate::registry::member::redact(access, m);
    MemberView {
        sex: choice_label(t, SEXES, &m.sex),
        status: choice_label(t, MEMBER_STATUSES, &m.status),
        join_date: opt_num(m.join_date),
        home: m.home_community_name.clone().unwrap_or_default(),
        m,
    }
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    c: Chrome,
    v: UnitView,
    point: Option<String>,
    org_covered: String,
    work_covered: String,
    orgs: Vec<OrgView>,
    hidden_orgs: Option<String>,
    members: Vec<MemberView>,
    employed_label: String,
    a: super::records::Actions,
}

async fn unit_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(sq): Query<super::records::SavedQuery>,
) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let unit = query::unit(c, &access, id)?.ok_or(AppError::NotFound)?;
            let (org_ids, hidden) = links::covering_orgs(c, &access, id)?;
            let mut orgs = Vec::new();
            for o in org_ids {
                orgs.extend(query::org(c, &access, o)?);
            }
            let (member_ids, shown) = links::employed_members(c, &access, id, DETAIL_LIST, 0)?;
            let mut members = Vec::new();
            for m in member_ids {
                members.extend(query::member(c, &access, m)?);
            }
            let towns = division_names(c, unit.town_code.clone())?;
            Ok::<_, AppError>((unit, orgs, hidden, members, shown, towns))
        })
        .await;
    let (unit, orgs, hidden, members, members_shown, towns) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let hidden_orgs = (!hidden.is_empty()).then(|| {
        let modes: Vec<String> = hidden.iter().map(|m| choice_label(t, ORG_MODES, m)).collect();
        t.args(
            "reg-covering-hidden",
            &[("count", hidden.len().to_string()), ("modes", modes.join("、"))],
        )
    });
    let point = match (unit.lon, unit.lat) {
        (Some(lon), Some(lat)) => Some(format!("{lon:.6}, {lat:.6}")),
        _ => None,
    };
    let employed_label = t.args(
        "reg-employed-count",
        &[
            ("shown", members_shown.to_string()),
            ("total", unit.registered_members.to_string()),
        ],
    );
    html(&UnitPage {
        c: Chrome::of(&u),
        a: super::records::Actions::new(&u, crate::kind::KindId::Units, id, sq.saved.as_deref()),
        employed_label,
        point,
        org_covered: yes_no(t, unit.org_covered),
        work_covered: yes_no(t, unit.work_covered),
        v: unit_view(t, unit, &towns),
        orgs: orgs.into_iter().map(|o| org_view(t, o)).collect(),
        hidden_orgs,
        members: members.into_iter().map(|m| member_view(t, &u.access, m)).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Party organizations

/// A covered unit prepared for the organization page.
pub struct CoveredView {
    /// The unit.
    pub u: UnitRef,
    /// Kind label.
    pub kind: String,
    /// Whether it hosts the organization.
    pub host: bool,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    c: Chrome,
    v: OrgView,
    place: String,
    parent_hidden: bool,
    children: Vec<OrgView>,
    covered: Vec<CoveredView>,
    covered_note: Option<String>,
    members: Vec<MemberView>,
    members_total: i64,
    pager: Pager,
    a: super::records::Actions,
}

/// Query of an organization page: the offset of its member list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OffsetQuery {
    offset: Option<i64>,
    saved: Option<String>,
}

async fn org_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(q): Query<OffsetQuery>,
) -> Response {
    let t = u.t;
    let offset = q.offset.unwrap_or(0).max(0);
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let org = query::org(c, &access, id)?.ok_or(AppError::NotFound)?;
            let children = query::org_children(c, &access, id)?;
            let (covered, visible, all) = links::covered_units(c, &access, id, DETAIL_LIST)?;
            let filter = MemberFilter {
                org_id: Some(id),
                ..Default::default()
            };
            let (members, total) = query::members(c, &access, &filter, PAGE, offset)?;
            let mut wanted = town_codes([org.division_code.as_str()]);
            wanted.push(org.division_code.clone());
            let towns = division_names(c, wanted)?;
            Ok::<_, AppError>((org, children, covered, visible, all, members, total, towns))
        })
        .await;
    let (org, children, covered, visible, all, members, members_total, towns) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let shown = covered.len() as i64;
    let covered_note = (all > shown).then(|| {
        t.args(
            "reg-covered-more",
            &[
                ("shown", shown.to_string()),
                ("all", all.to_string()),
                ("visible", visible.to_string()),
            ],
        )
    });
    let host_unit = org.unit_id;
    let place = place(
        &org.division_code,
        towns.get(&org.division_code).map(String::as_str),
        &towns,
    );
    let parent_hidden = org.parent_id.is_some() && org.parent_name.is_none();
    html(&OrgPage {
        c: Chrome::of(&u),
        a: super::records::Actions::new(&u, crate::kind::KindId::Orgs, id, q.saved.as_deref()),
        place,
        parent_hidden,
        v: org_view(t, org),
        children: children.into_iter().map(|o| org_view(t, o)).collect(),
        covered: covered
            .into_iter()
            .map(|x| CoveredView {
                kind: choice_label(t, UNIT_KINDS, &x.kind),
                host: host_unit == Some(x.id),
                u: x,
            })
            .collect(),
        covered_note,
        pager: Pager::new(offset, members.len(), members_total, &|o| {
            if o > 0 { format!("offset={o}") } else { String::new() }
        }),
        members: members.into_iter().map(|m| member_view(t, &u.access, m)).collect(),
        members_total,
    })
}

// ---------------------------------------------------------------------------------------------
// Members

#[derive(Template)]
#[template(path = "member.html")]
struct MemberPage {
    c: Chrome,
    v: MemberView,
    place: String,
    employer_unit: Option<(i64, String)>,
    can_unmask: bool,
    unmasked: Option<(String, String)>,
    a: super::records::Actions,
}

/// A member, their employer when it is a unit visible to the caller, and the names of the
/// member's division and town.
type MemberDetail = (Member, Option<(i64, String)>, HashMap<String, String>);

/// Loads what the member page shows; `NotFound` when unknown or outside the scope.
fn member_detail(c: &mut DbConn, access: &Access, id: i64) -> Result<MemberDetail, AppError> {
    let m = query::member(c, access, id)?.ok_or(AppError::NotFound)?;
    let employer = match m.employer_unit_id {
        Some(uid) => query::unit(c, access, uid)?.map(|u| (u.id, u.name)),
        None => None,
    };
    let mut codes = town_codes([m.division_code.as_str()]);
    codes.push(m.division_code.clone());
    let names = division_names(c, codes)?;
    Ok((m, employer, names))
}

fn member_page_response(
    u: &PageUser,
    m: Member,
    employer_unit: Option<(i64, String)>,
    names: &HashMap<String, String>,
    unmasked: Option<(String, String)>,
    saved: Option<&str>,
) -> Response {
    let t = u.t;
    let place = place(&m.division_code, names.get(&m.division_code).map(String::as_str), names);
    html(&MemberPage {
        c: Chrome::of(u),
        a: super::records::Actions::new(u, crate::kind::KindId::Members, m.id, saved),
        place,
        employer_unit,
        can_unmask: u.access.can(Permission::Unmask),
        v: member_view(t, &u.access, m),
        unmasked,
    })
}

async fn member_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(sq): Query<super::records::SavedQuery>,
) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| member_detail(c, &access, id)).await {
        Ok((m, employer, names)) => member_page_response(&u, m, employer, &names, None, sq.saved.as_deref()),
        Err(e) => error_page(u.t, e),
    }
}

/// POST /members/{id}/unmask — the member page with the full ID number and phone, shown once
/// on this response only (never stored in a cookie or URL); the view is audited by
/// [`query::member_unmasked`].
async fn member_unmask(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let detail = member_detail(c, &access, id)?;
            let (id_number, phone) = query::member_unmasked(c, &access, id)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>((detail, id_number, phone))
        })
        .await;
    match result {
        Ok(((m, employer, names), id_number, phone)) => {
            let mut resp = member_page_response(
                &u,
                m,
                employer,
                &names,
                Some((id_number, phone.unwrap_or_default())),
                None,
            );
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => error_page(u.t, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Coverage

/// Query of the coverage page and export.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CoverageQuery {
    by: Option<String>,
    program: Option<String>,
    lacking: Option<String>,
    offset: Option<i64>,
}

impl CoverageQuery {
    fn program(&self) -> Result<Option<i64>, AppError> {
        match blank_is_none(&self.program) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| bad("invalid-program", "program must be a program id (a number)".into())),
        }
    }
}

/// A coverage row prepared for display.
pub struct CoverageView {
    /// The row.
    pub r: CoverageRow,
    /// Name in the page language.
    pub name: String,
    /// Link to the units of the group (towns and counties).
    pub link: Option<String>,
    /// Organization coverage rate, e.g. "50.0%".
    pub org_rate: String,
    /// Work coverage rate.
    pub work_rate: String,
}

/// The coverage rows for `by` (zones of `program`, default the first visible), with names in
/// the page language and the program used.
fn coverage_rows(
    c: &mut DbConn,
    access: &Access,
    t: Tr,
    by: By,
    program: Option<i64>,
) -> Result<(Vec<CoverageView>, Option<i64>), AppError> {
    let (program, zone_names) = if by == By::Zone {
        let pid = match program {
            Some(id) => Some(zones::program(c, access, id)?.ok_or(AppError::NotFound)?.id),
            None => zones::programs(c, access)?.first().map(|p| p.id),
        };
        let names: HashMap<String, String> = match pid {
            Some(pid) => zones::zones_of(c, access, pid)?
                .into_iter()
                .map(|z| (z.id.to_string(), t.pick(&z.name, &z.name_en).to_string()))
                .collect(),
            None => HashMap::new(),
        };
        (pid, names)
    } else {
        (None, HashMap::new())
    };
    let rows = match (by, program) {
        (By::Zone, None) => Vec::new(),
        _ => coverage::coverage(c, access, by, program)?,
    };
    let views = rows
        .into_iter()
        .map(|r| CoverageView {
            name: zone_names.get(&r.key).cloned().unwrap_or_else(|| r.name.clone()),
            link: (by != By::Zone).then(|| format!("/units?under={}", r.key)),
            org_rate: percent(r.org_rate),
            work_rate: percent(r.work_rate),
            r,
        })
        .collect();
    Ok((views, program))
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    c: Chrome,
    by: &'static str,
    rows: Vec<CoverageView>,
    programs: Vec<(i64, String, bool)>,
    program_qs: String,
    export: String,
    lacking_work: bool,
    uncovered: Vec<UnitView>,
    uncovered_total: i64,
    pager: Pager,
}

fn by_key(by: By) -> &'static str {
    match by {
        By::Town => "town",
        By::Zone => "zone",
        By::County => "county",
    }
}

async fn coverage_page(State(state): State<AppState>, u: PageUser, Query(q): Query<CoverageQuery>) -> Response {
    let t = u.t;
    let checked = (|| Ok::<_, AppError>((coverage_by(&q.by)?, q.program()?, lacking(&q.lacking)?)))();
    let (by, program, lacking) = match checked {
        Ok(v) => v,
        Err(e) => return error_page(t, e),
    };
    let offset = q.offset.unwrap_or(0).max(0);
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let (rows, program) = coverage_rows(c, &access, t, by, program)?;
            let programs: Vec<(i64, String, bool)> = zones::programs(c, &access)?
                .into_iter()
                .map(|p| (p.id, t.pick(&p.name, &p.name_en).to_string(), Some(p.id) == program))
                .collect();
            let (units, total) = coverage::uncovered(c, &access, Some(lacking), None, PAGE, offset)?;
            let towns = division_names(c, town_codes(units.iter().map(|u| u.division_code.as_str())))?;
            Ok::<_, AppError>((rows, program, programs, units, total, towns))
        })
        .await;
    let (rows, program, programs, units, total, towns) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let by = by_key(by);
    let program_qs = program.map(|p| format!("&program={p}")).unwrap_or_default();
    let lacking_work = lacking == "work";
    let base = format!("by={by}{program_qs}{}", if lacking_work { "&lacking=work" } else { "" });
    let uncovered: Vec<UnitView> = units.into_iter().map(|x| unit_view(t, x, &towns)).collect();
    html(&CoveragePage {
        c: Chrome::of(&u),
        by,
        pager: Pager::new(offset, uncovered.len(), total, &|o| {
            if o > 0 {
                format!("{base}&offset={o}")
            } else {
                base.clone()
            }
        }),
        export: format!("by={by}{program_qs}"),
        rows,
        programs,
        program_qs,
        lacking_work,
        uncovered,
        uncovered_total: total,
    })
}

async fn coverage_xlsx(State(state): State<AppState>, u: PageUser, Query(q): Query<CoverageQuery>) -> Response {
    let t = u.t;
    let checked = (|| Ok::<_, AppError>((coverage_by(&q.by)?, q.program()?)))();
    let (by, program) = match checked {
        Ok(v) => v,
        Err(e) => return error_page(t, e),
    };
    let access = u.access.clone();
    let filename = format!("coverage-{}.xlsx", by_key(by));
    export(&state, t, &filename, move |c| {
        let (rows, _) = coverage_rows(c, &access, t, by, program)?;
        let key = if by == By::Zone { "reg-col-zone-id" } else { "col-code" };
        let h = headers(
            t,
            &[
                key,
                "col-name",
                "coverage-col-units",
                "coverage-col-org-covered",
                "coverage-col-org-rate",
                "coverage-col-work-covered",
                "coverage-col-work-rate",
            ],
        );
        let rows = rows.into_iter().map(|v| (v.r.key.clone(), v.name, v.r)).collect();
        let rows = super::export::coverage_cells(rows);
        let mut rows = Some(rows);
        super::export::typed_workbook(&t.get("nav-coverage"), Some(&t.get("reg-col-id")), &h, |_| {
            Ok(rows.take().unwrap_or_default())
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_have_one_decimal() {
        assert_eq!(percent(Some(0.5)), "50.0%");
        assert_eq!(percent(Some(2.0 / 3.0)), "66.7%");
        assert_eq!(percent(Some(4.0 / 7.0)), "57.1%");
        assert_eq!(percent(None), "—");
    }

    #[test]
    fn coverage_parameters_name_what_is_allowed() {
        assert_eq!(coverage_by(&Some("zone".into())).expect("zone"), By::Zone);
        assert_eq!(coverage_by(&None).expect("default"), By::Town);
        assert_eq!(
            coverage_by(&Some("village".into())).expect_err("bad").code(),
            "invalid-by"
        );
        assert_eq!(lacking(&Some("work".into())).expect("work"), "work");
        assert_eq!(lacking(&None).expect("default"), "org");
        assert_eq!(lacking(&Some("x".into())).expect_err("bad").code(), "invalid-lacking");
    }

    #[test]
    fn places_name_town_and_village() {
        let towns = HashMap::from([("630121103000".to_string(), "东峡镇".to_string())]);
        assert_eq!(place("630121103201", Some("南滩村委会"), &towns), "东峡镇 › 南滩村委会");
        assert_eq!(place("630121103000", Some("东峡镇"), &towns), "东峡镇");
        assert_eq!(place("630121101001", Some("佰胜社区"), &towns), "佰胜社区");
    }
}
