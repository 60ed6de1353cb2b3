//! Rules every crate of the project keeps: each crate root forbids `unsafe` code.

#![forbid(unsafe_code)]

use smslint_tests::root;

/// Every crate root of the project: libraries, the binary, test and bench targets, and the fuzz
/// targets (the files of `fuzz/fuzz_targets` that define one; the others are their modules).
fn crate_roots() -> Vec<std::path::PathBuf> {
    let root = root();
    let mut out = Vec::new();
    let dirs = |p: std::path::PathBuf| {
        std::fs::read_dir(&p)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    for krate in dirs(root.join("crates")) {
        for name in ["src/lib.rs", "src/main.rs"] {
            let p = krate.join(name);
            if p.exists() {
                out.push(p);
            }
        }
        out.extend(
            dirs(krate.join("benches"))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "rs")),
        );
    }
    out.extend(
        dirs(root.join("tests"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs")),
    );
    out.extend(
        dirs(root.join("fuzz/fuzz_targets"))
            .into_iter()
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("fuzz_target!("))),
    );
    out
}

#[test]
fn every_crate_root_forbids_unsafe_code() {
    let roots = crate_roots();
    assert!(roots.len() > 20, "{roots:?}");
    let fuzz = roots
        .iter()
        .filter(|p| p.starts_with(root().join("fuzz")))
        .count();
    assert_eq!(fuzz, 5, "{roots:?}");
    let missing: Vec<String> = roots
        .iter()
        .filter(|p| {
            !std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .any(|l| l.trim() == "#![forbid(unsafe_code)]")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "missing #![forbid(unsafe_code)]: {missing:?}"
    );
}
