//! Generation benchmark, side by side with odata2ts on the same inputs in the same run, plus the
//! `cargo check` time of the generated crate.
//!
//! `cargo bench -p dualsync-codegen --bench generate` measures, for `crm_schema.xml` and the two
//! full-size F&O documents (made as in the `parse` bench): the wall time and peak RSS of
//! `dualsync-codegen generate` (all entity types, into a fresh folder) and of odata2ts 0.34 in its
//! one-file-per-type models mode (`bundledFileGeneration: false`, `allowRenaming: true`,
//! `--mode models`). Both run as child processes of one small Python wrapper that reports wall time
//! and the child's peak RSS, so the two are measured the same way. odata2ts is installed with npm into
//! `target/bench-tools/` on first use. `BENCH_RUNS` sets the runs per measurement (default 3, median).

mod inputs;

use std::path::{Path, PathBuf};

use inputs::workspace;
use std::process::Command;

/// Runs a command under a Python wrapper: (seconds, peak RSS of the child in KiB).
const MEASURE: &str = r#"
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"#;

fn measure(command: &[&str], runs: usize) -> Option<(f64, f64)> {
    let mut samples = Vec::new();
    let mut peak: f64 = 0.0;
    for _ in 0..runs {
        let out = Command::new("python3")
            .args(["-c", MEASURE])
            .args(command)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        let seconds: f64 = parts.next()?.parse().ok()?;
        let kib: f64 = parts.next()?.parse().ok()?;
        let code: i32 = parts.next()?.parse().ok()?;
        if code != 0 {
            eprintln!("{} exited with {code}", command.join(" "));
            return None;
        }
        samples.push(seconds);
        peak = peak.max(kib);
    }
    samples.sort_by(f64::total_cmp);
    Some((samples[samples.len() / 2], peak / 1024.0))
}

fn odata2ts() -> Option<PathBuf> {
    let tools = workspace().join("target/bench-tools");
    let bin = tools.join("node_modules/.bin/odata2ts");
    if !bin.exists() {
        std::fs::create_dir_all(&tools).ok()?;
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .args(["@odata2ts/odata2ts@0.34", "typescript@5.4"])
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
    }
    std::fs::write(
        tools.join("odata2ts.config.js"),
        "module.exports = { bundledFileGeneration: false, allowRenaming: true, emitMode: \"ts\", mode: \"models\" };\n",
    )
    .ok()?;
    std::fs::write(
        tools.join("tsconfig.json"),
        "{ \"compilerOptions\": { \"target\": \"ES2020\", \"module\": \"commonjs\", \"strict\": true } }\n",
    )
    .ok()?;
    Some(bin)
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "dualsync-codegen",
            "--bin",
            "dualsync-codegen",
        ])
        .current_dir(workspace())
        .status()
        .expect("cargo build");
    assert!(status.success(), "building dualsync-codegen failed");
    let ours = workspace().join("target/release/dualsync-codegen");
    let inputs = inputs::inputs();
    let odata2ts = odata2ts();
    let scratch = workspace().join("target/bench-out");
    println!("runs per measurement: {runs} (median wall time; peak RSS of the process)\n");
    println!(
        "| input | dualsync-codegen generate | peak RSS | files | odata2ts (models, one file per type) | peak RSS | speed-up |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|");
    for (label, input) in inputs {
        let out = scratch.join("dualsync");
        let _ = std::fs::remove_dir_all(&out);
        let input_text = input.display().to_string();
        let out_text = out.display().to_string();
        let ours_result = measure(
            &[
                ours.to_str().unwrap_or_default(),
                "generate",
                "--metadata",
                &input_text,
                "--out",
                &out_text,
            ],
            runs,
        );
        let files = walk_count(&out);
        let theirs = odata2ts.as_ref().and_then(|bin| {
            let o2ts_out = scratch.join("odata2ts");
            let _ = std::fs::remove_dir_all(&o2ts_out);
            let tools = workspace().join("target/bench-tools");
            let command = format!(
                "cd {} && {} -s {} -o {} -m models -r",
                tools.display(),
                bin.display(),
                input_text,
                o2ts_out.display()
            );
            measure(&["sh", "-c", &command], runs)
        });
        let cell = |m: Option<(f64, f64)>| {
            m.map_or(("?".to_string(), "?".to_string()), |(s, mib)| {
                (format!("{:.2} s", s), format!("{mib:.0} MiB"))
            })
        };
        let (our_time, our_peak) = cell(ours_result);
        let (their_time, their_peak) = cell(theirs);
        let speedup = match (ours_result, theirs) {
            (Some((a, _)), Some((b, _))) => format!("{:.1}×", b / a),
            _ => "?".into(),
        };
        println!("| {label} | {our_time} | {our_peak} | {files} | {their_time} | {their_peak} | {speedup} |");
    }
    // The generated crate: a clean `cargo check` of it alone (its dependencies already built).
    let check = |args: &[&str]| {
        Command::new(env!("CARGO"))
            .args(args)
            .current_dir(workspace())
            .status()
    };
    let _ = check(&["check", "--quiet", "-p", "dualsync-generated"]);
    let _ = check(&["clean", "--quiet", "-p", "dualsync-generated"]);
    if let Some((seconds, _)) = measure(
        &[env!("CARGO"), "check", "--quiet", "-p", "dualsync-generated"],
        1,
    ) {
        println!("\n`cargo check -p dualsync-generated` (clean, dependencies built): {seconds:.2} s");
    }
}

fn walk_count(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}
