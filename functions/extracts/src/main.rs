//! The `extracts` Lambda function: the `Extracts` routes of `stamp-api` (ordering and
//! fetching extracts, the employees' `/v1/me/...`) on DynamoDB and S3. It only writes the
//! pending extract; the table's stream runs the extract-rendering function.

use stamp_api::routes;
use stamp_domain::extracts::Dispatch;

#[tokio::main]
async fn main() -> Result<(), stamp_lambda::Error> {
    let (ports, state) = stamp_lambda::start().await?;
    let state = state.with_extract_files(ports.extract_files(), Dispatch::Stream);
    stamp_lambda::serve(routes::extracts::router(), state).await
}
