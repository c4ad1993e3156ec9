//! `fetch` against a mock service (wiremock): the token request, headers on every call, option-set
//! requests, retries that honour Retry-After, error messages, atomic writes, and secrets kept out of
//! output.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use dualsync::auth::{Credentials, Secret};
use dualsync_codegen::fetch::{self, FetchError, FetchOptions, Service};
use wiremock::matchers::{body_string_contains, header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const METADATA: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="account"><Key><PropertyRef Name="accountid"/></Key><Property Name="accountid" Type="Edm.Guid"/>
<Property Name="customertypecode" Type="Edm.Int32"/><Property Name="statecode" Type="Edm.Int32"/></EntityType>
<EntityContainer Name="System"><EntitySet Name="accounts" EntityType="mscrm.account"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>"#;

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dualsync-fetch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options(server: &MockServer, out: &std::path::Path) -> FetchOptions {
    FetchOptions {
        service: Service::Dataverse,
        url: format!("{}/api/data/v9.2/", server.uri()),
        out: out.to_path_buf(),
        progress: false,
        retries: 3,
        ..FetchOptions::default()
    }
}

fn client_credentials(server: &MockServer) -> Credentials {
    Credentials::ClientCredentials {
        authority: server.uri(),
        tenant: "contoso.onmicrosoft.com".into(),
        client_id: "app-id".into(),
        client_secret: Secret::new("s3cr3t-value"),
    }
}

async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_secret=s3cr3t-value"))
        .and(body_string_contains(format!(
            "scope={}%2F.default",
            server.uri().replace(':', "%3A").replace('/', "%2F")
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"access_token":"eyJ.token","expires_in":3600}"#),
        )
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn saves_metadata_option_sets_and_manifest_with_token_and_odata_headers() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/$metadata"))
        .and(header("Authorization", "Bearer eyJ.token"))
        .and(header("OData-MaxVersion", "4.0"))
        .and(header("OData-Version", "4.0"))
        .and(header("Accept", "application/xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(METADATA))
        .expect(1)
        .mount(&server)
        .await;
    let picklist = String::from_utf8(common::read(
        "dataverse-optionsets/account.PicklistOptionSetAttribute.json",
    ))
    .unwrap();
    let state = String::from_utf8(common::read(
        "dataverse-optionsets/account.StateOptionSetAttribute.json",
    ))
    .unwrap();
    for (kind, body) in [
        ("Picklist", picklist.as_str()),
        ("State", state.as_str()),
        ("Status", r#"{"value":[]}"#),
        ("Boolean", r#"{"value":[]}"#),
        ("MultiSelectPicklist", r#"{"value":[]}"#),
    ] {
        Mock::given(method("GET"))
            .and(path_regex(format!(r"^/api/data/v9\.2/EntityDefinitions\(LogicalName='account'\)/Attributes/Microsoft\.Dynamics\.CRM\.{kind}AttributeMetadata$")))
            .and(header("Authorization", "Bearer eyJ.token"))
            .and(header("Accept", "application/json"))
            .and(header("OData-Version", "4.0"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    // The table's entity metadata: one request, every attribute's properties and the keys.
    let entity = String::from_utf8(common::read("dataverse-optionsets/account.EntityMetadata.json")).unwrap();
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/api/data/v9\.2/EntityDefinitions\(LogicalName='account'\)$",
        ))
        .and(wiremock::matchers::query_param(
            "$select",
            "LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute",
        ))
        .and(wiremock::matchers::query_param("$expand", "Attributes,Keys"))
        .and(header("Authorization", "Bearer eyJ.token"))
        .and(header("Accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(entity.as_str()))
        .expect(1)
        .mount(&server)
        .await;
    let out = out_dir("ok");
    let report = fetch::fetch(&options(&server, &out), client_credentials(&server))
        .await
        .unwrap();
    assert_eq!(report.requests, 7);
    assert_eq!(
        std::fs::read_to_string(out.join("metadata.xml")).unwrap(),
        METADATA,
        "saved byte for byte"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("optionsets/account.PicklistOptionSetAttribute.json")).unwrap(),
        picklist
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["service"], "dataverse");
    assert_eq!(manifest["files"].as_array().unwrap().len(), 7);
    assert_eq!(
        std::fs::read_to_string(out.join("optionsets/account.EntityMetadata.json")).unwrap(),
        entity,
        "entity metadata saved beside the option sets"
    );
    assert_eq!(manifest["files"][0]["path"], "metadata.xml");
    assert_eq!(manifest["files"][0]["sha256"].as_str().unwrap().len(), 64);
    // `generate` reads the folder as it is.
    let inputs = fetch::fetched_inputs(&out).unwrap();
    assert_eq!(inputs.len(), 7);
    let json = std::fs::read_to_string(out.join("optionsets/account.EntityMetadata.json")).unwrap();
    let facts = dualsync_codegen::csdl::optionsets::parse_option_sets(&json, Some("account")).unwrap();
    assert_eq!(
        facts.attributes["openrevenue"].schema_name.as_deref(),
        Some("OpenRevenue"),
        "generate reads the saved entity metadata"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test]
async fn retries_after_429_honouring_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/data/$metadata"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/data/$metadata"))
        .respond_with(ResponseTemplate::new(200).set_body_string(METADATA))
        .mount(&server)
        .await;
    let out = out_dir("retry");
    let mut opts = options(&server, &out);
    opts.service = Service::Fo;
    opts.url = format!("{}/data/", server.uri());
    let start = Instant::now();
    let report = fetch::fetch(&opts, Credentials::None).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited as Retry-After asked"
    );
    assert_eq!((report.requests, report.retries), (2, 1));
    let _ = std::fs::remove_dir_all(&out);
}

async fn failing(status: u16, body: &str) -> (FetchError, PathBuf) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    let out = out_dir(&format!("fail{status}"));
    std::fs::create_dir_all(&out).unwrap();
    // An earlier fetch, which a failed one must leave as it was.
    std::fs::write(out.join("metadata.xml"), "earlier fetch").unwrap();
    std::fs::write(
        out.join("manifest.json"),
        r#"{"service":"dataverse","url":"x","files":[{"path":"metadata.xml","sha256":"","bytes":13}]}"#,
    )
    .unwrap();
    let mut opts = options(&server, &out);
    opts.retries = 1;
    let error = fetch::fetch(&opts, Credentials::Static(Secret::new("tok-abc")))
        .await
        .unwrap_err();
    (error, out)
}

#[tokio::test]
async fn errors_say_what_is_likely_wrong_and_nothing_is_written() {
    let (e, out) = failing(401, "").await;
    assert!(
        e.to_string().contains("HTTP 401 Unauthorized") && e.to_string().contains("application user"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("metadata.xml")).unwrap(),
        "earlier fetch"
    );
    let (e, _) = failing(403, "").await;
    assert!(
        e.to_string().contains("HTTP 403 Forbidden") && e.to_string().contains("security role"),
        "{e}"
    );
    let (e, _) = failing(404, "").await;
    assert!(
        e.to_string().contains("HTTP 404 Not Found") && e.to_string().contains("/api/data/v9.2/"),
        "{e}"
    );
    let (e, _) = failing(200, "<!DOCTYPE html><html><body>Sign in</body></html>").await;
    assert!(
        e.to_string().contains("did not return OData CSDL metadata") && e.to_string().contains("HTML page"),
        "{e}"
    );
    let (e, out) = failing(
        503,
        r#"{"error":{"code":"0x80072321","message":"Service unavailable"}}"#,
    )
    .await;
    assert!(
        e.to_string()
            .contains("HTTP 503 Service Unavailable: 0x80072321: Service unavailable (after 2 attempts)"),
        "{e}"
    );
    let leftovers = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".dualsync-fetch"))
        .count();
    assert_eq!(leftovers, 0, "no scratch folders left behind");
    assert!(!format!("{e:?}").contains("tok-abc"));
}

/// The `$metadata` URL an error starts with (each mock server has its own port).
fn url_of(e: &FetchError) -> String {
    let text = e.to_string();
    let end = text.find("$metadata").map_or(0, |i| i + "$metadata".len());
    text[..end].to_string()
}

#[tokio::test]
async fn exact_messages() {
    let (e, _) = failing(401, "").await;
    let url = e.to_string().split(": HTTP").next().unwrap().to_string();
    assert!(url.ends_with("/api/data/v9.2/$metadata"), "{url}");
    assert_eq!(
        e.to_string(),
        format!(
            "{url}: HTTP 401 Unauthorized: the service did not accept the token. Check the tenant and client id, and that the environment has an application user for this app registration (Power Platform admin center > Environment > Settings > Application users)."
        )
    );
    let (e, _) = failing(403, "").await;
    let url = url_of(&e);
    assert_eq!(
        e.to_string(),
        format!(
            "{url}: HTTP 403 Forbidden: the token is valid but its identity may not do this. Give the application user a security role that may read metadata (for example System Customizer)."
        )
    );
    let (e, _) = failing(404, "").await;
    let url = url_of(&e);
    assert_eq!(
        e.to_string(),
        format!(
            "{url}: HTTP 404 Not Found: no OData service there. Check the URL: the Dataverse Web API root looks like https://<org>.crm.dynamics.com/api/data/v9.2/ (organization URL and API version)."
        )
    );
    let (e, _) = failing(200, "<html><body>Sign in</body></html>").await;
    let url = url_of(&e);
    assert_eq!(
        e.to_string(),
        format!(
            "{url} did not return OData CSDL metadata: an HTML page came back (a sign-in page or a portal?)"
        )
    );
    let (e, _) = failing(429, "").await;
    let url = url_of(&e);
    assert_eq!(
        e.to_string(),
        format!("{url}: HTTP 429 Too Many Requests (after 2 attempts)")
    );
}

#[tokio::test]
async fn secrets_never_appear_in_cli_output() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let out = out_dir("cli");
    let url = format!("{}/api/data/v9.2/", server.uri());
    let server_uri = server.uri();
    let out_text = out.display().to_string();
    let run = move |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_dualsync-codegen"))
            .args(args)
            .env("DUALSYNC_CLIENT_SECRET", "supersecret-123")
            .env("DUALSYNC_TOKEN", "bearer-token-456")
            .env("RUST_LOG", "trace")
            .output()
            .unwrap()
    };
    let base = vec![
        "fetch".to_string(),
        "--service".into(),
        "dataverse".into(),
        "--url".into(),
        url,
        "--out".into(),
        out_text,
    ];
    let mut with_secret = base.clone();
    with_secret.extend(
        [
            "--auth",
            "client-credentials",
            "--tenant",
            "t",
            "--client-id",
            "c",
            "--authority",
            &server_uri,
        ]
        .map(String::from),
    );
    let mut with_token = base;
    with_token.extend(["--auth", "token"].map(String::from));
    let outputs = tokio::task::spawn_blocking(move || (run(with_secret), run(with_token)))
        .await
        .unwrap();
    for output in [outputs.0, outputs.1] {
        assert_eq!(output.status.code(), Some(1));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !all.contains("supersecret-123") && !all.contains("bearer-token-456"),
            "{all}"
        );
        assert!(
            all.contains("client secret is wrong or expired") || all.contains("HTTP 403"),
            "{all}"
        );
    }
}

/// Metadata whose table name is a path: it must never become a file name or URL structure.
const HOSTILE_METADATA: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="../../../../../../../../tmp/dualsync-pwned/PWNED"><Key><PropertyRef Name="id"/></Key><Property Name="id" Type="Edm.Guid"/></EntityType>
<EntityContainer Name="System"><EntitySet Name="pwned" EntityType="mscrm.../../../../../../../../tmp/dualsync-pwned/PWNED"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>"#;

#[tokio::test]
async fn names_from_metadata_never_become_paths_or_urls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/$metadata"))
        .respond_with(ResponseTemplate::new(200).set_body_string(HOSTILE_METADATA))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"value":[]}"#))
        .mount(&server)
        .await;
    let out = out_dir("hostile-names");
    let _ = std::fs::remove_dir_all("/tmp/dualsync-pwned");
    let error = fetch::fetch(&options(&server, &out), Credentials::None)
        .await
        .unwrap_err();
    assert!(!std::path::Path::new("/tmp/dualsync-pwned").exists());
    assert!(!out.exists(), "nothing written");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "only $metadata was asked for: {error}");
    assert!(
        error.to_string().contains("not an OData identifier")
            || error.to_string().contains("did not return OData CSDL"),
        "{error}"
    );
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_size_limit_and_nothing_is_written() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&sent);
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0u8; 4096];
        let _ = socket.read(&mut buffer).await;
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n")
            .await;
        let chunk = vec![b'<'; 64 * 1024];
        // Endless, until the client hangs up (bounded so a broken client cannot hang the test).
        for _ in 0..100_000 {
            if socket.write_all(&chunk).await.is_err() {
                return;
            }
            counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
    });
    let out = out_dir("endless");
    let options = FetchOptions {
        service: Service::Fo,
        url: format!("http://{address}/data/"),
        out: out.clone(),
        progress: false,
        retries: 0,
        max_metadata_bytes: 1024 * 1024,
        ..FetchOptions::default()
    };
    let error = fetch::fetch(&options, Credentials::None).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("larger than the limit of 1048576 bytes"),
        "{error}"
    );
    assert!(!out.exists());
    assert!(sent.load(std::sync::atomic::Ordering::Relaxed) < 64 * 1024 * 1024);
}

#[tokio::test]
async fn fetch_never_writes_into_a_folder_it_did_not_write() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(METADATA))
        .mount(&server)
        .await;
    let out = out_dir("foreign");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("main.rs"), "fn main() {}").unwrap();
    let mut opts = options(&server, &out);
    opts.option_sets = false;
    let error = fetch::fetch(&opts, Credentials::None).await.unwrap_err();
    assert!(error.to_string().contains("did not write"), "{error}");
    assert_eq!(
        std::fs::read_to_string(out.join("main.rs")).unwrap(),
        "fn main() {}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    // A file as --out is refused too, and left alone.
    let file = out.join("main.rs");
    opts.out = file.clone();
    let error = fetch::fetch(&opts, Credentials::None).await.unwrap_err();
    assert!(error.to_string().contains("not a folder"), "{error}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "fn main() {}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    // An earlier fetch's folder is refreshed in place; files it did not write stay.
    let fetched = out_dir("refetch");
    opts.out = fetched.clone();
    fetch::fetch(&opts, Credentials::None).await.unwrap();
    std::fs::write(fetched.join("NOTES.md"), "mine").unwrap();
    fetch::fetch(&opts, Credentials::None).await.unwrap();
    assert_eq!(std::fs::read_to_string(fetched.join("NOTES.md")).unwrap(), "mine");
    assert_eq!(
        std::fs::read_to_string(fetched.join("metadata.xml")).unwrap(),
        METADATA
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&fetched);
}

#[tokio::test]
async fn a_refused_secret_is_not_retried_and_never_echoed() {
    let server = MockServer::start().await;
    // A token endpoint that echoes the form body, secret included.
    Mock::given(method("POST"))
        .respond_with(|request: &wiremock::Request| {
            let form = String::from_utf8_lossy(&request.body).to_string();
            ResponseTemplate::new(401).set_body_string(format!(
                r#"{{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. You sent: {form} \u001b[2J"}}"#
            ))
        })
        .mount(&server)
        .await;
    let out = out_dir("refused");
    let error = fetch::fetch(&options(&server, &out), client_credentials(&server))
        .await
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("s3cr3t-value"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
    let posts = server.received_requests().await.unwrap().len();
    assert_eq!(posts, 1, "a refused secret is not retried");
}
