//! `smslint lint` end to end on the template fixture folder: human, JSON, SARIF (validated
//! against the SARIF 2.1.0 schema) and GitHub output, exit codes, exceptions and overrides.

#![forbid(unsafe_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};

use smslint_tests::{root, run, Run, TempDir};

const FOLDER: &str = "tests/fixtures/templates";
const POLICY: &str = "tests/fixtures/templates/lint-policy.yaml";
const REGISTERED: [&str; 8] = [
    "--use-case",
    "CustomerCare",
    "--use-case",
    "AccountNotification",
    "--use-case",
    "DeliveryNotification",
    "--use-case",
    "Marketing",
];

fn lint(extra: &[&str]) -> Run {
    let mut args = vec!["lint", FOLDER, "--policy", POLICY];
    args.extend_from_slice(&REGISTERED);
    args.extend_from_slice(extra);
    run(&args)
}

/// `text` written to `name` in `dir`; its path.
fn write_in(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

#[test]
fn human_output() {
    let r = lint(&[]);
    assert_eq!(r.code, 1, "{r:?}");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn json_output() {
    let r = lint(&["--format", "json"]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(v["summary"]["templates"], 14);
    assert_eq!(v["summary"]["files"], 5);
    assert_eq!(v["summary"]["allowed"], 1);
    assert_eq!(v["unusedAllows"][0]["rule"], "prohibited");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let r = lint(&["--format", "sarif"]);
    assert_eq!(r.code, 1);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let schema_text =
        std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"))
            .unwrap_or_default();
    let schema: Value = serde_json::from_str(&schema_text).unwrap_or_default();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
    // The shape GitHub code scanning reads.
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(rules.iter().any(|r| r["id"] == "rule.link.public_shortener"
        && r["defaultConfiguration"]["level"] == "error"
        && r["shortDescription"]["text"].is_string()
        && r["help"]["text"].is_string()));
    let results = run0["results"].as_array().cloned().unwrap_or_default();
    let shortener = results
        .iter()
        .find(|r| r["ruleId"] == "rule.link.public_shortener" && r["suppressions"].is_null())
        .cloned()
        .unwrap_or_default();
    let loc = &shortener["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"].is_string());
    assert!(loc["region"]["startLine"].is_u64() && loc["region"]["endColumn"].is_u64());
    assert!(results
        .iter()
        .any(|r| r["suppressions"][0]["kind"] == "external"));
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn github_annotations() {
    let r = lint(&["--format", "github"]);
    assert_eq!(r.code, 1);
    assert!(r
        .stdout
        .lines()
        .all(|l| l.starts_with("::error ") || l.starts_with("::warning ")));
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn exit_codes_and_fail_on() {
    // Only a warning: passes by default, fails with --fail-on warning.
    let one = "tests/fixtures/templates/support.jsonl";
    let warn_only = [
        "lint",
        one,
        "--severity",
        "content=off",
        "--severity",
        "template=off",
        "--use-case",
        "AccountNotification",
        "--use-case",
        "CustomerCare",
    ];
    let r = run(&warn_only);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("0 errors, 1 warning"), "{}", r.stdout);
    let mut strict = warn_only.to_vec();
    strict.extend(["--fail-on", "warning"]);
    assert_eq!(run(&strict).code, 1);
    // Input errors.
    assert_eq!(run(&["lint", "tests/fixtures/templates/absent"]).code, 2);
    assert_eq!(run(&["lint", "README.md"]).code, 2);
    assert_eq!(
        run(&["lint", FOLDER, "--severity", "no.such_rule=off"]).code,
        2
    );
    assert_eq!(run(&["lint", FOLDER, "--use-case", "Astrology"]).code, 2);
}

#[test]
fn severity_flags_override_rules_and_codes() {
    let r = lint(&[
        "--severity",
        "marketing=off",
        "--severity",
        "rule.link.public_shortener=warning",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let all: Vec<&Value> = v["templates"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["findings"].as_array().into_iter().flatten())
        .collect();
    assert!(!all
        .iter()
        .any(|f| f["code"] == "rule.marketing.opt_out_missing"));
    assert!(all
        .iter()
        .filter(|f| f["code"] == "rule.link.public_shortener")
        .all(|f| f["severity"] == "warning"));
}

#[test]
fn against_a_snapshot() {
    let r = run(&[
        "lint",
        "tests/fixtures/templates/shipped.txt",
        "tests/fixtures/templates/promotions.yaml",
        "--config",
        "tests/fixtures/snapshots/seed.json",
    ]);
    assert_eq!(r.code, 1);
    // The seed campaign does not register Marketing.
    assert!(
        r.stdout.contains("error[template.declared_not_registered]"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("promotions.yaml:4:10: error[content.use_case_not_registered]"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("shipped.txt:"), "{}", r.stdout);
}

#[test]
fn readme_documents_the_lint_codes() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_default();
    let r = lint(&["--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = rule["id"].as_str().unwrap_or_default();
        assert!(
            readme.contains(&format!("`{id}`")),
            "README does not document {id}"
        );
    }
}

#[test]
fn placeholders_count_at_the_policy_length_for_segments() {
    let dir = std::env::temp_dir().join(format!("smslint-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_default();
    // 40 slots of 5 characters: 240 characters as written (2 segments), but 40 × 12 + 40 = 520
    // once each slot counts as 12 (4 segments).
    let text = "{{a}} ".repeat(40);
    let file = dir.join("slots.txt");
    std::fs::write(&file, format!("Acme: your order has shipped. {text}\n")).unwrap_or_default();
    let path = file.display().to_string();
    let r = run(&["lint", &path, "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    let codes: Vec<&str> = v["templates"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["rule.segments.many"], "{}", r.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_declared_use_case_is_checked_against_the_content() {
    let r = lint(&[]);
    assert!(
        r.stdout.contains("error[template.use_case_mismatch]: the template declares FraudAlert, but its content reads as DeliveryNotification"),
        "{}",
        r.stdout
    );
}

#[test]
fn catalog_values_that_open_with_a_wide_character_are_located() {
    // A map catalog whose values open with a character wider than a byte: the search for the
    // next entry started one byte past the value's start, inside the character, and panicked.
    let dir = TempDir::new("lint-wide");
    let yaml = write_in(
        &dir,
        "fr.yaml",
        "promo: é FREE offer, click bit.ly/abc now\nrappel: \"ü FREE cash at bit.ly/x\"\n",
    );
    let json = write_in(
        &dir,
        "de.json",
        r#"{"ä": "Ä FREE cash at bit.ly/x", "ö": {"text": "ö bit.ly/y"}}"#,
    );
    for (path, want) in [
        (&yaml, ["fr.yaml:1:28:", "fr.yaml:2:25:"]),
        (&json, ["de.json:1:23:", "de.json:1:51:"]),
    ] {
        let shown = path.display().to_string();
        let r = run(&["lint", &shown]);
        assert_eq!(r.code, 1, "{r:?}");
        for at in want {
            assert!(r.stdout.contains(at), "{at}: {}", r.stdout);
        }
    }
}

/// `lint` of a text file holding `line`, in the temporary folder `name`: its output must show
/// the line as `shown`, free of `hidden`, with the carets of its link under the link's `b`.
fn line_shown_with_its_carets(name: &str, line: &str, shown: &str, hidden: &[char]) {
    let dir = TempDir::new(name);
    let path = write_in(&dir, "t.txt", line);
    let r = run(&["lint", &path.display().to_string(), "--color", "never"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains(hidden), "{:?}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(shown))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let carets = lines
        .iter()
        .skip(at + 1)
        .find(|l| l.contains("^^^^^^"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert_eq!(
        lines[at].chars().position(|c| c == 'b'),
        carets.chars().position(|c| c == '^'),
        "{}",
        r.stdout
    );
}

#[test]
fn bidirectional_controls_in_template_lines_are_shown() {
    // An isolate and an override would show the rest of the line in another order than the
    // text linted, and the carets under other characters.
    line_shown_with_its_carets(
        "lint-bidi",
        "FREE \u{2067}cash\u{2069}! \u{202e}Win now at bit.ly/x\n",
        "FREE \u{fffd}cash\u{fffd}! \u{fffd}Win now at bit.ly/x",
        &['\u{2067}', '\u{2069}', '\u{202e}'],
    );
}

#[test]
fn control_characters_in_template_lines_are_shown_as_pictures() {
    // A lone CR printed as it is sends the terminal's cursor back to the start of the line, so
    // the line shown and its carets no longer match.
    line_shown_with_its_carets(
        "lint-control",
        "FREE cash!\rWin now at bit.ly/x\tok\n",
        "cash!\u{240d}Win now at bit.ly/x\tok",
        &['\r'],
    );
}

#[test]
fn reports_without_templates_or_findings_are_whole_documents() {
    // The JSON and SARIF reports are written a template at a time; their empty lists must
    // still close into documents a reader can parse.
    let dir = TempDir::new("lint-empty");
    let empty = write_in(&dir, "none.jsonl", "");
    let clean = write_in(
        &dir,
        "clean.jsonl",
        "{\"id\": \"ok\", \"text\": \"Acme: your order #12 has shipped. Reply STOP to opt out.\"}\n",
    );
    for (path, templates) in [(&empty, 0), (&clean, 1)] {
        let shown = path.display().to_string();
        let r = run(&["lint", &shown, "--format", "json"]);
        assert_eq!(r.code, 0, "{r:?}");
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
        assert_eq!(v["summary"]["templates"], templates, "{r:?}");
        assert_eq!(v["templates"].as_array().map(Vec::len), Some(templates));
        let r = run(&["lint", &shown, "--format", "sarif"]);
        assert_eq!(r.code, 0, "{r:?}");
        let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
        assert_eq!(v["runs"][0]["results"], serde_json::json!([]), "{r:?}");
        assert!(v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .is_some_and(|r| !r.is_empty()));
    }
}

#[test]
fn catalog_entries_without_a_text_are_refused_at_their_line() {
    // A reviewer with a catalog of hundreds of entries needs the line of the one that is wrong.
    // serde_json keeps the last of two entries with one id; the other went unlinted.
    let dir = TempDir::new("lint-entries");
    let cases = [
        (
            "map.yaml",
            "a: FREE cash\nb:\n  id: b\n  txt: oops\n",
            "map.yaml:2:1: `b` has no \"text\" or \"body\" string",
        ),
        (
            "scalar.yaml",
            "a: FREE cash\nb: 12\n",
            "scalar.yaml:2:1: `b` is neither a text nor an entry with \"text\"",
        ),
        (
            "list.yaml",
            "- id: a\n  text: FREE cash\n- id: b\n  txt: oops\n",
            "list.yaml:3:3: item 2 has no \"text\" or \"body\" string",
        ),
        (
            "list.json",
            "[{\"id\": \"a\", \"text\": \"x\"},\n {\"id\": \"b\", \"body\": 3}]",
            "list.json:2:3: item 2 has no \"text\" or \"body\" string",
        ),
        (
            "twice.json",
            "{\"a\": \"hello\",\n \"a\": \"FREE bit.ly/x\"}",
            "twice.json:2:4: the template id \"a\" is used twice; give each entry its own",
        ),
        (
            "twice.yaml",
            "a: x\nb: y\n# b: old\nb: z\n",
            "twice.yaml:4:1: duplicate entry with key \"b\"",
        ),
        (
            "twice-text.yaml",
            "- id: a\n  text: x\n\n  text: y\n",
            "twice-text.yaml:4:3: .[0]: duplicate entry with key \"text\"",
        ),
        (
            "tab.yaml",
            "\twelcome: hi\n",
            "tab.yaml:1:1: found character that cannot start any token, while scanning for the next token (YAML indents with spaces; a tab cannot start a token)",
        ),
        (
            "twice-flow.yaml",
            "- {id: a, text: \"x, y\",\n   text: z}\n",
            "twice-flow.yaml:2:4: .[0]: duplicate entry with key \"text\"",
        ),
        (
            "lines.jsonl",
            "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\"}\n",
            "lines.jsonl:2:1: the line has no \"text\" or \"body\" string",
        ),
    ];
    for (name, text, want) in cases {
        let path = write_in(&dir, name, text);
        let r = run(&["lint", &path.display().to_string()]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
}

#[test]
fn findings_in_folded_scalars_point_at_their_file_line() {
    // YAML folds a plain scalar's line breaks (and a `>` block's) into spaces; a finding on a
    // later line of the value pointed at the value's first line.
    let dir = TempDir::new("lint-folded");
    let path = write_in(
        &dir,
        "fold.yaml",
        "promo: Your order shipped and more text here\n  and your link is bit.ly/x now\nnote: >-\n  Thanks for waiting.\n  Your link is bit.ly/y today\n",
    );
    let r = run(&["lint", &path.display().to_string(), "--color", "never"]);
    assert_eq!(r.code, 1, "{r:?}");
    for at in [
        "fold.yaml:2:20: error[rule.link.public_shortener]",
        "fold.yaml:5:16: error[rule.link.public_shortener]",
    ] {
        assert!(r.stdout.contains(at), "{at}: {}", r.stdout);
    }
}

#[cfg(unix)]
#[test]
fn folders_linked_back_up_the_tree_and_files_named_twice_are_linted_once() {
    // A link to a parent folder was followed round until the path grew too long, linting the
    // same file at every turn; a file named and inside a named folder was linted twice.
    let dir = TempDir::new("lint-links");
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{}: {e}", sub.display()));
    let file = write_in(&sub, "promo.txt", "FREE cash at bit.ly/x\n");
    std::os::unix::fs::symlink(&*dir, sub.join("up")).unwrap_or_else(|e| panic!("symlink: {e}"));
    let folder = dir.display().to_string();
    let named = file.display().to_string();
    let r = run(&["lint", &folder, &named, "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    assert_eq!(v["summary"]["files"], 1, "{}", r.stdout);
    assert_eq!(v["summary"]["templates"], 1, "{}", r.stdout);
}

#[test]
fn carets_stay_under_their_token_after_wide_characters() {
    let dir = TempDir::new("lint-wide-columns");
    let path = write_in(&dir, "wide.yaml", "a: \"🎉🎉 限时 FREE bit.ly/x\"\n");
    let r = run(&["lint", &path.display().to_string(), "--color", "never"]);
    assert_eq!(r.code, 1, "{r:?}");
    // Four wide characters take eight columns: the link starts in column 20 on screen.
    let want = format!(
        "1 | a: \"🎉🎉 限时 FREE bit.ly/x\"\n  | {}^^^^^^\n",
        " ".repeat(19)
    );
    assert!(r.stdout.contains(&want), "{}", r.stdout);
}

#[test]
fn long_lines_are_shown_around_the_finding() {
    // A minified catalog is one line: each finding printed all of it (2,000 templates wrote
    // 234 MB), and counted it from its start for every position.
    let dir = TempDir::new("lint-minified");
    let mut catalog = serde_json::Map::new();
    for i in 0..300 {
        let text = if i == 150 {
            "Acme: 限时 deal, see bit.ly/x today. Reply STOP to opt out.".to_owned()
        } else {
            format!("Acme: your order #{i} has shipped. Track it at https://acme.example.com/t/{i}")
        };
        catalog.insert(format!("t{i}"), Value::String(text));
    }
    let text = Value::Object(catalog).to_string();
    let path = write_in(&dir, "min.json", &text);
    let r = run(&["lint", &path.display().to_string(), "--color", "never"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.len() < 5_000, "{} bytes", r.stdout.len());
    let column = text[..text.find("bit.ly").unwrap_or(0)].chars().count() + 1;
    let at = format!("min.json:1:{column}: error[rule.link.public_shortener]");
    let lines: Vec<&str> = r.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains(&at))
        .unwrap_or_else(|| panic!("{at}: {}", r.stdout));
    let (shown, marks) = (lines[head + 2], lines[head + 3]);
    assert!(
        shown.starts_with("1 | …") && shown.ends_with('…'),
        "{shown}"
    );
    // The carets sit under "bit.ly" as a terminal shows the line (限时 two columns each).
    let columns = |s: &str| {
        s.chars()
            .map(|c| if c == '限' || c == '时' { 2 } else { 1 })
            .sum::<usize>()
    };
    let link = shown.find("bit.ly").unwrap_or(0);
    let caret = marks.find('^').unwrap_or(0);
    assert_eq!(
        columns(&shown[..link]),
        columns(&marks[..caret]),
        "{shown}\n{marks}"
    );
    assert!(marks.ends_with("^^^^^^"), "{marks}");
}

#[test]
fn control_characters_in_template_ids_are_shown_as_pictures() {
    let dir = TempDir::new("lint-control-id");
    let path = write_in(&dir, "ids.yaml", "\"a\\e[31mX\": \"FREE bit.ly/x\"\n");
    let r = run(&["lint", &path.display().to_string(), "--color", "never"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains('\u{1b}'), "{:?}", r.stdout);
    assert!(
        r.stdout.contains("template `a\u{241b}[31mX`"),
        "{}",
        r.stdout
    );
}

#[cfg(unix)]
#[test]
fn named_pipes_met_in_a_folder_are_not_read() {
    // Reading a named pipe waits for a writer that never comes: lint hung.
    let dir = TempDir::new("lint-fifo");
    write_in(&dir, "promo.txt", "FREE cash at bit.ly/x\n");
    let pipe = dir.join("pipe.txt");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(made.success(), "mkfifo {}", pipe.display());
    // Should the pipe be read, a writer that opens and closes it ends the read, so that the
    // test fails on the count below instead of hanging. Unread, the writer waits on, and ends
    // with the test process.
    let writer = pipe.clone();
    std::thread::spawn(move || drop(std::fs::OpenOptions::new().write(true).open(writer)));
    let r = run(&["lint", &dir.display().to_string(), "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    assert_eq!(v["summary"]["files"], 1, "{}", r.stdout);
}
