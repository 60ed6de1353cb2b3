//! The daily volume ledger end to end: exact caps under concurrency for SQLite and Redis, fail
//! closed when the ledger is broken or silent, and `ledger show` / `ledger reset`.

#![forbid(unsafe_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use smslint_tests::{bin, fixture, root, run, TempDir};

const SHIPPED: &str = "Your order #48213 has shipped! Track it at https://shop.example.com/t/48213";

fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("ledger-{name}"))
}

/// A batch of `n` shipping notices.
fn batch(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("batch.jsonl");
    let mut f = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..n {
        writeln!(f, "{}", serde_json::json!({"id": i, "text": SHIPPED}))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    path
}

/// Run `processes` batch checks at once against `url` with a cap; approvals in all outputs.
fn concurrent_approvals(url: &str, dir: &Path, processes: usize, per: usize, cap: u64) -> usize {
    let input = batch(dir, per);
    let seed = fixture("snapshots/seed.json");
    let children: Vec<Child> = (0..processes)
        .map(|_| {
            Command::new(bin())
                .args(["check", "--config"])
                .arg(&seed)
                .arg("--batch")
                .arg(&input)
                .args(["--format", "json", "--jobs", "1", "--ledger", url])
                .args(["--daily-cap", &cap.to_string()])
                .current_dir(root())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start smslint: {e}"))
        })
        .collect();
    let mut approved = 0;
    for child in children {
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("smslint did not finish: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.lines().count(), per, "{stdout}");
        for line in stdout.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            match v["verdict"].as_str() {
                Some("approve") => approved += 1,
                Some("reject") => assert_eq!(
                    v["reasons"][0]["code"], "volume.daily_cap_exceeded",
                    "{line}"
                ),
                _ => panic!("unexpected record {line}"),
            }
        }
    }
    approved
}

#[test]
fn sqlite_four_processes_approve_exactly_the_cap() {
    let dir = temp_dir("sqlite-cap");
    let url = format!("sqlite:{}", dir.join("ledger.db").display());
    assert_eq!(concurrent_approvals(&url, &dir, 4, 50, 120), 120);
    let r = run(&["ledger", "show", &url, "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(v[0]["campaign"], "2008");
    assert_eq!(v[0]["sent"], 120);
    let r = run(&["ledger", "reset", &url, "--campaign", "2008"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .starts_with("removed 1 daily count of campaign 2008"),
        "{}",
        r.stdout
    );
    let r = run(&["ledger", "show", &url]);
    assert!(r.stdout.starts_with("no counts in sqlite:"), "{}", r.stdout);
}

/// A `redis-server` on a free loopback port, stopped on drop.
struct Redis {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_or_else(|e| panic!("no free port: {e}"), |a| a.port());
        let dir = temp_dir(&format!("redis-{port}"));
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(&*dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): install it (apt-get install redis-server); \
                     .ci/run does"
                )
            });
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/3", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn redis_four_processes_approve_exactly_the_cap() {
    let redis = Redis::start();
    let dir = temp_dir("redis-cap");
    assert_eq!(concurrent_approvals(&redis.url(), &dir, 4, 50, 120), 120);
    let r = run(&["ledger", "show", &redis.url(), "--campaign", "2008"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("2008"), "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with(" 120"), "{}", r.stdout);
    let r = run(&["ledger", "reset", &redis.url(), "--campaign", "2008"]);
    assert!(
        r.stdout.starts_with("removed 1 daily count"),
        "{}",
        r.stdout
    );
}

fn check_with_ledger(url: &str, extra: &[&str]) -> serde_json::Value {
    let seed = fixture("snapshots/seed.json").display().to_string();
    let mut args = vec![
        "check", "--config", &seed, "--text", SHIPPED, "--format", "json", "--ledger", url,
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(r.code, 1, "{r:?}");
    v
}

#[test]
fn a_broken_or_silent_ledger_rejects() {
    // A directory is not a database.
    let dir = temp_dir("broken");
    let v = check_with_ledger(&format!("sqlite:{}", dir.display()), &[]);
    assert_eq!(v["reasons"][0]["code"], "volume.ledger_unavailable", "{v}");
    // Nothing listens.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(1, |a| a.port());
    let v = check_with_ledger(&format!("redis://127.0.0.1:{port}"), &[]);
    assert_eq!(v["reasons"][0]["code"], "volume.ledger_unavailable", "{v}");
    // A server that accepts and never answers: the timeout bounds the wait.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = silent.local_addr().map_or(1, |a| a.port());
    let holder = std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(3));
        drop(held);
    });
    let started = Instant::now();
    let v = check_with_ledger(
        &format!("redis://:pw@127.0.0.1:{port}"),
        &["--ledger-timeout", "0.5"],
    );
    assert_eq!(v["reasons"][0]["code"], "volume.ledger_unavailable", "{v}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let _ = holder.join();
}

#[test]
fn rejected_messages_consume_nothing_and_bad_urls_are_usage_errors() {
    let dir = temp_dir("consume");
    let url = format!("sqlite:{}", dir.join("ledger.db").display());
    let seed = fixture("snapshots/seed.json").display().to_string();
    // Marketing is not registered on the seed campaign: rejected before the ledger.
    let r = run(&[
        "check",
        "--config",
        &seed,
        "--text",
        "Flash sale! 40% off everything today only",
        "--format",
        "json",
        "--ledger",
        &url,
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = run(&["ledger", "show", &url, "--format", "json"]);
    assert_eq!(r.stdout.trim(), "[]");

    let r = run(&[
        "check",
        "--config",
        &seed,
        "--text",
        SHIPPED,
        "--ledger",
        "mysql://db",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a ledger URL"), "{}", r.stderr);
    let r = run(&[
        "check",
        "--config",
        &seed,
        "--text",
        SHIPPED,
        "--daily-cap",
        "5",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = run(&[
        "check",
        "--config",
        &seed,
        "--text",
        SHIPPED,
        "--ledger",
        &url,
        "--sent-today",
        "3",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
}
