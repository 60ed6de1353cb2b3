//! RingCentral's number data, exactly as its API returns it.
//!
//! Every field is optional and every enumeration is an open string: RingCentral's specification
//! marks no field of these responses as required, and values it adds later must be kept and
//! reported, not refused (reference `ringcentral-api.md` §0, §1, §2).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::SnapshotError;
use crate::use_case::UseCase;

/// Known values of `smsCampaignInfo.status` (`CampaignStatusInfo`, plus `TcrCampaignStatus`'s spelling).
pub mod campaign_status {
    /// The only status that lets a campaign send.
    pub const CONFIRMED: &str = "Confirmed";
    /// Every value either campaign-status enum defines.
    pub const KNOWN: &[&str] = &[
        "Created",
        "Submitted",
        "Confirmed",
        "SubmitFailed",
        "UpdateRequested",
        "DeleteRequested",
        "CampaignSuspended",
        "CampaignExpired",
        "Draft",
        "PreVetFailed",
        "PreventFailed",
        "Unconfirmed",
    ];
}

/// Known values of `smsBrandInfo.status`: the union of `CampaignStatusInfo` and `TcrBrandStatus`.
pub mod brand_status {
    /// The status the guide's example shows for a brand in good standing.
    pub const VERIFIED: &str = "Verified";
    /// Every value either enum defines.
    pub const KNOWN: &[&str] = &[
        "Created",
        "Submitted",
        "Confirmed",
        "SubmitFailed",
        "UpdateRequested",
        "DeleteRequested",
        "CampaignSuspended",
        "CampaignExpired",
        "Draft",
        "PreVetFailed",
        "PreventFailed",
        "Unconfirmed",
        "Verified",
        "Unverified",
        "Suspended",
        "Expired",
    ];
}

/// Known values of `smsCampaignInfo.registrationTier`.
pub mod registration_tier {
    /// At most 6,000 messages a day across all the campaign's numbers.
    pub const LOW_VOLUME: &str = "LowVolume";
    /// More than 6,000 messages a day.
    pub const STANDARD_VOLUME: &str = "StandardVolume";
    /// Both values.
    pub const KNOWN: &[&str] = &[LOW_VOLUME, STANDARD_VOLUME];
}

/// Known values of a phone number's `features`.
pub mod feature {
    /// Can be shown as caller id.
    pub const CALLER_ID: &str = "CallerId";
    /// Standard SMS.
    pub const SMS_SENDER: &str = "SmsSender";
    /// High-volume (A2P) SMS.
    pub const A2P_SMS_SENDER: &str = "A2PSmsSender";
    /// MMS.
    pub const MMS_SENDER: &str = "MmsSender";
    /// SMS to numbers outside the US and Canada.
    pub const INTERNATIONAL_SMS_SENDER: &str = "InternationalSmsSender";
    /// Undocumented; listed by the specification.
    pub const DELEGATED: &str = "Delegated";
    /// Every value the specification defines.
    pub const KNOWN: &[&str] = &[
        CALLER_ID,
        SMS_SENDER,
        A2P_SMS_SENDER,
        MMS_SENDER,
        INTERNATIONAL_SMS_SENDER,
        DELEGATED,
    ];
}

/// Known values of a phone number's `paymentType` (`PlatformPaymentType`).
pub mod payment_type {
    /// A toll-free number.
    pub const TOLL_FREE: &str = "TollFree";
    /// Every value the specification defines.
    pub const KNOWN: &[&str] = &[
        "External",
        "TollFree",
        "Local",
        "BusinessMobileNumberProvider",
        "ExternalNumberProvider",
        "ExternalNumberProviderTollFree",
        "Mobile",
    ];
}

/// Known values of a phone number's `status` (`PhoneNumberStatus`).
pub mod number_status {
    /// Ready for use.
    pub const NORMAL: &str = "Normal";
    /// Every value the specification defines.
    pub const KNOWN: &[&str] = &["Normal", "Pending", "PortedIn", "Temporary", "Unknown"];
}

/// Known values of a phone number's `type` (`PhoneNumberType`).
pub mod number_type {
    /// A fax-only number, which cannot send SMS.
    pub const FAX_ONLY: &str = "FaxOnly";
    /// Every value the specification defines.
    pub const KNOWN: &[&str] = &["VoiceFax", "VoiceOnly", "FaxOnly"];
}

/// Known values of a phone number's `usageType` (v1 and v2 `PhoneNumberUsageType`).
pub mod usage_type {
    /// Usage types of numbers owned by the company (auto-receptionist), whose SMS rights belong
    /// to one assigned extension (or several with message threads).
    pub const COMPANY: &[&str] = &[
        "MainCompanyNumber",
        "CompanyNumber",
        "AdditionalCompanyNumber",
    ];
    /// Every value either specification version defines.
    pub const KNOWN: &[&str] = &[
        "MainCompanyNumber",
        "AdditionalCompanyNumber",
        "CompanyNumber",
        "DirectNumber",
        "CompanyFaxNumber",
        "FmcBusinessMobileNumber",
        "InventoryFmcBusinessMobileNumber",
        "ForwardedNumber",
        "ForwardedCompanyNumber",
        "ContactCenterNumber",
        "ConferencingNumber",
        "MeetingsNumber",
        "NumberPool",
        "BusinessMobileNumber",
        "ELIN",
        "PartnerBusinessMobileNumber",
        "NumberPoolPartnerBusinessMobileNumber",
        "NumberStorage",
        "IntegrationNumber",
        "InventoryMobileNumber",
        "Inventory",
        "InventoryPartnerBusinessMobileNumber",
        "PhoneLine",
    ];
}

/// Known values of the owning extension's `type`.
pub mod extension_type {
    /// A user: only that user holds the number's SMS rights.
    pub const USER: &str = "User";
    /// Shared resources whose SMS rights are assigned to chosen extensions: call queue
    /// (`Department`), IVR menu and site.
    pub const SHARED: &[&str] = &["Department", "IvrMenu", "Site"];
    /// Every value the specification defines.
    pub const KNOWN: &[&str] = &[
        "Announcement",
        "ApplicationExtension",
        "DigitalUser",
        "DelegatedLinesGroup",
        "Department",
        "FaxUser",
        "IvrMenu",
        "PagingOnly",
        "ParkLocation",
        "SharedLinesGroup",
        "Site",
        "User",
        "VirtualUser",
        "Voicemail",
    ];
}

/// US and Canadian toll-free area codes.
pub const TOLL_FREE_AREA_CODES: &[&str] = &["800", "888", "877", "866", "855", "844", "833"];

/// An identifier that RingCentral sends as a JSON number in some responses and a string in others.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(pub String);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a string or an integer)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An error RingCentral attaches to a campaign or brand (`ApiError`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct ApiError {
    /// The error code, for example `CMN-101`.
    pub error_code: Option<String>,
    /// The error's text.
    pub message: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.error_code, &self.message) {
            (Some(c), Some(m)) => write!(f, "{c}: {m}"),
            (Some(c), None) => f.write_str(c),
            (None, Some(m)) => f.write_str(m),
            (None, None) => f.write_str("(an error without code or message)"),
        }
    }
}

/// Which consent records apply: `coverage.optIn` / `coverage.optOut` of `ConsentSettings`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct ConsentCoverage {
    /// Coverage of opt-in records (`TcrConsentCoverageType`).
    pub opt_in: Option<String>,
    /// Coverage of opt-out records (`TcrConsentCoverageType`).
    pub opt_out: Option<String>,
}

/// Automatic consent collection (`ConsentSettings.automaticConsentCollecting`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct AutomaticConsentCollecting {
    /// Whether it is on.
    pub enabled: Option<bool>,
    /// The reply RingCentral sends.
    pub reply_message_body: Option<String>,
}

/// A campaign's consent policy (`smsCampaignInfo.consentSettings`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct ConsentSettings {
    /// When true, a recipient without an opt-in record has not consented.
    pub opt_in_required: Option<bool>,
    /// Which records apply.
    pub coverage: Option<ConsentCoverage>,
    /// Automatic consent collection.
    pub automatic_consent_collecting: Option<AutomaticConsentCollecting>,
}

/// The TCR campaign a number is linked to (`SmsCampaignInfo`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct SmsCampaignInfo {
    /// RingCentral's id of the campaign.
    pub id: Option<Id>,
    /// The TCR campaign id; in the guide's example only, not in the specification.
    pub external_id: Option<String>,
    /// Registration status; only `Confirmed` may send.
    pub status: Option<String>,
    /// `LowVolume` or `StandardVolume`.
    pub registration_tier: Option<String>,
    /// The registered use cases.
    pub use_cases: Option<Vec<UseCase>>,
    /// Errors RingCentral reports for the campaign.
    pub errors: Option<Vec<ApiError>>,
    /// The campaign's consent policy.
    pub consent_settings: Option<ConsentSettings>,
    /// Consent coverage (`TcrConsentCoverageType`).
    pub coverage_type: Option<String>,
}

/// The TCR brand behind the campaign (`SmsBrandInfo`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct SmsBrandInfo {
    /// RingCentral's id of the brand.
    pub id: Option<Id>,
    /// The TCR brand id; in the guide's example only.
    pub external_id: Option<String>,
    /// Registration status (an open string; see [`brand_status`]).
    pub status: Option<String>,
    /// Errors RingCentral reports for the brand.
    pub errors: Option<Vec<ApiError>>,
}

/// The response of `GET .../phone-number/{phoneNumberId}/sms-configuration`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct SmsConfiguration {
    /// RingCentral's id of the phone number.
    pub phone_number_id: Option<Id>,
    /// The number in E.164.
    pub phone_number: Option<String>,
    /// The linked campaign; absent when the number is not linked to one.
    pub sms_campaign_info: Option<SmsCampaignInfo>,
    /// The campaign's brand; absent when the number is not linked to a campaign.
    pub sms_brand_info: Option<SmsBrandInfo>,
}

/// The resource that owns a phone number (`UserPhoneNumberExtensionInfo`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct NumberExtension {
    /// The owning extension's id.
    pub id: Option<Id>,
    /// Its short extension number.
    pub extension_number: Option<String>,
    /// `User`, `Department` (call queue), `IvrMenu`, `Site`, ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// A phone-number record of an extension's number list (`UserPhoneNumberInfo`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct PhoneNumberInfo {
    /// RingCentral's id of the number (an integer here, a string elsewhere).
    pub id: Option<Id>,
    /// The number in E.164.
    pub phone_number: Option<String>,
    /// `Local`, `TollFree`, ...
    pub payment_type: Option<String>,
    /// `Toll` or `TollFree` (v2 records).
    pub toll_type: Option<String>,
    /// `VoiceFax`, `VoiceOnly` or `FaxOnly`; may be null.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `Normal` when the number is ready for use.
    pub status: Option<String>,
    /// `DirectNumber`, `MainCompanyNumber`, `CompanyNumber`, ...
    pub usage_type: Option<String>,
    /// What the number can do: `SmsSender`, `MmsSender`, ...
    pub features: Option<Vec<String>>,
    /// The resource that owns the number.
    pub extension: Option<NumberExtension>,
    /// A label.
    pub label: Option<String>,
    /// Whether it is the extension's primary number.
    pub primary: Option<bool>,
}

/// An extension that holds the SMS rights of a shared number (`SmsRecipient`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
pub struct SmsRecipient {
    /// The extension's id.
    pub id: Option<Id>,
    /// Its short extension number.
    pub extension_number: Option<String>,
    /// Its type.
    pub extension_type: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// Everything smslint knows about one phone number.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberProfile {
    /// The number's record from the extension's phone-number list.
    pub phone_number_info: Option<PhoneNumberInfo>,
    /// Its sms-configuration response.
    pub sms_configuration: Option<SmsConfiguration>,
    /// Who holds its SMS rights, for numbers owned by a shared resource.
    pub sms_recipients: Option<Vec<SmsRecipient>>,
}

impl NumberProfile {
    /// The number in E.164, from whichever part names it.
    pub fn phone_number(&self) -> Option<&str> {
        self.sms_configuration
            .as_ref()
            .and_then(|c| c.phone_number.as_deref())
            .or_else(|| {
                self.phone_number_info
                    .as_ref()
                    .and_then(|p| p.phone_number.as_deref())
            })
    }

    /// The linked campaign, if the configuration names one.
    pub fn campaign(&self) -> Option<&SmsCampaignInfo> {
        self.sms_configuration
            .as_ref()
            .and_then(|c| c.sms_campaign_info.as_ref())
    }

    /// The campaign's brand, if the configuration names one.
    pub fn brand(&self) -> Option<&SmsBrandInfo> {
        self.sms_configuration
            .as_ref()
            .and_then(|c| c.sms_brand_info.as_ref())
    }

    /// The number's features, when the snapshot holds its phone-number record.
    pub fn features(&self) -> Option<&[String]> {
        self.phone_number_info
            .as_ref()
            .and_then(|p| p.features.as_deref())
    }

    /// Whether the number is toll-free, by its record or, failing that, its area code.
    pub fn is_toll_free(&self) -> bool {
        let by_record = self.phone_number_info.as_ref().is_some_and(|p| {
            p.payment_type.as_deref() == Some(payment_type::TOLL_FREE)
                || p.payment_type.as_deref() == Some("ExternalNumberProviderTollFree")
                || p.toll_type.as_deref() == Some("TollFree")
        });
        by_record
            || self.phone_number().is_some_and(|n| {
                n.strip_prefix("+1")
                    .is_some_and(|rest| TOLL_FREE_AREA_CODES.iter().any(|a| rest.starts_with(a)))
            })
    }

    /// Values this version does not know, as `(field path, value)` pairs, for reporting.
    pub fn unknown_values(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(c) = self.campaign() {
            if let Some(s) = &c.status {
                if !campaign_status::KNOWN.contains(&s.as_str()) {
                    out.push(("smsCampaignInfo.status", s.clone()));
                }
            }
            if let Some(t) = &c.registration_tier {
                if !registration_tier::KNOWN.contains(&t.as_str()) {
                    out.push(("smsCampaignInfo.registrationTier", t.clone()));
                }
            }
            for u in c.use_cases.iter().flatten() {
                if !u.is_known() {
                    out.push(("smsCampaignInfo.useCases", u.to_string()));
                }
            }
        }
        if let Some(s) = self.brand().and_then(|b| b.status.as_ref()) {
            if !brand_status::KNOWN.contains(&s.as_str()) {
                out.push(("smsBrandInfo.status", s.clone()));
            }
        }
        if let Some(info) = &self.phone_number_info {
            for f in info.features.iter().flatten() {
                if !feature::KNOWN.contains(&f.as_str()) {
                    out.push(("phoneNumberInfo.features", f.clone()));
                }
            }
            let fields = [
                (
                    "phoneNumberInfo.paymentType",
                    &info.payment_type,
                    payment_type::KNOWN,
                ),
                ("phoneNumberInfo.status", &info.status, number_status::KNOWN),
                ("phoneNumberInfo.type", &info.kind, number_type::KNOWN),
                (
                    "phoneNumberInfo.usageType",
                    &info.usage_type,
                    usage_type::KNOWN,
                ),
                (
                    "phoneNumberInfo.extension.type",
                    &info.extension.as_ref().and_then(|e| e.kind.clone()),
                    extension_type::KNOWN,
                ),
            ];
            for (path, value, known) in fields {
                if let Some(v) = value {
                    if !known.contains(&v.as_str()) {
                        out.push((path, v.clone()));
                    }
                }
            }
        }
        out
    }
}

/// Why no single number could be picked from a snapshot file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// The file holds several numbers and no `--from` says which.
    #[error("the snapshot holds {total} numbers ({}); say which with --from", listed(.numbers, *.total))]
    Ambiguous {
        /// The first numbers the file holds, at most [`NUMBERS_SHOWN`].
        numbers: Vec<String>,
        /// How many numbers it holds.
        total: usize,
    },
    /// No number of the file is `from`.
    #[error("{from} is not in the snapshot, which holds {}", listed(.numbers, *.total))]
    NotFound {
        /// The number asked for.
        from: String,
        /// The first numbers the file holds, at most [`NUMBERS_SHOWN`].
        numbers: Vec<String>,
        /// How many numbers it holds.
        total: usize,
    },
    /// Several records of the file are `from`.
    #[error("{from} appears {count} times in the snapshot")]
    Duplicate {
        /// The number asked for.
        from: String,
        /// How often it appears.
        count: usize,
    },
}

/// How many of a snapshot's numbers a [`SelectError`] names: an account's snapshot may hold
/// thousands, and each batch line from an unknown sender repeated all of them.
pub const NUMBERS_SHOWN: usize = 10;

/// `numbers` joined, and how many more of `total` there are.
fn listed(numbers: &[String], total: usize) -> String {
    let mut out = numbers.join(", ");
    if total > numbers.len() {
        // Writing to a String cannot fail.
        let _ = fmt::Write::write_fmt(
            &mut out,
            format_args!(" and {} more", total - numbers.len()),
        );
    }
    out
}

/// A snapshot's numbers by phone number, to pick each message's sender without looking through
/// every number: a batch from a snapshot of 20,000 numbers spent 115 µs a message doing that.
#[derive(Clone, Debug)]
pub struct SenderIndex {
    /// Each phone number's first profile and how many profiles have it.
    by_number: std::collections::HashMap<String, (usize, usize)>,
    /// The first numbers, for errors (`(no phoneNumber)` for a profile without one).
    shown: Vec<String>,
    /// How many profiles there are.
    total: usize,
}

impl SenderIndex {
    /// The index of `profiles`.
    pub fn new(profiles: &[NumberProfile]) -> SenderIndex {
        let mut by_number = std::collections::HashMap::with_capacity(profiles.len());
        for (i, p) in profiles.iter().enumerate() {
            if let Some(number) = p.phone_number() {
                by_number
                    .entry(number.to_owned())
                    .and_modify(|(_, count): &mut (usize, usize)| *count += 1)
                    .or_insert((i, 1));
            }
        }
        let shown = profiles
            .iter()
            .take(NUMBERS_SHOWN)
            .map(|p| p.phone_number().unwrap_or("(no phoneNumber)").to_owned())
            .collect();
        SenderIndex {
            by_number,
            shown,
            total: profiles.len(),
        }
    }

    /// The sending number's profile and its index in `profiles`, the profiles this index was
    /// made from: the only one, or the one whose number is `from`.
    pub fn select<'p>(
        &self,
        profiles: &'p [NumberProfile],
        from: Option<&str>,
    ) -> Result<(usize, &'p NumberProfile), SelectError> {
        let i = self.position(from)?;
        match profiles.get(i) {
            Some(p) => Ok((i, p)),
            // Other profiles than the index's: none of them is known to be the sender.
            None => Err(SelectError::NotFound {
                from: from.unwrap_or_default().to_owned(),
                numbers: self.shown.clone(),
                total: self.total,
            }),
        }
    }

    fn position(&self, from: Option<&str>) -> Result<usize, SelectError> {
        match from {
            None if self.total == 1 => Ok(0),
            None => Err(SelectError::Ambiguous {
                numbers: self.shown.clone(),
                total: self.total,
            }),
            Some(from) => match self.by_number.get(from) {
                Some(&(i, 1)) => Ok(i),
                Some(&(_, count)) => Err(SelectError::Duplicate {
                    from: from.to_owned(),
                    count,
                }),
                None => Err(SelectError::NotFound {
                    from: from.to_owned(),
                    numbers: self.shown.clone(),
                    total: self.total,
                }),
            },
        }
    }
}

/// The profile of the sending number: the only one, or the one whose number is `from`.
pub fn select_profile<'p>(
    profiles: &'p [NumberProfile],
    from: Option<&str>,
) -> Result<&'p NumberProfile, SelectError> {
    SenderIndex::new(profiles)
        .select(profiles, from)
        .map(|(_, p)| p)
}

/// Whether `s` is an E.164 number: `+`, a non-zero digit, then 1 to 14 digits.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// One element of a snapshot file: the union of the keys every accepted shape uses.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", remote = "Self")]
struct RawEntry {
    records: Option<Vec<RawEntry>>,
    phone_number_info: Option<PhoneNumberInfo>,
    sms_configuration: Option<SmsConfiguration>,
    #[serde(default, deserialize_with = "recipients")]
    sms_recipients: Option<Vec<SmsRecipient>>,
    phone_number_id: Option<Id>,
    phone_number: Option<String>,
    sms_campaign_info: Option<SmsCampaignInfo>,
    sms_brand_info: Option<SmsBrandInfo>,
}

/// `smsRecipients` as a bare list, or as RingCentral's `SmsRecipientsResource` object.
fn recipients<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<SmsRecipient>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Resource {
        sms_recipients: Vec<SmsRecipient>,
    }
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Option<Vec<SmsRecipient>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of SMS recipients or {\"smsRecipients\": [...]}")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Some)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Resource::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                .map(|r| Some(r.sms_recipients))
        }
    }
    d.deserialize_any(Visitor)
}

impl RawEntry {
    fn is_number_snapshot(&self) -> bool {
        self.phone_number_info.is_some()
            || self.sms_configuration.is_some()
            || self.sms_recipients.is_some()
    }

    fn has_bare_keys(&self) -> bool {
        self.phone_number_id.is_some()
            || self.phone_number.is_some()
            || self.sms_campaign_info.is_some()
            || self.sms_brand_info.is_some()
    }

    fn into_profile(self, at: &str) -> Result<NumberProfile, SnapshotError> {
        if self.records.is_some() {
            return Err(SnapshotError::Shape {
                message: format!("{at}: a \"records\" list inside a list of numbers"),
            });
        }
        if self.is_number_snapshot() {
            if self.has_bare_keys() {
                return Err(SnapshotError::Shape {
                    message: format!(
                        "{at}: mixes number-snapshot keys (phoneNumberInfo, smsConfiguration, \
                         smsRecipients) with sms-configuration keys (phoneNumber, \
                         smsCampaignInfo, ...); nest the configuration under \"smsConfiguration\""
                    ),
                });
            }
            return Ok(NumberProfile {
                phone_number_info: self.phone_number_info,
                sms_configuration: self.sms_configuration,
                sms_recipients: self.sms_recipients,
            });
        }
        // A bare sms-configuration response: even `{}` is one (a number with nothing linked).
        Ok(NumberProfile {
            phone_number_info: None,
            sms_configuration: Some(SmsConfiguration {
                phone_number_id: self.phone_number_id,
                phone_number: self.phone_number,
                sms_campaign_info: self.sms_campaign_info,
                sms_brand_info: self.sms_brand_info,
            }),
            sms_recipients: None,
        })
    }
}

/// Parse a snapshot file: a bare sms-configuration response, a number snapshot
/// `{"phoneNumberInfo", "smsConfiguration", "smsRecipients"}`, or a list of them (a JSON array
/// or `{"records": [...]}`).
pub fn parse_snapshot(json: &str) -> Result<Vec<NumberProfile>, SnapshotError> {
    let trimmed = json.trim_start();
    // Decide the shape from the first byte so that type errors keep their line, column and path
    // (an untagged enum would replace them with "did not match any variant").
    let (entries, is_list) = if trimmed.starts_with('[') {
        (from_json::<Vec<RawEntry>>(json)?, true)
    } else {
        let mut one = from_json::<RawEntry>(json)?;
        match one.records.take() {
            Some(records) => {
                if one.is_number_snapshot() || one.has_bare_keys() {
                    return Err(SnapshotError::Shape {
                        message: "\"records\" beside other top-level keys; a list file holds \
                                  only \"records\" (and paging)"
                            .into(),
                    });
                }
                (records, true)
            }
            None => (vec![one], false),
        }
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let at = if is_list {
                format!("record {}", i + 1)
            } else {
                "the snapshot".to_owned()
            };
            e.into_profile(&at)
        })
        .collect()
}

/// The deepest nesting of JSON arrays and objects a snapshot may have (RingCentral's own go about
/// five deep). Deserializing each level takes several stack frames, so 128 levels (`serde_json`'s
/// own limit) overflow a 2 MiB thread stack in a debug build; this is checked before parsing.
pub const MAX_JSON_DEPTH: usize = 32;

/// The byte offset of the first `[` or `{` nested deeper than `max`, if any.
pub(crate) fn json_too_deep(json: &str, max: usize) -> Option<usize> {
    let bytes = json.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

pub(crate) fn from_json<'a, T: Deserialize<'a>>(json: &'a str) -> Result<T, SnapshotError> {
    if let Some(at) = json_too_deep(json, MAX_JSON_DEPTH) {
        let (line, column) = crate::span::LineIndex::new(json).line_col(json, at);
        return Err(SnapshotError::Parse {
            line,
            column,
            path: String::new(),
            message: format!("arrays and objects are nested more than {MAX_JSON_DEPTH} deep"),
        });
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // A path only where a value is at fault: in malformed JSON it ends in `?` (a key not
        // yet read) and says nothing the position does not.
        let path = match e.inner().classify() {
            serde_json::error::Category::Data => e.path().to_string(),
            _ => String::new(),
        };
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        // serde_json puts the end of a text that ends with a newline at column 0 of the line
        // after; positions are 1-based.
        let column = value_column(json, inner.line(), inner.column().max(1), &message);
        SnapshotError::Parse {
            line: inner.line(),
            column,
            path,
            message,
        }
    })?;
    de.end().map_err(|e| SnapshotError::Parse {
        line: e.line(),
        column: e.column().max(1),
        path: String::new(),
        message: strip_position(&e.to_string()),
    })?;
    Ok(value)
}

/// The byte column (1-based) of a `serde_json` error at `line` and `column` of `json` with
/// `message`: an array or object where another type belongs is placed on the byte before it,
/// and is moved onto it; a key written twice or not known is placed on its closing quote, and
/// is moved to its opening one.
pub fn value_column(json: &str, line: usize, column: usize, message: &str) -> usize {
    let text = json.lines().nth(line.saturating_sub(1)).unwrap_or_default();
    let container =
        message.starts_with("invalid type: sequence") || message.starts_with("invalid type: map");
    if container && matches!(text.as_bytes().get(column), Some(b'[' | b'{')) {
        return column + 1;
    }
    let key = message.starts_with("duplicate field `") || message.starts_with("unknown field `");
    let open = key
        .then(|| column.checked_sub(1))
        .flatten()
        .and_then(|close| opening_quote(text.as_bytes(), close));
    open.map_or(column, |at| at + 1)
}

/// The index of the quote that opens the JSON string whose closing quote is at `close` in
/// `line`, read backwards: a quote after an odd number of backslashes is escaped, part of the
/// string (so is a key spelled with escapes, `"te\u0078t"`, which the message spells `text`).
fn opening_quote(line: &[u8], close: usize) -> Option<usize> {
    if line.get(close) != Some(&b'"') {
        return None;
    }
    let mut at = close;
    while at > 0 {
        at -= 1;
        if line[at] == b'"' {
            let backslashes = line[..at].iter().rev().take_while(|&&b| b == b'\\').count();
            if backslashes % 2 == 0 {
                return Some(at);
            }
        }
    }
    None
}

/// A `serde_json` error message without the " at line L column C" it ends with, for errors
/// that give the position apart (as fields, or as `path:line:column`).
pub fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

crate::mapping_only!(
    "an object", serialize;
    ApiError,
    ConsentCoverage,
    AutomaticConsentCollecting,
    ConsentSettings,
    SmsCampaignInfo,
    SmsBrandInfo,
    SmsConfiguration,
    NumberExtension,
    PhoneNumberInfo,
    SmsRecipient,
);
crate::mapping_only!("an object"; RawEntry);

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
  "phoneNumberId": "121554771345",
  "phoneNumber": "+16501112345",
  "smsCampaignInfo": {
    "id": "2008",
    "externalId": "C8VLZXY",
    "status": "Confirmed",
    "registrationTier": "LowVolume",
    "useCases": [ "CustomerCare", "AccountNotification", "DeliveryNotification" ]
  },
  "smsBrandInfo": { "id": "1008", "status": "Verified", "externalId": "BG3LNOP" }
}"#;

    #[test]
    fn parses_the_seed_sample_as_it_is() {
        let profiles = parse_snapshot(SEED).unwrap();
        assert_eq!(profiles.len(), 1);
        let p = &profiles[0];
        assert_eq!(p.phone_number(), Some("+16501112345"));
        let c = p.campaign().unwrap();
        assert_eq!(c.status.as_deref(), Some("Confirmed"));
        assert_eq!(c.external_id.as_deref(), Some("C8VLZXY"));
        assert_eq!(
            c.use_cases.as_deref().unwrap(),
            &[
                UseCase::CustomerCare,
                UseCase::AccountNotification,
                UseCase::DeliveryNotification
            ]
        );
        assert_eq!(p.brand().unwrap().status.as_deref(), Some("Verified"));
        assert!(p.unknown_values().is_empty());
    }

    /// The error of `json`, as `(line, column, path, message)`.
    fn parse_error(json: &str) -> (usize, usize, String, String) {
        match parse_snapshot(json) {
            Err(SnapshotError::Parse {
                line,
                column,
                path,
                message,
            }) => (line, column, path, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_array_where_an_object_belongs_is_refused_whatever_its_length() {
        // Eight elements, as many as a campaign has fields: read as a campaign before.
        let json = r#"{
  "phoneNumber": "+16501112345",
  "smsCampaignInfo": ["2008", "C8VLZXY", "Confirmed", "LowVolume", ["Marketing"], null, null, null],
  "smsBrandInfo": {"status": "Verified"}
}"#;
        let expected = "invalid type: sequence, expected an object";
        assert_eq!(
            parse_error(json),
            (3, 22, "smsCampaignInfo".into(), expected.into())
        );
        let short = json.replace(", null, null, null]", "]");
        assert_eq!(parse_error(&short).3, expected);
        // In a list, in a number snapshot's configuration, in an error list, in recipients.
        assert_eq!(
            parse_error(r#"[{"phoneNumber": "+16501112345"}, ["+16501112346"]]"#),
            (1, 35, "[1]".into(), expected.into())
        );
        assert_eq!(
            parse_error(r#"{"records": [["+16501112346"]]}"#).2,
            "records[0]"
        );
        assert_eq!(
            parse_error(r#"{"phoneNumberInfo": {}, "smsConfiguration": ["1", "+1"]}"#).2,
            "smsConfiguration"
        );
        assert_eq!(
            parse_error(r#"{"smsBrandInfo": {"errors": [["TCR-1", "x"]]}}"#).2,
            "smsBrandInfo.errors[0]"
        );
        assert_eq!(
            parse_error(r#"{"smsRecipients": [["1", "101", "User", "Ann"]]}"#).2,
            "smsRecipients[0]"
        );
        assert_eq!(
            parse_error(r#"{"smsRecipients": {"smsRecipients": [["1"]]}}"#).2,
            "smsRecipients.smsRecipients[0]"
        );
    }

    #[test]
    fn a_field_written_twice_is_placed_on_the_second() {
        // serde_json marks the second key's closing quote.
        let json =
            r#"{"records": [{"phoneNumber": "+16501112345", "phoneNumber": "+16501112346"}]}"#;
        assert_eq!(
            parse_error(json),
            (
                1,
                46,
                "records[0]".into(),
                "duplicate field `phoneNumber`".into()
            )
        );
        let json = "{\"phoneNumber\": \"+16501112345\",\n  \"smsCampaignInfo\": {\"status\": \"Confirmed\",\n    \"status\": \"Expired\"}}";
        let (line, column, path, _) = parse_error(json);
        assert_eq!((line, column, path.as_str()), (3, 5, "smsCampaignInfo"));
        // Spelled with escapes, and with an escaped quote in it: still its opening quote.
        let json = r#"{"phoneNumber": "+1", "phone\u004eumber": "+2"}"#;
        assert_eq!(parse_error(json).1, 23);
    }

    #[test]
    fn an_unknown_field_is_placed_on_its_opening_quote() {
        let message = "unknown field `label`, expected one of `text`, `useCases`";
        for (line, column, want) in [
            (r#"{"text": "hi", "label": "x"}"#, 22, 16),
            (r#"{"text": "hi", "la\"bel": "x"}"#, 24, 16),
            (r#"{"text": "hi", "la\\": "x"}"#, 21, 16),
            // Not on a closing quote: left where it is.
            (r#"{"text": "hi", "label": "x"}"#, 21, 21),
        ] {
            assert_eq!(value_column(line, 1, column, message), want, "{line}");
        }
    }

    #[test]
    fn null_where_an_object_belongs_is_absent_as_before() {
        let json = r#"{"phoneNumber": "+16501112345", "smsCampaignInfo": {"status": "Confirmed",
            "errors": null, "consentSettings": null}, "smsBrandInfo": null}"#;
        let profiles = parse_snapshot(json).unwrap();
        let campaign = profiles[0].campaign().unwrap();
        assert_eq!(campaign.errors, None);
        assert_eq!(campaign.consent_settings, None);
        assert!(profiles[0].brand().is_none());
    }

    #[test]
    fn accepts_numeric_ids_errors_and_consent_settings() {
        let json = r#"{"phoneNumberId": 121554771345, "smsCampaignInfo": {"id": 2008,
            "status": "Confirmed", "errors": [{"errorCode": "TCR-1", "message": "x", "extra": 1}],
            "consentSettings": {"optInRequired": true, "coverage": {"optOut": "Account"}},
            "coverageType": "PhoneNumber", "useCases": ["Marketing", "Astrology"]}}"#;
        let p = &parse_snapshot(json).unwrap()[0];
        let c = p.campaign().unwrap();
        assert_eq!(c.id, Some(Id("2008".into())));
        assert_eq!(
            p.sms_configuration.as_ref().unwrap().phone_number_id,
            Some(Id("121554771345".into()))
        );
        assert_eq!(
            c.consent_settings.as_ref().unwrap().opt_in_required,
            Some(true)
        );
        assert_eq!(
            p.unknown_values(),
            vec![("smsCampaignInfo.useCases", "Astrology".to_owned())]
        );
    }

    #[test]
    fn wrong_type_names_the_path_and_position() {
        let json = "{\n  \"smsCampaignInfo\": {\"status\": 5}\n}";
        let err = parse_snapshot(json).unwrap_err();
        let SnapshotError::Parse { line, path, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*line, 2);
        assert_eq!(path, "smsCampaignInfo.status");
    }

    #[test]
    fn malformed_json_and_the_whole_document_name_no_path() {
        // serde_path_to_error gave `smsCampaignInfo.?`, `.` and `.`.
        for (json, message) in [
            (
                "{\"smsCampaignInfo\": {\"status\": \"Confirmed\"\n",
                "line 2, column 1: EOF while parsing an object",
            ),
            ("{\"a\": 1} x", "line 1, column 10: trailing characters"),
            (
                "5",
                "line 1, column 1: invalid type: integer `5`, expected an object",
            ),
        ] {
            let err = parse_snapshot(json).unwrap_err();
            assert_eq!(err.to_string(), message, "{json}");
        }
        let err = parse_snapshot("{\"smsCampaignInfo\": {\"status\": 5}}").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("expected a string (at `smsCampaignInfo.status`)"),
            "{err}"
        );
    }

    #[test]
    fn reads_lists_and_number_snapshots() {
        let json = r#"{"records": [
            {"phoneNumberInfo": {"id": 1, "phoneNumber": "+16505550100", "features": ["SmsSender"]},
             "smsConfiguration": {"phoneNumber": "+16505550100"},
             "smsRecipients": {"smsRecipients": [{"id": "7"}]}},
            {"phoneNumber": "+16505550101"}
        ], "paging": {}}"#;
        let err = parse_snapshot(json);
        // "paging" is allowed beside records: ignored like any key RingCentral adds.
        let profiles = err.unwrap();
        assert_eq!(profiles.len(), 2);
        assert_eq!(profiles[0].sms_recipients.as_ref().unwrap().len(), 1);
        assert_eq!(profiles[1].phone_number(), Some("+16505550101"));
        let arr = parse_snapshot(r#"[{"phoneNumber": "+1"}, {"phoneNumber": "+2"}]"#).unwrap();
        assert_eq!(arr.len(), 2);
    }

    #[test]
    fn selects_the_sending_number() {
        let profiles =
            parse_snapshot(r#"[{"phoneNumber": "+16505550100"}, {"phoneNumber": "+16505550101"}]"#)
                .unwrap();
        assert!(matches!(
            select_profile(&profiles, None),
            Err(SelectError::Ambiguous { .. })
        ));
        let p = select_profile(&profiles, Some("+16505550101")).unwrap();
        assert_eq!(p.phone_number(), Some("+16505550101"));
        let err = select_profile(&profiles, Some("+1999")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "+1999 is not in the snapshot, which holds +16505550100, +16505550101"
        );
        let one = parse_snapshot(r#"{"phoneNumber": "+16505550100"}"#).unwrap();
        assert!(select_profile(&one, None).is_ok());
        assert!(select_profile(&one, Some("+16505550101")).is_err());
    }

    #[test]
    fn the_sender_index_picks_as_a_search_would_and_names_few_numbers() {
        // 25 numbers, +16505550100 twice, one record without a number.
        let mut records: Vec<String> = (0..23)
            .map(|i| format!(r#"{{"phoneNumber": "+165055501{i:02}"}}"#))
            .collect();
        records.push(r#"{"phoneNumber": "+16505550100"}"#.into());
        records.push("{}".into());
        let profiles = parse_snapshot(&format!("[{}]", records.join(","))).unwrap();
        let index = SenderIndex::new(&profiles);
        let (i, p) = index.select(&profiles, Some("+16505550107")).unwrap();
        assert_eq!((i, p.phone_number()), (7, Some("+16505550107")));
        assert_eq!(
            index.select(&profiles, Some("+16505550100")).unwrap_err(),
            SelectError::Duplicate {
                from: "+16505550100".into(),
                count: 2
            }
        );
        let unknown = index
            .select(&profiles, Some("+1999"))
            .unwrap_err()
            .to_string();
        assert!(
            unknown.starts_with("+1999 is not in the snapshot, which holds +16505550100, ")
                && unknown.ends_with(", +16505550109 and 15 more"),
            "{unknown}"
        );
        let ambiguous = index.select(&profiles, None).unwrap_err().to_string();
        assert!(
            ambiguous.starts_with("the snapshot holds 25 numbers (+16505550100, ")
                && ambiguous.ends_with(" and 15 more); say which with --from"),
            "{ambiguous}"
        );
        // Every number the same as a search of the records.
        for p in &profiles {
            let from = p.phone_number();
            let searched: Vec<usize> = (0..profiles.len())
                .filter(|&j| profiles[j].phone_number() == from)
                .collect();
            let picked = index.select(&profiles, from).map(|(j, _)| j);
            match (from, searched.as_slice()) {
                (Some(_), [only]) => assert_eq!(picked, Ok(*only)),
                _ => assert!(picked.is_err(), "{from:?}"),
            }
        }
        // Empty: nothing to pick.
        assert!(SenderIndex::new(&[]).select(&[], None).is_err());
    }

    #[test]
    fn e164() {
        assert!(is_e164("+16501112345"));
        assert!(is_e164("+44"));
        assert!(!is_e164("16501112345"));
        assert!(!is_e164("+0650"));
        assert!(!is_e164("+1 650 111"));
        assert!(!is_e164("+1234567890123456"));
    }

    #[test]
    fn toll_free_by_record_or_area_code() {
        let p = &parse_snapshot(r#"{"phoneNumber": "+18885550100"}"#).unwrap()[0];
        assert!(p.is_toll_free());
        let p = &parse_snapshot(
            r#"{"phoneNumberInfo": {"phoneNumber": "+16505550100", "paymentType": "TollFree"}}"#,
        )
        .unwrap()[0];
        assert!(p.is_toll_free());
        let p = &parse_snapshot(r#"{"phoneNumber": "+16505550100"}"#).unwrap()[0];
        assert!(!p.is_toll_free());
    }

    #[test]
    fn refuses_mixed_shapes() {
        let json = r#"{"phoneNumber": "+1", "phoneNumberInfo": {}}"#;
        assert!(matches!(
            parse_snapshot(json),
            Err(SnapshotError::Shape { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("{}{}", "[".repeat(3000), "]".repeat(3000));
        let err = parse_snapshot(&deep)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("column 33: arrays and objects are nested more than 32"),
            "{err}"
        );
        assert!(json_too_deep(r#"{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[["}"#, 2).is_none());
        assert_eq!(json_too_deep("[[[", 2), Some(2));
    }
}
