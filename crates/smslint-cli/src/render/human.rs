//! Output for people: verdict first, then reasons, scores with evidence, and the message with
//! its matches marked.

use std::fmt::Write as _;

use smslint_core::{
    fmt_score, Classification, Encoding, NumberProfile, Policy, Reason, SegmentInfo, Severity,
    Span, UseCaseScore, Verdict,
};
use smslint_policy::diagnostic::{columns, pad_under, shown, shown_text, text_columns};

use super::Painter;

/// The human rendering of one `check`.
pub fn check(
    p: Painter,
    policy: &Policy,
    classification: &Classification,
    verdict: &Verdict,
    number: Option<&str>,
    text: &str,
    segments: SegmentInfo,
) -> String {
    let mut out = String::new();
    let number = number.map_or("the number".into(), shown_text);
    if verdict.approved() {
        let _ = writeln!(
            out,
            "{}  {number} may send this message",
            p.green("approve")
        );
    } else {
        let _ = writeln!(
            out,
            "{}  {number} may not send this message",
            p.red("reject")
        );
    }
    reasons(&mut out, p, &verdict.reasons, "  ");
    out.push('\n');
    scores(&mut out, p, policy, classification, text, false);
    let rule_spans: Vec<Span> = verdict.reasons.iter().filter_map(|r| r.span).collect();
    let unit = match segments.encoding {
        Encoding::Gsm7 => "septets",
        Encoding::Ucs2 => "UTF-16 units",
    };
    let _ = writeln!(
        out,
        "encoding: {}, {} segment{} ({} {unit})\n",
        segments.encoding.as_str(),
        segments.segments,
        if segments.segments == 1 { "" } else { "s" },
        segments.units
    );
    message(&mut out, p, classification, &rule_spans, text);
    out
}

fn reasons(out: &mut String, p: Painter, reasons: &[Reason], indent: &str) {
    for r in reasons {
        let level = match r.severity {
            Severity::Error => p.red("error"),
            Severity::Warning => p.yellow("warning"),
            Severity::Info => p.cyan("info"),
        };
        let _ = writeln!(
            out,
            "{indent}{level}[{}]: {}",
            p.bold(r.code.as_str()),
            r.message
        );
    }
}

/// The numbers table: one row per number, eligible ones first, reasons under the others.
pub fn numbers(p: Painter, rows: &[(&NumberProfile, &Verdict)], with_text: bool) -> String {
    let header = [
        "NUMBER",
        "CAMPAIGN",
        "TIER",
        "USE CASES",
        "FEATURES",
        if with_text { "MAY SEND" } else { "SMS" },
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|(profile, verdict)| {
            let campaign = profile.campaign();
            let or_dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
            [
                or_dash(profile.phone_number()),
                or_dash(campaign.and_then(|c| c.status.as_deref())),
                or_dash(campaign.and_then(|c| c.registration_tier.as_deref())),
                campaign.and_then(|c| c.use_cases.as_ref()).map_or_else(
                    || "-".to_owned(),
                    |u| {
                        u.iter()
                            .map(smslint_core::UseCase::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                ),
                profile
                    .features()
                    .map_or_else(|| "(unknown)".to_owned(), |f| f.join(", ")),
                if verdict.approved() { "yes" } else { "no" }.to_owned(),
            ]
            // Values from the snapshot: a control character would break the table or the
            // terminal.
            .map(|cell| shown_text(&cell).into_owned())
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(text_columns(c));
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[String; 6], style: &dyn Fn(&str) -> String| {
        let mut text = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                text.push_str(&style(c));
            } else {
                let pad = w - text_columns(c);
                let _ = write!(text, "{c}{:pad$}  ", "");
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&mut out, &header.map(str::to_owned), &|s| p.bold(s));
    for (row, (_, verdict)) in cells.iter().zip(rows) {
        let style = |s: &str| {
            if verdict.approved() {
                p.green(s)
            } else {
                p.red(s)
            }
        };
        line(&mut out, row, &style);
        reasons(&mut out, p, &verdict.reasons, "    ");
    }
    out
}

/// The human rendering of one `classify`.
pub fn classify(
    p: Painter,
    policy: &Policy,
    classification: &Classification,
    text: &str,
) -> String {
    let mut out = String::new();
    let top = classification
        .top()
        .map_or("Unknown", |s| s.use_case.as_str());
    let _ = writeln!(out, "top: {}\n", p.bold(top));
    scores(&mut out, p, policy, classification, text, true);
    message(&mut out, p, classification, &[], text);
    out
}

/// Every use case that scored, with the rules behind its score (for explaining a failure).
pub fn scores_only(p: Painter, policy: &Policy, c: &Classification, text: &str) -> String {
    let mut out = String::new();
    scores(&mut out, p, policy, c, text, true);
    out
}

/// Detected use cases (and, with `near`, those that scored without reaching the threshold),
/// each with the rules behind its score.
fn scores(
    out: &mut String,
    p: Painter,
    policy: &Policy,
    c: &Classification,
    text: &str,
    near: bool,
) {
    let mut shown: Vec<&UseCaseScore> = c.detected().collect();
    if near {
        let mut rest: Vec<_> = c
            .scores
            .iter()
            .filter(|s| !s.detected() && !s.evidence.is_empty())
            .collect();
        rest.sort_by(|a, b| b.score.total_cmp(&a.score));
        shown.extend(rest);
    }
    if c.ranking.is_empty() {
        let closest = c.closest_miss().map_or_else(String::new, |s| {
            format!(
                " (closest: {} with {} of {})",
                s.use_case,
                fmt_score(s.score),
                fmt_score(s.threshold)
            )
        });
        let _ = writeln!(out, "detected: nothing{closest}");
        if !near {
            out.push('\n');
            return;
        }
    } else {
        let _ = writeln!(out, "detected:");
    }
    let id_width = shown
        .iter()
        .flat_map(|s| s.evidence.iter())
        .map(|e| text_columns(&policy.rule(e.rule).id))
        .max()
        .unwrap_or(0);
    for s in shown {
        let status = if s.detected() {
            String::new()
        } else {
            p.dim("  below threshold")
        };
        let _ = writeln!(
            out,
            "  {}  {} {}{status}",
            p.bold(s.use_case.as_str()),
            fmt_score(s.score),
            p.dim(&format!("(threshold {})", fmt_score(s.threshold)))
        );
        for e in &s.evidence {
            let id = &policy.rule(e.rule).id;
            let pad = id_width.saturating_sub(text_columns(id));
            let _ = writeln!(
                out,
                "    {:>5}  {}{:pad$}  {:?}",
                format!("{:+}", Weight(e.weight)),
                p.cyan(id),
                "",
                e.span.slice(text)
            );
        }
    }
    out.push('\n');
}

/// Formats a weight with its sign, as `fmt_score` does a score.
struct Weight(f64);

impl std::fmt::Display for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = fmt_score(self.0);
        if f.sign_plus() && !s.starts_with('-') {
            f.write_str("+")?;
        }
        f.write_str(&s)
    }
}

/// The message, line by line, with carets under every piece of evidence.
fn message(out: &mut String, p: Painter, c: &Classification, extra: &[Span], text: &str) {
    let mut spans: Vec<Span> = c
        .scores
        .iter()
        .flat_map(|s| s.evidence.iter().map(|e| e.span))
        .chain(extra.iter().copied())
        .collect();
    spans.sort_unstable();
    spans.dedup();
    let _ = writeln!(out, "message:");
    if text.is_empty() {
        let _ = writeln!(out, "  |");
        return;
    }
    let mut line_start = 0usize;
    for raw in text.split_inclusive('\n') {
        let line = raw
            .strip_suffix('\n')
            .map_or(raw, |l| l.strip_suffix('\r').unwrap_or(l));
        let line_end = line_start + line.len();
        let on_line: Vec<Span> = spans
            .iter()
            .filter(|s| (s.start as usize) < line_end && s.end as usize > line_start)
            .map(|s| {
                Span::new(
                    (s.start as usize).max(line_start) - line_start,
                    (s.end as usize).min(line_end) - line_start,
                )
            })
            .collect();
        let _ = writeln!(out, "  | {}", highlight(p, line, &on_line));
        if !on_line.is_empty() {
            // Under each character as many marks as the columns it takes, and a tab under a
            // tab, keep the carets under their characters.
            let mut hit = vec![false; line.len()];
            for s in &on_line {
                let s = s.snap_to_chars(line);
                hit[s.start as usize..s.end as usize].fill(true);
            }
            let mut marks = String::new();
            for (i, c) in line.char_indices() {
                if hit[i] {
                    // A mark a column: none under a combining mark, two under a wide character.
                    let width = if c == '\t' { 1 } else { columns(c) };
                    marks.extend(std::iter::repeat_n('^', width));
                } else {
                    marks.push_str(&pad_under([c]));
                }
            }
            let _ = writeln!(out, "  | {}", p.yellow(marks.trim_end()));
        }
        line_start += raw.len();
    }
}

/// A line with its matched ranges styled (no-op without colour).
fn highlight(p: Painter, line: &str, spans: &[Span]) -> String {
    let mut out = String::new();
    let mut at = 0usize;
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for s in spans {
        let s = s.snap_to_chars(line);
        let (a, b) = (s.start as usize, s.end as usize);
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    for (a, b) in merged {
        if a < at {
            continue;
        }
        out.extend(line[at..a].chars().map(shown));
        out.push_str(&p.hit(&line[a..b].chars().map(shown).collect::<String>()));
        at = b;
    }
    out.extend(line[at..].chars().map(shown));
    out
}
