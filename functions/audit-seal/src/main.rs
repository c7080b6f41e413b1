//! The `audit-seal` Lambda function, run every 5 minutes by EventBridge: seals each audit
//! chain's entries older than the settle margin into a digest in the archive bucket
//! (`audit/digests/{chain}/…`, under object lock).

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;
use stamp_api::AppState;
use stamp_domain::ports::SystemClock;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let state = AppState::new(
        ports.store.clone(),
        ports.archive_port(),
        ports.pseudonym_key.clone(),
        Arc::new(SystemClock),
    );
    let state = &state;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let summary = stamp_api::jobs::seal_audit(state).await?;
        Ok::<Value, lambda_runtime::Error>(serde_json::to_value(summary)?)
    }))
    .await
}
