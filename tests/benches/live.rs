//! The sync engine after its initial sync, against the local emulator on loopback, release build,
//! engine in this process (its default settings, a 1 s Dataverse poll interval, durable state store):
//!
//! - **latency**: 100 changes a second for `BENCH_SECONDS` (default 10) on F&O (data events to the
//!   engine's endpoint) and then on Dataverse (change tracking), each on a customer not changed in
//!   the last few seconds; the latency of one change runs from just before its PATCH is sent to the
//!   moment the other side holds the new value (a watcher looks at the emulator's rows every 2 ms).
//! - **protection**: initial sync of `BENCH_PROTECTED` (default 12,000) customers with Dataverse's
//!   service protection on, scaled to a short window (30 requests per 15 s); the engine's time
//!   beside the fastest schedule the limits admit for the same Dataverse requests (bursts of 30, one
//!   window apart), and the emulator's count of requests that arrived inside a `Retry-After` window.
//!
//! `cargo bench -p dualsync-tests --bench live` (`BENCH_PARTS`, default `latency,protection`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dualsync::engine::{Durability, Engine, EngineConfig, SqliteStore, events};
use dualsync_emulator::Running;
use dualsync_tests::sync::{maps, services, subscribe_events};
use serde_json::{Value, json};

mod common;
use common::{emulator, rows};

const CUSTOMERS: usize = 1000;
const RATE: u64 = 100;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dualsync-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn engine(running: &Running, dir: &std::path::Path, config: EngineConfig) -> Arc<Engine> {
    let store = Arc::new(SqliteStore::open(&dir.join("state.db"), Durability::Full).unwrap());
    Arc::new(Engine::new(services(&running.url), store, maps(), config))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Primary key text of each row of `set`, by the value of `column`.
fn index(running: &Running, service: &str, set: &str, column: &str) -> HashMap<String, String> {
    running.emulator.with(|s| {
        let svc = if service == "fo" { &s.fo } else { &s.dataverse };
        svc.as_ref().unwrap().store.tables[set]
            .rows
            .iter()
            .filter_map(|(key, row)| Some((row.data.get(column)?.as_str()?.to_string(), key.clone())))
            .collect()
    })
}

/// Sends `RATE` changes a second for `seconds` through `change(i) -> (row key, expected value)`
/// and measures, for each, the time until `set`'s row holds `column = expected`.
async fn measure<F, Fut>(
    running: &Running,
    (service, set, column): (&str, &str, &str),
    seconds: usize,
    change: F,
) -> Vec<f64>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (String, String)>,
{
    let pending: Arc<std::sync::Mutex<HashMap<String, (String, Instant)>>> = Arc::default();
    let latencies: Arc<std::sync::Mutex<Vec<f64>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (pending, latencies, done) = (Arc::clone(&pending), Arc::clone(&latencies), Arc::clone(&done));
        let emulator = running.emulator.clone();
        let (service, set, column) = (service.to_string(), set.to_string(), column.to_string());
        tokio::spawn(async move {
            let deadline_after_done = Duration::from_secs(30);
            let mut finished_at: Option<Instant> = None;
            loop {
                tokio::time::sleep(Duration::from_millis(2)).await;
                let watched: Vec<(String, String, Instant)> = pending
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(k, (v, t))| (k.clone(), v.clone(), *t))
                    .collect();
                let arrived: Vec<(String, Instant)> = emulator.with(|s| {
                    let svc = if service == "fo" { &s.fo } else { &s.dataverse };
                    let table = &svc.as_ref().unwrap().store.tables[&set];
                    watched
                        .into_iter()
                        .filter(|(key, value, _)| {
                            table
                                .rows
                                .get(key)
                                .and_then(|r| r.data.get(&column))
                                .and_then(Value::as_str)
                                == Some(value.as_str())
                        })
                        .map(|(key, _, t)| (key, t))
                        .collect()
                });
                let now = Instant::now();
                {
                    let mut pending = pending.lock().unwrap();
                    let mut latencies = latencies.lock().unwrap();
                    for (key, sent) in arrived {
                        pending.remove(&key);
                        latencies.push(now.duration_since(sent).as_secs_f64() * 1000.0);
                    }
                }
                if done.load(std::sync::atomic::Ordering::Relaxed) {
                    let at = *finished_at.get_or_insert(now);
                    if pending.lock().unwrap().is_empty() || now.duration_since(at) > deadline_after_done {
                        break;
                    }
                }
            }
        })
    };
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..seconds * RATE as usize {
        ticks.tick().await;
        let sent = Instant::now();
        // A change that lands before it is registered is still timed from `sent`.
        let (key, value) = change(i).await;
        pending.lock().unwrap().entry(key).or_insert((value, sent));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.await.unwrap();
    let missing = pending.lock().unwrap().len();
    assert_eq!(missing, 0, "{missing} changes never arrived");
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort_by(|a, b| a.total_cmp(b));
    latencies
}

/// PATCHes `body` to `url`, then hands back the row key and value the watcher waits for.
async fn patch(
    http: reqwest::Client,
    url: String,
    body: Value,
    key: String,
    value: String,
) -> (String, String) {
    let answer = http.patch(url).json(&body).send().await.unwrap();
    assert!(answer.status().is_success());
    (key, value)
}

async fn latency(seconds: usize) {
    let running = emulator(CUSTOMERS).await;
    let dir = temp_dir("live");
    let engine = engine(
        &running,
        &dir,
        EngineConfig {
            poll_interval: Duration::from_secs(1),
            ..EngineConfig::default()
        },
    );
    let endpoint = events::serve(Arc::clone(&engine), "127.0.0.1:0", None)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    subscribe_events(&http, &running.url, &endpoint.address.to_string()).await;
    engine.initial_sync_all().await.unwrap();
    assert_eq!(rows(&running, "dataverse", "accounts"), CUSTOMERS);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let live = {
        let engine = Arc::clone(&engine);
        tokio::spawn(async move {
            engine
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    // Let the first poll of Dataverse start change tracking.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let accounts = index(&running, "dataverse", "accounts", "accountnumber");
    let customers = index(&running, "fo", "CustomersV3", "CustomerAccount");
    let fo_to_dv = measure(&running, ("dataverse", "accounts", "name"), seconds, |i| {
        let number = format!("USMF-{:06}", i % CUSTOMERS + 1);
        let key = accounts[&number].clone();
        let value = format!("F&O change {i}");
        let url = format!(
            "{}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='{number}')?cross-company=true",
            running.url
        );
        patch(http.clone(), url, json!({"OrganizationName": value}), key, value)
    })
    .await;
    let dv_to_fo = measure(
        &running,
        ("fo", "CustomersV3", "OrganizationName"),
        seconds,
        |i| {
            let number = format!("USMF-{:06}", i % CUSTOMERS + 1);
            let key = customers[&number].clone();
            let id = accounts[&number].clone();
            let value = format!("Dataverse change {i}");
            let url = format!("{}/api/data/v9.2/accounts({id})", running.url);
            patch(http.clone(), url, json!({"name": value}), key, value)
        },
    )
    .await;
    let _ = stop.send(());
    live.await.unwrap().unwrap();
    let errors = engine.store().errors(None).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    println!(
        "live latency, {RATE} changes/s for {seconds} s each way ({CUSTOMERS} customers, poll interval 1 s):"
    );
    for (name, l) in [
        ("F&O event -> Dataverse", &fo_to_dv),
        ("Dataverse change -> F&O", &dv_to_fo),
    ] {
        println!(
            "  {name:<24} n={:>5}  p50 {:>7.1} ms  p90 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
            l.len(),
            percentile(l, 0.5),
            percentile(l, 0.9),
            percentile(l, 0.99),
            l[l.len() - 1]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn protection(n: usize) {
    const WINDOW_MS: u64 = 15_000;
    const MAX_REQUESTS: usize = 30;
    let running = emulator(n).await;
    running.emulator.set_limits(dualsync_emulator::limits::Limits {
        enabled: true,
        window_ms: WINDOW_MS,
        max_requests: MAX_REQUESTS,
        max_concurrent: 52,
        max_execution_ms: 100_000_000,
        cost_per_request_ms: 0,
    });
    let dir = temp_dir("protection");
    let engine = engine(
        &running,
        &dir,
        EngineConfig {
            batch_size: 100,
            ..EngineConfig::default()
        },
    );
    let started = Instant::now();
    engine.initial_sync_all().await.unwrap();
    let took = started.elapsed().as_secs_f64();
    let errors = engine.store().errors(None).unwrap();
    assert!(
        errors.is_empty(),
        "{} errors, the first: {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(
        rows(&running, "dataverse", "accounts"),
        n,
        "{:?}",
        engine.status().unwrap()
    );
    let stats = running.emulator.with(|s| s.protection.stats());
    // The fastest schedule the limits admit for these requests: a burst of MAX_REQUESTS at once,
    // the next burst one window later, and so on.
    let fastest = ((stats.admitted.max(1) - 1) / MAX_REQUESTS as u64) as f64 * WINDOW_MS as f64 / 1000.0;
    println!(
        "service protection ({MAX_REQUESTS} requests / {} s), initial sync of {n} customers, 100 a batch:",
        WINDOW_MS / 1000
    );
    println!(
        "  engine {took:.1} s ({:.0} rec/s) | fastest the limits admit for its {} Dataverse requests {fastest:.1} s ({:.0} rec/s) | {:.1} % | 429s {} | requests inside a Retry-After window {} | peak concurrent {}",
        n as f64 / took,
        stats.admitted,
        n as f64 / fastest,
        fastest / took * 100.0,
        stats.refused,
        stats.inside_penalty,
        stats.peak_concurrent
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "latency,protection".into());
    for part in parts.split(',') {
        match part.trim() {
            "latency" => runtime.block_on(latency(env_number("BENCH_SECONDS", 10))),
            "protection" => runtime.block_on(protection(env_number("BENCH_PROTECTED", 12_000))),
            other => eprintln!("unknown part `{other}` (latency, protection)"),
        }
    }
}
