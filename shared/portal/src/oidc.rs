//! Sign-in against an OpenID Connect issuer (AWS): the authorization code flow with PKCE,
//! with the `openidconnect` crate. The flow's state (`CsrfToken`), nonce and PKCE
//! verifier travel in a sealed cookie that lives ten minutes and is cleared when the
//! callback is handled; a callback is accepted only with that cookie, the same state,
//! a code the issuer exchanges for an ID token whose signature (the issuer's JWKS),
//! issuer, audience, expiry and nonce check out. A replayed callback has no cookie left
//! (and its code is spent at the issuer); a forged one has no matching state.

use crate::session::Keys;
use chrono::{DateTime, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use stamp_domain::auth::Claims;
use tokio::sync::OnceCell;

#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    /// The portal's own URL; the callback is `{portal_url}/auth/callback`.
    pub portal_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("no sign-in in progress in this browser (or it expired)")]
    NoPendingSignIn,
    #[error("state does not match the sign-in in progress")]
    StateMismatch,
    #[error("the callback carries no code")]
    NoCode,
    #[error("configuration: {0}")]
    Config(String),
    #[error("issuer unreachable or unusable: {0}")]
    Issuer(String),
    #[error("the ID token was refused: {0}")]
    IdToken(String),
}

/// The sign-in in flight, sealed into the login cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
    pub exp: i64,
}

/// The claims of spec §3 that an ID token carries besides `sub` (read only from a token
/// whose signature has been verified).
#[derive(Debug, Default, Deserialize)]
struct StampClaims {
    #[serde(default, deserialize_with = "list")]
    roles: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    companies: Vec<String>,
    #[serde(default)]
    person_id: Option<String>,
}

/// A list claim, or one string (space-separated) as some issuers send it.
fn list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum L {
        Many(Vec<String>),
        One(String),
    }
    Ok(match L::deserialize(d)? {
        L::Many(v) => v,
        L::One(s) => s.split_whitespace().map(str::to_string).collect(),
    })
}

pub struct Oidc {
    pub config: OidcConfig,
    http: openidconnect::reqwest::Client,
    metadata: OnceCell<CoreProviderMetadata>,
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Self {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would open the client to SSRF.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Oidc {
            config,
            http,
            metadata: OnceCell::new(),
        }
    }

    fn redirect_uri(&self) -> Result<RedirectUrl, OidcError> {
        RedirectUrl::new(format!(
            "{}/auth/callback",
            self.config.portal_url.trim_end_matches('/')
        ))
        .map_err(|e| OidcError::Config(e.to_string()))
    }

    /// The issuer's discovery document and keys, fetched once per process.
    async fn metadata(&self) -> Result<&CoreProviderMetadata, OidcError> {
        self.metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.config.issuer.clone())
                    .map_err(|e| OidcError::Config(e.to_string()))?;
                CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| OidcError::Issuer(e.to_string()))
            })
            .await
    }

    /// The issuer's authorization URL and the sealed pending sign-in.
    pub async fn begin(
        &self,
        keys: &Keys,
        next: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), OidcError> {
        let md = self.metadata().await?.clone();
        let client = CoreClient::from_provider_metadata(
            md,
            ClientId::new(self.config.client_id.clone()),
            None,
        )
        .set_redirect_uri(self.redirect_uri()?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("openid".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: next.to_string(),
            exp: now.timestamp() + 600,
        };
        Ok((url.to_string(), keys.seal("oidc", &pending)))
    }

    /// Checks the callback against the pending sign-in, exchanges the code (with the PKCE
    /// verifier) and verifies the ID token (with the nonce); answers the claims and where
    /// to go.
    pub async fn finish(
        &self,
        keys: &Keys,
        pending: Option<&str>,
        code: Option<&str>,
        state: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Claims, String), OidcError> {
        let p: Pending = pending
            .and_then(|c| keys.open("oidc", c))
            .filter(|p: &Pending| p.exp > now.timestamp())
            .ok_or(OidcError::NoPendingSignIn)?;
        let state_ok = state.is_some_and(|s| {
            use subtle_eq::ct_eq;
            ct_eq(s.as_bytes(), p.state.as_bytes())
        });
        if !state_ok {
            return Err(OidcError::StateMismatch);
        }
        let code = code.ok_or(OidcError::NoCode)?;
        let md = self.metadata().await?.clone();
        let client = CoreClient::from_provider_metadata(
            md,
            ClientId::new(self.config.client_id.clone()),
            None,
        )
        .set_redirect_uri(self.redirect_uri()?);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(p.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Issuer(e.to_string()))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::IdToken("the issuer sent no ID token".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(p.nonce.clone()))
            .map_err(|e| OidcError::IdToken(e.to_string()))?;
        let sub = claims.subject().as_str().to_string();
        // The signature is verified over these very bytes; read the Stamp claims from them.
        let raw = id_token.to_string();
        let extra: StampClaims = raw
            .split('.')
            .nth(1)
            .and_then(|b| {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Ok((
            Claims {
                sub,
                roles: extra.roles,
                companies: extra.companies,
                partner_id: None,
                person_id: extra.person_id,
            },
            p.next,
        ))
    }
}

/// Constant-time comparison of the state (it is a secret of the browser's sign-in).
mod subtle_eq {
    pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}
