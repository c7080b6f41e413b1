//! `stamp-local`: the Lambda functions' routers, all of them, on one machine — an
//! embedded redb store and an archive folder in a data directory, and a local stand-in
//! for API Gateway's JWT authorizer that fills the same request context.

pub mod demo;
pub mod edge;
pub mod keys;
pub mod token;
pub mod uploads;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use stamp_adapters::{EmbeddedItemStore, FolderArchive, FolderExtractFiles, HttpFeedClient};
use stamp_api::{AppState, Function};
use stamp_domain::extracts::Dispatch;
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::identity::Orgnr;
use stamp_domain::intake::pull::Puller;
use stamp_domain::ports::{Clock, FeedClient, SystemClock, UploadUrls};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uploads::LocalUploads;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("embedded store: {0}")]
    Store(String),
    #[error("{0}")]
    Demo(String),
}

/// Everything a local server runs on, opened from one data directory.
pub struct Local {
    pub state: AppState,
    pub signing_key: Arc<Vec<u8>>,
    pub data_dir: PathBuf,
    pub archive: FolderArchive,
    /// Rendered extracts, under `<data>/archive/extracts/` (as under the bucket's prefix).
    pub extract_files: FolderExtractFiles,
}

impl Local {
    pub fn open(data_dir: &Path) -> Result<Local, LocalError> {
        Self::open_with_clock(data_dir, Arc::new(SystemClock))
    }

    pub fn open_with_clock(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Local, LocalError> {
        let io = |e| LocalError::DataDir(data_dir.to_path_buf(), e);
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let signing_key = keys::load_or_create(data_dir, keys::SIGNING_KEY).map_err(io)?;
        let pseudonym_key = keys::load_or_create(data_dir, keys::PSEUDONYM_KEY).map_err(io)?;
        let store = EmbeddedItemStore::open_in_dir(data_dir)
            .map_err(|e| LocalError::Store(e.to_string()))?;
        let archive = FolderArchive::new(data_dir.join("archive"));
        let signing_key = Arc::new(signing_key);
        // Extracts render in this process (in AWS the table's stream triggers a function);
        // their links are signed with the local signing key.
        let extract_files = FolderExtractFiles::new(data_dir.join("archive"), signing_key.clone());
        let state = AppState::new(
            Arc::new(store),
            Arc::new(archive.clone()),
            PseudonymKey::new(pseudonym_key),
            clock,
        )
        .with_extract_files(Arc::new(extract_files.clone()), Dispatch::InProcess)
        .with_locks(Arc::new(archive.clone()))
        .with_mailer(
            Arc::new(stamp_adapters::OutboxMailer::new(data_dir.join("outbox"))),
            None,
        );
        let state = with_local_services(state, None);
        Ok(Local {
            state,
            signing_key,
            data_dir: data_dir.to_path_buf(),
            archive,
            extract_files,
        })
    }

    /// All functions' routes behind the local authorizer.
    pub fn router(&self) -> Router {
        http_app(self.state.clone(), self.signing_key.clone())
    }

    /// Uploads through this server, reached at `base_url`.
    pub fn uploads(&self, base_url: &str) -> Arc<LocalUploads> {
        Arc::new(LocalUploads::new(
            base_url,
            self.signing_key.clone(),
            self.archive.clone(),
        ))
    }
}

/// What the local server adds to the Lambda functions' state: partners' feeds read over
/// HTTP, a backfill pull started the moment a company is activated (in AWS the next
/// scheduled round does it), and the given upload URLs.
pub fn with_local_services(state: AppState, uploads: Option<Arc<dyn UploadUrls>>) -> AppState {
    let client: Arc<dyn FeedClient> = Arc::new(HttpFeedClient::default());
    let (import, clock, feed) = (state.import.clone(), state.clock.clone(), client.clone());
    let hook = Arc::new(move |orgnr: &Orgnr| {
        let puller = Puller::new(import.clone(), feed.clone(), clock.clone());
        let orgnr = orgnr.clone();
        tokio::spawn(async move {
            match puller.pull_company(&orgnr).await {
                Ok(s) if s.pairs > 0 => tracing::info!(
                    pairs = s.pairs,
                    events = s.events_accepted,
                    "backfill after activation done"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "backfill after activation failed; the scheduled pull retries")
                }
            }
        });
    });
    let state = state
        .with_feeds(client)
        .with_activation_hook(hook)
        .with_webhooks(Arc::new(stamp_adapters::HttpWebhookSender::default()))
        .with_webhook_policy(stamp_domain::notify::WebhookPolicy {
            allow_loopback: true,
        });
    match uploads {
        Some(u) => state.with_uploads(u),
        None => state,
    }
}

/// Every function's routes on any ports, behind the local authorizer. Tests serve the
/// same app on DynamoDB Local and S3 stand-ins.
pub fn http_app(state: AppState, signing_key: Arc<Vec<u8>>) -> Router {
    local_app(state, signing_key, None)
}

/// [`http_app`] that also receives uploads (`PUT /local/uploads/{token}`).
pub fn local_app(
    state: AppState,
    signing_key: Arc<Vec<u8>>,
    uploads: Option<Arc<LocalUploads>>,
) -> Router {
    local_app_with(state, signing_key, uploads, false)
}

/// The portal as stamp-local serves it: local one-click sign-in, sessions MACed with
/// the local signing key, `Secure` cookies unless served on plain-http localhost.
pub fn portal_config(signing_key: &[u8], secure_cookies: bool) -> stamp_portal::PortalConfig {
    stamp_portal::PortalConfig {
        session_key: signing_key.to_vec(),
        secure_cookies,
        sign_in: stamp_portal::SignIn::Local(demo::portal_identities()),
        session_ttl: chrono::Duration::hours(8),
    }
}

/// [`local_app`] with the portal's cookie policy given. The portal is merged beside
/// the API *outside* the local JWT stand-in: it signs its users in itself.
pub fn local_app_with(
    state: AppState,
    signing_key: Arc<Vec<u8>>,
    uploads: Option<Arc<LocalUploads>>,
    secure_cookies: bool,
) -> Router {
    // Many requests share this process: requests without a token get a budget, as the
    // gateway's route throttles give them in AWS (unless the caller chose one).
    let state = match state.anonymous_budget {
        Some(_) => state,
        None => state.with_anonymous_budget(stamp_api::budget::AnonymousBudget::local()),
    };
    let portal = stamp_portal::routes(state.clone(), portal_config(&signing_key, secure_cookies));
    let mut jobs = Router::new()
        .route("/local/jobs/{job}", axum::routing::post(run_job))
        .route(
            "/local/audit/verify",
            axum::routing::get(audit_verify_route),
        )
        .route("/local/downloads/{token}", axum::routing::get(download))
        .with_state(state.clone());
    if let Some(u) = uploads {
        jobs = jobs.merge(uploads::router(state.clone(), u));
    }
    stamp_api::router(&Function::ALL, state)
        .merge(jobs)
        .layer(axum::middleware::from_fn(
            stamp_api::problem::refusals_as_problems,
        ))
        .layer(axum::middleware::from_fn_with_state(signing_key, authorize))
        .merge(portal)
}

/// The scheduled jobs the local server runs itself (in AWS, EventBridge runs them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Statistics,
    /// Pull every activated company's feeds (spec §5 Pull); in AWS the `pull` function.
    Pull,
    Purge,
    AuditExport,
    /// Seal the audit log's new entries into digests (in AWS the `audit-seal` function).
    AuditSeal,
    /// The daily digest and partner-silence notices, at 06:00 Europe/Stockholm.
    Digest,
    /// Webhook messages due for an attempt (every 30 s locally; every minute in AWS).
    WebhookRetry,
}

impl Job {
    pub const ALL: [Job; 7] = [
        Job::Statistics,
        Job::Pull,
        Job::Purge,
        Job::AuditExport,
        Job::AuditSeal,
        Job::Digest,
        Job::WebhookRetry,
    ];

    pub fn parse(name: &str) -> Option<Job> {
        match name {
            "statistics" => Some(Job::Statistics),
            "pull" => Some(Job::Pull),
            "purge" => Some(Job::Purge),
            "audit-export" => Some(Job::AuditExport),
            "audit-seal" => Some(Job::AuditSeal),
            "digest" => Some(Job::Digest),
            "webhook-retry" => Some(Job::WebhookRetry),
            _ => None,
        }
    }

    /// How often the local server runs it.
    pub fn interval(self) -> std::time::Duration {
        match self {
            Job::Statistics => std::time::Duration::from_secs(60),
            Job::Pull => std::time::Duration::from_secs(15 * 60),
            Job::AuditSeal => std::time::Duration::from_secs(5 * 60),
            Job::Purge | Job::AuditExport | Job::Digest => {
                std::time::Duration::from_secs(24 * 3600)
            }
            Job::WebhookRetry => std::time::Duration::from_secs(30),
        }
    }

    pub async fn run(
        self,
        state: &AppState,
    ) -> Result<serde_json::Value, stamp_domain::DomainError> {
        match self {
            Job::Statistics => Ok(tagged("statistics", state.statistics.run_once().await?)),
            Job::Pull => {
                let puller = state.puller().ok_or_else(|| {
                    stamp_domain::DomainError::Unavailable("no feed client configured".into())
                })?;
                Ok(tagged("pull", puller.run_once().await?))
            }
            Job::Purge => Ok(tagged("purge", state.purge.run_once().await?)),
            Job::AuditExport => {
                let n = stamp_api::jobs::export_audit_yesterday(state).await?;
                Ok(serde_json::json!({ "job": "audit-export", "files": n }))
            }
            Job::AuditSeal => Ok(tagged(
                "audit-seal",
                stamp_api::jobs::seal_audit(state).await?,
            )),
            Job::Digest => Ok(tagged(
                "digest",
                stamp_api::jobs::daily_digest(state).await?,
            )),
            Job::WebhookRetry => Ok(tagged(
                "webhook-retry",
                stamp_api::jobs::webhook_retry(state).await?,
            )),
        }
    }
}

/// A job's summary as `POST /local/jobs/{job}` answers it: its fields and `job`.
fn tagged<T: serde::Serialize>(job: &str, summary: T) -> serde_json::Value {
    let mut v = serde_json::to_value(summary).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("job".into(), serde_json::Value::from(job));
    }
    v
}

/// `POST /local/jobs/{job}` (operator, local server only): one round of a job at once.
async fn run_job(
    State(state): State<AppState>,
    stamp_api::claims::Caller(claims): stamp_api::claims::Caller,
    axum::extract::Path(job): axum::extract::Path<String>,
) -> Result<axum::Json<serde_json::Value>, stamp_api::problem::ApiError> {
    stamp_domain::auth::require_operator(&claims)?;
    let job = Job::parse(&job).ok_or_else(|| {
        stamp_domain::DomainError::NotFound(format!(
            "no job {job:?}; jobs: statistics, pull, purge, audit-export, audit-seal, digest, webhook-retry"
        ))
    })?;
    Ok(axum::Json(job.run(&state).await?))
}

/// `GET /local/downloads/{token}`: the local stand-in for a presigned S3 URL. The token is
/// the authorization (signed key and expiry), as the signature of a presigned URL is.
async fn download(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use stamp_api::problem::problem;
    use stamp_domain::ports::LinkError;
    match state.extracts.open_link(&token).await {
        Ok(f) => (
            [
                (header::CONTENT_TYPE, f.content_type),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", f.file_name),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            f.bytes,
        )
            .into_response(),
        Err(LinkError::Expired) => problem(
            StatusCode::GONE,
            "link_expired",
            "Link expired",
            "the download link has expired; fetch the extract again for a new one",
            None,
        ),
        Err(LinkError::Invalid) => problem(
            StatusCode::FORBIDDEN,
            "invalid_link",
            "Invalid link",
            "the download link is not valid",
            None,
        ),
        Err(LinkError::Storage(e)) => stamp_api::problem::ApiError(e.into()).into_response(),
    }
}

/// Removes extract files older than 7 days, hourly (in AWS the bucket's lifecycle rule).
pub fn spawn_extract_expiry(files: FolderExtractFiles) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let cutoff =
                std::time::SystemTime::now() - std::time::Duration::from_secs(7 * 24 * 3600);
            match files.expire(cutoff).await {
                Ok(n) if n > 0 => tracing::info!(files = n, "expired extract files"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "expiring extract files failed"),
            }
        }
    });
}

/// Imports every upload still staged in the folder: one whose import a crash or a stop
/// interrupted (status `importing` or `pending` with its body received). Imported and
/// refused uploads answer as they did, so this is safe at every start. Answers how many
/// were looked at.
pub async fn resume_uploads(state: &AppState) -> usize {
    let keys = match state
        .archive
        .list(stamp_domain::ports::UPLOADS_PREFIX)
        .await
    {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "staged uploads could not be listed; none resumed");
            return 0;
        }
    };
    let mut n = 0;
    for key in keys {
        let Some((partner_id, upload_id)) = stamp_domain::intake::parse_upload_key(&key) else {
            continue;
        };
        n += 1;
        if let Err(e) = state.import.import_upload(&partner_id, &upload_id).await {
            tracing::warn!(partner_id = %partner_id, upload_id, error = %e, "resuming an upload failed; the next start retries");
        }
    }
    n
}

/// Runs each job on its interval until the process ends.
pub fn spawn_jobs(state: AppState) {
    for job in Job::ALL {
        let state = state.clone();
        tokio::spawn(async move {
            if job == Job::Digest {
                // At 06:00 Europe/Stockholm, as EventBridge Scheduler runs it in AWS.
                loop {
                    tokio::time::sleep(until_next_six(chrono::Utc::now())).await;
                    if let Err(e) = job.run(&state).await {
                        tracing::warn!(?job, error = %e, "scheduled job failed");
                    }
                }
            }
            let mut tick = tokio::time::interval(job.interval());
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = job.run(&state).await {
                    tracing::warn!(?job, error = %e, "scheduled job failed");
                }
            }
        });
    }
}

/// How long from `now` until the next 06:00 in Europe/Stockholm.
pub fn until_next_six(now: chrono::DateTime<chrono::Utc>) -> std::time::Duration {
    use chrono::TimeZone;
    let tz = chrono_tz::Europe::Stockholm;
    let local = now.with_timezone(&tz);
    let mut day = local.date_naive();
    loop {
        if let Some(six) = day
            .and_hms_opt(6, 0, 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
        {
            if six > local {
                return (six.with_timezone(&chrono::Utc) - now)
                    .to_std()
                    .unwrap_or_default();
            }
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// The local stand-in for API Gateway's JWT authorizer: a valid bearer token becomes the
/// request context the Lambda functions read; anything else leaves it empty (401 where
/// a route needs a caller). `/inspect/v1/…` has no JWT authorizer in AWS either: its
/// bearer (an inspection secret, not a JWT) goes to the function untouched, which
/// checks it.
async fn authorize(State(key): State<Arc<Vec<u8>>>, mut req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let unauthorized_route = req.uri().path().starts_with("/inspect/");
    let claims = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .filter(|_| !unauthorized_route)
        .and_then(|t| token::verify(&key, t.trim()).ok());
    let claims = claims.unwrap_or_default();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    if let Some(ctx) = stamp_api::claims::request_context(&claims, &request_id, &method, &path) {
        req.extensions_mut().insert(ctx);
    }
    next.run(req).await
}

/// `GET /local/audit/verify` (operator, local server only): every audit chain checked
/// against its digests. `stamp-local audit-verify` calls it while the server runs (the
/// server holds redb's exclusive lock on the data directory).
async fn audit_verify_route(
    State(state): State<AppState>,
    stamp_api::claims::Caller(claims): stamp_api::claims::Caller,
) -> Result<
    axum::Json<Vec<stamp_domain::governance::audit::ChainReport>>,
    stamp_api::problem::ApiError,
> {
    stamp_domain::auth::require_operator(&claims)?;
    Ok(axum::Json(stamp_api::jobs::verify_audit(&state).await?))
}

/// The verification reports of every chain, as `audit-verify` prints them.
#[derive(Debug, serde::Deserialize)]
pub struct VerifyReport {
    pub chain: String,
    pub digests: u64,
    pub sealed: u64,
    pub unsealed: u64,
    pub problems: Vec<serde_json::Value>,
}

/// Verifies every audit chain of a data directory: through the server at `addr` if one
/// is running there, otherwise by opening the directory itself.
pub async fn verify_audit(data_dir: &Path, addr: &str) -> Result<Vec<VerifyReport>, LocalError> {
    let key = keys::load_or_create(data_dir, keys::SIGNING_KEY)
        .map_err(|e| LocalError::DataDir(data_dir.to_path_buf(), e))?;
    let operator = stamp_domain::auth::Claims {
        sub: "local-audit-verify".into(),
        roles: vec!["operator".into()],
        ..Default::default()
    };
    let token = token::mint(&key, &operator, chrono::Duration::minutes(10))
        .map_err(|e| LocalError::Demo(format!("token: {e}")))?;
    let url = format!("http://{addr}/local/audit/verify");
    match reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r
            .json()
            .await
            .map_err(|e| LocalError::Demo(format!("{url}: {e}"))),
        Ok(r) => Err(LocalError::Demo(format!("{url} answered {}", r.status()))),
        Err(e) if e.is_connect() => {
            let local = Local::open(data_dir)?;
            let reports = stamp_api::jobs::verify_audit(&local.state)
                .await
                .map_err(|e| LocalError::Store(e.to_string()))?;
            serde_json::from_value(serde_json::to_value(reports).unwrap_or_default())
                .map_err(|e| LocalError::Store(e.to_string()))
        }
        Err(e) => Err(LocalError::Demo(format!("{url}: {e}"))),
    }
}

pub async fn serve(local: Local, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let uploads = local.uploads(&base);
    let state = local
        .state
        .clone()
        .with_uploads(uploads.clone())
        .with_public_url(base.clone());
    spawn_jobs(state.clone());
    let resuming = state.clone();
    tokio::spawn(async move {
        let n = resume_uploads(&resuming).await;
        if n > 0 {
            tracing::info!(uploads = n, "staged uploads resumed after a restart");
        }
    });
    spawn_extract_expiry(local.extract_files.clone());
    tracing::info!(addr = %listener.local_addr()?, "stamp-local listening");
    println!("stamp-local listening on {base} (the portal: {base}/)");
    // Plain http: `Secure` cookies would never come back, except that browsers treat
    // localhost as secure only for some; so Secure is left off on loopback alone.
    let secure = !addr.ip().is_loopback();
    axum::serve(
        edge::EdgeListener(listener),
        local_app_with(state, local.signing_key.clone(), Some(uploads), secure),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
