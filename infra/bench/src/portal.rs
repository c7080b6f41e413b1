//! `stamp-bench portal`: server render time of each portal page on the demo data
//! (stamp-local's demo company in a temporary data directory), signed in as the role
//! the page is for; prints p50, p95 and max per page and the page's HTML size.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use std::time::Instant;
use tower::ServiceExt;

async fn sign_in(app: &axum::Router, identity: usize) -> String {
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("identity={identity}&next=/")))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("login");
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("stamp_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

pub async fn run(iterations: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let local = stamp_local::Local::open(dir.path()).expect("open");
    let summary = stamp_local::demo::load(&local.state).await.expect("demo");
    eprintln!("{summary}");
    // The statistics the scheduled job keeps up to date, as in a running server.
    local.state.statistics.run_once().await.expect("statistics");
    // A verification report, as `serve --demo` makes at start.
    stamp_api::jobs::verify_archive(&local.state, None)
        .await
        .expect("verify");
    let app = local.router();
    let o = stamp_local::demo::DEMO_ORGNR;
    let people = {
        let c = sign_in(&app, 0).await;
        let req = Request::get(format!("/companies/{o}/people"))
            .header(header::COOKIE, c)
            .body(Body::empty())
            .expect("request");
        let res = app.clone().oneshot(req).await.expect("people");
        let body = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .expect("body");
        let html = String::from_utf8_lossy(&body).into_owned();
        let at = html
            .find(&format!("href=\"/companies/{o}/people/"))
            .expect("a person link")
            + 6;
        html[at..].split('"').next().unwrap_or_default().to_string()
    };
    // (page, identity: 0 admin, 1 user, 2 employee, 3 operator)
    let pages: Vec<(String, usize)> = vec![
        (format!("/companies/{o}"), 1),
        (format!("/companies/{o}/people"), 1),
        (people, 1),
        (format!("/companies/{o}/sites/STH2026000001"), 1),
        (format!("/companies/{o}/anomalies"), 1),
        (format!("/companies/{o}/statistics"), 1),
        (format!("/companies/{o}/statistics?granularity=month"), 1),
        (format!("/companies/{o}/extracts"), 1),
        (format!("/companies/{o}/users"), 0),
        (format!("/companies/{o}/activation"), 0),
        (format!("/companies/{o}/legal-holds"), 0),
        (format!("/companies/{o}/audit"), 0),
        (format!("/companies/{o}/inspections"), 0),
        (format!("/companies/{o}/notifications"), 0),
        (format!("/companies/{o}/verification"), 0),
        ("/me".into(), 2),
        ("/operator/partners".into(), 3),
        ("/operator/announcements".into(), 3),
        ("/privacy".into(), 1),
    ];
    let mut cookies = Vec::new();
    for i in 0..4 {
        cookies.push(sign_in(&app, i).await);
    }
    println!(
        "portal render time on the demo data, {iterations} requests per page (ms)\n{:<58} {:>7} {:>7} {:>7} {:>8}",
        "page", "p50", "p95", "max", "HTML KB"
    );
    let mut worst = 0.0f64;
    for (path, who) in pages {
        let mut times = Vec::with_capacity(iterations);
        let mut size = 0;
        for _ in 0..iterations {
            let req = Request::get(&path)
                .header(header::COOKIE, &cookies[who])
                .body(Body::empty())
                .expect("request");
            let started = Instant::now();
            let res = app.clone().oneshot(req).await.expect("page");
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), 1 << 22)
                .await
                .expect("body");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, StatusCode::OK, "{path}");
            size = body.len();
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        worst = worst.max(at(0.95));
        let shown = if path.contains("/people/") {
            format!("/companies/{o}/people/{{person_ref}}")
        } else {
            path.clone()
        };
        println!(
            "{shown:<58} {:>7.1} {:>7.1} {:>7.1} {:>8.1}",
            at(0.5),
            at(0.95),
            at(1.0),
            size as f64 / 1024.0
        );
    }
    println!("worst p95: {worst:.1} ms");
}
