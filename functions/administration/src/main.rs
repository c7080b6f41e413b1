//! The `administration` Lambda function: the `Administration` routes of `stamp-api` on DynamoDB and S3.

use stamp_api::routes;

#[tokio::main]
async fn main() -> Result<(), stamp_lambda::Error> {
    let (_, state) = stamp_lambda::start().await?;
    // "Send a test message" posts and mails at once.
    let state = stamp_lambda::with_messaging(state).await;
    stamp_lambda::serve(routes::administration::router(), state).await
}
