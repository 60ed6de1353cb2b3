//! `smslint lint`: every template's use case, registration fit and content-rule findings.

use std::io::{BufWriter, Write};

use anyhow::{bail, Result};
use smslint_core::{
    content_fit, segments, select_profile, BrandMatcher, Classification, LintContext,
    NormalizedText, Severity, Span, UseCase,
};
use smslint_policy::allow::{allows, rule_applies, DEFAULT_PLACEHOLDER_LENGTH};
use smslint_policy::raw::RawAllow;

use crate::args::{FailOn, LintArgs};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{lint as render, Painter};
use crate::templates::{self, Template};

/// Codes `lint` gives besides content rules: (code, default severity, description).
pub const LINT_CODES: &[(&str, Severity, &str)] = &[
    (
        "content.use_case_not_registered",
        Severity::Error,
        "The template's content fits no use case the campaign registers, or carries a restricted one it does not register.",
    ),
    (
        "content.unclassified",
        Severity::Error,
        "The template's content reaches no use case's threshold.",
    ),
    (
        "template.use_case_mismatch",
        Severity::Error,
        "The template declares a use case (`useCase`) its content does not read as, or its content also reads as a restricted use case (Marketing) it does not declare.",
    ),
    (
        "template.declared_not_registered",
        Severity::Error,
        "The template declares a use case the campaign does not register.",
    ),
    (
        "template.unknown_use_case",
        Severity::Error,
        "The template declares a use case RingCentral does not define.",
    ),
];

/// One finding on one template.
#[derive(Debug, Clone)]
pub struct LintFinding {
    /// `rule.<id>` or one of [`LINT_CODES`].
    pub code: String,
    /// Effective severity.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where in the template's text.
    pub span: Option<Span>,
    /// 1-based start line and column in the file.
    pub start: (usize, usize),
    /// 1-based end line and column (exclusive) in the file.
    pub end: (usize, usize),
    /// The byte offsets in the file of its start and end.
    pub at: (usize, usize),
    /// The reason of the `lint.allow` entry that accepts it, if one does.
    pub allowed: Option<String>,
}

/// A template and what lint found.
#[derive(Debug)]
pub struct Linted<'a> {
    /// The template.
    pub template: &'a Template,
    /// Its classification (with placeholders as slots).
    pub classification: Classification,
    /// Its findings, in text order.
    pub findings: Vec<LintFinding>,
}

/// Run `lint`.
pub fn run(args: &LintArgs, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    input::one_stdin(
        [
            ("--policy", args.policy.policy.as_deref()),
            ("--config", args.config.as_deref()),
        ]
        .into_iter()
        .chain(args.paths.iter().map(|p| ("PATH", Some(p.as_path())))),
    )?;
    let mut loaded = input::policy_for_the_process(args.policy.policy.as_deref())?;
    let fixed_overrides = apply_severity_flags(&mut loaded.policy, &args.severities)?;
    let registered = registered(args)?;
    let (files, templates) = templates::collect(&args.paths)?;
    let policy = &loaded.policy;
    let brands = BrandMatcher::new(&args.brands);
    let lint_settings = loaded.raw.lint.clone().unwrap_or_default();
    let slot_length = lint_settings
        .placeholder_length
        .unwrap_or(DEFAULT_PLACEHOLDER_LENGTH) as usize;
    let allow = lint_settings.allow;
    let mut used = vec![false; allow.len()];
    let floor = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    let mut failed = false;

    let mut out = BufWriter::new(out);
    let mut writer = render::LintWriter::new(&mut out, args.format, painter, policy)?;
    for template in &templates {
        let file = &files[template.file];
        let slots = policy.placeholder_spans(&template.text);
        // Placeholders are slots: blanked for matching (same length, so spans stay put) and
        // counted at the policy's assumed length for segments.
        let mut masked = template.text.clone().into_bytes();
        let mut filled = String::with_capacity(template.text.len());
        let mut at = 0;
        for s in &slots {
            masked[s.range()].fill(b' ');
            filled.push_str(&template.text[at..s.start as usize]);
            filled.push_str(&"x".repeat(slot_length));
            at = s.end as usize;
        }
        filled.push_str(&template.text[at..]);
        let masked = String::from_utf8(masked).unwrap_or_else(|_| template.text.clone());
        let normalized = NormalizedText::new(&masked);
        let classification = policy.classify(&normalized);
        let context = LintContext {
            registered: registered.as_deref(),
            brands: brands.as_ref(),
            segments: segments::analyze(&filled).segments,
        };
        let mut raw: Vec<(String, Severity, String, Option<Span>)> = policy
            .lint(&normalized, &classification, &context)
            .into_iter()
            .map(|f| {
                let rule = &policy.content_rules()[f.rule as usize];
                (rule.code.clone(), f.severity, rule.message.clone(), f.span)
            })
            .collect();
        raw.extend(fit_findings(
            policy,
            &classification,
            template,
            registered.as_deref(),
        ));
        let mut findings: Vec<LintFinding> = raw
            .into_iter()
            .filter_map(|(code, severity, message, span)| {
                let severity = match fixed_overrides.iter().rev().find(|(c, _)| *c == code) {
                    Some((_, level)) => (*level)?,
                    None => severity,
                };
                let allowed = allow.iter().enumerate().find_map(|(i, a)| {
                    allows(a, &code, &template.id, &file.path).then(|| {
                        used[i] = true;
                        a.reason.clone()
                    })
                });
                let (s, e) = span.map_or((0, 0), |s| (s.start as usize, s.end as usize));
                let at = (template.file_offset(file, s), template.file_offset(file, e));
                Some(LintFinding {
                    start: file.lines.line_col(&file.text, at.0),
                    end: file.lines.line_col(&file.text, at.1),
                    at,
                    code,
                    severity,
                    message,
                    span,
                    allowed,
                })
            })
            .collect();
        findings.sort_by_key(|f| (f.span.map_or(0, |s| s.start), f.code.clone()));
        failed |= findings
            .iter()
            .any(|f| f.allowed.is_none() && f.severity >= floor);
        // Written and dropped here: a report of any number of templates holds one at a time.
        writer.template(
            file,
            &Linted {
                template,
                classification,
                findings,
            },
        )?;
    }
    let unused_allows: Vec<RawAllow> = allow
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(a, _)| a.clone())
        .collect();
    writer.finish(files.len(), &unused_allows)?;
    out.flush()?;
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// Registration fit and the declared use case, as findings.
fn fit_findings(
    policy: &smslint_core::Policy,
    classification: &Classification,
    template: &Template,
    registered: Option<&[UseCase]>,
) -> Vec<(String, Severity, String, Option<Span>)> {
    let mut out = Vec::new();
    match registered {
        Some(reg) => {
            if let Some(r) = content_fit(policy, classification, reg) {
                out.push((r.code.as_str().to_owned(), r.severity, r.message, None));
            }
        }
        None => {
            // Without a campaign, text that fits no use case is still worth knowing.
            if let Some(r) = content_fit(policy, classification, &[])
                .filter(|r| r.code.as_str() == "content.unclassified")
            {
                out.push((r.code.as_str().to_owned(), r.severity, r.message, None));
            }
        }
    }
    if let Some(declared) = &template.declared {
        let Some(use_case) = UseCase::known(declared) else {
            out.push((
                "template.unknown_use_case".into(),
                Severity::Error,
                format!(
                    "the template declares useCase {declared:?}, which RingCentral does not define"
                ),
                None,
            ));
            return out;
        };
        if !classification.is_detected(&use_case) {
            let reads = classification.top().map_or_else(
                || "fits no use case".to_owned(),
                |s| format!("reads as {}", s.use_case),
            );
            out.push((
                "template.use_case_mismatch".into(),
                Severity::Error,
                format!("the template declares {use_case}, but its content {reads}"),
                None,
            ));
        } else if let Some(hidden) = classification
            .detected()
            .find(|s| s.use_case != use_case && policy.decision().restricted.contains(&s.use_case))
        {
            // A promotion inside a notice: the campaign may register both, but the template
            // would go out under a label that hides content carriers treat differently.
            out.push((
                "template.use_case_mismatch".into(),
                Severity::Error,
                format!(
                    "the template declares {use_case}, but its content also reads as {}, which is restricted",
                    hidden.use_case
                ),
                None,
            ));
        }
        if let Some(reg) = registered {
            let covered = reg.contains(&use_case)
                || policy
                    .decision()
                    .covers
                    .iter()
                    .any(|(l, m)| reg.contains(l) && m.contains(&use_case));
            if !covered {
                out.push((
                    "template.declared_not_registered".into(),
                    Severity::Error,
                    format!(
                        "the template declares {use_case}, which the campaign does not register ({})",
                        reg.iter().map(UseCase::as_str).collect::<Vec<_>>().join(", ")
                    ),
                    None,
                ));
            }
        }
    }
    out
}

/// The campaign's use cases, from --config or --use-case.
fn registered(args: &LintArgs) -> Result<Option<Vec<UseCase>>> {
    if let Some(config) = &args.config {
        let profiles = input::snapshot(config)?;
        let from = input::e164("--from", args.from.as_deref())?;
        let profile = select_profile(&profiles, from)
            .map_err(|e| anyhow::anyhow!("snapshot {}: {e}", input::display_name(config)))?;
        return Ok(Some(
            profile
                .campaign()
                .and_then(|c| c.use_cases.clone())
                .unwrap_or_default(),
        ));
    }
    if args.use_cases.is_empty() {
        return Ok(None);
    }
    args.use_cases
        .iter()
        .map(|name| {
            UseCase::known(name)
                .ok_or_else(|| anyhow::anyhow!("--use-case {name:?} is not a RingCentral use case"))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Apply `--severity RULE=LEVEL` flags: content rules in the policy, fixed codes returned.
fn apply_severity_flags(
    policy: &mut smslint_core::Policy,
    flags: &[String],
) -> Result<Vec<(String, Option<Severity>)>> {
    let mut fixed = Vec::new();
    for flag in flags {
        let Some((rule, level)) = flag.split_once('=') else {
            bail!("--severity {flag:?}: expected RULE=LEVEL, for example prohibited=warning");
        };
        let level = match level.to_ascii_lowercase().as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            "off" => None,
            other => {
                bail!("--severity {flag:?}: level {other:?} is not error, warning, info or off")
            }
        };
        let id = rule.strip_prefix("rule.").unwrap_or(rule);
        let codes: Vec<&str> = LINT_CODES
            .iter()
            .map(|(c, _, _)| *c)
            .filter(|c| rule_applies(rule, c))
            .collect();
        if !codes.is_empty() {
            fixed.extend(codes.into_iter().map(|c| (c.to_owned(), level)));
        } else if policy.override_severity(id, level) == 0 {
            let known = policy
                .content_rules()
                .iter()
                .any(|r| rule_applies(rule, &r.code));
            if !known {
                bail!("--severity {flag:?}: no rule of the policy is {rule:?} or under it");
            }
        }
    }
    Ok(fixed)
}
