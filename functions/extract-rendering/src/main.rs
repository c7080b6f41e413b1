//! The `extract-rendering` Lambda function, triggered by the ledger table's DynamoDB
//! stream on each ordered extract (spec §8): renders it, stores the file under
//! `extracts/` and marks the extract ready. See `lib.rs` for the handler.

use aws_lambda_events::event::dynamodb::Event;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use stamp_domain::extracts::{Dispatch, Extracts};
use stamp_domain::ports::SystemClock;
use stamp_domain::table::Ledger;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let ledger = Ledger::new(ports.store.clone(), ports.pseudonym_key.clone());
    let extracts = Extracts::new(
        ledger,
        ports.extract_files(),
        Arc::new(SystemClock),
        Dispatch::Stream,
    );
    let extracts = &extracts;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(extract_rendering::handle(extracts, event.payload).await)
    }))
    .await
}
