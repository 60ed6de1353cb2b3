//! Renderers of `smslint lint`: human (rustc/Ruff style), JSON, SARIF 2.1.0 and GitHub
//! annotations.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::{json, Value};
use smslint_core::{fmt_score, Policy, Severity};
use smslint_policy::diagnostic::shown;

use super::Painter;
use crate::commands::lint::{LintFinding, Linted, Report, LINT_CODES};
use crate::templates::TemplateFile;

/// Findings by severity, and those an allow entry accepted.
#[derive(Default)]
struct Counts {
    errors: usize,
    warnings: usize,
    infos: usize,
    allowed: usize,
}

fn counts(report: &Report<'_>) -> Counts {
    let mut c = Counts::default();
    for f in report.linted.iter().flat_map(|l| &l.findings) {
        if f.allowed.is_some() {
            c.allowed += 1;
            continue;
        }
        match f.severity {
            Severity::Error => c.errors += 1,
            Severity::Warning => c.warnings += 1,
            Severity::Info => c.infos += 1,
        }
    }
    c
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn reads_as(l: &Linted<'_>) -> String {
    l.classification.top().map_or_else(
        || "fits no use case".to_owned(),
        |s| {
            format!(
                "reads as {} ({} of {})",
                s.use_case,
                fmt_score(s.score),
                fmt_score(s.threshold)
            )
        },
    )
}

/// `path:line:col: severity[code]: message`, the source line with carets, and a summary.
pub fn human(p: Painter, report: &Report<'_>) -> String {
    let mut out = String::new();
    for l in &report.linted {
        let file = &report.files[l.template.file];
        for f in l.findings.iter().filter(|f| f.allowed.is_none()) {
            let level = match f.severity {
                Severity::Error => p.red("error"),
                Severity::Warning => p.yellow("warning"),
                Severity::Info => p.cyan("info"),
            };
            let (line, col) = f.start;
            let _ = writeln!(
                out,
                "{}:{line}:{col}: {level}[{}]: {}",
                p.bold(&file.path),
                p.bold(&f.code),
                f.message
            );
            snippet(&mut out, p, file, f);
            let _ = writeln!(
                out,
                "  = note: template `{}` {}\n",
                l.template.id,
                reads_as(l)
            );
        }
    }
    let c = counts(report);
    for u in &report.unused_allows {
        let _ = writeln!(
            out,
            "{}[lint.unused_allow]: the lint.allow entry for `{}` ({}) matched no finding\n",
            p.yellow("warning"),
            u.rule,
            u.reason
        );
    }
    let summary = format!(
        "Checked {} in {}: {}, {}, {}{}.",
        plural(report.linted.len(), "template"),
        plural(report.files.len(), "file"),
        plural(c.errors, "error"),
        plural(c.warnings, "warning"),
        plural(c.infos, "info"),
        if c.allowed > 0 {
            format!(" ({} allowed)", c.allowed)
        } else {
            String::new()
        }
    );
    let styled = if c.errors > 0 {
        p.red(&summary)
    } else {
        p.green(&summary)
    };
    let _ = writeln!(out, "{styled}");
    out
}

/// The file line of a finding with carets under its span (first line of a multi-line span).
fn snippet(out: &mut String, p: Painter, file: &TemplateFile, f: &LintFinding) {
    let (line, col) = f.start;
    let Some(src) = file.lines.line(&file.text, line) else {
        return;
    };
    let src = src.trim_end_matches('\r');
    let width = src.chars().count();
    let len = if f.span.is_some_and(|s| !s.is_empty()) {
        if f.end.0 == line {
            f.end.1.saturating_sub(col).max(1)
        } else {
            width.saturating_sub(col - 1).max(1)
        }
    } else {
        1
    };
    let gutter = line.to_string().len();
    let pad: String = src
        .chars()
        .take(col - 1)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let src: String = src.chars().map(shown).collect();
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{line} | {src}");
    let _ = writeln!(out, "{:gutter$} | {pad}{}", "", p.yellow(&"^".repeat(len)));
}

fn finding_json(f: &LintFinding) -> Value {
    json!({
        "code": f.code,
        "severity": f.severity.as_str(),
        "message": f.message,
        "line": f.start.0,
        "column": f.start.1,
        "endLine": f.end.0,
        "endColumn": f.end.1,
        "span": f.span.map(|s| json!({"start": s.start, "end": s.end})),
        "allowed": f.allowed,
    })
}

/// One JSON object: every template with its scores and findings, a summary, unused allows.
pub fn json(report: &Report<'_>) -> Result<String> {
    let templates: Vec<Value> = report
        .linted
        .iter()
        .map(|l| {
            json!({
                "path": report.files[l.template.file].path,
                "id": l.template.id,
                "declaredUseCase": l.template.declared,
                "top": l.classification.top().map_or("Unknown", |s| s.use_case.as_str()),
                "categories": l.classification.detected().map(|s| json!({
                    "useCase": s.use_case.as_str(),
                    "score": s.score,
                })).collect::<Vec<_>>(),
                "findings": l.findings.iter().map(finding_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let c = counts(report);
    let value = json!({
        "templates": templates,
        "summary": {
            "files": report.files.len(),
            "templates": report.linted.len(),
            "errors": c.errors,
            "warnings": c.warnings,
            "infos": c.infos,
            "allowed": c.allowed,
        },
        "unusedAllows": report.unused_allows.iter().map(|u| json!({
            "rule": u.rule,
            "templates": u.templates,
            "paths": u.paths,
            "reason": u.reason,
        })).collect::<Vec<_>>(),
    });
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// SARIF 2.1.0: every rule the policy can report in `tool.driver.rules`, one result per
/// finding; accepted findings carry a suppression with the allow entry's reason.
pub fn sarif(report: &Report<'_>, policy: &Policy) -> Result<String> {
    let mut rules: Vec<Value> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for r in policy.content_rules() {
        ids.push(r.code.clone());
        let mut rule = json!({
            "id": r.code,
            "name": r.id,
            "shortDescription": {"text": r.description.clone().unwrap_or_else(|| r.message.clone())},
            "fullDescription": {"text": r.message},
            "help": {"text": r.message},
            "defaultConfiguration": {
                "enabled": r.severity.is_some(),
                "level": sarif_level(r.severity.unwrap_or(r.default_severity)),
            },
        });
        if let Some(link) = &r.link {
            rule["helpUri"] = json!(link);
        }
        rules.push(rule);
    }
    for (code, severity, description) in LINT_CODES {
        ids.push((*code).to_owned());
        rules.push(json!({
            "id": code,
            "shortDescription": {"text": description},
            "help": {"text": description},
            "defaultConfiguration": {"level": sarif_level(*severity)},
        }));
    }
    let mut results = Vec::new();
    for l in &report.linted {
        let path = &report.files[l.template.file].path;
        for f in &l.findings {
            let mut region = json!({"startLine": f.start.0, "startColumn": f.start.1});
            if f.span.is_some_and(|s| !s.is_empty()) {
                region["endLine"] = json!(f.end.0);
                region["endColumn"] = json!(f.end.1);
            }
            let mut result = json!({
                "ruleId": f.code,
                "level": sarif_level(f.severity),
                "message": {"text": format!("{} (template `{}` {})", f.message, l.template.id, reads_as(l))},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": path},
                        "region": region,
                    },
                    "logicalLocations": [{"name": l.template.id, "kind": "object"}],
                }],
            });
            if let Some(i) = ids.iter().position(|id| *id == f.code) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(reason) = &f.allowed {
                result["suppressions"] = json!([{"kind": "external", "justification": reason}]);
            }
            results.push(result);
        }
    }
    let value = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "smslint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/smslint",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

/// GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` per finding.
pub fn github(report: &Report<'_>) -> String {
    let escape = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| escape(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for l in &report.linted {
        let path = &report.files[l.template.file].path;
        for f in l.findings.iter().filter(|f| f.allowed.is_none()) {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let _ = writeln!(
                out,
                "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                prop(path),
                f.start.0,
                f.start.1,
                f.end.0,
                f.end.1,
                prop(&f.code),
                escape(&format!("{} (template `{}`)", f.message, l.template.id))
            );
        }
    }
    out
}
