//! Corpus evaluation: how well a policy classifies a labelled corpus, and how its content rules
//! do, with the numbers a policy author tunes on.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use smslint_core::{segments, LintContext, NormalizedText, UseCase};

use crate::diagnostic::{DiagnosticCode, PolicyDiagnostic, PolicyError};
use crate::load::LoadedPolicy;

/// One labelled message of a corpus (a JSON line).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", remote = "Self")]
pub struct CorpusEntry {
    /// The message.
    pub text: String,
    /// Every acceptable use case, the primary first (`Unknown`: none fits).
    pub use_cases: Vec<String>,
    /// The content rules that must fire (empty: a compliant message).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Why it is labelled so.
    #[serde(default)]
    pub notes: Option<String>,
}

/// Parse a corpus: one [`CorpusEntry`] per line; blank lines are skipped.
pub fn parse_corpus(text: &str, file: &str) -> Result<Vec<(usize, CorpusEntry)>, PolicyError> {
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<CorpusEntry>(line) {
            Ok(e) => {
                for u in &e.use_cases {
                    if UseCase::known(u).is_none() {
                        diagnostics.push(
                            PolicyDiagnostic::error(
                                DiagnosticCode::UnknownUseCase,
                                file,
                                format!("unknown use case `{u}` in useCases"),
                            )
                            .at(text, i + 1, 1),
                        );
                    }
                }
                if e.use_cases.is_empty() {
                    diagnostics.push(
                        PolicyDiagnostic::error(
                            DiagnosticCode::MissingField,
                            file,
                            "useCases is empty",
                        )
                        .at(text, i + 1, 1),
                    );
                }
                out.push((i + 1, e));
            }
            Err(e) => {
                // serde_json ends with "at line 1 column N"; the diagnostic has the real
                // position.
                let message = smslint_core::snapshot::strip_position(&e.to_string());
                let column = smslint_core::snapshot::value_column(line, 1, e.column(), &message);
                let code = if crate::locate::duplicate_key(&message).is_some() {
                    DiagnosticCode::DuplicateKey
                } else {
                    DiagnosticCode::Syntax
                };
                diagnostics.push(PolicyDiagnostic::error(code, file, message).at(
                    text,
                    i + 1,
                    column.max(1),
                ));
            }
        }
    }
    if diagnostics.is_empty() {
        Ok(out)
    } else {
        Err(PolicyError { diagnostics })
    }
}

/// Precision, recall and F1 of one use case (top-1 predictions against labels).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassStats {
    /// The use case (or `Unknown`).
    pub use_case: String,
    /// Messages whose label it is.
    pub support: usize,
    /// Predicted and labelled.
    pub true_positives: usize,
    /// Predicted, labelled otherwise.
    pub false_positives: usize,
    /// Labelled, predicted otherwise.
    pub false_negatives: usize,
    /// TP / (TP + FP); 0 when nothing was predicted.
    pub precision: f64,
    /// TP / (TP + FN); 0 when there is no support.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// A message the policy got wrong.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Miss {
    /// Its line in the corpus.
    pub line: usize,
    /// The message.
    pub text: String,
    /// Its acceptable use cases.
    pub expected: Vec<String>,
    /// The top use case the policy gave.
    pub top: String,
    /// Each use case that scored: `name score/threshold: rule +w, ...`.
    pub evidence: Vec<String>,
}

/// A message whose content-rule findings differ from its labels.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleMiss {
    /// Its line in the corpus.
    pub line: usize,
    /// The message.
    pub text: String,
    /// Labelled rules that did not fire.
    pub missing: Vec<String>,
    /// Rules that fired without a label.
    pub unexpected: Vec<String>,
}

/// Everything `smslint policy eval` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalReport {
    /// Messages evaluated.
    pub messages: usize,
    /// Messages whose top use case is among their labels.
    pub top1_correct: usize,
    /// `top1_correct / messages`.
    pub top1_accuracy: f64,
    /// Per use case, in policy order, then `Unknown`.
    pub classes: Vec<ClassStats>,
    /// Mean F1 over the classifiable use cases that have support.
    pub macro_f1: f64,
    /// Of the messages where Marketing is detected (and so must be registered), the share
    /// labelled Marketing: a false Marketing detection blocks legitimate traffic.
    pub marketing_detection_precision: f64,
    /// Messages where Marketing is detected.
    pub marketing_detected: usize,
    /// Of those, the ones labelled Marketing.
    #[serde(skip)]
    pub marketing_detected_right: usize,
    /// Counts of (label, prediction) pairs, rows by label.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Messages each rule fired on: scoring rules as `UseCase/id`, content rules by id.
    pub rule_hits: BTreeMap<String, usize>,
    /// Rules that fired on no message.
    pub never_fired: Vec<String>,
    /// Labelled content-rule findings that fired, over all labelled findings.
    pub content_rule_recall: f64,
    /// Labelled content-rule findings.
    pub content_rules_expected: usize,
    /// Compliant messages (no rule labelled).
    pub compliant_messages: usize,
    /// Compliant messages on which some content rule fired, over compliant messages.
    pub compliant_false_positive_rate: f64,
    /// Messages classified wrongly, with their evidence.
    pub misclassified: Vec<Miss>,
    /// Messages whose content-rule findings differ from their labels.
    pub rule_misses: Vec<RuleMiss>,
}

impl ClassStats {
    /// The figures of a use case from its true positives, false positives and false negatives.
    pub fn from_counts(use_case: String, tp: usize, fp: usize, fn_: usize) -> ClassStats {
        let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            ((2.0 * precision * recall / (precision + recall)) * 10_000.0).round() / 10_000.0
        };
        ClassStats {
            use_case,
            support: tp + fn_,
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// Mean F1 over the classifiable use cases (not `Unknown`) that have support.
pub fn macro_f1(stats: &[ClassStats]) -> f64 {
    let scored: Vec<f64> = stats
        .iter()
        .filter(|s| s.use_case != "Unknown" && s.support > 0)
        .map(|s| s.f1)
        .collect();
    if scored.is_empty() {
        0.0
    } else {
        (scored.iter().sum::<f64>() / scored.len() as f64 * 10_000.0).round() / 10_000.0
    }
}

/// `a / b` to four places; 0 when `b` is 0.
pub fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        // Rounded so reports and snapshots do not change with float noise.
        (a as f64 / b as f64 * 10_000.0).round() / 10_000.0
    }
}

/// Evaluate a loaded policy on a corpus.
pub fn evaluate(loaded: &LoadedPolicy, corpus: &[(usize, CorpusEntry)]) -> EvalReport {
    let policy = &loaded.policy;
    let mut classes: Vec<String> = policy
        .use_cases()
        .iter()
        .map(|u| u.use_case.to_string())
        .collect();
    classes.push("Unknown".into());
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    // A keyword may score for several use cases, so scoring rules are keyed by both.
    let scoring_key = |index: u32| {
        let rule = policy.rule(index);
        format!("{}/{}", policy.use_cases()[rule.use_case].use_case, rule.id)
    };
    let mut rule_hits: BTreeMap<String, usize> = (0..policy.rules().len() as u32)
        .map(scoring_key)
        .chain(policy.content_rules().iter().map(|r| r.id.clone()))
        .map(|id| (id, 0))
        .collect();
    let (mut correct, mut marketing_detected, mut marketing_right) = (0, 0, 0);
    let (mut expected_rules, mut found_rules, mut compliant, mut compliant_fp) = (0, 0, 0, 0);
    let mut misclassified = Vec::new();
    let mut rule_misses = Vec::new();

    for (line, entry) in corpus {
        let normalized = NormalizedText::new(&entry.text);
        let c = policy.classify(&normalized);
        let top = c
            .top()
            .map_or("Unknown", |s| s.use_case.as_str())
            .to_owned();
        let ok = entry.use_cases.contains(&top);
        let gold = if ok {
            top.clone()
        } else {
            entry
                .use_cases
                .first()
                .map_or_else(|| "Unknown".to_owned(), Clone::clone)
        };
        *confusion
            .entry(gold)
            .or_default()
            .entry(top.clone())
            .or_default() += 1;
        if ok {
            correct += 1;
        } else {
            let mut scored: Vec<_> = c.scores.iter().filter(|s| !s.evidence.is_empty()).collect();
            scored.sort_by(|a, b| b.score.total_cmp(&a.score));
            misclassified.push(Miss {
                line: *line,
                text: entry.text.clone(),
                expected: entry.use_cases.clone(),
                top: top.clone(),
                evidence: scored
                    .iter()
                    .map(|s| {
                        let rules: Vec<String> = s
                            .evidence
                            .iter()
                            .map(|e| format!("{} {:+}", policy.rule(e.rule).id, e.weight))
                            .collect();
                        format!(
                            "{} {}/{}: {}",
                            s.use_case,
                            smslint_core::fmt_score(s.score),
                            smslint_core::fmt_score(s.threshold),
                            rules.join(", ")
                        )
                    })
                    .collect(),
            });
        }
        if c.is_detected(&UseCase::Marketing) {
            marketing_detected += 1;
            if entry.use_cases.iter().any(|u| u == "Marketing") {
                marketing_right += 1;
            }
        }
        for s in &c.scores {
            for e in &s.evidence {
                *rule_hits.entry(scoring_key(e.rule)).or_default() += 1;
            }
        }
        let findings = policy.lint(
            &normalized,
            &c,
            &LintContext {
                registered: None,
                brands: None,
                segments: segments::analyze(&entry.text).segments,
            },
        );
        let fired: BTreeSet<String> = findings
            .iter()
            .map(|f| policy.content_rules()[f.rule as usize].id.clone())
            .collect();
        for id in &fired {
            *rule_hits.entry(id.clone()).or_default() += 1;
        }
        let expected: BTreeSet<String> = entry.rules.iter().cloned().collect();
        expected_rules += expected.len();
        found_rules += expected.intersection(&fired).count();
        if expected.is_empty() {
            compliant += 1;
            if !fired.is_empty() {
                compliant_fp += 1;
            }
        }
        let missing: Vec<String> = expected.difference(&fired).cloned().collect();
        let unexpected: Vec<String> = fired.difference(&expected).cloned().collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            rule_misses.push(RuleMiss {
                line: *line,
                text: entry.text.clone(),
                missing,
                unexpected,
            });
        }
    }

    let count = |gold: &str, pred: &str| {
        confusion
            .get(gold)
            .and_then(|row| row.get(pred))
            .copied()
            .unwrap_or(0)
    };
    let stats: Vec<ClassStats> = classes
        .iter()
        .map(|class| {
            let tp = count(class, class);
            let support: usize = confusion.get(class).map_or(0, |row| row.values().sum());
            let predicted: usize = confusion
                .values()
                .map(|row| row.get(class).copied().unwrap_or(0))
                .sum();
            ClassStats::from_counts(class.clone(), tp, predicted - tp, support - tp)
        })
        .collect();
    let macro_f1 = macro_f1(&stats);
    let never_fired = rule_hits
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| id.clone())
        .collect();
    EvalReport {
        messages: corpus.len(),
        top1_correct: correct,
        top1_accuracy: ratio(correct, corpus.len()),
        classes: stats,
        macro_f1,
        marketing_detection_precision: ratio(marketing_right, marketing_detected),
        marketing_detected,
        marketing_detected_right: marketing_right,
        confusion,
        rule_hits,
        never_fired,
        content_rule_recall: ratio(found_rules, expected_rules),
        content_rules_expected: expected_rules,
        compliant_messages: compliant,
        compliant_false_positive_rate: ratio(compliant_fp, compliant),
        misclassified,
        rule_misses,
    }
}

smslint_core::mapping_only!("an object", serialize; CorpusEntry);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_default;

    #[test]
    fn bad_lines_are_refused_with_their_line_numbers() {
        let corpus = concat!(
            "{\"text\":\"ok\",\"useCases\":[\"Marketing\"],\"rules\":[]}\n",
            "\n",
            "{\"text\":\"x\",\"useCases\":[\"Sales\"]}\n",
            "{\"text\":\"y\",\"useCases\":[]}\n",
            "{\"text\":\"z\",\"useCases\":[\"Marketing\"],\"label\":1}\n",
            "not json\n",
            // As many values as an entry has fields: read as one before.
            "[\"w\", [\"Marketing\"], []]\n",
            "{\"text\":\"v\",\"useCases\":[\"Marketing\"],\"text\":\"u\"}\n",
        );
        let err = parse_corpus(corpus, "c.jsonl")
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        let lines: Vec<_> = err.diagnostics.iter().map(|d| (d.line, d.code)).collect();
        assert_eq!(
            lines,
            [
                (Some(3), DiagnosticCode::UnknownUseCase),
                (Some(4), DiagnosticCode::MissingField),
                (Some(5), DiagnosticCode::Syntax),
                (Some(6), DiagnosticCode::Syntax),
                (Some(7), DiagnosticCode::Syntax),
                (Some(8), DiagnosticCode::DuplicateKey),
            ]
        );
        // On the second key (serde_json marks its closing quote).
        assert_eq!(err.diagnostics[5].column, Some(38));
        assert!(err.diagnostics[2].message.contains("unknown field `label`"));
        assert_eq!(
            (
                err.diagnostics[4].column,
                err.diagnostics[4].message.as_str()
            ),
            (Some(1), "invalid type: sequence, expected an object")
        );
    }

    #[test]
    fn counts_hits_misses_and_rule_findings() {
        let policy = load_default().unwrap_or_else(|e| panic!("{e}"));
        let corpus = parse_corpus(
            concat!(
                "{\"text\":\"Your order #58210 has shipped! Track it at https://acme.example.com/t/58210\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"40% off all jackets today only\",\"useCases\":[\"Marketing\"],\"rules\":[\"marketing.opt_out_missing\"]}\n",
                "{\"text\":\"40% off all jackets today only. Reply STOP to opt out\",\"useCases\":[\"CustomerCare\"]}\n",
                "{\"text\":\"hello\",\"useCases\":[\"Unknown\"],\"rules\":[\"segments.many\"]}\n",
            ),
            "c.jsonl",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let r = evaluate(&policy, &corpus);
        assert_eq!((r.messages, r.top1_correct), (4, 3));
        assert_eq!(r.misclassified.len(), 1);
        assert_eq!(
            (r.misclassified[0].line, r.misclassified[0].top.as_str()),
            (3, "Marketing")
        );
        // Marketing detected twice, labelled Marketing once.
        assert_eq!(
            (r.marketing_detected, r.marketing_detection_precision),
            (2, 0.5)
        );
        // Two labelled findings, one found; no compliant message raised a finding.
        assert_eq!((r.content_rules_expected, r.content_rule_recall), (2, 0.5));
        assert_eq!(
            (r.compliant_messages, r.compliant_false_positive_rate),
            (2, 0.0)
        );
        assert_eq!(r.rule_misses.len(), 1);
        assert_eq!(r.rule_misses[0].missing, ["segments.many"]);
        let care = r.classes.iter().find(|c| c.use_case == "CustomerCare");
        assert_eq!(care.map(|c| (c.support, c.recall)), Some((1, 0.0)));
        assert_eq!(r.rule_hits.get("marketing.opt_out_missing"), Some(&1));
        assert!(r.never_fired.iter().any(|id| id == "prohibited.phishing"));
    }
}
