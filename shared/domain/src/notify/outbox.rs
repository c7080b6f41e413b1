//! The outbox: every notice a company is sent, queued per channel, attempted by webhook
//! (Standard Webhooks, retried for 24 h) or e-mail, and drained by the scheduled job.

use super::{check_target, digest, webhook, Attempt, DeliveryState, Notifications, StoredSettings};
use crate::auth::{require_company, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::Orgnr;
use crate::pagination::{Cursor, Page};
use crate::ports::{Condition, Item, OutgoingMail, SkRange, WriteOp};
use crate::table::{from_item, item_of, keys};
use crate::time::sortable_utc;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Webhook,
    Email,
}

/// One notification sent to a company, with every attempt (`GET …/notifications/deliveries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The `webhook-id` of a webhook message (`msg_…`), or Stamp's id of an e-mail.
    pub id: String,
    pub channel: Channel,
    /// `daily_digest`, `partner_silence` or `test`.
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Webhook URL or e-mail addresses.
    pub target: String,
}

/// What a drain of the webhook queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DrainSummary {
    pub attempted: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

pub(super) fn delivery_sk(created_at: DateTime<Utc>, id: &str) -> String {
    // Inverted milliseconds: newest first in ascending key order.
    let inv = i64::MAX - created_at.timestamp_millis();
    format!("{inv:019}#{id}")
}

pub(super) fn queue_sk(due: DateTime<Utc>, ck: &CompanyKey, dsk: &str) -> String {
    format!("{}#{ck}#{dsk}", sortable_utc(&due))
}

pub(super) fn delivery_of(item: &Item) -> Result<Delivery, DomainError> {
    let mut i = item.clone();
    i.attrs.remove("body");
    from_item(&i)
}

impl Notifications {
    /// `GET …/notifications/deliveries` (company_admin): newest first.
    pub async fn deliveries(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Delivery>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let ck = self.ledger.company_key(orgnr);
        let mut q = crate::ports::Query::new(keys::deliveries(&ck), SkRange::All);
        q.start_after = cursor.map(|c| c.key.clone());
        q.limit = limit + 1;
        let mut items = Vec::new();
        loop {
            let page = self.ledger.store().query(q.clone()).await?;
            items.extend(page.items);
            match page.last_sk {
                Some(sk) if items.len() <= limit => q.start_after = Some(sk),
                _ => break,
            }
        }
        let next = (items.len() > limit).then(|| Cursor::after(items[limit - 1].sk.clone()));
        items.truncate(limit);
        let list = items
            .iter()
            .map(delivery_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: list, next })
    }

    /// Sends a test message to the company's webhook and e-mail addresses now (the
    /// portal's "send a test message").
    pub async fn send_test(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Vec<Delivery>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let ck = self.ledger.company_key(orgnr);
        let Some(settings) = self.stored(&ck).await? else {
            return Err(DomainError::Conflict {
                code: "no_notification_settings",
                detail: "set a webhook URL or e-mail addresses first".into(),
            });
        };
        let now = self.clock.now();
        let payload = digest::TestPayload {
            company_orgnr: orgnr.to_string(),
            sent_at: now,
        };
        let mut out = Vec::new();
        if settings.webhook_url.is_some() {
            let body = digest::envelope("test", now, &payload)?;
            out.push(self.enqueue_webhook(&ck, &settings, "test", body).await?);
        }
        if !settings.emails.is_empty() {
            let mail = digest::test_mail(&self.mail_from, &settings.emails, orgnr)?;
            out.push(self.send_mail(&ck, "test", mail).await?);
        }
        self.drain_company(&ck).await?;
        Ok(out)
    }

    pub(super) async fn save_delivery(
        &self,
        ck: &CompanyKey,
        d: &Delivery,
        extra: Vec<(&str, serde_json::Value)>,
        condition: Condition,
    ) -> Result<(), DomainError> {
        let mut item = item_of(keys::deliveries(ck), delivery_sk(d.created_at, &d.id), d)?;
        for (k, v) in extra {
            item.attrs.insert(k.into(), v);
        }
        self.ledger
            .store()
            .transact(vec![WriteOp::Put { item, condition }])
            .await?;
        Ok(())
    }

    /// Stores a webhook message and queues its first attempt (due at once).
    pub async fn enqueue_webhook(
        &self,
        ck: &CompanyKey,
        settings: &StoredSettings,
        kind: &str,
        body: Vec<u8>,
    ) -> Result<Delivery, DomainError> {
        let Some(url) = settings.webhook_url.clone() else {
            return Err(DomainError::Internal("no webhook URL".into()));
        };
        let now = self.clock.now();
        let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
        let d = Delivery {
            id: id.clone(),
            channel: Channel::Webhook,
            kind: kind.into(),
            created_at: now,
            state: DeliveryState::Pending,
            attempts: Vec::new(),
            next_attempt_at: Some(now),
            target: url,
        };
        let dsk = delivery_sk(now, &id);
        let body = String::from_utf8(body).map_err(|e| DomainError::Internal(e.to_string()))?;
        let mut item = item_of(keys::deliveries(ck), dsk.clone(), &d)?;
        item.attrs.insert("body".into(), body.into());
        let queued = Item::new(keys::WEBHOOK_QUEUE, queue_sk(now, ck, &dsk))
            .with("ck", ck)
            .with("dsk", dsk);
        self.ledger
            .store()
            .transact(vec![WriteOp::create(item), WriteOp::put(queued)])
            .await?;
        Ok(d)
    }

    /// Sends an e-mail now and records it (SES queues and retries on its side).
    pub async fn send_mail(
        &self,
        ck: &CompanyKey,
        kind: &str,
        mail: OutgoingMail,
    ) -> Result<Delivery, DomainError> {
        let now = self.clock.now();
        let id = format!("mail_{}", uuid::Uuid::now_v7().simple());
        let (state, attempt) = match &self.mailer {
            None => (
                DeliveryState::Failed,
                Attempt {
                    at: now,
                    status: None,
                    error: Some("no mail service configured".into()),
                },
            ),
            Some(m) => match m.send(&mail).await {
                Ok(_) => (
                    DeliveryState::Delivered,
                    Attempt {
                        at: now,
                        status: Some(250),
                        error: None,
                    },
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "e-mail not sent");
                    (
                        DeliveryState::Failed,
                        Attempt {
                            at: now,
                            status: None,
                            error: Some(e),
                        },
                    )
                }
            },
        };
        let d = Delivery {
            id,
            channel: Channel::Email,
            kind: kind.into(),
            created_at: now,
            state,
            attempts: vec![attempt],
            next_attempt_at: None,
            target: mail.to.join(", "),
        };
        self.save_delivery(ck, &d, Vec::new(), Condition::None)
            .await?;
        Ok(d)
    }

    /// One round of the webhook-retry job: every due message of every company. Companies
    /// are worked on side by side (at most [`Notifications::concurrency`]), each attempt
    /// bounded by [`Notifications::timeout`], so a slow endpoint delays only its own
    /// company's messages.
    pub async fn drain(&self) -> Result<DrainSummary, DomainError> {
        let now = self.clock.now();
        let due = self
            .ledger
            .store()
            .query_all(
                keys::WEBHOOK_QUEUE,
                SkRange::Between("0".into(), format!("{}~", sortable_utc(&now))),
            )
            .await?;
        let mut by_company: std::collections::BTreeMap<CompanyKey, Vec<Item>> = Default::default();
        for q in due {
            if let Some(ck) = q.str("ck") {
                by_company
                    .entry(CompanyKey::from_stored(ck))
                    .or_default()
                    .push(q);
            }
        }
        let results: Vec<Result<DrainSummary, DomainError>> = futures::stream::iter(by_company)
            .map(|(ck, items)| async move { self.drain_items(&ck, items).await })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let mut total = DrainSummary::default();
        for r in results {
            match r {
                Ok(s) => {
                    total.attempted += s.attempted;
                    total.delivered += s.delivered;
                    total.retrying += s.retrying;
                    total.failed += s.failed;
                }
                Err(e) => tracing::warn!(error = %e, "draining a company's webhooks failed"),
            }
        }
        if total.attempted > 0 {
            tracing::info!(
                attempted = total.attempted,
                delivered = total.delivered,
                retrying = total.retrying,
                failed = total.failed,
                "webhook queue drained"
            );
        }
        Ok(total)
    }

    /// The due messages of one company (right after they were queued).
    pub async fn drain_company(&self, ck: &CompanyKey) -> Result<DrainSummary, DomainError> {
        let now = self.clock.now();
        let due: Vec<Item> = self
            .ledger
            .store()
            .query_all(
                keys::WEBHOOK_QUEUE,
                SkRange::Between("0".into(), format!("{}~", sortable_utc(&now))),
            )
            .await?
            .into_iter()
            .filter(|q| q.str("ck") == Some(ck))
            .collect();
        self.drain_items(ck, due).await
    }

    pub(super) async fn drain_items(
        &self,
        ck: &CompanyKey,
        queued: Vec<Item>,
    ) -> Result<DrainSummary, DomainError> {
        let mut s = DrainSummary::default();
        let settings = self.stored(ck).await?;
        for q in queued {
            let Some(dsk) = q.str("dsk") else { continue };
            let Some(item) = self.ledger.store().get(&keys::deliveries(ck), dsk).await? else {
                self.unqueue(&q).await?;
                continue;
            };
            let mut d = delivery_of(&item)?;
            let body = item.str("body").unwrap_or_default().as_bytes().to_vec();
            let now = self.clock.now();
            // The settings may have changed since: a removed or replaced URL ends the message.
            let secret = settings
                .as_ref()
                .filter(|st| st.webhook_url.as_deref() == Some(d.target.as_str()))
                .and_then(|st| st.webhook_secret.clone());
            let attempt = match secret {
                None => Attempt {
                    at: now,
                    status: None,
                    error: Some("webhook URL removed or changed".into()),
                },
                Some(secret) => self.attempt(&d.target, &secret, &d.id, &body, now).await,
            };
            s.attempted += 1;
            let ok = attempt.status.is_some_and(|c| (200..300).contains(&c));
            let gave_up_reason = attempt.error.as_deref() == Some("webhook URL removed or changed");
            d.attempts.push(attempt);
            let mut ops = vec![WriteOp::Delete {
                pk: q.pk.clone(),
                sk: q.sk.clone(),
                condition: Condition::None,
            }];
            if ok {
                d.state = DeliveryState::Delivered;
                d.next_attempt_at = None;
                s.delivered += 1;
            } else {
                match webhook::next_due(d.created_at, d.attempts.len()).filter(|_| !gave_up_reason)
                {
                    Some(due) => {
                        d.next_attempt_at = Some(due);
                        s.retrying += 1;
                        ops.push(WriteOp::put(
                            Item::new(keys::WEBHOOK_QUEUE, queue_sk(due, ck, dsk))
                                .with("ck", ck)
                                .with("dsk", dsk),
                        ));
                    }
                    None => {
                        d.state = DeliveryState::Failed;
                        d.next_attempt_at = None;
                        s.failed += 1;
                    }
                }
            }
            let mut updated = item_of(keys::deliveries(ck), dsk.to_string(), &d)?;
            updated.attrs.insert(
                "body".into(),
                item.attrs.get("body").cloned().unwrap_or_default(),
            );
            ops.push(WriteOp::put(updated));
            self.ledger.store().transact(ops).await?;
        }
        Ok(s)
    }

    pub(super) async fn unqueue(&self, q: &Item) -> Result<(), DomainError> {
        Ok(self
            .ledger
            .store()
            .transact(vec![WriteOp::Delete {
                pk: q.pk.clone(),
                sk: q.sk.clone(),
                condition: Condition::None,
            }])
            .await?)
    }

    pub(super) async fn attempt(
        &self,
        url: &str,
        secret: &str,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Attempt {
        let Some(sender) = &self.sender else {
            return Attempt {
                at: now,
                status: None,
                error: Some("no webhook sender configured".into()),
            };
        };
        // Resolved again at every attempt: the name may since point elsewhere.
        if let Err(e) = check_target(url, self.policy).await {
            return Attempt {
                at: now,
                status: None,
                error: Some(e),
            };
        }
        let headers = match webhook::headers(secret, id, now, body) {
            Ok(h) => h,
            Err(e) => {
                return Attempt {
                    at: now,
                    status: None,
                    error: Some(e),
                }
            }
        };
        match sender.post(url, &headers, body, self.timeout).await {
            Ok(status) => Attempt {
                at: now,
                status: Some(status),
                error: None,
            },
            Err(e) => Attempt {
                at: now,
                status: None,
                error: Some(e),
            },
        }
    }
}
