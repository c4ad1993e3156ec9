//! The sync engine against the local emulator of both services (in-process, loopback): initial sync
//! of Currencies ↔ transactioncurrencies and Customers V3 ↔ accounts per company, with lookups and
//! value maps; live sync both ways (F&O data events to the engine's endpoint, Dataverse change
//! tracking); one edit → exactly one write per side; bad records in the error log while the rest
//! flows; pause and resume; injected faults.

use std::sync::Arc;
use std::time::Duration;

use dualsync::engine::{Engine, EngineConfig, ErrorClass, SqliteStore, events};
use dualsync_emulator::Emulator;
use dualsync_emulator::faults::{ErrorRate, FaultConfig};
use dualsync_tests::sync::{COMPANIES, customer, maps, seed, services, subscribe_events};
use dualsync_tests::workspace;
use serde_json::{Value, json};

/// The Dataverse metadata with two facets the real org has (account name 160 characters, credit
/// limit 2 decimals), so that the emulator refuses what the real service refuses.
fn dataverse_metadata(dir: &std::path::Path) -> std::path::PathBuf {
    let text =
        std::fs::read_to_string(workspace().join("generated/metadata/dataverse-dualwrite.xml")).unwrap();
    let start = text.find("<EntityType Name=\"account\"").unwrap();
    let (head, tail) = text.split_at(start);
    let tail = tail
        .replacen(
            "<Property Name=\"creditlimit\" Type=\"Edm.Decimal\" Scale=\"Variable\">",
            "<Property Name=\"creditlimit\" Type=\"Edm.Decimal\" Scale=\"2\">",
            1,
        )
        .replacen(
            "<Property Name=\"name\" Type=\"Edm.String\" Unicode=\"false\">",
            "<Property Name=\"name\" Type=\"Edm.String\" Unicode=\"false\" MaxLength=\"160\">",
            1,
        );
    let path = dir.join("dataverse.xml");
    std::fs::write(&path, format!("{head}{tail}")).unwrap();
    path
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dualsync-engine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Setup {
    running: dualsync_emulator::Running,
    engine: Arc<Engine>,
    _endpoint: events::Endpoint,
    http: reqwest::Client,
}

async fn setup(name: &str, per_company: usize, config: EngineConfig) -> Setup {
    let dir = temp_dir(name);
    let emulator = Emulator::from_paths(
        Some(&dataverse_metadata(&dir)),
        Some(&workspace().join("generated/metadata/fo-dualwrite.xml")),
    )
    .unwrap();
    let running = emulator.serve("127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::new();
    let (dv, fo) = seed(per_company);
    for (service, body) in [("dataverse", dv), ("fo", fo)] {
        let answer = http
            .post(format!("{}/_admin/{service}/load", running.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    }
    let store = Arc::new(SqliteStore::open(&dir.join("state.db"), Default::default()).unwrap());
    let engine = Arc::new(Engine::new(services(&running.url), store, maps(), config));
    let endpoint = events::serve(Arc::clone(&engine), "127.0.0.1:0", None)
        .await
        .unwrap();
    subscribe_events(&http, &running.url, &endpoint.address.to_string()).await;
    Setup {
        running,
        engine,
        _endpoint: endpoint,
        http,
    }
}

fn fast() -> EngineConfig {
    EngineConfig {
        batch_size: 50,
        page_size: 40,
        poll_interval: Duration::from_millis(0),
        tick: Duration::from_millis(10),
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        lookup_timeout: Duration::from_millis(0),
        ..EngineConfig::default()
    }
}

impl Setup {
    async fn export(&self, service: &str, set: &str) -> Vec<Value> {
        self.running.emulator.rows(service, set)
    }

    async fn writes(&self) -> (u64, u64) {
        let counters: Value = self
            .http
            .get(format!("{}/_admin/counters", self.running.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sum = |service: &str| {
            counters[service]["writes"]
                .as_object()
                .map(|w| w.values().filter_map(Value::as_u64).sum())
                .unwrap_or(0)
        };
        (sum("fo"), sum("dataverse"))
    }

    async fn patch(&self, url: String, body: Value) {
        let answer = self.http.patch(url).json(&body).send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    }

    /// Lets events arrive and the engine apply everything (several rounds: an applied change can
    /// raise an echo that must be recognised).
    async fn settle(&self) {
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            self.engine.drain().await.unwrap();
        }
    }
}

fn by<'a>(records: &'a [Value], column: &str, value: &str) -> Option<&'a Value> {
    records.iter().find(|r| r[column].as_str() == Some(value))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_and_live_sync_both_ways_with_lookups_companies_and_no_echo() {
    let s = setup("both-ways", 25, fast()).await;
    // Maps run in dependency order: currencies before the customers that look them up.
    let order: Vec<String> = s
        .engine
        .maps()
        .iter()
        .map(|m| m.map.spec().name.clone())
        .collect();
    assert_eq!(
        order,
        ["CurrenciesToTransactioncurrencies", "CustomersV3ToAccounts"]
    );

    s.engine.initial_sync_all().await.unwrap();
    let currencies = s.export("dataverse", "transactioncurrencies").await;
    assert_eq!(currencies.len(), 2);
    let eur = by(&currencies, "isocurrencycode", "EUR").unwrap();
    assert_eq!(eur["currencyname"], "Euro");
    let eur_id = eur["transactioncurrencyid"].as_str().unwrap().to_string();
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(
        accounts.len(),
        50,
        "every customer of both companies, once; errors: {:?}; status: {:?}",
        s.engine
            .store()
            .errors(None)
            .unwrap()
            .iter()
            .take(3)
            .collect::<Vec<_>>(),
        s.engine.status().unwrap()
    );
    let account = by(&accounts, "accountnumber", "USMF-000001").unwrap();
    assert_eq!(account["name"], "Customer 1 of usmf");
    assert_eq!(account["_transactioncurrencyid_value"].as_str().unwrap(), eur_id);
    assert_eq!(account["_msdyn_company_value"].as_str().unwrap(), COMPANIES[0].1);
    assert_eq!(account["customertypecode"], 3);
    assert_eq!(account["msdyn_creditlimitismandatory"], true);
    let dat = by(&accounts, "accountnumber", "DAT-000002").unwrap();
    assert_eq!(dat["_msdyn_company_value"].as_str().unwrap(), COMPANIES[1].1);
    // Running the initial sync again writes nothing: it is done (and would be idempotent).
    let before = s.writes().await;
    s.engine.initial_sync_all().await.unwrap();
    // The initial sync's own writes come back through change tracking as echoes: no write.
    s.settle().await;
    assert_eq!(
        s.writes().await,
        before,
        "echoes of the initial sync were written back"
    );

    // F&O edit → one write to Dataverse, none back to F&O.
    let before = s.writes().await;
    s.patch(
        format!(
            "{}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='USMF-000003')?cross-company=true",
            s.running.url
        ),
        json!({"OrganizationName": "Renamed in F&O", "CreditLimit": 1234.5}),
    )
    .await;
    s.settle().await;
    let accounts = s.export("dataverse", "accounts").await;
    let account = by(&accounts, "accountnumber", "USMF-000003").unwrap();
    assert_eq!(account["name"], "Renamed in F&O");
    let (fo, dv) = s.writes().await;
    assert_eq!(
        (fo - before.0, dv - before.1),
        (1, 1),
        "one edit, one write per side (the edit and its sync)"
    );

    // Dataverse edit → one write to F&O, none back.
    let before = s.writes().await;
    let id = account["accountid"].as_str().unwrap();
    s.patch(
        format!("{}/api/data/v9.2/accounts({id})", s.running.url),
        json!({"name": "Renamed in Dataverse", "telephone1": "+1 555 0100", "msdyn_creditlimitismandatory": false}),
    )
    .await;
    s.settle().await;
    let customers = s.export("fo", "CustomersV3").await;
    let edited = by(&customers, "CustomerAccount", "USMF-000003").unwrap();
    assert_eq!(
        edited["OrganizationName"],
        "Renamed in Dataverse",
        "errors: {:?}; status: {:?}",
        s.engine.store().errors(None).unwrap(),
        s.engine.status().unwrap()
    );
    assert_eq!(edited["PrimaryContactPhone"], "+1 555 0100");
    assert_eq!(edited["CreditLimitIsMandatory"], "No");
    assert_eq!(edited["CreditLimit"].to_string(), "1234.5");
    let (fo, dv) = s.writes().await;
    assert_eq!(
        (fo - before.0, dv - before.1),
        (1, 1),
        "one edit, one write per side"
    );

    // A new currency in Dataverse reaches F&O; a new customer in F&O reaches Dataverse, bound to it.
    s.http
        .post(format!("{}/api/data/v9.2/transactioncurrencies", s.running.url))
        .json(&json!({"isocurrencycode": "NOK", "currencyname": "Krone", "currencysymbol": "kr", "exchangerate": 10}))
        .send()
        .await
        .unwrap();
    s.settle().await;
    assert!(by(&s.export("fo", "Currencies").await, "CurrencyCode", "NOK").is_some());
    let mut new = customer(500, "dat");
    new["SalesCurrencyCode"] = json!("NOK");
    let answer = s
        .http
        .post(format!("{}/data/CustomersV3?cross-company=true", s.running.url))
        .json(&new)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    s.settle().await;
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(accounts.len(), 51);
    let nok = by(
        &s.export("dataverse", "transactioncurrencies").await,
        "isocurrencycode",
        "NOK",
    )
    .unwrap()["transactioncurrencyid"]
        .clone();
    assert_eq!(
        by(&accounts, "accountnumber", "DAT-000500").unwrap()["_transactioncurrencyid_value"],
        nok
    );

    // A deleted account is deleted in F&O.
    let id = by(&accounts, "accountnumber", "DAT-000500").unwrap()["accountid"]
        .as_str()
        .unwrap()
        .to_string();
    s.http
        .delete(format!("{}/api/data/v9.2/accounts({id})", s.running.url))
        .send()
        .await
        .unwrap();
    s.settle().await;
    assert!(
        by(
            &s.export("fo", "CustomersV3").await,
            "CustomerAccount",
            "DAT-000500"
        )
        .is_none()
    );

    let status = s.engine.status().unwrap();
    let customers_status = status.iter().find(|m| m.map == "CustomersV3ToAccounts").unwrap();
    assert_eq!(customers_status.state, "running");
    assert_eq!(customers_status.queued, 0);
    assert_eq!(
        customers_status.errors,
        0,
        "{:?}",
        s.engine.store().errors(None).unwrap()
    );
    assert!(customers_status.synced_to_dv >= 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_go_to_the_error_log_and_the_rest_flows() {
    let s = setup("bad-records", 10, fast()).await;
    let mut bad = Vec::new();
    // A value too long for the Dataverse column.
    let mut long = customer(101, "usmf");
    long["OrganizationName"] = json!("x".repeat(200));
    bad.push(long);
    // A decimal beyond the target's scale.
    let mut precise = customer(102, "usmf");
    precise["CreditLimit"] = "10.123".parse::<Value>().unwrap();
    bad.push(precise);
    // A lookup to a currency that does not exist.
    let mut orphan = customer(103, "usmf");
    orphan["SalesCurrencyCode"] = json!("XXX");
    bad.push(orphan);
    let answer = s
        .http
        .post(format!("{}/_admin/fo/load", s.running.url))
        .json(&json!({"CustomersV3": bad}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    s.engine.initial_sync_all().await.unwrap();
    // An event with an enum value the value map has no entry for (F&O would not send it; a relay
    // or a newer F&O could).
    let mut unmapped = customer(104, "usmf");
    unmapped["CreditLimitIsMandatory"] = json!("Maybe");
    let event = json!({"EntityName": "CustomersV3", "Operation": "Create", "LegalEntity": "usmf", "Record": unmapped});
    let answer = s
        .http
        .post(format!("http://{}/events", s._endpoint.address))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    // A broken event is refused with a reason, and nothing is queued.
    let answer = s
        .http
        .post(format!("http://{}/events", s._endpoint.address))
        .body("{\"EntityName\": 5}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    assert!(answer.text().await.unwrap().contains("EntityName"));
    s.settle().await;
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(accounts.len(), 20, "every good record synced");
    let errors = s.engine.store().errors(Some("CustomersV3ToAccounts")).unwrap();
    let reason = |key: &str| {
        errors
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| panic!("no error for {key}: {errors:?}"))
    };
    assert!(
        reason("usmf-000101").contains("name"),
        "{}",
        reason("usmf-000101")
    );
    assert!(
        reason("usmf-000102").contains("creditlimit"),
        "{}",
        reason("usmf-000102")
    );
    assert!(reason("usmf-000103").contains("XXX"), "{}", reason("usmf-000103"));
    assert!(
        reason("usmf-000104").contains("Maybe"),
        "{}",
        reason("usmf-000104")
    );
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors.iter().all(|e| e.class == ErrorClass::Application));
    assert!(errors.iter().all(|e| e.payload.contains("CustomerAccount")));

    // The missing currency arrives; retrying the errors syncs the record that waited for it.
    s.http
        .post(format!("{}/_admin/dataverse/load", s.running.url))
        .json(&json!({"transactioncurrencies": [{"transactioncurrencyid": "00000000-0000-4000-8000-0000000000cc", "isocurrencycode": "XXX", "currencyname": "Test"}]}))
        .send()
        .await
        .unwrap();
    let id = errors.iter().find(|e| e.key == "usmf-000103").unwrap().id;
    assert_eq!(s.engine.retry_errors(Some(id)).unwrap(), 1);
    s.settle().await;
    assert_eq!(s.export("dataverse", "accounts").await.len(), 21);
    assert_eq!(s.engine.store().errors(None).unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_map_keeps_its_changes_and_replays_them_in_order() {
    let s = setup("pause", 5, fast()).await;
    s.engine.initial_sync_all().await.unwrap();
    s.settle().await;
    s.engine.pause("CustomersV3ToAccounts").unwrap();
    for version in 1..=5 {
        s.patch(
            format!(
                "{}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='USMF-000002')?cross-company=true",
                s.running.url
            ),
            json!({"OrganizationName": format!("version {version}")}),
        )
        .await;
    }
    s.settle().await;
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(
        by(&accounts, "accountnumber", "USMF-000002").unwrap()["name"],
        "Customer 2 of usmf"
    );
    let status = s.engine.status().unwrap();
    let paused = status.iter().find(|m| m.map == "CustomersV3ToAccounts").unwrap();
    assert_eq!(paused.state, "paused");
    assert!(paused.queued >= 1, "{paused:?}");
    let before = s.writes().await;
    s.engine.resume("CustomersV3ToAccounts").unwrap();
    s.settle().await;
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(
        by(&accounts, "accountnumber", "USMF-000002").unwrap()["name"],
        "version 5"
    );
    // Coalesced: the five queued versions of one record are one write.
    assert_eq!(s.writes().await.1 - before.1, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_faults_the_sync_converges_without_loss_or_duplicates() {
    let s = setup("faults", 60, fast()).await;
    s.running.emulator.set_faults(FaultConfig {
        seed: 7,
        errors: vec![
            ErrorRate {
                status: 429,
                rate: 0.05,
                retry_after: Some(0),
            },
            ErrorRate {
                status: 503,
                rate: 0.05,
                retry_after: None,
            },
        ],
        reset_after_rate: 0.03,
        latency_ms: Some((0, 5)),
        ..FaultConfig::default()
    });
    for _ in 0..20 {
        match s.engine.initial_sync_all().await {
            Ok(()) => break,
            Err(e) => eprintln!("initial sync interrupted: {e}"),
        }
    }
    for _ in 0..20 {
        s.settle().await;
        if s.engine.status().unwrap().iter().all(|m| m.queued == 0) {
            break;
        }
    }
    s.running.emulator.set_faults(FaultConfig::default());
    s.settle().await;
    let accounts = s.export("dataverse", "accounts").await;
    let mut numbers: Vec<&str> = accounts
        .iter()
        .filter_map(|a| a["accountnumber"].as_str())
        .collect();
    numbers.sort_unstable();
    let total = numbers.len();
    numbers.dedup();
    assert_eq!(total, numbers.len(), "no duplicate account");
    assert_eq!(total, 120, "every customer arrived");
    assert!(
        s.engine
            .store()
            .errors(None)
            .unwrap()
            .iter()
            .all(|e| e.class != ErrorClass::Application)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_finds_what_events_missed_and_fix_repairs_it() {
    let s = setup("reconcile", 8, fast()).await;
    s.engine.initial_sync_all().await.unwrap();
    s.settle().await;
    let clean = s
        .engine
        .reconcile("CustomersV3ToAccounts", None, false)
        .await
        .unwrap();
    assert_eq!(clean.len(), 2, "one report per company");
    assert!(
        clean.iter().all(|r| r.differing.is_empty()
            && r.missing_in_dataverse.is_empty()
            && r.missing_in_fo.is_empty()),
        "{clean:?}"
    );
    assert_eq!(clean.iter().map(|r| r.compared).sum::<u64>(), 16);
    // F&O changes that never raise an event (events off), and an account removed behind the
    // engine's back.
    s.http
        .delete(format!("{}/_admin/fo/events/CustomersV3", s.running.url))
        .send()
        .await
        .unwrap();
    s.patch(
        format!(
            "{}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='USMF-000004')?cross-company=true",
            s.running.url
        ),
        json!({"OrganizationName": "changed without an event"}),
    )
    .await;
    let report = s
        .engine
        .reconcile("CustomersV3ToAccounts", Some("USMF"), false)
        .await
        .unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].differing.len(), 1, "{report:?}");
    assert_eq!(report[0].differing[0].key, "usmf-000004");
    assert_eq!(report[0].differing[0].columns, ["name"]);
    assert_eq!(report[0].queued, 0, "no repair without --fix");
    let fixed = s
        .engine
        .reconcile("CustomersV3ToAccounts", Some("usmf"), true)
        .await
        .unwrap();
    assert_eq!(fixed[0].queued, 1);
    s.settle().await;
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(
        by(&accounts, "accountnumber", "USMF-000004").unwrap()["name"],
        "changed without an event"
    );
    let after = s
        .engine
        .reconcile("CustomersV3ToAccounts", Some("usmf"), false)
        .await
        .unwrap();
    assert!(after[0].differing.is_empty(), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_both_sides_change_the_master_side_wins_and_the_conflict_is_logged() {
    let s = setup("conflict", 4, fast()).await;
    s.engine.initial_sync_all().await.unwrap();
    s.settle().await;
    // Both sides change one record before the engine sees either change.
    s.engine.pause("CustomersV3ToAccounts").unwrap();
    s.patch(
        format!(
            "{}/data/CustomersV3(dataAreaId='dat',CustomerAccount='DAT-000002')?cross-company=true",
            s.running.url
        ),
        json!({"OrganizationName": "F&O's name"}),
    )
    .await;
    let accounts = s.export("dataverse", "accounts").await;
    let id = by(&accounts, "accountnumber", "DAT-000002").unwrap()["accountid"]
        .as_str()
        .unwrap()
        .to_string();
    s.patch(
        format!("{}/api/data/v9.2/accounts({id})", s.running.url),
        json!({"name": "Dataverse's name"}),
    )
    .await;
    s.settle().await;
    s.engine.resume("CustomersV3ToAccounts").unwrap();
    s.settle().await;
    // F&O is the map's master: its change wins on both sides; the sides never swap.
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(
        by(&accounts, "accountnumber", "DAT-000002").unwrap()["name"],
        "F&O's name"
    );
    let customers = s.export("fo", "CustomersV3").await;
    assert_eq!(
        by(&customers, "CustomerAccount", "DAT-000002").unwrap()["OrganizationName"],
        "F&O's name"
    );
    let errors = s.engine.store().errors(None).unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].class, ErrorClass::Conflict);
    assert_eq!(errors[0].key, "dat-000002");
    assert!(errors[0].payload.contains("Dataverse's name"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_service_protection_nothing_is_sent_inside_a_retry_after_window() {
    let s = setup(
        "protection",
        20,
        EngineConfig {
            batch_size: 4,
            ..fast()
        },
    )
    .await;
    // Dataverse's limits scaled down: 5 requests a second, 2 at once, per caller.
    s.running.emulator.set_limits(dualsync_emulator::limits::Limits {
        enabled: true,
        window_ms: 1000,
        max_requests: 5,
        max_concurrent: 2,
        max_execution_ms: 1_000_000,
        cost_per_request_ms: 0,
    });
    s.engine.initial_sync_all().await.unwrap();
    s.settle().await;
    // Live changes under the same limits.
    for i in 1..=6 {
        s.patch(
            format!(
                "{}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='USMF-{i:06}')?cross-company=true",
                s.running.url
            ),
            json!({"OrganizationName": format!("Renamed {i}")}),
        )
        .await;
    }
    for _ in 0..20 {
        s.settle().await;
        if s.engine.status().unwrap().iter().all(|m| m.queued == 0) {
            break;
        }
    }
    let stats = s.running.emulator.with(|e| e.protection.stats());
    assert!(stats.refused > 0, "the limits were reached: {stats:?}");
    assert_eq!(
        stats.inside_penalty, 0,
        "a request inside a Retry-After window: {stats:?}"
    );
    assert_eq!(stats.refused_concurrent, 0, "{stats:?}");
    assert!(stats.peak_concurrent <= 2, "{stats:?}");
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(accounts.len(), 40, "every customer arrived");
    for i in 1..=6 {
        let account = by(&accounts, "accountnumber", &format!("USMF-{i:06}")).unwrap();
        assert_eq!(account["name"], format!("Renamed {i}"));
    }
    let errors = s.engine.store().errors(None).unwrap();
    assert!(
        errors.is_empty(),
        "throttling is waited out, not logged: {errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_initial_sync_page_is_written_in_batches_of_batch_size() {
    let s = setup(
        "batches",
        25,
        EngineConfig {
            page_size: 30,
            batch_size: 10,
            ..fast()
        },
    )
    .await;
    // The service takes at most 12 requests a batch: a page of 25 in one batch would be refused.
    s.running
        .emulator
        .with(|e| e.dataverse.as_mut().unwrap().max_batch = 12);
    s.engine.initial_sync_all().await.unwrap();
    let errors = s.engine.store().errors(None).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.export("dataverse", "accounts").await.len(), 50);
    let largest = s
        .running
        .emulator
        .with(|e| e.dataverse.as_ref().unwrap().counters.largest_batch);
    assert_eq!(largest, 10, "batches of batch_size");
    let status = s.engine.status().unwrap();
    assert!(status.iter().all(|m| m.queued == 0), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_reference_is_written_in_two_passes_and_a_missing_target_is_logged() {
    let s = setup("self-reference", 0, fast()).await;
    // Customer 1 is invoiced to customer 3 (later in the same page), customer 4 to customer 2
    // (earlier), customer 5 to an account that does not exist.
    let mut customers = Vec::new();
    for (i, invoice) in [
        (1, Some(3)),
        (2, None),
        (3, None),
        (4, Some(2)),
        (5, Some(999_999)),
    ] {
        let mut record = customer(i, "usmf");
        record["InvoiceAccount"] = invoice.map_or(Value::Null, |n| json!(format!("USMF-{n:06}")));
        customers.push(record);
    }
    let answer = s
        .http
        .post(format!("{}/_admin/fo/load", s.running.url))
        .json(&json!({ "CustomersV3": customers }))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    s.engine.initial_sync_all().await.unwrap();
    for _ in 0..10 {
        s.settle().await;
        if s.engine.status().unwrap().iter().all(|m| m.queued == 0) {
            break;
        }
    }
    let accounts = s.export("dataverse", "accounts").await;
    assert_eq!(
        accounts.len(),
        5,
        "every customer arrived, the one with a missing target too"
    );
    let id = |number: &str| by(&accounts, "accountnumber", number).unwrap()["accountid"].clone();
    let billing =
        |number: &str| by(&accounts, "accountnumber", number).unwrap()["_msdyn_billingaccount_value"].clone();
    assert_eq!(
        billing("USMF-000001"),
        id("USMF-000003"),
        "bound in the second pass"
    );
    assert_eq!(billing("USMF-000004"), id("USMF-000002"));
    assert_eq!(billing("USMF-000002"), Value::Null);
    assert_eq!(billing("USMF-000005"), Value::Null);
    // The missing target is waited for (here `lookup_timeout` is 0), then logged once; the record
    // is not written again and again.
    let errors = s.engine.store().errors(None).unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "usmf-000005");
    assert!(errors[0].reason.contains("USMF-999999"), "{}", errors[0].reason);
    let (dv_writes, _) = s.writes().await;
    let writes_before = dv_writes;
    s.settle().await;
    assert_eq!(s.writes().await.0, writes_before, "nothing more to write");
}
