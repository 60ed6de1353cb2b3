//! `smslint policy`: validate, test, explain and schema.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use smslint_core::{fmt_score, NormalizedText, Severity};
use smslint_policy::examples::{parse_cases, run_cases, TestCase};
use smslint_policy::{
    load_path, run_examples, LoadedPolicy, PolicyDiagnostic, RawPolicy, BUILTIN_DEFAULT,
};

use crate::args::{ExplainArgs, Format, PolicyCommand, TestArgs, ValidateArgs};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{human, Painter};

/// Run a `policy` subcommand.
pub fn run(cmd: &PolicyCommand, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    match cmd {
        PolicyCommand::Validate(args) => validate(args, painter, out),
        PolicyCommand::Test(args) => test(args, painter, out),
        PolicyCommand::Explain(args) => explain(args, painter, out),
        PolicyCommand::Schema => {
            writeln!(out, "{}", smslint_policy::schema::policy_schema_json())?;
            Ok(ExitStatus::Success)
        }
    }
}

#[derive(Serialize)]
struct Validated<'a> {
    file: String,
    valid: bool,
    diagnostics: &'a [PolicyDiagnostic],
}

fn validate(args: &ValidateArgs, p: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    let mut results = Vec::new();
    for file in &args.files {
        let (valid, diagnostics) = match load_path(file) {
            Ok(loaded) => (true, loaded.warnings),
            Err(e) => (false, e.diagnostics),
        };
        results.push((file.display().to_string(), valid, diagnostics));
    }
    match args.format {
        Format::Json => {
            let json: Vec<Validated<'_>> = results
                .iter()
                .map(|(file, valid, d)| Validated {
                    file: file.clone(),
                    valid: *valid,
                    diagnostics: d,
                })
                .collect();
            serde_json::to_writer(&mut *out, &json)?;
            writeln!(out)?;
        }
        Format::Human => {
            for (file, valid, diagnostics) in &results {
                for d in diagnostics {
                    writeln!(out, "{}", paint_diagnostic(p, d))?;
                }
                let errors = diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                let warnings = diagnostics.len() - errors;
                if *valid {
                    writeln!(
                        out,
                        "{}: {file} ({})",
                        p.green("valid"),
                        plural(warnings, "warning")
                    )?;
                } else {
                    writeln!(
                        out,
                        "{}: {file} ({}, {})",
                        p.red("invalid"),
                        plural(errors, "error"),
                        plural(warnings, "warning")
                    )?;
                }
            }
        }
    }
    Ok(if results.iter().all(|(_, valid, _)| *valid) {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// A diagnostic with its level coloured.
pub fn paint_diagnostic(p: Painter, d: &PolicyDiagnostic) -> String {
    let text = d.to_string();
    let level = d.severity.as_str();
    let styled = match d.severity {
        Severity::Error => p.red(level),
        Severity::Warning => p.yellow(level),
        Severity::Info => p.cyan(level),
    };
    text.replacen(level, &styled, 1).trim_end().to_owned()
}

/// Whether a file holds test cases (a YAML or JSON list) rather than a policy.
fn is_test_file(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("---"))
        .is_some_and(|l| l.starts_with('-') || l.starts_with('['))
}

fn sibling_tests(policy: &Path) -> Option<PathBuf> {
    let stem = policy.file_stem()?.to_str()?;
    let candidate = policy.with_file_name(format!("{stem}.tests.yaml"));
    candidate.exists().then_some(candidate)
}

fn test(args: &TestArgs, p: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    let mut policies: Vec<PathBuf> = Vec::new();
    let mut shared_tests: Vec<(String, String)> = Vec::new();
    for file in &args.files {
        if file.as_os_str() == BUILTIN_DEFAULT {
            policies.push(file.clone());
            continue;
        }
        let text = input::read_path(file)?;
        if is_test_file(&text) {
            shared_tests.push((input::display_name(file), text));
        } else {
            policies.push(file.clone());
        }
    }
    if policies.is_empty() {
        policies.push(PathBuf::from(BUILTIN_DEFAULT));
    }
    let mut failed = false;
    for path in &policies {
        let loaded = input::policy(Some(path))?;
        let mut tests = shared_tests.clone();
        if let Some(sibling) = sibling_tests(path) {
            let text = input::read_path(&sibling)?;
            tests.push((sibling.display().to_string(), text));
        }
        failed |= test_one(&loaded, &tests, p, out)?;
    }
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// Run one policy's examples and the test files; true when anything failed.
fn test_one(
    loaded: &LoadedPolicy,
    tests: &[(String, String)],
    p: Painter,
    out: &mut dyn Write,
) -> Result<bool> {
    let policy = &loaded.policy;
    let explain = |text: &str| {
        let c = policy.classify(&NormalizedText::new(text));
        indent(&human::scores_only(p, policy, &c, text), "      ")
    };
    let report = run_examples(loaded);
    for f in &report.failures {
        writeln!(out, "{} {f}", p.red("FAIL"))?;
        write!(out, "{}", explain(&f.text))?;
    }
    let mut total = report.total;
    let mut failures = report.failures.len();
    for (file, text) in tests {
        let cases: Vec<TestCase> = parse_cases(text, file).map_err(|e| anyhow::anyhow!("{e}"))?;
        total += cases.len();
        let case_failures = run_cases(loaded, &cases, file, text);
        failures += case_failures.len();
        for f in &case_failures {
            let at = f.line.map_or_else(
                || format!("{}[{}]", f.file, f.index),
                |l| format!("{}:{l}", f.file),
            );
            writeln!(out, "{} {at}: {:?}", p.red("FAIL"), f.label)?;
            for problem in &f.problems {
                writeln!(out, "    {problem}")?;
            }
            write!(out, "{}", explain(&f.text))?;
        }
    }
    let summary = format!("{}: {} run, {} failed", loaded.name, total, failures);
    writeln!(
        out,
        "{}",
        if failures == 0 {
            p.green(&summary)
        } else {
            p.red(&summary)
        }
    )?;
    Ok(failures > 0)
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .fold(String::new(), |mut acc, l| {
            let _ = writeln!(acc, "{by}{l}");
            acc
        })
}

fn explain(args: &ExplainArgs, p: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    let loaded = input::policy(Some(&args.file))?;
    match &args.text {
        None => {
            let resolved = resolved_for_display(&loaded.raw);
            let yaml =
                serde_yaml::to_string(&resolved).context("cannot print the policy as YAML")?;
            writeln!(out, "# {} after extends", loaded.name)?;
            out.write_all(yaml.as_bytes())?;
        }
        Some(text) => out.write_all(explain_text(p, &loaded, text).as_bytes())?,
    }
    Ok(ExitStatus::Success)
}

/// The merged policy with its decision spelled out in full.
fn resolved_for_display(raw: &RawPolicy) -> RawPolicy {
    let mut resolved = raw.clone();
    resolved.decision = Some(smslint_policy::validate::effective_decision(raw));
    resolved
}

/// Every rule that fired on `text`, and each use case's distance from its threshold.
fn explain_text(p: Painter, loaded: &LoadedPolicy, text: &str) -> String {
    let policy = &loaded.policy;
    let c = policy.classify(&NormalizedText::new(text));
    let mut out = String::new();
    let top = c.top().map_or("Unknown", |s| s.use_case.as_str());
    let _ = writeln!(out, "top: {}\n", p.bold(top));

    let mut rows: Vec<[String; 5]> = vec![[
        "USE CASE".into(),
        "SCORE".into(),
        "THRESHOLD".into(),
        "TO GO".into(),
        "DETECTED".into(),
    ]];
    let mut scores: Vec<_> = c.scores.iter().collect();
    scores.sort_by(|a, b| b.score.total_cmp(&a.score));
    for s in &scores {
        let to_go = (s.threshold - s.score).max(0.0);
        rows.push([
            s.use_case.to_string(),
            fmt_score(s.score),
            fmt_score(s.threshold),
            if s.detected() {
                "-".into()
            } else {
                fmt_score(to_go)
            },
            if s.detected() {
                "yes".into()
            } else {
                "no".into()
            },
        ]);
    }
    table(&mut out, &rows);
    out.push('\n');

    let mut rules: Vec<[String; 6]> = vec![[
        "RULE".into(),
        "USE CASE".into(),
        "POINTS".into(),
        "MATCH".into(),
        "SPAN".into(),
        "DESCRIPTION".into(),
    ]];
    for s in &scores {
        for e in &s.evidence {
            let rule = policy.rule(e.rule);
            rules.push([
                rule.id.clone(),
                s.use_case.to_string(),
                format!(
                    "{}{}",
                    if e.weight >= 0.0 { "+" } else { "" },
                    fmt_score(e.weight)
                ),
                format!("{:?}", e.span.slice(text)),
                format!("{}..{}", e.span.start, e.span.end),
                rule.description.clone().unwrap_or_default(),
            ]);
        }
    }
    if rules.len() == 1 {
        let _ = writeln!(out, "no rule fired");
    } else {
        table(&mut out, &rules);
    }
    out
}

fn table<const N: usize>(out: &mut String, rows: &[[String; N]]) {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(c);
            } else {
                let pad = w - c.chars().count();
                let _ = write!(line, "{c}{:pad$}  ", "");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
