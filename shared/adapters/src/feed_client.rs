//! [`FeedClient`] over HTTP(S) (reqwest with rustls): reads a page of a partner's feed.
//!
//! Errors never carry the URL: its path holds the company's organisationsnummer, which
//! for a sole trader is a personnummer, and errors end up in logs and pull status.

use async_trait::async_trait;
use stamp_domain::ports::{FeedClient, FeedError, FeedRequest};
use std::time::Duration;

/// The largest page Stamp reads (a push is at most 6 MB; a page is asked for far fewer
/// events than a push may hold).
pub const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpFeedClient {
    client: reqwest::Client,
    max_bytes: usize,
}

impl HttpFeedClient {
    /// A client whose requests give up after `timeout` (connecting included).
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("stamp-pull/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        HttpFeedClient {
            client,
            max_bytes: MAX_PAGE_BYTES,
        }
    }
}

impl Default for HttpFeedClient {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

fn unavailable(e: reqwest::Error) -> FeedError {
    FeedError::Unavailable(e.without_url().to_string())
}

#[async_trait]
impl FeedClient for HttpFeedClient {
    async fn fetch(&self, r: &FeedRequest<'_>) -> Result<Vec<u8>, FeedError> {
        let url = format!(
            "{}/companies/{}/events",
            r.feed_url.trim_end_matches('/'),
            r.orgnr
        );
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(after) = r.after {
            query.push(("after", after.to_string()));
        }
        query.push(("limit", r.limit.to_string()));
        let mut res = self
            .client
            .get(url)
            .query(&query)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            return Err(FeedError::Unavailable(format!(
                "the feed answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(FeedError::Refused {
                status: status.as_u16(),
                detail: format!("the feed answered {status}"),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(unavailable)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FeedError::Refused {
                    status: status.as_u16(),
                    detail: format!("the page is larger than {} bytes", self.max_bytes),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
