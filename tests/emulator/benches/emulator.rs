//! The emulator's own speed, so it is never the bottleneck of the engine's benchmarks (release):
//! loading 100,000 accounts, upserting them over HTTP in `$batch` change sets of 1,000 (PATCH by
//! alternate key), and reading them back 5,000 a page, with peak memory before and after.
//! `cargo bench -p dualsync-emulator --bench emulator` (`BENCH_RUNS`, default 3: medians).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dualsync_emulator::Emulator;
use serde_json::{Value, json};

const RECORDS: usize = 100_000;
const CHANGE_SET: usize = 1000;
const PAGE: usize = 5000;
const COMPANY: &str = "00000000-0000-4000-8000-00000000c0de";

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn account(n: usize) -> Value {
    json!({
        "accountid": format!("00000000-0000-4000-8000-{n:012}"),
        "accountnumber": format!("A-{n:06}"),
        "_msdyn_company_value": COMPANY,
        "name": format!("Account {n} GmbH & Co. KG"),
        "creditlimit": format!("{n}.1234567891").parse::<serde_json::Number>().unwrap(),
        "telephone1": format!("+49 30 {n}"),
        "emailaddress1": format!("info{n}@example.com"),
        "address1_city": "Berlin",
        "address1_postalcode": "10115",
        "description": format!("Customer {n}, loaded by the benchmark"),
        "numberofemployees": n,
    })
}

/// A `$batch` body: one change set of PATCHes by alternate key (written here, not by the client).
fn upsert_batch(from: usize, to: usize, round: usize) -> String {
    let mut body = String::with_capacity((to - from) * 400);
    body.push_str("--batch_b\r\nContent-Type: multipart/mixed; boundary=changeset_c\r\n\r\n");
    for n in from..to {
        body.push_str(&format!(
            "--changeset_c\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\nPATCH accounts(accountnumber='A-{n:06}',_msdyn_company_value={COMPANY}) HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{{\"name\":\"Account {n} round {round}\",\"creditlimit\":{n}.5,\"telephone1\":\"+49 40 {n}\"}}\r\n",
            n - from + 1
        ));
    }
    body.push_str("--changeset_c--\r\n--batch_b--\r\n");
    body
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let metadata =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../generated/metadata/dataverse-dualwrite.xml");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let emulator = Emulator::from_paths(Some(&metadata), None).unwrap();
    let running = runtime.block_on(emulator.clone().serve("127.0.0.1:0")).unwrap();
    let root = running.dataverse_root();
    let before = rss_mib();

    let records: Vec<Value> = (0..RECORDS).map(account).collect();
    let start = Instant::now();
    let loaded = emulator
        .with(|s| s.dataverse.as_mut().unwrap().load("accounts", &records))
        .unwrap();
    let load_time = start.elapsed();
    drop(records);
    let after_load = rss_mib();
    println!(
        "load {loaded} accounts (11 columns) into the store: {:.0} ms = {:.0} records/s; RSS {before:.0} MiB before, {after_load:.0} MiB after",
        load_time.as_secs_f64() * 1000.0,
        RECORDS as f64 / load_time.as_secs_f64()
    );

    let client = reqwest::Client::new();
    let mut samples = Vec::new();
    for round in 0..runs {
        let bodies: Vec<String> = (0..RECORDS / CHANGE_SET)
            .map(|b| upsert_batch(b * CHANGE_SET, (b + 1) * CHANGE_SET, round))
            .collect();
        let start = Instant::now();
        runtime.block_on(async {
            for body in bodies {
                let response = client
                    .post(format!("{root}$batch"))
                    .header("Content-Type", "multipart/mixed; boundary=batch_b")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let text = response.text().await.unwrap();
                assert_eq!(
                    text.matches("HTTP/1.1 204").count(),
                    CHANGE_SET,
                    "{}",
                    &text[..300.min(text.len())]
                );
            }
        });
        samples.push(start.elapsed());
    }
    let upsert_time = median(samples);
    println!(
        "upsert {RECORDS} accounts over HTTP in $batch change sets of {CHANGE_SET} (PATCH by alternate key), median of {runs}: {:.0} ms = {:.0} records/s",
        upsert_time.as_secs_f64() * 1000.0,
        RECORDS as f64 / upsert_time.as_secs_f64()
    );

    // The reader only finds the rows and the next link in the text: what is measured is the emulator
    // (and loopback), not JSON parsing on the client side.
    let columns = "accountnumber,name,creditlimit,telephone1,emailaddress1,address1_city,address1_postalcode,description,numberofemployees,_msdyn_company_value";
    for (label, select) in [
        ("all 145 columns, most null", String::new()),
        ("$select of 10 columns", format!("?$select={columns}")),
    ] {
        let mut samples = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let count = runtime.block_on(async {
                let mut url = format!("{root}accounts{select}");
                let mut count = 0;
                loop {
                    let text = client
                        .get(&url)
                        .header("Prefer", format!("odata.maxpagesize={PAGE}"))
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap();
                    count += text.matches("{\"@odata.etag\"").count();
                    let marker = "\"@odata.nextLink\":\"";
                    match text.find(marker) {
                        Some(at) => {
                            let rest = &text[at + marker.len()..];
                            url = rest[..rest.find('"').unwrap_or(rest.len())].to_string();
                        }
                        None => break count,
                    }
                }
            });
            assert_eq!(count, RECORDS);
            samples.push(start.elapsed());
        }
        let read_time = median(samples);
        println!(
            "read {RECORDS} accounts over HTTP, {PAGE} a page ({label}), median of {runs}: {:.0} ms = {:.0} records/s; RSS {:.0} MiB",
            read_time.as_secs_f64() * 1000.0,
            RECORDS as f64 / read_time.as_secs_f64(),
            rss_mib()
        );
    }
}
