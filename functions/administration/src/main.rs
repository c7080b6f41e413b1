//! The `administration` Lambda function: the `Administration` routes of `stamp-api` on DynamoDB and S3.

use stamp_api::{AppState, Function};
use stamp_domain::ports::SystemClock;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    stamp_api::telemetry::init();
    let ports = stamp_adapters::deployment::ports_from_env().await?;
    let state = AppState::new(
        ports.store.clone(),
        ports.archive_port(),
        ports.pseudonym_key.clone(),
        Arc::new(SystemClock),
    )
    // "Send a test message" posts and mails at once.
    .with_webhooks(Arc::new(stamp_adapters::HttpWebhookSender::default()))
    .with_mailer(
        Arc::new(stamp_adapters::SesMailer::from_env().await),
        std::env::var("MAIL_FROM").ok(),
    );
    stamp_api::run_lambda(Function::Administration, state).await
}
