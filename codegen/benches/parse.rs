//! Parse + resolve benchmark, side by side with Python's `xml.etree.ElementTree.parse` of the same
//! files in the same run.
//!
//! `cargo bench -p dualsync-codegen --bench parse` measures:
//! - `crm_schema.xml` (real Dataverse, from tests/corpus),
//! - the near-real full F&O document from `../shared/tools/build-fo-from-facts.py`,
//! - the synthetic ~28 MB F&O document from `../shared/tools/synth-fo-metadata.py` (defaults).
//!
//! "parse" uses both cores for documents over 2 MiB (see `csdl::parallel`); the last column is the same
//! parse on one thread, for comparison.
//!
//! The F&O documents are generated into `target/bench-inputs/` on first use (python3 needed). Time is
//! the median of several in-process runs (dropping the model is not timed); peak memory is the peak
//! RSS (`VmHWM`) of a fresh child process that reads, parses and resolves the file once, for both
//! tools. Set `DUALSYNC_SHARED` to point at another `shared/` folder, `BENCH_RUNS` to change the
//! number of runs (default 11).

mod inputs;

use std::path::Path;

use std::process::Command;
use std::time::{Duration, Instant};

use dualsync_codegen::csdl;
use dualsync_codegen::model::Model;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child mode: read, parse and resolve once, then print peak RSS in KiB.
fn child(path: &Path) {
    let bytes = std::fs::read(path).expect("read input");
    let document = csdl::parse_bytes(&bytes).expect("parse");
    let model = Model::resolve(vec![document]).expect("resolve");
    std::hint::black_box(&model);
    println!("{}", vm_hwm_kib());
}

fn rust_peak_kib(path: &Path) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe).arg("--child").arg(path).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

// VmHWM, not ru_maxrss: on Linux ru_maxrss survives execve, so a child would report the parent's peak.
const PYTHON: &str = r#"
import sys, time, xml.etree.ElementTree as ET
path, runs, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "peak":
    tree = ET.parse(path)
    print([l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")][0])
else:
    samples = []
    for _ in range(runs):
        t = time.perf_counter(); tree = ET.parse(path); samples.append(time.perf_counter() - t); del tree
    samples.sort()
    print(samples[len(samples) // 2])
"#;

fn python(path: &Path, runs: usize, mode: &str) -> Option<f64> {
    let out = Command::new("python3")
        .args(["-c", PYTHON])
        .arg(path)
        .arg(runs.to_string())
        .arg(mode)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn mib(kib: Option<f64>) -> String {
    kib.map_or("?".into(), |k| format!("{:.0} MiB", k / 1024.0))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(Path::new(&args[i + 1]));
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(11)
        .max(1);
    let inputs = inputs::inputs();
    println!("runs per measurement: {runs} (median)\n");
    println!(
        "| input | size | parse | resolve | parse + resolve | peak RSS | ElementTree.parse | ET peak RSS | speed-up | parse, 1 thread |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (label, path) in inputs {
        let bytes = std::fs::read(&path).expect("read input");
        let (mut parse, mut resolve, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let start = Instant::now();
            let document = csdl::parse_bytes(&bytes).expect("parse");
            let parsed = Instant::now();
            let model = Model::resolve(vec![document]).expect("resolve");
            let done = Instant::now();
            parse.push(parsed - start);
            resolve.push(done - parsed);
            total.push(done - start);
            drop(std::hint::black_box(model));
        }
        let total = median(total);
        let mut sequential = Vec::new();
        let text = std::str::from_utf8(&bytes).expect("UTF-8 input");
        for _ in 0..runs {
            let start = Instant::now();
            let document = csdl::parse_str_sequential(text).expect("parse");
            sequential.push(start.elapsed());
            drop(std::hint::black_box(document));
        }
        let peak = rust_peak_kib(&path);
        let et = python(&path, runs.min(7), "time");
        let et_peak = python(&path, 1, "peak");
        let speedup = et.map_or("?".into(), |s| format!("{:.1}×", s / total.as_secs_f64()));
        println!(
            "| {label} | {:.1} MB | {} | {} | {} | {} | {} | {} | {speedup} | {} |",
            bytes.len() as f64 / 1e6,
            ms(median(parse)),
            ms(median(resolve)),
            ms(total),
            mib(peak),
            et.map_or("?".into(), |s| ms(Duration::from_secs_f64(s))),
            mib(et_peak),
            ms(median(sequential)),
        );
    }
}
