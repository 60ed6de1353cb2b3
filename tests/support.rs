//! Helpers shared by the test targets: the `smslint` binary, the fixture folder, and the
//! invariants classification keeps for any text.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// A folder under the system's temporary directory for one test, removed with what it holds
/// when dropped, so that test runs leave nothing behind.
pub struct TempDir(PathBuf);

impl TempDir {
    /// `smslint-NAME-PID`, emptied first if a run that did not finish left it.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("smslint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// A path under `tests/fixtures`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests").join("fixtures").join(rel)
}

/// The `smslint` binary, built once per test process.
///
/// Cargo exposes `CARGO_BIN_EXE_*` only to tests of the binary's own package, so this runs
/// `cargo build` for it (a no-op when it is fresh) in the profile the tests were built in, and
/// takes the executable's path from cargo's JSON messages.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root()).args([
            "build",
            "--quiet",
            "--package",
            "smslint-cli",
            "--bin",
            "smslint",
            "--message-format=json",
        ]);
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let out = cmd
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo build: {e}"));
        assert!(out.status.success(), "cargo build of smslint failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["target"]["name"] == "smslint")
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .unwrap_or_else(|| panic!("cargo build did not report the smslint executable"))
    })
}

/// What a run of `smslint` produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Run `smslint` with `args` from the workspace root, colour off, with `stdin` as its input.
pub fn run_with_stdin(args: &[&str], stdin: &str) -> Run {
    run_with_stdin_bytes(args, stdin.as_bytes())
}

/// [`run_with_stdin`] with input that need not be UTF-8.
pub fn run_with_stdin_bytes(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start smslint: {e}"));
    // Feed stdin from another thread while this one reads stdout: a large input and output
    // would otherwise fill both pipes and wait on each other.
    let feeder = child.stdin.take().map(|mut input| {
        let data = stdin.to_vec();
        std::thread::spawn(move || {
            // A command that does not read stdin may close it early; that is not a failure.
            let _ = input.write_all(&data);
        })
    });
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("smslint did not finish: {e}"));
    if let Some(f) = feeder {
        let _ = f.join();
    }
    output.into()
}

/// Run `smslint` with `args` and empty stdin.
pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, "")
}

/// Classify and lint `text` with `policy`; an error says which invariant broke: every score is
/// finite, every evidence and finding span is a slice of `text` on character boundaries, and a
/// second run through fresh buffers gives the same classification and findings.
pub fn check_classification(policy: &smslint_core::Policy, text: &str) -> Result<(), String> {
    use smslint_core::{LintContext, NormalizedText, Span};
    let slice = |span: Span| {
        let (s, e) = (span.start as usize, span.end as usize);
        if s <= e && text.get(s..e).is_some() {
            Ok(())
        } else {
            Err(format!("span {s}..{e} is not a slice of {text:?}"))
        }
    };
    let normalized = NormalizedText::new(text);
    let c = policy.classify(&normalized);
    for score in &c.scores {
        if !score.score.is_finite() {
            return Err(format!("score {} for {text:?}", score.score));
        }
        score.evidence.iter().try_for_each(|e| slice(e.span))?;
    }
    let findings = policy.lint(&normalized, &c, &LintContext::default());
    findings.iter().filter_map(|f| f.span).try_for_each(slice)?;
    let again = policy.classify(&NormalizedText::new(text));
    if again != c {
        return Err(format!("a second classification of {text:?} differs"));
    }
    // Scoring without evidence (the batch path) adds the same points in the same order.
    let mut scores_only = smslint_core::Classification::default();
    policy.classify_into(&normalized, &mut scores_only, smslint_core::Detail::Scores);
    let bits = |c: &smslint_core::Classification| -> Vec<u64> {
        c.scores.iter().map(|s| s.score.to_bits()).collect()
    };
    if bits(&scores_only) != bits(&c) || scores_only.ranking != c.ranking {
        return Err(format!("scores without evidence differ for {text:?}"));
    }
    if policy.lint(&NormalizedText::new(text), &again, &LintContext::default()) != findings {
        return Err(format!("a second lint of {text:?} differs"));
    }
    Ok(())
}
