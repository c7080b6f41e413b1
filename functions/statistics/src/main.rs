//! The `statistics` Lambda function, run by an EventBridge schedule: recomputes the daily
//! aggregates of every company's days that imports touched since the last round (spec §7).

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;
use stamp_domain::ports::SystemClock;
use stamp_domain::reads::statistics::{RefreshSummary, Statistics};
use stamp_domain::table::Ledger;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let statistics = Statistics::new(
        Ledger::new(ports.store.clone(), ports.pseudonym_key.clone()),
        Arc::new(SystemClock),
    );
    let statistics = &statistics;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let s = statistics.run_once().await?;
        Ok::<RefreshSummary, lambda_runtime::Error>(s)
    }))
    .await
}
