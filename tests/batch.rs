//! Batch mode end to end: JSON Lines in and out, in order, errors as records, exit codes,
//! parallel workers, the daily volume counter, and co-process use over a pipe.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::Value;
use smslint_tests::{bin, root, run_with_stdin, Run};

const SEED: &str = "tests/fixtures/snapshots/seed.json";

fn check(input: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "check", "--config", SEED, "--batch", "-", "--format", "json",
    ];
    args.extend_from_slice(extra);
    run_with_stdin(&args, input)
}

fn records(r: &Run) -> Vec<Value> {
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn one_record_per_line_in_order_with_errors_as_records() {
    let input = concat!(
        "{\"id\":\"m-1\",\"text\":\"Your order #48213 has shipped! Track it at https://shop.example.com/track/48213\"}\n",
        "{\"id\":2,\"text\":\"40% off all jackets today only\"}\n",
        "not json\n",
        "\n",
        "{\"text\": 5}\n",
        "{\"id\":\"x\",\"to\":\"+14155550100\"}\n",
        "{\"id\":\"bad-to\",\"text\":\"Your order shipped\",\"to\":\"415-555-0100\"}\n",
        "{\"id\":\"last\",\"text\":\"Your order #1 has shipped!\"}",
    );
    let r = check(input, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    let recs = records(&r);
    assert_eq!(recs.len(), 8);
    for (i, rec) in recs.iter().enumerate() {
        assert_eq!(rec["line"], i + 1);
    }
    assert_eq!(recs[0]["id"], "m-1");
    assert_eq!(recs[0]["verdict"], "approve");
    assert_eq!(recs[1]["id"], 2, "ids are echoed as given");
    assert_eq!(recs[1]["verdict"], "reject");
    let codes: Vec<&str> = recs[2..7]
        .iter()
        .map(|r| r["error"]["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        codes,
        [
            "input.invalid_json",
            "input.invalid_json",
            "input.invalid_field",
            "input.missing_text",
            "input.invalid_field"
        ]
    );
    assert_eq!(recs[5]["id"], "x");
    assert_eq!(recs[7]["id"], "last");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn a_batch_writes_json_lines_without_being_told_and_refuses_human_output() {
    let line = "{\"text\":\"Your order #48213 has shipped!\"}\n";
    for command in [vec!["check", "--config", SEED], vec!["classify"]] {
        let mut args = command.clone();
        args.extend(["--batch", "-"]);
        let plain = run_with_stdin(&args, line);
        let mut json = args.clone();
        json.extend(["--format", "json"]);
        assert_eq!(
            plain.stdout,
            run_with_stdin(&json, line).stdout,
            "{plain:?}"
        );
        assert_eq!(records(&plain)[0]["line"], 1, "{plain:?}");
        let mut human = args.clone();
        human.extend(["--format", "human"]);
        let refused = run_with_stdin(&human, line);
        assert_eq!(refused.code, 2, "{refused:?}");
        assert!(
            refused.stderr.contains("--batch writes JSON Lines"),
            "{refused:?}"
        );
    }
}

#[test]
fn exit_codes() {
    let ok = "{\"text\":\"Your order #48213 has shipped!\"}\n";
    assert_eq!(check(ok, &[]).code, 0);
    let rejected = format!("{ok}{{\"text\":\"40% off today only\"}}\n");
    assert_eq!(check(&rejected, &[]).code, 1);
}

/// The default line limit is 64 KiB: a line of that many bytes is checked, one byte more is an
/// error record, and `--max-line-bytes` lets a longer one through.
#[test]
fn the_default_line_limit_is_64_kib() {
    let line = |bytes: usize| {
        let head = "{\"text\":\"";
        let text = "Your order has shipped. ".repeat(bytes / 24 + 1);
        let text = &text[..bytes - head.len() - 2];
        format!("{head}{text}\"}}\n")
    };
    let at_limit = line(64 << 10);
    assert_eq!(at_limit.len(), (64 << 10) + 1, "the line and its newline");
    let over = line((64 << 10) + 1);
    let args = ["check", "--config", SEED, "--batch", "-"];
    let r = run_with_stdin(&args, &format!("{at_limit}{over}"));
    let recs = records(&r);
    assert_eq!(recs.len(), 2, "{r:?}");
    assert!(recs[0]["verdict"].is_string(), "{r:?}");
    assert_eq!(recs[1]["error"]["code"], "input.line_too_long", "{r:?}");
    assert!(recs[1]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("65536 bytes")));
    let raised = run_with_stdin(
        &[
            "check",
            "--config",
            SEED,
            "--batch",
            "-",
            "--max-line-bytes",
            "1048576",
        ],
        &over,
    );
    assert!(records(&raised)[0]["verdict"].is_string(), "{raised:?}");
}

#[test]
fn invalid_utf8_and_long_lines_become_error_records() {
    let mut child = Command::new(bin())
        .args([
            "check",
            "--config",
            SEED,
            "--batch",
            "-",
            "--format",
            "json",
            "--max-line-bytes",
            "100",
        ])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut input: Vec<u8> = b"{\"text\":\"ok \xff\"}\n".to_vec();
    input.extend(format!("{{\"text\":\"{}\"}}\n", "a".repeat(500)).as_bytes());
    input.extend(b"{\"text\":\"Your order #1 has shipped!\"}\n");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&input);
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let recs: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(recs.len(), 3, "{text}");
    assert_eq!(recs[0]["error"]["code"], "input.invalid_utf8");
    assert_eq!(recs[1]["error"]["code"], "input.line_too_long");
    assert!(recs[1]["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("100 bytes")));
    assert_eq!(recs[2]["verdict"], "approve");
}

fn many(n: usize) -> String {
    let texts = [
        "Your order #{i} has shipped! Track it at https://shop.example.com/track/{i}",
        "40% off all jackets today only, code SAVE{i}",
        "Your verification code is {i}. Do not share it.",
        "Thanks for contacting support, your ticket #{i} is open.",
        "Café Lumière: votre commande {i} est prête 🎉",
    ];
    let mut out = String::new();
    for i in 0..n {
        let t = texts[i % texts.len()].replace("{i}", &i.to_string());
        let text = serde_json::to_string(&t).unwrap_or_default();
        let _ = writeln!(out, "{{\"id\":{i},\"text\":{text}}}");
    }
    out
}

#[test]
fn parallel_workers_keep_input_order() {
    let input = many(3000);
    let one = check(&input, &["--jobs", "1"]);
    let two = check(&input, &["--jobs", "2"]);
    assert_eq!(one.code, two.code);
    assert_eq!(one.stdout.lines().count(), 3000);
    assert!(
        one.stdout == two.stdout,
        "--jobs 2 output differs from --jobs 1"
    );
    let c1 = run_with_stdin(&["classify", "--batch", "-", "--jobs", "1"], &input);
    let c2 = run_with_stdin(&["classify", "--batch", "-", "--jobs", "2"], &input);
    assert_eq!(c1.stdout.lines().count(), 3000);
    assert!(c1.stdout == c2.stdout, "classify --jobs 2 output differs");
}

#[test]
fn jobs_past_the_blocks_or_the_bound_change_nothing_or_are_refused() {
    // 3,000 lines are 47 blocks of 64: workers past that find no work and are not started.
    let input = many(3000);
    let one = check(&input, &["--jobs", "1"]);
    let most = check(&input, &["--jobs", "1024"]);
    assert!(one.stdout == most.stdout, "--jobs 1024 output differs");
    assert_eq!(one.code, most.code);
    // Many thousands of threads killed the process instead of failing; 0 did one's work.
    for n in ["1025", "100000", "0"] {
        let r = check(&input, &["--jobs", n]);
        assert_eq!(r.code, 2, "--jobs {n}: {r:?}");
        assert!(r.stdout.is_empty(), "--jobs {n}: {}", r.stdout);
        assert!(r.stderr.contains("1..=1024"), "--jobs {n}: {}", r.stderr);
    }
}

#[test]
fn the_volume_counter_counts_this_batchs_approvals() {
    let shipped = "{\"text\":\"Your order #48213 has shipped!\"}\n";
    let sale = "{\"text\":\"40% off today only\"}\n";
    // 5998 sent already: two more may go; a message rejected for another reason uses nothing.
    let input = format!("{shipped}{sale}{shipped}{shipped}{shipped}");
    let recs = records(&check(&input, &["--sent-today", "5998"]));
    let verdicts: Vec<&str> = recs
        .iter()
        .map(|r| r["verdict"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        verdicts,
        ["approve", "reject", "approve", "reject", "reject"]
    );
    assert!(
        recs[3]["reasons"][0]["code"] == "volume.daily_cap_exceeded",
        "{}",
        recs[3]
    );
    assert!(recs[1]["reasons"]
        .as_array()
        .is_some_and(|rs| rs.iter().all(|r| r["code"] != "volume.daily_cap_exceeded")));
    // The same in parallel.
    let recs2 = records(&check(&input, &["--sent-today", "5998", "--jobs", "2"]));
    assert_eq!(recs, recs2);
}

#[test]
fn the_volume_counter_counts_alike_in_parallel_over_many_chunks() {
    // Several 256 KiB chunks of lines that workers decide in blocks and the writer counts,
    // handing each verdict's buffers back: the cap is reached part-way, in the second chunk.
    let input = many(14_000);
    assert!(input.len() > 3 * (256 << 10), "{} bytes", input.len());
    let one = check(&input, &["--jobs", "1", "--sent-today", "2000"]);
    let two = check(&input, &["--jobs", "2", "--sent-today", "2000"]);
    let recs = records(&one);
    assert_eq!(recs.len(), 14_000);
    let capped = |r: &&Value| {
        r["reasons"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r["code"] == "volume.daily_cap_exceeded"))
    };
    let first = recs.iter().position(|r| capped(&r));
    assert!(
        first.is_some_and(|i| (4_000..10_000).contains(&i)),
        "{first:?}"
    );
    assert!(recs.iter().filter(capped).count() > 1_000);
    assert!(
        one.stdout == two.stdout,
        "--jobs 2 output differs from --jobs 1"
    );
}

#[test]
fn answers_each_line_of_a_pipe_before_the_next_arrives() {
    let mut child = Command::new(bin())
        .args([
            "check", "--config", SEED, "--batch", "-", "--format", "json",
        ])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    let mut stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout")));
    for (i, text) in ["Your order #1 has shipped!", "40% off today only"]
        .iter()
        .enumerate()
    {
        writeln!(stdin, "{{\"id\":{i},\"text\":\"{text}\"}}").unwrap_or_default();
        stdin.flush().unwrap_or_default();
        // The answer arrives while stdin is still open: the reply is not held back.
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap_or_default();
        let rec: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(rec["id"], i);
        assert_eq!(rec["line"], i + 1);
    }
    drop(stdin);
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status.code(), Some(1));
}

#[test]
fn a_reader_that_closes_the_output_early_never_gets_exit_0() {
    // Every message here is approved, so a run seen to the end exits 0; one whose reader left
    // after the first line did not see its input to the end, and must not say so.
    let shipped = "{\"text\":\"Your order #1 has shipped!\"}\n".repeat(50_000);
    for (command, jobs) in [("check", "1"), ("check", "2"), ("classify", "2")] {
        let mut args = vec![command, "--batch", "-", "--jobs", jobs];
        if command == "check" {
            args.extend(["--config", SEED, "--format", "json"]);
        }
        let mut child = Command::new(bin())
            .args(&args)
            .current_dir(root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let input = shipped.clone();
        // Writes fail once smslint has gone; that is expected.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout")));
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap_or_default();
        assert!(line.starts_with("{\"line\":1,"), "{line}");
        drop(stdout);
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let _ = writer.join();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
    // The same input read to the end approves every message.
    let r = check(&shipped[..shipped.len() / 100], &[]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn a_batch_source_that_cannot_be_read_is_named() {
    // A folder opens, and fails at the first read.
    for command in ["check", "classify"] {
        let mut args = vec![command, "--batch", "tests/fixtures"];
        if command == "check" {
            args.extend(["--config", SEED]);
        }
        let r = run_with_stdin(&args, "");
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("cannot read tests/fixtures: "), "{r:?}");
    }
}

#[test]
fn each_line_may_name_its_sender() {
    let input = concat!(
        "{\"text\":\"Your order #1 has shipped!\",\"from\":\"+16501234567\"}\n",
        "{\"text\":\"Your order #1 has shipped!\",\"from\":\"+13125550404\"}\n",
        "{\"text\":\"Your order #1 has shipped!\"}\n",
        "{\"text\":\"Your order #1 has shipped!\",\"from\":\"+19995550000\"}\n",
    );
    let r = run_with_stdin(
        &[
            "check",
            "--config",
            "tests/fixtures/snapshots/account.json",
            "--batch",
            "-",
            "--format",
            "json",
        ],
        input,
    );
    let recs = records(&r);
    assert_eq!(recs[0]["verdict"], "approve");
    assert_eq!(recs[1]["reasons"][0]["code"], "campaign.not_confirmed");
    assert_eq!(recs[2]["error"]["code"], "input.unknown_sender");
    assert_eq!(recs[3]["error"]["code"], "input.unknown_sender");
    assert_eq!(r.code, 2);
}

#[test]
fn lines_that_are_json_but_not_objects_are_refused() {
    // A tuple written by `json.dumps((id, text))` is an array; serde would read it as the
    // record's fields in order, and this one would be approved as message "m-1".
    let shipped = "Your order #48213 has shipped! Track it at https://shop.example.com/track/48213";
    let input = format!(
        "{{\"id\":\"m-1\",\"text\":\"{shipped}\"}}\n[\"m-1\",\"{shipped}\"]\n  [{{\"text\":\"{shipped}\"}}]\n\"{shipped}\"\n7\nnull\nfalse\n[1,\n"
    );
    let r = check(&input, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    let recs = records(&r);
    assert_eq!(recs[0]["verdict"], "approve", "{r:?}");
    let kinds = [
        "an array",
        "an array",
        "a string",
        "a number",
        "null",
        "a boolean",
    ];
    for (rec, kind) in recs[1..7].iter().zip(kinds) {
        assert_eq!(rec["error"]["code"], "input.invalid_json", "{rec}");
        let message = rec["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with(&format!("the line is {kind}, not an object")),
            "{rec}"
        );
        assert!(rec.get("id").is_none(), "{rec}");
    }
    // Broken JSON keeps the parser's own words, which point at the fault.
    assert_eq!(recs[7]["error"]["code"], "input.invalid_json");
    assert!(
        recs[7]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("column"),
        "{r:?}"
    );
    assert_eq!(recs.len(), 8);
}

#[test]
fn ids_are_strings_or_numbers_a_reader_can_hold() {
    let input = "{\"id\":1e400,\"text\":\"hi\"}\n{\"id\":{\"a\":1},\"text\":\"hi\"}\n{\"id\":null,\"text\":\"hi\"}\n{\"id\":1e4,\"text\":\"hi\"}\n";
    let r = run_with_stdin(&["classify", "--batch", "-"], input);
    assert_eq!(r.code, 2, "{r:?}");
    let recs = records(&r);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0]["error"]["code"], "input.invalid_field");
    assert!(recs[0].get("id").is_none());
    assert_eq!(recs[1]["error"]["code"], "input.invalid_field");
    assert!(recs[2].get("id").is_none() && recs[2].get("error").is_none());
    assert_eq!(recs[3]["id"], 10000.0);
}

#[test]
fn ids_with_unpaired_surrogate_escapes_are_refused_and_pairs_echoed() {
    // `\uD800` alone matches JSON's grammar but decodes to no character: echoed as given, it
    // made the output line one that serde_json refuses (found by the `batch` fuzzer).
    let input = concat!(
        r#"{"id":"a\uD800","text":"hi"}"#,
        "\n",
        r#"{"id":"\udc00x","text":5}"#,
        "\n",
        r#"{"id":"\uDE00\uD83D","text":"hi"}"#,
        "\n",
        r#"{"id":"ok \uD83D\uDE00","text":"hi"}"#,
        "\n",
        r#"{"id":"tab\tquote\"","text":"hi"}"#,
        "\n",
    );
    for command in ["classify", "check"] {
        let mut args = vec![command, "--batch", "-"];
        if command == "check" {
            args.extend(["--config", SEED]);
        }
        let r = run_with_stdin(&args, input);
        assert_eq!(r.code, 2, "{r:?}");
        let recs = records(&r);
        assert_eq!(recs.len(), 5, "{command}");
        for rec in &recs[..3] {
            assert_eq!(
                rec["error"]["code"], "input.invalid_field",
                "{command}: {rec}"
            );
            assert!(rec.get("id").is_none(), "{command}: {rec}");
        }
        assert!(
            recs[0]["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("unpaired surrogate")),
            "{}",
            recs[0]
        );
        // A pair and other escapes are echoed as given.
        assert!(
            r.stdout.contains(r#""id":"ok \uD83D\uDE00""#),
            "{}",
            r.stdout
        );
        assert_eq!(recs[3]["id"], "ok \u{1F600}");
        assert_eq!(recs[4]["id"], "tab\tquote\"");
    }
}

#[test]
fn a_batch_line_says_what_a_check_of_its_message_alone_says() {
    // Messages whose rule findings have spans that two matchers of a clause (a phrase and a
    // pattern, or two patterns) compete for: the first occurrence in the text wins either way.
    let texts = [
        "Bet $10, get $50 in free bets on Sunday's game at WinZone! Reply STOP to opt out",
        "Turn $250 into $5,000 a week with our proven crypto trading system! Reply STOP to opt out",
        "Win a free iPhone!! Enter the giveaway now, click bit.ly/3xWin",
        "Tired of debt? We can erase your credit card debt in 30 days. Call now!",
        "Your order has shipped. Track it at https://example.com/track/123",
    ];
    let mut input = String::new();
    for t in texts {
        let _ = writeln!(input, "{}", serde_json::json!({ "text": t }));
    }
    let batch = records(&check(&input, &[]));
    assert_eq!(batch.len(), texts.len());
    let mut spans = 0;
    for (text, mut line) in texts.iter().zip(batch) {
        let alone = smslint_tests::run(&[
            "check", "--config", SEED, "--format", "json", "--text", text,
        ]);
        let alone: Value = serde_json::from_str(alone.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", alone.stdout));
        if let Some(line) = line.as_object_mut() {
            line.remove("line");
        }
        assert_eq!(line, alone, "{text}");
        spans += alone["reasons"]
            .as_array()
            .map_or(0, |r| r.iter().filter(|r| r.get("span").is_some()).count());
    }
    assert!(spans >= 4, "{spans}");
}
