//! Issue 13 over HTTP on both storage stacks: bounded time (spec §2.7), deregistration
//! (spec §3), races on activation and grants, refusals that are all problem+json, links
//! from the configured base URL, and a refused upload sent again.

use crate::on_every_store;
use crate::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use stamp_domain::identity::Orgnr;
use stamp_domain::ports::{Item, WriteOp};
use stamp_domain::table::keys;

fn rejected_fields(answer: &Value) -> Vec<(String, String)> {
    answer["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| {
            (
                r["event_id"].as_str().unwrap_or("").to_string(),
                format!(
                    "{} {}",
                    r["code"].as_str().unwrap_or(""),
                    r["message"].as_str().unwrap_or("")
                ),
            )
        })
        .collect()
}

async fn events_outside_the_ledgers_time_are_refused(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let ok = event(
        "ok",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa",
        "in",
        "2026-03-02T07:00:00+01:00",
    );
    let far = event(
        "far",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa",
        "in",
        "9999-12-31T00:00:00Z",
    );
    let year0 = event("y0", ORG_A, SITE_1, BO, "Bo", "in", "0000-01-01T00:00:00Z");
    let before = event("pre", ORG_A, SITE_1, BO, "Bo", "in", "2015-12-31T23:59:59Z");
    let mut late_record = event(
        "rec",
        ORG_A,
        SITE_1,
        BO,
        "Bo",
        "out",
        "2026-03-02T16:00:00+01:00",
    );
    late_record["recorded_at"] = json!("9999-12-31T23:00:00-05:00");
    let answer = s
        .post_json(
            "/partner/v1/batches",
            &t.partner,
            &batch("bounds", vec![ok, far, year0, before, late_record]),
        )
        .await
        .expect(200);
    assert_eq!(answer["accepted"], 1, "{answer}");
    let rejected = rejected_fields(&answer);
    for (id, field) in [
        ("far", "occurred_at"),
        ("y0", "occurred_at"),
        ("pre", "occurred_at"),
        ("rec", "recorded_at"),
    ] {
        let (_, why) = rejected
            .iter()
            .find(|(e, _)| e == id)
            .unwrap_or_else(|| panic!("{id} not rejected: {answer}"));
        assert!(
            why.starts_with(&format!("invalid_field {field}")),
            "{id}: {why}"
        );
    }
    // Reads and the statistics job keep working over the whole domain.
    for path in ["statistics", "anomalies?limit=5", "sites"] {
        s.get(&format!("/v1/companies/{ORG_A}/{path}"), &t.user)
            .await
            .expect(200);
    }
    let stats = s
        .get(&format!("/v1/companies/{ORG_A}/statistics"), &t.user)
        .await
        .expect(200);
    assert_eq!(stats["rows"][0]["check_ins"], 1, "{stats}");
    s.state.statistics.run_once().await.expect("statistics job");
}

async fn query_ranges_are_bounded_and_ordered(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let c = format!("/v1/companies/{ORG_A}");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("{c}/audit?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"),
            "to",
            "admin",
        ),
        (
            format!("{c}/audit?from=1970-01-01T00:00:00Z"),
            "from",
            "admin",
        ),
        (
            format!("{c}/sites/{SITE_1}/registrations?to=9999-12-31T23:00:00Z"),
            "to",
            "user",
        ),
        (
            format!("{c}/sites/{SITE_1}/registrations?to=9999-12-31T23:59:59-23:59"),
            "to",
            "user",
        ),
        (
            format!("{c}/anomalies?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"),
            "to",
            "user",
        ),
        (
            format!("{c}/anomalies?from=0001-01-01T00:00:00Z"),
            "from",
            "user",
        ),
        (
            format!("{c}/statistics?from=2015-06-01&to=2026-01-01"),
            "from",
            "user",
        ),
        (
            format!("{c}/statistics?from=2026-02-01&to=2026-01-01"),
            "to",
            "user",
        ),
        (format!("{c}/statistics?to=9999-12-31"), "to", "user"),
        (
            "/v1/me/registrations?from=2026-05-01T00:00:00Z&to=2026-04-01T00:00:00Z".to_string(),
            "to",
            "employee",
        ),
    ];
    let employee = s.token(stamp_domain::auth::Claims {
        person_id: Some(ANNA.into()),
        ..claims("emp", &["employee"], &[])
    });
    // A site must exist for its registrations to be read.
    s.post_json(
        "/partner/v1/batches",
        &t.partner,
        &batch(
            "b",
            vec![event(
                "e",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                "2026-03-02T07:00:00+01:00",
            )],
        ),
    )
    .await
    .expect(200);
    for (path, field, who) in cases {
        let token = match who {
            "admin" => &t.admin,
            "employee" => &employee,
            _ => &t.user,
        };
        let p = s.get(&path, token).await.problem(400, "invalid_field");
        assert_eq!(p["field"], field, "{path}: {p}");
    }
    let order = |from: &str, to: &str| json!({"kind": "authority", "format": "csv", "from": from, "to": to});
    for (body, field) in [
        (order("2010-01-01", "2026-01-01"), "from"),
        (order("2026-01-01", "9999-01-01"), "to"),
    ] {
        let p = s
            .post_json(&format!("{c}/extracts"), &t.user, &body)
            .await
            .problem(400, "invalid_field");
        assert_eq!(p["field"], field, "{p}");
    }
    // In range, all of these answer.
    s.get(&format!("{c}/audit?from=2016-01-01T00:00:00Z"), &t.admin)
        .await
        .expect(200);
    s.get(
        &format!("{c}/anomalies?from=2016-01-01T00:00:00Z&to=2027-01-01T00:00:00Z"),
        &t.user,
    )
    .await
    .expect(200);
}

/// A company whose stored index is damaged fails its refresh and purge; the jobs go on
/// for every other company.
async fn one_failing_company_does_not_stop_the_jobs(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    let b = setup(s, ORG_B, "ledger-1").await;
    s.clock.set("2026-03-10T12:00:00Z");
    for (t, org) in [(&a, ORG_A), (&b, ORG_B)] {
        s.post_json(
            "/partner/v1/batches",
            &t.partner,
            &batch(
                &format!("b-{org}"),
                vec![
                    event(
                        &format!("{org}-in"),
                        org,
                        SITE_1,
                        ANNA,
                        "Åsa",
                        "in",
                        "2026-03-02T07:00:00+01:00",
                    ),
                    event(
                        &format!("{org}-out"),
                        org,
                        SITE_1,
                        ANNA,
                        "Åsa",
                        "out",
                        "2026-03-02T16:00:00+01:00",
                    ),
                ],
            ),
        )
        .await
        .expect(200);
    }
    let ck_a = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());
    // Damage A: an unreadable timeline entry on a day marked dirty, an unreadable hold.
    s.state
        .ledger
        .transact(vec![
            WriteOp::put(
                Item::new(
                    keys::day_timeline(&ck_a, "2026-03-03"),
                    "2026-03-03T10:00:00.000000Z#ledger-1#junk",
                )
                .with("x", 1),
            ),
            WriteOp::put(Item::new(keys::data_days(&ck_a), "2026-03-03")),
            WriteOp::put(Item::new(keys::holds(&ck_a), "hold-junk").with("x", 1)),
        ])
        .await
        .unwrap();
    s.state
        .ledger
        .mark_dirty(&ck_a, &["2026-03-03".parse().unwrap()], "m")
        .await
        .unwrap();
    let refreshed = s
        .state
        .statistics
        .run_once()
        .await
        .expect("the round completes");
    assert_eq!((refreshed.companies, refreshed.failed), (1, 1));
    let stats = s
        .get(&format!("/v1/companies/{ORG_B}/statistics"), &b.user)
        .await
        .expect(200);
    assert_eq!(stats["rows"][0]["sessions"], 1, "{stats}");
    // Three years on, B's events are purged although A's purge fails.
    s.clock.set("2029-01-10T12:00:00Z");
    let purged = s.state.purge.run_once().await.expect("the purge completes");
    assert_eq!(purged.companies_failed, 1);
    assert_eq!(purged.events_purged, 2);
}

async fn deregistered_companies_keep_only_the_legal_duties(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    s.post_json(
        "/partner/v1/batches",
        &t.partner,
        &batch(
            "b1",
            vec![event(
                "e1",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                "2026-03-02T07:00:00+01:00",
            )],
        ),
    )
    .await
    .expect(200);
    let c = format!("/v1/companies/{ORG_A}");
    let person = s
        .post_json(
            &format!("{c}/people/search"),
            &t.user,
            &json!({"person_id": ANNA}),
        )
        .await
        .expect(200)["person_ref"]
        .clone();
    s.call(
        Method::DELETE,
        &format!("{c}/activation"),
        Some(&t.admin),
        None,
    )
    .await
    .expect(200);

    // Partners' events are rejected.
    let pushed = s
        .post_json(
            "/partner/v1/batches",
            &t.partner,
            &batch(
                "b2",
                vec![event(
                    "e2",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "out",
                    "2026-03-02T16:00:00+01:00",
                )],
            ),
        )
        .await
        .expect(200);
    assert_eq!(
        pushed["rejected"][0]["code"], "company_not_activated",
        "{pushed}"
    );
    // company_users lose access, company_admins too for the ledger reads.
    for who in [&t.user, &t.admin] {
        for path in ["people", "sites", "anomalies", "statistics"] {
            s.get(&format!("{c}/{path}"), who)
                .await
                .problem(403, "company_not_activated");
        }
    }
    let authority =
        json!({"kind": "authority", "format": "csv", "from": "2026-03-01", "to": "2026-04-01"});
    s.post_json(&format!("{c}/extracts"), &t.user, &authority)
        .await
        .problem(403, "company_not_activated");
    // No grant can be added.
    s.put_json(
        &format!("{c}/users/newcomer"),
        &t.admin,
        &json!({"roles": ["company_user"]}),
    )
    .await
    .problem(403, "company_not_activated");
    // company_admins keep the activation, the audit log, legal holds and extracts.
    let status = s
        .get(&format!("{c}/activation"), &t.admin)
        .await
        .expect(200);
    assert_eq!(status["status"], "deregistered");
    s.get(&format!("{c}/audit"), &t.admin).await.expect(200);
    s.post_json(
        &format!("{c}/legal-holds"),
        &t.admin,
        &json!({"site_id": SITE_1, "reason": "tvist"}),
    )
    .await
    .expect(201);
    s.get(&format!("{c}/legal-holds"), &t.admin)
        .await
        .expect(200);
    let ordered = s
        .post_json(&format!("{c}/extracts"), &t.admin, &authority)
        .await
        .expect(202);
    let register = json!({"kind": "register_extract", "format": "json", "person_ref": person});
    s.post_json(&format!("{c}/extracts"), &t.admin, &register)
        .await
        .expect(202);
    let id = ordered["id"].as_str().unwrap();
    let mut ready = Value::Null;
    for _ in 0..100 {
        ready = s
            .get(&format!("{c}/extracts/{id}"), &t.admin)
            .await
            .expect(200);
        if ready["status"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready["status"], "ready", "{ready}");
    s.get(&format!("{c}/extracts/{id}"), &t.user)
        .await
        .problem(403, "company_not_activated");
    // Employees keep /v1/me.
    let employee = s.token(stamp_domain::auth::Claims {
        person_id: Some(ANNA.into()),
        ..claims("emp", &["employee"], &[])
    });
    s.get("/v1/me/registrations", &employee).await.expect(200);
    // Re-activation opens it again.
    s.put_json(
        &format!("{c}/activation"),
        &t.admin,
        &json!({"terms_version": "2026-02", "company_name": "Bygg AB"}),
    )
    .await
    .expect(200);
    s.get(&format!("{c}/people"), &t.user).await.expect(200);
}

async fn exactly_one_first_administrator(s: &TestServer) {
    let admins: Vec<String> = (0..12)
        .map(|i| s.token(claims(&format!("admin-{i}"), &["company_admin"], &[ORG_A])))
        .collect();
    let path = format!("/v1/companies/{ORG_A}/activation");
    let body = json!({"terms_version": "2026-01", "company_name": "Bygg AB"});
    // All at once: each on its own task and connection.
    let tasks: Vec<_> = admins
        .iter()
        .map(|t| {
            let (url, t, body) = (format!("{}{path}", s.base), t.clone(), body.clone());
            tokio::spawn(async move {
                let r = reqwest::Client::new()
                    .put(url)
                    .bearer_auth(t)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let (status, body) = task.await.unwrap();
        match status {
            200 => winners.push(i),
            409 => assert_eq!(body["code"], "activation_conflict", "{body}"),
            other => panic!("admin-{i}: {other} {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "first administrators: {winners:?}");
    let users = s
        .get(&format!("/v1/companies/{ORG_A}/users"), &admins[winners[0]])
        .await
        .expect(200);
    assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
    assert_eq!(users["users"][0]["sub"], format!("admin-{}", winners[0]));
}

async fn two_admins_removing_each_other_leave_one(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let c = format!("/v1/companies/{ORG_A}");
    let first = format!("admin-{ORG_A}");
    for round in 0..6 {
        let other = format!("second-{round}");
        s.put_json(
            &format!("{c}/users/{other}"),
            &t.admin,
            &json!({"roles": ["company_admin"]}),
        )
        .await
        .expect(200);
        let second = s.token(claims(&other, &["company_admin"], &[ORG_A]));
        let (remove_other, remove_first) =
            (format!("{c}/users/{other}"), format!("{c}/users/{first}"));
        let (one, two) = tokio::join!(
            s.call(Method::DELETE, &remove_other, Some(&t.admin), None),
            s.call(Method::DELETE, &remove_first, Some(&second), None),
        );
        let mut statuses = [one.status.as_u16(), two.status.as_u16()];
        statuses.sort();
        // The loser is refused 409 when both changes overlap; one that only starts once
        // the other has removed its grant is a plain 403. Never two 204s.
        assert!(
            statuses == [204, 409] || statuses == [204, 403],
            "round {round}: {statuses:?} {} / {}",
            one.body,
            two.body
        );
        for a in [one, two] {
            match a.status.as_u16() {
                409 => drop(a.problem(409, "last_company_admin")),
                403 => drop(a.problem(403, "forbidden")),
                _ => {}
            }
        }
        let kept: Vec<Value> = s
            .state
            .ledger
            .all_grants(&Orgnr::parse(ORG_A).unwrap())
            .await
            .unwrap()
            .into_iter()
            .filter(|g| g.roles.iter().any(|r| r == "company_admin"))
            .map(|g| json!(g.sub))
            .collect();
        assert_eq!(kept.len(), 1, "round {round}: admins {kept:?}");
        if kept[0] != json!(first) {
            // The second one won: restore the first admin for the next round.
            let token = s.token(claims(&other, &["company_admin"], &[ORG_A]));
            s.put_json(
                &format!("{c}/users/{first}"),
                &token,
                &json!({"roles": ["company_admin", "company_user"]}),
            )
            .await
            .expect(200);
            s.call(
                Method::DELETE,
                &format!("{c}/users/{other}"),
                Some(&t.admin),
                None,
            )
            .await
            .expect(204);
        }
    }
}

async fn every_refusal_is_a_problem(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    // A body over the limit of a JSON route.
    let big = vec![b' '; 3 * 1024 * 1024];
    s.call(
        Method::POST,
        "/v1/partners",
        Some(&t.operator),
        Some(("application/json", big)),
    )
    .await
    .problem(413, "payload_too_large");
    let huge = vec![b'x'; 14 * 1024 * 1024];
    s.call(
        Method::POST,
        "/partner/v1/uploads",
        Some(&t.partner),
        Some(("application/json", huge)),
    )
    .await
    .problem(413, "payload_too_large");
    // A path that is not UTF-8.
    s.get("/v1/companies/%FF/people", &t.user)
        .await
        .problem(400, "invalid_request");
    // A huge cursor.
    let cursor = "A".repeat(60_000);
    let p = s
        .get(
            &format!("/v1/companies/{ORG_A}/people?cursor={cursor}"),
            &t.user,
        )
        .await
        .problem(400, "invalid_field");
    assert_eq!(p["field"], "cursor");
    // The right field named.
    let p = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({"batch_id": 1, "format": "json"}),
        )
        .await
        .problem(400, "invalid_field");
    assert_eq!(p["field"], "batch_id", "{p}");
    // Partner ids that name folders.
    for bad in [".", "..", ".x", "a/b"] {
        let p = s
            .post_json(
                "/v1/partners",
                &t.operator,
                &json!({"partner_id": bad, "name": "N"}),
            )
            .await
            .problem(400, "invalid_field");
        assert_eq!(p["field"], "partner_id");
    }
    // Unknown routes and methods.
    s.get("/nope", &t.user).await.problem(404, "not_found");
    s.call(
        Method::PATCH,
        &format!("/v1/companies/{ORG_A}/people"),
        Some(&t.user),
        None,
    )
    .await
    .problem(405, "method_not_allowed");
}

async fn links_come_from_the_configured_base_url(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    s.post_json(
        "/partner/v1/batches",
        &t.partner,
        &batch(
            "b1",
            vec![event(
                "e1",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                "2026-03-02T07:00:00+01:00",
            )],
        ),
    )
    .await
    .expect(200);
    let c = format!("/v1/companies/{ORG_A}");
    let ordered = s
        .post_json(
            &format!("{c}/extracts"),
            &t.user,
            &json!({"kind": "authority", "format": "csv", "from": "2026-03-01", "to": "2026-04-01"}),
        )
        .await
        .expect(202);
    let url = format!("{}{c}/extracts/{}", s.base, ordered["id"].as_str().unwrap());
    let http = reqwest::Client::new();
    let mut body = Value::Null;
    for _ in 0..100 {
        body = http
            .get(&url)
            .bearer_auth(&t.user)
            .header("host", "evil.example")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["status"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let link = body["download_url"].as_str().expect("download_url");
    assert!(!link.contains("evil.example"), "{link}");
    if !s.on_aws() {
        assert!(link.starts_with(&s.base), "{link}");
    }
}

async fn a_refused_upload_sent_again_is_imported(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let created = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({"batch_id": "up-1", "format": "json"}),
        )
        .await
        .expect(201);
    let events = vec![event(
        "u1",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa",
        "in",
        "2026-03-02T07:00:00+01:00",
    )];
    let wrong = batch("another-batch", events.clone())
        .to_string()
        .into_bytes();
    let refused = s.complete_upload(&created, wrong, &t.partner).await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.body);
    let right = batch("up-1", events).to_string().into_bytes();
    let mut imported = s.complete_upload(&created, right, &t.partner).await;
    // Locally the PUT is imported in the background: the refusal may still be the answer
    // for a moment.
    for _ in 0..100 {
        if imported.status.as_u16() != 400 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        imported = s.batch_answer("up-1", &t.partner).await;
    }
    let imported = imported.expect(200);
    assert_eq!(imported["accepted"], 1, "{imported}");
    let people = s
        .get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
    assert_eq!(people["people"].as_array().unwrap().len(), 1);
}

on_every_store!(
    events_outside_the_ledgers_time_are_refused,
    query_ranges_are_bounded_and_ordered,
    one_failing_company_does_not_stop_the_jobs,
    deregistered_companies_keep_only_the_legal_duties,
    exactly_one_first_administrator,
    two_admins_removing_each_other_leave_one,
    every_refusal_is_a_problem,
    links_come_from_the_configured_base_url,
    a_refused_upload_sent_again_is_imported,
);

/// A crash after an upload's body was stored but before it was imported: the next start
/// of stamp-local imports it (locally; in AWS the S3 event's retry does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_resumes_after_a_restart() {
    let s = TestServer::embedded().await;
    let t = setup(&s, ORG_A, "ledger-1").await;
    let created = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({"batch_id": "up-r", "format": "json"}),
        )
        .await
        .expect(201);
    let events = vec![event(
        "r1",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa",
        "in",
        "2026-03-02T07:00:00+01:00",
    )];
    let key = stamp_domain::intake::upload_key(
        &stamp_domain::testing::pid("ledger-1"),
        created["upload_id"].as_str().unwrap(),
    );
    let folder = stamp_adapters::FolderArchive::new(s._dir.path().join("archive"));
    let path = folder.staging_path(&key).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, batch("up-r", events).to_string()).unwrap();
    s.get("/partner/v1/batches/up-r", &t.partner)
        .await
        .expect(202);
    assert_eq!(stamp_local::resume_uploads(&s.state).await, 1);
    let answer = s.batch_answer("up-r", &t.partner).await.expect(200);
    assert_eq!(answer["accepted"], 1, "{answer}");
    assert_eq!(
        stamp_local::resume_uploads(&s.state).await,
        0,
        "the staged copy is gone"
    );
}
