use super::*;
use crate::memory::{MemoryArchive, MemoryItemStore};
use crate::ports::Condition;

fn record(n: u16) -> AuditRecord {
    AuditRecord {
        actor: "u1".into(),
        role: "company_user".into(),
        company: Some("5569999997".into()),
        action: "GET /v1/companies/{orgnr}/people".into(),
        target: None,
        outcome: "success".into(),
        status: n,
        request_id: format!("r{n}"),
    }
}

struct Fixture {
    store: Arc<MemoryItemStore>,
    archive: Arc<MemoryArchive>,
    trail: ItemAuditTrail,
    t0: DateTime<Utc>,
}

fn fixture() -> Fixture {
    let store = Arc::new(MemoryItemStore::new());
    let archive = Arc::new(MemoryArchive::new());
    Fixture {
        trail: ItemAuditTrail::new(store.clone(), archive.clone()),
        store,
        archive,
        t0: "2026-03-02T07:00:00Z".parse().unwrap(),
    }
}

impl Fixture {
    async fn append(&self, chain: &str, n: u16, secs: i64) -> AuditEntry {
        self.trail
            .append(chain, record(n), self.t0 + chrono::Duration::seconds(secs))
            .await
            .unwrap()
    }

    /// Seals everything older than `secs` after t0 (no settle margin).
    async fn seal_at(&self, secs: i64) -> SealSummary {
        self.trail
            .seal(
                self.t0 + chrono::Duration::seconds(secs),
                chrono::Duration::zero(),
            )
            .await
            .unwrap()
    }

    async fn stored(&self, chain: &str) -> Vec<Item> {
        self.store
            .query_all(&entries_pk(chain), SkRange::All)
            .await
            .unwrap()
    }

    fn digest_keys(&self, chain: &str) -> Vec<String> {
        let prefix = format!("{DIGEST_PREFIX}/{chain}/");
        self.archive
            .keys()
            .into_iter()
            .filter(|k| k.starts_with(&prefix))
            .collect()
    }
}

#[tokio::test]
async fn sealing_links_each_chains_entries_into_digests_and_is_idempotent() {
    let f = fixture();
    for n in 0..5 {
        f.append("c1", 200 + n, n as i64).await;
    }
    f.append("c2", 403, 1).await;
    let s = f.seal_at(3).await;
    // c1's entries at 0,1,2 and c2's at 1: older than the cutoff.
    assert_eq!((s.chains, s.digests, s.entries), (2, 2, 4));
    let again = f.seal_at(3).await;
    assert_eq!(
        (again.digests, again.entries),
        (0, 0),
        "a second run seals nothing new"
    );
    let s = f.seal_at(10).await;
    assert_eq!((s.digests, s.entries), (1, 2));

    let keys = f.digest_keys("c1");
    assert_eq!(keys.len(), 2);
    let first: Digest = serde_json::from_slice(&f.archive.get(&keys[0]).await.unwrap()).unwrap();
    let second_bytes = f.archive.get(&keys[1]).await.unwrap();
    let second: Digest = serde_json::from_slice(&second_bytes).unwrap();
    assert_eq!(first.format, DIGEST_FORMAT);
    assert_eq!((first.digest_no, first.count, first.first_seq), (1, 3, 1));
    assert_eq!(
        (second.digest_no, second.count, second.first_seq),
        (2, 2, 4)
    );
    assert_eq!(first.previous_hash, GENESIS);
    let first_hash = sha256_hex(&f.archive.get(&keys[0]).await.unwrap());
    assert_eq!(second.previous_hash, first_hash, "digests are chained");
    assert_eq!(second.previous_digest.as_deref(), Some(keys[0].as_str()));
    assert_eq!(second.first_entry, second.entries[0].id);
    assert_eq!(second.last_entry, second.entries[1].id);
    assert_eq!(
        second.entries_hash,
        link_entries(&second.previous_hash, &second.entries)
    );
    assert!(keys[1].contains(&sha256_hex(&second_bytes)[..16]));

    let r = f.trail.verify("c1").await.unwrap();
    assert!(r.intact(), "{:?}", r.problems);
    assert_eq!((r.digests, r.sealed, r.unsealed), (2, 5, 0));
    let mut chains = f.trail.chains().await.unwrap();
    chains.sort();
    assert_eq!(chains, vec!["c1", "c2"]);
}

#[tokio::test]
async fn entries_newer_than_the_last_seal_are_unsealed_not_broken() {
    let f = fixture();
    for n in 0..4 {
        f.append("c", 200 + n, n as i64).await;
    }
    f.seal_at(2).await;
    let r = f.trail.verify("c").await.unwrap();
    assert!(r.intact(), "{:?}", r.problems);
    assert_eq!((r.sealed, r.unsealed), (2, 2));
    // Before any seal: everything unsealed.
    f.append("fresh", 200, 0).await;
    let r = f.trail.verify("fresh").await.unwrap();
    assert!(r.intact());
    assert_eq!((r.digests, r.sealed, r.unsealed), (0, 0, 1));
}

#[tokio::test]
async fn verification_names_a_changed_entry() {
    let f = fixture();
    for n in 0..4 {
        f.append("c", 200 + n, n as i64).await;
    }
    f.seal_at(10).await;
    let mut victim = f.stored("c").await[2].clone();
    victim
        .attrs
        .insert("outcome".into(), Value::from("refused"));
    f.store
        .transact(vec![WriteOp::put(victim.clone())])
        .await
        .unwrap();
    let r = f.trail.verify("c").await.unwrap();
    assert_eq!(
        r.problems,
        vec![Tamper::EntryChanged {
            entry: victim.sk.clone(),
            digest_no: 1
        }]
    );
    assert_eq!(r.sealed, 3);
    // Rewriting its stored hash too does not hide it: the digest holds the hash.
    let entry = decode(&victim).unwrap();
    victim
        .attrs
        .insert("hash".into(), Value::from(entry.compute_hash()));
    f.store
        .transact(vec![WriteOp::put(victim.clone())])
        .await
        .unwrap();
    assert_eq!(f.trail.verify("c").await.unwrap().problems.len(), 1);
}

#[tokio::test]
async fn verification_names_a_removed_entry() {
    let f = fixture();
    for n in 0..4 {
        f.append("c", 200 + n, n as i64).await;
    }
    f.seal_at(10).await;
    let victim = f.stored("c").await[1].clone();
    f.store
        .transact(vec![WriteOp::Delete {
            pk: victim.pk.clone(),
            sk: victim.sk.clone(),
            condition: Condition::None,
        }])
        .await
        .unwrap();
    let r = f.trail.verify("c").await.unwrap();
    assert_eq!(
        r.problems,
        vec![Tamper::EntryRemoved {
            entry: victim.sk,
            digest_no: 1
        }]
    );
}

#[tokio::test]
async fn verification_names_an_inserted_entry() {
    let f = fixture();
    for n in 0..4 {
        f.append("c", 200 + n, (n * 10) as i64).await;
    }
    f.seal_at(100).await;
    // A back-dated entry written straight into the store, between two sealed ones.
    let mut forged = f.stored("c").await[1].clone();
    forged.sk = format!(
        "{}#{:016x}",
        stamp(&(f.t0 + chrono::Duration::seconds(15))),
        7
    );
    forged
        .attrs
        .insert("id".into(), Value::from(forged.sk.clone()));
    let entry = decode(&forged).unwrap();
    forged
        .attrs
        .insert("hash".into(), Value::from(entry.compute_hash()));
    f.store
        .transact(vec![WriteOp::create(forged.clone())])
        .await
        .unwrap();
    let r = f.trail.verify("c").await.unwrap();
    assert_eq!(
        r.problems,
        vec![Tamper::EntryInserted {
            entry: forged.sk,
            digest_no: 1
        }]
    );
    assert_eq!(r.sealed, 4);
}

#[tokio::test]
async fn verification_names_a_removed_digest() {
    let f = fixture();
    for round in 0..3 {
        f.append("c", 200, round * 10).await;
        f.append("c", 201, round * 10 + 1).await;
        f.seal_at(round * 10 + 5).await;
    }
    let keys = f.digest_keys("c");
    assert_eq!(keys.len(), 3);
    // The middle one, then also the last one.
    f.archive.tamper_remove(&keys[1]);
    let r = f.trail.verify("c").await.unwrap();
    assert_eq!(r.problems, vec![Tamper::DigestRemoved { digest_no: 2 }]);
    assert_eq!((r.digests, r.sealed, r.unsealed), (2, 4, 0));
    f.archive.tamper_remove(&keys[2]);
    let r = f.trail.verify("c").await.unwrap();
    assert_eq!(
        r.problems,
        vec![
            Tamper::DigestRemoved { digest_no: 2 },
            Tamper::DigestRemoved { digest_no: 3 }
        ]
    );
    assert_eq!(
        r.unsealed, 0,
        "a removed digest's entries are not 'unsealed'"
    );
}

#[tokio::test]
async fn two_sealers_at_once_leave_one_chain_of_digests() {
    let f = fixture();
    for n in 0..50 {
        f.append("c", 200 + n, n as i64).await;
        f.append(&format!("p{}", n % 5), 200, n as i64).await;
    }
    let now = f.t0 + chrono::Duration::seconds(100);
    // A second sealer with its own view (as a second Lambda invocation has).
    let other = ItemAuditTrail::new(f.store.clone(), f.archive.clone());
    let (a, b) = tokio::join!(
        f.trail.seal(now, chrono::Duration::zero()),
        other.seal(now, chrono::Duration::zero())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.entries + b.entries,
        100,
        "every entry sealed once: {a:?} {b:?}"
    );
    for chain in f.trail.chains().await.unwrap() {
        let r = f.trail.verify(&chain).await.unwrap();
        assert!(r.intact(), "{chain}: {:?}", r.problems);
        assert_eq!(r.unsealed, 0);
    }
    // Sequential re-runs change nothing.
    assert_eq!(f.seal_at(100).await.digests, 0);
}

#[tokio::test]
async fn concurrent_appends_never_wait_on_each_other() {
    let f = fixture();
    let trail = Arc::new(f.trail.clone());
    let now = Utc::now();
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let t = trail.clone();
            tokio::spawn(async move { t.append("c", record(n), now).await.unwrap() })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().id);
    }
    assert_eq!(ids.len(), 50, "one key per entry, even at the same instant");
    assert_eq!(f.stored("c").await.len(), 50);
    assert!(
        f.store.get(POINTER_PK, "c").await.unwrap().is_none(),
        "appending moves no pointer"
    );
}

#[tokio::test]
async fn the_read_flags_each_entry_against_the_digests() {
    let f = fixture();
    for n in 0..4 {
        f.append("c", 200 + n, n as i64).await;
    }
    f.seal_at(2).await;
    let page = f
        .trail
        .entries("c", f.t0, f.t0 + chrono::Duration::hours(1), None, 10)
        .await
        .unwrap();
    let states = f.trail.seal_states("c", &page.items).await.unwrap();
    assert_eq!(
        states,
        vec![
            SealState::Sealed { seq: 1 },
            SealState::Sealed { seq: 2 },
            SealState::Unsealed,
            SealState::Unsealed
        ]
    );
    let mut victim = f.stored("c").await[0].clone();
    victim
        .attrs
        .insert("actor".into(), Value::from("someone-else"));
    f.store.transact(vec![WriteOp::put(victim)]).await.unwrap();
    let page = f
        .trail
        .entries("c", f.t0, f.t0 + chrono::Duration::hours(1), None, 10)
        .await
        .unwrap();
    assert_eq!(
        f.trail.seal_states("c", &page.items).await.unwrap()[0],
        SealState::Mismatch
    );
}

#[test]
fn service_entries_spread_over_the_shards() {
    let chains: HashSet<String> = (0..200)
        .map(|i| service_shard(&format!("req-{i}")))
        .collect();
    assert_eq!(chains.len(), SERVICE_SHARDS as usize);
    assert!(chains.contains(SERVICE_CHAIN));
}

/// Counts transactions and takes a little time over each, as a disk commit does.
struct SlowCommits {
    inner: Arc<MemoryItemStore>,
    transactions: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl ItemStore for SlowCommits {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.transactions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        self.inner.transact(ops).await
    }
    async fn query(&self, q: Query) -> Result<crate::ports::QueryPage, StoreError> {
        self.inner.query(q).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_appends_share_commits_and_each_stays_its_own_sealed_entry() {
    let inner = Arc::new(MemoryItemStore::new());
    let store = Arc::new(SlowCommits {
        inner: inner.clone(),
        transactions: Default::default(),
    });
    let archive = Arc::new(MemoryArchive::new());
    let trail = Arc::new(ItemAuditTrail::new(store.clone(), archive.clone()));
    let now = Utc::now();
    let chains = ["service", "service-1", "service-2"];
    // The chains are known to this process already (registering is once per chain).
    for (n, c) in chains.iter().enumerate() {
        trail
            .append_grouped(c, record(900 + n as u16), now)
            .await
            .unwrap();
    }
    store
        .transactions
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let tasks: Vec<_> = (0..250u16)
        .map(|n| {
            let t = trail.clone();
            let chain = chains[usize::from(n) % 3];
            tokio::spawn(async move { t.append_grouped(chain, record(n), now).await.unwrap() })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        let e = t.await.unwrap();
        assert_eq!(e.hash, e.compute_hash());
        ids.insert(e.id);
    }
    assert_eq!(ids.len(), 250, "one entry per request");
    let commits = store.transactions.load(std::sync::atomic::Ordering::SeqCst);
    assert!(commits < 250 / 4, "{commits} transactions for 250 entries");
    let mut stored = 0;
    for c in chains {
        stored += inner
            .query_all(&entries_pk(c), SkRange::All)
            .await
            .unwrap()
            .len();
    }
    assert_eq!(stored, 253);
    trail
        .seal(now + chrono::Duration::minutes(10), SETTLE)
        .await
        .unwrap();
    for c in chains {
        let r = trail.verify(c).await.unwrap();
        assert!(r.intact(), "{r:?}");
        assert_eq!((r.unsealed, r.problems.len()), (0, 0));
    }
    let sealed: u64 = {
        let mut n = 0;
        for c in chains {
            n += trail.verify(c).await.unwrap().sealed;
        }
        n
    };
    assert_eq!(sealed, 253);
}
