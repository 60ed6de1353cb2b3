//! The TCR use cases a RingCentral campaign registers (`smsCampaignInfo.useCases`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A campaign use case, spelled exactly as RingCentral spells it.
///
/// A value RingCentral may add later is kept as [`UseCase::Unrecognized`] and reported, never a
/// parse failure.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UseCase {
    /// Notifications on an account's activity status or renewal reminders.
    AccountNotification,
    /// Day to day messages between employees working at the company.
    ConversationsInternal,
    /// Day to day messages with external parties like customers or vendors.
    ConversationsExternal,
    /// Customer interaction notifications: support, tickets, replies.
    CustomerCare,
    /// Information about the status of a delivery of a product or service.
    DeliveryNotification,
    /// Informing customers about likely fraudulent activity.
    FraudAlert,
    /// Notifications from colleges and universities.
    HigherEducation,
    /// Notifications from schools to students and parents.
    K12Education,
    /// Authentication notifications such as one-time passwords.
    MachineToMachine,
    /// Marketing and promotional content.
    Marketing,
    /// A campaign label covering several standard use cases.
    Mixed,
    /// Customer surveys and non-political polls.
    PollingVoting,
    /// General public-awareness announcements.
    PublicServiceAnnouncement,
    /// Warnings about security threats: sign-ins, credential changes, lockouts.
    SecurityAlert,
    /// None of the above.
    Unknown,
    /// A value this version of smslint does not know, kept as written.
    Unrecognized(Box<str>),
}

impl UseCase {
    /// The 15 use cases RingCentral defines, in its specification's order.
    pub const KNOWN: [UseCase; 15] = [
        UseCase::AccountNotification,
        UseCase::ConversationsInternal,
        UseCase::ConversationsExternal,
        UseCase::CustomerCare,
        UseCase::DeliveryNotification,
        UseCase::FraudAlert,
        UseCase::HigherEducation,
        UseCase::K12Education,
        UseCase::MachineToMachine,
        UseCase::Marketing,
        UseCase::Mixed,
        UseCase::PollingVoting,
        UseCase::PublicServiceAnnouncement,
        UseCase::SecurityAlert,
        UseCase::Unknown,
    ];

    /// The known use case spelled exactly `s`, if any.
    pub fn known(s: &str) -> Option<UseCase> {
        UseCase::KNOWN.into_iter().find(|u| u.as_str() == s)
    }

    /// RingCentral's spelling of this use case.
    pub fn as_str(&self) -> &str {
        match self {
            UseCase::Unrecognized(s) => s,
            known => known.known_name().unwrap_or_default(),
        }
    }

    /// RingCentral's spelling of a known use case, as a constant (`None` for an unrecognized
    /// one).
    pub fn known_name(&self) -> Option<&'static str> {
        Some(match self {
            UseCase::AccountNotification => "AccountNotification",
            UseCase::ConversationsInternal => "ConversationsInternal",
            UseCase::ConversationsExternal => "ConversationsExternal",
            UseCase::CustomerCare => "CustomerCare",
            UseCase::DeliveryNotification => "DeliveryNotification",
            UseCase::FraudAlert => "FraudAlert",
            UseCase::HigherEducation => "HigherEducation",
            UseCase::K12Education => "K12Education",
            UseCase::MachineToMachine => "MachineToMachine",
            UseCase::Marketing => "Marketing",
            UseCase::Mixed => "Mixed",
            UseCase::PollingVoting => "PollingVoting",
            UseCase::PublicServiceAnnouncement => "PublicServiceAnnouncement",
            UseCase::SecurityAlert => "SecurityAlert",
            UseCase::Unknown => "Unknown",
            UseCase::Unrecognized(_) => return None,
        })
    }

    /// Whether this is one of the 15 values RingCentral defines.
    pub fn is_known(&self) -> bool {
        !matches!(self, UseCase::Unrecognized(_))
    }
}

impl fmt::Display for UseCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UseCase {
    type Err = std::convert::Infallible;

    /// Never fails: an unknown spelling becomes [`UseCase::Unrecognized`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(UseCase::known(s).unwrap_or_else(|| UseCase::Unrecognized(s.into())))
    }
}

impl Serialize for UseCase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UseCase {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = UseCase;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a use-case name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<UseCase, E> {
                Ok(v.parse().unwrap_or(UseCase::Unknown))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_known_spelling() {
        for u in UseCase::KNOWN {
            assert_eq!(u.as_str().parse::<UseCase>().unwrap(), u);
            let json = serde_json::to_string(&u).unwrap();
            assert_eq!(serde_json::from_str::<UseCase>(&json).unwrap(), u);
        }
    }

    #[test]
    fn keeps_unrecognized_values() {
        let u: UseCase = serde_json::from_str("\"CharityDonation\"").unwrap();
        assert_eq!(u, UseCase::Unrecognized("CharityDonation".into()));
        assert!(!u.is_known());
        assert_eq!(u.to_string(), "CharityDonation");
    }
}
