//! The default policy's content rules on a fixture set of compliant and non-compliant messages:
//! expectations asserted, every finding snapshotted.

#![forbid(unsafe_code)]

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use smslint_core::{segments, LintContext, NormalizedText, Severity};
use smslint_policy::{load_default, LoadedPolicy};
use smslint_tests::fixture;

#[derive(Deserialize)]
struct Case {
    text: String,
    expect: Vec<String>,
}

#[derive(Serialize)]
struct Row {
    text: String,
    top: String,
    findings: Vec<String>,
}

/// The findings on `text` as `id severity "match"` lines, and the ids alone.
fn findings(loaded: &LoadedPolicy, text: &str) -> (Row, Vec<(String, Severity)>) {
    let policy = &loaded.policy;
    let normalized = NormalizedText::new(text);
    let c = policy.classify(&normalized);
    let context = LintContext {
        registered: None,
        brands: None,
        segments: segments::analyze(text).segments,
    };
    let found = policy.lint(&normalized, &c, &context);
    let mut lines = Vec::new();
    let mut ids = Vec::new();
    for f in &found {
        let rule = &policy.content_rules()[f.rule as usize];
        let matched = f
            .span
            .map_or_else(String::new, |s| format!(" {:?}", s.slice(text)));
        lines.push(format!("{} {}{matched}", rule.id, f.severity));
        ids.push((rule.id.clone(), f.severity));
    }
    let row = Row {
        text: text.to_owned(),
        top: c
            .top()
            .map_or("Unknown", |s| s.use_case.as_str())
            .to_owned(),
        findings: lines,
    };
    (row, ids)
}

fn load() -> LoadedPolicy {
    load_default().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn compliant_messages_raise_no_errors() {
    let loaded = load();
    let source = std::fs::read_to_string(fixture("content/compliant.yaml")).unwrap_or_default();
    let texts: Vec<String> = serde_yaml::from_str(&source).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = Vec::new();
    let mut problems = String::new();
    for text in &texts {
        let (row, ids) = findings(&loaded, text);
        for (id, severity) in &ids {
            if *severity == Severity::Error {
                let _ = writeln!(problems, "{text:?}: {id}");
            }
        }
        rows.push(row);
    }
    insta::assert_yaml_snapshot!(rows);
    assert!(
        problems.is_empty(),
        "errors on compliant messages:\n{problems}"
    );
    assert!(texts.len() >= 40);
}

#[test]
fn noncompliant_messages_raise_their_rules() {
    let loaded = load();
    let source = std::fs::read_to_string(fixture("content/noncompliant.yaml")).unwrap_or_default();
    let cases: Vec<Case> = serde_yaml::from_str(&source).unwrap_or_else(|e| panic!("{e}"));
    let known: Vec<&str> = loaded
        .policy
        .content_rules()
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    let mut rows = Vec::new();
    let mut problems = String::new();
    for case in &cases {
        let (row, ids) = findings(&loaded, &case.text);
        for want in &case.expect {
            assert!(known.contains(&want.as_str()), "unknown rule id {want}");
            if !ids.iter().any(|(id, _)| id == want) {
                let _ = writeln!(
                    problems,
                    "{:?}: expected {want}, got {:?}",
                    case.text, row.findings
                );
            }
        }
        rows.push(row);
    }
    insta::assert_yaml_snapshot!(rows);
    assert!(problems.is_empty(), "missing findings:\n{problems}");
    assert!(cases.len() >= 40);
    // Every rule of the default policy is exercised by the fixtures.
    for id in known {
        if id == "sender.identification_missing" {
            continue; // needs brand names; covered by its examples and the CLI tests
        }
        assert!(
            cases.iter().any(|c| c.expect.iter().any(|e| e == id)),
            "no fixture for {id}"
        );
    }
}
