//! Differential conformance: the same raw HTTP requests (reqwest, not dualsync's client) sent to SAP CAP
//! (`@sap/cds@9`, `@cap-js/sqlite`, in-memory; `tests/cap`, installed by `.ci/run`) and to the emulator
//! (`dualsync-emulator`) serving CAP's own `$metadata` as its F&O flavour (root `/data/`; CAP's sets are
//! not company-specific, so no `dataAreaId` applies), for the generic OData behaviours both have: CRUD,
//! `$filter` results, `$orderby`, `$top`/`$skip`, `$count`, `$select`, server paging, ETag
//! preconditions, `$batch` change-set rollback and `odata.continue-on-error`. Statuses and bodies are
//! compared after the normalisations below; every difference is collected and reported at the end.
//!
//! Normalisations, each a documented difference by design, not a bug of either side:
//! 1. `@odata.context`: CAP's is relative (`$metadata#accounts`), the emulator's absolute (as Dataverse
//!    and F&O send it): only the part from `$metadata` on is compared. The emulator adds the select list
//!    after `$select` (`#accounts(name)`, as OData's context URL rules and both services do), CAP does
//!    not: it is removed.
//! 2. ETags: CAP's is `W/"<modifiedon timestamp>"`, the emulator's `W/"<row version>"`. Only their
//!    presence and weak form are compared (`@odata.etag` and the `ETag` header), and each side is sent
//!    its own ETags. `contacts` has no ETag in CAP (no `@odata.etag` element), while every emulated
//!    Dataverse / F&O entity has one: the emulator's `@odata.etag` on contacts is dropped.
//! 3. `modifiedon` is dropped: CAP fills it (`@cds.on.insert/update: $now`, `Core.Computed`), the
//!    emulator only knows the property is computed (it refuses writes to it, so none are sent).
//! 4. Numbers compare as float64: CAP keeps decimals in SQLite as float64 and writes them as JSON
//!    numbers, the emulator keeps the exact text. Every decimal sent is exact in binary (1250.5, 0.125).
//! 5. Error bodies: only the status and an `error.message` string are compared. CAP's `code` is the
//!    status or a CAP code (`ASSERT_DATA_TYPE`), F&O's is empty; message texts differ.
//! 6. Paging: CAP pages by its configured size (2, through `CDS_CONFIG`) and ignores
//!    `odata.maxpagesize`; the emulator is asked for 2 by `Prefer: odata.maxpagesize=2`. CAP's next
//!    links are relative to the service root, the emulator's absolute: both are followed, and the
//!    concatenated records and the sizes of the non-empty pages are compared (CAP follows a full last page
//!    with a link to an empty one; the emulator does not).
//! 7. `Location`: CAP's is relative to the service root, the emulator's absolute: compared after
//!    resolving against the root.
//! 8. `If-Match` is required by CAP on PATCH/DELETE of `accounts` (428 without), not by F&O: asserted as
//!    the expected difference (428 vs 200), and every other write sends `If-Match`.
//! 9. PATCH without `Prefer`: CAP answers 200 with the entity, F&O 204 (both allowed by OData): PATCHes
//!    send `Prefer: return=representation` (both 200 + entity) or `return=minimal` (both 204).
//! 10. Keys are always sent: CAP generates a missing Guid key (`Core.ComputedDefaultValue`), the F&O
//!     flavour does not generate keys.
//! 11. Response headers other than the status, `ETag` and `Location` are not compared (CAP sends no
//!     `OData-EntityId` and no `Preference-Applied` on a batch; lower-case header names inside batch parts).
//! 12. Nulls in `$filter`: CAP's `ne` is SQL's null-safe `IS DISTINCT FROM`, and its `contains`,
//!     `startswith`, `endswith` of null are false (`ifnull`/`coalesce` in @cap-js/sqlite), so
//!     `name ne 'x'` and `not contains(name,'x')` keep records whose `name` is null; the emulator drops
//!     them, as SQL Server (under Dataverse and F&O) does. The other way round, the emulator makes any
//!     comparison with null false, not unknown (its filter module's documented rule), so
//!     `not (p eq 10)` keeps records whose `p` is null, which CAP (SQL's `NOT (NULL = 10)`) drops. For
//!     such filters the records with that null property are taken out of the side that keeps them.
//! 13. A key property in a PATCH body that differs from the URL: CAP ignores it (200), Dataverse and F&O
//!     refuse it (400): asserted as the expected difference.
//!
//! Not compared: a duplicate key on POST (CAP answers 500 with a SQLite constraint error and logs it,
//! F&O 400 with an infolog).
//!
//! Both sides compare strings case-sensitively in `$filter` (CAP on SQLite; the emulator's F&O dialect),
//! order by key when there is no `$orderby`, and follow SQL for nulls.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use dualsync_emulator::Emulator;
use dualsync_tests::node_server;
use reqwest::header::HeaderMap;
use serde_json::{Map, Number, Value, json};

/// CAP's server-driven page size for this test.
const CAP_CONFIG: &str = r#"{"query":{"limit":{"default":2,"max":2}}}"#;

/// One server under test.
struct Side {
    name: &'static str,
    /// The service root URL, ending in `/`.
    root: String,
    /// Headers added to every collection read (the emulator's page size).
    read_headers: Vec<(&'static str, &'static str)>,
}

/// An answer, body parsed as JSON when it is JSON.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A Guid key of the test's records.
fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Percent-encodes a query option value (everything but unreserved characters).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'$'
            | b','
            | b'('
            | b')' => out.push(byte as char),
            other => {
                let _ = write!(out, "%{other:02X}");
            }
        }
    }
    out
}

/// `set?name=value&...`, values percent-encoded.
fn url(path: &str, options: &[(&str, &str)]) -> String {
    if options.is_empty() {
        return path.to_string();
    }
    let query: Vec<String> = options
        .iter()
        .map(|(n, v)| format!("{n}={}", encode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// A link as a server sent it, made absolute against its service root.
fn resolve(root: &str, link: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") {
        link.to_string()
    } else if let Some(path) = link.strip_prefix('/') {
        let origin_end = root.find("://").map_or(0, |i| i + 3);
        let host_end = root[origin_end..]
            .find('/')
            .map_or(root.len(), |i| origin_end + i);
        format!("{}/{path}", &root[..host_end])
    } else {
        format!("{root}{link}")
    }
}

struct Harness {
    client: reqwest::Client,
    cap: Side,
    emulator: Side,
    /// Every difference found, reported together at the end.
    differences: Vec<String>,
    comparisons: usize,
}

impl Harness {
    async fn send(
        &self,
        side: &Side,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Answer {
        let address = resolve(&side.root, target);
        let mut request = self
            .client
            .request(method.parse().expect("method"), &address)
            .header("OData-Version", "4.0")
            .header("Accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                request = request.header("Content-Type", "application/json");
            }
            request = request.body(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {method} {address}: {e}", side.name));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Sends one request to both sides (CAP first).
    async fn both(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (Answer, Answer) {
        let body = body.map(Value::to_string);
        let cap = self.send(&self.cap, method, target, headers, body.clone()).await;
        let emulator = self.send(&self.emulator, method, target, headers, body).await;
        (cap, emulator)
    }

    fn differ(
        &mut self,
        label: &str,
        what: &str,
        cap: &dyn std::fmt::Display,
        emulator: &dyn std::fmt::Display,
    ) {
        self.differences.push(format!(
            "{label}: {what} differ\n    cap:      {cap}\n    emulator: {emulator}"
        ));
    }

    fn compare_values(&mut self, label: &str, what: &str, cap: &Value, emulator: &Value) {
        self.comparisons += 1;
        if cap != emulator {
            self.differ(label, what, cap, emulator);
        }
    }

    /// Compares status, normalised body, `Location` and the presence of `ETag`.
    fn compare(&mut self, label: &str, set: &str, cap: &Answer, emulator: &Answer) {
        self.compare_values(label, "statuses", &json!(cap.status), &json!(emulator.status));
        self.compare_values(
            label,
            "bodies",
            &normalise(set, "cap", &cap.body),
            &normalise(set, "emulator", &emulator.body),
        );
        let location = |side: &Side, answer: &Answer| {
            answer.header("location").map_or(Value::Null, |l| {
                let absolute = resolve(&side.root, l);
                json!(absolute.strip_prefix(&side.root).unwrap_or(&absolute))
            })
        };
        let (l1, l2) = (location(&self.cap, cap), location(&self.emulator, emulator));
        self.compare_values(label, "Location headers", &l1, &l2);
        let etag = |answer: &Answer| json!(answer.header("etag").map(etag_form));
        let (e1, e2) = (etag(cap), etag(emulator));
        if set != "contacts" {
            self.compare_values(label, "ETag headers", &e1, &e2);
        }
    }

    /// One write or read by key on both sides, compared.
    async fn exchange(
        &mut self,
        label: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (Answer, Answer) {
        let (cap, emulator) = self.both(method, target, headers, body).await;
        let set = target.split(['(', '?']).next().unwrap_or_default().to_string();
        self.compare(label, &set, &cap, &emulator);
        (cap, emulator)
    }

    /// Reads a collection on one side, following next links: the first page and every record.
    async fn read_all(&self, side: &Side, target: &str) -> (Answer, Vec<Value>, Vec<usize>) {
        let headers = side.read_headers.clone();
        let first = self.send(side, "GET", target, &headers, None).await;
        let mut records = Vec::new();
        let mut sizes = Vec::new();
        let mut page = first.body.clone();
        let mut status = first.status;
        for _ in 0..100 {
            if status != 200 {
                break;
            }
            let values = page["value"].as_array().cloned().unwrap_or_default();
            if !values.is_empty() {
                sizes.push(values.len());
            }
            records.extend(values);
            let Some(next) = page["@odata.nextLink"].as_str() else {
                break;
            };
            let address = resolve(&side.root, next);
            let answer = self.send(side, "GET", &address, &headers, None).await;
            status = answer.status;
            page = answer.body;
        }
        (first, records, sizes)
    }

    /// A collection read on both sides: status, first page's `@odata.count` and context, every record
    /// over all pages, and the sizes of the pages.
    async fn query(&mut self, label: &str, set: &str, options: &[(&str, &str)]) -> Vec<Value> {
        self.query_nulls(label, set, options, None).await
    }

    /// [`Harness::query`] with a `$filter` whose answers differ on records where a property is null
    /// (normalisation 12): those records are taken out of the side that keeps them (which must have
    /// some), and the page sizes are not compared.
    async fn query_nulls(
        &mut self,
        label: &str,
        set: &str,
        options: &[(&str, &str)],
        nulls: Option<Nulls>,
    ) -> Vec<Value> {
        let target = url(set, options);
        let label = format!("{label} (GET {target})");
        let (cap, cap_records, cap_sizes) = self.read_all(&self.cap, &target).await;
        let (emulator, emulator_records, emulator_sizes) = self.read_all(&self.emulator, &target).await;
        self.compare_values(&label, "statuses", &json!(cap.status), &json!(emulator.status));
        if cap.status != 200 || emulator.status != 200 {
            self.compare_values(
                &label,
                "error bodies",
                &normalise(set, "cap", &cap.body),
                &normalise(set, "emulator", &emulator.body),
            );
            return Vec::new();
        }
        let frame = |body: &Value, side: &str| {
            let mut frame = normalise(set, side, body);
            if let Value::Object(map) = &mut frame {
                map.remove("value");
                map.remove("@odata.nextLink");
            }
            frame
        };
        self.compare_values(
            &label,
            "first pages (without value)",
            &frame(&cap.body, "cap"),
            &frame(&emulator.body, "emulator"),
        );
        let cap_records: Vec<Value> = cap_records.iter().map(|r| normalise(set, "cap", r)).collect();
        let emulator_records: Vec<Value> = emulator_records
            .iter()
            .map(|r| normalise(set, "emulator", r))
            .collect();
        let without_nulls = |records: &[Value], property: &str, side: &str| {
            let kept: Vec<Value> = records
                .iter()
                .filter(|r| !r[property].is_null())
                .cloned()
                .collect();
            assert!(
                kept.len() < records.len(),
                "{label}: {side} kept no record with a null {property}"
            );
            kept
        };
        let (cap_kept, emulator_kept) = match nulls {
            Some(Nulls::CapKeeps(property)) => {
                (without_nulls(&cap_records, property, "CAP"), emulator_records)
            }
            Some(Nulls::EmulatorKeeps(property)) => (
                cap_records.clone(),
                without_nulls(&emulator_records, property, "the emulator"),
            ),
            None => {
                self.compare_values(&label, "page sizes", &json!(cap_sizes), &json!(emulator_sizes));
                (cap_records.clone(), emulator_records)
            }
        };
        self.compare_values(
            &label,
            "records",
            &Value::Array(cap_kept),
            &Value::Array(emulator_kept),
        );
        cap_records
    }

    /// Sends a multipart `$batch` to both sides and compares the flattened parts (Content-ID, status,
    /// normalised body).
    async fn batch(&mut self, label: &str, items: &[Item], prefer: Option<&str>) -> Vec<u16> {
        let body = batch_body(items);
        let content_type = "multipart/mixed;boundary=batch_1";
        let mut headers = vec![("Content-Type", content_type), ("Accept", "multipart/mixed")];
        if let Some(prefer) = prefer {
            headers.push(("Prefer", prefer));
        }
        let mut parts = Vec::new();
        for side in [&self.cap, &self.emulator] {
            let response = self
                .client
                .post(format!("{}$batch", side.root))
                .header("OData-Version", "4.0")
                .headers(
                    headers
                        .iter()
                        .map(|(n, v)| (n.parse().expect("name"), v.parse().expect("value")))
                        .collect(),
                )
                .body(body.clone())
                .send()
                .await
                .expect("batch");
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let text = response.text().await.expect("batch body");
            assert_eq!(
                status, 200,
                "{label}: {} answered the batch with {status}: {text}",
                side.name
            );
            let flat: Vec<Value> = batch_parts(&content_type, &text)
                .into_iter()
                .map(|(content_id, status, body)| {
                    json!({"content-id": content_id, "status": status, "body": normalise("accounts", side.name, &body)})
                })
                .collect();
            parts.push(flat);
        }
        self.compare_values(
            label,
            "batch parts",
            &Value::Array(parts[0].clone()),
            &Value::Array(parts[1].clone()),
        );
        parts[0]
            .iter()
            .map(|p| p["status"].as_u64().unwrap_or(0) as u16)
            .collect()
    }
}

/// Which side of a `$filter` comparison keeps the records where a property is null.
#[derive(Clone, Copy)]
enum Nulls {
    CapKeeps(&'static str),
    EmulatorKeeps(&'static str),
}

/// An ETag's form: weak or strong, its value not compared.
fn etag_form(etag: &str) -> &'static str {
    if etag.starts_with("W/\"") && etag.ends_with('"') {
        "W/\"..\""
    } else if etag.starts_with('"') && etag.ends_with('"') {
        "\"..\""
    } else {
        "malformed"
    }
}

/// A body with the documented differences taken out (see the module comment).
fn normalise(set: &str, side: &str, value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(error) = map.get("error") {
                let message = error["message"].as_str().is_some_and(|m| !m.is_empty());
                return json!({"error": if message { "<message>" } else { "<no message>" }});
            }
            let mut out = Map::new();
            for (name, inner) in map {
                match name.as_str() {
                    "modifiedon" => {}
                    "@odata.etag" if set == "contacts" && side == "emulator" => {}
                    "@odata.etag" => {
                        out.insert(
                            name.clone(),
                            json!(inner.as_str().map_or("not a string", etag_form)),
                        );
                    }
                    "@odata.context" => {
                        let text = inner.as_str().unwrap_or_default();
                        let from = text.find("$metadata").unwrap_or(0);
                        let mut context = text[from..].to_string();
                        // The select list (normalisation 1).
                        if let (Some(open), Some(close)) = (context.find('('), context.rfind(')')) {
                            context.replace_range(open..=close, "");
                        }
                        out.insert(name.clone(), json!(context));
                    }
                    "@odata.nextLink" => {
                        out.insert(name.clone(), json!("<link>"));
                    }
                    _ => {
                        out.insert(name.clone(), normalise(set, side, inner));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| normalise(set, side, v)).collect()),
        Value::Number(n) => n
            .to_string()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| value.clone(), Value::Number),
        other => other.clone(),
    }
}

/// One request of a batch.
struct Part {
    content_id: &'static str,
    method: &'static str,
    /// Relative to the service root (CAP refuses anything else).
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
}

enum Item {
    Single(Part),
    ChangeSet(Vec<Part>),
}

fn write_part(out: &mut String, part: &Part) {
    out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    let _ = write!(out, "Content-ID: {}\r\n\r\n", part.content_id);
    let _ = write!(
        out,
        "{} {} HTTP/1.1\r\nAccept: application/json\r\n",
        part.method, part.url
    );
    for (name, value) in &part.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    match &part.body {
        Some(body) => {
            let _ = write!(out, "Content-Type: application/json\r\n\r\n{body}\r\n");
        }
        None => out.push_str("\r\n"),
    }
}

/// A multipart/mixed batch body: boundary `batch_1`, change sets `changeset_<n>`, CRLF line ends.
fn batch_body(items: &[Item]) -> String {
    let mut out = String::new();
    for (n, item) in items.iter().enumerate() {
        out.push_str("--batch_1\r\n");
        match item {
            Item::Single(part) => write_part(&mut out, part),
            Item::ChangeSet(parts) => {
                let _ = write!(
                    out,
                    "Content-Type: multipart/mixed; boundary=changeset_{n}\r\n\r\n"
                );
                for part in parts {
                    let _ = write!(out, "--changeset_{n}\r\n");
                    write_part(&mut out, part);
                }
                let _ = write!(out, "--changeset_{n}--\r\n");
            }
        }
    }
    out.push_str("--batch_1--\r\n");
    out
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Header lines up to the first empty line (names in lower case), and the rest.
fn headers_and_rest(text: &str) -> (Vec<(String, String)>, &str) {
    let mut headers = Vec::new();
    let mut rest = text;
    while let Some((line, after)) = rest.split_once("\r\n") {
        rest = after;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    (headers, rest)
}

/// The responses of a multipart batch answer, change sets flattened: (Content-ID, status, body).
fn batch_parts(content_type: &str, body: &str) -> Vec<(Option<String>, u16, Value)> {
    let Some(boundary) = boundary(content_type) else {
        return vec![(
            None,
            0,
            Value::String(format!("no boundary in {content_type:?}: {body}")),
        )];
    };
    let delimiter = format!("--{boundary}");
    let mut out = Vec::new();
    for chunk in body.split(&delimiter).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.strip_prefix("\r\n").unwrap_or(chunk);
        let chunk = chunk.strip_suffix("\r\n").unwrap_or(chunk);
        let (mime, rest) = headers_and_rest(chunk);
        let header = |name: &str| mime.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let part_type = header("content-type").unwrap_or_default();
        if part_type.to_ascii_lowercase().starts_with("multipart/mixed") {
            out.extend(batch_parts(&part_type, rest));
            continue;
        }
        let (status_line, rest) = rest.split_once("\r\n").unwrap_or((rest, ""));
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (inner, text) = headers_and_rest(rest);
        let content_id = header("content-id").or_else(|| {
            inner
                .iter()
                .find(|(n, _)| n == "content-id")
                .map(|(_, v)| v.clone())
        });
        let text = text.trim_end_matches("\r\n");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
        };
        out.push((content_id, status, body));
    }
    out
}

fn post(content_id: &'static str, body: Value) -> Part {
    Part {
        content_id,
        method: "POST",
        url: "accounts".into(),
        headers: Vec::new(),
        body: Some(body),
    }
}

/// The accounts both sides are given; every decimal exact in binary.
fn accounts() -> Vec<Value> {
    vec![
        json!({"accountid": id(1), "name": "Alpha", "accountnumber": "A-001", "creditlimit": 1250.5, "revenue": 100.25, "numberofemployees": 10, "donotphone": true}),
        json!({"accountid": id(2), "name": "Beta", "accountnumber": "A-002", "creditlimit": 0.125, "revenue": 2000, "numberofemployees": 250, "donotphone": false}),
        json!({"accountid": id(3), "name": "O'Brien & Co", "accountnumber": "A-003", "creditlimit": 99.75, "numberofemployees": 3, "donotphone": false}),
        json!({"accountid": id(4), "name": "alpha lower", "accountnumber": "A-004"}),
        json!({"accountid": id(5), "name": "Gamma", "accountnumber": "A-005", "creditlimit": 1000000, "revenue": 0.5, "numberofemployees": 10, "donotphone": true}),
        json!({"accountid": id(6), "accountnumber": "A-006", "creditlimit": 7.5, "revenue": -3.75, "numberofemployees": -1}),
    ]
}

#[test]
fn emulator_agrees_with_sap_cap_on_generic_odata() {
    let Some(cap) = node_server("cap", "serve.js", &[], &[("CDS_CONFIG", CAP_CONFIG)]) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        // CAP's $metadata (XML) is the emulator's service.
        let metadata = client
            .get(format!("{}$metadata", cap.url))
            .header("Accept", "application/xml")
            .send()
            .await
            .expect("CAP $metadata")
            .bytes()
            .await
            .expect("CAP $metadata body");
        let folder = std::env::temp_dir().join(format!("dualsync-emulator-vs-cap-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("temp folder");
        let file: PathBuf = folder.join("metadata.xml");
        std::fs::write(&file, &metadata).expect("write metadata");
        let running = Emulator::from_paths(None, Some(&file))
            .expect("the emulator reads CAP's $metadata")
            .serve("127.0.0.1:0")
            .await
            .expect("the emulator serves");
        let _ = std::fs::remove_dir_all(&folder);
        let mut h = Harness {
            client,
            cap: Side {
                name: "cap",
                root: cap.url.clone(),
                read_headers: Vec::new(),
            },
            emulator: Side {
                name: "emulator",
                root: running.fo_root(),
                read_headers: vec![("Prefer", "odata.maxpagesize=2")],
            },
            differences: Vec::new(),
            comparisons: 0,
        };
        run(&mut h).await;
        assert!(
            h.differences.is_empty(),
            "{} of {} comparisons differ between CAP and the emulator:\n{}",
            h.differences.len(),
            h.comparisons,
            h.differences.join("\n")
        );
        eprintln!("{} comparisons, CAP and the emulator agree", h.comparisons);
    });
}

async fn run(h: &mut Harness) {
    // $metadata is the emulator's input, byte for byte; the service document lists the same sets.
    let (cap, emulator) = h.both("GET", "", &[], None).await;
    let names = |body: &Value| -> Value {
        json!(
            body["value"]
                .as_array()
                .map(|v| v.iter().map(|s| s["name"].clone()).collect::<Vec<_>>())
        )
    };
    h.compare_values(
        "service document",
        "entity sets",
        &names(&cap.body),
        &names(&emulator.body),
    );

    // Create: 201, the record as stored, Location and ETag.
    for record in accounts() {
        let label = format!("POST accounts {}", record["accountid"]);
        h.exchange(&label, "POST", "accounts", &[], Some(&record)).await;
    }
    for (n, account) in [(101, 1), (102, 3)] {
        let contact = json!({"contactid": id(n), "fullname": format!("Contact {n}"), "parentcustomerid_accountid": id(account)});
        h.exchange(
            &format!("POST contacts {n}"),
            "POST",
            "contacts",
            &[],
            Some(&contact),
        )
        .await;
    }
    // Validation: too long a name, an unknown property, a wrong type.
    for (what, record) in [
        (
            "161-character name",
            json!({"accountid": id(90), "name": "x".repeat(161)}),
        ),
        (
            "unknown property",
            json!({"accountid": id(91), "nosuchproperty": 1}),
        ),
        (
            "string for an integer",
            json!({"accountid": id(92), "numberofemployees": "many"}),
        ),
    ] {
        h.exchange(
            &format!("POST accounts with a {what}"),
            "POST",
            "accounts",
            &[],
            Some(&record),
        )
        .await;
    }

    // Read by key: found, missing; a $select on one entity.
    h.exchange("GET by key", "GET", &format!("accounts({})", id(3)), &[], None)
        .await;
    let target = url(&format!("accounts({})", id(1)), &[("$select", "name,revenue")]);
    h.exchange("GET by key with $select", "GET", &target, &[], None)
        .await;
    h.exchange(
        "GET contact by key",
        "GET",
        &format!("contacts({})", id(101)),
        &[],
        None,
    )
    .await;
    h.exchange(
        "GET missing key",
        "GET",
        &format!("accounts({})", id(99)),
        &[],
        None,
    )
    .await;
    h.exchange("GET unknown set", "GET", "nosuchset", &[], None).await;

    // Collections: everything, $filter, $orderby, $top/$skip, $count, $select, all over pages of 2.
    h.query("all", "accounts", &[]).await;
    h.query("all contacts", "contacts", &[]).await;
    for filter in [
        "name eq 'O''Brien & Co'",
        "name eq 'alpha'",
        "name eq null",
        "name ne null",
        "name gt 'O'",
        "creditlimit gt 100.5",
        "creditlimit le 99.75",
        "creditlimit ge 0.125 and creditlimit lt 1000000",
        "revenue lt 0",
        "revenue eq 2000",
        "numberofemployees gt 5",
        "numberofemployees eq 10 and donotphone eq true",
        "numberofemployees lt 5 or name eq 'Beta'",
        "not (donotphone eq true) and numberofemployees ge 0",
        "donotphone eq false",
        "contains(name,'a')",
        "contains(name,'A')",
        "startswith(name,'Al')",
        "startswith(name,'al')",
        "endswith(name,'Co')",
        "contains(accountnumber,'-00') and contains(name,'e')",
        "accountid eq 00000000-0000-4000-8000-000000000002",
        "accountid in (00000000-0000-4000-8000-000000000002,00000000-0000-4000-8000-000000000005)",
        "name in ('Beta','Gamma','nobody')",
        "(numberofemployees gt 5 or creditlimit lt 10) and accountnumber ne 'A-005'",
    ] {
        h.query("$filter", "accounts", &[("$filter", filter)]).await;
    }
    // Nulls (normalisation 12): CAP's `ne` is `IS DISTINCT FROM` and its contains/startswith/endswith of
    // null are false, so their negation is true; the emulator's comparison with null is false, so
    // `not (p eq 10)` is true.
    for (filter, nulls) in [
        ("name ne 'Alpha'", Nulls::CapKeeps("name")),
        ("donotphone ne true", Nulls::CapKeeps("donotphone")),
        ("creditlimit ne 1250.5", Nulls::CapKeeps("creditlimit")),
        (
            "contains(accountnumber,'-00') and not contains(name,'e')",
            Nulls::CapKeeps("name"),
        ),
        ("not startswith(name,'B')", Nulls::CapKeeps("name")),
        ("not endswith(name,'a')", Nulls::CapKeeps("name")),
        (
            "not (numberofemployees eq 10)",
            Nulls::EmulatorKeeps("numberofemployees"),
        ),
        ("not (creditlimit gt 100)", Nulls::EmulatorKeeps("creditlimit")),
    ] {
        h.query_nulls(
            "$filter with nulls",
            "accounts",
            &[("$filter", filter)],
            Some(nulls),
        )
        .await;
    }
    h.query(
        "$filter on contacts",
        "contacts",
        &[("$filter", &format!("parentcustomerid_accountid eq {}", id(3)))],
    )
    .await;
    for order in [
        "name",
        "name desc",
        "creditlimit desc,accountid",
        "revenue,name",
        "numberofemployees desc,name desc",
        "donotphone,accountnumber desc",
    ] {
        h.query("$orderby", "accounts", &[("$orderby", order)]).await;
    }
    for options in [
        &[("$top", "3"), ("$orderby", "accountnumber")][..],
        &[("$top", "0")],
        &[("$skip", "2")],
        &[("$skip", "1"), ("$top", "3"), ("$orderby", "name desc")],
        &[("$skip", "10")],
        &[("$count", "true")],
        &[("$count", "true"), ("$filter", "numberofemployees ge 10")],
        &[("$count", "true"), ("$top", "1"), ("$orderby", "name")],
        &[("$count", "true"), ("$skip", "4")],
        &[("$select", "name,creditlimit")],
        &[
            ("$select", "accountnumber"),
            ("$filter", "revenue gt 1"),
            ("$orderby", "revenue desc"),
        ],
        &[("$select", "name"), ("$top", "3"), ("$skip", "1")],
    ] {
        h.query("options", "accounts", options).await;
    }
    // Bad requests: an unknown property in $filter, $select and $orderby; a malformed $filter.
    for options in [
        &[("$filter", "nosuch eq 1")][..],
        &[("$filter", "name eq")],
        &[("$select", "nosuch")],
        &[("$orderby", "nosuch")],
    ] {
        h.query("bad options", "accounts", options).await;
    }

    // PATCH with the current ETag: both 200 with the entity (Prefer: return=representation) and a new
    // ETag; with the previous ETag: both 412. Each side gets its own ETags.
    let target = format!("accounts({})", id(2));
    let (cap, emulator) = h.both("GET", &target, &[], None).await;
    let old = [etag_of(&cap), etag_of(&emulator)];
    // CAP's ETag is a millisecond timestamp: let the clock move on.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let change = json!({"name": "Beta 2", "creditlimit": 2.5, "donotphone": null});
    let (cap, emulator) = patch(
        h,
        "PATCH with the current ETag",
        &target,
        &old,
        "return=representation",
        &change,
    )
    .await;
    let new = [etag_of(&cap), etag_of(&emulator)];
    assert!(
        new[0] != old[0] && new[1] != old[1],
        "a PATCH changes the ETag: {old:?} -> {new:?}"
    );
    let stale = json!({"name": "stale"});
    patch(
        h,
        "PATCH with a stale ETag",
        &target,
        &old,
        "return=representation",
        &stale,
    )
    .await;
    // The strong form of the current ETag matches as well; If-Match * matches any.
    let strong = [
        new[0].trim_start_matches("W/").to_string(),
        new[1].trim_start_matches("W/").to_string(),
    ];
    tokio::time::sleep(Duration::from_millis(20)).await;
    patch(
        h,
        "PATCH with the strong ETag",
        &target,
        &strong,
        "return=minimal",
        &json!({"revenue": 2048}),
    )
    .await;
    let any = ["*".to_string(), "*".to_string()];
    patch(
        h,
        "PATCH with If-Match *",
        &target,
        &any,
        "return=representation",
        &json!({"numberofemployees": 251}),
    )
    .await;
    patch(
        h,
        "PATCH a missing key with If-Match *",
        &format!("accounts({})", id(99)),
        &any,
        "return=representation",
        &stale,
    )
    .await;
    // A key in the body that differs from the URL: CAP ignores it, Dataverse and F&O refuse it
    // (normalisation 13); the same key value is accepted by both.
    let (cap, emulator) = h
        .both(
            "PATCH",
            &target,
            &[("If-Match", "*"), ("Prefer", "return=representation")],
            Some(&json!({"accountid": id(98)})),
        )
        .await;
    assert_eq!(
        (cap.status, emulator.status),
        (200, 400),
        "PATCH with another key in the body"
    );
    assert_eq!(
        cap.body["accountid"],
        json!(id(2)),
        "CAP ignores the key in the body"
    );
    patch(
        h,
        "PATCH with the same key",
        &target,
        &any,
        "return=representation",
        &json!({"accountid": id(2)}),
    )
    .await;
    // Without If-Match: CAP 428, F&O applies the change (normalisation 8). The change is a no-op.
    let (cap, emulator) = h
        .both(
            "PATCH",
            &target,
            &[("Prefer", "return=representation")],
            Some(&json!({"name": "Beta 2"})),
        )
        .await;
    assert_eq!(
        (cap.status, emulator.status),
        (428, 200),
        "PATCH without If-Match"
    );
    h.query("after the PATCHes", "accounts", &[]).await;

    // DELETE: a stale ETag is 412; If-Match * deletes (204), then GET is 404 and DELETE again 404.
    let target = format!("accounts({})", id(6));
    let (cap, emulator) = h.both("GET", &target, &[], None).await;
    let current = [etag_of(&cap), etag_of(&emulator)];
    tokio::time::sleep(Duration::from_millis(20)).await;
    patch(
        h,
        "PATCH before DELETE",
        &target,
        &current,
        "return=minimal",
        &json!({"accountnumber": "A-006b"}),
    )
    .await;
    delete(h, "DELETE with a stale ETag", &target, &current).await;
    delete(h, "DELETE with If-Match *", &target, &any).await;
    h.exchange("GET after DELETE", "GET", &target, &[], None).await;
    delete(h, "DELETE again", &target, &any).await;
    // contacts has no ETag in CAP: DELETE without If-Match on both.
    h.exchange(
        "DELETE a contact",
        "DELETE",
        &format!("contacts({})", id(102)),
        &[],
        None,
    )
    .await;
    h.exchange(
        "DELETE a contact again",
        "DELETE",
        &format!("contacts({})", id(102)),
        &[],
        None,
    )
    .await;

    // $batch: a change set whose second request fails is rolled back whole, answered by that failure.
    let long_name = "y".repeat(161);
    let statuses = h
        .batch(
            "change set, second POST fails",
            &[Item::ChangeSet(vec![
                post("1", json!({"accountid": id(7), "name": "Batch 7"})),
                post("2", json!({"accountid": id(8), "name": long_name})),
            ])],
            None,
        )
        .await;
    assert_eq!(statuses, [400], "a failed change set is one error part");
    h.exchange(
        "GET the rolled-back POST",
        "GET",
        &format!("accounts({})", id(7)),
        &[],
        None,
    )
    .await;
    let update = Part {
        content_id: "1",
        method: "PATCH",
        url: format!("accounts({})", id(1)),
        headers: vec![("If-Match", "*".into()), ("Prefer", "return=minimal".into())],
        body: Some(json!({"accountnumber": "CHANGED"})),
    };
    h.batch(
        "change set, PATCH then a failing POST",
        &[Item::ChangeSet(vec![
            update,
            post("2", json!({"accountid": id(9), "numberofemployees": "x"})),
        ])],
        None,
    )
    .await;
    h.exchange(
        "GET the rolled-back PATCH",
        "GET",
        &format!("accounts({})", id(1)),
        &[],
        None,
    )
    .await;
    // A change set that succeeds: POST, then PATCH $1.
    let reference = Part {
        content_id: "2",
        method: "PATCH",
        url: "$1".into(),
        headers: vec![("If-Match", "*".into()), ("Prefer", "return=minimal".into())],
        body: Some(json!({"accountnumber": "A-010"})),
    };
    let statuses = h
        .batch(
            "change set that succeeds",
            &[Item::ChangeSet(vec![
                post("1", json!({"accountid": id(10), "name": "Batch 10"})),
                reference,
            ])],
            None,
        )
        .await;
    assert_eq!(statuses, [201, 204]);
    h.exchange(
        "GET the batch-created record",
        "GET",
        &format!("accounts({})", id(10)),
        &[],
        None,
    )
    .await;
    // Top-level requests: the batch stops at a failure unless odata.continue-on-error.
    let requests = |first: u32| {
        vec![
            Item::Single(post(
                "1",
                json!({"accountid": id(first), "name": "z".repeat(161)}),
            )),
            Item::Single(post(
                "2",
                json!({"accountid": id(first + 1), "name": format!("Batch {}", first + 1)}),
            )),
            Item::Single(Part {
                content_id: "3",
                method: "GET",
                url: format!("accounts({})", id(3)),
                headers: Vec::new(),
                body: None,
            }),
        ]
    };
    let statuses = h.batch("batch stops on error", &requests(20), None).await;
    assert_eq!(statuses, [400]);
    let statuses = h
        .batch(
            "batch continues on error",
            &requests(30),
            Some("odata.continue-on-error"),
        )
        .await;
    assert_eq!(statuses, [400, 201, 200]);
    h.query("after the batches", "accounts", &[("$orderby", "accountnumber")])
        .await;
}

fn etag_of(answer: &Answer) -> String {
    answer.header("etag").unwrap_or_default().to_string()
}

/// PATCH on both sides, each with its own `If-Match` (`[cap, emulator]`), compared.
async fn patch(
    h: &mut Harness,
    label: &str,
    target: &str,
    if_match: &[String; 2],
    prefer: &str,
    body: &Value,
) -> (Answer, Answer) {
    let text = Some(body.to_string());
    let cap_headers = [("If-Match", if_match[0].as_str()), ("Prefer", prefer)];
    let emulator_headers = [("If-Match", if_match[1].as_str()), ("Prefer", prefer)];
    let cap = h.send(&h.cap, "PATCH", target, &cap_headers, text.clone()).await;
    let emulator = h
        .send(&h.emulator, "PATCH", target, &emulator_headers, text)
        .await;
    let set = target.split('(').next().unwrap_or_default().to_string();
    h.compare(label, &set, &cap, &emulator);
    (cap, emulator)
}

/// DELETE on both sides, each with its own `If-Match`, compared.
async fn delete(h: &mut Harness, label: &str, target: &str, if_match: &[String; 2]) {
    let cap = h
        .send(
            &h.cap,
            "DELETE",
            target,
            &[("If-Match", if_match[0].as_str())],
            None,
        )
        .await;
    let emulator = h
        .send(
            &h.emulator,
            "DELETE",
            target,
            &[("If-Match", if_match[1].as_str())],
            None,
        )
        .await;
    let set = target.split('(').next().unwrap_or_default().to_string();
    h.compare(label, &set, &cap, &emulator);
}
