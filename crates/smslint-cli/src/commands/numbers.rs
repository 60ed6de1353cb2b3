//! `smslint numbers`: the selection list of sending numbers the seed page recommends.

use std::io::Write;

use anyhow::Result;
use smslint_core::{
    assess_number, decide, segments, LintContext, Message, NormalizedText, SendContext, Verdict,
};

use crate::args::{Format, NumbersArgs};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{human, json, Painter};

/// Run `numbers`.
pub fn run(args: &NumbersArgs, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    input::one_stdin(
        std::iter::once(("--policy", args.policy.policy.as_deref())).chain(
            args.snapshots
                .iter()
                .map(|p| ("SNAPSHOT", Some(p.as_path()))),
        ),
    )?;
    let loaded = input::policy(args.policy.policy.as_deref())?;
    let mut profiles = Vec::new();
    for path in &args.snapshots {
        profiles.extend(input::snapshot(path)?);
    }
    let policy = &loaded.policy;
    let normalized = args.text.as_deref().map(NormalizedText::new);
    let classification = normalized.as_ref().map(|n| policy.classify(n));
    let segments = args
        .text
        .as_deref()
        .map_or(0, |t| segments::analyze(t).segments);
    let mut rows: Vec<(usize, Verdict)> = profiles
        .iter()
        .enumerate()
        .map(|(i, profile)| {
            let verdict = match (&args.text, &normalized, &classification) {
                (Some(text), Some(n), Some(c)) => {
                    let message = Message {
                        text,
                        ..Message::default()
                    };
                    let lint = LintContext {
                        registered: profile.campaign().and_then(|c| c.use_cases.as_deref()),
                        brands: None,
                        segments,
                    };
                    let findings = policy.lint(n, c, &lint);
                    decide(
                        policy,
                        c,
                        &findings,
                        profile,
                        &message,
                        &SendContext::default(),
                    )
                }
                _ => assess_number(policy, profile),
            };
            (i, verdict)
        })
        .collect();
    // Eligible numbers first; otherwise the order of the files.
    rows.sort_by_key(|(i, v)| (!v.approved(), *i));
    let rows: Vec<_> = rows.iter().map(|(i, v)| (&profiles[*i], v)).collect();
    match args.format {
        Format::Json => {
            serde_json::to_writer(&mut *out, &json::numbers(&rows))?;
            writeln!(out)?;
        }
        Format::Human => {
            out.write_all(human::numbers(painter, &rows, args.text.is_some()).as_bytes())?;
        }
    }
    let any = rows.iter().any(|(_, v)| v.approved());
    Ok(if args.text.is_none() || any {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
