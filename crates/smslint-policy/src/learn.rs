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
use smslint_core::{NormalizedText, Policy, RuleKind, UseCase};

use crate::eval::CorpusEntry;

/// How [`learn`] fits and prunes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnOptions {
    /// Additive smoothing of the per-use-case feature counts.
    pub alpha: f64,
    /// Messages a feature must occur in to be considered.
    pub min_count: usize,
    /// Smallest log-likelihood ratio kept as a keyword.
    pub min_log_ratio: f64,
    /// Points per unit of log-likelihood ratio.
    pub scale: f64,
    /// Keep evidence against a use case too (negative weights), not only evidence for it.
    pub negative: bool,
}

impl Default for LearnOptions {
    fn default() -> Self {
        // Chosen by 5-fold cross-validation on tests/corpus/dev.jsonl (see the README).
        LearnOptions {
            alpha: 0.2,
            min_count: 2,
            min_log_ratio: 0.5,
            scale: 2.0,
            negative: true,
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
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in folded.char_indices() {
        match (is_word(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, folded.len()));
    }
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

/// Learn keyword weights for `base`'s use cases from a labelled corpus (primary labels).
pub fn learn(base: &Policy, corpus: &[(usize, CorpusEntry)], options: &LearnOptions) -> Learned {
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
    let mut use_cases = Vec::new();
    for (k, class) in classes.iter().enumerate() {
        if totals[k] == 0 {
            use_cases.push((class.clone(), Vec::new()));
            continue;
        }
        let mut keywords: Vec<LearnedKeyword> = Vec::new();
        for (phrase, per_class) in &counts {
            let everywhere: usize = per_class.iter().sum();
            let p_class = (per_class[k] as f64 + alpha) / (totals[k] as f64 + alpha * vocabulary);
            let p_all = (everywhere as f64 + alpha) / (all as f64 + alpha * vocabulary);
            let ratio = (p_class / p_all).ln();
            let kept = if options.negative {
                ratio.abs() >= options.min_log_ratio
            } else {
                ratio >= options.min_log_ratio
            };
            if !kept {
                continue;
            }
            let base_weight = base_weights
                .get(&(k, phrase.clone()))
                .copied()
                .unwrap_or(0.0);
            keywords.push(LearnedKeyword {
                phrase: phrase.clone(),
                weight: round(base_weight + options.scale * ratio),
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

/// Weights of the base policy's keywords, by (use case index, folded phrase).
fn base_keyword_weights(policy: &Policy) -> BTreeMap<(usize, String), f64> {
    policy
        .rules()
        .iter()
        .filter_map(|rule| match &rule.kind {
            RuleKind::Keyword { phrase } => Some(((rule.use_case, fold(phrase)), rule.weight)),
            RuleKind::Pattern { .. } => None,
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
    let o = &learned.options;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by `smslint policy learn {corpus}` from {} labelled messages ({} features);\n\
         # regenerate it, do not edit it. Each keyword weighs {} points per unit of the naive\n\
         # Bayes log-likelihood ratio of its phrase for the use case (smoothing {}, phrases in at\n\
         # least {} messages, ratio at least {}), plus the extended policy's weight for the phrase.",
        learned.messages, learned.features, o.scale, o.alpha, o.min_count, o.min_log_ratio
    );
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
    let o = &learned.options;
    let mut out = String::from("{\n  \"version\": 1,\n");
    let description = format!(
        "Keyword weights learned by `smslint policy learn {corpus}` from {} labelled messages \
         ({} features); regenerate, do not edit. Each keyword weighs {} points per unit of the \
         naive Bayes log-likelihood ratio of its phrase for the use case (smoothing {}, phrases in \
         at least {} messages, ratio at least {}), plus the extended policy's weight for the phrase.",
        learned.messages, learned.features, o.scale, o.alpha, o.min_count, o.min_log_ratio
    );
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

    fn policy() -> LoadedPolicy {
        load_str(
            "version: 1\nname: t\nuse_cases:\n  Marketing:\n    threshold: 2\n    keywords:\n      - { phrase: sale, weight: 2 }\n  DeliveryNotification:\n    threshold: 3\n    keywords:\n      - { phrase: shipped, weight: 3 }\n",
            "t.yaml",
            Format::Yaml,
        )
        .unwrap_or_else(|e| panic!("{e}"))
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
            min_log_ratio: 0.4,
            ..LearnOptions::default()
        };
        let learned = learn(&policy().policy, &corpus, &options);
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
        // Marketing: ln((0.2 / 4.8) / (2.2 / 8.8)) = -1.79.
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
        let delivery: Vec<&str> = learned.use_cases[1]
            .1
            .iter()
            .map(|k| k.phrase.as_str())
            .collect();
        assert_eq!(delivery, ["shipped", "has shipped", "sale", "sale now"]);

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

    #[test]
    fn the_output_is_a_valid_policy_that_extends_the_base() {
        let dir = std::env::temp_dir().join(format!("smslint-learn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let base = dir.join("base.yaml");
        std::fs::write(
            &base,
            "version: 1\nname: t\nuse_cases:\n  Marketing:\n    threshold: 2\n    keywords:\n      - { phrase: sale, weight: 2 }\n  DeliveryNotification:\n    threshold: 3\n    keywords:\n      - { phrase: shipped, weight: 3 }\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let loaded = crate::load::load_path(&base).unwrap_or_else(|e| panic!("{e}"));
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
            negative: false,
            ..LearnOptions::default()
        };
        let learned = learn(&loaded.policy, &corpus, &options);
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
            .map(|r| (r.id.clone(), r.weight))
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
