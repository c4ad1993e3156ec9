//! The `dualsync` binary: every subcommand's exit code and output, `--json` parsed, configuration
//! errors naming the key, the demo; run/status/errors/pause/resume/reconcile against an emulator
//! started here with a dualsync.toml pointing at it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dualsync_emulator::{Emulator, load_seed};
use serde_json::{Value, json};

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dualsync"));
    command.env("NO_COLOR", "1");
    command
}

fn dualsync(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[track_caller]
fn ok(output: &Output) -> String {
    let (out, err) = text(output);
    assert_eq!(output.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    out
}

#[track_caller]
fn fails(output: &Output, code: i32) -> String {
    let (out, err) = text(output);
    assert_eq!(output.status.code(), Some(code), "stdout:\n{out}\nstderr:\n{err}");
    err
}

#[track_caller]
fn json_of(output: &Output) -> Value {
    let out = ok(output);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dualsync-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("dualsync.toml"), text).unwrap();
}

const LOCAL: &str = "[dataverse]\nurl = \"http://127.0.0.1:9\"\n[fo]\nurl = \"http://127.0.0.1:9\"\n";

#[test]
fn maps_lists_every_generated_map_and_its_column_pairs() {
    let dir = temp_dir("maps");
    let out = ok(&dualsync(&dir, &["maps"]));
    for name in dualsync_generated::maps::NAMES {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    let all = json_of(&dualsync(&dir, &["maps", "--json"]));
    assert_eq!(
        all.as_array().unwrap().len(),
        dualsync_generated::maps::NAMES.len()
    );
    let one = json_of(&dualsync(&dir, &["maps", "customersv3toaccounts", "--json"]));
    assert_eq!(one["fo_entity"], "CustomersV3");
    assert_eq!(one["dataverse_table"], "accounts");
    assert_eq!(one["company"], "dataAreaId");
    let key = &one["columns"][0];
    assert_eq!(
        (
            key["fo"].as_str(),
            key["dataverse"].as_str(),
            key["key"].as_bool()
        ),
        (Some("CustomerAccount"), Some("accountnumber"), Some(true))
    );
    let out = ok(&dualsync(&dir, &["maps", "CurrenciesToTransactioncurrencies"]));
    assert!(out.contains("CurrencyCode  <->  isocurrencycode"), "{out}");
    assert!(out.contains("(default)"), "{out}");
    let err = fails(&dualsync(&dir, &["maps", "CustomersV3ToAcounts"]), 2);
    assert!(err.contains("did you mean CustomersV3ToAccounts"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp_dir("usage");
    fails(&dualsync(&dir, &["frobnicate"]), 2);
    fails(&dualsync(&dir, &["errors", "retry"]), 2);
    fails(&dualsync(&dir, &["errors", "retry", "3", "--all"]), 2);
    fails(&dualsync(&dir, &["pause"]), 2);
    let help = ok(&dualsync(&dir, &["--help"]));
    assert!(help.contains("Exit codes"), "{help}");
    // No configuration.
    let err = fails(&dualsync(&dir, &["status"]), 2);
    assert!(
        err.contains("cannot read the configuration") && err.contains("dualsync.toml"),
        "{err}"
    );
    let err = fails(&dualsync(&dir, &["status", "--config", "elsewhere.toml"]), 2);
    assert!(err.contains("elsewhere.toml"), "{err}");
}

#[test]
fn configuration_errors_name_the_key_and_the_line() {
    let dir = temp_dir("config");
    let cases: &[(&str, &[&str])] = &[
        (
            "[fo]\nurl = \"http://127.0.0.1:9\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n",
            &["missing `dataverse`"],
        ),
        ("[dataverse]\n[fo]\nurl = \"http://127.0.0.1:9\"\n", &["url"]),
        (
            &format!("{LOCAL}[[maps]]\nname = \"NoSuchMap\"\n"),
            &["`maps.name`", "NoSuchMap", "dualsync.toml:6"],
        ),
        (
            &format!(
                "{LOCAL}[engine]\nbatch_size = 0\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
            ),
            &["`engine.batch_size`", "dualsync.toml:6"],
        ),
        (
            &format!(
                "{LOCAL}[engine]\npage_size = 20000\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
            ),
            &["`engine.page_size`"],
        ),
        (
            &format!(
                "{LOCAL}[engine]\nerror_threshold = 2.5\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
            ),
            &["`engine.error_threshold`"],
        ),
        (
            &format!(
                "{LOCAL}[engine]\nevents_listen = \"everywhere\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
            ),
            &["`engine.events_listen`"],
        ),
        (
            &format!(
                "{LOCAL}[engine]\nbatch_size = \"ten\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
            ),
            &["batch_size", "dualsync.toml:6"],
        ),
        (
            &format!(
                "{LOCAL}[engine]\nbatchsize = 10\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
            ),
            &["batchsize"],
        ),
        (
            &format!(
                "{LOCAL}[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\ncompanies = [\"usmf\"]\n"
            ),
            &["`maps.companies`", "not per company"],
        ),
        (LOCAL, &["missing `maps`"]),
        (
            "[dataverse]\nurl = \"ftp://x\"\n[fo]\nurl = \"http://127.0.0.1:9\"\n",
            &["`dataverse.url`"],
        ),
        (
            "[dataverse]\nurl = \"https://contoso.crm.dynamics.com\"\n[fo]\nurl = \"http://127.0.0.1:9\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n",
            &["`dataverse`", "client_secret_env"],
        ),
        (
            "[dataverse]\nurl = \"https://contoso.crm.dynamics.com\"\ntenant = \"t\"\nclient_id = \"c\"\n[fo]\nurl = \"http://127.0.0.1:9\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n",
            &["`dataverse.client_secret_env` is missing"],
        ),
        (
            "[dataverse]\nurl = \"https://contoso.crm.dynamics.com\"\ntenant = \"t\"\nclient_id = \"c\"\nclient_secret_env = \"s3cret value!\"\n[fo]\nurl = \"http://127.0.0.1:9\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n",
            &["`dataverse.client_secret_env`", "environment variable"],
        ),
    ];
    for (config, expected) in cases {
        write_config(&dir, config);
        let err = fails(&dualsync(&dir, &["status"]), 2);
        for e in *expected {
            assert!(err.contains(e), "expected {e:?} for\n{config}\n---\n{err}");
        }
    }
    // A secret comes from the environment; without it, a command that talks to the service stops
    // with the variable's name (and never prints a value).
    write_config(
        &dir,
        "[dataverse]\nurl = \"https://contoso.crm.dynamics.com\"\ntenant = \"t\"\nclient_id = \"c\"\nclient_secret_env = \"DUALSYNC_TEST_UNSET_SECRET\"\n[fo]\nurl = \"http://127.0.0.1:9\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n",
    );
    let err = fails(
        &dualsync(&dir, &["initial-sync", "CurrenciesToTransactioncurrencies"]),
        2,
    );
    assert!(
        err.contains("DUALSYNC_TEST_UNSET_SECRET") && err.contains("dataverse.client_secret_env"),
        "{err}"
    );
    // Offline commands need no secret.
    let status = json_of(&dualsync(&dir, &["status", "--json"]));
    assert_eq!(status[0]["map"], "CurrenciesToTransactioncurrencies");
    // The secret is never printed, even when a call fails (a token endpoint on a closed port).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    write_config(
        &dir,
        &format!(
            "[dataverse]\nurl = \"http://127.0.0.1:{port}\"\nauthority = \"http://127.0.0.1:{port}\"\ntenant = \"t\"\nclient_id = \"c\"\nclient_secret_env = \"DUALSYNC_TEST_UNSET_SECRET\"\n[fo]\nurl = \"http://127.0.0.1:{port}\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
        ),
    );
    let output = bin()
        .current_dir(&dir)
        .env("DUALSYNC_TEST_UNSET_SECRET", "very-secret-value-123")
        .args(["initial-sync", "CurrenciesToTransactioncurrencies"])
        .output()
        .unwrap();
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}\n{err}");
    assert!(!out.contains("very-secret-value-123") && !err.contains("very-secret-value-123"));
}

#[test]
fn demo_finishes() {
    let dir = temp_dir("demo");
    let start = Instant::now();
    let out = ok(&dualsync(&dir, &["demo"]));
    assert!(start.elapsed() < Duration::from_secs(60));
    for expected in [
        "initial sync",
        "CustomersV3ToAccounts",
        "CurrenciesToTransactioncurrencies",
        "CustomerGroupsToMsdynCustomergroups",
        "-> Dataverse account US-002: creditlimit = 75000",
        "-> F&O customer usmf/US-001: SalesMemo = \"Key account since 2019\"",
        "isocurrencycode = 'XYZ'",
        "msdyn_groupid = '99'",
        "demo finished",
    ] {
        assert!(out.contains(expected), "{expected:?} missing:\n{out}");
    }
    let report = json_of(&dualsync(&dir, &["demo", "--json"]));
    assert_eq!(report["status"].as_array().unwrap().len(), 3);
    assert_eq!(report["errors"].as_array().unwrap().len(), 2);
    let customers = report["status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["map"] == "CustomersV3ToAccounts")
        .unwrap();
    assert_eq!(customers["synced_to_fo"], 1);
    assert_eq!(customers["errors"], 2);
}

struct Env {
    _running: dualsync_emulator::Running,
    url: String,
    dir: PathBuf,
    http: reqwest::Client,
}

async fn emulator(name: &str) -> Env {
    let metadata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../metadata");
    let emulator = Emulator::from_paths(
        Some(&metadata.join("dataverse-dualwrite.xml")),
        Some(&metadata.join("fo-dualwrite.xml")),
    )
    .unwrap();
    let running = emulator.serve("127.0.0.1:0").await.unwrap();
    running
        .emulator
        .with(|s| load_seed(s, &dualsync_cli::demo::seed()))
        .unwrap();
    let dir = temp_dir(name);
    write_config(
        &dir,
        &format!(
            r#"# the emulator of this test
[dataverse]
url = "{url}"

[fo]
url = "{url}"

[state]
file = "state.db"

[engine]
batch_size = 50
page_size = 3
poll_interval_secs = 0.1
events_listen = "127.0.0.1:0"
lookup_timeout_secs = 0

[[maps]]
name = "CurrenciesToTransactioncurrencies"

[[maps]]
name = "CustomerGroupsToMsdynCustomergroups"
companies = ["usmf", "demf"]

[[maps]]
name = "CustomersV3ToAccounts"
companies = ["USMF", "demf"]
"#,
            url = running.url
        ),
    );
    Env {
        url: running.url.clone(),
        _running: running,
        dir,
        http: reqwest::Client::new(),
    }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        dualsync(&self.dir, args)
    }

    async fn accounts(&self) -> Vec<Value> {
        let all: Value = self
            .http
            .get(format!("{}/_admin/dataverse/export", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.get("accounts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
}

fn status_of<'a>(status: &'a Value, map: &str) -> &'a Value {
    status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["map"] == map)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_commands_against_the_emulator() {
    let env = emulator("state").await;
    let status = json_of(&env.run(&["status", "--json"]));
    assert_eq!(status.as_array().unwrap().len(), 3);
    // Dependency order: groups and currencies before customers.
    assert_eq!(status[2]["map"], "CustomersV3ToAccounts");
    assert_eq!(
        status_of(&status, "CustomersV3ToAccounts")["state"],
        "initial sync"
    );
    assert_eq!(
        status_of(&status, "CustomersV3ToAccounts")["companies"],
        json!(["usmf", "demf"])
    );
    let table = ok(&env.run(&["status"]));
    for column in [
        "MAP",
        "STATE",
        "COMPANIES",
        "SYNCED",
        "QUEUED",
        "ERRORS",
        "LAG",
        "LAST CHANGE",
    ] {
        assert!(table.contains(column), "{table}");
    }

    // Initial sync, map by map.
    let currencies = json_of(&env.run(&["initial-sync", "CurrenciesToTransactioncurrencies", "--json"]));
    assert_eq!(
        (currencies["read"].as_u64(), currencies["done"].as_bool()),
        (Some(3), Some(true))
    );
    let out = ok(&env.run(&["initial-sync", "CurrenciesToTransactioncurrencies"]));
    assert!(out.contains("already done"), "{out}");
    ok(&env.run(&["initial-sync", "CustomerGroupsToMsdynCustomergroups"]));
    let usmf = json_of(&env.run(&[
        "initial-sync",
        "CustomersV3ToAccounts",
        "--company",
        "USMF",
        "--json",
    ]));
    assert_eq!(usmf["read"], 4);
    assert_eq!(usmf["new_errors"], 1);
    assert_eq!(env.accounts().await.len(), 3);
    fails(
        &env.run(&["initial-sync", "CustomersV3ToAccounts", "--company", "gbsi"]),
        2,
    );
    fails(&env.run(&["initial-sync", "NoSuchMap"]), 2);

    // The error log.
    let errors = json_of(&env.run(&["errors", "--json"]));
    let errors = errors.as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["key"], "us-004");
    assert_eq!(errors[0]["direction"], "fo_to_dv");
    assert_eq!(errors[0]["record"]["SalesCurrencyCode"], "XYZ");
    let id = errors[0]["id"].as_i64().unwrap().to_string();
    let table = ok(&env.run(&["errors", "customersv3toaccounts"]));
    assert!(
        table.contains("us-004") && table.contains("isocurrencycode = 'XYZ'"),
        "{table}"
    );
    assert!(ok(&env.run(&["errors", "CurrenciesToTransactioncurrencies"])).contains("no errors"));
    fails(&env.run(&["errors", "NoSuchMap"]), 2);
    let detail = ok(&env.run(&["errors", "show", &id]));
    assert!(
        detail.contains("\"SalesCurrencyCode\": \"XYZ\"") && detail.contains("F&O -> DV"),
        "{detail}"
    );
    let one = json_of(&env.run(&["errors", "show", &id, "--json"]));
    assert_eq!(one["map"], "CustomersV3ToAccounts");
    fails(&env.run(&["errors", "show", "999"]), 2);
    fails(&env.run(&["errors", "retry", "999"]), 2);
    let retried = json_of(&env.run(&["errors", "retry", &id, "--json"]));
    assert_eq!(retried["retried"], 1);
    let status = json_of(&env.run(&["status", "--json"]));
    assert_eq!(status_of(&status, "CustomersV3ToAccounts")["queued"], 1);
    assert_eq!(status_of(&status, "CustomersV3ToAccounts")["errors"], 0);
    assert!(ok(&env.run(&["errors", "retry", "--all"])).contains("moved 0 error(s)"));

    // Pause and resume.
    let paused = json_of(&env.run(&["pause", "customersv3toaccounts", "--json"]));
    assert_eq!(paused, json!({"map": "CustomersV3ToAccounts", "paused": true}));
    let status = json_of(&env.run(&["status", "--json"]));
    assert_eq!(status_of(&status, "CustomersV3ToAccounts")["state"], "paused");
    assert!(ok(&env.run(&["status"])).contains("paused by the user"));
    fails(&env.run(&["pause", "NoSuchMap"]), 2);
    assert!(ok(&env.run(&["resume", "CustomersV3ToAccounts"])).contains("resumed CustomersV3ToAccounts"));
    let status = json_of(&env.run(&["status", "--json"]));
    assert_ne!(status_of(&status, "CustomersV3ToAccounts")["state"], "paused");

    // Reconcile: us-004 is missing in Dataverse; a changed account differs.
    let account = env
        .accounts()
        .await
        .into_iter()
        .find(|a| a["accountnumber"] == "US-003")
        .unwrap();
    let id = account["accountid"].as_str().unwrap().to_string();
    let answer = env
        .http
        .patch(format!("{}/api/data/v9.2/accounts({id})", env.url))
        .json(&json!({"creditlimit": 1}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let report = json_of(&env.run(&[
        "reconcile",
        "CustomersV3ToAccounts",
        "--company",
        "usmf",
        "--json",
    ]));
    let report = &report[0];
    assert_eq!(report["compared"], 4);
    assert_eq!(report["missing_in_dataverse"], json!(["us-004"]));
    assert_eq!(report["differing"][0]["key"], "us-003");
    assert_eq!(report["differing"][0]["columns"], json!(["creditlimit"]));
    assert_eq!(report["queued"], 0);
    let text = ok(&env.run(&["reconcile", "CustomersV3ToAccounts", "--company", "usmf"]));
    assert!(
        text.contains("missing in Dataverse: 1 (us-004)") && text.contains("us-003: creditlimit"),
        "{text}"
    );
    let fixed = json_of(&env.run(&[
        "reconcile",
        "CustomersV3ToAccounts",
        "--company",
        "usmf",
        "--fix",
        "--json",
    ]));
    assert_eq!(fixed[0]["queued"], 2);
    let clean = json_of(&env.run(&["reconcile", "CurrenciesToTransactioncurrencies", "--json"]));
    assert_eq!(clean[0]["compared"], 3);
    assert_eq!(clean[0]["differing"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_syncs_live_until_interrupted() {
    let env = emulator("run").await;
    let mut child = bin()
        .current_dir(&env.dir)
        .args(["run", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(ready["event"], "ready");
    assert_eq!(ready["maps"].as_array().unwrap().len(), 3);
    let endpoint = ready["events_endpoint"].as_str().unwrap().to_string();
    let answer = env
        .http
        .post(format!("{}/_admin/fo/events", env.url))
        .json(&json!({"set": "CustomersV3", "endpoint": endpoint}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    // Initial sync of both companies: 4 good customers (US-004 and DE-002 have problems).
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.accounts().await.len() < 4 {
        assert!(Instant::now() < deadline, "initial sync did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A change in F&O arrives in Dataverse through a data event.
    let answer = env
        .http
        .patch(format!(
            "{}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-002')",
            env.url
        ))
        .json(&json!({"CreditLimit": 75000}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    loop {
        let accounts = env.accounts().await;
        let account = accounts.iter().find(|a| a["accountnumber"] == "US-002").unwrap();
        if account["creditlimit"].to_string().starts_with("75000") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the F&O change did not arrive: {account}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Status works while `run` holds the state file.
    let status = json_of(&env.run(&["status", "--json"]));
    assert_eq!(status_of(&status, "CustomersV3ToAccounts")["errors"], 2);
    // Ctrl-C: a clean stop.
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(exit.code(), Some(0), "stdout: {rest:?}\nstderr: {stderr}");
    let stopped: Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(stopped["event"], "stopped");
    assert!(
        status_of(&stopped["status"], "CustomersV3ToAccounts")["synced_to_dv"]
            .as_u64()
            .unwrap()
            >= 5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_fails_with_exit_1_when_a_service_is_down() {
    let dir = temp_dir("down");
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    write_config(
        &dir,
        &format!(
            "[dataverse]\nurl = \"http://127.0.0.1:{port}\"\n[fo]\nurl = \"http://127.0.0.1:{port}\"\n[[maps]]\nname = \"CurrenciesToTransactioncurrencies\"\n"
        ),
    );
    let output = bin()
        .current_dir(&dir)
        .args(["initial-sync", "CurrenciesToTransactioncurrencies"])
        .output()
        .unwrap();
    let err = fails(&output, 1);
    assert!(err.contains("127.0.0.1"), "{err}");
}
