//! The `company-query` Lambda function: the `CompanyQuery` routes of `stamp-api` on DynamoDB and S3.

use stamp_api::routes;

#[tokio::main]
async fn main() -> Result<(), stamp_lambda::Error> {
    let (_, state) = stamp_lambda::start().await?;
    stamp_lambda::serve(routes::company_query::router(), state).await
}
