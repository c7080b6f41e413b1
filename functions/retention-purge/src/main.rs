//! The `retention-purge` Lambda function, run daily by EventBridge: erases ledger events
//! and archived deliveries whose retention has ended, unless a legal hold covers them.

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
        let s = state.purge.run_once().await?;
        Ok::<Value, lambda_runtime::Error>(json!({
            "events_purged": s.events_purged, "events_held": s.events_held,
            "objects_deleted": s.objects_deleted, "objects_held": s.objects_held, "objects_locked": s.objects_locked,
        }))
    }))
    .await
}
