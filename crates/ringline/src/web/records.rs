//! The generic pages and API of every record kind ([`crate::kind`]), built from its
//! description: the list page with its filters and pager, the XLSX export (typed cells), the
//! detail page, the create / edit / retire forms, and the JSON API (list, get, create, patch,
//! retire) with a lookup for reference pickers. A kind with a page of its own (a unit's coverage,
//! a member's unmask) keeps it; the forms and the API are still these.
//!
//! Forms are phone-friendly (one column, large touch targets), keep what was typed when a check
//! fails, show each problem next to its field in the reader's language, confirm a retirement on
//! a page of its own, and report success on the record's page. References (a village, an
//! organization, a unit) are chosen by name from a list that filters as one types.

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use ringline_core::division::{DivisionCode, Level};
use serde::Deserialize;

use super::pages::{Chrome, error_page, html};
use super::{ApiUser, AppError, AppState, Guard, PageUser, Route, route};
use crate::access::Access;
use crate::db::DbConn;
use crate::i18n::Tr;
use crate::import::Issue;
use crate::kind::export::{Cell, Places, cell, choice_label, place_codes};
use crate::kind::{Cx, Desc, Filter, KindId, ListQuery, Raw, Retire, RetireInput, Show, Ty, WriteError};

/// Rows per list page.
pub const PAGE: i64 = 100;
/// Options offered by a reference picker before the reader types (the rest come as one types).
pub const PICKER_OPTIONS: i64 = 300;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The generic routes of every kind, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    let mut r = Vec::new();
    for &k in KindId::ALL {
        let d = k.desc();
        let key = d.key;
        let w = Perm(d.perms.write);
        r.push(route(
            M::GET,
            leak(format!("/{key}")),
            Login,
            get(move |s, u, q| list_page(k, s, u, q)),
        ));
        r.push(route(
            M::GET,
            leak(format!("/{key}.xlsx")),
            Login,
            get(move |s, u, q| export(k, s, u, q)),
        ));
        r.push(route(
            M::GET,
            leak(format!("/{key}/new")),
            w,
            get(move |s, u, q| new_form(k, s, u, q)),
        ));
        r.push(route(
            M::POST,
            leak(format!("/{key}/new")),
            w,
            post(move |s, u, b| create_post(k, s, u, b)),
        ));
        if !has_own_page(k) {
            r.push(route(
                M::GET,
                leak(format!("/{key}/{{id}}")),
                Login,
                get(move |s, u, p, q| detail_page(k, s, u, p, q)),
            ));
        }
        r.push(route(
            M::GET,
            leak(format!("/{key}/{{id}}/edit")),
            w,
            get(move |s, u, p| edit_form(k, s, u, p)),
        ));
        r.push(route(
            M::POST,
            leak(format!("/{key}/{{id}}/edit")),
            w,
            post(move |s, u, p, b| edit_post(k, s, u, p, b)),
        ));
        if d.retire != Retire::Never {
            let rp = Perm(d.perms.retire);
            r.push(route(
                M::GET,
                leak(format!("/{key}/{{id}}/retire")),
                rp,
                get(move |s, u, p| retire_form(k, s, u, p)),
            ));
            r.push(route(
                M::POST,
                leak(format!("/{key}/{{id}}/retire")),
                rp,
                post(move |s, u, p, b| retire_post(k, s, u, p, b)),
            ));
            r.push(route(
                M::POST,
                leak(format!("/api/v1/{key}/{{id}}/retire")),
                rp,
                post(move |s, u, p, b| api_retire(k, s, u, p, b)),
            ));
        }
        r.push(route(
            M::GET,
            leak(format!("/api/v1/{key}")),
            Login,
            get(move |s, u, q| api_list(k, s, u, q)),
        ));
        r.push(route(
            M::POST,
            leak(format!("/api/v1/{key}")),
            w,
            post(move |s, u, b| api_create(k, s, u, b)),
        ));
        r.push(route(
            M::GET,
            leak(format!("/api/v1/{key}/{{id}}")),
            Login,
            get(move |s, u, p| api_get(k, s, u, p)),
        ));
        r.push(route(
            M::PATCH,
            leak(format!("/api/v1/{key}/{{id}}")),
            w,
            patch(move |s, u, p, b| api_patch(k, s, u, p, b)),
        ));
        r.push(route(
            M::GET,
            leak(format!("/api/v1/lookup/{key}")),
            Login,
            get(move |s, u, q| lookup(k, s, u, q)),
        ));
    }
    r.push(route(M::GET, "/api/v1/lookup/divisions", Login, get(lookup_divisions)));
    r
}

/// Kinds whose detail page is their own (with sections only they have); the rest use
/// [`detail_page`].
pub fn has_own_page(k: KindId) -> bool {
    matches!(
        k,
        KindId::Units
            | KindId::Orgs
            | KindId::Members
            | KindId::Programs
            | KindId::Zones
            | KindId::Cadres
            | KindId::Batches
    )
}

/// Pages beside a kind's list, linked from it: `(label key, path)`. The dispatch kinds link to
/// each other, the residencies and the batches.
pub fn related(k: KindId) -> &'static [(&'static str, &'static str)] {
    const DISPATCH: &[(&str, &str)] = &[
        ("nav-dispatch", "/dispatch"),
        ("nav-cadres", "/cadres"),
        ("twinning", "/twinning"),
        ("needs", "/needs"),
        ("nav-residencies", "/residencies"),
        ("work_logs", "/work_logs"),
    ];
    match k {
        KindId::Cadres | KindId::Twinning | KindId::Needs | KindId::WorkLogs | KindId::Batches => DISPATCH,
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// List queries

fn bad(code: String, message: String) -> AppError {
    AppError::BadRequest {
        code: leak(code),
        message,
    }
}

/// Checks a list's query parameters against the kind's filters: choice keys among the choices,
/// division codes well-formed, ids numbers, `limit` 1–1000 (default `default_limit`), `offset`
/// ≥ 0. Unknown parameters are ignored.
pub fn list_query(d: &Desc, params: &HashMap<String, String>, default_limit: i64) -> Result<ListQuery, AppError> {
    let given = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut q = ListQuery::default();
    for f in d.filters {
        let Some(v) = given(f.key()) else { continue };
        match f {
            Filter::Text => q.q = Some(v.to_string()),
            Filter::Under => match DivisionCode::parse(v) {
                Ok(c) => q.under = Some(c.as_str().to_string()),
                Err(_) => {
                    return Err(bad(
                        "invalid-under".into(),
                        "under must be a division code: 12 digits, such as 630121103000".into(),
                    ));
                }
            },
            Filter::Choice(k, choices) => {
                if choices.iter().any(|c| c.0 == v) {
                    q.values.insert(k, v.to_string());
                } else {
                    let allowed: Vec<&str> = choices.iter().map(|c| c.0).collect();
                    return Err(bad(
                        format!("invalid-{}", k.replace('_', "-")),
                        format!("{k} must be one of {}", allowed.join(", ")),
                    ));
                }
            }
            Filter::Flag(k) => {
                if matches!(v, "true" | "1" | "on" | "yes") {
                    q.flags.push(k);
                } else if !matches!(v, "false" | "0" | "no") {
                    return Err(bad(
                        format!("invalid-{}", k.replace('_', "-")),
                        format!("{k} must be true or false"),
                    ));
                }
            }
            Filter::Id(k, _) => match v.parse::<i64>() {
                Ok(id) => {
                    q.values.insert(k, id.to_string());
                }
                Err(_) => {
                    return Err(bad(
                        format!("invalid-{}", k.replace('_', "-")),
                        format!("{k} must be a whole number"),
                    ));
                }
            },
            Filter::Year(k) => match v.trim_end_matches('年').parse::<i32>() {
                Ok(y) if (1949..=2200).contains(&y) => {
                    q.values.insert(k, y.to_string());
                }
                _ => {
                    return Err(bad(
                        format!("invalid-{}", k.replace('_', "-")),
                        format!("{k} must be a year from 1949 to 2200, such as 2025"),
                    ));
                }
            },
            Filter::Division(k) => match DivisionCode::parse(v) {
                Ok(c) => {
                    q.values.insert(k, c.as_str().to_string());
                }
                Err(_) => {
                    return Err(bad(
                        format!("invalid-{}", k.replace('_', "-")),
                        format!("{k} must be a division code: 12 digits, such as 630121103201"),
                    ));
                }
            },
        }
    }
    q.retired = given("retired").is_some_and(|v| matches!(v, "true" | "1" | "on"));
    q.limit = match given("limit") {
        None => default_limit,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(bad(
                    "invalid-limit".into(),
                    format!("limit must be a whole number between 1 and 1000, not {v}"),
                ));
            }
        },
    };
    q.offset = match given("offset") {
        None => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                return Err(bad(
                    "invalid-offset".into(),
                    format!("offset must be a whole number of 0 or more, not {v}"),
                ));
            }
        },
    };
    Ok(q)
}

/// A URL query string of the filter parameters that are set (and `offset` when positive).
fn query_string(d: &Desc, params: &HashMap<String, String>, offset: i64) -> String {
    let mut out: Vec<(&str, &str)> = d
        .filters
        .iter()
        .filter_map(|f| {
            params
                .get(f.key())
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(|v| (f.key(), v))
        })
        .collect();
    let o = offset.to_string();
    if offset > 0 {
        out.push(("offset", &o));
    }
    serde_urlencoded::to_string(out).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Presentation

/// One presented cell of a page.
pub struct CellView {
    /// The text.
    pub text: String,
    /// A link, when the cell names another record.
    pub href: Option<String>,
    /// CSS class (`num`, `code` or empty).
    pub class: &'static str,
}

fn cell_view(c: Cell) -> CellView {
    let class = match &c {
        Cell::Int(_) | Cell::Number(..) | Cell::Yuan(_) | Cell::Rate(_) => "num",
        Cell::Code(_) => "code",
        _ => "",
    };
    let href = match &c {
        Cell::Link(_, h) => Some(h.clone()),
        _ => None,
    };
    CellView {
        text: c.text(),
        href,
        class,
    }
}

/// Division names for the place columns of these records (public reference data).
fn places(conn: &mut DbConn, d: &Desc, records: &[serde_json::Value]) -> Result<Places, AppError> {
    let codes = place_codes(d, records);
    Ok(crate::divisions::get_many(conn, &Access::system(), &codes)?
        .into_iter()
        .map(|x| (x.code, x.name))
        .collect())
}

/// A filter control of a list page.
pub struct FilterView {
    /// Parameter name.
    pub key: &'static str,
    /// Label.
    pub label: String,
    /// Options of a select (`(value, label, selected)`); empty for a text box or a check box.
    pub options: Vec<(String, String, bool)>,
    /// `select`, `text` or `check`.
    pub widget: &'static str,
    /// The current value.
    pub value: String,
}

/// The places a list can be narrowed to: the towns in the caller's scope, and the villages
/// too when the scope holds at most one town. `(code, label)`.
fn place_options(conn: &mut DbConn, access: &Access) -> Result<Vec<(String, String)>, AppError> {
    use crate::divisions::{self, ListFilter};
    let list = |conn: &mut DbConn, level: Level, limit: i64| {
        divisions::list(
            conn,
            access,
            &ListFilter {
                level: Some(level),
                ..Default::default()
            },
            limit,
            0,
        )
    };
    let mut all = list(conn, Level::Town, 10_000)?;
    if all.len() <= 1 {
        all.extend(list(conn, Level::Village, 2_000)?);
        all.sort_by(|a, b| a.code.cmp(&b.code));
    }
    Ok(all
        .into_iter()
        .map(|d| {
            let label = if d.level == "village" {
                format!("— {}", d.name)
            } else {
                d.name
            };
            (d.code, label)
        })
        .collect())
}

fn filter_views(t: Tr, d: &Desc, params: &HashMap<String, String>, towns: &[(String, String)]) -> Vec<FilterView> {
    let value = |k: &str| params.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    d.filters
        .iter()
        .filter_map(|f| {
            let key = f.key();
            let v = value(key);
            Some(match f {
                Filter::Text => FilterView {
                    key,
                    label: t.get("reg-name-contains"),
                    options: vec![],
                    widget: "text",
                    value: v,
                },
                Filter::Under => FilterView {
                    key,
                    label: t.get("reg-under"),
                    options: towns.iter().map(|(c, l)| (c.clone(), l.clone(), *c == v)).collect(),
                    widget: "select",
                    value: v,
                },
                Filter::Choice(k, choices) => FilterView {
                    key,
                    label: d.label(t, k),
                    options: choices
                        .iter()
                        .map(|c| (c.0.to_string(), choice_label(t, choices, c.0), c.0 == v))
                        .collect(),
                    widget: "select",
                    value: v,
                },
                Filter::Year(k) => FilterView {
                    key,
                    label: d.label(t, k),
                    options: vec![],
                    widget: "text",
                    value: v,
                },
                Filter::Flag(k) => FilterView {
                    key,
                    label: t.get(&format!("{}-filter-{}", d.key, k.replace('_', "-"))),
                    options: vec![],
                    widget: "check",
                    value: v,
                },
                // Narrowing to one related record or one community comes from links, not a box.
                Filter::Id(..) | Filter::Division(_) => return None,
            })
        })
        .collect()
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

#[derive(Template)]
#[template(path = "record_list.html")]
struct ListPage {
    c: Chrome,
    key: &'static str,
    title: String,
    new_label: Option<String>,
    filters: Vec<FilterView>,
    count: String,
    export: String,
    headers: Vec<(String, &'static str)>,
    rows: Vec<(Vec<CellView>, bool)>,
    any_illustrative: bool,
    pager: Pager,
    masked: bool,
    /// The related record the list is narrowed to: (label, its name, its page).
    narrowed: Option<(String, String, String)>,
    /// What was just done to a record (retired, deleted), if anything.
    done: Option<String>,
    /// Pages beside the list: (label, path).
    related: Vec<(String, &'static str)>,
}

fn to_params(q: HashMap<String, String>) -> HashMap<String, String> {
    q
}

async fn list_page(
    k: KindId,
    State(state): State<AppState>,
    u: PageUser,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let t = u.t;
    let d = k.desc();
    let params = to_params(params);
    let mut q = match list_query(d, &params, PAGE) {
        Ok(q) => q,
        Err(e) => return error_page(t, e),
    };
    q.limit = PAGE;
    let access = u.access.clone();
    let qq = q.clone();
    let narrow_to: Option<(&'static str, KindId, String)> = d.filters.iter().find_map(|f| match f {
        Filter::Id(key, kind) => q.value(key).map(|v| (*key, *kind, v.to_string())),
        _ => None,
    });
    let result = state
        .db
        .run(move |c| {
            let narrowed = match narrow_to {
                Some((key, kind, id)) => {
                    let r = kind.ops().get_json(c, &access, &id)?.ok_or(AppError::NotFound)?;
                    let name = r.get("name").and_then(|v| v.as_str()).unwrap_or(&id).to_string();
                    Some((key, kind, id, name))
                }
                None => None,
            };
            let page = k.ops().list_json(c, &access, &qq)?;
            let places = places(c, d, &page.items)?;
            let towns = if d.filters.contains(&Filter::Under) {
                place_options(c, &access)?
            } else {
                Vec::new()
            };
            Ok::<_, AppError>((page, places, towns, narrowed))
        })
        .await;
    let (page, places, towns, narrowed) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let columns: Vec<_> = d.columns.iter().filter(|c| c.list).collect();
    // A kind without a column linking to its own records (income rows, targets) links each
    // row's first cell to the record's page.
    let links_itself = columns
        .iter()
        .any(|c| matches!(c.show, Show::Link(kind, _) if kind == k));
    let rows: Vec<(Vec<CellView>, bool)> = page
        .items
        .iter()
        .map(|r| {
            let mut cells: Vec<CellView> = columns.iter().map(|c| cell_view(cell(t, c, r, &places))).collect();
            if !links_itself && let (Some(first), Some(id)) = (cells.first_mut(), r.get("id").filter(|v| !v.is_null()))
            {
                let id = id.as_str().map_or_else(|| id.to_string(), str::to_string);
                first.href = Some(format!("/{}/{id}", d.key));
            }
            (cells, r.get("illustrative").and_then(|v| v.as_bool()).unwrap_or(false))
        })
        .collect();
    let headers = columns
        .iter()
        .map(|c| {
            let class = match c.show {
                Show::Int | Show::Decimal(_) | Show::Fen | Show::Rate => "num",
                _ => "",
            };
            (d.label(t, c.key), class)
        })
        .collect();
    let qs = |o: i64| query_string(d, &params, o);
    html(&ListPage {
        c: Chrome::of(&u),
        key: d.key,
        title: d.name(t),
        new_label: u
            .access
            .can(d.perms.write)
            .then(|| t.args("record-new", &[("kind", d.one(t))])),
        filters: filter_views(t, d, &params, &towns),
        count: t.args("record-count", &[("count", page.total.to_string())]),
        export: qs(0),
        headers,
        any_illustrative: rows.iter().any(|r| r.1),
        pager: Pager::new(q.offset, rows.len(), page.total, &qs),
        rows,
        masked: d.fields.iter().any(|f| f.personal),
        narrowed: narrowed.map(|(_, kind, id, name)| (kind.desc().one(t), name, format!("/{}/{id}", kind.key()))),
        done: params.contains_key("retired_id").then(|| {
            t.get(if d.retire == Retire::Delete {
                "record-deleted"
            } else {
                "record-retired"
            })
        }),
        related: related(k)
            .iter()
            .filter(|(_, p)| *p != format!("/{}", d.key))
            .map(|(label, p)| (t.get(label), *p))
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// XLSX

/// Rows read from the data layer at a time while writing an export.
pub const EXPORT_PAGE: i64 = 1_000;

async fn export(
    k: KindId,
    State(state): State<AppState>,
    u: PageUser,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let t = u.t;
    let d = k.desc();
    let q = match list_query(d, &params, EXPORT_PAGE) {
        Ok(q) => q,
        Err(e) => return error_page(t, e),
    };
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let columns: Vec<&crate::kind::Column> = d.columns.iter().collect();
            // A place is exported as its name and, beside it, its code.
            let mut headers: Vec<String> = Vec::new();
            for col in &columns {
                headers.push(d.label(t, col.key));
                if col.show == Show::Place {
                    headers.push(t.args("record-code-of", &[("label", d.label(t, col.key))]));
                }
            }
            headers.push(t.get("illustrative"));
            let index = t.get("reg-col-id");
            super::export::typed_workbook(&d.name(t), Some(&index), &headers, |offset| {
                let page = k.ops().list_json(
                    c,
                    &access,
                    &ListQuery {
                        limit: EXPORT_PAGE,
                        offset,
                        ..q.clone()
                    },
                )?;
                let places = places(c, d, &page.items)?;
                Ok(page
                    .items
                    .iter()
                    .map(|r| {
                        let mut cells = Vec::with_capacity(headers.len());
                        for col in &columns {
                            cells.push(cell(t, col, r, &places));
                            if col.show == Show::Place {
                                cells.push(match r.get(col.key).and_then(|v| v.as_str()) {
                                    Some(code) => Cell::Code(code.to_string()),
                                    None => Cell::Empty,
                                });
                            }
                        }
                        let illustrative = r.get("illustrative").and_then(|v| v.as_bool()).unwrap_or(false);
                        cells.push(if illustrative {
                            Cell::Text(t.get("illustrative"))
                        } else {
                            Cell::Empty
                        });
                        cells
                    })
                    .collect())
            })
        })
        .await;
    match result {
        Ok(bytes) => super::export::xlsx_response(&format!("{}.xlsx", d.key), bytes),
        Err(e) => error_page(t, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Detail

#[derive(Template)]
#[template(path = "record.html")]
struct DetailPage {
    c: Chrome,
    key: &'static str,
    id: String,
    kind_name: String,
    title: String,
    facts: Vec<(String, CellView)>,
    illustrative: bool,
    saved: Option<String>,
    can_edit: bool,
    can_retire: bool,
    /// The kind is retired by deletion (the button says so).
    delete: bool,
}

/// The success message and the Edit / Retire buttons of a record's page (kinds with a page of
/// their own include `record_actions.html`).
pub struct Actions {
    /// The kind's key.
    pub key: &'static str,
    /// The record's id.
    pub id: String,
    /// The success message after a form.
    pub saved: Option<String>,
    /// The caller may edit.
    pub can_edit: bool,
    /// The caller may retire.
    pub can_retire: bool,
    /// The kind is retired by deletion (the button says so).
    pub delete: bool,
}

impl Actions {
    /// The actions of record `id` of kind `k` for the caller.
    pub fn new(u: &PageUser, k: KindId, id: impl ToString, saved: Option<&str>) -> Actions {
        let d = k.desc();
        Actions {
            key: d.key,
            id: id.to_string(),
            saved: saved_message(u.t, saved),
            can_edit: u.access.can(d.perms.write),
            can_retire: d.retire != Retire::Never && u.access.can(d.perms.retire),
            delete: d.retire == Retire::Delete,
        }
    }
}

/// Query of a record's page: `saved=created|updated` after a form.
#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    /// `created` or `updated`.
    pub saved: Option<String>,
}

/// The success message after a form, for a record's page.
pub fn saved_message(t: Tr, saved: Option<&str>) -> Option<String> {
    match saved {
        Some("created") => Some(t.get("record-created")),
        Some("updated") => Some(t.get("record-updated")),
        _ => None,
    }
}

async fn detail_page(
    k: KindId,
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(sq): Query<SavedQuery>,
) -> Response {
    let t = u.t;
    let d = k.desc();
    let access = u.access.clone();
    let id2 = id.clone();
    let result = state
        .db
        .run(move |c| {
            let r = k.ops().get_json(c, &access, &id2)?.ok_or(AppError::NotFound)?;
            let places = places(c, d, std::slice::from_ref(&r))?;
            Ok::<_, AppError>((r, places))
        })
        .await;
    let (r, places) = match result {
        Ok(x) => x,
        Err(e) => return error_page(t, e),
    };
    let facts = d
        .columns
        .iter()
        .map(|c| (d.label(t, c.key), cell_view(cell(t, c, &r, &places))))
        .collect();
    let title = d
        .columns
        .first()
        .map(|c| cell(t, c, &r, &places).text())
        .unwrap_or_default();
    html(&DetailPage {
        c: Chrome::of(&u),
        key: d.key,
        id,
        kind_name: d.name(t),
        title,
        facts,
        illustrative: r.get("illustrative").and_then(|v| v.as_bool()).unwrap_or(false),
        saved: saved_message(t, sq.saved.as_deref()),
        can_edit: u.access.can(d.perms.write),
        can_retire: d.retire != Retire::Never && u.access.can(d.perms.retire),
        delete: d.retire == Retire::Delete,
    })
}

// ---------------------------------------------------------------------------------------------
// Forms

/// One field of a form.
pub struct FieldView {
    /// Field key (the input's name).
    pub key: &'static str,
    /// Label.
    pub label: String,
    /// Note under the field.
    pub note: Option<String>,
    /// `input`, `select`, `textarea`.
    pub widget: &'static str,
    /// For inputs: the `type` attribute.
    pub input_type: &'static str,
    /// For inputs: the `inputmode` attribute (empty: none).
    pub inputmode: &'static str,
    /// Options of a select, or of the picker list (`(value, label)`).
    pub options: Vec<(String, String)>,
    /// The lookup URL a picker refreshes its list from as one types (empty: none).
    pub lookup: String,
    /// What is (or was) typed.
    pub value: String,
    /// Required.
    pub required: bool,
    /// The problem with the value, in the reader's language.
    pub error: Option<String>,
    /// For personal fields of an edit form: the masked stored value (left empty = unchanged).
    pub placeholder: String,
}

#[derive(Template)]
#[template(path = "record_form.html")]
struct FormPage {
    c: Chrome,
    key: &'static str,
    kind_name: String,
    title: String,
    action: String,
    cancel: String,
    fields: Vec<FieldView>,
    any_field_error: bool,
    errors: Vec<String>,
    submit: String,
}

/// Options of a division picker: the divisions of `levels` in the caller's scope, labelled
/// "town village" (a village) or by name (a town).
fn division_options(
    conn: &mut DbConn,
    access: &Access,
    levels: &[Level],
    q: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, AppError> {
    use crate::divisions::{self, ListFilter};
    let mut out = Vec::new();
    let mut towns: HashMap<String, String> = HashMap::new();
    let wanted: &[Level] = if levels.contains(&Level::County) {
        &[Level::County, Level::Town, Level::Village]
    } else {
        &[Level::Town, Level::Village]
    };
    for &level in wanted {
        let needed = match level {
            Level::Village => levels.contains(&Level::Village),
            // Towns also label villages.
            Level::Town => levels.contains(&Level::Town) || levels.contains(&Level::Village),
            _ => true,
        };
        if !needed {
            continue;
        }
        let list = divisions::list(
            conn,
            access,
            &ListFilter {
                level: Some(level),
                ..Default::default()
            },
            10_000,
            0,
        )?;
        for d in list {
            if level == Level::Town {
                towns.insert(d.code.clone(), d.name.clone());
            }
            if !levels.contains(&level) {
                continue;
            }
            let label = match (
                level,
                d.parent_code
                    .as_ref()
                    .and_then(|p| towns.get(p).or(d.parent_name.as_ref())),
            ) {
                (Level::Village, Some(town)) => format!("{town} {}", d.name),
                _ => d.name.clone(),
            };
            if q.is_empty() || label.contains(q) || d.code.starts_with(q) {
                out.push((label.clone(), format!("{label} · {}", d.code)));
            }
        }
    }
    out.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(out)
}

/// Options of a reference picker: records of `kind` in the caller's scope whose name contains
/// `q`, by their name.
fn ref_options(
    conn: &mut DbConn,
    access: &Access,
    kind: KindId,
    q: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, AppError> {
    let page = kind.ops().list_json(
        conn,
        access,
        &ListQuery {
            q: (!q.is_empty()).then(|| q.to_string()),
            limit,
            ..ListQuery::default()
        },
    )?;
    Ok(page
        .items
        .iter()
        .filter_map(|r| {
            let name = r.get("name")?.as_str()?.to_string();
            let code = r
                .get("code")
                .or_else(|| r.get("credit_code"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            // People who may share a name (cadres) are told apart by birth year and source.
            let person = r.get("birth_year").and_then(|v| v.as_i64()).map(|year| {
                match r.get("source_name").and_then(|v| v.as_str()) {
                    Some(source) => format!("{name} ({year}, {source})"),
                    None => format!("{name} ({year})"),
                }
            });
            let label = match (&code, person) {
                (_, Some(p)) => p,
                (Some(c), None) => format!("{name} · {c}"),
                (None, None) => name.clone(),
            };
            Some((name, label))
        })
        .collect())
}

/// The problems of a form, translated, by field key; problems of no field are general.
fn issue_texts(t: Tr, d: &Desc, issues: &[Issue]) -> (HashMap<String, String>, Vec<String>) {
    let mut by_field: HashMap<String, String> = HashMap::new();
    let mut general = Vec::new();
    for i in issues {
        let mut i = i.clone();
        if d.field(&i.field).is_some() {
            i.column = d.label(t, &i.field);
            let text = i.text(t);
            by_field
                .entry(i.field.clone())
                .and_modify(|e| {
                    e.push(' ');
                    e.push_str(&text);
                })
                .or_insert(text);
        } else {
            general.push(i.text(t));
        }
    }
    (by_field, general)
}

fn field_views(
    conn: &mut DbConn,
    access: &Access,
    t: Tr,
    d: &Desc,
    values: &Raw,
    errors: &HashMap<String, String>,
    editing: bool,
) -> Result<Vec<FieldView>, AppError> {
    let mut out = Vec::with_capacity(d.fields.len());
    for f in d.fields {
        let mut v = FieldView {
            key: f.key,
            label: d.label(t, f.key),
            note: d.note(t, f.key),
            widget: "input",
            input_type: "text",
            inputmode: "",
            options: Vec::new(),
            lookup: String::new(),
            value: values.text(f.key).to_string(),
            required: f.required && !(editing && f.personal),
            error: errors.get(f.key).cloned(),
            placeholder: String::new(),
        };
        match f.ty {
            Ty::Name | Ty::Text | Ty::Code | Ty::Multi => {}
            Ty::LongText => v.widget = "textarea",
            Ty::IdNumber => {
                v.inputmode = "text";
                if editing {
                    v.placeholder = t.get("record-personal-unchanged");
                }
            }
            Ty::Phone => {
                v.input_type = "tel";
                if editing {
                    v.placeholder = t.get("record-personal-unchanged");
                }
            }
            Ty::Date => v.input_type = "date",
            Ty::Year | Ty::Count | Ty::Integer => v.inputmode = "numeric",
            Ty::Decimal | Ty::Amount => v.inputmode = "decimal",
            Ty::Bool => {
                v.widget = "select";
                v.options = vec![
                    (String::new(), String::new()),
                    ("true".into(), t.get("reg-yes")),
                    ("false".into(), t.get("reg-no")),
                ];
            }
            Ty::Choice(choices) => {
                v.widget = "select";
                v.options = std::iter::once((String::new(), String::new()))
                    .chain(choices.iter().map(|c| (c.0.to_string(), choice_label(t, choices, c.0))))
                    .collect();
            }
            Ty::Division(levels) => {
                v.options = division_options(conn, access, levels, "", PICKER_OPTIONS)?;
                let lv: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
                v.lookup = format!("/api/v1/lookup/divisions?level={}", lv.join(","));
                // A stored code is shown by its label ("town village"), which the check accepts.
                if v.value.len() == 12 && v.value.bytes().all(|b| b.is_ascii_digit()) {
                    let found = crate::divisions::get_many(conn, &Access::system(), std::slice::from_ref(&v.value))?;
                    if let Some(d) = found.first() {
                        v.value = match (&d.level[..], &d.parent_name) {
                            ("village", Some(town)) => format!("{town} {}", d.name),
                            _ => d.name.clone(),
                        };
                    }
                }
            }
            Ty::Ref(kind) => {
                v.options = ref_options(conn, access, kind, "", PICKER_OPTIONS)?;
                v.lookup = format!("/api/v1/lookup/{}", kind.key());
            }
        }
        if editing && f.personal {
            v.value.clear();
        }
        out.push(v);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    u: &PageUser,
    conn: &mut DbConn,
    k: KindId,
    id: Option<&str>,
    values: &Raw,
    issues: &[Issue],
) -> Result<FormPage, AppError> {
    let t = u.t;
    let d = k.desc();
    let (by_field, errors) = issue_texts(t, d, issues);
    let fields = field_views(conn, &u.access, t, d, values, &by_field, id.is_some())?;
    Ok(FormPage {
        c: Chrome::of(u),
        key: d.key,
        kind_name: d.name(t),
        title: match id {
            None => t.args("record-new", &[("kind", d.one(t))]),
            Some(_) => t.args("record-edit", &[("kind", d.one(t))]),
        },
        action: match id {
            None => format!("/{}/new", d.key),
            Some(id) => format!("/{}/{id}/edit", d.key),
        },
        cancel: match id {
            None => format!("/{}", d.key),
            Some(id) => format!("/{}/{id}", d.key),
        },
        any_field_error: fields.iter().any(|f| f.error.is_some()),
        fields,
        errors,
        submit: t.get(if id.is_none() { "record-create" } else { "record-save" }),
    })
}

/// The new-record form, its fields filled from the query's parameters that name fields
/// (`/income/new?village=630121103201` from a village's page); other parameters are ignored.
async fn new_form(
    k: KindId,
    State(state): State<AppState>,
    u: PageUser,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let t = u.t;
    let d = k.desc();
    let start = Raw(params
        .into_iter()
        .filter(|(key, _)| d.field(key).is_some_and(|f| !f.personal))
        .collect());
    let u2 = u.clone();
    let st = state.clone();
    match state
        .db
        .run(move |c| {
            let mut values = with_cx(&st, c, &u2.access, |cx| k.ops().form_defaults(cx))?;
            values.0.extend(start.0);
            form_page(&u2, c, k, None, &values, &[])
        })
        .await
    {
        Ok(p) => html(&p),
        Err(e) => error_page(t, e),
    }
}

/// The fields of a kind from a URL-encoded form body (other names, such as `csrf_token`, are
/// left out).
fn form_raw(d: &Desc, body: &Bytes) -> Raw {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut raw = Raw::default();
    for (k, v) in pairs {
        if d.field(&k).is_some() {
            raw.0.insert(k, v);
        }
    }
    raw
}

/// A `Cx` for a request: the caller, the application's clock.
fn with_cx<T>(state: &AppState, conn: &mut DbConn, access: &Access, f: impl FnOnce(&mut Cx) -> T) -> T {
    let mut cx = Cx::new(conn, access, state.clock);
    f(&mut cx)
}

async fn create_post(k: KindId, State(state): State<AppState>, u: PageUser, body: Bytes) -> Response {
    let t = u.t;
    let d = k.desc();
    let raw = form_raw(d, &body);
    let u2 = u.clone();
    let st = state.clone();
    let result = state
        .db
        .run(move |c| {
            let r = with_cx(&st, c, &u2.access, |cx| k.ops().create(cx, &raw));
            match r {
                Ok(id) => Ok(Ok(id)),
                Err(WriteError::Invalid(issues)) => Ok(Err(form_page(&u2, c, k, None, &raw, &issues)?)),
                Err(e) => Err(write_error(e)),
            }
        })
        .await;
    match result {
        Ok(Ok(id)) => Redirect::to(&format!("/{}/{id}?saved=created", d.key)).into_response(),
        Ok(Err(page)) => (StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response(),
        Err(e) => error_page(t, e),
    }
}

async fn edit_form(k: KindId, State(state): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let t = u.t;
    let u2 = u.clone();
    let st = state.clone();
    match state
        .db
        .run(move |c| {
            let values = with_cx(&st, c, &u2.access, |cx| k.ops().form_values(cx, &id))?.ok_or(AppError::NotFound)?;
            form_page(&u2, c, k, Some(&id), &values, &[])
        })
        .await
    {
        Ok(p) => html(&p),
        Err(e) => error_page(t, e),
    }
}

async fn edit_post(
    k: KindId,
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let t = u.t;
    let d = k.desc();
    let raw = form_raw(d, &body);
    let u2 = u.clone();
    let st = state.clone();
    let id2 = id.clone();
    let result = state
        .db
        .run(move |c| {
            let r = with_cx(&st, c, &u2.access, |cx| k.ops().edit(cx, &id2, &raw));
            match r {
                Ok(()) => Ok(Ok(())),
                Err(WriteError::Invalid(issues)) => Ok(Err(form_page(&u2, c, k, Some(&id2), &raw, &issues)?)),
                Err(e) => Err(write_error(e)),
            }
        })
        .await;
    match result {
        Ok(Ok(())) => Redirect::to(&format!("/{}/{id}?saved=updated", d.key)).into_response(),
        Ok(Err(page)) => (StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response(),
        Err(e) => error_page(t, e),
    }
}

#[derive(Template)]
#[template(path = "record_retire.html")]
struct RetirePage {
    c: Chrome,
    key: &'static str,
    id: String,
    kind_name: String,
    title: String,
    name: String,
    reasons: Vec<(String, String, bool)>,
    warning: String,
    delete: bool,
    date: String,
    note: String,
    error: Option<String>,
}

fn retire_page(
    u: &PageUser,
    conn: &mut DbConn,
    k: KindId,
    id: &str,
    typed: &RetireInput,
    error: Option<String>,
) -> Result<RetirePage, AppError> {
    let t = u.t;
    let d = k.desc();
    let r = k.ops().get_json(conn, &u.access, id)?.ok_or(AppError::NotFound)?;
    let places = places(conn, d, std::slice::from_ref(&r))?;
    let name = d
        .columns
        .first()
        .map(|c| cell(t, c, &r, &places).text())
        .unwrap_or_default();
    let reasons = match d.retire {
        Retire::Keep(choices) => choices
            .iter()
            .map(|c| (c.0.to_string(), choice_label(t, choices, c.0), c.0 == typed.reason))
            .collect(),
        _ => Vec::new(),
    };
    Ok(RetirePage {
        c: Chrome::of(u),
        key: d.key,
        id: id.to_string(),
        kind_name: d.name(t),
        title: t.args(
            if d.retire == Retire::Delete {
                "record-delete-title"
            } else {
                "record-retire-title"
            },
            &[("kind", d.one(t))],
        ),
        warning: t.args(
            if d.retire == Retire::Delete {
                "record-delete-warning"
            } else {
                "record-retire-warning"
            },
            &[("name", name.clone())],
        ),
        name,
        reasons,
        delete: d.retire == Retire::Delete,
        date: typed.date.map(|x| x.to_string()).unwrap_or_default(),
        note: typed.note.clone(),
        error,
    })
}

async fn retire_form(k: KindId, State(state): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let t = u.t;
    let u2 = u.clone();
    match state
        .db
        .run(move |c| retire_page(&u2, c, k, &id, &RetireInput::default(), None))
        .await
    {
        Ok(p) => html(&p),
        Err(e) => error_page(t, e),
    }
}

async fn retire_post(
    k: KindId,
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let t = u.t;
    let d = k.desc();
    let pairs: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let date_text = pairs.get("date").map(|s| s.trim().to_string()).unwrap_or_default();
    let how = RetireInput {
        reason: pairs.get("reason").cloned().unwrap_or_default(),
        date: ringline_core::cell::date(&date_text).ok(),
        note: pairs.get("note").cloned().unwrap_or_default(),
    };
    let bad_date = !date_text.is_empty() && how.date.is_none();
    let u2 = u.clone();
    let st = state.clone();
    let id2 = id.clone();
    let result = state
        .db
        .run(move |c| {
            if bad_date {
                let msg = u2.t.get("record-retire-bad-date");
                return Ok(Err(retire_page(&u2, c, k, &id2, &how, Some(msg))?));
            }
            let r = with_cx(&st, c, &u2.access, |cx| k.ops().retire(cx, &id2, &how));
            match r {
                Ok(()) => Ok(Ok(())),
                Err(WriteError::Invalid(issues)) => {
                    let msg = issues.iter().map(|i| i.text(u2.t)).collect::<Vec<_>>().join(" ");
                    Ok(Err(retire_page(&u2, c, k, &id2, &how, Some(msg))?))
                }
                Err(WriteError::Conflict(code, _)) => {
                    let msg = u2.t.get(&format!("error-{code}"));
                    Ok(Err(retire_page(&u2, c, k, &id2, &how, Some(msg))?))
                }
                Err(e) => Err(write_error(e)),
            }
        })
        .await;
    match result {
        Ok(Ok(())) => Redirect::to(&format!("/{}?retired_id={id}", d.key)).into_response(),
        Ok(Err(page)) => (StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response(),
        Err(e) => error_page(t, e),
    }
}

impl From<WriteError> for AppError {
    fn from(e: WriteError) -> AppError {
        write_error(e)
    }
}

/// The application error of a refused write (invalid input is answered by the caller).
fn write_error(e: WriteError) -> AppError {
    match e {
        WriteError::NotFound => AppError::NotFound,
        WriteError::Forbidden => AppError::Forbidden,
        WriteError::Conflict(code, message) => AppError::Refused { code, message },
        WriteError::Db(e) => AppError::from(e),
        WriteError::Invalid(issues) => AppError::Invalid(issues),
    }
}

// ---------------------------------------------------------------------------------------------
// API

/// A page of records as the API answers it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RecordList {
    /// The records.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// All records matching the filters.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
}

async fn api_list(
    k: KindId,
    State(state): State<AppState>,
    u: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<RecordList>, AppError> {
    let q = list_query(k.desc(), &params, 100)?;
    let access = u.access.clone();
    let (limit, offset) = (q.limit, q.offset);
    let page = state.db.run(move |c| k.ops().list_json(c, &access, &q)).await?;
    Ok(Json(RecordList {
        items: page.items,
        total: page.total,
        limit,
        offset,
    }))
}

async fn api_get(
    k: KindId,
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let access = u.access.clone();
    let r = state.db.run(move |c| k.ops().get_json(c, &access, &id)).await?;
    r.map(Json).ok_or(AppError::NotFound)
}

fn json_body(body: &Bytes) -> Result<Raw, AppError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| AppError::BadRequest {
        code: "invalid-json",
        message: format!("the body is not valid JSON ({})", e.classify_name()),
    })?;
    Raw::from_json(&v).map_err(|message| AppError::BadRequest {
        code: "invalid-body",
        message,
    })
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "wrong data",
            serde_json::error::Category::Eof => "ends too early",
        }
    }
}

/// Keeps only the kind's field keys; an unknown key is refused by name (a typo must not be
/// dropped silently).
fn known_fields(d: &Desc, raw: Raw) -> Result<Raw, AppError> {
    let unknown: Vec<&String> = raw.0.keys().filter(|k| d.field(k).is_none()).collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = d.fields.iter().map(|f| f.key).collect();
        return Err(AppError::BadRequest {
            code: "unknown-field",
            message: format!(
                "unknown field(s) {}; the fields of {} are {}",
                unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                d.key,
                known.join(", ")
            ),
        });
    }
    Ok(raw)
}

async fn api_create(k: KindId, State(state): State<AppState>, u: ApiUser, body: Bytes) -> Result<Response, AppError> {
    let d = k.desc();
    let raw = known_fields(d, json_body(&body)?)?;
    let access = u.access.clone();
    let st = state.clone();
    let (id, record) = state
        .db
        .run(move |c| {
            let id = with_cx(&st, c, &access, |cx| k.ops().create(cx, &raw)).map_err(write_error)?;
            let record = k.ops().get_json(c, &access, &id)?;
            Ok::<_, AppError>((id, record))
        })
        .await?;
    let mut resp = (StatusCode::CREATED, Json(record)).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("/api/v1/{}/{id}", d.key)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

async fn api_patch(
    k: KindId,
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AppError> {
    let d = k.desc();
    let raw = known_fields(d, json_body(&body)?)?;
    let access = u.access.clone();
    let st = state.clone();
    let record = state
        .db
        .run(move |c| {
            with_cx(&st, c, &access, |cx| k.ops().edit(cx, &id, &raw)).map_err(write_error)?;
            k.ops().get_json(c, &access, &id).map_err(AppError::from)
        })
        .await?;
    record.map(Json).ok_or(AppError::NotFound)
}

async fn api_retire(
    k: KindId,
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let access = u.access.clone();
    let st = state.clone();
    state
        .db
        .run(move |c| {
            // An unknown record (or one outside the scope) answers 404 before the body is read.
            k.ops().get_json(c, &access, &id)?.ok_or(AppError::NotFound)?;
            let how = retire_body(&body)?;
            with_cx(&st, c, &access, |cx| k.ops().retire(cx, &id, &how)).map_err(write_error)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A retirement's JSON body (`{"reason", "date": "YYYY-MM-DD", "note"}`, all optional); a date
/// that is no date is refused by field.
fn retire_body(body: &Bytes) -> Result<RetireInput, AppError> {
    if body.is_empty() {
        return Ok(RetireInput::default());
    }
    let raw = json_body(body)?;
    let date = match raw.text("date").trim() {
        "" => None,
        d => Some(ringline_core::cell::date(d).map_err(|e| {
            AppError::Invalid(vec![Issue {
                field: "date".into(),
                column: "date".into(),
                key: e.key().into(),
                message: e.to_string(),
                ..Issue::default()
            }])
        })?),
    };
    Ok(RetireInput {
        reason: raw.text("reason").to_string(),
        date,
        note: raw.text("note").to_string(),
    })
}

/// Query of a lookup: the text typed so far.
#[derive(Debug, Default, Deserialize)]
pub struct LookupQuery {
    q: Option<String>,
    level: Option<String>,
}

/// One option of a picker.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LookupItem {
    /// What the field takes (a name, "town village", or a code).
    pub value: String,
    /// What the list shows.
    pub label: String,
}

async fn lookup(
    k: KindId,
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<LookupQuery>,
) -> Result<Json<Vec<LookupItem>>, AppError> {
    let access = u.access.clone();
    let text = q.q.unwrap_or_default().trim().chars().take(50).collect::<String>();
    let items = state.db.run(move |c| ref_options(c, &access, k, &text, 20)).await?;
    Ok(Json(
        items
            .into_iter()
            .map(|(value, label)| LookupItem { value, label })
            .collect(),
    ))
}

async fn lookup_divisions(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<LookupQuery>,
) -> Result<Json<Vec<LookupItem>>, AppError> {
    let access = u.access.clone();
    let text = q.q.unwrap_or_default().trim().chars().take(50).collect::<String>();
    let levels: Vec<Level> = q
        .level
        .unwrap_or_else(|| "town,village".into())
        .split(',')
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let items = state
        .db
        .run(move |c| division_options(c, &access, &levels, &text, 20))
        .await?;
    Ok(Json(
        items
            .into_iter()
            .map(|(value, label)| LookupItem { value, label })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

/// Adds every kind's paths (list, get, create, patch, retire, lookup) and schemas (the record
/// as read, the body as written) to the OpenAPI document.
pub fn add_openapi(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema};
    let en = Tr(crate::i18n::Lang::En);
    let error = || {
        ResponseBuilder::new()
            .description("error: {\"error\": {\"code\", \"message\", \"issues\"?}}")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    let json = |schema: RefOr<Schema>, description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
            .build()
    };
    let query = |name: &str, ty: Type, description: String| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .schema(Some(ObjectBuilder::new().schema_type(ty)))
            .description(Some(description))
            .build()
    };
    let path_id = || {
        ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some("the record's id"))
            .build()
    };
    let components = doc.components.get_or_insert_with(Default::default);
    for &k in KindId::ALL {
        let d = k.desc();
        let (record_name, record_schema) = k.ops().schema();
        components.schemas.insert(record_name.clone(), record_schema);
        let mut body = ObjectBuilder::new().description(Some(format!(
            "{} as typed: every value a text (numbers and yes/no may be JSON numbers and booleans); references by code or full name",
            d.name(en)
        )));
        for f in d.fields {
            let mut desc = d.label(en, f.key);
            if let Some(n) = d.note(en, f.key) {
                desc = format!("{desc}: {n}");
            }
            if let Ty::Choice(c) = f.ty {
                desc = format!(
                    "{desc} (one of {})",
                    c.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
                );
            }
            body = body.property(
                f.key,
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([
                        Type::String,
                        Type::Number,
                        Type::Boolean,
                        Type::Null,
                    ]))
                    .description(Some(desc)),
            );
        }
        let body_name = format!("{record_name}Input");
        components
            .schemas
            .insert(body_name.clone(), RefOr::T(Schema::Object(body.build())));
        let record_ref: RefOr<Schema> = Ref::from_schema_name(record_name.clone()).into();
        let list_schema = ObjectBuilder::new()
            .property(
                "items",
                utoipa::openapi::schema::ArrayBuilder::new().items(record_ref.clone()),
            )
            .property("total", ObjectBuilder::new().schema_type(Type::Integer))
            .property("limit", ObjectBuilder::new().schema_type(Type::Integer))
            .property("offset", ObjectBuilder::new().schema_type(Type::Integer))
            .required("items")
            .required("total")
            .required("limit")
            .required("offset")
            .build();
        let tag = d.key;
        let mut list = OperationBuilder::new()
            .tag(tag)
            .summary(Some(format!(
                "List {} in the caller's scope",
                d.name(en).to_lowercase()
            )))
            .response("200", json(RefOr::T(Schema::Object(list_schema)), "a page of records"))
            .response("401", error())
            .response("422", error());
        for f in d.filters {
            let (ty, text) = match f {
                Filter::Text => (Type::String, "names containing this text".to_string()),
                Filter::Under => (Type::String, "within this division subtree (12-digit code)".to_string()),
                Filter::Choice(key, c) => (
                    Type::String,
                    format!("{key}: one of {}", c.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")),
                ),
                Filter::Flag(key) => (Type::Boolean, format!("{key}: true narrows the list")),
                Filter::Id(key, kind) => (Type::Integer, format!("{key}: the id of a record of {}", kind.key())),
                Filter::Year(key) => (Type::Integer, format!("{key}: a calendar year (1949–2200)")),
                Filter::Division(key) => (
                    Type::String,
                    format!("{key}: a division code (a town takes its villages)"),
                ),
            };
            list = list.parameter(query(f.key(), ty, text));
        }
        list = list
            .parameter(query("limit", Type::Integer, "page size, 1–1000 (default 100)".into()))
            .parameter(query(
                "offset",
                Type::Integer,
                "records skipped, 0 or more (default 0)".into(),
            ));
        let base = format!("/api/v1/{}", d.key);
        doc.paths.add_path_operation(&base, vec![HttpMethod::Get], list.build());
        let input = RequestBodyBuilder::new()
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(body_name)))
                    .build(),
            )
            .required(Some(Required::True))
            .build();
        doc.paths.add_path_operation(
            &base,
            vec![HttpMethod::Post],
            OperationBuilder::new()
                .tag(tag)
                .summary(Some(format!(
                    "Create a {} (checked like a form or an import row)",
                    d.one(en)
                )))
                .request_body(Some(input.clone()))
                .response("201", json(record_ref.clone(), "created; Location names it"))
                .response("400", error())
                .response("401", error())
                .response("403", error())
                .response("415", error())
                .response("422", error())
                .build(),
        );
        let one = format!("{base}/{{id}}");
        doc.paths.add_path_operation(
            &one,
            vec![HttpMethod::Get],
            OperationBuilder::new()
                .tag(tag)
                .summary(Some(format!("One {}", d.one(en))))
                .parameter(path_id())
                .response("200", json(record_ref.clone(), "the record"))
                .response("401", error())
                .response("404", error())
                .build(),
        );
        doc.paths.add_path_operation(
            &one,
            vec![HttpMethod::Patch],
            OperationBuilder::new()
                .tag(tag)
                .summary(Some(format!(
                    "Change a {}: the fields given over the stored ones",
                    d.one(en)
                )))
                .parameter(path_id())
                .request_body(Some(input))
                .response("200", json(record_ref.clone(), "the changed record"))
                .response("400", error())
                .response("401", error())
                .response("403", error())
                .response("404", error())
                .response("422", error())
                .build(),
        );
        if d.retire != Retire::Never {
            doc.paths.add_path_operation(
                format!("{one}/retire"),
                vec![HttpMethod::Post],
                OperationBuilder::new()
                    .tag(tag)
                    .summary(Some(format!("Retire a {}", d.one(en))))
                    .parameter(path_id())
                    .request_body(Some(
                        RequestBodyBuilder::new()
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("RetireInput")))
                                    .build(),
                            )
                            .build(),
                    ))
                    .response("204", ResponseBuilder::new().description("retired").build())
                    .response("400", error())
                    .response("401", error())
                    .response("403", error())
                    .response("404", error())
                    .response("409", error())
                    .response("422", error())
                    .build(),
            );
        }
        let lookup_items = RefOr::T(Schema::Array(
            utoipa::openapi::schema::ArrayBuilder::new()
                .items(Ref::from_schema_name("LookupItem"))
                .build(),
        ));
        doc.paths.add_path_operation(
            format!("/api/v1/lookup/{}", d.key),
            vec![HttpMethod::Get],
            OperationBuilder::new()
                .tag("lookup")
                .summary(Some(format!("Names of {} for a picker", d.name(en).to_lowercase())))
                .parameter(query("q", Type::String, "text typed so far".into()))
                .response("200", json(lookup_items, "up to 20 options"))
                .response("401", error())
                .build(),
        );
    }
    use utoipa::PartialSchema;
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("RetireInput".into(), <RetireInput as PartialSchema>::schema());
    components
        .schemas
        .insert("LookupItem".into(), <LookupItem as PartialSchema>::schema());
    let lookup_items = RefOr::T(Schema::Array(
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(Ref::from_schema_name("LookupItem"))
            .build(),
    ));
    doc.paths.add_path_operation(
        "/api/v1/lookup/divisions",
        vec![HttpMethod::Get],
        OperationBuilder::new()
            .tag("lookup")
            .summary(Some("Divisions in the caller's scope for a picker"))
            .parameter(query("q", Type::String, "text typed so far".into()))
            .parameter(query(
                "level",
                Type::String,
                "town, village, or both separated by a comma".into(),
            ))
            .response("200", json(lookup_items, "up to 20 options"))
            .response("401", error())
            .build(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn list_queries_name_what_is_allowed() {
        let units = KindId::Units.desc();
        let e = list_query(units, &params(&[("kind", "shop")]), 100).expect_err("unknown kind");
        assert_eq!(e.code(), "invalid-kind");
        assert!(e.to_string().contains("non_public_enterprise"), "{e}");
        let e = list_query(KindId::Members.desc(), &params(&[("status", "x")]), 100).expect_err("unknown status");
        assert_eq!(e.code(), "invalid-status");
        assert!(e.to_string().contains("full, probationary"), "{e}");
        let e = list_query(KindId::Orgs.desc(), &params(&[("mode", "x")]), 100).expect_err("unknown mode");
        assert!(e.to_string().contains("own, joint, instructor"), "{e}");
        let e = list_query(units, &params(&[("under", "town")]), 100).expect_err("not a code");
        assert_eq!(e.code(), "invalid-under");
        for bad in ["0", "1001", "-1", "x"] {
            let e = list_query(units, &params(&[("limit", bad)]), 100).expect_err("limit");
            assert_eq!(e.code(), "invalid-limit", "{bad}");
        }
        assert_eq!(
            list_query(units, &params(&[("offset", "-5")]), 100)
                .expect_err("offset")
                .code(),
            "invalid-offset"
        );
        let q = list_query(
            units,
            &params(&[("kind", " "), ("under", "630121103000"), ("q", ""), ("limit", "1000")]),
            100,
        )
        .expect("valid");
        assert_eq!(
            (q.value("kind"), q.under.as_deref(), q.q.as_deref(), q.limit),
            (None, Some("630121103000"), None, 1000)
        );
        let income = KindId::Income.desc();
        let q = list_query(income, &params(&[("year", "2025年")]), 100).expect("year");
        assert_eq!(q.value("year"), Some("2025"));
        for bad in ["1948", "2201", "二〇二五", "2025.5"] {
            let e = list_query(income, &params(&[("year", bad)]), 100).expect_err("year");
            assert_eq!(e.code(), "invalid-year", "{bad}");
        }
        let q = list_query(KindId::Members.desc(), &params(&[("org_id", "12")]), 100).expect("id");
        assert_eq!(q.value("org_id"), Some("12"));
        assert_eq!(
            list_query(KindId::Members.desc(), &params(&[("org_id", "a")]), 100)
                .expect_err("id")
                .code(),
            "invalid-org-id"
        );
    }

    #[test]
    fn query_strings_keep_filters_and_drop_blanks() {
        let p = params(&[
            ("kind", "non_public_enterprise"),
            ("under", ""),
            ("q", "东峡"),
            ("uncovered", "true"),
            ("csrf_token", "x"),
        ]);
        let units = KindId::Units.desc();
        assert_eq!(
            query_string(units, &p, 100),
            "kind=non_public_enterprise&q=%E4%B8%9C%E5%B3%A1&uncovered=true&offset=100"
        );
        assert_eq!(
            query_string(units, &p, 0),
            "kind=non_public_enterprise&q=%E4%B8%9C%E5%B3%A1&uncovered=true"
        );
    }
}
