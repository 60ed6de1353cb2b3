//! Inputs the fuzz targets (`fuzz/`) found or that were written against them, replayed in the
//! normal test run with the same checks: `tests/fixtures/fuzz/<target>/`, one input per file,
//! in the target's input format.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use smslint_core::{assess_number, parse_snapshot, select_profile, NormalizedText, Outcome};
use smslint_tests::{check_classification, fixture, run_with_stdin_bytes};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fixture(&format!("fuzz/{target}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

#[test]
fn classify_inputs() {
    let policy = smslint_policy::load_default()
        .unwrap_or_else(|e| panic!("{e}"))
        .policy;
    for (file, bytes) in inputs("classify") {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        check_classification(&policy, text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[test]
fn policy_inputs() {
    for (file, bytes) in inputs("policy") {
        let Some((&selector, rest)) = bytes.split_first() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(rest) else {
            continue;
        };
        let format = if selector & 1 == 0 {
            smslint_policy::Format::Yaml
        } else {
            smslint_policy::Format::Json
        };
        let start = Instant::now();
        match smslint_policy::load_str(text, "fuzz.policy", format) {
            Ok(loaded) => {
                let _ = loaded
                    .policy
                    .classify(&NormalizedText::new("FLASH SALE 40% off today"));
            }
            Err(e) => {
                assert!(!e.diagnostics.is_empty(), "{}", file.display());
                let _ = e.to_string();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} took {:?}",
            file.display(),
            start.elapsed()
        );
    }
}

#[test]
fn snapshot_inputs() {
    let policy = smslint_policy::load_default()
        .unwrap_or_else(|e| panic!("{e}"))
        .policy;
    for (_, bytes) in inputs("snapshot") {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Ok(profiles) = parse_snapshot(text) else {
            continue;
        };
        for p in &profiles {
            let v = assess_number(&policy, p);
            assert!(v.outcome == Outcome::Approve || !v.reasons.is_empty());
        }
        let _ = select_profile(&profiles, None);
    }
}

#[test]
fn batch_inputs() {
    for (file, bytes) in inputs("batch") {
        let Some((&[_, max], input)) = bytes.split_first_chunk::<2>() else {
            continue;
        };
        let max = (usize::from(max) * 4).max(1).to_string();
        let mut expected = input.split(|&b| b == b'\n').count();
        if input.is_empty() || input.ends_with(b"\n") {
            expected -= 1;
        }
        let r = run_with_stdin_bytes(
            &[
                "classify",
                "--batch",
                "-",
                "--max-line-bytes",
                &max,
                "--jobs",
                "2",
            ],
            input,
        );
        assert!(r.code == 0 || r.code == 2, "{}: {r:?}", file.display());
        let lines: Vec<u64> = r
            .stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .unwrap_or_else(|e| panic!("{}: output line {l:?}: {e}", file.display()))
                    ["line"]
                    .as_u64()
                    .unwrap_or(0)
            })
            .collect();
        let want: Vec<u64> = (1..=expected as u64).collect();
        assert_eq!(lines, want, "{}: {}", file.display(), r.stdout);
    }
}
