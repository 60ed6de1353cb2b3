//! Classification quality of the default policy on the held-out corpus, and `policy eval`
//! itself. The snapshot makes every change in accuracy part of the review.

#![forbid(unsafe_code)]

use smslint_tests::run;

#[test]
fn default_policy_on_the_test_corpus() {
    let r = run(&["policy", "eval", "tests/corpus/test.jsonl"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn json_report_agrees_with_itself() {
    let r = run(&[
        "policy",
        "eval",
        "tests/corpus/dev.jsonl",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let messages = v["messages"].as_u64().unwrap_or(0);
    let correct = v["top1Correct"].as_u64().unwrap_or(u64::MAX);
    assert!(messages >= 300, "{messages}");
    let misses = v["misclassified"].as_array().map_or(0, Vec::len) as u64;
    assert_eq!(correct + misses, messages);
    let support: u64 = v["classes"].as_array().map_or(0, |cs| {
        cs.iter().filter_map(|c| c["support"].as_u64()).sum()
    });
    assert_eq!(support, messages);
}

#[test]
fn corpus_errors_name_the_line() {
    let r = run(&["policy", "eval", "tests/fixtures/corpus/bad.jsonl"]);
    assert_eq!(r.code, 2, "{r:?}");
    insta::assert_snapshot!(r.stderr);
}

/// The README's figures row for a policy and corpus, from the report.
fn readme_row(policy: &str, corpus: &str, label: &str) -> String {
    let r = run(&[
        "policy", "eval", corpus, "--policy", policy, "--format", "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let pct = |k: &str| format!("{:.1}%", v[k].as_f64().unwrap_or(f64::NAN) * 100.0);
    format!(
        "| `{policy}` | {label} | {} | {:.3} | {} | {} | {} |",
        pct("top1Accuracy"),
        v["macroF1"].as_f64().unwrap_or(f64::NAN),
        pct("marketingDetectionPrecision"),
        pct("contentRuleRecall"),
        pct("compliantFalsePositiveRate"),
    )
}

#[test]
fn readme_figures_are_current() {
    let readme = std::fs::read_to_string(smslint_tests::root().join("README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    for policy in ["builtin:default", "builtin:base"] {
        for (corpus, label) in [
            ("tests/corpus/dev.jsonl", "`dev.jsonl` (tuned on)"),
            ("tests/corpus/test.jsonl", "`test.jsonl` (held out)"),
        ] {
            let row = readme_row(policy, corpus, label);
            assert!(
                readme.contains(&row),
                "README.md lacks the current row:\n{row}"
            );
        }
    }
}

/// The command that writes `policies/default.json`; the README gives the same one.
const LEARN: [&str; 9] = [
    "policy",
    "learn",
    "tests/corpus/dev.jsonl",
    "--policy",
    "builtin:base",
    "--threshold",
    "Marketing=6.5",
    "--format",
    "json",
];

#[test]
fn the_default_policy_is_what_learning_on_dev_gives() {
    let r = run(&LEARN);
    assert_eq!(r.code, 0, "{r:?}");
    let committed = std::fs::read_to_string(smslint_tests::root().join("policies/default.json"))
        .unwrap_or_else(|e| panic!("policies/default.json: {e}"));
    assert!(
        r.stdout == committed,
        "policies/default.json is stale: run `smslint {}` > policies/default.json",
        LEARN.join(" ")
    );
    let readme = std::fs::read_to_string(smslint_tests::root().join("README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    assert!(
        readme.contains(&LEARN.join(" ")),
        "README.md does not give the command that writes policies/default.json"
    );
}

#[test]
fn learn_cross_validates_without_writing_a_policy() {
    let r = run(&[
        "policy",
        "learn",
        "tests/corpus/dev.jsonl",
        "--policy",
        "builtin:base",
        "--method",
        "logistic",
        "--cv",
        "3",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut lines = r.stdout.lines();
    let head = lines.next().unwrap_or_default();
    assert!(
        head.starts_with("tests/corpus/dev.jsonl: ")
            && head.contains(" messages, 3-fold cross-validation ("),
        "{head}"
    );
    let figures = lines.next().unwrap_or_default();
    assert!(figures.starts_with("top-1 accuracy "), "{figures}");
    // One row per use case of the base, then Unknown.
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("Unknown "))
            .count(),
        1,
        "{}",
        r.stdout
    );
    let bad = run(&["policy", "learn", "tests/corpus/dev.jsonl", "--cv", "1"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn learn_cross_validates_on_held_out_sets() {
    let args = [
        "policy",
        "learn",
        "tests/corpus/dev.jsonl",
        "--policy",
        "builtin:base",
        "--cv-sets",
    ];
    let r = run(&[&args[..], &["fresh set "]].concat());
    assert_eq!(r.code, 0, "{r:?}");
    let head = r.stdout.lines().next().unwrap_or_default();
    assert!(head.contains(" held-out sets ("), "{head}");
    let sets: Vec<&str> = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("held-out set "))
        .skip(1)
        .collect();
    assert!(
        sets.iter().any(|l| l.starts_with("fresh set 4 ")),
        "{}",
        r.stdout
    );
    // The figures count each held-out message once: the sets' messages add up to the total.
    let total: usize = sets
        .iter()
        .filter_map(|l| l.split_whitespace().rev().nth(1)?.parse::<usize>().ok())
        .sum();
    assert!(
        head.starts_with(&format!("tests/corpus/dev.jsonl: {total} messages,")),
        "{head}"
    );
    let none = run(&[&args[..], &["no such set"]].concat());
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("no message of"), "{none:?}");
    let both = run(&[&args[..], &["fresh set ", "--cv", "3"]].concat());
    assert_eq!(both.code, 2, "{both:?}");
}
