//! The sync engine's initial sync against the local emulator on loopback (no limits), release build:
//! Customers V3 → accounts (and the currencies they look up), one company, beside a bare client pump
//! that does the same reads (`$select` of the mapped columns, 5,000 a page) and the same `$batch`
//! upserts (500 a batch) with no engine bookkeeping (no state store, links, fingerprints or queue).
//! Both run as their own process (`sync-worker ... initial` and `sync-worker ... pump`, see
//! `dualsync_tests::pump`), so each has the machine beside the emulator alike and its peak memory
//! is its own.
//!
//! `cargo bench -p dualsync-tests --bench engine` (`BENCH_RUNS`, default 3: medians;
//! `BENCH_COUNTS`, default `20000,100000`).

use std::process::Command;
use std::time::Duration;

use dualsync_emulator::Running;

mod common;
use common::{emulator, median};

fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
}

fn counts() -> Vec<usize> {
    std::env::var("BENCH_COUNTS")
        .unwrap_or_else(|_| "20000,100000".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect()
}

/// The engine (`initial`) or the bare pump (`pump`), as a process: (seconds, peak RSS in MiB).
fn child(running: &Running, mode: &str) -> (f64, f64) {
    let dir = std::env::temp_dir().join(format!("dualsync-bench-engine-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sync-worker"))
        .args([
            running.url.as_str(),
            &dir.join("state.db").to_string_lossy(),
            "127.0.0.1:0",
            mode,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("done "))
        .expect("the worker reports");
    let parts: Vec<&str> = line.split_whitespace().collect();
    let _ = std::fs::remove_dir_all(&dir);
    (
        parts[1].parse().unwrap(),
        parts.get(2).and_then(|p| p.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0,
    )
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("engine initial sync vs bare pump (Customers V3 -> accounts, emulator on loopback, no limits)");
    for n in counts() {
        let mut engine_rates = Vec::new();
        let mut engine_peaks = Vec::new();
        let mut pump_rates = Vec::new();
        for _ in 0..runs() {
            runtime.block_on(async {
                let running = emulator(n).await;
                let (secs, peak) = tokio::task::block_in_place(|| child(&running, "initial"));
                assert_eq!(
                    common::rows(&running, "dataverse", "accounts"),
                    n,
                    "the engine synced every customer"
                );
                engine_rates.push(n as f64 / secs);
                engine_peaks.push(peak);
                drop(running);
                let running = emulator(n).await;
                let (secs, _) = tokio::task::block_in_place(|| child(&running, "pump"));
                assert_eq!(
                    common::rows(&running, "dataverse", "accounts"),
                    n,
                    "the pump wrote every customer"
                );
                pump_rates.push(n as f64 / secs);
                tokio::time::sleep(Duration::from_millis(100)).await;
            });
        }
        let engine = median(engine_rates);
        let pump = median(pump_rates);
        println!(
            "{n:>7} records: engine {engine:>8.0} rec/s (peak RSS {:.1} MiB) | pump {pump:>8.0} rec/s | engine/pump {:.0} %",
            median(engine_peaks),
            engine / pump * 100.0
        );
    }
}
