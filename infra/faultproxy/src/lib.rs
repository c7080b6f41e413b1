//! A fault-injecting HTTP proxy for tests (issue 13, injected faults).
//!
//! It stands between Stamp's AWS SDK clients and DynamoDB Local or moto and forwards
//! every request, except a seeded share (`rate`) that it answers with one of the faults a
//! real AWS endpoint produces:
//!
//! - **throttling**: DynamoDB `400 ThrottlingException` / `ProvisionedThroughputExceededException`,
//!   S3 `503 SlowDown`;
//! - **500**: DynamoDB `InternalServerError`, S3 `InternalError`;
//! - **timeout**: the request is held past the client's attempt timeout, then the
//!   connection is closed;
//! - **dropped connection**: closed without an answer;
//! - **TransactionCanceledException** (DynamoDB `TransactWriteItems` only), cancelled for a
//!   `TransactionConflict`, as DynamoDB answers a transaction that met another one.
//!
//! A share (`lost_share`) of the timeouts and dropped connections is forwarded first:
//! the write happened, only its answer is lost — what makes retries non-trivial.
//! Throttling, 500s and cancellations are answered without forwarding (DynamoDB applies
//! nothing of a throttled or cancelled request).
//!
//! A [`Switch`] stops a process at a chosen point: a proxy can trip it once a request
//! whose path contains a marker has been applied upstream (e.g. the archive's receipt
//! write), and a proxy that dies with it then holds every request until it is reset.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the proxy does instead of forwarding a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    Throttle,
    ServerError,
    Timeout,
    Drop,
    TransactionCanceled,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Timeout,
        Fault::Drop,
        Fault::TransactionCanceled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttling",
            Fault::ServerError => "500",
            Fault::Timeout => "timeout",
            Fault::Drop => "dropped connection",
            Fault::TransactionCanceled => "TransactionCanceledException",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Where requests go: `http://host:port`.
    pub upstream: String,
    /// The share of requests answered with a fault, 0.0–1.0.
    pub rate: f64,
    pub seed: u64,
    /// How long a timeout holds the request (longer than the client's attempt timeout).
    pub hang: Duration,
    /// The share of timeouts and dropped connections forwarded before the answer is lost.
    pub lost_share: f64,
    /// Relative weights of the kinds, in [`Fault::ALL`] order (a cancellation only for
    /// `TransactWriteItems`): each costs the client differently — a timeout its whole
    /// attempt timeout.
    pub weights: [u32; 5],
}

impl Config {
    pub fn new(upstream: impl Into<String>, rate: f64, seed: u64) -> Self {
        Config {
            upstream: upstream.into(),
            rate,
            seed,
            hang: Duration::from_secs(3),
            lost_share: 0.5,
            weights: [1; 5],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("bind: {0}")]
    Bind(std::io::Error),
    #[error("upstream {0:?} is not an http:// URL")]
    Upstream(String),
}

/// Counts of what the proxy saw and did.
#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retried_attempts: AtomicU64,
    faults: [AtomicU64; 5],
    lost_answers: AtomicU64,
}

/// A snapshot of the proxy's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Requests received (every attempt).
    pub requests: u64,
    /// Attempts the SDK marked as retries (`amz-sdk-request: attempt=N`, N > 1).
    pub retried_attempts: u64,
    /// Faults injected, by kind, in [`Fault::ALL`] order.
    pub faults: [u64; 5],
    /// Timeouts and dropped connections whose request was applied upstream first.
    pub lost_answers: u64,
}

impl Figures {
    pub fn total_faults(&self) -> u64 {
        self.faults.iter().sum()
    }

    pub fn of(&self, f: Fault) -> u64 {
        self.faults[f.index()]
    }

    /// The sum of two proxies' figures.
    pub fn plus(&self, o: &Figures) -> Figures {
        let mut faults = self.faults;
        for (a, b) in faults.iter_mut().zip(o.faults) {
            *a += b;
        }
        Figures {
            requests: self.requests + o.requests,
            retried_attempts: self.retried_attempts + o.retried_attempts,
            faults,
            lost_answers: self.lost_answers + o.lost_answers,
        }
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests, {} faults (",
            self.requests,
            self.total_faults()
        )?;
        for (i, kind) in Fault::ALL.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{} {}", kind.name(), self.faults[i])?;
        }
        write!(
            f,
            "; {} applied with the answer lost), {} retried attempts",
            self.lost_answers, self.retried_attempts
        )
    }
}

/// Stops a "process" at a chosen point; see the module documentation.
#[derive(Default)]
pub struct Switch {
    tripped: AtomicBool,
    notify: Notify,
}

impl Switch {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn is_tripped(&self) -> bool {
        self.tripped.load(Ordering::SeqCst)
    }

    pub fn trip(&self) {
        self.tripped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn reset(&self) {
        self.tripped.store(false, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Waits until the switch is tripped.
    pub async fn tripped(&self) {
        loop {
            let n = self.notify.notified();
            if self.is_tripped() {
                return;
            }
            n.await;
        }
    }

    async fn until_reset(&self) {
        loop {
            let n = self.notify.notified();
            if !self.is_tripped() {
                return;
            }
            n.await;
        }
    }
}

struct Shared {
    config: Config,
    rate_bits: AtomicU64,
    rng: Mutex<StdRng>,
    counters: Counters,
    client: Client<HttpConnector, Full<Bytes>>,
    trip_on: Mutex<Option<(String, Arc<Switch>)>>,
    dies_with: Mutex<Option<Arc<Switch>>>,
}

/// A running proxy; it stops when the handle is dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on `listen` (port 0 for any) and forwards to `config.upstream`.
    pub async fn start(listen: SocketAddr, config: Config) -> Result<FaultProxy, ProxyError> {
        if !config.upstream.starts_with("http://") {
            return Err(ProxyError::Upstream(config.upstream));
        }
        let listener = TcpListener::bind(listen).await.map_err(ProxyError::Bind)?;
        let addr = listener.local_addr().map_err(ProxyError::Bind)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let shared = Arc::new(Shared {
            rate_bits: AtomicU64::new(config.rate.to_bits()),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            counters: Counters::default(),
            client: Client::builder(TokioExecutor::new()).build(connector),
            trip_on: Mutex::new(None),
            dies_with: Mutex::new(None),
            config,
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let s = s.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(s.clone(), req));
                    // An error here is a fault closing the connection, or the client going.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(FaultProxy { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the fault rate (0 turns faults off).
    pub fn set_rate(&self, rate: f64) {
        self.shared
            .rate_bits
            .store(rate.to_bits(), Ordering::SeqCst);
    }

    /// Trips `switch` after the first request whose path contains `marker` was applied
    /// upstream (answered 2xx there); its own answer is then held like the others.
    pub fn trip_after(&self, marker: &str, switch: Arc<Switch>) {
        *lock(&self.shared.trip_on) = Some((marker.to_string(), switch));
    }

    /// While `switch` is tripped, every request is held (not forwarded, not answered).
    pub fn die_with(&self, switch: Arc<Switch>) {
        *lock(&self.shared.dies_with) = Some(switch);
    }

    pub fn figures(&self) -> Figures {
        let c = &self.shared.counters;
        let mut faults = [0; 5];
        for (slot, n) in faults.iter_mut().zip(&c.faults) {
            *slot = n.load(Ordering::Relaxed);
        }
        Figures {
            requests: c.requests.load(Ordering::Relaxed),
            retried_attempts: c.retried_attempts.load(Ordering::Relaxed),
            faults,
            lost_answers: c.lost_answers.load(Ordering::Relaxed),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a request got no answer: hyper closes the connection.
#[derive(Debug, thiserror::Error)]
enum Closed {
    #[error("fault: connection closed")]
    Fault,
    #[error("request body: {0}")]
    Body(hyper::Error),
}

/// Which AWS protocol a request speaks.
enum Protocol {
    /// DynamoDB's JSON protocol, with its `X-Amz-Target` operation.
    Dynamo(String),
    S3,
}

async fn handle(s: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Closed> {
    let c = &s.counters;
    c.requests.fetch_add(1, Ordering::Relaxed);
    let retried = req
        .headers()
        .get("amz-sdk-request")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|p| p.trim().strip_prefix("attempt=")))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n > 1);
    if retried {
        c.retried_attempts.fetch_add(1, Ordering::Relaxed);
    }
    let protocol = match req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        Some(t) => Protocol::Dynamo(t.rsplit('.').next().unwrap_or(t).to_string()),
        None => Protocol::S3,
    };
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(Closed::Body)?.to_bytes();

    let dead = lock(&s.dies_with).clone();
    if let Some(sw) = dead.filter(|sw| sw.is_tripped()) {
        sw.until_reset().await;
        return Err(Closed::Fault);
    }

    let transact = matches!(&protocol, Protocol::Dynamo(op) if op == "TransactWriteItems");
    let (fault, lost, throttle_code) = {
        let mut rng = lock(&s.rng);
        let rate = f64::from_bits(s.rate_bits.load(Ordering::SeqCst));
        if rng.random::<f64>() < rate {
            let n = if transact { 5 } else { 4 };
            let w = &s.config.weights[..n];
            let total: u32 = w.iter().sum::<u32>().max(1);
            let mut pick = rng.random_range(0..total);
            let mut f = Fault::ALL[0];
            for (kind, weight) in Fault::ALL.iter().zip(w) {
                if pick < *weight {
                    f = *kind;
                    break;
                }
                pick -= weight;
            }
            let lost = rng.random::<f64>() < s.config.lost_share;
            (Some(f), lost, rng.random::<bool>())
        } else {
            (None, false, false)
        }
    };
    if let Some(f) = fault {
        c.faults[f.index()].fetch_add(1, Ordering::Relaxed);
        match f {
            Fault::Timeout | Fault::Drop => {
                if lost {
                    c.lost_answers.fetch_add(1, Ordering::Relaxed);
                    let _ = forward(&s, parts, body).await;
                }
                if f == Fault::Timeout {
                    tokio::time::sleep(s.config.hang).await;
                }
                return Err(Closed::Fault);
            }
            _ => return Ok(fault_answer(f, &protocol, &body, throttle_code)),
        }
    }

    let path = parts.uri.path().to_string();
    let op = match &protocol {
        Protocol::Dynamo(op) => op.clone(),
        Protocol::S3 => format!("{} {path}", parts.method),
    };
    let trace = std::env::var_os("FAULTPROXY_TRACE").is_some();
    let t0 = std::time::Instant::now();
    if trace {
        eprintln!("faultproxy: -> {op}");
    }
    let answer = forward(&s, parts, body).await;
    if trace {
        eprintln!(
            "faultproxy: <- {op} {:?} in {:?}",
            answer.as_ref().map(|a| a.status()),
            t0.elapsed()
        );
    }
    let answer = match answer {
        Ok(a) => a,
        // The upstream is unreachable: as a real endpoint's load balancer would say.
        Err(_) => return Ok(plain(StatusCode::BAD_GATEWAY, "upstream unreachable")),
    };
    let trip = lock(&s.trip_on).clone();
    if let Some((marker, sw)) = trip {
        if answer.status().is_success() && path.contains(&marker) && !sw.is_tripped() {
            *lock(&s.trip_on) = None;
            sw.trip();
            sw.until_reset().await;
            return Err(Closed::Fault);
        }
    }
    Ok(answer)
}

async fn forward(
    s: &Shared,
    parts: http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let uri: hyper::Uri = format!("{}{}", s.config.upstream, path).parse()?;
    let mut req = Request::builder().method(parts.method).uri(uri);
    for (name, value) in &parts.headers {
        req = req.header(name, value);
    }
    let res = s.client.request(req.body(Full::new(body))?).await?;
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(bytes)))
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r
}

fn fault_answer(
    f: Fault,
    protocol: &Protocol,
    request: &[u8],
    alternate: bool,
) -> Response<Full<Bytes>> {
    let (status, body, content_type) = match protocol {
        Protocol::Dynamo(_) => {
            let (status, kind, extra) = match f {
                Fault::Throttle if alternate => (
                    400,
                    "ProvisionedThroughputExceededException",
                    serde_json::Value::Null,
                ),
                Fault::Throttle => (400, "ThrottlingException", serde_json::Value::Null),
                Fault::TransactionCanceled => {
                    // One reason per item, as DynamoDB gives them.
                    let items = serde_json::from_slice::<serde_json::Value>(request)
                        .ok()
                        .and_then(|v| v["TransactItems"].as_array().map(Vec::len))
                        .unwrap_or(1)
                        .max(1);
                    let reasons: Vec<serde_json::Value> = (0..items)
                        .map(|i| match i {
                            0 => serde_json::json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}),
                            _ => serde_json::json!({"Code": "None"}),
                        })
                        .collect();
                    (
                        400,
                        "TransactionCanceledException",
                        serde_json::Value::Array(reasons),
                    )
                }
                _ => (500, "InternalServerError", serde_json::Value::Null),
            };
            let mut body = serde_json::json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
                "message": format!("injected {kind}"),
            });
            if !extra.is_null() {
                body["CancellationReasons"] = extra;
                body["message"] = serde_json::json!(
                    "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"
                );
            }
            (status, body.to_string(), "application/x-amz-json-1.0")
        }
        Protocol::S3 => {
            let (status, code) = match f {
                Fault::Throttle => (503, "SlowDown"),
                _ => (500, "InternalError"),
            };
            (
                status,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected {code}</Message><RequestId>faultproxy</RequestId></Error>"
                ),
                "application/xml",
            )
        }
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}
