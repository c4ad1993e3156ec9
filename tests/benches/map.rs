//! Mapping throughput: Customers V3 records mapped to account patches and serialized to JSON, on one
//! thread (release). `cargo bench -p dualsync-tests --bench map`.

use std::time::{Duration, Instant};

use dualsync::map::TableMap;
use dualsync_tests::maps::{CustomersV3ToAccounts, sample_customer};

fn main() {
    const RECORDS: usize = 100_000;
    let records: Vec<_> = (0..RECORDS).map(sample_customer).collect();
    let mut samples: Vec<Duration> = Vec::new();
    let mut bytes = 0usize;
    let runs: usize = std::env::var("MAP_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    for _ in 0..runs {
        let start = Instant::now();
        for record in &records {
            let out = CustomersV3ToAccounts::fo_to_dv(record).expect("maps");
            bytes += std::hint::black_box(out.patch.to_json()).len();
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let per_second = RECORDS as f64 / median.as_secs_f64();
    println!(
        "CustomersV3 -> account patch + JSON, {RECORDS} records, median of {runs}: {:.1} ms = {:.0} records/s on one core ({} bytes written in all)",
        median.as_secs_f64() * 1000.0,
        per_second,
        bytes
    );
}
