//! The textbook design for the classifier, against the engine, on the same policy and corpus in
//! one process: one aho-corasick DFA for every use-case keyword (ASCII case-insensitive, a
//! word-boundary test after each match), one `regex-automata` set of every use-case pattern
//! (ASCII, all matches), points summed per use case and the top one taken; also with JSON lines
//! read and written around it. It folds nothing, counts a phrase at each occurrence, runs no
//! content rule and keeps no evidence: less work than the engine does, so its rate is the most
//! that design can give on this policy.
//!
//! `cargo bench -p smslint-core --bench reference_design -- [CORPUS.jsonl] [--policy=PATH]`
//! (default `target/bench/corpus-100000.jsonl`, written by `bench/run.sh`, and the default
//! policy; `--policy=builtin:base` for its base layer alone). Prints msgs/s of each variant,
//! medians of 5 rounds that run every variant in turn after a warm-up round.

#![forbid(unsafe_code)]

mod common;

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind as AcMatchKind};
use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet};
use smslint_core::normalize::fold;

/// The reference design, built from the policy's use-case keywords and patterns.
struct Reference {
    /// Every occurrence of every phrase, as the engine finds them.
    overlapping: AhoCorasick,
    /// The leftmost-longest phrases only: faster, but a phrase inside or overlapping a longer
    /// one is not found.
    leftmost: AhoCorasick,
    /// By keyword: (use case, points) for each use case the phrase scores for.
    keyword_points: Vec<Vec<(usize, f64)>>,
    patterns: Regex,
    /// By pattern: (use case, points).
    pattern_points: Vec<(usize, f64)>,
    use_cases: usize,
}

/// What a round of one variant keeps between messages.
struct Scratch {
    cache: meta::Cache,
    set: PatternSet,
    sums: Vec<f64>,
}

impl Reference {
    fn new(spec: &smslint_core::policy::PolicySpec) -> Reference {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut phrases: Vec<String> = Vec::new();
        let mut keyword_points: Vec<Vec<(usize, f64)>> = Vec::new();
        let mut regexes: Vec<&str> = Vec::new();
        let mut pattern_points = Vec::new();
        for (u, use_case) in spec.use_cases.iter().enumerate() {
            for k in &use_case.keywords {
                let phrase = fold(&k.phrase);
                let i = *index.entry(phrase.clone()).or_insert_with(|| {
                    phrases.push(phrase);
                    keyword_points.push(Vec::new());
                    phrases.len() - 1
                });
                keyword_points[i].push((u, k.weight));
            }
            for p in &use_case.patterns {
                regexes.push(&p.regex);
                pattern_points.push((u, p.weight));
            }
        }
        let dfa = |kind| {
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .ascii_case_insensitive(true)
                .match_kind(kind)
                .build(&phrases)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let start = Instant::now();
        let overlapping = dfa(AcMatchKind::Standard);
        let ac_time = start.elapsed();
        let leftmost = dfa(AcMatchKind::LeftmostLongest);
        let start = Instant::now();
        let patterns = Regex::builder()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .utf8_empty(false),
            )
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .build_many(&regexes)
            .unwrap_or_else(|e| panic!("{e}"));
        println!(
            "reference design: {} keywords, {} distinct phrases in an aho-corasick DFA ({:.1} MB, built in {:.0} ms), \
             {} patterns in one set (built in {:.0} ms)",
            spec.use_cases.iter().map(|u| u.keywords.len()).sum::<usize>(),
            phrases.len(),
            overlapping.memory_usage() as f64 / 1e6,
            ac_time.as_secs_f64() * 1e3,
            regexes.len(),
            start.elapsed().as_secs_f64() * 1e3
        );
        Reference {
            overlapping,
            leftmost,
            keyword_points,
            patterns,
            pattern_points,
            use_cases: spec.use_cases.len(),
        }
    }

    fn scratch(&self) -> Scratch {
        Scratch {
            cache: self.patterns.create_cache(),
            set: PatternSet::new(self.patterns.pattern_len()),
            sums: vec![0.0; self.use_cases],
        }
    }

    /// The keyword half: points of every phrase found at word boundaries (or of the
    /// leftmost-longest ones only).
    fn keywords(&self, text: &[u8], sums: &mut [f64], overlapping: bool) {
        if overlapping {
            for m in self.overlapping.find_overlapping_iter(text) {
                self.found(text, m, sums);
            }
        } else {
            for m in self.leftmost.find_iter(text) {
                self.found(text, m, sums);
            }
        }
    }

    /// Add a phrase's points when it does not continue a word on either side.
    fn found(&self, text: &[u8], m: aho_corasick::Match, sums: &mut [f64]) {
        let before = m.start().checked_sub(1).map(|i| text[i]);
        let after = text.get(m.end()).copied();
        let bounded = !before.is_some_and(|b| is_word_byte(b) && is_word_byte(text[m.start()]))
            && !after.is_some_and(|b| is_word_byte(b) && is_word_byte(text[m.end() - 1]));
        if bounded {
            for &(u, points) in &self.keyword_points[m.pattern().as_usize()] {
                sums[u] += points;
            }
        }
    }

    /// The pattern half: points of every pattern that matches.
    fn patterns(&self, text: &[u8], scratch: &mut Scratch) {
        scratch.set.clear();
        self.patterns.which_overlapping_matches_with(
            &mut scratch.cache,
            &Input::new(text),
            &mut scratch.set,
        );
        for p in scratch.set.iter() {
            let (u, points) = self.pattern_points[p.as_usize()];
            scratch.sums[u] += points;
        }
    }

    /// The top use case of `text`, if any scores above zero.
    fn top(&self, text: &[u8], scratch: &mut Scratch, overlapping: bool) -> Option<usize> {
        scratch.sums.fill(0.0);
        self.keywords(text, &mut scratch.sums, overlapping);
        self.patterns(text, scratch);
        argmax(&scratch.sums)
    }
}

/// One way of classifying every text; it returns a checksum, so that no pass can be optimised
/// away.
type Variant<'a> = Box<dyn FnMut(&[String]) -> usize + 'a>;

/// An input line, as far as the reference design reads it.
#[derive(serde::Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    id: Option<&'a str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

/// An output line of the reference design.
#[derive(serde::Serialize)]
struct OutputLine<'a> {
    line: usize,
    id: Option<&'a str>,
    verdict: &'static str,
    top: Option<&'a str>,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn argmax(sums: &[f64]) -> Option<usize> {
    let mut best = None;
    for (i, &s) in sums.iter().enumerate() {
        if s > 0.0 && best.is_none_or(|b: usize| s > sums[b]) {
            best = Some(i);
        }
    }
    best
}

/// The reference design's top use case of each text, with every phrase or the leftmost-longest.
fn top_of_each(reference: &Reference, overlapping: bool) -> Variant<'_> {
    let mut scratch = reference.scratch();
    Box::new(move |texts| {
        let mut sum = 0;
        for t in texts {
            sum += reference
                .top(t.as_bytes(), &mut scratch, overlapping)
                .unwrap_or(99);
        }
        sum
    })
}

fn main() {
    let Some(corpus) = common::read_corpus("reference_design") else {
        return;
    };
    let (lines, texts): (Vec<&str>, Vec<String>) =
        common::lines_with_texts(&corpus).into_iter().unzip();
    let loaded =
        match std::env::args().find_map(|a| a.strip_prefix("--policy=").map(str::to_owned)) {
            Some(path) => smslint_policy::load_path(std::path::Path::new(&path)),
            None => smslint_policy::load_default(),
        }
        .unwrap_or_else(|e| panic!("{e}"));
    let spec = smslint_policy::validate::to_spec(&loaded.raw, &loaded.name);
    let policy = loaded.policy;
    let reference = &Reference::new(&spec);

    let policy = &policy;
    let mut engine = common::Engine::default();
    let names: Vec<&str> = spec.use_cases.iter().map(|u| u.use_case.as_str()).collect();
    let mut variants: Vec<(&str, Variant)> = vec![
        (
            "reference design, every phrase",
            top_of_each(reference, true),
        ),
        (
            "reference design, leftmost-longest phrases only",
            top_of_each(reference, false),
        ),
        (
            "  the same, JSON lines read and written",
            Box::new({
                let mut scratch = reference.scratch();
                let mut out: Vec<u8> = Vec::with_capacity(1 << 16);
                let lines = &lines;
                let names = &names;
                move |_| {
                    let mut sum = 0;
                    for (n, line) in lines.iter().enumerate() {
                        let verdict = match serde_json::from_str::<Record>(line) {
                            Ok(r) => {
                                let top = reference.top(r.text.as_bytes(), &mut scratch, false);
                                OutputLine {
                                    line: n + 1,
                                    id: r.id,
                                    verdict: if top.is_some() { "approve" } else { "reject" },
                                    top: top.map(|u| names[u]),
                                }
                            }
                            Err(_) => OutputLine {
                                line: n + 1,
                                id: None,
                                verdict: "error",
                                top: None,
                            },
                        };
                        serde_json::to_writer(&mut out, &verdict).unwrap_or_else(|e| panic!("{e}"));
                        out.push(b'\n');
                        if out.len() > 60_000 {
                            sum += out.len();
                            out.clear();
                        }
                    }
                    sum
                }
            }),
        ),
        (
            "  its keyword DFA alone, every phrase",
            Box::new(|texts| {
                let mut sums = vec![0.0; reference.use_cases];
                let mut sum = 0;
                for t in texts {
                    sums.fill(0.0);
                    reference.keywords(t.as_bytes(), &mut sums, true);
                    sum += argmax(&sums).unwrap_or(99);
                }
                sum
            }),
        ),
        (
            "  its pattern set alone",
            Box::new({
                let mut scratch = reference.scratch();
                move |texts| {
                    let mut sum = 0;
                    for t in texts {
                        reference.patterns(t.as_bytes(), &mut scratch);
                        sum += scratch.set.len();
                    }
                    sum
                }
            }),
        ),
        (
            "the engine (normalise + classify, scores)",
            Box::new(|texts| {
                let mut sum = 0;
                for t in texts {
                    sum += engine
                        .classify(policy, t)
                        .ranking
                        .first()
                        .copied()
                        .unwrap_or(99);
                }
                sum
            }),
        ),
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..6 {
        for (i, (_, run)) in variants.iter_mut().enumerate() {
            let start = Instant::now();
            std::hint::black_box(run(&texts));
            // Round 0 warms the caches and lazy DFAs.
            if round > 0 {
                rates[i].push(texts.len() as f64 / start.elapsed().as_secs_f64());
            }
        }
    }
    println!(
        "{} messages, {}, one core, medians of 5 rounds:",
        texts.len(),
        loaded.name
    );
    for ((name, _), mut r) in variants.iter().zip(rates) {
        r.sort_by(f64::total_cmp);
        let rate = r[r.len() / 2];
        println!(
            "{name:<52} {rate:>10.0} msgs/s  {:>7.0} ns a message  (rounds {})",
            1e9 / rate,
            r.iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}
