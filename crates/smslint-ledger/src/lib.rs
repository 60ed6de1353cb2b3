//! The daily volume ledger: how many messages each campaign has sent today, shared by every
//! worker that checks messages for it, so a tier's daily cap holds across processes and
//! machines.
//!
//! A reservation is atomic: it counts one message for a (campaign, day) only while the count
//! is under the cap, and says whether it did. Two backends:
//!
//! * `sqlite:PATH`: one file for the processes of one machine (WAL mode, a busy timeout; one
//!   `INSERT ... ON CONFLICT DO UPDATE ... WHERE sent < cap` statement per reservation);
//! * `redis://[:PASSWORD@]HOST[:PORT][/DB]`: one server for workers on many machines (one Lua
//!   script per reservation; each counter expires a day after its day ends).
//!
//! Every operation is bounded by a timeout; an error is returned, never a guess, so the caller
//! can fail closed.

#![forbid(unsafe_code)]

mod redis;
mod sqlite;

use std::fmt;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use redis::RedisLedger;
pub use sqlite::SqliteLedger;

/// Why the ledger could not answer.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The URL is not one this crate knows.
    #[error("{0}")]
    Url(String),
    /// The SQLite database failed (unreadable, locked past the timeout, corrupt, ...).
    #[error("sqlite ledger {path}: {message}")]
    Sqlite {
        /// The database file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The Redis server failed (unreachable, timed out, refused the command, ...).
    #[error("redis ledger {address}: {message}")]
    Redis {
        /// `host:port/db`.
        address: String,
        /// What went wrong.
        message: String,
    },
    /// The time zone name is not in the time zone database.
    #[error("unknown time zone {name:?}: {message}")]
    TimeZone {
        /// The name given.
        name: String,
        /// What the time zone database said.
        message: String,
    },
}

/// The outcome of a reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// Counted: the day's count is now `count`, at most the cap.
    Reserved {
        /// The day's count including this message.
        count: u64,
    },
    /// Not counted: the day's count already reached the cap.
    Full {
        /// The day's count.
        count: u64,
    },
}

/// One (campaign, day) counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The campaign.
    pub campaign: String,
    /// The day, `YYYY-MM-DD` in the ledger's time zone.
    pub day: String,
    /// Messages counted.
    pub sent: u64,
}

/// A daily volume store.
pub trait Ledger: Send {
    /// Count one message for `campaign` on `day` if its count is under `cap`.
    fn reserve(&mut self, campaign: &str, day: &Day, cap: u64) -> Result<Reservation, LedgerError>;
    /// Every counter, or one campaign's, by campaign then day.
    fn entries(&mut self, campaign: Option<&str>) -> Result<Vec<Entry>, LedgerError>;
    /// Delete one campaign's counters; returns how many there were.
    fn reset(&mut self, campaign: &str) -> Result<u64, LedgerError>;
    /// The URL it was opened from, for messages.
    fn describe(&self) -> String;
}

/// A ledger day: its name and when its counter may be forgotten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    /// `YYYY-MM-DD` in the time zone.
    pub name: String,
    /// Unix seconds of the end of the following day: a counter is kept a day past its own, so
    /// `ledger show` still sees yesterday.
    pub expires_at: i64,
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The time zone whose midnight starts a day: `None` or `UTC` for UTC, else an IANA name.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, LedgerError> {
    match name {
        None | Some("UTC") => Ok(TimeZone::UTC),
        Some(name) => TimeZone::get(name).map_err(|e| LedgerError::TimeZone {
            name: name.to_owned(),
            message: e.to_string(),
        }),
    }
}

/// The day `at` falls on in `tz`.
pub fn day(at: Timestamp, tz: &TimeZone) -> Result<Day, LedgerError> {
    let tz_error = |e: jiff::Error| LedgerError::TimeZone {
        name: tz.iana_name().unwrap_or("?").to_owned(),
        message: e.to_string(),
    };
    let date = at.to_zoned(tz.clone()).date();
    let expires = date
        .checked_add(jiff::Span::new().days(2))
        .and_then(|d| d.to_zoned(tz.clone()))
        .map_err(tz_error)?;
    Ok(Day {
        name: date.to_string(),
        expires_at: expires.timestamp().as_second(),
    })
}

/// The day now.
pub fn today(tz: &TimeZone) -> Result<Day, LedgerError> {
    day(Timestamp::now(), tz)
}

/// Open the ledger a URL names; `timeout` bounds every wait (a lock, a connection, a reply).
pub fn open(url: &str, timeout: Duration) -> Result<Box<dyn Ledger>, LedgerError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(LedgerError::Url(format!(
                "{url:?}: sqlite: needs a file path (sqlite:/var/lib/smslint/ledger.db)"
            )));
        }
        return Ok(Box::new(SqliteLedger::open(path, timeout)?));
    }
    if url.starts_with("redis://") {
        return Ok(Box::new(RedisLedger::open(url, timeout)?));
    }
    Err(LedgerError::Url(format!(
        "{url:?} is not a ledger URL: expected sqlite:PATH or redis://HOST:PORT/DB"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn days_start_at_midnight_in_the_time_zone() {
        let utc = time_zone(None).unwrap_or_else(|e| panic!("{e}"));
        let ny = time_zone(Some("America/New_York")).unwrap_or_else(|e| panic!("{e}"));
        // 03:30 UTC is still the previous evening in New York.
        let t = at("2026-03-15T03:30:00Z");
        assert_eq!(day(t, &utc).map(|d| d.name).ok(), Some("2026-03-15".into()));
        assert_eq!(day(t, &ny).map(|d| d.name).ok(), Some("2026-03-14".into()));
        // Kept until the end of the following day.
        let d = day(t, &utc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.expires_at, at("2026-03-17T00:00:00Z").as_second());
    }

    #[test]
    fn unknown_time_zones_and_urls_are_errors() {
        assert!(matches!(
            time_zone(Some("Mars/Olympus")),
            Err(LedgerError::TimeZone { .. })
        ));
        assert!(matches!(
            open("postgres://x", Duration::from_secs(1)),
            Err(LedgerError::Url(_))
        ));
        assert!(matches!(
            open("sqlite:", Duration::from_secs(1)),
            Err(LedgerError::Url(_))
        ));
    }
}
