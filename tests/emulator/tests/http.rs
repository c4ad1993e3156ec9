//! The emulator over raw HTTP (reqwest, not dualsync's client): both flavours on the dual-write
//! metadata of `generated/metadata`, every behaviour the engine relies on.

use std::path::PathBuf;
use std::time::Duration;

use dualsync_emulator::Emulator;
use dualsync_emulator::faults::{ErrorRate, FaultConfig};
use dualsync_emulator::limits::Limits;
use serde_json::{Value, json};

fn metadata(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../generated/metadata")
        .join(file)
}

async fn start() -> dualsync_emulator::Running {
    let emulator = Emulator::from_paths(
        Some(&metadata("dataverse-dualwrite.xml")),
        Some(&metadata("fo-dualwrite.xml")),
    )
    .unwrap();
    emulator.serve("127.0.0.1:0").await.unwrap()
}

struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    fn new(running: &dualsync_emulator::Running) -> Self {
        Http {
            client: reqwest::Client::new(),
            base: running.url.clone(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .header("OData-Version", "4.0");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, value)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.send("GET", path, &[], None).await;
        (status, body)
    }
}

const DV: &str = "/api/data/v9.2/";

#[tokio::test]
async fn metadata_is_served_byte_for_byte() {
    let running = start().await;
    for (root, file) in [(DV, "dataverse-dualwrite.xml"), ("/data/", "fo-dualwrite.xml")] {
        let bytes = reqwest::get(format!("{}{root}$metadata", running.url))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(
            bytes.as_ref(),
            std::fs::read(metadata(file)).unwrap().as_slice(),
            "{file}"
        );
    }
}

#[tokio::test]
async fn dataverse_writes_keys_etags_and_upserts() {
    let running = start().await;
    let http = Http::new(&running);
    // Create: 204 with OData-EntityId; the id is made by the service.
    let (status, headers, _) = http
        .send(
            "POST",
            &format!("{DV}accounts"),
            &[],
            Some(json!({"name": "Contoso", "accountnumber": "A-1", "creditlimit": 12.5})),
        )
        .await;
    assert_eq!(status, 204);
    let entity = headers["OData-EntityId"].to_str().unwrap().to_string();
    let id = entity
        .rsplit('(')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_string();
    let (status, record) = http.get(&format!("{DV}accounts({id})")).await;
    assert_eq!(status, 200);
    assert_eq!(record["name"], "Contoso");
    assert_eq!(record["creditlimit"].to_string(), "12.5");
    let etag = record["@odata.etag"].as_str().unwrap().to_string();
    // Upsert by alternate key (accountnumber + company lookup): a missing key creates.
    let (status, headers, _) = http
        .send(
            "PATCH",
            &format!(
                "{DV}accounts(accountnumber='A-2',_msdyn_company_value=00000000-0000-4000-8000-00000000c0de)"
            ),
            &[],
            Some(json!({"name": "Fabrikam"})),
        )
        .await;
    assert_eq!(status, 204);
    assert!(headers.contains_key("OData-EntityId"));
    let (_, found) = http
        .get(&format!(
            "{DV}accounts?$filter=accountnumber eq 'A-2'&$select=name"
        ))
        .await;
    assert_eq!(found["value"][0]["name"], "Fabrikam");
    // If-Match with the current ETag works; the old one is 412 with Dataverse's code.
    let (status, _, _) = http
        .send(
            "PATCH",
            &format!("{DV}accounts({id})"),
            &[("If-Match", &etag)],
            Some(json!({"name": "Contoso 2"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _, error) = http
        .send(
            "PATCH",
            &format!("{DV}accounts({id})"),
            &[("If-Match", &etag)],
            Some(json!({"name": "stale"})),
        )
        .await;
    assert_eq!(status, 412);
    assert_eq!(error["error"]["code"], "0x80060882");
    // If-Match: * on a missing record is 404 (no create); If-None-Match: * on an existing one is 412.
    let missing = "00000000-0000-4000-8000-0000000000ff";
    let (status, _, _) = http
        .send(
            "PATCH",
            &format!("{DV}accounts({missing})"),
            &[("If-Match", "*")],
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = http
        .send(
            "PATCH",
            &format!("{DV}accounts({id})"),
            &[("If-None-Match", "*")],
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 412);
    // return=representation on create.
    let (status, _, created) = http
        .send(
            "POST",
            &format!("{DV}accounts"),
            &[("Prefer", "return=representation")],
            Some(json!({"name": "Trey"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(created["name"], "Trey");
    // Delete, then 404.
    let (status, _, _) = http
        .send("DELETE", &format!("{DV}accounts({id})"), &[], None)
        .await;
    assert_eq!(status, 204);
    let (status, error) = http.get(&format!("{DV}accounts({id})")).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "0x80040217");
}

#[tokio::test]
async fn writes_are_validated_against_the_metadata() {
    let running = start().await;
    let http = Http::new(&running);
    let post = |body: Value| http.send("POST", "/api/data/v9.2/accounts", &[], Some(body));
    let (status, _, error) = post(json!({"nosuchcolumn": 1})).await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nosuchcolumn"),
        "{error}"
    );
    let (status, _, _) = post(json!({"name": 42})).await;
    assert_eq!(status, 400);
    let (status, _, _) = post(json!({"creditlimit": "not a number"})).await;
    assert_eq!(status, 400);
    let (status, _, _) =
        post(json!({"_transactioncurrencyid_value": "00000000-0000-4000-8000-000000000001"})).await;
    assert_eq!(status, 400, "a lookup id column is written through @odata.bind");
    let (status, _, _) = http
        .send(
            "POST",
            "/api/data/v9.2/accounts",
            &[("Content-Type", "application/json")],
            None,
        )
        .await;
    assert_eq!(status, 400);
    // Facets: MaxLength, Precision and Scale, enum members, dates (a small F&O-shaped document).
    let facets = Emulator::from_paths(
        None,
        Some(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/facets.xml")),
    )
    .unwrap()
    .serve("127.0.0.1:0")
    .await
    .unwrap();
    let http = Http::new(&facets);
    let valid =
        json!({"Code": "EUR", "Rate": 1.123456, "Small": 999.99, "Active": "Yes", "ValidFrom": "2024-02-29"});
    let (status, _, body) = http
        .send("POST", "/data/ExchangeRates", &[], Some(valid.clone()))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["Rate"].to_string(), "1.123456", "decimals kept exactly");
    for (column, value) in [
        ("Code", json!("EURO")),
        ("Rate", json!(1.1234567)),
        ("Small", json!(1000.0)),
        ("Active", json!("Maybe")),
        ("Count", json!(1.5)),
        ("ValidFrom", json!("2023-02-29")),
    ] {
        let mut record = valid.clone();
        record["Code"] = json!("USD");
        record[column] = value.clone();
        let (status, _, error) = http.send("POST", "/data/ExchangeRates", &[], Some(record)).await;
        assert_eq!(status, 400, "{column} = {value}: {error}");
    }
}

#[tokio::test]
async fn reads_filter_order_select_count_and_page() {
    let running = start().await;
    let http = Http::new(&running);
    let records: Vec<Value> = (0..25)
        .map(|n| json!({"accountid": format!("00000000-0000-4000-8000-{n:012}"), "name": format!("Account {n:02}"), "accountnumber": format!("A-{n:02}"), "creditlimit": n * 10}))
        .collect();
    let (status, _, _) = http
        .send(
            "POST",
            "/_admin/dataverse/load",
            &[],
            Some(json!({"accounts": records})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = http
        .get(&format!("{DV}accounts?$select=name,creditlimit&$filter=creditlimit ge 100 and startswith(name,'account 1')&$orderby=creditlimit desc&$count=true"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["@odata.count"], 10);
    assert_eq!(body["value"][0]["name"], "Account 19");
    assert!(
        body["value"][0].get("accountnumber").is_none(),
        "only selected columns and the key"
    );
    // Server paging: 10 a page, following nextLink.
    let mut url = format!("{DV}accounts?$select=name");
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let (_, headers, body) = http
            .send(
                "GET",
                url.trim_start_matches(&running.url),
                &[("Prefer", "odata.maxpagesize=10")],
                None,
            )
            .await;
        assert_eq!(headers["Preference-Applied"], "odata.maxpagesize=10");
        seen += body["value"].as_array().unwrap().len();
        pages += 1;
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!((seen, pages), (25, 3));
    // $top and a bad filter.
    let (_, body) = http.get(&format!("{DV}accounts?$top=3&$orderby=name")).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 3);
    let (status, body) = http.get(&format!("{DV}accounts?$filter=name = 'x'")).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = http.get(&format!("{DV}accounts?$filter=nosuch eq 1")).await;
    assert_eq!(status, 400);
    let (status, _) = http.get(&format!("{DV}accounts?$skip=2")).await;
    assert_eq!(status, 400, "Dataverse refuses $skip");
}

#[tokio::test]
async fn lookups_bind_by_key_and_alternate_key_and_expand() {
    let running = start().await;
    let http = Http::new(&running);
    let eur = "00000000-0000-4000-8000-0000000000e0";
    let (status, _, body) = http
        .send(
            "POST",
            "/_admin/dataverse/load",
            &[],
            Some(json!({"transactioncurrencies": [{"transactioncurrencyid": eur, "isocurrencycode": "EUR", "currencyname": "Euro"}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for bind in [
        format!("/transactioncurrencies({eur})"),
        "/transactioncurrencies(isocurrencycode='EUR')".to_string(),
    ] {
        let (status, headers, error) = http
            .send(
                "POST",
                &format!("{DV}accounts"),
                &[],
                Some(json!({"name": "Bound", "transactioncurrencyid@odata.bind": bind})),
            )
            .await;
        assert_eq!(status, 204, "{error}");
        let entity = headers["OData-EntityId"].to_str().unwrap();
        let path = &entity[running.url.len()..];
        let (_, record) = http
            .get(&format!(
                "{path}?$expand=transactioncurrencyid($select=isocurrencycode)"
            ))
            .await;
        assert_eq!(record["_transactioncurrencyid_value"], eur);
        assert_eq!(record["transactioncurrencyid"]["isocurrencycode"], "EUR");
    }
    let (status, _, _) = http
        .send(
            "POST",
            &format!("{DV}accounts"),
            &[],
            Some(
                json!({"transactioncurrencyid@odata.bind": "/transactioncurrencies(isocurrencycode='XXX')"}),
            ),
        )
        .await;
    assert_eq!(status, 404, "a bind to a missing record");
}

fn batch_body(boundary: &str, parts: &[&str]) -> String {
    let mut body = String::new();
    for part in parts {
        body.push_str(&format!("--{boundary}\r\n{part}"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

fn http_part(content_id: Option<&str>, line: &str, json: Option<&str>) -> String {
    let mut part = String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        part.push_str(&format!("Content-ID: {id}\r\n"));
    }
    part.push_str(&format!("\r\n{line} HTTP/1.1\r\n"));
    match json {
        Some(body) => part.push_str(&format!("Content-Type: application/json\r\n\r\n{body}\r\n")),
        None => part.push_str("\r\n\r\n"),
    }
    part
}

async fn send_batch(http: &Http, body: String, prefer: Option<&str>) -> (u16, String) {
    let mut request = http
        .client
        .post(format!("{}{DV}$batch", http.base))
        .header("Content-Type", "multipart/mixed; boundary=batch_x")
        .body(body);
    if let Some(prefer) = prefer {
        request = request.header("Prefer", prefer);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn batches_roll_back_failed_change_sets_and_resolve_references() {
    let running = start().await;
    let http = Http::new(&running);
    // A change set: create an account ($1), then PATCH it through the reference.
    let change_set = batch_body(
        "changeset_a",
        &[
            &http_part(
                Some("1"),
                &format!("POST {DV}accounts"),
                Some(r#"{"name":"In batch","accountnumber":"B-1"}"#),
            ),
            &http_part(Some("2"), "PATCH $1", Some(r#"{"telephone1":"555"}"#)),
        ],
    );
    let body = batch_body(
        "batch_x",
        &[&format!(
            "Content-Type: multipart/mixed; boundary=changeset_a\r\n\r\n{change_set}"
        )],
    );
    let (status, text) = send_batch(&http, body, None).await;
    assert_eq!(status, 200);
    assert_eq!(text.matches("HTTP/1.1 204").count(), 2, "{text}");
    let (_, found) = http
        .get(&format!("{DV}accounts?$filter=accountnumber eq 'B-1'"))
        .await;
    assert_eq!(found["value"][0]["telephone1"], "555");
    // A change set whose second request fails: the first is rolled back; one error part answers it.
    let change_set = batch_body(
        "changeset_b",
        &[
            &http_part(
                Some("1"),
                "POST accounts",
                Some(r#"{"name":"Rolled back","accountnumber":"B-2"}"#),
            ),
            &http_part(Some("2"), "POST accounts", Some(r#"{"nosuchcolumn":1}"#)),
        ],
    );
    let body = batch_body(
        "batch_x",
        &[
            &format!("Content-Type: multipart/mixed; boundary=changeset_b\r\n\r\n{change_set}"),
            &http_part(None, "GET accounts?$select=name", None),
        ],
    );
    let (status, text) = send_batch(&http, body.clone(), None).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("HTTP/1.1 400") && text.contains("Content-ID: 2"),
        "{text}"
    );
    assert!(
        !text.contains("HTTP/1.1 200"),
        "the batch stops at the failure: {text}"
    );
    let (_, found) = http
        .get(&format!("{DV}accounts?$filter=accountnumber eq 'B-2'"))
        .await;
    assert_eq!(found["value"].as_array().unwrap().len(), 0, "rolled back");
    let (_, text) = send_batch(&http, body, Some("odata.continue-on-error")).await;
    assert!(
        text.contains("HTTP/1.1 400") && text.contains("HTTP/1.1 200"),
        "{text}"
    );
    // Over the request limit: refused whole.
    let many: Vec<String> = (0..1001).map(|_| http_part(None, "GET accounts", None)).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let (status, text) = send_batch(&http, batch_body("batch_x", &refs), None).await;
    assert_eq!(status, 400, "{text}");
}

#[tokio::test]
async fn change_tracking_gives_changes_and_deletions_and_expires() {
    let running = start().await;
    let http = Http::new(&running);
    for n in 0..3 {
        http.send(
            "POST",
            &format!("{DV}accounts"),
            &[],
            Some(json!({"name": format!("T{n}"), "accountnumber": format!("T-{n}")})),
        )
        .await;
    }
    let (status, _, initial) = http
        .send(
            "GET",
            &format!("{DV}accounts?$select=name"),
            &[("Prefer", "odata.track-changes")],
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(initial["value"].as_array().unwrap().len(), 3);
    let delta = initial["@odata.deltaLink"].as_str().unwrap().to_string();
    // One update, one create, one delete.
    let first = initial["value"][0]["accountid"].as_str().unwrap().to_string();
    let second = initial["value"][1]["accountid"].as_str().unwrap().to_string();
    http.send(
        "PATCH",
        &format!("{DV}accounts({first})"),
        &[("If-Match", "*")],
        Some(json!({"name": "T0 changed"})),
    )
    .await;
    http.send("POST", &format!("{DV}accounts"), &[], Some(json!({"name": "T3"})))
        .await;
    http.send("DELETE", &format!("{DV}accounts({second})"), &[], None)
        .await;
    let (status, _, changes) = http
        .send(
            "GET",
            delta.trim_start_matches(&running.url),
            &[("Prefer", "odata.track-changes")],
            None,
        )
        .await;
    assert_eq!(status, 200, "{changes}");
    let values = changes["value"].as_array().unwrap();
    assert_eq!(values.len(), 3, "{changes}");
    assert_eq!(values[0]["name"], "T0 changed");
    assert_eq!(values[1]["name"], "T3");
    assert!(
        values[2]["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$deletedEntity")
    );
    assert_eq!(values[2]["id"], second.as_str());
    assert!(changes["@odata.deltaLink"].is_string());
    // Query options change tracking refuses.
    let (status, _, _) = http
        .send(
            "GET",
            &format!("{DV}accounts?$filter=name eq 'x'"),
            &[("Prefer", "odata.track-changes")],
            None,
        )
        .await;
    assert_eq!(status, 400);
    // An expired token.
    http.send(
        "PUT",
        "/_admin/dataverse/settings",
        &[],
        Some(json!({"token_ttl_secs": 0})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, _, error) = http
        .send(
            "GET",
            delta.trim_start_matches(&running.url),
            &[("Prefer", "odata.track-changes")],
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["code"], "0x80044352");
}

#[tokio::test]
async fn fo_companies_keys_enums_and_no_upsert() {
    let running = start().await;
    let http = Http::new(&running);
    let customers = json!({"CustomersV3": [
        {"dataAreaId": "usmf", "CustomerAccount": "US-001", "OrganizationName": "Contoso", "CreditLimitIsMandatory": "Yes"},
        {"dataAreaId": "usmf", "CustomerAccount": "US-002", "OrganizationName": "Litware", "CreditLimitIsMandatory": "No"},
        {"dataAreaId": "demf", "CustomerAccount": "DE-001", "OrganizationName": "Fabrikam", "CreditLimitIsMandatory": "No"}
    ]});
    let (status, _, body) = http.send("POST", "/_admin/fo/load", &[], Some(customers)).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = http.get("/data/CustomersV3").await;
    assert_eq!(
        body["value"].as_array().unwrap().len(),
        2,
        "the caller's default company (usmf)"
    );
    let (_, body) = http
        .get("/data/CustomersV3?cross-company=true&$filter=dataAreaId eq 'demf'")
        .await;
    assert_eq!(body["value"][0]["CustomerAccount"], "DE-001");
    let (status, body) = http
        .get("/data/CustomersV3?$filter=CreditLimitIsMandatory eq Microsoft.Dynamics.DataEntities.NoYes'Yes'")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    let (status, _) = http
        .get("/data/CustomersV3?$filter=CreditLimitIsMandatory gt Microsoft.Dynamics.DataEntities.NoYes'No'")
        .await;
    assert_eq!(status, 400, "F&O allows only eq/ne on enums");
    let (_, body) = http
        .get("/data/CustomersV3?$filter=OrganizationName eq '*tos*'")
        .await;
    assert_eq!(body["value"][0]["CustomerAccount"], "US-001", "F&O wildcard");
    let (_, body) = http
        .get("/data/CustomersV3?$orderby=CustomerAccount&$skip=1")
        .await;
    assert_eq!(body["value"][0]["CustomerAccount"], "US-002");
    let (status, record) = http
        .get("/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')")
        .await;
    assert_eq!(status, 200);
    assert_eq!(record["OrganizationName"], "Contoso");
    // No upsert: PATCH on a missing key is 404; POST on an existing key is an error with an infolog.
    let (status, _, _) = http
        .send(
            "PATCH",
            "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-999')",
            &[],
            Some(json!({"OrganizationName": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _, error) = http
        .send(
            "POST",
            "/data/CustomersV3",
            &[],
            Some(json!({"CustomerAccount": "US-001"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["innererror"]["message"]
            .as_str()
            .unwrap()
            .contains("Infolog"),
        "{error}"
    );
    // POST without dataAreaId: the caller's company; 201 with the record.
    let (status, _, created) = http
        .send(
            "POST",
            "/data/CustomersV3",
            &[],
            Some(json!({"CustomerAccount": "US-003"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(created["dataAreaId"], "usmf");
}

#[tokio::test]
async fn data_events_reach_the_endpoint_in_order_with_retries() {
    use std::sync::{Arc, Mutex};
    let running = start().await;
    let http = Http::new(&running);
    // An endpoint that fails its first two calls.
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let endpoint = {
        let (received, calls) = (Arc::clone(&received), Arc::clone(&calls));
        let app = axum::Router::new().route(
            "/events",
            axum::routing::post(move |body: String| {
                let (received, calls) = (Arc::clone(&received), Arc::clone(&calls));
                async move {
                    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    received
                        .lock()
                        .unwrap()
                        .push(serde_json::from_str(&body).unwrap());
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{address}/events")
    };
    let (status, _, _) = http
        .send(
            "POST",
            "/_admin/fo/events",
            &[],
            Some(json!({"set": "CustomersV3", "endpoint": endpoint})),
        )
        .await;
    assert_eq!(status, 200);
    for n in 1..=3 {
        http.send(
            "POST",
            "/data/CustomersV3",
            &[],
            Some(json!({"CustomerAccount": format!("EV-{n}")})),
        )
        .await;
    }
    http.send(
        "PATCH",
        "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='EV-1')",
        &[],
        Some(json!({"OrganizationName": "x"})),
    )
    .await;
    http.send(
        "DELETE",
        "/data/CustomersV3(dataAreaId='usmf',CustomerAccount='EV-2')",
        &[],
        None,
    )
    .await;
    for _ in 0..100 {
        if received.lock().unwrap().len() == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = received.lock().unwrap().clone();
    assert_eq!(events.len(), 5);
    let numbers: Vec<u64> = events
        .iter()
        .map(|e| e["ControlNumber"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    let operations: Vec<&str> = events.iter().map(|e| e["Operation"].as_str().unwrap()).collect();
    assert_eq!(operations, ["Create", "Create", "Create", "Update", "Delete"]);
    assert_eq!(events[0]["LegalEntity"], "usmf");
    assert_eq!(events[3]["Record"]["OrganizationName"], "x");
}

#[tokio::test]
async fn service_protection_limits_answer_429_with_retry_after() {
    let running = start().await;
    running.emulator.set_limits(Limits {
        window_ms: 2000,
        max_requests: 3,
        ..Limits::default()
    });
    let http = Http::new(&running);
    for _ in 0..3 {
        assert_eq!(http.get(&format!("{DV}accounts")).await.0, 200);
    }
    let (status, headers, error) = http
        .send(
            "GET",
            &format!("{DV}accounts"),
            &[("Authorization", "Bearer someone")],
            None,
        )
        .await;
    assert_eq!(status, 200, "limits are per caller: {error}");
    let (status, headers2, error) = http.send("GET", &format!("{DV}accounts"), &[], None).await;
    assert_eq!(status, 429);
    assert_eq!(error["error"]["code"], "0x80072322");
    let wait: u64 = headers2["Retry-After"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait));
    drop(headers);
    let (_, counters) = http.get("/_admin/counters").await;
    assert_eq!(counters["dataverse"]["throttled"], 1);
}

#[tokio::test]
async fn faults_are_reproducible_by_seed() {
    let trace = |seed: u64| async move {
        let running = start().await;
        running.emulator.set_faults(FaultConfig {
            seed,
            errors: vec![
                ErrorRate {
                    status: 429,
                    rate: 0.2,
                    retry_after: Some(1),
                },
                ErrorRate {
                    status: 503,
                    rate: 0.1,
                    retry_after: None,
                },
            ],
            reset_after_rate: 0.1,
            ..FaultConfig::default()
        });
        let http = Http::new(&running);
        let mut statuses = Vec::new();
        for n in 0..40 {
            let result = http
                .client
                .post(format!("{}{DV}accounts", running.url))
                .header("Content-Type", "application/json")
                .body(json!({"name": format!("F{n}")}).to_string())
                .send()
                .await;
            statuses.push(match result {
                Ok(r) => match r.bytes().await {
                    Ok(_) => 0,
                    Err(_) => 1,
                },
                Err(_) => 1,
            });
        }
        let (_, trace) = http.get("/_admin/faults/trace").await;
        let (_, export) = http.get("/_admin/dataverse/export").await;
        (trace, export["accounts"].as_array().map_or(0, Vec::len))
    };
    let (first, written) = trace(11).await;
    let (second, _) = trace(11).await;
    let (other, _) = trace(12).await;
    assert_eq!(first, second, "the same seed gives the same trace");
    assert_ne!(first, other);
    let faults = first.as_array().unwrap();
    let resets_after = faults.iter().filter(|d| d["fault"] == "reset_after").count();
    let errors = faults.iter().filter(|d| d["fault"] == "error").count();
    assert!(errors > 0 && resets_after > 0, "{first}");
    assert_eq!(written, 40 - errors, "a reset after the write still wrote it");
}

#[test]
fn the_binary_explains_itself_and_serves() {
    let binary = env!("CARGO_BIN_EXE_dualsync-emulator");
    let help = std::process::Command::new(binary).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--dataverse") && text.contains("--fo") && text.contains("--faults"),
        "{text}"
    );
    let none = std::process::Command::new(binary).output().unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("nothing to serve"));
    let mut child = std::process::Command::new(binary)
        .args([
            "--dataverse",
            metadata("dataverse-dualwrite.xml").to_str().unwrap(),
            "--port",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening http://127.0.0.1:"), "{line}");
}

#[tokio::test]
async fn entity_definitions_come_from_the_option_set_files() {
    let running = start().await;
    let http = Http::new(&running);
    let (status, body) = http
        .get(&format!(
            "{DV}EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet,GlobalOptionSet"
        ))
        .await;
    assert_eq!(status, 200);
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(metadata("optionsets/account.PicklistOptionSetAttribute.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(body, file);
    let (status, body) = http
        .get(&format!("{DV}EntityDefinitions(LogicalName='nosuchtable')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata"))
        .await;
    assert_eq!((status, body["value"].as_array().map(Vec::len)), (200, Some(0)));
}

#[tokio::test]
async fn downtime_latency_slow_bodies_and_resets_before_the_write() {
    let running = start().await;
    let http = Http::new(&running);
    running.emulator.set_faults(FaultConfig {
        downtime: vec![dualsync_emulator::faults::Downtime {
            from_ms: 0,
            to_ms: 400,
            status: 503,
        }],
        ..FaultConfig::default()
    });
    let (status, headers, _) = http.send("GET", &format!("{DV}accounts"), &[], None).await;
    assert_eq!(status, 503);
    assert!(headers.contains_key("Retry-After"));
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        http.get(&format!("{DV}accounts")).await.0,
        200,
        "the window is over"
    );

    running.emulator.set_faults(FaultConfig {
        latency_ms: Some((150, 150)),
        slow_body_rate: 1.0,
        slow_body_ms: 30,
        ..FaultConfig::default()
    });
    let started = std::time::Instant::now();
    let (status, body) = http.get(&format!("{DV}$metadata")).await;
    assert_eq!(status, 200);
    assert!(
        body.as_str().is_some_and(|x| x.contains("<edmx:Edmx")),
        "the slow body arrives whole"
    );
    assert!(started.elapsed() >= Duration::from_millis(150 + 30));

    running.emulator.set_faults(FaultConfig {
        reset_before_rate: 1.0,
        methods: vec!["POST".into()],
        ..FaultConfig::default()
    });
    let result = http
        .client
        .post(format!("{}{DV}accounts", running.url))
        .header("Content-Type", "application/json")
        .body(r#"{"name":"never written"}"#)
        .send()
        .await;
    let broken = match result {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(broken, "the connection drops");
    running.emulator.set_faults(FaultConfig::default());
    let (_, export) = http.get("/_admin/dataverse/export").await;
    assert!(
        export.get("accounts").is_none(),
        "a reset before the write wrote nothing: {export}"
    );
    let (_, counters) = http.get("/_admin/counters").await;
    assert!(counters["dataverse"]["faults"].as_u64().unwrap() >= 2);
}

#[test]
fn seed_data_and_the_state_file_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("dualsync-emulator-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        json!({"fo": {"CustomersV3": [{"dataAreaId": "usmf", "CustomerAccount": "S-1", "OrganizationName": "Seeded"}]}}).to_string(),
    )
    .unwrap();
    let state = dir.join("state.json");
    let binary = env!("CARGO_BIN_EXE_dualsync-emulator");
    let start = |extra: &[&std::path::Path]| {
        let mut command = std::process::Command::new(binary);
        command.args([
            "--fo",
            metadata("fo-dualwrite.xml").to_str().unwrap(),
            "--port",
            "0",
            "--state",
        ]);
        command.arg(&state);
        if let Some(seed) = extra.first() {
            command.arg("--seed").arg(seed);
        }
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        (child, line.trim().trim_start_matches("listening ").to_string())
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut first, url) = start(&[&seed]);
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let body: Value = client
            .get(format!("{url}/data/CustomersV3"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["value"][0]["OrganizationName"], "Seeded");
        let response = client
            .post(format!("{url}/data/CustomersV3"))
            .header("Content-Type", "application/json")
            .body(r#"{"CustomerAccount":"S-2","OrganizationName":"Written"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let saved = client.post(format!("{url}/_admin/save")).send().await.unwrap();
        assert_eq!(saved.status(), 200);
    });
    let _ = first.kill();
    let _ = first.wait();
    let (mut second, url) = start(&[]);
    runtime.block_on(async {
        let body: Value = reqwest::get(format!("{url}/data/CustomersV3?$orderby=CustomerAccount"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["OrganizationName"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Seeded", "Written"]);
    });
    let _ = second.kill();
    let _ = second.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_concurrent_requests_limit_is_reachable() {
    let running = start().await;
    running.emulator.set_limits(Limits {
        max_concurrent: 2,
        ..Limits::default()
    });
    running.emulator.set_faults(FaultConfig {
        latency_ms: Some((300, 300)),
        ..FaultConfig::default()
    });
    let url = format!("{}{DV}accounts", running.url);
    let calls = (0..4).map(|_| {
        let url = url.clone();
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    });
    let mut statuses = futures_util::future::join_all(calls).await;
    statuses.sort();
    assert_eq!(statuses, [200, 200, 429, 429]);
}
