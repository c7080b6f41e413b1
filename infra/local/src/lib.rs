//! `stamp-local`: the Lambda functions' routers, all of them, on one machine — an
//! embedded redb store and an archive folder in a data directory, and a local stand-in
//! for API Gateway's JWT authorizer that fills the same request context.

pub mod demo;
pub mod keys;
pub mod token;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use stamp_adapters::{EmbeddedItemStore, FolderArchive};
use stamp_api::{AppState, Function};
use stamp_domain::ports::{Clock, SystemClock};
use stamp_domain::privacy::PseudonymKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
        let store = EmbeddedItemStore::open_in_dir(data_dir).map_err(|e| LocalError::Store(e.to_string()))?;
        let archive = FolderArchive::new(data_dir.join("archive"));
        let state = AppState::new(Arc::new(store), Arc::new(archive), PseudonymKey::new(pseudonym_key), clock);
        Ok(Local { state, signing_key: Arc::new(signing_key), data_dir: data_dir.to_path_buf() })
    }

    /// All functions' routes behind the local authorizer.
    pub fn router(&self) -> Router {
        http_app(self.state.clone(), self.signing_key.clone())
    }
}

/// Every function's routes on any ports, behind the local authorizer. Tests serve the
/// same app on DynamoDB Local and S3 stand-ins.
pub fn http_app(state: AppState, signing_key: Arc<Vec<u8>>) -> Router {
    stamp_api::router(&Function::ALL, state).layer(axum::middleware::from_fn_with_state(signing_key, authorize))
}

/// The local stand-in for API Gateway's JWT authorizer: a valid bearer token becomes the
/// request context the Lambda functions read; anything else leaves it empty (401 where
/// a route needs a caller).
async fn authorize(State(key): State<Arc<Vec<u8>>>, mut req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let claims = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .and_then(|t| token::verify(&key, t.trim()).ok());
    let claims = claims.unwrap_or_default();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    if let Some(ctx) = stamp_api::claims::request_context(&claims, &request_id, &method, &path) {
        req.extensions_mut().insert(ctx);
    }
    next.run(req).await
}

pub async fn serve(local: Local, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "stamp-local listening");
    println!("stamp-local listening on http://{}", listener.local_addr()?);
    axum::serve(listener, local.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
