//! Consent records: who opted out of (or in to) messages from whom.
//!
//! Read from the `OptRecordList` of `POST /restapi/v2/accounts/~/sms/consents/search` (reference
//! §5.1), leniently: the spec leaves parts of the record undefined, and the deprecated A2P API's
//! `OptOutResponse` (`status` instead of `optStatus`) is accepted too.

use serde::Deserialize;

use crate::error::SnapshotError;

/// Whether a recipient opted out or in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptStatus {
    /// No more messages.
    OptOut,
    /// Consent given.
    OptIn,
}

/// One consent record.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsentRecord {
    /// Position in the file (1-based), for messages.
    pub index: usize,
    /// The sender it applies to; `*` means every sender.
    pub from: Option<String>,
    /// The recipient.
    pub to: String,
    /// Opt-out or opt-in.
    pub status: OptStatus,
    /// `PhoneNumber`, `Account` or `CampaignType`.
    pub coverage: Option<String>,
    /// For `CampaignType` coverage: `Conversational`, `Informational` or `Promotional`.
    pub campaign_type: Option<String>,
    /// `lastModifiedTime` as nanoseconds since the Unix epoch (records without one sort first).
    pub modified: Option<i128>,
    /// `lastModifiedTime` as written.
    pub modified_text: Option<String>,
}

/// Every consent record of a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsentRecords {
    /// The records, in file order.
    records: Vec<ConsentRecord>,
    /// Each recipient's records, as indices into `records` in file order: a message's consent
    /// is looked for among its recipient's records only. Looking through every record cost a
    /// batch 1.2 ms a message with an export of 100,000 opt-outs.
    by_to: std::collections::HashMap<String, Vec<usize>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", remote = "Self")]
struct RawRecord {
    from: Option<String>,
    to: Option<String>,
    opt_status: Option<String>,
    status: Option<String>,
    coverage: Option<String>,
    campaign_type: Option<String>,
    last_modified_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(remote = "Self")]
struct RawList {
    records: Vec<RawRecord>,
}

crate::mapping_only!("an object"; RawRecord, RawList);

impl ConsentRecords {
    /// Parse an `OptRecordList` (`{"records": [...], "paging": {...}}`) or a bare list of records.
    pub fn parse(json: &str) -> Result<ConsentRecords, SnapshotError> {
        let raw: Vec<RawRecord> = if json.trim_start().starts_with('[') {
            crate::snapshot::from_json(json)?
        } else {
            crate::snapshot::from_json::<RawList>(json)?.records
        };
        let mut records = Vec::with_capacity(raw.len());
        for (i, r) in raw.into_iter().enumerate() {
            let index = i + 1;
            let shape = |message: String| SnapshotError::Shape {
                message: format!("consent record {index}: {message}"),
            };
            let to = r.to.ok_or_else(|| shape("has no \"to\"".into()))?;
            let status_text = r
                .opt_status
                .or(r.status)
                .ok_or_else(|| shape("has neither \"optStatus\" nor \"status\"".into()))?;
            let status = match status_text.to_ascii_lowercase().as_str() {
                "optout" => OptStatus::OptOut,
                "optin" => OptStatus::OptIn,
                _ => {
                    return Err(shape(format!(
                        "status {status_text:?} is neither OptOut nor OptIn"
                    )))
                }
            };
            let modified = match &r.last_modified_time {
                Some(t) => Some(parse_rfc3339(t).ok_or_else(|| {
                    shape(format!(
                        "lastModifiedTime {t:?} is not an RFC 3339 date-time"
                    ))
                })?),
                None => None,
            };
            records.push(ConsentRecord {
                index,
                from: r.from,
                to,
                status,
                coverage: r.coverage,
                campaign_type: r.campaign_type,
                modified,
                modified_text: r.last_modified_time,
            });
        }
        let mut by_to: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, r) in records.iter().enumerate() {
            by_to.entry(r.to.clone()).or_default().push(i);
        }
        Ok(ConsentRecords { records, by_to })
    }

    /// The records, in file order.
    pub fn records(&self) -> &[ConsentRecord] {
        &self.records
    }

    /// The latest record that applies to messages from `from` to `to`, for a campaign whose
    /// consent class is `campaign_type` (`None`: unknown, so every class applies).
    pub fn latest(
        &self,
        from: Option<&str>,
        to: &str,
        campaign_type: Option<&str>,
    ) -> Option<&ConsentRecord> {
        self.by_to
            .get(to)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.records.get(i))
            .filter(|r| r.applies_to(from, campaign_type))
            // Later records win ties, as a later line of an export is the newer state.
            .max_by(|a, b| a.modified.cmp(&b.modified).then(a.index.cmp(&b.index)))
    }
}

impl ConsentRecord {
    fn applies_to(&self, from: Option<&str>, campaign_type: Option<&str>) -> bool {
        match self.coverage.as_deref() {
            Some(c) if c.eq_ignore_ascii_case("account") => true,
            Some(c) if c.eq_ignore_ascii_case("campaigntype") => {
                match (campaign_type, &self.campaign_type) {
                    (Some(ours), Some(theirs)) => ours.eq_ignore_ascii_case(theirs),
                    // Without both classes known, the record may apply: honour it (fail closed).
                    _ => true,
                }
            }
            // "*" is every sender; a phone-number record without a sender cannot be ruled out.
            _ => self
                .from
                .as_deref()
                .is_none_or(|f| f == "*" || Some(f) == from),
        }
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 date-time (`2026-02-23T10:00:00.123Z`,
/// `...+02:00`).
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start {
            return None;
        }
        let digits = &s[start..end.min(start + 9)];
        nanos = i128::from(digits.parse::<i64>().ok()?) * 10i128.pow(9 - digits.len() as u32);
        i = end;
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let m = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if *sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_with_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(
            parse_rfc3339("2026-02-23T10:00:00Z"),
            Some(1_771_840_800 * 1_000_000_000)
        );
        assert!(parse_rfc3339("2026-02-23").is_none());
        assert!(parse_rfc3339("2026-13-01T00:00:00Z").is_none());
        assert!(parse_rfc3339("2026-01-01T00:00:00").is_none());
    }

    const LIST: &str = r#"{"records": [
        {"from": "+16501112345", "to": "+14155550100", "optStatus": "OptOut", "source": "Recipient",
         "lastModifiedTime": "2026-03-01T10:00:00Z"},
        {"from": "+16501112345", "to": "+14155550100", "optStatus": "OptIn", "source": "Api",
         "lastModifiedTime": "2026-03-02T09:00:00+01:00"},
        {"from": "*", "to": "+14155550111", "optStatus": "OptOut", "source": "Api",
         "lastModifiedTime": "2026-01-01T00:00:00Z"},
        {"coverage": "Account", "from": "+19999999999", "to": "+14155550122", "status": "OptOut"},
        {"coverage": "CampaignType", "campaignType": "Promotional", "to": "+14155550133",
         "optStatus": "OptOut", "lastModifiedTime": "2026-01-01T00:00:00Z"}
    ], "paging": {"perPage": 100}}"#;

    #[test]
    fn an_array_where_a_record_belongs_is_refused() {
        for (json, at) in [
            (
                r#"{"records": [["+16501112345", "+14155550100", "OptOut"]]}"#,
                "records[0]",
            ),
            (
                r#"[{"to": "+14155550100"}, ["+16501112345", "+14155550100"]]"#,
                "[1]",
            ),
        ] {
            match ConsentRecords::parse(json) {
                Err(SnapshotError::Parse { path, message, .. }) => {
                    assert_eq!(path, at);
                    assert_eq!(message, "invalid type: sequence, expected an object");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_latest_applicable_record_wins() {
        let c = ConsentRecords::parse(LIST).unwrap();
        let from = Some("+16501112345");
        assert_eq!(
            c.latest(from, "+14155550100", None).unwrap().status,
            OptStatus::OptIn
        );
        assert_eq!(
            c.latest(from, "+14155550111", None).unwrap().status,
            OptStatus::OptOut
        );
        assert_eq!(
            c.latest(from, "+14155550122", None).unwrap().status,
            OptStatus::OptOut
        );
        assert!(c.latest(from, "+14155550199", None).is_none());
        assert!(c
            .latest(Some("+16505550000"), "+14155550100", None)
            .is_none());
        assert!(c
            .latest(from, "+14155550133", Some("Informational"))
            .is_none());
        assert!(c
            .latest(from, "+14155550133", Some("Promotional"))
            .is_some());
        assert!(c.latest(from, "+14155550133", None).is_some());
    }

    #[test]
    fn the_lookup_by_recipient_finds_what_a_scan_of_every_record_finds() {
        // Records over three recipients, senders and coverages, ties in time included.
        let mut records = Vec::new();
        for i in 0..60 {
            let to = ["+14155550100", "+14155550111", "+14155550122"][i % 3];
            let from = ["+16501112345", "*", "+16505550000", ""][i % 4];
            let from = if from.is_empty() {
                String::new()
            } else {
                format!(r#""from": "{from}","#)
            };
            let coverage = [
                "",
                r#""coverage": "Account","#,
                r#""coverage": "CampaignType", "campaignType": "Promotional","#,
            ][i % 3 / 2 + i % 2];
            let status = ["OptOut", "OptIn"][i % 5 % 2];
            let day = 1 + i % 7;
            records.push(format!(
                r#"{{{from} {coverage} "to": "{to}", "optStatus": "{status}", "lastModifiedTime": "2026-03-0{day}T00:00:00Z"}}"#
            ));
        }
        let c = ConsentRecords::parse(&format!("[{}]", records.join(","))).unwrap();
        assert_eq!(c.records().len(), 60);
        for to in [
            "+14155550100",
            "+14155550111",
            "+14155550122",
            "+14155550199",
        ] {
            for from in [
                Some("+16501112345"),
                Some("+16505550000"),
                Some("+1999"),
                None,
            ] {
                for class in [None, Some("Promotional"), Some("Informational")] {
                    let scan = c
                        .records()
                        .iter()
                        .filter(|r| r.to == to && r.applies_to(from, class))
                        .max_by(|a, b| a.modified.cmp(&b.modified).then(a.index.cmp(&b.index)));
                    assert_eq!(
                        c.latest(from, to, class).map(|r| r.index),
                        scan.map(|r| r.index),
                        "{to} {from:?} {class:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn malformed_records_are_errors_naming_the_record() {
        let err = ConsentRecords::parse(r#"{"records": [{"to": "+1", "optStatus": "Maybe"}]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("consent record 1"), "{err}");
        let err = ConsentRecords::parse(
            r#"[{"to": "+1", "optStatus": "OptOut", "lastModifiedTime": "yesterday"}]"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }
}
