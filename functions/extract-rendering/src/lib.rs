//! The extract-rendering function's handler: DynamoDB stream records of the ledger table
//! in, one rendered extract per pending-extract INSERT out.
//!
//! The event source mapping (template.yaml) only passes INSERTs whose new image has
//! `item_type = "extract"`; the handler checks that again, so a record of anything else
//! is skipped rather than rendered. Rendering is idempotent (an extract that is no longer
//! pending is left alone), so a retried batch does no harm. A record whose rendering
//! failed for want of storage is reported as the batch's first failure: Lambda retries
//! from it (ReportBatchItemFailures), at most as often as the mapping allows; an extract
//! that cannot be rendered at all is marked `failed` and not retried.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_dynamo::AttributeValue;
use stamp_domain::extracts::{Extracts, RenderOutcome, ITEM_TYPE};

fn string(item: &serde_dynamo::Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The `(pk, sk)` of a pending extract's INSERT, or `None` for any other record.
pub fn extract_keys(record: &EventRecord) -> Option<(String, String)> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image = &record.change.new_image;
    if string(image, "item_type").as_deref() != Some(ITEM_TYPE)
        || string(image, "status").as_deref() != Some("pending")
    {
        return None;
    }
    let keys = &record.change.keys;
    Some((
        string(keys, "pk").or_else(|| string(image, "pk"))?,
        string(keys, "sk").or_else(|| string(image, "sk"))?,
    ))
}

/// Renders every pending extract of a batch of stream records.
pub async fn handle(extracts: &Extracts, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some((pk, sk)) = extract_keys(record) else {
            continue;
        };
        match extracts.render(&pk, &sk).await {
            Ok(RenderOutcome::Ready { bytes, .. }) => {
                tracing::info!(extract_id = %sk, bytes, "extract ready")
            }
            Ok(outcome) => tracing::info!(extract_id = %sk, ?outcome, "extract not rendered"),
            Err(e) => {
                tracing::warn!(extract_id = %sk, error = %e, "extract rendering will be retried");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record.change.sequence_number.clone();
                response.batch_item_failures.push(failure);
                // Lambda retries from the first failure; the rest come again with it.
                break;
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use stamp_domain::auth::Claims;
    use stamp_domain::extracts::{Dispatch, ExtractStatus, OrderBody};
    use stamp_domain::governance::admin::{ActivationRequest, Admin, NewPartner};
    use stamp_domain::identity::pseudonym::PseudonymKey;
    use stamp_domain::identity::Orgnr;
    use stamp_domain::intake::{DeliveryFormat, ImportService};
    use stamp_domain::memory::{MemoryArchive, MemoryExtractFiles, MemoryItemStore};
    use stamp_domain::ports::{ItemStore, Query, QueryPage, StoreError, SystemClock, WriteOp};
    use stamp_domain::table::Ledger;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// A store that can be made unavailable.
    struct Flaky {
        inner: MemoryItemStore,
        down: AtomicBool,
    }

    #[async_trait::async_trait]
    impl ItemStore for Flaky {
        async fn get(
            &self,
            pk: &str,
            sk: &str,
        ) -> Result<Option<stamp_domain::ports::Item>, StoreError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("down".into()));
            }
            self.inner.get(pk, sk).await
        }
        async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
            self.inner.transact(ops).await
        }
        async fn query(&self, q: Query) -> Result<QueryPage, StoreError> {
            self.inner.query(q).await
        }
    }

    fn claims(sub: &str, roles: &[&str], companies: &[&str]) -> Claims {
        Claims {
            sub: sub.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            companies: companies.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    /// A stream record as DynamoDB sends it for a put of `(pk, sk)`.
    fn stream_record(name: &str, seq: &str, pk: &str, sk: &str, image: Value) -> Value {
        json!({
            "eventID": format!("e{seq}"), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "eu-north-1",
            "eventSourceARN": "arn:aws:dynamodb:eu-north-1:123456789012:table/ledger/stream/2026-01-01T00:00:00.000",
            "dynamodb": {
                "ApproximateCreationDateTime": 1767225600.0,
                "Keys": { "pk": { "S": pk }, "sk": { "S": sk } },
                "NewImage": image,
                "SequenceNumber": seq, "SizeBytes": 300, "StreamViewType": "NEW_IMAGE"
            }
        })
    }

    #[tokio::test]
    async fn a_synthetic_stream_event_renders_the_pending_extract_and_skips_the_rest() {
        let store = Arc::new(Flaky {
            inner: MemoryItemStore::new(),
            down: AtomicBool::new(false),
        });
        let ledger = Ledger::new(store.clone(), PseudonymKey::new(b"k".to_vec()));
        let clock = Arc::new(SystemClock);
        let admin = Admin::new(ledger.clone(), clock.clone());
        let org = "5569999997";
        let orgnr = Orgnr::parse(org).unwrap();
        admin
            .accredit_partner(
                &claims("op", &["operator"], &[]),
                NewPartner {
                    partner_id: Some("p1".into()),
                    name: Some("L".into()),
                    feed_url: None,
                },
            )
            .await
            .unwrap();
        let company_admin = claims("a", &["company_admin", "company_user"], &[org]);
        let activation = ActivationRequest {
            terms_version: Some("1".into()),
            company_name: Some("Bygg AB".into()),
            fiscal_year_end_month: None,
        };
        admin
            .activate(&company_admin, &orgnr, activation)
            .await
            .unwrap();
        let import = ImportService::new(
            ledger.clone(),
            Arc::new(MemoryArchive::new()),
            clock.clone(),
        );
        let ev = |id: &str, dir: &str, at: &str| {
            json!({"event_id": id, "company_orgnr": org, "company_name": "Bygg AB", "site_id": "STH2026000001",
                   "person_id": "198112189876", "person_name": "Åsa Öberg", "direction": dir, "occurred_at": at})
        };
        let body = json!({"batch_id": "b1", "events": [ev("i", "in", "2026-03-02T07:00:00+01:00"), ev("o", "out", "2026-03-02T16:00:00+01:00")]});
        let partner = Claims {
            partner_id: Some("p1".into()),
            ..claims("p", &["partner"], &[])
        };
        import
            .push(
                &partner,
                DeliveryFormat::Json,
                body.to_string().as_bytes(),
                None,
            )
            .await
            .unwrap();

        let files = Arc::new(MemoryExtractFiles::new());
        let extracts = Extracts::new(ledger.clone(), files.clone(), clock, Dispatch::Stream);
        let order = OrderBody {
            kind: Some("authority".into()),
            format: Some("csv".into()),
            from: Some("2026-03-01".into()),
            to: Some("2026-04-01".into()),
            ..Default::default()
        };
        let record = extracts.order(&company_admin, &orgnr, order).await.unwrap();
        let pk = ledger.company_extracts_pk(&orgnr);
        let image = json!({
            "pk": {"S": pk}, "sk": {"S": record.id}, "item_type": {"S": "extract"}, "status": {"S": "pending"},
            "kind": {"S": "authority"}, "format": {"S": "csv"}, "version": {"N": "0"}
        });
        let event: Event = serde_json::from_value(json!({ "Records": [
            // A ledger item of another kind, a later update of the extract, and an extract
            // that does not exist: all passed over.
            stream_record("INSERT", "100", "CO#x#PEOPLE", "p1", json!({"pk": {"S": "CO#x#PEOPLE"}, "sk": {"S": "p1"}, "person_name": {"S": "x"}})),
            stream_record("MODIFY", "101", &pk, &record.id, image.clone()),
            stream_record("INSERT", "102", &pk, "no-such-extract", json!({"item_type": {"S": "extract"}, "status": {"S": "pending"}})),
            stream_record("INSERT", "103", &pk, &record.id, image.clone()),
        ]}))
        .unwrap();
        assert_eq!(event.records.iter().filter_map(extract_keys).count(), 2);
        let response = handle(&extracts, event.clone()).await;
        assert!(response.batch_item_failures.is_empty());
        let stored = ledger.extract(&pk, &record.id).await.unwrap().unwrap();
        assert_eq!(stored.status, ExtractStatus::Ready);
        let file = stored.file.unwrap();
        let csv = String::from_utf8(files.get_for_test(&file.key)).unwrap();
        assert!(
            csv.contains("Åsa Öberg,19811218-9876,2026-03-02,07:00:00,16:00:00,540"),
            "{csv}"
        );
        // Delivered again: nothing changes.
        assert!(handle(&extracts, event)
            .await
            .batch_item_failures
            .is_empty());
        assert_eq!(
            ledger
                .extract(&pk, &record.id)
                .await
                .unwrap()
                .unwrap()
                .version,
            stored.version
        );

        // With the table unavailable, the record is reported for a retry.
        let order = OrderBody {
            kind: Some("authority".into()),
            format: Some("json".into()),
            from: Some("2026-03-01".into()),
            to: Some("2026-04-01".into()),
            ..Default::default()
        };
        let second = extracts.order(&company_admin, &orgnr, order).await.unwrap();
        store.down.store(true, Ordering::SeqCst);
        let event: Event = serde_json::from_value(
            json!({ "Records": [stream_record("INSERT", "200", &pk, &second.id, image)] }),
        )
        .unwrap();
        let response = handle(&extracts, event).await;
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(
            response.batch_item_failures[0].item_identifier.as_deref(),
            Some("200")
        );
        store.down.store(false, Ordering::SeqCst);
        assert_eq!(
            ledger
                .extract(&pk, &second.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            ExtractStatus::Pending
        );
    }
}
