//! `smslint ledger`: read or reset the daily volume ledger.

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::args::{Format, LedgerCommand};
use crate::exit::ExitStatus;

/// A `--timeout`/`--ledger-timeout` in seconds as a duration, refusing what is not one.
pub fn timeout(flag: &str, seconds: f64) -> Result<Duration> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        bail!("{flag} {seconds} is not a number of seconds between 0 and 3600");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Run `ledger show` or `ledger reset`.
pub fn run(cmd: &LedgerCommand, out: &mut dyn Write) -> Result<ExitStatus> {
    match cmd {
        LedgerCommand::Show(args) => {
            let mut ledger = smslint_ledger::open(&args.url, timeout("--timeout", args.timeout)?)?;
            let entries = ledger.entries(args.campaign.as_deref())?;
            match args.format {
                Format::Json => {
                    let rows: Vec<serde_json::Value> = entries
                        .iter()
                        .map(|e| {
                            serde_json::json!({"campaign": e.campaign, "day": e.day, "sent": e.sent})
                        })
                        .collect();
                    serde_json::to_writer(&mut *out, &rows)?;
                    writeln!(out)?;
                }
                Format::Human => {
                    if entries.is_empty() {
                        writeln!(out, "no counts in {}", ledger.describe())?;
                    } else {
                        let width = entries
                            .iter()
                            .map(|e| e.campaign.chars().count())
                            .max()
                            .unwrap_or(0)
                            .max("CAMPAIGN".len());
                        writeln!(out, "{:<width$}  DAY         SENT", "CAMPAIGN")?;
                        for e in &entries {
                            writeln!(out, "{:<width$}  {}  {}", e.campaign, e.day, e.sent)?;
                        }
                    }
                }
            }
            Ok(ExitStatus::Success)
        }
        LedgerCommand::Reset(args) => {
            let mut ledger = smslint_ledger::open(&args.url, timeout("--timeout", args.timeout)?)?;
            let removed = ledger.reset(&args.campaign)?;
            writeln!(
                out,
                "removed {removed} daily count{} of campaign {} from {}",
                if removed == 1 { "" } else { "s" },
                args.campaign,
                ledger.describe()
            )?;
            Ok(ExitStatus::Success)
        }
    }
}
