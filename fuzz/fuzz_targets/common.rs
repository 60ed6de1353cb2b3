//! What the targets share: the default policy, loaded once, and the span check.

// Each target uses only some of these.
#![allow(dead_code)]

use std::sync::OnceLock;

use smslint_core::{LintContext, NormalizedText, Policy, Span};

/// The embedded default policy.
pub fn default_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| match smslint_policy::load_default() {
        Ok(loaded) => loaded.policy,
        Err(e) => panic!("the embedded default policy does not load: {e}"),
    })
}

/// Panics unless `span` is a slice of `text` on character boundaries.
pub fn assert_slice(text: &str, span: Span) {
    let (s, e) = (span.start as usize, span.end as usize);
    assert!(
        s <= e && text.get(s..e).is_some(),
        "span {s}..{e} is not a slice of {text:?}"
    );
}

/// Classify and lint `text` with `policy`, checking every span and that a second run agrees.
pub fn classify_and_lint(policy: &Policy, text: &str) {
    let normalized = NormalizedText::new(text);
    let classification = policy.classify(&normalized);
    for score in &classification.scores {
        assert!(
            score.score.is_finite(),
            "score {} for {text:?}",
            score.score
        );
        for evidence in &score.evidence {
            assert_slice(text, evidence.span);
        }
    }
    let segments = smslint_core::segments::analyze(text);
    let context = LintContext {
        segments: segments.segments,
        ..LintContext::default()
    };
    let findings = policy.lint(&normalized, &classification, &context);
    for finding in &findings {
        if let Some(span) = finding.span {
            assert_slice(text, span);
        }
    }
    let again = NormalizedText::new(text);
    assert_eq!(
        classification,
        policy.classify(&again),
        "classification of {text:?}"
    );
    assert_eq!(
        findings,
        policy.lint(&again, &classification, &context),
        "findings of {text:?}"
    );
}
