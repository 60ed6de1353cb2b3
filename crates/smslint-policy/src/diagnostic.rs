//! Problems found in a policy file, with where they are and how to fix them.

use std::fmt;

use serde::Serialize;
use smslint_core::Severity;
use unicode_width::UnicodeWidthChar;

macro_rules! diagnostic_codes {
    ($( $variant:ident => $code:literal, $desc:literal; )*) => {
        /// The kind of a policy problem. The strings are a public contract.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum DiagnosticCode {
            $( #[doc = $desc] $variant, )*
        }

        impl DiagnosticCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [DiagnosticCode] = &[ $( DiagnosticCode::$variant, )* ];

            /// The code as printed, for example `policy.unknown_field`.
            pub fn as_str(self) -> &'static str {
                match self { $( DiagnosticCode::$variant => $code, )* }
            }

            /// One line on what it means.
            pub fn description(self) -> &'static str {
                match self { $( DiagnosticCode::$variant => $desc, )* }
            }
        }
    };
}

diagnostic_codes! {
    Unreadable => "policy.unreadable", "The policy file cannot be read.";
    Syntax => "policy.syntax", "The file is not valid YAML or JSON, or a value has the wrong type.";
    Version => "policy.version", "`version` is not 1.";
    UnknownField => "policy.unknown_field", "A key the policy format does not have.";
    MissingField => "policy.missing_field", "A required key is missing.";
    DuplicateKey => "policy.duplicate_key", "A mapping has the same key twice.";
    UnknownUseCase => "policy.unknown_use_case", "A use-case name RingCentral does not define.";
    InvalidNumber => "policy.invalid_number", "A weight that is not finite, or a threshold that is not greater than 0.";
    EmptyKeyword => "policy.empty_keyword", "A keyword that is empty once normalised.";
    InvalidId => "policy.invalid_id", "A pattern id that is not lowercase letters, digits, `.`, `_` and `-`.";
    InvalidRegex => "policy.invalid_regex", "A pattern that is not a valid regular expression.";
    EmptyMatch => "policy.empty_match", "A pattern that matches the empty string, so it would fire on every message.";
    ExtendsUnresolved => "policy.extends_unresolved", "`extends` names a policy that cannot be read.";
    ExtendsCycle => "policy.extends_cycle", "Policies extend each other in a cycle.";
    MissingThreshold => "policy.missing_threshold", "A use case without a threshold, given or inherited.";
    UnclassifiableUseCase => "policy.unclassifiable_use_case", "`Mixed` or `Unknown` under `use_cases`: they are registration labels, not content.";
    DuplicateId => "policy.duplicate_id", "Two patterns with the same id.";
    DuplicateKeyword => "policy.duplicate_keyword", "A use case lists the same keyword twice (once normalised); it would count twice.";
    UnreachableThreshold => "policy.unreachable_threshold", "A threshold higher than all the use case's positive weights together.";
    RemoveUnmatched => "policy.remove_unmatched", "A `remove_keywords`, `remove_patterns` or `remove_content_rules` entry that removes nothing from the extended policy.";
    EmptyCovers => "policy.empty_covers", "A `decision.covers` label that covers nothing.";
    RestrictedUnclassified => "policy.restricted_unclassified", "A restricted use case the policy does not classify, so the restriction never applies.";
    UnicodeClass => "policy.unicode_class", "A pattern that opts into Unicode with `(?u)`: a Unicode `\\b` sends every text with other characters than ASCII to slower matching (1.5 times the time of a check of the benchmark corpus), and Unicode classes make the pattern set's states larger.";
    WideWindow => "policy.wide_window", "A pattern that repeats a class a counted 40 times or more (`[^\\n]{0,80}`), which makes every message's pattern search slower.";
    Limit => "policy.limit", "The policy exceeds a limit (rules, keyword bytes, compiled regex size, nesting) or uses a YAML alias.";
    InvalidRuleId => "policy.invalid_rule_id", "A content-rule id that is not lowercase dotted (`marketing.opt_out_missing`).";
    RuleWithoutTrigger => "policy.rule_without_trigger", "A content rule with nothing that makes it fire (`match`, `require`, or `when.segments_over`).";
    UnmatchedSeverity => "policy.unmatched_severity", "A `severities` key that names no rule and prefixes none.";
    RuleEvidence => "policy.rule_evidence", "A use case's `content_rules` entry that names no content rule, names one twice, or names one that cannot count: without `match`, or applying only `when.detected` (which its points would decide).";
    UnknownTimeZone => "policy.unknown_time_zone", "A `decision.time_zone` the IANA time zone database does not know.";
}

impl fmt::Display for DiagnosticCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DiagnosticCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem in a policy file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyDiagnostic {
    /// `error` stops the policy from loading; `warning` does not.
    pub severity: Severity,
    /// The kind of problem.
    pub code: DiagnosticCode,
    /// The file, as the user named it (`builtin:default` for the embedded policy).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column in characters, when known.
    pub column: Option<usize>,
    /// The entry, for example `use_cases.Marketing.keywords[3]`, when known.
    pub path: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
    /// A suggested fix, for example the nearest valid name.
    pub help: Option<String>,
    /// The source line the problem is on, for the caret display.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl PolicyDiagnostic {
    /// An error without a position yet.
    pub fn error(code: DiagnosticCode, file: &str, message: impl Into<String>) -> Self {
        PolicyDiagnostic {
            severity: Severity::Error,
            code,
            file: file.to_owned(),
            line: None,
            column: None,
            path: None,
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    /// The same diagnostic at `line`:`column` of `source`.
    #[must_use]
    pub fn at(mut self, source: &str, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self.source_line = source
            .lines()
            .nth(line.saturating_sub(1))
            .map(str::to_owned);
        self
    }

    /// The same diagnostic about entry `path`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The same diagnostic with a suggested fix.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The same diagnostic as a warning.
    #[must_use]
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }
}

/// Renders like rustc: the message, `--> file:line:col`, the source line and a caret.
impl fmt::Display for PolicyDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        let gutter = self.line.map_or(1, |l| l.to_string().len());
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                writeln!(f, "{:gutter$}--> {}:{line}:{column}", "", self.file)?;
            }
            _ => writeln!(f, "{:gutter$}--> {}", "", self.file)?,
        }
        if let (Some(src), Some(line), Some(column)) = (&self.source_line, self.line, self.column) {
            writeln!(f, "{:gutter$} |", "")?;
            let (src, column) = excerpt(src, column);
            writeln!(f, "{line} | {src}")?;
            // Columns are in characters; pad with the same characters' widths as the line,
            // keeping tabs, so the caret lines up under the offending token.
            let pad = pad_under(src.chars().take(column.saturating_sub(1)));
            writeln!(f, "{:gutter$} | {pad}^", "")?;
        }
        if let Some(path) = &self.path {
            writeln!(f, "{:gutter$} = note: in {path}", "")?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{:gutter$} = help: {help}", "")?;
        }
        Ok(())
    }
}

/// `c` as a one-line excerpt with a caret under it shows it: a control character other than tab
/// as its Unicode picture (`\r` as `␍`; a C1 control, which has none, as `�`), and a
/// bidirectional embedding, override or isolate as `�`, each taking one column. Printed as it
/// is, a control would move the terminal's cursor, and the caret would point elsewhere; a
/// bidirectional control would reorder what follows it on the line, so that a reviewer reads
/// text other than the text checked (as Unicode's "Trojan Source" warns).
pub fn shown(c: char) -> char {
    match c {
        '\0'..='\x08' | '\x0a'..='\x1f' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\x7f' => '\u{2421}',
        // C1 controls (`\u{9b}` starts an escape sequence in some terminals) have no pictures,
        // nor have LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI and PDI. The direction marks (LRM,
        // RLM, ALM) move no letters, only neutral characters beside them, and Arabic and
        // Hebrew text uses them: as they are.
        '\u{80}'..='\u{9f}' => '\u{fffd}',
        c if is_bidi_control(c) => '\u{fffd}',
        _ => c,
    }
}

/// Whether `c` is an embedding, override or isolate (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
/// PDI): a character that shows the text after it in another order than it is stored.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text`, a value shown on one line, with its control characters as pictures, a tab too
/// (`␉`): a value read from a file or a snapshot, printed as it is, could move the cursor,
/// recolour the terminal or fake a line of output.
pub fn shown_text(text: &str) -> std::borrow::Cow<'_, str> {
    let picture = |c: char| if c == '\t' { '\u{2409}' } else { shown(c) };
    if text.chars().all(|c| picture(c) == c) {
        text.into()
    } else {
        text.chars().map(picture).collect::<String>().into()
    }
}

/// Columns `c` takes in a terminal once [`shown`]: two for a wide character (`限`, `🎉`), none
/// for a combining mark or another character of no width, one otherwise.
pub fn columns(c: char) -> usize {
    UnicodeWidthChar::width(shown(c)).unwrap_or(1)
}

/// Columns `text` takes in a terminal: the sum of its characters' [`columns`], for aligning
/// tables whose cells may hold wide characters.
pub fn text_columns(text: &str) -> usize {
    text.chars().map(columns).sum()
}

/// What goes under `before`, the characters of a line ahead of a caret, so that the caret
/// lands under the next one as a terminal shows them: a tab under a tab, and under any other
/// character as many spaces as it takes [`columns`].
pub fn pad_under(before: impl IntoIterator<Item = char>) -> String {
    let mut pad = String::new();
    for c in before {
        if c == '\t' {
            pad.push('\t');
        } else {
            pad.extend(std::iter::repeat_n(' ', columns(c)));
        }
    }
    pad
}

/// Carets under `chars`: one a column they take (a tab as one), and at least one.
pub fn carets(chars: impl IntoIterator<Item = char>) -> String {
    let n: usize = chars
        .into_iter()
        .map(|c| if c == '\t' { 1 } else { columns(c) })
        .sum();
    "^".repeat(n.max(1))
}

/// Characters of a source line shown on each side of the caret.
const EXCERPT_HALF: usize = 60;

/// The part of a long source line around `column` (1-based, in characters), elided with `…`,
/// and the column within it; a short line is returned whole. Control characters are [`shown`]
/// as pictures.
fn excerpt(src: &str, column: usize) -> (std::borrow::Cow<'_, str>, usize) {
    let len = src.chars().count();
    // A column past the line's end (the end of the file, a position a parser counted
    // differently) is shown just after it.
    let column = column.clamp(1, len + 1);
    if len <= 2 * EXCERPT_HALF {
        if src.chars().all(|c| shown(c) == c) {
            return (src.into(), column);
        }
        return (src.chars().map(shown).collect::<String>().into(), column);
    }
    let first = (column - 1).saturating_sub(EXCERPT_HALF);
    let last = (first + 2 * EXCERPT_HALF).min(len);
    let mut out = String::new();
    let mut caret = column - first;
    if first > 0 {
        out.push('…');
        caret += 1;
    }
    out.extend(src.chars().skip(first).take(last - first).map(shown));
    if last < len {
        out.push('…');
    }
    (out.into(), caret)
}

/// A policy that cannot be used, with every problem found.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", render(.diagnostics))]
pub struct PolicyError {
    /// The problems; at least one is an error.
    pub diagnostics: Vec<PolicyDiagnostic>,
}

fn render(diagnostics: &[PolicyDiagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    out.trim_end().to_owned()
}

/// The nearest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let names = ["Marketing", "CustomerCare", "FraudAlert"];
        assert_eq!(nearest("Marketting", names), Some("Marketing"));
        assert_eq!(nearest("customercare", names), Some("CustomerCare"));
        assert_eq!(nearest("Weather", names), None);
    }

    #[test]
    fn long_lines_are_shown_around_the_caret() {
        let line = format!("name: {}X{}", "a".repeat(500), "b".repeat(500));
        let d = PolicyDiagnostic::error(DiagnosticCode::Syntax, "p.yaml", "bad").at(&line, 1, 507);
        let text = d.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[3].starts_with("1 | …a") && lines[3].ends_with("b…"),
            "{text}"
        );
        let source_caret = lines[3].chars().position(|c| c == 'X');
        assert_eq!(
            source_caret,
            lines[4].chars().position(|c| c == '^'),
            "{text}"
        );
        assert!(lines[3].chars().count() < 2 * EXCERPT_HALF + 10);
        // A caret near the start keeps the line's beginning.
        let d = PolicyDiagnostic::error(DiagnosticCode::Syntax, "p.yaml", "bad").at(&line, 1, 3);
        assert!(d.to_string().contains("1 | name: aaa"));
    }

    #[test]
    fn a_column_past_the_line_puts_the_caret_after_it() {
        // Long and short lines; the policy fuzzer found a long one that panicked here.
        for len in [20, 300] {
            let line = "a".repeat(len);
            for column in [len + 1, len + 2, len + 500, 0] {
                let d = PolicyDiagnostic::error(DiagnosticCode::Syntax, "p.yaml", "bad")
                    .at(&line, 1, column);
                let text = d.to_string();
                let lines: Vec<&str> = text.lines().collect();
                let caret = lines[4].chars().position(|c| c == '^');
                let want = if column == 0 {
                    lines[3].find('a')
                } else {
                    Some(lines[3].chars().count())
                };
                assert_eq!(caret, want, "{len} {column}:\n{text}");
            }
        }
    }

    #[test]
    fn control_characters_are_shown_as_pictures_and_the_caret_stays_under_its_token() {
        for pad in [0, 200] {
            let line = format!("{}a: 1\r\x1b b: 2\tc: 3", "x".repeat(pad));
            let column = line.chars().position(|c| c == 'c').map_or(0, |i| i + 1);
            let d = PolicyDiagnostic::error(DiagnosticCode::Syntax, "p.yaml", "bad")
                .at(&line, 1, column);
            let text = d.to_string();
            assert!(text.contains("a: 1\u{240d}\u{241b} b: 2\tc: 3"), "{text}");
            assert!(!text.contains('\r') && !text.contains('\x1b'), "{text}");
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(
                lines[3].chars().position(|c| c == 'c'),
                lines[4].chars().position(|c| c == '^'),
                "{text}"
            );
        }
    }

    #[test]
    fn bidirectional_controls_are_shown_and_keep_the_caret_under_its_token() {
        // An override that would show `refund` read backwards, and an isolate.
        let text = "ok \u{202e}dnufer\u{202c} \u{2067}x\u{2069} \u{200f}!";
        assert_eq!(
            shown_text(text),
            "ok \u{fffd}dnufer\u{fffd} \u{fffd}x\u{fffd} \u{200f}!"
        );
        for c in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}'] {
            assert_eq!((shown(c), columns(c)), ('\u{fffd}', 1));
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert_eq!((shown(c), columns(c)), ('\u{fffd}', 1));
        }
        let line = "text: \"\u{202e}x\u{202c}\", weight: y";
        let column = line.chars().position(|c| c == 'y').map_or(0, |i| i + 1);
        let d =
            PolicyDiagnostic::error(DiagnosticCode::Syntax, "p.yaml", "bad").at(line, 1, column);
        let text = d.to_string();
        assert!(!text.contains('\u{202e}'), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[3].chars().position(|c| c == 'y'),
            lines[4].chars().position(|c| c == '^'),
            "{text}"
        );
    }

    #[test]
    fn the_caret_stays_under_its_token_after_wide_characters_and_combining_marks() {
        assert_eq!(pad_under("a限🎉\te\u{301}".chars()), "     \t ");
        assert_eq!(carets("限x".chars()), "^^^");
        assert_eq!(text_columns("kw:限时 e\u{301}"), 9);
        assert_eq!(
            shown_text("a\x1b[2J\tb\r\n"),
            "a\u{241b}[2J\u{2409}b\u{240d}\u{240a}"
        );
        assert!(matches!(
            shown_text("限时 ok"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(carets("\u{301}".chars()), "^");
        let line = "name: \"限时🎉 e\u{301}\", weight: x";
        let column = line.chars().position(|c| c == 'x').map_or(0, |i| i + 1);
        let d =
            PolicyDiagnostic::error(DiagnosticCode::Syntax, "p.yaml", "bad").at(line, 1, column);
        let text = d.to_string();
        let lines: Vec<&str> = text.lines().collect();
        // Three columns wider than its characters, less one for the combining mark.
        assert_eq!(
            lines[4],
            format!("  | {}^", " ".repeat(column - 1 + 3 - 1)),
            "{text}"
        );
    }

    #[test]
    fn renders_with_a_caret() {
        let src = "version: 1\nuse_cases:\n  Marketting:\n";
        let d =
            PolicyDiagnostic::error(DiagnosticCode::UnknownUseCase, "p.yaml", "unknown use case")
                .at(src, 3, 3)
                .with_help("did you mean `Marketing`?");
        let text = d.to_string();
        assert!(text.contains("--> p.yaml:3:3"), "{text}");
        assert!(text.contains("3 |   Marketting:\n  |   ^"), "{text}");
    }
}
