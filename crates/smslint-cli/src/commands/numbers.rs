//! `smslint numbers`: the selection list of sending numbers the seed page recommends.

use std::io::Write;

use anyhow::Result;
use smslint_core::{assess_number, decide, Message, NormalizedText, SendContext, Verdict};

use crate::args::{Format, NumbersArgs};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{human, json, Painter};

/// Run `numbers`.
pub fn run(args: &NumbersArgs, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    let loaded = input::policy(args.policy.policy.as_deref())?;
    let mut profiles = Vec::new();
    for path in &args.snapshots {
        profiles.extend(input::snapshot(path)?);
    }
    let policy = &loaded.policy;
    let classification = args
        .text
        .as_deref()
        .map(|t| policy.classify(&NormalizedText::new(t)));
    let mut rows: Vec<(usize, Verdict)> = profiles
        .iter()
        .enumerate()
        .map(|(i, profile)| {
            let verdict = match (&args.text, &classification) {
                (Some(text), Some(c)) => {
                    let message = Message {
                        text,
                        ..Message::default()
                    };
                    decide(policy, c, profile, &message, &SendContext::default())
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
