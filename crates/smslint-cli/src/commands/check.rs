//! `smslint check`: approve or reject one message for one number.

use std::io::Write;

use anyhow::Result;
use smslint_core::{decide, NormalizedText};

use crate::args::{CheckArgs, Format};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{human, json, Painter};

/// Run `check`.
pub fn run(args: &CheckArgs, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    let loaded = input::policy(args.policy.policy.as_deref())?;
    let profiles = input::snapshot(&args.config)?;
    let profile = match profiles.as_slice() {
        [one] => one,
        many => anyhow::bail!(
            "snapshot {} holds {} numbers; this version checks a file with one number",
            input::display_name(&args.config),
            many.len()
        ),
    };
    let text = input::message_text(&args.source)?;
    let policy = &loaded.policy;
    let classification = policy.classify(&NormalizedText::new(&text));
    let verdict = decide(policy, &classification, profile);
    match args.format {
        Format::Json => {
            serde_json::to_writer(
                &mut *out,
                &json::check(policy, &classification, &verdict, profile, &text),
            )?;
            writeln!(out)?;
        }
        Format::Human => out.write_all(
            human::check(
                painter,
                policy,
                &classification,
                &verdict,
                profile.phone_number(),
                &text,
            )
            .as_bytes(),
        )?,
    }
    Ok(if verdict.approved() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
