//! The `extracts` Lambda function: the `Extracts` routes of `stamp-api` (ordering and
//! fetching extracts, the employees' `/v1/me/...`) on DynamoDB and S3. It only writes the
//! pending extract; the table's stream runs the extract-rendering function.

use stamp_api::{AppState, Function};
use stamp_domain::extracts::Dispatch;
use stamp_domain::ports::SystemClock;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let state = AppState::new(
        ports.store.clone(),
        ports.archive_port(),
        ports.pseudonym_key.clone(),
        Arc::new(SystemClock),
    )
    .with_extract_files(ports.extract_files(), Dispatch::Stream);
    stamp_api::run_lambda(Function::Extracts, state).await
}
