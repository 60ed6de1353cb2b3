//! The compiled policy: use cases, their rules, the matchers built from them, and the decision
//! settings.
//!
//! [`PolicySpec`] is plain data (the policy crate produces it from YAML or JSON);
//! [`Policy::compile`] turns it into the engine once, at load time.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::meta;
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use serde::Serialize;

use crate::anchored::AnchoredPhrases;
use crate::classify::PatternScratch;
use crate::error::CompileError;
use crate::normalize::{fold, fold_cow};
use crate::patterns::PatternMatcher;
use crate::severity::Severity;
use crate::span::Span;
use crate::use_case::UseCase;
use crate::words::{is_word_phrase, WordTable};

/// The next compiled policy's identity.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Compiled size limit of the set of all patterns together (the regex crate's units); one
/// pattern alone is held to the same limit.
pub const REGEX_SET_SIZE_LIMIT: usize = 32 << 20;
/// Capacity of the pattern set's lazy DFA cache, per classification scratch. The benchmark
/// corpus's 100,000 messages fill about 1 MiB. Text that would build many more states is
/// walked by the patterns' groups (`patterns::GROUPS`), so past this the cache is cleared
/// rarely: 2 MiB against 8 ran the labelled corpus ten times over (diverse text, each message
/// 10 times) in 0.52 against 0.47 s, for 1.1 MB less peak RSS, and other traffic the same
/// (bench/LOG.md). Its tables grow by doubling, so the memory it holds can pass its capacity.
/// Threads that classify at once may each get less ([`Policy::share_among_threads`]).
const LAZY_DFA_CACHE: usize = 2 << 20;
/// Largest number of keyword and pattern rules one policy may hold.
pub const MAX_RULES: usize = 200_000;
/// Largest total size of all keyword phrases, in bytes.
pub const MAX_KEYWORD_BYTES: usize = 8 << 20;
/// Up to this many phrases the keyword automaton is a DFA (fastest to search); above it, a
/// contiguous NFA. The automaton holds only the phrases that are not words alone (a few hundred
/// in the default policy); building a DFA for thousands costs about 100 million instructions
/// (15–25 ms) at every start, and a pre-send check is often one process per message.
const DFA_MAX_PHRASES: usize = 2_000;

/// A keyword phrase and the points it adds.
#[derive(Clone, Debug, PartialEq)]
pub struct KeywordSpec {
    /// The phrase as written; folded like message text before matching. Shared, so that the
    /// policy as data and its compiled rules hold one copy of each phrase.
    pub phrase: Arc<str>,
    /// Points added when the phrase occurs (negative points count against the use case).
    pub weight: f64,
    /// How the phrase folds, when the caller has folded it already.
    pub folding: Folding,
}

impl KeywordSpec {
    /// `phrase` adding `weight` points, folded when the policy compiles.
    pub fn new(phrase: impl Into<Arc<str>>, weight: f64) -> KeywordSpec {
        KeywordSpec {
            phrase: phrase.into(),
            weight,
            folding: Folding::Unknown,
        }
    }
}

/// How a keyword's phrase folds ([`crate::normalize::fold`]), as far as its caller knows: the
/// policy loader folds each phrase as it reads it, and compiling then need not fold the tens of
/// thousands of a learned layer again.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Folding {
    /// Not known: compiling folds the phrase.
    #[default]
    Unknown,
    /// The phrase folds to itself.
    Unchanged,
    /// The phrase folds to this text.
    To(String),
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

/// Points a use case takes from a content rule whose text clauses hold.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleEvidenceSpec {
    /// The content rule's id.
    pub rule: String,
    /// Points added when the rule's `match` holds and its `with`, `unless` and `require`
    /// allow it (whatever its severity, registration or brand).
    pub weight: f64,
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
    /// Content rules whose findings count as evidence.
    pub content_rules: Vec<RuleEvidenceSpec>,
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
    /// The IANA time zone whose midnight starts a campaign's day (`None`: UTC).
    pub time_zone: Option<String>,
}

impl Default for DecisionSpec {
    fn default() -> Self {
        DecisionSpec {
            unclassified: Severity::Error,
            restricted: vec![UseCase::Marketing],
            covers: Vec::new(),
            accepted_brand_statuses: vec!["Verified".into(), "Confirmed".into()],
            daily_caps: vec![("LowVolume".into(), 6000)],
            time_zone: None,
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
    /// Content rules, independent of use case.
    pub rules: Vec<ContentRuleSpec>,
    /// Names the sender goes by, for rules that require the message to name it.
    pub brand_names: Vec<String>,
    /// Patterns of template placeholders, which `lint` treats as slots.
    pub placeholders: Vec<String>,
}

/// Phrases and patterns that together make one clause of a content rule: it holds when any of
/// them matches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatcherSpec {
    /// Phrases, matched like use-case keywords.
    pub keywords: Vec<String>,
    /// Regular expressions, matched like use-case patterns.
    pub patterns: Vec<String>,
}

impl MatcherSpec {
    /// Whether the clause has nothing to match.
    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty() && self.patterns.is_empty()
    }
}

/// A content rule as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct ContentRuleSpec {
    /// Stable, lowercase dotted id, such as `marketing.opt_out_missing`.
    pub id: String,
    /// What the rule flags.
    pub description: Option<String>,
    /// Severity of a finding (before overrides).
    pub severity: Severity,
    /// What a finding tells the sender.
    pub message: String,
    /// Where to read more.
    pub link: Option<String>,
    /// The rule applies only when one of these use cases is detected (empty: always).
    pub when_detected: Vec<UseCase>,
    /// The rule fires when the text takes more segments than this.
    pub segments_over: Option<u32>,
    /// The rule fires when one of these matches ...
    pub matches: Option<MatcherSpec>,
    /// ... and one of these matches too (context) ...
    pub with: Option<MatcherSpec>,
    /// ... and none of these matches (negative evidence) ...
    pub unless: Option<MatcherSpec>,
    /// ... and, when given, none of these matches (the rule flags their absence).
    pub require: Option<MatcherSpec>,
    /// The rule flags a text that names none of the sender's brand names.
    pub require_brand: bool,
    /// The rule is lifted when the campaign registers one of these use cases.
    pub unless_use_case: Vec<UseCase>,
}

/// The part of a content rule a matcher belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Clause {
    /// `match`.
    Match,
    /// `with`.
    With,
    /// `unless`.
    Unless,
    /// `require`.
    Require,
}

/// What a keyword or pattern of the compiled matchers feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A scoring rule (index into `rules`).
    Score(u32),
    /// A clause of a content rule (index into `content_rules`).
    Clause(u32, Clause),
}

/// What one distinct phrase feeds: ranges of [`Policy`]'s `phrase_scores` and `phrase_clauses`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PhraseTargets {
    pub(crate) scores: Range<u32>,
    pub(crate) clauses: Range<u32>,
    /// Its scores as one row of [`Policy`]'s `score_rows`, or [`NO_ROW`].
    pub(crate) row: u32,
}

/// Lanes of a score row: one per use case, as many as a policy can have.
pub(crate) const LANES: usize = 16;

/// A phrase's points for every use case (zero where it has none), in hundredths, added in one
/// pass. Integers: a row of a learned layer's one-decimal weights is exact in hundredths, sums
/// of integers are exact in any order, and a row takes 32 bytes instead of 128 (fewer cache
/// lines loaded a phrase, and a quarter of the memory for the rows).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(32))]
pub(crate) struct ScoreRow(pub(crate) [i16; LANES]);

/// Points are held in rows as multiples of `1 / ROW_SCALE`.
pub(crate) const ROW_SCALE: f64 = 100.0;

/// Rows at most: with every lane at its largest, the sums of a message (each row added once)
/// still fit an `i32`.
const MAX_ROWS: usize = (i32::MAX as usize) / (i16::MAX as usize);

/// `weight` in hundredths, when it is a whole number of them that a row lane can hold.
fn in_hundredths(weight: f64) -> Option<i16> {
    let scaled = (weight * ROW_SCALE).round();
    // The division gives back the very weight only when the weight is the nearest double to a
    // number of hundredths: then the integer sums stand for the decimal sums exactly.
    #[allow(clippy::float_cmp, clippy::cast_possible_truncation)]
    (scaled.abs() <= f64::from(i16::MAX) && scaled / ROW_SCALE == weight).then_some(scaled as i16)
}

/// No score row: the phrase's scores are added one by one.
pub(crate) const NO_ROW: u32 = u32::MAX;

/// Scores from which a phrase gets a row. A phrase of the learned layer often carries evidence
/// for or against most use cases (a common word: 9 to 13 of them); adding those one by one
/// cost about 13 instructions each, a row a few vector additions (callgrind, with rows of
/// `f64` lanes: rows from 2, 3 or 4 scores measured within 0.1% of each other).
const ROW_MIN_SCORES: usize = 4;

/// A scoring rule a phrase feeds, with what the hot path needs of it inline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PhraseScore {
    pub(crate) rule: u32,
    pub(crate) use_case: u32,
    pub(crate) weight: f64,
}

/// A compiled content rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContentRule {
    /// Its id.
    pub id: String,
    /// The reason code its findings carry in `check`: `rule.` and the id.
    pub code: String,
    /// What it flags.
    pub description: Option<String>,
    /// Effective severity; `None` when turned off.
    pub severity: Option<Severity>,
    /// The severity the rule declares.
    pub default_severity: Severity,
    /// What a finding tells the sender.
    pub message: String,
    /// Where to read more.
    pub link: Option<String>,
    /// Applies only when one of these is detected (indices into the use cases; empty: always).
    pub when_detected: Vec<UseCase>,
    /// Fires above this many segments.
    pub segments_over: Option<u32>,
    /// Which clauses it has.
    pub has: [bool; 4],
    /// Requires a brand name.
    pub require_brand: bool,
    /// Lifted by these registrations.
    pub unless_use_case: Vec<UseCase>,
    /// Whether a use case counts it as evidence.
    pub(crate) counted: bool,
}

/// What a rule matches.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RuleKind {
    /// A phrase, matched on folded text at word boundaries.
    Keyword {
        /// The phrase as written.
        phrase: Arc<str>,
    },
    /// A regular expression, matched on the original text.
    Pattern {
        /// The expression.
        regex: Box<str>,
    },
    /// A content rule's text clauses, holding together.
    #[serde(rename = "content_rule")]
    ContentRule {
        /// The content rule's id.
        rule: Box<str>,
    },
}

/// One scoring rule of a use case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The rule's id: the pattern's id, or `kw:` and the folded phrase for a keyword.
    pub id: Arc<str>,
    /// Index of its use case in [`Policy::use_cases`].
    pub use_case: usize,
    /// Points it adds.
    pub weight: f64,
    /// What it matches.
    #[serde(flatten)]
    pub kind: RuleKind,
    /// What it recognises.
    pub description: Option<Box<str>>,
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
    /// Content rules.
    pub(crate) content_rules: Vec<ContentRule>,
    /// The policy's brand names, folded, for `require_brand`.
    pub(crate) brands: Option<BrandMatcher>,
    /// The phrases that are not words only, found from their anchor bytes.
    pub(crate) anchored: AnchoredPhrases,
    /// One automaton over the phrases that are neither words only nor anchored.
    pub(crate) keywords: Option<AhoCorasick>,
    /// For each automaton pattern, its phrase (index into `phrase_targets`).
    pub(crate) keyword_phrases: Vec<u32>,
    /// The phrases made of words only, looked up word by word.
    pub(crate) words: WordTable,
    /// Number of distinct phrases (automaton and word table together).
    pub(crate) phrase_count: usize,
    /// For each distinct phrase, what it feeds.
    pub(crate) phrase_targets: Vec<PhraseTargets>,
    /// The scoring rules of the phrases, grouped by phrase.
    pub(crate) phrase_scores: Vec<PhraseScore>,
    /// Score rows of the phrases that feed many use cases (see [`PhraseTargets::row`]).
    pub(crate) score_rows: Vec<ScoreRow>,
    /// For each distinct phrase, its row when the row is all it feeds, else [`NO_ROW`]: what a
    /// scan asks of most phrases, in 4 bytes a phrase instead of a [`PhraseTargets`]' 20 (a
    /// table small enough to stay in cache).
    pub(crate) row_only: Vec<u32>,
    /// The content-rule clauses of the phrases, grouped by phrase.
    pub(crate) phrase_clauses: Vec<(u32, Clause)>,
    /// One set over every pattern, to learn which match. Searched with a cache the caller
    /// keeps ([`crate::Classification`]), not one from a shared pool: a pool keyed by thread
    /// keeps a warm cache for every short-lived worker thread that ever used it.
    pub(crate) pattern_set: Option<PatternMatcher>,
    /// This compiled policy's identity, so a cache made for another policy is never used.
    pub(crate) id: u64,
    /// Warm pattern-set caches for [`Policy::classify`], which has no scratch of its own.
    pub(crate) spare_caches: SpareCaches,
    /// Each pattern's source, and the pattern compiled on its own the first time it is needed:
    /// to find a span (explanations, and the findings of rules that fire), and to ask whether
    /// it matches a text the set could not tell about. Most messages need neither.
    pub(crate) patterns: Vec<OnePattern>,
    /// What each pattern feeds.
    pub(crate) pattern_targets: Vec<Target>,
    /// The scoring rules that count a content rule's text clauses: (index into `rules`, index
    /// into `content_rules`).
    pub(crate) rule_evidence: Vec<(u32, u32)>,
    /// The content rules without a `match` clause, in order (the others fire only on a hit).
    pub(crate) rules_without_match: Vec<u32>,
    /// One regex for every placeholder shape (an alternation), for template slots.
    pub(crate) placeholders: Option<Regex>,
}

/// A pattern of the set, compiled on its own when first needed.
#[derive(Clone, Debug)]
pub(crate) struct OnePattern {
    source: String,
    /// For [`Policy::pattern`]: a whole regex, lazy DFA and all.
    alone: OnceLock<Option<Regex>>,
    /// For [`Policy::pattern_for_spans`], on texts of at most [`SPAN_BACKTRACK_MAX`] bytes.
    spans: OnceLock<Option<meta::Regex>>,
    /// For [`Policy::pattern_for_spans`], on longer texts.
    spans_long: OnceLock<Option<meta::Regex>>,
}

/// The longest text whose pattern spans the bounded backtracker finds: 4,096 bytes, more than
/// the 1,000 characters RingCentral accepts in a message take. Its cache keeps a bit for each
/// NFA state and text byte, a cache for each pattern, up to 256 KiB each: 64 KiB lines of
/// trigger-dense text held 2.9 MB of them, and the default policy's 117 patterns could hold
/// 29 MB. Up to this length they hold at most about 3.9 MB (its 7,876 NFA states, as counted
/// by a scratch build of each pattern's NFA). A longer text's
/// spans are found by the `PikeVM`, whose cache does not grow with the text, in the same time
/// on such lines: there the backtracker gives way to the `PikeVM` for a pattern of over 32
/// states anyway.
const SPAN_BACKTRACK_MAX: usize = 4096;

fn compile_one(src: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(src)
        .unicode(false)
        .size_limit(REGEX_SET_SIZE_LIMIT)
        .build()
}

/// What [`compile_one`] builds, as the same search (a byte regex, ASCII classes unless the
/// pattern opts in, the leftmost-first match), without the lazy DFA and the full DFA, and
/// without the bounded backtracker unless `backtrack`.
fn compile_for_spans(src: &str, backtrack: bool) -> Option<meta::Regex> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(REGEX_SET_SIZE_LIMIT))
                .which_captures(WhichCaptures::Implicit)
                .hybrid(false)
                .dfa(false)
                .backtrack(backtrack),
        )
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build(src)
        .ok()
}

/// Names the sender goes by, matched like keywords; built once (from the policy or `--brand`).
#[derive(Clone, Debug)]
pub struct BrandMatcher {
    automaton: AhoCorasick,
}

impl BrandMatcher {
    /// A matcher for `names`; `None` when no name has any letter or digit once folded.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Option<BrandMatcher> {
        let folded: Vec<String> = names
            .iter()
            .map(|n| fold(n.as_ref()))
            .filter(|n| !n.is_empty())
            .collect();
        if folded.is_empty() {
            return None;
        }
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&folded)
            .ok()
            .map(|automaton| BrandMatcher { automaton })
    }

    /// Whether the folded text names a brand at word boundaries.
    pub fn found_in(&self, text: &crate::NormalizedText<'_>) -> bool {
        let folded = text.folded();
        self.automaton
            .find_overlapping_iter(folded)
            .any(|m| crate::classify::at_word_boundaries(folded, m.start(), m.end()))
    }
}

impl Policy {
    /// Compile a policy: fold every keyword, build the automaton and the regex set.
    pub fn compile(spec: PolicySpec) -> Result<Policy, CompileError> {
        // Sized ahead: a learned layer's tens of thousands of keywords grew these lists by
        // doubling, copying each and touching fresh pages at every step.
        let rule_count: usize = (spec.use_cases.iter())
            .map(|uc| uc.keywords.len() + uc.patterns.len() + uc.content_rules.len())
            .sum();
        let keyword_count: usize = spec.use_cases.iter().map(|uc| uc.keywords.len()).sum();
        let clause_keywords: usize = (spec.rules.iter())
            .flat_map(|r| [&r.matches, &r.with, &r.unless, &r.require])
            .flatten()
            .map(|m| m.keywords.len())
            .sum();
        let phrase_bytes: usize = (spec.use_cases.iter())
            .flat_map(|uc| &uc.keywords)
            .map(|k| k.phrase.len())
            .sum();
        let mut rules = Vec::with_capacity(rule_count);
        let mut use_cases = Vec::with_capacity(spec.use_cases.len());
        // (folded phrase, what it feeds), grouped by phrase below. The folded phrases are kept
        // end to end in one string, by range, rather than in a string each: a learned layer
        // has tens of thousands.
        let mut folded_text = String::with_capacity(phrase_bytes);
        let mut phrases: Vec<(Range<usize>, Target)> =
            Vec::with_capacity(keyword_count + clause_keywords);
        let mut regex_sources: Vec<String> = Vec::new();
        let mut pattern_targets: Vec<Target> = Vec::new();
        // For compile errors: the rule id and owner of each pattern.
        let mut pattern_owners: Vec<(String, String)> = Vec::new();
        let mut keyword_bytes = 0usize;
        let mut rule_evidence: Vec<(u32, u32)> = Vec::new();
        let no_id: Arc<str> = Arc::from("");
        for (uc_index, uc) in spec.use_cases.into_iter().enumerate() {
            for kw in uc.keywords {
                let folded = match &kw.folding {
                    Folding::Unknown => fold_cow(&kw.phrase),
                    Folding::Unchanged => Cow::Borrowed(&*kw.phrase),
                    Folding::To(folded) => Cow::Borrowed(folded.as_str()),
                };
                if folded.is_empty() {
                    return Err(CompileError::EmptyKeyword {
                        phrase: kw.phrase.to_string(),
                        use_case: uc.use_case.to_string(),
                    });
                }
                keyword_bytes += folded.len();
                let start = folded_text.len();
                folded_text.push_str(&folded);
                phrases.push((start..folded_text.len(), Target::Score(rules.len() as u32)));
                rules.push(Rule {
                    // Given once the phrases are numbered: one id a distinct phrase.
                    id: Arc::clone(&no_id),
                    use_case: uc_index,
                    weight: kw.weight,
                    kind: RuleKind::Keyword { phrase: kw.phrase },
                    description: None,
                });
            }
            for p in uc.patterns {
                pattern_targets.push(Target::Score(rules.len() as u32));
                pattern_owners.push((p.id.clone(), uc.use_case.to_string()));
                regex_sources.push(p.regex.clone());
                rules.push(Rule {
                    id: p.id.into(),
                    use_case: uc_index,
                    weight: p.weight,
                    kind: RuleKind::Pattern {
                        regex: p.regex.into(),
                    },
                    description: p.description.map(String::into_boxed_str),
                });
            }
            for e in uc.content_rules {
                let Some(index) = spec.rules.iter().position(|r| r.id == e.rule) else {
                    return Err(CompileError::RuleEvidence {
                        rule: e.rule,
                        use_case: uc.use_case.to_string(),
                        message: "no content rule has this id".into(),
                    });
                };
                let target = &spec.rules[index];
                // A rule that waits for a detection would feed the scores it depends on.
                let problem = if target.matches.is_none() {
                    Some("the rule has no `match`, so nothing in the text makes it hold")
                } else if !target.when_detected.is_empty() {
                    Some("the rule applies only when a use case is detected, which its points would decide")
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(CompileError::RuleEvidence {
                        rule: e.rule,
                        use_case: uc.use_case.to_string(),
                        message: problem.into(),
                    });
                }
                rule_evidence.push((rules.len() as u32, index as u32));
                rules.push(Rule {
                    id: format!("rule:{}", e.rule).into(),
                    use_case: uc_index,
                    weight: e.weight,
                    kind: RuleKind::ContentRule {
                        rule: e.rule.into(),
                    },
                    description: None,
                });
            }
            use_cases.push(UseCaseDef {
                use_case: uc.use_case,
                threshold: uc.threshold,
                description: uc.description,
            });
        }
        let mut content_rules = Vec::with_capacity(spec.rules.len());
        for (index, r) in spec.rules.into_iter().enumerate() {
            let index = index as u32;
            let clauses = [
                (Clause::Match, &r.matches),
                (Clause::With, &r.with),
                (Clause::Unless, &r.unless),
                (Clause::Require, &r.require),
            ];
            let mut has = [false; 4];
            for (i, (clause, matcher)) in clauses.into_iter().enumerate() {
                let Some(m) = matcher else { continue };
                has[i] = true;
                for phrase in &m.keywords {
                    let folded = fold_cow(phrase);
                    if folded.is_empty() {
                        return Err(CompileError::EmptyKeyword {
                            phrase: phrase.clone(),
                            use_case: format!("rule {}", r.id),
                        });
                    }
                    keyword_bytes += folded.len();
                    let start = folded_text.len();
                    folded_text.push_str(&folded);
                    phrases.push((start..folded_text.len(), Target::Clause(index, clause)));
                }
                for regex in &m.patterns {
                    pattern_targets.push(Target::Clause(index, clause));
                    pattern_owners.push((r.id.clone(), format!("rule {}", r.id)));
                    regex_sources.push(regex.clone());
                }
            }
            content_rules.push(ContentRule {
                code: format!("rule.{}", r.id),
                id: r.id,
                description: r.description,
                severity: Some(r.severity),
                default_severity: r.severity,
                message: r.message,
                link: r.link,
                when_detected: r.when_detected,
                segments_over: r.segments_over,
                has,
                require_brand: r.require_brand,
                unless_use_case: r.unless_use_case,
                counted: rule_evidence.iter().any(|&(_, c)| c == index),
            });
        }
        let rules_without_match: Vec<u32> = content_rules
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.has[0])
            .map(|(i, _)| i as u32)
            .collect();
        let matcher_count = phrases.len() + regex_sources.len();
        if matcher_count > MAX_RULES {
            return Err(CompileError::Limit(format!(
                "the policy has {matcher_count} keywords and patterns; at most {MAX_RULES} are allowed"
            )));
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

        // Number the distinct phrases in order of first appearance (a hash lookup each; sorting
        // the phrases themselves compared strings a million times for a learned layer), then
        // group each phrase's targets by sorting those numbers.
        let mut numbers: HashMap<&str, u32, foldhash::fast::FixedState> =
            HashMap::with_capacity_and_hasher(phrases.len(), foldhash::fast::FixedState::default());
        let mut distinct: Vec<&str> = Vec::with_capacity(phrases.len());
        let mut numbered: Vec<(u32, Target)> = Vec::with_capacity(phrases.len());
        for (range, target) in &phrases {
            let phrase = folded_text.get(range.clone()).unwrap_or_default();
            let number = *numbers.entry(phrase).or_insert_with(|| {
                distinct.push(phrase);
                (distinct.len() - 1) as u32
            });
            numbered.push((number, *target));
        }
        // What is built only to be read once is freed as soon as it is read, not at the end:
        // building the automata, below, is the peak of a policy load, and with these lists and
        // the map (sized for every phrase) freed first, the heap's peak of a default policy
        // load is 10.0 MB, not 13.6 (massif).
        drop((numbers, phrases));
        // Each keyword rule's id, one string a distinct phrase, and its phrase, one string for
        // every rule that writes it alike: a learned layer gives a phrase to several use cases
        // (the default policy's 33,032 phrases are 8,871 distinct ones), and a string a rule
        // held more than a megabyte more. In rule order, as the phrases were listed: a pass by
        // phrase missed the cache at each rule, and a load of the default policy took 1.5 ms
        // more, not 0.4.
        let mut firsts: Vec<Option<(Arc<str>, Arc<str>)>> = vec![None; distinct.len()];
        let mut buf = String::new();
        for &(number, target) in &numbered {
            let Target::Score(r) = target else { continue };
            let Some(rule) = rules.get_mut(r as usize) else {
                continue;
            };
            let RuleKind::Keyword { phrase } = &mut rule.kind else {
                continue;
            };
            let first = &mut firsts[number as usize];
            if let Some((id, seen)) = first {
                rule.id = Arc::clone(id);
                if *seen == *phrase {
                    *phrase = Arc::clone(seen);
                }
            } else {
                // The id uses the folded phrase, so it does not depend on how it was
                // capitalised. Built by hand: `format!` was a tenth of compiling a learned
                // policy.
                buf.clear();
                buf.push_str("kw:");
                buf.push_str(distinct[number as usize]);
                rule.id = Arc::from(buf.as_str());
                *first = Some((Arc::clone(&rule.id), Arc::clone(phrase)));
            }
        }
        drop(firsts);
        // Grouped by phrase number with a counting sort (the numbers are dense), then each
        // group's few targets in order: the order sorting the pairs gives, at a fraction of the
        // cost (sorting the 26,300 pairs of the default policy was 7.6 million instructions).
        let mut starts = vec![0usize; distinct.len() + 1];
        for &(number, _) in &numbered {
            starts[number as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut grouped = numbered.clone();
        let mut next = starts.clone();
        for &(number, target) in &numbered {
            grouped[next[number as usize]] = (number, target);
            next[number as usize] += 1;
        }
        for group in starts.windows(2) {
            grouped[group[0]..group[1]].sort_unstable();
        }
        drop(numbered);
        let numbered = grouped;
        let mut phrase_targets: Vec<PhraseTargets> = Vec::with_capacity(distinct.len());
        let mut phrase_scores = Vec::with_capacity(keyword_count);
        let mut phrase_clauses = Vec::new();
        for &(number, target) in &numbered {
            if phrase_targets.len() as u32 == number {
                let (s, c) = (phrase_scores.len() as u32, phrase_clauses.len() as u32);
                phrase_targets.push(PhraseTargets {
                    scores: s..s,
                    clauses: c..c,
                    row: NO_ROW,
                });
            }
            let Some(last) = phrase_targets.last_mut() else {
                continue;
            };
            match target {
                Target::Score(rule) => {
                    let r = &rules[rule as usize];
                    phrase_scores.push(PhraseScore {
                        rule,
                        use_case: r.use_case as u32,
                        weight: r.weight,
                    });
                    last.scores.end += 1;
                }
                Target::Clause(rule, clause) => {
                    phrase_clauses.push((rule, clause));
                    last.clauses.end += 1;
                }
            }
        }
        drop((numbered, starts, next));
        // A row adds each use case's points at once, so it gives the same sums as adding them
        // one by one only when no use case takes two of the phrase's scores.
        let mut score_rows: Vec<ScoreRow> = Vec::new();
        if use_cases.len() <= LANES {
            for targets in &mut phrase_targets {
                let scores =
                    &phrase_scores[targets.scores.start as usize..targets.scores.end as usize];
                if scores.len() < ROW_MIN_SCORES {
                    continue;
                }
                if score_rows.len() == MAX_ROWS {
                    break;
                }
                let mut row = ScoreRow([0; LANES]);
                let mut taken = 0u32;
                let mut exact = true;
                for t in scores {
                    taken |= 1 << t.use_case;
                    match in_hundredths(t.weight) {
                        Some(points) => row.0[t.use_case as usize] = points,
                        None => exact = false,
                    }
                }
                if exact && taken.count_ones() as usize == scores.len() {
                    targets.row = score_rows.len() as u32;
                    score_rows.push(row);
                }
            }
        }
        let row_only = phrase_targets
            .iter()
            .map(|t| if t.clauses.is_empty() { t.row } else { NO_ROW })
            .collect();
        // (phrase, number), the pairs the word table and the anchors take.
        let (word_phrases, other_phrases): (Vec<_>, Vec<_>) = distinct
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, i as u32))
            .partition(|(p, _)| is_word_phrase(p));
        let words = WordTable::new(word_phrases.iter().copied());
        let (anchored, other_phrases) = AnchoredPhrases::new(other_phrases.iter().copied());
        let keyword_phrases: Vec<u32> = other_phrases.iter().map(|&(_, i)| i).collect();
        let keywords = if other_phrases.is_empty() {
            None
        } else {
            let kind = (other_phrases.len() <= DFA_MAX_PHRASES).then_some(AhoCorasickKind::DFA);
            Some(
                AhoCorasick::builder()
                    // Standard semantics with overlapping search: every phrase that occurs is
                    // reported, so one use case's phrase never hides another's.
                    .match_kind(MatchKind::Standard)
                    .kind(kind)
                    .build(other_phrases.iter().map(|&(p, _)| p))
                    .map_err(|e| CompileError::Keywords(e.to_string()))?,
            )
        };
        let phrase_count = distinct.len();
        drop((word_phrases, other_phrases, distinct));
        drop(folded_text);

        let regex_error = |i: usize, message: String| {
            let (id, owner) = pattern_owners[i].clone();
            CompileError::Regex {
                id,
                use_case: owner,
                message,
            }
        };
        let pattern_set = if regex_sources.is_empty() {
            None
        } else {
            let built = PatternMatcher::new(&regex_sources, REGEX_SET_SIZE_LIMIT, LAZY_DFA_CACHE);
            match built {
                Ok(set) => Some(set),
                Err(e) => {
                    // Name the pattern at fault when one is, alone, too big or invalid.
                    for (i, src) in regex_sources.iter().enumerate() {
                        if let Err(one) = compile_one(src) {
                            return Err(regex_error(i, one.to_string()));
                        }
                    }
                    return Err(CompileError::Limit(format!("the set of all patterns: {e}")));
                }
            }
        };
        let patterns = regex_sources
            .into_iter()
            .map(|source| OnePattern {
                source,
                alone: OnceLock::new(),
                spans: OnceLock::new(),
                spans_long: OnceLock::new(),
            })
            .collect();

        let placeholders = if spec.placeholders.is_empty() {
            None
        } else {
            let alternation = spec
                .placeholders
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|");
            Some(placeholder_regex(alternation)?)
        };
        Ok(Policy {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            spare_caches: SpareCaches::default(),
            placeholders,
            name: spec.name,
            use_cases,
            rules,
            decision: spec.decision,
            content_rules,
            brands: BrandMatcher::new(&spec.brand_names),
            keywords,
            keyword_phrases,
            anchored,
            words,
            phrase_count,
            phrase_targets,
            phrase_scores,
            score_rows,
            row_only,
            phrase_clauses,
            pattern_set,
            patterns,
            pattern_targets,
            rule_evidence,
            rules_without_match,
        })
    }

    /// Share the pattern set's lazy-DFA states among `threads` threads that classify at once:
    /// each keeps a cache of the whole set of its own, which one thread may grow to 2 MiB and
    /// several to 3 MiB together, 1 MiB each at least.
    // With two threads on diverse text, caches of 1.5 MiB held 2.5-3 MB less than 2 MiB in the
    // same time; one thread took 7% more instructions on such text with 1.5 MiB, and the
    // benchmark corpus's 400,000 messages the same time either way (bench/LOG.md). The floor
    // is not lower because the benchmark corpus's states take about 1 MB: with 896 KiB a
    // worker its cache clears and 4 workers ran 1.9 times the instructions (bench/LOG.md).
    pub fn share_among_threads(&mut self, threads: usize) {
        let bytes = (3 * LAZY_DFA_CACHE / 2 / threads.max(1)).clamp(1 << 20, LAZY_DFA_CACHE);
        if let Some(set) = &mut self.pattern_set {
            if set.set_cache_capacity(bytes) {
                // Caches made before are for the old DFA: a new identity refuses them.
                self.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                self.spare_caches = SpareCaches::default();
            }
        }
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

    /// Pattern `index` compiled on its own (once; `None` if it cannot be).
    pub(crate) fn pattern(&self, index: usize) -> Option<&Regex> {
        let one = self.patterns.get(index)?;
        one.alone
            .get_or_init(|| compile_one(&one.source).ok())
            .as_ref()
    }

    /// Pattern `index` compiled on its own to find where it matches in a text it is known to
    /// match (once; `None` if it cannot be). Without a lazy DFA: each pattern's would keep a
    /// cache of states per thread, and on diverse text (the labelled corpus ten times over)
    /// those took 2 MB of a batch's peak RSS with `--jobs 1` and 14 MB with `--jobs 2`, for
    /// spans that its other engines find in 0.4% more instructions (`check` of 20,000 messages
    /// of the benchmark corpus).
    /// It is compiled for a text of `len` bytes: one over [`SPAN_BACKTRACK_MAX`] has a
    /// version of its own.
    pub(crate) fn pattern_for_spans(&self, index: usize, len: usize) -> Option<&meta::Regex> {
        let one = self.patterns.get(index)?;
        let short = len <= SPAN_BACKTRACK_MAX;
        let cell = if short { &one.spans } else { &one.spans_long };
        cell.get_or_init(|| compile_for_spans(&one.source, short))
            .as_ref()
    }

    /// The content rules.
    pub fn content_rules(&self) -> &[ContentRule] {
        &self.content_rules
    }

    /// The template placeholders in `text` (`{{name}}`, `%s`, ...), in order, not overlapping.
    pub fn placeholder_spans(&self, text: &str) -> Vec<Span> {
        self.placeholders.as_ref().map_or_else(Vec::new, |re| {
            re.find_iter(text.as_bytes())
                .map(|m| Span::new(m.start(), m.end()).snap_to_chars(text))
                .collect()
        })
    }

    /// The policy's own brand names, if it lists any.
    pub fn brands(&self) -> Option<&BrandMatcher> {
        self.brands.as_ref()
    }

    /// Set the severity of every content rule whose id is `selector` or starts with `selector.`
    /// (`None` turns them off); returns how many rules it changed. Apply broader selectors
    /// first: a later, narrower one wins.
    pub fn override_severity(&mut self, selector: &str, severity: Option<Severity>) -> usize {
        let mut changed = 0;
        for r in &mut self.content_rules {
            let applies = r.id == selector
                || (r.id.starts_with(selector) && r.id[selector.len()..].starts_with('.'))
                || selector == "*";
            if applies {
                r.severity = severity;
                changed += 1;
            }
        }
        changed
    }
}

/// A few pattern-set caches kept between [`Policy::classify`] calls: a fresh cache starts with
/// an empty lazy DFA, and evaluating a corpus or linting a catalog classifies message after
/// message.
#[derive(Debug, Default)]
// Boxed in the Vec too: a classification holds its scratch boxed, and handing the box back and
// forth moves a pointer instead of the large cache.
#[allow(clippy::vec_box)]
pub(crate) struct SpareCaches(Mutex<Vec<Box<PatternScratch>>>);

/// Caches kept; more callers at once than this just make their own.
const SPARE_CACHES: usize = 8;

impl SpareCaches {
    /// A spare cache, if one is kept.
    pub(crate) fn take(&self) -> Option<Box<PatternScratch>> {
        self.0.lock().ok()?.pop()
    }

    /// How many are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().map_or(0, |v| v.len())
    }

    /// Keep `scratch` for the next call, unless enough are kept.
    pub(crate) fn give(&self, scratch: Box<PatternScratch>) {
        if let Ok(mut spare) = self.0.lock() {
            if spare.len() < SPARE_CACHES {
                spare.push(scratch);
            }
        }
    }
}

impl Clone for SpareCaches {
    /// A clone starts with no spare caches (the policy's identity goes with it, so the caches
    /// would fit, but they are cheap to remake).
    fn clone(&self) -> Self {
        SpareCaches::default()
    }
}

/// The placeholder regex for `alternation`. Nearly every policy uses the built-in placeholder
/// list, and compiling it is most of the cost of loading a small policy (about 1 ms), so the
/// last one compiled is kept and shared (a `Regex` clone shares its compiled program).
fn placeholder_regex(alternation: String) -> Result<Regex, CompileError> {
    static LAST: Mutex<Option<(String, Regex)>> = Mutex::new(None);
    if let Ok(last) = LAST.lock() {
        if let Some((source, re)) = last.as_ref() {
            if *source == alternation {
                return Ok(re.clone());
            }
        }
    }
    let re = RegexBuilder::new(&alternation)
        .unicode(false)
        .size_limit(REGEX_SET_SIZE_LIMIT)
        .build()
        .map_err(|e| CompileError::Limit(format!("the placeholder patterns: {e}")))?;
    if let Ok(mut last) = LAST.lock() {
        *last = Some((alternation, re.clone()));
    }
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The span search finds what the whole regex finds: the same leftmost-first match, byte
    /// classes ASCII unless a pattern opts in, any bytes matched.
    #[test]
    fn spans_are_found_as_the_whole_regex_finds_them() {
        let patterns = [
            r"(?i)\breply\s+(yes|y)\b.*\b(no|n)\b",
            r"\$\d[\d,]*(\.\d\d)?",
            r"(?i)\b(code|pin)\b[^0-9\n]{0,20}\b\d{4,8}\b",
            r"(?u)\bcafé\b",
            r"\w+",
            r"(?u)\w+",
            r"a|ab",
            r"\b",
            r"x*",
            r"[^a]",
        ];
        let texts: [&[u8]; 9] = [
            b"",
            b"Reply YES to confirm or NO to cancel",
            b"Your code: 123456. Total $1,250.00",
            "un café, deux cafés".as_bytes(),
            "été ab".as_bytes(),
            b"\xff\xfeab\xe9",
            b"pin is 1234\nPIN 99",
            b"ab",
            b"   ",
        ];
        for src in patterns {
            let (Ok(whole), Some(short), Some(long)) = (
                compile_one(src),
                compile_for_spans(src, true),
                compile_for_spans(src, false),
            ) else {
                panic!("{src} compiles");
            };
            for text in texts {
                let expected = whole.find(text).map(|m| m.range());
                assert_eq!(
                    short.find(text).map(|m| m.range()),
                    expected,
                    "{src} on {text:?}"
                );
                assert_eq!(
                    long.find(text).map(|m| m.range()),
                    expected,
                    "{src} on {text:?}"
                );
            }
        }
    }

    /// A text over [`SPAN_BACKTRACK_MAX`] bytes has its spans found by the version without the
    /// backtracker, and a shorter one by the other: each is built only when needed.
    #[test]
    fn long_texts_have_spans_found_without_the_backtracker() {
        let p = Policy::compile(spec()).unwrap();
        let tracking = "1Z999AA10123456784";
        let long = format!("{}{tracking}", "x ".repeat(SPAN_BACKTRACK_MAX / 2));
        let at = long.len() - tracking.len();
        assert_eq!(p.pattern_span(0, &long), Some(Span::new(at, long.len())));
        assert!(p.patterns[0].spans.get().is_none());
        assert!(p.patterns[0].spans_long.get().is_some());
        let short = &long[long.len() - SPAN_BACKTRACK_MAX..];
        let at = short.len() - tracking.len();
        assert_eq!(p.pattern_span(0, short), Some(Span::new(at, short.len())));
        assert!(p.patterns[0].spans.get().is_some());
    }

    #[test]
    fn row_lanes_hold_whole_hundredths_only() {
        assert_eq!(in_hundredths(0.1), Some(10));
        assert_eq!(in_hundredths(-4.4), Some(-440));
        assert_eq!(in_hundredths(0.07), Some(7));
        assert_eq!(in_hundredths(327.67), Some(i16::MAX));
        assert_eq!(in_hundredths(0.125), None);
        assert_eq!(in_hundredths(0.1 + 0.2), None);
        assert_eq!(in_hundredths(400.0), None);
        assert_eq!(in_hundredths(f64::NAN), None);
        assert_eq!(in_hundredths(f64::INFINITY), None);
    }

    pub(crate) fn spec() -> PolicySpec {
        PolicySpec {
            name: "test".into(),
            use_cases: vec![UseCaseSpec {
                content_rules: vec![],
                use_case: UseCase::DeliveryNotification,
                threshold: 3.0,
                description: None,
                keywords: vec![KeywordSpec::new("Out for delivery", 3.0)],
                patterns: vec![PatternSpec {
                    id: "ups-tracking".into(),
                    regex: r"\b1Z[0-9A-Z]{16}\b".into(),
                    weight: 3.0,
                    description: None,
                }],
            }],
            decision: DecisionSpec::default(),
            rules: Vec::new(),
            brand_names: Vec::new(),
            placeholders: Vec::new(),
        }
    }

    /// A learned layer gives one phrase to several use cases: its rules hold one id and, where
    /// they write the phrase alike, one phrase between them.
    #[test]
    fn keyword_rules_share_their_id_and_phrase() {
        let mut spec = spec();
        let mut other = spec.use_cases[0].clone();
        other.use_case = UseCase::Marketing;
        other.patterns.clear();
        other.keywords = vec![
            KeywordSpec::new("Out for delivery", 1.0),
            KeywordSpec::new("OUT FOR DELIVERY", 2.0),
            KeywordSpec::new("in transit", 1.0),
        ];
        spec.use_cases.push(other);
        let p = Policy::compile(spec).unwrap();
        let keyword = |i: u32| {
            let rule = p.rule(i);
            let RuleKind::Keyword { phrase } = &rule.kind else {
                panic!("rule {i} is a keyword");
            };
            (&rule.id, phrase)
        };
        let (first, alike, upper, transit) = (keyword(0), keyword(2), keyword(3), keyword(4));
        assert_eq!(&**first.0, "kw:out for delivery");
        assert!(Arc::ptr_eq(first.0, alike.0) && Arc::ptr_eq(first.0, upper.0));
        assert!(Arc::ptr_eq(first.1, alike.1));
        assert_eq!(
            (&**upper.1, &**transit.0),
            ("OUT FOR DELIVERY", "kw:in transit")
        );
        assert!(!Arc::ptr_eq(first.1, upper.1));
        assert_eq!(&*p.rule(1).id, "ups-tracking");
        // 72 bytes a rule: a learned layer has tens of thousands (2.3 MB for the default
        // policy's 32,036; they were 96 bytes).
        assert!(std::mem::size_of::<Rule>() <= 72);
    }

    #[test]
    fn compiles_and_indexes_rules() {
        let p = Policy::compile(spec()).unwrap();
        assert_eq!(p.rules().len(), 2);
        assert_eq!(&*p.rule(0).id, "kw:out for delivery");
        assert_eq!(&*p.rule(1).id, "ups-tracking");
        assert_eq!(
            p.phrase_targets,
            vec![PhraseTargets {
                scores: 0..1,
                clauses: 0..0,
                row: NO_ROW,
            }]
        );
    }

    #[test]
    fn refuses_policies_over_the_size_limits() {
        let mut s = spec();
        s.use_cases[0].keywords = (0..=MAX_RULES)
            .map(|i| KeywordSpec::new(format!("k{i}"), 1.0))
            .collect();
        let err = Policy::compile(s).unwrap_err();
        assert!(matches!(err, CompileError::Limit(_)), "{err}");
        assert!(err.to_string().contains("at most 200000"), "{err}");

        let mut s = spec();
        s.use_cases[0].keywords = vec![KeywordSpec::new("a".repeat(MAX_KEYWORD_BYTES + 1), 1.0)];
        let err = Policy::compile(s).unwrap_err();
        assert!(err.to_string().contains("keywords total"), "{err}");
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
