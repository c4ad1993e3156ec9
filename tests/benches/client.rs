//! OData client throughput against a local server on loopback (wiremock), release build:
//! - read 100,000 Dataverse accounts, 5,000 a page, each decoded into the generated `Account`;
//!   peak memory after 20,000 and after 100,000 records (flat: one page in memory);
//! - 10,000 upserts in `$batch` change sets of 100 / 500 / 1,000;
//! - the client's own CPU per upserted record (patch -> batch body, batch answer -> results) beside the
//!   mapping cost (Customers V3 -> account patch + JSON), in the same run.
//!
//! `cargo bench -p dualsync-tests --bench client` (`BENCH_RUNS`, default 5: medians).

use std::time::{Duration, Instant};

use dualsync::auth::Credentials;
use dualsync::entity::Patch;
use dualsync::map::TableMap;
use dualsync::odata::{DataverseClient, Key, Query, TransportConfig, multipart};
use dualsync_generated::dataverse::Account;
use dualsync_tests::maps::{CustomersV3ToAccounts, sample_customer};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PAGE: usize = 5_000;
const READ: usize = 100_000;
const UPSERTS: usize = 10_000;

fn runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One account as Dataverse sends it with a typical `$select` of 24 columns.
fn account_json(n: usize) -> String {
    format!(
        r#"{{"@odata.etag":"W/\"{n}\"","accountid":"00000000-0000-4000-8000-{n:012}","accountnumber":"A-{n:06}","name":"Account {n} GmbH & Co. KG","creditlimit":{n}.1234567891,"creditonhold":false,"paymenttermscode":3,"customertypecode":3,"telephone1":"+49 30 {n}","fax":null,"emailaddress1":"info{n}@example.com","websiteurl":"https://example.com/{n}","address1_line1":"Straße {n}","address1_line2":null,"address1_city":"Berlin","address1_postalcode":"10115","address1_country":"DE","address1_stateorprovince":null,"description":"Customer {n}, created by the benchmark","numberofemployees":{n},"revenue":1234567.89,"_transactioncurrencyid_value":"00000000-0000-4000-8000-000000000001","_parentaccountid_value":null,"statecode":0,"statuscode":1}}"#
    )
}

async fn read_server(page: std::sync::Arc<String>) -> MockServer {
    let server = MockServer::start().await;
    let root = format!("{}/api/data/v9.2/", server.uri());
    let pages = READ / PAGE;
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(move |request: &Request| {
            let token: usize = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "$skiptoken")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let next = if token + 1 < pages {
                format!(r#","@odata.nextLink":"{root}accounts?$skiptoken={}""#, token + 1)
            } else {
                String::new()
            };
            let body = format!(r#"{{"@odata.context":"{root}$metadata#accounts","value":[{page}]{next}}}"#);
            ResponseTemplate::new(200).set_body_raw(body, "application/json")
        })
        .mount(&server)
        .await;
    server
}

/// A `$batch` answer with one 204 per change-set request.
fn batch_answer(parts: usize) -> String {
    let mut body = String::from(
        "--batchresponse_b\r\nContent-Type: multipart/mixed; boundary=changesetresponse_c\r\n\r\n",
    );
    for id in 1..=parts {
        body.push_str(&format!(
            "--changesetresponse_c\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {id}\r\n\r\nHTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nOData-EntityId: https://x/api/data/v9.2/accounts(00000000-0000-4000-8000-{id:012})\r\n\r\n\r\n"
        ));
    }
    body.push_str("--changesetresponse_c--\r\n--batchresponse_b--\r\n");
    body
}

async fn batch_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(|request: &Request| {
            let parts = request.body.windows(11).filter(|w| w == b"Content-ID:").count();
            ResponseTemplate::new(200)
                .set_body_raw(batch_answer(parts), "multipart/mixed; boundary=batchresponse_b")
        })
        .mount(&server)
        .await;
    server
}

fn patches() -> Vec<(String, Patch<Account>)> {
    (0..UPSERTS)
        .map(|n| {
            let out = CustomersV3ToAccounts::fo_to_dv(&sample_customer(n)).expect("maps");
            (format!("A-{n:06}"), out.patch)
        })
        .collect()
}

fn main() {
    let runs = runs();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let page = std::sync::Arc::new((0..PAGE).map(account_json).collect::<Vec<_>>().join(","));

    // Reads.
    let server = runtime.block_on(read_server(page));
    let root = format!("{}/api/data/v9.2/", server.uri());
    let client = DataverseClient::new(&root, Credentials::None, TransportConfig::default()).unwrap();
    let read = |limit: usize| {
        runtime.block_on(async {
            let mut pages = client.list(&Query::<Account>::new().page_size(PAGE as u32));
            let mut count = 0;
            while let Some(page) = pages.next_page().await.unwrap() {
                for record in &page.records {
                    std::hint::black_box(record.entity().unwrap());
                    count += 1;
                }
                if count >= limit {
                    break;
                }
            }
            count
        })
    };
    read(PAGE); // warm up
    let before = peak_mib();
    assert_eq!(read(20_000), 20_000);
    let after_20k = peak_mib();
    let mut samples = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        assert_eq!(read(READ), READ);
        samples.push(start.elapsed());
    }
    let after_100k = peak_mib();
    let read_time = median(samples);
    println!(
        "read {READ} accounts ({PAGE} a page, 24 columns, decoded into the generated Account), median of {runs}: {:.0} ms = {:.0} records/s; peak RSS {before:.0} MiB before, {after_20k:.0} MiB after 20,000, {after_100k:.0} MiB after 100,000 (server included)",
        read_time.as_secs_f64() * 1000.0,
        READ as f64 / read_time.as_secs_f64(),
    );
    drop(server);

    // Writes: upserts by alternate key in change sets.
    let patches = patches();
    let server = runtime.block_on(batch_server());
    let root = format!("{}/api/data/v9.2/", server.uri());
    let client = DataverseClient::new(&root, Credentials::None, TransportConfig::default()).unwrap();
    for size in [100usize, 500, 1000] {
        let mut samples = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            runtime.block_on(async {
                for chunk in patches.chunks(size) {
                    let mut batch = client.batch();
                    batch.change_set(|set| {
                        for (number, patch) in chunk {
                            set.upsert(&Key::by(Account::ACCOUNTNUMBER, number), patch);
                        }
                    });
                    let results = batch.send().await.unwrap();
                    assert_eq!(results.failures(), 0);
                }
            });
            samples.push(start.elapsed());
        }
        let time = median(samples);
        let requests = UPSERTS.div_ceil(size);
        println!(
            "upsert {UPSERTS} accounts in change sets of {size}, median of {runs}: {:.0} ms = {:.1} $batch requests/s, {:.0} records/s",
            time.as_secs_f64() * 1000.0,
            requests as f64 / time.as_secs_f64(),
            UPSERTS as f64 / time.as_secs_f64()
        );
    }

    // The client's own work per record beside the mapping's, one thread, no network.
    let customers: Vec<_> = (0..UPSERTS).map(sample_customer).collect();
    let answer = batch_answer(1000);
    let mut map_samples = Vec::new();
    let mut client_samples = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        for customer in &customers {
            let out = CustomersV3ToAccounts::fo_to_dv(customer).unwrap();
            std::hint::black_box(out.patch.to_json());
        }
        map_samples.push(start.elapsed());
        let start = Instant::now();
        for chunk in patches.chunks(1000) {
            let mut batch = client.batch();
            batch.change_set(|set| {
                for (number, patch) in chunk {
                    set.upsert(&Key::by(Account::ACCOUNTNUMBER, number), patch);
                }
            });
            std::hint::black_box(batch.encode());
            std::hint::black_box(
                multipart::decode("multipart/mixed; boundary=batchresponse_b", answer.as_bytes()).unwrap(),
            );
        }
        client_samples.push(start.elapsed());
    }
    let map_time = median(map_samples);
    let client_time = median(client_samples);
    println!(
        "per record, one thread, median of {runs}: mapping (CustomersV3 -> account patch + JSON) {:.2} µs = {:.0} records/s; client (upsert into a 1,000-request batch body + decoding its answer) {:.2} µs = {:.0} records/s",
        map_time.as_secs_f64() * 1e6 / UPSERTS as f64,
        UPSERTS as f64 / map_time.as_secs_f64(),
        client_time.as_secs_f64() * 1e6 / UPSERTS as f64,
        UPSERTS as f64 / client_time.as_secs_f64(),
    );
}
