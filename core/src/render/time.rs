//! Times as people read them: "5 min ago" with the exact UTC time on hover.

use chrono::{NaiveDateTime, SecondsFormat};

/// "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then the date.
pub fn relative(t: NaiveDateTime, now: NaiveDateTime) -> String {
    let secs = (now - t).num_seconds();
    match secs {
        s if s < 45 => "just now".into(),
        s if s < 3600 => format!("{} min ago", ((s + 30) / 60).max(1)),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s if s < 2 * 86_400 => "yesterday".into(),
        s if s < 7 * 86_400 => format!("{} days ago", s / 86_400),
        _ => t.format("%-d %b %Y").to_string(),
    }
}

/// "2026-11-27 09:14 UTC".
pub fn exact(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// RFC 3339 for `<time datetime>`.
pub fn iso(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn relative_times() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now - Duration::minutes(5), now), "5 min ago");
        assert_eq!(relative(now - Duration::hours(3), now), "3 h ago");
        assert_eq!(relative(now - Duration::hours(30), now), "yesterday");
        assert_eq!(relative(now - Duration::days(3), now), "3 days ago");
        assert_eq!(relative(now - Duration::days(30), now), "16 Dec 2026");
        assert!(iso(now).ends_with('Z'));
    }
}
