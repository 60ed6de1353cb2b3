//! The send decision: classification, snapshot and policy in; a verdict with its reasons out.

use std::fmt::Write as _;

use serde::Serialize;

use crate::classify::Classification;
use crate::policy::Policy;
use crate::reason::{Reason, ReasonCode};
use crate::severity::Severity;
use crate::snapshot::{campaign_status, ApiError, NumberProfile};
use crate::use_case::UseCase;

/// Approve or reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The message may be sent.
    Approve,
    /// The message must not be sent.
    Reject,
}

impl Outcome {
    /// `approve` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approve => "approve",
            Outcome::Reject => "reject",
        }
    }
}

/// The decision on one message, and every reason behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// `reject` exactly when a reason has severity `error`.
    pub outcome: Outcome,
    /// Every reason found, errors first.
    pub reasons: Vec<Reason>,
}

impl Verdict {
    /// Build a verdict from its reasons.
    pub fn from_reasons(mut reasons: Vec<Reason>) -> Verdict {
        // Stable sort: errors first, and within a severity the order the checks ran in.
        reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));
        let outcome = if reasons.iter().any(|r| r.severity == Severity::Error) {
            Outcome::Reject
        } else {
            Outcome::Approve
        };
        Verdict { outcome, reasons }
    }

    /// Whether the message may be sent.
    pub fn approved(&self) -> bool {
        self.outcome == Outcome::Approve
    }
}

/// Decide whether a message with this classification may be sent from this number.
pub fn decide(
    policy: &Policy,
    classification: &Classification,
    profile: &NumberProfile,
) -> Verdict {
    let mut reasons = Vec::new();
    registration_reasons(policy, profile, &mut reasons);
    content_reasons(policy, classification, profile, &mut reasons);
    for (field, value) in profile.unknown_values() {
        reasons.push(Reason {
            code: ReasonCode::SnapshotUnknownValue,
            severity: Severity::Warning,
            message: format!(
                "{field} holds {value:?}, a value this version of smslint does not know"
            ),
        });
    }
    Verdict::from_reasons(reasons)
}

fn error(code: ReasonCode, message: String) -> Reason {
    Reason {
        code,
        severity: Severity::Error,
        message,
    }
}

fn registration_reasons(policy: &Policy, profile: &NumberProfile, reasons: &mut Vec<Reason>) {
    let number = profile.phone_number().unwrap_or("the number");
    let campaign = profile.campaign();
    let brand = profile.brand();
    let missing: Vec<&str> = [
        campaign.is_none().then_some("smsCampaignInfo"),
        brand.is_none().then_some("smsBrandInfo"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        reasons.push(error(
            ReasonCode::NumberNotSmsEnabled,
            format!(
                "{number} is not linked to a TCR campaign: {} {} absent from its SMS configuration",
                missing.join(" and "),
                if missing.len() == 1 { "is" } else { "are" }
            ),
        ));
    }
    if let Some(c) = campaign {
        match c.status.as_deref() {
            Some(campaign_status::CONFIRMED) => {}
            Some(s) => reasons.push(error(
                ReasonCode::CampaignNotConfirmed,
                format!("smsCampaignInfo.status is {s:?}; only \"Confirmed\" campaigns may send"),
            )),
            None => reasons.push(error(
                ReasonCode::CampaignNotConfirmed,
                "smsCampaignInfo.status is missing; only \"Confirmed\" campaigns may send".into(),
            )),
        }
        if let Some(errors) = c.errors.as_ref().filter(|e| !e.is_empty()) {
            reasons.push(error(
                ReasonCode::CampaignHasErrors,
                format!("smsCampaignInfo.errors: {}", list_errors(errors)),
            ));
        }
    }
    if let Some(b) = brand {
        let accepted = &policy.decision().accepted_brand_statuses;
        let accepted_list = quoted_list(accepted.iter().map(String::as_str));
        match b.status.as_deref() {
            Some(s) if accepted.iter().any(|a| a == s) => {}
            Some(s) => reasons.push(error(
                ReasonCode::BrandNotVerified,
                format!("smsBrandInfo.status is {s:?}; the policy accepts {accepted_list}"),
            )),
            None => reasons.push(error(
                ReasonCode::BrandNotVerified,
                format!("smsBrandInfo.status is missing; the policy accepts {accepted_list}"),
            )),
        }
        if let Some(errors) = b.errors.as_ref().filter(|e| !e.is_empty()) {
            reasons.push(error(
                ReasonCode::BrandHasErrors,
                format!("smsBrandInfo.errors: {}", list_errors(errors)),
            ));
        }
    }
}

fn content_reasons(
    policy: &Policy,
    classification: &Classification,
    profile: &NumberProfile,
    reasons: &mut Vec<Reason>,
) {
    // Without a campaign there is nothing to compare the content with; the missing campaign
    // is already a reason of its own.
    let Some(campaign) = profile.campaign() else {
        return;
    };
    let registered: &[UseCase] = campaign.use_cases.as_deref().unwrap_or(&[]);
    let covered = |u: &UseCase| {
        registered.contains(u)
            || policy
                .decision()
                .covers
                .iter()
                .any(|(label, members)| registered.contains(label) && members.contains(u))
    };
    let registered_text = describe_registered(policy, registered);

    if classification.ranking.is_empty() {
        let closest = classification.closest_miss().map_or_else(String::new, |s| {
            format!(
                " (closest: {} with {} of {})",
                s.use_case,
                fmt_score(s.score),
                fmt_score(s.threshold)
            )
        });
        let (severity, tail) = if registered.contains(&UseCase::Unknown) {
            (
                Severity::Info,
                "; the campaign registers Unknown, which covers it",
            )
        } else {
            (policy.decision().unclassified, "")
        };
        reasons.push(Reason {
            code: ReasonCode::ContentUnclassified,
            severity,
            message: format!("the text fits no use case{closest}{tail}"),
        });
        return;
    }

    let detected: Vec<&UseCase> = classification.detected().map(|s| &s.use_case).collect();
    let restricted_missing: Vec<&UseCase> = detected
        .iter()
        .copied()
        .filter(|u| policy.decision().restricted.contains(u) && !covered(u))
        .collect();
    let offending: Vec<&UseCase> = if !restricted_missing.is_empty() {
        restricted_missing
    } else if detected.iter().any(|u| covered(u)) {
        return;
    } else {
        detected
    };
    reasons.push(error(
        ReasonCode::ContentUseCaseNotRegistered,
        format!(
            "{} content, but the campaign registers {registered_text}",
            offending
                .iter()
                .map(|u| u.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    ));
}

fn describe_registered(policy: &Policy, registered: &[UseCase]) -> String {
    if registered.is_empty() {
        return "no use cases (smsCampaignInfo.useCases is empty or missing)".into();
    }
    let mut out = String::new();
    for (i, u) in registered.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(u.as_str());
        if let Some((_, members)) = policy.decision().covers.iter().find(|(l, _)| l == u) {
            let _ = write!(
                out,
                " (covering {})",
                members
                    .iter()
                    .map(UseCase::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    out
}

fn list_errors(errors: &[ApiError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn quoted_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.map(|s| format!("{s:?}")).collect();
    match items.len() {
        0 => "no status".into(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// A score as people write it: `3`, `7.5`, `-1.25`.
pub fn fmt_score(score: f64) -> String {
    let s = format!("{score:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::NormalizedText;
    use crate::policy::{DecisionSpec, KeywordSpec, PolicySpec, UseCaseSpec};
    use crate::snapshot::parse_snapshot;

    fn policy(covers: bool) -> Policy {
        let uc = |use_case, phrase: &str| UseCaseSpec {
            use_case,
            threshold: 2.0,
            description: None,
            keywords: vec![KeywordSpec {
                phrase: phrase.into(),
                weight: 2.0,
            }],
            patterns: vec![],
        };
        let mut decision = DecisionSpec::default();
        if covers {
            decision.covers = vec![(
                UseCase::Mixed,
                vec![UseCase::CustomerCare, UseCase::DeliveryNotification],
            )];
        }
        Policy::compile(PolicySpec {
            name: "t".into(),
            use_cases: vec![
                uc(UseCase::DeliveryNotification, "shipped"),
                uc(UseCase::Marketing, "sale"),
                uc(UseCase::CustomerCare, "ticket"),
            ],
            decision,
        })
        .unwrap()
    }

    fn verdict(p: &Policy, snapshot: &str, text: &str) -> Verdict {
        let profile = &parse_snapshot(snapshot).unwrap()[0];
        decide(p, &p.classify(&NormalizedText::new(text)), profile)
    }

    fn codes(v: &Verdict) -> Vec<&'static str> {
        v.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    const OK: &str = r#"{"phoneNumber": "+16501112345",
        "smsCampaignInfo": {"status": "Confirmed", "useCases": ["CustomerCare", "DeliveryNotification"]},
        "smsBrandInfo": {"status": "Verified"}}"#;

    #[test]
    fn approves_registered_content() {
        let v = verdict(&policy(false), OK, "Your order shipped");
        assert!(v.approved(), "{v:?}");
        assert!(v.reasons.is_empty());
    }

    #[test]
    fn rejects_restricted_content_even_beside_registered_content() {
        let v = verdict(&policy(false), OK, "Your order shipped. Big sale today!");
        assert_eq!(codes(&v), ["content.use_case_not_registered"]);
        assert_eq!(
            v.reasons[0].message,
            "Marketing content, but the campaign registers CustomerCare, DeliveryNotification"
        );
    }

    #[test]
    fn covers_expand_a_registration_label() {
        let mixed = r#"{"smsCampaignInfo": {"status": "Confirmed", "useCases": ["Mixed"]},
            "smsBrandInfo": {"status": "Verified"}}"#;
        assert!(verdict(&policy(true), mixed, "your ticket").approved());
        let v = verdict(&policy(false), mixed, "your ticket");
        assert_eq!(codes(&v), ["content.use_case_not_registered"]);
    }

    #[test]
    fn unclassified_is_an_error_unless_unknown_is_registered() {
        let v = verdict(&policy(false), OK, "hello there");
        assert_eq!(codes(&v), ["content.unclassified"]);
        assert!(!v.approved());
        let unknown = r#"{"smsCampaignInfo": {"status": "Confirmed", "useCases": ["Unknown"]},
            "smsBrandInfo": {"status": "Verified"}}"#;
        let v = verdict(&policy(false), unknown, "hello there");
        assert!(v.approved());
        assert_eq!(v.reasons[0].severity, Severity::Info);
    }

    #[test]
    fn registration_failures_name_the_facts() {
        let snap = r#"{"phoneNumber": "+16501112345",
            "smsCampaignInfo": {"status": "Submitted", "useCases": ["DeliveryNotification"],
                                "errors": [{"errorCode": "TCR-9", "message": "bad sample"}]},
            "smsBrandInfo": {"status": "Unverified"}}"#;
        let v = verdict(&policy(false), snap, "Your order shipped");
        assert_eq!(
            codes(&v),
            [
                "campaign.not_confirmed",
                "campaign.has_errors",
                "brand.not_verified"
            ]
        );
        assert!(v.reasons[0].message.contains("\"Submitted\""));
        assert!(v.reasons[1].message.contains("TCR-9: bad sample"));
        assert!(v.reasons[2]
            .message
            .contains("\"Verified\" or \"Confirmed\""));
        let v = verdict(
            &policy(false),
            r#"{"phoneNumber": "+1"}"#,
            "Your order shipped",
        );
        assert_eq!(codes(&v), ["number.not_sms_enabled"]);
        assert!(v.reasons[0]
            .message
            .contains("smsCampaignInfo and smsBrandInfo are absent"));
    }

    #[test]
    fn unknown_values_are_reported_as_warnings() {
        let snap = r#"{"smsCampaignInfo": {"status": "Confirmed", "registrationTier": "MegaVolume",
            "useCases": ["DeliveryNotification"]}, "smsBrandInfo": {"status": "Verified"}}"#;
        let v = verdict(&policy(false), snap, "Your order shipped");
        assert!(v.approved());
        assert_eq!(codes(&v), ["snapshot.unknown_value"]);
    }

    #[test]
    fn formats_scores() {
        assert_eq!(fmt_score(3.0), "3");
        assert_eq!(fmt_score(7.5), "7.5");
        assert_eq!(fmt_score(-0.0), "0");
        assert_eq!(fmt_score(1.125), "1.125");
    }
}
