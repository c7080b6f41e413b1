//! Performance figures for README.md's "Performance" section.
//!
//! ```sh
//! cargo run --profile perf -p stamp-bench -- present           # who is on site, 1,000 people
//! cargo run --profile perf -p stamp-bench -- upload            # 500,000 events, ~100 MB
//! cargo run --profile perf -p stamp-bench -- pull              # a pull round
//! cargo run --profile perf -p stamp-bench -- round-trips       # round trips of every route
//! ```
//!
//! `upload` writes a 500,000-event JSON delivery to a temp folder, then imports it in a
//! child process exactly as the upload-import function does (stream-validate, archive by
//! copy, stream-index in chunks) and reports the child's peak resident memory (VmHWM)
//! and time. `--store sink` (default) keeps the ledger's event items out of the process,
//! as DynamoDB does for a Lambda: what is measured is the importer's own memory;
//! `--store embedded` writes everything to the local redb store; `--store aws` to the
//! DynamoDB and S3 that the environment names (DynamoDB Local and moto).
//!
//! `pull` serves a generated feed from the partner simulator in-process and times one
//! pull round into the chosen store: events per second.

mod counting;
mod portal;
mod present;
mod round_trips;

use async_trait::async_trait;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use stamp_domain::auth::Claims;
use stamp_domain::governance::admin::{ActivationRequest, Admin, NewPartner};
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::identity::Orgnr;
use stamp_domain::intake::pull::{PullSettings, Puller};
use stamp_domain::intake::{upload_key, ImportService, NewUpload};
use stamp_domain::memory::MemoryItemStore;
use stamp_domain::ports::{
    Archive, ArchiveError, Item, ItemStore, Query, QueryPage, StoreError, SystemClock, UploadUrls,
    WriteOp,
};
use stamp_domain::table::Ledger;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

const ORG: &str = "5569999997";
const PARTNER: &str = "bench-ledger";

#[derive(Parser)]
#[command(
    name = "stamp-bench",
    about = "Stamp's performance figures: a 500,000-event upload, a pull round."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Store {
    /// Ledger items leave the process (as DynamoDB's do for a Lambda); only the small
    /// administrative items are kept.
    Sink,
    /// The local redb store.
    Embedded,
    /// DynamoDB and S3 as the environment names them (DynamoDB Local and moto).
    Aws,
}

#[derive(Subcommand)]
enum Command {
    /// Peak memory and time of importing one large upload.
    Upload {
        #[arg(long, default_value_t = 500_000)]
        events: usize,
        #[arg(long, value_enum, default_value = "sink")]
        store: Store,
    },
    #[command(hide = true)]
    UploadChild {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        events: usize,
        #[arg(long, value_enum)]
        store: Store,
    },
    /// Events per second of one pull round.
    Pull {
        #[arg(long, default_value_t = 60)]
        people: usize,
        #[arg(long, default_value_t = 365)]
        days: u32,
        #[arg(long, default_value_t = 500)]
        page_limit: usize,
        #[arg(long, value_enum, default_value = "embedded")]
        store: Store,
    },
    /// Time of archive verification (spec §12) over this many archived events, imported
    /// as deliveries of 10,000 events each: the folder archive on redb (`embedded`) or
    /// moto's S3 on DynamoDB Local (`aws`).
    Verify {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[arg(long, value_enum, default_value = "embedded")]
        store: Store,
    },
    /// Size and build time of the daily digest of stamp-local's demo company.
    Digest,
    /// Server render time of each portal page on the demo data (p50, p95, max).
    Portal {
        #[arg(long, default_value_t = 50)]
        iterations: usize,
    },
    /// Store requests and time of `GET …/sites/{site_id}/present` at a full site.
    Present {
        #[arg(long, default_value_t = 1000)]
        people: usize,
        #[arg(long, value_enum, default_value = "embedded")]
        store: Store,
    },
    /// Store calls and sequential round trips of every route (a delay added to every
    /// call of the in-memory store).
    RoundTrips {
        #[arg(long, default_value_t = 20)]
        delay_ms: u64,
        #[arg(long, default_value_t = 100)]
        people: usize,
    },
}

/// An item store that keeps administration in memory and lets the ledger's per-event
/// items (records, effective states, timelines) go, as a remote table would.
struct SinkStore {
    kept: MemoryItemStore,
    sent: AtomicU64,
}

fn leaves_the_process(pk: &str) -> bool {
    pk.starts_with("EV#") || pk.contains("#P#") || pk.contains("#S#") || pk.contains("#D#")
}

#[async_trait]
impl ItemStore for SinkStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        if leaves_the_process(pk) {
            return Ok(None);
        }
        self.kept.get(pk, sk).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let (gone, kept): (Vec<WriteOp>, Vec<WriteOp>) = ops
            .into_iter()
            .partition(|op| leaves_the_process(op.keys().0));
        self.sent.fetch_add(gone.len() as u64, Ordering::Relaxed);
        if kept.is_empty() {
            return Ok(());
        }
        self.kept.transact(kept).await
    }
    async fn query(&self, q: Query) -> Result<QueryPage, StoreError> {
        if leaves_the_process(&q.pk) {
            return Ok(QueryPage::default());
        }
        self.kept.query(q).await
    }
}

struct NoUrls;

#[async_trait]
impl UploadUrls for NoUrls {
    async fn presign_put(&self, key: &str, _: std::time::Duration) -> Result<String, ArchiveError> {
        Ok(format!("file://{key}"))
    }
}

fn vm(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Writes `{"batch_id": "bench", "events": [...]}` with `n` events, streamed.
fn write_delivery(path: &Path, n: usize) -> std::io::Result<u64> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    write!(w, "{{\"batch_id\": \"bench\", \"events\": [")?;
    let people: Vec<String> = (0..2000).map(stamp_testdata::personnummer_nth).collect();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
        .unwrap_or_default()
        .and_hms_opt(6, 0, 0)
        .unwrap_or_default()
        .and_utc();
    for i in 0..n {
        let person = (i / 2) % people.len();
        let day = (i / 2) / people.len();
        let at = start
            + chrono::Duration::days(day as i64)
            + chrono::Duration::minutes(if i % 2 == 0 {
                (person % 60) as i64
            } else {
                8 * 60 + (person % 60) as i64
            });
        let at = at
            .with_timezone(
                &chrono::FixedOffset::east_opt(3600)
                    .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap()),
            )
            .to_rfc3339();
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(
            &mut w,
            &json!({
                "event_id": format!("b{i}"), "company_orgnr": ORG, "company_name": "Bänkbygg AB",
                "site_id": format!("BENCH{:08}", person % 20), "person_id": people[person],
                "person_name": format!("Person {person}"), "direction": if i % 2 == 0 { "in" } else { "out" },
                "occurred_at": at, "recorded_at": at,
            }),
        )?;
    }
    write!(w, "]}}")?;
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

async fn ports(store: Store, dir: &Path) -> (Arc<dyn ItemStore>, Arc<dyn Archive>) {
    match store {
        Store::Sink => (
            Arc::new(SinkStore {
                kept: MemoryItemStore::new(),
                sent: AtomicU64::new(0),
            }),
            Arc::new(stamp_adapters::FolderArchive::new(dir.join("archive"))),
        ),
        Store::Embedded => (
            Arc::new(stamp_adapters::EmbeddedItemStore::open_in_dir(dir).expect("redb")),
            Arc::new(stamp_adapters::FolderArchive::new(dir.join("archive"))),
        ),
        Store::Aws => {
            let (ddb, s3) = stamp_adapters::aws_clients().await;
            let name = format!("stamp-bench-{}", std::process::id());
            stamp_adapters::create_table(&ddb, &name)
                .await
                .expect("table");
            stamp_adapters::create_bucket(&s3, &name)
                .await
                .expect("bucket");
            (
                Arc::new(stamp_adapters::DynamoItemStore::new(ddb, name.clone())),
                Arc::new(stamp_adapters::S3Archive::new(s3, name)),
            )
        }
    }
}

async fn ready(ledger: &Ledger, feed_url: Option<String>, partner: &str) {
    let admin = Admin::new(ledger.clone(), Arc::new(SystemClock));
    let op = Claims {
        sub: "op".into(),
        roles: vec!["operator".into()],
        ..Default::default()
    };
    admin
        .accredit_partner(
            &op,
            NewPartner {
                partner_id: Some(partner.into()),
                name: Some("Bench".into()),
                feed_url,
            },
        )
        .await
        .expect("partner");
    let company_admin = Claims {
        sub: "adm".into(),
        roles: vec!["company_admin".into()],
        companies: vec![ORG.into()],
        ..Default::default()
    };
    if ledger
        .activation(&Orgnr::parse(ORG).unwrap())
        .await
        .expect("activation")
        .is_none()
    {
        admin
            .activate(
                &company_admin,
                &Orgnr::parse(ORG).unwrap(),
                ActivationRequest {
                    terms_version: Some("1".into()),
                    company_name: Some("Bänkbygg AB".into()),
                    fiscal_year_end_month: None,
                },
            )
            .await
            .expect("activate");
    }
}

async fn upload_child(dir: &Path, events: usize, store: Store) {
    let baseline_kb = vm("VmRSS:");
    let (items, archive) = ports(store, dir).await;
    let ledger = Ledger::new(
        items,
        PseudonymKey::new(b"bench-pseudonym-key-0123456789abcdef".to_vec()),
    );
    ready(&ledger, None, PARTNER).await;
    let import = ImportService::new(ledger, archive.clone(), Arc::new(SystemClock));
    let partner = Claims {
        sub: "p".into(),
        roles: vec!["partner".into()],
        partner_id: Some(PARTNER.into()),
        ..Default::default()
    };
    let created = import
        .create_upload(
            &partner,
            NewUpload {
                batch_id: Some("bench".into()),
                format: None,
            },
            &NoUrls,
        )
        .await
        .expect("upload");
    let upload_id = created.upload_id.clone();
    let key = upload_key(&stamp_domain::testing::pid(PARTNER), &upload_id);
    let file = dir.join("delivery.json");
    match store {
        Store::Aws => {
            let s3 = stamp_adapters::aws_clients().await.1;
            let bucket = format!("stamp-bench-{}", std::process::id());
            let body = aws_sdk_s3_body(&file).await;
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(body)
                .send()
                .await
                .expect("stage upload");
        }
        _ => {
            let staged = dir.join("archive").join(&key);
            std::fs::create_dir_all(staged.parent().unwrap()).expect("staging folder");
            std::fs::hard_link(&file, &staged)
                .or_else(|_| std::fs::copy(&file, &staged).map(|_| ()))
                .expect("stage upload");
        }
    }
    let before_kb = vm("VmHWM:");
    let started = Instant::now();
    let outcome = import
        .import_upload(&stamp_domain::testing::pid(PARTNER), &upload_id)
        .await
        .expect("import");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "events": events,
            "store": format!("{store:?}").to_lowercase(),
            "status": outcome.status,
            "accepted": outcome.answer.imported().map(|a| a.accepted),
            "rejected": outcome.answer.imported().and_then(|a| a.rejected_count),
            "seconds": (seconds * 10.0).round() / 10.0,
            "events_per_second": (events as f64 / seconds).round(),
            "rss_before_kb": baseline_kb,
            "peak_before_import_kb": before_kb,
            "peak_rss_kb": vm("VmHWM:"),
        })
    );
}

async fn aws_sdk_s3_body(path: &Path) -> aws_sdk_s3::primitives::ByteStream {
    aws_sdk_s3::primitives::ByteStream::from_path(path)
        .await
        .expect("read delivery")
}

async fn pull(people: usize, days: u32, page_limit: usize, store: Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (items, archive) = ports(store, dir.path()).await;
    let ledger = Ledger::new(
        items,
        PseudonymKey::new(b"bench-pseudonym-key-0123456789abcdef".to_vec()),
    );
    let cfg = partner_sim::SimConfig {
        seed: 99,
        companies: vec![(ORG.into(), "Bänkbygg AB".into())],
        people,
        sites: 5,
        days,
        prefix: "bench".into(),
        ..Default::default()
    };
    let sim = partner_sim::SimHandle::start(&cfg)
        .await
        .expect("simulator");
    let total = sim.events(ORG).len();
    ready(&ledger, Some(sim.url.clone()), "bench-feed").await;
    let import = ImportService::new(ledger, archive, Arc::new(SystemClock));
    let client = Arc::new(stamp_adapters::HttpFeedClient::default());
    let puller = Puller::new(import, client, Arc::new(SystemClock)).with_settings(PullSettings {
        page_limit,
        ..Default::default()
    });
    let started = Instant::now();
    let summary = puller.run_once().await.expect("pull");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "feed_events": total,
            "store": format!("{store:?}").to_lowercase(),
            "page_limit": page_limit,
            "pages": summary.pages,
            "accepted": summary.events_accepted,
            "failed": summary.pairs_failed,
            "seconds": (seconds * 100.0).round() / 100.0,
            "events_per_second": (summary.events_accepted as f64 / seconds).round(),
            "peak_rss_kb": vm("VmHWM:"),
        })
    );
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Upload { events, store } => {
            let dir = tempfile::tempdir().expect("temp dir");
            let started = Instant::now();
            let bytes =
                write_delivery(&dir.path().join("delivery.json"), events).expect("write delivery");
            eprintln!(
                "wrote {events} events, {:.1} MB, in {:.1} s",
                bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            let status = std::process::Command::new(std::env::current_exe().expect("exe"))
                .args(["upload-child", "--dir"])
                .arg(dir.path())
                .args([
                    "--events",
                    &events.to_string(),
                    "--store",
                    &format!("{store:?}").to_lowercase(),
                ])
                .status()
                .expect("child");
            eprintln!("upload of {:.1} MB imported: {status}", bytes as f64 / 1e6);
        }
        Command::UploadChild { dir, events, store } => upload_child(&dir, events, store).await,
        Command::Pull {
            people,
            days,
            page_limit,
            store,
        } => pull(people, days, page_limit, store).await,
        Command::Verify { events, store } => verify(events, store).await,
        Command::Digest => digest().await,
        Command::Portal { iterations } => portal::run(iterations).await,
        Command::Present { people, store } => present::present(people, store).await,
        Command::RoundTrips { delay_ms, people } => {
            round_trips::round_trips(delay_ms, people).await
        }
    }
}

/// One delivery of `n` events from event number `first` on (two a day per person).
fn delivery_bytes(batch_id: &str, first: usize, n: usize, people: &[String]) -> Vec<u8> {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
        .unwrap_or_default()
        .and_hms_opt(6, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let events: Vec<serde_json::Value> = (first..first + n)
        .map(|i| {
            let person = (i / 2) % people.len();
            let day = (i / 2) / people.len();
            let at = (start
                + chrono::Duration::days(day as i64)
                + chrono::Duration::minutes(if i % 2 == 0 { 0 } else { 8 * 60 }))
            .to_rfc3339();
            json!({
                "event_id": format!("v{i}"), "company_orgnr": ORG, "company_name": "Bänkbygg AB",
                "site_id": format!("BENCH{:08}", person % 20), "person_id": people[person],
                "person_name": format!("Person {person}"), "direction": if i % 2 == 0 { "in" } else { "out" },
                "occurred_at": at, "recorded_at": at,
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "batch_id": batch_id, "events": events })).unwrap_or_default()
}

async fn verify(events: usize, store_kind: Store) {
    let store = store_kind;
    use stamp_domain::ports::LockProbe;
    let dir = tempfile::tempdir().expect("temp dir");
    let (items, archive, locks): (Arc<dyn ItemStore>, Arc<dyn Archive>, Arc<dyn LockProbe>) =
        match store {
            Store::Aws => {
                let (ddb, s3) = stamp_adapters::aws_clients().await;
                let name = format!("stamp-bench-v{}", std::process::id());
                stamp_adapters::create_table(&ddb, &name)
                    .await
                    .expect("table");
                stamp_adapters::create_bucket(&s3, &name)
                    .await
                    .expect("bucket");
                let a = Arc::new(stamp_adapters::S3Archive::new(s3, name.clone()));
                (
                    Arc::new(stamp_adapters::DynamoItemStore::new(ddb, name)),
                    a.clone(),
                    a,
                )
            }
            _ => {
                let a = Arc::new(stamp_adapters::FolderArchive::new(
                    dir.path().join("archive"),
                ));
                (
                    Arc::new(
                        stamp_adapters::EmbeddedItemStore::open_in_dir(dir.path()).expect("redb"),
                    ),
                    a.clone(),
                    a,
                )
            }
        };
    let ledger = Ledger::new(
        items.clone(),
        PseudonymKey::new(b"bench-pseudonym-key-0123456789abcdef".to_vec()),
    );
    ready(&ledger, None, PARTNER).await;
    let import = ImportService::new(ledger.clone(), archive.clone(), Arc::new(SystemClock));
    let people: Vec<String> = (0..2000).map(stamp_testdata::personnummer_nth).collect();
    let started = Instant::now();
    let per = 10_000;
    let mut done = 0;
    while done < events {
        let n = per.min(events - done);
        let body = delivery_bytes(&format!("verify-{done}"), done, n, &people);
        import
            .import(
                &stamp_domain::testing::pid(PARTNER),
                stamp_domain::intake::DeliveryFormat::Json,
                &body,
                None,
            )
            .await
            .expect("import");
        done += n;
    }
    eprintln!(
        "imported {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The verifier's requests are counted: store calls, object reads, lock probes.
    let store = Arc::new(present::CountingStore {
        inner: items,
        requests: AtomicU64::new(0),
    });
    let counted = Arc::new(counting::CountingArchive::new(archive, locks));
    let verifier = stamp_domain::governance::verify::Verifier::new(
        Ledger::new(
            store.clone(),
            PseudonymKey::new(b"bench-pseudonym-key-0123456789abcdef".to_vec()),
        ),
        counted.clone(),
        counted.clone(),
        Arc::new(SystemClock),
    );
    let started = Instant::now();
    let report = verifier.run(None).await.expect("verify");
    println!(
        "verify-archive {store_kind:?}: {} events, {} receipts, {} deliveries ({:.1} MB hashed), {} mismatches, in {:.1} s; requests: {} item store, {} object reads, {} lock probes, {} writes",
        report.events,
        report.receipts,
        report.deliveries_verified,
        report.bytes_hashed as f64 / 1e6,
        report.mismatches.len(),
        started.elapsed().as_secs_f64(),
        store.requests.load(Ordering::Relaxed),
        counted.reads.load(Ordering::Relaxed),
        counted.probes.load(Ordering::Relaxed),
        counted.writes.load(Ordering::Relaxed),
        store_kind = store_kind,
    );
}

async fn digest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let local = stamp_local::Local::open(dir.path()).expect("local");
    let summary = stamp_local::demo::load(&local.state).await.expect("demo");
    eprintln!("{summary}");
    let orgnr = Orgnr::parse(stamp_local::demo::DEMO_ORGNR).expect("orgnr");
    let n = &local.state.notifications;
    let ck = local.state.ledger.company_key(&orgnr);
    let now = chrono::Utc::now();
    let today = stamp_domain::notify::silence::local_day(now);
    let mut best: Option<(usize, f64, usize, usize, chrono::NaiveDate)> = None;
    for back in 1..=28 {
        let day = today - chrono::Duration::days(back);
        let started = Instant::now();
        let d = n
            .digest_of(&ck, &orgnr, day, now, Vec::new())
            .await
            .expect("digest");
        let (subject, text, html) = stamp_domain::notify::digest::render(&d);
        let mail = stamp_domain::notify::digest::mail(
            &n.mail_from,
            &["drift@demobygg.example".to_string()],
            &subject,
            text,
            html,
            now,
        )
        .expect("mail");
        let json = stamp_domain::notify::digest::envelope("daily_digest", now, &d).expect("json");
        let secs = started.elapsed().as_secs_f64();
        let anomalies: usize = d.anomalies.iter().map(|g| g.count).sum();
        if best.is_none_or(|b| mail.raw.len() > b.0) {
            best = Some((mail.raw.len(), secs, json.len(), anomalies, day));
        }
    }
    if let Some((eml, secs, json, anomalies, day)) = best {
        println!(
            "digest of the demo company's busiest day ({day}, {anomalies} anomalies): e-mail {:.1} kB, webhook JSON {:.1} kB, built in {:.0} ms",
            eml as f64 / 1e3,
            json as f64 / 1e3,
            secs * 1e3
        );
    }
}
