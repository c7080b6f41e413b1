//! The register extract (*registerutdrag*, GDPR art. 15): everything Stamp holds on one
//! person in a company — every event with its correction history and retention,
//! sessions, unpaired events, duplicates, withdrawn events, anomalies — with the
//! information art. 15 requires, in Swedish. An employee's own extract has one section
//! per company whose ledger holds them (each company is its own controller).

use super::pdf::{self, Block, Frame, Table};
use super::rows::{
    correction_json, correction_text, local_datetime, local_datetime_utc, person_id_full, Row,
    RowKind,
};
use super::texts::*;
use super::ExtractFormat;
use crate::error::DomainError;
use crate::governance::retention::{retention_until, FiscalYearEnd};
use crate::identity::pseudonym::PersonRef;
use crate::identity::PartnerId;
use crate::identity::{Orgnr, PersonId};
use crate::model::LedgerEvent;
use crate::time::{format_rfc3339, local_date};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

/// One company's ledger on the person.
#[derive(Debug, Clone)]
pub struct RegisterSection {
    pub company_orgnr: Orgnr,
    pub company_name: String,
    pub company_active: bool,
    pub fiscal_year_end: FiscalYearEnd,
    pub person_ref: PersonRef,
    pub person_name: String,
    /// Every row of the person's whole history, sorted by time.
    pub rows: Vec<Row>,
    /// The partners whose systems delivered the events: id and name.
    pub sources: Vec<(PartnerId, Option<String>)>,
}

#[derive(Debug, Clone)]
pub struct RegisterDoc {
    pub extract_id: String,
    pub generated_at: DateTime<Utc>,
    pub subject_name: String,
    pub subject_id: PersonId,
    /// Who the extract was ordered by: the company (its name) or the person themself.
    pub ordered_for_company: Option<(Orgnr, String)>,
    pub sections: Vec<RegisterSection>,
}

impl RegisterSection {
    pub fn retention(&self, e: &LedgerEvent) -> NaiveDate {
        retention_until(local_date(&e.occurred_at), self.fiscal_year_end)
    }

    fn row_retention(&self, r: &Row) -> NaiveDate {
        r.events()
            .map(|e| self.retention(e))
            .max()
            .unwrap_or(NaiveDate::MIN)
    }

    pub fn events(&self) -> impl Iterator<Item = &LedgerEvent> {
        self.rows.iter().flat_map(|r| r.events())
    }

    pub fn sessions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.kind == RowKind::Session)
            .count()
    }

    pub fn minutes(&self) -> i64 {
        self.rows.iter().filter_map(Row::duration_minutes).sum()
    }

    fn anomaly_count(&self) -> usize {
        self.rows.iter().map(|r| r.anomalies.len()).sum()
    }

    fn correction_count(&self) -> usize {
        self.rows.iter().map(|r| r.corrections.len()).sum()
    }

    fn sources_text(&self) -> String {
        if self.sources.is_empty() {
            return "–".into();
        }
        self.sources
            .iter()
            .map(|(id, name)| match name {
                Some(n) => format!("{n} ({id})"),
                None => id.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn summary(&self) -> String {
        format!(
            "Summa: {} arbetspass, {} ({} minuter); {} registreringar, {} rättelser, {} avvikelser.",
            self.sessions(),
            hours_minutes(self.minutes()),
            self.minutes(),
            self.events().count(),
            self.correction_count(),
            self.anomaly_count()
        )
    }

    fn storage_text(&self) -> String {
        format!(
            "Till och med två år efter utgången av det kalenderår då räkenskapsåret gick ut; \
             företagets räkenskapsår slutar i månad {}. Sista dag står vid varje registrering.",
            self.fiscal_year_end.month()
        )
    }

    fn span(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.events().map(|e| local_date(&e.occurred_at)).min()?;
        let last = self.events().map(|e| local_date(&e.occurred_at)).max()?;
        Some((first, last))
    }

    fn event_json(&self, e: &LedgerEvent, r: &Row) -> Value {
        let k = e.key();
        json!({
            "partner_id": e.partner_id,
            "event_id": e.event_id,
            "site_id": e.site_id,
            "direction": e.direction,
            "occurred_at": format_rfc3339(&e.occurred_at),
            "local_time": local_datetime(&e.occurred_at),
            "recorded_at": format_rfc3339(&e.recorded_at),
            "received_at": e.received_at,
            "source": e.source,
            "recorded_by": e.recorded_by,
            "card_number": e.card_number,
            "employer_orgnr": e.employer_orgnr,
            "person_name": e.person_name,
            "company_name": e.company_name,
            "withdrawn": e.withdrawn,
            "retention_until": self.retention(e).to_string(),
            "row_kind": r.kind,
            "corrections": r.corrections.iter().filter(|(ek, _)| *ek == k).map(|(ek, c)| correction_json(ek, c)).collect::<Vec<_>>(),
            "anomalies": r.anomalies.iter().filter(|(_, ek)| *ek == k).map(|(kind, _)| kind.as_str()).collect::<Vec<_>>(),
        })
    }

    fn to_json(&self) -> Value {
        let mut rows = Vec::new();
        let mut events = Vec::new();
        let mut anomalies = Vec::new();
        for r in &self.rows {
            let mut v = r.to_json();
            v["retention_until"] = json!(self.row_retention(r).to_string());
            rows.push(v);
            for e in r.events() {
                events.push(self.event_json(e, r));
            }
            for (kind, k) in &r.anomalies {
                let e = r.events().find(|e| e.key() == *k);
                anomalies.push(json!({
                    "kind": kind,
                    "label": anomaly_sv(*kind),
                    "event": { "partner_id": k.partner_id, "event_id": k.event_id },
                    "occurred_at": e.map(|e| format_rfc3339(&e.occurred_at)),
                    "site_id": e.map(|e| e.site_id.to_string()),
                }));
            }
        }
        json!({
            "controller": {
                "company_orgnr": self.company_orgnr,
                "company_name": self.company_name,
                "active": self.company_active,
            },
            "person_ref": self.person_ref,
            "person_name": self.person_name,
            "fiscal_year_end_month": self.fiscal_year_end.month(),
            "storage_period": self.storage_text(),
            "sources": self.sources.iter().map(|(id, name)| json!({ "partner_id": id, "name": name })).collect::<Vec<_>>(),
            "rows": rows,
            "events": events,
            "anomalies": anomalies,
            "totals": {
                "sessions": self.sessions(),
                "minutes": self.minutes(),
                "events": self.events().count(),
                "corrections": self.correction_count(),
                "anomalies": self.anomaly_count(),
            },
        })
    }

    fn blocks(&self, out: &mut Vec<Block>) {
        out.push(Block::Heading(format!(
            "Personuppgiftsansvarig: {} ({})",
            self.company_name, self.company_orgnr
        )));
        let span = self
            .span()
            .map(|(a, b)| format!("{a} – {b}"))
            .unwrap_or_else(|| "–".into());
        out.push(Block::Fields(vec![
            ("Namn i personalliggaren".into(), self.person_name.clone()),
            ("Person-referens".into(), self.person_ref.to_string()),
            (
                "Företagets status i Stamp".into(),
                if self.company_active {
                    "aktivt".into()
                } else {
                    "avregistrerat (uppgifterna bevaras till lagringstidens slut)".into()
                },
            ),
            ("Registreringar från – till".into(), span),
            ("Källor (personalliggarsystem)".into(), self.sources_text()),
            ("Lagringstid".into(), self.storage_text()),
        ]));
        out.push(Block::Paragraph(self.summary()));

        out.push(Block::Heading("Arbetspass och registreringar".into()));
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.date().to_string(),
                    r.primary().site_id.to_string(),
                    r.check_in_text(),
                    r.check_out_text(),
                    r.duration_minutes()
                        .map(|m| m.to_string())
                        .unwrap_or_default(),
                    r.kind.label_sv().to_string(),
                    r.events()
                        .map(|e| format!("{} {}", direction_sv(e.direction), source_sv(e.source)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    r.event_ids().join(" "),
                    r.anomaly_kinds()
                        .iter()
                        .map(|k| anomaly_sv(*k))
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.row_retention(r).to_string(),
                ]
            })
            .collect();
        if rows.is_empty() {
            out.push(Block::Paragraph("Inga registreringar.".into()));
        } else {
            let cols = [
                ("Datum", 6.0),
                ("Byggarbetsplats", 8.5),
                ("In", 4.8),
                ("Ut", 6.5),
                ("Minuter", 4.2),
                ("Slag", 7.5),
                ("Källa", 6.5),
                ("Händelser (partner:id)", 12.0),
                ("Avvikelser", 9.0),
                ("Sparas t.o.m.", 6.0),
            ];
            out.push(Block::Table(Table {
                columns: cols.iter().map(|(c, w)| (c.to_string(), *w)).collect(),
                rows,
                size: 6.5,
            }));
        }

        out.push(Block::Heading("Rättelser och återkallelser".into()));
        let corrections: Vec<Vec<String>> = self
            .rows
            .iter()
            .flat_map(|r| r.corrections.iter())
            .map(|(k, c)| vec![correction_text(k, c)])
            .collect();
        if corrections.is_empty() {
            out.push(Block::Paragraph(
                "Inga rättelser eller återkallelser.".into(),
            ));
        } else {
            out.push(Block::Table(Table {
                columns: vec![("Vad, vem och när".into(), 1.0)],
                rows: corrections,
                size: 7.0,
            }));
        }

        out.push(Block::Heading("Avvikelser".into()));
        let mut anomalies: Vec<Vec<String>> = Vec::new();
        for r in &self.rows {
            for (kind, k) in &r.anomalies {
                let e = r.events().find(|e| e.key() == *k);
                anomalies.push(vec![
                    e.map(|e| local_datetime(&e.occurred_at))
                        .unwrap_or_default(),
                    e.map(|e| e.site_id.to_string()).unwrap_or_default(),
                    anomaly_sv(*kind).to_string(),
                    format!("{}:{}", k.partner_id, k.event_id),
                ]);
            }
        }
        if anomalies.is_empty() {
            out.push(Block::Paragraph("Inga avvikelser.".into()));
        } else {
            let cols = [
                ("Tid", 1.3),
                ("Byggarbetsplats", 1.3),
                ("Avvikelse", 2.2),
                ("Händelse", 2.0),
            ];
            out.push(Block::Table(Table {
                columns: cols.iter().map(|(c, w)| (c.to_string(), *w)).collect(),
                rows: anomalies,
                size: 7.0,
            }));
        }
    }
}

impl RegisterDoc {
    fn information_json() -> Value {
        json!({
            "purposes": PURPOSES,
            "legal_basis": LEGAL_BASIS,
            "categories": CATEGORIES,
            "recipients": RECIPIENTS,
            "storage_period": STORAGE_PERIOD,
            "sources": SOURCES,
            "rights": RIGHTS,
        })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "kind": "register_extract",
            "title": REGISTER_TITLE,
            "extract_id": self.extract_id,
            "generated_at": self.generated_at,
            "subject": { "person_name": self.subject_name, "person_id": person_id_full(&self.subject_id) },
            "information": Self::information_json(),
            "companies": self.sections.iter().map(RegisterSection::to_json).collect::<Vec<_>>(),
            "note": if self.sections.is_empty() { Some(NO_DATA) } else { None },
        })
    }

    fn frame(&self) -> Frame {
        let company = match &self.ordered_for_company {
            Some((orgnr, name)) => format!("Företag: {name} ({orgnr})"),
            None => format!(
                "Företag: alla som har uppgifter om dig i Stamp ({})",
                self.sections.len()
            ),
        };
        let first = self
            .sections
            .iter()
            .filter_map(RegisterSection::span)
            .map(|s| s.0)
            .min();
        let last = self
            .sections
            .iter()
            .filter_map(RegisterSection::span)
            .map(|s| s.1)
            .max();
        let period = match (first, last) {
            (Some(a), Some(b)) => format!("allt Stamp har, {a} – {b}"),
            _ => "allt Stamp har".into(),
        };
        Frame {
            landscape: false,
            title: REGISTER_TITLE.into(),
            header: vec![
                format!(
                    "{company}    Avser: {} ({})",
                    self.subject_name,
                    self.subject_id.masked()
                ),
                format!("Period: {period}"),
                format!(
                    "Skapad: {} (svensk tid)    Utdrag-id: {}",
                    local_datetime_utc(&self.generated_at),
                    self.extract_id
                ),
            ],
            document_title: format!("Registerutdrag {}", self.subject_name),
        }
    }

    pub fn blocks(&self) -> Vec<Block> {
        let mut out = vec![
            Block::Fields(vec![
                ("Namn".into(), self.subject_name.clone()),
                ("Identitet".into(), person_id_full(&self.subject_id)),
                (
                    "Skapat".into(),
                    format!("{} (svensk tid)", local_datetime_utc(&self.generated_at)),
                ),
                ("Utdrag-id".into(), self.extract_id.clone()),
            ]),
            Block::Heading("Information om behandlingen".into()),
        ];
        for (title, text) in [
            ("Ändamål", PURPOSES),
            ("Rättslig grund", LEGAL_BASIS),
            ("Kategorier av uppgifter", CATEGORIES),
            ("Mottagare", RECIPIENTS),
            ("Lagringstid", STORAGE_PERIOD),
            ("Källor", SOURCES),
            ("Dina rättigheter", RIGHTS),
        ] {
            out.push(Block::Fields(vec![(title.into(), text.into())]));
        }
        if self.sections.is_empty() {
            out.push(Block::Paragraph(NO_DATA.into()));
        }
        for s in &self.sections {
            s.blocks(&mut out);
        }
        out
    }

    pub fn render(&self, format: ExtractFormat) -> Result<Vec<u8>, DomainError> {
        match format {
            ExtractFormat::Json => serde_json::to_vec_pretty(&self.to_json())
                .map_err(|e| DomainError::Internal(e.to_string())),
            ExtractFormat::Pdf => {
                pdf::render(&self.frame(), &self.blocks()).map_err(DomainError::Internal)
            }
            ExtractFormat::Csv => Err(DomainError::invalid(
                "format",
                "a register_extract is pdf or json",
            )),
        }
    }
}
