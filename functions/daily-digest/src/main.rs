//! The `daily-digest` Lambda function (spec §11). EventBridge Scheduler runs it at 06:00
//! Europe/Stockholm for the digest and partner-silence notices, and every minute with
//! `{"job": "webhook-retry"}` to post the webhook messages whose next attempt is due.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::Value;
use stamp_adapters::{HttpWebhookSender, SesMailer};
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
    )
    .with_webhooks(Arc::new(HttpWebhookSender::default()))
    .with_mailer(
        Arc::new(SesMailer::from_env().await),
        std::env::var("MAIL_FROM").ok(),
    );
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
