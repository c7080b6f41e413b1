//! Query-string and body helpers that answer bad input with a problem naming the field.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use stamp_domain::identity::{Orgnr, SiteId};
use stamp_domain::pagination::{clamp_limit, Cursor};
use stamp_domain::DomainError;
use std::collections::HashMap;

use crate::problem::ApiError;

/// The query string as name → value (the last value wins).
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(q);
        Ok(Params(pairs.into_iter().collect()))
    }
}

fn serde_urlencoded_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    bytes.get(i + 1).and_then(|&b| hex(b)),
                    bytes.get(i + 2).and_then(|&b| hex(b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn limit(&self) -> Result<usize, DomainError> {
        let raw = self
            .get("limit")
            .map(|l| {
                l.parse::<i64>()
                    .map_err(|_| DomainError::invalid("limit", "must be a whole number 1–1000"))
            })
            .transpose()?;
        clamp_limit(raw)
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, DomainError> {
        self.get("cursor").map(Cursor::decode).transpose()
    }

    pub fn flag(&self, name: &str) -> Result<bool, DomainError> {
        match self.get(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(_) => Err(DomainError::invalid(name, "must be true or false")),
        }
    }
}

pub fn orgnr(raw: &str) -> Result<Orgnr, DomainError> {
    Orgnr::parse(raw).map_err(|e| DomainError::invalid("orgnr", e.to_string()))
}

pub fn site_id(raw: &str) -> Result<SiteId, DomainError> {
    SiteId::parse(raw).map_err(|e| DomainError::invalid("site_id", e.to_string()))
}

/// A JSON body, with a problem naming what is wrong instead of a bare rejection.
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DomainError> {
    if bytes.is_empty() {
        return Err(DomainError::MissingField {
            field: "body".into(),
            reason: "a JSON body is required".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // The path of the value that failed (`batch_id`, `events[3].site_id`), or the
        // body itself when the JSON does not parse at all.
        let path = e.path().to_string();
        let is_data = e.inner().classify() == serde_json::error::Category::Data;
        let field = if !is_data || path.is_empty() || path == "." || path.contains('?') {
            "body".to_string()
        } else {
            path
        };
        DomainError::InvalidField {
            field,
            reason: format!("the JSON body cannot be read: {}", e.inner()),
        }
    })?;
    de.end().map_err(|e| DomainError::InvalidField {
        field: "body".into(),
        reason: format!("the JSON body cannot be read: {e}"),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Upload {
        #[allow(dead_code)]
        batch_id: Option<String>,
    }

    #[test]
    fn a_json_type_error_names_its_field() {
        let e = json_body::<Upload>(br#"{"batch_id": 1, "format": "json"}"#).unwrap_err();
        assert!(
            matches!(&e, DomainError::InvalidField { field, .. } if field == "batch_id"),
            "{e:?}"
        );
        let e = json_body::<Upload>(b"{not json").unwrap_err();
        assert!(matches!(&e, DomainError::InvalidField { field, .. } if field == "body"));
        assert!(json_body::<Upload>(br#"{"batch_id": "b"} x"#).is_err());
    }

    #[test]
    fn decodes_query_values() {
        assert_eq!(
            decode("2026-03-01T00%3A00%3A00%2B01%3A00"),
            "2026-03-01T00:00:00+01:00"
        );
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%4"), "%4");
    }
}
