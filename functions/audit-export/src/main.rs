//! The `audit-export` Lambda function, run daily by EventBridge: writes yesterday's audit
//! entries of every chain to the archive bucket (`audit/{chain}/{day}.jsonl`).

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};
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
        let files = stamp_api::jobs::export_audit_yesterday(state).await?;
        Ok::<Value, lambda_runtime::Error>(json!({ "files": files }))
    }))
    .await
}
