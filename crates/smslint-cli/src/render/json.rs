//! The JSON contract of `check` and `classify` (see DESIGN.md and the README).

use serde::{Serialize, Serializer};
use smslint_core::{
    Classification, Encoding, Evidence, NumberProfile, Policy, Reason, SegmentInfo, Verdict,
};

/// A detected use case and its score.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Category<'a> {
    use_case: &'a str,
    score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<EvidenceList<'a>>,
}

#[cfg(test)]
impl<'a> Category<'a> {
    /// A category without evidence.
    pub fn new(use_case: &'a str, score: f64) -> Self {
        Category {
            use_case,
            score,
            evidence: None,
        }
    }
}

/// One matched rule.
#[derive(Serialize)]
pub struct EvidenceJson<'a> {
    rule: &'a str,
    start: u32,
    end: u32,
    #[serde(rename = "match")]
    matched: &'a str,
    weight: f64,
}

/// The detected use cases of a classification, serialised as the list of [`Category`] they
/// make without building it: the list, and a list of evidence for each use case, were
/// allocations for every line of `classify --batch`.
pub struct Categories<'a> {
    policy: &'a Policy,
    classification: &'a Classification,
    text: &'a str,
    with_evidence: bool,
}

impl Serialize for Categories<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.classification.detected().map(|s| Category {
            use_case: s.use_case.as_str(),
            score: s.score,
            evidence: self.with_evidence.then_some(EvidenceList {
                policy: self.policy,
                evidence: &s.evidence,
                text: self.text,
            }),
        }))
    }
}

/// A use case's evidence, serialised as a list of [`EvidenceJson`].
pub struct EvidenceList<'a> {
    policy: &'a Policy,
    evidence: &'a [Evidence],
    text: &'a str,
}

impl Serialize for EvidenceList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.evidence
                .iter()
                .map(|e| EvidenceJson::new(self.policy, e, self.text)),
        )
    }
}

impl<'a> EvidenceJson<'a> {
    /// The JSON of `evidence` found in `text`.
    pub fn new(policy: &'a Policy, evidence: &Evidence, text: &'a str) -> Self {
        EvidenceJson {
            rule: &policy.rule(evidence.rule).id,
            start: evidence.span.start,
            end: evidence.span.end,
            matched: evidence.span.slice(text),
            weight: evidence.weight,
        }
    }
}

/// `check --format json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckJson<'a> {
    verdict: &'static str,
    phone_number: Option<&'a str>,
    top: &'a str,
    categories: Categories<'a>,
    reasons: &'a [Reason],
    encoding: Encoding,
    segments: u32,
}

/// `classify --format json`.
#[derive(Serialize)]
pub struct ClassifyJson<'a> {
    top: &'a str,
    categories: Categories<'a>,
}

fn top(c: &Classification) -> &str {
    c.top().map_or("Unknown", |s| s.use_case.as_str())
}

fn categories<'a>(
    policy: &'a Policy,
    classification: &'a Classification,
    text: &'a str,
    with_evidence: bool,
) -> Categories<'a> {
    Categories {
        policy,
        classification,
        text,
        with_evidence,
    }
}

/// The JSON object of one `check`.
pub fn check<'a>(
    policy: &'a Policy,
    classification: &'a Classification,
    verdict: &'a Verdict,
    profile: &'a NumberProfile,
    text: &'a str,
    segments: SegmentInfo,
) -> CheckJson<'a> {
    CheckJson {
        verdict: verdict.outcome.as_str(),
        phone_number: profile.phone_number(),
        top: top(classification),
        categories: categories(policy, classification, text, false),
        reasons: &verdict.reasons,
        encoding: segments.encoding,
        segments: segments.segments,
    }
}

/// One row of `numbers --format json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberJson<'a> {
    phone_number: Option<&'a str>,
    campaign_status: Option<&'a str>,
    registration_tier: Option<&'a str>,
    use_cases: Option<Vec<&'a str>>,
    features: Option<&'a [String]>,
    eligible: bool,
    reasons: &'a [Reason],
}

/// The rows of `numbers --format json`, in display order.
pub fn numbers<'a>(rows: &[(&'a NumberProfile, &'a Verdict)]) -> Vec<NumberJson<'a>> {
    rows.iter()
        .map(|(p, v)| {
            let campaign = p.campaign();
            NumberJson {
                phone_number: p.phone_number(),
                campaign_status: campaign.and_then(|c| c.status.as_deref()),
                registration_tier: campaign.and_then(|c| c.registration_tier.as_deref()),
                use_cases: campaign
                    .and_then(|c| c.use_cases.as_ref())
                    .map(|u| u.iter().map(smslint_core::UseCase::as_str).collect()),
                features: p.features(),
                eligible: v.approved(),
                reasons: &v.reasons,
            }
        })
        .collect()
}

/// The JSON object of one `classify`.
pub fn classify<'a>(
    policy: &'a Policy,
    classification: &'a Classification,
    text: &'a str,
) -> ClassifyJson<'a> {
    ClassifyJson {
        top: top(classification),
        categories: categories(policy, classification, text, true),
    }
}
