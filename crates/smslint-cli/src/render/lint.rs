//! Renderers of `smslint lint`: human (rustc/Ruff style), JSON, SARIF 2.1.0 and GitHub
//! annotations.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use serde_json::{json, Value};
use smslint_core::{fmt_score, Policy, Severity};
use smslint_policy::diagnostic::{carets, pad_under, shown, shown_text};
use smslint_policy::locate::floor_boundary;
use smslint_policy::raw::RawAllow;

use super::pretty::Pretty;
use super::Painter;
use crate::args::LintFormat;
use crate::commands::lint::{LintFinding, Linted, LINT_CODES};
use crate::templates::TemplateFile;

/// Findings by severity, and those an allow entry accepted.
#[derive(Debug, Default)]
struct Counts {
    errors: usize,
    warnings: usize,
    infos: usize,
    allowed: usize,
}

impl Counts {
    fn add(&mut self, f: &LintFinding) {
        if f.allowed.is_some() {
            self.allowed += 1;
            return;
        }
        match f.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }
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

/// Writes `lint`'s report in one format as each template is linted: memory holds one
/// template's findings, not the whole report, whatever the number of templates.
pub struct LintWriter<'w> {
    out: &'w mut dyn Write,
    format: LintFormat,
    painter: Painter,
    pretty: Pretty,
    /// SARIF: each rule's index in `tool.driver.rules`.
    rule_index: HashMap<String, usize>,
    counts: Counts,
    templates: usize,
}

impl<'w> LintWriter<'w> {
    /// Starts the report: for JSON and SARIF, what comes before the first template.
    pub fn new(
        out: &'w mut dyn Write,
        format: LintFormat,
        painter: Painter,
        policy: &Policy,
    ) -> Result<LintWriter<'w>> {
        let mut w = LintWriter {
            out,
            format,
            painter,
            pretty: Pretty::default(),
            rule_index: HashMap::new(),
            counts: Counts::default(),
            templates: 0,
        };
        match format {
            LintFormat::Json => {
                w.pretty.open(w.out, None, b'{')?;
                w.pretty.open(w.out, Some("templates"), b'[')?;
            }
            LintFormat::Sarif => w.sarif_head(policy)?,
            LintFormat::Human | LintFormat::Github => {}
        }
        Ok(w)
    }

    /// Writes one template's part of the report.
    pub fn template(&mut self, file: &TemplateFile, l: &Linted<'_>) -> Result<()> {
        self.templates += 1;
        for f in &l.findings {
            self.counts.add(f);
        }
        match self.format {
            LintFormat::Human => human(self.out, self.painter, file, l)?,
            LintFormat::Json => self.pretty.value(self.out, None, &template_json(file, l))?,
            LintFormat::Sarif => {
                for f in &l.findings {
                    let result = sarif_result(file, l, f, &self.rule_index);
                    self.pretty.value(self.out, None, &result)?;
                }
            }
            LintFormat::Github => github(self.out, file, l)?,
        }
        Ok(())
    }

    /// Ends the report with the unused allow entries and the summary.
    pub fn finish(mut self, files: usize, unused_allows: &[RawAllow]) -> Result<()> {
        match self.format {
            LintFormat::Human => self.human_summary(files, unused_allows)?,
            LintFormat::Json => {
                let c = &self.counts;
                let summary = json!({
                    "files": files,
                    "templates": self.templates,
                    "errors": c.errors,
                    "warnings": c.warnings,
                    "infos": c.infos,
                    "allowed": c.allowed,
                });
                let unused: Vec<Value> = unused_allows
                    .iter()
                    .map(|u| {
                        json!({
                            "rule": u.rule,
                            "templates": u.templates,
                            "paths": u.paths,
                            "reason": u.reason,
                        })
                    })
                    .collect();
                self.pretty.close(self.out, b']')?;
                self.pretty.value(self.out, Some("summary"), &summary)?;
                self.pretty.value(self.out, Some("unusedAllows"), &unused)?;
                self.pretty.close(self.out, b'}')?;
                self.out.write_all(b"\n")?;
            }
            LintFormat::Sarif => {
                // results, the run, runs, the document.
                self.pretty.close(self.out, b']')?;
                self.pretty.close(self.out, b'}')?;
                self.pretty.close(self.out, b']')?;
                self.pretty.close(self.out, b'}')?;
                self.out.write_all(b"\n")?;
            }
            LintFormat::Github => {}
        }
        Ok(())
    }

    fn human_summary(&mut self, files: usize, unused_allows: &[RawAllow]) -> Result<()> {
        let p = self.painter;
        for u in unused_allows {
            writeln!(
                self.out,
                "{}[lint.unused_allow]: the lint.allow entry for `{}` ({}) matched no finding\n",
                p.yellow("warning"),
                u.rule,
                u.reason
            )?;
        }
        let c = &self.counts;
        let summary = format!(
            "Checked {} in {}: {}, {}, {}{}.",
            plural(self.templates, "template"),
            plural(files, "file"),
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
        writeln!(self.out, "{styled}")?;
        Ok(())
    }

    /// The SARIF document up to its results: every rule the policy can report.
    fn sarif_head(&mut self, policy: &Policy) -> Result<()> {
        let mut rules: Vec<Value> = Vec::new();
        for r in policy.content_rules() {
            self.rule_index.entry(r.code.clone()).or_insert(rules.len());
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
            self.rule_index
                .entry((*code).to_owned())
                .or_insert(rules.len());
            rules.push(json!({
                "id": code,
                "shortDescription": {"text": description},
                "help": {"text": description},
                "defaultConfiguration": {"level": sarif_level(*severity)},
            }));
        }
        let tool = json!({"driver": {
            "name": "smslint",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://example.invalid/smslint",
            "rules": rules,
        }});
        let (out, pretty) = (&mut *self.out, &mut self.pretty);
        pretty.open(out, None, b'{')?;
        pretty.value(
            out,
            Some("$schema"),
            "https://json.schemastore.org/sarif-2.1.0.json",
        )?;
        pretty.value(out, Some("version"), "2.1.0")?;
        pretty.open(out, Some("runs"), b'[')?;
        pretty.open(out, None, b'{')?;
        pretty.value(out, Some("tool"), &tool)?;
        pretty.value(out, Some("columnKind"), "unicodeCodePoints")?;
        pretty.open(out, Some("results"), b'[')?;
        Ok(())
    }
}

/// `path:line:col: severity[code]: message` and the source line with carets, per finding.
fn human(out: &mut dyn Write, p: Painter, file: &TemplateFile, l: &Linted<'_>) -> Result<()> {
    let mut text = String::new();
    for f in l.findings.iter().filter(|f| f.allowed.is_none()) {
        let level = match f.severity {
            Severity::Error => p.red("error"),
            Severity::Warning => p.yellow("warning"),
            Severity::Info => p.cyan("info"),
        };
        let (line, col) = f.start;
        // The path and the id come from the files linted: a control character in either
        // would reach the terminal.
        let _ = writeln!(
            text,
            "{}:{line}:{col}: {level}[{}]: {}",
            p.bold(&shown_text(&file.path)),
            p.bold(&f.code),
            f.message
        );
        snippet(&mut text, p, file, f);
        let _ = writeln!(
            text,
            "  = note: template `{}` {}\n",
            shown_text(&l.template.id),
            reads_as(l)
        );
    }
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// A source line of up to this many characters is shown whole.
const WHOLE_LINE: usize = 500;
/// Characters of a longer line shown on each side of a finding, and of its span.
const AROUND: usize = 100;

/// The file line of a finding with carets under its span (first line of a multi-line span); a
/// long line (a minified catalog is one line) only around the finding, elided with `…`.
fn snippet(out: &mut String, p: Painter, file: &TemplateFile, f: &LintFinding) {
    let (line, col) = f.start;
    let (Some(src), Some(line_start)) = (
        file.lines.line(&file.text, line),
        file.lines.line_start(line),
    ) else {
        return;
    };
    let src = src.trim_end_matches('\r');
    let gutter = line.to_string().len();
    let (shown_line, pad, marks) = if src.chars().nth(WHOLE_LINE).is_none() {
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
        (
            src.chars().map(shown).collect::<String>(),
            pad_under(src.chars().take(col - 1)),
            carets(src.chars().skip(col - 1).take(len)),
        )
    } else {
        // Byte offsets within the line, so that nothing counts the whole of it.
        let a = floor_boundary(src, f.at.0.saturating_sub(line_start));
        let b = if f.span.is_some_and(|s| !s.is_empty()) {
            floor_boundary(src, f.at.1.saturating_sub(line_start)).max(a)
        } else {
            a
        };
        let before = &src[floor_boundary(src, a.saturating_sub(4 * AROUND))..a];
        let before = before
            .char_indices()
            .rev()
            .nth(AROUND - 1)
            .map_or(before, |(i, _)| &before[i..]);
        let span = &src[a..b];
        let span = span
            .char_indices()
            .nth(2 * AROUND)
            .map_or(span, |(i, _)| &span[..i]);
        // An empty span marks the character it starts at.
        let marked = if span.is_empty() {
            src[a..]
                .chars()
                .next()
                .map_or("", |c| &src[a..a + c.len_utf8()])
        } else {
            span
        };
        let after_from = a + span.len();
        let after = &src[after_from..];
        let after = after
            .char_indices()
            .nth(AROUND)
            .map_or(after, |(i, _)| &after[..i]);
        let elided_before = before.as_ptr() != src.as_ptr();
        let elided_after = after_from + after.len() < src.len();
        let mut text = String::new();
        if elided_before {
            text.push('…');
        }
        text.extend(
            before
                .chars()
                .chain(span.chars())
                .chain(after.chars())
                .map(shown),
        );
        if elided_after {
            text.push('…');
        }
        let lead = if elided_before { "…" } else { "" };
        (
            text,
            pad_under(lead.chars().chain(before.chars())),
            carets(marked.chars()),
        )
    };
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{line} | {shown_line}");
    let _ = writeln!(out, "{:gutter$} | {pad}{}", "", p.yellow(&marks));
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

/// One template of the JSON report: its scores and findings.
fn template_json(file: &TemplateFile, l: &Linted<'_>) -> Value {
    json!({
        "path": file.path,
        "id": l.template.id,
        "declaredUseCase": l.template.declared,
        "top": l.classification.top().map_or("Unknown", |s| s.use_case.as_str()),
        "categories": l.classification.detected().map(|s| json!({
            "useCase": s.use_case.as_str(),
            "score": s.score,
        })).collect::<Vec<_>>(),
        "findings": l.findings.iter().map(finding_json).collect::<Vec<_>>(),
    })
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// One SARIF result; an accepted finding carries a suppression with the allow entry's reason.
fn sarif_result(
    file: &TemplateFile,
    l: &Linted<'_>,
    f: &LintFinding,
    rule_index: &HashMap<String, usize>,
) -> Value {
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
                "artifactLocation": {"uri": file.path},
                "region": region,
            },
            "logicalLocations": [{"name": l.template.id, "kind": "object"}],
        }],
    });
    if let Some(i) = rule_index.get(&f.code) {
        result["ruleIndex"] = json!(i);
    }
    if let Some(reason) = &f.allowed {
        result["suppressions"] = json!([{"kind": "external", "justification": reason}]);
    }
    result
}

/// GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` per finding.
fn github(out: &mut dyn Write, file: &TemplateFile, l: &Linted<'_>) -> Result<()> {
    let escape = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| escape(s).replace(':', "%3A").replace(',', "%2C");
    for f in l.findings.iter().filter(|f| f.allowed.is_none()) {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            prop(&file.path),
            f.start.0,
            f.start.1,
            f.end.0,
            f.end.1,
            prop(&f.code),
            escape(&format!("{} (template `{}`)", f.message, l.template.id))
        )?;
    }
    Ok(())
}
