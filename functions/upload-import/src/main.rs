//! The `upload-import` Lambda function: S3 reports (through EventBridge, "Object Created"
//! under `uploads/`) that a partner's large delivery has arrived; it is imported like a
//! push — streamed, so a 100 MB upload fits a 512 MB function — and archived under
//! object lock by a server-side copy. Its answer is then at `GET /partner/v1/batches/{id}`.
//!
//! Only a passing failure (storage unavailable) fails the invocation, so EventBridge's
//! retries can finish it; a refused upload is recorded as failed and the event is done.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};
use stamp_domain::intake::{parse_upload_key, ImportService};
use stamp_domain::ports::SystemClock;
use stamp_domain::table::Ledger;
use stamp_domain::DomainError;
use std::sync::Arc;

/// The object keys an event names: EventBridge's `detail.object.key`, or the records of
/// a plain S3 notification (URL-encoded there).
fn object_keys(event: &Value) -> Vec<String> {
    if let Some(k) = event["detail"]["object"]["key"].as_str() {
        return vec![k.to_string()];
    }
    event["Records"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .filter_map(|r| r["s3"]["object"]["key"].as_str())
                // S3 notifications carry the key form-encoded, as a query string is.
                .map(stamp_domain::query_string::decode)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let ledger = Ledger::new(ports.store.clone(), ports.pseudonym_key.clone());
    let import = ImportService::new(ledger, ports.archive_port(), Arc::new(SystemClock));
    let import = &import;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let mut done = Vec::new();
        for key in object_keys(&event.payload) {
            let Some((partner_id, upload_id)) = parse_upload_key(&key) else {
                tracing::warn!(
                    "an object outside uploads/{{partner_id}}/{{upload_id}} was reported; ignored"
                );
                continue;
            };
            let outcome = match import.import_upload(&partner_id, &upload_id).await {
                Ok(o) => o,
                // An object no upload was issued for: nothing to import, nothing to retry.
                Err(DomainError::NotFound(_)) => {
                    tracing::warn!(
                        partner_id = %partner_id,
                        upload_id,
                        "an object under uploads/ names no issued upload; ignored"
                    );
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            tracing::info!(partner_id = %partner_id, upload_id, status = ?outcome.status, "upload handled");
            done.push(json!({ "upload_id": upload_id, "status": outcome.status }));
        }
        Ok::<Value, lambda_runtime::Error>(json!({ "uploads": done }))
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_eventbridge_and_s3_notifications() {
        let eb = json!({ "detail-type": "Object Created", "detail": { "bucket": { "name": "b" }, "object": { "key": "uploads/p/abc", "size": 5 } } });
        assert_eq!(object_keys(&eb), vec!["uploads/p/abc"]);
        let s3 = json!({ "Records": [{ "s3": { "object": { "key": "uploads/p%2Dx/abc+d" } } }] });
        assert_eq!(object_keys(&s3), vec!["uploads/p-x/abc d"]);
        assert!(object_keys(&json!({})).is_empty());
    }
}
