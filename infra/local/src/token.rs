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
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
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
}
