//! Reading an object of any size through the (blocking) delivery parser: a task forwards
//! the object's byte chunks over a small bounded channel to a blocking thread, which
//! parses and hashes them and hands events back in chunks over another bounded channel.
//! At most a few chunks are in flight, whatever the size of the object.

use super::parse::{
    stream_delivery, BatchIdRule, DeliveryFormat, EnvelopeError, EnvelopeInfo, RawEvent,
};
use super::survey::Survey;
use crate::error::DomainError;
use crate::ports::{ArchiveError, ObjectStream};
use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use tokio::sync::mpsc;

/// A batch id rule that can travel to another thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OwnedRule {
    Given(String),
    Declared(String),
}

impl OwnedRule {
    fn borrow(&self) -> BatchIdRule<'_> {
        match self {
            OwnedRule::Given(s) => BatchIdRule::Given(s),
            OwnedRule::Declared(s) => BatchIdRule::Declared(s),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamPhase {
    Plain,
    Corrections,
}

/// Byte chunks from a channel as a `Read`, hashing everything that passes.
struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, ArchiveError>>,
    current: Bytes,
    hasher: Sha256,
    bytes: u64,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(b)) => {
                    self.hasher.update(&b);
                    self.bytes += b.len() as u64;
                    self.current = b;
                }
                Some(Err(e)) => return Err(std::io::Error::other(e.to_string())),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Forwards an object's chunks to a blocking reader.
fn reader_of(object: ObjectStream) -> ChannelReader {
    let (tx, rx) = mpsc::channel::<Result<Bytes, ArchiveError>>(4);
    let mut chunks = object.chunks;
    tokio::spawn(async move {
        while let Some(c) = chunks.next().await {
            let failed = c.is_err();
            if tx.send(c).await.is_err() || failed {
                break;
            }
        }
    });
    ChannelReader {
        rx,
        current: Bytes::new(),
        hasher: Sha256::new(),
        bytes: 0,
    }
}

/// Reads the rest of the object (so its hash covers every byte) and answers its hash and size.
fn drain(mut reader: BufReader<ChannelReader>) -> Result<(String, u64), String> {
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| e.to_string())?;
    let inner = reader.into_inner();
    Ok((hex::encode(inner.hasher.finalize()), inner.bytes))
}

pub(crate) struct Finished {
    pub envelope: Result<EnvelopeInfo, EnvelopeError>,
    pub sha256: String,
    /// Events that name a `corrects`.
    pub corrections: usize,
}

pub(crate) struct Reading {
    pub chunks: mpsc::Receiver<Vec<(usize, RawEvent)>>,
    handle: tokio::task::JoinHandle<Finished>,
}

impl Reading {
    pub async fn finished(self) -> Result<Finished, DomainError> {
        drop(self.chunks);
        self.handle
            .await
            .map_err(|e| DomainError::Internal(format!("the delivery reader failed: {e}")))
    }
}

fn names_corrects(raw: &RawEvent) -> bool {
    raw.as_ref()
        .ok()
        .and_then(|m| m.get("corrects"))
        .and_then(serde_json::Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

/// Streams an object's events in chunks of `chunk` (in the corrections phase only the
/// events naming a `corrects` are handed over).
pub(crate) fn read_chunks(
    object: ObjectStream,
    format: DeliveryFormat,
    rule: OwnedRule,
    chunk: usize,
    phase: StreamPhase,
) -> Reading {
    let (tx, rx) = mpsc::channel::<Vec<(usize, RawEvent)>>(2);
    let source = reader_of(object);
    let handle = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::with_capacity(64 * 1024, source);
        let mut buffer: Vec<(usize, RawEvent)> = Vec::with_capacity(chunk);
        let mut corrections = 0usize;
        let envelope = stream_delivery(format, &mut reader, rule.borrow(), &mut |i, raw| {
            let correction = names_corrects(&raw);
            corrections += usize::from(correction);
            if phase == StreamPhase::Plain || correction {
                buffer.push((i, raw));
            }
            if buffer.len() >= chunk {
                tx.blocking_send(std::mem::take(&mut buffer))
                    .map_err(|_| "the importer stopped".to_string())?;
            }
            Ok(())
        });
        let envelope = match envelope {
            Ok(info) if !buffer.is_empty() => match tx.blocking_send(std::mem::take(&mut buffer)) {
                Ok(()) => Ok(info),
                Err(_) => Err(EnvelopeError::Aborted("the importer stopped".into())),
            },
            other => other,
        };
        let (sha256, envelope) = match drain(reader) {
            Ok((sha, _)) => (sha, envelope),
            Err(e) => (String::new(), envelope.and(Err(EnvelopeError::Aborted(e)))),
        };
        Finished {
            envelope,
            sha256,
            corrections,
        }
    });
    Reading { chunks: rx, handle }
}

/// The first read of an upload: the whole envelope judged, every event validated for
/// the archive's retention, nothing stored.
pub(crate) struct Scan {
    pub envelope: Result<EnvelopeInfo, EnvelopeError>,
    pub sha256: String,
    pub bytes: u64,
    pub survey: Survey,
}

pub(crate) async fn scan(
    object: ObjectStream,
    format: DeliveryFormat,
    rule: OwnedRule,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Scan, DomainError> {
    let source = reader_of(object);
    tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::with_capacity(64 * 1024, source);
        let mut survey = Survey {
            received: Some(received_at),
            ..Survey::default()
        };
        let envelope = stream_delivery(format, &mut reader, rule.borrow(), &mut |_, raw| {
            survey.add(&raw);
            Ok(())
        });
        match drain(reader) {
            Ok((sha256, bytes)) => Scan {
                envelope,
                sha256,
                bytes,
                survey,
            },
            Err(e) => Scan {
                envelope: Err(EnvelopeError::Aborted(e)),
                sha256: String::new(),
                bytes: 0,
                survey,
            },
        }
    })
    .await
    .map_err(|e| DomainError::Internal(format!("the upload reader failed: {e}")))
}
