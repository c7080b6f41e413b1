//! Spec §2–4, the account side, over HTTP on both storage stacks: the role × company ×
//! route matrix with every request audited; the audit chain; legal holds and the
//! retention purge across fiscal-year ends; announcements, suspension, privacy.

use crate::on_every_store;
use crate::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use stamp_domain::auth::Claims;
use stamp_domain::identity::Orgnr;

#[derive(Clone, Copy, PartialEq)]
enum Who {
    Public,
    Operator,
    Partner,
    CompanyRead,
    CompanyAdmin,
    Employee,
}

/// Every route of infra/aws/routes.json with a request that exercises it, and who spec §3 lets in.
fn matrix() -> Vec<(Method, String, Option<Value>, Who)> {
    let c = format!("/v1/companies/{ORG_A}");
    vec![
        (Method::GET, "/v1/announcements".into(), None, Who::Public),
        (Method::GET, "/v1/privacy".into(), None, Who::Public),
        (Method::GET, "/v1/partners".into(), None, Who::Operator),
        (
            Method::POST,
            "/v1/partners".into(),
            Some(json!({"partner_id": "p-new", "name": "N"})),
            Who::Operator,
        ),
        (
            Method::PATCH,
            "/v1/partners/ledger-9".into(),
            Some(json!({"suspended": false})),
            Who::Operator,
        ),
        (
            Method::POST,
            "/v1/announcements".into(),
            Some(json!({"title": "T", "message": "M"})),
            Who::Operator,
        ),
        (
            Method::POST,
            "/partner/v1/batches".into(),
            Some(json!({"batch_id": "m", "events": []})),
            Who::Partner,
        ),
        (
            Method::GET,
            format!("{c}/activation"),
            None,
            Who::CompanyAdmin,
        ),
        (
            Method::PUT,
            format!("{c}/activation"),
            Some(json!({"terms_version": "2026-01", "company_name": "Bygg AB"})),
            Who::CompanyAdmin,
        ),
        (Method::GET, format!("{c}/users"), None, Who::CompanyAdmin),
        (
            Method::PUT,
            format!("{c}/users/someone"),
            Some(json!({"roles": ["company_user"]})),
            Who::CompanyAdmin,
        ),
        (
            Method::DELETE,
            format!("{c}/users/someone"),
            None,
            Who::CompanyAdmin,
        ),
        (Method::GET, format!("{c}/audit"), None, Who::CompanyAdmin),
        (
            Method::GET,
            format!("{c}/legal-holds"),
            None,
            Who::CompanyAdmin,
        ),
        (
            Method::POST,
            format!("{c}/legal-holds"),
            Some(json!({"site_id": SITE_1, "reason": "tvist"})),
            Who::CompanyAdmin,
        ),
        (
            Method::GET,
            format!("{c}/legal-holds/hold-none"),
            None,
            Who::CompanyAdmin,
        ),
        (
            Method::DELETE,
            format!("{c}/legal-holds/hold-none"),
            None,
            Who::CompanyAdmin,
        ),
        (Method::GET, format!("{c}/sites"), None, Who::CompanyRead),
        (Method::GET, format!("{c}/people"), None, Who::CompanyRead),
        (
            Method::POST,
            format!("{c}/people/search"),
            Some(json!({"person_id": ANNA})),
            Who::CompanyRead,
        ),
        (
            Method::GET,
            format!("{c}/people/pnone/registrations"),
            None,
            Who::CompanyRead,
        ),
        (
            Method::GET,
            format!("{c}/sites/{SITE_1}/registrations"),
            None,
            Who::CompanyRead,
        ),
        (
            Method::GET,
            format!("{c}/anomalies"),
            None,
            Who::CompanyRead,
        ),
        (
            Method::GET,
            format!("{c}/statistics"),
            None,
            Who::CompanyRead,
        ),
    ]
}

async fn every_role_on_every_route_is_decided_and_audited(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-9").await;
    let b = setup(s, ORG_B, "ledger-9").await;
    let employee = s.token(Claims {
        person_id: Some(ANNA.into()),
        ..claims("emp", &["employee"], &[])
    });
    let callers: Vec<(&str, String, &[Who])> = vec![
        ("employee", employee.clone(), &[Who::Employee]),
        ("operator", a.operator.clone(), &[Who::Operator]),
        ("partner", a.partner.clone(), &[Who::Partner]),
        (
            "admin of A",
            a.admin.clone(),
            &[Who::CompanyAdmin, Who::CompanyRead],
        ),
        ("user of A", a.user.clone(), &[Who::CompanyRead]),
        ("admin of B", b.admin.clone(), &[]),
        ("user of B", b.user.clone(), &[]),
    ];
    let ck = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());
    let mut calls = 0;
    for (method, path, body, who) in matrix() {
        for (name, token, allowed) in &callers {
            let answer = s
                .call(
                    method.clone(),
                    &path,
                    Some(token),
                    body.as_ref()
                        .map(|b| ("application/json", b.to_string().into_bytes())),
                )
                .await;
            let st = answer.status.as_u16();
            if who == Who::Public || allowed.contains(&who) {
                assert!(
                    st != 403 && st != 401 && st < 500,
                    "{name} {method} {path}: {st} {}",
                    answer.body
                );
            } else {
                assert_eq!(
                    st, 403,
                    "{name} {method} {path} must be refused: {}",
                    answer.body
                );
                assert_eq!(answer.body["code"], "forbidden");
            }
            calls += 1;
            let (chain, last) = crate::audit_log::latest_entry(s).await;
            let expected = if path.starts_with("/v1/companies/") {
                ck.to_string()
            } else if *name == "partner" {
                // A partner's requests that name no company go to its own chain.
                "partner-ledger-9".to_string()
            } else {
                "service".to_string()
            };
            assert!(
                chain.starts_with(&expected),
                "{name} {method} {path} went to chain {chain}, not {expected}"
            );
            assert_eq!(last.record.status, st, "{name} {method} {path} audited");
            assert!(
                last.record.action.starts_with(method.as_str()),
                "{}",
                last.record.action
            );
            assert!(
                !last.record.action.contains(ORG_A),
                "actions are route templates: {}",
                last.record.action
            );
            assert_eq!(
                last.record.outcome,
                if st == 403 {
                    "refused"
                } else if st < 400 {
                    "success"
                } else {
                    "rejected"
                }
            );
        }
    }
    assert!(calls > 150);
    // Sealed, every chain verifies against its digests.
    s.state
        .audit
        .seal(
            stamp_domain::ports::Clock::now(s.clock.as_ref()) + chrono::Duration::seconds(1),
            chrono::Duration::zero(),
        )
        .await
        .unwrap();
    for r in stamp_api::jobs::verify_audit(&s.state).await.unwrap() {
        assert!(r.intact(), "{}: {:?}", r.chain, r.problems);
        assert_eq!(r.unsealed, 0, "{}", r.chain);
    }
    // The admin reads the company's trail through the API, paginated.
    let page = s
        .get(&format!("/v1/companies/{ORG_A}/audit?limit=5"), &a.admin)
        .await
        .expect(200);
    assert_eq!(page["entries"].as_array().unwrap().len(), 5);
    assert!(page["next_cursor"].is_string());
    for f in ["at", "actor", "role", "action", "outcome", "request_id"] {
        assert!(!page["entries"][0][f].is_null(), "{f}");
    }
    let text = s
        .get(&format!("/v1/companies/{ORG_A}/audit?limit=1000"), &a.admin)
        .await
        .expect(200)
        .to_string();
    assert!(!text.contains(ANNA), "no personnummer in the audit log");
}

async fn legal_holds_keep_data_from_the_purge(s: &TestServer) {
    // Company A: fiscal year = calendar year. Company B: May–April.
    let a = setup(s, ORG_A, "ledger-1").await;
    let b = setup(s, ORG_B, "ledger-1").await;
    s.put_json(
        &format!("/v1/companies/{ORG_B}/activation"),
        &b.admin,
        &json!({"terms_version": "2026-01", "company_name": "B AB", "fiscal_year_end_month": 4}),
    )
    .await
    .expect(200);
    let ev = |id: &str, org: &str, site: &str, who: &str, at: &str| {
        event(id, org, site, who, "Åsa", "in", at)
    };
    let r = s
        .post_json(
            "/partner/v1/batches",
            &a.partner,
            &batch(
                "old",
                vec![
                    // A: 2023-12-31 is kept until 2025-12-31; 2024-01-01 until 2026-12-31.
                    ev("a-2023", ORG_A, SITE_1, ANNA, "2023-12-31T10:00:00+01:00"),
                    ev("a-2024", ORG_A, SITE_1, ANNA, "2024-01-01T10:00:00+01:00"),
                    ev("a-held", ORG_A, SITE_2, BO, "2023-06-01T10:00:00+02:00"),
                    // B (May–April): 2023-04-30 is kept until 2025-12-31; 2023-05-01 until 2026-12-31.
                    ev("b-apr", ORG_B, SITE_1, ANNA, "2023-04-30T10:00:00+02:00"),
                    ev("b-may", ORG_B, SITE_1, ANNA, "2023-05-01T10:00:00+02:00"),
                ],
            ),
        )
        .await
        .expect(200);
    assert_eq!(r["accepted"], 5);
    let hold = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/legal-holds"),
            &a.admin,
            &json!({"site_id": SITE_2, "reason": "Tvist om arbetstid"}),
        )
        .await
        .expect(201);
    s.post_json(
        &format!("/v1/companies/{ORG_A}/legal-holds"),
        &a.admin,
        &json!({"reason": "nothing named"}),
    )
    .await
    .problem(400, "missing_field");
    s.post_json(
        &format!("/v1/companies/{ORG_A}/legal-holds"),
        &a.admin,
        &json!({"site_id": SITE_1}),
    )
    .await
    .problem(400, "missing_field");

    // New year's day 2026: what was kept until 2025-12-31 goes, unless held.
    s.clock.set("2026-01-01T12:00:00Z");
    let run = s
        .post_json("/local/jobs/purge", &a.operator, &json!({}))
        .await
        .expect(200);
    assert_eq!(
        (run["events_purged"].clone(), run["events_held"].clone()),
        (json!(2), json!(1)),
        "{run}"
    );

    let ids = |v: &Value| -> Vec<String> {
        let mut out: Vec<String> = v["unpaired"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect();
        out.sort();
        out
    };
    let anna_a = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/people/search"),
            &a.user,
            &json!({"person_id": ANNA}),
        )
        .await
        .expect(200);
    let regs = s
        .get(
            &format!(
                "/v1/companies/{ORG_A}/people/{}/registrations",
                anna_a["person_ref"].as_str().unwrap()
            ),
            &a.user,
        )
        .await
        .expect(200);
    assert_eq!(ids(&regs), vec!["a-2024"]);
    let held = s
        .get(
            &format!("/v1/companies/{ORG_A}/sites/{SITE_2}/registrations"),
            &a.user,
        )
        .await
        .expect(200);
    assert_eq!(ids(&held), vec!["a-held"], "the held site keeps its events");
    let anna_b = s
        .post_json(
            &format!("/v1/companies/{ORG_B}/people/search"),
            &b.user,
            &json!({"person_id": ANNA}),
        )
        .await
        .expect(200);
    let regs_b = s
        .get(
            &format!(
                "/v1/companies/{ORG_B}/people/{}/registrations",
                anna_b["person_ref"].as_str().unwrap()
            ),
            &b.user,
        )
        .await
        .expect(200);
    assert_eq!(ids(&regs_b), vec!["b-may"]);
    // Both purges are in the companies' audit trails.
    let trail = s
        .get(&format!("/v1/companies/{ORG_A}/audit?limit=1000"), &a.admin)
        .await
        .expect(200);
    assert!(trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "PURGE ledger events"));

    // Lifting the hold lets the next purge take the held event; a person left with no
    // events leaves the directory.
    let id = hold["id"].as_str().unwrap();
    let lifted = s
        .call(
            Method::DELETE,
            &format!("/v1/companies/{ORG_A}/legal-holds/{id}"),
            Some(&a.admin),
            None,
        )
        .await
        .expect(200);
    assert_eq!(lifted["active"], false);
    let run = s
        .post_json("/local/jobs/purge", &a.operator, &json!({}))
        .await
        .expect(200);
    assert_eq!(run["events_purged"], 1, "{run}");
    let people = s
        .get(&format!("/v1/companies/{ORG_A}/people"), &a.user)
        .await
        .expect(200);
    assert_eq!(
        people["people"].as_array().unwrap().len(),
        1,
        "Bo is gone, Åsa remains: {people}"
    );
    // A year later everything from 2024 and the May–April year 2023/24 goes too, and the
    // delivery that held them is due as well. (The folder archive judges its lock by the
    // purge's clock; S3 by its own, so moto keeps the object locked until real time passes.)
    s.clock.set("2027-01-01T12:00:00Z");
    let run = s
        .post_json("/local/jobs/purge", &a.operator, &json!({}))
        .await
        .expect(200);
    assert_eq!(run["events_purged"], 2, "{run}");
    let due = run["objects_deleted"].as_u64().unwrap() + run["objects_locked"].as_u64().unwrap();
    assert!(due >= 1, "{run}");
    let key = r["archive"]["key"].as_str().unwrap();
    if run["objects_deleted"].as_u64().unwrap() >= 1 {
        assert!(
            s.archive.get(key).await.is_err(),
            "the archived delivery is gone"
        );
    } else {
        assert!(
            !s.archive.get(key).await.unwrap().is_empty(),
            "still locked, still there"
        );
    }
}

async fn operators_announce_and_suspend(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let ann = s
        .post_json("/v1/announcements", &t.operator, &json!({"kind": "planned_outage", "title": "Underhåll", "message": "Stamp är nere 02–03.", "starts_at": "2030-01-05T02:00:00+01:00", "ends_at": "2030-01-05T03:00:00+01:00"}))
        .await
        .expect(201);
    assert_eq!(ann["kind"], "planned_outage");
    s.post_json(
        "/v1/announcements",
        &t.operator,
        &json!({"title": "x", "message": "y", "kind": "party"}),
    )
    .await
    .problem(400, "invalid_field");
    let public = s
        .call(Method::GET, "/v1/announcements", None, None)
        .await
        .expect(200);
    assert_eq!(public["announcements"][0]["title"], "Underhåll");

    let e = batch(
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
    );
    s.call(
        Method::PATCH,
        "/v1/partners/ledger-1",
        Some(&t.operator),
        Some(("application/json", br#"{"suspended": true}"#.to_vec())),
    )
    .await
    .expect(200);
    s.post_json("/partner/v1/batches", &t.partner, &e)
        .await
        .problem(403, "forbidden");
    s.call(
        Method::PATCH,
        "/v1/partners/ledger-1",
        Some(&t.operator),
        Some(("application/json", br#"{"suspended": false}"#.to_vec())),
    )
    .await
    .expect(200);
    s.post_json("/partner/v1/batches", &t.partner, &e)
        .await
        .expect(200);
    s.call(
        Method::PATCH,
        "/v1/partners/nobody",
        Some(&t.operator),
        Some(("application/json", br#"{"suspended": true}"#.to_vec())),
    )
    .await
    .problem(404, "not_found");

    let privacy = s
        .call(Method::GET, "/v1/privacy", None, None)
        .await
        .expect(200);
    for f in [
        "purposes",
        "legal_basis",
        "categories",
        "recipients",
        "processors",
        "retention",
    ] {
        assert!(!privacy[f].is_null(), "{f}");
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(
        readme.contains(privacy["text"].as_str().unwrap().trim()),
        "the README carries the same privacy notice"
    );
}

async fn deregistration_keeps_data_and_can_be_undone(s: &TestServer) {
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
    let receipt = s
        .call(
            Method::DELETE,
            &format!("/v1/companies/{ORG_A}/activation"),
            Some(&t.admin),
            None,
        )
        .await
        .expect(200);
    assert!(receipt["receipt"]["deregistered_at"].is_string());
    assert_eq!(receipt["activation"]["status"], "deregistered");
    // Spec §3: company_users lose access at deregistration.
    s.get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .problem(403, "company_not_activated");
    let again = s
        .put_json(
            &format!("/v1/companies/{ORG_A}/activation"),
            &t.admin,
            &json!({"terms_version": "2026-02", "company_name": "Bygg AB"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (again["status"].clone(), again["terms_version"].clone()),
        (json!("active"), json!("2026-02"))
    );
    assert!(again["terms_accepted_at"].is_string());
    let people = s
        .get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
    assert_eq!(
        people["people"].as_array().unwrap().len(),
        1,
        "data kept until retention ends"
    );
    let ok = s
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
    assert_eq!(ok["accepted"], 1);
}

on_every_store!(
    every_role_on_every_route_is_decided_and_audited,
    legal_holds_keep_data_from_the_purge,
    operators_announce_and_suspend,
    deregistration_keeps_data_and_can_be_undone,
);
