//! Reading a policy: sources → parse → `extends` → validate → compile.

use std::borrow::Cow;
use std::path::Path;

use smslint_core::{CompileError, Policy, Severity};

use crate::diagnostic::{DiagnosticCode, PolicyDiagnostic, PolicyError};
use crate::extends::{merge, read_chain, read_source};
use crate::locate::Kind;
use crate::raw::RawPolicy;
use crate::source::{Format, Source};
use crate::validate::{to_spec, validate_file, validate_merged};

/// The name of the embedded default policy, accepted wherever a policy path is.
pub const BUILTIN_DEFAULT: &str = "builtin:default";

/// The embedded default policy's source (JSON): the keyword weights learned from the labelled
/// corpus by `smslint policy learn`, extending [`BUILTIN_BASE`].
pub const DEFAULT_POLICY_JSON: &str = include_str!("../../../policies/default.json");

/// The name of the embedded hand-written policy the default extends.
pub const BUILTIN_BASE: &str = "builtin:base";

/// The embedded hand-written policy's YAML source: use cases, keywords, patterns, content
/// rules and decision settings.
pub const BASE_POLICY_YAML: &str = include_str!("../../../policies/base.yaml");

/// [`BASE_POLICY_YAML`] as JSON, converted when the crate is built: what `builtin:base` loads,
/// since parsing the YAML took a quarter of every start.
pub const BASE_POLICY_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/base.json"));

/// The text and format of an embedded policy, by its `builtin:` name.
pub fn builtin(name: &str) -> Option<(&'static str, Format)> {
    match name {
        BUILTIN_DEFAULT => Some((DEFAULT_POLICY_JSON, Format::Json)),
        BUILTIN_BASE => Some((BASE_POLICY_JSON, Format::Json)),
        _ => None,
    }
}

/// A policy ready for use, with what it was built from.
#[derive(Clone, Debug)]
pub struct LoadedPolicy {
    /// The compiled engine.
    pub policy: Policy,
    /// The policy after `extends`, as data (examples, descriptions, `policy explain`).
    pub raw: RawPolicy,
    /// Problems that do not stop the policy from loading.
    pub warnings: Vec<PolicyDiagnostic>,
    /// Where it came from, as the user named it.
    pub name: String,
    /// Every file read: the named policy first, then what it extends.
    pub sources: Vec<Source>,
}

/// Load the embedded default policy.
pub fn load_default() -> Result<LoadedPolicy, PolicyError> {
    load_source(Source {
        name: BUILTIN_DEFAULT.to_owned(),
        path: None,
        text: Cow::Borrowed(DEFAULT_POLICY_JSON),
        format: Format::Json,
    })
}

/// Load a policy file, or an embedded policy when `path` is `builtin:default` or `builtin:base`.
pub fn load_path(path: &Path) -> Result<LoadedPolicy, PolicyError> {
    let name = path.display().to_string();
    let source = read_source(&name, Some(path)).map_err(|e| PolicyError {
        diagnostics: vec![PolicyDiagnostic::error(
            DiagnosticCode::Unreadable,
            &name,
            format!("cannot read the policy file: {e}"),
        )],
    })?;
    load_source(source)
}

/// Load a policy from text; `name` labels it in diagnostics. A relative `extends` is resolved
/// from the current folder.
pub fn load_str(text: &str, name: &str, format: Format) -> Result<LoadedPolicy, PolicyError> {
    let text = crate::extends::without_byte_order_mark(text).unwrap_or(text);
    load_source(Source {
        name: name.to_owned(),
        path: None,
        text: Cow::Owned(text.to_owned()),
        format,
    })
}

/// Load a source and what it extends.
pub fn load_source(source: Source) -> Result<LoadedPolicy, PolicyError> {
    crate::locate::reset_probe_budget();
    let chain = read_chain(source)?;
    // The embedded policies pass these checks (a test holds them to it): skipping them saves
    // about a tenth of every start.
    let mut diagnostics: Vec<PolicyDiagnostic> = chain
        .policies
        .iter()
        .zip(&chain.sources)
        .filter(|(_, source)| !source.is_embedded())
        .flat_map(|(raw, source)| validate_file(raw, source))
        .collect();
    let crate::extends::Chain { sources, policies } = chain;
    let (merged, merge_problems) = merge(policies, &sources);
    diagnostics.extend(merge_problems);
    diagnostics.extend(validate_merged(&merged, &sources));
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(PolicyError { diagnostics });
    }
    let name = sources[0].name.clone();
    let mut policy = Policy::compile(to_spec(&merged, &name)).map_err(|e| PolicyError {
        diagnostics: vec![compile_diagnostic(&e, &merged, &sources)],
    })?;
    apply_severities(&mut policy, &merged);
    Ok(LoadedPolicy {
        policy,
        raw: merged,
        warnings: diagnostics,
        name,
        sources,
    })
}

/// Apply the policy's `severities`, broadest selector first so the longest wins.
pub fn apply_severities(policy: &mut Policy, raw: &RawPolicy) {
    let mut entries: Vec<_> = raw.severities.0.iter().collect();
    entries.sort_by_key(|(k, _)| if k.0 == "*" { 0 } else { k.0.len() + 1 });
    for (key, level) in entries {
        policy.override_severity(&key.0, level.severity());
    }
}

/// A compile error, placed at the pattern it is about when there is one.
fn compile_diagnostic(
    e: &CompileError,
    merged: &RawPolicy,
    sources: &[Source],
) -> PolicyDiagnostic {
    let code = match e {
        CompileError::Regex { .. } | CompileError::Limit(_) | CompileError::Keywords(_) => {
            DiagnosticCode::Limit
        }
        CompileError::EmptyKeyword { .. } => DiagnosticCode::EmptyKeyword,
        CompileError::RuleEvidence { .. } => DiagnosticCode::RuleEvidence,
        _ => DiagnosticCode::Syntax,
    };
    if let CompileError::Regex { id, .. } = e {
        let found = merged
            .use_cases
            .0
            .iter()
            .flat_map(|(_, uc)| &uc.patterns)
            .find(|p| p.id.0 == *id);
        if let Some(p) = found {
            return sources[p.at.source].diagnostic(code, Kind::PatternId, p.at, e.to_string());
        }
    }
    PolicyDiagnostic::error(code, &sources[0].name, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::run_examples;

    #[test]
    fn a_byte_order_mark_opening_a_policy_is_not_read() {
        // YAML read it as the start of a second document; JSON as a stray character.
        for (text, format) in [
            ("\u{FEFF}version: 1\nextends: builtin:base\n", Format::Yaml),
            (
                "\u{FEFF}{\"version\": 1, \"extends\": \"builtin:base\"}",
                Format::Json,
            ),
        ] {
            let loaded = load_str(text, "marked", format).unwrap_or_else(|e| panic!("{e}"));
            assert!(!loaded.policy.use_cases().is_empty());
        }
        let path = std::env::temp_dir().join(format!("smslint-bom-{}.yaml", std::process::id()));
        std::fs::write(&path, "\u{FEFF}version: 1\nextends: builtin:base\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let loaded = load_path(&path);
        let _ = std::fs::remove_file(&path);
        assert!(loaded.is_ok(), "{:?}", loaded.err().map(|e| e.to_string()));
    }

    #[test]
    fn phrases_compile_as_folded_when_read() {
        // Loading folds each phrase once, as it reads it, and compiling takes that fold: the
        // policy must be the one that folding at compile gives.
        let policy = "version: 1\nextends: builtin:base\nuse_cases:\n  Marketing:\n    keywords:\n\
            \x20     - { phrase: \"ＦＲＥＥ Shipping\", weight: 2 }\n\
            \x20     - { phrase: \"f r e e gift\", weight: 2 }\n\
            \x20     - { phrase: \"Sign-In\", weight: 1 }\n\
            \x20     - { phrase: \"a day\", weight: 1 }\n\
            \x20     - { phrase: \"café  au lait\", weight: 1 }\n";
        for loaded in [
            load_default().unwrap(),
            load_str(policy, "folds.yaml", Format::Yaml).unwrap(),
        ] {
            let mut changed = 0;
            for (_, uc) in &loaded.raw.use_cases.0 {
                for k in &uc.keywords {
                    let folded = smslint_core::normalize::fold(k.phrase.as_str());
                    assert_eq!(k.phrase.folded(), folded, "{:?}", k.phrase);
                    changed += usize::from(folded != k.phrase.as_str());
                }
            }
            assert!(changed > 0, "{}: no phrase folds to another", loaded.name);
            let spec = to_spec(&loaded.raw, &loaded.name);
            let mut unknown = spec.clone();
            for k in unknown.use_cases.iter_mut().flat_map(|uc| &mut uc.keywords) {
                k.folding = smslint_core::Folding::Unknown;
            }
            let kept = Policy::compile(spec).unwrap();
            let folded_at_compile = Policy::compile(unknown).unwrap();
            assert_eq!(kept.rules(), folded_at_compile.rules());
            for text in [
                "FREE shipping on a day pass",
                "f.r.e.e gift! sign in",
                "Café au lait",
            ] {
                let text = smslint_core::NormalizedText::new(text);
                assert_eq!(kept.classify(&text), folded_at_compile.classify(&text));
            }
        }
    }

    #[test]
    fn a_phrase_is_read_from_escapes_and_refused_when_not_a_string() {
        let policy = |phrase: &str| {
            format!(
                "{{\"version\": 1, \"extends\": \"builtin:base\", \"use_cases\": \
                 {{\"Marketing\": {{\"keywords\": [{{\"phrase\": {phrase}, \"weight\": 2}}]}}}}}}"
            )
        };
        // An escaped string is read by way of serde_json's scratch buffer, not borrowed.
        let loaded = load_str(&policy(r#""\u0046REE d\u00e9al""#), "p.json", Format::Json).unwrap();
        let (_, marketing) = (loaded.raw.use_cases.0.iter())
            .find(|(name, _)| name.0 == smslint_core::UseCase::Marketing)
            .unwrap();
        let phrase = &marketing.keywords.last().unwrap().phrase;
        assert_eq!(
            (phrase.as_str(), phrase.folded()),
            ("FREE d\u{e9}al", "free deal")
        );
        let err = load_str(&policy("5"), "p.json", Format::Json).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("expected a string"), "{message}");
        assert!(message.contains("p.json:1:"), "{message}");
    }

    #[test]
    fn a_sequence_where_a_mapping_belongs_is_refused_whatever_its_length() {
        // Three values, as many as a pattern's fields: read as a pattern before.
        let json = r#"{"version": 1, "use_cases": {"Marketing": {"threshold": 2,
            "patterns": [["m.sale", "(?i)\\bsale\\b", 2]]}}}"#;
        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 2\n    patterns:\n\
            \x20     - [m.sale, '(?i)\\bsale\\b', 2]\n";
        let use_case = r#"{"version": 1, "use_cases": {"Marketing": [2, "sales"]}}"#;
        for (text, format, at) in [
            (json, Format::Json, (2, 25)),
            (yaml, Format::Yaml, (6, 9)),
            (use_case, Format::Json, (1, 42)),
        ] {
            let err = load_str(text, "p", format).unwrap_err();
            let d = &err.diagnostics[0];
            // YAML's message names the path; serde_json's places an element at its list.
            assert!(
                d.message
                    .ends_with("invalid type: sequence, expected a mapping"),
                "{err}"
            );
            assert_eq!((d.line, d.column), (Some(at.0), Some(at.1)), "{err}");
        }
    }

    #[test]
    fn a_key_written_twice_is_placed_on_the_second() {
        // A field of a use case or a keyword (serde's check) and a use case (the map's own),
        // in block and flow YAML and in JSON. YAML marks the mapping's start, and JSON the
        // second key's closing quote: both were shown there, and a field as `policy.syntax`.
        let cases = [
            (
                "version: 1\nuse_cases:\n  Marketing:\n    threshold: 2\n    description: threshold\n    threshold: 3\n",
                Format::Yaml,
                (6, 5),
            ),
            (
                "version: 1\nuse_cases:\n  Marketing: {threshold: 2, keywords: [{phrase: threshold, weight: 3}], threshold: 3}\n",
                Format::Yaml,
                (3, 73),
            ),
            (
                "version: 1\nuse_cases:\n  Marketing:\n    threshold: 2\n    keywords: [{phrase: sale, weight: 3, phrase: x}]\n",
                Format::Yaml,
                (5, 42),
            ),
            (
                "version: 1\nuse_cases:\n  Marketing: {threshold: 2}\n  Marketing: {threshold: 3}\n",
                Format::Yaml,
                (4, 3),
            ),
            (
                "{\"version\": 1, \"use_cases\": {\"Marketing\": {\"threshold\": 2,\n  \"threshold\": 3}}}",
                Format::Json,
                (2, 3),
            ),
            (
                "{\"version\": 1, \"use_cases\": {\"Marketing\": {\"threshold\": 2},\n  \"Marketing\": {\"threshold\": 3}}}",
                Format::Json,
                (2, 3),
            ),
        ];
        for (text, format, at) in cases {
            let err = load_str(text, "p", format).unwrap_err();
            let d = &err.diagnostics[0];
            assert_eq!(d.code, DiagnosticCode::DuplicateKey, "{err}");
            assert_eq!((d.line, d.column), (Some(at.0), Some(at.1)), "{err}");
        }
    }

    #[test]
    fn a_json_error_names_the_path_of_its_value_as_yaml_does() {
        let uc =
            |body: &str| format!("{{\"version\": 1, \"use_cases\": {{\"Marketing\": {body}}}}}");
        let cases = [
            (
                uc(
                    r#"{"threshold": 2, "keywords": [{"phrase": "x", "weight": 1}, {"phrase": "y", "weight": "z"}]}"#,
                ),
                "use_cases.Marketing.keywords[1].weight: invalid type: string \"z\", expected f64",
            ),
            (
                uc(r#"{"threshold": 2, "treshold": 3}"#),
                "use_cases.Marketing: unknown field `treshold`, expected one of",
            ),
            // A syntax error is in no value.
            (uc(r#"{"threshold": 2,}"#), "trailing comma"),
        ];
        for (text, want) in cases {
            let err = load_str(&text, "p.json", Format::Json).unwrap_err();
            assert!(err.diagnostics[0].message.starts_with(want), "{err}");
        }
        // An unknown key is placed on its opening quote (serde_json marks its closing one).
        let text = uc(r#"{"threshold": 2, "treshold": 3}"#);
        let err = load_str(&text, "p.json", Format::Json).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!((d.line, d.column), (Some(1), Some(60)), "{err}");
    }

    #[test]
    fn a_mistake_reads_the_same_in_json_and_in_yaml() {
        // A value the policy's own checks refuse names its key in the message, and is placed
        // at the mapping that holds it; a value of the wrong type, at itself; an unknown key,
        // at its mapping (none at the top).
        let uc = |body: serde_json::Value| serde_json::json!({"version": 1, "use_cases": {"Marketing": body}});
        let pattern = |id: &str, regex: &str| {
            uc(
                serde_json::json!({"threshold": 3, "patterns": [{"id": id, "regex": regex, "weight": 1}]}),
            )
        };
        let cases = [
            (
                serde_json::json!({"version": 2, "use_cases": {}}),
                "unsupported policy version 2; this smslint reads version 1",
            ),
            (
                serde_json::json!({"version": 1, "extends": "", "use_cases": {}}),
                "extends is empty;",
            ),
            (
                serde_json::json!({"version": 1, "use_cases": {}, "nmae": "x"}),
                "unknown field `nmae`",
            ),
            (
                uc(serde_json::json!({"threshold": -1})),
                "use_cases.Marketing: threshold -1 must be",
            ),
            (
                uc(serde_json::json!({"threshold": "high"})),
                "use_cases.Marketing.threshold: invalid type: string \"high\"",
            ),
            (
                uc(serde_json::json!({"threshold": 3, "keywords": [{"phrase": " ", "weight": 1}]})),
                "use_cases.Marketing.keywords[0]: keyword \" \" is empty once normalised",
            ),
            (
                pattern("A B", "x"),
                "use_cases.Marketing.patterns[0]: pattern id \"A B\" must be",
            ),
            (
                pattern("a.b", "("),
                "use_cases.Marketing.patterns[0]: invalid regex:",
            ),
            (
                pattern("a.b", "x*"),
                "use_cases.Marketing.patterns[0]: regex \"x*\" matches the empty string",
            ),
        ];
        for (value, want) in cases {
            let json = serde_json::to_string(&value).unwrap();
            let yaml = serde_yaml::to_string(&value).unwrap();
            let json = load_str(&json, "p.json", Format::Json).unwrap_err();
            let yaml = load_str(&yaml, "p.yaml", Format::Yaml).unwrap_err();
            let (j, y) = (&json.diagnostics[0], &yaml.diagnostics[0]);
            assert!(j.message.starts_with(want), "{json}");
            assert_eq!((&j.message, j.code), (&y.message, y.code), "{json}{yaml}");
        }
    }

    #[test]
    fn a_tab_that_indents_yaml_says_so() {
        let err = load_str(
            "version: 1\nuse_cases:\n\tMarketing:\n    threshold: 2\n",
            "p.yaml",
            Format::Yaml,
        )
        .unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!((d.line, d.column), (Some(3), Some(1)), "{err}");
        assert_eq!(
            d.help.as_deref(),
            Some("YAML indents with spaces; a tab cannot start a token"),
            "{err}"
        );
        // Elsewhere, no such help.
        let err = load_str("version: 1\nuse_cases: {\n", "p.yaml", Format::Yaml).unwrap_err();
        assert_eq!(err.diagnostics[0].help, None, "{err}");
    }

    #[test]
    fn the_default_policy_loads_without_warnings() {
        let loaded = load_default().unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.policy.use_cases().len(), 13);
        // Loading skips the per-file checks of embedded policies: they must pass them.
        let chain = read_chain(Source {
            name: BUILTIN_DEFAULT.into(),
            path: None,
            text: DEFAULT_POLICY_JSON.into(),
            format: Format::Json,
        })
        .unwrap();
        assert_eq!(chain.sources.len(), 2);
        for (raw, source) in chain.policies.iter().zip(&chain.sources) {
            assert!(source.is_embedded(), "{}", source.name);
            let problems = validate_file(raw, source);
            assert!(problems.is_empty(), "{}: {problems:?}", source.name);
        }
    }

    #[test]
    fn the_embedded_base_is_the_yaml_source() {
        // `builtin:base` loads the JSON made from base.yaml at build time: the same policy.
        // Loaded as a file, base.yaml also gets the checks embedded sources skip (each
        // pattern's syntax at parse time, the per-file checks).
        let yaml = load_str(BASE_POLICY_YAML, "policies/base.yaml", Format::Yaml).unwrap();
        let json = load_path(Path::new(BUILTIN_BASE)).unwrap();
        assert_eq!(
            to_spec(&yaml.raw, BUILTIN_BASE),
            to_spec(&json.raw, BUILTIN_BASE)
        );
        assert!(yaml.warnings.is_empty(), "{:?}", yaml.warnings);
        // Examples come through too (they are not part of the spec).
        let examples = |p: &LoadedPolicy| {
            let rules: Vec<_> = p.raw.rules.iter().map(|r| &r.examples).collect();
            let use_cases: Vec<_> = p.raw.use_cases.0.iter().map(|(_, u)| &u.examples).collect();
            format!("{rules:?} {use_cases:?}")
        };
        assert_eq!(examples(&yaml), examples(&json));
    }

    #[test]
    fn every_default_example_holds() {
        let loaded = load_default().unwrap();
        let report = run_examples(&loaded);
        let msgs: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        assert!(msgs.is_empty(), "{}", msgs.join("\n"));
        for (name, uc) in &loaded.raw.use_cases.0 {
            let ex = uc.examples.clone().unwrap_or_default();
            assert!(ex.matches.len() >= 5, "{name}: fewer than 5 match examples");
            assert!(
                ex.no_match.len() >= 3,
                "{name}: fewer than 3 no_match examples"
            );
        }
        for rule in &loaded.raw.rules {
            let ex = rule.examples.clone().unwrap_or_default();
            assert!(
                ex.matches.len() >= 3,
                "{}: fewer than 3 firing examples",
                rule.id.0
            );
            assert!(
                ex.no_match.len() >= 3,
                "{}: fewer than 3 passing examples",
                rule.id.0
            );
        }
        assert!(report.total >= 13 * 8 + loaded.raw.rules.len() * 6);
    }

    fn first_error(text: &str, format: Format) -> PolicyDiagnostic {
        match load_str(text, "p", format) {
            Ok(_) => panic!("loaded"),
            Err(mut e) => e.diagnostics.remove(0),
        }
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let yaml = "version: 1\nuse_cases:\n  Marketting:\n    threshold: 3\n";
        let d = first_error(yaml, Format::Yaml);
        assert_eq!(d.code, DiagnosticCode::UnknownUseCase);
        assert_eq!((d.line, d.column), (Some(3), Some(3)), "{d}");
        assert_eq!(d.help.as_deref(), Some("did you mean `Marketing`?"));

        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 3\n    keywrds: []\n";
        let d = first_error(yaml, Format::Yaml);
        assert_eq!(d.code, DiagnosticCode::UnknownField);
        assert_eq!((d.line, d.column), (Some(5), Some(5)), "{d}");
        assert_eq!(d.help.as_deref(), Some("did you mean `keywords`?"));

        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 3\n    patterns:\n      - { id: x, regex: 'ab(c', weight: 3 }\n";
        let d = first_error(yaml, Format::Yaml);
        assert_eq!(d.code, DiagnosticCode::InvalidRegex);
        // The caret sits on the unclosed group inside the pattern.
        assert_eq!((d.line, d.column), (Some(6), Some(28)), "{d}");

        let json = "{\"version\": 1,\n \"use_cases\": {\"Marketing\": {\"threshold\": 0}}}";
        let d = first_error(json, Format::Json);
        assert_eq!(d.code, DiagnosticCode::InvalidNumber);
        assert_eq!((d.line, d.column), (Some(2), Some(43)), "{d}");
    }

    #[test]
    fn semantic_problems_are_all_reported_at_their_place() {
        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 9\n    keywords:\n      - { phrase: sale, weight: 2 }\n    patterns:\n      - { id: a, regex: 'x+', weight: 1 }\n  Mixed:\n    threshold: 1\n    patterns:\n      - { id: a, regex: 'y+', weight: 1 }\n";
        let err = load_str(yaml, "p", Format::Yaml).unwrap_err();
        let found: Vec<(DiagnosticCode, Option<usize>, Option<usize>)> = err
            .diagnostics
            .iter()
            .map(|d| (d.code, d.line, d.column))
            .collect();
        assert_eq!(
            found,
            [
                (DiagnosticCode::UnclassifiableUseCase, Some(9), Some(3)),
                (DiagnosticCode::DuplicateId, Some(12), Some(15)),
                (DiagnosticCode::UnreachableThreshold, Some(4), Some(16)),
            ]
        );
    }

    /// A policy whose Marketing counts `prohibited.alcohol`, turned off as a finding.
    const COUNTING: &str = include_str!("../../../tests/fixtures/policies/counting.yaml");

    #[test]
    fn a_counted_content_rule_adds_its_points_when_its_clauses_hold() {
        use smslint_core::{Classification, Detail, NormalizedText, UseCase};
        let loaded = load_str(COUNTING, "counting", Format::Yaml).unwrap_or_else(|e| panic!("{e}"));
        let policy = &loaded.policy;
        let mut out = Classification::default();
        for (text, want, span) in [
            ("Happy hour from 5", 6.0, Some("Happy hour")),
            // Matched by the pattern, which is searched apart from the keywords.
            ("$5 pints tonight, sale", 7.0, Some("$5 pints")),
            // `unless` holds it back.
            ("Alcohol-free happy hour", 0.0, None),
            ("sale", 1.0, None),
        ] {
            for detail in [Detail::Evidence, Detail::Scores] {
                policy.classify_into(&NormalizedText::new(text), &mut out, detail);
                assert!(
                    (out.scores[0].score - want).abs() < 1e-9,
                    "{text} ({detail:?}): {}",
                    out.scores[0].score
                );
                assert_eq!(out.is_detected(&UseCase::Marketing), want >= 5.0);
            }
            let c = policy.classify(&NormalizedText::new(text));
            let counted = c.scores[0]
                .evidence
                .iter()
                .find(|e| policy.rules()[e.rule as usize].id.as_ref() == "rule:prohibited.alcohol");
            assert_eq!(counted.map(|e| e.span.slice(text)), span, "{text}");
        }
    }

    #[test]
    fn an_extending_policy_reweighs_or_stops_counting_a_content_rule() {
        let dir = std::env::temp_dir().join(format!("smslint-counting-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("base.yaml"), COUNTING).unwrap();
        let score = |child: &str| {
            let path = dir.join("child.yaml");
            std::fs::write(&path, child).unwrap();
            let loaded = load_path(&path).unwrap_or_else(|e| panic!("{e}"));
            let c = loaded
                .policy
                .classify(&smslint_core::NormalizedText::new("Happy hour from 5"));
            c.scores[0].score
        };
        let reweighed = "version: 1\nextends: base.yaml\nuse_cases:\n  Marketing:\n    threshold: 1\n    content_rules: [{ rule: prohibited.alcohol, weight: 2 }]\n";
        let removed = "version: 1\nextends: base.yaml\nuse_cases:\n  Marketing:\n    threshold: 1\n    remove_content_rules: [prohibited.alcohol]\n";
        assert!((score(reweighed) - 2.0).abs() < 1e-9);
        assert!(score(removed).abs() < 1e-9);
        std::fs::remove_dir_all(&dir).ok();
    }
}
