//! Content rules end to end: `rule.<id>` reasons in `check`, brand names, severity overrides
//! through `extends`, and rules lifted by a campaign's registration.

#![forbid(unsafe_code)]

use serde_json::Value;
use smslint_tests::run;

const SEED: &str = "tests/fixtures/snapshots/seed.json";
const MARKETING: &str = "tests/fixtures/snapshots/marketing.json";
const LENIENT: &str = "tests/fixtures/policies/extends/lenient.yaml";

fn check(config: &str, text: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "check", "--config", config, "--text", text, "--format", "json",
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"));
    (r.code, v)
}

fn reasons(v: &Value) -> Vec<(String, String)> {
    v["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["code"].as_str().unwrap_or_default().to_owned(),
                r["severity"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pair(code: &str, severity: &str) -> (String, String) {
    (code.to_owned(), severity.to_owned())
}

#[test]
fn a_public_shortener_rejects_with_its_rule_code_and_span() {
    let text = "Your order #48213 has shipped! Track it at https://bit.ly/3xYz";
    let (code, v) = check(SEED, text, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(reasons(&v), [pair("rule.link.public_shortener", "error")]);
    let span = &v["reasons"][0]["span"];
    let (start, end) = (
        span["start"].as_u64().unwrap_or(0),
        span["end"].as_u64().unwrap_or(0),
    );
    assert_eq!(text.get(start as usize..end as usize), Some("bit.ly"));
}

#[test]
fn marketing_without_opt_out_is_rejected_even_when_registered() {
    let (code, v) = check(
        MARKETING,
        "Flash sale: 30% off all boots this weekend only!",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        reasons(&v),
        [pair("rule.marketing.opt_out_missing", "error")]
    );
    let (code, _) = check(
        MARKETING,
        "Flash sale: 30% off all boots this weekend only! Reply STOP to opt out.",
        &[],
    );
    assert_eq!(code, 0);
}

#[test]
fn brand_names_make_sender_identification_checkable() {
    let text = "Your order #48213 has shipped!";
    let (code, v) = check(SEED, text, &["--brand", "Acme"]);
    assert_eq!(code, 0, "a warning does not reject: {v}");
    assert_eq!(
        reasons(&v),
        [pair("rule.sender.identification_missing", "warning")]
    );
    let (_, v) = check(
        SEED,
        "Acme: your order #48213 has shipped!",
        &["--brand", "Acme"],
    );
    assert_eq!(reasons(&v), []);
    // Without names, the rule cannot tell and stays silent.
    let (_, v) = check(SEED, text, &[]);
    assert_eq!(reasons(&v), []);
}

#[test]
fn evasions_do_not_hide_prohibited_content() {
    let (code, v) = check(
        SEED,
        "Your order shipped. Need f.a.s.t c4sh? P4yday l0ans, no credit check",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        reasons(&v).contains(&pair("rule.prohibited.high_risk_lending", "error")),
        "{v}"
    );
}

#[test]
fn an_extending_policy_changes_rule_severities() {
    let ammo = "Ammo sale! 9mm boxes $14.99 this weekend only. Reply STOP to opt out.";
    let (code, v) = check(MARKETING, ammo, &[]);
    assert_eq!(code, 1);
    assert_eq!(reasons(&v), [pair("rule.prohibited.firearms", "error")]);
    let (code, v) = check(MARKETING, ammo, &["--policy", LENIENT]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(reasons(&v), [pair("rule.prohibited.firearms", "warning")]);
    // The narrower key wins: phishing stays an error.
    let (code, v) = check(
        MARKETING,
        "Your account is locked. Verify at http://secure-login.xyz now",
        &["--policy", LENIENT],
    );
    assert_eq!(code, 1);
    assert!(
        reasons(&v).contains(&pair("rule.prohibited.phishing", "error")),
        "{v}"
    );
    // `off` turns a rule off.
    let (_, v) = check(
        SEED,
        "Your order #48213 has shipped! Track it at https://bit.ly/3xYz",
        &["--policy", LENIENT],
    );
    assert_eq!(reasons(&v), []);
}

#[test]
fn a_registration_lifts_a_rule() {
    let text = "Your order #48213 has shipped! Promo codes inside the box.";
    let (_, v) = check(SEED, text, &["--policy", LENIENT]);
    assert!(
        reasons(&v).contains(&pair("rule.custom.promo_word", "error")),
        "{v}"
    );
    let (_, v) = check(
        MARKETING,
        "Thanks for contacting support! Promo codes are in your ticket #4411.",
        &["--policy", LENIENT],
    );
    assert!(
        !reasons(&v)
            .iter()
            .any(|(c, _)| c == "rule.custom.promo_word"),
        "{v}"
    );
}

#[test]
fn readme_documents_every_default_rule() {
    let readme =
        std::fs::read_to_string(smslint_tests::root().join("README.md")).unwrap_or_default();
    let loaded = smslint_policy::load_default().unwrap_or_else(|e| panic!("{e}"));
    for rule in loaded.policy.content_rules() {
        assert!(
            readme.contains(&format!("`rule.{}`", rule.id)),
            "README does not list rule.{}",
            rule.id
        );
    }
}
