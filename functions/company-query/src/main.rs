//! The `company-query` Lambda function: the `CompanyQuery` routes of `stamp-api` on DynamoDB and S3.

use stamp_api::Function;

#[tokio::main]
async fn main() -> Result<(), stamp_lambda::Error> {
    let (_, state) = stamp_lambda::start().await?;
    stamp_lambda::serve(Function::CompanyQuery, state).await
}
