//! The send decision: classification, snapshot and policy in; a verdict with its reasons out.

use std::fmt::Write as _;

use serde::Serialize;

use crate::classify::Classification;
use crate::consent::{ConsentRecords, OptStatus};
use crate::policy::Policy;
use crate::reason::{Code, Reason, ReasonCode};
use crate::rules::Finding;
use crate::severity::Severity;
use crate::snapshot::{
    campaign_status, extension_type, feature, number_status, number_type, usage_type, ApiError,
    NumberProfile,
};
use crate::use_case::UseCase;

/// RingCentral's limit on a message's text, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 1000;

/// What is being sent, besides the classification of its text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Message<'a> {
    /// The text as given.
    pub text: &'a str,
    /// The recipient in E.164, when known.
    pub to: Option<&'a str>,
    /// The id of the extension sending it, when known.
    pub extension_id: Option<&'a str>,
    /// Whether it is an MMS (carries attachments).
    pub mms: bool,
    /// The text's length in UTF-16 code units, when the caller has it already (from
    /// [`crate::segments::analyze`], as [`crate::SegmentInfo::utf16_units`]); worked out from
    /// `text` when `None`.
    pub utf16_units: Option<usize>,
}

/// Facts from outside the snapshot that some checks need.
#[derive(Clone, Copy, Debug, Default)]
pub struct SendContext<'a> {
    /// Consent records, to refuse recipients who opted out.
    pub consents: Option<&'a ConsentRecords>,
    /// Messages the campaign has already sent today, across all its numbers.
    pub sent_today: Option<u64>,
    /// A daily cap that replaces the policy's cap for the campaign's tier.
    pub daily_cap: Option<u64>,
}

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

/// The buffers of decided verdicts, handed back so that deciding the next message allocates
/// nothing: a batch's rejections are most of its lines, and each had cost a list of reasons and
/// a message, freed once written. Many verdicts may be out at once (a batch worker decides its
/// share of a chunk of lines before they are written), so it keeps many of each.
#[derive(Clone, Debug, Default)]
pub struct DecisionScratch {
    lists: Vec<Vec<Reason>>,
    strings: Vec<String>,
}

/// Move the buffers of the pool `from` beyond its first `keep` to the pool `to`.
pub fn hand_over_pool<T>(from: &mut Vec<T>, to: &mut Vec<T>, keep: usize) {
    if from.len() > keep {
        to.extend(from.drain(keep..));
    }
}

/// Move buffers from the pool `from` to the pool `to` until `to` holds `want` (or `from` is
/// empty).
pub fn top_up_pool<T>(to: &mut Vec<T>, from: &mut Vec<T>, want: usize) {
    let missing = want.saturating_sub(to.len()).min(from.len());
    to.extend(from.drain(from.len() - missing..));
}

/// Reason lists a [`DecisionScratch`] keeps at most: the verdicts of a batch worker's share
/// of a chunk of lines, all in flight until the chunk is written (a 256 KiB chunk of typical
/// messages holds about 1,500 lines).
const SPARE_LISTS: usize = 4096;
/// Strings a [`DecisionScratch`] counts on for each message it decides: a rejection's message,
/// and a content rule's code (most rejections give one reason).
const STRINGS_A_LINE: usize = 2;
/// Strings a [`DecisionScratch`] keeps at most: a few for each spare list. A bound, not a
/// budget: every string handed back was taken from here, so the pool only holds what the
/// verdicts in flight held.
const SPARE_STRINGS: usize = 4 * SPARE_LISTS;

impl DecisionScratch {
    /// Take back the buffers of `verdict`, once it has been used.
    pub fn recycle(&mut self, verdict: Verdict) {
        let mut reasons = verdict.reasons;
        for reason in reasons.drain(..) {
            self.give(reason.message);
            if let Code::Rule(code) = reason.code {
                self.give(code);
            }
        }
        if reasons.capacity() > 0 && self.lists.len() < SPARE_LISTS {
            self.lists.push(reasons);
        }
    }

    /// Whether fewer spare buffers are at hand than deciding `lines` messages may take.
    pub fn short_of(&self, lines: usize) -> bool {
        self.lists.len() < lines || self.strings.len() < lines * STRINGS_A_LINE
    }

    /// Whether more spare buffers are at hand than deciding `lines` messages may take.
    pub fn beyond(&self, lines: usize) -> bool {
        self.lists.len() > lines || self.strings.len() > lines * STRINGS_A_LINE
    }

    /// Move the spare buffers beyond what deciding `keep` messages may take to `to`: a batch's
    /// writer takes back the buffers of every verdict, whichever worker decided it, and hands
    /// the surplus on to the workers, which would otherwise allocate for the lines they take.
    pub fn hand_over(&mut self, to: &mut DecisionScratch, keep: usize) {
        hand_over_pool(&mut self.lists, &mut to.lists, keep);
        hand_over_pool(&mut self.strings, &mut to.strings, keep * STRINGS_A_LINE);
    }

    /// Take spare buffers from `from` until deciding `lines` messages may take no more (or
    /// `from` runs out).
    pub fn top_up(&mut self, from: &mut DecisionScratch, lines: usize) {
        top_up_pool(&mut self.lists, &mut from.lists, lines);
        top_up_pool(&mut self.strings, &mut from.strings, lines * STRINGS_A_LINE);
    }

    fn give(&mut self, mut s: String) {
        if s.capacity() > 0 && self.strings.len() < SPARE_STRINGS {
            s.clear();
            self.strings.push(s);
        }
    }

    /// [`volume_reason`] for a number whose daily cap ([`daily_cap`]) is already worked out
    /// (once per number in a batch), its message in a reused string when one is at hand.
    pub fn volume_reason(&mut self, cap: Option<&DailyCap>, sent: u64) -> Option<Reason> {
        let cap = cap.filter(|c| sent >= c.cap)?;
        let message = self.string();
        Some(cap_exceeded_in(
            message,
            sent,
            cap.cap,
            &cap.source,
            "already sent today",
        ))
    }

    /// An empty list of reasons, reused when one is at hand.
    fn list(&mut self) -> Vec<Reason> {
        self.lists.pop().unwrap_or_default()
    }

    /// A copy of `reason`, in reused strings when they are at hand.
    fn copy_reason(&mut self, reason: &Reason) -> Reason {
        Reason {
            code: match &reason.code {
                Code::Fixed(c) => Code::Fixed(*c),
                Code::Rule(s) => Code::Rule(self.copy(s)),
            },
            severity: reason.severity,
            message: self.copy(&reason.message),
            span: reason.span,
        }
    }

    /// An empty string, reused when one is at hand.
    fn string(&mut self) -> String {
        self.strings.pop().unwrap_or_default()
    }

    /// A copy of `s`, in a reused string when one is at hand.
    fn copy(&mut self, s: &str) -> String {
        let mut out = self.string();
        out.push_str(s);
        out
    }
}

/// What a number's snapshot says whatever the message (registration, SMS capability, unknown
/// values): computed once per number, then shared by every message sent from it.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberAssessment {
    /// Reasons from registration and the number's record, in check order.
    head: Vec<Reason>,
    /// Warnings about values this version does not know; reported last.
    tail: Vec<Reason>,
    /// What the campaign's use cases allow, when the number has a campaign.
    fit: Option<FitTable>,
}

/// Which of a policy's use cases a campaign's registration covers, worked out once per number
/// instead of for every message (callgrind: 285 instructions a message, a fifth of the
/// decision's work).
#[derive(Clone, Debug, PartialEq)]
struct FitTable {
    /// By the policy's use-case index: registered, or covered by a registered label.
    covered: Vec<bool>,
    /// By the policy's use-case index: restricted, and not covered.
    restricted_missing: Vec<bool>,
    /// Whether the campaign registers `Unknown`.
    registers_unknown: bool,
    /// The registration, as a rejection names it.
    registers: String,
}

impl FitTable {
    fn new(policy: &Policy, registered: &[UseCase]) -> FitTable {
        let covered: Vec<bool> = policy
            .use_cases()
            .iter()
            .map(|u| covers(policy, registered, &u.use_case))
            .collect();
        let restricted_missing = policy
            .use_cases()
            .iter()
            .zip(&covered)
            .map(|(u, &c)| !c && policy.decision().restricted.contains(&u.use_case))
            .collect();
        let mut registers = String::new();
        describe_registered(policy, registered, &mut registers);
        FitTable {
            covered,
            restricted_missing,
            registers_unknown: registered.contains(&UseCase::Unknown),
            registers,
        }
    }
}

impl NumberAssessment {
    /// Assess `profile` under `policy`.
    pub fn new(policy: &Policy, profile: &NumberProfile) -> NumberAssessment {
        let mut head = Vec::new();
        registration_reasons(policy, profile, &mut head);
        capability_reasons(profile, &mut head);
        let mut tail = Vec::new();
        unknown_value_reasons(profile, &mut tail);
        let fit = profile
            .campaign()
            .map(|c| FitTable::new(policy, c.use_cases.as_deref().unwrap_or(&[])));
        NumberAssessment { head, tail, fit }
    }

    /// The verdict on the number alone: whether it may send SMS at all.
    pub fn verdict(&self) -> Verdict {
        Verdict::from_reasons(self.head.iter().chain(&self.tail).cloned().collect())
    }
}

/// Decide whether a message with this classification may be sent from this number.
pub fn decide(
    policy: &Policy,
    classification: &Classification,
    findings: &[Finding],
    profile: &NumberProfile,
    message: &Message<'_>,
    context: &SendContext<'_>,
) -> Verdict {
    let assessment = NumberAssessment::new(policy, profile);
    decide_with(
        policy,
        &assessment,
        classification,
        findings,
        profile,
        message,
        context,
    )
}

/// [`decide`], with the number's assessment computed beforehand (once per number in a batch).
pub fn decide_with(
    policy: &Policy,
    assessment: &NumberAssessment,
    classification: &Classification,
    findings: &[Finding],
    profile: &NumberProfile,
    message: &Message<'_>,
    context: &SendContext<'_>,
) -> Verdict {
    decide_reusing(
        policy,
        assessment,
        classification,
        findings,
        profile,
        message,
        context,
        &mut DecisionScratch::default(),
    )
}

/// [`decide_with`], building the verdict in buffers that earlier verdicts handed back to
/// `scratch` ([`DecisionScratch::recycle`]): the per-message path of batches.
// The arguments of `decide_with`, and the scratch.
#[allow(clippy::too_many_arguments)]
pub fn decide_reusing(
    policy: &Policy,
    assessment: &NumberAssessment,
    classification: &Classification,
    findings: &[Finding],
    profile: &NumberProfile,
    message: &Message<'_>,
    context: &SendContext<'_>,
    scratch: &mut DecisionScratch,
) -> Verdict {
    let mut reasons = scratch.list();
    // The number's own reasons, in the scratch's strings: cloned, they were a fresh string
    // each for every message of a number with a registration problem.
    for r in &assessment.head {
        reasons.push(scratch.copy_reason(r));
    }
    message_feature_reasons(profile, message, &mut reasons);
    sender_reasons(profile, message, &mut reasons);
    consent_reasons(profile, message, context, &mut reasons);
    text_reasons(message, &mut reasons);
    if let Some(sent) = context.sent_today {
        reasons.extend(volume_reason(policy, profile, sent, context.daily_cap));
    }
    // Without a campaign there is nothing to compare the content with; the missing campaign
    // is already a reason of its own.
    match &assessment.fit {
        // A table of this policy's use cases (an assessment made under another policy is
        // asked afresh).
        Some(t) if t.covered.len() == classification.scores.len() => reasons.extend(fit_reason(
            policy,
            classification,
            |i| t.covered.get(i).copied().unwrap_or(false),
            |i| t.restricted_missing.get(i).copied().unwrap_or(false),
            t.registers_unknown,
            |out| out.push_str(&t.registers),
            || scratch.string(),
        )),
        _ => content_reasons(policy, classification, profile, &mut reasons),
    }
    for f in findings {
        let rule = &policy.content_rules()[f.rule as usize];
        reasons.push(Reason {
            code: Code::Rule(scratch.copy(&rule.code)),
            severity: f.severity,
            message: scratch.copy(&rule.message),
            span: f.span,
        });
    }
    for r in &assessment.tail {
        reasons.push(scratch.copy_reason(r));
    }
    Verdict::from_reasons(reasons)
}

/// Whether a number may send SMS at all, whatever the text: registration, features and record.
pub fn assess_number(policy: &Policy, profile: &NumberProfile) -> Verdict {
    NumberAssessment::new(policy, profile).verdict()
}

impl Verdict {
    /// Add a reason (for example the volume cap, decided in order after the rest of a batch).
    pub fn push(&mut self, reason: Reason) {
        let mut reasons = std::mem::take(&mut self.reasons);
        reasons.push(reason);
        *self = Verdict::from_reasons(reasons);
    }
}

fn unknown_value_reasons(profile: &NumberProfile, reasons: &mut Vec<Reason>) {
    for (field, value) in profile.unknown_values() {
        reasons.push(Reason {
            code: ReasonCode::SnapshotUnknownValue.into(),
            severity: Severity::Warning,
            message: format!(
                "{field} holds {value:?}, a value this version of smslint does not know"
            ),
            span: None,
        });
    }
}

fn error(code: ReasonCode, message: String) -> Reason {
    Reason {
        code: code.into(),
        severity: Severity::Error,
        message,
        span: None,
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
    // A toll-free number is enabled by toll-free verification, not by a TCR campaign: with
    // SmsSender among its features, a missing campaign is expected.
    let verified_toll_free = profile.is_toll_free()
        && profile
            .features()
            .is_some_and(|f| f.iter().any(|x| x == feature::SMS_SENDER));
    if !missing.is_empty() && !verified_toll_free {
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

/// " (it has A, B)" for messages about a missing feature.
fn listed(features: Option<&[String]>) -> String {
    features.map_or_else(String::new, |fs| {
        if fs.is_empty() {
            " (it has none)".to_owned()
        } else {
            format!(" (it has {})", fs.join(", "))
        }
    })
}

/// Whether the number can send SMS at all: `SmsSender`, not fax-only, status `Normal`.
fn capability_reasons(profile: &NumberProfile, reasons: &mut Vec<Reason>) {
    let number = profile.phone_number().unwrap_or("the number");
    let features = profile.features();
    let has = |f: &str| features.is_some_and(|fs| fs.iter().any(|x| x == f));
    let listed = || listed(features);
    if let Some(info) = &profile.phone_number_info {
        if features.is_some() && !has(feature::SMS_SENDER) {
            let hint = if has(feature::A2P_SMS_SENDER) {
                "; an A2PSmsSender number sends through the high-volume batch API"
            } else {
                ""
            };
            reasons.push(error(
                ReasonCode::FeatureSmsNotEnabled,
                format!(
                    "phoneNumberInfo.features of {number} lacks SmsSender{}{hint}",
                    listed()
                ),
            ));
        }
        if info.kind.as_deref() == Some(number_type::FAX_ONLY) {
            reasons.push(error(
                ReasonCode::FeatureSmsNotEnabled,
                format!(
                    "phoneNumberInfo.type of {number} is \"FaxOnly\"; fax numbers cannot send SMS"
                ),
            ));
        }
        if let Some(status) = info
            .status
            .as_deref()
            .filter(|s| *s != number_status::NORMAL)
        {
            reasons.push(error(
                ReasonCode::FeatureSmsNotEnabled,
                format!(
                    "phoneNumberInfo.status of {number} is {status:?}; only \"Normal\" numbers are ready for use"
                ),
            ));
        }
    }
}

/// What this message needs beyond plain SMS: MMS, an international recipient.
fn message_feature_reasons(
    profile: &NumberProfile,
    message: &Message<'_>,
    reasons: &mut Vec<Reason>,
) {
    if !message.mms && message.to.is_none_or(|to| to.starts_with("+1")) {
        return;
    }
    let number = profile.phone_number().unwrap_or("the number");
    let features = profile.features();
    let has = |f: &str| features.is_some_and(|fs| fs.iter().any(|x| x == f));
    let listed = || listed(features);
    let unknown = |what: &str| {
        format!(
            "whether {number} can send {what} is unknown: the snapshot has no phoneNumberInfo.features \
             (give a number snapshot with phoneNumberInfo)"
        )
    };
    if message.mms {
        if profile.is_toll_free() {
            reasons.push(error(
                ReasonCode::FeatureMmsNotEnabled,
                format!("{number} is toll-free, and toll-free numbers do not send MMS"),
            ));
        } else if features.is_none() {
            reasons.push(error(ReasonCode::FeatureMmsNotEnabled, unknown("MMS")));
        } else if !has(feature::MMS_SENDER) {
            reasons.push(error(
                ReasonCode::FeatureMmsNotEnabled,
                format!(
                    "phoneNumberInfo.features of {number} lacks MmsSender{}",
                    listed()
                ),
            ));
        }
    }
    if let Some(to) = message.to.filter(|to| !to.starts_with("+1")) {
        if profile.is_toll_free() {
            reasons.push(error(
                ReasonCode::FeatureInternationalNotEnabled,
                format!("{to} is outside the US and Canada, and toll-free numbers never send internationally"),
            ));
        } else if features.is_none() {
            reasons.push(error(
                ReasonCode::FeatureInternationalNotEnabled,
                unknown(&format!("to {to}, outside the US and Canada,")),
            ));
        } else if !has(feature::INTERNATIONAL_SMS_SENDER) {
            reasons.push(error(
                ReasonCode::FeatureInternationalNotEnabled,
                format!(
                    "{to} is outside the US and Canada, and phoneNumberInfo.features of {number} lacks InternationalSmsSender{}",
                    listed()
                ),
            ));
        }
    }
}

fn sender_reasons(profile: &NumberProfile, message: &Message<'_>, reasons: &mut Vec<Reason>) {
    let Some(sender) = message.extension_id else {
        return;
    };
    let number = profile.phone_number().unwrap_or("the number");
    let info = profile.phone_number_info.as_ref();
    let owner = info.and_then(|i| i.extension.as_ref());
    let owner_type = owner.and_then(|o| o.kind.as_deref());
    let usage = info.and_then(|i| i.usage_type.as_deref());
    let company = usage.is_some_and(|u| usage_type::COMPANY.contains(&u));
    let shared = company || owner_type.is_some_and(|t| extension_type::SHARED.contains(&t));

    // Who holds the SMS rights, when the snapshot tells.
    if let Some(recipients) = &profile.sms_recipients {
        if recipients
            .iter()
            .any(|r| r.id.as_ref().is_some_and(|id| id.0 == sender))
        {
            return;
        }
        let holders: Vec<&str> = recipients
            .iter()
            .filter_map(|r| r.id.as_ref().map(|id| id.0.as_str()))
            .collect();
        let holders = if holders.is_empty() {
            "no extension".to_owned()
        } else {
            holders.join(", ")
        };
        reasons.push(error(
            ReasonCode::SenderNotAssigned,
            format!(
                "extension {sender} does not hold the SMS rights of {number}; smsRecipients lists {holders}"
            ),
        ));
        return;
    }
    if shared {
        let what = match (company, usage, owner_type) {
            (true, Some(u), _) => format!("a company number ({u})"),
            (_, _, Some(t)) => format!("owned by a shared resource ({t})"),
            _ => "shared".to_owned(),
        };
        reasons.push(error(
            ReasonCode::SenderNotAssigned,
            format!(
                "cannot tell whether extension {sender} holds the SMS rights of {number}: it is \
                 {what}, whose SMS rights belong to assigned extensions, and the snapshot has no \
                 smsRecipients"
            ),
        ));
        return;
    }
    match owner.and_then(|o| o.id.as_ref()) {
        Some(id) if id.0 == sender => {}
        Some(id) => reasons.push(error(
            ReasonCode::SenderNotAssigned,
            format!(
                "extension {sender} does not hold the SMS rights of {number}; it belongs to {} extension {id}",
                owner_type.unwrap_or("its owning")
            ),
        )),
        None => reasons.push(error(
            ReasonCode::SenderNotAssigned,
            format!(
                "cannot tell whether extension {sender} holds the SMS rights of {number}: the \
                 snapshot has no phoneNumberInfo.extension (the owner) and no smsRecipients"
            ),
        )),
    }
}

fn consent_reasons(
    profile: &NumberProfile,
    message: &Message<'_>,
    context: &SendContext<'_>,
    reasons: &mut Vec<Reason>,
) {
    let number = profile.phone_number();
    let campaign = profile.campaign();
    let opt_in_required = campaign
        .and_then(|c| c.consent_settings.as_ref())
        .and_then(|c| c.opt_in_required)
        .unwrap_or(false);
    let (Some(records), Some(to)) = (context.consents, message.to) else {
        if opt_in_required {
            let missing = match (context.consents, message.to) {
                (None, None) => "no recipient (--to) and no consent records (--consents)",
                (None, Some(_)) => "no consent records (--consents)",
                _ => "no recipient (--to)",
            };
            reasons.push(error(
                ReasonCode::RecipientConsentUnknown,
                format!(
                    "the campaign requires opt-in (smsCampaignInfo.consentSettings.optInRequired), \
                     and the check has {missing} to prove it"
                ),
            ));
        }
        return;
    };
    let class = campaign.and_then(|c| c.coverage_type.as_deref());
    match records.latest(number, to, class) {
        Some(r) if r.status == OptStatus::OptOut => {
            let every = r.from.as_deref().is_none_or(|f| f == "*")
                || r.coverage
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case("account"));
            let sender = if every {
                "every number of the account"
            } else {
                r.from.as_deref().unwrap_or_default()
            };
            let when = r
                .modified_text
                .as_deref()
                .map_or_else(String::new, |t| format!(" at {t}"));
            reasons.push(error(
                ReasonCode::RecipientOptedOut,
                format!(
                    "{to} opted out of messages from {sender}{when} (consent record {})",
                    r.index
                ),
            ));
        }
        None if opt_in_required => reasons.push(error(
            ReasonCode::RecipientOptedOut,
            format!(
                "the campaign requires opt-in (smsCampaignInfo.consentSettings.optInRequired), and \
                 no consent record shows {to} opting in to messages from {}",
                number.unwrap_or("this number")
            ),
        )),
        Some(_) | None => {}
    }
}

fn text_reasons(message: &Message<'_>, reasons: &mut Vec<Reason>) {
    if message.text.trim().is_empty() && !message.mms {
        let what = if message.text.is_empty() {
            "the text is empty"
        } else {
            "the text is only whitespace"
        };
        reasons.push(error(
            ReasonCode::MessageEmpty,
            format!("{what}; an SMS needs text (only an MMS may carry attachments alone)"),
        ));
    }
    let units = message
        .utf16_units
        .unwrap_or_else(|| crate::segments::utf16_len(message.text));
    if units > MAX_TEXT_UTF16 {
        reasons.push(error(
            ReasonCode::MessageTooLong,
            format!(
                "the text is {units} UTF-16 code units; RingCentral accepts at most {MAX_TEXT_UTF16} \
                 (a character outside the Basic Multilingual Plane, such as an emoji, counts as 2)"
            ),
        ));
    }
}

/// A campaign's daily cap and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyCap {
    /// Messages a day across the campaign's numbers.
    pub cap: u64,
    /// Where the cap comes from, for messages (`the LowVolume tier (policy decision.daily_caps)`).
    pub source: String,
}

/// The daily cap of the number's campaign: `daily_cap` when given, else its tier's in the
/// policy, else (an unknown or missing tier) the strictest the policy knows; `None` for a known
/// tier without a cap, such as `StandardVolume`.
pub fn daily_cap(
    policy: &Policy,
    profile: &NumberProfile,
    daily_cap: Option<u64>,
) -> Option<DailyCap> {
    let tier = profile
        .campaign()
        .and_then(|c| c.registration_tier.as_deref());
    let caps = &policy.decision().daily_caps;
    let (cap, source) = if let Some(cap) = daily_cap {
        (cap, "--daily-cap".to_owned())
    } else if let Some((t, cap)) = tier.and_then(|t| caps.iter().find(|(name, _)| name == t)) {
        (*cap, format!("the {t} tier (policy decision.daily_caps)"))
    } else if tier.is_some_and(|t| crate::snapshot::registration_tier::KNOWN.contains(&t)) {
        return None;
    } else if let Some((t, cap)) = caps.iter().min_by_key(|(_, c)| *c) {
        // Unknown or missing tier: assume the strictest cap the policy knows (fail closed).
        let tier = tier.map_or_else(|| "missing".to_owned(), |t| format!("{t:?}"));
        (
            *cap,
            format!(
                "the strictest cap the policy knows ({t}), as smsCampaignInfo.registrationTier is {tier},"
            ),
        )
    } else {
        return None;
    };
    Some(DailyCap { cap, source })
}

/// The key a campaign's daily count is kept under: its campaign id, or the number when the
/// snapshot has no campaign id.
pub fn volume_key(profile: &NumberProfile) -> String {
    profile.campaign().and_then(|c| c.id.as_ref()).map_or_else(
        || profile.phone_number().unwrap_or("").to_owned(),
        |id| id.0.clone(),
    )
}

/// `volume.daily_cap_exceeded` when `sent` messages already sent today reach the cap of the
/// campaign's tier (or `daily_cap`); `None` when the message may still go.
pub fn volume_reason(
    policy: &Policy,
    profile: &NumberProfile,
    sent: u64,
    daily_cap: Option<u64>,
) -> Option<Reason> {
    let cap = self::daily_cap(policy, profile, daily_cap)?;
    DecisionScratch::default().volume_reason(Some(&cap), sent)
}

/// `volume.daily_cap_exceeded`, for `sent` messages counted today against `cap`.
pub fn cap_exceeded(sent: u64, cap: u64, source: &str, counted: &str) -> Reason {
    cap_exceeded_in(String::new(), sent, cap, source, counted)
}

/// [`cap_exceeded`], its message written into `message` (cleared first).
fn cap_exceeded_in(
    mut message: String,
    sent: u64,
    cap: u64,
    source: &str,
    counted: &str,
) -> Reason {
    use std::fmt::Write as _;
    message.clear();
    // Writing to a `String` cannot fail.
    let _ = write!(
        message,
        "{sent} messages {counted}; {source} allows {cap} a day across the campaign's numbers"
    );
    error(ReasonCode::VolumeDailyCapExceeded, message)
}

/// `volume.ledger_unavailable`: the count could not be checked, so the message is rejected.
pub fn ledger_unavailable(problem: &str) -> Reason {
    error(
        ReasonCode::VolumeLedgerUnavailable,
        format!("the daily volume ledger failed, so the daily cap cannot be checked: {problem}"),
    )
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
    reasons.extend(content_fit(policy, classification, registered));
}

/// Whether content with this classification fits a campaign registering `registered`: `None`
/// when it does, else `content.use_case_not_registered` or `content.unclassified`.
pub fn content_fit(
    policy: &Policy,
    classification: &Classification,
    registered: &[UseCase],
) -> Option<Reason> {
    let use_case = |i: usize| classification.scores.get(i).map(|s| &s.use_case);
    let covered = |i: usize| use_case(i).is_some_and(|u| covers(policy, registered, u));
    fit_reason(
        policy,
        classification,
        covered,
        |i| use_case(i).is_some_and(|u| policy.decision().restricted.contains(u)) && !covered(i),
        registered.contains(&UseCase::Unknown),
        |out| describe_registered(policy, registered, out),
        String::new,
    )
}

/// Whether a campaign registering `registered` covers `use_case`: registers it, or registers a
/// label that covers it.
fn covers(policy: &Policy, registered: &[UseCase], use_case: &UseCase) -> bool {
    registered.contains(use_case)
        || policy
            .decision()
            .covers
            .iter()
            .any(|(label, members)| registered.contains(label) && members.contains(use_case))
}

/// [`content_fit`] for a registration given by what it covers, by the policy's use-case index:
/// `covered`, `restricted_missing` (restricted and not covered), whether it registers
/// `Unknown`, and how a rejection names it.
fn fit_reason(
    policy: &Policy,
    classification: &Classification,
    covered: impl Fn(usize) -> bool,
    restricted_missing: impl Fn(usize) -> bool,
    registers_unknown: bool,
    describe: impl FnOnce(&mut String),
    buffer: impl FnOnce() -> String,
) -> Option<Reason> {
    if classification.ranking.is_empty() {
        let mut message = buffer();
        message.push_str("the text fits no use case");
        if let Some(s) = classification.closest_miss() {
            message.push_str(" (closest: ");
            message.push_str(s.use_case.as_str());
            message.push_str(" with ");
            push_score(&mut message, s.score);
            message.push_str(" of ");
            push_score(&mut message, s.threshold);
            message.push(')');
        }
        let (severity, tail) = if registers_unknown {
            (
                Severity::Info,
                "; the campaign registers Unknown, which covers it",
            )
        } else {
            (policy.decision().unclassified, "")
        };
        message.push_str(tail);
        return Some(Reason {
            code: ReasonCode::ContentUnclassified.into(),
            severity,
            message,
            span: None,
        });
    }

    let detected = || classification.ranking.iter().copied();
    // The approving path builds nothing: lists are only made for the message of a rejection.
    let only_restricted = detected().any(&restricted_missing);
    if !only_restricted && detected().any(&covered) {
        return None;
    }
    // Written into one string: most rejections in a batch are this one.
    let mut message = buffer();
    message.reserve(128);
    let offending = detected().filter(|&i| !only_restricted || restricted_missing(i));
    for (k, i) in offending.enumerate() {
        if k > 0 {
            message.push_str(" and ");
        }
        if let Some(s) = classification.scores.get(i) {
            message.push_str(s.use_case.as_str());
        }
    }
    message.push_str(" content, but the campaign registers ");
    describe(&mut message);
    Some(error(ReasonCode::ContentUseCaseNotRegistered, message))
}

fn describe_registered(policy: &Policy, registered: &[UseCase], out: &mut String) {
    if registered.is_empty() {
        out.push_str("no use cases (smsCampaignInfo.useCases is empty or missing)");
        return;
    }
    for (i, u) in registered.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(u.as_str());
        if let Some((_, members)) = policy.decision().covers.iter().find(|(l, _)| l == u) {
            out.push_str(" (covering ");
            for (j, m) in members.iter().enumerate() {
                if j > 0 {
                    out.push_str(", ");
                }
                out.push_str(m.as_str());
            }
            out.push(')');
        }
    }
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
    let mut out = String::new();
    push_score(&mut out, score);
    out
}

/// [`fmt_score`], appended to `out`.
fn push_score(out: &mut String, score: f64) {
    let start = out.len();
    // Writing to a `String` cannot fail.
    let _ = write!(out, "{score:.3}");
    let written = out.get(start..).unwrap_or_default();
    let kept = written.trim_end_matches('0').trim_end_matches('.').len();
    out.truncate(start + kept);
    if out.get(start..) == Some("-0") {
        out.truncate(start);
        out.push('0');
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
            content_rules: vec![],
            use_case,
            threshold: 2.0,
            description: None,
            keywords: vec![KeywordSpec::new(phrase, 2.0)],
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
            rules: Vec::new(),
            brand_names: Vec::new(),
            placeholders: Vec::new(),
        })
        .unwrap()
    }

    fn verdict(p: &Policy, snapshot: &str, text: &str) -> Verdict {
        let profile = &parse_snapshot(snapshot).unwrap()[0];
        let message = Message {
            text,
            ..Message::default()
        };
        decide(
            p,
            &p.classify(&NormalizedText::new(text)),
            &[],
            profile,
            &message,
            &SendContext::default(),
        )
    }

    fn codes(v: &Verdict) -> Vec<&str> {
        v.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    const OK: &str = r#"{"phoneNumber": "+16501112345",
        "smsCampaignInfo": {"status": "Confirmed", "useCases": ["CustomerCare", "DeliveryNotification"]},
        "smsBrandInfo": {"status": "Verified"}}"#;

    #[test]
    fn the_assessed_registration_decides_as_the_registration_itself() {
        // The table worked out once per number against `content_fit` asked for each message:
        // every registration of these use cases, with and without a covering label, on texts
        // with none, one or several use cases.
        let labels = [
            "DeliveryNotification",
            "Marketing",
            "CustomerCare",
            "Mixed",
            "Unknown",
        ];
        let texts = [
            "",
            "hello",
            "shipped",
            "sale",
            "ticket",
            "shipped sale",
            "ticket shipped sale",
        ];
        for covering in [false, true] {
            let p = policy(covering);
            for subset in 0..1u32 << labels.len() {
                let registered: Vec<String> = (0..labels.len())
                    .filter(|k| subset >> k & 1 == 1)
                    .map(|k| format!("{:?}", labels[k]))
                    .collect();
                let snapshot = format!(
                    r#"{{"phoneNumber": "+16501112345", "smsBrandInfo": {{"status": "Verified"}},
                        "smsCampaignInfo": {{"status": "Confirmed", "useCases": [{}]}}}}"#,
                    registered.join(", ")
                );
                let profile = &parse_snapshot(&snapshot).unwrap()[0];
                let assessed = NumberAssessment::new(&p, profile);
                let mut asked = assessed.clone();
                asked.fit = None;
                for text in texts {
                    let c = p.classify(&NormalizedText::new(text));
                    let m = msg(text);
                    let ctx = SendContext::default();
                    assert_eq!(
                        decide_with(&p, &assessed, &c, &[], profile, &m, &ctx),
                        decide_with(&p, &asked, &c, &[], profile, &m, &ctx),
                        "{registered:?} {text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn scores_are_written_as_people_write_them() {
        for (score, want) in [
            (3.0, "3"),
            (7.5, "7.5"),
            (-1.25, "-1.25"),
            (10.0, "10"),
            (0.0, "0"),
            (-0.0, "0"),
            (-0.0001, "0"),
            (0.1 + 0.2, "0.3"),
            (2.0004, "2"),
            (123.456_7, "123.457"),
        ] {
            assert_eq!(fmt_score(score), want, "{score}");
            let mut out = String::from("at ");
            push_score(&mut out, score);
            assert_eq!(out, format!("at {want}"));
        }
    }

    #[test]
    fn recycled_buffers_decide_as_fresh_ones() {
        // One scratch through messages whose verdicts hold reasons of every length, each
        // verdict handed back before the next: a reused string must start empty, and the
        // spare buffers stay what one verdict held (the number's own reasons, copied into
        // every verdict, must be copied into the scratch's strings, or the pool grows).
        let p = policy(true);
        let mixed = r#"{"smsCampaignInfo": {"status": "Confirmed", "useCases": ["Mixed"]},
            "smsBrandInfo": {"status": "Submitted"}}"#;
        let mut scratch = DecisionScratch::default();
        let mut most = 0;
        for _ in 0..20 {
            for (snapshot, text) in [
                (OK, "Big sale today, the sale of the year!"),
                (OK, "Your order shipped"),
                (mixed, "hello there"),
                (OK, "Your order shipped. Big sale today!"),
                (mixed, "Open a ticket and see our sale"),
                (OK, "hello"),
            ] {
                let profile = &parse_snapshot(snapshot).unwrap()[0];
                let assessment = NumberAssessment::new(&p, profile);
                let c = p.classify(&NormalizedText::new(text));
                let message = msg(text);
                let context = SendContext::default();
                let fresh = decide_with(&p, &assessment, &c, &[], profile, &message, &context);
                let reused = decide_reusing(
                    &p,
                    &assessment,
                    &c,
                    &[],
                    profile,
                    &message,
                    &context,
                    &mut scratch,
                );
                assert_eq!(reused, fresh, "{text}");
                let held: usize = reused
                    .reasons
                    .iter()
                    .map(|r| 1 + usize::from(matches!(r.code, Code::Rule(_))))
                    .sum();
                most = most.max(held);
                scratch.recycle(reused);
            }
        }
        assert!(most > 0);
        assert!(
            (1..=most).contains(&scratch.strings.len()),
            "{} spare strings",
            scratch.strings.len()
        );
        assert_eq!(scratch.lists.len(), 1);
    }

    #[test]
    fn pools_hand_over_what_is_beyond_the_buffers_kept() {
        let strings = |n: usize| vec![String::from("x"); n];
        for (a, b, keep, want) in [
            (10, 2, 4, (4, 8)),
            (3, 2, 4, (3, 2)),
            (0, 1, 0, (0, 1)),
            (5, 0, 0, (0, 5)),
        ] {
            let (mut x, mut y) = (strings(a), strings(b));
            hand_over_pool(&mut x, &mut y, keep);
            assert_eq!((x.len(), y.len()), want, "{a} {b} {keep}");
        }
        let mut full = DecisionScratch {
            lists: (0..8).map(|_| Vec::with_capacity(1)).collect(),
            strings: strings(30),
        };
        assert!(full.beyond(7) && !full.beyond(15) && !full.short_of(8) && full.short_of(9));
        let mut empty = DecisionScratch::default();
        assert!(empty.short_of(1) && !empty.short_of(0) && !empty.beyond(0));
        full.hand_over(&mut empty, 3);
        assert_eq!((full.lists.len(), full.strings.len()), (3, 6));
        assert_eq!((empty.lists.len(), empty.strings.len()), (5, 24));
        full.top_up(&mut empty, 4);
        assert_eq!((full.lists.len(), full.strings.len()), (4, 8));
        assert_eq!((empty.lists.len(), empty.strings.len()), (4, 22));
        full.top_up(&mut empty, 100);
        assert_eq!((full.lists.len(), full.strings.len()), (8, 30));
        assert!(empty.lists.is_empty() && empty.strings.is_empty());
        for (to, from, want, after) in [(1, 5, 3, (3, 3)), (4, 5, 3, (4, 5)), (0, 2, 9, (2, 0))] {
            let (mut x, mut y) = (strings(to), strings(from));
            top_up_pool(&mut x, &mut y, want);
            assert_eq!((x.len(), y.len()), after, "{to} {from} {want}");
        }
    }
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
    fn rejection_messages_name_the_content_and_the_registration() {
        let mixed = r#"{"smsCampaignInfo": {"status": "Confirmed", "useCases": ["Mixed"]},
            "smsBrandInfo": {"status": "Verified"}}"#;
        let v = verdict(&policy(true), mixed, "Big sale today");
        assert_eq!(
            v.reasons[0].message,
            "Marketing content, but the campaign registers Mixed (covering CustomerCare, \
             DeliveryNotification)"
        );
        let none = r#"{"smsCampaignInfo": {"status": "Confirmed", "useCases": []},
            "smsBrandInfo": {"status": "Verified"}}"#;
        let v = verdict(&policy(false), none, "Your order shipped");
        assert_eq!(
            v.reasons[0].message,
            "DeliveryNotification content, but the campaign registers no use cases \
             (smsCampaignInfo.useCases is empty or missing)"
        );
        let marketing = r#"{"smsCampaignInfo": {"status": "Confirmed", "useCases": ["Marketing"]},
            "smsBrandInfo": {"status": "Verified"}}"#;
        let v = verdict(&policy(false), marketing, "Your order shipped, ticket 4");
        assert_eq!(
            v.reasons[0].message,
            "DeliveryNotification and CustomerCare content, but the campaign registers Marketing"
        );
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

    fn verdict_with(
        p: &Policy,
        snapshot: &str,
        message: Message<'_>,
        ctx: SendContext<'_>,
    ) -> Verdict {
        let profile = &parse_snapshot(snapshot).unwrap()[0];
        let c = p.classify(&NormalizedText::new(message.text));
        decide(p, &c, &[], profile, &message, &ctx)
    }

    fn number(features: &str, extra: &str) -> String {
        format!(
            r#"{{"phoneNumberInfo": {{"id": 1, "phoneNumber": "+16501112345", "paymentType": "Local",
                "type": "VoiceFax", "status": "Normal", "usageType": "DirectNumber",
                "features": [{features}], "extension": {{"id": 77, "type": "User"}} {extra}}},
              "smsConfiguration": {OK}}}"#
        )
    }

    fn msg(text: &str) -> Message<'_> {
        Message {
            text,
            ..Message::default()
        }
    }

    #[test]
    fn features_mms_and_international() {
        let p = policy(false);
        let snap = number(r#""CallerId", "SmsSender""#, "");
        let ctx = SendContext::default();
        assert!(verdict_with(&p, &snap, msg("Your order shipped"), ctx).approved());
        let v = verdict_with(
            &p,
            &snap,
            Message {
                mms: true,
                to: Some("+442071234567"),
                ..msg("Your order shipped")
            },
            ctx,
        );
        assert_eq!(
            codes(&v),
            [
                "feature.mms_not_enabled",
                "feature.international_not_enabled"
            ]
        );
        let snap = number(r#""CallerId""#, "");
        let v = verdict_with(&p, &snap, msg("Your order shipped"), ctx);
        assert_eq!(codes(&v), ["feature.sms_not_enabled"]);
        // Unknown features: MMS and international fail closed; plain SMS does not need them.
        let v = verdict_with(
            &p,
            OK,
            Message {
                mms: true,
                ..msg("Your order shipped")
            },
            ctx,
        );
        assert_eq!(codes(&v), ["feature.mms_not_enabled"]);
        assert!(v.reasons[0].message.contains("unknown"));
    }

    #[test]
    fn sender_rights() {
        let p = policy(false);
        let snap = number(r#""SmsSender""#, "");
        let ctx = SendContext::default();
        let as_ext = |id| Message {
            extension_id: Some(id),
            ..msg("Your order shipped")
        };
        assert!(verdict_with(&p, &snap, as_ext("77"), ctx).approved());
        let v = verdict_with(&p, &snap, as_ext("78"), ctx);
        assert_eq!(codes(&v), ["sender.not_assigned"]);
        let queue =
            number(r#""SmsSender""#, "").replace(r#""type": "User""#, r#""type": "Department""#);
        let v = verdict_with(&p, &queue, as_ext("77"), ctx);
        assert!(v.reasons[0].message.contains("cannot tell"), "{v:?}");
        let with_recipients = queue.replacen(
            "\"smsConfiguration\"",
            "\"smsRecipients\": [{\"id\": \"90\"}], \"smsConfiguration\"",
            1,
        );
        assert!(verdict_with(&p, &with_recipients, as_ext("90"), ctx).approved());
        assert_eq!(
            codes(&verdict_with(&p, &with_recipients, as_ext("77"), ctx)),
            ["sender.not_assigned"]
        );
    }

    #[test]
    fn text_limits_and_volume() {
        let p = policy(false);
        let ctx = SendContext::default();
        let blank = verdict_with(&p, OK, msg(" "), ctx);
        assert_eq!(codes(&blank)[0], "message.empty");
        assert!(blank.reasons[0]
            .message
            .starts_with("the text is only whitespace"));
        let empty = verdict_with(&p, OK, msg(""), ctx);
        assert!(empty.reasons[0].message.starts_with("the text is empty"));
        let long = format!("Your order shipped {}", "😀".repeat(491));
        assert!(codes(&verdict_with(&p, OK, msg(&long), ctx)).contains(&"message.too_long"));
        // The length given with the message (a batch counts it for the segments) decides alike.
        for text in [long.as_str(), "Your order shipped"] {
            let counted = Message {
                utf16_units: Some(crate::segments::analyze(text).utf16_units as usize),
                ..msg(text)
            };
            assert_eq!(
                verdict_with(&p, OK, counted, ctx),
                verdict_with(&p, OK, msg(text), ctx)
            );
        }
        let low = OK.replace(
            "\"status\": \"Confirmed\"",
            "\"status\": \"Confirmed\", \"registrationTier\": \"LowVolume\"",
        );
        let sent = |n| SendContext {
            sent_today: Some(n),
            ..SendContext::default()
        };
        assert!(verdict_with(&p, &low, msg("Your order shipped"), sent(5999)).approved());
        assert_eq!(
            codes(&verdict_with(
                &p,
                &low,
                msg("Your order shipped"),
                sent(6000)
            )),
            ["volume.daily_cap_exceeded"]
        );
        let capped = SendContext {
            sent_today: Some(10),
            daily_cap: Some(10),
            ..SendContext::default()
        };
        assert!(!verdict_with(&p, &low, msg("Your order shipped"), capped).approved());
        let standard = low.replace("LowVolume", "StandardVolume");
        assert!(verdict_with(&p, &standard, msg("Your order shipped"), sent(1_000_000)).approved());
        // No tier at all: the strictest cap applies.
        assert!(!verdict_with(&p, OK, msg("Your order shipped"), sent(6000)).approved());
    }

    #[test]
    fn formats_scores() {
        assert_eq!(fmt_score(3.0), "3");
        assert_eq!(fmt_score(7.5), "7.5");
        assert_eq!(fmt_score(-0.0), "0");
        assert_eq!(fmt_score(1.125), "1.125");
    }
}
