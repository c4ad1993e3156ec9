//! `$batch` (multipart/mixed): requests run in order; a change set is atomic (a failure rolls back
//! every write of it and is answered by that one error, as Dataverse and CAP do); `Content-ID`s name
//! created records for `$n` references in later URLs and binds of the same change set;
//! `Prefer: odata.continue-on-error` goes on after a failed request, otherwise the batch stops there.
//! Written independently of the client's codec, so each checks the other.

use std::collections::BTreeMap;

use crate::service::{DataChange, Request, Response, Service, codes};
use crate::text::excerpt;

/// One request of a batch.
#[derive(Debug, Clone)]
struct Part {
    content_id: Option<String>,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

enum Item {
    Single(Part),
    ChangeSet(Vec<Part>),
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Splits a multipart body into its parts' raw bytes (between delimiter lines).
fn split_parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, String> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut positions = Vec::new();
    let d = delimiter.as_bytes();
    let mut i = 0;
    while i + d.len() <= body.len() {
        let at_line_start = i == 0 || body[i - 1] == b'\n';
        if at_line_start && &body[i..i + d.len()] == d {
            positions.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    if positions.is_empty() {
        return Err(format!("no delimiter --{} in the batch body", excerpt(boundary)));
    }
    for pair in positions.windows(2) {
        let start = pair[0] + d.len();
        let rest = &body[start..pair[1]];
        // Skip the rest of the delimiter line; drop the CRLF that belongs to the next delimiter.
        let content = match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => &rest[nl + 1..],
            None => &[][..],
        };
        let content = content
            .strip_suffix(b"\r\n")
            .or_else(|| content.strip_suffix(b"\n"))
            .unwrap_or(content);
        parts.push(content);
    }
    let last = positions[positions.len() - 1] + d.len();
    if !body[last..].starts_with(b"--") {
        return Err("the batch body has no closing delimiter".into());
    }
    Ok(parts)
}

/// Header lines up to the first empty line, and what follows.
fn split_headers(bytes: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let mut headers = Vec::new();
    let mut rest = bytes;
    loop {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => (&rest[..nl], &rest[nl + 1..]),
            None => (rest, &[][..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = next;
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if let Some((name, value)) = text.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        if rest.is_empty() {
            break;
        }
    }
    (headers, rest)
}

fn parse_http_part(bytes: &[u8]) -> Result<Part, String> {
    let (mime, rest) = split_headers(bytes);
    let content_id = mime
        .iter()
        .find(|(n, _)| n == "content-id")
        .map(|(_, v)| v.clone());
    let (line, rest) = match rest.iter().position(|&b| b == b'\n') {
        Some(nl) => (&rest[..nl], &rest[nl + 1..]),
        None => (rest, &[][..]),
    };
    let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).to_string();
    let mut words = line.split_whitespace();
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(format!("bad request line '{}'", excerpt(&line)));
    };
    let (headers, body) = split_headers(rest);
    let content_id = content_id.or_else(|| {
        headers
            .iter()
            .find(|(n, _)| n == "content-id")
            .map(|(_, v)| v.clone())
    });
    Ok(Part {
        content_id,
        method: method.to_string(),
        url: url.to_string(),
        headers,
        body: body.to_vec(),
    })
}

fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Item>, String> {
    let boundary = boundary_of(content_type).ok_or("the Content-Type has no boundary")?;
    let mut items = Vec::new();
    for part in split_parts(body, &boundary)? {
        let (headers, rest) = split_headers(part);
        let part_type = headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.as_str())
            .unwrap_or("application/http");
        if part_type.to_ascii_lowercase().starts_with("multipart/mixed") {
            let inner = boundary_of(part_type).ok_or("a change set has no boundary")?;
            let mut requests = Vec::new();
            for request in split_parts(rest, &inner)? {
                requests.push(parse_http_part(request)?);
            }
            items.push(Item::ChangeSet(requests));
        } else {
            items.push(Item::Single(parse_http_part(part)?));
        }
    }
    Ok(items)
}

fn write_part(out: &mut String, response: &Response, content_id: Option<&str>) {
    out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    ));
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("OData-Version: 4.0\r\n\r\n");
    out.push_str(&String::from_utf8_lossy(&response.body));
    out.push_str("\r\n");
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        304 => "Not Modified",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        _ => "",
    }
}

/// Turns a part's URL into a path below the service root, with `$n` references replaced.
fn service_path(service: &Service, url: &str, references: &BTreeMap<String, String>) -> (String, String) {
    let root = service.flavor().root();
    let mut path = url.to_string();
    if let Some(at) = path.find("://") {
        let after = &path[at + 3..];
        path = after
            .find('/')
            .map_or(String::new(), |slash| after[slash..].to_string());
    }
    if let Some(stripped) = path.strip_prefix(root) {
        path = stripped.to_string();
    } else if let Some(stripped) = path.strip_prefix(root.trim_end_matches('/')) {
        path = stripped.trim_start_matches('/').to_string();
    }
    if let Some(reference) = path.strip_prefix('$') {
        let (id, tail) = reference.split_at(reference.find(['/', '?']).unwrap_or(reference.len()));
        if let Some(target) = references.get(id) {
            path = format!("{target}{tail}");
        }
    }
    match path.split_once('?') {
        Some((p, q)) => (crate::text::percent_decode(p, false), q.to_string()),
        None => (crate::text::percent_decode(&path, false), String::new()),
    }
}

fn substitute_references(body: &[u8], references: &BTreeMap<String, String>) -> Vec<u8> {
    if references.is_empty() || !body.contains(&b'$') {
        return body.to_vec();
    }
    let mut text = String::from_utf8_lossy(body).into_owned();
    for (id, target) in references.iter().rev() {
        text = text.replace(&format!("\"${id}\""), &format!("\"/{target}\""));
    }
    text.into_bytes()
}

fn run_part(
    service: &mut Service,
    part: &Part,
    outer: &Request,
    references: &BTreeMap<String, String>,
    journal: &mut Vec<crate::store::Undo>,
    changes: &mut Vec<DataChange>,
) -> Response {
    let (path, query) = service_path(service, &part.url, references);
    let request = Request {
        method: part.method.to_ascii_uppercase(),
        path,
        query: crate::text::query_pairs(&query),
        headers: part.headers.clone(),
        body: substitute_references(&part.body, references),
        origin: outer.origin.clone(),
        caller: outer.caller.clone(),
    };
    service.handle(&request, journal, changes)
}

/// Answers a `$batch` request.
pub fn execute(service: &mut Service, request: &Request, changes: &mut Vec<DataChange>) -> Response {
    let content_type = request.header("content-type").unwrap_or("");
    let items = match parse(content_type, &request.body) {
        Ok(items) => items,
        Err(message) => return service.error(400, codes::BAD_REQUEST, &format!("Invalid batch: {message}")),
    };
    let count: usize = items
        .iter()
        .map(|i| match i {
            Item::Single(_) => 1,
            Item::ChangeSet(parts) => parts.len(),
        })
        .sum();
    service.counters.largest_batch = service.counters.largest_batch.max(count);
    if count > service.max_batch {
        return service.error(
            400,
            codes::BAD_REQUEST,
            &format!(
                "The number of requests in a batch ({count}) exceeds the limit of {}.",
                service.max_batch
            ),
        );
    }
    let continue_on_error = request.header("prefer").is_some_and(|p| {
        p.split(',')
            .any(|x| x.trim().eq_ignore_ascii_case("odata.continue-on-error"))
    });
    let boundary = format!("batchresponse_{}", service.store.version);
    let mut out = String::new();
    let mut references: BTreeMap<String, String> = BTreeMap::new();
    for (n, item) in items.iter().enumerate() {
        out.push_str(&format!("--{boundary}\r\n"));
        let failed = match item {
            Item::Single(part) => {
                let mut journal = Vec::new();
                let response = run_part(service, part, request, &references, &mut journal, changes);
                write_part(&mut out, &response, part.content_id.as_deref());
                response.status >= 400
            }
            Item::ChangeSet(parts) => {
                let mut journal = Vec::new();
                let mut staged = Vec::new();
                let mut pending_changes = Vec::new();
                let mut failure = None;
                for part in parts {
                    let response = run_part(
                        service,
                        part,
                        request,
                        &references,
                        &mut journal,
                        &mut pending_changes,
                    );
                    if response.status >= 400 {
                        failure = Some((response, part.content_id.clone()));
                        break;
                    }
                    let url = response
                        .header("OData-EntityId")
                        .or_else(|| response.header("Location"));
                    if let (Some(id), Some(url)) = (&part.content_id, url) {
                        let root = format!("{}{}", request.origin, service.flavor().root());
                        references.insert(id.clone(), url.strip_prefix(&root).unwrap_or(url).to_string());
                    }
                    staged.push((response, part.content_id.clone()));
                }
                match failure {
                    Some((response, content_id)) => {
                        service.store.rollback(&service.schema.tables.clone(), journal);
                        write_part(&mut out, &response, content_id.as_deref());
                        true
                    }
                    None => {
                        changes.extend(pending_changes);
                        let inner = format!("changesetresponse_{}_{n}", service.store.version);
                        out.push_str(&format!(
                            "Content-Type: multipart/mixed; boundary={inner}\r\n\r\n"
                        ));
                        for (response, content_id) in &staged {
                            out.push_str(&format!("--{inner}\r\n"));
                            write_part(&mut out, response, content_id.as_deref());
                        }
                        out.push_str(&format!("--{inner}--\r\n"));
                        false
                    }
                }
            }
        };
        if failed && !continue_on_error {
            break;
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    let mut response = Response {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            format!("multipart/mixed; boundary={boundary}"),
        )],
        body: out.into_bytes(),
    };
    if continue_on_error {
        response
            .headers
            .push(("Preference-Applied".into(), "odata.continue-on-error".into()));
    }
    response
}
