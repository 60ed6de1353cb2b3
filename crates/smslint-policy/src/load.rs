//! Reading a policy: bytes → [`RawPolicy`] → validation → compiled [`Policy`].

use std::path::Path;

use smslint_core::{Policy, PolicySpec};

use crate::diagnostic::{PolicyDiagnostic, PolicyError};
use crate::raw::RawPolicy;
use crate::validate::{to_spec, validate};

/// The name of the embedded default policy, accepted wherever a policy path is.
pub const BUILTIN_DEFAULT: &str = "builtin:default";

/// The embedded default policy's YAML source.
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../../policies/default.yaml");

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
    pub fn from_path(path: &Path) -> Option<Format> {
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

/// A policy ready for use, with what it was built from.
#[derive(Clone, Debug)]
pub struct LoadedPolicy {
    /// The compiled engine.
    pub policy: Policy,
    /// The policy as written (examples, descriptions).
    pub raw: RawPolicy,
    /// Problems that do not stop the policy from loading.
    pub warnings: Vec<PolicyDiagnostic>,
    /// Where it came from, as the user named it.
    pub name: String,
}

/// Load the embedded default policy.
pub fn load_default() -> Result<LoadedPolicy, PolicyError> {
    load_str(DEFAULT_POLICY_YAML, BUILTIN_DEFAULT, Format::Yaml)
}

/// Load a policy file, or the embedded default when `path` is `builtin:default`.
pub fn load_path(path: &Path) -> Result<LoadedPolicy, PolicyError> {
    let name = path.display().to_string();
    if name == BUILTIN_DEFAULT {
        return load_default();
    }
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
        diagnostics: vec![PolicyDiagnostic::error(
            "policy.unreadable",
            &name,
            format!("cannot read the policy file: {e}"),
        )],
    })?;
    let format = Format::from_path(path).unwrap_or_else(|| Format::sniff(&text));
    load_str(&text, &name, format)
}

/// Load a policy from text; `name` labels it in diagnostics.
pub fn load_str(text: &str, name: &str, format: Format) -> Result<LoadedPolicy, PolicyError> {
    let raw = parse(text, name, format)?;
    let diagnostics = validate(&raw, name);
    if diagnostics
        .iter()
        .any(|d| d.severity == smslint_core::Severity::Error)
    {
        return Err(PolicyError { diagnostics });
    }
    let spec: PolicySpec = to_spec(&raw, name);
    let policy = Policy::compile(spec).map_err(|e| PolicyError {
        diagnostics: vec![PolicyDiagnostic::error(
            "policy.compile",
            name,
            e.to_string(),
        )],
    })?;
    Ok(LoadedPolicy {
        policy,
        raw,
        warnings: diagnostics,
        name: name.to_owned(),
    })
}

/// Parse without validating; syntax and type errors stop at the first, with its position.
pub fn parse(text: &str, name: &str, format: Format) -> Result<RawPolicy, PolicyError> {
    let one = |d: PolicyDiagnostic| PolicyError {
        diagnostics: vec![d],
    };
    match format {
        Format::Yaml => serde_yaml::from_str::<RawPolicy>(text).map_err(|e| {
            let message = strip_position(&e.to_string());
            let d = PolicyDiagnostic::error(code_for(&message), name, message);
            one(match e.location() {
                // libyaml counts columns in characters already.
                Some(loc) => d.at(text, loc.line(), loc.column()),
                None => d,
            })
        }),
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let result = <RawPolicy as serde::Deserialize>::deserialize(&mut de)
                .and_then(|p| de.end().map(|()| p));
            result.map_err(|e| {
                let message = strip_position(&e.to_string());
                one(
                    PolicyDiagnostic::error(code_for(&message), name, message).at(
                        text,
                        e.line(),
                        byte_column_to_chars(text, e.line(), e.column()),
                    ),
                )
            })
        }
    }
}

/// A stable code from the parser's message.
fn code_for(message: &str) -> &'static str {
    if message.contains("unknown field") {
        "policy.unknown_field"
    } else if message.contains("unknown use case") {
        "policy.unknown_use_case"
    } else if message.contains("invalid regex") {
        "policy.invalid_regex"
    } else if message.contains("matches the empty string") {
        "policy.empty_match"
    } else if message.contains("missing field") {
        "policy.missing_field"
    } else if message.contains("duplicate key") || message.contains("duplicate entry") {
        "policy.duplicate_key"
    } else if message.contains("weight") || message.contains("threshold") {
        "policy.invalid_number"
    } else if message.contains("keyword") {
        "policy.empty_keyword"
    } else if message.contains("version") {
        "policy.version"
    } else {
        "policy.syntax"
    }
}

/// Parsers report " at line L column C" in the text; the diagnostic carries those as fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::run_examples;

    #[test]
    fn the_default_policy_loads_without_warnings() {
        let loaded = load_default().unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.policy.use_cases().len(), 13);
    }

    #[test]
    fn every_default_example_holds() {
        let loaded = load_default().unwrap();
        let report = run_examples(&loaded);
        let msgs: Vec<String> = report
            .failures
            .iter()
            .map(|f| {
                format!(
                    "{} {}: {:?} scored {} (threshold {})",
                    f.use_case,
                    if f.expected_match {
                        "match"
                    } else {
                        "no_match"
                    },
                    f.text,
                    f.score,
                    f.threshold
                )
            })
            .collect();
        assert!(msgs.is_empty(), "{}", msgs.join("\n"));
        for (name, uc) in &loaded.raw.use_cases.0 {
            assert!(
                uc.examples.matches.len() >= 5,
                "{name}: fewer than 5 match examples"
            );
            assert!(
                uc.examples.no_match.len() >= 3,
                "{name}: fewer than 3 no_match examples"
            );
        }
        assert!(report.total >= 13 * 8);
    }

    fn parse_err(text: &str, format: Format) -> PolicyDiagnostic {
        match load_str(text, "p", format) {
            Ok(_) => panic!("loaded"),
            Err(mut e) => e.diagnostics.remove(0),
        }
    }

    #[test]
    fn errors_carry_line_column_and_code() {
        let yaml = "version: 1\nuse_cases:\n  Marketting:\n    threshold: 3\n";
        let d = parse_err(yaml, Format::Yaml);
        assert_eq!(d.code, "policy.unknown_use_case");
        assert_eq!(d.line, Some(3), "{d}");
        assert!(d.message.contains("did you mean `Marketing`"), "{d}");

        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 3\n    keywrds: []\n";
        let d = parse_err(yaml, Format::Yaml);
        assert_eq!(d.code, "policy.unknown_field");
        assert_eq!(d.line, Some(5), "{d}");

        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 3\n    patterns:\n      - { id: x, regex: 'a(b', weight: 3 }\n";
        let d = parse_err(yaml, Format::Yaml);
        assert_eq!(d.code, "policy.invalid_regex");
        assert_eq!(d.line, Some(6), "{d}");

        let json = "{\"version\": 1,\n \"use_cases\": {\"Marketing\": {\"threshold\": 0}}}";
        let d = parse_err(json, Format::Json);
        assert_eq!(d.code, "policy.invalid_number");
        assert_eq!(d.line, Some(2), "{d}");
    }

    #[test]
    fn semantic_problems_are_all_reported() {
        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 9\n    keywords:\n      - { phrase: sale, weight: 2 }\n    patterns:\n      - { id: a, regex: 'x+', weight: 1 }\n  Mixed:\n    threshold: 1\n    patterns:\n      - { id: a, regex: 'y+', weight: 1 }\n";
        let err = load_str(yaml, "p", Format::Yaml).unwrap_err();
        let codes: Vec<&str> = err.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "policy.unreachable_threshold",
                "policy.unclassifiable_use_case",
                "policy.duplicate_id"
            ]
        );
    }
}
