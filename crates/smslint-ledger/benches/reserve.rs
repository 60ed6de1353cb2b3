//! Reserve latency and throughput of both ledger backends on this machine.
//!
//! `cargo bench -p smslint-ledger --bench reserve`. SQLite runs on a file in the temp folder;
//! Redis on a `redis-server` started on a free loopback port (skipped, and said so, when the
//! binary is not installed). Each backend: one connection reserving in a loop (latency
//! percentiles), then 4 connections on 4 threads (throughput under contention).

#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use smslint_ledger::{Day, Ledger};

const OPS: usize = 20_000;
const THREADS: usize = 4;

fn day() -> Day {
    Day {
        name: "2026-11-27".into(),
        expires_at: 4_000_000_000,
    }
}

fn open(url: &str) -> Box<dyn Ledger> {
    smslint_ledger::open(url, Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"))
}

fn percentile(sorted: &[Duration], per_mille: usize) -> f64 {
    sorted[(sorted.len() - 1) * per_mille / 1000].as_secs_f64() * 1e6
}

fn one_connection(name: &str, url: &str) {
    let mut ledger = open(url);
    let d = day();
    let mut lat = Vec::with_capacity(OPS);
    let start = Instant::now();
    for _ in 0..OPS {
        let t = Instant::now();
        ledger
            .reserve("bench-1", &d, u64::MAX / 2)
            .unwrap_or_else(|e| panic!("{e}"));
        lat.push(t.elapsed());
    }
    let rate = OPS as f64 / start.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "{name} reserve, 1 connection: {OPS} ops, {rate:.0} ops/s, p50 {:.1} us, p90 {:.1} us, p99 {:.1} us, max {:.1} us",
        percentile(&lat, 500),
        percentile(&lat, 900),
        percentile(&lat, 990),
        percentile(&lat, 1000),
    );
}

fn threads(name: &str, url: &str) {
    let per = OPS / THREADS;
    let start = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let url = url.to_owned();
            std::thread::spawn(move || {
                let mut ledger = open(&url);
                let d = day();
                for _ in 0..per {
                    ledger
                        .reserve("bench-4", &d, u64::MAX / 2)
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let rate = (per * THREADS) as f64 / start.elapsed().as_secs_f64();
    println!("{name} reserve, {THREADS} connections on one counter: {rate:.0} ops/s in all");
}

fn main() {
    let dir = std::env::temp_dir().join(format!("smslint-ledger-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let sqlite = format!("sqlite:{}", dir.join("ledger.db").display());
    one_connection("sqlite", &sqlite);
    threads("sqlite", &sqlite);

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(6399, |a| a.port());
    let started = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match started {
        Ok(mut child) => {
            let t = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
                && t.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            let url = format!("redis://127.0.0.1:{port}/0");
            one_connection("redis", &url);
            threads("redis", &url);
            stop(&mut child);
        }
        Err(e) => println!("redis: skipped, redis-server cannot start ({e})"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
