//! Load test of the HTTP API (issue 14): bounded in clients and time, loopback only.
//!
//! ```sh
//! cargo run -p stamp-bench --bin stamp-load -- --clients 64 --seconds 60            # embedded
//! cargo run -p stamp-bench --bin stamp-load -- --store aws --clients 16 --seconds 30  # DynamoDB Local + moto
//! ```
//!
//! Serves stamp-local's app in this process on 127.0.0.1 (embedded store in a temp dir,
//! or the DynamoDB/S3 stand-ins the environment names) and runs a mix of clients against
//! it: partner pushes of 100–500 events from 8 partners, company reads, `/v1/me`, and an
//! anonymous flood on the public routes. The run alternates windows without and with the
//! flood (the first without, then in the Thue–Morse order), so the authenticated latencies with and without it are
//! measured side by side on the same growing ledger. Afterwards it checks
//! that the events stored equal the events delivered, that the audit log holds one entry
//! per request, and that the audit log verifies after sealing.

use clap::{Parser, ValueEnum};
use serde_json::{json, Value};
use stamp_api::AppState;
use stamp_domain::auth::Claims;
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::ports::{ItemStore, SystemClock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ORG: &str = "5569999997";
const PARTNERS: usize = 8;
/// The phases a request is counted in: windows without and with the flood, and the
/// warm-up.
const CALM: u8 = 0;
const FLOOD: u8 = 1;
const WARMUP: u8 = 2;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum StoreKind {
    Embedded,
    Aws,
}

/// What the clients do.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Mix {
    /// Issue 14's mix: pushes, company reads, `/v1/me` and the anonymous flood.
    Load,
    /// Every client pushes (issue 15 item 6: events per second).
    Pushes,
    /// Every client reads: 3/4 company reads, 1/4 `/v1/me` (issue 15 item 6: requests
    /// per second), on a ledger filled first (`--prefill`).
    Reads,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Commit {
    /// Group commit made durable by the write-ahead log (the embedded store's default).
    Logged,
    /// Group commit, each group a durable redb commit (before the log).
    Grouped,
    /// One redb commit per transaction (before group commit).
    Single,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum, default_value = "load")]
    mix: Mix,
    /// How the embedded store commits.
    #[arg(long, value_enum, default_value = "logged")]
    commit: Commit,
    /// Events pushed before the timed phase (by 8 clients); default 20,000 for
    /// `--mix reads`, else none. The statistics job then runs once.
    #[arg(long)]
    prefill: Option<u64>,
    #[arg(long, value_enum, default_value = "embedded")]
    store: StoreKind,
    /// Concurrent clients in the main phase (a quarter of them flood anonymously).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Length of the run.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Length of each window; windows alternate without and with the anonymous flood.
    #[arg(long, default_value_t = 10)]
    window_seconds: u64,
    /// Smallest and largest push.
    #[arg(long, default_value_t = 100)]
    min_events: usize,
    #[arg(long, default_value_t = 500)]
    max_events: usize,
    /// A first window, before the timed ones, whose answers are counted (and checked)
    /// but kept out of both sides of the comparison: at the start every queue is empty.
    #[arg(long, default_value_t = 0)]
    warmup_seconds: u64,
    /// A control run: the windows alternate as usual but the flood never starts, so any
    /// difference between them is the run's own drift (a growing ledger, pushes in step).
    #[arg(long)]
    control: bool,
    /// Pause of each authenticated client between requests (lower rate on the stand-ins).
    #[arg(long, default_value_t = 0)]
    think_ms: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Push,
    CompanyRead,
    Me,
    Anonymous,
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<(u8, Kind), Vec<u32>>,
    statuses: BTreeMap<(Kind, u16), u64>,
}

struct Shared {
    base: String,
    http: reqwest::Client,
    tally: Mutex<Tally>,
    phase: std::sync::atomic::AtomicU8,
    stop: AtomicBool,
    requests: AtomicU64,
    /// Pushes started (numbers batch ids and sizes).
    pushes: AtomicU64,
    delivered: AtomicU64,
    accepted: AtomicU64,
    pools: Vec<Mutex<Pool>>,
}

/// A partner's events not yet delivered; refilled with fresh ids when it runs dry.
struct Pool {
    partner: String,
    round: u64,
    events: Vec<Value>,
    batches: u64,
}

impl Pool {
    fn take(&mut self, n: usize) -> Vec<Value> {
        if self.events.len() < n {
            self.round += 1;
            let cfg = partner_sim::SimConfig {
                seed: 1000 + self.round * 31 + self.partner.len() as u64,
                companies: vec![(ORG.into(), "Lastbygg AB".into())],
                people: 60,
                sites: 2,
                days: 60,
                end: chrono::Utc::now().date_naive(),
                corrections: false,
                prefix: format!("{}-r{}", self.partner, self.round),
            };
            let mut fresh = stamp_testdata::generate(&cfg, ORG, "Lastbygg AB");
            fresh.reverse();
            self.events = fresh;
        }
        let at = self.events.len() - n;
        self.events.split_off(at)
    }
}

fn token(key: &[u8], claims: Claims) -> String {
    stamp_local::token::mint(key, &claims, chrono::Duration::hours(2)).expect("token")
}

fn claims(sub: &str, role: &str) -> Claims {
    Claims {
        sub: sub.into(),
        roles: vec![role.into()],
        ..Claims::default()
    }
}

impl Shared {
    async fn send(&self, kind: Kind, req: reqwest::RequestBuilder) -> Option<(u16, Value)> {
        let phase = self.phase.load(Ordering::Relaxed);
        let t = Instant::now();
        let res = req.send().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let (status, body) = match res {
            Ok(r) => {
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap_or(Value::Null))
            }
            Err(e) => {
                eprintln!("{kind:?}: {e}");
                (599, Value::Null)
            }
        };
        let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
        let mut tally = self.tally.lock().expect("tally");
        tally.latencies.entry((phase, kind)).or_default().push(us);
        *tally.statuses.entry((kind, status)).or_default() += 1;
        Some((status, body))
    }
}

/// One push of client `n`'s partner (a size between the bounds, fresh events).
async fn push_once(s: &Shared, n: usize, token: &str, args: &Args) {
    let i = s.pushes.fetch_add(1, Ordering::Relaxed) as usize;
    let p = n % PARTNERS;
    let size = args.min_events + (i * 7919 + n * 104_729) % (args.max_events - args.min_events + 1);
    let (batch_id, events) = {
        let mut pool = s.pools[p].lock().expect("pool");
        pool.batches += 1;
        (format!("c{n}-b{i}"), pool.take(size))
    };
    let count = events.len() as u64;
    let body = json!({ "batch_id": batch_id, "events": events });
    if let Some((200, answer)) = s
        .send(
            Kind::Push,
            s.http
                .post(format!("{}/partner/v1/batches", s.base))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    {
        s.delivered.fetch_add(count, Ordering::Relaxed);
        let a = answer["accepted"].as_u64().unwrap_or(0);
        s.accepted.fetch_add(a, Ordering::Relaxed);
    }
}

async fn client(s: Arc<Shared>, kind: Kind, n: usize, token: Option<String>, args: Arc<Args>) {
    let mut i: u64 = 0;
    while !s.stop.load(Ordering::Relaxed) {
        if kind == Kind::Anonymous && (args.control || s.phase.load(Ordering::Relaxed) != FLOOD) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        i += 1;
        let url = |p: &str| format!("{}{p}", s.base);
        let auth = |r: reqwest::RequestBuilder| match &token {
            Some(t) => r.bearer_auth(t),
            None => r,
        };
        match kind {
            Kind::Push => {
                if let Some(t) = &token {
                    push_once(&s, n, t, &args).await;
                }
            }
            Kind::CompanyRead => {
                let path = match i % 3 {
                    0 => format!("/v1/companies/{ORG}/people?limit=50"),
                    1 => format!("/v1/companies/{ORG}/sites"),
                    _ => format!("/v1/companies/{ORG}/statistics?from=2026-01-01&to=2027-01-01"),
                };
                s.send(kind, auth(s.http.get(url(&path)))).await;
            }
            Kind::Me => {
                s.send(kind, auth(s.http.get(url("/v1/me/registrations?limit=50"))))
                    .await;
            }
            Kind::Anonymous => {
                let path = match i % 3 {
                    0 => "/v1/announcements".to_string(),
                    1 => "/v1/privacy".to_string(),
                    _ => format!("/v1/companies/{ORG}/people"),
                };
                s.send(kind, s.http.get(url(&path))).await;
            }
        }
        if kind != Kind::Anonymous && args.think_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.think_ms)).await;
        }
    }
}

/// CPU seconds this process has used (user + system, from /proc/self/stat), to tell
/// what the run got of a shared machine; `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The 1-minute load average.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn pct(v: &mut [u32], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    f64::from(v[i]) / 1000.0
}

struct Stack {
    state: AppState,
    key: Arc<Vec<u8>>,
    _dir: tempfile::TempDir,
}

async fn stack(kind: StoreKind, commit: Commit) -> Stack {
    let dir = tempfile::tempdir().expect("temp dir");
    match kind {
        StoreKind::Embedded => {
            let mode = match commit {
                Commit::Logged => stamp_adapters::CommitMode::Logged,
                Commit::Grouped => stamp_adapters::CommitMode::Grouped,
                Commit::Single => stamp_adapters::CommitMode::Single,
            };
            let store: Arc<dyn ItemStore> = Arc::new(
                stamp_adapters::EmbeddedItemStore::open_in_dir_with(dir.path(), mode)
                    .expect("redb"),
            );
            let archive = stamp_adapters::FolderArchive::new(dir.path().join("archive"));
            let state = AppState::new(
                store,
                Arc::new(archive),
                PseudonymKey::new(b"load-test-pseudonym-key".to_vec()),
                Arc::new(SystemClock),
            );
            Stack {
                state,
                key: Arc::new(b"load-test-signing-key-0123456789".to_vec()),
                _dir: dir,
            }
        }
        StoreKind::Aws => {
            let (ddb, s3) = stamp_adapters::aws_clients().await;
            let name = format!("stamp-load-{}", uuid::Uuid::new_v4().simple());
            stamp_adapters::create_table(&ddb, &name)
                .await
                .expect("table");
            stamp_adapters::create_bucket(&s3, &name)
                .await
                .expect("bucket");
            let store: Arc<dyn ItemStore> =
                Arc::new(stamp_adapters::DynamoItemStore::new(ddb, name.clone()));
            let state = AppState::new(
                store,
                Arc::new(stamp_adapters::S3Archive::new(s3, name)),
                PseudonymKey::new(b"load-test-pseudonym-key".to_vec()),
                Arc::new(SystemClock),
            );
            Stack {
                state,
                key: Arc::new(b"load-test-signing-key-0123456789".to_vec()),
                _dir: dir,
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    assert!(
        args.clients >= 8 && args.clients <= 256,
        "--clients 8..=256"
    );
    assert!(args.seconds <= 600, "--seconds at most 600");
    assert!(
        args.min_events >= 1 && args.min_events <= args.max_events && args.max_events <= 10_000
    );
    let st = stack(args.store, args.commit).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = stamp_local::http_app(st.state.clone(), st.key.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let key = st.key.as_slice();
    // Set up: partners accredited, the company activated, users granted.
    let op = token(key, claims("load-operator", "operator"));
    for p in 0..PARTNERS {
        let r = http
            .post(format!("{base}/v1/partners"))
            .bearer_auth(&op)
            .json(&json!({ "partner_id": format!("lp{p}"), "name": format!("Load partner {p}") }))
            .send()
            .await
            .expect("accredit");
        assert!(r.status().is_success(), "accredit: {}", r.status());
    }
    let admin = token(
        key,
        Claims {
            companies: vec![ORG.into()],
            ..claims("load-admin", "company_admin")
        },
    );
    let r = http
        .put(format!("{base}/v1/companies/{ORG}/activation"))
        .bearer_auth(&admin)
        .json(&json!({ "terms_version": "2026-01", "company_name": "Lastbygg AB", "fiscal_year_end_month": 12 }))
        .send()
        .await
        .expect("activate");
    assert!(r.status().is_success(), "activate: {}", r.status());
    let r = http
        .put(format!("{base}/v1/companies/{ORG}/users/load-user"))
        .bearer_auth(&admin)
        .json(&json!({ "roles": ["company_user"] }))
        .send()
        .await
        .expect("grant");
    assert!(r.status().is_success(), "grant: {}", r.status());
    let setup_requests = PARTNERS as u64 + 2;

    let shared = Arc::new(Shared {
        base,
        http,
        tally: Mutex::new(Tally::default()),
        phase: std::sync::atomic::AtomicU8::new(0),
        stop: AtomicBool::new(false),
        requests: AtomicU64::new(setup_requests),
        pushes: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        accepted: AtomicU64::new(0),
        pools: (0..PARTNERS)
            .map(|p| {
                Mutex::new(Pool {
                    partner: format!("lp{p}"),
                    round: 0,
                    events: Vec::new(),
                    batches: 0,
                })
            })
            .collect(),
    });
    // The mix: 3/8 pushes, 1/4 company reads, 1/8 /v1/me, 1/4 anonymous flood.
    let c = args.clients;
    let (pushers, readers, me) = match args.mix {
        Mix::Load => (c * 3 / 8, c / 4, c / 8),
        Mix::Pushes => (c, 0, 0),
        Mix::Reads => (0, c - c / 4, c / 4),
    };
    let flood = c - pushers - readers - me;
    let partner_token = |n: usize| {
        token(
            key,
            Claims {
                partner_id: Some(format!("lp{}", n % PARTNERS)),
                ..claims(&format!("lp{}-system", n % PARTNERS), "partner")
            },
        )
    };
    let prefill = args
        .prefill
        .unwrap_or(if args.mix == Mix::Reads { 20_000 } else { 0 });
    if prefill > 0 {
        let t = Instant::now();
        let fill: Vec<_> = (0..PARTNERS)
            .map(|n| {
                let (s, t, args) = (shared.clone(), partner_token(n), args.clone());
                tokio::spawn(async move {
                    while s.delivered.load(Ordering::Relaxed) < prefill {
                        push_once(&s, 1000 + n, &t, &args).await;
                    }
                })
            })
            .collect();
        for f in fill {
            let _ = f.await;
        }
        let refresh = st
            .state
            .statistics
            .run_once()
            .await
            .expect("statistics refresh");
        println!(
            "prefill: {} events in {:.1} s; statistics refreshed ({refresh:?})",
            shared.delivered.load(Ordering::Relaxed),
            t.elapsed().as_secs_f64()
        );
        // The timed figures start from here.
        shared.tally.lock().expect("tally").latencies.clear();
    }
    let before = (
        shared.delivered.load(Ordering::Relaxed),
        shared.requests.load(Ordering::Relaxed),
    );
    let user = token(
        key,
        Claims {
            companies: vec![ORG.into()],
            ..claims("load-user", "company_user")
        },
    );
    let employee = token(
        key,
        Claims {
            person_id: Some(stamp_testdata::personnummer(
                chrono::NaiveDate::from_ymd_opt(1980, 5, 17).expect("date"),
                214,
            )),
            ..claims("load-employee", "employee")
        },
    );
    let mut tasks = Vec::new();
    let spawn = |kind: Kind, n: usize, t: Option<String>| {
        tokio::spawn(client(shared.clone(), kind, n, t, args.clone()))
    };
    for n in 0..pushers {
        tasks.push(spawn(Kind::Push, n, Some(partner_token(n))));
    }
    for n in 0..readers {
        tasks.push(spawn(Kind::CompanyRead, n, Some(user.clone())));
    }
    for n in 0..me {
        tasks.push(spawn(Kind::Me, n, Some(employee.clone())));
    }
    for n in 0..flood {
        tasks.push(spawn(Kind::Anonymous, n, None));
    }
    println!(
        "stamp-load: {:?} store ({:?} commit), {:?} mix, {pushers} pushers ({PARTNERS} partners), {readers} company readers, {me} /v1/me, {flood} anonymous; {} s in {} s windows, without and with the flood in turn",
        args.store, args.commit, args.mix, args.seconds, args.window_seconds
    );
    let cpu_before = cpu_seconds();
    let load_before = load_average();
    // Windows without (0) and with (1) the flood in the Thue–Morse order (0 1 1 0 1 0 0 1
    // …): over 4 or 8 windows a drift that grows steadily (a longer ledger, pushes
    // falling into step) weighs the same on both, where plain alternation would always
    // put the later windows on the flood's side.
    let mut phase_secs = [0.0f64; 3];
    if args.mix == Mix::Load && args.warmup_seconds > 0 {
        shared.phase.store(WARMUP, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(args.warmup_seconds)).await;
        phase_secs[WARMUP as usize] = args.warmup_seconds as f64;
    }
    let t_run = Instant::now();
    let mut w = 0u64;
    while t_run.elapsed() < Duration::from_secs(args.seconds) {
        let phase = if w.count_ones().is_multiple_of(2) {
            CALM
        } else {
            FLOOD
        };
        shared.phase.store(phase, Ordering::Relaxed);
        let left = Duration::from_secs(args.seconds).saturating_sub(t_run.elapsed());
        // Only issue 14's mix has a flood to alternate with.
        let len = match args.mix {
            Mix::Load => Duration::from_secs(args.window_seconds.max(1)).min(left),
            _ => left,
        };
        let t = Instant::now();
        tokio::time::sleep(len).await;
        phase_secs[phase as usize] += t.elapsed().as_secs_f64();
        w += 1;
    }
    shared.stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let timed = t_run.elapsed().as_secs_f64();
    let cores = match (cpu_before, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.2}", (b - a) / timed),
        _ => "?".into(),
    };
    let events = shared.delivered.load(Ordering::Relaxed) - before.0;
    let sent = shared.requests.load(Ordering::Relaxed) - before.1;
    println!(
        "\nthroughput ({} clients, {timed:.1} s until the last answer): {:.0} events/s in answered pushes, {:.0} requests/s; this process (server and clients) used {cores} cores; load average {load_before} at the start, {} at the end",
        args.clients,
        events as f64 / timed,
        sent as f64 / timed,
        load_average()
    );

    // Figures.
    let mut tally = std::mem::take(&mut *shared.tally.lock().expect("tally"));
    println!(
        "\nwindows: {:.0} s warm-up, {:.0} s without the flood, {:.0} s with it",
        phase_secs[2], phase_secs[0], phase_secs[1]
    );
    println!("\nphase        kind          requests    req/s   p50 ms   p99 ms");
    for ((phase, kind), v) in tally.latencies.iter_mut() {
        let n = v.len();
        let p50 = pct(v, 0.50);
        let p99 = pct(v, 0.99);
        println!(
            "{:<12} {:<12} {:>9} {:>8.1} {:>8.1} {:>8.1}",
            match (*phase, args.control) {
                (WARMUP, _) => "warm-up",
                (CALM, _) => "no flood",
                (_, false) => "with flood",
                (_, true) => "odd, none",
            },
            format!("{kind:?}"),
            n,
            n as f64 / phase_secs[*phase as usize],
            p50,
            p99
        );
    }
    // Authenticated requests (every kind but the flood), side by side.
    println!("\nauthenticated requests      without flood          with flood");
    for kinds in [
        vec![Kind::Push],
        vec![Kind::CompanyRead],
        vec![Kind::Me],
        vec![Kind::Push, Kind::CompanyRead, Kind::Me],
    ] {
        let mut cols = Vec::new();
        for phase in [CALM, FLOOD] {
            let mut v: Vec<u32> = kinds
                .iter()
                .flat_map(|k| {
                    tally
                        .latencies
                        .get(&(phase, *k))
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            cols.push(format!(
                "p50 {:>7.1} / p99 {:>7.1}",
                pct(&mut v, 0.50),
                pct(&mut v, 0.99)
            ));
        }
        let name = if kinds.len() > 1 {
            "all authenticated".to_string()
        } else {
            format!("{:?}", kinds[0])
        };
        println!("  {name:<18} {}   {}  (ms)", cols[0], cols[1]);
    }
    let mut fivexx = 0;
    println!("\nstatus by kind:");
    for ((kind, status), n) in &tally.statuses {
        println!("  {kind:?} {status}: {n}");
        if *status >= 500 {
            fivexx += n;
        }
    }
    println!("5xx answers: {fivexx}");

    // Events stored = events delivered (every event of the company's day partitions).
    let ck = st
        .state
        .ledger
        .company_key(&stamp_domain::identity::Orgnr::parse(ORG).expect("orgnr"));
    let mut stored = 0usize;
    for day in st
        .state
        .ledger
        .data_days(&ck, None, None)
        .await
        .expect("days")
    {
        stored += st
            .state
            .ledger
            .day_events(&ck, day)
            .await
            .expect("day")
            .len();
    }
    let delivered = shared.delivered.load(Ordering::Relaxed);
    println!(
        "events delivered in answered pushes: {delivered}, accepted: {}, stored: {stored}",
        shared.accepted.load(Ordering::Relaxed)
    );
    let health = st
        .state
        .ledger
        .partner_health(&ck, chrono::Utc::now())
        .await
        .expect("health");
    let received: i64 = health.iter().map(|h| h.events_received).sum();
    println!("partner health events_received (sum over partners): {received}");

    let requests = shared.requests.load(Ordering::Relaxed);
    let audit = audit_check(&st).await;
    println!(
        "requests sent: {requests}, audit entries: {}",
        audit.entries
    );
    println!("audit verification: {}", audit.verdict);
    let ok = fivexx == 0 && stored as u64 == delivered && audit.entries == requests && audit.clean;
    println!("\nchecks {}", if ok { "PASSED" } else { "FAILED" });
    if !ok {
        std::process::exit(1);
    }
}

struct AuditFigures {
    entries: u64,
    clean: bool,
    verdict: String,
}

/// Seals everything (no request is in flight any more), then verifies every chain and
/// counts its entries.
async fn audit_check(st: &Stack) -> AuditFigures {
    let t = Instant::now();
    let seal = st
        .state
        .audit
        .seal(
            chrono::Utc::now() + chrono::Duration::seconds(1),
            chrono::Duration::zero(),
        )
        .await
        .expect("seal");
    let sealed_in = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let reports = stamp_api::jobs::verify_audit(&st.state)
        .await
        .expect("verify");
    let mut entries = 0;
    let mut clean = true;
    for r in &reports {
        entries += r.sealed + r.unsealed;
        clean &= r.intact() && r.unsealed == 0;
        for p in &r.problems {
            println!("  {}: {p}", r.chain);
        }
    }
    AuditFigures {
        entries,
        clean,
        verdict: format!(
            "{} chains, {} digests written in {sealed_in:.1} s; verified in {:.1} s: {}",
            reports.len(),
            seal.digests,
            t.elapsed().as_secs_f64(),
            if clean { "clean" } else { "PROBLEMS" }
        ),
    }
}
