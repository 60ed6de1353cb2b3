//! The policy file format, as serde types.
//!
//! Every struct refuses unknown fields. Values are checked inside the `Deserialize` of small
//! newtypes ([`UseCaseName`], [`Phrase`], [`RegexSource`], [`Weight`], [`Threshold`],
//! [`PatternId`]) so that an error carries the parser's line and column.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use smslint_core::normalize::fold;
use smslint_core::UseCase;

use crate::diagnostic::nearest;

/// The only policy format version this release reads.
pub const VERSION: u32 = 1;

/// A policy file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Format version; must be 1.
    pub version: Version,
    /// The policy's name.
    #[serde(default)]
    pub name: Option<String>,
    /// What the policy is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How classification and registration combine into a verdict.
    #[serde(default)]
    pub decision: RawDecision,
    /// The classifiable use cases, in order; ties in score go to the earlier one.
    pub use_cases: OrderedMap<UseCaseName, RawUseCase>,
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

/// What a message that fits no use case gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unclassified {
    /// `content.unclassified` is an error: the message is rejected.
    #[default]
    Reject,
    /// `content.unclassified` is a warning: the message may go.
    Warn,
}

/// Decision settings.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDecision {
    /// What a message that fits no use case gets (`reject` or `warn`).
    #[serde(default)]
    pub unclassified: Unclassified,
    /// Use cases that must be registered whenever detected (default: Marketing).
    #[serde(default = "default_restricted")]
    pub restricted: Vec<UseCaseName>,
    /// Registration labels that stand for other use cases, e.g. `Mixed: [CustomerCare, ...]`.
    #[serde(default)]
    pub covers: OrderedMap<UseCaseName, Vec<UseCaseName>>,
    /// Brand statuses that pass (default: Verified, Confirmed).
    #[serde(default = "default_brand_statuses")]
    pub accept_brand_statuses: Vec<String>,
    /// Messages a day a campaign of each registration tier may send (default: `LowVolume` 6000).
    #[serde(default = "default_daily_caps")]
    pub daily_caps: OrderedMap<String, u64>,
}

impl Default for RawDecision {
    fn default() -> Self {
        RawDecision {
            unclassified: Unclassified::default(),
            restricted: default_restricted(),
            covers: OrderedMap::default(),
            accept_brand_statuses: default_brand_statuses(),
            daily_caps: default_daily_caps(),
        }
    }
}

fn default_restricted() -> Vec<UseCaseName> {
    vec![UseCaseName(UseCase::Marketing)]
}

fn default_daily_caps() -> OrderedMap<String, u64> {
    OrderedMap(vec![("LowVolume".into(), 6000)])
}

fn default_brand_statuses() -> Vec<String> {
    vec!["Verified".into(), "Confirmed".into()]
}

/// One use case's rules.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUseCase {
    /// Score at which the use case is detected.
    pub threshold: Threshold,
    /// What content belongs to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Phrases, matched at word boundaries on folded text.
    #[serde(default)]
    pub keywords: Vec<RawKeyword>,
    /// Regular expressions, matched on the original text.
    #[serde(default)]
    pub patterns: Vec<RawPattern>,
    /// Messages that must and must not be detected as this use case.
    #[serde(default)]
    pub examples: RawExamples,
}

/// A keyword rule.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeyword {
    /// The phrase.
    pub phrase: Phrase,
    /// Points it adds (default 1).
    #[serde(default = "Weight::one")]
    pub weight: Weight,
}

/// A pattern rule.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPattern {
    /// Unique id, lowercase: letters, digits, `.`, `_`, `-`.
    pub id: PatternId,
    /// The regular expression.
    pub regex: RegexSource,
    /// Points it adds (default 1).
    #[serde(default = "Weight::one")]
    pub weight: Weight,
    /// What it recognises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Example messages for the policy tests.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawExamples {
    /// Messages that must be detected as the use case.
    #[serde(default, rename = "match")]
    pub matches: Vec<String>,
    /// Messages that must not be detected as the use case.
    #[serde(default)]
    pub no_match: Vec<String>,
}

/// A map that keeps its keys in file order and refuses duplicate keys.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
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

/// A known use-case name, spelled exactly as RingCentral spells it.
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
        if let Some(u) = UseCase::known(&s) {
            return Ok(UseCaseName(u));
        }
        let names = UseCase::KNOWN.map(|u| u.as_str().to_owned());
        let hint = nearest(&s, names.iter().map(String::as_str))
            .map_or_else(String::new, |n| format!("; did you mean `{n}`?"));
        Err(de::Error::custom(format!(
            "unknown use case `{s}`{hint} (expected one of: {})",
            names.join(", ")
        )))
    }
}

impl Serialize for UseCaseName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
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
            Err(de::Error::custom(format!(
                "weight {w} is not a finite number"
            )))
        }
    }
}

/// A finite threshold greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Threshold(pub f64);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = f64::deserialize(d)?;
        if t.is_finite() && t > 0.0 {
            Ok(Threshold(t))
        } else {
            Err(de::Error::custom(format!(
                "threshold {t} must be a finite number greater than 0 (a threshold of 0 or less \
                 would detect the use case in every message)"
            )))
        }
    }
}

/// A keyword phrase that is not empty once folded.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Phrase(pub String);

impl<'de> Deserialize<'de> for Phrase {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if fold(&s).is_empty() {
            Err(de::Error::custom(format!(
                "keyword {s:?} is empty once normalised (case, accents, invisible characters and \
                 whitespace are folded away)"
            )))
        } else {
            Ok(Phrase(s))
        }
    }
}

/// A pattern id: lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PatternId(pub String);

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
        if valid {
            Ok(PatternId(s))
        } else {
            Err(de::Error::custom(format!(
                "pattern id {s:?} must be lowercase letters, digits, `.`, `_` and `-`, starting \
                 with a letter or digit (for example `ups-tracking`)"
            )))
        }
    }
}

/// A regular expression whose syntax is valid and which cannot match the empty string.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct RegexSource(pub String);

impl<'de> Deserialize<'de> for RegexSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // Parse with the same settings the engine compiles with (bytes, Unicode off), which
        // checks syntax without building an automaton; compilation happens once, later.
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(&s)
            .map_err(|e| de::Error::custom(format!("invalid regex:\n{e}")))?;
        if hir.properties().minimum_len() == Some(0) {
            return Err(de::Error::custom(format!(
                "regex {s:?} matches the empty string, so it would fire on every message"
            )));
        }
        Ok(RegexSource(s))
    }
}
