//! The JSON API under `/api/v1`: sessions, divisions, programs and zones, the OpenAPI document
//! and the health check.

use std::collections::{BTreeSet, HashMap};

use reqwest::StatusCode;
use ringline::core::geo::haversine_km;
use serde_json::Value;

use crate::datong::{self, COUNTY, DONGXIA, QIAOTOU, TAER, ZONE_MEMBER_COUNTS};
use crate::harness::{ADMIN_PASSWORD, TestApp, new_client, set_cookie};

/// Asserts a JSON error body `{"error": {"code": <code>, "message": <non-empty>}}`.
fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error message: {body}"
    );
}

fn codes(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|d| d["code"].as_str().expect("code").to_string())
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number, not {v}"))
}

async fn api_calls_without_a_session_get_401(app: TestApp) {
    for path in [
        "/api/v1/divisions",
        "/api/v1/divisions/630121100202",
        "/api/v1/programs",
        "/api/v1/zones",
        "/api/v1/zones/1/members",
        "/api/v1/session",
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_error(&body, "unauthorized");
    }
    // A well-formed but unknown session token is no better than none.
    let r = new_client()
        .get(app.url("/api/v1/divisions"))
        .header("Cookie", format!("ringline_session={}", "ab".repeat(32)))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn api_login_checks_the_password_and_sets_a_safe_cookie(app: TestApp) {
    let post = |user: &str, pass: &str| {
        app.client
            .post(app.url("/api/v1/session"))
            .json(&serde_json::json!({"username": user, "password": pass}))
            .send()
    };
    // A wrong password and an unknown user get the same answer, and no session.
    for (user, pass) in [("admin", "wrong-pass"), ("nobody", ADMIN_PASSWORD)] {
        let r = post(user, pass).await.expect("POST");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert!(set_cookie(&r, "ringline_session").is_none(), "no session cookie");
        assert_error(&r.json::<Value>().await.expect("JSON"), "bad-credentials");
    }
    let (status, _) = app.get_json("/api/v1/divisions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "failed logins open no session");

    let r = post("admin", ADMIN_PASSWORD).await.expect("POST");
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = set_cookie(&r, "ringline_session")
        .expect("a session cookie")
        .to_string();
    let attrs: Vec<String> = cookie.split(';').map(|a| a.trim().to_ascii_lowercase()).collect();
    assert!(attrs.contains(&"httponly".to_string()), "{cookie}");
    assert!(attrs.contains(&"samesite=lax".to_string()), "{cookie}");
    assert!(attrs.contains(&"path=/".to_string()), "{cookie}");
    let token = attrs[0].trim_start_matches("ringline_session=");
    assert_eq!(token.len(), 64, "a 32-byte random token in hex: {cookie}");
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["username"], "admin");
    assert_eq!(body["role"], "county-admin");
    assert_eq!(body["scope"], COUNTY);
    let csrf = body["csrf_token"].as_str().expect("csrf_token");
    assert_eq!(csrf.len(), 64);
    assert_ne!(csrf, token, "the CSRF token is not the session token");

    // The session is now usable and reports the same CSRF token.
    let (status, session) = app.get_json("/api/v1/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["csrf_token"], csrf);
    assert_eq!(session["role"], "county-admin");
}

async fn division_list_counts_and_filters(app: TestApp) {
    app.login().await;
    let villages_csv: BTreeSet<String> = datong::of_level("village").into_iter().map(|r| r.code).collect();

    let (status, body) = app.get_json("/api/v1/divisions?level=village&limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 313, "313 village-level rows in divisions.csv");
    assert_eq!(body["limit"], 1000);
    let got = codes(&body["items"]);
    assert_eq!(got.len(), 313);
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted, "ordered by code");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), villages_csv);
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|d| d["level"] == "village" && d["status"] == "active")
    );

    let (_, body) = app.get_json("/api/v1/divisions?level=town").await;
    assert_eq!(body["total"], 20);
    let towns: BTreeSet<String> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect();
    let towns_csv: BTreeSet<String> = datong::of_level("town").into_iter().map(|r| r.name).collect();
    assert_eq!(towns, towns_csv);

    // 东峡镇 has 14 villages: `grep -c ',630121103000,' divisions.csv` (only villages name a town
    // as parent).
    let (_, body) = app
        .get_json("/api/v1/divisions?parent=630121103000&level=village")
        .await;
    assert_eq!(body["total"], 14);
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 14);
    for d in items {
        assert_eq!(d["parent_code"], DONGXIA);
        assert_eq!(d["parent_name"], "东峡镇");
    }

    // No filter: the whole county, 1 + 20 + 313 rows, first page of the default size 100.
    let (_, body) = app.get_json("/api/v1/divisions").await;
    assert_eq!(body["total"], 334);
    assert_eq!(body["limit"], 100);
    assert_eq!(body["items"].as_array().expect("items").len(), 100);
    assert_eq!(body["items"][0]["code"], COUNTY, "the county sorts first");
}

async fn division_list_rejects_bad_parameters(app: TestApp) {
    app.login().await;
    for (query, code) in [
        ("limit=0", "invalid-limit"),
        ("limit=1001", "invalid-limit"),
        ("limit=-5", "invalid-limit"),
        ("level=bogus", "invalid-level"),
        ("offset=-1", "invalid-offset"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/divisions?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_error(&body, code);
    }
    // The limits themselves are allowed.
    for query in ["limit=1", "limit=1000", "level=", "level=TOWN"] {
        let (status, _) = app.get_json(&format!("/api/v1/divisions?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
    }
}

async fn division_list_pages_through_all_villages(app: TestApp) {
    app.login().await;
    // 313 villages in pages of 100: 100, 100, 100, 13.
    let mut all = Vec::new();
    for (offset, expected) in [(0, 100), (100, 100), (200, 100), (300, 13), (400, 0)] {
        let (status, body) = app
            .get_json(&format!("/api/v1/divisions?level=village&limit=100&offset={offset}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["total"], 313);
        assert_eq!(body["offset"], offset);
        let page = codes(&body["items"]);
        assert_eq!(page.len(), expected, "offset {offset}");
        all.extend(page);
    }
    let mut expected: Vec<String> = datong::of_level("village").into_iter().map(|r| r.code).collect();
    expected.sort();
    assert_eq!(
        all, expected,
        "pages are disjoint, in code order, and cover every village"
    );
    // The last village in code order is 朔北藏族乡's last one.
    assert!(all[312].starts_with("630121210"));
}

async fn division_detail_has_wgs84_points_and_marks_approximate_ones(app: TestApp) {
    app.login().await;

    // 闇门滩村委会 has its own GCJ-02 point (101.680874, 36.931111) in the CSV.
    let (status, d) = app.get_json("/api/v1/divisions/630121100202").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["name"], "闇门滩村委会");
    assert_eq!(d["level"], "village");
    assert_eq!(d["kind"], "villagers_committee", "village digits 202 lie in 200–399");
    assert_eq!(d["parent_code"], QIAOTOU);
    assert_eq!(d["parent_name"], "桥头镇");
    assert_eq!(d["urban_rural_code"], "122");
    assert_eq!(d["status"], "active");
    assert_eq!(d["approximate"], false);
    let gcj = ringline::core::geo::LonLat {
        lon: 101.680874,
        lat: 36.931111,
    };
    let expected = datong::wgs(gcj.lon, gcj.lat);
    let (lon, lat) = (f(&d["lon"]), f(&d["lat"]));
    assert!((lon - expected.lon).abs() < 1e-6, "{lon} vs {}", expected.lon);
    assert!((lat - expected.lat).abs() < 1e-6, "{lat} vs {}", expected.lat);
    // Cross-check with a separate implementation of the GCJ-02 formula (inverted by iteration
    // in a script): WGS-84 (101.678991, 36.931054), i.e. 167 m west-south-west of the GCJ point.
    assert!(
        (lon - 101.678_991).abs() < 2e-6 && (lat - 36.931_054).abs() < 2e-6,
        "{lon}, {lat}"
    );
    let offset_m = haversine_km(gcj, expected) * 1000.0;
    assert!(
        (100.0..=800.0).contains(&offset_m),
        "the GCJ-02 offset here is a few hundred metres, not {offset_m} m"
    );

    // 人民路南居委会 has no point of its own: it takes 桥头镇's seat and says so.
    let (_, d) = app.get_json("/api/v1/divisions/630121100001").await;
    assert_eq!(d["name"], "人民路南居委会");
    assert_eq!(d["kind"], "residents_committee", "village digits 001 lie in 001–199");
    assert_eq!(d["approximate"], true);
    let seat = datong::point_of(QIAOTOU);
    assert!((f(&d["lon"]) - seat.lon).abs() < 1e-9);
    assert!((f(&d["lat"]) - seat.lat).abs() < 1e-9);

    // A town's own seat is not approximate; township digits 200–399 give the kind.
    let (_, d) = app.get_json("/api/v1/divisions/630121210000").await;
    assert_eq!(d["name"], "朔北藏族乡");
    assert_eq!(d["kind"], "township");
    assert_eq!(d["approximate"], false);
    assert!(d["lon"].is_f64());

    // The county row has no point in the CSV; only villages borrow their seat's.
    let (_, d) = app.get_json("/api/v1/divisions/630121000000").await;
    assert_eq!(d["level"], "county");
    assert!(d["lon"].is_null() && d["lat"].is_null());
    assert_eq!(d["approximate"], false);

    for code in ["999999999999", "630121100299", "110101001001", "not-a-code"] {
        let (status, body) = app.get_json(&format!("/api/v1/divisions/{code}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{code}");
        assert_error(&body, "not-found");
    }
}

async fn programs_and_zones_match_the_spec(app: TestApp) {
    app.login().await;
    let (status, programs) = app.get_json("/api/v1/programs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(programs["total"], 1);
    let programs = programs["items"].as_array().expect("array");
    assert_eq!(programs.len(), 1);
    assert_eq!(programs[0]["county_code"], COUNTY);
    assert_eq!(programs[0]["start_year"], 2026);
    assert_eq!(programs[0]["end_year"], 2028);
    let pid = programs[0]["id"].as_i64().expect("id");

    let (status, program) = app.get_json(&format!("/api/v1/programs/{pid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(program["id"], pid);
    let (status, overlaps) = app.get_json(&format!("/api/v1/programs/{pid}/overlaps")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(overlaps, serde_json::json!([]), "SPEC §3: the zones do not overlap");
    let (_, zones) = app.get_json(&format!("/api/v1/zones?program_id={pid}")).await;
    let zones = zones["items"].as_array().expect("zones");
    let kinds: Vec<&str> = zones.iter().map(|z| z["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, ["ring", "line", "line", "line"]);
    let names: Vec<&str> = zones.iter().map(|z| z["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["一环 商贸经济示范区", "东峡线", "城关线", "第三线（川外片区）"]);

    // Geometry (SPEC §3): ring of 7 km round 桥头镇's seat; lines through town seats, 2 km wide.
    let ring = &zones[0]["geometry"];
    assert_eq!(ring["type"], "ring");
    assert_eq!(f(&ring["outer_km"]), 7.0);
    assert_eq!(f(&ring["inner_km"]), 0.0);
    let qiaotou = datong::point_of(QIAOTOU);
    assert!((f(&ring["centre"]["lon"]) - qiaotou.lon).abs() < 1e-9);
    assert!((f(&ring["centre"]["lat"]) - qiaotou.lat).abs() < 1e-9);
    let seats = [
        vec!["630121209000", "630121103000", "630121208000"],
        vec!["630121102000", "630121101000", "630121108000"],
        vec!["630121104000", "630121105000"],
    ];
    for (z, seat_codes) in zones[1..].iter().zip(&seats) {
        assert_eq!(z["geometry"]["type"], "line");
        assert_eq!(f(&z["geometry"]["half_width_km"]), 2.0);
        let path = z["geometry"]["path"].as_array().expect("path");
        assert_eq!(path.len(), seat_codes.len(), "{}", z["name"]);
        for (p, code) in path.iter().zip(seat_codes) {
            let seat = datong::point_of(code);
            assert!((f(&p["lon"]) - seat.lon).abs() < 1e-9 && (f(&p["lat"]) - seat.lat).abs() < 1e-9);
        }
    }

    let (status, listed) = app.get_json("/api/v1/zones").await;
    assert_eq!(status, StatusCode::OK);
    let listed = listed["items"].as_array().expect("zones");
    assert_eq!(listed.len(), 4);
    let counts: Vec<i64> = listed
        .iter()
        .map(|z| z["member_count"].as_i64().expect("count"))
        .collect();
    assert_eq!(
        counts, ZONE_MEMBER_COUNTS,
        "see datong::ZONE_MEMBER_COUNTS for the hand count"
    );
    let (_, same) = app.get_json(&format!("/api/v1/zones?program_id={pid}")).await;
    assert_eq!(same["items"].as_array().expect("zones").len(), 4);
    let (_, none) = app.get_json(&format!("/api/v1/zones?program_id={}", pid + 1000)).await;
    assert_eq!(none["items"], serde_json::json!([]));

    // Members: every one has a reason and a distance within the zone's reach; reasons agree with
    // the approximate flag; no village is in two zones.
    let mut members: Vec<Vec<Value>> = Vec::new();
    for (z, expected_count) in listed.iter().zip(ZONE_MEMBER_COUNTS) {
        let id = z["id"].as_i64().expect("id");
        let (status, one) = app.get_json(&format!("/api/v1/zones/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["member_count"], expected_count);
        let (status, ms) = app.get_json(&format!("/api/v1/zones/{id}/members")).await;
        assert_eq!(status, StatusCode::OK);
        let ms = ms.as_array().expect("members").clone();
        assert_eq!(ms.len() as i64, expected_count, "{}", z["name"]);
        let reach = if z["kind"] == "ring" { 7.0 } else { 2.0 };
        for m in &ms {
            let reason = m["reason"].as_str().expect("reason");
            assert!(
                ["geometry", "geometry_approximate", "include_list"].contains(&reason),
                "{m}"
            );
            let d = f(&m["distance_km"]);
            assert!((0.0..=reach).contains(&d), "{} at {d} km from {}", m["code"], z["name"]);
            assert_eq!(
                m["approximate"] == true,
                reason == "geometry_approximate",
                "reason agrees with the approximate flag: {m}"
            );
            assert!(m["town_name"].is_string() && m["name"].is_string());
        }
        members.push(ms);
    }
    let total: usize = members.iter().map(Vec::len).sum();
    let distinct: BTreeSet<String> = members.iter().flat_map(|ms| codes(&Value::Array(ms.clone()))).collect();
    assert_eq!(total as i64, ZONE_MEMBER_COUNTS.iter().sum::<i64>());
    assert_eq!(distinct.len(), total, "no village is in two zones");

    // The ring takes in every village of 桥头镇, 良教乡 and 朔北藏族乡 that has no point of its
    // own (they sit at their seats, 0, 6.78 and 6.12 km from the centre), and no such village of
    // 塔尔镇 (seat 8.57 km away).
    let ring_members: HashMap<String, &Value> = members[0]
        .iter()
        .map(|m| (m["code"].as_str().expect("code").to_string(), m))
        .collect();
    let villages = datong::of_level("village");
    let pointless_of = |town: &str| -> Vec<String> {
        villages
            .iter()
            .filter(|v| v.parent == town && v.gcj.is_none())
            .map(|v| v.code.clone())
            .collect()
    };
    for town in [QIAOTOU, "630121207000", "630121210000"] {
        let expected = pointless_of(town);
        assert!(!expected.is_empty());
        for code in expected {
            let m = ring_members
                .get(&code)
                .unwrap_or_else(|| panic!("{code} is in the ring"));
            assert_eq!(m["reason"], "geometry_approximate");
            assert_eq!(m["approximate"], true);
        }
    }
    let taer_pointless = pointless_of(TAER);
    assert_eq!(taer_pointless.len(), 13, "塔尔镇: 17 villages, 4 with points");
    assert!(taer_pointless.iter().all(|c| !ring_members.contains_key(c)));
    let approx_in_ring = members[0].iter().filter(|m| m["approximate"] == true).count();
    assert_eq!(
        approx_in_ring,
        33 + 10 + 18,
        "桥头镇 33, 良教乡 10, 朔北藏族乡 18 without points"
    );

    // Hand-computed members with their own points. WGS-84 points from the GCJ-02 ones of the
    // CSV; haversine distances (R = 6371.0088 km) from 桥头镇's seat (101.681587, 36.927729):
    // - 闇门滩村委会 (101.678991, 36.931054): 0.436 km → in the ring, reason geometry;
    // - 河州庄村委会 of 塔尔镇 (own point): 5.578 km → in the ring although its town is not.
    for (code, km) in [("630121100202", 0.436), ("630121102208", 5.578)] {
        let m = ring_members
            .get(code)
            .unwrap_or_else(|| panic!("{code} is in the ring"));
        assert_eq!(m["reason"], "geometry");
        assert!((f(&m["distance_km"]) - km).abs() < 0.01, "{m}");
    }

    // 上治泉村委会 (良教乡), own GCJ-02 point (101.631187, 36.982343) → WGS-84
    // (101.629402, 36.982335). Haversine to 桥头镇's seat: 7.640 km, outside the 7 km ring
    // (although its town's seat, 6.78 km away, is inside). Haversine to 塔尔镇's seat
    // (101.639016, 36.996920), the first vertex of the 城关线: 1.833 km; the closest point of
    // the line lies just past that vertex on the segment towards 城关镇, 1.830 km away: inside
    // the 2 km corridor.
    let code = "630121207201";
    assert!(!ring_members.contains_key(code), "7.640 km from the ring centre");
    let m = members[2]
        .iter()
        .find(|m| m["code"] == code)
        .expect("上治泉村委会 is in the 城关线");
    assert_eq!(m["name"], "上治泉村委会");
    assert_eq!(m["town_name"], "良教乡");
    assert_eq!(m["reason"], "geometry");
    assert_eq!(m["approximate"], false);
    let d = f(&m["distance_km"]);
    assert!((d - 1.830).abs() < 0.01, "{d}");
    assert!(d <= 1.833 + 1e-3, "never farther than the 塔尔镇 seat on the path: {d}");
    assert!(members[1].iter().chain(&members[3]).all(|m| m["code"] != code));

    for path in [
        "/api/v1/programs/999999",
        "/api/v1/zones/999999",
        "/api/v1/zones/999999/members",
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&body, "not-found");
    }
}

async fn logout_needs_the_csrf_token_and_ends_the_session(app: TestApp) {
    let r = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("POST");
    let cookie = set_cookie(&r, "ringline_session").expect("cookie").to_string();
    let raw_cookie = cookie.split(';').next().expect("name=value").to_string();
    let csrf = r.json::<Value>().await.expect("JSON")["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_string();

    let delete = |token: Option<&str>| {
        let mut req = app.client.delete(app.url("/api/v1/session"));
        if let Some(t) = token {
            req = req.header("X-CSRF-Token", t);
        }
        req.send()
    };
    for token in [None, Some(""), Some("0".repeat(64).as_str())] {
        let r = delete(token).await.expect("DELETE");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "token {token:?}");
        assert_error(&r.json::<Value>().await.expect("JSON"), "csrf");
    }
    let (status, _) = app.get_json("/api/v1/divisions").await;
    assert_eq!(status, StatusCode::OK, "refused logouts leave the session alone");

    let r = delete(Some(&csrf)).await.expect("DELETE");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, body) = app.get_json("/api/v1/divisions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");

    // The session is gone on the server, not only from this client's cookie jar.
    let r = new_client()
        .get(app.url("/api/v1/divisions"))
        .header("Cookie", raw_cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn openapi_document_lists_the_api(app: TestApp) {
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let content_type = r.headers()["content-type"].to_str().expect("ascii").to_string();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let doc: Value = r.json().await.expect("JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/divisions",
        "/api/v1/divisions/{code}",
        "/api/v1/programs",
        "/api/v1/programs/{id}",
        "/api/v1/zones",
        "/api/v1/zones/{id}",
        "/api/v1/zones/{id}/members",
        "/api/v1/session",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    let session = &paths["/api/v1/session"];
    assert!(session["post"].is_object() && session["delete"].is_object() && session["get"].is_object());
    // Every registered API route is documented, with its method.
    let missing: Vec<String> = ringline::web::route_specs()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v1/"))
        .filter(|r| {
            !paths
                .get(r.path)
                .is_some_and(|p| p[r.method.as_str().to_lowercase()].is_object())
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(missing.is_empty(), "undocumented API routes: {missing:?}");
}

async fn health_check_names_the_backend(app: TestApp) {
    let (status, body) = app.get_json("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"status": "ok", "database": app.backend.name()})
    );
}

async fn api_answers_only_within_the_users_scope(app: TestApp) {
    // Another county's divisions in the same database (湟源县, 630123, from the national fixture).
    {
        let mut conn = app.conn();
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
            DONGXIA,
        );
    }

    // The county admin sees Datong only.
    app.login().await;
    let (_, body) = app.get_json("/api/v1/divisions?level=village&limit=1000").await;
    assert_eq!(body["total"], 313, "湟源县's villages are outside the scope");
    let (status, _) = app.get_json("/api/v1/divisions/630123100001").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = app.get_json("/api/v1/divisions?parent=630123100000").await;
    assert_eq!(body["total"], 0);

    // 东峡镇's admin sees 东峡镇 and its 14 villages, and only those members of the zones.
    let town = new_client();
    app.login_as(&town, "dongxia", "town-pass-1234").await;
    let get = |path: &str| {
        let req = town.get(app.url(path));
        async move {
            let r = req.send().await.expect("GET");
            let status = r.status();
            (status, r.json::<Value>().await.expect("JSON"))
        }
    };
    let (_, session) = get("/api/v1/session").await;
    assert_eq!(session["role"], "town-admin");
    assert_eq!(session["scope"], DONGXIA);
    let (_, body) = get("/api/v1/divisions?limit=1000").await;
    assert_eq!(body["total"], 15, "the town and its 14 villages");
    assert!(codes(&body["items"]).iter().all(|c| c.starts_with("630121103")));
    for code in ["630121100202", COUNTY, "630123100001"] {
        let (status, body) = get(&format!("/api/v1/divisions/{code}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{code}");
        assert_error(&body, "not-found");
    }
    let (status, _) = get("/api/v1/divisions/630121103201").await;
    assert_eq!(status, StatusCode::OK);
    let (_, zones) = get("/api/v1/zones").await;
    let zones = zones["items"].as_array().expect("zones").clone();
    assert_eq!(zones.len(), 4, "the program covers the town");
    // 东峡镇's 14 villages are all in the 东峡线; none of the other zones has one of them.
    let mut seen = Vec::new();
    for z in &zones {
        let (status, ms) = get(&format!("/api/v1/zones/{}/members", z["id"])).await;
        assert_eq!(status, StatusCode::OK);
        seen.push(ms.as_array().expect("members").len());
        assert!(codes(&ms).iter().all(|c| c.starts_with("630121103")));
    }
    assert_eq!(seen, [0, 14, 0, 0]);
}

on_both_backends!(
    api_calls_without_a_session_get_401,
    api_login_checks_the_password_and_sets_a_safe_cookie,
    division_list_counts_and_filters,
    division_list_rejects_bad_parameters,
    division_list_pages_through_all_villages,
    division_detail_has_wgs84_points_and_marks_approximate_ones,
    programs_and_zones_match_the_spec,
    logout_needs_the_csrf_token_and_ends_the_session,
    openapi_document_lists_the_api,
    health_check_names_the_backend,
    api_answers_only_within_the_users_scope,
    framework_refusals_repeat_no_value,
    unsafe_requests_from_another_scheme_are_refused,
);

/// A value sent in the wrong shape may be a password or a phone number: the framework's refusal
/// names the field and what was expected, never the value.
async fn framework_refusals_repeat_no_value(app: TestApp) {
    let admin = app.admin().await;
    let secret = "13812345678";
    for body in [
        serde_json::json!({"disabled": format!("yes {secret}")}),
        serde_json::json!({"phone": 13812345678_i64}),
        serde_json::json!({"display_name": ["a", secret]}),
    ] {
        let (status, answer) = admin.patch_json("/api/v1/users/1", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().expect("a message");
        assert!(!message.contains(secret), "{body}: {message}");
        assert!(message.contains("expected"), "says what was expected: {message}");
    }
    // Query strings and paths the same way: refused by the framework or by the list's own
    // checks, never repeating the value.
    for (path, status, code) in [
        (
            format!("/api/v1/audit?from=x{secret}"),
            StatusCode::BAD_REQUEST,
            "invalid-request",
        ),
        (
            format!("/api/v1/units?uncovered={secret}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-uncovered",
        ),
        (format!("/api/v1/units/{secret}x"), StatusCode::NOT_FOUND, "not-found"),
        (
            format!("/api/v1/zones?program_id=x{secret}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-program-id",
        ),
    ] {
        let (got, answer) = admin.get_json(&path).await;
        assert_eq!(got, status, "{path}: {answer}");
        assert_error(&answer, code);
        assert!(!answer.to_string().contains(secret), "{path}: {answer}");
    }
}

/// The cross-origin check compares the scheme too: a page of the same host and port under
/// another scheme (or an opaque `null` origin) is another site.
async fn unsafe_requests_from_another_scheme_are_refused(app: TestApp) {
    let admin = app.admin().await;
    let host = app.base.trim_start_matches("http://").to_string();
    for origin in [
        format!("ftp://{host}"),
        format!("chrome-extension://{host}"),
        "null".to_string(),
    ] {
        let r = admin
            .client
            .post(admin.url("/api/v1/account/password"))
            .header("X-CSRF-Token", &admin.csrf)
            .header("Origin", &origin)
            .json(&serde_json::json!({"current": ADMIN_PASSWORD, "new": "another-pass-123"}))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{origin}");
        assert_error(&r.json::<Value>().await.expect("JSON"), "csrf");
    }
    // The site's own origin passes (the password changes, ending the session).
    let r = admin
        .client
        .post(admin.url("/api/v1/account/password"))
        .header("X-CSRF-Token", &admin.csrf)
        .header("Origin", format!("http://{host}"))
        .json(&serde_json::json!({"current": ADMIN_PASSWORD, "new": "another-pass-123"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
