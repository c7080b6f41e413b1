//! One start-up path for every Lambda function that runs on the application state:
//! structured tracing, the AWS ports from the environment (`TABLE_NAME`,
//! `ARCHIVE_BUCKET`, `PSEUDONYM_KEY`, see `stamp_adapters::deployment`), and the
//! `AppState` on them with the system clock. A function adds what only it needs
//! (extract files, uploads, messaging) and serves its routes or its events.

use stamp_adapters::deployment::AwsPorts;
use stamp_api::AppState;
use stamp_domain::ports::SystemClock;
use std::sync::Arc;

pub use lambda_http::Error;

/// Tracing, the ports and the state on them: what every function does first, once, at
/// cold start.
pub async fn start() -> Result<(AwsPorts, AppState), Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let state = AppState::new(
        ports.store.clone(),
        ports.archive_port(),
        ports.pseudonym_key.clone(),
        Arc::new(SystemClock),
    );
    Ok((ports, state))
}

/// Webhooks over HTTPS and e-mail through SES from `MAIL_FROM` (spec §11).
pub async fn with_messaging(state: AppState) -> AppState {
    state
        .with_webhooks(Arc::new(stamp_adapters::HttpWebhookSender::default()))
        .with_mailer(
            Arc::new(stamp_adapters::SesMailer::from_env().await),
            std::env::var("MAIL_FROM").ok(),
        )
}

/// Serves one function's routes of `stamp-api` behind API Gateway.
pub async fn serve(routes: axum::Router<AppState>, state: AppState) -> Result<(), Error> {
    stamp_api::run_lambda(routes, state).await
}
