//! Classification throughput and per-message latency on a corpus: normalise and classify
//! (scores only, as `check` does), one core.
//!
//! `cargo bench -p smslint-core --bench latency -- [CORPUS.jsonl]` (default
//! `target/bench/corpus-100000.jsonl`, written by `bench/run.sh`). Prints msgs/s over the whole
//! corpus (median of 5 passes after a warm-up pass) and latency percentiles of single messages.

#![forbid(unsafe_code)]

mod common;

use std::time::Instant;

fn main() {
    let Some(corpus) = common::read_corpus("latency") else {
        return;
    };
    let texts: Vec<String> = common::lines_with_texts(&corpus)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let policy = smslint_policy::load_default()
        .unwrap_or_else(|e| panic!("{e}"))
        .policy;
    let bytes: usize = texts.iter().map(String::len).sum();

    let mut engine = common::Engine::default();
    let mut run = |texts: &[String], latencies: Option<&mut Vec<u64>>| {
        let mut checksum = 0usize;
        let mut lat = latencies;
        for t in texts {
            // The clock is read only for the latency pass: at about 25 ns a read, it would be
            // counted in the rate as classification time.
            let start = lat.is_some().then(Instant::now);
            checksum += engine.classify(&policy, t).ranking.len();
            if let (Some(l), Some(start)) = (lat.as_deref_mut(), start) {
                l.push(start.elapsed().as_nanos() as u64);
            }
        }
        checksum
    };
    run(&texts, None);
    let mut rates = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        std::hint::black_box(run(&texts, None));
        rates.push(texts.len() as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let rate = rates[rates.len() / 2];
    let mut lat = Vec::with_capacity(texts.len());
    run(&texts, Some(&mut lat));
    lat.sort_unstable();
    // Quantiles in tenths of a per cent, so the index stays integer arithmetic.
    let q = |per_mille: usize| lat[(lat.len() - 1) * per_mille / 1000] as f64 / 1000.0;
    println!(
        "classify (normalise + scores, one core): {} messages, {:.0} msgs/s (median of 5; passes {}), {:.0} MB/s",
        texts.len(),
        rate,
        rates.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(" "),
        rate * bytes as f64 / texts.len() as f64 / 1e6
    );
    println!(
        "latency per message: p50 {:.2} us, p90 {:.2} us, p99 {:.2} us, p99.9 {:.2} us, max {:.2} us",
        q(500),
        q(900),
        q(990),
        q(999),
        q(1000)
    );
}
