//! Issue 14 item 5: requests without a token are held to stamp-local's anonymous budget
//! (429 problem+json with Retry-After beyond it), every one of them is still audited,
//! and authenticated requests sent at the same time are not held to the budget.

use crate::on_every_store;
use crate::server::*;
use serde_json::Value;
use stamp_api::budget::AnonymousBudget;

/// Every entry of every chain: (actor, status).
async fn trail(s: &TestServer) -> Vec<(String, u16)> {
    s.audit_entries()
        .await
        .into_iter()
        .map(|(_, e)| (e.record.actor, e.record.status))
        .collect()
}

async fn an_anonymous_flood_is_held_to_its_budget_and_audited(s: &TestServer) {
    // A budget of 1 a second, bursts of 5, no waiting: the 6th request at once is over.
    let state = s.state.clone().with_anonymous_budget(AnonymousBudget::new(
        1,
        5,
        std::time::Duration::ZERO,
    ));
    let base = s.serve_state(state).await;
    let operator = s.token(claims("op-flood", &["operator"], &[]));
    let before = trail(s).await.len();

    // 30 anonymous requests and 10 authenticated ones at the same time.
    let http = reqwest::Client::new();
    let send = |token: Option<String>, path: &str| {
        let (http, url) = (http.clone(), format!("{base}{path}"));
        tokio::spawn(async move {
            let r = http.get(url);
            let r = match token {
                Some(t) => r.bearer_auth(t),
                None => r,
            };
            r.send().await.unwrap()
        })
    };
    let flood: Vec<_> = (0..30).map(|_| send(None, "/v1/announcements")).collect();
    let users: Vec<_> = (0..10)
        .map(|_| send(Some(operator.clone()), "/v1/partners"))
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for r in flood {
        let r = r.await.unwrap();
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                refused += 1;
                let after: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(after >= 1);
                assert_eq!(
                    r.headers()["content-type"].to_str().unwrap(),
                    "application/problem+json"
                );
                let raw = r.bytes().await.unwrap();
                // As the API document describes it.
                crate::contract::check(
                    &reqwest::Method::GET,
                    "/v1/announcements",
                    429,
                    "application/problem+json",
                    &raw,
                );
                let body: Value = serde_json::from_slice(&raw).unwrap();
                assert_eq!(body["code"], "too_many_requests");
                assert_eq!(body["status"], 429);
            }
            other => panic!("anonymous request answered {other}"),
        }
    }
    assert_eq!(ok + refused, 30);
    assert!((5..30).contains(&ok), "{ok} within the budget");
    assert!(refused >= 15, "{refused} over it");
    // The authenticated requests are not held to the anonymous budget.
    for r in users {
        assert_eq!(r.await.unwrap().status(), 200);
    }

    // Every request is in the trail — the refused ones too — and it verifies sealed.
    let after = trail(s).await;
    assert_eq!(after.len() - before, 40);
    let anonymous_429 = after
        .iter()
        .filter(|(a, st)| a == "anonymous" && *st == 429)
        .count();
    assert_eq!(anonymous_429, refused);
    s.state
        .audit
        .seal(
            chrono::Utc::now() + chrono::Duration::seconds(1),
            chrono::Duration::zero(),
        )
        .await
        .unwrap();
    let reports = stamp_api::jobs::verify_audit(&s.state).await.unwrap();
    let sealed: u64 = reports.iter().map(|r| r.sealed).sum();
    assert_eq!(sealed as usize, after.len());
    assert!(
        reports.iter().all(|r| r.intact() && r.unsealed == 0),
        "{reports:?}"
    );
}

on_every_store!(an_anonymous_flood_is_held_to_its_budget_and_audited);
