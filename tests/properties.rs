//! Properties that hold for any input: classification and content rules never panic, their
//! spans lie on character boundaries of the original text, and results are deterministic; a
//! batch answers every line, once, in order, whatever the lines hold.

#![forbid(unsafe_code)]

use std::sync::OnceLock;

use proptest::prelude::*;
use smslint_core::Policy;
use smslint_tests::{check_classification, run_with_stdin_bytes};

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        smslint_policy::load_default()
            .unwrap_or_else(|e| panic!("{e}"))
            .policy
    })
}

/// Text built from pieces that exercise the normaliser and the matchers: keywords, leetspeak,
/// homoglyphs, spaced letters, zero-width and combining characters, emoji, wide forms, links,
/// placeholders, amounts, and any character at all.
fn message() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Flash SALE".to_owned()),
        Just("40% off".to_owned()),
        Just("Reply STOP to opt out".to_owned()),
        Just("your code is 482913".to_owned()),
        Just("fr33 m0ney".to_owned()),
        Just("F R E E".to_owned()),
        Just("ｆｌａｓｈ ｓａｌｅ".to_owned()),
        Just("раураl".to_owned()),
        Just("ﬁnal ﬂash".to_owned()),
        Just("e\u{301}\u{301}".to_owned()),
        Just("\u{200b}\u{200d}\u{feff}".to_owned()),
        Just("👩‍👩‍👧 🇺🇸".to_owned()),
        Just("bit.ly/x https://a.example.com/t?x=1".to_owned()),
        Just("{{first_name}} ${x} %s [FirstName] <name>".to_owned()),
        Just("$1,234.56".to_owned()),
        Just("\r\n\t ".to_owned()),
        Just("İıẞß".to_owned()),
        any::<char>().prop_map(String::from),
        "[\\PC]{0,12}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn classification_spans_are_slices_of_the_original(text in message()) {
        check_classification(policy(), &text).map_err(TestCaseError::fail)?;
    }
}

/// One batch line: valid, invalid JSON, invalid UTF-8, empty, or over the line limit.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        message().prop_map(|t| serde_json::json!({"id": "x", "text": t})
            .to_string()
            .into_bytes()),
        Just(b"{\"text\": 5}".to_vec()),
        Just(b"{not json".to_vec()),
        Just(b"[]".to_vec()),
        Just(Vec::new()),
        Just(b"{\"text\":\"caf\xc3\"}".to_vec()),
        Just(b"\xff\xfe\x00".to_vec()),
        Just(b"   ".to_vec()),
        (300usize..2000).prop_map(|n| {
            let mut v = b"{\"text\":\"".to_vec();
            v.extend(std::iter::repeat_n(b'a', n));
            v.extend(b"\"}");
            v
        }),
        proptest::collection::vec(
            any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
            0..40
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_batch_answers_every_line_once_in_order(lines in proptest::collection::vec(line(), 0..30)) {
        let mut input = Vec::new();
        for l in &lines {
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let r = run_with_stdin_bytes(
            &["classify", "--batch", "-", "--max-line-bytes", "256", "--jobs", "2"],
            &input,
        );
        prop_assert!(r.code == 0 || r.code == 2, "{:?}", r);
        let numbers: Vec<u64> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_default()["line"].as_u64().unwrap_or(0))
            .collect();
        let expected: Vec<u64> = (1..=lines.len() as u64).collect();
        prop_assert_eq!(numbers, expected, "{}", r.stdout);
    }
}
