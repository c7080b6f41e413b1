//! Local bearer tokens: HS256 JWTs signed with the data directory's key. They carry the
//! claims of spec §3 and nothing else; minting one records no grant.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use stamp_domain::auth::Claims;

pub const ISSUER: &str = "stamp-local";
pub const AUDIENCE: &str = "stamp";

#[derive(Debug, Serialize, Deserialize)]
struct Jwt {
    #[serde(flatten)]
    claims: Claims,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

pub fn mint(
    key: &[u8],
    claims: &Claims,
    ttl: chrono::Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = chrono::Utc::now().timestamp();
    let jwt = Jwt {
        claims: claims.clone(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        exp: now + ttl.num_seconds(),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &jwt,
        &EncodingKey::from_secret(key),
    )
}

pub fn verify(key: &[u8], token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
    use jsonwebtoken::errors::{Error, ErrorKind};
    // RFC 7515 §4.1.11: a `crit` header names extensions the recipient must understand;
    // we understand none, so any `crit` refuses the token.
    let header_json = token
        .split('.')
        .next()
        .and_then(|h| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .ok_or_else(|| Error::from(ErrorKind::InvalidToken))?;
    if header_json.get("crit").is_some() {
        return Err(ErrorKind::InvalidToken.into());
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // RFC 7519 §4.1.5: not before `nbf` (with the same leeway as `exp`).
    v.validate_nbf = true;
    Ok(decode::<Jwt>(token, &DecodingKey::from_secret(key), &v)?
        .claims
        .claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key() {
        let c = Claims {
            sub: "u".into(),
            roles: vec!["operator".into()],
            ..Default::default()
        };
        let t = mint(b"k1", &c, chrono::Duration::hours(1)).unwrap();
        assert_eq!(verify(b"k1", &t).unwrap(), c);
        assert!(verify(b"k2", &t).is_err());
        let expired = mint(b"k1", &c, chrono::Duration::hours(-2)).unwrap();
        assert!(verify(b"k1", &expired).is_err());
    }

    fn signed(header: serde_json::Value, body: serde_json::Value) -> String {
        use base64::Engine;
        use hmac::Mac;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let input = format!("{}.{}", b64(&header), b64(&body));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"k1").unwrap();
        mac.update(input.as_bytes());
        let sig =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{input}.{sig}")
    }

    #[test]
    fn a_token_not_yet_valid_or_with_crit_is_refused() {
        let now = chrono::Utc::now().timestamp();
        let body = |nbf: i64| {
            serde_json::json!({"sub": "u", "roles": ["operator"], "iss": ISSUER, "aud": AUDIENCE,
                "iat": now, "exp": now + 7200, "nbf": nbf})
        };
        let plain = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        assert!(verify(b"k1", &signed(plain.clone(), body(now - 10))).is_ok());
        assert!(verify(b"k1", &signed(plain, body(now + 3600))).is_err());
        let crit = serde_json::json!({"alg": "HS256", "typ": "JWT", "crit": ["exp"], "exp": 1});
        assert!(verify(b"k1", &signed(crit, body(now - 10))).is_err());
    }
}
