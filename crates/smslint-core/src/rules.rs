//! Content rules: what a message says that carriers filter, independent of its use case.
//!
//! A rule's clauses are matched in the same scan as the use cases' rules
//! ([`Classification::clause_hits`]); [`Policy::lint`] only combines them:
//!
//! * `match` (when given) must match, `with` (when given) must match too,
//! * `unless` (when given) must not match, `require` (when given) must not match — the rule flags
//!   its absence — and so must the brand names when the rule requires one,
//! * the text must take more than `segments_over` segments (when given),
//! * one of `when_detected` must be detected (when given), and the campaign must register none
//!   of `unless_use_case`.

use serde::Serialize;

use crate::classify::Classification;
use crate::normalize::NormalizedText;
use crate::policy::{BrandMatcher, Clause, Policy};
use crate::severity::Severity;
use crate::span::Span;
use crate::use_case::UseCase;

/// What a content rule found in one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Index of the rule in [`Policy::content_rules`].
    pub rule: u32,
    /// Its effective severity.
    pub severity: Severity,
    /// Where, when the rule flags something present (absent for a missing element).
    pub span: Option<Span>,
}

/// What content rules need to know besides the text.
#[derive(Clone, Copy, Debug, Default)]
pub struct LintContext<'a> {
    /// The use cases the campaign registers, when known (for `unless_use_case`).
    pub registered: Option<&'a [UseCase]>,
    /// Brand names to look for instead of the policy's (`--brand`).
    pub brands: Option<&'a BrandMatcher>,
    /// Segments the text takes.
    pub segments: u32,
}

impl Policy {
    /// The findings of every content rule that is on, in policy order (`classification` as
    /// [`Policy::classify`] makes it, its clause hits in rule order).
    pub fn lint(
        &self,
        text: &NormalizedText<'_>,
        classification: &Classification,
        context: &LintContext<'_>,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.lint_into(text, classification, context, &mut findings);
        findings
    }

    /// [`Policy::lint`] into `findings` (cleared first), reusing its buffer: the per-message
    /// path of batches.
    pub fn lint_into(
        &self,
        text: &NormalizedText<'_>,
        classification: &Classification,
        context: &LintContext<'_>,
        findings: &mut Vec<Finding>,
    ) {
        findings.clear();
        // Only a rule whose `match` matched, or one without `match`, can fire: the `match`
        // hits (in rule order, as classification sorts them) merged with the rules without
        // one, rather than every rule asked in turn (480 instructions a message fewer).
        let mut matched = classification
            .clause_hits
            .iter()
            .filter(|h| h.clause == Clause::Match)
            .map(|h| h.rule)
            .peekable();
        let mut unmatched = self.rules_without_match.iter().copied().peekable();
        loop {
            let index = match (matched.peek(), unmatched.peek()) {
                (Some(&m), Some(&u)) if m < u => matched.next(),
                (_, Some(_)) => unmatched.next(),
                (Some(_), None) => matched.next(),
                (None, None) => None,
            };
            let Some(index) = index else {
                break;
            };
            let Some(rule) = self.content_rules.get(index as usize) else {
                continue;
            };
            let Some(severity) = rule.severity else {
                continue;
            };
            if !rule.when_detected.is_empty()
                && !rule
                    .when_detected
                    .iter()
                    .any(|u| classification.is_detected(u))
            {
                continue;
            }
            if context
                .registered
                .is_some_and(|reg| rule.unless_use_case.iter().any(|u| reg.contains(u)))
            {
                continue;
            }
            let Ok(matched) = Self::text_clauses(classification, index, rule.has) else {
                continue;
            };
            if rule.require_brand {
                match context.brands.or(self.brands.as_ref()) {
                    // Without names to look for, the rule cannot tell: it stays silent.
                    None => continue,
                    Some(b) if b.found_in(text) => continue,
                    Some(_) => {}
                }
            }
            if rule.segments_over.is_some_and(|n| context.segments <= n) {
                continue;
            }
            findings.push(Finding {
                rule: index,
                severity,
                span: matched
                    .and_then(|h| self.first_occurrence(h, classification, text.original())),
            });
        }
    }
}
