//! `smslint check`: approve or reject one message, or a stream of them, for a number.

use std::io::Write;

use anyhow::{bail, Result};
use smslint_core::{
    decide, segments, select_profile, BrandMatcher, LintContext, Message, NormalizedText,
    SendContext,
};

use crate::args::{CheckArgs, Format};
use crate::commands::stream::{self, CheckDefaults};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{human, json, Painter};

/// Run `check`.
pub fn run(args: &CheckArgs, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    input::one_stdin([
        ("--policy", args.policy.policy.as_deref()),
        ("--config", Some(args.config.as_path())),
        ("--consents", args.consents.as_deref()),
        ("--file", args.source.file.as_deref()),
        ("--batch", args.source.batch.as_deref()),
    ])?;
    let loaded = input::policy_for_the_process(args.policy.policy.as_deref())?;
    let profiles = input::snapshot(&args.config)?;
    let from = input::e164("--from", args.from.as_deref())?;
    let to = input::e164("--to", args.to.as_deref())?;
    let consents = stream::consents(args.consents.as_deref())?;
    let brands = BrandMatcher::new(&args.brands);
    if args.daily_cap.is_some() && args.sent_today.is_none() && args.ledger.is_none() {
        bail!("--daily-cap applies to a count: give --sent-today N or --ledger URL");
    }
    let ledger = match &args.ledger {
        Some(url) => Some((
            url.as_str(),
            super::ledger::timeout("--ledger-timeout", args.ledger_timeout)?,
        )),
        None => None,
    };

    if let Some(source) = &args.source.batch {
        crate::commands::stream::refuse_human(args.format)?;
        let defaults = CheckDefaults {
            from,
            to,
            extension: args.extension.as_deref(),
            mms: args.mms,
            sent_today: args.sent_today,
            daily_cap: args.daily_cap,
            ledger,
            consents: consents.as_ref(),
            brands: brands.as_ref(),
        };
        let engine = stream::engine(loaded, &args.batch);
        return stream::check(source, &args.batch, &engine, &profiles, &defaults, out);
    }
    let policy = &loaded.policy;

    if consents.is_some() && to.is_none() {
        bail!("--consents needs the recipient: give --to");
    }
    let profile = select_profile(&profiles, from)
        .map_err(|e| anyhow::anyhow!("snapshot {}: {e}", input::display_name(&args.config)))?;
    let text = input::message_text(&args.source, args.batch.max_line_bytes)?;
    let normalized = NormalizedText::new(&text);
    let classification = policy.classify(&normalized);
    let segments = segments::analyze(&text);
    let registered = profile.campaign().and_then(|c| c.use_cases.as_deref());
    let findings = policy.lint(
        &normalized,
        &classification,
        &LintContext {
            registered,
            brands: brands.as_ref(),
            segments: segments.segments,
        },
    );
    let message = Message {
        text: &text,
        to,
        extension_id: args.extension.as_deref(),
        mms: args.mms,
        utf16_units: None,
    };
    let context = SendContext {
        consents: consents.as_ref(),
        sent_today: args.sent_today,
        daily_cap: args.daily_cap,
    };
    let mut verdict = decide(
        policy,
        &classification,
        &findings,
        profile,
        &message,
        &context,
    );
    if let Some((url, timeout)) = ledger {
        super::volume::Volume::open(url, timeout, policy)?.apply(
            &smslint_core::volume_key(profile),
            smslint_core::daily_cap(policy, profile, args.daily_cap).as_ref(),
            &mut verdict,
        );
    }
    match args.format.unwrap_or(Format::Human) {
        Format::Json => {
            let record = json::check(policy, &classification, &verdict, profile, &text, segments);
            serde_json::to_writer(&mut *out, &record)?;
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
                segments,
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
