//! The `audit-seal` Lambda function, run every 5 minutes by EventBridge: seals each audit
//! chain's entries older than the settle margin into a digest in the archive bucket
//! (`audit/digests/{chain}/…`, under object lock).

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (_, state) = stamp_lambda::start().await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let summary = stamp_api::jobs::seal_audit(state).await?;
        Ok::<Value, lambda_runtime::Error>(serde_json::to_value(summary)?)
    }))
    .await
}
