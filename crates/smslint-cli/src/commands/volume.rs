//! Daily volume through a shared ledger: reserve each approved message against its campaign's
//! cap, and reject when the ledger says the cap is reached or cannot answer.

use std::time::{Duration, Instant};

use anyhow::Result;
use smslint_core::{cap_exceeded, ledger_unavailable, DailyCap, Policy, Verdict};
use smslint_ledger::{Ledger, LedgerError};

/// After a failure the ledger is not asked again for this long: messages in between are
/// rejected at once with the same problem, so a dead server costs one timeout a second, not
/// one per message.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A ledger opened for `check`, with the day's time zone.
pub struct Volume {
    url: String,
    timeout: Duration,
    tz: jiff::tz::TimeZone,
    ledger: Option<Box<dyn Ledger>>,
    failed: Option<(Instant, String)>,
}

impl Volume {
    /// Parse the URL and the policy's time zone (errors in either are usage errors), and try
    /// to open the ledger (a failure there rejects messages later; it does not stop the run).
    pub fn open(url: &str, timeout: Duration, policy: &Policy) -> Result<Volume> {
        let tz = smslint_ledger::time_zone(policy.decision().time_zone.as_deref())?;
        let mut volume = Volume {
            url: url.to_owned(),
            timeout,
            tz,
            ledger: None,
            failed: None,
        };
        match smslint_ledger::open(url, timeout) {
            Ok(ledger) => volume.ledger = Some(ledger),
            Err(e @ LedgerError::Url(_)) => return Err(e.into()),
            Err(e) => volume.failed = Some((Instant::now(), e.to_string())),
        }
        Ok(volume)
    }

    /// For a verdict that approves, count the message in the ledger under `key` (the number's
    /// [`smslint_core::volume_key`]) if its campaign has a `cap` ([`smslint_core::daily_cap`]; a batch works
    /// both out once per number); reject it when the cap is reached or the ledger fails. Other
    /// verdicts count nothing.
    pub fn apply(&mut self, key: &str, cap: Option<&DailyCap>, verdict: &mut Verdict) {
        if !verdict.approved() {
            return;
        }
        let Some(cap) = cap else {
            return;
        };
        match self.reserve(key, cap.cap) {
            Ok(smslint_ledger::Reservation::Reserved { .. }) => {}
            Ok(smslint_ledger::Reservation::Full { count }) => verdict.push(cap_exceeded(
                count,
                cap.cap,
                &cap.source,
                &format!("counted today by the ledger {}", self.url),
            )),
            Err(problem) => verdict.push(ledger_unavailable(&problem)),
        }
    }

    fn reserve(&mut self, campaign: &str, cap: u64) -> Result<smslint_ledger::Reservation, String> {
        if let Some((at, problem)) = &self.failed {
            if at.elapsed() < RETRY_AFTER {
                return Err(problem.clone());
            }
        }
        let day = smslint_ledger::today(&self.tz).map_err(|e| e.to_string())?;
        if self.ledger.is_none() {
            match smslint_ledger::open(&self.url, self.timeout) {
                Ok(ledger) => self.ledger = Some(ledger),
                Err(e) => return Err(self.fail(e.to_string())),
            }
        }
        let result = match self.ledger.as_mut() {
            Some(ledger) => ledger.reserve(campaign, &day, cap),
            None => return Err(self.fail("the ledger is not open".into())),
        };
        match result {
            Ok(r) => {
                self.failed = None;
                Ok(r)
            }
            Err(e) => Err(self.fail(e.to_string())),
        }
    }

    fn fail(&mut self, problem: String) -> String {
        self.failed = Some((Instant::now(), problem.clone()));
        problem
    }
}
