//! The `inspection` Lambda function: the `Inspection` routes of `stamp-api` on DynamoDB
//! and S3 — company_admins' inspection links (behind the JWT authorizer) and the
//! inspector's `/inspect/v1/...` (no authorizer: the function checks the link's secret
//! itself). Its authority extracts render like any other (the table's stream).

use stamp_api::{AppState, Function};
use stamp_domain::extracts::Dispatch;
use stamp_domain::ports::SystemClock;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let public_url = std::env::var("STAMP_PUBLIC_URL").unwrap_or_default();
    let state = AppState::new(
        ports.store.clone(),
        ports.archive_port(),
        ports.pseudonym_key.clone(),
        Arc::new(SystemClock),
    )
    .with_extract_files(ports.extract_files(), Dispatch::Stream)
    .with_public_url(public_url);
    stamp_api::run_lambda(Function::Inspection, state).await
}
