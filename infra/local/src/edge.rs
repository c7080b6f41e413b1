//! stamp-local's server edge: refusals hyper makes before the router runs become
//! problem+json too.
//!
//! hyper answers a request line over its fixed limit (~64 KB, `MAX_URI_LEN`, not
//! configurable) with `414` and a request head over its read buffer with `431`, both with
//! an empty body, and closes the connection — the router, and so the one rejection
//! handler (`stamp_api::problem::refusals_as_problems`), never sees them. Raising the
//! limit is not possible for the URI; instead the connection's write side recognises
//! hyper's own empty 4xx head (every 4xx the router answers has a problem+json body) and
//! writes `stamp_api::problem::edge_refusal` in its place. In AWS, API Gateway refuses
//! such requests before the function.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections rewrite hyper's own refusals.
pub struct EdgeListener(pub TcpListener);

impl axum::serve::Listener for EdgeListener {
    type Io = EdgeStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // axum's own accept: errors (e.g. too many open files) are waited out.
        let (stream, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (
            EdgeStream {
                inner: stream,
                pending: Vec::new(),
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// One connection: reads pass through; hyper's empty 4xx answer is replaced.
pub struct EdgeStream {
    inner: TcpStream,
    /// The replacement answer still to be written.
    pending: Vec<u8>,
}

/// The problem+json answer standing for `head`, when `head` is one of hyper's own empty
/// 4xx refusals.
pub fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 4")?;
    if !text.ends_with("\r\n\r\n") {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if !lower.contains("\r\ncontent-length: 0\r\n") || lower.contains("\r\ncontent-type:") {
        return None;
    }
    let code: u16 = format!("4{}", rest.get(..2)?).parse().ok()?;
    let status = axum::http::StatusCode::from_u16(code).ok()?;
    let detail = match code {
        414 => "the request URI is longer than this server takes (about 64 KB)",
        431 => "the request's header fields are larger than this server takes",
        _ => "the request could not be read as HTTP/1.1",
    };
    Some(stamp_api::problem::edge_refusal(status, detail))
}

impl EdgeStream {
    fn flush_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for EdgeStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for EdgeStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Err(e)) = self.flush_pending(cx) {
            return Poll::Ready(Err(e));
        }
        if !self.pending.is_empty() {
            return Poll::Pending;
        }
        // hyper writes an error answer's head in one buffer (writes are not vectored).
        if buf.len() < 512 {
            if let Some(answer) = replacement(buf) {
                self.pending = answer;
                // Written as far as it goes now; poll_flush writes the rest.
                let _ = self.flush_pending(cx);
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.flush_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.flush_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_shutdown(cx),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn only_hypers_own_empty_refusals_are_replaced() {
        let hyper_414 = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(replacement(hyper_414).expect("replaced")).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{answer}"
        );
        assert!(answer.contains("content-type: application/problem+json"));
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], "uri_too_long");
        assert_eq!(v["status"], 414);
        // The router's own answers are left alone: a problem, a success, a partial head.
        assert!(replacement(b"HTTP/1.1 414 URI Too Long\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
        )
        .is_none());
    }
}
