//! Large deliveries (spec §5 `POST /partner/v1/uploads`): a URL to PUT to, the import
//! that follows (stamp-local in-process; on S3 what the upload-import function runs),
//! the answer at `GET /partner/v1/batches/{id}` for the partner's own batches only, the
//! archived copy under object lock — and the same index as a push of the same events.

use crate::on_every_store;
use crate::rebuild::{csv_of, first_difference, sim, snapshot};
use crate::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Takes out what differs between two receipts of the same events: when they came.
fn without_receipt_times(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("received_at");
                m.remove("last_delivery");
                m.remove("last_events_at");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// ~2,500 generated events (so an upload is read in several chunks), with a correction
/// before what it corrects, a repeat across chunks, a conflict and an invalid event.
/// A delivery with a correction placed before the event it corrects, a repeat, a
/// conflict and a bad site. On the embedded store it spans several of the upload's
/// 1,000-event chunks; on DynamoDB Local (a slow stand-in) a smaller one is enough to
/// take the S3 path.
fn delivery(days: u32) -> Vec<Value> {
    let mut events = stamp_testdata::generate(&sim(ORG_A, "big", 21, 30, days), ORG_A, "Bygg AB");
    let n = events.len();
    assert!(n > 28 * days as usize, "{n}");
    let mut early_fix = events[n * 6 / 7].clone();
    early_fix["event_id"] = json!("early-fix");
    early_fix["corrects"] = events[n * 13 / 14]["event_id"].clone();
    early_fix["source"] = json!("manual");
    early_fix["recorded_by"] = json!("platschef");
    events.insert(3, early_fix);
    events.push(events[n * 4 / 7].clone());
    let mut conflicting = events[n * 5 / 8].clone();
    conflicting["person_name"] = json!("Någon Annan");
    events.push(conflicting);
    let mut bad = events[10].clone();
    bad["event_id"] = json!("bad-site");
    bad["site_id"] = json!("nope");
    events.push(bad);
    events
}

async fn an_upload_and_a_push_index_the_same(s: &TestServer) {
    let days = if s.on_aws() { 8 } else { 70 };
    let body = batch("big-1", delivery(days)).to_string().into_bytes();
    assert!(body.len() < 6 * 1024 * 1024);
    let t = setup(s, ORG_A, "ledger-1").await;
    let pushed = s
        .call(
            Method::POST,
            "/partner/v1/batches",
            Some(&t.partner),
            Some(("application/json", body.clone())),
        )
        .await
        .expect(200);

    let u = s.sibling().await;
    let tu = setup(&u, ORG_A, "ledger-1").await;
    let created = u
        .post_json(
            "/partner/v1/uploads",
            &tu.partner,
            &json!({ "batch_id": "big-1" }),
        )
        .await
        .expect(201);
    let uploaded = u
        .complete_upload(&created, body.clone(), &tu.partner)
        .await
        .expect(200);

    for k in ["batch_id", "accepted", "duplicates", "rejected"] {
        assert_eq!(pushed[k], uploaded[k], "{k}");
    }
    assert_eq!(pushed["duplicates"], 1);
    assert_eq!(uploaded["rejected_count"], 2, "{}", uploaded["rejected"]);
    assert_eq!(pushed["archive"]["sha256"], uploaded["archive"]["sha256"]);

    let a = without_receipt_times(snapshot(s, &t.user, ORG_A).await);
    let b = without_receipt_times(snapshot(&u, &tu.user, ORG_A).await);
    if let Some(d) = first_difference(&a, &b, "") {
        panic!("the upload indexed differently from the push: {d}");
    }
}

async fn uploads_are_answered_to_their_partner_and_archived_locked(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let other = setup(s, ORG_A, "ledger-2").await;
    let user = s.token(claims("someone", &["company_user"], &[ORG_A]));
    s.post_json("/partner/v1/uploads", &user, &json!({ "batch_id": "x" }))
        .await
        .problem(403, "forbidden");
    s.post_json("/partner/v1/uploads", &t.partner, &json!({}))
        .await
        .problem(400, "missing_field");
    s.post_json(
        "/partner/v1/uploads",
        &t.partner,
        &json!({ "batch_id": "x", "format": "xml" }),
    )
    .await
    .problem(400, "invalid_field");

    // CSV, batch id and format as query parameters.
    let created = s
        .call(
            Method::POST,
            "/partner/v1/uploads?batch_id=csv-up&format=csv",
            Some(&t.partner),
            None,
        )
        .await
        .expect(201);
    assert_eq!(created["method"], "PUT");
    let pending = s
        .get("/partner/v1/batches/csv-up", &t.partner)
        .await
        .expect(202);
    assert_eq!(pending["status"], "pending");
    let mut events = stamp_testdata::generate(&sim(ORG_A, "csv", 5, 4, 10), ORG_A, "Bygg AB");
    let n = events.len();
    events[2]["direction"] = json!("sideways");
    let bytes = csv_of(&events);
    let answer = s
        .complete_upload(&created, bytes.clone(), &t.partner)
        .await
        .expect(200);
    assert_eq!(
        (
            answer["accepted"].as_u64(),
            answer["rejected_count"].as_u64()
        ),
        (Some(n as u64 - 1), Some(1)),
        "{answer}"
    );
    assert_eq!(answer["rejected"][0]["index"], 2);
    let key = answer["archive"]["key"].as_str().unwrap();
    assert!(
        key.starts_with("batches/ledger-1/") && key.ends_with(".csv"),
        "{key}"
    );
    assert_eq!(
        answer["archive"]["sha256"],
        hex::encode(Sha256::digest(&bytes))
    );
    assert_eq!(
        s.archive.get(key).await.unwrap(),
        bytes,
        "archived byte for byte"
    );
    // Events of March 2026, fiscal year = calendar year: locked to the end of 2028.
    assert_eq!(
        s.locked_until(key).await,
        chrono::NaiveDate::from_ymd_opt(2028, 12, 31).unwrap()
    );
    assert!(
        s.archive.list("uploads/").await.unwrap().is_empty(),
        "the staged upload is removed"
    );
    assert!(!s
        .archive
        .list("receipts/ledger-1/")
        .await
        .unwrap()
        .is_empty());

    // Own batches only; pushed ones are answered too.
    s.get("/partner/v1/batches/csv-up", &other.partner)
        .await
        .problem(404, "not_found");
    s.get("/partner/v1/batches/nothing-here", &t.partner)
        .await
        .problem(404, "not_found");
    let pushed = s
        .post_json(
            "/partner/v1/batches",
            &t.partner,
            &batch(
                "p1",
                vec![event(
                    "p1-e",
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
    assert_eq!(
        s.get("/partner/v1/batches/p1", &t.partner)
            .await
            .expect(200),
        pushed
    );

    // The same bytes again under the same batch id: the first answer; other bytes: 409.
    let again = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({ "batch_id": "csv-up", "format": "csv" }),
        )
        .await
        .expect(201);
    assert_eq!(
        s.complete_upload(&again, bytes.clone(), &t.partner)
            .await
            .expect(200),
        answer
    );
    let changed = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({ "batch_id": "json-up" }),
        )
        .await
        .expect(201);
    let json_bytes = batch("json-up", events[..5].to_vec())
        .to_string()
        .into_bytes();
    s.complete_upload(&changed, json_bytes, &t.partner)
        .await
        .expect(200);
    let conflicting = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({ "batch_id": "json-up" }),
        )
        .await
        .expect(201);
    s.complete_upload(
        &conflicting,
        batch("json-up", events[..6].to_vec())
            .to_string()
            .into_bytes(),
        &t.partner,
    )
    .await
    .problem(409, "batch_conflict");

    // An unreadable upload is archived as it came and refused.
    let broken = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({ "batch_id": "broken-up" }),
        )
        .await
        .expect(201);
    let garbage = br#"{"batch_id": "broken-up", "events": [{"event_id": "#.to_vec();
    let problem = s
        .complete_upload(&broken, garbage.clone(), &t.partner)
        .await
        .problem(400, "invalid_field");
    assert_eq!(problem["upload_id"], broken["upload_id"]);
    let unreadable = s
        .archive
        .list("batches/ledger-1/")
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.contains("unreadable-"))
        .expect("archived");
    assert_eq!(s.archive.get(&unreadable).await.unwrap(), garbage);
    // A body that names another batch id than the upload was created for is refused.
    let mismatch = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({ "batch_id": "declared" }),
        )
        .await
        .expect(201);
    let problem = s
        .complete_upload(
            &mismatch,
            batch("other", vec![]).to_string().into_bytes(),
            &t.partner,
        )
        .await
        .problem(400, "invalid_field");
    assert_eq!(problem["field"], "batch_id");
}

on_every_store!(
    an_upload_and_a_push_index_the_same,
    uploads_are_answered_to_their_partner_and_archived_locked
);
