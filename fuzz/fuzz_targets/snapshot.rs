//! Snapshot parsing (bare configurations, number snapshots, lists) and the decisions made on
//! whatever parses: no panic, and a verdict always has a reason when it rejects.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use smslint_core::{
    assess_number, decide, parse_snapshot, select_profile, Message, NormalizedText, Outcome,
    SendContext,
};

mod common;

const TEXTS: [&str; 2] = [
    "Your order #4821 has shipped. Track it at https://example.com/t/4821",
    "FLASH SALE 40% off everything today only! Reply STOP to opt out",
];

fuzz_target!(|json: &str| {
    let Ok(profiles) = parse_snapshot(json) else {
        return;
    };
    let policy = common::default_policy();
    for profile in &profiles {
        let number = assess_number(policy, profile);
        assert!(number.outcome == Outcome::Approve || !number.reasons.is_empty());
        let _ = profile.unknown_values();
        let _ = profile.is_toll_free();
        for text in TEXTS {
            let normalized = NormalizedText::new(text);
            let classification = policy.classify(&normalized);
            let message = Message {
                text,
                to: Some("+15551230000"),
                extension_id: Some("1"),
                mms: false,
                utf16_units: None,
            };
            let context = SendContext {
                sent_today: Some(5_999),
                ..SendContext::default()
            };
            let verdict = decide(policy, &classification, &[], profile, &message, &context);
            assert!(verdict.outcome == Outcome::Approve || !verdict.reasons.is_empty());
        }
    }
    let _ = select_profile(&profiles, None);
    if let Some(number) = profiles.first().and_then(|p| p.phone_number()) {
        assert!(select_profile(&profiles, Some(number)).is_ok() || profiles.len() > 1);
    }
});
