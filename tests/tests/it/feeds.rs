//! Pulling partners' feeds (spec §5 Pull) against the partner simulator: an interrupted
//! pull resumes without loss or duplicates, a malformed page is archived, reported and
//! not passed, one failing partner does not stop the others, and activation backfills
//! the whole history.

use crate::on_every_store;
use crate::rebuild::{fast_pull, sim};
use crate::server::*;
use partner_sim::{cursor, malformed_body, SimHandle};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use stamp_domain::identity::Orgnr;
use std::collections::BTreeSet;

async fn accredit_feed(s: &TestServer, operator: &str, partner_id: &str, sim: &SimHandle) {
    s.post_json(
        "/v1/partners",
        operator,
        &json!({ "partner_id": partner_id, "name": "Feed AB", "feed_url": sim.url }),
    )
    .await
    .expect(201);
}

/// The ids of the events the feed holds that are events of the effective view (not
/// corrections).
fn expected_ids(sim: &SimHandle, orgnr: &str) -> BTreeSet<String> {
    sim.events(orgnr)
        .iter()
        .filter(|e| e.get("corrects").is_none())
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect()
}

/// Every event id the company's registrations list, each time it is listed.
async fn listed_ids(s: &TestServer, user: &str, orgnr: &str) -> Vec<String> {
    let people = s
        .get(&format!("/v1/companies/{orgnr}/people?limit=1000"), user)
        .await
        .expect(200);
    let mut ids = Vec::new();
    for p in people["people"].as_array().unwrap() {
        let r = p["person_ref"].as_str().unwrap();
        let regs = s
            .get(
                &format!("/v1/companies/{orgnr}/people/{r}/registrations?history=true&limit=1000"),
                user,
            )
            .await
            .expect(200);
        assert!(regs.get("next_cursor").is_none());
        let id = |e: &Value| e["event_id"].as_str().unwrap().to_string();
        for session in regs["sessions"].as_array().unwrap() {
            ids.push(id(&session["check_in"]));
            ids.push(id(&session["check_out"]));
        }
        for k in ["unpaired", "duplicates", "withdrawn"] {
            ids.extend(regs[k].as_array().unwrap().iter().map(id));
        }
    }
    ids
}

async fn assert_holds_exactly(s: &TestServer, user: &str, orgnr: &str, sims: &[&SimHandle]) {
    let listed = listed_ids(s, user, orgnr).await;
    let set: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(set.len(), listed.len(), "an event is listed twice");
    let expected: BTreeSet<String> = sims
        .iter()
        .flat_map(|sim| expected_ids(sim, orgnr))
        .collect();
    assert_eq!(set, expected);
}

async fn an_interrupted_pull_resumes_without_loss_or_duplicates(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let feed = SimHandle::start(&sim(ORG_A, "feed", 1, 6, 21))
        .await
        .unwrap();
    let total = feed.events(ORG_A).len();
    assert!(total > 100, "{total}");
    accredit_feed(s, &t.operator, "feed-a", &feed).await;
    let puller = s.state.puller().unwrap().with_settings(fast_pull(20));
    let ck = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());

    // The partner fails from page 3 on: pages 0–2 are stored, the cursor stops after them.
    feed.set(|x| x.fail_from_page = Some(3));
    let first = puller.run_once().await.unwrap();
    assert_eq!(
        (first.pages, first.events_accepted, first.pairs_failed),
        (3, 60, 1),
        "{first:?}"
    );
    assert_eq!(first.errors[0].kind, "unavailable", "{first:?}");
    let at = s
        .state
        .ledger
        .feed_cursor(&ck, &stamp_domain::testing::pid("feed-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at.cursor.as_deref(), Some(cursor(60).as_str()));
    let status = s
        .state
        .ledger
        .pull_status(&stamp_domain::testing::pid("feed-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((status.companies_failed, status.last_success_at), (1, None));

    // Healed, with two failures before each page: retries get through, and the pull
    // goes on from where it stopped.
    feed.set(|x| {
        x.fail_from_page = None;
        x.fail_first_attempts = 2;
    });
    let second = puller.run_once().await.unwrap();
    assert_eq!(second.pairs_failed, 0, "{second:?}");
    assert_eq!(
        (second.events_accepted, second.events_duplicate),
        (total as u64 - 60, 0),
        "{second:?}"
    );
    assert_holds_exactly(s, &t.user, ORG_A, &[&feed]).await;
    let at = s
        .state
        .ledger
        .feed_cursor(&ck, &stamp_domain::testing::pid("feed-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((at.cursor, at.events), (Some(cursor(total)), total as u64));
    assert!(s
        .state
        .ledger
        .pull_status(&stamp_domain::testing::pid("feed-a"))
        .await
        .unwrap()
        .unwrap()
        .last_success_at
        .is_some());

    // Nothing new: nothing imported. New events: only they.
    feed.set(|x| x.fail_first_attempts = 0);
    let third = puller.run_once().await.unwrap();
    assert_eq!(third.events_accepted, 0, "{third:?}");
    let mut more = feed.events(ORG_A)[..3].to_vec();
    for (i, e) in more.iter_mut().enumerate() {
        e["event_id"] = json!(format!("late-{i}"));
        e["occurred_at"] = json!(format!("2026-03-31T0{}:00:00+02:00", 7 + i));
    }
    feed.append(ORG_A, more);
    let fourth = puller.run_once().await.unwrap();
    assert_eq!(
        (fourth.events_accepted, fourth.events_duplicate),
        (3, 0),
        "{fourth:?}"
    );
    assert_holds_exactly(s, &t.user, ORG_A, &[&feed]).await;
}

async fn a_malformed_page_is_archived_reported_and_not_passed(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let feed = SimHandle::start(&sim(ORG_A, "feed", 2, 5, 14))
        .await
        .unwrap();
    accredit_feed(s, &t.operator, "feed-a", &feed).await;
    let puller = s.state.puller().unwrap().with_settings(fast_pull(20));
    let ck = s.state.ledger.company_key(&Orgnr::parse(ORG_A).unwrap());

    feed.set(|x| x.malformed_pages = [2].into());
    for _ in 0..2 {
        let round = puller.run_once().await.unwrap();
        assert_eq!(round.malformed_pages, 1, "{round:?}");
        let error = &round.errors[0];
        assert_eq!(
            (error.kind.as_str(), error.partner_id.as_deref()),
            ("malformed", Some("feed-a"))
        );
        let body = malformed_body(2);
        assert_eq!(
            error.sha256.as_deref(),
            Some(hex::encode(Sha256::digest(body.as_bytes())).as_str())
        );
        let key = error.archive_key.as_deref().expect("archived");
        assert_eq!(
            s.archive.get(key).await.unwrap(),
            body.as_bytes(),
            "the page is archived as it came"
        );
        // Reported without personal data: the company appears by its pseudonymous key.
        let status = s
            .state
            .ledger
            .pull_status(&stamp_domain::testing::pid("feed-a"))
            .await
            .unwrap()
            .unwrap();
        let reported = serde_json::to_string(&status).unwrap();
        assert!(
            !reported.contains(ORG_A) && reported.contains(ck.as_str()),
            "{reported}"
        );
        // The cursor never passes the page it could not read.
        let at = s
            .state
            .ledger
            .feed_cursor(&ck, &stamp_domain::testing::pid("feed-a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(at.cursor.as_deref(), Some(cursor(40).as_str()));
    }
    feed.set(|x| x.malformed_pages.clear());
    let healed = puller.run_once().await.unwrap();
    assert_eq!(
        (healed.pairs_failed, healed.events_duplicate),
        (0, 0),
        "{healed:?}"
    );
    assert_holds_exactly(s, &t.user, ORG_A, &[&feed]).await;
}

async fn one_failing_partner_does_not_stop_another(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let down = SimHandle::start(&sim(ORG_A, "down", 3, 4, 7))
        .await
        .unwrap();
    let garbage = SimHandle::start(&sim(ORG_A, "garbage", 4, 4, 7))
        .await
        .unwrap();
    let good = SimHandle::start(&sim(ORG_A, "good", 5, 6, 21))
        .await
        .unwrap();
    down.set(|x| x.down = true);
    garbage.set(|x| x.malformed_pages = [0].into());
    good.set(|x| x.fail_first_attempts = 1);
    for (id, sim) in [
        ("feed-down", &down),
        ("feed-garbage", &garbage),
        ("feed-good", &good),
    ] {
        accredit_feed(s, &t.operator, id, sim).await;
    }
    let round = s
        .state
        .puller()
        .unwrap()
        .with_settings(fast_pull(50))
        .run_once()
        .await
        .unwrap();
    assert_eq!((round.pairs, round.pairs_failed), (3, 2), "{round:?}");
    let failed: BTreeSet<&str> = round
        .errors
        .iter()
        .map(|e| e.partner_id.as_deref().unwrap())
        .collect();
    assert_eq!(failed, ["feed-down", "feed-garbage"].into());
    assert_holds_exactly(s, &t.user, ORG_A, &[&good]).await;
    let ok = s
        .state
        .ledger
        .pull_status(&stamp_domain::testing::pid("feed-good"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ok.companies_failed, ok.events_accepted),
        (0, good.events(ORG_A).len() as u64)
    );
    assert!(
        down.requests() >= 3,
        "retried with backoff: {}",
        down.requests()
    );
}

async fn activation_backfills_the_full_history(s: &TestServer) {
    let operator = s.token(claims("op", &["operator"], &[]));
    let feed = SimHandle::start(&sim(ORG_B, "hist", 6, 8, 60))
        .await
        .unwrap();
    accredit_feed(s, &operator, "feed-b", &feed).await;
    // Activation (inside setup) starts the backfill: nothing else pulls here.
    let t = setup(s, ORG_B, "ledger-1").await;
    let expected = expected_ids(&feed, ORG_B);
    for _ in 0..300 {
        let listed: BTreeSet<String> = listed_ids(s, &t.user, ORG_B).await.into_iter().collect();
        if listed == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the history was not backfilled after activation");
}

on_every_store!(
    an_interrupted_pull_resumes_without_loss_or_duplicates,
    a_malformed_page_is_archived_reported_and_not_passed,
    one_failing_partner_does_not_stop_another,
    activation_backfills_the_full_history,
);
