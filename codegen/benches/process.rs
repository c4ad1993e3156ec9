//! `inspect --json` as a user runs it: a fresh process that reads, parses, resolves, prints the
//! counts and exits, beside a fresh `python3` that runs `xml.etree.ElementTree.parse` of the same
//! file. Each side is timed as a whole process (wall clock, start to exit), alternating, median of
//! `BENCH_RUNS` (default 5) runs each, after one warm-up run each (the file in the page cache).
//!
//! `cargo bench -p dualsync-codegen --bench process` (inputs as in the `parse` bench).

mod inputs;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn timed(command: &mut Command) -> Duration {
    let started = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the process starts");
    let took = started.elapsed();
    assert!(status.success(), "{command:?} failed");
    took
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let ours = env!("CARGO_BIN_EXE_dualsync-codegen");
    println!(
        "whole process: `dualsync-codegen inspect --json FILE` vs `python3 -c 'ElementTree.parse(FILE)'`, median of {runs}"
    );
    for (name, path) in inputs::inputs() {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let rust = || {
            let mut command = Command::new(ours);
            command.arg("inspect").arg("--json").arg(&path);
            command
        };
        let python = || {
            let mut command = Command::new("python3");
            command
                .arg("-c")
                .arg("import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])")
                .arg(&path);
            command
        };
        timed(&mut rust());
        timed(&mut python());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            a.push(timed(&mut rust()));
            b.push(timed(&mut python()));
        }
        let (a, b) = (median(a), median(b));
        println!(
            "{name:<40} {:>6.1} MB  inspect --json {:>7.1} ms  ElementTree {:>7.1} ms  {:.1}x",
            size as f64 / 1e6,
            a.as_secs_f64() * 1000.0,
            b.as_secs_f64() * 1000.0,
            b.as_secs_f64() / a.as_secs_f64()
        );
    }
}
