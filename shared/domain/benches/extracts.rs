//! Extract rendering figures (printed, not asserted): `cargo bench -p stamp-domain --bench extracts`.
//!
//! 1. An authority CSV of 100,000 rows (500 people × 200 days, one work session each,
//!    every 7th with a duplicate check-in), built as the extract-rendering function
//!    builds it: chunk by chunk from an event source (here a generator standing in for
//!    the ledger's windowed reads), analysed, written. Targets: ≤ 1 s, ≤ 128 MB peak.
//! 2. A register extract PDF of one person's year (≈ 500 events, some corrected).
//!    Target: ≤ 200 ms.
//!
//! Memory is measured by a counting global allocator (peak live heap during the run,
//! above what was live before) and by the process's VmHWM (peak resident set).

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use stamp_domain::extracts::authority::{AuthorityHeader, AuthorityWriter};
use stamp_domain::extracts::register::{RegisterDoc, RegisterSection};
use stamp_domain::extracts::rows::{
    attach_corrections, build_rows, corrected_events, RowFilter, Span,
};
use stamp_domain::extracts::{write_authority, EventSource, ExtractFormat};
use stamp_domain::governance::retention::FiscalYearEnd;
use stamp_domain::identity::pseudonym::PersonRef;
use stamp_domain::identity::{Orgnr, PersonId, SiteId};
use stamp_domain::model::{Direction, EventKey, LedgerEvent, Source};
use stamp_domain::table::CorrectionEntry;
use stamp_domain::testing::card_event;
use stamp_domain::time::{local_day_start, Instant};
use stamp_domain::DomainError;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

const SITES: [&str; 4] = [
    "STH2026000001",
    "GBG2026000002",
    "MAL2026000003",
    "UPP2026000004",
];
const NAMES: [&str; 8] = [
    "Åsa", "Örjan", "Märta", "Bo", "Ärla", "Göran", "Lena", "Jönsson",
];

fn local(day: NaiveDate, h: u32, m: u32, s: u32) -> Instant {
    Stockholm
        .from_local_datetime(&day.and_hms_opt(h, m, s).unwrap())
        .earliest()
        .unwrap()
        .fixed_offset()
}

struct People {
    ids: Vec<(PersonId, String, String)>,
}

impl People {
    fn new(n: usize) -> People {
        let ids = (0..n)
            .map(|p| {
                let id = PersonId::parse(&stamp_testdata::personnummer_nth(p), None, None).unwrap();
                let name = format!("{} {} {p}", NAMES[p % 8], NAMES[(p / 8) % 8]);
                (id, name, format!("p{p:06}"))
            })
            .collect();
        People { ids }
    }
}

fn event(people: &People, p: usize, id: String, dir: Direction, at: Instant) -> LedgerEvent {
    let (person, name, person_ref) = &people.ids[p];
    LedgerEvent {
        partner_id: stamp_domain::testing::pid("ledger-1"),
        company_name: "Åbergs Bygg AB".into(),
        ..card_event(
            id,
            person_ref.clone(),
            person.clone(),
            name.clone(),
            SiteId::parse(SITES[p % 4]).unwrap(),
            dir,
            at,
        )
    }
}

/// Events of `people` on every day: in 06:xx, out 15:xx; every 7th (person + day) also a
/// duplicate check-in 30 s later.
fn day_events(people: &People, day: NaiveDate, day_no: usize, out: &mut Vec<LedgerEvent>) {
    for p in 0..people.ids.len() {
        let m = ((p * 7 + day_no) % 50) as u32;
        let id = |s: &str| format!("{p}-{day}-{s}");
        out.push(event(
            people,
            p,
            id("in"),
            Direction::In,
            local(day, 6, m, 0),
        ));
        if (p + day_no).is_multiple_of(7) {
            out.push(event(
                people,
                p,
                id("dup"),
                Direction::In,
                local(day, 6, m, 30),
            ));
        }
        out.push(event(
            people,
            p,
            id("out"),
            Direction::Out,
            local(day, 15, m, 59),
        ));
    }
}

/// The ledger's windowed reads, generated.
struct Generated {
    people: People,
    first: NaiveDate,
    days: usize,
}

#[async_trait]
impl EventSource for Generated {
    async fn window(&self, lo: &Instant, hi: &Instant) -> Result<Vec<LedgerEvent>, DomainError> {
        let mut out = Vec::new();
        for d in 0..self.days {
            let day = self.first + Duration::days(d as i64);
            let (start, end) = (
                local_day_start(day),
                local_day_start(day + Duration::days(1)),
            );
            if end > *lo && start < *hi {
                day_events(&self.people, day, d, &mut out);
            }
        }
        out.retain(|e| e.occurred_at >= *lo && e.occurred_at < *hi);
        Ok(out)
    }

    async fn corrections(
        &self,
        _: &[EventKey],
    ) -> Result<HashMap<EventKey, Vec<CorrectionEntry>>, DomainError> {
        Ok(HashMap::new())
    }
}

fn now() -> DateTime<Utc> {
    "2027-06-01T00:00:00Z".parse().unwrap()
}

fn authority_csv(rt: &tokio::runtime::Runtime) {
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let days = 200;
    let source = Generated {
        people: People::new(500),
        first,
        days,
    };
    let range = Span {
        from: local_day_start(first),
        to: local_day_start(first + Duration::days(days as i64)),
    };
    let header = AuthorityHeader {
        extract_id: "bench".into(),
        company_orgnr: Orgnr::parse("5569999997").unwrap(),
        company_name: "Åbergs Bygg AB".into(),
        from: range.from,
        to: range.to,
        site_id: None,
        person: None,
        generated_at: now(),
    };
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let mut writer = AuthorityWriter::new(ExtractFormat::Csv, header).unwrap();
    rt.block_on(write_authority(
        &source,
        range,
        &RowFilter::default(),
        now(),
        &mut writer,
    ))
    .unwrap();
    let rows = writer.rows();
    let csv = writer.finish().unwrap();
    let elapsed = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert_eq!(rows, 100_000);
    println!(
        "authority CSV: {rows} rows, {:.1} MB, in {:.0} ms; peak heap {:.1} MB above baseline, process VmHWM {:.1} MB (targets 1000 ms, 128 MB)",
        mb(csv.len()),
        elapsed.as_secs_f64() * 1000.0,
        mb(peak),
        vm_hwm_kb().unwrap_or(0) as f64 / 1024.0
    );
}

fn register_pdf() {
    let people = People::new(1);
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut events = Vec::new();
    let mut day_no = 0;
    let mut day = first;
    while events.len() < 500 {
        if chrono::Datelike::weekday(&day).num_days_from_monday() < 5 {
            day_events(&people, day, day_no, &mut events);
            day_no += 1;
        }
        day += Duration::days(1);
    }
    // Every 20th event corrected by hand.
    let mut history: HashMap<EventKey, Vec<CorrectionEntry>> = HashMap::new();
    for e in events.iter_mut().step_by(20) {
        e.corrections = 1;
        let entry = CorrectionEntry {
            seq: 1,
            partner_id: e.partner_id.clone(),
            event_id: format!("{}-fix", e.event_id),
            corrects: e.event_id.clone(),
            received_at: e.received_at + Duration::hours(3),
            recorded_at: e.occurred_at + Duration::hours(3),
            recorded_by: Some("Kalle Åkesson".into()),
            source: Source::Manual,
            void: false,
            batch_id: "fixes".into(),
            changes: serde_json::json!({"source": {"from": "card", "to": "manual"}})
                .as_object()
                .unwrap()
                .clone(),
        };
        history.insert(e.key(), vec![entry]);
    }
    let n = events.len();
    let all = Span {
        from: stamp_domain::time::parse_rfc3339("1900-01-01T00:00:00Z").unwrap(),
        to: stamp_domain::time::parse_rfc3339("9999-12-31T00:00:00Z").unwrap(),
    };
    let (person, name, person_ref) = people.ids[0].clone();
    let mut times = Vec::new();
    let mut size = 0;
    for i in 0..11 {
        let started = std::time::Instant::now();
        let mut rows = build_rows(
            events.clone(),
            all,
            all,
            &RowFilter {
                site: None,
                person_ref: Some(PersonRef::from_stored(person_ref.clone())),
                employer: None,
            },
            now(),
        );
        let wanted: HashMap<EventKey, Vec<CorrectionEntry>> = corrected_events(&rows)
            .into_iter()
            .filter_map(|k| history.get(&k).map(|h| (k, h.clone())))
            .collect();
        attach_corrections(&mut rows, &wanted);
        let doc = RegisterDoc {
            extract_id: "bench".into(),
            generated_at: now(),
            subject_name: name.clone(),
            subject_id: person.clone(),
            ordered_for_company: Some((
                Orgnr::parse("5569999997").unwrap(),
                "Åbergs Bygg AB".into(),
            )),
            sections: vec![RegisterSection {
                company_orgnr: Orgnr::parse("5569999997").unwrap(),
                company_name: "Åbergs Bygg AB".into(),
                company_active: true,
                fiscal_year_end: FiscalYearEnd::default(),
                person_ref: PersonRef::from_stored(person_ref.clone()),
                person_name: name.clone(),
                rows,
                sources: vec![(
                    stamp_domain::testing::pid("ledger-1"),
                    Some("Liggare AB".into()),
                )],
            }],
        };
        let pdf = doc.render(ExtractFormat::Pdf).unwrap();
        // The first run also loads the font; count the warm runs.
        if i > 0 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        size = pdf.len();
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "register PDF: {n} events of one person's year, {:.0} KB, median {:.0} ms, slowest {:.0} ms over {} runs (target 200 ms)",
        size as f64 / 1024.0,
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is ignored too.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    authority_csv(&rt);
    register_pdf();
}
