//! The OData client against mock services (wiremock, and a raw TCP server where the mock itself must
//! measure something): headers and auth on every call, paging, retries with Retry-After, the
//! concurrency limit, writes with preconditions, typed errors, limits, `$batch`, change tracking, and
//! secrets kept out of errors and logs.

#![cfg(feature = "http")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dualsync::auth::{Credentials, Secret};
use dualsync::edm::{Decimal, Guid};
use dualsync::entity::Patch;
use dualsync::odata::{
    Change, DataverseClient, Error, FinOpsClient, Key, Precondition, Query, TransportConfig, TransportKind,
};
use futures_util::TryStreamExt;
use wiremock::matchers::{body_string, header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    set = "accounts",
    type_name = "Microsoft.Dynamics.CRM.account",
    key("accountid"),
    alternate_key("accountnumber")
)]
pub struct Account {
    #[field(name = "accountid", edm = "Edm.Guid", key, not_null)]
    pub accountid: Guid,
    #[field(name = "accountnumber", edm = "Edm.String", max_length = 20)]
    pub accountnumber: Option<String>,
    #[field(name = "name", edm = "Edm.String", max_length = 160)]
    pub name: Option<String>,
    #[field(name = "creditlimit", edm = "Edm.Decimal", precision = 38, scale = 10)]
    pub creditlimit: Option<Decimal>,
    #[field(
        name = "_transactioncurrencyid_value",
        edm = "Edm.Guid",
        read_only,
        lookup(
            nav = "transactioncurrencyid",
            target = "Microsoft.Dynamics.CRM.transactioncurrency",
            set = "transactioncurrencies"
        )
    )]
    pub transactioncurrencyid: Option<Guid>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    set = "CustomersV3",
    type_name = "Microsoft.Dynamics.DataEntities.CustomerV3",
    key("dataAreaId", "CustomerAccount"),
    company = "dataAreaId"
)]
pub struct Customer {
    #[field(name = "dataAreaId", edm = "Edm.String", key, not_null, max_length = 4)]
    pub data_area_id: String,
    #[field(name = "CustomerAccount", edm = "Edm.String", key, not_null, max_length = 20)]
    pub customer_account: String,
    #[field(name = "OrganizationName", edm = "Edm.String", max_length = 100)]
    pub organization_name: Option<String>,
}

const TOKEN: &str = "tok-SECRET-0123456789";

fn config() -> TransportConfig {
    TransportConfig {
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        retries: 3,
        ..TransportConfig::default()
    }
}

fn dataverse(server: &MockServer, config: TransportConfig) -> DataverseClient {
    DataverseClient::new(
        &format!("{}/api/data/v9.2/", server.uri()),
        Credentials::Static(Secret::new(TOKEN)),
        config,
    )
    .unwrap()
}

fn guid(n: u32) -> Guid {
    format!("00000000-0000-4000-8000-{n:012}").parse().unwrap()
}

fn account_json(n: u32) -> serde_json::Value {
    serde_json::json!({
        "@odata.etag": format!("W/\"{}\"", 1000 + n),
        "accountid": guid(n).to_string(),
        "accountnumber": format!("A-{n:03}"),
        "name": format!("Account {n}"),
        "creditlimit": serde_json::Number::from_string_unchecked(format!("{n}.1234567891")),
        "_transactioncurrencyid_value": null,
    })
}

fn page(server: &MockServer, from: u32, to: u32, next: Option<&str>) -> ResponseTemplate {
    let mut body = serde_json::json!({
        "@odata.context": format!("{}/api/data/v9.2/$metadata#accounts", server.uri()),
        "value": (from..to).map(account_json).collect::<Vec<_>>(),
    });
    if let Some(next) = next {
        body["@odata.nextLink"] = serde_json::Value::String(next.to_string());
    }
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json")
}

#[tokio::test]
async fn pages_follow_next_links_with_headers_and_auth_on_every_call() {
    let server = MockServer::start().await;
    let next = format!(
        "{}/api/data/v9.2/accounts?$select=accountid,name&$skiptoken=%3Ccookie%20page=%222%22%3E",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .and(query_param("$skiptoken", "<cookie page=\"2\">"))
        .respond_with(page(&server, 3, 5, None))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .and(query_param("$select", "accountid,name"))
        .and(query_param("$filter", "name eq 'O''Brien & Co'"))
        .respond_with(page(&server, 0, 3, Some(&next)))
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let query = Query::<Account>::new()
        .select(&[&Account::ACCOUNTID, &Account::NAME])
        .filter(Account::NAME.eq(&"O'Brien & Co".to_string()))
        .page_size(3);
    let records: Vec<_> = client.list(&query).into_stream().try_collect().await.unwrap();
    assert_eq!(records.len(), 5);
    let accounts: Vec<Account> = records.iter().map(|r| r.entity().unwrap()).collect();
    assert_eq!(accounts[4].accountnumber.as_deref(), Some("A-004"));
    assert_eq!(accounts[4].creditlimit.unwrap().to_string(), "4.1234567891");
    assert_eq!(records[0].etag(), Some("W/\"1000\""));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        let h = |name: &str| request.headers.get(name).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(h("authorization").as_deref(), Some(&*format!("Bearer {TOKEN}")));
        assert_eq!(h("odata-maxversion").as_deref(), Some("4.0"));
        assert_eq!(h("odata-version").as_deref(), Some("4.0"));
        assert_eq!(h("accept").as_deref(), Some("application/json"));
        assert_eq!(h("prefer").as_deref(), Some("odata.maxpagesize=3"));
    }
}

#[tokio::test]
async fn partial_records_tell_absent_from_null() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"@odata.count":2,"value":[{"accountid":"00000000-0000-4000-8000-000000000001","name":null},{"accountid":"00000000-0000-4000-8000-000000000002","name":"B"}]}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let mut pages = client.list(
        &Query::<Account>::new()
            .select(&[&Account::ACCOUNTID, &Account::NAME])
            .count(),
    );
    let first = pages.next_page().await.unwrap().unwrap();
    assert_eq!(pages.count(), Some(2));
    assert_eq!(first.records[0].get(Account::NAME).unwrap(), None);
    assert_eq!(first.records[1].get(Account::NAME).unwrap().as_deref(), Some("B"));
    assert!(!first.records[1].has(Account::ACCOUNTNUMBER));
    let absent = first.records[1].get(Account::ACCOUNTNUMBER).unwrap_err();
    assert!(absent.to_string().contains("accountnumber"), "{absent}");
    assert!(pages.next_page().await.unwrap().is_none());
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(page(&server, 0, 1, Some("https://attacker.example/steal?x=1")))
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let mut pages = client.list(&Query::<Account>::new());
    assert!(pages.next_page().await.is_err());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn retries_wait_as_long_as_retry_after_and_hold_every_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_raw(
                    r#"{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}"#,
                    "application/json",
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(page(&server, 0, 1, None))
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let started = Instant::now();
    let records = client.list(&Query::<Account>::new()).collect_all().await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(990),
        "{:?}",
        started.elapsed()
    );
    let stats = client.transport().stats();
    assert_eq!((stats.requests, stats.retries, stats.throttled), (2, 1, 1));
    // The window is over: the next call goes at once.
    let started = Instant::now();
    client.list(&Query::<Account>::new()).collect_all().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn client_errors_are_not_retried_and_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000404)"))
        .respond_with(ResponseTemplate::new(404).set_body_raw(
            r#"{"error":{"code":"0x80040217","message":"account With Id = 00000000-0000-4000-8000-000000000404 Does Not Exist"}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000403)",
        ))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000401)",
        ))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000500)",
        ))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_raw("<html><body>Sign in to your account</body></html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .respond_with(ResponseTemplate::new(404).set_body_raw("Not here", "text/plain"))
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    assert!(
        client
            .get(&Key::<Account>::id(&guid(404)), &[])
            .await
            .unwrap()
            .is_none()
    );
    let e = client
        .get(&Key::<Account>::id(&guid(403)), &[])
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
    assert!(
        e.to_string().contains("HTTP 403 Forbidden") && e.to_string().contains("security role"),
        "{e}"
    );
    let e = client
        .get(&Key::<Account>::id(&guid(401)), &[])
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("did not accept the token") && e.to_string().contains("application user"),
        "{e}"
    );
    let e = client
        .get(&Key::<Account>::id(&guid(500)), &[])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotOData { status: 500, .. }), "{e}");
    assert!(e.to_string().contains("HTML page"), "{e}");
    let e = client
        .list(&Query::<Account>::new())
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("no OData service there") && e.to_string().contains("/api/data/v9.2/"),
        "{e}"
    );
    // Four GETs by key and one list: nothing was retried.
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test]
async fn writes_send_the_right_method_headers_and_body() {
    let server = MockServer::start().await;
    let entity_url = format!(
        "{}/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000007)",
        server.uri()
    );
    Mock::given(method("POST"))
        .and(path("/api/data/v9.2/accounts"))
        .and(header("Content-Type", "application/json"))
        .and(header("Prefer", "return=representation"))
        .and(body_string(
            r#"{"creditlimit":12.3456789012,"name":"O'Brien","transactioncurrencyid@odata.bind":"/transactioncurrencies(isocurrencycode='EUR')"}"#,
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("OData-EntityId", entity_url.as_str())
                .set_body_raw(account_json(7).to_string(), "application/json"),
        )
        .mount(&server)
        .await;
    // Upsert: PATCH to the alternate-key URL, no precondition.
    Mock::given(method("PATCH"))
        .and(path("/api/data/v9.2/accounts(accountnumber='A-007')"))
        .respond_with(ResponseTemplate::new(204).insert_header("OData-EntityId", entity_url.as_str()))
        .mount(&server)
        .await;
    // Update with an ETag that is stale.
    Mock::given(method("PATCH"))
        .and(path("/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000007)"))
        .and(header("If-Match", "W/\"1\""))
        .respond_with(ResponseTemplate::new(412).set_body_raw(
            r#"{"error":{"code":"0x80060882","message":"The version of the existing record doesn't match the RowVersion property provided."}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    // Update without an ETag: Dataverse's PATCH would create, so the client says If-Match: *.
    Mock::given(method("PATCH"))
        .and(path(
            "/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000007)",
        ))
        .and(header("If-Match", "*"))
        .respond_with(ResponseTemplate::new(204).insert_header("ETag", "W/\"2\""))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(
            "/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000007)",
        ))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let mut patch = Patch::<Account>::new();
    patch.set(Account::NAME, &"O'Brien".to_string()).unwrap();
    patch
        .set(Account::CREDITLIMIT, &"12.3456789012".parse().unwrap())
        .unwrap();
    patch
        .bind_key(
            Account::TRANSACTIONCURRENCYID,
            "transactioncurrencies",
            "isocurrencycode='EUR'",
        )
        .unwrap();
    let created = client.create(&patch, Precondition::None, true).await.unwrap();
    assert_eq!(created.entity_id.as_deref(), Some(entity_url.as_str()));
    assert_eq!(created.record.unwrap().entity().unwrap().accountid, guid(7));

    let mut name = Patch::<Account>::new();
    name.set(Account::NAME, &"New".to_string()).unwrap();
    let upserted = client
        .upsert(&Key::by(Account::ACCOUNTNUMBER, &"A-007".to_string()), &name)
        .await
        .unwrap();
    assert_eq!(upserted.entity_id.as_deref(), Some(entity_url.as_str()));

    let key = Key::<Account>::id(&guid(7));
    let e = client
        .update(&key, &name, Precondition::Etag("W/\"1\"".into()))
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e}");
    assert!(e.to_string().contains("0x80060882"), "{e}");
    assert_eq!(
        client
            .update(&key, &name, Precondition::None)
            .await
            .unwrap()
            .as_deref(),
        Some("W/\"2\"")
    );
    client.delete(&key, Precondition::None).await.unwrap();
}

#[tokio::test]
async fn fo_keys_companies_and_infolog() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/data/CustomersV3"))
        .and(query_param("cross-company", "true"))
        .and(query_param("$filter", "dataAreaId eq 'usmf'"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"value":[{"@odata.etag":"W/\"JzEsNTYzNzE0NDU3Nic=\"","dataAreaId":"usmf","CustomerAccount":"US-001","OrganizationName":"Contoso"}]}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: Customer group 'XX' does not exist.; Error: Write failed.","type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException","stacktrace":""}}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let client = FinOpsClient::new(
        &format!("{}/data/", server.uri()),
        Credentials::Static(Secret::new(TOKEN)),
        config(),
    )
    .unwrap();
    let customers = client
        .list(&Query::<Customer>::new().company("usmf"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(customers[0].entity().unwrap().customer_account, "US-001");
    let key = Key::by(Customer::DATA_AREA_ID, &"usmf".to_string())
        .and(Customer::CUSTOMER_ACCOUNT, &"US-001".to_string());
    let mut patch = Patch::<Customer>::new();
    patch.set(Customer::ORGANIZATION_NAME, &"X".to_string()).unwrap();
    let e = client.update(&key, &patch, Precondition::None).await.unwrap_err();
    let service = e.service().unwrap();
    assert_eq!(
        service.infolog,
        [
            "Warning: Customer group 'XX' does not exist.",
            "Error: Write failed."
        ]
    );
    assert!(
        e.to_string()
            .contains("infolog: Warning: Customer group 'XX' does not exist."),
        "{e}"
    );
    // F&O has no upsert: the PATCH carried no If-Match, as F&O's own PATCH never creates.
    let requests = server.received_requests().await.unwrap();
    assert!(requests[1].headers.get("if-match").is_none());
}

#[tokio::test]
async fn timeouts_say_so_and_a_create_is_never_sent_twice() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(page(&server, 0, 1, None).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = dataverse(
        &server,
        TransportConfig {
            timeout: Duration::from_millis(300),
            retries: 1,
            ..config()
        },
    );
    let e = client
        .list(&Query::<Account>::new())
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: TransportKind::Timeout,
                attempts: 2,
                outcome_unknown: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("timed out"), "{e}");
    let e = client
        .create(&Patch::<Account>::new(), Precondition::None, false)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                outcome_unknown: true,
                attempts: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("may have been applied"), "{e}");
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn an_overall_deadline_bounds_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = dataverse(
        &server,
        TransportConfig {
            retries: 100,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_millis(400),
            deadline: Duration::from_secs(1),
            ..config()
        },
    );
    let started = Instant::now();
    let e = client
        .list(&Query::<Account>::new())
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Deadline { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        e.to_string().contains("deadline of 1 s") && e.to_string().contains("503"),
        "{e}"
    );
}

#[tokio::test]
async fn responses_beyond_the_size_limit_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![b' '; 100_000], "application/json"))
        .mount(&server)
        .await;
    let client = dataverse(
        &server,
        TransportConfig {
            max_response_bytes: 10_000,
            ..config()
        },
    );
    let e = client
        .list(&Query::<Account>::new())
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 10_000, .. }), "{e:?}");
}

#[tokio::test]
async fn secrets_and_control_codes_from_the_server_never_reach_errors_or_logs() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = {
        let logs = Arc::clone(&logs);
        move || LogWriter(Arc::clone(&logs))
    };
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(writer)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|request: &Request| {
            let auth = request
                .headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            ResponseTemplate::new(400).set_body_raw(
                format!(
                    r#"{{"error":{{"code":"0x1","message":"you sent {auth} \u001b[2J\u001b[32mall good"}}}}"#
                ),
                "application/json",
            )
        })
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let e = client
        .list(&Query::<Account>::new())
        .collect_all()
        .await
        .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("odata"), "tracing spans were recorded: {logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A raw HTTP server that measures how many requests it is answering at once (wiremock answers
/// before its delay, so it cannot).
async fn counting_server(hold: Duration) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now2, peak2) = (Arc::clone(&now), Arc::clone(&peak));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (now, peak) = (Arc::clone(&now2), Arc::clone(&peak2));
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let mut read = 0;
                while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                let current = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(current, Ordering::SeqCst);
                tokio::time::sleep(hold).await;
                now.fetch_sub(1, Ordering::SeqCst);
                let body = r#"{"accountid":"00000000-0000-4000-8000-000000000001"}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (format!("http://{address}/api/data/v9.2/"), now, peak)
}

#[tokio::test]
async fn the_concurrency_limit_is_never_exceeded() {
    let (root, _, peak) = counting_server(Duration::from_millis(100)).await;
    let client = DataverseClient::new(
        &root,
        Credentials::None,
        TransportConfig {
            max_in_flight: 3,
            ..config()
        },
    )
    .unwrap();
    let calls = (0..12).map(|n| {
        let client = client.clone();
        async move { client.get(&Key::<Account>::id(&guid(n)), &[]).await }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(|r| r.as_ref().is_ok_and(|r| r.is_some())));
    assert_eq!(
        peak.load(Ordering::SeqCst),
        3,
        "the server saw at most 3 at once, and 3 were used"
    );
    assert_eq!(client.transport().stats().peak_in_flight, 3);
}

/// The whole `Prefer` header (wiremock's `header` matcher splits values at commas).
fn prefer(expected: &'static str) -> impl Fn(&Request) -> bool {
    move |request: &Request| {
        request
            .headers
            .get("prefer")
            .is_some_and(|v| v.to_str().ok() == Some(expected))
    }
}

#[tokio::test]
async fn change_tracking_reads_pages_then_deltas_and_reports_expiry() {
    let server = MockServer::start().await;
    let base = format!("{}/api/data/v9.2/", server.uri());
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .and(query_param("$deltatoken", "919042!08/22/2017 08:10:44"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"@odata.context":"{base}$metadata#accounts(name,accountnumber)/$delta","@odata.deltaLink":"{base}accounts?$select=name,accountnumber&$deltatoken=919058%2108%2f22%2f2017%2008%3a21%3a20","value":[{{"@odata.etag":"W/\"915\"","name":"Monte Orton","accountnumber":null,"accountid":"00000000-0000-4000-8000-000000000009"}},{{"@odata.context":"{base}$metadata#accounts/$deletedEntity","id":"00000000-0000-4000-8000-000000000002","reason":"deleted"}}]}}"#
            ),
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .and(query_param("$deltatoken", "1!old"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"error":{"code":"0x80044352","message":"Version stamp associated with the client has expired. Please perform a full sync."}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .and(prefer("odata.track-changes,odata.maxpagesize=2"))
        .and(query_param("$skiptoken", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"@odata.deltaLink":"{base}accounts?$select=name,accountnumber&$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44","value":[{}]}}"#,
                account_json(3)
            ),
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/accounts"))
        .and(prefer("odata.track-changes,odata.maxpagesize=2"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"@odata.nextLink":"{base}accounts?$select=name,accountnumber&$skiptoken=2","value":[{},{}]}}"#,
                account_json(1),
                account_json(2)
            ),
            "application/json",
        ))
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let query = Query::<Account>::new()
        .select(&[&Account::NAME, &Account::ACCOUNTNUMBER])
        .page_size(2);
    assert!(
        client.track_changes(&query.clone().top(3)).is_err(),
        "$top is refused with change tracking"
    );
    let (initial, delta) = client.track_changes(&query).unwrap().collect_all().await.unwrap();
    assert_eq!(initial.len(), 3);
    assert!(delta.contains("$deltatoken=919042"), "{delta}");
    let (changes, next_delta) = client
        .changes::<Account>(&delta, Some(2))
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    match &changes[0] {
        Change::Upsert(record) => {
            assert_eq!(record.get(Account::NAME).unwrap().as_deref(), Some("Monte Orton"))
        }
        other => panic!("{other:?}"),
    }
    match &changes[1] {
        Change::Deleted { id } => assert_eq!(id, "00000000-0000-4000-8000-000000000002"),
        other => panic!("{other:?}"),
    }
    assert!(next_delta.contains("919058"));
    let expired = format!("{base}accounts?$select=name&$deltatoken=1%21old");
    let e = client
        .changes::<Account>(&expired, None)
        .unwrap()
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::DeltaExpired(_)), "{e:?}");
}

#[tokio::test]
async fn batches_match_each_answer_to_its_operation() {
    let server = MockServer::start().await;
    let response = concat!(
        "--batchresponse_1\r\n",
        "Content-Type: multipart/mixed; boundary=changesetresponse_a\r\n",
        "\r\n",
        "--changesetresponse_a\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 1\r\n",
        "\r\n",
        "HTTP/1.1 204 No Content\r\n",
        "OData-Version: 4.0\r\n",
        "OData-EntityId: https://x/api/data/v9.2/accounts(00000000-0000-4000-8000-000000000001)\r\n",
        "\r\n",
        "\r\n",
        "--changesetresponse_a\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 2\r\n",
        "\r\n",
        "HTTP/1.1 204 No Content\r\n",
        "OData-Version: 4.0\r\n",
        "\r\n",
        "\r\n",
        "--changesetresponse_a--\r\n",
        "--batchresponse_1\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 3\r\n",
        "\r\n",
        "HTTP/1.1 400 Bad Request\r\n",
        "Content-Type: application/json; odata.metadata=minimal\r\n",
        "OData-Version: 4.0\r\n",
        "\r\n",
        "{\"error\":{\"code\":\"0x80040237\",\"message\":\"A record with matching key values already exists.\"}}\r\n",
        "--batchresponse_1\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "\r\n",
        "HTTP/1.1 200 OK\r\n",
        "Content-Type: application/json; odata.metadata=minimal\r\n",
        "\r\n",
        "{\"accountid\":\"00000000-0000-4000-8000-000000000001\",\"name\":\"A\"}\r\n",
        "--batchresponse_1--\r\n",
    );
    Mock::given(method("POST"))
        .and(path("/api/data/v9.2/$batch"))
        .and(header_exists("Content-Type"))
        .and(header("Prefer", "odata.continue-on-error"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(response, "multipart/mixed; boundary=batchresponse_1"),
        )
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let mut batch = client.batch();
    batch.continue_on_error();
    let mut a = Patch::<Account>::new();
    a.set(Account::NAME, &"A".to_string()).unwrap();
    let (upsert, update) = batch.change_set(|set| {
        let upsert = set.upsert(&Key::by(Account::ACCOUNTNUMBER, &"A-1".to_string()), &a);
        let update = set.update(&Key::id(&guid(2)), &a, Precondition::None);
        (upsert, update)
    });
    let failing = batch.change_set(|set| set.create(&a));
    let get = batch.get(&Key::<Account>::id(&guid(1)));
    assert_eq!(batch.len(), 4);
    let results = batch.send().await.unwrap();
    assert_eq!(results.get(upsert).as_ref().unwrap().status, 204);
    assert!(
        results
            .get(upsert)
            .as_ref()
            .unwrap()
            .entity_id()
            .unwrap()
            .ends_with("000000000001)")
    );
    assert_eq!(results.get(update).as_ref().unwrap().status, 204);
    let e = results.get(failing).as_ref().unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains("0x80040237"), "{e}");
    let record = results.get(get).as_ref().unwrap().record::<Account>().unwrap();
    assert_eq!(record.get(Account::NAME).unwrap().as_deref(), Some("A"));
    assert_eq!(results.failures(), 1);
    // What was sent: a multipart body with Content-IDs, the update guarded by If-Match: *.
    let sent = server.received_requests().await.unwrap();
    let body = String::from_utf8(sent[0].body.clone()).unwrap();
    let content_type = sent[0].headers.get("content-type").unwrap().to_str().unwrap();
    assert!(
        content_type.starts_with("multipart/mixed; boundary=batch_"),
        "{content_type}"
    );
    assert!(body.contains("Content-ID: 1\r\n"), "{body}");
    assert!(body.contains("PATCH "), "{body}");
    assert!(body.contains("If-Match: *\r\n"), "{body}");
}

#[tokio::test]
async fn a_failed_change_set_rolls_back_every_operation_of_it() {
    let server = MockServer::start().await;
    let response = concat!(
        "--batchresponse_2\r\n",
        "Content-Type: application/http\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-ID: 2\r\n",
        "\r\n",
        "HTTP/1.1 400 Bad Request\r\n",
        "Content-Type: application/json\r\n",
        "\r\n",
        "{\"error\":{\"code\":\"0x80044331\",\"message\":\"A validation error occurred. The length of the 'name' attribute exceeded 160.\"}}\r\n",
        "--batchresponse_2--\r\n",
    );
    Mock::given(method("POST"))
        .and(path("/api/data/v9.2/$batch"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(response, "multipart/mixed; boundary=batchresponse_2"),
        )
        .mount(&server)
        .await;
    let client = dataverse(&server, config());
    let mut batch = client.batch();
    let a = Patch::<Account>::new();
    let (first, second, third) = batch.change_set(|set| (set.create(&a), set.create(&a), set.create(&a)));
    let untouched = batch.get(&Key::<Account>::id(&guid(1)));
    let results = batch.send().await.unwrap();
    assert!(
        matches!(results.get(first), Err(Error::RolledBack { .. })),
        "{:?}",
        results.get(first)
    );
    assert_eq!(results.get(second).as_ref().unwrap_err().status(), Some(400));
    assert!(matches!(results.get(third), Err(Error::RolledBack { .. })));
    assert!(matches!(results.get(untouched), Err(Error::NotExecuted { .. })));
}

#[tokio::test]
async fn batch_limits_are_enforced_before_sending() {
    let server = MockServer::start().await;
    let client = dataverse(&server, config());
    let mut batch = client.batch();
    let a = Patch::<Account>::new();
    batch.change_set(|set| {
        for _ in 0..1001 {
            set.create(&a);
        }
    });
    let e = batch.send().await.unwrap_err();
    assert!(e.to_string().contains("at most 1000 requests"), "{e}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
