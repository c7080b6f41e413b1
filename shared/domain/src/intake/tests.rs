//! The shared import path on the in-memory ports: an upload indexes exactly what a push
//! of the same bytes does, an interrupted delivery resumes as if it had not been, and a
//! company's index rebuilt from the archive equals the live one.

use crate::auth::Claims;
use crate::governance::admin::{ActivationRequest, Admin, NewPartner};
use crate::identity::pseudonym::PseudonymKey;
use crate::identity::Orgnr;
use crate::intake::{upload_key, DeliveryFormat, ImportService, NewUpload};
use crate::memory::{MemoryArchive, MemoryItemStore};
use crate::ports::{
    ArchiveError, Item, ItemStore, Query, QueryPage, StoreError, SystemClock, UploadUrls, WriteOp,
};
use crate::table::{Ledger, UploadStatus};
use crate::testing::pid;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const ORG: &str = "5569999997";
const PARTNER: &str = "ledger-1";

/// A store that fails every transaction after the first `budget` (a crash mid-import).
struct Flaky {
    inner: MemoryItemStore,
    budget: AtomicUsize,
}

#[async_trait]
impl ItemStore for Flaky {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if self
            .budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
            .is_err()
        {
            return Err(StoreError::Unavailable("crashed".into()));
        }
        self.inner.transact(ops).await
    }
    async fn query(&self, q: Query) -> Result<QueryPage, StoreError> {
        self.inner.query(q).await
    }
}

struct Env {
    store: Arc<Flaky>,
    archive: Arc<MemoryArchive>,
    import: ImportService,
    admin: Admin,
}

fn env_on(archive: Arc<MemoryArchive>) -> Env {
    let store = Arc::new(Flaky {
        inner: MemoryItemStore::new(),
        budget: AtomicUsize::new(usize::MAX),
    });
    let ledger = Ledger::new(store.clone(), PseudonymKey::new(b"unit-test-key".to_vec()));
    Env {
        import: ImportService::new(ledger.clone(), archive.clone(), Arc::new(SystemClock)),
        admin: Admin::new(ledger, Arc::new(SystemClock)),
        store,
        archive,
    }
}

async fn ready(env: &Env) {
    let op = Claims {
        sub: "op".into(),
        roles: vec!["operator".into()],
        ..Default::default()
    };
    env.admin
        .accredit_partner(
            &op,
            NewPartner {
                partner_id: Some(PARTNER.into()),
                name: Some("L".into()),
                feed_url: None,
            },
        )
        .await
        .unwrap();
    let admin = Claims {
        sub: "adm".into(),
        roles: vec!["company_admin".into()],
        companies: vec![ORG.into()],
        ..Default::default()
    };
    env.admin
        .activate(
            &admin,
            &Orgnr::parse(ORG).unwrap(),
            ActivationRequest {
                terms_version: Some("1".into()),
                company_name: Some("B".into()),
                fiscal_year_end_month: None,
            },
        )
        .await
        .unwrap();
}

fn ev(id: &str, person: usize, dir: &str, at: &str) -> Value {
    let people = ["198112189876", "199001011239", "198503152384"];
    json!({
        "event_id": id, "company_orgnr": ORG, "company_name": "Bygg AB", "site_id": "STH2026000001",
        "person_id": people[person % 3], "person_name": format!("Person {}", person % 3), "direction": dir,
        "occurred_at": at, "recorded_at": at,
    })
}

/// 2,600 events over three chunks: corrections before and after what they correct,
/// repeats within and across chunks, a conflict, a void, an invalid event.
fn delivery() -> Vec<Value> {
    let mut events = Vec::new();
    for n in 0..1300 {
        let day = 1 + n / 60;
        let minute = n % 60;
        events.push(ev(
            &format!("e{n}-in"),
            n,
            "in",
            &format!(
                "2026-{:02}-{:02}T07:{minute:02}:00+01:00",
                1 + day / 28,
                1 + day % 28
            ),
        ));
        events.push(ev(
            &format!("e{n}-out"),
            n,
            "out",
            &format!(
                "2026-{:02}-{:02}T16:{minute:02}:00+01:00",
                1 + day / 28,
                1 + day % 28
            ),
        ));
    }
    let mut fix = events[2100].clone();
    fix["event_id"] = json!("fix-early");
    fix["corrects"] = json!("e1050-in");
    fix["occurred_at"] = json!("2026-01-18T07:30:00+01:00");
    events.insert(5, fix);
    let mut void = events[30].clone();
    void["event_id"] = json!("void-1");
    void["corrects"] = json!("e14-in");
    void["void"] = json!(true);
    events.push(void);
    events.push(events[1500].clone());
    let mut conflicting = events[1600].clone();
    conflicting["person_name"] = json!("Someone Else");
    events.push(conflicting);
    events.push(events[7].clone());
    let mut bad = events[9].clone();
    bad["site_id"] = json!("nope");
    bad["event_id"] = json!("bad-1");
    events.push(bad);
    events
}

struct Urls;

#[async_trait]
impl UploadUrls for Urls {
    async fn presign_put(&self, key: &str, _: std::time::Duration) -> Result<String, ArchiveError> {
        Ok(format!("memory://{key}"))
    }
}

/// Items with what differs between two receipts of the same bytes taken out.
fn normalised(items: Vec<Item>) -> Vec<(String, String, Value)> {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in [
                    "received_at",
                    "archive_key",
                    "last_delivery",
                    "last_events_at",
                    "archive",
                    "activated_at",
                    "accredited_at",
                    "terms_accepted_at",
                    "granted_at",
                ] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    items
        .into_iter()
        .filter(|i| {
            !i.pk.starts_with("UPLOAD#") && i.sk != "UPLOAD" && i.sk != "START" && i.sk != "BATCH"
        })
        .flat_map(|i| {
            let mut v = Value::Object(i.attrs);
            strip(&mut v);
            if i.pk.ends_with("#SITES") {
                v.as_object_mut().unwrap().remove("version");
            }
            // How new events were grouped into day chunks follows the transactions of
            // each run (an upload streams in chunks): compare the events they hold.
            if i.sk.starts_with("C#") {
                let events = v["events"].as_array().cloned().unwrap_or_default();
                return events
                    .into_iter()
                    .map(|e| {
                        let sk = format!("chunked {}/{}", e["partner_id"], e["event_id"]);
                        (i.pk.clone(), sk, e)
                    })
                    .collect::<Vec<_>>();
            }
            vec![(i.pk, i.sk, v)]
        })
        .collect()
}

#[track_caller]
fn assert_same(a: Vec<(String, String, Value)>, b: Vec<(String, String, Value)>) {
    let am: std::collections::BTreeMap<_, _> = a.iter().map(|(p, s, v)| ((p, s), v)).collect();
    let bm: std::collections::BTreeMap<_, _> = b.iter().map(|(p, s, v)| ((p, s), v)).collect();
    let mut diffs = Vec::new();
    for (k, v) in &am {
        match bm.get(k) {
            None => diffs.push(format!("only left: {k:?} {v}")),
            Some(w) if w != v => diffs.push(format!("differs: {k:?}\n  {v}\n  {w}")),
            _ => {}
        }
    }
    for (k, v) in &bm {
        if !am.contains_key(k) {
            diffs.push(format!("only right: {k:?} {v}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences, first: {:#?}",
        diffs.len(),
        &diffs[..diffs.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_indexes_exactly_what_a_push_does() {
    let body = json!({ "batch_id": "big-1", "events": delivery() })
        .to_string()
        .into_bytes();
    let pushed = env_on(Arc::new(MemoryArchive::new()));
    ready(&pushed).await;
    let push = pushed
        .import
        .import(&pid(PARTNER), DeliveryFormat::Json, &body, None)
        .await
        .unwrap();

    let uploaded = env_on(Arc::new(MemoryArchive::new()));
    ready(&uploaded).await;
    let claims = Claims {
        sub: "p".into(),
        roles: vec!["partner".into()],
        partner_id: Some(PARTNER.into()),
        ..Default::default()
    };
    let created = uploaded
        .import
        .create_upload(
            &claims,
            NewUpload {
                batch_id: Some("big-1".into()),
                format: None,
            },
            &Urls,
        )
        .await
        .unwrap();
    let upload_id = created.upload_id.as_str();
    uploaded
        .archive
        .stage(&upload_key(&pid(PARTNER), upload_id), body.clone());
    let outcome = uploaded
        .import
        .import_upload(&pid(PARTNER), upload_id)
        .await
        .unwrap();
    assert_eq!(
        outcome.status,
        UploadStatus::Imported,
        "{:?}",
        outcome.answer
    );
    let answer = outcome.answer.imported().expect("the batch answer");
    assert_eq!(push.accepted, answer.accepted);
    assert_eq!(push.duplicates, answer.duplicates);
    assert_eq!(push.rejected, answer.rejected);
    assert_eq!(answer.rejected_count, Some(2), "{:?}", answer.rejected);
    assert_eq!(push.duplicates, 2);
    assert_same(
        normalised(pushed.store.inner.dump()),
        normalised(uploaded.store.inner.dump()),
    );
    // The upload is archived, its receipt too, and the staged object is gone.
    let keys = uploaded.archive.keys();
    assert!(keys
        .iter()
        .any(|k| k.starts_with("batches/") && uploaded.archive.retain_until(k).is_some()));
    assert!(keys.iter().any(|k| k.starts_with("receipts/")));
    assert!(!keys.iter().any(|k| k.starts_with("uploads/")), "{keys:?}");
    // Importing it again changes nothing.
    let again = uploaded
        .import
        .import_upload(&pid(PARTNER), upload_id)
        .await
        .unwrap();
    assert_eq!(again.answer, outcome.answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_delivery_resumes_as_if_it_had_not_been() {
    let body = json!({ "batch_id": "b-1", "events": delivery() })
        .to_string()
        .into_bytes();
    let whole = env_on(Arc::new(MemoryArchive::new()));
    ready(&whole).await;
    let answer = whole
        .import
        .import(&pid(PARTNER), DeliveryFormat::Json, &body, None)
        .await
        .unwrap();

    let broken = env_on(Arc::new(MemoryArchive::new()));
    ready(&broken).await;
    broken.store.budget.store(40, Ordering::SeqCst);
    assert!(broken
        .import
        .import(&pid(PARTNER), DeliveryFormat::Json, &body, None)
        .await
        .is_err());
    // At the moment of the crash every stored event's day is in the day index, so the
    // company-wide reads find it.
    let dump = broken.store.inner.dump();
    let has = |pk: &str, sk: &str| dump.iter().any(|i| i.pk == pk && i.sk == sk);
    let mut stored = 0;
    for i in dump.iter().filter(|i| i.pk.contains("#D#")) {
        let (ck_part, day) = i.pk.split_once("#D#").unwrap();
        assert!(has(&format!("{ck_part}#DAYS"), day), "day of {}", i.sk);
        stored += 1;
    }
    assert!(stored > 0, "the crash came after some events were stored");
    broken.store.budget.store(usize::MAX, Ordering::SeqCst);
    let resumed = broken
        .import
        .import(&pid(PARTNER), DeliveryFormat::Json, &body, None)
        .await
        .unwrap();
    assert_eq!(resumed.accepted, answer.accepted);
    assert_eq!(resumed.duplicates, answer.duplicates);
    // One receipt time for every record of the delivery.
    let times: std::collections::BTreeSet<String> = broken
        .store
        .inner
        .dump()
        .iter()
        .filter(|i| i.sk == "RECORD")
        .map(|i| i.attrs["record"]["received_at"].to_string())
        .collect();
    assert_eq!(times.len(), 1, "{times:?}");
    assert_eq!(
        normalised(whole.store.inner.dump()).len(),
        normalised(broken.store.inner.dump()).len()
    );
}

/// Crashed at many points of a delivery: at each, every event stored in a day partition
/// has its person in the people directory and its site in the site directory, so the
/// people list, a person's page and statistics agree (issue 13, "a crash mid-import").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stored_event_is_listed_at_every_moment_of_an_interrupted_import() {
    let body = json!({ "batch_id": "b-1", "events": delivery() })
        .to_string()
        .into_bytes();
    let mut crashed = 0;
    for budget in [1, 2, 4, 8, 16, 30, 45, 60, 80] {
        let env = env_on(Arc::new(MemoryArchive::new()));
        ready(&env).await;
        env.store.budget.store(budget, Ordering::SeqCst);
        if env
            .import
            .import(&pid(PARTNER), DeliveryFormat::Json, &body, None)
            .await
            .is_ok()
        {
            continue;
        }
        crashed += 1;
        let dump = env.store.inner.dump();
        let has = |pk: &str, sk: &str| dump.iter().any(|i| i.pk == pk && i.sk == sk);
        let days: std::collections::BTreeSet<(String, chrono::NaiveDate)> = dump
            .iter()
            .filter_map(|i| {
                let (co, day) = i.pk.split_once("#D#")?;
                Some((co.strip_prefix("CO#")?.to_string(), day.parse().ok()?))
            })
            .collect();
        let mut stored = 0;
        for (ck, day) in days {
            for e in env
                .import
                .ledger()
                .day_events(
                    &crate::identity::pseudonym::CompanyKey::from_stored(ck.clone()),
                    day,
                )
                .await
                .unwrap()
            {
                stored += 1;
                assert!(
                    has(&format!("CO#{ck}#PEOPLE"), &e.person_ref),
                    "budget {budget}: {} stored, its person not listed",
                    e.event_id
                );
                assert!(
                    has(&format!("CO#{ck}#SITES"), e.site_id.as_str()),
                    "budget {budget}: {} stored, its site not listed",
                    e.event_id
                );
            }
        }
        // The first budgets crash before any event is stored; the later ones after.
        if budget >= 16 {
            assert!(
                stored > 0,
                "budget {budget}: nothing stored before the crash"
            );
        }
    }
    assert!(
        crashed >= 6,
        "only {crashed} of the budgets crashed the import"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_index_equals_the_live_one() {
    let archive = Arc::new(MemoryArchive::new());
    let live = env_on(archive.clone());
    ready(&live).await;
    let all = delivery();
    // Several deliveries: corrections of earlier batches, CSV, an unreadable one.
    for (n, part) in all.chunks(700).enumerate() {
        let body = json!({ "batch_id": format!("b{n}"), "events": part })
            .to_string()
            .into_bytes();
        live.import
            .import(&pid(PARTNER), DeliveryFormat::Json, &body, None)
            .await
            .unwrap();
    }
    let csv = format!(
        "event_id,company_orgnr,company_name,site_id,person_id,person_name,direction,occurred_at,corrects\n\
         c1,{ORG},Bygg AB,STH2026000001,198112189876,Person 0,out,2026-01-02T17:00:00+01:00,e0-out\n\
         c2,{ORG},Bygg AB,STH2026000001,198112189876,Person 0,in,2026-03-02T07:00:00+01:00,\n"
    );
    live.import
        .import(
            &pid(PARTNER),
            DeliveryFormat::Csv,
            csv.as_bytes(),
            Some("csv-1"),
        )
        .await
        .unwrap();
    assert!(live
        .import
        .import(&pid(PARTNER), DeliveryFormat::Json, b"{oops", None)
        .await
        .is_err());

    let rebuilt = env_on(archive);
    let orgnr = Orgnr::parse(ORG).unwrap();
    crate::intake::rebuild::copy_administration(
        live.import.ledger(),
        rebuilt.import.ledger(),
        &orgnr,
    )
    .await
    .unwrap();
    let summary = crate::intake::rebuild::rebuild_company(&rebuilt.import, &orgnr)
        .await
        .unwrap();
    assert_eq!(summary.replayed, 5);
    let diffs = crate::intake::rebuild::compare_company(
        live.import.ledger(),
        rebuilt.import.ledger(),
        &orgnr,
    )
    .await
    .unwrap();
    assert!(diffs.is_empty(), "{diffs:#?}");

    // The check notices a difference.
    let victim = rebuilt
        .store
        .inner
        .dump()
        .into_iter()
        .find(|i| i.pk.contains("#P#"))
        .unwrap();
    rebuilt
        .store
        .transact(vec![WriteOp::Delete {
            pk: victim.pk.clone(),
            sk: victim.sk.clone(),
            condition: crate::ports::Condition::None,
        }])
        .await
        .unwrap();
    let diffs = crate::intake::rebuild::compare_company(
        live.import.ledger(),
        rebuilt.import.ledger(),
        &orgnr,
    )
    .await
    .unwrap();
    assert_eq!(diffs.len(), 1, "{diffs:#?}");
    assert!(diffs[0].contains("only in the live index"));
}
