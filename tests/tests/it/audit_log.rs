//! Spec §3's audit log over HTTP on both storage stacks: entries written without a chain
//! head, sealed into digests, and verification naming each kind of tampering; partner
//! health that counts each batch once; `stamp-local audit-verify` beside a running server.

use crate::on_every_store;
use crate::server::*;
use serde_json::{json, Value};
use stamp_domain::governance::audit::{AuditEntry, Tamper};
use stamp_domain::identity::Orgnr;
use stamp_domain::ports::{Clock, Condition, Item, SkRange, WriteOp};

/// The newest entry over every chain, and its chain.
pub async fn latest_entry(s: &TestServer) -> (String, AuditEntry) {
    s.audit_entries()
        .await
        .into_iter()
        .max_by(|(_, a), (_, b)| a.id.cmp(&b.id))
        .expect("an audit entry")
}

async fn seal_now(s: &TestServer) {
    s.state
        .audit
        .seal(
            s.clock.now() + chrono::Duration::seconds(1),
            chrono::Duration::zero(),
        )
        .await
        .unwrap();
}

async fn report(s: &TestServer, chain: &str) -> stamp_domain::governance::audit::ChainReport {
    s.state.audit.verify(chain).await.unwrap()
}

async fn audit_verification_names_each_kind_of_tampering(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    for _ in 0..5 {
        s.get(&format!("/v1/companies/{ORG_A}/sites"), &t.user)
            .await
            .expect(200);
    }
    // Anonymous callers land in a service chain, never in the company's.
    let anon = s
        .call(
            reqwest::Method::GET,
            &format!("/v1/companies/{ORG_A}/sites"),
            None,
            None,
        )
        .await;
    assert_eq!(anon.status, 401);
    let (chain, last) = latest_entry(s).await;
    assert!(chain.starts_with("service"), "{chain}");
    assert_eq!(
        (last.record.actor.as_str(), last.record.status),
        ("anonymous", 401)
    );

    let ck = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());
    seal_now(s).await;
    let r = report(s, &ck).await;
    assert!(r.intact(), "{:?}", r.problems);
    assert_eq!((r.digests, r.unsealed), (1, 0));
    let sealed = r.sealed;
    assert!(sealed >= 7, "activation, grant, five reads: {sealed}");

    // Newer entries are unsealed, not broken; the API's read says which is which.
    s.get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
    let r = report(s, &ck).await;
    assert!(r.intact());
    assert_eq!((r.sealed, r.unsealed), (sealed, 1));
    let page = s.audit_trail(ORG_A, &t.admin).await;
    let entries = page["entries"].as_array().unwrap().clone();
    assert_eq!(entries[0]["sealed"], json!(true));
    assert_eq!(entries[0]["seq"], json!(1));
    assert_eq!(entries[1]["seq"], json!(2));
    assert_eq!(entries[sealed as usize]["seal"], json!("unsealed"));
    assert_eq!(entries[sealed as usize]["seq"], Value::Null);
    // The audit read itself is the newest entry and, like every read, unsealed.
    assert_eq!(entries.last().unwrap()["sealed"], json!(false));

    // Tampering behind Stamp's back, one kind each.
    let items = s
        .store
        .query_all(&format!("AUDIT#{ck}"), SkRange::All)
        .await
        .unwrap();
    let mut changed = items[1].clone();
    changed.attrs.insert("actor".into(), json!("someone-else"));
    let removed = items[2].clone();
    let mut inserted: Item = items[3].clone();
    inserted.sk = format!("{}#{:016x}", &items[3].sk[..27], 1u64);
    inserted
        .attrs
        .insert("id".into(), json!(inserted.sk.clone()));
    s.store
        .transact(vec![
            WriteOp::put(changed.clone()),
            WriteOp::Delete {
                pk: removed.pk.clone(),
                sk: removed.sk.clone(),
                condition: Condition::None,
            },
            WriteOp::create(inserted.clone()),
        ])
        .await
        .unwrap();
    let mut problems = report(s, &ck).await.problems;
    problems.sort_by_key(|p| format!("{p:?}"));
    let mut expected = vec![
        Tamper::EntryChanged {
            entry: changed.sk.clone(),
            digest_no: 1,
        },
        Tamper::EntryRemoved {
            entry: removed.sk.clone(),
            digest_no: 1,
        },
        Tamper::EntryInserted {
            entry: inserted.sk.clone(),
            digest_no: 1,
        },
    ];
    expected.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(problems, expected);
    let page = s.audit_trail(ORG_A, &t.admin).await;
    let flag = |id: &str| {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == json!(id))
            .map(|e| e["seal"].clone())
    };
    assert_eq!(flag(&changed.sk), Some(json!("mismatch")));
    assert_eq!(flag(&inserted.sk), Some(json!("mismatch")));
    assert_eq!(flag(&items[0].sk), Some(json!("sealed")));

    // A removed digest (of the partner-less service chain the operator wrote to).
    let (svc, key) = {
        let mut found = None;
        for chain in s.state.audit.chains().await.unwrap() {
            if chain == ck {
                continue;
            }
            let keys = s
                .archive
                .list(&format!("audit/digests/{chain}/"))
                .await
                .unwrap();
            if let Some(k) = keys.first() {
                found = Some((chain, k.clone()));
                break;
            }
        }
        found.expect("a sealed service chain")
    };
    assert!(report(s, &svc).await.intact());
    s.tamper_remove_archived(&key).await;
    let r = report(s, &svc).await;
    assert_eq!(r.problems, vec![Tamper::DigestRemoved { digest_no: 1 }]);
    assert_eq!(r.unsealed, 0, "its entries are not passed off as unsealed");

    // The operator route of stamp-local reports the same.
    let reports: Value = s
        .call(
            reqwest::Method::GET,
            "/local/audit/verify",
            Some(&t.operator),
            None,
        )
        .await
        .expect(200);
    let bad: Vec<&Value> = reports
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["problems"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(bad.len(), 2, "{reports}");
    let kinds: Vec<&str> = bad
        .iter()
        .flat_map(|r| r["problems"].as_array().unwrap())
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    for k in [
        "entry_changed",
        "entry_removed",
        "entry_inserted",
        "digest_removed",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
}

async fn two_sealers_at_once_seal_each_entry_once(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let path = format!("/v1/companies/{ORG_A}/sites");
    let reads: Vec<_> = (0..20).map(|_| s.get(&path, &t.user)).collect();
    for r in futures::future::join_all(reads).await {
        r.expect(200);
    }
    let now = s.clock.now() + chrono::Duration::seconds(1);
    let other =
        stamp_domain::governance::audit::ItemAuditTrail::new(s.store.clone(), s.archive.clone());
    use stamp_domain::governance::audit::AuditTrail;
    let (a, b) = tokio::join!(
        s.state.audit.seal(now, chrono::Duration::zero()),
        other.seal(now, chrono::Duration::zero())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let total: u64 = s.state.audit.chains().await.unwrap().len() as u64;
    assert!(total >= 2);
    for r in stamp_api::jobs::verify_audit(&s.state).await.unwrap() {
        assert!(r.intact(), "{}: {:?} ({a:?} {b:?})", r.chain, r.problems);
        assert_eq!(r.unsealed, 0);
    }
    let ck = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());
    let sealed = report(s, &ck).await.sealed;
    assert!(sealed >= 22);
    // Entries are counted once over both sealers (a lost race seals nothing).
    let entries_everywhere: u64 = {
        let mut n = 0;
        for c in s.state.audit.chains().await.unwrap() {
            n += s
                .store
                .query_all(&format!("AUDIT#{c}"), SkRange::All)
                .await
                .unwrap()
                .len() as u64;
        }
        n
    };
    assert_eq!(a.entries + b.entries, entries_everywhere, "{a:?} {b:?}");
}

async fn health_at(
    s: &TestServer,
    ck: &stamp_domain::identity::pseudonym::CompanyKey,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<stamp_domain::table::PartnerHealth> {
    s.state.ledger.partner_health(ck, now).await.unwrap()
}

async fn partner_health_counts_each_batch_once(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let ev = |b: usize, i: usize, at: &str| {
        event(
            &format!("b{b}-e{i}"),
            ORG_A,
            SITE_1,
            if i.is_multiple_of(2) { ANNA } else { BO },
            "Åsa",
            if i % 4 < 2 { "in" } else { "out" },
            at,
        )
    };
    // Concurrent pushes of the same company by one partner: none refused as busy.
    let pushes: Vec<_> = (0..8)
        .map(|b| {
            let body = batch(
                &format!("b{b}"),
                (0..5)
                    .map(|i| ev(b, i, &format!("2026-03-02T0{}:0{i}:00+01:00", b + 1)))
                    .collect(),
            );
            let token = t.partner.clone();
            async move { s.post_json("/partner/v1/batches", &token, &body).await }
        })
        .collect();
    for a in futures::future::join_all(pushes).await {
        assert_eq!(a.expect(200)["accepted"], 5);
    }
    // A retry of a batch, and the same row noted again (an interrupted attempt): once.
    let again = batch(
        "b0",
        (0..5)
            .map(|i| ev(0, i, &format!("2026-03-02T01:0{i}:00+01:00")))
            .collect(),
    );
    s.post_json("/partner/v1/batches", &t.partner, &again)
        .await
        .expect(200);
    let ck = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());
    let latest = s.clock.now();
    s.state
        .ledger
        .note_delivery(
            &ck,
            &stamp_domain::testing::pid("ledger-1"),
            "b3",
            5,
            0,
            latest - chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let health = health_at(s, &ck, chrono::Utc::now()).await;
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].events_received, 40, "{health:?}");
    // A batch received earlier (its receipt time taken over from an interrupted
    // attempt) does not move last_delivery back.
    let before = health[0].last_delivery.clone();
    s.state
        .ledger
        .note_delivery(
            &ck,
            &stamp_domain::testing::pid("ledger-1"),
            "old",
            1,
            1,
            latest - chrono::Duration::days(3),
        )
        .await
        .unwrap();
    let health = health_at(s, &ck, chrono::Utc::now()).await;
    assert_eq!(health[0].last_delivery, before);
    assert_eq!(
        (health[0].events_received, health[0].events_rejected),
        (41, 1)
    );
    let stats = s
        .get(
            &format!("/v1/companies/{ORG_A}/statistics?from=2026-03-01&to=2026-03-05"),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(stats["partners"][0]["events_received"], 41);
    assert_eq!(stats["partners"][0]["partner_id"], "ledger-1");
}

/// Batch `f{b}`: four events of one day.
async fn push_four(s: &TestServer, partner: &str, b: usize) {
    let body = batch(
        &format!("f{b}"),
        (0..4)
            .map(|i| {
                event(
                    &format!("f{b}-e{i}"),
                    ORG_A,
                    SITE_1,
                    if i < 2 { ANNA } else { BO },
                    "Åsa",
                    if i % 2 == 0 { "in" } else { "out" },
                    &format!("2026-03-0{}T0{}:0{i}:00+01:00", b % 5 + 2, b % 9),
                )
            })
            .collect(),
    );
    let a = s.post_json("/partner/v1/batches", partner, &body).await;
    assert_eq!(a.expect(200)["accepted"], 4);
}

async fn health_of(
    s: &TestServer,
    ck: &stamp_domain::identity::pseudonym::CompanyKey,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    serde_json::to_value(health_at(s, ck, now).await).unwrap()
}

/// The sort keys of the company's partner-health partition.
async fn health_rows(
    s: &TestServer,
    ck: &stamp_domain::identity::pseudonym::CompanyKey,
) -> Vec<String> {
    let mut sks: Vec<String> = s
        .store
        .query_all(&format!("CO#{ck}#PARTNERHEALTH"), SkRange::All)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.sk)
        .collect();
    sks.sort();
    sks
}

/// The statistics job folds answered batches' health rows into one rollup per partner:
/// the health answers the same, the partition shrinks to the rollup and the rows not yet
/// answered, a retried batch still counts once, and two folds at once fold each row once.
async fn partner_health_folds_into_rollups_that_answer_the_same(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    for b in 0..12 {
        s.clock.set(&format!("2026-03-{:02}T12:00:00Z", b + 2));
        push_four(s, &t.partner, b).await;
    }
    let ck = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());
    // A row whose batch has no stored answer (an attempt interrupted before it).
    s.state
        .ledger
        .note_delivery(
            &ck,
            &stamp_domain::testing::pid("ledger-1"),
            "unanswered",
            3,
            1,
            s.clock.now(),
        )
        .await
        .unwrap();
    let now = s.clock.now() + chrono::Duration::days(1);
    let before = health_of(s, &ck, now).await;
    assert_eq!(before[0]["events_received"], 12 * 4 + 3, "{before}");
    assert_eq!(health_rows(s, &ck).await.len(), 13);

    // Two folds at once (the job on two schedulers): each row is folded once.
    let (a, b) = tokio::join!(
        s.state.ledger.fold_partner_health(&ck),
        s.state.ledger.fold_partner_health(&ck)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.rows + b.rows, 12, "{a:?} {b:?}");
    assert_eq!(health_of(s, &ck, now).await, before);
    assert_eq!(
        health_rows(s, &ck).await,
        ["#R#ledger-1", "ledger-1#unanswered"]
    );

    // A retry of a folded batch is answered from its stored answer: counted once.
    s.clock.set("2026-03-20T12:00:00Z");
    push_four(s, &t.partner, 3).await;
    assert_eq!(health_of(s, &ck, now).await, before);
    // A new batch counts, and the job folds it in as well.
    push_four(s, &t.partner, 12).await;
    let after = health_of(s, &ck, now).await;
    assert_eq!(after[0]["events_received"], 13 * 4 + 3, "{after}");
    assert_ne!(after[0]["last_delivery"], before[0]["last_delivery"]);
    let job = s.state.statistics.run_once().await.unwrap();
    assert_eq!(job.health_rows_folded, 1, "{job:?}");
    assert_eq!(health_of(s, &ck, now).await, after);
    assert_eq!(
        health_rows(s, &ck).await,
        ["#R#ledger-1", "ledger-1#unanswered"]
    );
    // Nothing left to fold: the next round folds nothing.
    assert_eq!(
        s.state.ledger.fold_partner_health(&ck).await.unwrap().rows,
        0
    );
}

on_every_store!(
    audit_verification_names_each_kind_of_tampering,
    two_sealers_at_once_seal_each_entry_once,
    partner_health_counts_each_batch_once,
    partner_health_folds_into_rollups_that_answer_the_same,
);

/// `stamp-local audit-verify` works beside a running server (which holds the redb
/// lock) by asking it, and opens the data directory itself when no server runs.
#[tokio::test]
async fn audit_verify_runs_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    {
        let local = stamp_local::Local::open(dir.path()).unwrap();
        let r = stamp_domain::governance::audit::AuditRecord {
            actor: "u".into(),
            role: "company_user".into(),
            company: Some(ORG_A.into()),
            action: "GET /v1/companies/{orgnr}/people".into(),
            target: None,
            outcome: "success".into(),
            status: 200,
            request_id: "r1".into(),
        };
        local
            .state
            .audit
            .append("c", r, chrono::Utc::now() - chrono::Duration::minutes(10))
            .await
            .unwrap();
        stamp_api::jobs::seal_audit(&local.state).await.unwrap();
    }
    // No server: the directory is opened directly.
    let reports = stamp_local::verify_audit(dir.path(), "127.0.0.1:9")
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!((reports[0].sealed, reports[0].problems.len()), (1, 0));

    let local = stamp_local::Local::open(dir.path()).unwrap();
    let base = serve(local.router()).await;
    let addr = base.trim_start_matches("http://");
    assert!(
        stamp_local::Local::open(dir.path()).is_err(),
        "the running server holds the store's lock"
    );
    let reports = stamp_local::verify_audit(dir.path(), addr).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(
        (
            reports[0].digests,
            reports[0].sealed,
            reports[0].problems.len()
        ),
        (1, 1, 0)
    );
}
