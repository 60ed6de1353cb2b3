//! Batch input lines: parsing one JSON Lines record, and the error record a bad line becomes.
//!
//! Self-contained (serde and `serde_json` only), so the fuzz target `batch` compiles it as it
//! is, together with `batch.rs`.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A record's `id` as the JSON text it was given as (a string or a number), to echo as it is.
/// Always valid JSON: it is made only from a [`RawValue`] or from what [`plain`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawId<'a>(&'a str);

impl<'a> RawId<'a> {
    /// The JSON text.
    pub(crate) fn get(self) -> &'a str {
        self.0
    }
}

impl<'a> From<&'a RawValue> for RawId<'a> {
    fn from(raw: &'a RawValue) -> RawId<'a> {
        RawId(raw.get())
    }
}

impl Serialize for RawId<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A `RawValue` is how `serde_json` writes JSON text as it is. Made here, where a line
        // is written through serde, rather than for every line read: reading one was about
        // 1,000 instructions a line.
        let raw: &RawValue = serde_json::from_str(self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// An optional `id`, as its JSON text.
fn raw_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawId<'de>>, D::Error> {
    Ok(Option::<&'de RawValue>::deserialize(d)?.map(RawId::from))
}

/// One input line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InRecord<'a> {
    #[serde(borrow, default, deserialize_with = "raw_id")]
    pub(crate) id: Option<RawId<'a>>,
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
    #[serde(borrow, default, deserialize_with = "raw_id")]
    id: Option<RawId<'a>>,
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
    id: Option<RawId<'a>>,
    error: ErrorBody<'a>,
}

/// A line that could not be read or decided on.
pub(crate) struct LineError<'a> {
    pub(crate) line: usize,
    pub(crate) id: Option<RawId<'a>>,
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
/// hold. `1e400` is valid JSON, but most parsers refuse it as out of range; `"\uD800"` matches
/// JSON's grammar, but an escape of half a surrogate pair decodes to no character, and strict
/// parsers such as `serde_json` refuse the whole line. Echoing either would make the output line
/// unreadable, and its record lost to the reader.
fn id_problem(id: RawId<'_>) -> Option<&'static str> {
    let raw = id.get();
    match raw.as_bytes().first() {
        // A string with no escape is plain text (the line is valid UTF-8): nothing to decode.
        Some(b'"') if !raw.contains('\\') => None,
        Some(b'"') => match serde_json::from_str::<Cow<'_, str>>(raw) {
            Ok(_) => None,
            Err(_) => Some(
                "\"id\" holds a \\u escape of an unpaired surrogate (\\uD800-\\uDFFF); \
                 give the character itself or both halves of its pair",
            ),
        },
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
    // The common shape read directly; anything else (escapes, other keys, numbers where a
    // string is usual, odd spacing is fine) goes to serde, which also words the errors.
    let record = match plain(text) {
        Some(record) => record,
        None => general(text).map_err(|(id, code, message)| err(id, code, message))?,
    };
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

/// A line's record as `serde_json` reads it, or what to report: the id when it can be found,
/// the code and the message.
#[allow(clippy::type_complexity)]
pub(crate) fn general(
    text: &str,
) -> Result<InRecord<'_>, (Option<RawId<'_>>, &'static str, String)> {
    if let Some(kind) = not_an_object(text) {
        return Err((
            None,
            "input.invalid_json",
            format!(
                "the line is {kind}, not an object: each line is one message, {{\"text\": ...}}"
            ),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        let id = serde_json::from_str::<IdOnly<'_>>(text)
            .ok()
            .and_then(|i| i.id)
            .filter(|&id| id_problem(id).is_none());
        // A key written twice is placed on its opening quote, as in a snapshot.
        let message = smslint_core::snapshot::strip_position(&e.to_string());
        let message = if e.line() == 0 {
            message
        } else {
            let column = smslint_core::snapshot::value_column(text, 1, e.column(), &message);
            format!("{message} at column {column}")
        };
        let code = if e.is_data() {
            "input.invalid_field"
        } else {
            "input.invalid_json"
        };
        (id, code, message)
    })
}

/// What a line holds when it is valid JSON but not an object, worded for an error. serde reads
/// a struct from an array too, field by field in order, so `["m-1", "Your code is 1234"]` would
/// otherwise pass as a message with that id and text; a line that is a string, a number, a
/// boolean or null would be refused in words that name the reader's own types.
fn not_an_object(text: &str) -> Option<&'static str> {
    let kind = match text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .as_bytes()
        .first()?
    {
        b'[' => "an array",
        b'"' => "a string",
        b'-' | b'0'..=b'9' => "a number",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        // An object, or not JSON at all.
        _ => return None,
    };
    // Invalid JSON keeps serde's own error, which points at the fault.
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .is_ok()
        .then_some(kind)
}

/// The record of a line of the usual shape: an object of the known keys, each at most once,
/// whose strings hold no escape or control character, whose `id` is a string or an integer
/// and whose `extensionId` is a string; `None` for any other line, valid or not, which
/// [`general`] then reads. What it returns is what `serde_json` returns for the line (a test
/// and the fuzz target hold it to that); it reads a line in about a third of the instructions.
pub(crate) fn plain(text: &str) -> Option<InRecord<'_>> {
    let b = text.as_bytes();
    let mut record = InRecord {
        id: None,
        text: None,
        to: None,
        from: None,
        extension_id: None,
        mms: None,
    };
    let mut at = skip_space(b, 0);
    if b.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(b, at + 1);
    let mut seen = 0u8;
    loop {
        let (key, after) = plain_string(b, at)?;
        at = skip_space(b, after);
        if b.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(b, at + 1);
        let (bit, end) = match key {
            b"text" | b"to" | b"from" => {
                let (value, end) = plain_value(text, at)?;
                let (slot, bit) = match key {
                    b"text" => (&mut record.text, 1),
                    b"to" => (&mut record.to, 2),
                    _ => (&mut record.from, 4),
                };
                *slot = value.map(Cow::Borrowed);
                (bit, end)
            }
            b"id" => {
                let end = if b.get(at) == Some(&b'"') {
                    plain_string(b, at)?.1
                } else if b.get(at) == Some(&b'n') {
                    literal(b, at, b"null")?
                } else {
                    integer(b, at)?
                };
                // A plain string or an integer as checked above: valid JSON as it is.
                record.id = match text.get(at..end)? {
                    "null" => None,
                    raw => Some(RawId(raw)),
                };
                (8, end)
            }
            b"extensionId" => {
                let (value, end) = plain_value(text, at)?;
                record.extension_id = value.map(str::to_owned);
                (16, end)
            }
            b"mms" => {
                let (value, end) = match b.get(at) {
                    Some(b't') => (Some(true), literal(b, at, b"true")?),
                    Some(b'f') => (Some(false), literal(b, at, b"false")?),
                    _ => (None, literal(b, at, b"null")?),
                };
                record.mms = value;
                (32, end)
            }
            _ => return None,
        };
        // A key given twice is an error to serde.
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
        at = skip_space(b, end);
        match b.get(at) {
            Some(b',') => at = skip_space(b, at + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    // Nothing but white space after the object.
    (skip_space(b, at + 1) == b.len()).then_some(record)
}

/// The first byte from `at` that is not JSON white space.
fn skip_space(b: &[u8], mut at: usize) -> usize {
    while matches!(b.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The contents of the string at `at` and the index after it, when it holds no escape or
/// control character.
fn plain_string(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let rest = b.get(at + 1..)?;
    let len = special(rest)?;
    if rest.get(len) != Some(&b'"') {
        return None;
    }
    Some((rest.get(..len)?, at + len + 2))
}

/// The index of the first byte of `b` that a JSON string treats specially: a quote, a
/// backslash or a control character.
pub(crate) fn special(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Eight bytes a step: a byte equal to `c` is a zero byte of `v ^ c`, and subtracting one
    // from each byte sets the high bit of a zero byte; a borrow can only mark bytes after a
    // true one, so the lowest mark is exact. (A byte at a time took about 1,000 instructions a
    // message, more than `serde_json`, which reads strings this way.)
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut at = 0;
    while let Some(chunk) = b.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let below_space = v.wrapping_sub(ONES * 0x20) & !v;
        let marks = (below_space
            | zero(v ^ (ONES * u64::from(b'"')))
            | zero(v ^ (ONES * u64::from(b'\\'))))
            & HIGH;
        if marks != 0 {
            return Some(at + marks.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    b.get(at..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

/// A plain string or `null` at `at`, and the index after it.
fn plain_value(text: &str, at: usize) -> Option<(Option<&str>, usize)> {
    let b = text.as_bytes();
    if b.get(at) == Some(&b'n') {
        return Some((None, literal(b, at, b"null")?));
    }
    let (_, end) = plain_string(b, at)?;
    // The string's bytes lie between two ASCII quotes of a valid UTF-8 line: a `str`.
    Some((Some(text.get(at + 1..end - 1)?), end))
}

/// The index after `word` at `at`, when it is there and not followed by more of a value.
fn literal(b: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    let end = at + word.len();
    (b.get(at..end)? == word && !continues(b, end)).then_some(end)
}

/// The index after the JSON integer at `at` (`-`, then `0` or a digit 1-9 and more digits),
/// when it is not followed by more of a number.
fn integer(b: &[u8], at: usize) -> Option<usize> {
    let start = if b.get(at) == Some(&b'-') { at + 1 } else { at };
    let digits = b
        .get(start..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 || (digits > 1 && b.get(start) == Some(&b'0')) {
        return None;
    }
    let end = start + digits;
    (!continues(b, end)).then_some(end)
}

/// Whether the byte at `at` would continue a literal or a number (a fraction, an exponent,
/// letters), which the general reader must then judge.
fn continues(b: &[u8], at: usize) -> bool {
    b.get(at)
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-'))
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
    fn a_field_written_twice_is_placed_on_the_second() {
        // Two texts: a pipeline's JSON reader may send either, so neither is checked. serde_json
        // marks the second key's closing quote (column 44).
        let line = br#"{"id":"a","text":"Your order shipped","text":"FREE cash"}"#;
        let e = parse(1, Some(line), 1 << 20).err();
        assert_eq!(
            e.map(|e| (e.code, e.message)),
            Some((
                "input.invalid_field",
                "duplicate field `text` at column 39".to_owned()
            ))
        );
    }

    /// A record's fields, comparable: the id's raw text, each string and whether it borrows.
    type Fields<'a> = (
        Option<&'a str>,
        [Option<(&'a str, bool)>; 3],
        Option<String>,
        Option<bool>,
    );

    fn fields<'a>(r: &'a InRecord<'_>) -> Fields<'a> {
        let s =
            |c: &'a Option<Cow<'_, str>>| c.as_ref().map(|c| (&**c, matches!(c, Cow::Borrowed(_))));
        (
            r.id.map(RawId::get),
            [s(&r.text), s(&r.to), s(&r.from)],
            r.extension_id.clone(),
            r.mms,
        )
    }

    #[test]
    fn special_finds_the_first_quote_backslash_or_control_byte() {
        let plainly = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let bytes: Vec<u8> = (0..=255).collect();
        for len in 0..20 {
            for first in 0..=255u8 {
                for second in [b'a', b'"', b'\\', 0x1F, 0x20, 0x7F, 0x80, 0xFF] {
                    let mut b: Vec<u8> = bytes.iter().map(|&c| c | 0x40).take(len).collect();
                    if let Some(x) = b.get_mut(len / 2) {
                        *x = first;
                    }
                    if let Some(x) = b.get_mut(len * 3 / 4) {
                        *x = second;
                    }
                    assert_eq!(special(&b), plainly(&b), "{b:?}");
                }
            }
        }
    }

    #[test]
    fn usual_lines_are_read_directly_as_serde_reads_them() {
        for line in [
            r#"{"id":"m-1","text":"Your order shipped","to":"+16505550100"}"#,
            r#"{"id": 42, "text": "Café ☕ 🎉", "from": "+16501112345", "mms": false}"#,
            r#" { "text" : "a" , "extensionId" : "101" , "id" : null , "to" : null } "#,
            r#"{"text":"x","mms":true,"id":-7}"#,
        ] {
            let fast = plain(line).unwrap_or_else(|| panic!("not read directly: {line}"));
            let slow = general(line).unwrap_or_else(|e| panic!("{line}: {}", e.2));
            assert_eq!(fields(&fast), fields(&slow), "{line}");
        }
        // Left to serde: escapes, other keys, a repeated key, other numbers, a trailing comma.
        for line in [
            r#"{"text":"a \"quote\""}"#,
            r#"{"text":"a","extra":1}"#,
            r#"{"text":"a","text":"b"}"#,
            r#"{"text":"a","id":1.5}"#,
            r#"{"text":"a","id":007}"#,
            r#"{"text":"a",}"#,
            r#"{"text":"a"} x"#,
            r#"{"text":"a","extensionId":101}"#,
            "{\"text\":\"a raw\ttab\"}",
        ] {
            assert!(plain(line).is_none(), "{line}");
        }
    }

    /// Members of a record object: mostly known keys with values of their kind, sometimes
    /// not, so that both readers see lines of the usual shape and lines just off it.
    fn member() -> impl proptest::strategy::Strategy<Value = (String, String, String)> {
        use proptest::prelude::*;
        let key = prop_oneof![
            8 => "(id|text|to|from|extensionId|mms)",
            1 => "(other|te\\\\u0078t|Text)",
        ];
        let value = prop_oneof![
            6 => "\"[a-zé☕ +0-9]{0,6}\"",
            1 => "\"[a-z\\\\\u{1}\"]{0,3}\"",
            2 => "(-?[0-9]{1,3}|null|true|false)",
            1 => "([0-9]\\.5|1e3|nul|truex|\\{\\}|\\[\\]|-|\"x)",
        ];
        (key, value, "[ \t\n]{0,2}")
    }

    proptest::proptest! {
        // About one line in eight is of the usual shape: enough cases for a few hundred.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]
        #[test]
        fn what_is_read_directly_is_what_serde_reads(
            members in proptest::collection::vec(member(), 0..5),
            separator in proptest::prop_oneof![8 => ",", 1 => "(, |;|,,)"],
            tail in proptest::prop_oneof![8 => "", 1 => "(\\}| |x)"],
        ) {
            let body: Vec<String> = members
                .iter()
                .map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}{ws}"))
                .collect();
            let line = format!("{{{}}}{tail}", body.join(&separator));
            if let Some(fast) = plain(&line) {
                let slow = general(&line);
                proptest::prop_assert!(slow.is_ok(), "{line}: {:?}", slow.err().map(|e| e.2));
                if let Ok(slow) = slow {
                    proptest::prop_assert_eq!(fields(&fast), fields(&slow), "{}", line);
                }
            }
        }
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
