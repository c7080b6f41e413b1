//! The `inspection` Lambda function: the `Inspection` routes of `stamp-api` on DynamoDB
//! and S3 — company_admins' inspection links (behind the JWT authorizer) and the
//! inspector's `/inspect/v1/...` (no authorizer: the function checks the link's secret
//! itself). Its authority extracts render like any other (the table's stream).

use stamp_api::routes;
use stamp_domain::extracts::Dispatch;

#[tokio::main]
async fn main() -> Result<(), stamp_lambda::Error> {
    let (ports, state) = stamp_lambda::start().await?;
    let public_url = std::env::var("STAMP_PUBLIC_URL").unwrap_or_default();
    let state = state
        .with_extract_files(ports.extract_files(), Dispatch::Stream)
        .with_public_url(public_url);
    stamp_lambda::serve(routes::inspection::router(), state).await
}
