//! Every generated standard map's initial sync against the emulator with seed data from a generic
//! seeder (keys, non-nullable columns and the map's columns filled by type, the company, the map's
//! filter): each seeded record arrives on the other side or lands in the error log with a reason
//! (lookups whose targets are absent are expected errors: `lookup_timeout` is 0 here).

mod common;

use std::sync::Arc;
use std::time::Duration;

use dualsync::engine::{Engine, EngineConfig, MapSetup, SqliteStore};
use dualsync::map::Side;
use dualsync_cli::registry;
use dualsync_cli::seed;
use dualsync_emulator::load_seed;
use serde_json::{Value, json};

const RECORDS: usize = 3;
const COMPANY: (&str, &str) = ("usmf", "00000000-0000-4000-8000-00000000a001");

fn config() -> EngineConfig {
    EngineConfig {
        batch_size: 50,
        page_size: 2,
        poll_interval: Duration::from_millis(0),
        tick: Duration::from_millis(5),
        retry_base: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
        max_attempts: 2,
        lookup_timeout: Duration::from_millis(0),
        error_threshold: 1.0,
        ..EngineConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_map_initial_sync_moves_or_logs_every_record() {
    let maps = registry::all();
    assert_eq!(maps.len(), dualsync_generated::maps::NAMES.len());
    assert!(maps.len() >= 53, "{} maps", maps.len());
    let (dv_service, fo_service) = common::services_of_metadata();
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for info in &maps {
        let running = common::serve(dv_service.clone(), fo_service.clone()).await;
        let company = info.company.map(|_| COMPANY);
        let seeded = seed::for_map(info, RECORDS, company);
        let service = match seeded.side {
            Side::Fo => "fo",
            Side::Dv => "dataverse",
        };
        let data = json!({
            "dataverse": {"cdm_companies": [{"cdm_companyid": COMPANY.1, "cdm_companycode": COMPANY.0, "cdm_name": "USMF"}]},
            service: {},
        });
        let mut data = data;
        data[service][seeded.set] = Value::Array(seeded.records.clone());
        if let Err(e) = running.emulator.with(|s| load_seed(s, &data)) {
            failures.push(format!("{}: the seed does not load: {e}", info.name));
            continue;
        }
        let services = common::clients(&running);
        let companies: Vec<&str> = company.iter().map(|c| c.0).collect();
        let engine = Engine::new(
            services,
            Arc::new(SqliteStore::in_memory().unwrap()),
            vec![MapSetup::new(Arc::clone(&info.runner), &companies)],
            config(),
        );
        if let Err(e) = engine.initial_sync(&info.name, None).await {
            failures.push(format!("{}: initial sync failed: {e}", info.name));
            continue;
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), engine.drain()).await;
        let target_service = match seeded.side {
            Side::Fo => "dataverse",
            Side::Dv => "fo",
        };
        let target_set = match seeded.side {
            Side::Fo => info.dv_set,
            Side::Dv => info.fo_set,
        };
        let arrived = running.emulator.rows(target_service, target_set).len();
        let errors = engine.store().errors(Some(&info.name)).unwrap();
        for e in &errors {
            if e.reason.trim().is_empty() {
                failures.push(format!(
                    "{}: an error without a reason (key {})",
                    info.name, e.key
                ));
            }
        }
        let checkpoint = engine
            .store()
            .checkpoint(&info.name, company.map_or("", |c| c.0))
            .unwrap();
        if !checkpoint.done {
            failures.push(format!("{}: the initial sync did not finish", info.name));
        }
        if arrived + errors.len() < RECORDS {
            failures.push(format!(
                "{}: {RECORDS} seeded into {service} {}, {arrived} arrived in {target_service} {target_set}, {} in the error log",
                info.name,
                seeded.set,
                errors.len()
            ));
        }
        let reason = errors.first().map(|e| e.reason.clone()).unwrap_or_default();
        summary.push(format!(
            "{:<58} {:>2} arrived {:>2} errors  {}",
            info.name,
            arrived,
            errors.len(),
            reason.chars().take(110).collect::<String>()
        ));
    }
    println!("{}", summary.join("\n"));
    assert!(
        failures.is_empty(),
        "{}\n\nsummary:\n{}",
        failures.join("\n"),
        summary.join("\n")
    );
    // The records of most maps arrive: the seeder fills what the maps need.
    let arrived_everywhere = summary.iter().filter(|l| !l.contains(" 0 arrived")).count();
    assert!(
        arrived_everywhere * 2 >= maps.len(),
        "summary:\n{}",
        summary.join("\n")
    );
}
