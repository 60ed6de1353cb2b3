//! What the corpus benches share: finding and reading their corpus.

/// The corpus named on the command line (the first argument not starting with `-`), or the
/// one `bench/run.sh` writes, read whole; `None`, after saying so, when there is none.
pub fn read_corpus(bench: &str) -> Option<String> {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/bench/corpus-100000.jsonl"
            )
            .to_owned()
        });
    let corpus = std::fs::read_to_string(&path).ok();
    if corpus.is_none() {
        println!("{bench}: no corpus at {path}; run bench/run.sh first (it writes one)");
    }
    corpus
}

/// Each line of `corpus` that holds a `text`, with that text.
pub fn lines_with_texts(corpus: &str) -> Vec<(&str, String)> {
    corpus
        .lines()
        .filter_map(|l| {
            let v = serde_json::from_str::<serde_json::Value>(l).ok()?;
            Some((l, v["text"].as_str()?.to_owned()))
        })
        .collect()
}
