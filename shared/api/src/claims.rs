//! The caller's claims. In AWS the API Gateway JWT authorizer has verified the token and
//! put its claims in the request context; locally `stamp-local` verifies its own tokens
//! and fills the same context. Handlers only ever read the context.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use stamp_domain::auth::Claims;
use stamp_domain::DomainError;
use std::collections::HashMap;

use crate::problem::ApiError;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Claims);

/// A claim as API Gateway hands it over: strings stay strings, but a list claim arrives
/// flattened as `[a b c]`; a JSON array is read too.
fn list_claim(raw: Option<&String>) -> Vec<String> {
    let Some(raw) = raw.map(|s| s.trim()) else {
        return Vec::new();
    };
    if let Ok(v) = serde_json::from_str::<Vec<String>>(raw) {
        return v;
    }
    raw.trim_start_matches('[')
        .trim_end_matches(']')
        .split([' ', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn claims_from_map(m: &HashMap<String, String>) -> Option<Claims> {
    let sub = m.get("sub").filter(|s| !s.is_empty())?.clone();
    Some(Claims {
        sub,
        roles: list_claim(m.get("roles")),
        companies: list_claim(m.get("companies")),
        partner_id: m.get("partner_id").filter(|s| !s.is_empty()).cloned(),
        person_id: m.get("person_id").filter(|s| !s.is_empty()).cloned(),
    })
}

/// The claims map the way API Gateway's JWT authorizer presents it.
pub fn claims_to_map(c: &Claims) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("sub".to_string(), c.sub.clone());
    m.insert("roles".to_string(), format!("[{}]", c.roles.join(" ")));
    m.insert(
        "companies".to_string(),
        format!("[{}]", c.companies.join(" ")),
    );
    if let Some(p) = &c.partner_id {
        m.insert("partner_id".to_string(), p.clone());
    }
    if let Some(p) = &c.person_id {
        m.insert("person_id".to_string(), p.clone());
    }
    m
}

/// An API Gateway v2 request context carrying verified claims, as the authorizer makes it.
pub fn request_context(
    claims: &Claims,
    request_id: &str,
    method: &str,
    path: &str,
) -> Option<RequestContext> {
    let ctx = serde_json::json!({
        "requestId": request_id,
        "authorizer": { "jwt": { "claims": claims_to_map(claims), "scopes": null } },
        "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "" },
        "timeEpoch": 0
    });
    serde_json::from_value::<ApiGatewayV2httpRequestContext>(ctx)
        .ok()
        .map(RequestContext::ApiGatewayV2)
}

pub fn request_id(parts: &Parts) -> Option<String> {
    match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let claims = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .and_then(|j| claims_from_map(&j.claims)),
            _ => None,
        };
        claims.map(Caller).ok_or_else(|| {
            ApiError(DomainError::Unauthenticated(
                "a valid bearer token is required".into(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_gateway_list_claims() {
        assert_eq!(
            list_claim(Some(&"[company_admin company_user]".to_string())),
            vec!["company_admin", "company_user"]
        );
        assert_eq!(
            list_claim(Some(&r#"["a","b"]"#.to_string())),
            vec!["a", "b"]
        );
        assert_eq!(list_claim(Some(&"operator".to_string())), vec!["operator"]);
        assert!(list_claim(Some(&"[]".to_string())).is_empty());
    }

    #[test]
    fn a_context_round_trips_claims() {
        let c = Claims {
            sub: "u1".into(),
            roles: vec!["company_user".into()],
            companies: vec!["5560360793".into()],
            partner_id: None,
            person_id: None,
        };
        let Some(RequestContext::ApiGatewayV2(ctx)) = request_context(&c, "r1", "GET", "/") else {
            panic!()
        };
        let back = claims_from_map(&ctx.authorizer.unwrap().jwt.unwrap().claims).unwrap();
        assert_eq!(back, c);
    }
}
