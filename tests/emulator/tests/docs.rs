//! Conformance with Microsoft's documentation: every request/response example transcribed under
//! `tests/fixtures/docs` (sources and adaptations in its README.md) is sent as raw HTTP to the
//! emulator, and the answer is held to the documented one.
//!
//! A fixture is `<name>.http` (requests) and `<name>.response` (the documented answers, in the same
//! order), exchanges separated by `###` lines, with `<name>.seed.json` loaded first when present.
//! Lines starting with `#` before a request or status line are comments or directives:
//! `# limits: {json}` (Dataverse service protection limits for this fixture), `# repeat-before: N`
//! (send the request N times first), `# absent: Header, ..` (documented as not returned) and
//! `# unasserted: name, ..` (a header or body property the docs show but the emulator does not
//! produce, each listed in the README).
//!
//! What is compared: the status code; each documented header (`OData-EntityId` and `Location` as URLs
//! with ids normalised, `ETag` as a weak ETag, `Retry-After` as seconds, `Content-Type` by media type,
//! others exactly); the body property by property, where Guids the service assigns, ETags,
//! timestamps, hosts and paging/delta tokens are normalised, numbers compared by value, and with
//! `$select` no property beyond the documented and selected ones; `$batch` answers part by part.
//! Ids, ETags and links learned from one answer replace the documented ones in later requests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dualsync_emulator::Emulator;
use dualsync_emulator::limits::Limits;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs")
}

fn metadata(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../generated/metadata")
        .join(file)
}

/// One message of a fixture: directives, the first line, headers and body.
#[derive(Debug, Default)]
struct Message {
    directives: BTreeMap<String, String>,
    line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Message {
    fn directive_list(&self, name: &str) -> Vec<String> {
        self.directives
            .get(name)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn parse_messages(text: &str) -> Vec<Message> {
    let text = text.replace("\r\n", "\n");
    let mut messages = Vec::new();
    for chunk in text.split("\n###\n") {
        let mut message = Message::default();
        let mut lines = chunk.lines().peekable();
        while let Some(line) = lines.peek() {
            let line = line.trim_end();
            if line.is_empty() {
                lines.next();
            } else if let Some(comment) = line.strip_prefix('#') {
                if let Some((name, value)) = comment.trim().split_once(':') {
                    message
                        .directives
                        .insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
                }
                lines.next();
            } else {
                break;
            }
        }
        let Some(first) = lines.next() else {
            continue;
        };
        message.line = first.trim().to_string();
        for line in lines.by_ref() {
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header line {line:?}"));
            message
                .headers
                .push((name.trim().to_string(), value.trim().to_string()));
        }
        message.body = lines.collect::<Vec<_>>().join("\n").trim().to_string();
        messages.push(message);
    }
    messages
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_weak_etag(s: &str) -> bool {
    s.strip_prefix("W/\"")
        .and_then(|r| r.strip_suffix('"'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[..4].iter().all(u8::is_ascii_digit)
}

/// What one fixture run has learned: documented values and the emulator's in their place.
struct Run {
    client: reqwest::Client,
    url: String,
    guids: BTreeMap<String, String>,
    etags: BTreeMap<String, String>,
    links: BTreeMap<String, String>,
    name: String,
}

impl Run {
    /// The documented text with the organization root, learned links, ids and ETags replaced.
    fn substitute(&self, text: &str) -> String {
        let mut text = text.to_string();
        for placeholder in [
            "[Organization URI]",
            "[Organization Uri]",
            "[Your organization's root URL]",
        ] {
            text = text.replace(placeholder, &self.url);
        }
        for (documented, actual) in &self.links {
            text = text.replace(documented, actual);
        }
        for (documented, actual) in self.guids.iter().chain(self.etags.iter()) {
            text = text.replace(documented, actual);
        }
        text
    }

    fn fail(&self, step: usize, what: &str) -> ! {
        panic!("{} exchange {}: {what}", self.name, step + 1)
    }

    /// Matches a documented string against the emulator's, Guids being any Guid (learned).
    fn match_text(&mut self, step: usize, documented: &str, actual: &str, what: &str) {
        let documented = self.substitute_root(documented);
        let (mut d, mut a) = (documented.as_str(), actual);
        loop {
            let next = (0..d.len()).find(|&i| d.is_char_boundary(i) && d.get(i..i + 36).is_some_and(is_guid));
            let Some(at) = next else {
                if d != a {
                    self.fail(
                        step,
                        &format!("{what}: documented {documented:?}, emulator {actual:?}"),
                    );
                }
                return;
            };
            if a.get(..at) != Some(&d[..at]) || !a.get(at..at + 36).is_some_and(is_guid) {
                self.fail(
                    step,
                    &format!("{what}: documented {documented:?}, emulator {actual:?}"),
                );
            }
            self.learn_guid(step, &d[at..at + 36], &a[at..at + 36]);
            d = &d[at + 36..];
            a = &a[at + 36..];
        }
    }

    fn substitute_root(&self, text: &str) -> String {
        let mut text = text.to_string();
        for placeholder in [
            "[Organization URI]",
            "[Organization Uri]",
            "[Your organization's root URL]",
        ] {
            text = text.replace(placeholder, &self.url);
        }
        text
    }

    fn learn_guid(&mut self, step: usize, documented: &str, actual: &str) {
        let documented = documented.to_ascii_lowercase();
        let actual = actual.to_ascii_lowercase();
        match self.guids.get(&documented) {
            Some(known) if *known != actual => self.fail(
                step,
                &format!("id {documented} stood for {known} before, now the emulator says {actual}"),
            ),
            _ => {
                self.guids.insert(documented, actual);
            }
        }
    }

    fn compare_header(
        &mut self,
        step: usize,
        name: &str,
        documented: &str,
        actual: &reqwest::header::HeaderMap,
    ) {
        let values: Vec<&str> = actual
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let Some(first) = values.first().copied() else {
            self.fail(
                step,
                &format!("header {name}: documented {documented:?}, the emulator sent none"),
            );
        };
        match name.to_ascii_lowercase().as_str() {
            "odata-entityid" | "location" => self.match_text(step, documented, first, name),
            "etag" => {
                assert!(
                    is_weak_etag(first),
                    "{}: ETag {first:?} is not a weak ETag",
                    self.name
                );
                self.etags.insert(documented.to_string(), first.to_string());
            }
            "retry-after" => {
                let seconds: u64 = first
                    .parse()
                    .unwrap_or_else(|_| self.fail(step, "Retry-After is not seconds"));
                assert!(seconds >= 1, "{}: Retry-After {seconds}", self.name);
            }
            "content-type" => {
                let media = documented.split(';').next().unwrap_or("").trim();
                if !first.starts_with(media) {
                    self.fail(
                        step,
                        &format!("Content-Type {first:?}, documented {documented:?}"),
                    );
                }
            }
            "preference-applied" => {
                let applied: Vec<&str> = values.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
                if !applied.contains(&documented) {
                    self.fail(
                        step,
                        &format!("Preference-Applied {applied:?} lacks {documented:?}"),
                    );
                }
            }
            _ => {
                if first != documented {
                    self.fail(
                        step,
                        &format!("header {name}: documented {documented:?}, emulator {first:?}"),
                    );
                }
            }
        }
    }

    /// Holds the emulator's JSON to the documented JSON.
    fn compare_json(&mut self, step: usize, path: &str, d: &Value, a: &Value, context: &Compare) {
        match (d, a) {
            (Value::Object(d), Value::Object(a)) => {
                for (key, dv) in d {
                    if context.unasserted.iter().any(|u| u == key) {
                        continue;
                    }
                    let Some(av) = a.get(key) else {
                        self.fail(step, &format!("{path}.{key} is documented but missing: {a:?}"));
                    };
                    self.compare_json(step, &format!("{path}.{key}"), dv, av, context);
                }
                if let Some(select) = &context.select
                    && d.contains_key("@odata.etag")
                {
                    for key in a.keys() {
                        let allowed = key.starts_with('@') || d.contains_key(key) || select.contains(key);
                        if !allowed {
                            self.fail(
                                step,
                                &format!("{path}: `{key}` is neither documented nor selected"),
                            );
                        }
                    }
                }
            }
            (Value::Array(d), Value::Array(a)) => {
                if d.len() != a.len() {
                    self.fail(
                        step,
                        &format!("{path}: {} items documented, {} sent: {a:?}", d.len(), a.len()),
                    );
                }
                for (i, (dv, av)) in d.iter().zip(a).enumerate() {
                    self.compare_json(step, &format!("{path}[{i}]"), dv, av, context);
                }
            }
            (Value::Number(d), Value::Number(a)) => {
                if d.as_f64() != a.as_f64() {
                    self.fail(step, &format!("{path}: documented {d}, emulator {a}"));
                }
            }
            (Value::String(d), Value::String(a)) => {
                let link = path.ends_with(".@odata.nextLink") || path.ends_with(".@odata.deltaLink");
                if is_weak_etag(d) {
                    if !is_weak_etag(a) {
                        self.fail(step, &format!("{path}: {a:?} is not a weak ETag"));
                    }
                    self.etags.insert(d.clone(), a.clone());
                } else if is_timestamp(d) {
                    if !is_timestamp(a) {
                        self.fail(step, &format!("{path}: {a:?} is not a timestamp"));
                    }
                } else if link {
                    // Paging and delta tokens are the service's own: the same resource, a token.
                    let d_text = self.substitute_root(d);
                    let (d_base, d_query) = d_text.split_once('?').unwrap_or((&d_text, ""));
                    let (a_base, a_query) = a.split_once('?').unwrap_or((a, ""));
                    self.match_text(step, d_base, a_base, path);
                    for token in ["$skiptoken=", "$deltatoken="] {
                        if d_query.contains(token) && !a_query.contains(token) {
                            self.fail(step, &format!("{path}: {a:?} has no {token}"));
                        }
                    }
                    self.links.insert(d_text.clone(), a.clone());
                } else if path.ends_with(".message") {
                    let normal = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
                    let d = self.substitute(d);
                    if normal(&d) != normal(a) {
                        self.fail(step, &format!("{path}: documented {d:?}, emulator {a:?}"));
                    }
                } else {
                    self.match_text(step, d, a, path);
                }
            }
            (d, a) => {
                if d != a {
                    self.fail(step, &format!("{path}: documented {d}, emulator {a}"));
                }
            }
        }
    }

    /// Holds a `$batch` answer to the documented one: the same parts in order, each with the
    /// documented status, Content-ID, headers and JSON body.
    fn compare_batch(&mut self, step: usize, documented: &str, actual: &str, context: &Compare) {
        let d_parts = batch_parts(documented);
        let a_parts = batch_parts(actual);
        let statuses = |parts: &[BatchPart]| {
            parts
                .iter()
                .map(|p| (p.status, p.content_id.clone()))
                .collect::<Vec<_>>()
        };
        if statuses(&d_parts) != statuses(&a_parts) {
            self.fail(
                step,
                &format!(
                    "batch parts {:?}, documented {:?}:\n{actual}",
                    statuses(&a_parts),
                    statuses(&d_parts)
                ),
            );
        }
        for (d, a) in d_parts.iter().zip(&a_parts) {
            for (name, value) in &d.headers {
                let actual_value = a
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| self.fail(step, &format!("batch part lacks {name}:\n{actual}")));
                match name.to_ascii_lowercase().as_str() {
                    "location" | "odata-entityid" => self.match_text(step, value, &actual_value, name),
                    "content-type" => {
                        assert!(actual_value.starts_with(value.split(';').next().unwrap_or("")))
                    }
                    _ => assert_eq!(&actual_value, value, "{}: batch part header {name}", self.name),
                }
            }
            if d.body.starts_with('{') {
                let dv: Value = serde_json::from_str(&d.body).expect("documented part body is JSON");
                let av: Value = serde_json::from_str(&a.body)
                    .unwrap_or_else(|e| self.fail(step, &format!("part body is not JSON ({e}): {}", a.body)));
                self.compare_json(step, "$batch", &dv, &av, context);
            }
        }
    }
}

/// What a body comparison needs to know of the request.
struct Compare {
    select: Option<Vec<String>>,
    unasserted: Vec<String>,
}

#[derive(Debug)]
struct BatchPart {
    status: u16,
    content_id: Option<String>,
    headers: Vec<(String, String)>,
    body: String,
}

/// The responses of a multipart batch answer, change sets flattened, in order.
fn batch_parts(text: &str) -> Vec<BatchPart> {
    let text = text.replace("\r\n", "\n");
    let mut parts = Vec::new();
    for chunk in text.split("\n--") {
        let chunk = chunk.trim_start_matches("--");
        let Some(at) = chunk.find("HTTP/1.1 ") else {
            continue;
        };
        let mime = &chunk[..at];
        let content_id = mime.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-id")
                .then(|| v.trim().to_string())
        });
        let mut lines = chunk[at..].lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut headers = Vec::new();
        for line in lines.by_ref() {
            if line.trim().is_empty() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let body = lines.collect::<Vec<_>>().join("\n").trim().to_string();
        parts.push(BatchPart {
            status,
            content_id,
            headers,
            body,
        });
    }
    parts
}

fn select_of(url: &str) -> Option<Vec<String>> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|p| {
        let value = p.strip_prefix("$select=")?;
        Some(value.split(',').map(|c| c.trim().to_string()).collect())
    })
}

async fn run_fixture(name: &str) {
    let folder = fixtures();
    let requests = parse_messages(&std::fs::read_to_string(folder.join(format!("{name}.http"))).unwrap());
    let responses =
        parse_messages(&std::fs::read_to_string(folder.join(format!("{name}.response"))).unwrap());
    assert_eq!(
        requests.len(),
        responses.len(),
        "{name}: requests and responses pair up"
    );
    let emulator = Emulator::from_paths(
        Some(&metadata("dataverse-dualwrite.xml")),
        Some(&metadata("fo-dualwrite.xml")),
    )
    .unwrap();
    let seed = folder.join(format!("{name}.seed.json"));
    if seed.exists() {
        let seed: Value = serde_json::from_str(&std::fs::read_to_string(&seed).unwrap()).unwrap();
        emulator
            .with(|s| dualsync_emulator::load_seed(s, &seed))
            .unwrap_or_else(|e| panic!("{name}: seed: {e}"));
    }
    let running = emulator.serve("127.0.0.1:0").await.unwrap();
    let mut run = Run {
        client: reqwest::Client::new(),
        url: running.url.clone(),
        guids: BTreeMap::new(),
        etags: BTreeMap::new(),
        links: BTreeMap::new(),
        name: name.to_string(),
    };
    for (step, (request, documented)) in requests.iter().zip(&responses).enumerate() {
        if let Some(limits) = request.directives.get("limits") {
            let limits: Limits = serde_json::from_str(limits).unwrap();
            running.emulator.set_limits(limits);
        }
        let line = run.substitute(&request.line);
        let mut words = line.split_whitespace();
        let (method, url) = (words.next().unwrap(), words.next().unwrap());
        let build = |run: &Run| {
            let mut builder = run.client.request(method.parse().unwrap(), url);
            for (n, v) in &request.headers {
                builder = builder.header(n.as_str(), run.substitute(v));
            }
            if !request.body.is_empty() {
                let mut body = run.substitute(&request.body);
                if request
                    .headers
                    .iter()
                    .any(|(_, v)| v.starts_with("multipart/mixed"))
                {
                    body = body.replace('\n', "\r\n") + "\r\n";
                }
                builder = builder.body(body);
            }
            builder
        };
        let repeat: usize = request
            .directives
            .get("repeat-before")
            .map_or(0, |n| n.parse().unwrap());
        for _ in 0..repeat {
            let status = build(&run).send().await.unwrap().status();
            assert!(
                status.is_success(),
                "{name}: a repeated request was answered {status}"
            );
        }
        let response = build(&run).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let expected: u16 = documented
            .line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{name}: bad status line {:?}", documented.line));
        if status != expected {
            run.fail(
                step,
                &format!("{method} {url}: status {status}, documented {expected}: {text}"),
            );
        }
        let unasserted = documented.directive_list("unasserted");
        for (n, v) in &documented.headers {
            if !unasserted.iter().any(|u| u.eq_ignore_ascii_case(n)) {
                run.compare_header(step, n, v, &headers);
            }
        }
        for absent in documented.directive_list("absent") {
            if headers.contains_key(absent.as_str()) {
                run.fail(
                    step,
                    &format!(
                        "{absent} is documented as not returned: {:?}",
                        headers[absent.as_str()]
                    ),
                );
            }
        }
        let context = Compare {
            select: select_of(url),
            unasserted,
        };
        if url.ends_with("$batch") {
            run.compare_batch(step, &documented.body, &text, &context);
        } else if documented.body.starts_with('{') {
            let d: Value = serde_json::from_str(&documented.body)
                .unwrap_or_else(|e| panic!("{name} exchange {}: documented body: {e}", step + 1));
            let a: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| run.fail(step, &format!("the body is not JSON ({e}): {text:?}")));
            run.compare_json(step, "", &d, &a, &context);
        } else if documented.body.is_empty() && matches!(expected, 204 | 304) && !text.is_empty() {
            run.fail(step, &format!("a {expected} with a body: {text:?}"));
        }
    }
}

/// Every fixture has a test; none is left out.
#[test]
fn every_fixture_is_run() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docs.rs")).unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".http") {
            assert!(source.contains(&format!("=> \"{name}\",")), "no test runs {file}");
            assert!(
                fixtures().join(format!("{name}.response")).exists(),
                "{name}.response"
            );
            let readme = std::fs::read_to_string(fixtures().join("README.md")).unwrap();
            assert!(
                readme.contains(&format!("`{name}`")),
                "README.md does not list {name}"
            );
        }
    }
}

macro_rules! fixture_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                run_fixture($name).await;
            }
        )*
    };
}

fixture_tests! {
    dataverse_create_basic => "dv-create-basic",
    dataverse_create_with_data_returned => "dv-create-with-data-returned",
    dataverse_associate_on_create => "dv-associate-on-create",
    dataverse_retrieve_select => "dv-retrieve-select",
    dataverse_update_basic => "dv-update-basic",
    dataverse_update_with_data_returned => "dv-update-with-data-returned",
    dataverse_delete_basic => "dv-delete-basic",
    dataverse_prevent_create_in_upsert => "dv-upsert-prevent-create",
    dataverse_prevent_update_in_upsert => "dv-upsert-prevent-update",
    dataverse_upsert_by_alternate_key => "dv-upsert-alternate-key",
    dataverse_conditional_operations_sample => "dv-conditional-operations-sample",
    dataverse_batch_change_set => "dv-batch-change-set",
    dataverse_count_rows => "dv-query-count",
    dataverse_page_results => "dv-query-page",
    dataverse_order_filter_top => "dv-query-order-top",
    dataverse_change_tracking => "dv-change-tracking",
    dataverse_limit_number_of_requests => "dv-limit-requests",
    dataverse_limit_execution_time => "dv-limit-execution-time",
    dataverse_limit_concurrent_requests => "dv-limit-concurrent",
    fo_cross_company => "fo-cross-company",
    fo_enum_filter => "fo-enum-filter",
    fo_wildcard_filter => "fo-wildcard-filter",
    fo_entity_key => "fo-entity-key",
}
