//! End-to-end tests of the `smslint` binary: verdicts, reason codes, exit codes, inputs,
//! and the rendered output people read.

#![forbid(unsafe_code)]

use serde_json::Value;
use smslint_tests::{run, run_with_stdin, Run};

const SHIPPED: &str =
    "Your order #48213 has shipped! Track your package at https://shop.example.com/track/48213";

fn snapshot(name: &str) -> String {
    format!("tests/fixtures/snapshots/{name}.json")
}

/// `check --format json` on a fixture snapshot; returns the exit code and the parsed object.
fn check(snap: &str, text: &str, extra: &[&str]) -> (i32, Value) {
    let config = snapshot(snap);
    let mut args = vec![
        "check", "--config", &config, "--text", text, "--format", "json",
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    let value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"));
    (r.code, value)
}

fn codes(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| r["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn seed_configuration_approves_a_shipping_notice() {
    let (code, v) = check("seed", SHIPPED, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verdict"], "approve");
    assert_eq!(v["phoneNumber"], "+16501112345");
    assert_eq!(v["top"], "DeliveryNotification");
    assert_eq!(v["categories"][0]["useCase"], "DeliveryNotification");
    assert_eq!(v["reasons"], serde_json::json!([]));
}

#[test]
fn submitted_campaign_is_rejected() {
    let (code, v) = check("submitted", SHIPPED, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "reject");
    assert_eq!(codes(&v), ["campaign.not_confirmed"]);
    assert!(v["reasons"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("\"Submitted\"")));
}

#[test]
fn a_sale_is_rejected_on_the_seed_campaign() {
    let (code, v) = check("seed", "40% off all jackets today only", &[]);
    assert_eq!(code, 1);
    assert_eq!(v["top"], "Marketing");
    assert_eq!(
        codes(&v),
        [
            "content.use_case_not_registered",
            "rule.marketing.opt_out_missing"
        ]
    );
    assert_eq!(
        v["reasons"][0]["message"],
        "Marketing content, but the campaign registers CustomerCare, AccountNotification, \
         DeliveryNotification"
    );
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap_or_default());
}

#[test]
fn a_one_time_code_is_rejected_on_the_seed_campaign() {
    let (code, v) = check("seed", "Your verification code is 482913", &[]);
    assert_eq!(code, 1);
    assert_eq!(v["top"], "MachineToMachine");
    assert_eq!(codes(&v), ["content.use_case_not_registered"]);
}

#[test]
fn a_number_without_campaign_is_not_sms_enabled() {
    let (code, v) = check("unlinked", SHIPPED, &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["number.not_sms_enabled"]);
    assert_eq!(v["phoneNumber"], "+16501119999");
}

#[test]
fn an_unverified_brand_is_rejected() {
    let (code, v) = check("brand-unverified", SHIPPED, &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["brand.not_verified"]);
}

#[test]
fn reported_campaign_and_brand_errors_reject() {
    let (code, v) = check("with-errors", SHIPPED, &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["campaign.has_errors", "brand.has_errors"]);
    assert!(v["reasons"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("TCR-4012")));
}

#[test]
fn unclassified_text_is_rejected_unless_unknown_is_registered() {
    let text = "hey how are you";
    let (code, v) = check("seed", text, &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["content.unclassified"]);
    assert_eq!(v["top"], "Unknown");

    let (code, v) = check("registers-unknown", text, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        codes(&v),
        ["snapshot.unknown_value", "content.unclassified"]
    );
    assert_eq!(v["reasons"][0]["severity"], "warning");
    assert_eq!(v["reasons"][1]["severity"], "info");
}

#[test]
fn registered_marketing_and_mixed_coverage() {
    let sale = "Flash sale: 30% off all boots this weekend only! Reply STOP to opt out.";
    let (code, v) = check("marketing", sale, &[]);
    assert_eq!(code, 0, "{v}");
    let (code, _) = check("mixed", SHIPPED, &[]);
    assert_eq!(code, 0);
    let (code, v) = check("mixed", sale, &[]);
    assert_eq!(code, 1);
    assert!(v["reasons"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("Mixed (covering CustomerCare")));
}

#[test]
fn a_policy_can_lower_unclassified_to_a_warning() {
    let (code, v) = check(
        "seed",
        "ok see you at 5",
        &["--policy", "tests/fixtures/policies/minimal.json"],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["reasons"][0]["severity"], "warning");
}

#[test]
fn message_text_from_a_file_and_from_stdin() {
    let config = snapshot("seed");
    let r = run_with_stdin(
        &[
            "check", "--config", &config, "--file", "-", "--format", "json",
        ],
        &format!("{SHIPPED}\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(v["verdict"], "approve");
}

#[test]
fn a_policy_from_stdin_is_sniffed() {
    let policy = std::fs::read_to_string(smslint_tests::fixture("policies/minimal.json"))
        .unwrap_or_default();
    let r = run_with_stdin(
        &[
            "classify",
            "--text",
            "it shipped",
            "--policy",
            "-",
            "--format",
            "json",
        ],
        &policy,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("{\"top\":\"DeliveryNotification\""),
        "{}",
        r.stdout
    );
}

#[test]
fn a_snapshot_with_a_wrong_type_is_an_input_error_naming_the_field() {
    let r = run(&[
        "check",
        "--config",
        &snapshot("wrong-type"),
        "--text",
        SHIPPED,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("wrong-type.json"), "{}", r.stderr);
    assert!(r.stderr.contains("line 5"), "{}", r.stderr);
    assert!(
        r.stderr.contains("smsCampaignInfo.useCases"),
        "{}",
        r.stderr
    );
}

#[test]
fn unreadable_inputs_never_approve() {
    for args in [
        vec![
            "check",
            "--config",
            "tests/fixtures/snapshots/truncated.json",
            "--text",
            SHIPPED,
        ],
        vec![
            "check",
            "--config",
            "tests/fixtures/snapshots/absent.json",
            "--text",
            SHIPPED,
        ],
        vec![
            "check",
            "--config",
            "tests/fixtures/snapshots/seed.json",
            "--text",
            SHIPPED,
            "--policy",
            "tests/fixtures/policies/invalid/bad-regex.yaml",
        ],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
        assert!(r.stderr.starts_with("error: "), "{args:?}: {r:?}");
    }
}

#[test]
fn a_broken_policy_names_file_line_and_column() {
    let r = run(&[
        "classify",
        "--text",
        "x",
        "--policy",
        "tests/fixtures/policies/invalid/unknown-use-case.yaml",
    ]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let r = run(&["check", "--text", "hello"]);
    assert_eq!(r.code, 2);
    let r = run(&["classify", "--text", "a", "--file", "b"]);
    assert_eq!(r.code, 2);
    let r = run(&["frobnicate"]);
    assert_eq!(r.code, 2);
}

#[test]
fn classify_json_carries_evidence_with_original_byte_spans() {
    let text = "Café Lumière: ＦＬＡＳＨ ＳＡＬＥ, 20% off today only";
    let r = run(&["classify", "--text", text, "--format", "json"]);
    assert_eq!(r.code, 0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(v["top"], "Marketing");
    for e in v["categories"][0]["evidence"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (start, end) = (
            usize::try_from(e["start"].as_u64().unwrap_or(0)).unwrap_or(0),
            usize::try_from(e["end"].as_u64().unwrap_or(0)).unwrap_or(0),
        );
        assert_eq!(text.get(start..end), e["match"].as_str(), "{e}");
    }
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn human_output_of_a_rejection() {
    let r = run(&[
        "check",
        "--config",
        &snapshot("seed"),
        "--text",
        "Last chance!\n40% off all jackets today only",
    ]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn human_output_of_a_classification() {
    let r = run(&[
        "classify",
        "--text",
        "Your verification code is 482913. Did you use card ending 4412?",
    ]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let args = ["classify", "--text", "40% off today only"];
    let plain = run(&args);
    assert!(!plain.stdout.contains('\x1b'));
    let mut forced = args.to_vec();
    forced.extend(["--color", "always"]);
    let coloured = run(&forced);
    assert!(coloured.stdout.contains("\x1b["));
}

fn help(args: &[&str]) -> Run {
    let r = run(args);
    assert_eq!(r.code, 0, "{r:?}");
    r
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&["--help"]).stdout);
    insta::assert_snapshot!("help_check", help(&["check", "--help"]).stdout);
    insta::assert_snapshot!("help_classify", help(&["classify", "--help"]).stdout);
}

#[test]
fn a_byte_order_mark_opening_a_file_or_stream_is_not_read_as_content() {
    // Notepad and PowerShell open UTF-8 files with one; it is neither JSON nor YAML nor text.
    let dir = std::env::temp_dir().join(format!("smslint-bom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let marked = |name: &str, content: &[u8]| {
        let path = dir.join(name);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(content);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        path.display().to_string()
    };
    let seed = std::fs::read(smslint_tests::root().join(snapshot("seed")))
        .unwrap_or_else(|e| panic!("{e}"));
    let config = marked("seed.json", &seed);
    let policy = marked("policy.yaml", b"version: 1\nextends: builtin:default\n");
    let text = marked("message.txt", SHIPPED.as_bytes());
    let r = run(&[
        "check", "--config", &config, "--policy", &policy, "--file", &text, "--format", "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    assert_eq!(v["top"], "DeliveryNotification");
    assert_eq!(v["segments"], 1);
    // The text starts after the mark: the first evidence begins at byte 0 of it.
    let r = run(&["classify", "--file", &text, "--format", "json"]);
    assert!(r.stdout.contains("\"start\":0,"), "{r:?}");
    // In a batch, it may open the stream only.
    let line = format!("{{\"text\":{SHIPPED:?}}}\n");
    let batch = marked("batch.jsonl", format!("{line}\u{FEFF}{line}").as_bytes());
    let r = run(&[
        "check", "--config", &config, "--batch", &batch, "--format", "json", "--jobs", "1",
    ]);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{r:?}");
    assert_eq!(lines[0]["verdict"], "approve", "{r:?}");
    assert_eq!(lines[1]["error"]["code"], "input.invalid_json", "{r:?}");
    assert_eq!(r.code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_cut_short_is_placed_at_a_column_counted_from_1() {
    // serde_json places the end of a text that ends with a newline at column 0 of the next
    // line; editors and annotations count columns from 1.
    let r = run(&[
        "check",
        "--config",
        "tests/fixtures/snapshots/truncated.json",
        "--text",
        SHIPPED,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("line 3, column 1: EOF"), "{r:?}");
    let dir = std::env::temp_dir().join(format!("smslint-eof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let policy = dir.join("cut.json");
    std::fs::write(
        &policy,
        "{\"version\": 1,\n  \"extends\": \"builtin:base\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let templates = dir.join("cut.jsonl");
    std::fs::write(&templates, "{\"id\": \"a\", \"text\": \"x\"}\n[\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = |p: &std::path::Path| p.display().to_string();
    let r = run(&["policy", "validate", &shown(&policy)]);
    assert!(r.stdout.contains("cut.json:3:1"), "{r:?}");
    let r = run(&["lint", &shown(&templates)]);
    assert!(
        r.stderr
            .contains("cut.jsonl:2:1: EOF while parsing a list\n"),
        "{r:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_inputs_from_stdin_are_refused() {
    // The first would read it all and the second nothing: a batch after a snapshot came out
    // empty, and exit 0 said every message was approved.
    let seed = std::fs::read_to_string(smslint_tests::root().join(snapshot("seed")))
        .unwrap_or_else(|e| panic!("{e}"));
    for args in [
        vec!["check", "--config", "-", "--batch", "-"],
        vec!["check", "--config", "-", "--file", "-"],
        vec!["check", "--config", "-", "--consents", "-", "--text", "hi"],
        vec!["classify", "--policy", "-", "--batch", "-"],
        vec!["numbers", "-", "-"],
        vec!["policy", "eval", "-", "--policy", "-"],
    ] {
        let r = run_with_stdin(&args, &seed);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr
                .contains("read stdin (`-`), but only one input can"),
            "{args:?}: {r:?}"
        );
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
    }
    // One input from stdin is fine.
    let r = run_with_stdin(&["check", "--config", "-", "--text", SHIPPED], &seed);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn the_message_shown_keeps_its_carets_under_control_characters_and_tabs() {
    let text = "FREE\tcash!\rWin now, limited offer sale";
    let r = run(&["classify", "--text", text, "--color", "never"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains('\r'), "{:?}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "  | FREE\tcash!\u{240d}Win now, limited offer sale")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    // Under the tab a tab, so that "cash" and "Win" are marked where they are shown.
    let carets = lines[at + 1];
    assert!(carets.starts_with("  | ^^^^\t^^^^  ^^^ "), "{carets:?}");
}

#[test]
fn bidirectional_controls_in_the_message_are_shown_and_keep_its_carets() {
    // A right-to-left override shows what follows it backwards: a reviewer would read
    // "FREE cash, limited offer" where the text says "reffo detimil", and the carets would
    // fall under other characters.
    let text = "FREE cash, \u{202e}reffo detimil\u{202c} sale \u{2067}now\u{2069}";
    let r = run(&["classify", "--text", text, "--color", "never"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout
            .contains(['\u{202e}', '\u{202c}', '\u{2067}', '\u{2069}']),
        "{:?}",
        r.stdout
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "  | FREE cash, \u{fffd}reffo detimil\u{fffd} sale \u{fffd}now\u{fffd}")
        .unwrap_or_else(|| panic!("{}", r.stdout));
    // "sale now" marked where it is shown (before, two columns to the left of it).
    assert_eq!(
        lines[at + 1],
        "  | ^^^^ ^^^^                  ^^^^^^^^^",
        "{}",
        r.stdout
    );
}

#[test]
fn the_message_shown_keeps_its_carets_under_wide_characters_and_combining_marks() {
    // A terminal shows `🎉` and `限` two columns wide and a combining mark in no column of its
    // own; a caret a character put "FREE"'s carets under the characters before it, and the
    // struck-through "F̶R̶E̶E̶" (counted once, as "FREE" was) takes four columns before "prize".
    let text = "🎉 限时 FREE cash, F\u{336}R\u{336}E\u{336}E\u{336} prize";
    let r = run(&["classify", "--text", text, "--color", "never"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("  | {text}"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(
        lines[at + 1],
        "  |         ^^^^ ^^^^       ^^^^^",
        "{}",
        r.stdout
    );
}
