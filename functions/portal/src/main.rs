//! The `portal` Lambda function: the portal's pages (`stamp-portal`) on DynamoDB and S3,
//! behind the same HTTP API as the API routes but without the JWT authorizer — the
//! portal signs its users in itself (OpenID Connect against the issuer the API trusts).
//!
//! Environment: `STAMP_PORTAL_SESSION_KEY` (hex, from the template's secret parameter),
//! `STAMP_OIDC_ISSUER`, `STAMP_OIDC_CLIENT_ID`, `STAMP_PUBLIC_URL` (the portal's URL),
//! `MAIL_FROM` (the sender of test messages).

use stamp_domain::extracts::Dispatch;
use stamp_portal::oidc::{Oidc, OidcConfig};
use stamp_portal::{PortalConfig, SignIn};
use std::sync::Arc;

fn env(name: &str) -> Result<String, lambda_http::Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (ports, state) = stamp_lambda::start().await?;
    // "Send a test message" on the notifications page posts and mails at once.
    let state = stamp_lambda::with_messaging(
        state.with_extract_files(ports.extract_files(), Dispatch::Stream),
    )
    .await;
    let session_key = hex::decode(env("STAMP_PORTAL_SESSION_KEY")?.trim())
        .map_err(|_| "STAMP_PORTAL_SESSION_KEY must be hex")?;
    if session_key.len() < 32 {
        return Err("STAMP_PORTAL_SESSION_KEY must hold at least 32 bytes".into());
    }
    let oidc = Oidc::new(OidcConfig {
        issuer: env("STAMP_OIDC_ISSUER")?,
        client_id: env("STAMP_OIDC_CLIENT_ID")?,
        portal_url: env("STAMP_PUBLIC_URL")?,
    });
    let cfg = PortalConfig {
        session_key,
        secure_cookies: true,
        sign_in: SignIn::Oidc(Arc::new(oidc)),
        session_ttl: chrono::Duration::hours(8),
    };
    lambda_http::run(stamp_portal::app(state, cfg)).await
}
