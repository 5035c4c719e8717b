//! Every page a county administrator can open fits the window: at a phone's 390 px (and at the
//! desktop's 1366 px) the page itself never scrolls sideways — `document.documentElement
//! .scrollWidth <= window.innerWidth`; a wide table scrolls inside its own `.table-wrap` box.
//!
//! The pages are those of `ringline::web::route_specs()`: every GET route except the JSON API
//! (`/api/…`), static files (`/static/…`), downloads (`….xlsx`, `/import/templates/{file}`), the
//! health check and the language switch (a redirect). Path parameters are filled from the
//! county demo (`generate::demo_with`, a small one: the first record of every record kind, and
//! richer records for some pages) and from two imports made in the browser (one with errors, one
//! applied), so no page is an empty shell; a route this test cannot fill fails it, so a new page
//! cannot slip by.
//!
//! With `RINGLINE_SCREENSHOTS=<folder>`, each page is also photographed there, whole, at the
//! test's width.

use std::collections::HashMap;

use diesel::prelude::*;
use ringline::access::Access;
use ringline::db::schema::{dispatch_batches, lead_products, party_orgs, residencies, users, zones};
use ringline::generate;
use ringline::kind::{KindId, ListQuery};

use crate::app::COUNTY;
use crate::driver::{Browser, Ctx};
use crate::flows::{UNITS_FIXED, UNITS_WITH_ERRORS, log_in_as_admin, upload_units};

at_both_widths!(every_page_fits);

/// Whether screenshots were asked for (`RINGLINE_SCREENSHOTS` names a folder).
fn screenshots_wanted() -> bool {
    std::env::var_os("RINGLINE_SCREENSHOTS").is_some_and(|v| !v.is_empty())
}

/// 东峡镇, whose page lists its villages.
const DONGXIA: &str = "630121103000";

/// Routes that are no page: why each is left out.
fn not_a_page(path: &str) -> Option<&'static str> {
    if path.starts_with("/api/") {
        Some("JSON API")
    } else if path.starts_with("/static/") {
        Some("static file")
    } else if path.ends_with(".xlsx") || path == "/import/templates/{file}" {
        Some("XLSX download")
    } else if path == "/healthz" {
        Some("health check (JSON)")
    } else if path == "/lang/{code}" {
        Some("language switch (sets a cookie and redirects)")
    } else {
        None
    }
}

/// The value of a route's one path parameter, by what precedes it (`units` for `/units/{id}`
/// and `/units/{id}/edit`, `import/jobs` for `/import/jobs/{id}`).
fn fill(pattern: &str, ids: &HashMap<&'static str, String>) -> String {
    let Some(open) = pattern.find('{') else {
        return pattern.to_string();
    };
    let close = pattern[open..].find('}').expect("a closing brace") + open;
    assert!(
        !pattern[close..].contains('{'),
        "{pattern}: more than one parameter; teach the page walk to fill it"
    );
    let owner = pattern[..open].trim_matches('/');
    let id = ids
        .get(owner)
        .unwrap_or_else(|| panic!("no value for {pattern} (after {owner:?}): give the page walk one"));
    format!("{}{id}{}", &pattern[..open], &pattern[close + 1..])
}

/// The first id of a query's answer.
fn first(found: QueryResult<i64>, what: &str) -> String {
    found
        .unwrap_or_else(|e| panic!("the demo has a {what}: {e}"))
        .to_string()
}

/// Writes the demo (a small one: 1,000 members) and returns an id for each kind of page: the
/// first record of every record kind (as its list gives it), then richer choices for some
/// pages, and the ids of the pages that are no record kind's.
fn demo_ids(cx: &Ctx) -> HashMap<&'static str, String> {
    let mut conn = cx.app.conn();
    let conn = &mut *conn;
    generate::demo_with(conn, COUNTY, 1000, &generate::Options::default()).expect("the demo");
    let mut ids = HashMap::new();
    for &k in KindId::ALL {
        let page = k
            .ops()
            .list_json(
                conn,
                &Access::system(),
                &ListQuery {
                    limit: 1,
                    ..ListQuery::default()
                },
            )
            .unwrap_or_else(|e| panic!("listing {}: {e}", k.key()));
        let item = page
            .items
            .first()
            .unwrap_or_else(|| panic!("the demo has no {}", k.key()));
        let id = match &item["id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            other => panic!("{}: an id, not {other}", k.key()),
        };
        ids.insert(k.key(), id);
    }
    // The draft batch with its plan, pins and confirmation form.
    ids.insert(
        "dispatch",
        first(
            dispatch_batches::table
                .filter(dispatch_batches::name.eq(generate::DEMO_BATCH))
                .select(dispatch_batches::id)
                .first(conn),
            "draft batch",
        ),
    );
    // The county party committee: its page lists the town committees under it.
    ids.insert(
        "orgs",
        first(
            party_orgs::table
                .filter(party_orgs::code.eq(COUNTY))
                .select(party_orgs::id)
                .first(conn),
            "county committee",
        ),
    );
    let zone = first(zones::table.select(zones::id).order(zones::id).first(conn), "zone");
    ids.insert("economy/zones", zone);
    ids.insert("divisions", DONGXIA.to_string());
    let village: String = lead_products::table
        .select(lead_products::village_code)
        .order(lead_products::id)
        .first(conn)
        .expect("the demo has a lead product");
    ids.insert("villages", village);
    ids.insert(
        "residencies",
        first(
            residencies::table
                .select(residencies::id)
                .order(residencies::id)
                .first(conn),
            "residency",
        ),
    );
    ids.insert(
        "admin/users",
        first(
            users::table
                .filter(users::username.eq("admin"))
                .select(users::id)
                .first(conn),
            "admin",
        ),
    );
    ids
}

/// Checks the page shown for `path`: it is the page (not the login page, not an error page);
/// photographs it when screenshots are wanted. Returns what sticks out, if the page does not
/// fit the window.
async fn check_page(b: &Browser, path: &str) -> Option<String> {
    let shown = b.path().await;
    assert!(
        path == "/login" || !shown.starts_with("/login"),
        "{path} sent the county administrator to {shown}"
    );
    assert!(
        !b.has("section.error").await,
        "{path} is an error page: {}",
        b.text("section.error").await
    );
    let wrong = b.overflow().await;
    if screenshots_wanted() {
        let name: String = path
            .trim_matches('/')
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        b.save_screenshot(if name.is_empty() { "home" } else { &name }).await;
    }
    wrong
}

/// Flow 6: every page, filled with the demo's records, fits the window.
async fn every_page_fits(cx: Ctx) {
    let mut ids = demo_ids(&cx);
    let b = &cx.b;
    let mut too_wide = Vec::new();
    b.goto("/login").await;
    too_wide.extend(check_page(b, "/login").await);
    log_in_as_admin(b).await;

    // An import's report with errors, and an applied import (what `/import/runs/{id}` shows).
    let job = upload_units(b, &cx.app, "units-with-errors.csv", UNITS_WITH_ERRORS).await;
    ids.insert("import/jobs", job.trim_start_matches("/import/jobs/").to_string());
    upload_units(b, &cx.app, "units-fixed.csv", UNITS_FIXED).await;
    b.click_to_next_page("form[action$='/apply'] button[type=submit]").await;
    let undo = b.with_text("a[href^='/import/runs/']", "撤销这次导入…").await;
    let run = undo
        .attr("href")
        .await
        .expect("the link's address")
        .expect("an address");
    ids.insert("import/runs", run.trim_start_matches("/import/runs/").to_string());

    let mut visited = Vec::new();
    for spec in ringline::web::route_specs() {
        if spec.method != axum::http::Method::GET || not_a_page(spec.path).is_some() {
            continue;
        }
        let path = fill(spec.path, &ids);
        b.goto(&path).await;
        too_wide.extend(check_page(b, &path).await);
        visited.push(path);
    }
    assert!(
        too_wide.is_empty(),
        "pages wider than the window:\n{}",
        too_wide.join("\n")
    );
    // The list pages, forms and record pages of every kind, and the product's own pages: far
    // more than 40 (50 when written); the exact count follows the routes.
    assert!(visited.len() > 40, "only {} pages: {visited:?}", visited.len());
    eprintln!("{} pages fit at {}", visited.len(), b.width.name());
}
