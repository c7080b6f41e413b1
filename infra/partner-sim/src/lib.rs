//! A partner's ledger system, simulated: it serves the pull feed of spec §5,
//! `GET /companies/{orgnr}/events?after={cursor}&limit={n}` answering
//! `{"events": [...], "next_cursor": "...", "has_more": bool}`, from generated data that
//! is the same for the same [`SimConfig`] (seeded): people with valid personnummer,
//! sites, weekdays of check-ins and check-outs, and the mistakes a real ledger has
//! (forgotten check-outs, double check-ins, corrections entered the next day).
//!
//! [`Switches`] make it misbehave: slow pages, HTTP 500 from a page on or for the first
//! attempts at each page, malformed pages, or down altogether. Tests run it in-process
//! on `127.0.0.1:0`; `stamp-local serve --demo` runs one as its pulling demo partner.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use stamp_testdata::generate;
pub use stamp_testdata::SimConfig;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How the simulated partner misbehaves; change them while it runs.
#[derive(Debug, Clone, Default)]
pub struct Switches {
    /// Every page takes this long.
    pub delay: std::time::Duration,
    /// Pages from this number on (`after / limit`, from 0) answer HTTP 500.
    pub fail_from_page: Option<usize>,
    /// The first this-many requests for each page answer HTTP 500.
    pub fail_first_attempts: u32,
    /// These pages answer 200 with a body that is not a feed page.
    pub malformed_pages: BTreeSet<usize>,
    /// Every request answers 503.
    pub down: bool,
}

/// The body a malformed page answers (truncated JSON), to compare with what was archived.
pub fn malformed_body(page: usize) -> String {
    format!("{{\"events\": [{{\"event_id\": \"broken-page-{page}\", \"direction\": ")
}

/// Cursors are opaque to Stamp; here they encode the position in the feed.
pub fn cursor(position: usize) -> String {
    format!("c{:x}", (position as u64) ^ 0x5eed_0000_5eed)
}

fn position(cursor: &str) -> Option<usize> {
    let n = u64::from_str_radix(cursor.strip_prefix('c')?, 16).ok()?;
    usize::try_from(n ^ 0x5eed_0000_5eed).ok()
}

/// The simulated partner's state.
pub struct PartnerSim {
    feeds: Mutex<HashMap<String, Vec<Value>>>,
    switches: Mutex<Switches>,
    attempts: Mutex<HashMap<(String, usize), u32>>,
    requests: AtomicUsize,
}

impl PartnerSim {
    pub fn new(cfg: &SimConfig) -> Self {
        let feeds = cfg
            .companies
            .iter()
            .map(|(o, name)| (o.clone(), generate(cfg, o, name)))
            .collect();
        PartnerSim {
            feeds: Mutex::new(feeds),
            switches: Mutex::new(Switches::default()),
            attempts: Mutex::new(HashMap::new()),
            requests: AtomicUsize::new(0),
        }
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/companies/{orgnr}/events", get(events))
            .with_state(self)
    }
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

fn answer(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

async fn events(
    State(sim): State<Arc<PartnerSim>>,
    Path(orgnr): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    sim.requests.fetch_add(1, Ordering::SeqCst);
    let switches = sim.switches.lock().map(|s| s.clone()).unwrap_or_default();
    if switches.down {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"error": "down for maintenance"}"#.into(),
        );
    }
    if !switches.delay.is_zero() {
        tokio::time::sleep(switches.delay).await;
    }
    let start = match q.after.as_deref().filter(|a| !a.is_empty()) {
        None => 0,
        Some(c) => match position(c) {
            Some(p) => p,
            None => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    r#"{"error": "unknown cursor"}"#.into(),
                )
            }
        },
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let page = start / limit;
    if switches.fail_from_page.is_some_and(|k| page >= k) {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error": "boom"}"#.into(),
        );
    }
    if switches.fail_first_attempts > 0 {
        let mut attempts = sim.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let n = attempts.entry((orgnr.clone(), start)).or_default();
        *n += 1;
        if *n <= switches.fail_first_attempts {
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error": "try again"}"#.into(),
            );
        }
    }
    if switches.malformed_pages.contains(&page) {
        return answer(StatusCode::OK, malformed_body(page));
    }
    let feeds = sim.feeds.lock().unwrap_or_else(|e| e.into_inner());
    let Some(feed) = feeds.get(&orgnr) else {
        return answer(
            StatusCode::NOT_FOUND,
            r#"{"error": "no such company"}"#.into(),
        );
    };
    let start = start.min(feed.len());
    let end = (start + limit).min(feed.len());
    let body = json!({
        "events": &feed[start..end],
        "next_cursor": cursor(end),
        "has_more": end < feed.len(),
    });
    answer(StatusCode::OK, body.to_string())
}

/// A running simulated partner; stops when dropped.
pub struct SimHandle {
    /// The feed URL to accredit the partner with.
    pub url: String,
    sim: Arc<PartnerSim>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl SimHandle {
    /// Serves on `127.0.0.1:0` (a free port) on the current tokio runtime.
    pub async fn start(cfg: &SimConfig) -> std::io::Result<SimHandle> {
        Self::start_on(cfg, "127.0.0.1:0".parse().map_err(std::io::Error::other)?).await
    }

    pub async fn start_on(
        cfg: &SimConfig,
        addr: std::net::SocketAddr,
    ) -> std::io::Result<SimHandle> {
        let sim = Arc::new(PartnerSim::new(cfg));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = sim.clone().router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(SimHandle {
            url,
            sim,
            _shutdown: tx,
        })
    }

    pub fn set(&self, f: impl FnOnce(&mut Switches)) {
        let mut s = self.sim.switches.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s);
        if s.fail_first_attempts == 0 {
            self.sim
                .attempts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    /// The company's whole feed, in feed order.
    pub fn events(&self, orgnr: &str) -> Vec<Value> {
        self.sim
            .feeds
            .lock()
            .map(|f| f.get(orgnr).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// New events recorded after what the feed held.
    pub fn append(&self, orgnr: &str, events: Vec<Value>) {
        if let Ok(mut f) = self.sim.feeds.lock() {
            f.entry(orgnr.to_string()).or_default().extend(events);
        }
    }

    pub fn requests(&self) -> usize {
        self.sim.requests.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for p in [0, 1, 499, 100_000] {
            assert_eq!(position(&cursor(p)), Some(p));
        }
        assert_eq!(position("zzz"), None);
    }
}
