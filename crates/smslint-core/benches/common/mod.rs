//! What the corpus benches share: finding and reading their corpus, and classifying with the
//! engine as `check` does.

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

/// What classifying with the engine keeps from one message to the next, as `check` does: the
/// normalisation buffers and the classification.
#[derive(Default)]
pub struct Engine {
    folded: String,
    map: Vec<(u32, u32)>,
    out: smslint_core::Classification,
}

impl Engine {
    /// Normalise `text` and classify it with scores only.
    pub fn classify(
        &mut self,
        policy: &smslint_core::Policy,
        text: &str,
    ) -> &smslint_core::Classification {
        let n = smslint_core::NormalizedText::with_buffers(
            text,
            std::mem::take(&mut self.folded),
            std::mem::take(&mut self.map),
        );
        policy.classify_into(&n, &mut self.out, smslint_core::Detail::Scores);
        (self.folded, self.map) = n.into_buffers();
        &self.out
    }
}
