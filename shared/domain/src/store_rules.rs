//! The DynamoDB semantics every [`ItemStore`](crate::ports::ItemStore) shares: request
//! validation, condition evaluation, `contains` filtering and sort-key ranges. The
//! DynamoDB adapter checks requests with it before sending them, the embedded store and
//! the in-memory fake evaluate with it, and the conformance tests keep them in step.

use std::collections::HashSet;

use crate::ports::{Condition, Query, SkRange, StoreError, WriteOp, MAX_TRANSACTION_OPS};
use serde_json::{Map, Value};

pub const PK: &str = "pk";
pub const SK: &str = "sk";

fn invalid(msg: String) -> StoreError {
    StoreError::Unavailable(format!("invalid request: {msg}"))
}

/// DynamoDB refuses empty key values.
pub fn check_key(pk: &str, sk: &str) -> Result<(), StoreError> {
    if pk.is_empty() || sk.is_empty() {
        return Err(invalid(format!("empty key value in {pk:?}/{sk:?}")));
    }
    Ok(())
}

/// What DynamoDB's TransactWriteItems refuses before looking at any condition.
pub fn check_transaction(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(invalid(format!(
            "{} operations in one transaction, at most {MAX_TRANSACTION_OPS}",
            ops.len()
        )));
    }
    let mut seen = HashSet::new();
    for op in ops {
        let (pk, sk) = op.keys();
        check_key(pk, sk)?;
        if !seen.insert((pk, sk)) {
            return Err(invalid(format!(
                "item {pk}/{sk} appears twice in one transaction"
            )));
        }
        if let WriteOp::Put { item, .. } = op {
            for reserved in [PK, SK] {
                if item.attrs.contains_key(reserved) {
                    return Err(invalid(format!(
                        "item {pk}/{sk}: attribute name {reserved:?} is reserved for the key"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Whether `condition` holds for the stored item (`None` when absent).
pub fn condition_holds(
    condition: &Condition,
    pk: &str,
    sk: &str,
    existing: Option<&Map<String, Value>>,
) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => existing.is_none(),
        Condition::AttrEquals(name, expected) => {
            let Some(attrs) = existing else { return false };
            match name.as_str() {
                PK => json_eq(&Value::String(pk.to_string()), expected),
                SK => json_eq(&Value::String(sk.to_string()), expected),
                _ => attrs
                    .get(name)
                    .is_some_and(|actual| json_eq(actual, expected)),
            }
        }
    }
}

/// Equality as DynamoDB compares values: numbers by value (`1` = `1.0`), the rest
/// structurally.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// DynamoDB's `contains(#a, :v)` with a string operand: a string attribute containing it
/// as a substring, or a list attribute with an element equal to it.
pub fn contains_matches(attrs: &Map<String, Value>, attr: &str, needle: &str) -> bool {
    match attrs.get(attr) {
        Some(Value::String(s)) => s.contains(needle),
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(needle)),
        _ => false,
    }
}

/// What DynamoDB's Query refuses.
pub fn check_query(query: &Query) -> Result<(), StoreError> {
    if query.pk.is_empty() {
        return Err(invalid("empty partition key".into()));
    }
    if query.limit == 0 {
        return Err(invalid("query limit must be at least 1".into()));
    }
    if let SkRange::Between(lo, hi) = &query.range {
        if lo > hi {
            return Err(invalid(format!(
                "query range lower bound {lo:?} is above upper bound {hi:?}"
            )));
        }
    }
    if let Some((attr, _)) = &query.filter_contains {
        if attr == PK || attr == SK {
            return Err(invalid(format!(
                "a filter cannot use the key attribute {attr:?}"
            )));
        }
    }
    Ok(())
}

/// Where a sort key lies relative to a range, walking keys in ascending order.
#[derive(Debug, PartialEq, Eq)]
pub enum Position {
    Before,
    In,
    After,
}

pub fn position(range: &SkRange, sk: &str) -> Position {
    match range {
        SkRange::All => Position::In,
        SkRange::Prefix(p) => {
            if sk.starts_with(p.as_str()) {
                Position::In
            } else if sk < p.as_str() {
                Position::Before
            } else {
                Position::After
            }
        }
        SkRange::Between(lo, hi) => {
            if sk < lo.as_str() {
                Position::Before
            } else if sk > hi.as_str() {
                Position::After
            } else {
                Position::In
            }
        }
    }
}

/// The first sort key to read from: the start of the range, or just after `start_after`
/// when that lies further on. Returned as (key, inclusive).
pub fn start_bound<'a>(range: &'a SkRange, start_after: Option<&'a str>) -> (&'a str, bool) {
    let range_start = match range {
        SkRange::All => "",
        SkRange::Prefix(p) => p.as_str(),
        SkRange::Between(lo, _) => lo.as_str(),
    };
    match start_after {
        Some(after) if after >= range_start => (after, false),
        _ => (range_start, true),
    }
}

#[cfg(test)]
mod tests;
