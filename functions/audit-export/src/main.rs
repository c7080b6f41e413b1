//! The `audit-export` Lambda function, run daily by EventBridge: writes yesterday's audit
//! entries of every chain to the archive bucket (`audit/{chain}/{day}.jsonl`).

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (_, state) = stamp_lambda::start().await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let files = stamp_api::jobs::export_audit_yesterday(state).await?;
        Ok::<Value, lambda_runtime::Error>(json!({ "files": files }))
    }))
    .await
}
