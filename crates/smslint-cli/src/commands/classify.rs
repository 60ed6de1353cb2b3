//! `smslint classify`: score one message against every use case.

use std::io::Write;

use anyhow::Result;
use smslint_core::NormalizedText;

use crate::args::{ClassifyArgs, Format};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{human, json, Painter};

/// Run `classify`.
pub fn run(args: &ClassifyArgs, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    input::one_stdin([
        ("--policy", args.policy.policy.as_deref()),
        ("--file", args.source.file.as_deref()),
        ("--batch", args.source.batch.as_deref()),
    ])?;
    let loaded = input::policy_for_the_process(args.policy.policy.as_deref())?;
    if let Some(source) = &args.source.batch {
        crate::commands::stream::refuse_human(args.format)?;
        let engine = crate::commands::stream::engine(loaded, &args.batch);
        return crate::commands::stream::classify(source, &args.batch, &engine, out);
    }
    let text = input::message_text(&args.source, args.batch.max_line_bytes)?;
    let policy = &loaded.policy;
    let classification = policy.classify(&NormalizedText::new(&text));
    match args.format.unwrap_or(Format::Human) {
        Format::Json => {
            serde_json::to_writer(&mut *out, &json::classify(policy, &classification, &text))?;
            writeln!(out)?;
        }
        Format::Human => {
            out.write_all(human::classify(painter, policy, &classification, &text).as_bytes())?;
        }
    }
    Ok(ExitStatus::Success)
}
