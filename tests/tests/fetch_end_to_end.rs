//! fetch -> generate -> `cargo check` against a third-party OData server: SAP's fe-mockserver-core
//! (npm, installed by `.ci/run` into tests/mockserver) serving the F&O dual-write document on loopback.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use dualsync::auth::Credentials;
use dualsync_codegen::csdl;
use dualsync_codegen::emit::{self, Options};
use dualsync_codegen::fetch::{self, FetchOptions, Service};
use dualsync_codegen::model::Model;
use dualsync_tests::{cargo_check_offline, detach_from_workspace, workspace};

/// The mock server process; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the mock server is installed. In CI (`CI` set) it must be: `.ci/run` installs it; on a
/// developer machine without it the test says so and does nothing.
fn mock_server_installed() -> bool {
    let installed = workspace()
        .join("tests/mockserver/node_modules/@sap-ux/fe-mockserver-core")
        .is_dir();
    if !installed {
        let message =
            "the mock OData server is not installed: run `npm ci --prefix tests/mockserver` (.ci/run does)";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("SKIPPED fetch end-to-end test: {message}");
    }
    installed
}

fn start(document: &Path, url_path: &str) -> (Server, String) {
    let dir = workspace().join("tests/mockserver");
    let mut child = Command::new("node")
        .arg("serve.js")
        .arg(document)
        .arg(url_path)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed to run the mock OData server");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("mock server said: {line}"))
        .to_string();
    (server, base)
}

#[test]
fn fetch_generate_and_compile_against_a_third_party_odata_server() {
    if !mock_server_installed() {
        return;
    }
    let document = workspace().join("tests/corpus/fo/fo-dualwrite-core.xml");
    let (_server, base) = start(&document, "/data");
    let scratch = std::env::temp_dir().join(format!("dualsync-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let fetched = scratch.join("fetched");
    let options = FetchOptions {
        service: Service::Fo,
        url: format!("{base}/data/"),
        out: fetched.clone(),
        option_sets: false,
        progress: false,
        ..FetchOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime
        .block_on(fetch::fetch(&options, Credentials::None))
        .unwrap();
    assert_eq!(report.files.len(), 1);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fetched.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["service"], "fo");

    // generate reads the fetched folder as it is.
    let inputs = fetch::fetched_inputs(&fetched).unwrap();
    let bytes = std::fs::read(&inputs[0]).unwrap();
    let model = Model::resolve(vec![csdl::parse_bytes(&bytes).unwrap()]).unwrap();
    assert_eq!(
        model.entity_types.len(),
        34,
        "the served document is the F&O dual-write one"
    );
    let crate_dir = scratch.join("bindings");
    let files = emit::generate(
        &model,
        &Options {
            crate_name: Some("fetched-bindings".into()),
            runtime_path: Some(workspace().join("runtime").display().to_string()),
            ..Options::default()
        },
    )
    .unwrap();
    emit::write(&crate_dir, &files).unwrap();
    detach_from_workspace(&crate_dir).unwrap();
    cargo_check_offline(&crate_dir).unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
}
