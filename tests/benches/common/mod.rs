//! What the engine benchmarks share: an emulator seeded with `n` customers of one company, and
//! medians.

use dualsync_emulator::{Emulator, Running};
use dualsync_tests::sync::{COMPANIES, customer, seed};
use dualsync_tests::workspace;
use serde_json::Value;

#[allow(dead_code)] // not every benchmark uses every helper
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// An emulator with the companies, currencies and `n` customers of usmf, service protection off.
pub async fn emulator(n: usize) -> Running {
    let emulator = Emulator::from_paths(
        Some(&workspace().join("generated/metadata/dataverse-dualwrite.xml")),
        Some(&workspace().join("generated/metadata/fo-dualwrite.xml")),
    )
    .unwrap();
    let (dv, fo) = seed(0);
    emulator.with(|s| {
        let dataverse = s.dataverse.as_mut().unwrap();
        for (set, records) in dv.as_object().unwrap() {
            dataverse.load(set, records.as_array().unwrap()).unwrap();
        }
        let finops = s.fo.as_mut().unwrap();
        finops
            .load("Currencies", fo["Currencies"].as_array().unwrap())
            .unwrap();
        let mut i = 1;
        while i <= n {
            let chunk: Vec<Value> = (i..(i + 5000).min(n + 1))
                .map(|k| customer(k, COMPANIES[0].0))
                .collect();
            finops.load("CustomersV3", &chunk).unwrap();
            i += 5000;
        }
    });
    emulator.set_limits(dualsync_emulator::limits::Limits {
        enabled: false,
        ..Default::default()
    });
    emulator.serve("127.0.0.1:0").await.unwrap()
}

/// Rows of `set` in `service` (`dataverse` or `fo`).
pub fn rows(running: &Running, service: &str, set: &str) -> usize {
    running.emulator.with(|s| {
        let svc = if service == "fo" { &s.fo } else { &s.dataverse };
        svc.as_ref()
            .and_then(|svc| svc.store.tables.get(set))
            .map_or(0, |t| t.rows.len())
    })
}
