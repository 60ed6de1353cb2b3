//! Example-based policy tests: each use case's `examples.match` and `examples.no_match`.

use smslint_core::{NormalizedText, UseCase};

use crate::load::LoadedPolicy;

/// One example that did not behave as declared.
#[derive(Clone, Debug, PartialEq)]
pub struct ExampleFailure {
    /// The use case the example belongs to.
    pub use_case: UseCase,
    /// The example text.
    pub text: String,
    /// True for a `match` example that was not detected; false for a `no_match` that was.
    pub expected_match: bool,
    /// The score the use case got.
    pub score: f64,
    /// Its threshold.
    pub threshold: f64,
}

/// Counts and failures of one run of a policy's examples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExampleReport {
    /// Examples run.
    pub total: usize,
    /// Examples that failed.
    pub failures: Vec<ExampleFailure>,
}

/// Run every use case's examples against the compiled policy.
pub fn run_examples(loaded: &LoadedPolicy) -> ExampleReport {
    let mut report = ExampleReport::default();
    for (index, (name, uc)) in loaded.raw.use_cases.0.iter().enumerate() {
        let cases = uc
            .examples
            .matches
            .iter()
            .map(|t| (t, true))
            .chain(uc.examples.no_match.iter().map(|t| (t, false)));
        for (text, expected_match) in cases {
            report.total += 1;
            let classification = loaded.policy.classify(&NormalizedText::new(text));
            let score = &classification.scores[index];
            debug_assert_eq!(score.use_case, name.0);
            if score.detected() != expected_match {
                report.failures.push(ExampleFailure {
                    use_case: name.0.clone(),
                    text: text.clone(),
                    expected_match,
                    score: score.score,
                    threshold: score.threshold,
                });
            }
        }
    }
    report
}
