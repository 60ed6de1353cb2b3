//! The SQLite ledger: one database file shared by the processes of one machine.

use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::{Day, Entry, Ledger, LedgerError, Reservation};

/// A ledger in a SQLite database file.
pub struct SqliteLedger {
    conn: Connection,
    path: String,
}

impl SqliteLedger {
    /// Open (or create) the database at `path`; `timeout` bounds the wait for another
    /// process's write lock.
    pub fn open(path: &str, timeout: Duration) -> Result<Self, LedgerError> {
        let err = |e: rusqlite::Error| LedgerError::Sqlite {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(timeout).map_err(err)?;
        // Processes that open a new database together race to switch it to WAL, and SQLite
        // answers some of them "busy" at once rather than through the busy handler: the setup
        // is retried until the timeout.
        let started = Instant::now();
        loop {
            match setup(&conn) {
                Ok(()) => break,
                Err(e) if is_busy(&e) && started.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(err(e)),
            }
        }
        Ok(SqliteLedger {
            conn,
            path: path.to_owned(),
        })
    }

    fn error(&self, e: &rusqlite::Error) -> LedgerError {
        LedgerError::Sqlite {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

/// Switch the database to WAL and create the table if needed.
fn setup(conn: &Connection) -> Result<(), rusqlite::Error> {
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes (a
    // power loss may lose the last transactions, which would under-count, not over-send beyond
    // what those lost reservations approved).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS daily_volume (
             campaign TEXT NOT NULL,
             day TEXT NOT NULL,
             sent INTEGER NOT NULL,
             PRIMARY KEY (campaign, day)
         ) WITHOUT ROWID;",
    )
}

/// Whether SQLite refused for a lock another connection holds.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Ledger for SqliteLedger {
    fn reserve(&mut self, campaign: &str, day: &Day, cap: u64) -> Result<Reservation, LedgerError> {
        let cap_i = i64::try_from(cap).unwrap_or(i64::MAX);
        // One statement, so one atomic write: insert the day's first message, or add one while
        // under the cap. RETURNING gives no row when the WHERE refused the update.
        let counted: Option<i64> = if cap == 0 {
            None
        } else {
            self.conn
                .prepare_cached(
                    "INSERT INTO daily_volume (campaign, day, sent) VALUES (?1, ?2, 1)
                     ON CONFLICT (campaign, day) DO UPDATE SET sent = sent + 1 WHERE sent < ?3
                     RETURNING sent",
                )
                .and_then(|mut s| {
                    s.query_row(params![campaign, day.name, cap_i], |r| r.get(0))
                        .optional()
                })
                .map_err(|e| self.error(&e))?
        };
        if let Some(count) = counted {
            return Ok(Reservation::Reserved {
                count: u64::try_from(count).unwrap_or(0),
            });
        }
        let count: i64 = self
            .conn
            .prepare_cached("SELECT sent FROM daily_volume WHERE campaign = ?1 AND day = ?2")
            .and_then(|mut s| {
                s.query_row(params![campaign, day.name], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.error(&e))?
            .unwrap_or(0);
        Ok(Reservation::Full {
            count: u64::try_from(count).unwrap_or(0),
        })
    }

    fn entries(&mut self, campaign: Option<&str>) -> Result<Vec<Entry>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT campaign, day, sent FROM daily_volume
                 WHERE ?1 IS NULL OR campaign = ?1 ORDER BY campaign, day",
            )
            .map_err(|e| self.error(&e))?;
        let rows = stmt
            .query_map(params![campaign], |r| {
                Ok(Entry {
                    campaign: r.get(0)?,
                    day: r.get(1)?,
                    sent: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>);
        rows.map_err(|e| LedgerError::Sqlite {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }

    fn reset(&mut self, campaign: &str) -> Result<u64, LedgerError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM daily_volume WHERE campaign = ?1",
                params![campaign],
            )
            .map_err(|e| self.error(&e))?;
        Ok(n as u64)
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(name: &str) -> Day {
        Day {
            name: name.into(),
            expires_at: 0,
        }
    }

    /// A test's folder, removed with its files when dropped.
    struct Temp(std::path::PathBuf);

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A fresh folder for a test, and the path of a ledger in it.
    fn temp(name: &str) -> (Temp, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("smslint-ledger-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("ledger.db");
        (Temp(dir), path)
    }

    #[test]
    fn reserves_up_to_the_cap_per_campaign_and_day() {
        let (_dir, path) = temp("cap");
        let mut l = SqliteLedger::open(&path.display().to_string(), Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}"));
        let d1 = day("2026-11-27");
        let got: Vec<Reservation> = (0..4)
            .map(|_| l.reserve("C1", &d1, 3).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert_eq!(
            got,
            [
                Reservation::Reserved { count: 1 },
                Reservation::Reserved { count: 2 },
                Reservation::Reserved { count: 3 },
                Reservation::Full { count: 3 },
            ]
        );
        // Another campaign, another day: counters of their own; a cap of 0 counts nothing.
        assert_eq!(
            l.reserve("C2", &d1, 3).ok(),
            Some(Reservation::Reserved { count: 1 })
        );
        assert_eq!(
            l.reserve("C1", &day("2026-11-28"), 3).ok(),
            Some(Reservation::Reserved { count: 1 })
        );
        assert_eq!(
            l.reserve("C3", &d1, 0).ok(),
            Some(Reservation::Full { count: 0 })
        );
        let entries = l.entries(None).unwrap_or_else(|e| panic!("{e}"));
        let summary: Vec<(&str, &str, u64)> = entries
            .iter()
            .map(|e| (e.campaign.as_str(), e.day.as_str(), e.sent))
            .collect();
        assert_eq!(
            summary,
            [
                ("C1", "2026-11-27", 3),
                ("C1", "2026-11-28", 1),
                ("C2", "2026-11-27", 1)
            ]
        );
        assert_eq!(l.entries(Some("C2")).map(|e| e.len()).ok(), Some(1));
        assert_eq!(l.reset("C1").ok(), Some(2));
        assert_eq!(l.entries(Some("C1")).map(|e| e.len()).ok(), Some(0));
        // Reopening finds what was written.
        drop(l);
        let mut l = SqliteLedger::open(&path.display().to_string(), Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            l.reserve("C2", &d1, 3).ok(),
            Some(Reservation::Reserved { count: 2 })
        );
    }

    #[test]
    fn a_path_that_cannot_be_a_database_is_an_error() {
        let (_dir, dir) = temp("bad");
        let parent = dir
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        // A directory is not a database file.
        assert!(SqliteLedger::open(&parent.display().to_string(), Duration::from_secs(1)).is_err());
        std::fs::write(
            &dir,
            b"this is not a sqlite database, just text padded out to a page",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(SqliteLedger::open(&dir.display().to_string(), Duration::from_secs(1)).is_err());
    }
}
