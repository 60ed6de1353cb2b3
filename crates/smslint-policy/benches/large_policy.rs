//! A policy with 100,000 keywords: load time (parse, validate, compile), memory, and
//! classification speed next to the default policy, in one process.
//!
//! `cargo bench -p smslint-policy --bench large_policy -- [KEYWORDS]` (default 100,000). The
//! keywords are every distinct word, bigram and trigram of the labelled corpus, then made-up
//! words, spread over the 13 classifiable use cases; the messages classified are the corpus's.
//! Memory is read from `/proc/self/status` (Linux): resident memory held by the loaded policy,
//! and the growth of the peak while loading.

#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Instant;

use smslint_core::{Classification, Detail, NormalizedText, Policy, UseCase};
use smslint_policy::{load_default, load_str, Format};

fn main() {
    let wanted: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.replace(['_', ','], "").parse().ok())
        .unwrap_or(100_000);
    let texts = corpus_texts();
    let phrases = phrases(&texts, wanted);
    // Every use case a message can be classified into (Mixed and Unknown are labels only).
    let use_cases: Vec<&str> = UseCase::KNOWN
        .iter()
        .filter(|u| !matches!(u, UseCase::Mixed | UseCase::Unknown))
        .map(UseCase::as_str)
        .collect();
    let (yaml, json) = policy_texts(&phrases, &use_cases);
    println!(
        "policy: {} keywords over {} use cases; YAML {:.1} MB, JSON {:.1} MB",
        phrases.len(),
        use_cases.len(),
        yaml.len() as f64 / 1e6,
        json.len() as f64 / 1e6
    );

    // Reset the peak to the current resident size (Linux), so the peak below is the load's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (rss_before, hwm_before) = memory();
    let start = Instant::now();
    let loaded = match load_str(&json, "large.json", Format::Json) {
        Ok(l) => l,
        Err(e) => panic!("the generated policy does not load: {e}"),
    };
    let first = start.elapsed();
    let (rss_after, hwm_after) = memory();
    let policy = loaded.policy;
    println!(
        "first load (JSON): {:.0} ms; resident memory held by the policy {:.1} MB, peak grew {:.1} MB while loading",
        first.as_secs_f64() * 1e3,
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0,
        (hwm_after.saturating_sub(hwm_before)) as f64 / 1024.0
    );
    for (name, text, format) in [("JSON", &json, Format::Json), ("YAML", &yaml, Format::Yaml)] {
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let start = Instant::now();
                let l = load_str(text, "large", format);
                let took = start.elapsed().as_secs_f64() * 1e3;
                assert!(l.is_ok(), "the generated policy does not load");
                took
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "load + validate + compile ({name}): median {:.0} ms, fastest {:.0} ms (5 loads)",
            times[2], times[0]
        );
    }

    let default = load_default()
        .unwrap_or_else(|e| panic!("the default policy does not load: {e}"))
        .policy;
    for (name, p) in [
        ("default policy", &default),
        ("100k-keyword policy", &policy),
    ] {
        let (rate, p50, p99, detected) = classify_all(p, &texts);
        println!(
            "classify with the {name}: {rate:.0} msgs/s (median of 5), p50 {p50:.2} us, p99 {p99:.2} us, {detected} of {} messages detected something",
            texts.len()
        );
    }
}

/// The text of every message of the labelled corpus.
fn corpus_texts() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus");
    ["dev.jsonl", "test.jsonl"]
        .iter()
        .flat_map(|f| {
            let path = format!("{dir}/{f}");
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["text"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `wanted` distinct phrases: the corpus's words, bigrams and trigrams, then made-up words.
fn phrases(texts: &[String], wanted: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(wanted);
    for n in 1..=3 {
        for t in texts {
            let words: Vec<String> = t
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() > 1)
                .map(str::to_lowercase)
                .collect();
            for gram in words.windows(n) {
                let phrase = gram.join(" ");
                if out.len() < wanted && seen.insert(phrase.clone()) {
                    out.push(phrase);
                }
            }
        }
    }
    // A fixed linear congruential sequence, so every run builds the same policy.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    while out.len() < wanted {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let len = 4 + (state >> 60) as usize % 6;
        let word: String = (0..len)
            .map(|i| char::from(b'a' + ((state >> (i * 5)) % 26) as u8))
            .collect();
        if seen.insert(word.clone()) {
            out.push(word);
        }
    }
    out
}

/// The policy as YAML and as JSON: phrase `i` goes to use case `i mod n`, weight 1 to 3.
fn policy_texts(phrases: &[String], use_cases: &[&str]) -> (String, String) {
    let mut yaml = String::from("version: 1\nname: large\nuse_cases:\n");
    let mut json_cases = serde_json::Map::new();
    for (u, name) in use_cases.iter().enumerate() {
        let _ = writeln!(yaml, "  {name}:\n    threshold: 6\n    keywords:");
        let mut keywords = Vec::new();
        for (i, p) in phrases.iter().enumerate().skip(u).step_by(use_cases.len()) {
            let weight = 1 + i % 3;
            let _ = writeln!(yaml, "      - {{ phrase: \"{p}\", weight: {weight} }}");
            keywords.push(serde_json::json!({ "phrase": p, "weight": weight }));
        }
        json_cases.insert(
            (*name).to_owned(),
            serde_json::json!({ "threshold": 6, "keywords": keywords }),
        );
    }
    let json = serde_json::json!({ "version": 1, "name": "large", "use_cases": json_cases });
    (yaml, json.to_string())
}

/// Messages per second (median of 5 passes), p50 and p99 latency in µs, and how many messages
/// had a use case detected.
fn classify_all(policy: &Policy, texts: &[String]) -> (f64, f64, f64, usize) {
    let mut out = Classification::default();
    let mut buffers = (String::new(), Vec::new());
    // Normalise and classify as `check` does: buffers reused, scores only.
    let mut classify = |t: &str, out: &mut Classification| {
        let n = NormalizedText::with_buffers(
            t,
            std::mem::take(&mut buffers.0),
            std::mem::take(&mut buffers.1),
        );
        policy.classify_into(&n, out, Detail::Scores);
        buffers = n.into_buffers();
    };
    let mut rates: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..10 {
                for t in texts {
                    classify(t, &mut out);
                    std::hint::black_box(&out);
                }
            }
            (10 * texts.len()) as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    // Latency of single messages, measured after the passes above have warmed the caches.
    let mut detected = 0;
    let mut lat = Vec::with_capacity(texts.len());
    for t in texts {
        let start = Instant::now();
        classify(t, &mut out);
        lat.push(start.elapsed().as_nanos() as u64);
        detected += usize::from(out.top().is_some_and(|s| s.use_case != UseCase::Unknown));
    }
    lat.sort_unstable();
    let q = |per_mille: usize| lat[(lat.len() - 1) * per_mille / 1000] as f64 / 1000.0;
    (rates[2], q(500), q(990), detected)
}

/// Resident memory and its peak so far, in KiB (zero where `/proc` is missing).
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
