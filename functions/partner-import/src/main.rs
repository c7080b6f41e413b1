//! The `partner-import` Lambda function: the `PartnerImport` routes of `stamp-api` on DynamoDB and S3
//! (pushes, upload URLs, batch answers).

use stamp_api::{AppState, Function};
use stamp_domain::ports::SystemClock;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    // Large deliveries are PUT straight to the archive bucket through presigned URLs.
    let state = AppState::new(
        ports.store.clone(),
        ports.archive_port(),
        ports.pseudonym_key.clone(),
        Arc::new(SystemClock),
    )
    .with_uploads(ports.archive.clone());
    stamp_api::run_lambda(Function::PartnerImport, state).await
}
