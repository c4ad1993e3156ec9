//! `dualsync demo`: both services emulated in-process on loopback over the dual-write sample
//! metadata (generated/metadata), sample data with a few problems, initial sync of three standard
//! maps, one change on each side, the status table and the error log. No tenant, no configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dualsync::auth::Credentials;
use dualsync::engine::{Engine, EngineConfig, MapSetup, Services, SqliteStore, events};
use dualsync::odata::{DataverseClient, FinOpsClient, TransportConfig};
use dualsync_emulator::{Emulator, load_seed};
use dualsync_generated::maps::{
    CurrenciesToTransactioncurrencies, CustomerGroupsToMsdynCustomergroups, CustomersV3ToAccounts,
};
use serde_json::{Value, json};

use crate::registry::MapInfo;
use crate::{Failure, output};

/// The sample metadata: `generated/metadata` of this repository (found from the crate's own folder,
/// so `cargo run -p dualsync-cli -- demo` works from a fresh clone), or `DUALSYNC_DEMO_METADATA`.
pub fn metadata_dir() -> Result<PathBuf, Failure> {
    let dir = std::env::var_os("DUALSYNC_DEMO_METADATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../metadata")));
    for file in ["dataverse-dualwrite.xml", "fo-dualwrite.xml"] {
        if !dir.join(file).is_file() {
            return Err(Failure::runtime(format!(
                "the demo's metadata {} is not there: run the demo from a clone of the repository (or set DUALSYNC_DEMO_METADATA to a folder with dataverse-dualwrite.xml and fo-dualwrite.xml)",
                dir.join(file).display()
            )));
        }
    }
    Ok(dir)
}

/// The companies of the demo and their Dataverse ids.
pub const COMPANIES: [(&str, &str, &str); 2] = [
    (
        "usmf",
        "00000000-0000-4000-8000-00000000a001",
        "Contoso Entertainment System USA",
    ),
    (
        "demf",
        "00000000-0000-4000-8000-00000000a002",
        "Contoso Entertainment System Germany",
    ),
];

fn customer(company: &str, account: &str, memo: &str, currency: &str, group: &str, limit: i64) -> Value {
    json!({
        "dataAreaId": company,
        "CustomerAccount": account,
        "OrganizationName": memo,
        "SalesMemo": memo,
        "SalesCurrencyCode": currency,
        "CustomerGroupId": group,
        "PartyType": "Organization",
        "CreditLimit": limit,
        "CreditLimitIsMandatory": "No",
        "IsOneTimeCustomer": "No",
        "PartyCountry": if company == "usmf" { "USA" } else { "DEU" },
        "PaymentTermsBaseDays": 30,
    })
}

/// The sample data: companies in Dataverse; currencies, customer groups and customers in F&O, two of
/// them with problems (a currency that does not exist, a customer group that does not exist).
pub fn seed() -> Value {
    let companies: Vec<Value> = COMPANIES
        .iter()
        .map(|(code, id, name)| json!({"cdm_companyid": id, "cdm_companycode": code, "cdm_name": name}))
        .collect();
    json!({
        "dataverse": { "cdm_companies": companies },
        "fo": {
            "Currencies": [
                {"CurrencyCode": "USD", "Name": "US Dollar", "Symbol": "$"},
                {"CurrencyCode": "EUR", "Name": "Euro", "Symbol": "€"},
                {"CurrencyCode": "GBP", "Name": "Pound sterling", "Symbol": "£"},
            ],
            "CustomerGroups": [
                {"dataAreaId": "usmf", "CustomerGroupId": "10", "Description": "Wholesale customers", "IsSalesTaxIncludedInPrice": "No"},
                {"dataAreaId": "usmf", "CustomerGroupId": "20", "Description": "Retail customers", "IsSalesTaxIncludedInPrice": "Yes"},
                {"dataAreaId": "demf", "CustomerGroupId": "10", "Description": "Großhandel", "IsSalesTaxIncludedInPrice": "No"},
            ],
            "CustomersV3": [
                customer("usmf", "US-001", "Contoso Retail Seattle", "USD", "10", 50_000),
                customer("usmf", "US-002", "Adventure Works", "USD", "20", 25_000),
                customer("usmf", "US-003", "Fabrikam Europe", "EUR", "10", 10_000),
                customer("usmf", "US-004", "Litware (bad currency)", "XYZ", "10", 5_000),
                customer("demf", "DE-001", "Tailspin Toys GmbH", "EUR", "10", 20_000),
                customer("demf", "DE-002", "Northwind (bad group)", "EUR", "99", 15_000),
            ],
        }
    })
}

struct Demo {
    url: String,
    http: reqwest::Client,
    engine: Arc<Engine>,
    json: bool,
}

impl Demo {
    fn say(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    async fn get(&self, path: &str) -> Result<Value, Failure> {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .map_err(|e| Failure::runtime(format!("the emulator: {e}")))?;
        response
            .json()
            .await
            .map_err(|e| Failure::runtime(format!("the emulator's answer: {e}")))
    }

    async fn patch(&self, path: &str, body: Value) -> Result<(), Failure> {
        let response = self
            .http
            .patch(format!("{}{path}", self.url))
            .header("If-Match", "*")
            .json(&body)
            .send()
            .await
            .map_err(|e| Failure::runtime(format!("the emulator: {e}")))?;
        if !response.status().is_success() {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            return Err(Failure::runtime(format!("PATCH {path}: {status} {text}")));
        }
        Ok(())
    }

    /// Runs the engine until `check` holds (or 15 s pass).
    async fn until<F, Fut>(&self, what: &str, mut check: F) -> Result<Duration, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool, Failure>>,
    {
        let start = Instant::now();
        loop {
            self.engine.drain().await?;
            if check().await? {
                return Ok(start.elapsed());
            }
            if start.elapsed() > Duration::from_secs(15) {
                return Err(Failure::runtime(format!("{what} did not arrive within 15 s")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn account(&self, number: &str) -> Result<Option<Value>, Failure> {
        let found = self
            .get(&format!(
                "/api/data/v9.2/accounts?$filter=accountnumber%20eq%20'{number}'&$select=accountid,accountnumber,creditlimit,description"
            ))
            .await?;
        Ok(found
            .get("value")
            .and_then(Value::as_array)
            .and_then(|v| v.first())
            .cloned())
    }

    async fn fo_customer(&self, company: &str, account: &str) -> Result<Value, Failure> {
        self.get(&format!(
            "/data/CustomersV3(dataAreaId='{company}',CustomerAccount='{account}')?$select=CustomerAccount,SalesMemo,CreditLimit"
        ))
        .await
    }
}

fn number_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// Runs the demo.
pub async fn run(json: bool) -> Result<(), Failure> {
    let started = Instant::now();
    let dir = metadata_dir()?;
    let emulator = Emulator::from_paths(
        Some(&dir.join("dataverse-dualwrite.xml")),
        Some(&dir.join("fo-dualwrite.xml")),
    )
    .map_err(|e| Failure::runtime(format!("the emulator: {e}")))?;
    let running = emulator
        .serve("127.0.0.1:0")
        .await
        .map_err(|e| Failure::runtime(format!("the emulator: {e}")))?;
    let loaded = running
        .emulator
        .with(|s| load_seed(s, &seed()))
        .map_err(|e| Failure::runtime(format!("the demo's seed data: {e}")))?;
    let transport = TransportConfig {
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        ..TransportConfig::default()
    };
    let services = Services {
        dataverse: DataverseClient::new(&running.dataverse_root(), Credentials::None, transport.clone())
            .map_err(|e| Failure::runtime(e.to_string()))?,
        fo: FinOpsClient::new(&running.fo_root(), Credentials::None, transport)
            .map_err(|e| Failure::runtime(e.to_string()))?,
    };
    let companies: Vec<&str> = COMPANIES.iter().map(|c| c.0).collect();
    let maps = vec![
        MapSetup::new(MapInfo::of::<CustomersV3ToAccounts>().runner, &companies),
        MapSetup::new(
            MapInfo::of::<CustomerGroupsToMsdynCustomergroups>().runner,
            &companies,
        ),
        MapSetup::new(MapInfo::of::<CurrenciesToTransactioncurrencies>().runner, &[]),
    ];
    let config = EngineConfig {
        batch_size: 50,
        page_size: 100,
        poll_interval: Duration::from_millis(0),
        tick: Duration::from_millis(10),
        retry_base: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        // Demo: a record whose lookup target is missing goes to the error log at once.
        lookup_timeout: Duration::from_millis(0),
        ..EngineConfig::default()
    };
    let store = SqliteStore::in_memory()?;
    let engine = Arc::new(Engine::new(services, Arc::new(store), maps, config));
    let http = reqwest::Client::new();
    let demo = Demo {
        url: running.url.clone(),
        http,
        engine: Arc::clone(&engine),
        json,
    };
    demo.say(&format!(
        "dualsync demo: Dataverse and F&O emulated on {} (metadata: {})",
        running.url,
        dir.display()
    ));
    demo.say(&format!(
        "  seeded {loaded} records: 2 companies (Dataverse cdm_companies); 3 currencies, 3 customer groups and 6 customers in F&O\n  (US-004 has currency XYZ, which does not exist; DE-002 has customer group 99, which does not exist)\n"
    ));
    demo.say("==> initial sync (F&O is the master of all three maps; maps run in dependency order)");
    let t = Instant::now();
    engine.initial_sync_all().await?;
    engine.drain().await?;
    let status = engine.status()?;
    demo.say(&format!("    done in {:.1}s\n", t.elapsed().as_secs_f64()));
    demo.say(&output::status_table(&status));

    // Live sync: F&O data events to the engine's endpoint, Dataverse change tracking.
    let endpoint = events::serve(Arc::clone(&engine), "127.0.0.1:0", None).await?;
    let target = format!("http://{}/events", endpoint.address);
    for set in ["CustomersV3", "CustomerGroups", "Currencies"] {
        let answer = demo
            .http
            .post(format!("{}/_admin/fo/events", demo.url))
            .json(&json!({"set": set, "endpoint": target}))
            .send()
            .await
            .map_err(|e| Failure::runtime(format!("the emulator: {e}")))?;
        if !answer.status().is_success() {
            return Err(Failure::runtime(format!(
                "the emulator refused the data-event subscription of {set}"
            )));
        }
    }
    demo.say(&format!(
        "==> live sync: F&O sends data events to {target}; Dataverse is read by change tracking\n"
    ));

    demo.say("F&O: credit limit of US-002 (Adventure Works) 25000 -> 75000");
    demo.patch(
        "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-002')",
        json!({"CreditLimit": 75000}),
    )
    .await?;
    let fo_change = demo
        .until("the F&O change", || async {
            Ok(demo
                .account("US-002")
                .await?
                .is_some_and(|a| number_text(a.get("creditlimit")).starts_with("75000")))
        })
        .await?;
    let account = demo.account("US-002").await?.unwrap_or(Value::Null);
    demo.say(&format!(
        "  -> Dataverse account US-002: creditlimit = {} (after {} ms)\n",
        number_text(account.get("creditlimit")),
        fo_change.as_millis()
    ));

    demo.say("Dataverse: description of account US-001 -> \"Key account since 2019\"");
    let account = demo
        .account("US-001")
        .await?
        .ok_or_else(|| Failure::runtime("account US-001 did not arrive in Dataverse"))?;
    let id = account
        .get("accountid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    demo.patch(
        &format!("/api/data/v9.2/accounts({id})"),
        json!({"description": "Key account since 2019"}),
    )
    .await?;
    let dv_change = demo
        .until("the Dataverse change", || async {
            Ok(demo
                .fo_customer("usmf", "US-001")
                .await?
                .get("SalesMemo")
                .and_then(Value::as_str)
                == Some("Key account since 2019"))
        })
        .await?;
    let customer = demo.fo_customer("usmf", "US-001").await?;
    demo.say(&format!(
        "  -> F&O customer usmf/US-001: SalesMemo = {:?} (after {} ms)\n",
        customer
            .get("SalesMemo")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        dv_change.as_millis()
    ));

    let status = engine.status()?;
    let errors = engine.store().errors(None)?;
    drop(endpoint);
    if json {
        let errors: Vec<output::ErrorJson> = errors.iter().map(output::ErrorJson::from).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "status": status,
                "errors": errors,
                "fo_to_dataverse_ms": fo_change.as_millis() as u64,
                "dataverse_to_fo_ms": dv_change.as_millis() as u64,
                "seconds": started.elapsed().as_secs_f64(),
            }))
            .map_err(Failure::runtime)?
        );
        return Ok(());
    }
    println!("==> status\n");
    print!("{}", output::status_table(&status));
    println!("\n==> error log\n");
    print!("{}", output::errors_table(&errors));
    println!(
        "\ndemo finished in {:.1}s. Next: `dualsync maps` lists the standard maps; the README says how to point dualsync.toml at a real org.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
