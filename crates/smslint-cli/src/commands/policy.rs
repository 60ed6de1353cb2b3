//! `smslint policy`: validate, test, explain and schema.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use smslint_core::{fmt_score, NormalizedText, Severity};
use smslint_policy::diagnostic::{is_bidi_control, text_columns};
use smslint_policy::examples::{parse_cases, run_cases, TestCase};
use smslint_policy::learn::{Folds, Method};
use smslint_policy::{
    load_path, run_examples, LoadedPolicy, PolicyDiagnostic, RawPolicy, BUILTIN_DEFAULT,
};

use crate::args::{
    EvalArgs, ExplainArgs, Format, LearnArgs, LearnMethod, PolicyCommand, PolicyFormat, TestArgs,
    ValidateArgs,
};
use crate::exit::ExitStatus;
use crate::input;
use crate::render::{human, Painter};

/// Run a `policy` subcommand.
pub fn run(cmd: &PolicyCommand, painter: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    match cmd {
        PolicyCommand::Validate(args) => validate(args, painter, out),
        PolicyCommand::Test(args) => test(args, painter, out),
        PolicyCommand::Explain(args) => explain(args, painter, out),
        PolicyCommand::Eval(args) => eval(args, painter, out),
        PolicyCommand::Learn(args) => learn(args, out),
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
        if file.to_str().and_then(smslint_policy::builtin).is_some() {
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
        let cases: Vec<TestCase> = parse_cases(text, file)
            .map_err(|e| anyhow::anyhow!("the test cases cannot be used:\n{e}"))?;
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
                yaml_with_bidi_escaped(&resolved).context("cannot print the policy as YAML")?;
            writeln!(out, "# {} after extends", loaded.name)?;
            out.write_all(yaml.as_bytes())?;
        }
        Some(text) => out.write_all(explain_text(p, &loaded, text).as_bytes())?,
    }
    Ok(ExitStatus::Success)
}

/// `value` as YAML, with each string that holds a bidirectional control written in double
/// quotes, the controls escaped (`"abc\u202Edef"`). The YAML writer keeps them as they are, and
/// a terminal then shows the text around an override in another order than the policy holds:
/// a reviewer reading `explain` would read a phrase other than the one that is matched.
fn yaml_with_bidi_escaped(value: &impl Serialize) -> Result<String, serde_yaml::Error> {
    let plain = serde_yaml::to_string(value)?;
    if !plain.chars().any(is_bidi_control) {
        return Ok(plain);
    }
    // Each such string is written as a marker that no string of the policy holds, which the
    // writer leaves plain, and the marker is then replaced by the string in double quotes.
    let mut tree = serde_yaml::to_value(value)?;
    let mut prefix = String::from("smslint-escaped-");
    loop {
        let mut held = false;
        each_string(&mut tree, &mut |s| held |= s.contains(prefix.as_str()));
        if !held {
            break;
        }
        prefix.push('x');
    }
    let mut taken = Vec::new();
    each_string(&mut tree, &mut |s| {
        if s.chars().any(is_bidi_control) {
            let marker = format!("{prefix}{}-", taken.len());
            taken.push(std::mem::replace(s, marker));
        }
    });
    let mut yaml = serde_yaml::to_string(&tree)?;
    for (n, text) in taken.iter().enumerate() {
        yaml = yaml.replace(&format!("{prefix}{n}-"), &double_quoted(text));
    }
    Ok(yaml)
}

/// Call `f` on every string of `v`, keys and values, at any depth, in document order.
fn each_string(v: &mut serde_yaml::Value, f: &mut impl FnMut(&mut String)) {
    use serde_yaml::Value;
    match v {
        Value::String(s) => f(s),
        Value::Sequence(items) => {
            for item in items {
                each_string(item, f);
            }
        }
        Value::Mapping(m) => {
            // A key is reached only by rebuilding the mapping (keys are not mutable in place).
            *m = std::mem::take(m)
                .into_iter()
                .map(|(mut key, mut value)| {
                    each_string(&mut key, f);
                    each_string(&mut value, f);
                    (key, value)
                })
                .collect();
        }
        Value::Tagged(t) => each_string(&mut t.value, f),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `text` as a YAML double-quoted scalar, with the characters a terminal would act on, line
/// breaks and the bidirectional controls escaped.
fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if is_bidi_control(c)
                || matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
                rule.id.to_string(),
                s.use_case.to_string(),
                format!(
                    "{}{}",
                    if e.weight >= 0.0 { "+" } else { "" },
                    fmt_score(e.weight)
                ),
                format!("{:?}", e.span.slice(text)),
                format!("{}..{}", e.span.start, e.span.end),
                rule.description.as_deref().unwrap_or_default().to_owned(),
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
            *w = (*w).max(text_columns(c));
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(c);
            } else {
                let pad = w - text_columns(c);
                let _ = write!(line, "{c}{:pad$}  ", "");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn eval(args: &EvalArgs, p: Painter, out: &mut dyn Write) -> Result<ExitStatus> {
    input::one_stdin([
        ("--policy", args.policy.policy.as_deref()),
        ("CORPUS", Some(args.corpus.as_path())),
    ])?;
    let loaded = input::policy(args.policy.policy.as_deref())?;
    let text = input::read_path(&args.corpus)?;
    let name = input::display_name(&args.corpus);
    let corpus = smslint_policy::eval::parse_corpus(&text, &name)
        .map_err(|e| anyhow::anyhow!("the corpus cannot be used:\n{e}"))?;
    let report = smslint_policy::eval::evaluate(&loaded, &corpus);
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Format::Human => out.write_all(eval_human(p, &loaded.name, &name, &report).as_bytes())?,
    }
    Ok(ExitStatus::Success)
}

fn learn(args: &LearnArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    input::one_stdin([
        ("--policy", args.policy.policy.as_deref()),
        ("CORPUS", Some(args.corpus.as_path())),
    ])?;
    let options = smslint_policy::learn::LearnOptions {
        method: match args.method {
            LearnMethod::Bayes => Method::Bayes,
            LearnMethod::Logistic => Method::Logistic,
        },
        alpha: args.alpha,
        min_count: args.min_count,
        min_log_ratio: args.min_ratio,
        min_log_ratio_for: args.min_ratio_for,
        negative_scale: args.negative_scale,
        scale: args.scale,
        negative: !args.positive_only,
        l2: args.l2,
        epochs: args.epochs,
        min_weight: args.min_weight,
    };
    for (flag, value) in [("--alpha", options.alpha), ("--scale", options.scale)] {
        if !(value.is_finite() && value > 0.0) {
            anyhow::bail!("{flag} must be a positive number, not {value}");
        }
    }
    for (flag, value) in [
        ("--min-ratio", options.min_log_ratio),
        ("--min-ratio-for", options.min_log_ratio_for),
        ("--negative-scale", options.negative_scale),
        ("--l2", options.l2),
        ("--min-weight", options.min_weight),
    ] {
        if !value.is_finite() || value < 0.0 {
            anyhow::bail!("{flag} must be zero or more, not {value}");
        }
    }
    let mut thresholds = Vec::new();
    for given in &args.threshold {
        let parsed = given.split_once('=').and_then(|(u, t)| {
            let use_case = smslint_core::UseCase::known(u.trim())?;
            let points = t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite() && *p > 0.0)?;
            Some((use_case, points))
        });
        match parsed {
            Some(pair) => thresholds.push(pair),
            None => anyhow::bail!(
                "--threshold {given:?}: expected USECASE=POINTS, a use case name and a positive number (Marketing=6)"
            ),
        }
    }
    let loaded = input::policy(args.policy.policy.as_deref())?;
    let text = input::read_path(&args.corpus)?;
    let name = input::display_name(&args.corpus);
    let corpus = smslint_policy::eval::parse_corpus(&text, &name)
        .map_err(|e| anyhow::anyhow!("the corpus cannot be used:\n{e}"))?;
    let extends = args.extends.clone().unwrap_or_else(|| {
        args.policy
            .policy
            .as_ref()
            .map_or_else(|| BUILTIN_DEFAULT.to_owned(), |p| p.display().to_string())
    });
    let folds = match (args.cv, args.cv_sets.as_deref()) {
        (Some(k), _) => Some(Folds::Interleaved(usize::from(k))),
        (None, Some(prefix)) => Some(Folds::Sets(prefix)),
        (None, None) => None,
    };
    if let Some(folds) = folds {
        let cv = smslint_policy::learn::cross_validate(
            &loaded,
            &extends,
            &corpus,
            &options,
            &thresholds,
            folds,
        )
        .map_err(|e| anyhow::anyhow!("a fold's layer does not load:\n{e}"))?;
        if cv.folds == 0 {
            anyhow::bail!(
                "--cv-sets {:?}: no message of {name} has notes that start with it",
                args.cv_sets.as_deref().unwrap_or_default()
            );
        }
        out.write_all(cv_human(&cv, &name).as_bytes())?;
        return Ok(ExitStatus::Success);
    }
    let learned = smslint_policy::learn::learn(&loaded.policy, &corpus, &options, &thresholds);
    let rendered = match args.format {
        PolicyFormat::Yaml => {
            smslint_policy::learn::to_yaml(&learned, &extends, &name, &thresholds)
        }
        PolicyFormat::Json => {
            smslint_policy::learn::to_json(&learned, &extends, &name, &thresholds)
        }
    };
    out.write_all(rendered.as_bytes())?;
    Ok(ExitStatus::Success)
}

/// The cross-validation figures, as `policy eval` words them.
fn cv_human(cv: &smslint_policy::learn::CrossValidation, corpus: &str) -> String {
    let how = if cv.sets.is_empty() {
        format!("{}-fold cross-validation", cv.folds)
    } else {
        format!("{} held-out sets", cv.folds)
    };
    let mut s = format!(
        "{corpus}: {} messages, {how} ({} keywords learned per fold)\n\
         top-1 accuracy {}, macro-F1 {:.3}, Marketing detection precision {} ({} detected)\n\n\
         {:<24} {:>7} {:>9} {:>7} {:>6}\n",
        cv.messages,
        cv.keywords,
        pct(cv.top1_accuracy),
        cv.macro_f1,
        pct(cv.marketing_detection_precision),
        cv.marketing_detected,
        "use case",
        "support",
        "precision",
        "recall",
        "F1"
    );
    for c in &cv.classes {
        let _ = writeln!(
            s,
            "{:<24} {:>7} {:>9.3} {:>7.3} {:>6.3}",
            c.use_case, c.support, c.precision, c.recall, c.f1
        );
    }
    if !cv.sets.is_empty() {
        let _ = writeln!(
            s,
            "\n{:<24} {:>7} {:>9}",
            "held-out set", "messages", "top-1"
        );
        for (set, messages, right) in &cv.sets {
            let share = pct(smslint_policy::eval::ratio(*right, *messages));
            let _ = writeln!(s, "{set:<24} {messages:>7} {share:>9}");
        }
    }
    s
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The evaluation report as tables.
fn eval_human(
    p: Painter,
    policy: &str,
    corpus: &str,
    r: &smslint_policy::eval::EvalReport,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} on {corpus}: {} messages\n",
        p.bold(policy),
        r.messages
    );
    let _ = writeln!(
        out,
        "top-1 accuracy    {} ({} of {})",
        pct(r.top1_accuracy),
        r.top1_correct,
        r.messages
    );
    let _ = writeln!(out, "macro-F1          {:.4}", r.macro_f1);
    let _ = writeln!(
        out,
        "Marketing precision (detections)  {} ({} detected)",
        pct(r.marketing_detection_precision),
        r.marketing_detected
    );
    let _ = writeln!(
        out,
        "content rules     recall {} of {} labelled findings; false positives on {} of {} compliant messages\n",
        pct(r.content_rule_recall),
        r.content_rules_expected,
        pct(r.compliant_false_positive_rate),
        r.compliant_messages
    );
    let mut rows = vec![[
        "USE CASE".to_owned(),
        "SUPPORT".into(),
        "PRECISION".into(),
        "RECALL".into(),
        "F1".into(),
    ]];
    for c in &r.classes {
        if c.support == 0 && c.false_positives == 0 {
            continue;
        }
        rows.push([
            c.use_case.clone(),
            c.support.to_string(),
            format!("{:.3}", c.precision),
            format!("{:.3}", c.recall),
            format!("{:.3}", c.f1),
        ]);
    }
    table(&mut out, &rows);

    // Confusion matrix with short column names (first letters of each word).
    let short = |name: &str| -> String {
        name.chars()
            .filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            .collect()
    };
    let labels: Vec<&String> = r
        .classes
        .iter()
        .filter(|c| c.support > 0 || c.false_positives > 0)
        .map(|c| &c.use_case)
        .collect();
    let _ = writeln!(out, "\nconfusion (rows: label, columns: top)");
    let mut grid: Vec<Vec<String>> = Vec::new();
    let mut header = vec![String::new()];
    header.extend(labels.iter().map(|l| short(l)));
    grid.push(header);
    for gold in &labels {
        let mut row = vec![(*gold).clone()];
        for pred in &labels {
            let n = r
                .confusion
                .get(*gold)
                .and_then(|m| m.get(*pred))
                .copied()
                .unwrap_or(0);
            row.push(if n == 0 { ".".into() } else { n.to_string() });
        }
        grid.push(row);
    }
    let widths: Vec<usize> = (0..grid[0].len())
        .map(|i| {
            grid.iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &grid {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(line, "{cell:<w$}", w = widths[0]);
            } else {
                let _ = write!(line, " {cell:>w$}", w = widths[i]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }

    let _ = writeln!(out, "\nrules that never fired ({}):", r.never_fired.len());
    for id in &r.never_fired {
        let _ = writeln!(out, "  {id}");
    }
    let mut hits: Vec<(&String, &usize)> = r.rule_hits.iter().filter(|(_, n)| **n > 0).collect();
    hits.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let _ = writeln!(out, "\nmost frequent rules:");
    for (id, n) in hits.iter().take(15) {
        let _ = writeln!(out, "  {n:>4}  {id}");
    }
    let _ = writeln!(out, "\nmisclassified ({}):", r.misclassified.len());
    for m in &r.misclassified {
        let _ = writeln!(
            out,
            "  line {}: expected {}, top {}: {:?}",
            m.line,
            m.expected.join("|"),
            m.top,
            m.text
        );
        for e in &m.evidence {
            let _ = writeln!(out, "      {e}");
        }
    }
    let _ = writeln!(out, "\ncontent-rule differences ({}):", r.rule_misses.len());
    for m in &r.rule_misses {
        let mut parts = Vec::new();
        if !m.missing.is_empty() {
            parts.push(format!("missing {}", m.missing.join(", ")));
        }
        if !m.unexpected.is_empty() {
            parts.push(format!("unexpected {}", m.unexpected.join(", ")));
        }
        let _ = writeln!(out, "  line {}: {}: {:?}", m.line, parts.join("; "), m.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any strings, as keys and values: what is written reads back as the same strings, and
        /// holds no bidirectional control as it is.
        #[test]
        fn yaml_with_bidi_escaped_reads_back_the_same(
            entries in proptest::collection::btree_map(
                "([a-z:# -]|\"|'|\\\\|\n|\t|\u{7}|\u{85}|\u{202e}|\u{2066}|\u{2069}|\u{200f}|é|smslint-escaped-[0-9]-){0,12}",
                proptest::collection::vec(
                    "([a-z:# -]|\"|'|\\\\|\n|\u{1b}|\u{202a}|\u{202e}|\u{feff}|\u{2028}|smslint-escaped-x?[0-9]-){0,12}",
                    0..3,
                ),
                0..4,
            )
        ) {
            let yaml = yaml_with_bidi_escaped(&entries).unwrap_or_else(|e| panic!("{e}"));
            prop_assert!(!yaml.chars().any(is_bidi_control), "{yaml}");
            let back: BTreeMap<String, Vec<String>> =
                serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
            prop_assert_eq!(back, entries);
        }
    }
}
