//! The `smslint` binary: parse arguments, run a subcommand, map the outcome to an exit status.

#![forbid(unsafe_code)]

mod args;
mod batch;
mod commands;
mod exit;
mod input;
mod records;
mod render;
mod templates;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::ExitStatus;
use crate::render::Painter;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; every other parse failure is a usage error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    let painter = Painter::new(cli.color);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args, painter, &mut out),
        Command::Classify(args) => commands::classify::run(args, painter, &mut out),
        Command::Numbers(args) => commands::numbers::run(args, painter, &mut out),
        Command::Policy(cmd) => commands::policy::run(cmd, painter, &mut out),
        Command::Ledger(cmd) => commands::ledger::run(cmd, &mut out),
        Command::Lint(args) => commands::lint::run(args, painter, &mut out),
    }
    .and_then(|status| {
        out.flush()?;
        Ok(status)
    });
    match result {
        Ok(status) => status.into(),
        // The run stopped before it finished, so its status cannot be "approved" or "clean": a
        // gate reading `smslint check --batch ... | head` with pipefail would take 0 for a batch
        // it never saw to the end. Nothing is printed, as for a tool that SIGPIPE ends: the
        // reader closed the pipe on purpose, or has gone and cannot read it.
        Err(e) if is_broken_pipe(&e) => ExitStatus::Error.into(),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}

/// Whether the reader closed the pipe (`smslint ... | head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
