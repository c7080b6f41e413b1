//! AWS SDK clients from the standard environment.
//!
//! Endpoints come from the SDK's own settings: `AWS_ENDPOINT_URL`, or per service
//! `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` (DynamoDB Local and moto in tests).

use aws_config::BehaviorVersion;

/// Why creating a table or bucket failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// infra/aws/resources.json does not describe something this code can create.
    #[error("storage definition: {0}")]
    Definition(String),
    #[error("AWS: {0}")]
    Aws(String),
    #[error("timed out: {0}")]
    Timeout(String),
}

/// Variables that point S3 somewhere other than AWS.
const S3_ENDPOINT_VARS: [&str; 2] = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"];

/// True when an S3 endpoint override is set in the environment.
pub fn s3_endpoint_overridden() -> bool {
    S3_ENDPOINT_VARS
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
}

/// The SDK's HTTPS client: rustls on ring, the one TLS stack of every bootstrap (reqwest,
/// for partner feeds, uses the same), instead of the SDK's default rustls on aws-lc-rs.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// DynamoDB and S3 clients from the default credential/region/endpoint chain.
///
/// S3 uses path-style addressing whenever an endpoint override is set: local stand-ins
/// (moto) cannot serve `bucket.127.0.0.1`-style virtual hosts.
pub async fn aws_clients() -> (aws_sdk_dynamodb::Client, aws_sdk_s3::Client) {
    // More attempts than the SDK's default three: imports run many transactions at once,
    // and throttling (or DynamoDB Local's lock timeouts under load) must slow an import
    // down, not fail it.
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(10)
                .with_max_backoff(std::time::Duration::from_secs(5)),
        )
        .http_client(https_client())
        .load()
        .await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&conf);
    let s3_conf = aws_sdk_s3::config::Builder::from(&conf)
        .force_path_style(s3_endpoint_overridden())
        .build();
    (dynamodb, aws_sdk_s3::Client::from_conf(s3_conf))
}
