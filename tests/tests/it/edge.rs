//! Refusals hyper makes before the router runs (stamp-local's server edge): a request
//! line over hyper's fixed ~64 KB limit and a head over its buffer are problem+json with
//! a stable code, like every other refusal.

use crate::server::*;

async fn raw_get(s: &TestServer, path: &str, headers: usize) -> (u16, String, serde_json::Value) {
    let mut req = reqwest::Client::new().get(format!("{}{}", s.base, path));
    for i in 0..headers {
        req = req.header(format!("x-filler-{i}"), "b");
    }
    let res = req.send().await.expect("an answer, not a reset connection");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = serde_json::from_slice(&res.bytes().await.expect("body")).unwrap_or_default();
    (status, ct, body)
}

#[tokio::test]
async fn a_uri_over_64_kb_and_an_oversized_head_are_problems() {
    let s = TestServer::embedded().await;
    let t = setup(&s, ORG_A, "ledger-1").await;
    let long = "a".repeat(70 * 1024);
    let (status, ct, body) = raw_get(
        &s,
        &format!("/v1/companies/{ORG_A}/people?cursor={long}"),
        0,
    )
    .await;
    assert_eq!(
        (status, ct.as_str()),
        (414, "application/problem+json"),
        "{body}"
    );
    assert_eq!(body["code"], "uri_too_long", "{body}");
    assert_eq!(body["status"], 414);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());

    // More header fields than hyper reads (100).
    let (status, ct, body) = raw_get(&s, &format!("/v1/companies/{ORG_A}/people"), 120).await;
    assert_eq!(
        (status, ct.as_str()),
        (431, "application/problem+json"),
        "{body}"
    );
    assert_eq!(body["code"], "headers_too_large", "{body}");

    // Just under the limit the router answers as ever (the cursor is refused by field).
    let under = "a".repeat(3000);
    s.get(
        &format!("/v1/companies/{ORG_A}/people?cursor={under}"),
        &t.user,
    )
    .await
    .problem(400, "invalid_field");
    // And the server still serves after the refusals.
    s.get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
}
