//! The `partner-import` Lambda function: the `PartnerImport` routes of `stamp-api` on DynamoDB and S3
//! (pushes, upload URLs, batch answers).

use stamp_api::routes;

#[tokio::main]
async fn main() -> Result<(), stamp_lambda::Error> {
    let (ports, state) = stamp_lambda::start().await?;
    // Large deliveries are PUT straight to the archive bucket through presigned URLs.
    let state = state.with_uploads(ports.archive.clone());
    stamp_lambda::serve(routes::partner_import::router(), state).await
}
