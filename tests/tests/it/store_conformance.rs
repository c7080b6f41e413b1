//! One conformance suite for every `ItemStore`: the embedded redb store, the in-memory fake
//! and DynamoDB (Local). Each check works in its own partitions, so they share one store.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use stamp_adapters::EmbeddedItemStore;
use stamp_domain::memory::MemoryItemStore;
use stamp_domain::ports::{
    Condition, Item, ItemStore, Query, QueryPage, SkRange, StoreError, WriteOp,
};

use crate::helpers;

/// How strictly to check `last_sk` on the final page: DynamoDB Local may return a
/// LastEvaluatedKey when exactly `limit` items remained (then an empty page follows); the
/// embedded and memory stores must not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    Exact,
    MayEndWithEmptyPage,
}

/// Runs every check against `store`.
pub async fn conformance(store: Arc<dyn ItemStore>, paging: Paging) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let p = |name: &str| format!("{name}#{run}");
    round_trip(&*store, &p("roundtrip")).await;
    not_exists(&*store, &p("notexists")).await;
    attr_equals(&*store, &p("attrequals")).await;
    atomicity(&*store, &p("atomic")).await;
    delete_with_condition(&*store, &p("delete")).await;
    query_ranges(&*store, &p("query"), paging).await;
    query_paging(&*store, &p("paging"), paging).await;
    query_filter(&*store, &p("filter"), paging).await;
    concurrent_creates(store.clone(), &p("race")).await;
    refused_requests(&*store, &p("refused")).await;
}

fn all_kinds() -> Map<String, Value> {
    let v = json!({
        "text": "Änglagård — 北京 🏗",
        "empty": "",
        "int": 42,
        "negative": -7,
        "i64_min": i64::MIN,
        "i64_max": i64::MAX,
        "u64_max": u64::MAX,
        "float": 1.5,
        "small_float": -0.000125,
        "yes": true,
        "no": false,
        "nothing": null,
        "list": [1, "two", 3.5, null, false, [ "nested" ], { "k": "v" }],
        "empty_list": [],
        "map": { "a": { "b": { "c": [1, 2, 3] } }, "s": "", "n": -1 },
        "empty_map": {}
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn condition_failed(result: Result<(), StoreError>) -> Vec<usize> {
    match result {
        Err(StoreError::ConditionFailed(idx)) => idx,
        other => panic!("expected ConditionFailed, got {other:?}"),
    }
}

async fn round_trip(store: &dyn ItemStore, pk: &str) {
    let item = Item {
        pk: pk.into(),
        sk: "all-kinds".into(),
        attrs: all_kinds(),
    };
    store
        .transact(vec![WriteOp::create(item.clone())])
        .await
        .unwrap();
    let got = store
        .get(pk, "all-kinds")
        .await
        .unwrap()
        .expect("item stored");
    assert_eq!(got, item, "every JSON value kind round-trips");
    assert_eq!(got.i64("i64_min"), Some(i64::MIN));
    assert_eq!(got.i64("i64_max"), Some(i64::MAX));

    // An item with no attributes at all.
    let bare = Item::new(pk, "bare");
    store
        .transact(vec![WriteOp::put(bare.clone())])
        .await
        .unwrap();
    assert_eq!(store.get(pk, "bare").await.unwrap(), Some(bare));

    // A plain put replaces the whole item (attributes not in the new item disappear).
    let replacement = Item::new(pk, "all-kinds").with("only", "this");
    store
        .transact(vec![WriteOp::put(replacement.clone())])
        .await
        .unwrap();
    assert_eq!(store.get(pk, "all-kinds").await.unwrap(), Some(replacement));

    assert_eq!(store.get(pk, "missing").await.unwrap(), None);
    assert_eq!(
        store
            .get(&format!("{pk}-other"), "all-kinds")
            .await
            .unwrap(),
        None
    );
    // Empty transactions are fine.
    store.transact(vec![]).await.unwrap();
}

async fn not_exists(store: &dyn ItemStore, pk: &str) {
    let first = Item::new(pk, "rec").with("v", "first");
    store
        .transact(vec![WriteOp::create(first.clone())])
        .await
        .unwrap();
    let second = Item::new(pk, "rec").with("v", "second");
    assert_eq!(
        condition_failed(store.transact(vec![WriteOp::create(second)]).await),
        vec![0]
    );
    assert_eq!(store.get(pk, "rec").await.unwrap(), Some(first.clone()));
    // The same key in another partition is another item.
    store
        .transact(vec![WriteOp::create(Item::new(format!("{pk}-b"), "rec"))])
        .await
        .unwrap();
    assert_eq!(store.get(pk, "rec").await.unwrap(), Some(first));
}

fn put_if(item: Item, attr: &str, value: Value) -> WriteOp {
    WriteOp::Put {
        item,
        condition: Condition::AttrEquals(attr.into(), value),
    }
}

async fn attr_equals(store: &dyn ItemStore, pk: &str) {
    let v1 = Item::new(pk, "doc")
        .with("version", 1)
        .with("state", "open");
    store.transact(vec![WriteOp::create(v1)]).await.unwrap();

    let v2 = Item::new(pk, "doc")
        .with("version", 2)
        .with("state", "open");
    store
        .transact(vec![put_if(v2.clone(), "version", json!(1))])
        .await
        .unwrap();
    assert_eq!(store.get(pk, "doc").await.unwrap(), Some(v2.clone()));

    // Stale version: refused, nothing changes.
    let stale = Item::new(pk, "doc")
        .with("version", 2)
        .with("state", "stale");
    assert_eq!(
        condition_failed(
            store
                .transact(vec![put_if(stale, "version", json!(1))])
                .await
        ),
        vec![0]
    );
    assert_eq!(store.get(pk, "doc").await.unwrap(), Some(v2.clone()));

    // String values; a different type with the "same" text is not equal.
    let closed = Item::new(pk, "doc")
        .with("version", 3)
        .with("state", "closed");
    assert_eq!(
        condition_failed(
            store
                .transact(vec![put_if(closed.clone(), "version", json!("2"))])
                .await
        ),
        vec![0]
    );
    store
        .transact(vec![put_if(closed.clone(), "state", json!("open"))])
        .await
        .unwrap();
    assert_eq!(store.get(pk, "doc").await.unwrap(), Some(closed));

    // Missing attribute, missing item: the condition fails.
    let any = Item::new(pk, "doc").with("x", 1);
    assert_eq!(
        condition_failed(store.transact(vec![put_if(any, "absent", json!(1))]).await),
        vec![0]
    );
    let new = Item::new(pk, "nodoc").with("version", 1);
    assert_eq!(
        condition_failed(store.transact(vec![put_if(new, "version", json!(1))]).await),
        vec![0]
    );
    assert_eq!(store.get(pk, "nodoc").await.unwrap(), None);
}

async fn atomicity(store: &dyn ItemStore, pk: &str) {
    let a = Item::new(pk, "a").with("version", 1);
    store
        .transact(vec![WriteOp::create(a.clone())])
        .await
        .unwrap();

    // Ops 1 and 2 fail: nothing at all is written, and exactly those indexes are reported.
    let ops = vec![
        WriteOp::create(Item::new(pk, "b")),
        WriteOp::create(Item::new(pk, "a").with("version", 99)),
        put_if(Item::new(pk, "c"), "version", json!(5)),
        WriteOp::create(Item::new(pk, "d")),
        WriteOp::Delete {
            pk: pk.into(),
            sk: "e".into(),
            condition: Condition::None,
        },
    ];
    assert_eq!(condition_failed(store.transact(ops).await), vec![1, 2]);
    for sk in ["b", "c", "d"] {
        assert_eq!(
            store.get(pk, sk).await.unwrap(),
            None,
            "{sk} must not be written"
        );
    }
    assert_eq!(store.get(pk, "a").await.unwrap(), Some(a.clone()));

    // Only the last op fails.
    let ops = vec![
        WriteOp::create(Item::new(pk, "b")),
        WriteOp::create(Item::new(pk, "c")),
        WriteOp::Delete {
            pk: pk.into(),
            sk: "a".into(),
            condition: Condition::AttrEquals("version".into(), json!(2)),
        },
    ];
    assert_eq!(condition_failed(store.transact(ops).await), vec![2]);
    assert_eq!(store.get(pk, "b").await.unwrap(), None);

    // All conditions hold: every op is applied.
    let b = Item::new(pk, "b").with("from", "txn");
    let c = Item::new(pk, "c").with("n", 3);
    let ops = vec![
        WriteOp::create(b.clone()),
        WriteOp::Delete {
            pk: pk.into(),
            sk: "a".into(),
            condition: Condition::AttrEquals("version".into(), json!(1)),
        },
        WriteOp::put(c.clone()),
    ];
    store.transact(ops).await.unwrap();
    assert_eq!(store.get(pk, "a").await.unwrap(), None);
    assert_eq!(store.get(pk, "b").await.unwrap(), Some(b));
    assert_eq!(store.get(pk, "c").await.unwrap(), Some(c));

    // A transaction spanning partitions.
    let other = format!("{pk}-other");
    store
        .transact(vec![
            WriteOp::create(Item::new(pk, "x")),
            WriteOp::create(Item::new(&other, "x")),
        ])
        .await
        .unwrap();
    assert!(store.get(&other, "x").await.unwrap().is_some());
}

async fn delete_with_condition(store: &dyn ItemStore, pk: &str) {
    let item = Item::new(pk, "victim").with("owner", "ann");
    store
        .transact(vec![WriteOp::create(item.clone())])
        .await
        .unwrap();
    let delete_if = |owner: &str| WriteOp::Delete {
        pk: pk.into(),
        sk: "victim".into(),
        condition: Condition::AttrEquals("owner".into(), json!(owner)),
    };
    assert_eq!(
        condition_failed(store.transact(vec![delete_if("bob")]).await),
        vec![0]
    );
    assert_eq!(store.get(pk, "victim").await.unwrap(), Some(item));
    store.transact(vec![delete_if("ann")]).await.unwrap();
    assert_eq!(store.get(pk, "victim").await.unwrap(), None);
    // Deleting it again: unconditional is a no-op, conditional fails (no item, no attribute).
    store
        .transact(vec![WriteOp::Delete {
            pk: pk.into(),
            sk: "victim".into(),
            condition: Condition::None,
        }])
        .await
        .unwrap();
    assert_eq!(
        condition_failed(store.transact(vec![delete_if("ann")]).await),
        vec![0]
    );
    // After a delete, the key can be created again.
    store
        .transact(vec![WriteOp::create(Item::new(pk, "victim"))])
        .await
        .unwrap();
}

/// Sort keys chosen to exercise byte order (upper before lower case, multi-byte UTF-8 after
/// ASCII) and prefix/between boundaries.
const SORT_KEYS: [&str; 13] = [
    "A", "Z", "a", "b#1", "b#2", "b#20", "b#3", "b#30", "b$", "c", "z", "~", "é",
];

fn sks(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.sk.as_str()).collect()
}

async fn seed(store: &dyn ItemStore, pk: &str, sort_keys: &[&str], attrs: impl Fn(usize) -> Item) {
    // Written in two transactions in reverse order, so that order comes from the store.
    let mut ops: Vec<WriteOp> = sort_keys
        .iter()
        .enumerate()
        .rev()
        .map(|(i, sk)| {
            let mut item = attrs(i);
            item.pk = pk.into();
            item.sk = (*sk).into();
            WriteOp::create(item)
        })
        .collect();
    while !ops.is_empty() {
        let rest = ops.split_off(ops.len().min(20));
        store
            .transact(std::mem::replace(&mut ops, rest))
            .await
            .unwrap();
    }
}

/// Follows pages from `query` to the end; returns the items and the page sizes.
async fn follow(store: &dyn ItemStore, mut query: Query) -> (Vec<Item>, Vec<usize>) {
    let mut items = Vec::new();
    let mut pages = Vec::new();
    loop {
        let QueryPage {
            items: page,
            last_sk,
        } = store.query(query.clone()).await.unwrap();
        assert!(
            page.len() <= query.limit,
            "a page holds at most limit items"
        );
        pages.push(page.len());
        items.extend(page);
        assert!(pages.len() <= 100, "paging does not end");
        match last_sk {
            Some(sk) => {
                assert!(
                    query.start_after.as_deref() < Some(sk.as_str()),
                    "last_sk moves forward"
                );
                query.start_after = Some(sk);
            }
            None => return (items, pages),
        }
    }
}

async fn query_ranges(store: &dyn ItemStore, pk: &str, paging: Paging) {
    seed(store, pk, &SORT_KEYS, |i| {
        Item::new("", "").with("i", i as i64)
    })
    .await;
    // Neighbouring partitions whose keys sort right next to this one.
    for neighbour in [
        format!("{pk}-"),
        format!("{pk}0"),
        pk[..pk.len() - 1].to_string(),
    ] {
        seed(store, &neighbour, &["a", "b#1", "b#2", "c"], |_| {
            Item::new("", "").with("n", true)
        })
        .await;
    }
    let q = |range: SkRange| Query::new(pk, range);
    let all = store.query(q(SkRange::All)).await.unwrap();
    assert_eq!(
        sks(&all.items),
        SORT_KEYS.to_vec(),
        "ascending byte order of sk"
    );
    assert!(all.items.iter().all(|i| i.pk == pk), "only this partition");
    assert_eq!(all.items[0].i64("i"), Some(0));
    assert_eq!(all.last_sk, None);

    let prefix = |p: &str| q(SkRange::Prefix(p.into()));
    let between = |lo: &str, hi: &str| q(SkRange::Between(lo.into(), hi.into()));
    let cases: Vec<(Query, Vec<&str>)> = vec![
        (prefix("b#"), vec!["b#1", "b#2", "b#20", "b#3", "b#30"]),
        (prefix("b#3"), vec!["b#3", "b#30"]),
        (prefix("b"), vec!["b#1", "b#2", "b#20", "b#3", "b#30", "b$"]),
        (prefix("b#4"), vec![]),
        (prefix("é"), vec!["é"]),
        (prefix(""), SORT_KEYS.to_vec()),
        (
            between("b#2", "c"),
            vec!["b#2", "b#20", "b#3", "b#30", "b$", "c"],
        ),
        (between("b#20", "b#3"), vec!["b#20", "b#3"]),
        (between("b", "b#2"), vec!["b#1", "b#2"]),
        (between("b#21", "b#29"), vec![]),
        (between("c", "c"), vec!["c"]),
        (between("", "Z"), vec!["A", "Z"]),
        (between("z", "\u{10FFFF}"), vec!["z", "~", "é"]),
    ];
    for (query, expected) in cases {
        let page = store.query(query.clone()).await.unwrap();
        assert_eq!(sks(&page.items), expected, "{:?}", query.range);
        assert_eq!(page.last_sk, None, "{:?}", query.range);
    }

    // start_after is exclusive, and works within a range.
    let mut after = q(SkRange::All);
    after.start_after = Some("b#3".into());
    assert_eq!(
        sks(&store.query(after).await.unwrap().items),
        vec!["b#30", "b$", "c", "z", "~", "é"]
    );
    let mut after = prefix("b#");
    after.start_after = Some("b#2".into());
    assert_eq!(
        sks(&store.query(after).await.unwrap().items),
        vec!["b#20", "b#3", "b#30"]
    );
    let mut after = between("b#1", "c");
    after.start_after = Some("b#30".into());
    assert_eq!(
        sks(&store.query(after).await.unwrap().items),
        vec!["b$", "c"]
    );
    // start_after need not be a stored key.
    let mut after = q(SkRange::All);
    after.start_after = Some("b#25".into());
    assert_eq!(
        sks(&store.query(after).await.unwrap().items),
        vec!["b#3", "b#30", "b$", "c", "z", "~", "é"]
    );
    // ...or may be the last one.
    let mut after = prefix("b#");
    after.start_after = Some("b#30".into());
    let page = store.query(after).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.last_sk, None);

    // start_after outside the range: before it reads from the start, at or past its end
    // reads nothing.
    let starting = |mut q: Query, after: &str| {
        q.start_after = Some(after.into());
        q
    };
    let cases: Vec<(Query, Vec<&str>)> = vec![
        (
            starting(prefix("b#"), "a"),
            vec!["b#1", "b#2", "b#20", "b#3", "b#30"],
        ),
        (starting(prefix("b#"), "b$"), vec![]),
        (starting(prefix("b#"), "c"), vec![]),
        (
            starting(between("b#2", "b#3"), "A"),
            vec!["b#2", "b#20", "b#3"],
        ),
        (starting(between("b#2", "b#3"), "b#2"), vec!["b#20", "b#3"]),
        (starting(between("b#2", "b#3"), "b#3"), vec![]),
        (starting(between("b#2", "b#3"), "b#30"), vec![]),
        (starting(between("", "Z"), "Z"), vec![]),
        (starting(between("", "Z"), "B"), vec!["Z"]),
    ];
    for (query, expected) in cases {
        let page = store.query(query.clone()).await.unwrap();
        assert_eq!(
            sks(&page.items),
            expected,
            "{:?} after {:?}",
            query.range,
            query.start_after
        );
        assert_eq!(
            page.last_sk, None,
            "{:?} after {:?}",
            query.range, query.start_after
        );
    }

    // An exact page boundary.
    let mut exact = prefix("b#");
    exact.limit = 5;
    let page = store.query(exact.clone()).await.unwrap();
    assert_eq!(page.items.len(), 5);
    if paging == Paging::Exact {
        assert_eq!(page.last_sk, None, "no more items, so no last_sk");
    }
    exact.limit = 4;
    let page = store.query(exact).await.unwrap();
    assert_eq!(sks(&page.items), vec!["b#1", "b#2", "b#20", "b#3"]);
    assert_eq!(page.last_sk.as_deref(), Some("b#3"));

    // Empty partition.
    let empty = store
        .query(Query::new(format!("{pk}-nothing"), SkRange::All))
        .await
        .unwrap();
    assert_eq!(empty, QueryPage::default());
    assert_eq!(store.get(&format!("{pk}-"), "A").await.unwrap(), None);
}

async fn query_paging(store: &dyn ItemStore, pk: &str, paging: Paging) {
    let keys: Vec<String> = (0..23).map(|i| format!("item#{i:03}")).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    seed(store, pk, &key_refs, |i| {
        Item::new("", "").with("i", i as i64)
    })
    .await;
    seed(store, pk, &["aaa", "zzz"], |_| Item::new("", "")).await;
    for limit in [1, 2, 3, 5, 7, 10, 22, 23, 24, 100] {
        let mut q = Query::new(pk, SkRange::Prefix("item#".into()));
        q.limit = limit;
        let (items, pages) = follow(store, q).await;
        assert_eq!(
            sks(&items),
            key_refs,
            "limit {limit}: every item once, in order"
        );
        let full_pages = keys.len().div_ceil(limit);
        match paging {
            Paging::Exact => assert_eq!(pages.len(), full_pages, "limit {limit}: pages {pages:?}"),
            Paging::MayEndWithEmptyPage => {
                assert!(
                    pages.len() == full_pages
                        || (pages.len() == full_pages + 1 && pages.last() == Some(&0)),
                    "limit {limit}: pages {pages:?}"
                );
            }
        }
        for (i, n) in pages.iter().take(full_pages).enumerate() {
            let expected = if i + 1 < full_pages {
                limit
            } else {
                keys.len() - limit * (full_pages - 1)
            };
            assert_eq!(*n, expected, "limit {limit}: page {i} of {pages:?}");
        }
    }
    // Between, paged.
    let mut q = Query::new(pk, SkRange::Between("item#005".into(), "item#014".into()));
    q.limit = 3;
    let (items, _) = follow(store, q).await;
    assert_eq!(sks(&items), key_refs[5..=14].to_vec());
    // query_all follows pages too.
    let all = store.query_all(pk, SkRange::All).await.unwrap();
    assert_eq!(all.len(), keys.len() + 2);
}

async fn query_filter(store: &dyn ItemStore, pk: &str, paging: Paging) {
    let names = [
        "Anna Berg",
        "Erik Lund",
        "Johanna Ek",
        "Sven",
        "Hanna Anka",
        "Per",
        "Susanne",
        "Olle",
        "Annika",
        "Bo",
    ];
    let keys: Vec<String> = (0..names.len()).map(|i| format!("p#{i:02}")).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    seed(store, pk, &key_refs, |i| {
        let item = Item::new("", "").with("name", names[i]);
        match i {
            // A number and a missing attribute never match a string needle.
            3 => Item::new("", "").with("name", 1234),
            5 => Item::new("", "").with("other", "anna"),
            // A list matches when an element equals the needle.
            7 => Item::new("", "").with("name", json!(["ann", "x"])),
            _ => item,
        }
    })
    .await;
    let filtered = |limit: usize| {
        let mut q = Query::new(pk, SkRange::Prefix("p#".into()));
        q.limit = limit;
        q.filter_contains = Some(("name".into(), "ann".into()));
        q
    };
    // Case-sensitive substring: "Anna Berg" and "Annika" do not contain "ann".
    let expected = vec!["p#02", "p#04", "p#06", "p#07"];
    let page = store.query(filtered(100)).await.unwrap();
    assert_eq!(sks(&page.items), expected);
    assert_eq!(page.last_sk, None);

    // The limit counts items examined, before the filter: the first two are examined, neither
    // matches, and the page is empty but not the last.
    let page = store.query(filtered(2)).await.unwrap();
    assert!(page.items.is_empty(), "{:?}", page.items);
    assert_eq!(page.last_sk.as_deref(), Some("p#01"));

    for limit in [1, 2, 3, 4, 9, 10, 11] {
        let (items, pages) = follow(store, filtered(limit)).await;
        assert_eq!(sks(&items), expected, "limit {limit}");
        let full_pages = keys.len().div_ceil(limit);
        match paging {
            Paging::Exact => assert_eq!(pages.len(), full_pages, "limit {limit}"),
            Paging::MayEndWithEmptyPage => assert!(pages.len() <= full_pages + 1, "limit {limit}"),
        }
    }
    let mut other = filtered(100);
    other.filter_contains = Some(("other".into(), "ann".into()));
    assert_eq!(sks(&store.query(other).await.unwrap().items), vec!["p#05"]);
}

async fn concurrent_creates(store: Arc<dyn ItemStore>, pk: &str) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let pk = pk.to_string();
            tokio::spawn(async move {
                store
                    .transact(vec![WriteOp::create(
                        Item::new(pk, "once").with("writer", i),
                    )])
                    .await
            })
        })
        .collect();
    let mut won = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(()) => won.push(i as i64),
            Err(StoreError::ConditionFailed(idx)) => assert_eq!(idx, vec![0]),
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one create wins");
    assert_eq!(
        store.get(pk, "once").await.unwrap().unwrap().i64("writer"),
        Some(won[0])
    );
}

/// What DynamoDB refuses, every store refuses (as Unavailable).
async fn refused_requests(store: &dyn ItemStore, pk: &str) {
    let unavailable = |r: Result<(), StoreError>, what: &str| {
        assert!(
            matches!(r, Err(StoreError::Unavailable(_))),
            "{what}: {r:?}"
        );
    };
    unavailable(
        store
            .transact(vec![
                WriteOp::create(Item::new(pk, "dup")),
                WriteOp::put(Item::new(pk, "dup")),
            ])
            .await,
        "the same item twice",
    );
    assert_eq!(store.get(pk, "dup").await.unwrap(), None);
    unavailable(
        store
            .transact(vec![WriteOp::create(Item::new(pk, ""))])
            .await,
        "empty sk",
    );
    unavailable(
        store
            .transact(vec![WriteOp::create(Item::new(pk, "k").with("sk", "x"))])
            .await,
        "an attribute named like a key",
    );
    let mut q = Query::new(pk, SkRange::All);
    q.filter_contains = Some(("sk".into(), "x".into()));
    assert!(
        matches!(store.query(q).await, Err(StoreError::Unavailable(_))),
        "filter on a key"
    );
    let q = Query::new(pk, SkRange::Between("b".into(), "a".into()));
    assert!(
        matches!(store.query(q).await, Err(StoreError::Unavailable(_))),
        "lo > hi"
    );
    let mut q = Query::new(pk, SkRange::All);
    q.limit = 0;
    assert!(
        matches!(store.query(q).await, Err(StoreError::Unavailable(_))),
        "limit 0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    conformance(Arc::new(MemoryItemStore::new()), Paging::Exact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_conforms_and_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("ledger.redb");
    let store = Arc::new(EmbeddedItemStore::open(&path).unwrap());
    conformance(store.clone(), Paging::Exact).await;
    let marker = Item {
        pk: "durable".into(),
        sk: "marker".into(),
        attrs: all_kinds(),
    };
    store
        .transact(vec![WriteOp::create(marker.clone())])
        .await
        .unwrap();
    let before = store.query_all("durable", SkRange::All).await.unwrap();
    drop(store);

    // Reopen the file: everything committed is still there.
    let reopened = EmbeddedItemStore::open(&path).unwrap();
    assert_eq!(
        reopened.get("durable", "marker").await.unwrap(),
        Some(marker)
    );
    assert_eq!(
        reopened.query_all("durable", SkRange::All).await.unwrap(),
        before
    );
    assert_eq!(
        condition_failed(
            reopened
                .transact(vec![WriteOp::create(Item::new("durable", "marker"))])
                .await
        ),
        vec![0]
    );
    // open_in_dir names the file ledger.redb.
    drop(reopened);
    let again = EmbeddedItemStore::open_in_dir(path.parent().unwrap()).unwrap();
    assert!(again.get("durable", "marker").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_store_conforms() {
    let Some(store) = helpers::fresh_dynamo_store("dynamodb_store_conforms").await else {
        return;
    };
    conformance(Arc::new(store), Paging::MayEndWithEmptyPage).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_create_table_is_idempotent() {
    let Some(store) = helpers::fresh_dynamo_store("dynamodb_create_table_is_idempotent").await
    else {
        return;
    };
    stamp_adapters::create_table(store.client(), store.table())
        .await
        .unwrap();
    let described = store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    let keys: Vec<(&str, &str)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    assert_eq!(keys, vec![("pk", "HASH"), ("sk", "RANGE")]);
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
        Some("PAY_PER_REQUEST")
    );
}
