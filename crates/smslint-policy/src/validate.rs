//! Whole-policy checks that no single value can make, and conversion to the core model.

use std::collections::HashMap;

use smslint_core::normalize::fold;
use smslint_core::{
    DecisionSpec, KeywordSpec, PatternSpec, PolicySpec, Severity, UseCase, UseCaseSpec,
};

use crate::diagnostic::PolicyDiagnostic;
use crate::raw::{RawPolicy, Unclassified};

/// Every problem of a parsed policy, in file order; errors and warnings together.
pub fn validate(raw: &RawPolicy, file: &str) -> Vec<PolicyDiagnostic> {
    let mut out = Vec::new();
    let mut pattern_ids: HashMap<&str, String> = HashMap::new();
    for (name, uc) in &raw.use_cases.0 {
        let base = format!("use_cases.{name}");
        if matches!(name.0, UseCase::Mixed | UseCase::Unknown) {
            out.push(
                PolicyDiagnostic::error(
                    "policy.unclassifiable_use_case",
                    file,
                    format!("`{name}` is a registration label, not a kind of content"),
                )
                .with_path(&base)
                .with_help(if name.0 == UseCase::Mixed {
                    "say what a Mixed campaign covers under `decision.covers.Mixed`"
                } else {
                    "a campaign registering Unknown accepts content that fits no use case"
                }),
            );
        }
        let mut phrases: HashMap<String, usize> = HashMap::new();
        for (i, kw) in uc.keywords.iter().enumerate() {
            let folded = fold(&kw.phrase.0);
            if let Some(first) = phrases.insert(folded, i) {
                out.push(
                    PolicyDiagnostic::error(
                        "policy.duplicate_keyword",
                        file,
                        format!(
                            "keyword {:?} repeats keyword [{first}] once normalised; it would count twice",
                            kw.phrase.0
                        ),
                    )
                    .warning()
                    .with_path(format!("{base}.keywords[{i}]")),
                );
            }
        }
        for (i, p) in uc.patterns.iter().enumerate() {
            let path = format!("{base}.patterns[{i}]");
            if let Some(first) = pattern_ids.insert(&p.id.0, path.clone()) {
                out.push(
                    PolicyDiagnostic::error(
                        "policy.duplicate_id",
                        file,
                        format!("pattern id `{}` is already used at {first}", p.id.0),
                    )
                    .with_path(path),
                );
            }
        }
        let reachable: f64 = uc
            .keywords
            .iter()
            .map(|k| k.weight.0)
            .chain(uc.patterns.iter().map(|p| p.weight.0))
            .filter(|w| *w > 0.0)
            .sum();
        if reachable < uc.threshold.0 {
            out.push(
                PolicyDiagnostic::error(
                    "policy.unreachable_threshold",
                    file,
                    format!(
                        "threshold {} can never be reached: all positive weights together add up to {}",
                        uc.threshold.0, reachable
                    ),
                )
                .with_path(format!("{base}.threshold")),
            );
        }
    }
    for (label, members) in &raw.decision.covers.0 {
        if members.is_empty() {
            out.push(
                PolicyDiagnostic::error(
                    "policy.empty_covers",
                    file,
                    format!("`{label}` covers nothing"),
                )
                .warning()
                .with_path(format!("decision.covers.{label}")),
            );
        }
    }
    out
}

/// The core model of a policy that passed [`validate`].
pub fn to_spec(raw: &RawPolicy, file: &str) -> PolicySpec {
    PolicySpec {
        name: raw.name.clone().unwrap_or_else(|| file.to_owned()),
        use_cases: raw
            .use_cases
            .0
            .iter()
            .map(|(name, uc)| UseCaseSpec {
                use_case: name.0.clone(),
                threshold: uc.threshold.0,
                description: uc.description.clone(),
                keywords: uc
                    .keywords
                    .iter()
                    .map(|k| KeywordSpec {
                        phrase: k.phrase.0.clone(),
                        weight: k.weight.0,
                    })
                    .collect(),
                patterns: uc
                    .patterns
                    .iter()
                    .map(|p| PatternSpec {
                        id: p.id.0.clone(),
                        regex: p.regex.0.clone(),
                        weight: p.weight.0,
                        description: p.description.clone(),
                    })
                    .collect(),
            })
            .collect(),
        decision: DecisionSpec {
            unclassified: match raw.decision.unclassified {
                Unclassified::Reject => Severity::Error,
                Unclassified::Warn => Severity::Warning,
            },
            restricted: raw
                .decision
                .restricted
                .iter()
                .map(|u| u.0.clone())
                .collect(),
            covers: raw
                .decision
                .covers
                .0
                .iter()
                .map(|(l, m)| (l.0.clone(), m.iter().map(|u| u.0.clone()).collect()))
                .collect(),
            accepted_brand_statuses: raw.decision.accept_brand_statuses.clone(),
            daily_caps: raw.decision.daily_caps.0.clone(),
        },
    }
}
