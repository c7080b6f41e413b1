//! The portal's session: a compact claim set with an expiry and a random session id,
//! MACed with the portal's key, in one `HttpOnly`, `SameSite=Lax` cookie (`Secure` unless
//! served on plain-http localhost). It holds the claims the API would read from a token
//! and nothing else. CSRF tokens are MACs of the session id, so every form of a session
//! carries one the server can check without storing anything.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::Sha256;
use stamp_domain::auth::Claims;

pub const SESSION_COOKIE: &str = "stamp_session";
pub const LANG_COOKIE: &str = "stamp_lang";
/// The sign-in in flight (OIDC state, nonce and PKCE verifier; where to go after).
pub const LOGIN_COOKIE: &str = "stamp_login";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub claims: Claims,
    /// Unix seconds after which the session is refused.
    pub exp: i64,
    /// Random; CSRF tokens are bound to it.
    pub sid: String,
    /// How the user signed in: `local` or `oidc` (the sign-in page offers the same again).
    pub via: String,
}

/// Keys derived from the one portal secret, so a session can never pass as a CSRF token.
#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
}

type HmacSha256 = Hmac<Sha256>;

impl Keys {
    pub fn new(secret: &[u8]) -> Self {
        Keys {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, purpose: &str, data: &[u8]) -> Vec<u8> {
        // new_from_slice accepts any key length for HMAC.
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        m.update(purpose.as_bytes());
        m.update(b"\0");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }

    /// `base64(json).base64(mac)`.
    pub fn seal<T: Serialize>(&self, purpose: &str, value: &T) -> String {
        let body = B64.encode(serde_json::to_vec(value).unwrap_or_default());
        let mac = B64.encode(self.mac(purpose, body.as_bytes()));
        format!("{body}.{mac}")
    }

    pub fn open<T: DeserializeOwned>(&self, purpose: &str, sealed: &str) -> Option<T> {
        let (body, mac) = sealed.split_once('.')?;
        let mac = B64.decode(mac).ok()?;
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.secret).ok()?;
        m.update(purpose.as_bytes());
        m.update(b"\0");
        m.update(body.as_bytes());
        m.verify_slice(&mac).ok()?;
        serde_json::from_slice(&B64.decode(body).ok()?).ok()
    }

    pub fn session(&self, sealed: &str, now: i64) -> Option<Session> {
        self.open::<Session>("session", sealed)
            .filter(|s| s.exp > now)
    }

    pub fn csrf(&self, session: &Session) -> String {
        B64.encode(self.mac("csrf", session.sid.as_bytes()))
    }

    pub fn csrf_ok(&self, session: &Session, token: &str) -> bool {
        let Ok(given) = B64.decode(token) else {
            return false;
        };
        let mut m = match <HmacSha256 as Mac>::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => return false,
        };
        m.update(b"csrf\0");
        m.update(session.sid.as_bytes());
        m.verify_slice(&given).is_ok()
    }
}

pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    B64.encode(b)
}

/// A `Set-Cookie` value with the portal's attributes.
pub fn cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(name: &str, secure: bool) -> String {
    cookie(name, "", 0, secure)
}

/// A cookie's value from the request's `Cookie` headers.
pub fn read_cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(exp: i64) -> Session {
        Session {
            claims: Claims {
                sub: "u".into(),
                roles: vec!["company_user".into()],
                ..Default::default()
            },
            exp,
            sid: "s1".into(),
            via: "local".into(),
        }
    }

    #[test]
    fn a_session_opens_only_with_its_key_and_before_expiry() {
        let k = Keys::new(b"k1");
        let sealed = k.seal("session", &session(100));
        assert_eq!(k.session(&sealed, 99), Some(session(100)));
        assert_eq!(k.session(&sealed, 100), None);
        assert_eq!(Keys::new(b"k2").session(&sealed, 0), None);
        // A changed body (more roles) breaks the MAC.
        let (_, mac) = sealed.split_once('.').unwrap();
        let mut forged = session(100);
        forged.claims.roles.push("operator".into());
        let body = B64.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(k.session(&format!("{body}.{mac}"), 0), None);
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session() {
        let k = Keys::new(b"k1");
        let s = session(100);
        let t = k.csrf(&s);
        assert!(k.csrf_ok(&s, &t));
        let mut other = s.clone();
        other.sid = "s2".into();
        assert!(!k.csrf_ok(&other, &t));
        assert!(!k.csrf_ok(&s, "nonsense"));
        assert!(!Keys::new(b"k2").csrf_ok(&s, &t));
    }

    #[test]
    fn cookies_carry_the_attributes() {
        let c = cookie("a", "b", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!cookie("a", "b", 60, false).contains("Secure"));
    }
}
