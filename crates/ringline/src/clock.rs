//! The one clock of the application: "now" in UTC for timestamps, and "today" as a calendar
//! date in China Standard Time (UTC+8, no daylight saving), the date county offices live by —
//! ages, "young" cadres, whether a year or month has begun, join dates in the future.
//!
//! Every caller gets its clock from the application state (web), the command context (CLI) or
//! the check context (imports, forms); tests fix it with [`Clock::fixed`], so "today" is the same
//! at 00:00 and at 08:00 Beijing time.

use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};

/// China Standard Time's offset from UTC, in hours.
pub const CHINA_UTC_OFFSET_HOURS: i64 = 8;

/// A source of the current time: the system clock, or a fixed instant (tests, demos).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    fixed: Option<NaiveDateTime>,
}

/// The clock of this process (see [`Clock::current`]): `None` is the system clock.
static CURRENT: std::sync::RwLock<Option<NaiveDateTime>> = std::sync::RwLock::new(None);

/// Stops the clock of this process at `utc` (`None`: the system clock again) — for a demo or a
/// training session on a fixed date, and for tests. Every reader of "today" that has no clock
/// handed to it ([`Clock::current`]) follows it.
pub fn set_current(utc: Option<NaiveDateTime>) {
    if let Ok(mut c) = CURRENT.write() {
        *c = utc;
    }
}

impl Clock {
    /// The clock of this process: the system clock unless [`set_current`] fixed it. The web
    /// server copies it into its state at start; the command line and the data layer read it
    /// where no clock is handed to them.
    pub fn current() -> Clock {
        Clock {
            fixed: CURRENT.read().ok().and_then(|c| *c),
        }
    }

    /// The system clock.
    pub const fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock stopped at `utc` (UTC, no zone).
    pub const fn fixed(utc: NaiveDateTime) -> Clock {
        Clock { fixed: Some(utc) }
    }

    /// A clock stopped at noon China time of `day`.
    pub fn on_china_date(day: NaiveDate) -> Clock {
        let noon = day.and_hms_opt(12, 0, 0).unwrap_or_default();
        Clock::fixed(noon - Duration::hours(CHINA_UTC_OFFSET_HOURS))
    }

    /// The current UTC time with whole seconds, as timestamp columns store it.
    pub fn now(&self) -> NaiveDateTime {
        let t = self.fixed.unwrap_or_else(|| chrono::Utc::now().naive_utc());
        t.with_nanosecond(0).unwrap_or(t)
    }

    /// Today's date in China Standard Time (UTC+8).
    pub fn today(&self) -> NaiveDate {
        (self.now() + Duration::hours(CHINA_UTC_OFFSET_HOURS)).date()
    }
}

/// A stored UTC timestamp as the time of day in China Standard Time, for display.
pub fn in_china(utc: NaiveDateTime) -> NaiveDateTime {
    utc + Duration::hours(CHINA_UTC_OFFSET_HOURS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_clock_can_be_fixed_and_released() {
        let at = NaiveDateTime::parse_from_str("2026-03-01 17:00:00", "%Y-%m-%d %H:%M:%S").expect("time");
        set_current(Some(at));
        // 17:00 UTC is 01:00 the next day in Beijing.
        assert_eq!(
            Clock::current().today(),
            NaiveDate::from_ymd_opt(2026, 3, 2).expect("date")
        );
        set_current(None);
        assert_eq!(Clock::current(), Clock::system());
    }

    #[test]
    fn china_date_changes_at_16_utc() {
        let d = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("time");
        // 15:59:59 UTC is 23:59:59 in Beijing; 16:00 UTC is midnight of the next day.
        assert_eq!(
            Clock::fixed(d("2026-12-31 15:59:59")).today(),
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")
        );
        assert_eq!(
            Clock::fixed(d("2026-12-31 16:00:00")).today(),
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("date")
        );
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
        assert_eq!(Clock::on_china_date(day).today(), day);
        assert_eq!(Clock::on_china_date(day).now(), d("2026-03-01 04:00:00"));
    }
}
