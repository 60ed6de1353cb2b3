//! The policy file format, as serde types.
//!
//! Every struct refuses unknown fields, and is read from a mapping only
//! (`smslint_core::mapping_only!`: a derived struct also takes a sequence of its fields in order).
//! Values are checked inside the `Deserialize` of small newtypes ([`UseCaseKey`], [`UseCaseName`],
//! [`Phrase`], [`RegexSource`], [`Weight`], [`Threshold`], [`PatternId`], [`RuleRef`],
//! [`ExtendsRef`]) so that an error carries the parser's position, refined to the token by
//! [`crate::locate`].

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use smslint_core::normalize::{fold_cow, folds_to_empty};
use smslint_core::{Folding, UseCase};

use crate::diagnostic::nearest;
use crate::locate::{probe_hit, set_detail, trusted, Detail, Kind, PROBE_MESSAGE};

/// The only policy format version this release reads.
pub const VERSION: u32 = 1;

/// Where a value came from: which loaded file, and its ordinal among values of its kind there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct At {
    /// Index of the file in the load's sources.
    pub source: usize,
    /// Ordinal among values of the same kind in that file, in document order.
    pub ordinal: usize,
}

/// A policy file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
#[schemars(
    title = "smslint policy",
    description = "An smslint policy (version 1)."
)]
pub struct RawPolicy {
    /// Format version; must be 1.
    pub version: Version,
    /// The policy's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the policy is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A policy this one builds on: a path relative to this file, `builtin:default` or
    /// `builtin:base`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<ExtendsRef>,
    /// How classification and registration combine into a verdict; each field given replaces
    /// the extended policy's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<RawDecision>,
    /// The classifiable use cases, in order; ties in score go to the earlier one.
    #[serde(default)]
    pub use_cases: OrderedMap<UseCaseKey, RawUseCase>,
    /// Content rules, independent of use case. In an extending policy, a rule with an id the
    /// base has replaces the base's rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RawRule>,
    /// Severity overrides by rule id or id prefix (`prohibited`, `link.public_shortener`):
    /// `error`, `warning`, `info` or `off`. The longest matching key wins; an extending policy's
    /// entries replace the base's.
    #[serde(default, skip_serializing_if = "OrderedMap::is_empty")]
    pub severities: OrderedMap<SeverityKey, Level>,
    /// Names the sender goes by, for `require: { brand: true }` rules (`--brand` replaces them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brand_names: Vec<String>,
    /// Settings of `smslint lint` (message templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<RawLint>,
}

/// Settings of `smslint lint`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawLint {
    /// Patterns of template placeholders (`{{name}}`, `%s`, ...): slots, never matched as words
    /// nor flagged as unresolved. Replaces the extended policy's list when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholders: Option<Vec<RegexSource>>,
    /// Characters each placeholder is assumed to take when counting segments (default 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder_length: Option<u32>,
    /// Exceptions: findings of a rule that are accepted for some templates, with the reason.
    /// An extending policy's entries are added to the base's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<RawAllow>,
}

/// An exception: a rule's findings accepted for the templates named, and why.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawAllow {
    /// A rule id or dotted prefix (`prohibited`), or a fixed code (`content.unclassified`).
    pub rule: String,
    /// Template ids it applies to (globs: `*`, `?`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<String>,
    /// Template files it applies to (globs over `/`-separated paths: `*`, `**`, `?`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Why the finding is accepted (required).
    pub reason: String,
}

/// A rule severity, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Rejects in `check`; fails `lint`.
    Error,
    /// Reported; does not reject.
    Warning,
    /// Reported for information.
    Info,
    /// The rule does not run.
    Off,
}

impl Level {
    /// The severity, or `None` for `off`.
    pub fn severity(self) -> Option<smslint_core::Severity> {
        match self {
            Level::Error => Some(smslint_core::Severity::Error),
            Level::Warning => Some(smslint_core::Severity::Warning),
            Level::Info => Some(smslint_core::Severity::Info),
            Level::Off => None,
        }
    }
}

/// A rule's declared severity (no `off`: turn a rule off under `severities`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    /// Rejects in `check`.
    Error,
    /// Reported; does not reject.
    Warning,
    /// Reported for information.
    Info,
}

/// A content rule.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawRule {
    /// Stable id, lowercase and dotted (`prohibited.firearms`); its reason code is `rule.<id>`.
    pub id: RuleId,
    /// What the rule flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `error`, `warning` or `info`.
    pub severity: RuleSeverity,
    /// What a finding tells the sender.
    pub message: String,
    /// Where to read more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Conditions on the message as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<RawWhen>,
    /// Fires when one of these matches (and the other clauses allow it).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<RawMatcher>,
    /// Context: one of these must match as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<RawMatcher>,
    /// Negative evidence: the rule does not fire when one of these matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<RawMatcher>,
    /// What the message must contain: the rule fires when none of it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require: Option<RawRequire>,
    /// Lifted when the campaign registers one of these use cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless_use_case: Vec<UseCaseName>,
    /// Messages on which the rule must and must not fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<RawExamples>,
    /// Where its id is.
    #[serde(skip)]
    #[schemars(skip)]
    pub at: At,
}

/// Conditions on the message as a whole.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawWhen {
    /// The rule applies only when one of these use cases is detected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detected: Vec<UseCaseName>,
    /// The rule fires when the text takes more segments than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_over: Option<u32>,
}

/// Phrases and patterns; the clause holds when any of them matches.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawMatcher {
    /// Phrases, matched like use-case keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<MatchPhrase>,
    /// Regular expressions, matched like use-case patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<RegexSource>,
}

/// What a message must contain.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawRequire {
    /// Phrases, matched like use-case keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<MatchPhrase>,
    /// Regular expressions, matched like use-case patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<RegexSource>,
    /// The message must name the sender (`brand_names`, or `--brand`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub brand: bool,
}

/// A content-rule id: lowercase letters, digits and `_`, in two or more dotted parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RuleId(pub String);

/// The shape of a rule id, as a regex for the schema.
const RULE_ID_PATTERN: &str = "^[a-z0-9_]+(\\.[a-z0-9_]+)+$";

fn is_rule_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !is_rule_id(&s) {
            set_detail(Detail {
                key: Some("id".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "rule id {s:?} must be lowercase letters, digits and `_` in two or more dotted \
                 parts (for example `marketing.opt_out_missing`)"
            )));
        }
        if probe_hit(Kind::RuleId, Some("id"), &s) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(RuleId(s))
    }
}

impl JsonSchema for RuleId {
    fn schema_name() -> Cow<'static, str> {
        "RuleId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": RULE_ID_PATTERN })
    }
}

/// A key of `severities`: a rule id or a dotted prefix of rule ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SeverityKey(pub String);

impl fmt::Display for SeverityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SeverityKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let valid = s == "*"
            || s.split('.').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if !valid {
            set_detail(Detail {
                token: Some(s.clone()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "severity key {s:?} must be a rule id, a dotted prefix of rule ids, or `*`"
            )));
        }
        if probe_hit(Kind::SeverityKey, None, &s) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(SeverityKey(s))
    }
}

impl JsonSchema for SeverityKey {
    fn schema_name() -> Cow<'static, str> {
        "SeverityKey".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "description": "A rule id, a dotted prefix of rule ids, or *." })
    }
}

/// A phrase of a content rule's clause: not empty once folded.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct MatchPhrase(pub String);

impl<'de> Deserialize<'de> for MatchPhrase {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if folds_to_empty(&s) {
            set_detail(Detail {
                token: Some(s.clone()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "keyword {s:?} is empty once normalised; expected a phrase with letters, digits or symbols"
            )));
        }
        Ok(MatchPhrase(s))
    }
}

impl JsonSchema for MatchPhrase {
    fn schema_name() -> Cow<'static, str> {
        "MatchPhrase".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "minLength": 1 })
    }
}

/// The format version, checked on read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version(pub u32);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u32::deserialize(d)?;
        if v == VERSION {
            Ok(Version(v))
        } else {
            set_detail(Detail {
                key: Some("version".into()),
                ..Detail::default()
            });
            Err(de::Error::custom(format!(
                "unsupported policy version {v}; this smslint reads version {VERSION}"
            )))
        }
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": VERSION, "description": "Format version; must be 1." })
    }
}

/// What a message that fits no use case gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unclassified {
    /// `content.unclassified` is an error: the message is rejected.
    #[default]
    Reject,
    /// `content.unclassified` is a warning: the message may go.
    Warn,
}

/// Decision settings; every field is optional and replaces the extended policy's when given.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawDecision {
    /// What a message that fits no use case gets (`reject` or `warn`; default `reject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unclassified: Option<Unclassified>,
    /// Use cases that must be registered whenever detected (default: Marketing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted: Option<Vec<UseCaseName>>,
    /// Registration labels that stand for other use cases, e.g. `Mixed: [CustomerCare, ...]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers: Option<OrderedMap<UseCaseName, Vec<UseCaseName>>>,
    /// Brand statuses that pass (default: Verified, Confirmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_brand_statuses: Option<Vec<String>>,
    /// Messages a day a campaign of each registration tier may send (default: `LowVolume` 6000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_caps: Option<OrderedMap<String, u64>>,
    /// The IANA time zone whose midnight starts a campaign's day for the daily caps (default:
    /// UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<TimeZoneName>,
}

impl RawDecision {
    /// Every field, with the built-in defaults where none is given.
    pub fn with_defaults() -> RawDecision {
        RawDecision {
            unclassified: Some(Unclassified::Reject),
            restricted: Some(vec![UseCaseName(UseCase::Marketing)]),
            covers: Some(OrderedMap::default()),
            accept_brand_statuses: Some(vec!["Verified".into(), "Confirmed".into()]),
            daily_caps: Some(OrderedMap(vec![("LowVolume".into(), 6000)])),
            time_zone: None,
        }
    }

    /// This decision with each field `over` gives replacing its own.
    #[must_use]
    pub fn overlaid(mut self, over: &RawDecision) -> RawDecision {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f.clone(); } )* };
        }
        take!(
            unclassified,
            restricted,
            covers,
            accept_brand_statuses,
            daily_caps,
            time_zone
        );
        self
    }
}

/// One use case's rules. In a policy that `extends` another, a use case the base defines may
/// omit `threshold`, and may remove the base's keywords and patterns.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawUseCase {
    /// Score at which the use case is detected (greater than 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
    /// What content belongs to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Phrases, matched at word boundaries on folded text. In an extending policy, a phrase the
    /// base has (once folded) replaces the base's weight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<RawKeyword>,
    /// Regular expressions, matched on the original text. In an extending policy, an id the base
    /// has replaces the base's pattern.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<RawPattern>,
    /// Content rules whose text clauses count as evidence for the use case (whatever the
    /// rule's severity). In an extending policy, a rule the base counts replaces the base's
    /// weight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_rules: Vec<RawRuleEvidence>,
    /// Phrases of the extended policy's keywords to drop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_keywords: Vec<String>,
    /// Ids of the extended policy's patterns to drop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_patterns: Vec<String>,
    /// Ids of the content rules the extended policy counts for the use case, to stop counting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_content_rules: Vec<String>,
    /// Messages that must and must not be detected as this use case; in an extending policy,
    /// they replace the base's examples of the use case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<RawExamples>,
    /// Where the use case's key is.
    #[serde(skip)]
    #[schemars(skip)]
    pub key_at: At,
    /// Where its threshold is (when given).
    #[serde(skip)]
    #[schemars(skip)]
    pub threshold_at: Option<At>,
}

/// A keyword rule.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawKeyword {
    /// The phrase.
    pub phrase: Phrase,
    /// Points it adds (default 1; negative counts against the use case).
    #[serde(default = "Weight::one")]
    pub weight: Weight,
    /// Where it is.
    #[serde(skip)]
    #[schemars(skip)]
    pub at: At,
}

/// A pattern rule.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawPattern {
    /// Unique id, lowercase: letters, digits, `.`, `_`, `-`.
    pub id: PatternId,
    /// The regular expression (Rust syntax; ASCII classes unless it opts in with `(?u)`).
    pub regex: RegexSource,
    /// Points it adds (default 1).
    #[serde(default = "Weight::one")]
    pub weight: Weight,
    /// What it recognises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where it is.
    #[serde(skip)]
    #[schemars(skip)]
    pub at: At,
}

/// A content rule counted as evidence for a use case.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawRuleEvidence {
    /// The content rule's id; its `match` must hold and its `with`, `unless` and `require`
    /// allow it. It must not depend on `when.detected`.
    pub rule: RuleRef,
    /// Points it adds (default 1).
    #[serde(default = "Weight::one")]
    pub weight: Weight,
    /// Where it is.
    #[serde(skip)]
    #[schemars(skip)]
    pub at: At,
}

/// A reference to a content rule by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RuleRef(pub String);

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RuleRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !is_rule_id(&s) {
            set_detail(Detail {
                key: Some("rule".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "rule {s:?} must be a content-rule id: lowercase letters, digits and `_` in two \
                 or more dotted parts (for example `prohibited.firearms`)"
            )));
        }
        if probe_hit(Kind::EvidenceRule, Some("rule"), &s) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(RuleRef(s))
    }
}

impl JsonSchema for RuleRef {
    fn schema_name() -> Cow<'static, str> {
        "RuleRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": RULE_ID_PATTERN })
    }
}

/// Example messages for the policy tests.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RawExamples {
    /// Messages that must be detected as the use case.
    #[serde(default, rename = "match")]
    pub matches: Vec<String>,
    /// Messages that must not be detected as the use case.
    #[serde(default)]
    pub no_match: Vec<String>,
    /// Brand names to assume (as `--brand` would give) when running a rule's examples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brands: Vec<String>,
}

/// A map that keeps its keys in file order and refuses duplicate keys.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<K: PartialEq, V> OrderedMap<K, V> {
    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, K, V> Deserialize<'de> for OrderedMap<K, V>
where
    K: Deserialize<'de> + PartialEq + fmt::Display,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
        where
            K: Deserialize<'de> + PartialEq + fmt::Display,
            V: Deserialize<'de>,
        {
            type Value = OrderedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(K, V)> = Vec::new();
                while let Some(key) = map.next_key::<K>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        set_detail(Detail {
                            token: Some(key.to_string()),
                            skip: 1,
                            ..Detail::default()
                        });
                        return Err(de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    let value = map.next_value()?;
                    entries.push((key, value));
                }
                Ok(OrderedMap(entries))
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

impl<K: Serialize, V: Serialize> Serialize for OrderedMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<K: JsonSchema, V: JsonSchema> JsonSchema for OrderedMap<K, V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}_to_{}", K::schema_name(), V::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let keys = generator.subschema_for::<K>();
        let values = generator.subschema_for::<V>();
        json_schema!({
            "type": "object",
            "propertyNames": keys,
            "additionalProperties": values,
        })
    }
}

fn use_case_names() -> Vec<&'static str> {
    UseCase::KNOWN
        .iter()
        .filter_map(UseCase::known_name)
        .collect()
}

fn parse_use_case<E: de::Error>(s: &str) -> Result<UseCase, E> {
    if let Some(u) = UseCase::known(s) {
        return Ok(u);
    }
    let names = use_case_names();
    set_detail(Detail {
        token: Some(s.to_owned()),
        help: nearest(s, names.iter().copied()).map(|n| format!("did you mean `{n}`?")),
        ..Detail::default()
    });
    Err(E::custom(format!(
        "unknown use case `{s}`; expected one of: {}",
        names.join(", ")
    )))
}

fn use_case_schema(description: &str) -> Schema {
    json_schema!({ "enum": use_case_names(), "description": description })
}

/// A use-case name, spelled exactly as RingCentral spells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseCaseName(pub UseCase);

impl fmt::Display for UseCaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for UseCaseName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_use_case(&s).map(UseCaseName)
    }
}

impl Serialize for UseCaseName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl JsonSchema for UseCaseName {
    fn schema_name() -> Cow<'static, str> {
        "UseCaseName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        use_case_schema("A use case, spelled as RingCentral spells it.")
    }
}

/// A key of `use_cases`: a use-case name whose position can be probed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseCaseKey(pub UseCase);

impl fmt::Display for UseCaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for UseCaseKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let u = parse_use_case(&s)?;
        if probe_hit(Kind::UseCaseKey, None, &s) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(UseCaseKey(u))
    }
}

impl Serialize for UseCaseKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl JsonSchema for UseCaseKey {
    fn schema_name() -> Cow<'static, str> {
        "UseCaseKey".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        use_case_schema(
            "A classifiable use case (not Mixed or Unknown, which are registration labels).",
        )
    }
}

/// A finite weight.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Weight(pub f64);

impl Weight {
    fn one() -> Weight {
        Weight(1.0)
    }
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = f64::deserialize(d)?;
        if w.is_finite() {
            Ok(Weight(w))
        } else {
            set_detail(Detail {
                key: Some("weight".into()),
                ..Detail::default()
            });
            Err(de::Error::custom(format!(
                "weight {w} is not a finite number; expected a number such as 2 or -1.5"
            )))
        }
    }
}

impl JsonSchema for Weight {
    fn schema_name() -> Cow<'static, str> {
        "Weight".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "description": "Points a rule adds; may be negative." })
    }
}

/// An IANA time zone name the time zone database knows (`UTC`, `America/New_York`, ...).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct TimeZoneName(pub String);

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Err(e) = jiff::tz::TimeZone::get(&s) {
            set_detail(Detail {
                key: Some("time_zone".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "time_zone {s:?} is not a time zone the time zone database knows ({e}); expected an \
                 IANA name such as UTC or America/New_York"
            )));
        }
        Ok(TimeZoneName(s))
    }
}

impl JsonSchema for TimeZoneName {
    fn schema_name() -> Cow<'static, str> {
        "TimeZoneName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An IANA time zone name, such as UTC or America/New_York."
        })
    }
}

/// A finite threshold greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Threshold(pub f64);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = f64::deserialize(d)?;
        if !(t.is_finite() && t > 0.0) {
            set_detail(Detail {
                key: Some("threshold".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "threshold {t} must be a finite number greater than 0 (a threshold of 0 or less \
                 would detect the use case in every message)"
            )));
        }
        if probe_hit(Kind::Threshold, Some("threshold"), &t.to_string()) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(Threshold(t))
    }
}

impl JsonSchema for Threshold {
    fn schema_name() -> Cow<'static, str> {
        "Threshold".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Score at which the use case is detected."
        })
    }
}

/// A keyword phrase that is not empty once folded.
#[derive(Clone, Debug, PartialEq)]
pub struct Phrase {
    /// Shared with the compiled policy's rule ([`Phrase::shared`]): one copy of each of a
    /// learned layer's tens of thousands of phrases, not two.
    text: Arc<str>,
    /// The phrase folded, when folding changes it: read where loading would fold the phrase
    /// again (merging layers, checking duplicates, compiling), which had folded each of a
    /// learned layer's phrases three times.
    folded: Option<Box<str>>,
}

impl Phrase {
    /// The phrase as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The phrase as written, shared.
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }

    /// The phrase folded as message text is ([`smslint_core::normalize::fold`]).
    pub fn folded(&self) -> &str {
        self.folded.as_deref().unwrap_or(&self.text)
    }

    /// How the phrase folds, for compiling.
    pub fn folding(&self) -> Folding {
        match &self.folded {
            None => Folding::Unchanged,
            Some(folded) => Folding::To(folded.to_string()),
        }
    }
}

impl Serialize for Phrase {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Phrase {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The text straight into its shared string: by way of a `String` it was copied twice.
        struct Text;
        impl Visitor<'_> for Text {
            type Value = Arc<str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Arc<str>, E> {
                Ok(Arc::from(s))
            }
        }
        let text = d.deserialize_str(Text)?;
        let folded = match fold_cow(&text) {
            Cow::Borrowed(_) => None,
            Cow::Owned(f) => (*f != *text).then(|| f.into_boxed_str()),
        };
        if folded.as_deref() == Some("") {
            set_detail(Detail {
                key: Some("phrase".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "keyword {text:?} is empty once normalised (case, accents, invisible characters \
                 and whitespace are folded away); expected a phrase with letters, digits or symbols"
            )));
        }
        if probe_hit(Kind::Phrase, Some("phrase"), &text) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(Phrase { text, folded })
    }
}

impl JsonSchema for Phrase {
    fn schema_name() -> Cow<'static, str> {
        "Phrase".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "A phrase, matched case- and accent-insensitively at word boundaries."
        })
    }
}

/// A pattern id: lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PatternId(pub String);

/// The shape of a pattern id, as a regex for the schema.
const ID_PATTERN: &str = "^[a-z0-9][a-z0-9._-]*$";

impl<'de> Deserialize<'de> for PatternId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let valid = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if !valid {
            set_detail(Detail {
                key: Some("id".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "pattern id {s:?} must be lowercase letters, digits, `.`, `_` and `-`, starting \
                 with a letter or digit (for example `delivery.ups-tracking`)"
            )));
        }
        if probe_hit(Kind::PatternId, Some("id"), &s) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(PatternId(s))
    }
}

impl JsonSchema for PatternId {
    fn schema_name() -> Cow<'static, str> {
        "PatternId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": ID_PATTERN })
    }
}

/// A regular expression whose syntax is valid and which cannot match the empty string.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct RegexSource(pub String);

/// Parse a pattern with the settings the engine compiles with (bytes, Unicode off).
pub(crate) fn parse_pattern(src: &str) -> Result<regex_syntax::hir::Hir, Box<regex_syntax::Error>> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(src)
        .map_err(Box::new)
}

impl<'de> Deserialize<'de> for RegexSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // An embedded policy's patterns are held valid by its tests and compiled right after:
        // parsing each here as well was a tenth of every start.
        if trusted() {
            return Ok(RegexSource(s));
        }
        // This checks syntax without building an automaton, which happens once, later.
        let hir = match parse_pattern(&s) {
            Ok(hir) => hir,
            Err(e) => {
                let (offset, what) = match &*e {
                    regex_syntax::Error::Parse(p) => (p.span().start.offset, p.kind().to_string()),
                    regex_syntax::Error::Translate(t) => {
                        (t.span().start.offset, t.kind().to_string())
                    }
                    _ => (0, e.to_string()),
                };
                set_detail(Detail {
                    key: Some("regex".into()),
                    offset_in_value: Some(offset),
                    ..Detail::default()
                });
                return Err(de::Error::custom(format!("invalid regex: {what}")));
            }
        };
        if hir.properties().minimum_len() == Some(0) {
            set_detail(Detail {
                key: Some("regex".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(format!(
                "regex {s:?} matches the empty string, so it would fire on every message; \
                 expected a pattern that needs at least one character"
            )));
        }
        Ok(RegexSource(s))
    }
}

impl JsonSchema for RegexSource {
    fn schema_name() -> Cow<'static, str> {
        "RegexSource".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "regex",
            "minLength": 1,
            "description": "A Rust regular expression over the original text; ASCII classes unless it opts in with (?u)."
        })
    }
}

/// What a policy extends: a path relative to the file, `builtin:default` or `builtin:base`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ExtendsRef(pub String);

impl<'de> Deserialize<'de> for ExtendsRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            set_detail(Detail {
                key: Some("extends".into()),
                ..Detail::default()
            });
            return Err(de::Error::custom(
                "extends is empty; expected a path, `builtin:default` or `builtin:base`",
            ));
        }
        if probe_hit(Kind::Extends, Some("extends"), &s) {
            return Err(de::Error::custom(PROBE_MESSAGE));
        }
        Ok(ExtendsRef(s))
    }
}

impl JsonSchema for ExtendsRef {
    fn schema_name() -> Cow<'static, str> {
        "ExtendsRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A policy file to build on (relative to this one), builtin:default or builtin:base."
        })
    }
}

impl RawPolicy {
    /// Record where each probed value is, as ordinals in document order (which is the order of
    /// the parsed structure: maps keep file order, and each kind appears in one place only).
    pub fn assign_positions(&mut self, source: usize) {
        for (ordinal, rule) in self.rules.iter_mut().enumerate() {
            rule.at = At { source, ordinal };
        }
        let (mut thresholds, mut phrases, mut patterns, mut evidence) = (0, 0, 0, 0);
        for (key_ordinal, (_, uc)) in self.use_cases.0.iter_mut().enumerate() {
            uc.key_at = At {
                source,
                ordinal: key_ordinal,
            };
            if uc.threshold.is_some() {
                uc.threshold_at = Some(At {
                    source,
                    ordinal: thresholds,
                });
                thresholds += 1;
            }
            for k in &mut uc.keywords {
                k.at = At {
                    source,
                    ordinal: phrases,
                };
                phrases += 1;
            }
            for p in &mut uc.patterns {
                p.at = At {
                    source,
                    ordinal: patterns,
                };
                patterns += 1;
            }
            for e in &mut uc.content_rules {
                e.at = At {
                    source,
                    ordinal: evidence,
                };
                evidence += 1;
            }
        }
    }
}

smslint_core::mapping_only!(
    "a mapping", serialize;
    RawPolicy,
    RawLint,
    RawAllow,
    RawRule,
    RawWhen,
    RawMatcher,
    RawRequire,
    RawDecision,
    RawUseCase,
    RawKeyword,
    RawPattern,
    RawRuleEvidence,
    RawExamples,
);
