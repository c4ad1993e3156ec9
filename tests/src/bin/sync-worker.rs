//! The engine as a child process, for the crash tests (`tests/engine_crash.rs`, `tests/soak.sh`):
//! runs initial sync and live sync of the test maps against an emulator until killed.
//!
//! `sync-worker EMULATOR_URL STATE_FILE EVENTS_ADDRESS [initial]`
//!
//! With `initial` (the engine benchmark), it runs the initial syncs, prints
//! `done SECONDS PEAK_RSS_KIB` and exits; with `pump`, the same for the bare client pump the
//! benchmark compares the engine with (`dualsync_tests::pump`; the state file is not used).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dualsync::engine::{Durability, Engine, EngineConfig, SqliteStore, events};
use dualsync_tests::sync::{maps, services};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (url, state, listen, initial_only) = match args.as_slice() {
        [_, url, state, listen] => (url, state, listen, false),
        [_, url, _, _, mode] if mode == "pump" => {
            let seconds = dualsync_tests::pump::pump(url, 5000, 500).await;
            println!("done {seconds:.3} {}", peak_kib());
            return Ok(());
        }
        [_, url, state, listen, mode] if mode == "initial" => (url, state, listen, true),
        _ => return Err("usage: sync-worker EMULATOR_URL STATE_FILE EVENTS_ADDRESS [initial|pump]".into()),
    };
    let store = Arc::new(SqliteStore::open(&PathBuf::from(state), Durability::Full)?);
    let config = EngineConfig {
        batch_size: 25,
        page_size: 40,
        poll_interval: Duration::from_millis(200),
        tick: Duration::from_millis(20),
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_secs(2),
        ..EngineConfig::default()
    };
    let config = if initial_only {
        EngineConfig {
            batch_size: 500,
            page_size: 5000,
            ..config
        }
    } else {
        config
    };
    let engine = Arc::new(Engine::new(services(url), store, maps(), config));
    if initial_only {
        let started = std::time::Instant::now();
        engine.initial_sync_all().await?;
        println!("done {:.3} {}", started.elapsed().as_secs_f64(), peak_kib());
        return Ok(());
    }
    let _endpoint = events::serve(Arc::clone(&engine), listen, None).await?;
    println!("ready");
    engine
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// This process's peak resident memory (`VmHWM`), in KiB; empty where `/proc` has none.
fn peak_kib() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().to_string())
        .unwrap_or_default()
}
