//! The engine as a child process, for the crash tests (`tests/engine_crash.rs`, `tests/soak.sh`):
//! runs initial sync and live sync of the test maps against an emulator until killed.
//!
//! `sync-worker EMULATOR_URL STATE_FILE EVENTS_ADDRESS`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dualsync::engine::{Durability, Engine, EngineConfig, SqliteStore, events};
use dualsync_tests::sync::{maps, services};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, state, listen] = args.as_slice() else {
        return Err("usage: sync-worker EMULATOR_URL STATE_FILE EVENTS_ADDRESS".into());
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
    let engine = Arc::new(Engine::new(services(url), store, maps(), config));
    let _endpoint = events::serve(Arc::clone(&engine), listen, None).await?;
    println!("ready");
    engine
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
