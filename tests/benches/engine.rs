//! The sync engine's initial sync against the local emulator on loopback (no limits), release build:
//! Customers V3 → accounts (and the currencies they look up), one company, beside a bare client pump
//! that does the same reads (`$select` of the mapped columns, 5,000 a page) and the same `$batch`
//! upserts (500 a batch) with no engine bookkeeping (no state store, links, fingerprints or queue).
//! The engine runs as its own process (`sync-worker ... initial`) so its peak memory is its own.
//!
//! `cargo bench -p dualsync-tests --bench engine` (`BENCH_RUNS`, default 3: medians;
//! `BENCH_COUNTS`, default `20000,100000`).

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use dualsync::engine::{Flow, MapRunner, SyncMap, WriteOp};
use dualsync::entity::Record;
use dualsync::map::TableMap;
use dualsync::odata::Request;
use dualsync_emulator::Running;
use dualsync_tests::maps::CustomersV3ToAccounts;
use dualsync_tests::sync::{COMPANIES, services};
use serde_json::Value;

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

/// The engine, as a process: (seconds, peak RSS in MiB).
fn engine_run(running: &Running) -> (f64, f64) {
    let dir = std::env::temp_dir().join(format!("dualsync-bench-engine-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sync-worker"))
        .args([
            running.url.as_str(),
            &dir.join("state.db").to_string_lossy(),
            "127.0.0.1:0",
            "initial",
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

/// The bare pump: same reads and batches through the same client and map, nothing else.
async fn pump(running: &Running) -> f64 {
    let services = services(&running.url);
    let runner = MapRunner::<CustomersV3ToAccounts>::new();
    let spec = runner.spec().clone();
    let started = Instant::now();
    // Currencies first, as the engine does (two records).
    let currencies = services
        .fo
        .transport()
        .send(Request::get(
            services.fo.url("Currencies?$select=CurrencyCode,Name,Symbol"),
        ))
        .await
        .unwrap();
    let currencies: Value = serde_json::from_slice(&currencies.body).unwrap();
    let mut ids: HashMap<String, String> = HashMap::new();
    for c in currencies["value"].as_array().unwrap() {
        let code = c["CurrencyCode"].as_str().unwrap().to_string();
        let body = serde_json::json!({"isocurrencycode": code, "currencyname": c["Name"], "currencysymbol": c["Symbol"], "exchangerate": 1});
        let answer = services
            .dataverse
            .transport()
            .send(
                Request::new(
                    reqwest::Method::PATCH,
                    services
                        .dataverse
                        .url(&format!("transactioncurrencies(isocurrencycode='{code}')")),
                )
                .json(body.to_string()),
            )
            .await
            .unwrap();
        let id = answer.header("OData-EntityId").unwrap();
        ids.insert(
            format!("'{code}'"),
            id.rsplit_once('(').unwrap().1.trim_end_matches(')').to_string(),
        );
    }
    let company = COMPANIES[0].1;
    let mut after: Option<String> = None;
    loop {
        let mut path = format!(
            "CustomersV3?$select={}&cross-company=true&$orderby=CustomerAccount&$top=5000&$filter=dataAreaId%20eq%20'usmf'",
            spec.fo_select.join(",")
        );
        if let Some(after) = &after {
            path.push_str(&format!("%20and%20CustomerAccount%20gt%20'{after}'"));
        }
        let page = services
            .fo
            .transport()
            .send(Request::get(services.fo.url(&path)))
            .await
            .unwrap();
        let page: Value = serde_json::from_slice(&page.body).unwrap();
        let rows = page["value"].as_array().unwrap().clone();
        let full = rows.len() >= 5000;
        after = rows
            .last()
            .and_then(|r| r["CustomerAccount"].as_str())
            .map(str::to_string);
        let mut ops = Vec::new();
        for row in rows {
            let Value::Object(object) = row else { continue };
            let account = object["CustomerAccount"].as_str().unwrap().to_string();
            let out = CustomersV3ToAccounts::fo_to_dv(&Record::from_object(object)).unwrap();
            let mut values: std::collections::BTreeMap<String, Option<String>> = out
                .patch
                .names()
                .map(|n| {
                    (
                        n.to_string(),
                        match out.patch.get_name(n) {
                            Some(dualsync::entity::PatchValue::Json(t)) => Some(t.clone()),
                            _ => None,
                        },
                    )
                })
                .collect();
            for lookup in &out.lookups {
                let id = if lookup.target_set == "cdm_companies" {
                    company.to_string()
                } else {
                    ids[&lookup.value].clone()
                };
                values.insert(
                    format!("{}@odata.bind", lookup.navigation),
                    Some(format!("\"/{}({id})\"", lookup.target_set)),
                );
            }
            ops.push(WriteOp::Upsert {
                key: format!("accountnumber='{account}',_msdyn_company_value={company}"),
                values,
            });
        }
        for chunk in ops.chunks(500) {
            let results = runner
                .write(&services, Flow::FoToDv, chunk.to_vec())
                .await
                .unwrap();
            assert!(results.iter().all(|r| r.is_ok()));
        }
        if !full {
            break;
        }
    }
    started.elapsed().as_secs_f64()
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
                let (secs, peak) = tokio::task::block_in_place(|| engine_run(&running));
                assert_eq!(
                    common::rows(&running, "dataverse", "accounts"),
                    n,
                    "the engine synced every customer"
                );
                engine_rates.push(n as f64 / secs);
                engine_peaks.push(peak);
                drop(running);
                let running = emulator(n).await;
                let secs = pump(&running).await;
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
