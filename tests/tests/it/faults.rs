//! Injected faults (issue 13): Stamp on DynamoDB Local + moto behind `faultproxy`, which
//! answers a seeded share of requests with throttling, 500s, timeouts, dropped connections
//! (some applied upstream before the answer was lost) and TransactionCanceledExceptions.
//! The same deliveries go to a clean stack (the embedded store) at the same instants; afterwards the two
//! indexes are compared item by item (`rebuild::compare_company`), and every partner
//! answer must be the clean stack's 200, or a 5xx whose retry gives it.
//!
//! The ordinary test command runs 5,000 events; `infra/scripts/faults.sh` runs the
//! ignored 100,000-event version.

use crate::helpers::aws_configured;
use crate::rebuild::sim;
use crate::server::*;
use faultproxy::{Config, FaultProxy, Figures, Switch};
use reqwest::Method;
use serde_json::{json, Value};
use stamp_domain::identity::Orgnr;
use std::time::Duration;

/// The instant of the `k`-th delivery (both stacks receive it at the same one).
fn instant(k: usize) -> String {
    let t = chrono::DateTime::parse_from_rfc3339("2026-04-01T08:00:00Z").unwrap()
        + chrono::Duration::seconds(k as i64 * 10);
    t.to_rfc3339()
}

/// A stack behind its two proxies.
struct Faulty {
    server: TestServer,
    dynamo: FaultProxy,
    s3: FaultProxy,
}

impl Faulty {
    /// Faults are off until [`Faulty::set_rate`]: setting up is not what is tested.
    async fn start(test: &str, seed: u64, attempt: Duration) -> Option<Faulty> {
        if !aws_configured("AWS_ENDPOINT_URL_DYNAMODB", test)
            || !aws_configured("AWS_ENDPOINT_URL_S3", test)
        {
            return None;
        }
        let upstream = |v: &str| std::env::var(v).expect("endpoint");
        let proxy = |up: String, seed: u64| {
            let mut c = Config::new(up, 0.0, seed);
            // Held past the client's attempt timeout.
            c.hang = attempt + Duration::from_millis(500);
            // A timeout costs a whole attempt timeout, which must be generous on a loaded
            // DynamoDB Local (transactions take seconds there): fewer of them.
            c.weights = [3, 3, 1, 3, 3];
            c
        };
        let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let dynamo = FaultProxy::start(any, proxy(upstream("AWS_ENDPOINT_URL_DYNAMODB"), seed))
            .await
            .expect("proxy");
        let s3 = FaultProxy::start(any, proxy(upstream("AWS_ENDPOINT_URL_S3"), seed + 1))
            .await
            .expect("proxy");
        let (d, s) = stamp_adapters::aws_clients().await;
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(attempt)
            .build();
        let d = aws_sdk_dynamodb::Client::from_conf(
            d.config()
                .to_builder()
                .endpoint_url(dynamo.url())
                .timeout_config(timeouts.clone())
                .build(),
        );
        let s = aws_sdk_s3::Client::from_conf(
            s.config()
                .to_builder()
                .endpoint_url(s3.url())
                .timeout_config(timeouts)
                .build(),
        );
        let server = TestServer::aws_through(test, d, s).await?;
        Some(Faulty { server, dynamo, s3 })
    }

    fn set_rate(&self, rate: f64) {
        self.dynamo.set_rate(rate);
        self.s3.set_rate(rate);
    }

    fn figures(&self) -> Figures {
        self.dynamo.figures().plus(&self.s3.figures())
    }
}

/// One delivery of the run.
enum Delivery {
    Push { batch_id: String, body: Vec<u8> },
    Upload { batch_id: String, body: Vec<u8> },
}

#[derive(Default, Debug)]
struct Tally {
    /// Partner requests answered 5xx and retried.
    partner_retries: u64,
    /// Upload PUTs and upload imports retried.
    upload_retries: u64,
}

const ATTEMPTS: usize = 40;

/// The SDK's per-attempt timeout behind the proxies (`STAMP_FAULT_ATTEMPT_SECS`, default
/// 10). An injected timeout costs one whole attempt, so this sets the run's length; an
/// attempt that a loaded DynamoDB Local answers too slowly is only retried, never wrong.
fn attempt_timeout() -> Duration {
    let secs = std::env::var("STAMP_FAULT_ATTEMPT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    Duration::from_secs(secs)
}

/// Retries a partner request while it answers 5xx; panics on anything but `ok`.
async fn until_ok(
    tally: &mut Tally,
    ok: u16,
    what: &str,
    mut call: impl AsyncFnMut() -> Answer,
) -> Value {
    for _ in 0..ATTEMPTS {
        let a = call().await;
        match a.status.as_u16() {
            s if s == ok => return a.body,
            500..=599 => {
                tally.partner_retries += 1;
                eprintln!("{what}: {} {}", a.status, a.body["detail"]);
            }
            s => panic!("{what}: answered {s}, neither {ok} nor a 5xx: {}", a.body),
        }
    }
    panic!("{what}: still 5xx after {ATTEMPTS} attempts");
}

/// Delivers as a partner does: pushes and upload steps retried while they answer 5xx.
/// Answers the batch's answer.
async fn deliver(s: &TestServer, partner: &str, d: &Delivery, tally: &mut Tally) -> Value {
    let http = reqwest::Client::new();
    match d {
        Delivery::Push { batch_id, body } => {
            until_ok(tally, 200, batch_id, async || {
                s.call(
                    Method::POST,
                    "/partner/v1/batches",
                    Some(partner),
                    Some(("application/json", body.clone())),
                )
                .await
            })
            .await
        }
        Delivery::Upload { batch_id, body } => {
            let created = until_ok(tally, 201, batch_id, async || {
                s.post_json(
                    "/partner/v1/uploads",
                    partner,
                    &json!({ "batch_id": batch_id }),
                )
                .await
            })
            .await;
            let url = created["upload_url"].as_str().expect("upload_url");
            let mut put = false;
            for _ in 0..ATTEMPTS {
                let r = http
                    .put(url)
                    .header("content-type", "application/octet-stream")
                    .body(body.clone())
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().is_success()) {
                    put = true;
                    break;
                }
                tally.upload_retries += 1;
            }
            assert!(put, "{batch_id}: the upload PUT kept failing");
            // On S3, what the upload-import function does on the S3 event (Lambda retries
            // it); stamp-local imports on the PUT itself.
            let id = created["upload_id"].as_str().expect("upload_id");
            let partner_id = partner_of_upload(url);
            let mut imported = !s.on_aws();
            for _ in 0..ATTEMPTS {
                if imported {
                    break;
                }
                match s.state.import.import_upload(&partner_id, id).await {
                    Ok(_) => imported = true,
                    Err(_) => tally.upload_retries += 1,
                }
            }
            assert!(imported, "{batch_id}: the upload import kept failing");
            until_ok(tally, 200, batch_id, async || {
                // 202 while stamp-local imports it.
                let a = s.batch_answer(batch_id, partner).await;
                a
            })
            .await
        }
    }
}

fn partner_of_upload(url: &str) -> stamp_domain::identity::PartnerId {
    let path = url.split('?').next().unwrap_or("");
    let at = path
        .find("/uploads/")
        .map(|i| i + "/uploads/".len())
        .unwrap_or(0);
    // Unchecked, as before the newtype: on the embedded stack the URL names no partner
    // and the id goes unused.
    stamp_domain::identity::PartnerId::from_stored(path[at..].split('/').next().unwrap_or(""))
}

/// `n` events of one company: pushes of up to 1,000 events, the last tenth one upload.
fn deliveries(n: usize, seed: u64) -> Vec<Delivery> {
    let people = (n / 200).max(8);
    let mut events =
        stamp_testdata::generate(&sim(ORG_A, "flt", seed, people, 200), ORG_A, "Bygg AB");
    assert!(
        events.len() >= n,
        "the simulation gave {} events",
        events.len()
    );
    events.truncate(n);
    let upload_from = n - n / 10;
    let (pushed, uploaded) = events.split_at(upload_from);
    let mut out: Vec<Delivery> = pushed
        .chunks(1000)
        .enumerate()
        .map(|(i, c)| Delivery::Push {
            batch_id: format!("push-{i}"),
            body: batch(&format!("push-{i}"), c.to_vec())
                .to_string()
                .into_bytes(),
        })
        .collect();
    out.push(Delivery::Upload {
        batch_id: "upload-0".into(),
        body: batch("upload-0", uploaded.to_vec())
            .to_string()
            .into_bytes(),
    });
    out
}

/// Imports `n` events into a clean stack and, at `rate` faults, into one behind the
/// proxies; the answers and the indexes must be the same.
pub async fn import_through_faults(test: &str, n: usize, rate: f64, attempt: Duration) {
    let seed = 13;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("error"))
        .with_test_writer()
        .try_init();
    // The clean import runs on the embedded store (the index is the same whatever the
    // store), which also spares the shared DynamoDB Local half the load.
    let clean = TestServer::embedded().await;
    let Some(faulty) = Faulty::start(test, seed, attempt).await else {
        return;
    };
    let f = &faulty.server;
    let _tc = setup(&clean, ORG_A, "ledger-1").await;
    let _tf = setup(f, ORG_A, "ledger-1").await;
    let plan = deliveries(n, seed);
    faulty.set_rate(rate);
    let started = std::time::Instant::now();
    let mut tally = Tally::default();
    let mut answers = 0;
    for (k, d) in plan.iter().enumerate() {
        clean.clock.set(&instant(k));
        f.clock.set(&instant(k));
        let mut clean_tally = Tally::default();
        // Fresh tokens for each delivery: the heavy run outlasts a token's hour.
        let (pc, pf) = (
            clean.token(partner_claims("ledger-1")),
            f.token(partner_claims("ledger-1")),
        );
        let (want, got) = tokio::join!(
            deliver(&clean, &pc, d, &mut clean_tally),
            deliver(f, &pf, d, &mut tally)
        );
        assert_eq!(clean_tally.partner_retries, 0, "the clean stack failed");
        assert_eq!(
            got, want,
            "delivery {k}: the answer differs from the clean one"
        );
        answers += 1;
    }
    faulty.set_rate(0.0);
    let imported = started.elapsed();
    let figures = faulty.figures();

    let orgnr = Orgnr::parse(ORG_A).unwrap();
    let (diffs, compared) = stamp_domain::intake::rebuild::compare_company_counted(
        &clean.state.ledger,
        &f.state.ledger,
        &orgnr,
    )
    .await
    .unwrap();
    println!(
        "faults: {n} events in {} deliveries at {:.0} % faults, imported in {:.1} s\n\
         faults: proxies: {figures}\n\
         faults: partner retries (5xx answers retried) {}, upload PUT/import retries {}\n\
         faults: {answers} answers equal to the clean stack's; {compared} items compared, {} differences",
        plan.len(),
        rate * 100.0,
        imported.as_secs_f64(),
        tally.partner_retries,
        tally.upload_retries,
        diffs.len()
    );
    assert!(diffs.is_empty(), "{diffs:#?}");
    assert!(
        compared >= n,
        "only {compared} items compared for {n} events"
    );
    // The rate was met: at least half the expected faults, of every kind.
    assert!(
        figures.total_faults() as f64 >= figures.requests as f64 * rate * 0.5,
        "{figures}"
    );
    for kind in faultproxy::Fault::ALL {
        assert!(
            figures.of(kind) > 0,
            "no {} injected: {figures}",
            kind.name()
        );
    }
    // Both answers of a lost write were exercised.
    assert!(figures.lost_answers > 0, "{figures}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_thousand_events_through_ten_percent_faults_index_as_a_clean_import() {
    import_through_faults(
        "five_thousand_events_through_ten_percent_faults",
        5_000,
        0.10,
        attempt_timeout(),
    )
    .await;
}

/// The heavy run (`bash infra/scripts/faults.sh`): 100,000 events.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "heavy: 100,000 events; run by infra/scripts/faults.sh"]
async fn a_hundred_thousand_events_through_ten_percent_faults_index_as_a_clean_import() {
    let n = std::env::var("STAMP_FAULT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rate = std::env::var("STAMP_FAULT_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.10);
    import_through_faults(
        "a_hundred_thousand_events_through_ten_percent_faults",
        n,
        rate,
        attempt_timeout(),
    )
    .await;
}

/// Stops the "process" right after a delivery's archive write (its receipt, the last
/// archive write before indexing): the proxy to DynamoDB dies with the receipt's answer,
/// and the import is dropped where it stands. After a restart the partner retries the
/// push, and the upload import is retried: the answers and the index are as if nothing
/// had happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_stopped_between_archive_and_index_is_replayed_alike() {
    let test = "a_delivery_stopped_between_archive_and_index";
    // The clean import runs on the embedded store (the index is the same whatever the
    // store), which also spares the shared DynamoDB Local half the load.
    let clean = TestServer::embedded().await;
    let Some(faulty) = Faulty::start(test, 17, Duration::from_secs(30)).await else {
        return;
    };
    let f = &faulty.server;
    let tc = setup(&clean, ORG_A, "ledger-1").await;
    let tf = setup(f, ORG_A, "ledger-1").await;
    let plan = deliveries(1_500, 17);
    let mut tally = Tally::default();
    let mut restarted = None;
    for (k, d) in plan.iter().enumerate() {
        clean.clock.set(&instant(k));
        f.clock.set(&instant(k));
        let want = deliver(&clean, &tc.partner, d, &mut Tally::default()).await;

        // The first attempt, stopped after its archive write.
        let switch = Switch::new();
        faulty.s3.trip_after("receipts/", switch.clone());
        faulty.dynamo.die_with(switch.clone());
        let import = f.state.import.clone();
        let partner = partner_claims("ledger-1");
        let body = match d {
            Delivery::Push { body, .. } | Delivery::Upload { body, .. } => body.clone(),
        };
        let upload = match d {
            Delivery::Upload { batch_id, .. } => {
                let created = f
                    .post_json(
                        "/partner/v1/uploads",
                        &tf.partner,
                        &json!({ "batch_id": batch_id }),
                    )
                    .await
                    .expect(201);
                let url = created["upload_url"].as_str().unwrap();
                let r = reqwest::Client::new()
                    .put(url)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                Some(created["upload_id"].as_str().unwrap().to_string())
            }
            Delivery::Push { .. } => None,
        };
        let upload_id = upload.clone();
        let task = tokio::spawn(async move {
            match upload {
                Some(id) => import
                    .import_upload(&stamp_domain::testing::pid("ledger-1"), &id)
                    .await
                    .map(|_| ()),
                None => import
                    .push(
                        &partner,
                        stamp_domain::intake::DeliveryFormat::Json,
                        &body,
                        None,
                    )
                    .await
                    .map(|_| ()),
            }
        });
        let mut task = task;
        tokio::select! {
            _ = switch.tripped() => {}
            ended = &mut task => panic!("delivery {k} ended before its receipt was written: {ended:?}"),
            _ = tokio::time::sleep(Duration::from_secs(600)) => panic!("delivery {k} never reached its receipt write"),
        }
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        switch.reset();
        faulty.s3.trip_after("never-matches/", Switch::new());

        // Archived, not indexed: its receipt is there, its events are not.
        let receipts = stamp_domain::intake::rebuild::receipts(f.archive.as_ref())
            .await
            .unwrap();
        assert_eq!(
            receipts.len(),
            k + 1,
            "the stopped delivery's receipt is archived"
        );

        // A restart on the same store and archive, then what a partner and Lambda do.
        let r = f.restarted().await;
        r.clock.set(&instant(k));
        let got = match d {
            Delivery::Push { .. } => deliver(&r, &tf.partner, d, &mut tally).await,
            Delivery::Upload { batch_id, .. } => {
                let id = upload_id.as_deref().expect("an upload id");
                r.state
                    .import
                    .import_upload(&stamp_domain::testing::pid("ledger-1"), id)
                    .await
                    .expect("retried import");
                r.get(&format!("/partner/v1/batches/{batch_id}"), &tf.partner)
                    .await
                    .expect(200)
            }
        };
        assert_eq!(got, want, "delivery {k}: the replayed answer differs");
        restarted = Some(r);
    }
    let r = restarted.expect("deliveries");
    let orgnr = Orgnr::parse(ORG_A).unwrap();
    let (diffs, compared) = stamp_domain::intake::rebuild::compare_company_counted(
        &clean.state.ledger,
        &r.state.ledger,
        &orgnr,
    )
    .await
    .unwrap();
    println!(
        "stopped deliveries: {} stopped after their archive write and retried; {compared} items compared, {} differences",
        plan.len(),
        diffs.len()
    );
    assert!(diffs.is_empty(), "{diffs:#?}");
}
