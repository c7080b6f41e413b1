//! `lambda-bench`: issue 15's figures, measured the way Lambda runs the functions.
//!
//! Run it with `bash infra/scripts/lambda-bench.sh` (builds the bootstraps with
//! `cargo lambda build --release`, starts DynamoDB Local and moto, then runs this).
//!
//! - Each real function bootstrap runs as a child process against a small Lambda Runtime
//!   API served here (`/2018-06-01/runtime/invocation/next`, `…/response`, `…/error`):
//!   *init* is process start → first `/next`; *server time* is an invocation handed out
//!   → its response posted.
//! - DynamoDB and S3 are reached through a proxy here that counts every request by
//!   operation, the items of each transaction, the capacity DynamoDB reports
//!   (`ReturnConsumedCapacity` is added to each request), the most requests in flight,
//!   and can add a fixed latency to each call (what a real network round trip costs).
//! - Baselines from the same run: a hello-world `lambda_runtime` function (`lambda-hello`)
//!   for init; a plain `serde_json` parse of the same batch for the import's CPU time
//!   (the function's own CPU, from `/proc/<pid>/task/*/schedstat`, not DynamoDB Local's).
//!
//! Numbers are printed, not asserted.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

const ORG: &str = "5569999997";
const COMPANY: &str = "Benchbygg AB";
const PARTNER: &str = "bench-ledger";
const SITE_100: &str = "STH2026000100";
const SITE_1000: &str = "STH2026001000";
const INIT_RUNS: usize = 15;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

// ---------------------------------------------------------------------------------------
// The counting, latency-adding proxy

#[derive(Default)]
struct Counts {
    by_op: BTreeMap<String, u64>,
    transact_items: u64,
    write_units: f64,
    read_units: f64,
    /// When each call reached the proxy and when it was answered.
    spans: Vec<(Instant, Instant)>,
}

impl Counts {
    /// Calls made one after another (calls made at once count once).
    fn sequential(&self) -> usize {
        stamp_testdata::calls::sequential(&self.spans)
    }
}

#[derive(Default)]
struct Proxy {
    upstream: String,
    dynamodb: bool,
    client: reqwest::Client,
    counts: Mutex<Counts>,
    latency_ms: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

impl Proxy {
    fn reset(&self) -> Counts {
        self.max_in_flight.store(0, Ordering::SeqCst);
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn set_latency(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::SeqCst);
    }
}

fn s3_op(method: &http::Method, path: &str, query: &str, headers: &http::HeaderMap) -> String {
    let object = path.trim_start_matches('/').contains('/');
    let name = match (method.as_str(), object) {
        ("PUT", true) if headers.contains_key("x-amz-copy-source") => "CopyObject",
        ("PUT", true) if query.contains("partNumber") => "UploadPart",
        ("PUT", true) => "PutObject",
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("DELETE", true) => "DeleteObject",
        ("POST", true) => "MultipartUpload",
        ("GET", false) => "ListObjects",
        _ => method.as_str(),
    };
    name.to_string()
}

fn capacity_units(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Array(a)) => a.iter().map(|c| capacity_units(Some(c))).sum(),
        Some(Value::Object(o)) => o
            .get("CapacityUnits")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        _ => 0.0,
    }
}

const WRITES: [&str; 5] = [
    "TransactWriteItems",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
];

async fn proxy(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    let n = p.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    p.max_in_flight.fetch_max(n, Ordering::SeqCst);
    let start = Instant::now();
    let r = forward(&p, req).await;
    p.in_flight.fetch_sub(1, Ordering::SeqCst);
    p.counts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .spans
        .push((start, Instant::now()));
    match r {
        Ok(r) => r,
        Err(e) => (http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

async fn forward(p: &Proxy, req: Request) -> Result<Response, BoxError> {
    let (parts, body) = req.into_parts();
    let mut body = axum::body::to_bytes(body, usize::MAX).await?;
    let path_q = parts
        .uri
        .path_and_query()
        .map(|x| x.as_str().to_string())
        .unwrap_or_default();
    let op = if p.dynamodb {
        parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("?")
            .to_string()
    } else {
        s3_op(
            &parts.method,
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
            &parts.headers,
        )
    };
    let mut items = 0u64;
    if p.dynamodb {
        if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&body) {
            if op == "TransactWriteItems" {
                items = m
                    .get("TransactItems")
                    .and_then(Value::as_array)
                    .map_or(0, |a| a.len() as u64);
            }
            m.insert("ReturnConsumedCapacity".into(), json!("TOTAL"));
            body = Bytes::from(serde_json::to_vec(&m)?);
        }
    }
    {
        let mut c = p.counts.lock().unwrap_or_else(|e| e.into_inner());
        *c.by_op.entry(op.clone()).or_default() += 1;
        c.transact_items += items;
    }
    let latency = p.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let mut out = p
        .client
        .request(parts.method.clone(), format!("{}{}", p.upstream, path_q));
    for (k, v) in &parts.headers {
        if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
            out = out.header(k, v);
        }
    }
    let res = out.body(body).send().await?;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await?;
    if p.dynamodb {
        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            let units = capacity_units(v.get("ConsumedCapacity"));
            let mut c = p.counts.lock().unwrap_or_else(|e| e.into_inner());
            if WRITES.contains(&op.as_str()) {
                c.write_units += units;
            } else {
                c.read_units += units;
            }
        }
    }
    let mut resp = Response::builder().status(status);
    for (k, v) in &headers {
        if k != http::header::CONTENT_LENGTH && k != http::header::TRANSFER_ENCODING {
            resp = resp.header(k, v);
        }
    }
    Ok(resp.body(Body::from(bytes))?)
}

async fn start_proxy(port: u16, upstream: String, dynamodb: bool) -> Result<Arc<Proxy>, BoxError> {
    let p = Arc::new(Proxy {
        upstream: upstream.trim_end_matches('/').to_string(),
        dynamodb,
        ..Default::default()
    });
    let app = axum::Router::new().fallback(proxy).with_state(p.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(p)
}

// ---------------------------------------------------------------------------------------
// The Lambda Runtime API

type Outcome = Result<Vec<u8>, String>;

struct Runtime {
    port: u16,
    /// Only records the first poll and never answers it (init measurements).
    hold: bool,
    queue_tx: mpsc::Sender<(String, Vec<u8>)>,
    queue_rx: tokio::sync::Mutex<mpsc::Receiver<(String, Vec<u8>)>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_poll: Mutex<Option<Instant>>,
    polled: Notify,
    seq: AtomicU64,
}

async fn next(State(rt): State<Arc<Runtime>>) -> Response {
    {
        let mut f = rt.first_poll.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(Instant::now());
        }
    }
    rt.polled.notify_waiters();
    if rt.hold {
        std::future::pending::<()>().await;
    }
    let Some((id, body)) = rt.queue_rx.lock().await.recv().await else {
        return http::StatusCode::GONE.into_response();
    };
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    Response::builder()
        .header("Lambda-Runtime-Aws-Request-Id", &id)
        .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
        .header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:eu-north-1:000000000000:function:bench",
        )
        .header(
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000",
        )
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

fn finish(rt: &Runtime, id: &str, outcome: Outcome) -> Response {
    let tx = rt
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(id);
    if let Some(tx) = tx {
        let _ = tx.send(outcome);
    }
    http::StatusCode::ACCEPTED.into_response()
}

async fn response(State(rt): State<Arc<Runtime>>, Path(id): Path<String>, body: Bytes) -> Response {
    finish(&rt, &id, Ok(body.to_vec()))
}

async fn error(State(rt): State<Arc<Runtime>>, Path(id): Path<String>, body: Bytes) -> Response {
    finish(&rt, &id, Err(String::from_utf8_lossy(&body).into_owned()))
}

async fn init_error(body: Bytes) -> Response {
    eprintln!("init error: {}", String::from_utf8_lossy(&body));
    http::StatusCode::ACCEPTED.into_response()
}

impl Runtime {
    async fn start(port: u16, hold: bool) -> Result<Arc<Runtime>, BoxError> {
        let (queue_tx, queue_rx) = mpsc::channel(16);
        let rt = Arc::new(Runtime {
            port,
            hold,
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            pending: Mutex::default(),
            first_poll: Mutex::default(),
            polled: Notify::new(),
            seq: AtomicU64::new(0),
        });
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(rt.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(rt)
    }

    /// Waits for the first `/next` since the last reset; its instant.
    async fn wait_first_poll(&self, timeout: Duration) -> Option<Instant> {
        let until = Instant::now() + timeout;
        loop {
            let notified = self.polled.notified();
            if let Some(t) = *self.first_poll.lock().unwrap_or_else(|e| e.into_inner()) {
                return Some(t);
            }
            let left = until.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), notified).await;
        }
    }

    fn reset_first_poll(&self) {
        *self.first_poll.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// One invocation: the outcome and the time from hand-out to answer.
    async fn invoke(&self, event: &Value) -> Result<(Value, Duration), BoxError> {
        let id = format!("req-{}", self.seq.fetch_add(1, Ordering::SeqCst));
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        let t = Instant::now();
        self.queue_tx
            .send((id, serde_json::to_vec(event)?))
            .await
            .map_err(|_| "runtime closed")?;
        let out = tokio::time::timeout(Duration::from_secs(300), rx).await??;
        let took = t.elapsed();
        match out {
            Ok(b) => Ok((serde_json::from_slice(&b)?, took)),
            Err(e) => Err(format!("invocation error: {e}").into()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Function processes

struct Env {
    bin_dir: PathBuf,
    vars: Vec<(String, String)>,
    logs: PathBuf,
}

struct Function {
    child: std::process::Child,
    runtime: Arc<Runtime>,
}

impl Env {
    fn spawn(&self, name: &str, runtime_port: u16) -> Result<std::process::Child, BoxError> {
        let log = std::fs::File::create(self.logs.join(format!("{name}-{runtime_port}.log")))?;
        let child = std::process::Command::new(self.bin_dir.join(name))
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("127.0.0.1:{runtime_port}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        Ok(child)
    }

    async fn start(&self, name: &str, port: u16) -> Result<Function, BoxError> {
        let runtime = Runtime::start(port, false).await?;
        let child = self.spawn(name, port)?;
        runtime
            .wait_first_poll(Duration::from_secs(20))
            .await
            .ok_or_else(|| format!("{name} never polled the Runtime API"))?;
        Ok(Function { child, runtime })
    }

    /// Median and min of process start → first `/next`, over fresh processes.
    async fn init_times(&self, rt: &Runtime, name: &str) -> Result<Vec<Duration>, BoxError> {
        let mut out = Vec::new();
        for _ in 0..INIT_RUNS {
            rt.reset_first_poll();
            let t0 = Instant::now();
            let mut child = self.spawn(name, rt.port)?;
            let polled = rt.wait_first_poll(Duration::from_secs(20)).await;
            let _ = child.kill();
            let _ = child.wait();
            out.push(
                polled
                    .ok_or_else(|| format!("{name} never polled"))?
                    .duration_since(t0),
            );
        }
        out.sort();
        Ok(out)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Function {
    fn pid(&self) -> Option<u32> {
        Some(self.child.id())
    }

    /// CPU time of every thread of the process so far (ns), from schedstat.
    fn cpu_ns(&self) -> u64 {
        let Some(pid) = self.pid() else { return 0 };
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return 0;
        };
        tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum()
    }

    async fn http(
        &self,
        method: &str,
        path: &str,
        query: &str,
        claims: &Value,
        body: Option<&str>,
    ) -> Result<(u16, Value, Duration), BoxError> {
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": { "content-type": "application/json", "host": "bench.local" },
            "requestContext": {
                "accountId": "000000000000", "apiId": "bench", "domainName": "bench.local",
                "domainPrefix": "bench", "requestId": "bench", "routeKey": "$default",
                "stage": "$default", "time": "01/Dec/2026:00:00:00 +0000", "timeEpoch": 0,
                "http": { "method": method, "path": path, "protocol": "HTTP/1.1",
                          "sourceIp": "127.0.0.1", "userAgent": "lambda-bench" },
                "authorizer": { "jwt": { "claims": claims, "scopes": null } }
            },
            "body": body,
            "isBase64Encoded": false
        });
        let (resp, took) = self.runtime.invoke(&event).await?;
        let status = resp.get("statusCode").and_then(Value::as_u64).unwrap_or(0) as u16;
        let body = resp
            .get("body")
            .and_then(Value::as_str)
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        Ok((status, body, took))
    }
}

// ---------------------------------------------------------------------------------------
// Data

fn claims(role: &str) -> Value {
    let mut m = json!({ "sub": format!("bench-{role}"), "roles": format!("[{role}]"),
                        "companies": format!("[{ORG}]") });
    if role == "partner" {
        m["partner_id"] = json!(PARTNER);
    }
    m
}

/// A valid personnummer, distinct for each `n` below 28,000.
fn person_id(n: u32) -> String {
    let (yy, rest) = (60 + n / 1000 % 28, n % 1000);
    let born = chrono::NaiveDate::from_ymd_opt(1900 + yy as i32, 1, 1 + n / 28_000 % 28)
        .unwrap_or_default();
    stamp_testdata::personnummer(born, rest)
}

/// `people` people, each with `sessions` work sessions in November 2026 at `site`.
fn batch(batch_id: &str, site: &str, first_person: u32, people: u32, sessions: u32) -> String {
    let mut events = Vec::new();
    for p in first_person..first_person + people {
        for s in 0..sessions {
            let day = 2 + (s * 5 + p) % 27;
            for (dir, hour) in [("in", 7), ("out", 16)] {
                events.push(json!({
                    "event_id": format!("{batch_id}-{p}-{s}-{dir}"),
                    "company_orgnr": ORG, "company_name": COMPANY, "site_id": site,
                    "person_id": person_id(p), "person_name": format!("Person {p}"),
                    "direction": dir,
                    "occurred_at": format!("2026-11-{day:02}T{hour:02}:{:02}:00+01:00", p % 60),
                }));
            }
        }
    }
    json!({ "batch_id": batch_id, "events": events }).to_string()
}

// ---------------------------------------------------------------------------------------
// The run

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn ops(c: &Counts) -> String {
    c.by_op
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn total(c: &Counts) -> u64 {
    c.by_op.values().sum()
}

struct Row(String, String, String, String);

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let bin_dir = PathBuf::from(env_or(
        "LAMBDA_BENCH_BIN_DIR",
        "target/x86_64-unknown-linux-gnu/release",
    ));
    let zip_dir = PathBuf::from(env_or("LAMBDA_BENCH_ZIP_DIR", "target/lambda"));
    let base: u16 = env_or("LAMBDA_BENCH_PORT", "9017").parse()?;
    let ddb_up = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .map_err(|_| "AWS_ENDPOINT_URL_DYNAMODB must name DynamoDB Local")?;
    let s3_up =
        std::env::var("AWS_ENDPOINT_URL_S3").map_err(|_| "AWS_ENDPOINT_URL_S3 must name moto")?;

    let ddb = start_proxy(base, ddb_up, true).await?;
    let s3 = start_proxy(base + 1, s3_up, false).await?;
    // The baseline build (e.g. main's bootstraps), measured in the same run.
    let baseline_dir = std::env::var("LAMBDA_BENCH_BASELINE_DIR")
        .ok()
        .map(PathBuf::from);
    let baseline_zips = std::env::var("LAMBDA_BENCH_BASELINE_ZIP_DIR")
        .ok()
        .map(PathBuf::from);
    let mut builds = vec![("this build", bin_dir.clone(), Some(zip_dir.clone()))];
    if let Some(dir) = baseline_dir {
        builds.push(("baseline build", dir, baseline_zips));
    }
    let init_rt = Runtime::start(base + 2, true).await?;
    let mut results: Vec<Vec<Row>> = Vec::new();
    for (n, (_, dir, zips)) in builds.iter().enumerate() {
        let stamp = format!("bench-{}-{n}", chrono::Utc::now().timestamp_millis());
        results.push(
            scenario(
                &ddb,
                &s3,
                &init_rt,
                // Each build's functions on ports of their own: a Runtime API's listener
                // outlives its scenario.
                (base, base + 3 + 4 * n as u16),
                &stamp,
                dir.clone(),
                zips.as_deref(),
            )
            .await?,
        );
    }
    let names: Vec<&str> = builds.iter().map(|b| b.0).collect();
    println!(
        "\n| figure | {} | issue's baseline (main e803b23) | target |\n|---|{}---|---|",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    for (i, Row(a, b, c, d)) in results[0].iter().enumerate() {
        let others: Vec<&str> = results[1..]
            .iter()
            .map(|r| r.get(i).map_or("", |x| x.1.as_str()))
            .collect();
        let mut cells = vec![b.as_str()];
        cells.extend(others);
        println!("| {a} | {} | {c} | {d} |", cells.join(" | "));
    }
    Ok(())
}

/// Every figure, for one build's bootstraps (in `bin_dir`), on a table and bucket of its own.
async fn scenario(
    ddb: &Arc<Proxy>,
    s3: &Arc<Proxy>,
    init_rt: &Arc<Runtime>,
    // The proxies' first port, and the first of this build's functions' ports.
    (base, first_port): (u16, u16),
    stamp: &str,
    bin_dir: PathBuf,
    zip_dir: Option<&std::path::Path>,
) -> Result<Vec<Row>, BoxError> {
    let stamp = stamp.to_string();
    let (dc, sc) = stamp_adapters::aws_clients().await;
    stamp_adapters::create_table(&dc, &stamp).await?;
    stamp_adapters::create_bucket(&sc, &stamp).await?;

    let logs = std::env::temp_dir().join(&stamp);
    std::fs::create_dir_all(&logs)?;
    let mut vars: Vec<(String, String)> = ["PATH", "HOME", "AWS_REGION", "AWS_ACCESS_KEY_ID"]
        .iter()
        .filter_map(|k| Some((k.to_string(), std::env::var(k).ok()?)))
        .collect();
    vars.extend(
        [
            ("AWS_DEFAULT_REGION", "eu-north-1".to_string()),
            (
                "AWS_SECRET_ACCESS_KEY",
                env_or("AWS_SECRET_ACCESS_KEY", "bench"),
            ),
            (
                "AWS_ENDPOINT_URL_DYNAMODB",
                format!("http://127.0.0.1:{base}"),
            ),
            (
                "AWS_ENDPOINT_URL_S3",
                format!("http://127.0.0.1:{}", base + 1),
            ),
            ("TABLE_NAME", stamp.clone()),
            ("ARCHIVE_BUCKET", stamp.clone()),
            (
                "PSEUDONYM_KEY",
                "lambda-bench-pseudonym-key-0123456789".into(),
            ),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "bench".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    if !vars.iter().any(|(k, _)| k == "AWS_REGION") {
        vars.push(("AWS_REGION".into(), "eu-north-1".into()));
    }
    if !vars.iter().any(|(k, _)| k == "AWS_ACCESS_KEY_ID") {
        vars.push(("AWS_ACCESS_KEY_ID".into(), "bench".into()));
    }
    let env = Env {
        bin_dir,
        vars,
        logs: logs.clone(),
    };
    let mut rows: Vec<Row> = Vec::new();

    // Set-up through the administration function.
    let admin = env.start("administration", first_port).await?;
    let (st, b, _) = admin
        .http(
            "POST",
            "/v1/partners",
            "",
            &claims("operator"),
            Some(&json!({"partner_id": PARTNER, "name": "Bench ledger"}).to_string()),
        )
        .await?;
    check(st, &b, "accredit partner")?;
    let (st, b, _) = admin
        .http(
            "PUT",
            &format!("/v1/companies/{ORG}/activation"),
            "",
            &claims("company_admin"),
            Some(&json!({"terms_version": "2026-01", "company_name": COMPANY, "fiscal_year_end_month": 12}).to_string()),
        )
        .await?;
    check(st, &b, "activate company")?;
    drop(admin);

    // Writes: a warm-up batch, then 1,000 new events (100 people, 5 sessions each).
    let import = env.start("partner-import", first_port + 1).await?;
    let partner = claims("partner");
    let warm = batch("warm", SITE_100, 20_000, 2, 1);
    let (st, b, _) = import
        .http("POST", "/partner/v1/batches", "", &partner, Some(&warm))
        .await?;
    check(st, &b, "warm-up batch")?;
    let body = batch("b100", SITE_100, 0, 100, 5);
    let parse = {
        let mut t = Vec::new();
        for _ in 0..5 {
            let t0 = Instant::now();
            let v: Value = serde_json::from_str(&body)?;
            std::hint::black_box(&v);
            t.push(t0.elapsed());
        }
        t.sort();
        t[2]
    };
    ddb.reset();
    s3.reset();
    let cpu0 = import.cpu_ns();
    let (st, b, took) = import
        .http("POST", "/partner/v1/batches", "", &partner, Some(&body))
        .await?;
    let cpu = Duration::from_nanos(import.cpu_ns().saturating_sub(cpu0));
    check(st, &b, "1,000-event batch")?;
    let w = ddb.reset();
    let s3w = s3.reset();
    let items = w.transact_items;
    rows.push(Row(
        "DynamoDB requests per 1,000 new events".into(),
        format!(
            "{} ({}; {items} items in transactions); S3: {}",
            total(&w),
            ops(&w),
            ops(&s3w)
        ),
        "68 (56 TransactWriteItems carrying 5,107 items, 6 GetItem, 6 PutItem)".into(),
        "≤ 44".into(),
    ));
    rows.push(Row(
        "write capacity per new event".into(),
        if w.write_units > 0.0 {
            format!(
                "{:.2} WCU (as DynamoDB Local reports it)",
                w.write_units / 1000.0
            )
        } else {
            "DynamoDB Local reported no capacity".into()
        },
        "≈ 10.2 WCU".into(),
        "≤ 6 WCU".into(),
    ));
    rows.push(Row(
        "import CPU, 1,000 events (function process, all threads)".into(),
        format!(
            "{} ({:.1} × the parse; server time {})",
            ms(cpu),
            cpu.as_secs_f64() / parse.as_secs_f64(),
            ms(took)
        ),
        format!("serde_json parse of the same batch: {}", ms(parse)),
        "≤ 2 × the parse".into(),
    ));
    let body = batch("b1000", SITE_1000, 1_000, 1_000, 1);
    let (st, b, _) = import
        .http("POST", "/partner/v1/batches", "", &partner, Some(&body))
        .await?;
    check(st, &b, "1,000-people batch")?;
    drop(import);

    // Reads.
    let query = env.start("company-query", first_port + 2).await?;
    let user = claims("company_admin");
    let month = "from=2026-11-01T00:00:00%2B01:00&to=2026-12-01T00:00:00%2B01:00";
    for (site, people) in [(SITE_100, 100), (SITE_1000, 1000)] {
        let path = format!("/v1/companies/{ORG}/sites/{site}/registrations");
        let mut cells = Vec::new();
        for latency in [0u64, 10] {
            ddb.set_latency(latency);
            // once to warm, once measured
            query.http("GET", &path, month, &user, None).await?;
            ddb.reset();
            let cpu0 = query.cpu_ns();
            let (st, b, took) = query.http("GET", &path, month, &user, None).await?;
            let cpu = Duration::from_nanos(query.cpu_ns().saturating_sub(cpu0));
            check(st, &b, "site registrations")?;
            // Read before reset() clears it.
            let in_flight = ddb.max_in_flight.load(Ordering::SeqCst);
            let c = ddb.reset();
            let sessions = b
                .get("sessions")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if latency == 0 {
                cells.push(format!(
                    "{} DynamoDB calls ({}), ≤ {} in flight, {} sequential round trips, {sessions} sessions, {} with no added latency (function CPU {})",
                    total(&c),
                    ops(&c),
                    in_flight.max(1),
                    c.sequential(),
                    ms(took),
                    ms(cpu)
                ));
            } else {
                cells.push(format!(
                    "{} with {latency} ms per call ({} sequential round trips)",
                    ms(took),
                    c.sequential()
                ));
            }
        }
        ddb.set_latency(0);
        rows.push(Row(
            format!("site registrations, one month, {people} people"),
            cells.join("; "),
            if people == 100 {
                "102 Query calls, one after another (936 ms on DynamoDB Local)".into()
            } else {
                "(one Query per person, one after another)".into()
            },
            if people == 100 {
                "≤ 3 sequential round trips; ≤ 60 ms at 10 ms per call".into()
            } else {
                "≤ 150 ms at 10 ms per call".into()
            },
        ));
    }

    // Statistics: the read after the import, then the job, then the read again.
    let stats_path = format!("/v1/companies/{ORG}/statistics");
    let stats_q = "from=2026-11-01&to=2026-12-01&granularity=week";
    ddb.reset();
    let (st, b, took) = query.http("GET", &stats_path, stats_q, &user, None).await?;
    check(st, &b, "statistics")?;
    let c = ddb.reset();
    let fresh = b.get("refreshed_at").cloned().unwrap_or(Value::Null);
    rows.push(Row(
        "statistics read after an import (a month, by week)".into(),
        format!(
            "{} ({}), {}; refreshed_at {fresh}",
            total(&c),
            ops(&c),
            ms(took)
        ),
        "27 Query, 6 TransactWriteItems, 5 DeleteItem on the read path".into(),
        "the read path reads only".into(),
    ));
    let job = env.start("statistics", first_port + 3).await?;
    ddb.reset();
    let (job_out, job_took) = job.runtime.invoke(&json!({})).await?;
    let c = ddb.reset();
    drop(job);
    let (st, b, took) = query.http("GET", &stats_path, stats_q, &user, None).await?;
    check(st, &b, "statistics after the job")?;
    let c2 = ddb.reset();
    rows.push(Row(
        "statistics job, then the same read".into(),
        format!(
            "job {} ({}; {job_out}); read {} ({}), refreshed_at {}",
            ms(job_took),
            ops(&c),
            ms(took),
            ops(&c2),
            b.get("refreshed_at").cloned().unwrap_or(Value::Null)
        ),
        "—".into(),
        "—".into(),
    ));

    // The person registrations page.
    let (st, b, _) = query
        .http(
            "POST",
            &format!("/v1/companies/{ORG}/people/search"),
            "",
            &user,
            Some(&json!({"person_id": person_id(7)}).to_string()),
        )
        .await?;
    check(st, &b, "people search")?;
    let person_ref = b
        .get("person_ref")
        .and_then(Value::as_str)
        .ok_or("no person_ref")?
        .to_string();
    let path = format!("/v1/companies/{ORG}/people/{person_ref}/registrations");
    query.http("GET", &path, month, &user, None).await?;
    ddb.reset();
    let (st, b, took) = query.http("GET", &path, month, &user, None).await?;
    check(st, &b, "person registrations")?;
    let c = ddb.reset();
    rows.push(Row(
        "person registrations page".into(),
        format!(
            "{} ({}), {} sequential round trips, {}",
            total(&c),
            ops(&c),
            c.sequential(),
            ms(took)
        ),
        "1 Query (+ 3 GetItem, 1 audit write)".into(),
        "keep".into(),
    ));
    drop(query);

    // Bootstrap sizes.
    let mut sizes = Vec::new();
    let mut largest = 0u64;
    if let Some(Ok(dir)) = zip_dir.map(std::fs::read_dir) {
        for d in dir.flatten() {
            if let Ok(m) = std::fs::metadata(d.path().join("bootstrap.zip")) {
                let name = d.file_name().to_string_lossy().into_owned();
                if name.starts_with("lambda-") {
                    continue;
                }
                largest = largest.max(m.len());
                sizes.push(format!("{name} {:.2}", m.len() as f64 / 1e6));
            }
        }
    }
    sizes.sort();
    rows.push(Row(
        "bootstrap (cargo lambda build --release, x86_64), zipped".into(),
        format!(
            "largest {:.2} MB ({} MB)",
            largest as f64 / 1e6,
            sizes.join(", ")
        ),
        "7.9 MB (20.5 MB unzipped)".into(),
        "≤ 5 MB".into(),
    ));

    // Init, interleaved with the hello-world baseline.
    let hello = env.init_times(init_rt, "lambda-hello").await?;
    let mut cells = Vec::new();
    for f in [
        "company-query",
        "partner-import",
        "administration",
        "statistics",
    ] {
        let t = env.init_times(init_rt, f).await?;
        cells.push(format!(
            "{f} median {} ({:.1} ×)",
            ms(t[t.len() / 2]),
            t[t.len() / 2].as_secs_f64() / hello[hello.len() / 2].as_secs_f64()
        ));
    }
    rows.push(Row(
        format!("init (process start → first /next), median of {INIT_RUNS}"),
        cells.join("; "),
        format!(
            "hello-world lambda_runtime function: median {}",
            ms(hello[hello.len() / 2])
        ),
        "≤ 2 × the hello-world function".into(),
    ));

    println!("(function logs in {})", logs.display());
    Ok(rows)
}

fn check(status: u16, body: &Value, what: &str) -> Result<(), BoxError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("{what}: HTTP {status}: {body}").into())
    }
}
