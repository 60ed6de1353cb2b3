//! End-to-end tests of the whole-number checks: features, sender rights, consents, text limits,
//! the volume tier, picking a number from a list, and the `numbers` table.

#![forbid(unsafe_code)]

use serde_json::Value;
use smslint_tests::{run, Run};

const SHIPPED: &str =
    "Your order #48213 has shipped! Track it at https://shop.example.com/track/48213";
const ACCOUNT: &str = "tests/fixtures/snapshots/account.json";
const SEED: &str = "tests/fixtures/snapshots/seed.json";
const USER: &str = "tests/fixtures/snapshots/user-number.json";
const CONSENTS: &str = "tests/fixtures/snapshots/consents.json";

fn check(config: &str, text: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "check", "--config", config, "--text", text, "--format", "json",
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"));
    (r.code, v)
}

fn codes(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn rejects_with(config: &str, text: &str, extra: &[&str], expected: &[&str]) -> Value {
    let (code, v) = check(config, text, extra);
    assert_eq!(code, 1, "{extra:?}: {v}");
    assert_eq!(codes(&v), expected, "{extra:?}: {v}");
    v
}

fn approves(config: &str, text: &str, extra: &[&str]) -> Value {
    let (code, v) = check(config, text, extra);
    assert_eq!(code, 0, "{extra:?}: {v}");
    v
}

fn message(v: &Value, i: usize) -> String {
    v["reasons"][i]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn picks_the_number_with_from() {
    approves(ACCOUNT, SHIPPED, &["--from", "+16501234567"]);
    let r = run(&["check", "--config", ACCOUNT, "--text", SHIPPED]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("holds 9 numbers (+16501234567, +14082223333"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--from"), "{}", r.stderr);
    let r = run(&[
        "check",
        "--config",
        ACCOUNT,
        "--text",
        SHIPPED,
        "--from",
        "+19995550000",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("+19995550000 is not in the snapshot"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "check",
        "--config",
        ACCOUNT,
        "--text",
        SHIPPED,
        "--from",
        "650-123-4567",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not an E.164 number"), "{}", r.stderr);
}

#[test]
fn feature_sms_not_enabled() {
    let v = rejects_with(
        ACCOUNT,
        SHIPPED,
        &["--from", "+14155550177"],
        &[
            "number.not_sms_enabled",
            "feature.sms_not_enabled",
            "feature.sms_not_enabled",
        ],
    );
    assert!(message(&v, 2).contains("FaxOnly"));
    let v = rejects_with(
        ACCOUNT,
        "Your statement is ready. Balance due: $20.",
        &["--from", "+17025550188"],
        &["feature.sms_not_enabled"],
    );
    assert!(message(&v, 0).contains("A2PSmsSender"));
    let v = rejects_with(
        ACCOUNT,
        "Thanks for contacting support, your ticket #4412 is open.",
        &["--from", "+15035550155"],
        &["feature.sms_not_enabled"],
    );
    assert!(message(&v, 0).contains("\"PortedIn\""));
}

#[test]
fn feature_mms_not_enabled() {
    approves(ACCOUNT, SHIPPED, &["--from", "+16501234567", "--mms"]);
    let v = rejects_with(USER, SHIPPED, &["--mms"], &["feature.mms_not_enabled"]);
    assert!(message(&v, 0).contains("lacks MmsSender"));
    let v = rejects_with(
        ACCOUNT,
        SHIPPED,
        &["--from", "+18885550199", "--mms"],
        &["feature.mms_not_enabled"],
    );
    assert!(message(&v, 0).contains("toll-free numbers do not send MMS"));
    let v = rejects_with(SEED, SHIPPED, &["--mms"], &["feature.mms_not_enabled"]);
    assert!(message(&v, 0).contains("unknown"));
}

#[test]
fn feature_international_not_enabled() {
    approves(USER, SHIPPED, &["--to", "+442071838750"]);
    approves(
        ACCOUNT,
        SHIPPED,
        &["--from", "+16501234567", "--to", "+14155550100"],
    );
    let v = rejects_with(
        ACCOUNT,
        SHIPPED,
        &["--from", "+16501234567", "--to", "+442071838750"],
        &["feature.international_not_enabled"],
    );
    assert!(message(&v, 0).contains("lacks InternationalSmsSender"));
    let v = rejects_with(
        ACCOUNT,
        SHIPPED,
        &["--from", "+18885550199", "--to", "+33142685300"],
        &["feature.international_not_enabled"],
    );
    assert!(message(&v, 0).contains("toll-free numbers never send internationally"));
    let v = rejects_with(
        SEED,
        SHIPPED,
        &["--to", "+33142685300"],
        &["feature.international_not_enabled"],
    );
    assert!(message(&v, 0).contains("unknown"));
}

#[test]
fn toll_free_numbers_need_no_campaign() {
    approves(ACCOUNT, SHIPPED, &["--from", "+18885550199"]);
}

#[test]
fn sender_rights_by_owner() {
    // A user's number: only that user.
    approves(USER, SHIPPED, &["--extension", "62959250001"]);
    let v = rejects_with(
        USER,
        SHIPPED,
        &["--extension", "62959250002"],
        &["sender.not_assigned"],
    );
    assert!(
        message(&v, 0).contains("belongs to User extension 62959250001"),
        "{v}"
    );
    // A call queue: only its assigned SMS recipient.
    let queue = ["--from", "+14082223333"];
    approves(
        ACCOUNT,
        "Thanks for contacting support, ticket #8812 is open.",
        &[queue[0], queue[1], "--extension", "62959250002"],
    );
    rejects_with(
        ACCOUNT,
        "Thanks for contacting support, ticket #8812 is open.",
        &[queue[0], queue[1], "--extension", "62959250010"],
        &["sender.not_assigned"],
    );
    // A site with message threads: any of its recipients.
    for ext in ["62959250002", "62959250003"] {
        approves(
            ACCOUNT,
            SHIPPED,
            &["--from", "+12065550123", "--extension", ext],
        );
    }
    // The main company number: the assigned recipient only.
    let billing = "Your statement is ready. Payment due 6/1.";
    approves(
        ACCOUNT,
        billing,
        &["--from", "+16505550100", "--extension", "62959250000"],
    );
    rejects_with(
        ACCOUNT,
        billing,
        &["--from", "+16505550100", "--extension", "62959250001"],
        &["sender.not_assigned"],
    );
    // An IVR without an smsRecipients list: cannot tell, so reject.
    let (code, v) = check(
        ACCOUNT,
        SHIPPED,
        &["--from", "+13125550404", "--extension", "62959250001"],
    );
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"sender.not_assigned".to_owned()), "{v}");
    assert!(v.to_string().contains("cannot tell"), "{v}");
    // A bare sms-configuration cannot tell either.
    let v = rejects_with(
        SEED,
        SHIPPED,
        &["--extension", "62959250001"],
        &["sender.not_assigned"],
    );
    assert!(
        message(&v, 0).contains("no phoneNumberInfo.extension"),
        "{v}"
    );
}

#[test]
fn recipient_opted_out() {
    let with = |to: &'static str| ["--to", to, "--consents", CONSENTS];
    let v = rejects_with(
        SEED,
        SHIPPED,
        &with("+14155550100"),
        &["recipient.opted_out"],
    );
    assert_eq!(
        message(&v, 0),
        "+14155550100 opted out of messages from +16501112345 at 2026-03-01T10:00:00Z (consent record 1)"
    );
    // Opted back in later (a different time zone, still later).
    approves(SEED, SHIPPED, &with("+14155550101"));
    // "*" and Account coverage apply to every sender.
    let v = rejects_with(
        SEED,
        SHIPPED,
        &with("+14155550102"),
        &["recipient.opted_out"],
    );
    assert!(message(&v, 0).contains("every number of the account"));
    rejects_with(
        SEED,
        SHIPPED,
        &with("+14155550103"),
        &["recipient.opted_out"],
    );
    approves(SEED, SHIPPED, &with("+14155550199"));
}

#[test]
fn opt_in_required_campaigns() {
    let config = "tests/fixtures/snapshots/optin-required.json";
    let text = "Thanks for contacting support, ticket #8812 is open.";
    approves(
        config,
        text,
        &["--to", "+14155550104", "--consents", CONSENTS],
    );
    let v = rejects_with(
        config,
        text,
        &["--to", "+14155550199", "--consents", CONSENTS],
        &["recipient.opted_out"],
    );
    assert!(message(&v, 0).contains("requires opt-in"));
    let v = rejects_with(
        config,
        text,
        &["--to", "+14155550104"],
        &["recipient.consent_unknown"],
    );
    assert!(message(&v, 0).contains("no consent records"));
    rejects_with(config, text, &[], &["recipient.consent_unknown"]);
    // --consents without --to is a usage error.
    let r = run(&[
        "check",
        "--config",
        config,
        "--text",
        text,
        "--consents",
        CONSENTS,
    ]);
    assert_eq!(r.code, 2);
}

#[test]
fn message_empty_and_too_long() {
    rejects_with(SEED, "", &[], &["message.empty", "content.unclassified"]);
    // Exactly 1000 UTF-16 units pass; 1010 do not (an emoji counts as 2).
    approves(SEED, &format!("{SHIPPED} {}", "📦".repeat(460)), &[]);
    let long = format!("{SHIPPED} {}", "📦".repeat(465));
    let (code, v) = check(SEED, &long, &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["message.too_long", "rule.segments.many"]);
    assert!(message(&v, 0).contains("1010 UTF-16 code units"), "{v}");
    assert_eq!(v["encoding"], "UCS-2");
}

#[test]
fn volume_daily_cap() {
    approves(SEED, SHIPPED, &["--sent-today", "5999"]);
    let v = rejects_with(
        SEED,
        SHIPPED,
        &["--sent-today", "6000"],
        &["volume.daily_cap_exceeded"],
    );
    assert!(message(&v, 0).contains("LowVolume"));
    rejects_with(
        SEED,
        SHIPPED,
        &["--sent-today", "100", "--daily-cap", "100"],
        &["volume.daily_cap_exceeded"],
    );
    approves(
        SEED,
        SHIPPED,
        &["--sent-today", "100", "--daily-cap", "101"],
    );
    // StandardVolume has no cap here.
    approves(
        ACCOUNT,
        "Thanks for contacting support, ticket #8812 is open.",
        &["--from", "+14082223333", "--sent-today", "50000"],
    );
}

#[test]
fn every_check_reports_encoding_and_segments() {
    let v = approves(SEED, SHIPPED, &[]);
    assert_eq!(v["encoding"], "GSM-7");
    assert_eq!(v["segments"], 1);
    let long = format!("{SHIPPED} {}", "a".repeat(100));
    let v = approves(SEED, &long, &[]);
    assert_eq!(v["segments"], 2);
    let v = approves(SEED, &format!("{SHIPPED} 📦"), &[]);
    assert_eq!(
        (v["encoding"].as_str(), v["segments"].as_u64()),
        (Some("UCS-2"), Some(2))
    );
}

fn numbers(args: &[&str]) -> Run {
    let mut all = vec!["numbers"];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn numbers_table() {
    let r = numbers(&[ACCOUNT, SEED]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!("numbers_table", r.stdout);
    let r = numbers(&[ACCOUNT, "--text", SHIPPED]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!("numbers_table_with_text", r.stdout);
}

#[test]
fn numbers_json_puts_eligible_numbers_first() {
    let r = numbers(&[ACCOUNT, "--text", SHIPPED, "--format", "json"]);
    assert_eq!(r.code, 0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let rows = v.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 9);
    let eligible: Vec<bool> = rows.iter().map(|r| r["eligible"] == true).collect();
    let first_false = eligible.iter().position(|e| !e).unwrap_or(eligible.len());
    assert!(eligible[first_false..].iter().all(|e| !e), "{eligible:?}");
    assert_eq!(rows[0]["phoneNumber"], "+16501234567");
    assert_eq!(rows[0]["useCases"][0], "ConversationsExternal");
    assert_eq!(rows[0]["features"][1], "SmsSender");
    for key in [
        "phoneNumber",
        "campaignStatus",
        "registrationTier",
        "useCases",
        "features",
        "eligible",
        "reasons",
    ] {
        assert!(rows[0].get(key).is_some(), "missing {key}");
    }
    // No number may send text that fits none of their campaigns: exit 1.
    let r = numbers(&[SEED, "--text", "40% off all jackets today only"]);
    assert_eq!(r.code, 1);
}

#[test]
fn control_characters_from_a_snapshot_do_not_reach_the_terminal() {
    // A status or number holding an escape sequence or a line break, printed as it is, could
    // recolour the terminal or add a line to the table.
    let snapshot = r#"{"phoneNumber": "+16501112345\u001b[2J", "smsCampaignInfo": {"status": "Confirmed\u001b[31m\r\nFAKE", "registrationTier": "LowVolume\tX", "useCases": ["CustomerCare"]}, "smsBrandInfo": {"status": "Verified"}}"#;
    let text = "Your order has shipped.";
    for args in [
        vec!["numbers", "-", "--color", "never"],
        vec!["numbers", "-", "--text", text, "--color", "never"],
        vec!["check", "--config", "-", "--text", text, "--color", "never"],
    ] {
        let r = smslint_tests::run_with_stdin(&args, snapshot);
        assert!(
            !r.stdout.contains(['\u{1b}', '\r', '\t']),
            "{args:?}: {:?}",
            r.stdout
        );
        assert!(
            r.stdout.contains("+16501112345\u{241b}[2J"),
            "{args:?}: {}",
            r.stdout
        );
    }
}
