//! Spec §11 and §12 over HTTP on both storage stacks: notification settings and their
//! validation, the daily digest by e-mail (.eml outbox) and webhook (signatures checked by
//! a receiver here), retries after a 500 and a timeout on a stepped clock, partner
//! silence, archive verification naming each kind of damage, and purge receipts.

use crate::on_every_store;
use crate::server::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use serde_json::{json, Value};
use stamp_domain::notify::webhook;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver answers to the next request.
#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answers 200 only after this long (longer than the sender's timeout).
    Hang(Duration),
}

#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
    at: std::time::Instant,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    /// Answer when no scripted reply is left.
    default: Arc<Mutex<Option<u16>>>,
}

impl Receiver {
    async fn start(replies: Vec<Reply>) -> (Receiver, String) {
        let r = Receiver {
            replies: Arc::new(Mutex::new(replies.into())),
            ..Default::default()
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(r.clone());
        let url = format!("{}/hook", crate::server::serve(app).await);
        (r, url)
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AxStatus {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    r.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body: body.to_vec(),
        at: std::time::Instant::now(),
    });
    let next = r.replies.lock().unwrap().pop_front();
    match next {
        Some(Reply::Status(c)) => AxStatus::from_u16(c).unwrap(),
        Some(Reply::Hang(d)) => {
            tokio::time::sleep(d).await;
            AxStatus::OK
        }
        None => AxStatus::from_u16(r.default.lock().unwrap().unwrap_or(200)).unwrap(),
    }
}

/// Checks a message as a Standard Webhooks receiver does: signature and timestamp.
fn verified(secret: &str, m: &Received) -> Value {
    let ts: i64 = m.timestamp.parse().expect("timestamp");
    let at = chrono::DateTime::from_timestamp(ts, 0).unwrap();
    webhook::verify(secret, &m.id, &m.timestamp, &m.signature, &m.body, at)
        .unwrap_or_else(|e| panic!("signature of {}: {e}", m.id));
    assert!(m.id.starts_with("msg_"), "{}", m.id);
    serde_json::from_slice(&m.body).expect("JSON payload")
}

/// Finds Swedish personal identity numbers (personnummer or samordningsnummer) in text:
/// 10 or 12 digits, optionally with `-`/`+` before the last four, whose date is valid
/// (day + 60 for samordningsnummer) and whose check digit is right.
fn personnummer_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut s = String::new();
        while j < chars.len()
            && (chars[j].is_ascii_digit() || "-+".contains(chars[j]))
            && s.len() < 14
        {
            s.push(chars[j]);
            j += 1;
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        for len in [12, 10] {
            if digits.len() >= len {
                let d = &digits[..len];
                let ten = &d[len - 10..];
                let (mm, dd): (u32, u32) = (ten[2..4].parse().unwrap(), ten[4..6].parse().unwrap());
                let dd = if dd > 60 { dd - 60 } else { dd };
                let date_ok = (1..=12).contains(&mm) && (1..=31).contains(&dd);
                let luhn: u32 = ten
                    .chars()
                    .enumerate()
                    .map(|(k, c)| {
                        let v = c.to_digit(10).unwrap() * if k % 2 == 0 { 2 } else { 1 };
                        v / 10 + v % 10
                    })
                    .sum();
                if date_ok && luhn.is_multiple_of(10) {
                    found.push(d.to_string());
                    break;
                }
            }
        }
        i = j.max(i + 1);
    }
    found
}

/// The raw e-mail with quoted-printable soft line breaks joined.
fn eml_text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).replace("=\r\n", "")
}

async fn put_settings(s: &TestServer, admin: &str, org: &str, body: Value) -> Value {
    s.put_json(&format!("/v1/companies/{org}/notifications"), admin, &body)
        .await
        .expect(200)
}

async fn settings_are_validated(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    let path = format!("/v1/companies/{ORG_A}/notifications");
    let empty = s.get(&path, &a.admin).await.expect(200);
    assert_eq!(empty["daily_digest"], false);
    assert_eq!(empty["webhook_url"], Value::Null);
    s.get(&path, &a.user).await.problem(403, "forbidden");

    let (_r, url) = Receiver::start(vec![]).await;
    let set = put_settings(s, &a.admin, ORG_A, json!({"webhook_url": url, "emails": ["drift@bygg.example"], "daily_digest": true, "partner_silence": true})).await;
    let secret = set["webhook_secret"].as_str().expect("secret shown once");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let read = s.get(&path, &a.admin).await.expect(200);
    assert_eq!(
        read["webhook_secret"],
        Value::Null,
        "never shown again: {read}"
    );
    assert_eq!(read["emails"], json!(["drift@bygg.example"]));
    // The same URL keeps its secret; a changed one gets a new secret.
    let same = put_settings(
        s,
        &a.admin,
        ORG_A,
        json!({"webhook_url": url, "daily_digest": false, "partner_silence": true}),
    )
    .await;
    assert_eq!(same["webhook_secret"], Value::Null);
    let changed = put_settings(s, &a.admin, ORG_A, json!({"webhook_url": format!("{url}?v=2"), "daily_digest": false, "partner_silence": true})).await;
    assert_ne!(changed["webhook_secret"].as_str().unwrap(), secret);

    let bad = |body: Value| {
        let path = path.clone();
        let admin = a.admin.clone();
        async move {
            s.put_json(&path, &admin, &body)
                .await
                .problem(400, "invalid_field")
        }
    };
    let p = bad(json!({"emails": ["a@bygg.example", "b@bygg.example", "inte en adress"], "daily_digest": true, "partner_silence": false})).await;
    assert_eq!(p["field"], "emails[2]");
    let many: Vec<String> = (0..11).map(|i| format!("u{i}@bygg.example")).collect();
    assert_eq!(
        bad(json!({"emails": many, "daily_digest": true, "partner_silence": false})).await["field"],
        "emails"
    );
    for url in [
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://192.168.1.20/hook",
        "http://93.184.215.14/hook",
        "https://does-not-exist.invalid/hook",
    ] {
        let p =
            bad(json!({"webhook_url": url, "daily_digest": true, "partner_silence": false})).await;
        assert_eq!(p["field"], "webhook_url", "{url}: {p}");
    }
    s.put_json(&path, &a.admin, &json!({"daily_digest": true}))
        .await
        .expect(400);
}

async fn deliver(s: &TestServer, partner: &str, id: &str, events: Vec<Value>) -> Value {
    s.post_json("/partner/v1/batches", partner, &batch(id, events))
        .await
        .expect(200)
}

async fn digest_goes_by_email_and_webhook(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    let (r, url) = Receiver::start(vec![]).await;
    let set = put_settings(s, &a.admin, ORG_A, json!({"webhook_url": url, "emails": ["drift@bygg.example", "chef@bygg.example"], "daily_digest": true, "partner_silence": true})).await;
    let secret = set["webhook_secret"].as_str().unwrap().to_string();
    // Tuesday 24 November: Åsa in and out (and her check-in repeated), Bo in and never out.
    s.clock.set("2026-11-24T16:00:00Z");
    deliver(
        s,
        &a.partner,
        "tue",
        vec![
            event(
                "e1",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa Öberg",
                "in",
                "2026-11-24T07:00:00+01:00",
            ),
            event(
                "e2",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa Öberg",
                "in",
                "2026-11-24T07:01:00+01:00",
            ),
            event(
                "e3",
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa Öberg",
                "out",
                "2026-11-24T16:00:00+01:00",
            ),
            event(
                "e4",
                ORG_A,
                SITE_2,
                BO,
                "Bo Ek",
                "in",
                "2026-11-24T07:30:00+01:00",
            ),
        ],
    )
    .await;
    // 06:00 on Wednesday in Stockholm.
    s.clock.set("2026-11-25T05:00:00Z");
    let run = s
        .post_json("/local/jobs/digest", &a.operator, &json!({}))
        .await
        .expect(200);
    assert_eq!(
        (
            run["digests"].clone(),
            run["emails"].clone(),
            run["webhooks"].clone()
        ),
        (json!(1), json!(1), json!(1)),
        "{run}"
    );

    let got = r.got();
    assert_eq!(got.len(), 1);
    let msg = verified(&secret, &got[0]);
    assert_eq!(msg["type"], "daily_digest");
    let d = &msg["data"];
    assert_eq!(d["day"], "2026-11-24");
    assert_eq!(d["company_orgnr"], ORG_A);
    let group = |kind: &str, site: &str| {
        d["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["kind"] == kind && g["site_id"] == site)
            .cloned()
    };
    let dup = group("duplicate", SITE_1).expect("the repeated check-in");
    assert_eq!(dup["count"], 1);
    assert_eq!(dup["anomalies"][0]["person_name"], "Åsa Öberg");
    assert!(dup["anomalies"][0]["person_ref"].is_string());
    let still = d["still_checked_in"].as_array().unwrap();
    assert_eq!(still.len(), 1, "{d}");
    assert_eq!(still[0]["person_name"], "Bo Ek");
    assert_eq!(still[0]["site_id"], SITE_2);

    let mails = s.outbox();
    assert_eq!(mails.len(), 1);
    let text = eml_text(&mails[0].1);
    assert!(
        text.contains("To: drift@bygg.example, chef@bygg.example"),
        "{text}"
    );
    assert!(text.contains("multipart/alternative"));
    assert!(text.contains("text/plain") && text.contains("text/html"));
    assert!(
        text.contains("AVVIKELSER") && text.contains("Dubbelregistrering"),
        "{text}"
    );
    assert!(text.contains("FORTFARANDE INCHECKADE"));

    // No personnummer anywhere, in any format; the scanner itself finds one.
    assert_eq!(
        personnummer_in("id 19811218-9876 och 811218-9876"),
        vec!["198112189876", "8112189876"]
    );
    assert!(
        personnummer_in(ORG_A).is_empty(),
        "an organisationsnummer is not one"
    );
    for (name, raw) in &mails {
        assert_eq!(
            personnummer_in(&eml_text(raw)),
            Vec::<String>::new(),
            "{name}"
        );
    }
    for m in r.got() {
        assert_eq!(
            personnummer_in(&String::from_utf8_lossy(&m.body)),
            Vec::<String>::new()
        );
    }

    let list = s
        .get(
            &format!("/v1/companies/{ORG_A}/notifications/deliveries"),
            &a.admin,
        )
        .await
        .expect(200);
    let ds = list["deliveries"].as_array().unwrap();
    assert_eq!(ds.len(), 2, "{list}");
    let hook = ds.iter().find(|d| d["channel"] == "webhook").unwrap();
    assert_eq!(hook["state"], "delivered");
    assert_eq!(hook["id"], got[0].id);
    assert_eq!(hook["attempts"][0]["status"], 200);
    let mail = ds.iter().find(|d| d["channel"] == "email").unwrap();
    assert_eq!(mail["state"], "delivered");
    s.get(
        &format!("/v1/companies/{ORG_A}/notifications/deliveries"),
        &a.user,
    )
    .await
    .problem(403, "forbidden");

    // Once a day.
    let again = s
        .post_json("/local/jobs/digest", &a.operator, &json!({}))
        .await
        .expect(200);
    assert_eq!(again["digests"], 0, "{again}");
    assert_eq!(r.got().len(), 1);
}

async fn webhooks_are_retried_after_a_500_and_a_timeout(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    let (r, url) = Receiver::start(vec![
        Reply::Status(500),
        Reply::Hang(Duration::from_secs(3)),
        Reply::Status(204),
    ])
    .await;
    let set = put_settings(
        s,
        &a.admin,
        ORG_A,
        json!({"webhook_url": url, "daily_digest": true, "partner_silence": false}),
    )
    .await;
    let secret = set["webhook_secret"].as_str().unwrap().to_string();
    let mut state = s.state.clone();
    state.notifications.timeout = Duration::from_millis(500);
    let n = &state.notifications;

    s.clock.set("2026-11-25T05:00:00Z");
    let t0 = stamp_domain::ports::Clock::now(s.clock.as_ref());
    n.run_daily().await.unwrap();
    assert_eq!(r.got().len(), 1, "first attempt at once");
    let deliveries = || async {
        s.get(
            &format!("/v1/companies/{ORG_A}/notifications/deliveries"),
            &a.admin,
        )
        .await
        .expect(200)["deliveries"][0]
            .clone()
    };
    let d = deliveries().await;
    assert_eq!(d["state"], "pending");
    assert_eq!(d["attempts"][0]["status"], 500);
    assert_eq!(
        d["next_attempt_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        t0 + chrono::Duration::seconds(30)
    );
    // Not due yet.
    assert_eq!(n.drain().await.unwrap().attempted, 0);
    s.clock.advance(chrono::Duration::seconds(30));
    let second = n.drain().await.unwrap();
    assert_eq!((second.attempted, second.retrying), (1, 1));
    let d = deliveries().await;
    assert_eq!(d["attempts"][1]["status"], Value::Null);
    assert!(
        d["attempts"][1]["error"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{d}"
    );
    s.clock.advance(chrono::Duration::seconds(270));
    let third = n.drain().await.unwrap();
    assert_eq!(third.delivered, 1);
    let d = deliveries().await;
    assert_eq!(d["state"], "delivered");
    let statuses: Vec<Value> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!(500), Value::Null, json!(204)]);
    // Three signed posts of one message: one id, each attempt's own timestamp.
    let got = r.got();
    assert_eq!(got.len(), 3);
    for m in &got {
        verified(&secret, m);
        assert_eq!(m.id, got[0].id);
    }
    assert_ne!(got[0].timestamp, got[2].timestamp);

    // An endpoint that always fails is given up after 24 h of retries.
    let b = setup(s, ORG_B, "ledger-1").await;
    let (bad, bad_url) = Receiver::start(vec![]).await;
    *bad.default.lock().unwrap() = Some(503);
    put_settings(
        s,
        &b.admin,
        ORG_B,
        json!({"webhook_url": bad_url, "daily_digest": false, "partner_silence": false}),
    )
    .await;
    s.post_json(
        &format!("/v1/companies/{ORG_B}/notifications/test"),
        &b.admin,
        &json!({}),
    )
    .await
    .expect(202);
    for offset in webhook::RETRY_OFFSETS.windows(2) {
        s.clock.advance(offset[1] - offset[0]);
        n.drain().await.unwrap();
    }
    s.clock.advance(chrono::Duration::hours(48));
    assert_eq!(n.drain().await.unwrap().attempted, 0);
    let d = s
        .get(
            &format!("/v1/companies/{ORG_B}/notifications/deliveries"),
            &b.admin,
        )
        .await
        .expect(200)["deliveries"][0]
        .clone();
    assert_eq!(d["state"], "failed", "{d}");
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 8);
    let at = |i: usize| {
        attempts[i]["at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert_eq!(at(7) - at(0), chrono::Duration::hours(24));
    assert_eq!(bad.got().len(), 8);
}

async fn partner_silence_is_noticed_once(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    let (r, url) = Receiver::start(vec![]).await;
    let set = put_settings(
        s,
        &a.admin,
        ORG_A,
        json!({"webhook_url": url, "daily_digest": false, "partner_silence": true}),
    )
    .await;
    let secret = set["webhook_secret"].as_str().unwrap().to_string();
    // Monday to Wednesday the partner delivers.
    for (i, day) in ["2026-11-23", "2026-11-24", "2026-11-25"]
        .iter()
        .enumerate()
    {
        s.clock.set(&format!("{day}T10:00:00Z"));
        deliver(
            s,
            &a.partner,
            &format!("b{i}"),
            vec![event(
                &format!("e{i}"),
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                &format!("{day}T10:00:00+00:00"),
            )],
        )
        .await;
    }
    let silent_since = || async {
        let st = s
            .get(&format!("/v1/companies/{ORG_A}/statistics"), &a.user)
            .await
            .expect(200);
        st["partners"][0]["silent_since"].clone()
    };
    s.clock.set("2026-11-26T20:00:00Z");
    assert_eq!(silent_since().await, Value::Null, "Thursday has not ended");
    s.clock.set("2026-11-27T05:00:00Z");
    let since = silent_since().await;
    assert_eq!(
        since
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        "2026-11-25T10:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );

    let run = s
        .post_json("/local/jobs/digest", &a.operator, &json!({}))
        .await
        .expect(200);
    assert_eq!(run["silence_notices"], 1, "{run}");
    let got = r.got();
    assert_eq!(got.len(), 1);
    let msg = verified(&secret, &got[0]);
    assert_eq!(msg["type"], "partner_silence");
    assert_eq!(msg["data"]["partners"][0]["partner_id"], "ledger-1");
    assert_eq!(msg["data"]["partners"][0]["partner_name"], "Ledger AB");
    // Once per silence: not on Saturday, not again on Monday.
    for now in ["2026-11-28T05:00:00Z", "2026-11-30T05:00:00Z"] {
        s.clock.set(now);
        let run = s
            .post_json("/local/jobs/digest", &a.operator, &json!({}))
            .await
            .expect(200);
        assert_eq!(run["silence_notices"], 0, "{now}: {run}");
    }
    assert_eq!(r.got().len(), 1);
    // Delivering again ends the silence.
    s.clock.set("2026-11-30T10:00:00Z");
    deliver(
        s,
        &a.partner,
        "b9",
        vec![event(
            "e9",
            ORG_A,
            SITE_1,
            ANNA,
            "Åsa",
            "out",
            "2026-11-30T10:00:00+00:00",
        )],
    )
    .await;
    assert_eq!(silent_since().await, Value::Null);
}

/// Replaces an archived object's bytes or lock behind Stamp's back.
async fn damage(s: &TestServer, key: &str, bytes: Option<&[u8]>, lock: Option<chrono::NaiveDate>) {
    if let Some(f) = s.folder() {
        let path = f.root().join(key);
        if let Some(b) = bytes {
            let mut perm = std::fs::metadata(&path).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&path, perm).unwrap();
            std::fs::write(&path, b).unwrap();
        }
        if let Some(until) = lock {
            let meta_path = f.root().join(format!("{key}.meta.json"));
            let mut meta: Value =
                serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
            meta["retain_until"] = json!(until.to_string());
            let mut perm = std::fs::metadata(&meta_path).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&meta_path, perm).unwrap();
            std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
        }
    } else if let Some(a) = s.s3() {
        // A new version on top (the locked one stays, but readers see this one).
        let body = match bytes {
            Some(b) => b.to_vec(),
            None => s.archive.get(key).await.unwrap(),
        };
        let until = lock.unwrap_or(chrono::NaiveDate::from_ymd_opt(2040, 1, 1).unwrap());
        let secs = until.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp();
        a.client()
            .put_object()
            .bucket(a.bucket())
            .key(key)
            .body(body.into())
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Compliance)
            .object_lock_retain_until_date(aws_sdk_s3::primitives::DateTime::from_secs(secs))
            .send()
            .await
            .expect("put a new version");
    }
}

async fn verification_names_each_damage(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    let mut keys = Vec::new();
    for (i, name) in ["clean", "changed", "lock", "gone"].iter().enumerate() {
        let r = deliver(
            s,
            &a.partner,
            name,
            vec![event(
                &format!("v{i}"),
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                &format!("2026-11-2{i}T08:00:00+01:00"),
            )],
        )
        .await;
        keys.push(r["archive"]["key"].as_str().unwrap().to_string());
    }
    // Two deliveries received at the same instant: no single receipt names an event's
    // delivery, so verification falls back to the events' records (keys 4 and 5).
    s.clock.set("2026-11-30T12:00:00Z");
    for (i, name) in ["twin-a", "twin-b"].iter().enumerate() {
        let r = deliver(
            s,
            &a.partner,
            name,
            vec![event(
                &format!("t{i}"),
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                &format!("2026-11-2{}T08:00:00+01:00", 5 + i),
            )],
        )
        .await;
        keys.push(r["archive"]["key"].as_str().unwrap().to_string());
    }
    let clean = stamp_api::jobs::verify_archive(&s.state, None)
        .await
        .unwrap();
    assert!(clean.ok, "{clean:?}");
    assert_eq!(
        (
            clean.receipts,
            clean.deliveries_verified,
            clean.events,
            clean.event_deliveries
        ),
        (6, 6, 6, 6)
    );

    damage(
        s,
        &keys[1],
        Some(b"{\"batch_id\": \"changed\", \"events\": []}"),
        None,
    )
    .await;
    damage(
        s,
        &keys[2],
        None,
        Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
    )
    .await;
    s.tamper_remove_archived(&keys[3]).await;
    s.tamper_remove_archived(&keys[5]).await;

    let report = stamp_api::jobs::verify_archive(
        &s.state,
        Some(&stamp_domain::identity::Orgnr::parse(ORG_A).unwrap()),
    )
    .await
    .unwrap();
    assert!(!report.ok);
    let named: Vec<(String, String)> = report
        .mismatches
        .iter()
        .map(|m| {
            (
                serde_json::to_value(m.kind)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
                m.key.clone(),
            )
        })
        .collect();
    let mut want = vec![
        ("changed_delivery".to_string(), keys[1].clone()),
        ("short_lock".to_string(), keys[2].clone()),
        ("missing_delivery".to_string(), keys[3].clone()),
        ("event_delivery_missing".to_string(), keys[3].clone()),
        ("missing_delivery".to_string(), keys[5].clone()),
        ("event_delivery_missing".to_string(), keys[5].clone()),
    ];
    want.sort();
    let mut got = named.clone();
    got.sort();
    assert_eq!(got, want, "{report:?}");
    assert!(
        !named.iter().any(|(_, k)| k == &keys[0] || k == &keys[4]),
        "the clean deliveries are not named"
    );
    // The report is in the archive, as printed.
    let key = report.report_key.clone().unwrap();
    let stored: Value = serde_json::from_slice(&s.archive.get(&key).await.unwrap()).unwrap();
    assert_eq!(stored["mismatches"].as_array().unwrap().len(), 6);
    assert_eq!(stored["ok"], false);
    assert!(s.locked_until(&key).await >= chrono::NaiveDate::from_ymd_opt(2029, 1, 1).unwrap());
}

/// `GET …/verification`: 404 before any run; afterwards each company's admin reads its
/// own part — the mismatches of objects holding its events, never another company's —
/// and nobody else (company_user, another company's admin) reads it.
async fn verification_is_read_per_company(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    let b = setup(s, ORG_B, "ledger-2").await;
    let path_a = format!("/v1/companies/{ORG_A}/verification");
    let path_b = format!("/v1/companies/{ORG_B}/verification");
    s.get(&path_a, &a.admin).await.problem(404, "not_found");
    let mut keys = Vec::new();
    for (i, name) in ["kept", "gone"].iter().enumerate() {
        let r = deliver(
            s,
            &a.partner,
            name,
            vec![event(
                &format!("a{i}"),
                ORG_A,
                SITE_1,
                ANNA,
                "Åsa",
                "in",
                &format!("2026-11-2{i}T08:00:00+01:00"),
            )],
        )
        .await;
        keys.push(r["archive"]["key"].as_str().unwrap().to_string());
    }
    let rb = deliver(
        s,
        &b.partner,
        "b-only",
        vec![event(
            "b0",
            ORG_B,
            SITE_2,
            BO,
            "Bo",
            "in",
            "2026-11-20T08:00:00+01:00",
        )],
    )
    .await;
    let key_b = rb["archive"]["key"].as_str().unwrap().to_string();
    s.tamper_remove_archived(&keys[1]).await;

    let all = stamp_api::jobs::verify_archive(&s.state, None)
        .await
        .unwrap();
    assert!(!all.ok);
    let va = s.get(&path_a, &a.admin).await.expect(200);
    assert_eq!(va["scope"], "all");
    assert_eq!(va["ok"], false);
    assert_eq!(va["receipts"], 2);
    assert_eq!(
        va["events"],
        Value::Null,
        "counted for all companies together"
    );
    assert_eq!(va["report_key"], json!(all.report_key));
    assert_eq!(va["run_at"], json!(all.run_at));
    let mut named: Vec<(String, String)> = va["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    named.sort();
    assert_eq!(
        named,
        vec![
            ("event_delivery_missing".to_string(), keys[1].clone()),
            ("missing_delivery".to_string(), keys[1].clone()),
        ]
    );
    let vb = s.get(&path_b, &b.admin).await.expect(200);
    assert_eq!(
        (vb["ok"].clone(), vb["receipts"].clone()),
        (json!(true), json!(1))
    );
    assert_eq!(vb["mismatches"], json!([]));
    assert!(
        !vb.to_string().contains(&keys[1]),
        "A's object is not named to B"
    );

    // Only the company's admins.
    s.get(&path_a, &a.user).await.expect(403);
    s.get(&path_a, &b.admin).await.expect(403);

    // A run for B alone replaces B's part (with B's counts) and leaves A's as it was.
    let only_b = stamp_api::jobs::verify_archive(
        &s.state,
        Some(&stamp_domain::identity::Orgnr::parse(ORG_B).unwrap()),
    )
    .await
    .unwrap();
    assert!(only_b.ok, "{only_b:?}");
    let vb = s.get(&path_b, &b.admin).await.expect(200);
    assert_eq!(vb["scope"], "company");
    assert_eq!(
        (vb["events"].clone(), vb["event_deliveries"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(vb["report_key"], json!(only_b.report_key));
    assert_ne!(vb["report_key"], va["report_key"]);
    assert!(!key_b.is_empty());
    let again = s.get(&path_a, &a.admin).await.expect(200);
    assert_eq!(again["report_key"], va["report_key"]);
}

async fn every_purge_writes_a_receipt(s: &TestServer) {
    let a = setup(s, ORG_A, "ledger-1").await;
    // Kept until 2025-12-31, and until 2026-12-31 (delivered in 2025, so the locks end
    // there too: a lock never ends before the day after receipt).
    s.clock.set("2025-06-01T12:00:00Z");
    let old = deliver(
        s,
        &a.partner,
        "old",
        vec![event(
            "o1",
            ORG_A,
            SITE_1,
            ANNA,
            "Åsa Öberg",
            "in",
            "2023-12-31T10:00:00+01:00",
        )],
    )
    .await;
    deliver(
        s,
        &a.partner,
        "new",
        vec![event(
            "n1",
            ORG_A,
            SITE_2,
            BO,
            "Bo Ek",
            "in",
            "2024-01-01T10:00:00+01:00",
        )],
    )
    .await;

    s.clock.set("2026-01-01T12:00:00Z");
    let (summary, receipt) = s.state.purge.run_with_receipt().await.unwrap();
    assert_eq!(summary.events_purged, 1);
    let bytes = s.archive.get(&receipt.receipt_key).await.unwrap();
    let stored: stamp_domain::governance::purge::PurgeReceipt =
        serde_json::from_slice(&bytes).unwrap();
    assert_eq!(stored, receipt);
    let part = stored
        .companies
        .iter()
        .find(|c| c.events_deleted > 0)
        .expect("the company's part");
    assert_eq!(part.events_deleted, 1);
    assert_eq!(
        part.objects_deleted, 2,
        "the delivery and its receipt: {stored:?}"
    );
    let gone = part
        .deleted_objects
        .iter()
        .find(|o| o.key == old["archive"]["key"].as_str().unwrap())
        .expect("the delivery");
    assert_eq!(gone.sha256, old["archive"]["sha256"].as_str().unwrap());
    assert!(
        s.locked_until(&receipt.receipt_key).await
            >= chrono::NaiveDate::from_ymd_opt(2029, 1, 1).unwrap()
    );
    // No personal data: no names, no personnummer, no person_ref.
    let text = String::from_utf8_lossy(&bytes);
    assert!(personnummer_in(&text).is_empty(), "{text}");
    assert!(
        !text.contains("Åsa") && !text.contains("Bo Ek") && !text.contains(ORG_A),
        "{text}"
    );

    // A hold keeps the rest a year later; the receipt says what it kept.
    let hold = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/legal-holds"),
            &a.admin,
            &json!({"site_id": SITE_2, "reason": "Tvist"}),
        )
        .await
        .expect(201);
    s.clock.set("2027-01-01T12:00:00Z");
    let (_, second) = s.state.purge.run_with_receipt().await.unwrap();
    assert_ne!(second.receipt_key, receipt.receipt_key);
    let kept: Vec<_> = second
        .companies
        .iter()
        .flat_map(|c| c.holds_kept.iter())
        .collect();
    assert_eq!(kept.len(), 1, "{second:?}");
    assert_eq!(kept[0].hold_id, hold["id"].as_str().unwrap());
    assert_eq!((kept[0].events, kept[0].objects), (1, 2));
    assert_eq!(
        second
            .companies
            .iter()
            .map(|c| c.events_deleted)
            .sum::<usize>(),
        0
    );
}

on_every_store!(
    settings_are_validated,
    digest_goes_by_email_and_webhook,
    webhooks_are_retried_after_a_500_and_a_timeout,
    partner_silence_is_noticed_once,
    verification_names_each_damage,
    verification_is_read_per_company,
    every_purge_writes_a_receipt,
);

/// A company whose endpoint hangs does not hold up another's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_endpoint_does_not_delay_other_companies() {
    let s = TestServer::embedded().await;
    let a = setup(&s, ORG_A, "ledger-1").await;
    let b = setup(&s, ORG_B, "ledger-1").await;
    let (slow, slow_url) = Receiver::start(vec![Reply::Hang(Duration::from_secs(5))]).await;
    let (fast, fast_url) = Receiver::start(vec![]).await;
    put_settings(
        &s,
        &a.admin,
        ORG_A,
        json!({"webhook_url": slow_url, "daily_digest": true, "partner_silence": false}),
    )
    .await;
    put_settings(
        &s,
        &b.admin,
        ORG_B,
        json!({"webhook_url": fast_url, "daily_digest": true, "partner_silence": false}),
    )
    .await;
    let mut state = s.state.clone();
    state.notifications.timeout = Duration::from_secs(2);
    s.clock.set("2026-11-25T05:00:00Z");
    let started = std::time::Instant::now();
    let sum = state.notifications.run_daily().await.unwrap();
    assert_eq!(sum.webhooks, 2);
    let fast_at = fast.got()[0].at - started;
    let slow_at = slow.got()[0].at - started;
    // The fast company's message went out while the slow one was still waiting.
    assert!(
        fast_at < Duration::from_secs(2),
        "fast endpoint reached after {fast_at:?}"
    );
    assert!(slow_at < Duration::from_secs(2));
}
