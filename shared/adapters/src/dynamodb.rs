//! [`ItemStore`] on a DynamoDB table (single-table design: string keys `pk` + `sk`).
//!
//! Reads are strongly consistent. One write goes out as a conditional PutItem/DeleteItem,
//! several as one TransactWriteItems. Queries map [`SkRange`] to a KeyConditionExpression
//! and `filter_contains` to `contains(#a, :v)`, which (as in DynamoDB) also matches a list
//! attribute holding that exact string.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TableStatus, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use serde::Deserialize;
use serde_json::Value;
use stamp_domain::ports::{
    Condition, Item, ItemStore, Query, QueryPage, SkRange, StoreError, WriteOp,
};

use crate::attribute_value::{from_attribute_map, to_attribute_map, to_attribute_value};
use crate::aws::SetupError;
use crate::rules::{self, Position};

/// The key attribute names of the table.
pub const PK: &str = "pk";
pub const SK: &str = "sk";

/// The storage definition shared with the deployment (infra/aws/resources.json).
pub const RESOURCES_JSON: &str = include_str!("../../../infra/aws/resources.json");

/// The ledger table on DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoItemStore {
    client: Client,
    table: String,
}

impl DynamoItemStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoItemStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn unavailable<E: std::error::Error>(what: &str, err: E) -> StoreError {
    StoreError::Unavailable(format!("DynamoDB {what}: {}", DisplayErrorContext(err)))
}

fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(pk.to_string())),
        (SK.to_string(), AttributeValue::S(sk.to_string())),
    ])
}

/// `pk` and `sk` are the key attributes; an attribute of the same name would clash with them.
fn check_attrs(item: &Item) -> Result<(), StoreError> {
    for reserved in [PK, SK] {
        if item.attrs.contains_key(reserved) {
            return Err(StoreError::Unavailable(format!(
                "item {}/{}: attribute name {reserved:?} is reserved for the key",
                item.pk, item.sk
            )));
        }
    }
    Ok(())
}

fn item_to_map(item: &Item) -> Result<HashMap<String, AttributeValue>, StoreError> {
    check_attrs(item)?;
    let mut map = to_attribute_map(&item.attrs);
    map.extend(key(&item.pk, &item.sk));
    Ok(map)
}

fn map_to_item(mut map: HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let mut take_key = |name: &str| match map.remove(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        other => Err(StoreError::Unavailable(format!(
            "DynamoDB returned an item whose {name} is not a string: {other:?}"
        ))),
    };
    let pk = take_key(PK)?;
    let sk = take_key(SK)?;
    let attrs = from_attribute_map(&map)
        .map_err(|e| StoreError::Unavailable(format!("item {pk}/{sk}: {e}")))?;
    Ok(Item { pk, sk, attrs })
}

/// A ConditionExpression with its names and values.
#[derive(Default)]
struct Expr {
    expression: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn condition_expr(condition: &Condition) -> Expr {
    match condition {
        Condition::None => Expr::default(),
        Condition::NotExists => Expr {
            expression: Some("attribute_not_exists(#pk)".into()),
            names: HashMap::from([("#pk".into(), PK.into())]),
            values: HashMap::new(),
        },
        // A missing item has no attribute, so the comparison also requires existence.
        Condition::AttrEquals(name, value) => Expr {
            expression: Some("#c = :c".into()),
            names: HashMap::from([("#c".into(), name.clone())]),
            values: HashMap::from([(":c".into(), to_attribute_value(value))]),
        },
    }
}

fn transact_item(table: &str, op: &WriteOp) -> Result<TransactWriteItem, StoreError> {
    let build_err = |e: aws_sdk_dynamodb::error::BuildError| {
        StoreError::Unavailable(format!("DynamoDB request: {e}"))
    };
    Ok(match op {
        WriteOp::Put { item, condition } => {
            let c = condition_expr(condition);
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item_to_map(item)?))
                .set_condition_expression(c.expression.clone())
                .set_expression_attribute_names(c.names())
                .set_expression_attribute_values(c.values())
                .build()
                .map_err(build_err)?;
            TransactWriteItem::builder().put(put).build()
        }
        WriteOp::Delete { pk, sk, condition } => {
            let c = condition_expr(condition);
            let delete = Delete::builder()
                .table_name(table)
                .set_key(Some(key(pk, sk)))
                .set_condition_expression(c.expression.clone())
                .set_expression_attribute_names(c.names())
                .set_expression_attribute_values(c.values())
                .build()
                .map_err(build_err)?;
            TransactWriteItem::builder().delete(delete).build()
        }
    })
}

impl DynamoItemStore {
    /// One operation needs no transaction: a conditional PutItem/DeleteItem is cheaper.
    async fn single(&self, op: &WriteOp) -> Result<(), StoreError> {
        let failed = |service_says_condition_failed: bool, what: &str, msg: String| {
            if service_says_condition_failed {
                StoreError::ConditionFailed(vec![0])
            } else {
                StoreError::Unavailable(format!("DynamoDB {what}: {msg}"))
            }
        };
        match op {
            WriteOp::Put { item, condition } => {
                let c = condition_expr(condition);
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item_to_map(item)?))
                    .set_condition_expression(c.expression.clone())
                    .set_expression_attribute_names(c.names())
                    .set_expression_attribute_values(c.values())
                    .send()
                    .await
                    .map_err(|e| {
                        let ccf = matches!(&e, SdkError::ServiceError(s) if s.err().is_conditional_check_failed_exception());
                        failed(ccf, "PutItem", DisplayErrorContext(&e).to_string())
                    })?;
            }
            WriteOp::Delete { pk, sk, condition } => {
                let c = condition_expr(condition);
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(pk, sk)))
                    .set_condition_expression(c.expression.clone())
                    .set_expression_attribute_names(c.names())
                    .set_expression_attribute_values(c.values())
                    .send()
                    .await
                    .map_err(|e| {
                        let ccf = matches!(&e, SdkError::ServiceError(s) if s.err().is_conditional_check_failed_exception());
                        failed(ccf, "DeleteItem", DisplayErrorContext(&e).to_string())
                    })?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ItemStore for DynamoItemStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        rules::check_key(pk, sk)?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        out.item.map(map_to_item).transpose()
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        rules::check_transaction(&ops)?;
        if let [op] = ops.as_slice() {
            return self.single(op).await;
        }
        let items = ops
            .iter()
            .map(|op| transact_item(&self.table, op))
            .collect::<Result<Vec<_>, _>>()?;
        // A transaction cancelled only because another one held an item at that moment
        // (TransactionConflict) is tried again: its conditions are judged afresh, so two
        // racing writers end as one success and one ConditionFailed, not a 503.
        let mut attempt = 0u32;
        let result = loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let conflicted = matches!(&result, Err(SdkError::ServiceError(service))
                if matches!(service.err(),
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t)
                        if t.cancellation_reasons().iter().any(|r| r.code() == Some("TransactionConflict"))
                        && !t.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))));
            if conflicted && attempt < 8 {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10u64 << attempt.min(5))).await;
                continue;
            }
            break result;
        };
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service))
                if service.err().is_transaction_canceled_exception() =>
            {
                let reasons = match service.err() {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t) => {
                        t.cancellation_reasons().to_vec()
                    }
                    _ => Vec::new(),
                };
                let failed: Vec<usize> = reasons
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                    .map(|(i, _)| i)
                    .collect();
                if failed.is_empty() {
                    let codes: Vec<&str> =
                        reasons.iter().map(|r| r.code().unwrap_or("?")).collect();
                    Err(StoreError::Unavailable(format!(
                        "DynamoDB TransactWriteItems cancelled: {codes:?}: {}",
                        DisplayErrorContext(service.err())
                    )))
                } else {
                    Err(StoreError::ConditionFailed(failed))
                }
            }
            Err(e) => Err(unavailable("TransactWriteItems", e)),
        }
    }

    async fn query(&self, query: Query) -> Result<QueryPage, StoreError> {
        // The same refusals as the embedded store (DynamoDB refuses these too).
        rules::check_query(&query)?;
        // The port's start_after is simply "strictly after this key". DynamoDB refuses an
        // ExclusiveStartKey outside the key condition (DynamoDB Local even refuses the upper
        // bound of a BETWEEN), so a start key before the range is dropped, and one at or past
        // its end answers an empty last page without asking.
        let mut start_after = query.start_after.as_deref();
        if let Some(after) = start_after {
            let at_upper_bound = matches!(&query.range, SkRange::Between(_, hi) if after == hi);
            match rules::position(&query.range, after) {
                Position::Before => start_after = None,
                Position::After => return Ok(QueryPage::default()),
                Position::In if at_upper_bound => return Ok(QueryPage::default()),
                Position::In => {}
            }
        }
        let mut names = HashMap::from([("#pk".to_string(), PK.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(query.pk.clone()))]);
        let mut key_condition = "#pk = :pk".to_string();
        // DynamoDB refuses an empty string as a key value, so the empty bounds are rewritten:
        // an empty prefix matches everything, an empty lower bound is no bound.
        match &query.range {
            SkRange::All => {}
            SkRange::Prefix(p) if p.is_empty() => {}
            SkRange::Prefix(p) => {
                key_condition.push_str(" AND begins_with(#sk, :p)");
                names.insert("#sk".into(), SK.into());
                values.insert(":p".into(), AttributeValue::S(p.clone()));
            }
            SkRange::Between(lo, hi) => {
                if hi.is_empty() {
                    // No sort key is empty, so nothing is in range.
                    return Ok(QueryPage::default());
                }
                names.insert("#sk".into(), SK.into());
                values.insert(":hi".into(), AttributeValue::S(hi.clone()));
                if lo.is_empty() {
                    key_condition.push_str(" AND #sk <= :hi");
                } else {
                    key_condition.push_str(" AND #sk BETWEEN :lo AND :hi");
                    values.insert(":lo".into(), AttributeValue::S(lo.clone()));
                }
            }
        }
        let mut filter = None;
        if let Some((attr, needle)) = &query.filter_contains {
            filter = Some("contains(#f, :f)".to_string());
            names.insert("#f".into(), attr.clone());
            values.insert(":f".into(), AttributeValue::S(needle.clone()));
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression(key_condition)
            .set_filter_expression(filter)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .set_exclusive_start_key(start_after.map(|sk| key(&query.pk, sk)))
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| unavailable("Query", e))?;
        let last_sk = match out.last_evaluated_key() {
            None => None,
            Some(k) => match k.get(SK) {
                Some(AttributeValue::S(s)) => Some(s.clone()),
                other => {
                    return Err(StoreError::Unavailable(format!(
                        "DynamoDB Query returned a LastEvaluatedKey without a string sk: {other:?}"
                    )))
                }
            },
        };
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(map_to_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QueryPage { items, last_sk })
    }
}

/// The `"table"` entry of resources.json. Unknown fields are refused so that anything added
/// there (an index, TTL) cannot be silently left out of the tables the tests create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct TableDefinition {
    attribute_definitions: Vec<AttributeDef>,
    key_schema: Vec<KeyDef>,
    billing_mode: String,
    /// The table's stream (the extract-rendering function reads its INSERTs).
    #[serde(default)]
    stream_specification: Option<StreamDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct StreamDef {
    stream_view_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AttributeDef {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct KeyDef {
    attribute_name: String,
    key_type: String,
}

fn table_definition() -> Result<TableDefinition, SetupError> {
    let all: Value =
        serde_json::from_str(RESOURCES_JSON).map_err(|e| SetupError::Definition(e.to_string()))?;
    let table = all
        .get("table")
        .cloned()
        .ok_or_else(|| SetupError::Definition("no \"table\" entry".into()))?;
    serde_json::from_value(table).map_err(|e| SetupError::Definition(format!("table: {e}")))
}

/// Creates the ledger table as infra/aws/resources.json defines it and waits until it is
/// ACTIVE. A table that already exists is left as it is.
pub async fn create_table(client: &Client, name: &str) -> Result<(), SetupError> {
    let def = table_definition()?;
    let build = |e: aws_sdk_dynamodb::error::BuildError| SetupError::Definition(e.to_string());
    let attribute_definitions = def
        .attribute_definitions
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(build)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let key_schema = def
        .key_schema
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(build)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(attribute_definitions))
        .set_key_schema(Some(key_schema))
        .billing_mode(BillingMode::from(def.billing_mode.as_str()))
        .set_stream_specification(
            def.stream_specification
                .as_ref()
                .map(|st| {
                    aws_sdk_dynamodb::types::StreamSpecification::builder()
                        .stream_enabled(true)
                        .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::from(
                            st.stream_view_type.as_str(),
                        ))
                        .build()
                        .map_err(build)
                })
                .transpose()?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(SdkError::ServiceError(s)) if s.err().is_resource_in_use_exception() => {}
        Err(e) => {
            return Err(SetupError::Aws(format!(
                "CreateTable {name}: {}",
                DisplayErrorContext(e)
            )))
        }
    }
    // Real DynamoDB takes seconds to a minute; DynamoDB Local is ACTIVE at once.
    for _ in 0..600 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| {
                SetupError::Aws(format!("DescribeTable {name}: {}", DisplayErrorContext(e)))
            })?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(SetupError::Timeout(format!(
        "table {name} did not become ACTIVE within 120 s"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_json_table_parses() {
        let def = table_definition().unwrap();
        assert_eq!(def.key_schema.len(), 2);
        assert_eq!(def.key_schema[0].attribute_name, PK);
        assert_eq!(def.key_schema[1].attribute_name, SK);
        // The extract-rendering function reads the stream's new images.
        assert_eq!(
            def.stream_specification
                .map(|s| s.stream_view_type)
                .as_deref(),
            Some("NEW_IMAGE")
        );
    }

    #[test]
    fn reserved_attribute_names_are_refused() {
        let item = Item::new("p", "s").with("pk", "x");
        assert!(matches!(
            item_to_map(&item),
            Err(StoreError::Unavailable(_))
        ));
    }

    #[test]
    fn items_round_trip_through_attribute_maps() {
        let item = Item::new("p", "s").with("n", 5).with("s", "");
        assert_eq!(map_to_item(item_to_map(&item).unwrap()).unwrap(), item);
    }
}
