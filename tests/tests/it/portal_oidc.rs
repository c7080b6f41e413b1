//! The portal's AWS sign-in (spec §13) against a fake OpenID Connect issuer in this test:
//! the authorization code flow with PKCE (the issuer checks the verifier against the
//! challenge), the state and the nonce checked, a forged or replayed callback refused.

use crate::server::{loopback, serve, serve_on};
use axum::extract::{Form, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest;
use stamp_api::AppState;
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::memory::{MemoryArchive, MemoryItemStore};
use stamp_domain::ports::SystemClock;
use stamp_portal::oidc::{Oidc, OidcConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A throwaway RSA key for the fake issuer's ID tokens (this test's only).
/// PKCS#1 DER, base64.
const KEY_DER: &str = "MIIEowIBAAKCAQEA1V9bmo1Tv89Z/INBNa6i/CHibM6+eBxKBzpdMT4chJFWdDSESPIrw0x0MhpTICX7wIdKrq32qrcgyMgqhMHeRyKquN07694a/yidPaFoRv3ffztOy53RTrSm+QahWbvrvmOo+M4Tk+flS1A7UHq1au8H+a3P1EBnCUSo/is1mB3PdZYO+OgeIefqLdkwYwxRTyCZ0tNfXvapEx+iIAic4EjMlOrqexJtY24b90UjeuoL5mjc0S0/dpnX0dCK2YIJZh0THygZ9ZFpD4/+2oKjVSzBDSxCGaNJ5mWq8aJ6ZIoY+i3NWIIdZhhZtUo6XKGQcztwT7pa5XL4+Nc4LPjbuwIDAQABAoIBAARGGcu4AZG84ZsLgzHD+TmR18fnjjlR3vCGuT+99D+thfmwfmcHPsKPLfnXVouCANxqEuz6L0L1HxMWe0+K1VzZM2oEUgM9jcHg1BSpC0spiG5mep1DRuJLzD2YGRqqINgAuNPSLa82CZafTHwMsSr4QoS8RNNS2B1/gnkKb+zhJpuCnQ2jtxHgButU5H/vLK8wLhH5aL4wcRLZj3PPVaUkOepDTSpR4pF4PIJKTHAFF9m4PE6B5+Vn4CS/zbIH3KSQnERRE/PAHtugy8wSw4CSgs555nEjpDvjjq4nBDc95y7TW6ieXgntHyC3ITKnzwZ7+p0+oOtbY3PKhphpR3UCgYEA9MeXpSGrNbwxn8dcXjA/XEc0e/OBgbfIGNzrlFbUZvQlmSCNcnrkOAWA3cCquBznpkz9X4m0LNehp0dDeTu7mVBH0tsvr+KzyqEQFfo1Z+R76XpFKGeznoKMK9BzbHwO7B1mBokK0MWkC/vzDCxvAnSdkt0i3gYimDpEwbplmCUCgYEA3yc2fPsvlhUIpdUyameY00LYHa+uUgpBBO59Fm5Y//I1SaFVQMR5x7yWZ90qoTVDndwFbm4Qhd/RhwbdpDleZqQljZ+ys5cD4Tc9lEONzrDyVU3scLlPpJ3ydwPVkRrUwvtK7eCGZuqbm9JKqF6wP1hh77JasC8xGGCT6JCX7l8CgYAnn9vDhoTBqRpbZBlmweav2HL9kbioOAjzRWf5VmkB1Yn0lNlw68Xf77whqZu5PCyfthzaB1+cVre7bYTVrj67HczSrFq23Tr/lT0WYa+dhtYsQHfLh6YDBd0NBqx4pkiAHm4ypqKSkzvwGLQKh3Lc8eXELXoEePfGrsAMoFDr5QKBgDE+N/nwfBnEXnopx8xPPBwyffpfEDquZJawAg53H1CrpDKxVVzLfowjA5W76nJUjK1DJjeuNhs0vsnrK/HXbwt7YYYVHZwf0Q1b4Uzcc2iPB4rnfSuK2RZcfGri/7fbkePNDEXd7Aq97sS97RemfYIdAM+iLfz/DPhyJ3GEpuJFAoGBAIJiugn58YqRHojz7kZiatItNTqIsggLKHG855tvwlQzxlZz44RT+4uDohtqJ3U7HpYQF7WV+Vn6+VDhw7l3J/z0zUVkux+C8VTV66SIuVA8H2Su4ef32qNUGt34kMcjZdBircs5wynLFc1Xyrtf7McNkFMuRVRpVNiOK5R8h/pR";
const KEY_N: &str = "1V9bmo1Tv89Z_INBNa6i_CHibM6-eBxKBzpdMT4chJFWdDSESPIrw0x0MhpTICX7wIdKrq32qrcgyMgqhMHeRyKquN07694a_yidPaFoRv3ffztOy53RTrSm-QahWbvrvmOo-M4Tk-flS1A7UHq1au8H-a3P1EBnCUSo_is1mB3PdZYO-OgeIefqLdkwYwxRTyCZ0tNfXvapEx-iIAic4EjMlOrqexJtY24b90UjeuoL5mjc0S0_dpnX0dCK2YIJZh0THygZ9ZFpD4_-2oKjVSzBDSxCGaNJ5mWq8aJ6ZIoY-i3NWIIdZhhZtUo6XKGQcztwT7pa5XL4-Nc4LPjbuw";
const CLIENT: &str = "stamp-portal";

/// What the fake issuer knows: codes it issued, with the nonce and PKCE challenge of
/// the authorization request, and the nonce to put in the ID token (a test may lie).
#[derive(Default)]
struct Issuer {
    base: String,
    codes: HashMap<String, (String, String)>,
    lie_about_nonce: bool,
}

type Shared = Arc<Mutex<Issuer>>;

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let base = s.lock().unwrap().base.clone();
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks() -> Json<Value> {
    Json(
        json!({ "keys": [{ "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": KEY_N, "e": "AQAB" }] }),
    )
}

async fn token(
    State(s): State<Shared>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Json<Value>, (axum::http::StatusCode, Json<Value>)> {
    let bad = || {
        (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        )
    };
    let mut st = s.lock().unwrap();
    // A code is good once.
    let (nonce, challenge) = st
        .codes
        .remove(f.get("code").ok_or_else(bad)?)
        .ok_or_else(bad)?;
    let verifier = f.get("code_verifier").ok_or_else(bad)?;
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    if computed != challenge || f.get("client_id").map(String::as_str) != Some(CLIENT) {
        return Err(bad());
    }
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": st.base, "aud": CLIENT, "sub": "oidc-user", "iat": now, "exp": now + 300,
        "nonce": if st.lie_about_nonce { "another".to_string() } else { nonce },
        "roles": ["operator"], "companies": [],
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    let der = base64::engine::general_purpose::STANDARD
        .decode(KEY_DER)
        .unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_der(&der);
    let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    Ok(Json(
        json!({ "access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }),
    ))
}

struct Setup {
    issuer: Shared,
    portal: String,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    let issuer: Shared = Arc::default();
    let base = serve(
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(issuer.clone()),
    )
    .await;
    issuer.lock().unwrap().base = base.clone();
    // The portal must know its own address (the redirect URL) before it is built.
    let (listener, portal) = loopback().await;
    let state = AppState::new(
        Arc::new(MemoryItemStore::default()),
        Arc::new(MemoryArchive::default()),
        PseudonymKey::new(b"k".to_vec()),
        Arc::new(SystemClock),
    );
    let cfg = stamp_portal::PortalConfig {
        session_key: b"portal-test-key-0123456789abcdef".to_vec(),
        secure_cookies: true,
        sign_in: stamp_portal::SignIn::Oidc(Arc::new(Oidc::new(OidcConfig {
            issuer: base,
            client_id: CLIENT.into(),
            portal_url: portal.clone(),
        }))),
        session_ttl: chrono::Duration::hours(1),
    };
    serve_on(listener, stamp_portal::app(state, cfg));
    Setup {
        issuer,
        portal,
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
    }
}

/// Starts a sign-in: the authorization URL's parameters and the login cookie.
async fn begin(s: &Setup, next: &str) -> (HashMap<String, String>, String) {
    let res = s
        .http
        .get(format!("{}/login?next={next}", s.portal))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax")
    );
    let url = reqwest::Url::parse(&location).unwrap();
    assert!(location.starts_with(&s.issuer.lock().unwrap().base));
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    (q, cookie.split(';').next().unwrap().to_string())
}

/// The issuer approves: a code bound to the request's nonce and challenge.
fn approve(s: &Setup, q: &HashMap<String, String>, code: &str) {
    s.issuer.lock().unwrap().codes.insert(
        code.into(),
        (q["nonce"].clone(), q["code_challenge"].clone()),
    );
}

async fn callback(s: &Setup, cookie: Option<&str>, code: &str, state: &str) -> reqwest::Response {
    let mut req = s.http.get(format!(
        "{}/auth/callback?code={code}&state={state}",
        s.portal
    ));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("stamp_session=") && !c.contains("Max-Age=0"))
}

#[tokio::test]
async fn the_code_flow_with_pkce_signs_in_and_refuses_forged_and_replayed_callbacks() {
    let s = setup().await;
    let (q, login) = begin(&s, "/operator/partners").await;
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], format!("{}/auth/callback", s.portal));
    assert!(q["scope"].split(' ').any(|x| x == "openid"));
    for k in ["state", "nonce", "code_challenge"] {
        assert!(q[k].len() >= 16, "{k} is random");
    }

    // A forged callback: the right cookie, another state. Refused; the code is unspent.
    approve(&s, &q, "c1");
    let forged = callback(&s, Some(&login), "c1", "forged-state").await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&forged).is_none());
    // No sign-in in progress in this browser (no cookie): refused.
    let stranger = callback(&s, None, "c1", &q["state"]).await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&stranger).is_none());

    // The real callback signs in and goes where the user wanted.
    let ok = callback(&s, Some(&login), "c1", &q["state"]).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/operator/partners");
    let session = session_cookie(&ok).expect("a session");
    assert!(session.contains("Secure") && session.contains("HttpOnly"));
    let page = s
        .http
        .get(format!("{}/privacy", s.portal))
        .header("cookie", session.split(';').next().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("oidc-user"), "signed in as the token's sub");

    // Replayed, even with the old login cookie: the code is spent. Refused.
    let replay = callback(&s, Some(&login), "c1", &q["state"]).await;
    assert_eq!(replay.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&replay).is_none());
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let s = setup().await;
    let (q, login) = begin(&s, "/").await;
    approve(&s, &q, "c2");
    s.issuer.lock().unwrap().lie_about_nonce = true;
    let res = callback(&s, Some(&login), "c2", &q["state"]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&res).is_none());
}
