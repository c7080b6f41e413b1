//! Refusals hyper makes before the router runs (stamp-local's server edge): a request
//! line over hyper's fixed ~64 KB limit and a head over its buffer are problem+json with
//! a stable code, like every other refusal.

use crate::server::*;

/// A GET written by hand on a socket: the `http` crate (and so every Rust client)
/// refuses URIs over 64 KB itself.
async fn raw_get(s: &TestServer, path: &str, headers: usize) -> (u16, String, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n");
    for i in 0..headers {
        req.push_str(&format!("x-filler-{i}: b\r\n"));
    }
    req.push_str("connection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)
        .await
        .expect("an answer, not a reset connection");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let ct = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ct, serde_json::from_str(body).unwrap_or_default())
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
