//! Keyword weights learned from a labelled corpus: the evidence each word and word pair gives
//! for a use case, as keywords a policy can carry.
//!
//! Hand-written keyword lists fit the messages they were written from and miss new wording.
//! Like SpamAssassin fitting its rule scores on a corpus, this fits weights on data: for every
//! word unigram and bigram of the folded text, the log-likelihood ratio of seeing it in a use
//! case's messages against all messages (naive Bayes with additive smoothing). Features whose
//! ratio is at least `min_log_ratio` away from zero become keywords of that use case, weighing
//! `scale` points per unit of ratio, added to the base policy's weight for the same phrase.
//! Evidence against a use case (negative weights) is kept by default: without it, every word a
//! use case uses a little more often than others pushes it over its threshold, and unrelated
//! use cases (Marketing above all) are detected everywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use smslint_core::normalize::fold;
use smslint_core::{word_ranges, NormalizedText, Policy, RuleKind, UseCase};

use crate::eval::{evaluate, macro_f1, ratio, ClassStats, CorpusEntry};
use crate::load::{load_str, LoadedPolicy};
use crate::source::Format;
use crate::PolicyError;

/// How [`learn`] fits the weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// Naive Bayes log-likelihood ratios: each phrase scored on its own.
    #[default]
    Bayes,
    /// Multinomial logistic regression on top of the base policy's scores: the phrases are
    /// fitted together, so words that come together share their evidence instead of each
    /// counting it in full, and a message the base policy already gets right teaches nothing.
    Logistic,
}

/// How [`learn`] fits and prunes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnOptions {
    /// How the weights are fitted.
    pub method: Method,
    /// Additive smoothing of the per-use-case feature counts.
    pub alpha: f64,
    /// Messages a feature must occur in to be considered.
    pub min_count: usize,
    /// Smallest log-likelihood ratio kept as a keyword, for or against a use case.
    pub min_log_ratio: f64,
    /// Smallest ratio kept as evidence for a use case that is not restricted (a restricted
    /// one blocks wherever it is detected, so weak evidence for it costs more than it finds).
    pub min_log_ratio_for: f64,
    /// Share of its ratio that evidence against a use case counts for, except for restricted
    /// use cases, which keep it in full.
    pub negative_scale: f64,
    /// Points per unit of log-likelihood ratio.
    pub scale: f64,
    /// Keep evidence against a use case too (negative weights), not only evidence for it.
    pub negative: bool,
    /// Logistic: L2 penalty on the learned points (larger: smaller weights, fewer keywords).
    pub l2: f64,
    /// Logistic: passes over the corpus.
    pub epochs: usize,
    /// Logistic: learned points smaller than this are dropped (fewer keywords to match).
    pub min_weight: f64,
}

impl Default for LearnOptions {
    fn default() -> Self {
        // Chosen by cross-validation on tests/corpus/dev.jsonl and held-out sets (see the README).
        LearnOptions {
            method: Method::Bayes,
            alpha: 0.2,
            min_count: 2,
            min_log_ratio: 1.0,
            min_log_ratio_for: 0.5,
            negative_scale: 0.5,
            scale: 2.0,
            negative: true,
            l2: 0.001,
            epochs: 30,
            min_weight: 0.3,
        }
    }
}

/// One keyword of the learned layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedKeyword {
    /// The phrase, folded.
    pub phrase: String,
    /// Its weight in the learned layer: the base policy's weight plus the learned points.
    pub weight: f64,
    /// The base policy's weight for the same phrase in the same use case (0 when it has none).
    pub base: f64,
    /// Messages of the use case it occurs in, of all messages it occurs in.
    pub support: (usize, usize),
}

/// The learned layer: keywords per use case, and what they were learned from.
#[derive(Clone, Debug, PartialEq)]
pub struct Learned {
    /// Labelled messages used: those whose primary use case the policy has, and those labelled
    /// `Unknown`, which count only in the background.
    pub messages: usize,
    /// Distinct features considered (occurring in at least `min_count` messages).
    pub features: usize,
    /// Keywords per use case, in policy order; each list by weight, heaviest first.
    pub use_cases: Vec<(UseCase, Vec<LearnedKeyword>)>,
    /// The options used.
    pub options: LearnOptions,
}

/// English function words (NLTK's list, less "off" and "won", which carry offers and prizes),
/// greetings and courtesies: frequent everywhere, so their ratios are noise, and as keywords
/// they would fire on nearly every message.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "ain",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "couldn",
    "d",
    "dear",
    "did",
    "didn",
    "do",
    "does",
    "doesn",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "get",
    "got",
    "had",
    "hadn",
    "has",
    "hasn",
    "have",
    "haven",
    "having",
    "he",
    "hello",
    "her",
    "here",
    "hers",
    "herself",
    "hey",
    "hi",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "isn",
    "it",
    "its",
    "itself",
    "just",
    "ll",
    "m",
    "ma",
    "me",
    "mightn",
    "more",
    "most",
    "mustn",
    "my",
    "myself",
    "needn",
    "no",
    "nor",
    "not",
    "now",
    "o",
    "of",
    "ok",
    "okay",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "please",
    "pls",
    "re",
    "s",
    "same",
    "shan",
    "she",
    "should",
    "shouldn",
    "so",
    "some",
    "such",
    "t",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "thx",
    "to",
    "too",
    "u",
    "under",
    "until",
    "up",
    "ur",
    "us",
    "ve",
    "very",
    "was",
    "wasn",
    "we",
    "were",
    "weren",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "wouldn",
    "y",
    "yes",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// The word unigrams and bigrams of folded text, as keyword phrases.
///
/// A word is a run of word characters (letters, digits, `_`), as at keyword boundaries. Left
/// out: words made only of digits (amounts, codes and dates vary), function words on their own
/// and pairs of them, and every word of a link, domain or address (a chunk between spaces with
/// `.` or `/` inside a word), since link text names a sender, not a use case. A bigram is two
/// words separated by exactly one space, so that the phrase matches where it was seen.
pub fn features(folded: &str) -> BTreeSet<String> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let link_chunks: Vec<(usize, usize)> = chunks(folded)
        .filter(|&(s, e)| {
            let chunk = &folded[s..e];
            chunk.contains("//")
                || chunk.char_indices().any(|(i, c)| {
                    (c == '.' || c == '/' || c == '@')
                        && chunk[..i].chars().next_back().is_some_and(is_word)
                        && chunk[i + 1..].chars().next().is_some_and(is_word)
                })
        })
        .collect();
    let in_link = |at: usize| link_chunks.iter().any(|&(s, e)| s <= at && at < e);
    let words = word_ranges(folded);
    let numeric = |w: &str| w.chars().all(|c| c.is_ascii_digit());
    let stop = |w: &str| STOPWORDS.binary_search(&w).is_ok();
    let mut out = BTreeSet::new();
    for (k, &(s, e)) in words.iter().enumerate() {
        let word = &folded[s..e];
        if numeric(word) || in_link(s) {
            continue;
        }
        if !stop(word) {
            out.insert(word.to_owned());
        }
        if let Some(&(s2, e2)) = words.get(k + 1) {
            let next = &folded[s2..e2];
            let adjacent = &folded[e..s2] == " ";
            let content = !(stop(word) && stop(next));
            if adjacent && content && !numeric(next) && !in_link(s2) {
                out.insert(folded[s..e2].to_owned());
            }
        }
    }
    out
}

/// Byte ranges of the runs of non-space characters.
fn chunks(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = None;
    text.char_indices()
        .chain(std::iter::once((text.len(), ' ')))
        .filter_map(move |(i, c)| match (c == ' ', start) {
            (false, None) => {
                start = Some(i);
                None
            }
            (true, Some(s)) => {
                start = None;
                Some((s, i))
            }
            _ => None,
        })
}

/// Learn keyword weights for `base`'s use cases from a labelled corpus (primary labels);
/// `thresholds` are those the output will set (the logistic fit scores against them).
pub fn learn(
    base: &Policy,
    corpus: &[(usize, CorpusEntry)],
    options: &LearnOptions,
    thresholds: &[(UseCase, f64)],
) -> Learned {
    let classes: Vec<UseCase> = base
        .use_cases()
        .iter()
        .map(|u| u.use_case.clone())
        .collect();
    // Per feature: messages per use case.
    // The last slot counts messages labelled Unknown (fitting no use case): they belong to the
    // background every use case is compared with, so words of personal or junk text do not
    // read as evidence for any use case.
    let background = classes.len();
    let mut counts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut messages = 0;
    for (_, entry) in corpus {
        let Some(class) = entry.use_cases.first().and_then(|u| {
            classes
                .iter()
                .position(|c| c.as_str() == u)
                .or_else(|| (u == UseCase::Unknown.as_str()).then_some(background))
        }) else {
            continue;
        };
        messages += 1;
        let normalized = NormalizedText::new(&entry.text);
        for feature in features(normalized.folded()) {
            counts
                .entry(feature)
                .or_insert_with(|| vec![0; classes.len() + 1])[class] += 1;
        }
    }
    // A phrase is folded again when the policy compiles; keep only those that stay the same,
    // so a learned keyword fires exactly where its feature was counted.
    counts.retain(|phrase, per_class| {
        per_class.iter().sum::<usize>() >= options.min_count && fold(phrase) == *phrase
    });
    let vocabulary = counts.len() as f64;
    let mut totals = vec![0usize; classes.len() + 1];
    for per_class in counts.values() {
        for (t, n) in totals.iter_mut().zip(per_class) {
            *t += n;
        }
    }
    let all: usize = totals.iter().sum();
    let alpha = options.alpha;

    let base_weights = base_keyword_weights(base);
    if options.method == Method::Logistic {
        let fit = Fit {
            base,
            classes: &classes,
            counts: &counts,
            base_weights: &base_weights,
            thresholds,
        };
        let use_cases = logistic(&fit, corpus, options);
        return Learned {
            messages,
            features: counts.len(),
            use_cases,
            options: *options,
        };
    }
    let mut use_cases = Vec::new();
    for (k, class) in classes.iter().enumerate() {
        if totals[k] == 0 {
            use_cases.push((class.clone(), Vec::new()));
            continue;
        }
        // A restricted use case blocks wherever it is detected, so it learns only strong
        // evidence and keeps its evidence against in full. The others also take weaker evidence
        // for them, and count evidence against at a share: naive Bayes sums every word's ratio
        // as if the words were independent, and in full the negative ratios of a message's
        // words push every use case under its threshold, leaving the message unclassified.
        let restricted = base.decision().restricted.contains(class);
        let (min_for, negative_scale) = if restricted {
            (options.min_log_ratio, 1.0)
        } else {
            (options.min_log_ratio_for, options.negative_scale)
        };
        let mut keywords: Vec<LearnedKeyword> = Vec::new();
        for (phrase, per_class) in &counts {
            let everywhere: usize = per_class.iter().sum();
            let p_class = (per_class[k] as f64 + alpha) / (totals[k] as f64 + alpha * vocabulary);
            let p_all = (everywhere as f64 + alpha) / (all as f64 + alpha * vocabulary);
            let ratio = (p_class / p_all).ln();
            let kept = ratio >= min_for || (options.negative && -ratio >= options.min_log_ratio);
            if !kept {
                continue;
            }
            let base_weight = base_weights
                .get(&(k, phrase.clone()))
                .copied()
                .unwrap_or(0.0);
            keywords.push(LearnedKeyword {
                phrase: phrase.clone(),
                weight: round(
                    base_weight
                        + options.scale * ratio * if ratio < 0.0 { negative_scale } else { 1.0 },
                ),
                base: base_weight,
                support: (per_class[k], everywhere),
            });
        }
        keywords.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.phrase.cmp(&b.phrase)));
        use_cases.push((class.clone(), keywords));
    }
    Learned {
        messages,
        features: counts.len(),
        use_cases,
        options: *options,
    }
}

/// What the logistic fit starts from.
struct Fit<'a> {
    base: &'a Policy,
    classes: &'a [UseCase],
    counts: &'a BTreeMap<String, Vec<usize>>,
    base_weights: &'a BTreeMap<(usize, String), f64>,
    thresholds: &'a [(UseCase, f64)],
}

/// The logistic fit: for each message, the score of use case `c` is the base policy's score
/// plus the learned points of the phrases it contains, less the threshold; "no use case" scores
/// zero. Stochastic gradient descent (fixed order, so the output is reproducible) minimises the
/// cross-entropy of the softmax over those scores, where a message's target is any of its
/// acceptable labels, plus an L2 penalty.
fn logistic(
    fit: &Fit<'_>,
    corpus: &[(usize, CorpusEntry)],
    options: &LearnOptions,
) -> Vec<(UseCase, Vec<LearnedKeyword>)> {
    let Fit {
        base,
        classes,
        counts,
        base_weights,
        thresholds,
    } = *fit;
    let n = classes.len();
    let index: BTreeMap<&str, usize> = counts
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    // Per message: base margins, the phrases it holds, its acceptable targets (n = none).
    let mut examples: Vec<(Vec<f64>, Vec<usize>, Vec<usize>)> = Vec::new();
    for (_, entry) in corpus {
        let targets: Vec<usize> = entry
            .use_cases
            .iter()
            .filter_map(|u| {
                classes
                    .iter()
                    .position(|c| c.as_str() == u)
                    .or_else(|| (u == UseCase::Unknown.as_str()).then_some(n))
            })
            .collect();
        if targets.is_empty() {
            continue;
        }
        let normalized = NormalizedText::new(&entry.text);
        let scored = base.classify(&normalized);
        let margins = scored
            .scores
            .iter()
            .map(|s| {
                let threshold = thresholds
                    .iter()
                    .find(|(u, _)| *u == s.use_case)
                    .map_or(s.threshold, |(_, t)| *t);
                s.score - threshold
            })
            .collect();
        let held: Vec<usize> = phrases_in(normalized.folded())
            .filter_map(|p| index.get(p).copied())
            .collect::<BTreeSet<usize>>()
            .into_iter()
            .collect();
        examples.push((margins, held, targets));
    }
    let restricted: Vec<bool> = classes
        .iter()
        .map(|c| base.decision().restricted.contains(c))
        .collect();
    let mut w = vec![0.0f64; counts.len() * n];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut state = 0x5EED_2026_u64;
    let (mut z, mut p, mut grad) = (vec![0.0; n + 1], vec![0.0; n + 1], vec![0.0; n]);
    for epoch in 0..options.epochs {
        // A fixed pseudo-random order per pass (xorshift), the same on every run.
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let rate = 0.2 / (1.0 + epoch as f64 * 0.2);
        for &e in &order {
            let (margins, held, targets) = &examples[e];
            for c in 0..n {
                z[c] = margins[c] + held.iter().map(|&f| w[f * n + c]).sum::<f64>();
            }
            z[n] = 0.0;
            let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut total = 0.0;
            for (pc, zc) in p.iter_mut().zip(&z) {
                *pc = (zc - top).exp();
                total += *pc;
            }
            let wanted: f64 = targets.iter().map(|&t| p[t]).sum();
            for c in 0..n {
                // Ranking: d loss / d z_c is p_c, less p_c's share of the acceptable mass if c
                // is one. A restricted use case blocks wherever it is detected, on top or not:
                // its margin is also a logistic regression of "c is acceptable here".
                let acceptable = targets.contains(&c);
                let target = if acceptable { p[c] / wanted } else { 0.0 };
                grad[c] = p[c] / total - target;
                if restricted[c] {
                    let detected = 1.0 / (1.0 + (-z[c]).exp());
                    grad[c] += detected - f64::from(u8::from(acceptable));
                }
            }
            for &f in held {
                for (weight, g) in w[f * n..(f + 1) * n].iter_mut().zip(&grad) {
                    *weight -= rate * (g + options.l2 * *weight);
                }
            }
        }
    }
    classes
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let mut keywords: Vec<LearnedKeyword> = counts
                .iter()
                .enumerate()
                .filter_map(|(f, (phrase, per_class))| {
                    let learned = w[f * n + c];
                    let kept =
                        learned.abs() >= options.min_weight && (options.negative || learned > 0.0);
                    kept.then(|| {
                        let base_weight = base_weights
                            .get(&(c, phrase.clone()))
                            .copied()
                            .unwrap_or(0.0);
                        LearnedKeyword {
                            phrase: phrase.clone(),
                            weight: round(base_weight + learned),
                            base: base_weight,
                            support: (per_class[c], per_class.iter().sum()),
                        }
                    })
                })
                .collect();
            keywords.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.phrase.cmp(&b.phrase)));
            (class.clone(), keywords)
        })
        .collect()
}

/// Every word and every pair of words separated by one space in `folded`: the phrases a
/// word-only keyword would match there.
fn phrases_in(folded: &str) -> impl Iterator<Item = &str> {
    let words = word_ranges(folded);
    let pairs: Vec<(usize, usize)> = words
        .windows(2)
        .filter(|w| &folded[w[0].1..w[1].0] == " ")
        .map(|w| (w[0].0, w[1].1))
        .collect();
    words
        .into_iter()
        .chain(pairs)
        .map(move |(s, e)| &folded[s..e])
}

/// Weights of the base policy's keywords, by (use case index, folded phrase).
fn base_keyword_weights(policy: &Policy) -> BTreeMap<(usize, String), f64> {
    policy
        .rules()
        .iter()
        .filter_map(|rule| match &rule.kind {
            RuleKind::Keyword { phrase } => Some(((rule.use_case, fold(phrase)), rule.weight)),
            RuleKind::Pattern { .. } | RuleKind::ContentRule { .. } => None,
        })
        .collect()
}

/// One decimal: weights a person can read, and output that does not change with float noise.
fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The learned layer as a policy that extends `extends`: each learned keyword replaces the
/// base keyword with the same phrase (its weight already includes the base's) or is added;
/// `thresholds` replace the base's for their use cases (learned scores run higher than
/// hand-written ones, so a restricted use case may need a higher bar).
pub fn to_yaml(
    learned: &Learned,
    extends: &str,
    corpus: &str,
    thresholds: &[(UseCase, f64)],
) -> String {
    let mut out = String::new();
    for line in wrap(&provenance(learned, corpus), 96) {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("version: 1\n");
    let _ = writeln!(out, "extends: {}", quote(extends));
    out.push_str("use_cases:\n");
    let mut any = false;
    for (use_case, keywords, threshold) in written(learned, thresholds) {
        any = true;
        let _ = writeln!(out, "  {use_case}:");
        if let Some(t) = threshold {
            let _ = writeln!(out, "    threshold: {t}");
        }
        if keywords.is_empty() {
            continue;
        }
        out.push_str("    keywords:\n");
        for k in keywords {
            let _ = writeln!(
                out,
                "      - {{ phrase: {}, weight: {} }}",
                quote(&k.phrase),
                k.weight
            );
        }
    }
    if !any {
        // An empty mapping, so the file stays a valid policy.
        out.truncate(out.len() - "use_cases:\n".len());
        out.push_str("use_cases: {}\n");
    }
    out
}

/// The learned layer as a JSON policy, the same content as [`to_yaml`] with the provenance in
/// `description`: JSON loads several times faster than YAML, which matters for a layer of
/// thousands of keywords loaded on every run. One keyword per line, so changes diff well.
pub fn to_json(
    learned: &Learned,
    extends: &str,
    corpus: &str,
    thresholds: &[(UseCase, f64)],
) -> String {
    let mut out = String::from("{\n  \"version\": 1,\n");
    let description = provenance(learned, corpus);
    let _ = writeln!(out, "  \"description\": {},", quote(&description));
    let _ = writeln!(out, "  \"extends\": {},", quote(extends));
    out.push_str("  \"use_cases\": {");
    let mut first_use_case = true;
    for (use_case, keywords, threshold) in written(learned, thresholds) {
        out.push_str(if first_use_case { "\n" } else { ",\n" });
        first_use_case = false;
        let _ = write!(out, "    {}: {{", quote(use_case.as_str()));
        let mut fields = Vec::new();
        if let Some(t) = threshold {
            fields.push(format!("\n      \"threshold\": {t}"));
        }
        if !keywords.is_empty() {
            let lines: Vec<String> = keywords
                .iter()
                .map(|k| {
                    format!(
                        "        {{ \"phrase\": {}, \"weight\": {} }}",
                        quote(&k.phrase),
                        k.weight
                    )
                })
                .collect();
            fields.push(format!(
                "\n      \"keywords\": [\n{}\n      ]",
                lines.join(",\n")
            ));
        }
        let _ = write!(out, "{}\n    }}", fields.join(","));
    }
    out.push_str(if first_use_case {
        "}\n}\n"
    } else {
        "\n  }\n}\n"
    });
    out
}

/// What k-fold cross-validation measured: every message scored by a layer learned without it.
#[derive(Clone, Debug, PartialEq)]
pub struct CrossValidation {
    /// Number of folds.
    pub folds: usize,
    /// Held-out sets, when folds are sets: each set's name, messages and top-1 right.
    pub sets: Vec<(String, usize, usize)>,
    /// Messages scored (each once).
    pub messages: usize,
    /// Share whose top use case is among their labels.
    pub top1_accuracy: f64,
    /// Mean F1 over the classifiable use cases with support.
    pub macro_f1: f64,
    /// Share of Marketing detections labelled Marketing.
    pub marketing_detection_precision: f64,
    /// Messages where Marketing was detected.
    pub marketing_detected: usize,
    /// Per use case, counts summed over the folds, then `Unknown`.
    pub classes: Vec<ClassStats>,
    /// Keywords of the learned layer, averaged over the folds.
    pub keywords: usize,
}

/// How [`cross_validate`] splits the corpus into folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folds<'a> {
    /// `k` folds; message `i` is held out in fold `i mod k`.
    Interleaved(usize),
    /// One fold per set: the messages whose notes start with this prefix, grouped by their
    /// notes up to the first colon ("fresh set 7: ..." is set "fresh set 7"). The other
    /// messages are always learned from. A set written after the policy measures how its
    /// options generalise to new wording, which interleaved folds of the messages the policy
    /// was written from overstate. An empty prefix names no set, rather than making a set of
    /// every distinct note.
    Sets(&'a str),
}

/// The set a message belongs to under [`Folds::Sets`]`(prefix)`, if any.
fn set_name<'e>(entry: &'e CorpusEntry, prefix: &str) -> Option<&'e str> {
    let notes = entry.notes.as_deref()?;
    if prefix.is_empty() || !notes.starts_with(prefix) {
        return None;
    }
    Some(notes.split(':').next().unwrap_or(notes).trim_end())
}

/// Cross-validate [`learn`] on `corpus` in `folds`: for each fold, learn on the rest, load the
/// layer over `extends` (the name the output would extend, which must name `base`), and
/// evaluate it on the held-out messages. With [`Folds::Sets`] matching no message, nothing is
/// held out and the result has no folds.
pub fn cross_validate(
    base: &LoadedPolicy,
    extends: &str,
    corpus: &[(usize, CorpusEntry)],
    options: &LearnOptions,
    thresholds: &[(UseCase, f64)],
    folds: Folds<'_>,
) -> Result<CrossValidation, PolicyError> {
    let (fold_of, names): (Vec<Option<usize>>, Vec<String>) = match folds {
        Folds::Interleaved(k) => {
            let k = k.max(2);
            (
                (0..corpus.len()).map(|i| Some(i % k)).collect(),
                vec![String::new(); k],
            )
        }
        Folds::Sets(prefix) => {
            let mut names: Vec<String> = Vec::new();
            let fold_of = corpus
                .iter()
                .map(|(_, e)| {
                    let name = set_name(e, prefix)?;
                    if let Some(i) = names.iter().position(|n| n == name) {
                        return Some(i);
                    }
                    names.push(name.to_owned());
                    Some(names.len() - 1)
                })
                .collect();
            (fold_of, names)
        }
    };
    let by_set = matches!(folds, Folds::Sets(_));
    let folds = names.len();
    let mut classes: Vec<ClassStats> = Vec::new();
    let (mut messages, mut correct, mut detected, mut marketing_right) = (0, 0, 0, 0);
    let mut keywords = 0;
    let mut sets = Vec::new();
    for (fold, set) in names.iter().enumerate() {
        let (held, train): (Vec<_>, Vec<_>) = corpus
            .iter()
            .zip(&fold_of)
            .partition(|(_, f)| **f == Some(fold));
        let train: Vec<(usize, CorpusEntry)> = train.into_iter().map(|(e, _)| e.clone()).collect();
        let held: Vec<(usize, CorpusEntry)> = held.into_iter().map(|(e, _)| e.clone()).collect();
        let learned = learn(&base.policy, &train, options, thresholds);
        keywords += learned
            .use_cases
            .iter()
            .map(|(_, k)| k.len())
            .sum::<usize>();
        let layer = to_json(&learned, extends, "(fold)", thresholds);
        let loaded = load_str(&layer, &format!("(fold {})", fold + 1), Format::Json)?;
        let report = evaluate(&loaded, &held);
        if by_set {
            sets.push((set.clone(), report.messages, report.top1_correct));
        }
        messages += report.messages;
        correct += report.top1_correct;
        detected += report.marketing_detected;
        marketing_right += report.marketing_detected_right;
        for stats in report.classes {
            match classes.iter_mut().find(|c| c.use_case == stats.use_case) {
                Some(c) => {
                    c.support += stats.support;
                    c.true_positives += stats.true_positives;
                    c.false_positives += stats.false_positives;
                    c.false_negatives += stats.false_negatives;
                }
                None => classes.push(stats),
            }
        }
    }
    let classes: Vec<ClassStats> = classes
        .into_iter()
        .map(|c| {
            ClassStats::from_counts(
                c.use_case,
                c.true_positives,
                c.false_positives,
                c.false_negatives,
            )
        })
        .collect();
    Ok(CrossValidation {
        folds,
        sets,
        messages,
        top1_accuracy: ratio(correct, messages),
        macro_f1: macro_f1(&classes),
        marketing_detection_precision: ratio(marketing_right, detected),
        marketing_detected: detected,
        classes,
        keywords: keywords.checked_div(folds).unwrap_or(0),
    })
}

/// Where a learned layer comes from and how its weights were fitted.
fn provenance(learned: &Learned, corpus: &str) -> String {
    let o = &learned.options;
    let how = match o.method {
        Method::Bayes => format!(
            "Each keyword weighs {} points per unit of the naive Bayes log-likelihood ratio of its \
             phrase for the use case (smoothing {}, phrases in at least {} messages, ratio at \
             least {}, or {} for a use case that is not restricted; evidence against a use case \
             at {} of its ratio, in full for a restricted one), plus the extended policy's \
             weight for the phrase.",
            o.scale,
            o.alpha,
            o.min_count,
            o.min_log_ratio,
            o.min_log_ratio_for,
            o.negative_scale
        ),
        Method::Logistic => format!(
            "Each keyword's weight is the extended policy's weight for the phrase plus points \
             fitted by multinomial logistic regression over the extended policy's scores \
             (phrases in at least {} messages, L2 {}, {} passes, points below {} dropped).",
            o.min_count, o.l2, o.epochs, o.min_weight
        ),
    };
    format!(
        "Keyword weights learned by `smslint policy learn {corpus}` from {} labelled messages \
         ({} features); regenerate, do not edit. {how}",
        learned.messages, learned.features
    )
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// The use cases a learned policy file writes: each with its keywords and the threshold given
/// for it, leaving out those with neither.
fn written<'a>(
    learned: &'a Learned,
    thresholds: &'a [(UseCase, f64)],
) -> impl Iterator<Item = (&'a UseCase, &'a [LearnedKeyword], Option<f64>)> {
    learned.use_cases.iter().filter_map(|(use_case, keywords)| {
        let threshold = thresholds
            .iter()
            .find(|(u, _)| u == use_case)
            .map(|(_, t)| *t);
        (!keywords.is_empty() || threshold.is_some()).then_some((
            use_case,
            keywords.as_slice(),
            threshold,
        ))
    })
}

/// A YAML double-quoted scalar (JSON's string syntax is a subset of it).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::parse_corpus;
    use crate::load::{load_str, LoadedPolicy};
    use crate::source::Format;

    const BASE: &str = "version: 1\nname: t\nuse_cases:\n  Marketing:\n    threshold: 2\n    keywords:\n      - { phrase: sale, weight: 2 }\n  DeliveryNotification:\n    threshold: 3\n    keywords:\n      - { phrase: shipped, weight: 3 }\n";

    fn policy() -> LoadedPolicy {
        load_str(BASE, "t.yaml", Format::Yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn stopwords_are_sorted() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn features_are_words_and_adjacent_pairs_without_numbers() {
        let f: Vec<String> =
            features("big sale, 40% off today 2fa code 1234 now at shop.example.com/x")
                .into_iter()
                .collect();
        assert_eq!(
            f,
            [
                "2fa",
                "2fa code",
                "big",
                "big sale",
                "code",
                "off",
                "off today",
                "sale",
                "today",
                "today 2fa"
            ]
        );
        // Function words alone and in pairs are left out; with a content word they stay.
        let f: Vec<String> = features("it is on your order").into_iter().collect();
        assert_eq!(f, ["order", "your order"]);
    }

    #[test]
    fn learns_evidence_for_and_against_and_adds_the_base_weight() {
        let corpus = parse_corpus(
            concat!(
                "{\"text\":\"Big sale now\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"Huge sale now!\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"Order 1 has shipped\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"Parcel has shipped\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"hello\",\"useCases\":[\"Unknown\"]}\n",
            ),
            "c.jsonl",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let options = LearnOptions {
            method: Method::Bayes,
            min_log_ratio: 0.4,
            min_log_ratio_for: 0.4,
            ..LearnOptions::default()
        };
        let learned = learn(&policy().policy, &corpus, &options, &[]);
        // The Unknown message counts in the background only. Features: sale, sale now, shipped,
        // has shipped ("now" and "has" alone are function words; the rest occur once).
        assert_eq!((learned.messages, learned.features), (5, 4));
        let marketing = &learned.use_cases[0].1;
        let got: Vec<(&str, f64)> = marketing
            .iter()
            .map(|k| (k.phrase.as_str(), k.weight))
            .collect();
        // Marketing holds 4 of the 8 feature occurrences: ln((2.2 / 4.8) / (2.2 / 8.8)) = 0.606
        // per phrase, times 2 points, plus the base weight. The delivery phrases count against
        // Marketing: ln((0.2 / 4.8) / (2.2 / 8.8)) = -1.79, in full since Marketing is
        // restricted.
        assert_eq!(
            got,
            [
                ("sale", 3.2),
                ("sale now", 1.2),
                ("has shipped", -3.6),
                ("shipped", -3.6)
            ]
        );
        assert_eq!((marketing[0].base, marketing[0].support), (2.0, (2, 2)));
        let delivery: Vec<(&str, f64)> = learned.use_cases[1]
            .1
            .iter()
            .map(|k| (k.phrase.as_str(), k.weight))
            .collect();
        // DeliveryNotification is not restricted: evidence against it counts at half.
        assert_eq!(
            delivery,
            [
                ("shipped", 4.2),
                ("has shipped", 1.2),
                ("sale", -1.8),
                ("sale now", -1.8)
            ]
        );
        // With a bar of 1 for restricted use cases, Marketing keeps only the evidence against
        // it, while DeliveryNotification still takes its weaker evidence at 0.4.
        let strict = LearnOptions {
            min_log_ratio: 1.0,
            ..options
        };
        let learned_strict = learn(&policy().policy, &corpus, &strict, &[]);
        let phrases: Vec<&str> = learned_strict.use_cases[0]
            .1
            .iter()
            .map(|k| k.phrase.as_str())
            .collect();
        assert_eq!(phrases, ["has shipped", "shipped"]);
        assert_eq!(
            learned_strict.use_cases[1].1.len(),
            4,
            "{:?}",
            learned_strict.use_cases[1].1
        );

        let json = to_json(&learned, "t.yaml", "c.jsonl", &[(UseCase::Marketing, 4.0)]);
        let v: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(v["use_cases"]["Marketing"]["threshold"], 4.0);
        assert_eq!(v["use_cases"]["Marketing"]["keywords"][0]["phrase"], "sale");
        assert_eq!(v["use_cases"]["Marketing"]["keywords"][0]["weight"], 3.2);
        assert_eq!(v["extends"], "t.yaml");
        let empty = Learned {
            use_cases: Vec::new(),
            ..learned.clone()
        };
        let v: serde_json::Value = serde_json::from_str(&to_json(&empty, "t.yaml", "c", &[]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["use_cases"], serde_json::json!({}));

        let yaml = to_yaml(&learned, "t.yaml", "c.jsonl", &[]);
        assert!(yaml.contains("extends: \"t.yaml\""), "{yaml}");
        assert!(
            yaml.contains(
                "  Marketing:\n    keywords:\n      - { phrase: \"sale\", weight: 3.2 }\n"
            ),
            "{yaml}"
        );
    }

    fn small_corpus() -> Vec<(usize, CorpusEntry)> {
        parse_corpus(
            concat!(
                "{\"text\":\"Big deal today\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"Huge deal this weekend\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"A deal for members\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"Sale now\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"Your parcel arrives today\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"The parcel is on its way\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"Parcel left the depot\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"It shipped\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"see you today\",\"useCases\":[\"Unknown\"]}\n",
                "{\"text\":\"ok see you\",\"useCases\":[\"Unknown\"]}\n",
            ),
            "c.jsonl",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn logistic_learns_what_the_base_misses() {
        let base = policy();
        let options = LearnOptions {
            method: Method::Logistic,
            ..LearnOptions::default()
        };
        let learned = learn(&base.policy, &small_corpus(), &options, &[]);
        let weight = |class: usize, phrase: &str| {
            learned.use_cases[class]
                .1
                .iter()
                .find(|k| k.phrase == phrase)
                .map(|k| k.weight)
        };
        // "deal" and "parcel" are what the base lacks: evidence for their use case (and
        // "parcel" against Marketing, where it would otherwise add to the margin). "today" is in both and in an Unknown message: no strong evidence.
        assert!(weight(0, "deal").is_some_and(|w| w > 1.0), "{learned:?}");
        assert!(weight(1, "parcel").is_some_and(|w| w > 1.0), "{learned:?}");
        assert!(weight(0, "parcel").is_some_and(|w| w < 0.0), "{learned:?}");
        assert!(weight(1, "deal").is_none_or(|w| w < 0.0), "{learned:?}");
        assert!(
            weight(0, "today").is_none_or(|w| w.abs() < 1.0),
            "{learned:?}"
        );
        // The layer loads over the base and gets a new wording right.
        let layer = to_json(&learned, "builtin:none", "c.jsonl", &[]);
        assert!(layer.contains("multinomial logistic regression"), "{layer}");
        let dir = std::env::temp_dir().join(format!("smslint-logistic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("base.yaml"), BASE).unwrap_or_else(|e| panic!("{e}"));
        let layered = to_json(&learned, "base.yaml", "c.jsonl", &[]);
        std::fs::write(dir.join("layer.json"), layered).unwrap_or_else(|e| panic!("{e}"));
        let loaded =
            crate::load::load_path(&dir.join("layer.json")).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let top = |text: &str| {
            loaded
                .policy
                .classify(&NormalizedText::new(text))
                .top()
                .map(|s| s.use_case.clone())
        };
        assert_eq!(top("what a deal"), Some(UseCase::Marketing));
        assert_eq!(top("parcel update"), Some(UseCase::DeliveryNotification));
    }

    /// `yaml` written as `base.yaml` to a fresh temporary directory (a layer extends it by
    /// path): the directory, the loaded base, and the name a layer extends it by.
    fn base_on_disk(tag: &str, yaml: &str) -> (std::path::PathBuf, LoadedPolicy, String) {
        let dir = std::env::temp_dir().join(format!("smslint-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("base.yaml");
        std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("{e}"));
        let base = crate::load::load_path(&path).unwrap_or_else(|e| panic!("{e}"));
        (dir, base, path.display().to_string())
    }

    #[test]
    fn cross_validation_scores_every_message_once() {
        let (dir, base, extends) = base_on_disk("cv", BASE);
        let corpus = small_corpus();
        for method in [Method::Bayes, Method::Logistic] {
            let options = LearnOptions {
                method,
                ..LearnOptions::default()
            };
            let cv = cross_validate(
                &base,
                &extends,
                &corpus,
                &options,
                &[],
                Folds::Interleaved(5),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((cv.folds, cv.messages), (5, 10));
            let support: usize = cv.classes.iter().map(|c| c.support).sum();
            assert_eq!(support, 10, "{cv:?}");
            let right: usize = cv.classes.iter().map(|c| c.true_positives).sum();
            assert!(
                (cv.top1_accuracy - right as f64 / 10.0).abs() < 1e-9,
                "{cv:?}"
            );
            assert!(cv.top1_accuracy >= 0.5, "{method:?}: {cv:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn set_folds_hold_out_each_named_set_and_always_learn_from_the_rest() {
        let (dir, base, extends) = base_on_disk("cv-sets", BASE);
        let mut corpus = small_corpus();
        for (i, (_, entry)) in corpus.iter_mut().enumerate() {
            entry.notes = match i {
                0 | 4 => Some("fresh set 1: written later".to_owned()),
                1 | 5 | 6 => Some("fresh set 2".to_owned()),
                7 => Some("fresher wording".to_owned()),
                _ => None,
            };
        }
        let by_sets = |prefix| {
            cross_validate(
                &base,
                &extends,
                &corpus,
                &LearnOptions::default(),
                &[],
                Folds::Sets(prefix),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let cv = by_sets("fresh set ");
        assert_eq!((cv.folds, cv.messages), (2, 5), "{cv:?}");
        let sets: Vec<(&str, usize)> = cv.sets.iter().map(|(n, m, _)| (n.as_str(), *m)).collect();
        assert_eq!(sets, [("fresh set 1", 2), ("fresh set 2", 3)]);
        let right: usize = cv.sets.iter().map(|s| s.2).sum();
        assert!(
            (cv.top1_accuracy - right as f64 / 5.0).abs() < 1e-9,
            "{cv:?}"
        );
        let none = by_sets("no such ");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!((none.folds, none.messages), (0, 0));
    }

    #[test]
    fn the_output_is_a_valid_policy_that_extends_the_base() {
        let (dir, loaded, _) = base_on_disk(
            "learn",
            "version: 1\nname: t\nuse_cases:\n  Marketing:\n    threshold: 2\n    keywords:\n      - { phrase: sale, weight: 2 }\n  DeliveryNotification:\n    threshold: 3\n    keywords:\n      - { phrase: shipped, weight: 3 }\n",
        );
        let corpus = parse_corpus(
            concat!(
                "{\"text\":\"sale\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"sale now\",\"useCases\":[\"Marketing\"]}\n",
                "{\"text\":\"it shipped\",\"useCases\":[\"DeliveryNotification\"]}\n",
                "{\"text\":\"shipped\",\"useCases\":[\"DeliveryNotification\"]}\n",
            ),
            "c.jsonl",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let options = LearnOptions {
            method: Method::Bayes,
            negative: false,
            min_log_ratio: 0.5,
            min_log_ratio_for: 0.5,
            ..LearnOptions::default()
        };
        let learned = learn(&loaded.policy, &corpus, &options, &[]);
        let overlay = dir.join("learned.yaml");
        let thresholds = [(UseCase::Marketing, 2.5)];
        std::fs::write(
            &overlay,
            to_yaml(&learned, "base.yaml", "c.jsonl", &thresholds),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let merged = crate::load::load_path(&overlay).unwrap_or_else(|e| panic!("{e}"));
        let weights: Vec<(String, f64)> = merged
            .policy
            .rules()
            .iter()
            .map(|r| (r.id.to_string(), r.weight))
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert!((merged.policy.use_cases()[0].threshold - 2.5).abs() < f64::EPSILON);
        // Each learned keyword replaced its base keyword, with the base weight included.
        assert_eq!(weights.len(), 2, "{weights:?}");
        assert!(
            weights.iter().any(|(id, w)| id == "kw:sale" && *w > 2.0),
            "{weights:?}"
        );
        assert!(
            weights.iter().any(|(id, w)| id == "kw:shipped" && *w > 3.0),
            "{weights:?}"
        );
    }
}
