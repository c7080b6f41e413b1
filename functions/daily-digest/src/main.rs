//! The `daily-digest` Lambda function (spec §11). EventBridge Scheduler runs it at 06:00
//! Europe/Stockholm for the digest and partner-silence notices, and every minute with
//! `{"job": "webhook-retry"}` to post the webhook messages whose next attempt is due.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (_, state) = stamp_lambda::start().await?;
    let state = stamp_lambda::with_messaging(state).await;
    let state = &state;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<Value>| async move {
        let out = match e.payload.get("job").and_then(Value::as_str) {
            Some("webhook-retry") => {
                serde_json::to_value(stamp_api::jobs::webhook_retry(state).await?)?
            }
            _ => serde_json::to_value(stamp_api::jobs::daily_digest(state).await?)?,
        };
        Ok::<Value, lambda_runtime::Error>(out)
    }))
    .await
}
