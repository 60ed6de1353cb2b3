//! Whole-policy checks that no single value can make, and conversion to the core model.
//!
//! Every problem is reported, each at its position: the checks run on every file of the chain
//! (duplicates within a file) and on the merged policy (thresholds, restrictions), and locate
//! entries by probing their file ([`crate::source::Source::position`]).

use std::collections::HashMap;

use smslint_core::{
    ContentRuleSpec, DecisionSpec, KeywordSpec, MatcherSpec, PatternSpec, PolicySpec,
    RuleEvidenceSpec, Severity, UseCase, UseCaseSpec,
};

use crate::diagnostic::{DiagnosticCode, PolicyDiagnostic};
use crate::locate::Kind;
use crate::raw::{RawDecision, RawMatcher, RawPolicy, RuleSeverity, Unclassified};
use crate::source::Source;

/// Problems within each file of a chain: checked before merging, where positions are exact.
pub fn validate_file(raw: &RawPolicy, source: &Source) -> Vec<PolicyDiagnostic> {
    let mut out = Vec::new();
    let mut rule_ids: HashMap<&str, usize> = HashMap::new();
    for (i, rule) in raw.rules.iter().enumerate() {
        if let Some(first) = rule_ids.insert(&rule.id.0, i) {
            out.push(
                source
                    .diagnostic(
                        DiagnosticCode::DuplicateId,
                        Kind::RuleId,
                        rule.at,
                        format!("rule id `{}` is already used by rules[{first}]", rule.id.0),
                    )
                    .with_path(format!("rules[{i}]")),
            );
        }
        let triggers = rule.matches.is_some()
            || rule.require.is_some()
            || rule
                .when
                .as_ref()
                .is_some_and(|w| w.segments_over.is_some());
        if !triggers {
            out.push(
                source
                    .diagnostic(
                        DiagnosticCode::RuleWithoutTrigger,
                        Kind::RuleId,
                        rule.at,
                        format!("rule `{}` has nothing that makes it fire", rule.id.0),
                    )
                    .with_path(format!("rules[{i}]"))
                    .with_help("give it `match:`, `require:`, or `when: { segments_over: N }`"),
            );
        }
        let patterns = [&rule.matches, &rule.with, &rule.unless]
            .into_iter()
            .flatten()
            .flat_map(|m| &m.patterns)
            .chain(rule.require.iter().flat_map(|r| &r.patterns));
        for regex in patterns {
            if let Some(width) = wide_window(&regex.0) {
                let what = format!("rule `{}`'s pattern `{}`", rule.id.0, regex.0);
                out.push(wide_window_warning(
                    source,
                    (Kind::RuleId, rule.at),
                    &format!("rules[{i}]"),
                    &what,
                    width,
                ));
            }
        }
    }
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (name, uc) in &raw.use_cases.0 {
        let base = format!("use_cases.{name}");
        if matches!(name.0, UseCase::Mixed | UseCase::Unknown) {
            out.push(
                source
                    .diagnostic(
                        DiagnosticCode::UnclassifiableUseCase,
                        Kind::UseCaseKey,
                        uc.key_at,
                        format!("`{name}` is a registration label, not a kind of content"),
                    )
                    .with_path(&base)
                    .with_help(if name.0 == UseCase::Mixed {
                        "say what a Mixed campaign covers under `decision.covers.Mixed`"
                    } else {
                        "a campaign registering Unknown already accepts content that fits no use case"
                    }),
            );
        }
        let mut phrases: HashMap<&str, usize> = HashMap::new();
        for (i, kw) in uc.keywords.iter().enumerate() {
            if let Some(first) = phrases.insert(kw.phrase.folded(), i) {
                out.push(
                    source
                        .diagnostic(
                            DiagnosticCode::DuplicateKeyword,
                            Kind::Phrase,
                            kw.at,
                            format!(
                                "keyword {:?} repeats keywords[{first}] once normalised, so the phrase would count twice",
                                kw.phrase.as_str()
                            ),
                        )
                        .warning()
                        .with_path(format!("{base}.keywords[{i}]")),
                );
            }
        }
        for (i, p) in uc.patterns.iter().enumerate() {
            let path = format!("{base}.patterns[{i}]");
            if let Some(first) = ids.insert(&p.id.0, path.clone()) {
                out.push(
                    source
                        .diagnostic(
                            DiagnosticCode::DuplicateId,
                            Kind::PatternId,
                            p.at,
                            format!("pattern id `{}` is already used at {first}", p.id.0),
                        )
                        .with_path(path.clone()),
                );
            }
            if let Some(width) = wide_window(&p.regex.0) {
                out.push(wide_window_warning(
                    source,
                    (Kind::PatternId, p.at),
                    &path,
                    &format!("pattern `{}`", p.id.0),
                    width,
                ));
            }
            if p.regex.0.contains("(?u") {
                out.push(
                    source
                        .diagnostic(
                            DiagnosticCode::UnicodeClass,
                            Kind::PatternId,
                            p.at,
                            format!(
                                "pattern `{}` opts into Unicode with (?u): a Unicode \\b sends every text \
                                 with other characters than ASCII to slower matching (a check of the \
                                 benchmark corpus took 1.5 times as long with one), and Unicode \\d \
                                 and \\w make the pattern set's states larger",
                                p.id.0
                            ),
                        )
                        .warning()
                        .with_path(path)
                        .with_help("match the original text's ASCII, or list the few non-ASCII characters you need"),
                );
            }
        }
    }
    out
}

/// Counted repetitions of a class from this many up make a pattern worth a warning: each
/// repetition is a state of the lazy DFA over the whole pattern set (callgrind on 50,000
/// messages: writing the shipped policy's windows of 40 to 100 as `*` saved 8% of the
/// instructions per message; windows of 20 and 30 saved nothing measurable).
const WIDE_WINDOW: u32 = 40;

/// The widest counted repetition of a class in `regex`, when it is at least [`WIDE_WINDOW`].
fn wide_window(regex: &str) -> Option<u32> {
    use regex_syntax::hir::{Hir, HirKind};
    fn widest(h: &Hir) -> u32 {
        match h.kind() {
            HirKind::Repetition(r) => {
                let own = match (r.max, r.sub.kind()) {
                    (Some(max), HirKind::Class(_)) => max,
                    _ => 0,
                };
                own.max(widest(&r.sub))
            }
            HirKind::Capture(c) => widest(&c.sub),
            HirKind::Concat(items) | HirKind::Alternation(items) => {
                items.iter().map(widest).max().unwrap_or(0)
            }
            _ => 0,
        }
    }
    let hir = crate::raw::parse_pattern(regex).ok()?;
    let width = widest(&hir);
    (width >= WIDE_WINDOW).then_some(width)
}

/// The warning for a pattern [`wide_window`] flags, located at the entry (`kind`, `at`) that
/// holds it.
fn wide_window_warning(
    source: &Source,
    (kind, at): (Kind, crate::raw::At),
    path: &str,
    what: &str,
    width: u32,
) -> PolicyDiagnostic {
    source
        .diagnostic(
            DiagnosticCode::WideWindow,
            kind,
            at,
            format!(
                "{what} repeats a class up to {width} times: every position is a state of the \
                 automaton that searches all the policy's patterns, on every message"
            ),
        )
        .warning()
        .with_path(path)
        .with_help("write `*` (`[^\\n]*`) unless the bound matters; it matches within one line all the same")
}

/// Problems of the merged policy.
pub fn validate_merged(merged: &RawPolicy, sources: &[Source]) -> Vec<PolicyDiagnostic> {
    let mut out = Vec::new();
    let at_key = |code, uc: &crate::raw::RawUseCase, message: String| {
        sources[uc.key_at.source].diagnostic(code, Kind::UseCaseKey, uc.key_at, message)
    };
    for (name, uc) in &merged.use_cases.0 {
        let base = format!("use_cases.{name}");
        let Some(threshold) = uc.threshold else {
            out.push(
                at_key(
                    DiagnosticCode::MissingThreshold,
                    uc,
                    format!("use case `{name}` has no threshold, and no extended policy gives one"),
                )
                .with_path(&base)
                .with_help("add `threshold:` with the score at which the use case is detected"),
            );
            continue;
        };
        let reachable: f64 = uc
            .keywords
            .iter()
            .map(|k| k.weight.0)
            .chain(uc.patterns.iter().map(|p| p.weight.0))
            .chain(uc.content_rules.iter().map(|e| e.weight.0))
            .filter(|w| *w > 0.0)
            .sum();
        if reachable < threshold.0 {
            let message = format!(
                "threshold {} of `{name}` can never be reached: all its positive weights together add up to {reachable}",
                threshold.0
            );
            let d = match uc.threshold_at {
                Some(at) => sources[at.source].diagnostic(
                    DiagnosticCode::UnreachableThreshold,
                    Kind::Threshold,
                    at,
                    message,
                ),
                None => at_key(DiagnosticCode::UnreachableThreshold, uc, message),
            };
            out.push(d.with_path(format!("{base}.threshold")));
        }
    }
    for (name, uc) in &merged.use_cases.0 {
        for (i, e) in uc.content_rules.iter().enumerate() {
            let rule = merged.rules.iter().find(|r| r.id.0 == e.rule.0);
            let (message, help) = match rule {
                _ if uc.content_rules[..i].iter().any(|o| o.rule == e.rule) => (
                    format!("`{name}` counts content rule `{}` twice", e.rule),
                    None,
                ),
                None => (
                    format!("`{name}` counts content rule `{}`, but no content rule has that id", e.rule),
                    crate::diagnostic::nearest(&e.rule.0, merged.rules.iter().map(|r| r.id.0.as_str()))
                        .map(|n| format!("did you mean `{n}`?")),
                ),
                Some(r) if r.matches.is_none() => (
                    format!("`{name}` counts content rule `{}`, which has no `match`: nothing in the text makes it hold", e.rule),
                    None,
                ),
                Some(r) if r.when.as_ref().is_some_and(|w| !w.detected.is_empty()) => (
                    format!("`{name}` counts content rule `{}`, which applies only when a use case is detected, and that would depend on these points", e.rule),
                    Some("count a rule without `when.detected`".to_owned()),
                ),
                Some(_) => continue,
            };
            let mut d = sources[e.at.source]
                .diagnostic(
                    DiagnosticCode::RuleEvidence,
                    Kind::EvidenceRule,
                    e.at,
                    message,
                )
                .with_path(format!("use_cases.{name}.content_rules[{i}]"));
            if let Some(help) = help {
                d = d.with_help(help);
            }
            out.push(d);
        }
    }
    for (ordinal, (key, _)) in merged.severities.0.iter().enumerate() {
        let matches = key.0 == "*"
            || merged.rules.iter().any(|r| {
                r.id.0 == key.0
                    || (r.id.0.starts_with(&key.0) && r.id.0[key.0.len()..].starts_with('.'))
            });
        if matches {
            continue;
        }
        let message = format!("severities key `{key}` names no rule and prefixes none");
        // The merged map keeps the first file's order; look for the key where it is written.
        let mut d = sources
            .iter()
            .enumerate()
            .filter(|(_, src)| src.text.contains(&key.0))
            .find_map(|(s, src)| {
                let at = crate::raw::At { source: s, ordinal };
                src.position(Kind::SeverityKey, at).map(|_| {
                    src.diagnostic(
                        DiagnosticCode::UnmatchedSeverity,
                        Kind::SeverityKey,
                        at,
                        message.clone(),
                    )
                })
            })
            .unwrap_or_else(|| {
                PolicyDiagnostic::error(
                    DiagnosticCode::UnmatchedSeverity,
                    &sources[0].name,
                    message.clone(),
                )
            });
        let ids = merged.rules.iter().map(|r| r.id.0.as_str());
        if let Some(n) = crate::diagnostic::nearest(&key.0, ids) {
            d = d.with_help(format!("did you mean `{n}`?"));
        }
        out.push(d.with_path(format!("severities.{key}")));
    }
    let decision = effective_decision(merged);
    let first = &sources[0];
    for (label, members) in decision.covers.iter().flat_map(|c| &c.0) {
        if members.is_empty() {
            out.push(
                PolicyDiagnostic::error(
                    DiagnosticCode::EmptyCovers,
                    &first.name,
                    format!("`{label}` covers nothing"),
                )
                .warning()
                .with_path(format!("decision.covers.{label}")),
            );
        }
    }
    for r in decision.restricted.iter().flatten() {
        if !merged.use_cases.0.iter().any(|(k, _)| k.0 == r.0) {
            out.push(
                PolicyDiagnostic::error(
                    DiagnosticCode::RestrictedUnclassified,
                    &first.name,
                    format!("`{r}` is restricted, but the policy does not classify it, so the restriction never applies"),
                )
                .warning()
                .with_path("decision.restricted"),
            );
        }
    }
    out
}

/// The decision with every field given, defaults filling the gaps.
pub fn effective_decision(raw: &RawPolicy) -> RawDecision {
    match &raw.decision {
        Some(d) => RawDecision::with_defaults().overlaid(d),
        None => RawDecision::with_defaults(),
    }
}

fn matcher(m: &RawMatcher) -> MatcherSpec {
    MatcherSpec {
        keywords: m.keywords.iter().map(|k| k.0.clone()).collect(),
        patterns: m.patterns.iter().map(|p| p.0.clone()).collect(),
    }
}

/// The core model of a merged policy that passed validation.
pub fn to_spec(raw: &RawPolicy, file: &str) -> PolicySpec {
    let decision = effective_decision(raw);
    let rules = raw
        .rules
        .iter()
        .map(|r| ContentRuleSpec {
            id: r.id.0.clone(),
            description: r.description.clone(),
            severity: match r.severity {
                RuleSeverity::Error => Severity::Error,
                RuleSeverity::Warning => Severity::Warning,
                RuleSeverity::Info => Severity::Info,
            },
            message: r.message.clone(),
            link: r.link.clone(),
            when_detected: r
                .when
                .iter()
                .flat_map(|w| &w.detected)
                .map(|u| u.0.clone())
                .collect(),
            segments_over: r.when.as_ref().and_then(|w| w.segments_over),
            matches: r.matches.as_ref().map(matcher),
            with: r.with.as_ref().map(matcher),
            unless: r.unless.as_ref().map(matcher),
            require: r
                .require
                .as_ref()
                .filter(|q| !q.keywords.is_empty() || !q.patterns.is_empty())
                .map(|q| MatcherSpec {
                    keywords: q.keywords.iter().map(|k| k.0.clone()).collect(),
                    patterns: q.patterns.iter().map(|p| p.0.clone()).collect(),
                }),
            require_brand: r.require.as_ref().is_some_and(|q| q.brand),
            unless_use_case: r.unless_use_case.iter().map(|u| u.0.clone()).collect(),
        })
        .collect();
    let placeholders = raw
        .lint
        .as_ref()
        .and_then(|l| l.placeholders.as_ref())
        .map_or_else(
            || {
                crate::allow::DEFAULT_PLACEHOLDERS
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect()
            },
            |ps| ps.iter().map(|p| p.0.clone()).collect(),
        );
    PolicySpec {
        rules,
        placeholders,
        brand_names: raw.brand_names.clone(),
        name: raw.name.clone().unwrap_or_else(|| file.to_owned()),
        use_cases: raw
            .use_cases
            .0
            .iter()
            .map(|(name, uc)| UseCaseSpec {
                use_case: name.0.clone(),
                threshold: uc.threshold.map_or(f64::INFINITY, |t| t.0),
                description: uc.description.clone(),
                keywords: uc
                    .keywords
                    .iter()
                    .map(|k| KeywordSpec {
                        phrase: k.phrase.shared(),
                        weight: k.weight.0,
                        folding: k.phrase.folding(),
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
                content_rules: uc
                    .content_rules
                    .iter()
                    .map(|e| RuleEvidenceSpec {
                        rule: e.rule.0.clone(),
                        weight: e.weight.0,
                    })
                    .collect(),
            })
            .collect(),
        decision: DecisionSpec {
            unclassified: match decision.unclassified.unwrap_or_default() {
                Unclassified::Reject => Severity::Error,
                Unclassified::Warn => Severity::Warning,
            },
            restricted: decision
                .restricted
                .unwrap_or_default()
                .into_iter()
                .map(|u| u.0)
                .collect(),
            covers: decision
                .covers
                .unwrap_or_default()
                .0
                .into_iter()
                .map(|(l, m)| (l.0, m.into_iter().map(|u| u.0).collect()))
                .collect(),
            accepted_brand_statuses: decision.accept_brand_statuses.unwrap_or_default(),
            daily_caps: decision.daily_caps.unwrap_or_default().0,
            time_zone: decision.time_zone.map(|t| t.0),
        },
    }
}
