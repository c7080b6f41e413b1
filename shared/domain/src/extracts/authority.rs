//! The authority extract (*underlag till Skatteverket*) in its three formats. Rows are
//! written as they come, chunk by chunk, so a CSV or JSON of 100,000 rows never holds
//! more than one chunk of rows at a time; a PDF keeps the cells to lay them out.

use super::pdf::{self, Block, Frame, Table};
use super::rows::{local_datetime, local_datetime_utc, Row, COLUMNS};
use super::texts::{hours_minutes, AUTHORITY_TITLE};
use super::ExtractFormat;
use crate::error::DomainError;
use crate::identity::pseudonym::PersonRef;
use crate::identity::{Orgnr, SiteId};
use crate::time::{format_rfc3339, local_date, local_day_start, Instant};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::borrow::Cow;
use std::io::Write;

/// What the extract is of, for its header.
#[derive(Debug, Clone)]
pub struct AuthorityHeader {
    pub extract_id: String,
    pub company_orgnr: Orgnr,
    pub company_name: String,
    pub from: Instant,
    pub to: Instant,
    pub site_id: Option<SiteId>,
    /// `(person_ref, person_name)` when the extract is of one person.
    pub person: Option<(PersonRef, String)>,
    pub generated_at: DateTime<Utc>,
}

/// A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, and the tab
/// and carriage return OWASP adds) gets a leading `'`, which spreadsheets show as text.
pub fn escape_formula(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// `2026-03-01 – 2026-03-31` for whole local days (the last day inclusive), else the
/// local times of `[from, to)`.
pub fn period_text(from: &Instant, to: &Instant) -> String {
    let (fd, td) = (local_date(from), local_date(to));
    if local_day_start(fd) == *from && local_day_start(td) == *to {
        let last = td.pred_opt().unwrap_or(td);
        format!("{fd} – {last}")
    } else {
        format!(
            "{} – {} (sluttiden ej med)",
            local_datetime(from),
            local_datetime(to)
        )
    }
}

impl AuthorityHeader {
    fn selection(&self) -> String {
        let who = match &self.person {
            Some((_, name)) => format!("person: {name}"),
            None => "alla personer".into(),
        };
        let site = match &self.site_id {
            Some(s) => format!("byggarbetsplats {s}"),
            None => "alla byggarbetsplatser".into(),
        };
        format!("{who}, {site}")
    }

    fn frame(&self) -> Frame {
        Frame {
            landscape: true,
            title: AUTHORITY_TITLE.into(),
            header: vec![
                format!(
                    "Företag: {} ({})    Urval: {}",
                    self.company_name,
                    self.company_orgnr,
                    self.selection()
                ),
                format!(
                    "Period: {}    Skapad: {} (svensk tid)    Utdrag-id: {}",
                    period_text(&self.from, &self.to),
                    local_datetime_utc(&self.generated_at),
                    self.extract_id
                ),
            ],
            document_title: format!(
                "Underlag till Skatteverket {} {}",
                self.company_orgnr,
                period_text(&self.from, &self.to)
            ),
        }
    }
}

enum Sink {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Json(Vec<u8>),
    Pdf(Vec<Vec<String>>),
}

/// Writes rows as they come; `finish` gives the file.
pub struct AuthorityWriter {
    header: AuthorityHeader,
    sink: Sink,
    rows: u64,
    sessions: u64,
    minutes: i64,
}

fn csv_error(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("writing the CSV: {e}"))
}

impl AuthorityWriter {
    pub fn new(format: ExtractFormat, header: AuthorityHeader) -> Result<Self, DomainError> {
        let sink = match format {
            ExtractFormat::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(Vec::new());
                w.write_record(COLUMNS).map_err(csv_error)?;
                Sink::Csv(Box::new(w))
            }
            ExtractFormat::Json => {
                let head = json!({
                    "kind": "authority",
                    "extract_id": header.extract_id,
                    "generated_at": header.generated_at,
                    "company": { "company_orgnr": header.company_orgnr, "company_name": header.company_name },
                    "period": {
                        "from": format_rfc3339(&header.from),
                        "to": format_rfc3339(&header.to),
                        "text": period_text(&header.from, &header.to),
                    },
                    "site_id": header.site_id,
                    "person_ref": header.person.as_ref().map(|p| &p.0),
                    "columns": COLUMNS,
                });
                // Open the object, leave `rows` open for the rows to stream in.
                let mut buf =
                    serde_json::to_vec(&head).map_err(|e| DomainError::Internal(e.to_string()))?;
                buf.pop();
                buf.extend_from_slice(b",\"rows\":[");
                Sink::Json(buf)
            }
            ExtractFormat::Pdf => Sink::Pdf(Vec::new()),
        };
        Ok(AuthorityWriter {
            header,
            sink,
            rows: 0,
            sessions: 0,
            minutes: 0,
        })
    }

    pub fn write(&mut self, rows: &[Row]) -> Result<(), DomainError> {
        for r in rows {
            if let Some(m) = r.duration_minutes() {
                self.sessions += 1;
                self.minutes += m;
            }
            match &mut self.sink {
                Sink::Csv(w) => {
                    let cells = r.cells();
                    w.write_record(cells.iter().map(|c| escape_formula(c).into_owned()))
                        .map_err(csv_error)?;
                }
                Sink::Json(buf) => {
                    if self.rows > 0 {
                        buf.push(b',');
                    }
                    serde_json::to_writer(&mut *buf, &r.to_json())
                        .map_err(|e| DomainError::Internal(e.to_string()))?;
                }
                Sink::Pdf(cells) => cells.push(r.cells().into()),
            }
            self.rows += 1;
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> Result<Vec<u8>, DomainError> {
        let totals = format!(
            "Summa: {} rader, {} arbetspass, {} ({} minuter).",
            self.rows,
            self.sessions,
            hours_minutes(self.minutes),
            self.minutes
        );
        match self.sink {
            Sink::Csv(w) => w.into_inner().map_err(|e| csv_error(e.error())),
            Sink::Json(mut buf) => {
                write!(
                    buf,
                    "],\"totals\":{}}}",
                    json!({ "rows": self.rows, "sessions": self.sessions, "minutes": self.minutes })
                )
                .map_err(|e| DomainError::Internal(e.to_string()))?;
                Ok(buf)
            }
            Sink::Pdf(rows) => {
                let widths = [
                    7.0, 7.0, 7.6, 8.0, 7.0, 5.6, 4.4, 6.0, 4.2, 5.6, 6.0, 8.5, 9.9, 8.2, 7.0,
                ];
                let table = Table {
                    columns: COLUMNS
                        .iter()
                        .zip(widths)
                        .map(|(c, w)| (c.to_string(), w))
                        .collect(),
                    rows,
                    size: 5.8,
                };
                let blocks = if table.rows.is_empty() {
                    vec![
                        Block::Paragraph(
                            "Personalliggaren har inga registreringar i urvalet.".into(),
                        ),
                        Block::Paragraph(totals),
                    ]
                } else {
                    vec![Block::Table(table), Block::Paragraph(totals)]
                };
                pdf::render(&self.header.frame(), &blocks).map_err(DomainError::Internal)
            }
        }
    }
}

#[cfg(test)]
mod tests;
