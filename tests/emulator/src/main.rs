//! `dualsync-emulator`: serves a local Dataverse and F&O on loopback.

use std::path::PathBuf;

use clap::Parser;

/// A local Microsoft Dataverse and Dynamics 365 F&O for tests and demos, on one port:
/// Dataverse under /api/data/v9.2/, F&O under /data/, the admin API under /_admin/.
#[derive(Debug, Parser)]
#[command(name = "dualsync-emulator", version)]
struct Args {
    /// Dataverse metadata: a folder as `dualsync-codegen fetch` writes it (metadata.xml, optionsets/)
    /// or one $metadata XML file.
    #[arg(long, value_name = "DIR")]
    dataverse: Option<PathBuf>,
    /// F&O metadata: a folder (metadata.xml) or one $metadata XML file.
    #[arg(long, value_name = "DIR")]
    fo: Option<PathBuf>,
    /// Seed data: {"dataverse": {"accounts": [..]}, "fo": {"CustomersV3": [..]}}.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Fault injection settings (JSON, see the README).
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// Dataverse service protection limits (JSON).
    #[arg(long, value_name = "FILE")]
    limits: Option<PathBuf>,
    /// Keep the records in this file (loaded at start, saved every second and at exit).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 7777)]
    port: u16,
}

fn read_json(path: &PathBuf) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(args: Args) -> Result<(), String> {
    if args.dataverse.is_none() && args.fo.is_none() {
        return Err("nothing to serve: give --dataverse DIR and/or --fo DIR".into());
    }
    let emulator = dualsync_emulator::Emulator::from_paths(args.dataverse.as_deref(), args.fo.as_deref())
        .map_err(|e| e.to_string())?;
    if let Some(path) = &args.faults {
        let config =
            serde_json::from_value(read_json(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        emulator.set_faults(config);
    }
    if let Some(path) = &args.limits {
        let limits =
            serde_json::from_value(read_json(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        emulator.set_limits(limits);
    }
    if let Some(path) = &args.state {
        emulator.with(|s| s.state_file = Some(path.clone()));
        if path.exists() {
            let saved = read_json(path)?;
            let n = emulator.with(|s| dualsync_emulator::load_seed(s, &saved))?;
            eprintln!("loaded {n} records from {}", path.display());
        }
    }
    if let Some(path) = &args.seed {
        let seed = read_json(path)?;
        let n = emulator.with(|s| dualsync_emulator::load_seed(s, &seed))?;
        eprintln!("loaded {n} seed records from {}", path.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let running = emulator
            .clone()
            .serve(&format!("127.0.0.1:{}", args.port))
            .await
            .map_err(|e| e.to_string())?;
        emulator.with(|s| {
            if let Some(d) = &s.dataverse {
                eprintln!(
                    "Dataverse: {} entity sets at {}",
                    d.schema.tables.len(),
                    running.dataverse_root()
                );
            }
            if let Some(f) = &s.fo {
                eprintln!(
                    "F&O: {} entity sets at {}",
                    f.schema.tables.len(),
                    running.fo_root()
                );
            }
        });
        println!("listening {}", running.url);
        let _ = tokio::signal::ctrl_c().await;
        emulator.with(|s| s.save()).map_err(|e| e.to_string())?;
        Ok(())
    })
}

fn main() {
    if let Err(message) = run(Args::parse()) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
