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

/// One cause of a verdict: a stable code, its severity and a message that names the facts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// Its severity; any `error` rejects.
    pub severity: Severity,
    /// What was found, naming the snapshot fields and values involved.
    pub message: String,
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
