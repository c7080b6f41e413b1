//! The `retention-purge` Lambda function, run daily by EventBridge: erases ledger events
//! and archived deliveries whose retention has ended, unless a legal hold covers them.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;
use stamp_domain::governance::purge::PurgeSummary;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (_, state) = stamp_lambda::start().await?;
    let state = &state;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let s = state.purge.run_once().await?;
        Ok::<PurgeSummary, lambda_runtime::Error>(s)
    }))
    .await
}
