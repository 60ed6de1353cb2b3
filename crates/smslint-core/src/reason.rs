//! Why a message is rejected or flagged: stable reason codes.

use std::fmt;

use serde::Serialize;

use crate::severity::Severity;

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, $desc:literal; )*) => {
        /// A stable reason code. The strings are a public contract: never renamed or reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ReasonCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ReasonCode] = &[ $( ReasonCode::$variant, )* ];

            /// The code as it appears in every output, for example `campaign.not_confirmed`.
            pub fn as_str(self) -> &'static str {
                match self { $( ReasonCode::$variant => $code, )* }
            }

            /// One line on what the code means.
            pub fn description(self) -> &'static str {
                match self { $( ReasonCode::$variant => $desc, )* }
            }
        }
    };
}

reason_codes! {
    /// No campaign or no brand is linked to the number.
    NumberNotSmsEnabled => "number.not_sms_enabled",
        "The number is not linked to a TCR campaign and brand (`smsCampaignInfo` or `smsBrandInfo` is absent).";
    /// The campaign's status is not `Confirmed`.
    CampaignNotConfirmed => "campaign.not_confirmed",
        "The campaign's status is not `Confirmed`; RingCentral fails every message from it.";
    /// RingCentral reports errors on the campaign.
    CampaignHasErrors => "campaign.has_errors",
        "RingCentral reports errors on the campaign (`smsCampaignInfo.errors`).";
    /// The brand's status is not one the policy accepts.
    BrandNotVerified => "brand.not_verified",
        "The brand's status is not one the policy accepts (by default `Verified` or `Confirmed`).";
    /// RingCentral reports errors on the brand.
    BrandHasErrors => "brand.has_errors",
        "RingCentral reports errors on the brand (`smsBrandInfo.errors`).";
    /// The number's features or record rule out SMS.
    FeatureSmsNotEnabled => "feature.sms_not_enabled",
        "The number cannot send SMS: its features lack `SmsSender`, its type is `FaxOnly`, or its status is not `Normal`.";
    /// An MMS from a number that cannot send MMS, or whose features are unknown.
    FeatureMmsNotEnabled => "feature.mms_not_enabled",
        "An MMS from a number without `MmsSender` (toll-free numbers never have it), or whose features the snapshot does not hold.";
    /// A recipient outside +1 from a number that cannot send internationally, or whose features are unknown.
    FeatureInternationalNotEnabled => "feature.international_not_enabled",
        "A recipient outside the +1 plan (US, Canada) from a number without `InternationalSmsSender` (toll-free numbers never send internationally), or whose features the snapshot does not hold.";
    /// The sending extension does not hold the number's SMS rights, or the snapshot cannot tell.
    SenderNotAssigned => "sender.not_assigned",
        "The sending extension (`--extension`) does not hold the number's SMS rights, or the snapshot cannot tell who does.";
    /// The recipient opted out, or has not opted in where the campaign requires it.
    RecipientOptedOut => "recipient.opted_out",
        "The latest consent record for the sender and recipient is an opt-out, or the campaign requires opt-in and none is recorded.";
    /// The campaign requires opt-in and the check was given no way to prove it.
    RecipientConsentUnknown => "recipient.consent_unknown",
        "The campaign requires opt-in, and the check has no recipient (`--to`) or no consent records (`--consents`) to prove it.";
    /// The text is empty.
    MessageEmpty => "message.empty",
        "The text is empty or only whitespace (allowed only for an MMS).";
    /// The text is over RingCentral's limit.
    MessageTooLong => "message.too_long",
        "The text is over 1000 UTF-16 code units, RingCentral's limit (a character outside the BMP counts as 2).";
    /// The campaign's daily cap is reached.
    VolumeDailyCapExceeded => "volume.daily_cap_exceeded",
        "The campaign has already sent its tier's daily cap (`--sent-today` or `--ledger`; LowVolume: 6,000 a day across its numbers; `--daily-cap` overrides).";
    /// The daily volume ledger could not be read or written, so the cap cannot be checked.
    VolumeLedgerUnavailable => "volume.ledger_unavailable",
        "The `--ledger` that counts the campaign's messages today could not be reached or failed within its timeout, so the daily cap cannot be checked (fail closed).";
    /// The content fits no registered use case, or carries a restricted one that is not registered.
    ContentUseCaseNotRegistered => "content.use_case_not_registered",
        "The content fits no use case the campaign registers, or carries a restricted use case (Marketing) it does not register.";
    /// The content fits no use case at all.
    ContentUnclassified => "content.unclassified",
        "The content reaches no use case's threshold; an error unless the campaign registers `Unknown`.";
    /// The snapshot holds a value this version does not know.
    SnapshotUnknownValue => "snapshot.unknown_value",
        "The snapshot holds an enumeration value this version does not know; it is kept and reported.";
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The code of a reason: a fixed [`ReasonCode`], or `rule.<id>` for a content rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// One of the fixed codes.
    Fixed(ReasonCode),
    /// A content rule's code, `rule.` and its id.
    Rule(String),
}

impl Code {
    /// The code as printed.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Fixed(c) => c.as_str(),
            Code::Rule(s) => s,
        }
    }
}

impl From<ReasonCode> for Code {
    fn from(c: ReasonCode) -> Code {
        Code::Fixed(c)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One cause of a verdict: a stable code, its severity and a message that names the facts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// The stable code.
    pub code: Code,
    /// Its severity; any `error` rejects.
    pub severity: Severity,
    /// What was found, naming the snapshot fields and values involved.
    pub message: String,
    /// Where in the text, for content rules that flag something present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<crate::span::Span>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for code in ReasonCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate reason code {s}");
            assert!(
                s.split('.').count() == 2
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
                "malformed reason code {s}"
            );
            assert!(!code.description().is_empty());
        }
    }
}
