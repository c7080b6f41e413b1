//! The `pull` Lambda function, run every 15 minutes by EventBridge: one round of pulling
//! every activated company's feeds from every partner with a `feed_url` (spec §5 Pull).
//!
//! Invoked with `{"company_orgnr": "..."}` it pulls that company only — the asynchronous
//! trigger for a backfill right after activation, instead of waiting for the next round:
//! `aws lambda invoke --invocation-type Event --function-name <PullFunction>
//!  --cli-binary-format raw-in-base64-out --payload '{"company_orgnr":"5569999997"}' /dev/null`.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;
use stamp_adapters::HttpFeedClient;
use stamp_domain::identity::Orgnr;
use stamp_domain::intake::pull::{PullSettings, Puller};
use stamp_domain::intake::ImportService;
use stamp_domain::ports::SystemClock;
use stamp_domain::table::Ledger;
use std::sync::Arc;
use std::time::Duration;

/// Time kept back from the invocation's deadline for the page in flight.
const MARGIN: chrono::Duration = chrono::Duration::seconds(90);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let ledger = Ledger::new(ports.store.clone(), ports.pseudonym_key.clone());
    let import = ImportService::new(ledger, ports.archive_port(), Arc::new(SystemClock));
    let puller = Puller::new(
        import,
        Arc::new(HttpFeedClient::new(Duration::from_secs(20))),
        Arc::new(SystemClock),
    );
    let puller = &puller;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = chrono::DateTime::from_timestamp_millis(event.context.deadline as i64)
            .map(|d| d - MARGIN);
        let puller = puller.clone().with_settings(PullSettings {
            deadline,
            ..Default::default()
        });
        let summary = match event.payload.get("company_orgnr").and_then(Value::as_str) {
            Some(o) => {
                puller
                    .pull_company(&Orgnr::parse(o).map_err(|e| format!("company_orgnr: {e}"))?)
                    .await?
            }
            None => puller.run_once().await?,
        };
        Ok::<Value, lambda_runtime::Error>(serde_json::to_value(summary)?)
    }))
    .await
}
