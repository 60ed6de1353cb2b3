//! The default policy's classification of the fixture messages under `fixtures/classify/`.
//!
//! Each fixture file is named after the use case its messages belong to (`Unknown.yaml`: none).
//! The test asserts that every message is detected as that use case (or, for `Unknown`, as
//! nothing), and snapshots the top use case, every score and its evidence, so that any policy
//! change shows up as a reviewed snapshot diff.

#![forbid(unsafe_code)]

use std::fmt::Write as _;

use serde::Serialize;
use smslint_core::{fmt_score, NormalizedText, UseCase};
use smslint_policy::load_default;

#[derive(Serialize)]
struct Scored {
    text: String,
    top: String,
    scores: Vec<String>,
}

#[test]
fn default_policy_classifies_the_fixture_messages() {
    let loaded = load_default().unwrap_or_else(|e| panic!("{e}"));
    let policy = &loaded.policy;
    let mut total = 0;
    let mut all_failures = String::new();
    insta::glob!("fixtures/classify/*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap_or_default();
        let messages: Vec<String> =
            serde_yaml::from_str(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let expected: UseCase = stem.parse().unwrap_or(UseCase::Unknown);
        let mut failures = String::new();
        let mut rows = Vec::new();
        for text in messages {
            total += 1;
            let c = policy.classify(&NormalizedText::new(&text));
            let ok = if expected == UseCase::Unknown {
                c.top().is_none()
            } else {
                c.is_detected(&expected)
            };
            if !ok {
                let _ = writeln!(
                    failures,
                    "  {text:?}: top {:?}",
                    c.top().map(|s| &s.use_case)
                );
            }
            let mut scored: Vec<_> = c.scores.iter().filter(|s| !s.evidence.is_empty()).collect();
            scored.sort_by(|a, b| b.score.total_cmp(&a.score));
            rows.push(Scored {
                top: c
                    .top()
                    .map_or("Unknown", |s| s.use_case.as_str())
                    .to_owned(),
                scores: scored
                    .iter()
                    .map(|s| {
                        let evidence: Vec<String> = s
                            .evidence
                            .iter()
                            .map(|e| {
                                format!(
                                    "{} {:?} {}",
                                    policy.rule(e.rule).id,
                                    e.span.slice(&text),
                                    fmt_score(e.weight)
                                )
                            })
                            .collect();
                        format!(
                            "{} {}/{}{}: {}",
                            s.use_case,
                            fmt_score(s.score),
                            fmt_score(s.threshold),
                            if s.detected() { " detected" } else { "" },
                            evidence.join(", ")
                        )
                    })
                    .collect(),
                text,
            });
        }
        insta::assert_yaml_snapshot!(rows);
        if !failures.is_empty() {
            let _ = write!(
                all_failures,
                "{stem}: not classified as expected:\n{failures}"
            );
        }
    });
    assert!(all_failures.is_empty(), "{all_failures}");
    assert!(total >= 60, "only {total} fixture messages");
}
