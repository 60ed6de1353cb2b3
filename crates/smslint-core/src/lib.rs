//! The smslint engine: classify outbound SMS text into the US A2P use cases, and decide whether a
//! RingCentral number may send it.
//!
//! # Overview
//!
//! A [`Policy`] (built once from a [`PolicySpec`], usually by the `smslint-policy` crate) holds
//! the keyword automaton and regex set of every use case. Per message:
//!
//! 1. [`NormalizedText::new`] folds the text for matching and keeps a map back to its bytes;
//! 2. [`Policy::classify`] scores every use case and records the evidence behind each score;
//! 3. [`decide`] compares the detected use cases with the number's [`NumberProfile`] (parsed by
//!    [`parse_snapshot`] from RingCentral's JSON) and returns a [`Verdict`] with stable
//!    [`ReasonCode`]s.
//!
//! # Example
//!
//! ```
//! use smslint_core::{decide, parse_snapshot, DecisionSpec, KeywordSpec, Message,
//!                    NormalizedText, Policy, PolicySpec, SendContext, UseCase, UseCaseSpec};
//!
//! let policy = Policy::compile(PolicySpec {
//!     name: "example".into(),
//!     use_cases: vec![UseCaseSpec {
//!         use_case: UseCase::DeliveryNotification,
//!         threshold: 3.0,
//!         description: None,
//!         keywords: vec![KeywordSpec::new("out for delivery", 3.0)],
//!         patterns: vec![],
//!         content_rules: vec![],
//!     }],
//!     decision: DecisionSpec::default(),
//!     rules: vec![],
//!     brand_names: vec![],
//!     placeholders: vec![],
//! })?;
//! let profile = &parse_snapshot(r#"{"phoneNumber": "+16501112345",
//!     "smsCampaignInfo": {"status": "Confirmed", "useCases": ["DeliveryNotification"]},
//!     "smsBrandInfo": {"status": "Verified"}}"#)?[0];
//! let text = NormalizedText::new("Your parcel is OUT FOR DELIVERY today");
//! let classification = policy.classify(&text);
//! assert_eq!(classification.top().unwrap().use_case, UseCase::DeliveryNotification);
//! let message = Message { text: text.original(), ..Message::default() };
//! let verdict = decide(&policy, &classification, &[], profile, &message, &SendContext::default());
//! assert!(verdict.approved());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Matching semantics
//!
//! * **Keywords** are folded (see [`normalize`]) and matched against the folded text at word
//!   boundaries: a phrase that starts (ends) with a letter, digit or `_` must not be preceded
//!   (followed) by one, so `cod` never fires in `code`. Every occurrence of every phrase counts,
//!   so no phrase hides another. Phrases made of words alone (most of them) are looked up word
//!   by word in a table; the others go through one Aho-Corasick automaton reporting overlapping
//!   matches. Both find the same matches a search at word boundaries would.
//! * **Patterns** are Rust regular expressions matched against the original bytes, with Unicode
//!   classes off unless a pattern opts in with `(?u)`: `\d`, `\w`, `\b` and `(?i)` are ASCII.
//!   One set search learns which patterns match; only those run again to find their span.
//! * A use case's score is the sum of the weights of the distinct rules that matched (a rule
//!   counts once however often it matches); it is detected when the score reaches its threshold.
//!
//! # Performance
//!
//! Everything costly (folding keywords, building the automaton, compiling regexes) happens in
//! [`Policy::compile`]. Per message there is one folding pass (skipped for ASCII without
//! whitespace runs, whose folding is byte for byte), one lookup per word, one automaton scan,
//! one pattern-set scan (with a cache the caller's [`Classification`] keeps; the pattern groups
//! that take the texts whose scan would build too many states keep theirs in the policy, shared
//! by every thread), and one span search per pattern that matched.
//!
//! # Untrusted input
//!
//! Message text and snapshots may come from anyone. Matching is linear in the text's length:
//! the automaton and the regex engine guarantee it, and no backtracking engine is used.
//! Policies are bounded: [`MAX_RULES`], [`MAX_KEYWORD_BYTES`], and [`REGEX_SET_SIZE_LIMIT`] for
//! the compiled patterns. Snapshot parsing never panics; a malformed snapshot is a
//! [`SnapshotError`] naming its line, column and JSON path.

#![forbid(unsafe_code)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod anchored;
pub mod classify;
pub mod consent;
pub mod decision;
pub mod error;
pub mod normalize;
mod objects;
mod patterns;
pub mod policy;
pub mod reason;
pub mod rules;
pub mod segments;
pub mod severity;
pub mod snapshot;
pub mod span;
mod swar;
pub mod use_case;
mod words;
pub use words::word_ranges;

pub use classify::{Classification, ClauseHit, Detail, Evidence, UseCaseScore};
pub use consent::{ConsentRecord, ConsentRecords, OptStatus};
pub use decision::{
    assess_number, cap_exceeded, content_fit, daily_cap, decide, decide_reusing, decide_with,
    fmt_score, hand_over_pool, ledger_unavailable, top_up_pool, volume_key, volume_reason,
    DailyCap, DecisionScratch, Message, NumberAssessment, Outcome, SendContext, Verdict,
    MAX_TEXT_UTF16,
};
pub use error::{CompileError, SnapshotError};
pub use normalize::NormalizedText;
pub use policy::{
    BrandMatcher, Clause, ContentRule, ContentRuleSpec, DecisionSpec, Folding, KeywordSpec,
    MatcherSpec, PatternSpec, Policy, PolicySpec, Rule, RuleEvidenceSpec, RuleKind, UseCaseDef,
    UseCaseSpec, MAX_KEYWORD_BYTES, MAX_RULES, REGEX_SET_SIZE_LIMIT,
};
pub use reason::{Code, Reason, ReasonCode};
pub use rules::{Finding, LintContext};
pub use segments::{Encoding, SegmentInfo};
pub use severity::Severity;
pub use snapshot::{
    is_e164, parse_snapshot, select_profile, NumberProfile, SelectError, SenderIndex,
    SmsConfiguration, NUMBERS_SHOWN,
};
pub use span::{LineIndex, Span};
pub use use_case::UseCase;
