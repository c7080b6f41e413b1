//! Shared test plumbing: SDK clients from the environment, unique names, and the check that
//! the local AWS stand-ins are configured.

use stamp_adapters::{DynamoItemStore, S3Archive};

/// The opt-out for quick local runs without the stand-ins.
pub const SKIP_VAR: &str = "STAMP_SKIP_AWS";

/// Whether the AWS-backed tests should run. They need `var` (an endpoint variable printed by
/// `bash infra/scripts/local-aws.sh start`); without it they fail, never skip silently,
/// unless STAMP_SKIP_AWS=1 is set.
pub fn aws_configured(var: &str, test: &str) -> bool {
    if std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") {
        eprintln!("{test}: SKIPPED because {SKIP_VAR}=1");
        return false;
    }
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => true,
        _ => panic!(
            "{test}: {var} is not set. Start the local AWS stand-ins and export what they print:\n\
             \n    bash infra/scripts/local-aws.sh start\n    \
             eval \"$(bash infra/scripts/local-aws.sh env)\"\n\
             \nor set {SKIP_VAR}=1 to skip the AWS-backed tests."
        ),
    }
}

/// A unique lowercase name (valid for both tables and buckets): `<prefix>-<uuid>`.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    stamp_adapters::aws_clients().await.0
}

pub async fn s3_client() -> aws_sdk_s3::Client {
    stamp_adapters::aws_clients().await.1
}

/// A store on a freshly created, uniquely named table in DynamoDB Local; None when skipped.
pub async fn fresh_dynamo_store(test: &str) -> Option<DynamoItemStore> {
    if !aws_configured("AWS_ENDPOINT_URL_DYNAMODB", test) {
        return None;
    }
    let client = dynamodb_client().await;
    let table = unique_name("stamp-test");
    stamp_adapters::create_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("{test}: creating table {table}: {e}"));
    Some(DynamoItemStore::new(client, table))
}

/// An archive on a freshly created, uniquely named Object Lock bucket in moto; None when
/// skipped.
pub async fn fresh_s3_archive(test: &str) -> Option<S3Archive> {
    if !aws_configured("AWS_ENDPOINT_URL_S3", test) {
        return None;
    }
    let client = s3_client().await;
    let bucket = unique_name("stamp-test");
    stamp_adapters::create_bucket(&client, &bucket)
        .await
        .unwrap_or_else(|e| panic!("{test}: creating bucket {bucket}: {e}"));
    Some(S3Archive::new(client, bucket))
}
