//! A CSV delivery read as it streams: the header, one event a row, a byte-order mark
//! dropped, and a bad row reported with its line.

use super::{batch_id_ok, BatchIdRule, EnvelopeError, EnvelopeInfo, RawEvent};
use serde_json::{Map, Value};
use std::io::Read;

/// Drops a UTF-8 byte-order mark at the start of a stream.
struct SkipBom<R> {
    inner: R,
    head: Vec<u8>,
    checked: bool,
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let mut head = [0u8; 3];
            let mut n = 0;
            while n < 3 {
                let got = self.inner.read(&mut head[n..])?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            if head[..n] != [0xef, 0xbb, 0xbf] {
                self.head = head[..n].to_vec();
            }
        }
        if !self.head.is_empty() {
            let n = self.head.len().min(buf.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head.drain(..n);
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

pub(super) fn csv_failure(e: &csv::Error, what: &str) -> Option<EnvelopeError> {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => Some(EnvelopeError::Malformed {
            field: "body",
            reason: format!("CSV must be UTF-8: {err}"),
        }),
        csv::ErrorKind::Io(io) => Some(EnvelopeError::Aborted(format!(
            "reading the {what} failed: {io}"
        ))),
        _ => None,
    }
}

pub(super) fn stream_csv<R: Read>(
    reader: R,
    rule: BatchIdRule<'_>,
    sink: &mut dyn FnMut(usize, RawEvent) -> Result<(), String>,
) -> Result<EnvelopeInfo, EnvelopeError> {
    let batch_id = match rule {
        BatchIdRule::Given(id) | BatchIdRule::Declared(id) => batch_id_ok(id)?,
        BatchIdRule::FromBody => batch_id_ok("")?,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(SkipBom {
            inner: reader,
            head: Vec::new(),
            checked: false,
        });
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_string()).collect(),
        Err(e) => {
            return Err(
                csv_failure(&e, "header row").unwrap_or_else(|| EnvelopeError::Malformed {
                    field: "body",
                    reason: format!("CSV header row cannot be read: {e}"),
                }),
            )
        }
    };
    if headers.iter().all(|h| h.is_empty()) {
        return Err(EnvelopeError::Missing {
            field: "body",
            reason: "CSV needs a header row naming the fields".into(),
        });
    }
    let mut n = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        let event = match reader.read_record(&mut record) {
            Ok(false) => break,
            Err(e) => match csv_failure(&e, "rows") {
                Some(fatal) => return Err(fatal),
                None => Err(format!("CSV row cannot be read: {e}")),
            },
            Ok(true) if record.len() != headers.len() => Err(format!(
                "CSV row has {} cells, the header has {}",
                record.len(),
                headers.len()
            )),
            Ok(true) => {
                let mut m = Map::new();
                for (h, cell) in headers.iter().zip(record.iter()) {
                    if !cell.is_empty() {
                        m.insert(h.clone(), Value::String(cell.to_string()));
                    }
                }
                Ok(m)
            }
        };
        sink(n, event).map_err(EnvelopeError::Aborted)?;
        n += 1;
    }
    Ok(EnvelopeInfo {
        batch_id,
        events: n,
        next_cursor: None,
        has_more: false,
    })
}
