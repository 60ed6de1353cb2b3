//! Policy authoring end to end: every kind of invalid policy, `extends`, `policy test`,
//! `policy explain` and `policy schema`.

#![forbid(unsafe_code)]

use smslint_core::{NormalizedText, UseCase};
use smslint_policy::{load_path, DiagnosticCode};
use smslint_tests::{fixture, root, run, Run, TempDir};

#[test]
fn every_invalid_policy_is_refused_with_a_located_diagnostic() {
    insta::glob!("fixtures/policies/invalid/*.{yaml,json}", |path| {
        let rel = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        let r = run(&["policy", "validate", &rel]);
        assert_eq!(r.code, 2, "{rel}: {r:?}");
        // Every error names file:line:col and shows a caret, except where no position exists.
        assert!(
            r.stdout.contains("--> tests/fixtures/policies/invalid/"),
            "{rel}: {}",
            r.stdout
        );
        insta::assert_snapshot!(r.stdout);
    });
}

#[test]
fn validate_json_lists_each_file() {
    let r = run(&[
        "policy",
        "validate",
        "builtin:default",
        "tests/fixtures/policies/invalid/several-problems.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[1]["valid"], false);
    let codes: Vec<&str> = v[1]["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "policy.duplicate_keyword",
            "policy.unclassifiable_use_case",
            "policy.duplicate_id",
            "policy.unreachable_threshold",
            "policy.missing_threshold"
        ]
    );
    assert_eq!(v[1]["diagnostics"][0]["line"], 8);
    assert_eq!(v[1]["diagnostics"][0]["column"], 19);
}

#[test]
fn wide_pattern_windows_are_warnings_at_their_pattern() {
    let r = run(&[
        "policy",
        "validate",
        "tests/fixtures/policies/warnings/wide-window.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let found: Vec<(String, u64)> = v[0]["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    // The rule's `.{0,40}` and the pattern's `[^\n]{0,80}`; not the pattern's `.{0,20}`.
    assert_eq!(
        found,
        [
            ("policy.wide_window".to_owned(), 12),
            ("policy.wide_window".to_owned(), 9)
        ]
    );
}

#[test]
fn extends_merges_with_documented_precedence() {
    let loaded =
        load_path(&fixture("policies/extends/grandchild.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let raw = &loaded.raw;
    assert_eq!(raw.name.as_deref(), Some("child"));
    let decision = smslint_policy::validate::effective_decision(raw);
    assert_eq!(
        decision.unclassified,
        Some(smslint_policy::raw::Unclassified::Warn)
    );
    let names: Vec<&str> = raw.use_cases.0.iter().map(|(k, _)| k.0.as_str()).collect();
    assert_eq!(names, ["Marketing", "DeliveryNotification", "CustomerCare"]);
    let marketing = &raw.use_cases.0[0].1;
    assert_eq!(marketing.threshold.map(|t| t.0), Some(2.0));
    let phrases: Vec<&str> = marketing
        .keywords
        .iter()
        .map(|k| k.phrase.as_str())
        .collect();
    // "deals" removed by child; "sale" replaced by child's "SALE" (same folded phrase).
    assert_eq!(phrases, ["SALE", "coupon"]);
    let ids: Vec<&str> = marketing.patterns.iter().map(|p| p.id.0.as_str()).collect();
    // percent-off removed by grandchild, amount-off added by child.
    assert_eq!(ids, ["amount-off"]);
    let examples = marketing.examples.clone().unwrap_or_default();
    assert_eq!(examples.matches, ["$5 off today"]);
}

#[test]
fn the_default_is_learned_weights_over_the_hand_written_base() {
    let default =
        load_path(std::path::Path::new("builtin:default")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = default.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["builtin:default", "builtin:base"]);
    let base = load_path(std::path::Path::new("builtin:base")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        default.policy.use_cases().len(),
        base.policy.use_cases().len()
    );
    assert!(default.policy.rules().len() > base.policy.rules().len());
    assert_eq!(
        default.policy.content_rules().len(),
        base.policy.content_rules().len()
    );
}

#[test]
fn extends_a_builtin_policy() {
    let loaded =
        load_path(&fixture("policies/extends/on-default.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let policy = &loaded.policy;
    let classify = |t: &str| policy.classify(&NormalizedText::new(t));
    // Only the Marketing use case changed; the others are the default's.
    assert_eq!(policy.use_cases().len(), 13);
    assert!(!classify("Hurry, 20% off").is_detected(&UseCase::Marketing));
    assert!(classify("Act now: 20% off").is_detected(&UseCase::Marketing));
    assert_eq!(
        classify("Your order has shipped")
            .top()
            .map(|s| &s.use_case),
        Some(&UseCase::DeliveryNotification)
    );
    assert!(policy.rules().iter().all(|r| &*r.id != "kw:hurry"));
}

#[test]
fn semantic_codes_are_documented_in_the_readme() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_default();
    for code in DiagnosticCode::ALL {
        assert!(
            readme.contains(&format!("`{}`", code.as_str())),
            "README does not document {code}"
        );
    }
}

#[test]
fn policy_test_runs_examples_and_test_files() {
    let r = run(&[
        "policy",
        "test",
        "tests/fixtures/policies/extends/child.yaml",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.trim(),
        "tests/fixtures/policies/extends/child.yaml: 5 run, 0 failed"
    );
    let r = run(&["policy", "test", "builtin:default"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&[
        "policy",
        "test",
        "tests/fixtures/policies/extends/child.yaml",
        "tests/fixtures/policies/extends/failing.tests.yaml",
    ]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn failing_cases_of_the_same_text_are_each_on_their_own_line() {
    // Each failing case was found by its text from the start of the file: two cases of one
    // text were both put on the first's line.
    let dir = TempDir::new("cases-same-text");
    let path = dir.join("same.tests.yaml");
    let cases = "- text: \"same\"\n  expect: { top: Marketing }\n\
                 - name: again\n  text: \"same\"\n  expect: { top: Marketing }\n\
                 - text: \"sa\\u006De\"\n  expect: { top: Marketing }\n";
    std::fs::write(&path, cases).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shown = path.display().to_string();
    let r = run(&["policy", "test", &shown, "--color", "never"]);
    assert_eq!(r.code, 1, "{r:?}");
    let fails: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(
        fails,
        [
            format!("FAIL {shown}:1: \"same\""),
            format!("FAIL {shown}:4: \"again\""),
            // Written with an escape, its text is not in the file as it reads.
            format!("FAIL {shown}[2]: \"same\""),
        ],
        "{}",
        r.stdout
    );
}

/// `policy test` of child.yaml with a test file `cases`, written in the temporary folder
/// `name`: the run and the file's path as shown.
fn test_cases_file(name: &str, cases: &str) -> (Run, String) {
    let dir = TempDir::new(name);
    let path = dir.join("cases.tests.yaml");
    std::fs::write(&path, cases).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shown = path.display().to_string();
    let r = run(&[
        "policy",
        "test",
        "tests/fixtures/policies/extends/child.yaml",
        &shown,
    ]);
    (r, shown)
}

#[test]
fn a_test_case_key_written_twice_is_placed_on_the_second() {
    // Placed at its mapping's `{` as a syntax error before, under a doubled "error: error[".
    let (r, shown) = test_cases_file(
        "cases-twice",
        "- text: \"Sale this weekend\"\n  expect: { top: Marketing, detected: [Marketing], top: Unknown }\n",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with(
            "error: the test cases cannot be used:\nerror[policy.duplicate_key]: .[0].expect: duplicate field `top`"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("--> {shown}:2:52")),
        "{}",
        r.stderr
    );
}

#[test]
fn a_test_file_indented_with_a_tab_says_so() {
    let (r, shown) = test_cases_file("cases-tab", "- text: \"x\"\n\texpect: {top: Marketing}\n");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!("--> {shown}:2:1")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("= help: YAML indents with spaces; a tab cannot start a token"),
        "{}",
        r.stderr
    );
}

#[test]
fn policy_explain_prints_the_resolved_policy() {
    let r = run(&[
        "policy",
        "explain",
        "tests/fixtures/policies/extends/grandchild.yaml",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn policy_explain_escapes_bidirectional_controls_and_reads_back_the_same() {
    // A phrase with a right-to-left override reads `abcfed` on a terminal where the policy
    // matches `abc`, the override, then `def`; the description has an isolate. A phrase that
    // spells the marker the escaping uses must stay as it is.
    let dir = TempDir::new("explain-bidi");
    let policy = dir.join("bidi.yaml");
    let source = "version: 1\ndescription: \"see \\u2066note\\u2069, \\\"q\\\" \\\\ end\"\n\
                  use_cases:\n  Marketing:\n    threshold: 1\n    keywords:\n\
                  \x20     - phrase: \"abc\\u202Edef\"\n\
                  \x20     - phrase: smslint-escaped-0-\n";
    std::fs::write(&policy, source).unwrap_or_else(|e| panic!("{}: {e}", policy.display()));
    let r = run(&["policy", "explain", &policy.display().to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout.contains(['\u{202e}', '\u{2066}', '\u{2069}']),
        "{}",
        r.stdout
    );
    for line in [
        "description: \"see \\u2066note\\u2069, \\\"q\\\" \\\\ end\"",
        "- phrase: \"abc\\u202Edef\"",
        "- phrase: smslint-escaped-0-",
    ] {
        assert!(
            r.stdout.lines().any(|l| l.trim() == line),
            "{line}\n{}",
            r.stdout
        );
    }
    // The output is a policy that holds the same strings: explained again, the same text.
    let again = dir.join("again.yaml");
    std::fs::write(&again, &r.stdout).unwrap_or_else(|e| panic!("{}: {e}", again.display()));
    let r2 = run(&["policy", "explain", &again.display().to_string()]);
    assert_eq!(r2.code, 0, "{r2:?}");
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&r2.stdout), body(&r.stdout));
    let loaded = load_path(&again).unwrap_or_else(|e| panic!("{e}"));
    let phrases: Vec<&str> = loaded
        .raw
        .use_cases
        .0
        .iter()
        .flat_map(|(_, u)| &u.keywords)
        .map(|k| k.phrase.as_str())
        .collect();
    assert_eq!(phrases, ["abc\u{202e}def", "smslint-escaped-0-"]);
}

#[test]
fn policy_explain_with_text_shows_rules_and_distances() {
    let r = run(&[
        "policy",
        "explain",
        "builtin:default",
        "--text",
        "Acme: 30% off boots today only! Your order #4411 ships tomorrow.",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn the_committed_schema_is_current() {
    let r = run(&["policy", "schema"]);
    assert_eq!(r.code, 0);
    let committed =
        std::fs::read_to_string(root().join("policies/policy.schema.json")).unwrap_or_default();
    assert!(
        committed.trim() == r.stdout.trim(),
        "policies/policy.schema.json is stale: run `cargo run -- policy schema > policies/policy.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["$defs"]["RawUseCase"]["properties"]["keywords"].is_object());
}

#[test]
fn extends_replaces_the_first_of_duplicate_phrases_and_keeps_the_last_of_the_childs() {
    let dir = std::env::temp_dir().join(format!("smslint-dups-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    write(
        "base.yaml",
        "version: 1\nuse_cases:\n  Marketing:\n    threshold: 3\n    keywords:\n      \
         - { phrase: Sale, weight: 1 }\n      - { phrase: sale, weight: 2 }\n      \
         - { phrase: coupon, weight: 3 }\n",
    );
    write(
        "child.yaml",
        "version: 1\nextends: base.yaml\nuse_cases:\n  Marketing:\n    keywords:\n      \
         - { phrase: SALE, weight: 5 }\n      - { phrase: Deal, weight: 1 }\n      \
         - { phrase: deal, weight: 2 }\n",
    );
    let loaded = load_path(&dir.join("child.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let marketing = &loaded.raw.use_cases.0[0].1;
    let keywords: Vec<(&str, f64)> = marketing
        .keywords
        .iter()
        .map(|k| (k.phrase.as_str(), k.weight.0))
        .collect();
    assert_eq!(
        keywords,
        [("SALE", 5.0), ("sale", 2.0), ("coupon", 3.0), ("deal", 2.0)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
