//! Scoring a message against every use case of a policy.

use serde::Serialize;

use crate::normalize::NormalizedText;
use crate::policy::{Clause, Policy, Target};
use crate::span::Span;
use crate::use_case::UseCase;

/// One rule that matched: which, where in the original text, and the points it added.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// Index of the rule in [`Policy::rules`].
    pub rule: u32,
    /// Where it matched (first occurrence), as bytes of the original text.
    pub span: Span,
    /// The points it added.
    pub weight: f64,
}

/// The score of one use case and the evidence behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UseCaseScore {
    /// The use case.
    pub use_case: UseCase,
    /// The sum of the weights of the distinct rules that matched.
    pub score: f64,
    /// The score at which it is detected.
    pub threshold: f64,
    /// The rules that matched, in text order.
    pub evidence: Vec<Evidence>,
}

impl UseCaseScore {
    /// Whether the score reaches the threshold.
    pub fn detected(&self) -> bool {
        self.score >= self.threshold
    }
}

/// A clause of a content rule that matched, and where (first occurrence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClauseHit {
    /// Index of the content rule in [`Policy::content_rules`].
    pub rule: u32,
    /// The clause that matched.
    pub clause: Clause,
    /// Where.
    pub span: Span,
}

/// The result of classifying one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classification {
    /// Every use case of the policy, in policy order.
    pub scores: Vec<UseCaseScore>,
    /// Indices into `scores` of the detected use cases, highest score first (ties: policy order).
    pub ranking: Vec<usize>,
    /// The content-rule clauses that matched, by rule then clause: the same scan as the scores.
    pub clause_hits: Vec<ClauseHit>,
}

impl Classification {
    /// The highest-scoring detected use case, or `None` (rendered `Unknown`).
    pub fn top(&self) -> Option<&UseCaseScore> {
        self.ranking.first().map(|&i| &self.scores[i])
    }

    /// The detected use cases, highest score first.
    pub fn detected(&self) -> impl Iterator<Item = &UseCaseScore> {
        self.ranking.iter().map(|&i| &self.scores[i])
    }

    /// Whether `use_case` is detected.
    pub fn is_detected(&self, use_case: &UseCase) -> bool {
        self.detected().any(|s| &s.use_case == use_case)
    }

    /// The use case that came closest to its threshold without reaching it, if any scored.
    pub fn closest_miss(&self) -> Option<&UseCaseScore> {
        self.scores
            .iter()
            .filter(|s| !s.detected() && s.score > 0.0)
            .max_by(|a, b| (a.score / a.threshold).total_cmp(&(b.score / b.threshold)))
    }
}

impl Policy {
    /// Score `text` against every use case.
    pub fn classify(&self, text: &NormalizedText<'_>) -> Classification {
        let mut all: Vec<(Target, Span)> = Vec::new();
        self.keyword_hits(text, &mut all);
        self.pattern_hits(text.original(), &mut all);

        // Each rule (and each clause) counts once: keep its first occurrence.
        all.sort_unstable_by_key(|&(target, span)| (target, span.start, span.end));
        all.dedup_by_key(|&mut (target, _)| target);
        let mut hits: Vec<(u32, Span)> = Vec::with_capacity(all.len());
        let mut clause_hits = Vec::new();
        for (target, span) in all {
            match target {
                Target::Score(rule) => hits.push((rule, span)),
                Target::Clause(rule, clause) => clause_hits.push(ClauseHit { rule, clause, span }),
            }
        }

        let mut scores: Vec<UseCaseScore> = self
            .use_cases
            .iter()
            .map(|u| UseCaseScore {
                use_case: u.use_case.clone(),
                score: 0.0,
                threshold: u.threshold,
                evidence: Vec::new(),
            })
            .collect();
        for (rule_index, span) in hits {
            let rule = self.rule(rule_index);
            let s = &mut scores[rule.use_case];
            s.score += rule.weight;
            s.evidence.push(Evidence {
                rule: rule_index,
                span,
                weight: rule.weight,
            });
        }
        for s in &mut scores {
            // Sums of decimal weights pick up binary noise (0.1 + 0.2); scores are reported
            // and compared at a precision far finer than any policy uses.
            s.score = (s.score * 1e6).round() / 1e6;
            s.evidence
                .sort_by_key(|e| (e.span.start, e.span.end, e.rule));
        }
        let mut ranking: Vec<usize> = (0..scores.len())
            .filter(|&i| scores[i].detected())
            .collect();
        ranking.sort_by(|&a, &b| scores[b].score.total_cmp(&scores[a].score).then(a.cmp(&b)));
        Classification {
            scores,
            ranking,
            clause_hits,
        }
    }

    fn keyword_hits(&self, text: &NormalizedText<'_>, hits: &mut Vec<(Target, Span)>) {
        let Some(ac) = &self.keywords else { return };
        let folded = text.folded();
        for m in ac.find_overlapping_iter(folded) {
            if !at_word_boundaries(folded, m.start(), m.end()) {
                continue;
            }
            let span = text.to_original(m.start(), m.end());
            let range = &self.keyword_ranges[m.pattern().as_usize()];
            for &target in &self.keyword_targets[range.start as usize..range.end as usize] {
                hits.push((target, span));
            }
        }
    }

    fn pattern_hits(&self, original: &str, hits: &mut Vec<(Target, Span)>) {
        let Some(set) = &self.pattern_set else { return };
        let bytes = original.as_bytes();
        for i in &set.matches(bytes) {
            if let Some(m) = self.patterns[i].find(bytes) {
                // Byte-level patterns may stop inside a character; evidence covers whole ones.
                let span = Span::new(m.start(), m.end()).snap_to_chars(original);
                hits.push((self.pattern_targets[i], span));
            }
        }
    }
}

/// Whether a match is not part of a longer word: the text on either side of a word character
/// at the match's edge must not be a word character.
pub(crate) fn at_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let matched = &text[start..end];
    let first_is_word = matched.chars().next().is_some_and(is_word_char);
    let last_is_word = matched.chars().next_back().is_some_and(is_word_char);
    let before_is_word = text[..start].chars().next_back().is_some_and(is_word_char);
    let after_is_word = text[end..].chars().next().is_some_and(is_word_char);
    !(first_is_word && before_is_word || last_is_word && after_is_word)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{DecisionSpec, KeywordSpec, PatternSpec, PolicySpec, UseCaseSpec};

    fn kw(phrase: &str, weight: f64) -> KeywordSpec {
        KeywordSpec {
            phrase: phrase.into(),
            weight,
        }
    }

    fn policy() -> Policy {
        Policy::compile(PolicySpec {
            name: "t".into(),
            use_cases: vec![
                UseCaseSpec {
                    use_case: UseCase::DeliveryNotification,
                    threshold: 3.0,
                    description: None,
                    keywords: vec![
                        kw("out for delivery", 3.0),
                        kw("cod", 3.0),
                        kw("order", 1.0),
                    ],
                    patterns: vec![PatternSpec {
                        id: "ups-tracking".into(),
                        regex: r"\b1Z[0-9A-Z]{16}\b".into(),
                        weight: 3.0,
                        description: None,
                    }],
                },
                UseCaseSpec {
                    use_case: UseCase::Marketing,
                    threshold: 3.0,
                    description: None,
                    keywords: vec![kw("% off", 3.0), kw("order", 0.5), kw("unsubscribe", -1.0)],
                    patterns: vec![],
                },
            ],
            decision: DecisionSpec::default(),
            rules: Vec::new(),
            brand_names: Vec::new(),
            placeholders: Vec::new(),
        })
        .unwrap()
    }

    fn classify(p: &Policy, text: &str) -> Classification {
        p.classify(&NormalizedText::new(text))
    }

    #[test]
    fn scores_keywords_and_patterns_with_original_spans() {
        let p = policy();
        let text = "Your ORDER is Out  For Delivery: 1Z999AA10123456784";
        let c = classify(&p, text);
        let top = c.top().unwrap();
        assert_eq!(top.use_case, UseCase::DeliveryNotification);
        assert!((top.score - 7.0).abs() < 1e-9);
        let matched: Vec<&str> = top.evidence.iter().map(|e| e.span.slice(text)).collect();
        assert_eq!(
            matched,
            ["ORDER", "Out  For Delivery", "1Z999AA10123456784"]
        );
        // The same phrase in two use cases scores in both.
        assert!((c.scores[1].score - 0.5).abs() < 1e-9);
    }

    #[test]
    fn phrases_never_fire_inside_longer_words() {
        let p = policy();
        let c = classify(&p, "Enter code 1234, reorder now");
        assert!(c.scores[0].evidence.is_empty(), "{:?}", c.scores[0]);
        assert!(c.top().is_none());
    }

    #[test]
    fn phrases_starting_with_punctuation_need_no_boundary_there() {
        let p = policy();
        let c = classify(&p, "Take 40% off today");
        assert_eq!(c.top().unwrap().use_case, UseCase::Marketing);
    }

    #[test]
    fn negative_weights_count_and_each_rule_counts_once() {
        let p = policy();
        let c = classify(&p, "50% off! 50% off! unsubscribe");
        assert!((c.scores[1].score - 2.0).abs() < 1e-9);
        assert!(c.top().is_none());
    }
}
