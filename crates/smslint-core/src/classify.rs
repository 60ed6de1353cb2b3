//! Scoring a message against every use case of a policy.

use std::ops::Range;

use serde::Serialize;

use crate::normalize::NormalizedText;
use crate::patterns::{Found, MatcherCache, Untold, Walk};
use crate::policy::{Clause, PhraseTargets, Policy, ScoreRow, Target, LANES, NO_ROW, ROW_SCALE};
use crate::span::Span;
use crate::use_case::UseCase;
use crate::words::is_word_char;

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
    /// Where; `None` for a pattern unless in [`Detail::Evidence`] mode, found on demand
    /// ([`Policy::clause_span`]).
    pub span: Option<Span>,
    /// The pattern that matched, when a pattern did.
    #[serde(skip)]
    pub pattern: Option<u32>,
    /// Whether more than one phrase or pattern hit the clause and a pattern's span was left
    /// to find: `span` is then the earliest phrase's, if any, and the first occurrence is the
    /// earliest of it and every pattern of the clause.
    #[serde(skip)]
    pub(crate) contested: bool,
}

/// A phrase found in [`Detail::Detected`]: its scores (a range of the policy's phrase scores)
/// and where it is in the folded text.
#[derive(Clone, Debug, PartialEq)]
struct FoundPhrase {
    scores: Range<u32>,
    at: Range<u32>,
}

impl FoundPhrase {
    fn new(targets: &PhraseTargets, at: &Range<usize>) -> FoundPhrase {
        FoundPhrase {
            scores: targets.scores.clone(),
            at: at.start as u32..at.end as u32,
        }
    }
}

/// What searching a policy's pattern set needs between messages.
#[derive(Clone, Debug)]
pub(crate) struct PatternScratch {
    /// The [`Policy`] the cache belongs to.
    policy: u64,
    cache: MatcherCache,
    matched: Found,
}

impl PartialEq for PatternScratch {
    /// Scratch never makes two classifications differ.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// How much a classification records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Scores, and evidence with spans for every rule (for explaining).
    Evidence,
    /// Scores only: no evidence, no pattern spans (the hot path of `check`).
    Scores,
    /// Scores, and evidence with spans for the detected use cases only (what a line of
    /// `classify` shows): the others' evidence is left empty, which spares sorting it and
    /// searching their patterns a second time for spans.
    Detected,
}

/// The result of classifying one message.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Classification {
    /// Every use case of the policy, in policy order.
    pub scores: Vec<UseCaseScore>,
    /// Indices into `scores` of the detected use cases, highest score first (ties: policy order).
    pub ranking: Vec<usize>,
    /// The content-rule clauses that matched, by rule then clause: the same scan as the scores.
    pub clause_hits: Vec<ClauseHit>,
    /// Phrases already counted, as a bitset (scratch, reused between messages).
    #[serde(skip)]
    seen: Vec<u64>,
    /// The phrases' points per use case, summed apart from `scores` (scratch, at least as long
    /// as `scores`).
    #[serde(skip)]
    sums: Vec<f64>,
    /// The points of the phrases' score rows per use case, in `1 / ROW_SCALE` (scratch).
    #[serde(skip)]
    row_sums: [i32; LANES],
    /// The scoring rules whose pattern matched, as (rule, pattern), for their evidence once
    /// the detected use cases are known, in [`Detail::Detected`] (scratch, empty between
    /// messages).
    #[serde(skip)]
    found_patterns: Vec<(u32, u32)>,
    /// The phrases found, for their evidence once the detected use cases are known, in
    /// [`Detail::Detected`] (scratch, empty between messages).
    #[serde(skip)]
    found_phrases: Vec<FoundPhrase>,
    /// Word boundaries of the folded text (scratch, reused between messages).
    #[serde(skip)]
    words: Vec<crate::words::Word>,
    /// The pattern set's search cache and results (scratch, reused between messages). Boxed:
    /// the cache is large, and it is taken out and put back for every message.
    #[serde(skip)]
    patterns: Option<Box<PatternScratch>>,
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

    /// The hit of one clause of one content rule, if it matched.
    pub fn clause_hit(&self, rule: u32, clause: Clause) -> Option<&ClauseHit> {
        self.clause_hits
            .iter()
            .find(|h| h.rule == rule && h.clause == clause)
    }

    /// Take a copy of the pattern set's search states that `other`, a scratch of
    /// [`Policy::classify_into`], has built, in place of this one's: a thread that starts on a
    /// policy's texts after another has classified some builds again only the states those
    /// did not need. Scores never depend on it. Nothing changes when `other` holds none.
    // A batch's helper threads each built the states the first lines need, and those are
    // most of a run's (the default policy: 123 of 163 million instructions of state building
    // in the first 1,000 of 50,000 benchmark messages, bench/LOG.md).
    pub fn copy_search_states_from(&mut self, other: &Classification) {
        if let Some(scratch) = &other.patterns {
            self.patterns = Some(scratch.clone());
        }
    }
}

impl Policy {
    /// Score `text` against every use case, with the evidence behind each score.
    pub fn classify(&self, text: &NormalizedText<'_>) -> Classification {
        let mut out = Classification::default();
        self.classify_into(text, &mut out, Detail::Evidence);
        // The pattern-set cache goes back to the policy, warm for the next call.
        if let Some(scratch) = out.patterns.take() {
            self.spare_caches.give(scratch);
        }
        // A result, not a buffer for the next message: kept by the thousand (`lint` keeps
        // every template's), the phrase bitset alone was 4 KB each with the default policy.
        out.seen = Vec::new();
        out.sums = Vec::new();
        out.words = Vec::new();
        out.found_patterns = Vec::new();
        out.found_phrases = Vec::new();
        out
    }

    /// Score `text` into `out`, reusing its buffers: the per-message path of batches.
    pub fn classify_into(
        &self,
        text: &NormalizedText<'_>,
        out: &mut Classification,
        detail: Detail,
    ) {
        // The last message's scores are this policy's use cases, most of the time: reset in
        // place rather than rebuilt, which dropped and made a list of evidence for each.
        let same = out.scores.len() == self.use_cases.len()
            && out
                .scores
                .iter()
                .zip(&self.use_cases)
                .all(|(s, u)| s.use_case == u.use_case);
        if same {
            for (s, u) in out.scores.iter_mut().zip(&self.use_cases) {
                s.score = 0.0;
                s.threshold = u.threshold;
                s.evidence.clear();
            }
        } else {
            out.scores.clear();
            out.scores
                .extend(self.use_cases.iter().map(|u| UseCaseScore {
                    use_case: u.use_case.clone(),
                    score: 0.0,
                    threshold: u.threshold,
                    evidence: Vec::new(),
                }));
        }
        out.ranking.clear();
        out.clause_hits.clear();
        out.found_patterns.clear();
        out.found_phrases.clear();
        out.seen.clear();
        out.seen.resize(self.phrase_count.div_ceil(64), 0);
        out.sums.clear();
        out.sums.resize(self.use_cases.len(), 0.0);
        out.row_sums = [0; LANES];

        let folded = text.folded();
        let original = text.original();
        let mut scratch = self.pattern_set.as_ref().map(|set| {
            let mut scratch = match out.patterns.take() {
                Some(s) if s.policy == self.id => s,
                _ => self.spare_caches.take().unwrap_or_else(|| {
                    Box::new(PatternScratch {
                        policy: self.id,
                        cache: set.create_cache(),
                        matched: Found::new(set.pattern_len()),
                    })
                }),
            };
            scratch.matched.clear();
            scratch
        });
        // The pattern walk over the original goes along with the split of the folded text
        // into words, a word at a time: its transitions are a chain of loads, each waiting on
        // the last, and the words' lookups run while they wait. Against a walk of the whole
        // text after the words: library 11-13% more messages a second, `check --batch` 6-8%
        // less time, for 1,440 more instructions a message (bench/LOG.md).
        let mut walk = match (&self.pattern_set, &mut scratch) {
            (Some(set), Some(scratch)) => {
                let PatternScratch { cache, matched, .. } = &mut **scratch;
                set.begin(cache, original.as_bytes(), matched)
            }
            _ => None,
        };
        let mut words = std::mem::take(&mut out.words);
        self.words.find_with(
            folded,
            &mut words,
            |end| {
                if let Some(walk) = &mut walk {
                    walk.advance(text.original_end(end));
                }
            },
            |phrase, at| {
                self.phrase_found(out, phrase, at, text, detail);
            },
        );
        out.words = words;
        self.anchored.find(folded, |phrase, at| {
            self.phrase_found(out, phrase, at, text, detail);
        });
        if let Some(ac) = &self.keywords {
            for m in ac.find_overlapping_iter(folded) {
                if at_word_boundaries(folded, m.start(), m.end()) {
                    let phrase = self.keyword_phrases[m.pattern().as_usize()];
                    self.phrase_found(out, phrase, m.range(), text, detail);
                }
            }
        }
        for ((score, sum), rows) in out.scores.iter_mut().zip(&out.sums).zip(out.row_sums) {
            score.score = *sum + f64::from(rows) / ROW_SCALE;
        }
        let walked = walk.map(Walk::finish);
        if let (Some(set), Some(mut scratch)) = (&self.pattern_set, scratch) {
            let bytes = original.as_bytes();
            let told = match walked {
                Some(told) => told,
                None => set.which_match(&mut scratch.cache, bytes, &mut scratch.matched),
            };
            if let Err(untold) = told {
                // Patterns the set could not tell about (a Unicode word boundary met a
                // non-ASCII byte): each on its own, compiled with the same settings, answers.
                if untold == Untold::All {
                    scratch.matched.clear();
                }
                for i in set.untold(untold) {
                    if self.pattern(i).is_some_and(|re| re.is_match(bytes)) {
                        scratch.matched.insert(i);
                    }
                }
            }
            for &i in scratch.matched.sorted() {
                let i = i as usize;
                let target = self.pattern_targets[i];
                let span = || self.pattern_span(i, original).unwrap_or_default();
                self.record(out, target, detail, Some(&span), Some(i as u32));
            }
            out.patterns = Some(scratch);
        }
        // Content rules that count for a use case, once every clause hit is known (out of
        // line: most messages have no clause hit).
        if !self.rule_evidence.is_empty() && !out.clause_hits.is_empty() {
            self.count_rule_evidence(out, text, detail);
        }

        for s in &mut out.scores {
            // Sums of decimal weights pick up binary noise (0.1 + 0.2); scores are reported
            // and compared at a precision far finer than any policy uses. Noise below zero
            // rounds to -0.0; adding +0.0 makes it 0, as an exact sum (the score rows') gives.
            s.score = round_half_away(s.score * 1e6) / 1e6 + 0.0;
        }
        if detail == Detail::Detected {
            self.detected_evidence(out, text);
        }
        for s in &mut out.scores {
            s.evidence
                .sort_by_key(|e| (e.span.start, e.span.end, e.rule));
        }
        let scores = &out.scores;
        out.ranking
            .extend((0..scores.len()).filter(|&i| scores[i].detected()));
        out.ranking
            .sort_by(|&a, &b| scores[b].score.total_cmp(&scores[a].score).then(a.cmp(&b)));
        out.clause_hits.sort_by_key(|h| (h.rule, h.clause));
    }

    /// [`Detail::Detected`]: the evidence of the phrases and patterns found, for the detected
    /// use cases only; the other use cases' evidence (a content rule's) dropped.
    #[inline(never)]
    fn detected_evidence(&self, out: &mut Classification, text: &NormalizedText<'_>) {
        for s in &mut out.scores {
            if !s.detected() {
                s.evidence.clear();
            }
        }
        // A pattern's span is a second search, made only for a detected use case.
        for &(rule, pattern) in &out.found_patterns {
            let Some(def) = self.rules.get(rule as usize) else {
                continue;
            };
            if let Some(score) = out.scores.get_mut(def.use_case).filter(|s| s.detected()) {
                score.evidence.push(Evidence {
                    rule,
                    span: self
                        .pattern_span(pattern as usize, text.original())
                        .unwrap_or_default(),
                    weight: def.weight,
                });
            }
        }
        out.found_patterns.clear();
        // Phrases add their evidence here, not as they are found: a phrase feeds several use
        // cases, and most are not detected.
        for found in &out.found_phrases {
            let scores = self
                .phrase_scores
                .get(found.scores.start as usize..found.scores.end as usize)
                .unwrap_or_default();
            let mut span = None;
            for t in scores {
                let Some(score) = out.scores.get_mut(t.use_case as usize) else {
                    continue;
                };
                if score.detected() {
                    let span = *span.get_or_insert_with(|| {
                        text.to_original(found.at.start as usize, found.at.end as usize)
                    });
                    score.evidence.push(Evidence {
                        rule: t.rule,
                        span,
                        weight: t.weight,
                    });
                }
            }
        }
        out.found_phrases.clear();
    }

    /// Count the first occurrence of a phrase (later ones add nothing: each of its rules counts
    /// once, and a clause keeps its first occurrence).
    // Inlined into the three scans that find phrases: the common case, a score row added
    // and no clause, is a few instructions, and as a call its register saves alone cost about
    // 50 instructions a phrase (callgrind). The rest is `phrase_found_in_full`.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn phrase_found(
        &self,
        out: &mut Classification,
        phrase: u32,
        at: Range<usize>,
        text: &NormalizedText<'_>,
        detail: Detail,
    ) {
        let (word, bit) = (phrase as usize / 64, 1u64 << (phrase % 64));
        let Some(seen) = out.seen.get_mut(word) else {
            return;
        };
        if *seen & bit != 0 {
            return;
        }
        *seen |= bit;
        if detail != Detail::Evidence {
            let row = self
                .row_only
                .get(phrase as usize)
                .copied()
                .unwrap_or(NO_ROW);
            if add_row(&mut out.row_sums, self.score_rows.get(row as usize)) {
                if let (Detail::Detected, Some(targets)) =
                    (detail, self.phrase_targets.get(phrase as usize))
                {
                    // Its evidence waits until the detected use cases are known.
                    out.found_phrases.push(FoundPhrase::new(targets, &at));
                }
                return;
            }
        }
        let Some(targets) = self.phrase_targets.get(phrase as usize) else {
            return;
        };
        self.phrase_found_in_full(out, targets, at, text, detail);
    }

    /// [`Policy::phrase_found`] past the first occurrence check, for every kind of phrase.
    #[inline(never)]
    fn phrase_found_in_full(
        &self,
        out: &mut Classification,
        targets: &PhraseTargets,
        at: Range<usize>,
        text: &NormalizedText<'_>,
        detail: Detail,
    ) {
        let scores = self
            .phrase_scores
            .get(targets.scores.start as usize..targets.scores.end as usize)
            .unwrap_or_default();
        if detail == Detail::Evidence {
            let span = text.to_original(at.start, at.end);
            for t in scores {
                if let (Some(sum), Some(score)) = (
                    out.sums.get_mut(t.use_case as usize),
                    out.scores.get_mut(t.use_case as usize),
                ) {
                    *sum += t.weight;
                    score.evidence.push(Evidence {
                        rule: t.rule,
                        span,
                        weight: t.weight,
                    });
                }
            }
        } else {
            if !add_row(&mut out.row_sums, self.score_rows.get(targets.row as usize)) {
                for t in scores {
                    if let Some(sum) = out.sums.get_mut(t.use_case as usize) {
                        *sum += t.weight;
                    }
                }
            }
            if detail == Detail::Detected {
                // Its evidence waits until the detected use cases are known.
                out.found_phrases.push(FoundPhrase::new(targets, &at));
            }
        }
        if targets.clauses.is_empty() {
            return;
        }
        let span = || text.to_original(at.start, at.end);
        for &(rule, clause) in
            &self.phrase_clauses[targets.clauses.start as usize..targets.clauses.end as usize]
        {
            self.record(out, Target::Clause(rule, clause), detail, Some(&span), None);
        }
    }

    /// Count one matched target: a scoring rule's points, a clause's hit at its first
    /// occurrence. Each target comes once per message (phrases are deduplicated by
    /// [`Policy::phrase_found`], and the pattern set reports each pattern once).
    fn record(
        &self,
        out: &mut Classification,
        target: Target,
        detail: Detail,
        span: Option<&dyn Fn() -> Span>,
        pattern: Option<u32>,
    ) {
        match target {
            Target::Score(rule) => {
                let def = &self.rules[rule as usize];
                let score = &mut out.scores[def.use_case];
                score.score += def.weight;
                if let (Detail::Detected, Some(pattern)) = (detail, pattern) {
                    // Its evidence waits until the use case is known to be detected.
                    out.found_patterns.push((rule, pattern));
                } else if detail != Detail::Scores {
                    let span = span.map_or_else(Span::default, |f| f());
                    score.evidence.push(Evidence {
                        rule,
                        span,
                        weight: def.weight,
                    });
                }
            }
            Target::Clause(rule, clause) => {
                // Pattern spans cost a second search: unless every span is asked for, they
                // wait until a rule fires and needs one.
                let span = if pattern.is_some() && detail != Detail::Evidence {
                    None
                } else {
                    span.map(|f| f())
                };
                match out
                    .clause_hits
                    .iter_mut()
                    .find(|h| h.rule == rule && h.clause == clause)
                {
                    Some(h) => match (span, h.span) {
                        (Some(new), Some(old)) => {
                            if new.start < old.start {
                                h.span = Some(new);
                                h.pattern = pattern;
                            }
                        }
                        // A pattern's span, left to find, competes with another hit: which
                        // comes first in the text is worked out only if a rule needs the span
                        // ([`Policy::clause_span`]), so that it is the one every mode reports.
                        (new, old) => {
                            h.span = old.or(new);
                            h.contested = true;
                        }
                    },
                    None => out.clause_hits.push(ClauseHit {
                        rule,
                        clause,
                        span,
                        pattern,
                        contested: false,
                    }),
                }
            }
        }
    }

    /// Add the points of the content rules that count for a use case and whose clauses hold.
    /// Driven by the `match` hits, which most messages have none of: asking every counted rule
    /// of every message with any clause hit cost about 240 instructions a message.
    #[inline(never)]
    fn count_rule_evidence(
        &self,
        out: &mut Classification,
        text: &NormalizedText<'_>,
        detail: Detail,
    ) {
        let mut next = 0;
        while let Some(&hit) = out.clause_hits.get(next) {
            next += 1;
            let Some(content) = self.content_rules.get(hit.rule as usize) else {
                continue;
            };
            if hit.clause != Clause::Match
                || !content.counted
                || Self::text_clauses(out, hit.rule, content.has).is_err()
            {
                continue;
            }
            let original = text.original();
            let span = || self.clause_span(&hit, original).unwrap_or_default();
            for &(rule, counted_rule) in &self.rule_evidence {
                if counted_rule == hit.rule {
                    // Scores only: `clause_hits` is not changed, so `next` stays right.
                    self.record(out, Target::Score(rule), detail, Some(&span), None);
                }
            }
        }
    }

    /// The `match` hit of content rule `rule` (`None` for a rule without `match`) when the
    /// rule's clauses hold on the text scanned into `out`: its `match` (when given) matched,
    /// and its `with`, `unless` and `require` allow it; `Err` when they do not.
    // Always inlined: `lint` asks it of every content rule for every message, and as a call it
    // cost about 170 instructions a message.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn text_clauses(
        out: &Classification,
        rule: u32,
        has: [bool; 4],
    ) -> Result<Option<&ClauseHit>, ()> {
        let [has_match, has_with, has_unless, has_require] = has;
        let hit = |clause| out.clause_hit(rule, clause);
        let matched = hit(Clause::Match);
        if has_match && matched.is_none()
            || has_with && hit(Clause::With).is_none()
            || has_unless && hit(Clause::Unless).is_some()
            || has_require && hit(Clause::Require).is_some()
        {
            return Err(());
        }
        Ok(matched)
    }

    /// The span of pattern `index`'s first match in `original`, widened to whole characters.
    pub(crate) fn pattern_span(&self, index: usize, original: &str) -> Option<Span> {
        let m = self
            .pattern_for_spans(index, original.len())?
            .find(original.as_bytes())?;
        // Byte-level patterns may stop inside a character; evidence covers whole ones.
        Some(Span::new(m.start(), m.end()).snap_to_chars(original))
    }

    /// Where a clause hit is in `original`, finding a pattern's span if it was not recorded.
    pub fn clause_span(&self, hit: &ClauseHit, original: &str) -> Option<Span> {
        if !hit.contested {
            return hit.span.or_else(|| {
                hit.pattern
                    .and_then(|p| self.pattern_span(p as usize, original))
            });
        }
        self.earliest(hit, 0..self.pattern_targets.len() as u32, original)
    }

    /// [`Policy::clause_span`] of a hit of `classification`, whose patterns that matched it
    /// are known: only those are searched again when the hit is contested.
    pub(crate) fn first_occurrence(
        &self,
        hit: &ClauseHit,
        classification: &Classification,
        original: &str,
    ) -> Option<Span> {
        match &classification.patterns {
            Some(scratch) if hit.contested => {
                self.earliest(hit, scratch.matched.list().iter().copied(), original)
            }
            _ => self.clause_span(hit, original),
        }
    }

    /// The first occurrence of a contested hit, as the scan would have kept it had it found
    /// every span: phrases first (`hit.span`), then the clause's patterns among `patterns` in
    /// order, a later one only when it starts earlier.
    fn earliest(
        &self,
        hit: &ClauseHit,
        patterns: impl Iterator<Item = u32>,
        original: &str,
    ) -> Option<Span> {
        let target = Target::Clause(hit.rule, hit.clause);
        patterns
            .filter(|&i| self.pattern_targets.get(i as usize) == Some(&target))
            .filter_map(|i| self.pattern_span(i as usize, original))
            .fold(hit.span, |best, span| match best {
                Some(b) if b.start <= span.start => Some(b),
                _ => Some(span),
            })
    }
}

/// Add a phrase's score row to the sums, when it has one (false when not).
#[inline]
fn add_row(sums: &mut [i32; LANES], row: Option<&ScoreRow>) -> bool {
    let Some(row) = row else {
        return false;
    };
    for (lane, &points) in sums.iter_mut().zip(&row.0) {
        *lane += i32::from(points);
    }
    true
}

/// `x.round()`, half away from zero, without a call: the baseline x86-64 target has no
/// rounding instruction, and calling libm's `round` for every score cost 75 instructions a
/// message more than this.
// Exact comparisons on purpose: the difference tested is exact.
#[allow(clippy::float_cmp)]
#[inline]
fn round_half_away(x: f64) -> f64 {
    // From 2^52 on, every f64 is an integer; below it, adding 2^52 and taking it away rounds
    // to the nearest integer, ties to even (both steps exact but the rounding).
    const INTEGERS: f64 = 4_503_599_627_370_496.0;
    let a = x.abs();
    if a.is_nan() || a >= INTEGERS {
        return x;
    }
    let mut r = (a + INTEGERS) - INTEGERS;
    // A tie went down to the even integer: away from zero instead. (`r - a` is exact.)
    if r - a == -0.5 {
        r += 1.0;
    }
    r.copysign(x)
}

/// Whether a match is not part of a longer word: the text on either side of a word character
/// at the match's edge must not be a word character.
pub(crate) fn at_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    // Most neighbours are ASCII: look at bytes, and decode a character only when needed.
    let bytes = text.as_bytes();
    let next = |i: usize| match bytes.get(i) {
        Some(&b) if b.is_ascii() => Some(char::from(b)),
        Some(_) => text[i..].chars().next(),
        None => None,
    };
    let prev = |i: usize| match i.checked_sub(1).map(|j| bytes[j]) {
        Some(b) if b.is_ascii() => Some(char::from(b)),
        Some(_) => text[..i].chars().next_back(),
        None => None,
    };
    let first_is_word = next(start).is_some_and(is_word_char);
    let last_is_word = prev(end).is_some_and(is_word_char);
    let before_is_word = prev(start).is_some_and(is_word_char);
    let after_is_word = next(end).is_some_and(is_word_char);
    !(first_is_word && before_is_word || last_is_word && after_is_word)
}

#[cfg(test)]
mod rounding {
    use proptest::prelude::*;

    use super::round_half_away;

    #[test]
    fn ties_and_edges_round_as_f64_round_does() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.499_999_999_999_999_94,
            1e15 + 0.5,
            4.5e15,
            4_503_599_627_370_495.5,
            9.1e18,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let (got, want) = (round_half_away(x), x.round());
            assert_eq!(got.to_bits(), want.to_bits(), "{x}: {got} against {want}");
        }
        assert!(round_half_away(f64::NAN).is_nan());
    }

    proptest! {
        #[test]
        fn it_is_f64_round(x in proptest::num::f64::ANY, k in -1_000_000_000i64..1_000_000_000) {
            prop_assert_eq!(round_half_away(x).to_bits(), x.round().to_bits());
            let tie = k as f64 + 0.5;
            prop_assert_eq!(round_half_away(tie).to_bits(), tie.round().to_bits());
            let score = k as f64 / 1e5 * 1e6;
            prop_assert_eq!(round_half_away(score).to_bits(), score.round().to_bits());
        }
    }
}

/// A policy of one use case with `keywords` and the patterns `regexes` (ids `p0`, `p1`, ...,
/// weight 1), for the tests.
#[cfg(test)]
fn one_use_case(
    name: &str,
    use_case: UseCase,
    threshold: f64,
    keywords: Vec<crate::policy::KeywordSpec>,
    regexes: impl IntoIterator<Item = String>,
) -> crate::policy::PolicySpec {
    use crate::policy::{DecisionSpec, PatternSpec, PolicySpec, UseCaseSpec};
    PolicySpec {
        name: name.into(),
        use_cases: vec![UseCaseSpec {
            content_rules: vec![],
            use_case,
            threshold,
            description: None,
            keywords,
            patterns: regexes
                .into_iter()
                .enumerate()
                .map(|(i, regex)| PatternSpec {
                    id: format!("p{i}"),
                    regex,
                    weight: 1.0,
                    description: None,
                })
                .collect(),
        }],
        decision: DecisionSpec::default(),
        rules: Vec::new(),
        brand_names: Vec::new(),
        placeholders: Vec::new(),
    }
}

#[cfg(test)]
mod walked_along_the_words {
    use proptest::prelude::*;

    use super::*;
    use crate::policy::KeywordSpec;

    /// Patterns that look across words, at their edges and at the ends of the text, with or
    /// without keywords (without, no word is split off and the walk is taken whole at the end).
    fn policy(keywords: bool) -> Policy {
        let patterns = [
            r"(?i)\bfree\b",
            r"(?i)\bcode\b[^\n]*\b\d{4,8}\b",
            r"(?i)\breply\s+(yes|y)\b",
            r"(?i)\$\d+(\.\d\d)?\s+off\b",
            r"(?i)\bstop$",
            r"(?i)^hi\b",
            r"café",
            r"\b[A-Z]{2,4}\s?\d{3}\b",
        ];
        let keywords = if keywords {
            vec![
                KeywordSpec::new("free", 1.0),
                KeywordSpec::new("reply yes", 1.0),
            ]
        } else {
            vec![]
        };
        Policy::compile(one_use_case(
            "w",
            UseCase::Marketing,
            3.0,
            keywords,
            patterns.iter().map(|&p| p.to_owned()),
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    proptest! {
        /// Texts folded in place and texts whose folding moves bytes (whitespace runs,
        /// spaced-out letters, accents dropped, full-width letters): the walk advanced a word
        /// at a time by the folded text's places finds what a walk of the whole original does.
        #[test]
        fn the_walk_along_the_words_finds_what_a_whole_walk_finds(
            texts in prop::collection::vec(
                "((free|FREE|F R E E|Ｆｒｅｅ|fréé|code|Code: 1234|12345|reply yes|Reply  Y|\\$5 off|\\$5\\.99  OFF|hi|stop|café|cafe|AB 123|ABC123|👍|x)( |  |\t|\n|, |\\.|-|))*",
                1..6,
            ),
        ) {
            for keywords in [true, false] {
                let p = policy(keywords);
                let set = p.pattern_set.as_ref().unwrap_or_else(|| panic!("patterns"));
                let mut fresh = set.create_cache();
                let mut out = Classification::default();
                for text in &texts {
                    p.classify_into(&NormalizedText::new(text), &mut out, Detail::Scores);
                    let got = out
                        .patterns
                        .as_ref()
                        .map(|s| s.matched.list().to_vec())
                        .unwrap_or_default();
                    let mut whole = Found::new(set.pattern_len());
                    prop_assert!(set.which_match(&mut fresh, text.as_bytes(), &mut whole).is_ok());
                    prop_assert_eq!(&got, &whole.sorted().to_vec(), "{:?}", text);
                    // With the walk's budget spent (a scratch made by an empty text first),
                    // the patterns' groups walk the text instead: the same patterns.
                    let mut spent = Classification::default();
                    p.classify_into(&NormalizedText::new(""), &mut spent, Detail::Scores);
                    let Some(MatcherCache::Lazy(caches)) =
                        spent.patterns.as_mut().map(|s| &mut s.cache)
                    else {
                        panic!("a lazy set");
                    };
                    caches.spend_budget();
                    p.classify_into(&NormalizedText::new(text), &mut spent, Detail::Scores);
                    let scratch = spent.patterns.as_ref().unwrap_or_else(|| panic!("patterns"));
                    let MatcherCache::Lazy(caches) = &scratch.cache else {
                        panic!("a lazy set");
                    };
                    prop_assert_eq!(caches.groups_walked(), !text.is_empty(), "{:?}", text);
                    prop_assert_eq!(scratch.matched.list(), &got[..], "{:?}", text);
                }
            }
        }
    }

    #[test]
    fn a_policy_shared_among_threads_classifies_as_before_with_caches_made_before() {
        let texts = [
            "FREE coffee, reply yes",
            "Your code is 123456",
            "$5 off today, reply Y",
            "hi",
        ];
        let before = policy(false);
        let mut p = policy(false);
        let mut out = Classification::default();
        // A scratch with a cache of the DFA that sharing replaces.
        p.classify_into(&NormalizedText::new(texts[0]), &mut out, Detail::Scores);
        let id = p.id;
        p.share_among_threads(2);
        assert_ne!(p.id, id, "the caches made before are refused");
        for text in texts {
            let n = NormalizedText::new(text);
            p.classify_into(&n, &mut out, Detail::Evidence);
            let want = before.classify(&n);
            assert_eq!(out.scores, want.scores, "{text}");
            assert_eq!(out.ranking, want.ranking, "{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{DecisionSpec, KeywordSpec, PatternSpec, PolicySpec, UseCaseSpec, NO_ROW};

    fn kw(phrase: &str, weight: f64) -> KeywordSpec {
        KeywordSpec::new(phrase, weight)
    }

    fn policy() -> Policy {
        Policy::compile(PolicySpec {
            name: "t".into(),
            use_cases: vec![
                UseCaseSpec {
                    content_rules: vec![],
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
                    content_rules: vec![],
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
    fn a_phrase_of_many_use_cases_adds_its_row_and_scores_as_one_by_one() {
        let spec = |u: UseCase, keywords: Vec<KeywordSpec>| UseCaseSpec {
            content_rules: vec![],
            use_case: u,
            threshold: 1.0,
            description: None,
            keywords,
            patterns: vec![],
        };
        // "sale" feeds five use cases (a row); "box" feeds five scores too, but two of them
        // Marketing's (no row: a row would add their sum at once, not each in turn); "ship" one.
        let p = Policy::compile(PolicySpec {
            name: "rows".into(),
            use_cases: vec![
                spec(
                    UseCase::Marketing,
                    vec![kw("sale", 2.5), kw("box", 0.1), kw("box", 0.2)],
                ),
                spec(
                    UseCase::DeliveryNotification,
                    vec![kw("sale", -0.7), kw("ship", 1.3), kw("box", 0.4)],
                ),
                spec(UseCase::CustomerCare, vec![kw("sale", 0.3), kw("box", 0.5)]),
                spec(UseCase::AccountNotification, vec![kw("sale", -1.1)]),
                spec(UseCase::FraudAlert, vec![kw("sale", 0.9), kw("box", 0.6)]),
            ],
            decision: DecisionSpec::default(),
            rules: Vec::new(),
            brand_names: Vec::new(),
            placeholders: Vec::new(),
        })
        .unwrap();
        let rows: Vec<u32> = p.phrase_targets.iter().map(|t| t.row).collect();
        assert_eq!(rows.iter().filter(|&&r| r != NO_ROW).count(), 1);
        assert_eq!(p.score_rows.len(), 1);
        for text in ["Big SALE: ship the box", "box box ship", "sale"] {
            let n = NormalizedText::new(text);
            let explained = p.classify(&n);
            let mut scored = Classification::default();
            p.classify_into(&n, &mut scored, Detail::Scores);
            let bits = |c: &Classification| -> Vec<u64> {
                c.scores.iter().map(|s| s.score.to_bits()).collect()
            };
            assert_eq!(bits(&explained), bits(&scored), "{text}");
            assert_eq!(explained.ranking, scored.ranking, "{text}");
        }
        let c = classify(&p, "Big SALE: ship the box");
        let score = |u: UseCase| c.scores.iter().find(|s| s.use_case == u).map(|s| s.score);
        assert_eq!(score(UseCase::Marketing), Some(2.8));
        assert_eq!(score(UseCase::DeliveryNotification), Some(1.0));
        assert_eq!(score(UseCase::AccountNotification), Some(-1.1));
    }

    #[test]
    fn phrases_past_the_anchored_limit_are_found_by_the_automaton() {
        // Forty phrases share one anchor key ("-g"): some are anchored, the rest go to the
        // automaton; each is found once, at word boundaries only.
        // Letters only: digits among letters would read as leetspeak.
        let name = |i: u8| {
            format!(
                "k{}{}-go",
                char::from(b'a' + i / 8),
                char::from(b'a' + i % 8)
            )
        };
        let keywords = (0..40).map(|i| kw(&name(i), 1.0)).collect();
        let p = Policy::compile(PolicySpec {
            name: "many".into(),
            use_cases: vec![UseCaseSpec {
                content_rules: vec![],
                use_case: UseCase::CustomerCare,
                threshold: 100.0,
                description: None,
                keywords,
                patterns: vec![],
            }],
            decision: DecisionSpec::default(),
            rules: Vec::new(),
            brand_names: Vec::new(),
            placeholders: Vec::new(),
        })
        .unwrap();
        assert!(p.keywords.is_some());
        let text: Vec<String> = (0..40).map(|i| format!("{0} {0} x{0}", name(i))).collect();
        let c = classify(&p, &text.join(" "));
        assert!(
            (c.scores[0].score - 40.0).abs() < 1e-9,
            "{}",
            c.scores[0].score
        );
        assert_eq!(c.scores[0].evidence.len(), 40);
    }

    #[test]
    fn a_unicode_word_boundary_pattern_matches_non_ascii_text() {
        // The set stops at the first non-ASCII byte when a pattern has a Unicode word
        // boundary; the patterns on their own answer for such a text.
        let p = Policy::compile(PolicySpec {
            name: "u".into(),
            use_cases: vec![UseCaseSpec {
                content_rules: vec![],
                use_case: UseCase::CustomerCare,
                threshold: 3.0,
                description: None,
                keywords: vec![],
                patterns: vec![
                    PatternSpec {
                        id: "word-café".into(),
                        regex: r"(?u)\bcafé\b".into(),
                        weight: 3.0,
                        description: None,
                    },
                    PatternSpec {
                        id: "help".into(),
                        regex: r"(?i)\bhelp\b".into(),
                        weight: 1.0,
                        description: None,
                    },
                ],
            }],
            decision: DecisionSpec::default(),
            rules: Vec::new(),
            brand_names: Vec::new(),
            placeholders: Vec::new(),
        })
        .unwrap();
        let mut out = Classification::default();
        let scores = |out: &Classification| out.scores[0].score;
        for (text, want) in [
            ("Help at the café, now", 4.0),
            ("Help: the cafés are closed", 1.0),
            ("HELP please", 1.0),
            ("Ünïcode café", 3.0),
        ] {
            p.classify_into(&NormalizedText::new(text), &mut out, Detail::Scores);
            assert!(
                (scores(&out) - want).abs() < 1e-9,
                "{text}: {}",
                scores(&out)
            );
        }
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
    fn reused_scratch_follows_the_policy_it_is_used_with() {
        let first = policy();
        let other_spec = one_use_case(
            "other",
            UseCase::MachineToMachine,
            1.0,
            vec![],
            (0..40).map(|i| format!(r"\bcode{i}\b|\b\d{{{}}}\b", 4 + i % 5)),
        );
        let second = Policy::compile(other_spec).unwrap();
        let text = NormalizedText::new("code7 1Z999AA10123456784 and 482913");
        let mut scratch = Classification::default();
        first.classify_into(&text, &mut scratch, Detail::Scores);
        assert!((scratch.scores[0].score - first.classify(&text).scores[0].score).abs() < 1e-9);
        // The same scratch, now with a policy whose pattern set is another: its own cache.
        second.classify_into(&text, &mut scratch, Detail::Scores);
        assert_eq!(scratch.scores, {
            let mut fresh = second.classify(&text);
            for s in &mut fresh.scores {
                s.evidence.clear();
            }
            fresh.scores
        });
        assert!(scratch.scores[0].score >= 2.0, "{:?}", scratch.scores);
        // Back to the first policy, with evidence, then a message with none: each as a fresh
        // classification gives it, nothing left over from the message before.
        for text in [&text, &NormalizedText::new("nothing to see here")] {
            first.classify_into(text, &mut scratch, Detail::Evidence);
            assert_eq!(scratch.scores, first.classify(text).scores);
        }
    }

    #[test]
    fn detected_keeps_the_evidence_of_the_detected_use_cases_only() {
        let p = policy();
        let mut scratch = Classification::default();
        let (mut kept, mut dropped) = (0, 0);
        for text in [
            "Your order 1Z999AA10123456784 is out for delivery",
            "order 1Z999AA10123456784, 50% off",
            "50% off your order 1Z999AA10123456784",
            "1Z999AA10123456784",
            "nothing to see here",
        ] {
            let text = NormalizedText::new(text);
            let full = p.classify(&text);
            p.classify_into(&text, &mut scratch, Detail::Detected);
            assert_eq!(scratch.ranking, full.ranking);
            for (got, want) in scratch.scores.iter().zip(&full.scores) {
                assert_eq!(got.score.to_bits(), want.score.to_bits());
                if want.detected() {
                    // Pattern spans included, found after the scan.
                    assert_eq!(got.evidence, want.evidence);
                    kept += got.evidence.len();
                } else {
                    assert!(got.evidence.is_empty(), "{got:?}");
                    dropped += want.evidence.len();
                }
            }
            assert!(scratch.found_patterns.is_empty() && scratch.found_phrases.is_empty());
        }
        assert!(kept > 3 && dropped > 0, "{kept} {dropped}");
    }

    #[test]
    fn classify_reuses_a_warm_pattern_cache() {
        let p = policy();
        let spare = |p: &Policy| p.spare_caches.len();
        assert_eq!(spare(&p), 0);
        let text = NormalizedText::new("1Z999AA10123456784");
        let first = p.classify(&text);
        assert_eq!(spare(&p), 1);
        // The second call takes that cache and gives it back: still one, not a new one each time.
        assert_eq!(p.classify(&text), first);
        assert_eq!(spare(&p), 1);
        // Results never carry the cache.
        assert!(first.patterns.is_none());
    }

    #[test]
    fn search_states_copied_from_another_scratch_are_not_built_again() {
        let p = policy();
        let texts = [
            "Track 1Z999AA10123456784 now",
            "50% off everything, unsubscribe anytime",
            "order 1Z999AA10123456784 shipped",
        ];
        let states = |c: &Classification| match c.patterns.as_ref().map(|s| &s.cache) {
            Some(MatcherCache::Lazy(caches)) => caches.memory_usage(),
            _ => panic!("a lazy set"),
        };
        let run = |c: &mut Classification| -> Vec<Vec<(UseCase, f64)>> {
            texts
                .iter()
                .map(|t| {
                    p.classify_into(&NormalizedText::new(t), c, Detail::Scores);
                    c.scores
                        .iter()
                        .map(|s| (s.use_case.clone(), s.score))
                        .collect()
                })
                .collect()
        };
        let mut warm = Classification::default();
        let scores = run(&mut warm);
        // A scratch of its own builds the states again...
        let mut cold = Classification::default();
        p.classify_into(&NormalizedText::new(""), &mut cold, Detail::Scores);
        let before = states(&cold);
        assert_eq!(run(&mut cold), scores);
        assert!(states(&cold) > before);
        // ...a copy of the warm one's does not, and scores alike.
        let mut copied = Classification::default();
        copied.copy_search_states_from(&warm);
        let before = states(&copied);
        assert_eq!(run(&mut copied), scores);
        assert_eq!(states(&copied), before);
        // A scratch that holds no states leaves the other as it is.
        copied.copy_search_states_from(&Classification::default());
        assert_eq!(states(&copied), before);
    }

    #[test]
    fn negative_weights_count_and_each_rule_counts_once() {
        let p = policy();
        let c = classify(&p, "50% off! 50% off! unsubscribe");
        assert!((c.scores[1].score - 2.0).abs() < 1e-9);
        assert!(c.top().is_none());
    }
}
