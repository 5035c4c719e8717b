//! HTML pages: login through the form, the program, zone and division pages, languages and the
//! security headers every response carries.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::Value;

use crate::datong;
use crate::harness::{ADMIN_PASSWORD, TestApp, new_client, set_cookie};

/// The value of the hidden `<input name="{name}" value="…">` of a page.
fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("the page has a hidden {name} field"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("a Location header on {}", r.status()))
        .to_str()
        .expect("ascii")
        .to_string()
}

async fn text_of(app: &TestApp, path: &str, lang: &str) -> (StatusCode, String) {
    let r = app
        .client
        .get(app.url(path))
        .header("Accept-Language", lang)
        .send()
        .await
        .expect("GET");
    let status = r.status();
    if status == StatusCode::OK {
        let ct = r.headers()[CONTENT_TYPE].to_str().expect("ascii").to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
    }
    (status, r.text().await.expect("body"))
}

/// The text of the page's `<title>`, which must be plain text (no markup).
fn title_of(html: &str) -> String {
    let start = html.find("<title>").expect("a <title>") + "<title>".len();
    let end = html[start..].find("</title>").expect("</title>") + start;
    html[start..end].to_string()
}

/// The part of `html` from `marker` to the end of the first table after it.
fn section_after<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("{marker}"));
    let end = html[start..].find("</table>").expect("</table>") + start;
    &html[start..end]
}

/// Program id and the zones' ids in display order, from the API (the caller is logged in).
async fn program_and_zone_ids(app: &TestApp) -> (i64, Vec<i64>) {
    let (_, programs) = app.get_json("/api/v1/programs").await;
    let pid = programs["items"][0]["id"].as_i64().expect("program id");
    let (_, detail) = app.get_json(&format!("/api/v1/zones?program_id={pid}")).await;
    let zones = detail["items"]
        .as_array()
        .expect("zones")
        .iter()
        .map(|z| z["id"].as_i64().expect("zone id"))
        .collect();
    (pid, zones)
}

async fn pages_redirect_to_the_login_without_a_session(app: TestApp) {
    for (path, next) in [
        ("/programs/1", "/programs/1"),
        ("/zones/1", "/zones/1"),
        ("/divisions", "/divisions"),
        ("/divisions/630121100202", "/divisions/630121100202"),
        ("/", "/"),
        ("/divisions?level=town&x=a b", "/divisions%3Flevel%3Dtown%26x%3Da%2520b"),
    ] {
        let r = app.get(path).await;
        assert!(
            matches!(r.status(), StatusCode::SEE_OTHER | StatusCode::TEMPORARY_REDIRECT),
            "{path}: {}",
            r.status()
        );
        assert_eq!(location(&r), format!("/login?next={next}"), "{path}");
    }
}

async fn login_form_sets_a_session(app: TestApp) {
    let r = app.get("/login?next=/divisions").await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = set_cookie(&r, "ringline_login_csrf")
        .expect("a login CSRF cookie")
        .to_string();
    let lower = cookie.to_ascii_lowercase();
    assert!(
        lower.contains("httponly") && lower.contains("samesite=strict"),
        "{cookie}"
    );
    let cookie_value = cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("value");
    let html = r.text().await.expect("body");
    let token = hidden_field(&html, "csrf_token");
    assert_eq!(token, cookie_value, "double-submit: the form repeats the cookie");
    assert!(token.len() >= 32, "{token}");
    assert_eq!(hidden_field(&html, "next"), "/divisions");

    let r = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", token.as_str()),
            ("next", "/divisions"),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/divisions");
    let session = set_cookie(&r, "ringline_session")
        .expect("a session cookie")
        .to_string();
    assert!(session.to_ascii_lowercase().contains("httponly"), "{session}");

    let (status, html) = text_of(&app, "/divisions", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(">admin · "), "the page names the user");
}

async fn login_form_refuses_a_missing_or_wrong_csrf_token(app: TestApp) {
    let html = app.get("/login").await.text().await.expect("body");
    let token = hidden_field(&html, "csrf_token");
    let post = |client: &reqwest::Client, csrf: &str, password: &str| {
        client
            .post(app.url("/login"))
            .form(&[
                ("username", "admin"),
                ("password", password),
                ("csrf_token", csrf),
                ("next", "/"),
            ])
            .send()
    };
    for wrong in ["", "wrong", &token[1..]] {
        let r = post(&app.client, wrong, ADMIN_PASSWORD).await.expect("POST");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "token {wrong:?}");
        assert!(set_cookie(&r, "ringline_session").is_none(), "no session for {wrong:?}");
    }
    // The right token from a client that never had the cookie (a cross-site post) fails too.
    let stranger = new_client();
    let r = post(&stranger, &token, ADMIN_PASSWORD).await.expect("POST");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&r, "ringline_session").is_none());

    // A refused form comes back with a fresh token; a wrong password then gets 401, no session.
    let html = app.get("/login").await.text().await.expect("body");
    let token = hidden_field(&html, "csrf_token");
    let r = post(&app.client, &token, "not-the-password").await.expect("POST");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&r, "ringline_session").is_none());

    let r = app.get("/programs/1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "still logged out");
    let (status, _) = app.get_json("/api/v1/divisions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// BUG (open redirect, src/web/pages.rs `safe_next` and `set_lang`): a `next` of `/\evil.example`
/// or `/<TAB>/evil.example` passes the "starts with `/` but not `//`" check, yet browsers read
/// `\` as `/` and drop tabs in URLs, so `Location: /\evil.example` sends the user to
/// `http://evil.example/` right after they log in. Expected to fail until `safe_next` refuses
/// backslashes and control characters.
async fn login_and_language_redirects_stay_on_this_site(app: TestApp) {
    fn stays_on_site(location: &str) -> bool {
        location.starts_with('/')
            && !location.starts_with("//")
            && !location.contains('\\')
            && !location.chars().any(char::is_control)
    }
    let hostile = [
        ("https://evil.example/", "https%3A%2F%2Fevil.example%2F"),
        ("//evil.example/", "%2F%2Fevil.example%2F"),
        ("/\\evil.example/", "%2F%5Cevil.example%2F"),
        ("/\t/evil.example/", "%2F%09%2Fevil.example%2F"),
    ];
    let mut offsite = Vec::new();
    for (next, encoded) in hostile {
        let r = app.get(&format!("/lang/en?next={encoded}")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = location(&r);
        if !stays_on_site(&to) {
            offsite.push(format!("GET /lang/en?next={next:?} redirects to {to:?}"));
        }
    }
    for (next, _) in hostile {
        let html = app.get("/login").await.text().await.expect("body");
        let token = hidden_field(&html, "csrf_token");
        let r = app
            .client
            .post(app.url("/login"))
            .form(&[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", token.as_str()),
                ("next", next),
            ])
            .send()
            .await
            .expect("POST /login");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = location(&r);
        if !stays_on_site(&to) {
            offsite.push(format!("POST /login with next={next:?} redirects to {to:?}"));
        }
    }
    assert!(offsite.is_empty(), "open redirects:\n{}", offsite.join("\n"));
}

async fn program_page_draws_the_zones(app: TestApp) {
    app.login().await;
    let (pid, _) = program_and_zone_ids(&app).await;
    let (status, html) = text_of(&app, &format!("/programs/{pid}"), "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert_eq!(title_of(&html), "大通县\u{201c}一环三线\u{201d}党建示范带 · ringline");
    assert!(html.contains("<svg"), "an inline SVG map");
    for name in ["一环 商贸经济示范区", "东峡线", "城关线", "第三线（川外片区）"] {
        assert!(html.contains(name), "{name}");
    }
    assert!(
        html.contains("class=\"village approximate\""),
        "approximate points are drawn"
    );
    assert!(html.contains("class=\"village\""), "own points are drawn");
    assert!(html.contains("class=\"seat\""), "town seats are drawn");
    // 195 = 64 + 37 + 48 + 46 villages in a zone of 313; 313 − 29 with own points = 284
    // placed at their seats.
    assert!(html.contains("<b>195</b> / 313"), "villages in zones");
    assert!(html.contains("<b>284</b>"), "approximate villages");
    // The CSP forbids inline code and styles, so the page must not depend on them.
    for forbidden in ["<script", "<style", " style=", "javascript:"] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }

    let (_, en) = text_of(&app, &format!("/programs/{pid}"), "en").await;
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Divisions") && !en.contains("行政区划"));
    assert!(en.contains("Dongxia line"), "zone names in English");
    let (_, zh) = text_of(&app, &format!("/programs/{pid}"), "zh-CN,zh;q=0.9,en;q=0.5").await;
    assert!(zh.contains("行政区划") && !zh.contains(">Divisions<"));

    let (status, html) = text_of(&app, "/programs/999999", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("404"));
}

async fn language_switch_sets_a_cookie(app: TestApp) {
    app.login().await;
    let r = app.get("/lang/en?next=/divisions").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/divisions");
    let cookie = set_cookie(&r, "ringline_lang").expect("a language cookie").to_string();
    assert!(cookie.starts_with("ringline_lang=en;"), "{cookie}");
    assert!(cookie.to_ascii_lowercase().contains("path=/"), "{cookie}");
    // The cookie wins over the browser's Accept-Language.
    let (_, html) = text_of(&app, "/divisions", "zh-CN").await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("Divisions"));

    let r = app.get("/lang/zh-CN?next=/divisions").await;
    assert!(
        set_cookie(&r, "ringline_lang")
            .expect("cookie")
            .starts_with("ringline_lang=zh-CN;")
    );
    let (_, html) = text_of(&app, "/divisions", "en").await;
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("行政区划"));
}

async fn every_response_carries_the_security_headers(app: TestApp) {
    let check = |what: &str, r: &reqwest::Response| {
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: Content-Security-Policy"))
            .to_str()
            .expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{what}: {csp}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{what}"
        );
        assert!(h.get("referrer-policy").is_some(), "{what}: Referrer-Policy");
    };
    let anonymous: Vec<(&str, StatusCode)> = vec![
        ("/login", StatusCode::OK),
        ("/programs/1", StatusCode::SEE_OTHER),
        ("/api/v1/divisions", StatusCode::UNAUTHORIZED),
        ("/api/openapi.json", StatusCode::OK),
        ("/healthz", StatusCode::OK),
        ("/static/style.css", StatusCode::OK),
        ("/no-such-page", StatusCode::NOT_FOUND),
    ];
    for (path, status) in anonymous {
        let r = app.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        check(path, &r);
    }
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": "wrong"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    check("failed login", &r);

    app.login().await;
    let (pid, zones) = program_and_zone_ids(&app).await;
    let logged_in: Vec<(String, StatusCode)> = vec![
        (format!("/programs/{pid}"), StatusCode::OK),
        (format!("/zones/{}", zones[0]), StatusCode::OK),
        ("/divisions".into(), StatusCode::OK),
        ("/divisions/999999999999".into(), StatusCode::NOT_FOUND),
        ("/api/v1/divisions?level=town".into(), StatusCode::OK),
        ("/api/v1/divisions/999999999999".into(), StatusCode::NOT_FOUND),
        ("/api/v1/divisions?limit=0".into(), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (path, status) in logged_in {
        let r = app.get(&path).await;
        assert_eq!(r.status(), status, "{path}");
        check(&path, &r);
    }
    // A logged-in user's error page keeps the navigation, so it is no dead end.
    for path in ["/divisions/999999999999", "/members/999999999", "/members?limit=0"] {
        let r = app.get(path).await;
        assert!(r.status().is_client_error(), "{path}");
        let html = r.text().await.expect("body");
        assert!(
            html.contains("<a href=\"/members\">"),
            "{path}: no navigation in {html}"
        );
    }
}

async fn zone_page_lists_members_with_the_reason(app: TestApp) {
    app.login().await;
    let (pid, zones) = program_and_zone_ids(&app).await;
    let ring = zones[0];
    let (status, html) = text_of(&app, &format!("/zones/{ring}"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/programs/{pid}\"")),
        "links back to the program"
    );
    // The ring's 64 members (datong::ZONE_MEMBER_COUNTS): 61 placed at their town seat, 3 with
    // their own point (闇门滩村, 向阳堡村, 河州庄村).
    let approximate = html
        .matches("<td>inside the zone (approximate point: town seat)</td>")
        .count();
    let own = html.matches("<td>inside the zone</td>").count();
    assert_eq!((approximate, own), (61, 3));
    assert_eq!(html.matches("<tr class=\"approximate\">").count(), 61);
    for name in ["闇门滩村委会", "向阳堡村委会", "河州庄村委会", "人民路南居委会"] {
        assert!(html.contains(name), "{name}");
    }
    // Distances with two decimals: 闇门滩村 0.436 km, 向阳堡村 4.949 km, 河州庄村 5.578 km from the
    // centre (haversine, WGS-84; see api.rs).
    for d in ["0.44", "4.95", "5.58"] {
        assert!(html.contains(&format!("<td class=\"num\">{d}</td>")), "{d}");
    }
    // Villages outside the ring are not listed (the map may still draw them): 上治泉村委会 is
    // 7.64 km away.
    let table = section_after(&html, "<h2>Member villages</h2>");
    assert_eq!(
        table.matches("<tr").count(),
        1 + 64,
        "header row and one row per member"
    );
    assert!(!table.contains("上治泉村委会"));

    let (_, zh) = text_of(&app, &format!("/zones/{ring}"), "zh-CN").await;
    assert_eq!(zh.matches("<td>位于范围内（近似位置：乡镇驻地）</td>").count(), 61);
    assert_eq!(zh.matches("<td>位于范围内</td>").count(), 3);

    let (status, _) = text_of(&app, "/zones/999999", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn divisions_page_shows_the_tree(app: TestApp) {
    app.login().await;
    let (status, html) = text_of(&app, "/divisions", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(title_of(&html), "Divisions · ringline");
    assert_eq!(html.matches("<summary>").count(), 20, "one entry per town");
    assert!(html.contains("20 towns"), "the summary counts the towns");
    assert!(html.contains("313 villages and communities"));
    for town in datong::of_level("town") {
        assert!(html.contains(&format!("{}</a> <span class=\"code\">{}</span>", town.name, town.code)));
    }
    // 东峡镇's entry shows its 14 villages.
    assert!(html.contains("东峡镇</a> <span class=\"code\">630121103000</span> · 14</summary>"));
}

async fn division_page_shows_a_village(app: TestApp) {
    app.login().await;
    let (_, zones) = program_and_zone_ids(&app).await;
    let (status, html) = text_of(&app, "/divisions/630121100202", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>闇门滩村委会</h1>"));
    assert_eq!(title_of(&html), "闇门滩村委会 · ringline");
    assert!(html.contains("630121100202"));
    assert!(
        html.contains("href=\"/divisions/630121100000\">桥头镇</a>"),
        "breadcrumb to the town"
    );
    // Its WGS-84 point with 6 decimals (GCJ-02 101.680874, 36.931111 converted).
    let p = datong::wgs(101.680874, 36.931111);
    assert!(html.contains(&format!("{:.6}, {:.6} (WGS-84)", p.lon, p.lat)), "point");
    assert!(
        !html.contains("class=\"tag approx\""),
        "its own point is not approximate"
    );
    // It is in the ring, with the reason and the distance (0.436 km).
    assert!(html.contains(&format!("href=\"/zones/{}\"", zones[0])));
    assert!(html.contains("<td>inside the zone</td>"));
    assert!(html.contains("<td class=\"num\">0.44</td>"));
    assert!(html.contains("data/datong/divisions.csv"), "history names the source");

    let (_, html) = text_of(&app, "/divisions/630121100001", "en").await;
    assert!(html.contains("人民路南居委会"));
    assert!(html.contains("class=\"tag approx\""), "approximate point marked");

    let (status, html) = text_of(&app, "/divisions/999999999999", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<h1>404</h1>"), "an HTML error page");
    assert!(html.contains("Not found"));
    let (_, api) = app.get_json("/api/v1/divisions/630121100202").await;
    assert_eq!(api["name"], Value::from("闇门滩村委会"));
}

async fn page_logout_needs_the_form_token(app: TestApp) {
    app.login().await;
    let (status, html) = text_of(&app, "/divisions", "en").await;
    assert_eq!(status, StatusCode::OK);
    // Every logged-in page carries the logout form with the session's CSRF token.
    let (_, session) = app.get_json("/api/v1/session").await;
    let token = hidden_field(&html, "csrf_token");
    assert_eq!(token, session["csrf_token"].as_str().expect("token"));

    for wrong in ["", "x"] {
        let r = app
            .client
            .post(app.url("/logout"))
            .form(&[("csrf_token", wrong)])
            .send()
            .await
            .expect("POST /logout");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{wrong:?}");
    }
    assert_eq!(app.get("/divisions").await.status(), StatusCode::OK, "still logged in");

    let r = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("POST /logout");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");
    let cleared = set_cookie(&r, "ringline_session")
        .expect("the cookie is cleared")
        .to_ascii_lowercase();
    assert!(
        cleared.contains("max-age=0") || cleared.contains("expires="),
        "{cleared}"
    );
    let r = app.get("/divisions").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?next=/divisions");
}

async fn names_are_escaped_in_pages_and_maps(app: TestApp) {
    // Division names come from import files; markup in them must stay text. This village has
    // its own point at 闇门滩村's, inside the ring, so it shows on every page.
    let name = "<script>alert(1)</script>&\"'村";
    let csv = format!(
        "code,name,level,parent_code,urban_rural_code,lng_gcj02,lat_gcj02\n\
         630121100290,\"{}\",village,630121100000,220,101.680874,36.931111\n",
        name.replace('"', "\"\"")
    );
    {
        let mut conn = app.conn();
        let path = app.write_file("xss.csv", csv.as_bytes());
        let plan = crate::calls::import(&mut conn, &path, &ringline::import::divisions::Options::default());
        assert_eq!(plan.counts().new, 1);
    }
    app.login().await;
    let (pid, zones) = program_and_zone_ids(&app).await;
    for path in [
        format!("/programs/{pid}"),
        format!("/zones/{}", zones[0]),
        "/divisions".to_string(),
        "/divisions/630121100290".to_string(),
        "/divisions/630121100000".to_string(),
    ] {
        let (status, html) = text_of(&app, &path, "en").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!html.contains("<script>"), "{path}: the name's markup is live");
        // Escaped as named (the SVG map) or numeric (askama) character references.
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;")
                || html.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#38;"),
            "{path}: the escaped name"
        );
    }
    let (_, d) = app.get_json("/api/v1/divisions/630121100290").await;
    assert_eq!(d["name"], name, "the API returns the name as stored");
}

/// The rows of the first sheet of an XLSX download, as text.
async fn xlsx_rows(client: &reqwest::Client, url: String) -> Vec<Vec<String>> {
    use calamine::Reader;
    let r = client.get(&url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    let ct = r.headers()[CONTENT_TYPE].to_str().expect("ascii").to_string();
    assert_eq!(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let cd = r.headers()["content-disposition"].to_str().expect("ascii").to_string();
    assert!(cd.starts_with("attachment;"), "{cd}");
    let bytes = r.bytes().await.expect("body").to_vec();
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).expect("first sheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

async fn exports_hold_what_the_user_may_see(app: TestApp) {
    {
        let mut conn = app.conn();
        // Another county in the same database, and 东峡镇's admin.
        let opts = ringline::import::divisions::Options {
            only: Some("630123".into()),
            ..Default::default()
        };
        crate::calls::import(&mut conn, &crate::harness::fixture("national/villages.csv"), &opts);
        crate::calls::create_user(
            &mut conn,
            "dongxia",
            "town-pass-1234",
            ringline::auth::Role::TownAdmin,
            datong::DONGXIA,
        );
    }
    app.login().await;
    let (_, zones) = program_and_zone_ids(&app).await;

    // The county admin: header + Datong's 1 + 20 + 313 divisions, numbered 1…n, codes as text,
    // in code order, coordinates as numbers.
    let rows = xlsx_rows(&app.client, app.url("/divisions.xlsx")).await;
    assert_eq!(rows.len(), 1 + 334);
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str()), ("1", datong::COUNTY));
    assert!(rows[1..].iter().all(|r| r[1].len() == 12 && r[1].starts_with("630121")));
    let p = datong::wgs(101.680874, 36.931111);
    let row = rows.iter().find(|r| r[1] == "630121100202").expect("闇门滩村");
    assert_eq!(row[2], "闇门滩村委会");
    let number = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    assert!(
        (number(&row[7]) - p.lon).abs() < 1e-6 && (number(&row[8]) - p.lat).abs() < 1e-6,
        "{row:?}"
    );
    let ring = xlsx_rows(&app.client, app.url(&format!("/zones/{}/members.xlsx", zones[0]))).await;
    assert_eq!(ring.len() as i64, 1 + datong::ZONE_MEMBER_COUNTS[0]);

    // 东峡镇's admin: the town and its 14 villages; of the zones, only its own villages.
    let town = new_client();
    app.login_as(&town, "dongxia", "town-pass-1234").await;
    let rows = xlsx_rows(&town, app.url("/divisions.xlsx")).await;
    assert_eq!(rows.len(), 1 + 15);
    assert!(rows[1..].iter().all(|r| r[1].starts_with("630121103")));
    let line = xlsx_rows(&town, app.url(&format!("/zones/{}/members.xlsx", zones[1]))).await;
    assert_eq!(line.len(), 1 + 14);
    let ring = xlsx_rows(&town, app.url(&format!("/zones/{}/members.xlsx", zones[0]))).await;
    assert_eq!(ring.len(), 1, "none of the ring's villages is in 东峡镇");
}

/// BUG (templates/zone.html): the zone page's `{% block title %}` also holds the include/exclude
/// section and the "To change this zone" hint (they were pasted into the title block as well as
/// at the end of the content), so the browser tab shows the hint text. Every page's `<title>`
/// must be its name alone. Expected to fail until the title block of zone.html is restored.
async fn page_titles_are_plain_text(app: TestApp) {
    let (_, login) = text_of(&app, "/login", "en").await;
    assert_eq!(title_of(&login), "Log in · ringline");
    app.login().await;
    let (pid, zones) = program_and_zone_ids(&app).await;
    let expected = [
        (
            format!("/programs/{pid}"),
            "Datong \u{2018}One Ring, Three Lines\u{2019} · ringline",
        ),
        ("/divisions".to_string(), "Divisions · ringline"),
        ("/divisions/630121103000".to_string(), "东峡镇 · ringline"),
        ("/divisions/999999999999".to_string(), "404 · ringline"),
        (
            format!("/zones/{}", zones[0]),
            "Ring: commerce and economy demonstration zone · ringline",
        ),
        (format!("/zones/{}", zones[1]), "Dongxia line · ringline"),
    ];
    let mut wrong = Vec::new();
    for (path, title) in expected {
        let (_, html) = text_of(&app, &path, "en").await;
        let got = title_of(&html);
        if got != title {
            wrong.push(format!("{path}: <title>{got}</title>"));
        }
    }
    assert!(
        wrong.is_empty(),
        "titles with more than the page name:\n{}",
        wrong.join("\n")
    );
}

on_both_backends!(
    pages_redirect_to_the_login_without_a_session,
    login_form_sets_a_session,
    login_form_refuses_a_missing_or_wrong_csrf_token,
    login_and_language_redirects_stay_on_this_site,
    program_page_draws_the_zones,
    language_switch_sets_a_cookie,
    every_response_carries_the_security_headers,
    zone_page_lists_members_with_the_reason,
    divisions_page_shows_the_tree,
    division_page_shows_a_village,
    page_titles_are_plain_text,
    page_logout_needs_the_form_token,
    names_are_escaped_in_pages_and_maps,
    exports_hold_what_the_user_may_see,
);
