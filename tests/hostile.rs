//! Hostile policies: every one is refused with a located `policy.*` error and exit 2, quickly
//! and without a panic, whatever it tries (huge or endless files, YAML alias bombs, deep
//! nesting, regexes that compile to gigabytes, more rules or keyword bytes than the limits,
//! thousands of problems).

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use smslint_tests::{run, TempDir};

/// Validate a policy with `text` as `name`; it must be refused with `code` within `limit`.
fn refused(name: &str, text: &str, code: &str, limit: Duration) -> String {
    let dir = TempDir::new(&format!("hostile-{}", name.replace(['/', '.'], "-")));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    let path = path.display().to_string();
    let start = Instant::now();
    let r = run(&["policy", "validate", &path]);
    let took = start.elapsed();
    let _ = std::fs::remove_file(&path);
    assert_eq!(r.code, 2, "{name}: {r:?}");
    assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
    assert!(
        r.stdout.contains(&format!("error[{code}]"))
            || r.stderr.contains(&format!("error[{code}]")),
        "{name}: expected {code}: {r:?}"
    );
    assert!(took < limit, "{name} took {took:?} (limit {limit:?})");
    format!("{}{}", r.stdout, r.stderr)
}

/// A JSON policy whose only use case, Marketing, has `entries` (JSON objects) under `field`.
fn marketing_json(field: &str, entries: &[String]) -> String {
    format!(
        "{{\"version\":1,\"use_cases\":{{\"Marketing\":{{\"threshold\":1,\"{field}\":[{}]}}}}}}",
        entries.join(",")
    )
}

const QUICK: Duration = Duration::from_secs(10);

#[cfg(target_os = "linux")]
#[test]
fn an_endless_extended_file_is_refused_after_the_file_size_limit() {
    let out = refused(
        "zero.yaml",
        "version: 1\nextends: /dev/zero\n",
        "policy.extends_unresolved",
        QUICK,
    );
    assert!(out.contains("larger than 64 MiB"), "{out}");
    assert!(out.contains(":2:10"), "{out}");
}

#[test]
fn yaml_aliases_are_refused_before_they_expand() {
    // 2,000 aliases of a 1 MB string: 2 GB once expanded (49 s and 7.8 GB before the guard).
    let text = format!(
        "version: 1\ndescription: &s {}\nbrand_names: [{}]\n",
        "x".repeat(1 << 20),
        vec!["*s"; 2000].join(", ")
    );
    let out = refused("alias.yaml", &text, "policy.limit", QUICK);
    assert!(out.contains("YAML aliases"), "{out}");
    assert!(out.contains("alias.yaml:3:15"), "{out}");
}

#[test]
fn deep_nesting_is_refused_in_linear_time() {
    let n = 100_000;
    let yaml = format!("version: 1\nname: {}{}\n", "[".repeat(n), "]".repeat(n));
    let out = refused("deep.yaml", &yaml, "policy.limit", QUICK);
    assert!(out.contains("nested more than 100 levels"), "{out}");
    assert!(out.contains("deep.yaml:2:107"), "{out}");
    // A long source line is shown around the caret, not whole.
    assert!(out.lines().all(|l| l.chars().count() < 200), "{out}");
    let json = format!(
        "{{\"version\":1,\"name\":{}{}}}",
        "[".repeat(n),
        "]".repeat(n)
    );
    refused("deep.json", &json, "policy.syntax", QUICK);
}

#[test]
fn regexes_are_bounded_in_nesting_and_compiled_size() {
    let nested = format!(
        "version: 1\nuse_cases:\n  Marketing:\n    threshold: 1\n    patterns:\n      - id: deep\n        regex: '{}a{}'\n",
        "(".repeat(300),
        ")".repeat(300)
    );
    let out = refused("nest.yaml", &nested, "policy.invalid_regex", QUICK);
    assert!(out.contains("nest.yaml:7:"), "{out}");
    let repeat = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 1\n    patterns:\n      - id: rep\n        regex: '(?:(?:a{1000}){1000}){1000}'\n";
    let out = refused("rep.yaml", repeat, "policy.limit", QUICK);
    assert!(out.contains("rep.yaml:6:13"), "{out}");
    // Each pattern fits; together they do not.
    let patterns: Vec<String> = (0..5000)
        .map(|i| format!("{{\"id\":\"p{i}\",\"regex\":\"[a-z]{{900}}x{i}\"}}"))
        .collect();
    let set = marketing_json("patterns", &patterns);
    let out = refused("set.json", &set, "policy.limit", Duration::from_secs(30));
    assert!(out.contains("the set of all patterns"), "{out}");
}

#[test]
fn rule_count_and_keyword_bytes_are_bounded() {
    let keywords: Vec<String> = (0..=smslint_core::MAX_RULES)
        .map(|i| format!("{{\"phrase\":\"k{i}\"}}"))
        .collect();
    let many = marketing_json("keywords", &keywords);
    let out = refused("many.json", &many, "policy.limit", Duration::from_secs(30));
    assert!(out.contains("at most 200000"), "{out}");
    let big: Vec<String> = (0..9u8)
        .map(|i| {
            format!(
                "{{\"phrase\":\"{}\"}}",
                char::from(b'a' + i).to_string().repeat(1 << 20)
            )
        })
        .collect();
    let bytes = marketing_json("keywords", &big);
    let out = refused(
        "bytes.json",
        &bytes,
        "policy.limit",
        Duration::from_secs(30),
    );
    assert!(out.contains("at most 8388608"), "{out}");
}

#[test]
fn thousands_of_problems_are_reported_without_quadratic_time() {
    // Each located problem costs a parse of the file; past 64 they keep their entry path only
    // (3,000 took 26 s before the budget).
    let patterns = (0..3000)
        .map(|i| format!("      - id: dup\n        regex: 'a{i}b'\n"))
        .collect::<Vec<_>>()
        .concat();
    let text = format!(
        "version: 1\nuse_cases:\n  Marketing:\n    threshold: 1\n    patterns:\n{patterns}"
    );
    let out = refused("dups.yaml", &text, "policy.duplicate_id", QUICK);
    assert!(out.contains("(2999 errors"), "{out}");
    let located = out.matches("--> ").count();
    assert_eq!(located, 2999, "{out}");
    let with_position = out
        .lines()
        .filter(|l| l.contains("--> ") && l.contains("dups.yaml:"))
        .count();
    assert_eq!(with_position, smslint_policy::locate::MAX_PROBES, "{out}");
    assert!(
        out.contains("note: in use_cases.Marketing.patterns[2999]"),
        "{out}"
    );
}

#[test]
fn a_message_file_is_read_up_to_the_batch_line_limit() {
    let dir = TempDir::new("long-message");
    let path = dir.join("long.txt");
    let text = "Reply STOP to end. ".repeat(4000);
    std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    let file = path.to_string_lossy();
    let r = run(&["classify", "--file", &file, "--format", "json"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("larger than 65536 bytes"), "{r:?}");
    let r = run(&[
        "classify",
        "--file",
        &file,
        "--format",
        "json",
        "--max-line-bytes",
        "100000",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("\"rule\":\"kw:reply stop\""), "{r:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn endless_message_and_snapshot_files_are_refused_with_bounded_reads() {
    let start = Instant::now();
    let r = run(&["classify", "--file", "/dev/zero"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("larger than 65536 bytes"), "{r:?}");
    let r = run(&["check", "--config", "/dev/zero", "--text", "hi"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("larger than 268435456 bytes"), "{r:?}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}
