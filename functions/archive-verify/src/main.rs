//! The `archive-verify` Lambda function (spec §12), run weekly by EventBridge Scheduler:
//! checks every receipt's delivery (exists, SHA-256, object lock read with HeadObject)
//! and every indexed event's delivery, and writes the report to the archive. With
//! `{"company_orgnr": "..."}` it verifies one company.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;
use stamp_domain::identity::Orgnr;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (ports, state) = stamp_lambda::start().await?;
    let state = state.with_locks(ports.archive.clone());
    let state = &state;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| async move {
        let company = e
            .payload
            .get("company_orgnr")
            .and_then(Value::as_str)
            .map(Orgnr::parse)
            .transpose()?;
        let report = stamp_api::jobs::verify_archive(state, company.as_ref()).await?;
        // The summary in the answer; the whole report is in the archive.
        Ok::<Value, lambda_runtime::Error>(serde_json::json!({
            "ok": report.ok,
            "receipts": report.receipts,
            "events": report.events,
            "mismatches": report.mismatches.len(),
            "report_key": report.report_key,
        }))
    }))
    .await
}
