//! JSON values ↔ DynamoDB `AttributeValue`s.
//!
//! string → S, number → N, bool → BOOL, null → NULL, array → L, object → M.
//! Numbers are written with serde_json's own formatting, so an `i64`/`u64` round-trips
//! exactly. On the way back an N is read as i64, then u64, then f64. DynamoDB keeps a number's
//! value, not the way it was written: a float with no fractional part (`2.0`) comes back as
//! the integer `2`.
//!
//! Reading also accepts the set types DynamoDB may hold (SS and NS become arrays). Binary
//! values (B, BS) have no JSON equivalent here and are refused.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

/// Why an `AttributeValue` could not become JSON.
#[derive(Debug, thiserror::Error)]
pub enum AttributeValueError {
    #[error("number {0:?} is not a valid JSON number")]
    BadNumber(String),
    #[error("attribute type {0} is not supported")]
    Unsupported(&'static str),
}

/// A JSON value as a DynamoDB attribute value.
pub fn to_attribute_value(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute_value).collect()),
        Value::Object(map) => AttributeValue::M(to_attribute_map(map)),
    }
}

/// A JSON object as a DynamoDB attribute map.
pub fn to_attribute_map(map: &Map<String, Value>) -> HashMap<String, AttributeValue> {
    map.iter()
        .map(|(k, v)| (k.clone(), to_attribute_value(v)))
        .collect()
}

/// A DynamoDB attribute value as JSON.
pub fn from_attribute_value(value: &AttributeValue) -> Result<Value, AttributeValueError> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => Value::Number(parse_number(n)?),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(items) => Value::Array(
            items
                .iter()
                .map(from_attribute_value)
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::M(map) => Value::Object(from_attribute_map(map)?),
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(
            items
                .iter()
                .map(|n| parse_number(n).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::B(_) => return Err(AttributeValueError::Unsupported("B")),
        AttributeValue::Bs(_) => return Err(AttributeValueError::Unsupported("BS")),
        _ => return Err(AttributeValueError::Unsupported("unknown")),
    })
}

/// A DynamoDB attribute map as a JSON object.
pub fn from_attribute_map(
    map: &HashMap<String, AttributeValue>,
) -> Result<Map<String, Value>, AttributeValueError> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), from_attribute_value(v)?)))
        .collect()
}

fn parse_number(n: &str) -> Result<Number, AttributeValueError> {
    if let Ok(i) = n.parse::<i64>() {
        return Ok(Number::from(i));
    }
    if let Ok(u) = n.parse::<u64>() {
        return Ok(Number::from(u));
    }
    n.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| AttributeValueError::BadNumber(n.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_every_json_kind() {
        let v = json!({
            "s": "text", "empty": "", "i": -9_223_372_036_854_775_808i64, "max": i64::MAX,
            "u": u64::MAX, "f": 1.5, "small": -0.000_125, "t": true, "f2": false, "n": null,
            "l": [1, "two", [3], {"four": 4}], "m": {"nested": {"deep": [null]}}, "el": [], "em": {}
        });
        let av = to_attribute_value(&v);
        assert_eq!(from_attribute_value(&av).unwrap(), v);
    }

    #[test]
    fn numbers_are_written_as_n_strings() {
        assert_eq!(
            to_attribute_value(&json!(42)),
            AttributeValue::N("42".into())
        );
        assert_eq!(
            to_attribute_value(&json!(i64::MIN)),
            AttributeValue::N(i64::MIN.to_string())
        );
        assert_eq!(
            to_attribute_value(&json!(0.5)),
            AttributeValue::N("0.5".into())
        );
    }

    #[test]
    fn reads_dynamodb_number_spellings() {
        assert_eq!(
            from_attribute_value(&AttributeValue::N("1E+2".into())).unwrap(),
            json!(100.0)
        );
        assert!(from_attribute_value(&AttributeValue::N("abc".into())).is_err());
        assert_eq!(
            from_attribute_value(&AttributeValue::Ss(vec!["a".into()])).unwrap(),
            json!(["a"])
        );
    }
}
