//! Batch input lines: parsing one JSON Lines record, and the error record a bad line becomes.
//!
//! Self-contained (serde and `serde_json` only), so the fuzz target `batch` compiles it as it
//! is, together with `batch.rs`.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// One input line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InRecord<'a> {
    #[serde(borrow, default)]
    pub(crate) id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub(crate) to: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub(crate) from: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub(crate) extension_id: Option<String>,
    #[serde(default)]
    pub(crate) mms: Option<bool>,
}

/// Only the id, to label an error record when the rest of the line is wrong.
#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
}

/// An optional string, borrowed from the line unless it holds escapes: serde's `Cow` copies
/// by default, and `#[serde(borrow)]` does not reach through an `Option` (serde#2016), which cost
/// an allocation per message. A newtype with the attribute on the `Cow` itself borrows.
fn borrowed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Str<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Str<'de>>::deserialize(d)?.map(|s| s.0))
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s)),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "extensionId must be a string or a number, not {other}"
        ))),
    }
}

/// An error record's body.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a RawValue>,
    error: ErrorBody<'a>,
}

/// A line that could not be read or decided on.
pub(crate) struct LineError<'a> {
    pub(crate) line: usize,
    pub(crate) id: Option<&'a RawValue>,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl LineError<'_> {
    /// Write the error record, one JSON line.
    pub(crate) fn write(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer(
            &mut *out,
            &ErrorLine {
                line: self.line,
                id: self.id,
                error: ErrorBody {
                    code: self.code,
                    message: &self.message,
                },
            },
        )?;
        out.write_all(b"\n")
    }
}

/// Why an `id` cannot be echoed, if it cannot: it must be a string or a number that readers can
/// hold (`1e400` is valid JSON, but most parsers refuse it as out of range, so echoing it would
/// make the output line unreadable).
fn id_problem(id: &RawValue) -> Option<&'static str> {
    let raw = id.get();
    match raw.as_bytes().first() {
        Some(b'"') => None,
        Some(b'-' | b'0'..=b'9') => match serde_json::from_str::<f64>(raw) {
            Ok(n) if n.is_finite() => None,
            _ => Some("\"id\" is a number out of range; give it as a string"),
        },
        _ => Some("\"id\" must be a string or a number"),
    }
}

/// Parse a line; the error says what was wrong with it.
pub(crate) fn parse(
    line: usize,
    bytes: Option<&[u8]>,
    max: usize,
) -> Result<InRecord<'_>, LineError<'_>> {
    let err = |id, code, message: String| LineError {
        line,
        id,
        code,
        message,
    };
    let Some(bytes) = bytes else {
        return Err(err(
            None,
            "input.line_too_long",
            format!("the line is longer than {max} bytes (--max-line-bytes)"),
        ));
    };
    // A byte order mark may open the stream (Notepad and PowerShell write one); it is not
    // part of the first record. Anywhere else it is an error, as in JSON.
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) if line == 1 => rest,
        _ => bytes,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        err(
            None,
            "input.invalid_utf8",
            format!(
                "the line is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Err(err(None, "input.invalid_json", "the line is empty".into()));
    }
    let record: InRecord<'_> = serde_json::from_str(text).map_err(|e| {
        let id = serde_json::from_str::<IdOnly<'_>>(text)
            .ok()
            .and_then(|i| i.id)
            .filter(|id| id_problem(id).is_none());
        let message = e.to_string().replace(" at line 1 column ", " at column ");
        let code = if e.is_data() {
            "input.invalid_field"
        } else {
            "input.invalid_json"
        };
        err(id, code, message)
    })?;
    if let Some(problem) = record.id.and_then(id_problem) {
        return Err(err(None, "input.invalid_field", problem.into()));
    }
    if record.text.is_none() {
        return Err(err(
            record.id,
            "input.missing_text",
            "the line has no \"text\"".into(),
        ));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(line: &str) -> InRecord<'_> {
        parse(1, Some(line.as_bytes()), 1 << 20).unwrap_or_else(|e| panic!("{}", e.message))
    }

    #[test]
    fn strings_without_escapes_are_borrowed_from_the_line() {
        let r = record(r#"{"text":"Your order shipped","to":"+16505550100","from":null}"#);
        assert!(matches!(r.text, Some(Cow::Borrowed("Your order shipped"))));
        assert!(matches!(r.to, Some(Cow::Borrowed("+16505550100"))));
        assert!(r.from.is_none());
        let r = record(r#"{"text":"Caf\u00e9 \"open\"\nnow"}"#);
        assert!(matches!(&r.text, Some(Cow::Owned(t)) if t == "Café \"open\"\nnow"));
        let missing = parse(1, Some(br#"{"text":null}"#), 1 << 20).err();
        assert_eq!(missing.map(|e| e.code), Some("input.missing_text"));
        let wrong = parse(1, Some(br#"{"text":5}"#), 1 << 20).err();
        assert_eq!(wrong.map(|e| e.code), Some("input.invalid_field"));
    }

    #[test]
    fn a_byte_order_mark_opens_the_stream_and_nothing_else() {
        let line = b"\xEF\xBB\xBF{\"text\":\"hi\"}";
        let first = parse(1, Some(line), 1 << 20).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(first.text.as_deref(), Some("hi"));
        let later = parse(2, Some(line), 1 << 20).err();
        assert_eq!(later.map(|e| e.code), Some("input.invalid_json"));
    }
}
