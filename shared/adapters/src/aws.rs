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
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&conf)
            .timeout_config(dynamodb_timeouts(dynamodb_endpoint_overridden()))
            .build(),
    );
    let s3_conf = aws_sdk_s3::config::Builder::from(&conf)
        .force_path_style(s3_endpoint_overridden())
        .timeout_config(s3_timeouts(s3_endpoint_overridden()))
        .build();
    (dynamodb, aws_sdk_s3::Client::from_conf(s3_conf))
}

/// True when a DynamoDB endpoint override is set (DynamoDB Local).
fn dynamodb_endpoint_overridden() -> bool {
    ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
}

/// Seconds from `var`, if set to a positive number.
fn secs_from(var: &str) -> Option<std::time::Duration> {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(std::time::Duration::from_secs)
}

/// DynamoDB: a stalled answer is given up after one attempt's time and retried (every
/// write is conditional or whole, so a retry never doubles — the fault tests show it),
/// instead of waiting for the function's own timeout. Against DynamoDB Local (an
/// endpoint override) there is no attempt timeout unless `STAMP_DYNAMODB_ATTEMPT_SECS`
/// sets one: a loaded test machine must make it slow, not retried.
pub fn dynamodb_timeouts(local: bool) -> aws_config::timeout::TimeoutConfig {
    use std::time::Duration;
    let attempt =
        secs_from("STAMP_DYNAMODB_ATTEMPT_SECS").or((!local).then_some(Duration::from_secs(10)));
    let mut b =
        aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(5));
    b.set_operation_attempt_timeout(attempt);
    b.build()
}

/// S3: bodies may be large (uploads up to 1 GiB stream through), so no attempt limit;
/// a connection that stops sending is given up after `read_timeout` instead.
pub fn s3_timeouts(local: bool) -> aws_config::timeout::TimeoutConfig {
    use std::time::Duration;
    let read = secs_from("STAMP_S3_READ_SECS").or((!local).then_some(Duration::from_secs(30)));
    let mut b =
        aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(5));
    b.set_read_timeout(read);
    b.build()
}

#[cfg(test)]
mod timeout_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn deployed_clients_give_up_a_stalled_attempt_and_local_ones_wait() {
        let deployed = dynamodb_timeouts(false);
        assert_eq!(
            deployed.operation_attempt_timeout(),
            Some(Duration::from_secs(10))
        );
        assert_eq!(deployed.connect_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(dynamodb_timeouts(true).operation_attempt_timeout(), None);
        // S3 streams large bodies: a read timeout, never an attempt limit.
        let s3 = s3_timeouts(false);
        assert_eq!(s3.read_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(s3.operation_attempt_timeout(), None);
        assert_eq!(s3_timeouts(true).read_timeout(), None);
    }
}
