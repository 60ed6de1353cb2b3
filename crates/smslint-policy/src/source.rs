//! The policy files of one load, and positions in them.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::diagnostic::{nearest, DiagnosticCode, PolicyDiagnostic};
use crate::locate::{self, refine, Detail, Kind, PROBE_MESSAGE};
use crate::raw::{At, RawPolicy};

/// The syntax of a policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML (`.yaml`, `.yml`).
    Yaml,
    /// JSON (`.json`).
    Json,
}

impl Format {
    /// The format a file name implies; `None` when its extension says nothing.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The format of text with no telling name (stdin): JSON if it starts with `{`.
    pub fn sniff(text: &str) -> Format {
        if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

/// One loaded policy file.
#[derive(Clone, Debug)]
pub struct Source {
    /// The name diagnostics use: the path as given, or `builtin:default`.
    pub name: String,
    /// The file's path, to resolve `extends` relative to it.
    pub path: Option<PathBuf>,
    /// Its text: borrowed for an embedded policy, which a start would otherwise copy whole.
    pub text: Cow<'static, str>,
    /// Its syntax.
    pub format: Format,
}

impl Source {
    /// Whether this is one of the embedded policies, unchanged.
    pub(crate) fn is_embedded(&self) -> bool {
        self.path.is_none()
            && crate::load::builtin(&self.name).is_some_and(|(text, _)| {
                // The embedded text itself, borrowed, without comparing its megabyte or so.
                (text.as_ptr(), text.len()) == (self.text.as_ptr(), self.text.len())
                    || text == self.text
            })
    }

    /// Parse the file. Syntax and type errors stop at the first, with its exact position.
    pub fn parse(&self, index: usize) -> Result<RawPolicy, Box<PolicyDiagnostic>> {
        locate::reset();
        let (result, position) = locate::with_trust(self.is_embedded(), || self.parse_raw());
        let detail = locate::take_detail();
        match result {
            Ok(mut raw) => {
                raw.assign_positions(index);
                Ok(raw)
            }
            Err(message) => {
                // libyaml says "<problem> at line L column C, while scanning <what> at line L2
                // column C2": the token that is wrong starts at the second position.
                let position = scanning_position(&message)
                    .map(|(line, column)| locate::yaml_position(&self.text, line, column))
                    .or(position);
                let mut message = strip_positions(&message);
                if self.format == Format::Json {
                    // serde_json says where, not in what: its path, as YAML's messages give.
                    let key = detail.as_ref().and_then(|d| d.key.as_deref());
                    if let Some(path) = self.json_error_path(key) {
                        message = format!("{path}: {message}");
                    }
                }
                let (code, detail, help) = classify(&message, detail);
                let mut d = PolicyDiagnostic::error(code, &self.name, message);
                if let Some(help) = help {
                    d = d.with_help(help);
                }
                if let Some((line, column)) = position {
                    let offset = locate::offset_of(&self.text, line, column);
                    if let (Format::Yaml, None) = (self.format, &d.help) {
                        if let Some(help) = locate::tab_help(&self.text, offset, &d.message) {
                            d = d.with_help(help);
                        }
                    }
                    let (line, column) = match &detail {
                        Some(detail) => refine(
                            &self.text,
                            self.format == Format::Json,
                            line,
                            column,
                            detail,
                        ),
                        None => (line, column),
                    };
                    d = d.at(&self.text, line, column);
                }
                Err(Box::new(d))
            }
        }
    }

    /// The path of the value a JSON policy fails at (`use_cases.Marketing.threshold`), by a
    /// second parse that keeps track of it: only once the first has failed, so a policy that
    /// loads pays nothing for it. A value the policy's own checks refuse under `key`, whose
    /// message names it, is placed at the mapping that holds it, as YAML's messages place it
    /// (`use_cases.Marketing: threshold -1 must be ...`). `None` at the top level.
    fn json_error_path(&self, key: Option<&str>) -> Option<String> {
        let mut de = serde_json::Deserializer::from_str(&self.text);
        let result = locate::with_trust(self.is_embedded(), || {
            serde_path_to_error::deserialize::<_, RawPolicy>(&mut de)
        });
        // What the second parse left for the locator is the first's again.
        drop(locate::take_detail());
        let e = result.err()?;
        // A syntax error is in no value (its path would end in `?`).
        if e.inner().classify() != serde_json::error::Category::Data {
            return None;
        }
        let mut path = e.path().to_string();
        // An unknown key is in the path as a value of its own; the message names it.
        let message = e.inner().to_string();
        if let Some(field) = unknown_field(&message).map(|(field, _)| field).or(key) {
            if path == field {
                return None;
            }
            if let Some(up) = path.strip_suffix(&format!(".{field}")).map(str::len) {
                path.truncate(up);
            }
        }
        (path != ".").then_some(path)
    }

    /// Parse, returning the error message and the parser's position (1-based line, column in
    /// characters).
    fn parse_raw(&self) -> (Result<RawPolicy, String>, Option<(usize, usize)>) {
        match self.format {
            Format::Yaml => {
                if let Some((line, column, refusal)) = crate::yaml_guard::check(&self.text) {
                    return (Err(refusal.message()), Some((line, column)));
                }
                match serde_yaml::from_str::<RawPolicy>(&self.text) {
                    Ok(raw) => (Ok(raw), None),
                    Err(e) => {
                        let position = e
                            .location()
                            .map(|l| locate::yaml_position(&self.text, l.line(), l.column()));
                        (Err(e.to_string()), position)
                    }
                }
            }
            Format::Json => {
                let mut de = serde_json::Deserializer::from_str(&self.text);
                let result = <RawPolicy as serde::Deserialize>::deserialize(&mut de)
                    .and_then(|p| de.end().map(|()| p));
                match result {
                    Ok(raw) => (Ok(raw), None),
                    Err(e) => {
                        // serde_json puts the end of a text that ends with a newline at
                        // column 0 of the line after; positions are 1-based.
                        let column = byte_column_to_chars(&self.text, e.line(), e.column()).max(1);
                        (Err(e.to_string()), Some((e.line(), column)))
                    }
                }
            }
        }
    }

    /// The position of the `at.ordinal`-th value of `kind`, found by a probing parse (`None` once
    /// this load has spent its [`locate::MAX_PROBES`]).
    pub fn position(&self, kind: Kind, at: At) -> Option<(usize, usize)> {
        if !locate::take_probe() {
            return None;
        }
        let (result, position) = locate::with_probe(kind, at.ordinal, || self.parse_raw());
        let detail = locate::take_detail();
        match (result, position, detail) {
            (Err(message), Some((line, column)), Some(detail))
                if message.contains(PROBE_MESSAGE) =>
            {
                Some(refine(
                    &self.text,
                    self.format == Format::Json,
                    line,
                    column,
                    &detail,
                ))
            }
            _ => None,
        }
    }

    /// A diagnostic about the `at.ordinal`-th value of `kind` in this file.
    pub fn diagnostic(
        &self,
        code: DiagnosticCode,
        kind: Kind,
        at: At,
        message: String,
    ) -> PolicyDiagnostic {
        let d = PolicyDiagnostic::error(code, &self.name, message);
        match self.position(kind, at) {
            Some((line, column)) => d.at(&self.text, line, column),
            None => d,
        }
    }

    /// The position of `token` written after the key `key` (for values no probe reaches, such as
    /// `remove_keywords` entries), searching from the start of the file.
    pub fn position_after_key(&self, key: &str, token: &str) -> Option<(usize, usize)> {
        let key_at = self.text.find(key)?;
        let detail = Detail {
            token: Some(token.to_owned()),
            ..Detail::default()
        };
        let (line, column) = locate::line_col(&self.text, key_at);
        Some(refine(&self.text, false, line, column, &detail))
    }
}

/// The field a parser message says is unknown, and the message from it on.
fn unknown_field(message: &str) -> Option<(&str, &str)> {
    let rest = message.split("unknown field `").nth(1)?;
    // The name itself may hold a backtick: it ends where the list of expected names starts.
    let field = rest
        .find("`, expected")
        .or_else(|| rest.rfind('`'))
        .map_or(rest, |end| &rest[..end]);
    Some((field, rest))
}

/// Code and, for unknown fields, the detail and a suggestion, from a parser message.
fn classify(
    message: &str,
    detail: Option<Detail>,
) -> (DiagnosticCode, Option<Detail>, Option<String>) {
    let has = |s: &str| message.contains(s);
    if let Some((field, rest)) = unknown_field(message) {
        let expected: Vec<&str> = rest
            .split("expected ")
            .nth(1)
            .map(|e| e.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let help = nearest(field, expected.iter().copied()).map(|n| format!("did you mean `{n}`?"));
        let detail = Detail {
            token: Some(field.to_owned()),
            ..Detail::default()
        };
        return (DiagnosticCode::UnknownField, Some(detail), help);
    }
    // A field written twice (serde's own check, where a key of a map is `OrderedMap`'s): the
    // second is the one to fix, and YAML marks the mapping's start.
    if let Some(field) = message
        .contains("duplicate field `")
        .then(|| locate::duplicate_key(message))
        .flatten()
    {
        let detail = Detail {
            token: Some(field.to_owned()),
            skip: 1,
            ..Detail::default()
        };
        return (DiagnosticCode::DuplicateKey, Some(detail), None);
    }
    let code = if has("unknown use case") {
        DiagnosticCode::UnknownUseCase
    } else if has("invalid regex") {
        DiagnosticCode::InvalidRegex
    } else if has("matches the empty string") {
        DiagnosticCode::EmptyMatch
    } else if has("missing field") {
        DiagnosticCode::MissingField
    } else if has("duplicate key") || has("duplicate entry") {
        DiagnosticCode::DuplicateKey
    } else if has("pattern id") {
        DiagnosticCode::InvalidId
    } else if has("rule id") || has("severity key") {
        DiagnosticCode::InvalidRuleId
    } else if has("weight ") || has("threshold ") {
        DiagnosticCode::InvalidNumber
    } else if has("is empty once normalised") {
        DiagnosticCode::EmptyKeyword
    } else if has("time zone database") {
        DiagnosticCode::UnknownTimeZone
    } else if has("levels deep") || has("YAML aliases") {
        DiagnosticCode::Limit
    } else if has("policy version") {
        DiagnosticCode::Version
    } else {
        DiagnosticCode::Syntax
    };
    let help = detail.as_ref().and_then(|d| d.help.clone());
    (code, detail, help)
}

/// Parsers report " at line L column C" in the text; the diagnostic carries positions as fields.
fn strip_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        // Skip "L column C".
        let skip = after
            .find(|c: char| !(c.is_ascii_digit() || c == ' ' || "column".contains(c)))
            .unwrap_or(after.len());
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

/// The position of the token a libyaml "while scanning" message is about.
fn scanning_position(message: &str) -> Option<(usize, usize)> {
    let context = message.split(", while ").nth(1)?;
    let at = context.split(" at line ").nth(1)?;
    let mut parts = at.split(" column ");
    let line = parts.next()?.trim().parse().ok()?;
    let column = parts
        .next()?
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((line, column))
}

/// `serde_json` counts columns in bytes; diagnostics count characters.
fn byte_column_to_chars(text: &str, line: usize, column: usize) -> usize {
    let Some(src) = text.lines().nth(line.saturating_sub(1)) else {
        return column;
    };
    let byte = column.saturating_sub(1);
    if byte <= src.len() && src.is_char_boundary(byte) {
        src[..byte].chars().count() + 1
    } else {
        column
    }
}
