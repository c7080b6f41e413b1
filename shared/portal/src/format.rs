//! Dates and times for people: Swedish local time (Europe/Stockholm), formatted per
//! language. Input is what the domain answers (RFC 3339).

use crate::i18n::Lang;
use chrono::{DateTime, FixedOffset, NaiveDate};
use chrono_tz::Europe::Stockholm;

pub fn parse(raw: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(raw).ok()
}

/// `2026-11-26 07:00` (sv) or `26 Nov 2026, 07:00` (en), in Swedish local time.
pub fn datetime(lang: Lang, raw: &str) -> String {
    match parse(raw) {
        Some(t) => {
            let l = t.with_timezone(&Stockholm);
            match lang {
                Lang::Sv => l.format("%Y-%m-%d %H:%M").to_string(),
                Lang::En => l.format("%-d %b %Y, %H:%M").to_string(),
            }
        }
        None => raw.to_string(),
    }
}

/// [`datetime`] of a typed instant (what typed domain answers hold).
pub fn instant<Tz: chrono::TimeZone>(lang: Lang, t: &DateTime<Tz>) -> String {
    let l = t.with_timezone(&Stockholm);
    match lang {
        Lang::Sv => l.format("%Y-%m-%d %H:%M").to_string(),
        Lang::En => l.format("%-d %b %Y, %H:%M").to_string(),
    }
}

pub fn time(raw: &str) -> String {
    parse(raw)
        .map(|t| t.with_timezone(&Stockholm).format("%H:%M").to_string())
        .unwrap_or_else(|| raw.to_string())
}

pub fn local_date(raw: &str) -> Option<NaiveDate> {
    parse(raw).map(|t| t.with_timezone(&Stockholm).date_naive())
}

pub fn date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::Sv => d.format("%Y-%m-%d").to_string(),
        Lang::En => d.format("%-d %b %Y").to_string(),
    }
}

/// Minutes as `7 h 30 min`.
pub fn minutes(m: i64) -> String {
    format!("{} h {:02} min", m / 60, m % 60)
}

/// Hours with the language's decimal separator.
pub fn hours(lang: Lang, h: f64) -> String {
    let s = format!("{h:.1}");
    match lang {
        Lang::Sv => s.replace('.', ","),
        Lang::En => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_swedish_local_time_in_either_language() {
        // 06:00 UTC in winter is 07:00 in Stockholm, in summer 08:00.
        assert_eq!(
            datetime(Lang::Sv, "2026-11-26T06:00:00Z"),
            "2026-11-26 07:00"
        );
        assert_eq!(
            datetime(Lang::En, "2026-11-26T06:00:00Z"),
            "26 Nov 2026, 07:00"
        );
        assert_eq!(
            datetime(Lang::Sv, "2026-06-26T06:00:00Z"),
            "2026-06-26 08:00"
        );
        assert_eq!(hours(Lang::Sv, 7.25), "7,2");
        assert_eq!(minutes(450), "7 h 30 min");
    }
}
