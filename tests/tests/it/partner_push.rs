//! Spec §5 over HTTP: pushing batches, archiving first, validation per event,
//! idempotency, replays and corrections — on both storage stacks.

use crate::on_every_store;
use crate::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

async fn push(s: &TestServer, token: &str, body: &Value) -> Value {
    s.post_json("/partner/v1/batches", token, body)
        .await
        .expect(200)
}

fn rejected_codes(answer: &Value) -> Vec<(u64, String, String)> {
    answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["code"].as_str().unwrap().into(),
                r["message"].as_str().unwrap().into(),
            )
        })
        .collect()
}

async fn archived_bytes_match_and_answer_is_complete(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let body = batch(
        "b1",
        vec![
            event(
                "e1",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa Öberg",
                "in",
                "2026-03-02T07:00:00+01:00",
            ),
            event(
                "e2",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa Öberg",
                "out",
                "2026-03-02T16:00:00+01:00",
            ),
        ],
    );
    let bytes = body.to_string().into_bytes();
    let answer = s
        .call(
            Method::POST,
            "/partner/v1/batches",
            Some(&t.partner),
            Some(("application/json", bytes.clone())),
        )
        .await
        .expect(200);
    assert_eq!(answer["batch_id"], "b1");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["duplicates"], 0);
    assert_eq!(answer["rejected"], json!([]));
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(answer["archive"]["sha256"], sha);
    let key = answer["archive"]["key"].as_str().unwrap();
    assert!(
        !key.contains(ANNA) && !key.contains("8112189876") && !key.contains(ORG_A),
        "{key}"
    );
    assert_eq!(
        s.archive.get(key).await.unwrap(),
        bytes,
        "the archive holds the exact bytes"
    );
}

async fn each_event_is_judged_on_its_own(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let good = |id: &str| {
        event(
            id,
            ORG_A,
            SITE_1,
            ANNA,
            "Åsa",
            "in",
            "2026-03-02T07:00:00+01:00",
        )
    };
    let with = |id: &str, f: &str, v: Value| {
        let mut e = good(id);
        e[f] = v;
        e
    };
    let without = |id: &str, f: &str| {
        let mut e = good(id);
        e.as_object_mut().unwrap().remove(f);
        e
    };
    let events = vec![
        good("ok-1"),
        without("x1", "site_id"),
        with("x2", "site_id", json!("STH20260001")),
        with("x3", "site_id", json!("sth2026000001")),
        with("x4", "person_id", json!("8112189876")),
        with("x5", "person_id", json!("19811218987")),
        with("x6", "person_id", json!("1981121898760")),
        with("x7", "occurred_at", json!("2026-02-30T07:00:00+01:00")),
        with("x8", "occurred_at", json!("2026-03-02T07:00:00")),
        with("x9", "direction", json!(1)),
        with("x10", "company_orgnr", json!(ORG_B)),
        json!("not an event"),
        with("ok-2", "person_id", json!("198112189877")),
    ];
    let answer = push(s, &t.partner, &batch("b-mixed", events)).await;
    assert_eq!(answer["accepted"], 2, "{answer}");
    let r = rejected_codes(&answer);
    let expect: Vec<(u64, &str, &str)> = vec![
        (1, "missing_field", "site_id"),
        (2, "invalid_field", "site_id"),
        (3, "invalid_field", "site_id"),
        (4, "invalid_field", "person_id"),
        (5, "invalid_field", "person_id"),
        (6, "invalid_field", "person_id"),
        (7, "invalid_field", "occurred_at"),
        (8, "invalid_field", "occurred_at"),
        (9, "invalid_field", "direction"),
        (10, "company_not_activated", "company_orgnr"),
        (11, "invalid_field", "event"),
    ];
    assert_eq!(r.len(), expect.len(), "{answer}");
    for ((i, code, msg), (ei, ecode, efield)) in r.iter().zip(expect) {
        assert_eq!((*i, code.as_str()), (ei, ecode), "{msg}");
        assert!(msg.starts_with(efield), "{msg} should name {efield}");
    }
    assert_eq!(answer["rejected"][1]["event_id"], "x2");
}

async fn duplicates_are_counted_and_conflicts_never_overwrite(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let e1 = event(
        "e1",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa",
        "in",
        "2026-03-02T07:00:00+01:00",
    );
    push(s, &t.partner, &batch("b1", vec![e1.clone()])).await;
    // The same event again, times written differently but the same instant: a duplicate.
    let mut same = e1.clone();
    same["occurred_at"] = json!("2026-03-02T06:00:00Z");
    same["recorded_at"] = json!("2026-03-02T06:00:00Z");
    same["card_number"] = json!("");
    let mut changed = e1.clone();
    changed["occurred_at"] = json!("2026-03-02T08:00:00+01:00");
    changed["event_id"] = json!("e1");
    let answer = push(
        s,
        &t.partner,
        &batch("b2", vec![same, changed.clone(), changed]),
    )
    .await;
    assert_eq!(
        (answer["accepted"].clone(), answer["duplicates"].clone()),
        (json!(0), json!(1)),
        "{answer}"
    );
    let codes: Vec<_> = rejected_codes(&answer)
        .into_iter()
        .map(|(i, c, _)| (i, c))
        .collect();
    assert_eq!(
        codes,
        vec![
            (1, "event_conflict".to_string()),
            (2, "event_conflict".to_string())
        ]
    );

    let people = s
        .get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
    let person_ref = people["people"][0]["person_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let regs = s
        .get(
            &format!("/v1/companies/{ORG_A}/people/{person_ref}/registrations"),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(
        regs["unpaired"][0]["occurred_at"], "2026-03-02T07:00:00+01:00",
        "the first delivery stands: {regs}"
    );
}

async fn a_replayed_batch_gets_the_first_answer_and_different_bytes_409(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let body = batch(
        "b1",
        vec![
            event(
                "e1",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                "2026-03-02T07:00:00+01:00",
            ),
            event(
                "bad",
                ORG_A,
                "X",
                ANNA,
                "Åsa",
                "in",
                "2026-03-02T07:00:00+01:00",
            ),
        ],
    );
    let first = push(s, &t.partner, &body).await;
    let again = push(s, &t.partner, &body).await;
    assert_eq!(first, again);
    let mut other = body.clone();
    other["events"][0]["person_name"] = json!("Åsa Ö");
    s.post_json("/partner/v1/batches", &t.partner, &other)
        .await
        .problem(409, "batch_conflict");
    // Another partner may use the same batch id.
    let setup2 = setup(s, ORG_A, "ledger-2").await;
    let mine = push(
        s,
        &setup2.partner,
        &batch(
            "b1",
            vec![event(
                "e1",
                ORG_A,
                SITE_1,
                BO,
                "Bo",
                "in",
                "2026-03-02T07:00:00+01:00",
            )],
        ),
    )
    .await;
    assert_eq!(mine["accepted"], 1);
}

async fn csv_deliveries(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let csv = format!(
        "event_id,company_orgnr,company_name,site_id,person_id,person_name,direction,occurred_at,source,recorded_by,void,card_number\n\
         c1,{ORG_A},\"Bygg AB, Väst\",{SITE_1},{ANNA},\"Öberg, Åsa\",in,2026-03-02T07:00:00+01:00,,,false,\n\
         c2,{ORG_A},Bygg AB,{SITE_1},{ANNA},\"Öberg, Åsa\",out,2026-03-02T16:00:00+01:00,manual,Förman,,\n\
         c3,{ORG_A},Bygg AB,{SITE_1},{ANNA},Åsa,out\n\
         c4,{ORG_A},Bygg AB,{SITE_1},{ANNA},Åsa,out,2026-03-02T16:00:00+01:00,manual,,,\n"
    );
    let answer = s
        .call(
            Method::POST,
            "/partner/v1/batches?batch_id=csv-1",
            Some(&t.partner),
            Some(("text/csv; charset=utf-8", csv.clone().into_bytes())),
        )
        .await
        .expect(200);
    assert_eq!(answer["accepted"], 2, "{answer}");
    let r = rejected_codes(&answer);
    assert_eq!((r[0].0, r[0].1.as_str()), (2, "invalid_field"));
    assert_eq!((r[1].0, r[1].1.as_str()), (3, "missing_field"));
    assert!(r[1].2.starts_with("recorded_by"), "{}", r[1].2);
    assert_eq!(
        answer["archive"]["sha256"],
        hex::encode(Sha256::digest(csv.as_bytes()))
    );
    s.call(
        Method::POST,
        "/partner/v1/batches",
        Some(&t.partner),
        Some(("text/csv", csv.into_bytes())),
    )
    .await
    .problem(400, "missing_field");
}

async fn malformed_and_oversized_deliveries(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let bad = s
        .call(
            Method::POST,
            "/partner/v1/batches",
            Some(&t.partner),
            Some(("application/json", b"{\"batch_id\": ".to_vec())),
        )
        .await;
    let p = bad.problem(400, "invalid_field");
    assert_eq!(p["field"], "body");
    let p = s
        .post_json("/partner/v1/batches", &t.partner, &json!({"events": []}))
        .await
        .problem(400, "missing_field");
    assert_eq!(p["field"], "batch_id");
    let p = s
        .post_json(
            "/partner/v1/batches",
            &t.partner,
            &json!({"batch_id": "b", "events": {}}),
        )
        .await
        .problem(400, "invalid_field");
    assert_eq!(p["field"], "events");
    let many: Vec<Value> = (0..10_001).map(|_| json!({})).collect();
    s.post_json("/partner/v1/batches", &t.partner, &batch("big", many))
        .await
        .problem(413, "payload_too_large");
    let huge = json!({"batch_id": "huge", "events": [], "padding": "x".repeat(6 * 1024 * 1024)});
    s.post_json("/partner/v1/batches", &t.partner, &huge)
        .await
        .problem(413, "payload_too_large");
    s.call(
        Method::POST,
        "/partner/v1/batches",
        Some(&t.partner),
        Some(("application/xml", b"<x/>".to_vec())),
    )
    .await
    .problem(415, "unsupported_media_type");
}

async fn unknown_partners_and_unactivated_companies(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let stranger = s.token(partner_claims("nobody"));
    let body = batch(
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
    s.post_json("/partner/v1/batches", &stranger, &body)
        .await
        .problem(403, "forbidden");
    s.post_json("/partner/v1/batches", &t.user, &body)
        .await
        .problem(403, "forbidden");
    s.call(
        Method::POST,
        "/partner/v1/batches",
        None,
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
    .problem(401, "unauthenticated");
    let other = batch(
        "b2",
        vec![event(
            "e9",
            ORG_B,
            SITE_1,
            ANNA,
            "Åsa",
            "in",
            "2026-03-02T07:00:00+01:00",
        )],
    );
    let answer = push(s, &t.partner, &other).await;
    assert_eq!(answer["rejected"][0]["code"], "company_not_activated");
    // After a deregistration, imports are refused again.
    s.call(
        Method::DELETE,
        &format!("/v1/companies/{ORG_A}/activation"),
        Some(&t.admin),
        None,
    )
    .await
    .expect(200);
    let answer = push(
        s,
        &t.partner,
        &batch(
            "b3",
            vec![event(
                "e3",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                "2026-03-03T07:00:00+01:00",
            )],
        ),
    )
    .await;
    assert_eq!(answer["rejected"][0]["code"], "company_not_activated");
}

async fn corrections_keep_the_history(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    push(
        s,
        &t.partner,
        &batch(
            "b1",
            vec![
                event(
                    "in1",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "in",
                    "2026-03-02T07:00:00+01:00",
                ),
                event(
                    "out1",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "out",
                    "2026-03-02T15:00:00+01:00",
                ),
                event(
                    "in2",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "in",
                    "2026-03-03T07:00:00+01:00",
                ),
                event(
                    "stray",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "out",
                    "2026-03-03T09:00:00+01:00",
                ),
                event(
                    "out2",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "out",
                    "2026-03-03T16:00:00+01:00",
                ),
            ],
        ),
    )
    .await;
    let mut fix = event(
        "fix1",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa",
        "out",
        "2026-03-02T16:30:00+01:00",
    );
    fix["corrects"] = json!("out1");
    fix["source"] = json!("manual");
    fix["recorded_by"] = json!("Förman Kalle");
    let mut fix2 = fix.clone();
    fix2["event_id"] = json!("fix2");
    fix2["corrects"] = json!("fix1");
    fix2["occurred_at"] = json!("2026-03-02T17:00:00+01:00");
    let mut void = event(
        "void1",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa",
        "out",
        "2026-03-03T09:00:00+01:00",
    );
    void["corrects"] = json!("stray");
    void["void"] = json!(true);
    let mut nowhere = fix.clone();
    nowhere["event_id"] = json!("fix-x");
    nowhere["corrects"] = json!("no-such-event");
    let answer = push(s, &t.partner, &batch("b2", vec![fix, fix2, void, nowhere])).await;
    assert_eq!(answer["accepted"], 3, "{answer}");
    assert_eq!(answer["rejected"][0]["code"], "invalid_field");
    assert!(answer["rejected"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("corrects"));

    let people = s
        .get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
    let p = people["people"][0]["person_ref"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!("/v1/companies/{ORG_A}/people/{p}/registrations?from=2026-03-01T00:00:00Z&to=2026-03-05T00:00:00Z");
    let regs = s.get(&url, &t.user).await.expect(200);
    let sessions = regs["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{regs}");
    // The chain in1 ← fix1 ← fix2: the effective out keeps its identity, takes fix2's time.
    assert_eq!(sessions[0]["check_out"]["event_id"], "out1");
    assert_eq!(
        sessions[0]["check_out"]["occurred_at"],
        "2026-03-02T17:00:00+01:00"
    );
    assert_eq!(sessions[0]["duration_minutes"], 600);
    // The withdrawn stray check-out is gone from the effective view.
    assert_eq!(regs["unpaired"], json!([]), "{regs}");
    assert!(regs.get("withdrawn").is_none());

    let hist = s
        .get(&format!("{url}&history=true"), &t.user)
        .await
        .expect(200);
    let corr = &hist["sessions"][0]["check_out"]["corrections"];
    assert_eq!(corr.as_array().unwrap().len(), 2, "{hist}");
    assert_eq!(corr[0]["event_id"], "fix1");
    assert_eq!(corr[0]["recorded_by"], "Förman Kalle");
    assert_eq!(
        corr[0]["changes"]["occurred_at"]["from"],
        "2026-03-02T15:00:00+01:00"
    );
    assert_eq!(
        corr[1]["changes"]["occurred_at"]["to"],
        "2026-03-02T17:00:00+01:00"
    );
    assert!(corr[1]["received_at"].is_string());
    let withdrawn = hist["withdrawn"].as_array().unwrap();
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0]["event_id"], "stray");
    assert_eq!(withdrawn[0]["corrections"][0]["void"], true);
}

async fn the_archive_is_locked_until_the_latest_retention_of_the_batch(s: &TestServer) {
    let operator = s.token(claims("op", &["operator"], &[]));
    s.post_json(
        "/v1/partners",
        &operator,
        &json!({"partner_id": "ledger-1", "name": "L"}),
    )
    .await
    .expect(201);
    // Fiscal year May–April: 2024-06-01 is kept until 2027-12-31, 2026-03-02 until 2028-12-31.
    let admin = s.token(claims("a", &["company_admin"], &[ORG_A]));
    s.put_json(
        &format!("/v1/companies/{ORG_A}/activation"),
        &admin,
        &json!({"terms_version": "1", "company_name": "Bygg AB", "fiscal_year_end_month": 4}),
    )
    .await
    .expect(200);
    let partner = s.token(partner_claims("ledger-1"));
    let a = push(
        s,
        &partner,
        &batch(
            "old",
            vec![event(
                "e1",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                "2024-06-01T07:00:00+02:00",
            )],
        ),
    )
    .await;
    assert_eq!(
        s.locked_until(a["archive"]["key"].as_str().unwrap())
            .await
            .to_string(),
        "2027-12-31"
    );
    let b = push(
        s,
        &partner,
        &batch(
            "mixed",
            vec![
                event(
                    "e2",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "in",
                    "2024-06-01T08:00:00+02:00",
                ),
                event(
                    "e3",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Åsa",
                    "in",
                    "2026-03-02T07:00:00+01:00",
                ),
            ],
        ),
    )
    .await;
    assert_eq!(
        s.locked_until(b["archive"]["key"].as_str().unwrap())
            .await
            .to_string(),
        "2028-12-31"
    );
}

on_every_store!(
    the_archive_is_locked_until_the_latest_retention_of_the_batch,
    archived_bytes_match_and_answer_is_complete,
    each_event_is_judged_on_its_own,
    duplicates_are_counted_and_conflicts_never_overwrite,
    a_replayed_batch_gets_the_first_answer_and_different_bytes_409,
    csv_deliveries,
    malformed_and_oversized_deliveries,
    unknown_partners_and_unactivated_companies,
    corrections_keep_the_history,
);
