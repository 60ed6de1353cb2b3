//! The compiled policy: use cases, their rules, the matchers built from them, and the decision
//! settings.
//!
//! [`PolicySpec`] is plain data (the policy crate produces it from YAML or JSON);
//! [`Policy::compile`] turns it into the engine once, at load time.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Serialize;

use crate::error::CompileError;
use crate::normalize::fold;
use crate::severity::Severity;
use crate::use_case::UseCase;

/// Compiled size limit of one pattern, and of the set of all patterns (the regex crate's units).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Compiled size limit of the set of all patterns together.
pub const REGEX_SET_SIZE_LIMIT: usize = 32 << 20;
/// Largest number of keyword and pattern rules one policy may hold.
pub const MAX_RULES: usize = 200_000;
/// Largest total size of all keyword phrases, in bytes.
pub const MAX_KEYWORD_BYTES: usize = 8 << 20;
/// Up to this many distinct phrases the keyword automaton is a DFA (fastest; memory grows with
/// the count); above it, a contiguous NFA.
const DFA_MAX_PHRASES: usize = 5_000;

/// A keyword phrase and the points it adds.
#[derive(Clone, Debug, PartialEq)]
pub struct KeywordSpec {
    /// The phrase as written; folded like message text before matching.
    pub phrase: String,
    /// Points added when the phrase occurs (negative points count against the use case).
    pub weight: f64,
}

/// A named regular expression and the points it adds.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternSpec {
    /// The pattern's id, unique in the policy.
    pub id: String,
    /// The regular expression (Rust `regex` syntax, ASCII unless it opts in with `(?u)`).
    pub regex: String,
    /// Points added when the pattern matches.
    pub weight: f64,
    /// What the pattern recognises.
    pub description: Option<String>,
}

/// One use case of a policy, with its rules.
#[derive(Clone, Debug, PartialEq)]
pub struct UseCaseSpec {
    /// The use case.
    pub use_case: UseCase,
    /// Score at which the use case is detected; greater than zero.
    pub threshold: f64,
    /// What content belongs to it.
    pub description: Option<String>,
    /// Keyword rules.
    pub keywords: Vec<KeywordSpec>,
    /// Pattern rules.
    pub patterns: Vec<PatternSpec>,
}

/// How classification and registration combine into a verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecisionSpec {
    /// Severity of `content.unclassified` when the campaign does not register `Unknown`.
    pub unclassified: Severity,
    /// Use cases that must be registered whenever they are detected, even beside a registered one.
    pub restricted: Vec<UseCase>,
    /// Registration labels that stand for other use cases (`Mixed` → `CustomerCare`, ...).
    pub covers: Vec<(UseCase, Vec<UseCase>)>,
    /// Brand statuses that pass.
    pub accepted_brand_statuses: Vec<String>,
    /// Messages a day a campaign of each registration tier may send (tiers absent: no cap).
    pub daily_caps: Vec<(String, u64)>,
}

impl Default for DecisionSpec {
    fn default() -> Self {
        DecisionSpec {
            unclassified: Severity::Error,
            restricted: vec![UseCase::Marketing],
            covers: Vec::new(),
            accepted_brand_statuses: vec!["Verified".into(), "Confirmed".into()],
            daily_caps: vec![("LowVolume".into(), 6000)],
        }
    }
}

/// A whole policy as plain data, before compilation.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicySpec {
    /// The policy's name.
    pub name: String,
    /// The classifiable use cases, in the policy's order (ties in score go to the earlier one).
    pub use_cases: Vec<UseCaseSpec>,
    /// Decision settings.
    pub decision: DecisionSpec,
}

/// What a rule matches.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RuleKind {
    /// A phrase, matched on folded text at word boundaries.
    Keyword {
        /// The phrase as written.
        phrase: String,
    },
    /// A regular expression, matched on the original text.
    Pattern {
        /// The expression.
        regex: String,
    },
}

/// One scoring rule of a use case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The rule's id: the pattern's id, or `kw:` and the folded phrase for a keyword.
    pub id: String,
    /// Index of its use case in [`Policy::use_cases`].
    pub use_case: usize,
    /// Points it adds.
    pub weight: f64,
    /// What it matches.
    #[serde(flatten)]
    pub kind: RuleKind,
    /// What it recognises.
    pub description: Option<String>,
}

/// A use case of a compiled policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UseCaseDef {
    /// The use case.
    pub use_case: UseCase,
    /// Its detection threshold.
    pub threshold: f64,
    /// What content belongs to it.
    pub description: Option<String>,
}

/// A compiled policy: everything classification and decision need, built once.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) name: String,
    pub(crate) use_cases: Vec<UseCaseDef>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) decision: DecisionSpec,
    /// One automaton over every distinct folded phrase.
    pub(crate) keywords: Option<AhoCorasick>,
    /// For each automaton pattern, the range of `keyword_rules` it stands for.
    pub(crate) keyword_targets: Vec<Range<u32>>,
    /// Rule indices, grouped by automaton pattern.
    pub(crate) keyword_rules: Vec<u32>,
    /// One set over every pattern, to learn which match.
    pub(crate) pattern_set: Option<RegexSet>,
    /// Each pattern on its own, to find the span of one that matched.
    pub(crate) patterns: Vec<Regex>,
    /// For each pattern, its rule index.
    pub(crate) pattern_rules: Vec<u32>,
}

impl Policy {
    /// Compile a policy: fold every keyword, build the automaton and the regex set.
    pub fn compile(spec: PolicySpec) -> Result<Policy, CompileError> {
        let mut rules = Vec::new();
        let mut use_cases = Vec::with_capacity(spec.use_cases.len());
        // (folded phrase, rule index), grouped by phrase below.
        let mut phrases: Vec<(String, u32)> = Vec::new();
        let mut regex_sources = Vec::new();
        let mut pattern_rules = Vec::new();
        let mut keyword_bytes = 0usize;
        for (uc_index, uc) in spec.use_cases.into_iter().enumerate() {
            for kw in uc.keywords {
                let folded = fold(&kw.phrase);
                if folded.is_empty() {
                    return Err(CompileError::EmptyKeyword {
                        phrase: kw.phrase,
                        use_case: uc.use_case.to_string(),
                    });
                }
                keyword_bytes += folded.len();
                // The id uses the folded phrase, so it does not depend on how it was capitalised.
                let id = format!("kw:{folded}");
                phrases.push((folded, rules.len() as u32));
                rules.push(Rule {
                    id,
                    use_case: uc_index,
                    weight: kw.weight,
                    kind: RuleKind::Keyword { phrase: kw.phrase },
                    description: None,
                });
            }
            for p in uc.patterns {
                pattern_rules.push(rules.len() as u32);
                regex_sources.push(p.regex.clone());
                rules.push(Rule {
                    id: p.id,
                    use_case: uc_index,
                    weight: p.weight,
                    kind: RuleKind::Pattern { regex: p.regex },
                    description: p.description,
                });
            }
            use_cases.push(UseCaseDef {
                use_case: uc.use_case,
                threshold: uc.threshold,
                description: uc.description,
            });
        }
        if rules.len() > MAX_RULES {
            return Err(CompileError::Limit(format!(
                "the policy has {} rules; at most {MAX_RULES} are allowed",
                rules.len()
            )));
        }
        if keyword_bytes > MAX_KEYWORD_BYTES {
            return Err(CompileError::Limit(format!(
                "the policy's keywords total {keyword_bytes} bytes; at most {MAX_KEYWORD_BYTES} are allowed"
            )));
        }

        phrases.sort();
        let mut distinct: Vec<&str> = Vec::new();
        let mut keyword_targets: Vec<Range<u32>> = Vec::new();
        let mut keyword_rules = Vec::with_capacity(phrases.len());
        for (phrase, rule) in &phrases {
            if distinct.last() != Some(&phrase.as_str()) {
                distinct.push(phrase);
                let at = keyword_rules.len() as u32;
                keyword_targets.push(at..at);
            }
            keyword_rules.push(*rule);
            if let Some(last) = keyword_targets.last_mut() {
                last.end += 1;
            }
        }
        let keywords = if distinct.is_empty() {
            None
        } else {
            let kind = (distinct.len() <= DFA_MAX_PHRASES).then_some(AhoCorasickKind::DFA);
            Some(
                AhoCorasick::builder()
                    // Standard semantics with overlapping search: every phrase that occurs is
                    // reported, so one use case's phrase never hides another's.
                    .match_kind(MatchKind::Standard)
                    .kind(kind)
                    .build(&distinct)
                    .map_err(|e| CompileError::Keywords(e.to_string()))?,
            )
        };

        let regex_error = |i: usize, message: String| {
            let rule = &rules[pattern_rules[i] as usize];
            CompileError::Regex {
                id: rule.id.clone(),
                use_case: use_cases[rule.use_case].use_case.to_string(),
                message,
            }
        };
        let mut patterns = Vec::with_capacity(regex_sources.len());
        for (i, src) in regex_sources.iter().enumerate() {
            patterns.push(
                RegexBuilder::new(src)
                    .unicode(false)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| regex_error(i, e.to_string()))?,
            );
        }
        let pattern_set = if regex_sources.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(&regex_sources)
                    .unicode(false)
                    .size_limit(REGEX_SET_SIZE_LIMIT)
                    .build()
                    .map_err(|e| CompileError::Limit(format!("the set of all patterns: {e}")))?,
            )
        };

        Ok(Policy {
            name: spec.name,
            use_cases,
            rules,
            decision: spec.decision,
            keywords,
            keyword_targets,
            keyword_rules,
            pattern_set,
            patterns,
            pattern_rules,
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The classifiable use cases, in policy order.
    pub fn use_cases(&self) -> &[UseCaseDef] {
        &self.use_cases
    }

    /// Every scoring rule; evidence refers to them by index.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule at `index`.
    pub fn rule(&self, index: u32) -> &Rule {
        &self.rules[index as usize]
    }

    /// The decision settings.
    pub fn decision(&self) -> &DecisionSpec {
        &self.decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec() -> PolicySpec {
        PolicySpec {
            name: "test".into(),
            use_cases: vec![UseCaseSpec {
                use_case: UseCase::DeliveryNotification,
                threshold: 3.0,
                description: None,
                keywords: vec![KeywordSpec {
                    phrase: "Out for delivery".into(),
                    weight: 3.0,
                }],
                patterns: vec![PatternSpec {
                    id: "ups-tracking".into(),
                    regex: r"\b1Z[0-9A-Z]{16}\b".into(),
                    weight: 3.0,
                    description: None,
                }],
            }],
            decision: DecisionSpec::default(),
        }
    }

    #[test]
    fn compiles_and_indexes_rules() {
        let p = Policy::compile(spec()).unwrap();
        assert_eq!(p.rules().len(), 2);
        assert_eq!(p.rule(0).id, "kw:out for delivery");
        assert_eq!(p.rule(1).id, "ups-tracking");
        assert_eq!(p.keyword_targets, vec![0..1]);
    }

    #[test]
    fn refuses_bad_regex_and_empty_keyword() {
        let mut s = spec();
        s.use_cases[0].patterns[0].regex = "(unclosed".into();
        assert!(matches!(
            Policy::compile(s),
            Err(CompileError::Regex { .. })
        ));
        let mut s = spec();
        s.use_cases[0].keywords[0].phrase = " \u{200B} ".into();
        assert!(matches!(
            Policy::compile(s),
            Err(CompileError::EmptyKeyword { .. })
        ));
    }
}
