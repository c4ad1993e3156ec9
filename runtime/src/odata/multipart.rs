//! `multipart/mixed` bodies of OData v4 `$batch` requests and responses.
//!
//! [`encode`] writes a request body: CRLF line ends, change sets one level deep, `Content-ID` in the MIME
//! part headers (where Dataverse expects it). [`decode`] reads a response body liberally: LF or CRLF,
//! header names in any case, quoted boundaries, preamble and epilogue, transport padding, `HTTP/1.0` or
//! `HTTP/1.1` status lines, and a failed change set answered by a single error part. Bodies are kept byte
//! for byte (only the line break that belongs to the next delimiter is dropped, as RFC 2046 §5.1.1 says),
//! and every malformed input is a [`MultipartError`] that names what went wrong and where.
//!
//! Pure functions, no I/O. Format: OData v4.0 Part 1 §11.7 (Batch Requests) and RFC 2046 §5.1.

use std::fmt;
use std::ops::Range;

const CRLF: &str = "\r\n";

/// One request inside a batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartRequest {
    /// HTTP method: `GET`, `POST`, `PATCH`, `DELETE` or `PUT`.
    pub method: String,
    /// Request target as written on the request line: absolute URL, service-relative path, or `$1`.
    pub url: String,
    /// Headers of the inner HTTP request, written in order.
    pub headers: Vec<(String, String)>,
    /// JSON text of the body, if any.
    pub body: Option<String>,
    /// `Content-ID` written in the MIME part headers, if any.
    pub content_id: Option<String>,
}

impl PartRequest {
    /// A request without headers, body or `Content-ID`.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        PartRequest {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            content_id: None,
        }
    }

    /// Adds a header to the inner HTTP request.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the JSON body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets the `Content-ID`.
    #[must_use]
    pub fn with_content_id(mut self, content_id: impl Into<String>) -> Self {
        self.content_id = Some(content_id.into());
        self
    }
}

/// A top-level element of a batch: a lone request or an atomic change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchItem {
    /// A request outside any change set.
    Request(PartRequest),
    /// Requests that succeed or fail together, delimited by their own boundary.
    ChangeSet {
        /// Boundary of the change set (for example `changeset_<uuid>`).
        boundary: String,
        /// The requests of the change set, in order.
        requests: Vec<PartRequest>,
    },
}

/// One response inside a batch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartResponse {
    /// HTTP status code.
    pub status: u16,
    /// Reason phrase of the status line (may be empty).
    pub reason: String,
    /// Headers of the inner HTTP response, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body text, byte for byte (empty for a 204).
    pub body: String,
    /// `Content-ID` from the MIME part headers, else from the inner HTTP headers.
    pub content_id: Option<String>,
}

impl PartResponse {
    /// The value of the first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A top-level element of a batch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseItem {
    /// The response to a lone request, or the single error that answers a failed change set.
    Response(PartResponse),
    /// The responses to the requests of a change set that succeeded.
    ChangeSet(Vec<PartResponse>),
}

/// Where a part sits in a batch response: 1-based, shown as `3`, or `2.1` inside a change set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPath {
    /// Position among the top-level parts.
    pub outer: usize,
    /// Position inside the change set, for a part of one.
    pub inner: Option<usize>,
}

impl fmt::Display for PartPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner {
            Some(inner) => write!(f, "{}.{inner}", self.outer),
            None => write!(f, "{}", self.outer),
        }
    }
}

/// A batch response body that could not be decoded; offsets are bytes from the start of the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// The response's Content-Type is not a multipart media type.
    #[error("Content-Type `{content_type}` is not multipart/mixed")]
    NotMultipart {
        /// The Content-Type value given.
        content_type: String,
    },
    /// The response's Content-Type has no (non-empty) `boundary` parameter.
    #[error("no boundary parameter in Content-Type `{content_type}`")]
    NoBoundary {
        /// The Content-Type value given.
        content_type: String,
    },
    /// No delimiter line `--boundary` starts a line.
    #[error("no delimiter line `--{boundary}` in the bytes starting at {offset}")]
    NoDelimiter {
        /// The boundary looked for.
        boundary: String,
        /// Where the searched bytes start.
        offset: usize,
    },
    /// The bytes end before the closing delimiter `--boundary--`.
    #[error("missing closing delimiter `--{boundary}--`: the bytes end at {offset}")]
    MissingClosingDelimiter {
        /// The boundary whose closing delimiter is missing.
        boundary: String,
        /// Where the searched bytes end.
        offset: usize,
    },
    /// A header line is not `name: value` with a token name.
    #[error("part {part}: malformed header line at byte {offset}")]
    BadHeaderLine {
        /// The part.
        part: PartPath,
        /// Start of the line.
        offset: usize,
    },
    /// A header line is not UTF-8.
    #[error("part {part}: header line at byte {offset} is not UTF-8")]
    HeaderNotUtf8 {
        /// The part.
        part: PartPath,
        /// Start of the line.
        offset: usize,
    },
    /// The MIME headers of a part are not ended by a blank line.
    #[error("part {part}: the headers starting at byte {offset} are not ended by a blank line")]
    UnterminatedHeaders {
        /// The part.
        part: PartPath,
        /// Start of the headers.
        offset: usize,
    },
    /// A part is neither `application/http` nor `multipart/mixed`.
    #[error("part {part} at byte {offset}: unexpected Content-Type `{content_type}`")]
    UnexpectedContentType {
        /// The part.
        part: PartPath,
        /// Start of the part.
        offset: usize,
        /// The part's Content-Type value.
        content_type: String,
    },
    /// A change-set part has no `boundary` parameter.
    #[error("part {part} at byte {offset}: change set without a boundary in `{content_type}`")]
    ChangeSetWithoutBoundary {
        /// The part.
        part: PartPath,
        /// Start of the part.
        offset: usize,
        /// The part's Content-Type value.
        content_type: String,
    },
    /// A change set inside a change set (only one level of nesting is allowed).
    #[error("part {part} at byte {offset}: change set nested inside a change set")]
    NestedTooDeep {
        /// The part.
        part: PartPath,
        /// Start of the part.
        offset: usize,
    },
    /// The status line is not `HTTP/1.x NNN reason`.
    #[error("part {part}: bad status line `{line}` at byte {offset}")]
    BadStatusLine {
        /// The part.
        part: PartPath,
        /// Start of the line (or of the HTTP message, when it has no line).
        offset: usize,
        /// The line, cut to 80 bytes, invalid UTF-8 replaced.
        line: String,
    },
    /// A response body is not UTF-8.
    #[error("part {part}: body is not UTF-8 (invalid byte at {offset})")]
    BodyNotUtf8 {
        /// The part.
        part: PartPath,
        /// The first invalid byte.
        offset: usize,
    },
}

// ------------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------------

/// Writes the body; the request's Content-Type is `multipart/mixed; boundary={batch_boundary}`.
///
/// Change-set boundaries are written unquoted (SAP CAP and fe-mockserver refuse quoted ones; our
/// boundaries need no quotes). Boundaries, methods, URLs and header names and values must not contain
/// CR or LF; the caller builds them (boundaries from counters, URLs percent-encoded).
pub fn encode(batch_boundary: &str, items: &[BatchItem]) -> String {
    encode_with(batch_boundary, items, false)
}

/// [`encode`], with change-set boundaries quoted when `quote_change_sets` (as Microsoft's examples write them).
pub fn encode_with(batch_boundary: &str, items: &[BatchItem], quote_change_sets: bool) -> String {
    let mut out = String::with_capacity(encoded_len_hint(items));
    let mut batch = Delimiters::new(batch_boundary);
    for item in items {
        batch.open_part(&mut out);
        match item {
            BatchItem::Request(request) => write_request_part(&mut out, request),
            BatchItem::ChangeSet { boundary, requests } => {
                write_change_set(&mut out, boundary, requests, quote_change_sets)
            }
        }
    }
    batch.close(&mut out);
    out
}

/// Writes the delimiter lines of one multipart body; the CRLF before a delimiter belongs to it.
struct Delimiters<'b> {
    boundary: &'b str,
    started: bool,
}

impl<'b> Delimiters<'b> {
    fn new(boundary: &'b str) -> Self {
        Delimiters {
            boundary,
            started: false,
        }
    }

    fn open_part(&mut self, out: &mut String) {
        self.write_dash_boundary(out);
        out.push_str(CRLF);
    }

    /// Writes the closing delimiter and the CRLF that ends its line.
    fn close(mut self, out: &mut String) {
        self.write_dash_boundary(out);
        out.push_str("--");
        out.push_str(CRLF);
    }

    fn write_dash_boundary(&mut self, out: &mut String) {
        if self.started {
            out.push_str(CRLF);
        }
        self.started = true;
        out.push_str("--");
        out.push_str(self.boundary);
    }
}

fn write_change_set(out: &mut String, boundary: &str, requests: &[PartRequest], quote: bool) {
    let quote = if quote { "\"" } else { "" };
    out.push_str("Content-Type: multipart/mixed; boundary=");
    out.push_str(quote);
    out.push_str(boundary);
    out.push_str(quote);
    out.push_str(CRLF);
    out.push_str(CRLF);
    let mut change_set = Delimiters::new(boundary);
    for request in requests {
        change_set.open_part(out);
        write_request_part(out, request);
    }
    change_set.close(out);
}

/// MIME part headers, blank line, request line, request headers, blank line, body (no final CRLF).
fn write_request_part(out: &mut String, request: &PartRequest) {
    write_header(out, "Content-Type", "application/http");
    write_header(out, "Content-Transfer-Encoding", "binary");
    if let Some(content_id) = &request.content_id {
        write_header(out, "Content-ID", content_id);
    }
    out.push_str(CRLF);
    out.push_str(&request.method);
    out.push(' ');
    out.push_str(&request.url);
    out.push_str(" HTTP/1.1");
    out.push_str(CRLF);
    for (name, value) in &request.headers {
        write_header(out, name, value);
    }
    out.push_str(CRLF);
    if let Some(body) = &request.body {
        out.push_str(body);
    }
}

fn write_header(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push_str(CRLF);
}

/// An estimate of the encoded length (boundaries and part headers fit in the fixed allowance), so that
/// the output seldom reallocates.
fn encoded_len_hint(items: &[BatchItem]) -> usize {
    const PART_OVERHEAD: usize = 192;
    let request_len = |request: &PartRequest| {
        let headers: usize = request.headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
        PART_OVERHEAD + request.url.len() + headers + request.body.as_ref().map_or(0, String::len)
    };
    let items: usize = items
        .iter()
        .map(|item| match item {
            BatchItem::Request(request) => request_len(request),
            BatchItem::ChangeSet { requests, .. } => {
                PART_OVERHEAD + requests.iter().map(request_len).sum::<usize>()
            }
        })
        .sum();
    items + PART_OVERHEAD
}

// ------------------------------------------------------------------------------------------------
// Decoding
// ------------------------------------------------------------------------------------------------

/// Parses a batch response body given the response's Content-Type header value (boundary taken from it).
pub fn decode(content_type: &str, body: &[u8]) -> Result<Vec<ResponseItem>, MultipartError> {
    let boundary = batch_boundary(content_type)?;
    let whole = Chunk {
        bytes: body,
        offset: 0,
    };
    split_parts(whole, &boundary)?
        .into_iter()
        .enumerate()
        .map(|(index, part)| decode_item(part, index + 1))
        .collect()
}

/// Bytes of the response body, with the offset of their first byte in the whole body.
#[derive(Debug, Clone, Copy)]
struct Chunk<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Chunk<'a> {
    /// The sub-chunk `range` (relative to this chunk); empty if out of range.
    fn slice(self, range: Range<usize>) -> Chunk<'a> {
        Chunk {
            bytes: self.bytes.get(range.clone()).unwrap_or_default(),
            offset: self.offset + range.start,
        }
    }

    fn end(self) -> usize {
        self.offset + self.bytes.len()
    }
}

fn batch_boundary(content_type: &str) -> Result<String, MultipartError> {
    let (media_type, boundary) = media_type_and_boundary(content_type);
    if !is_multipart(media_type) {
        return Err(MultipartError::NotMultipart {
            content_type: content_type.to_owned(),
        });
    }
    boundary.ok_or_else(|| MultipartError::NoBoundary {
        content_type: content_type.to_owned(),
    })
}

fn is_multipart(media_type: &str) -> bool {
    media_type
        .get(..10)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("multipart/"))
}

/// Splits a Content-Type value into its media type and its `boundary` parameter, unquoted.
fn media_type_and_boundary(value: &str) -> (&str, Option<String>) {
    let (media_type, mut rest) = value.split_once(';').unwrap_or((value, ""));
    let mut boundary = None;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let (name, after_name) = rest.split_at_checked(name_end).unwrap_or((rest, ""));
        let param_value = match after_name.strip_prefix('=') {
            Some(after_eq) => {
                let (param_value, remaining) = parameter_value(after_eq.trim_start());
                rest = remaining;
                Some(param_value)
            }
            None => {
                rest = after_name;
                None
            }
        };
        if boundary.is_none() && name.trim().eq_ignore_ascii_case("boundary") {
            boundary = param_value.filter(|b| !b.is_empty());
        }
    }
    (media_type.trim(), boundary)
}

/// A parameter value (token or quoted string) and the text after it.
fn parameter_value(text: &str) -> (String, &str) {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(';').unwrap_or(text.len());
        let (token, rest) = text.split_at_checked(end).unwrap_or((text, ""));
        return (token.trim().to_owned(), rest);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return (value, quoted.get(index + 1..).unwrap_or_default()),
            '\\' => value.extend(chars.next().map(|(_, escaped)| escaped)),
            _ => value.push(c),
        }
    }
    // An unterminated quoted string runs to the end of the value.
    (value, "")
}

/// Where a delimiter line ends, for a line that is one.
enum Delimiter {
    /// `--boundary`, optional padding, line break; the next part starts at `content_start`.
    Open { content_start: usize },
    /// `--boundary--`; whatever follows is epilogue.
    Close,
}

/// The body parts of a multipart body, each without the line break that belongs to the next delimiter.
fn split_parts<'a>(chunk: Chunk<'a>, boundary: &str) -> Result<Vec<Chunk<'a>>, MultipartError> {
    let dash_boundary = [b"--".as_slice(), boundary.as_bytes()].concat();
    let bytes = chunk.bytes;
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut line_start = Some(0);
    while let Some(pos) = line_start {
        let Some(delimiter) = delimiter_at(bytes, pos, &dash_boundary) else {
            line_start = next_line_start(bytes, pos);
            continue;
        };
        if let Some(start) = part_start {
            parts.push(chunk.slice(start..without_final_line_break(bytes, start, pos)));
        }
        match delimiter {
            Delimiter::Close => return Ok(parts),
            Delimiter::Open { content_start } => {
                part_start = Some(content_start);
                line_start = Some(content_start);
            }
        }
    }
    Err(match part_start {
        Some(_) => MultipartError::MissingClosingDelimiter {
            boundary: boundary.to_owned(),
            offset: chunk.end(),
        },
        None => MultipartError::NoDelimiter {
            boundary: boundary.to_owned(),
            offset: chunk.offset,
        },
    })
}

/// Whether the line starting at `pos` is a delimiter line (RFC 2046: padding may follow the boundary).
fn delimiter_at(bytes: &[u8], pos: usize, dash_boundary: &[u8]) -> Option<Delimiter> {
    let rest = bytes.get(pos..)?.strip_prefix(dash_boundary)?;
    if rest.starts_with(b"--") {
        return Some(Delimiter::Close);
    }
    let padding = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let after_padding = rest.get(padding..)?;
    let line_break = if after_padding.starts_with(b"\r\n") {
        2
    } else if after_padding.starts_with(b"\n") {
        1
    } else {
        return None;
    };
    Some(Delimiter::Open {
        content_start: pos + dash_boundary.len() + padding + line_break,
    })
}

fn next_line_start(bytes: &[u8], pos: usize) -> Option<usize> {
    let newline = bytes.get(pos..)?.iter().position(|&b| b == b'\n')?;
    Some(pos + newline + 1)
}

/// `end`, moved back over one CRLF or LF that lies within `start..end`.
fn without_final_line_break(bytes: &[u8], start: usize, end: usize) -> usize {
    let mut end = end;
    if end > start && bytes.get(end - 1) == Some(&b'\n') {
        end -= 1;
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
    }
    end
}

/// The line starting at `pos` without its CRLF or LF, and where the next line starts; `None` at the end.
fn read_line(bytes: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = bytes.get(pos..).filter(|rest| !rest.is_empty())?;
    let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
        return Some((rest, bytes.len()));
    };
    let line = rest.get(..newline).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, pos + newline + 1))
}

/// A MIME body part split into its headers and its content.
struct MimePart<'a> {
    path: PartPath,
    start: usize,
    headers: Vec<(String, String)>,
    content: Chunk<'a>,
}

/// What a body part holds.
enum PartKind {
    Http,
    ChangeSet { boundary: String },
}

impl<'a> MimePart<'a> {
    fn parse(part: Chunk<'a>, path: PartPath) -> Result<Self, MultipartError> {
        let (headers, content_start) = parse_headers(part, 0, path, HeadersEnd::BlankLine)?;
        Ok(MimePart {
            path,
            start: part.offset,
            headers,
            content: part.slice(content_start..part.bytes.len()),
        })
    }

    /// `application/http` (also assumed when Content-Type is absent) or a change set.
    fn kind(&self) -> Result<PartKind, MultipartError> {
        let Some(content_type) = find_header(&self.headers, "Content-Type") else {
            return Ok(PartKind::Http);
        };
        let (media_type, boundary) = media_type_and_boundary(content_type);
        if media_type.eq_ignore_ascii_case("application/http") {
            return Ok(PartKind::Http);
        }
        if !is_multipart(media_type) {
            return Err(MultipartError::UnexpectedContentType {
                part: self.path,
                offset: self.start,
                content_type: content_type.to_owned(),
            });
        }
        match boundary {
            Some(boundary) => Ok(PartKind::ChangeSet { boundary }),
            None => Err(MultipartError::ChangeSetWithoutBoundary {
                part: self.path,
                offset: self.start,
                content_type: content_type.to_owned(),
            }),
        }
    }
}

fn decode_item(part: Chunk<'_>, index: usize) -> Result<ResponseItem, MultipartError> {
    let path = PartPath {
        outer: index,
        inner: None,
    };
    let mime = MimePart::parse(part, path)?;
    match mime.kind()? {
        PartKind::Http => parse_http_response(&mime).map(ResponseItem::Response),
        PartKind::ChangeSet { boundary } => decode_change_set(&mime, &boundary).map(ResponseItem::ChangeSet),
    }
}

fn decode_change_set(change_set: &MimePart<'_>, boundary: &str) -> Result<Vec<PartResponse>, MultipartError> {
    split_parts(change_set.content, boundary)?
        .into_iter()
        .enumerate()
        .map(|(index, part)| {
            let path = PartPath {
                outer: change_set.path.outer,
                inner: Some(index + 1),
            };
            let mime = MimePart::parse(part, path)?;
            match mime.kind()? {
                PartKind::Http => parse_http_response(&mime),
                PartKind::ChangeSet { .. } => Err(MultipartError::NestedTooDeep {
                    part: path,
                    offset: part.offset,
                }),
            }
        })
        .collect()
}

/// Status line, headers, blank line (optional when nothing follows), body.
fn parse_http_response(part: &MimePart<'_>) -> Result<PartResponse, MultipartError> {
    let message = part.content;
    let status_line_start = skip_blank_lines(message.bytes);
    let bad_status_line = |line: &[u8]| MultipartError::BadStatusLine {
        part: part.path,
        offset: message.offset + status_line_start,
        line: String::from_utf8_lossy(line.get(..80).unwrap_or(line)).into_owned(),
    };
    let (line, headers_start) =
        read_line(message.bytes, status_line_start).ok_or_else(|| bad_status_line(b""))?;
    let (status, reason) = parse_status_line(line).ok_or_else(|| bad_status_line(line))?;
    let (headers, body_start) = parse_headers(message, headers_start, part.path, HeadersEnd::BlankLineOrEnd)?;
    let body = message.bytes.get(body_start..).unwrap_or_default();
    let body = std::str::from_utf8(body).map_err(|error| MultipartError::BodyNotUtf8 {
        part: part.path,
        offset: message.offset + body_start + error.valid_up_to(),
    })?;
    let content_id = find_header(&part.headers, "Content-ID")
        .or_else(|| find_header(&headers, "Content-ID"))
        .map(str::to_owned);
    Ok(PartResponse {
        status,
        reason,
        headers,
        body: body.to_owned(),
        content_id,
    })
}

/// Where the first non-empty line starts (stray blank lines before a status line are tolerated).
fn skip_blank_lines(bytes: &[u8]) -> usize {
    let mut pos = 0;
    while let Some((line, next)) = read_line(bytes, pos) {
        if !line.is_empty() {
            break;
        }
        pos = next;
    }
    pos
}

/// `HTTP/1.1 204 No Content` → `(204, "No Content")`; `HTTP/1.0` is accepted, the reason may be empty.
fn parse_status_line(line: &[u8]) -> Option<(u16, String)> {
    let line = std::str::from_utf8(line).ok()?;
    let (version, rest) = line.split_once(' ')?;
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return None;
    }
    let rest = rest.trim_start_matches(' ');
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let status = code.parse().ok().filter(|status| *status >= 100)?;
    Some((status, reason.trim().to_owned()))
}

/// How a header block may end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeadersEnd {
    /// MIME part headers: a blank line is required.
    BlankLine,
    /// Inner HTTP headers: the part may end right after them (no body).
    BlankLineOrEnd,
}

/// Header lines from `start` up to the blank line; returns them and where the content starts.
fn parse_headers(
    chunk: Chunk<'_>,
    start: usize,
    part: PartPath,
    end: HeadersEnd,
) -> Result<(Vec<(String, String)>, usize), MultipartError> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = start;
    loop {
        let Some((line, next)) = read_line(chunk.bytes, pos) else {
            return match end {
                HeadersEnd::BlankLineOrEnd => Ok((headers, pos)),
                HeadersEnd::BlankLine => Err(MultipartError::UnterminatedHeaders {
                    part,
                    offset: chunk.offset + start,
                }),
            };
        };
        if line.is_empty() {
            return Ok((headers, next));
        }
        let offset = chunk.offset + pos;
        let text = std::str::from_utf8(line).map_err(|_| MultipartError::HeaderNotUtf8 { part, offset })?;
        let bad_line = || MultipartError::BadHeaderLine { part, offset };
        if text.starts_with([' ', '\t']) {
            // An obsolete folded continuation line: joined to the previous value.
            let (_, value) = headers.last_mut().ok_or_else(bad_line)?;
            value.push(' ');
            value.push_str(text.trim());
        } else {
            let (name, value) = text.split_once(':').ok_or_else(bad_line)?;
            let name = name.trim_end();
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(bad_line());
            }
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        pos = next;
    }
}

/// A `tchar` of RFC 9110: what a header name is made of.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DATAVERSE_REQUEST: &str = include_str!("../../tests/fixtures/batch/dataverse-request.txt");
    const DATAVERSE_RESPONSE: &str = include_str!("../../tests/fixtures/batch/dataverse-response.txt");
    const DATAVERSE_CONTINUE_ON_ERROR: &str =
        include_str!("../../tests/fixtures/batch/dataverse-response-continue-on-error.txt");
    const ODATA_RESPONSE: &str = include_str!("../../tests/fixtures/batch/odata-v4.01-response.txt");
    const FNO_RESPONSE: &str = include_str!("../../tests/fixtures/batch/fno-response.txt");

    /// The fixtures hold LF line ends, as their sources show them; on the wire lines end with CRLF.
    fn crlf(text: &str) -> String {
        text.replace('\n', "\r\n")
    }

    /// The fixture as written (LF) and as sent (CRLF): the decoder must read both.
    fn both_line_ends(text: &str) -> [String; 2] {
        [text.to_owned(), crlf(text)]
    }

    fn response(item: &ResponseItem) -> &PartResponse {
        match item {
            ResponseItem::Response(response) => response,
            ResponseItem::ChangeSet(_) => panic!("expected a lone response, got {item:?}"),
        }
    }

    fn change_set(item: &ResponseItem) -> &[PartResponse] {
        match item {
            ResponseItem::ChangeSet(responses) => responses,
            ResponseItem::Response(_) => panic!("expected a change set, got {item:?}"),
        }
    }

    fn json(body: &str) -> serde_json::Value {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn encodes_microsofts_dataverse_change_set_example_byte_for_byte() {
        // The page shows LF line ends; the fixture keeps them and is compared after LF -> CRLF. The
        // JSON bodies are therefore given with CRLF too (whitespace in JSON carries no meaning).
        let task = |n: u32| {
            PartRequest::new("POST", "/api/data/v9.2/tasks")
                .with_header("Content-Type", "application/json; type=entry")
                .with_body(format!(
                    "{{\r\n  \"subject\": \"Task {n} in batch\",\r\n  \"regardingobjectid_account_task@odata.bind\": \
                     \"accounts(00000000-0000-0000-0000-000000000001)\"\r\n}}"
                ))
                .with_content_id(n.to_string())
        };
        let items = [
            BatchItem::ChangeSet {
                boundary: "changeset_246e6bfe-89a4-4c77-b293-7a433f082e8a".into(),
                requests: vec![task(1), task(2), task(3)],
            },
            BatchItem::Request(PartRequest::new(
                "GET",
                "/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)/Account_Tasks?$select=subject",
            )),
        ];
        let body = encode_with("batch_22975cad-7f57-410d-be15-6363209367ea", &items, true);
        assert_eq!(body, crlf(DATAVERSE_REQUEST));
        assert!(!body.replace(CRLF, "").contains('\n'), "a bare LF was written");
    }

    #[test]
    fn decodes_microsofts_dataverse_change_set_response() {
        let content_type = "multipart/mixed; boundary=batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f";
        for body in both_line_ends(DATAVERSE_RESPONSE) {
            let items = decode(content_type, body.as_bytes()).unwrap();
            assert_eq!(items.len(), 2);
            let created = change_set(&items[0]);
            assert_eq!(created.len(), 3);
            for (response, (id, key)) in created.iter().zip([
                ("1", "e73ffc82-e292-ed11-aad1-000d3a9933c9"),
                ("2", "e83ffc82-e292-ed11-aad1-000d3a9933c9"),
                ("3", "e93ffc82-e292-ed11-aad1-000d3a9933c9"),
            ]) {
                assert_eq!((response.status, response.reason.as_str()), (204, "No Content"));
                assert_eq!(response.content_id.as_deref(), Some(id));
                assert_eq!(response.body, "");
                let location = format!("[Organization Uri]/api/data/v9.2/tasks({key})");
                assert_eq!(response.header("location"), Some(location.as_str()));
                assert_eq!(response.header("OData-EntityId"), Some(location.as_str()));
                assert_eq!(response.header("odata-version"), Some("4.0"));
            }
            let query = response(&items[1]);
            assert_eq!((query.status, query.reason.as_str()), (200, "OK"));
            assert_eq!(query.content_id, None);
            assert_eq!(
                query.header("Content-Type"),
                Some("application/json; odata.metadata=minimal; odata.streaming=true")
            );
            // The body is kept byte for byte, line ends included.
            let eol = if body.contains(CRLF) { CRLF } else { "\n" };
            assert!(body.contains(&format!("{eol}{eol}{}{eol}--batchresponse_", query.body)));
            assert!(query.body.starts_with('{') && query.body.ends_with('}'));
            let value = json(&query.body);
            assert_eq!(value["value"].as_array().unwrap().len(), 3);
            assert_eq!(value["value"][2]["subject"], "Task 3 in batch");
        }
    }

    #[test]
    fn decodes_microsofts_dataverse_continue_on_error_response() {
        let content_type = "multipart/mixed; boundary=\"batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139\"";
        for body in both_line_ends(DATAVERSE_CONTINUE_ON_ERROR) {
            let items = decode(content_type, body.as_bytes()).unwrap();
            let responses: Vec<_> = items.iter().map(response).collect();
            let statuses: Vec<_> = responses.iter().map(|r| r.status).collect();
            assert_eq!(statuses, [400, 204, 204]);
            let error = responses[0];
            assert_eq!(error.reason, "Bad Request");
            assert_eq!(
                error.header("REQ_ID"),
                Some("de4c5227-4a28-4ebd-8ced-3392ece1697b")
            );
            assert_eq!(json(&error.body)["error"]["code"], "0x80044331");
            assert!(!error.is_success() && responses[1].is_success());
            assert_eq!(responses[2].body, "");
        }
    }

    #[test]
    fn decodes_the_odata_specification_example_response() {
        // Its closing delimiter reads `--b_243234_25424_ef_892u748---`: the extra `-` is epilogue.
        let content_type = "multipart/mixed; boundary=b_243234_25424_ef_892u748";
        for body in both_line_ends(ODATA_RESPONSE) {
            let items = decode(content_type, body.as_bytes()).unwrap();
            assert_eq!(items.len(), 3);
            let customer = response(&items[0]);
            assert_eq!((customer.status, customer.reason.as_str()), (200, "OK"));
            assert_eq!(customer.header("Content-Length"), Some("###"));
            assert_eq!(
                customer.body,
                "<JSON representation of the Customer entity with key ALFKI>"
            );
            let changes = change_set(&items[1]);
            assert_eq!(changes.len(), 2);
            assert_eq!(
                (changes[0].status, changes[0].content_id.as_deref()),
                (201, Some("1"))
            );
            assert_eq!(
                changes[0].header("Location"),
                Some("http://host/service.svc/Customer('POIUY')")
            );
            assert_eq!(
                changes[0].body,
                "<JSON representation of the new Customer entity>"
            );
            assert_eq!(
                (changes[1].status, changes[1].content_id.as_deref()),
                (204, Some("2"))
            );
            assert_eq!((changes[1].headers.len(), changes[1].body.as_str()), (0, ""));
            let missing = response(&items[2]);
            assert_eq!((missing.status, missing.reason.as_str()), (404, "Not Found"));
            assert_eq!(missing.body, "<Error message>");
        }
    }

    #[test]
    fn decodes_an_fno_style_response() {
        let content_type = "multipart/mixed; boundary=\"batchresponse_5c1a7e2b-3f4d-4e8a-9b6c-0d2e4f6a8b1c\"";
        for body in both_line_ends(FNO_RESPONSE) {
            let items = decode(content_type, body.as_bytes()).unwrap();
            assert_eq!(items.len(), 2);
            let changes = change_set(&items[0]);
            let created = &changes[0];
            assert_eq!((created.status, created.content_id.as_deref()), (201, Some("1")));
            assert_eq!(created.header("etag"), Some("W/\"JzEsNTYzNzE0NDU3Nic=\""));
            let entity = json(&created.body);
            assert_eq!(
                (&entity["dataAreaId"], &entity["CustomerGroupId"]),
                (&"usmf".into(), &"90".into())
            );
            assert_eq!(
                (changes[1].status, changes[1].content_id.as_deref()),
                (204, Some("2"))
            );
            assert_eq!(changes[1].body, "");
            let query = response(&items[1]);
            assert_eq!(query.status, 200);
            assert_eq!(json(&query.body)["value"][0]["Description"], "Wholesale");
        }
    }

    #[test]
    fn a_failed_change_set_is_one_error_response() {
        let body = crlf(
            "--batchresponse_1\n\
             Content-Type: application/http\n\
             Content-Transfer-Encoding: binary\n\
             \n\
             HTTP/1.1 200 OK\n\
             Content-Type: application/json\n\
             \n\
             {\"value\":[]}\n\
             --batchresponse_1\n\
             Content-Type: application/http\n\
             Content-Transfer-Encoding: binary\n\
             \n\
             HTTP/1.1 400 Bad Request\n\
             Content-Type: application/json; odata.metadata=minimal\n\
             OData-Version: 4.0\n\
             \n\
             {\"error\":{\"code\":\"0x80040237\",\"message\":\"A record with matching key values already exists.\"}}\n\
             --batchresponse_1--\n",
        );
        let items = decode("multipart/mixed; boundary=batchresponse_1", body.as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
        let failed = response(&items[1]);
        assert_eq!((failed.status, failed.reason.as_str()), (400, "Bad Request"));
        assert_eq!(
            failed.header("content-type"),
            Some("application/json; odata.metadata=minimal")
        );
        assert_eq!(json(&failed.body)["error"]["code"], "0x80040237");
    }

    /// A response body of the same shape as `items`: a 204 (or 200 for a GET) per request, with its
    /// Content-ID echoed in the MIME part headers.
    fn synthesized_response(boundary: &str, items: &[BatchItem]) -> String {
        fn part(out: &mut String, request: &PartRequest) {
            out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
            if let Some(id) = &request.content_id {
                out.push_str(&format!("Content-ID: {id}\r\n"));
            }
            if request.method == "GET" {
                out.push_str(
                    "\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"value\":[]}\r\n",
                );
            } else {
                out.push_str("\r\nHTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\n\r\n\r\n");
            }
        }
        let mut out = String::new();
        for (i, item) in items.iter().enumerate() {
            out.push_str(&format!("--{boundary}\r\n"));
            match item {
                BatchItem::Request(request) => part(&mut out, request),
                BatchItem::ChangeSet { requests, .. } => {
                    let inner = format!("changesetresponse_{i}");
                    out.push_str(&format!(
                        "Content-Type: multipart/mixed; boundary={inner}\r\n\r\n"
                    ));
                    for request in requests {
                        out.push_str(&format!("--{inner}\r\n"));
                        part(&mut out, request);
                    }
                    out.push_str(&format!("--{inner}--\r\n"));
                }
            }
        }
        out.push_str(&format!("--{boundary}--\r\n"));
        out
    }

    #[test]
    fn round_trip_of_requests_and_a_response_of_the_same_shape() {
        let create = |id: &str| {
            PartRequest::new("POST", "CustomerGroups")
                .with_header("Content-Type", "application/json")
                .with_header("Prefer", "return=minimal")
                .with_body(format!("{{\"CustomerGroupId\":\"{id}\"}}"))
                .with_content_id(id)
        };
        let items = vec![
            BatchItem::Request(PartRequest::new("GET", "CustomerGroups?$top=1")),
            BatchItem::ChangeSet {
                boundary: "changeset_a".into(),
                requests: vec![
                    create("1"),
                    PartRequest::new("PATCH", "$1")
                        .with_header("If-Match", "*")
                        .with_body("{}")
                        .with_content_id("2"),
                ],
            },
            BatchItem::ChangeSet {
                boundary: "changeset_b".into(),
                requests: vec![PartRequest::new("DELETE", "CustomerGroups('9')").with_content_id("3")],
            },
        ];
        let request = encode("batch_r", &items);
        assert!(request.starts_with("--batch_r\r\nContent-Type: application/http\r\n"));
        assert!(request.contains("PATCH $1 HTTP/1.1\r\nIf-Match: *\r\n\r\n{}\r\n--changeset_a--\r\n"));
        assert!(request.contains("DELETE CustomerGroups('9') HTTP/1.1\r\n\r\n\r\n--changeset_b--"));
        assert!(request.ends_with("\r\n--batch_r--\r\n"));

        let body = synthesized_response("batchresponse_r", &items);
        let decoded = decode("multipart/mixed;boundary=batchresponse_r", body.as_bytes()).unwrap();
        assert_eq!(decoded.len(), items.len());
        for (item, answer) in items.iter().zip(&decoded) {
            match (item, answer) {
                (BatchItem::Request(request), ResponseItem::Response(response)) => {
                    assert_eq!(response.content_id, request.content_id);
                    assert_eq!(response.body, "{\"value\":[]}");
                }
                (BatchItem::ChangeSet { requests, .. }, ResponseItem::ChangeSet(responses)) => {
                    let sent: Vec<_> = requests.iter().map(|r| r.content_id.as_deref()).collect();
                    let got: Vec<_> = responses.iter().map(|r| r.content_id.as_deref()).collect();
                    assert_eq!(sent, got);
                    assert!(responses.iter().all(|r| r.status == 204 && r.body.is_empty()));
                }
                other => panic!("shape differs: {other:?}"),
            }
        }
    }

    #[test]
    fn an_empty_batch_is_just_the_closing_delimiter() {
        assert_eq!(encode("batch_x", &[]), "--batch_x--\r\n");
        assert_eq!(
            decode("multipart/mixed; boundary=batch_x", b"--batch_x--\r\n"),
            Ok(vec![])
        );
    }

    #[test]
    fn decoding_is_liberal_in_what_it_accepts() {
        // Preamble, transport padding, lower-case names, HTTP/1.0, a status without reason, a
        // Content-ID only in the inner headers, folded header, LF-only lines, delimiter-like text not
        // at a line start, a body ending in its own line break, an epilogue.
        let body = "This is a preamble.\n--b_1 \t\n\
                    content-type: Application/HTTP\n\
                    content-id: 7\n\
                    \n\
                    HTTP/1.0 201\n\
                    x-note: first\n  second\n\
                    \n\
                    text --b_1 and --b_1-- inside\n--b_1\n\
                    Content-Type: application/http\n\
                    \n\
                    \n\
                    HTTP/1.1 200 OK\n\
                    Content-ID: 8\n\
                    \n\
                    line\r\n\n\
                    --b_1--   \nepilogue\n--b_1\ngarbage";
        let items = decode(
            "Multipart/Mixed; charset=utf-8; BOUNDARY=\"b_1\"",
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(items.len(), 2);
        let first = response(&items[0]);
        assert_eq!((first.status, first.reason.as_str()), (201, ""));
        assert_eq!(first.content_id.as_deref(), Some("7"));
        assert_eq!(first.header("X-Note"), Some("first second"));
        assert_eq!(first.body, "text --b_1 and --b_1-- inside");
        let second = response(&items[1]);
        assert_eq!(second.content_id.as_deref(), Some("8"));
        assert_eq!(second.body, "line\r\n");
    }

    #[test]
    fn boundaries_are_read_from_quoted_and_token_parameters() {
        let cases = [
            ("multipart/mixed; boundary=abc", Some("abc")),
            ("multipart/mixed;boundary=abc;charset=x", Some("abc")),
            ("multipart/mixed; boundary=\"a;b \\\"c\"; x=1", Some("a;b \"c")),
            ("multipart/mixed; x=\"boundary=no\"; boundary=yes", Some("yes")),
            ("multipart/mixed; boundary=", None),
            ("multipart/mixed; boundary=\"\"", None),
            ("multipart/mixed", None),
        ];
        for (content_type, expected) in cases {
            assert_eq!(
                media_type_and_boundary(content_type).1.as_deref(),
                expected,
                "{content_type}"
            );
        }
    }

    #[test]
    fn malformed_inputs_are_errors_that_say_what_and_where() {
        let ct = "multipart/mixed; boundary=b";
        let part = |outer, inner| PartPath { outer, inner };
        let cases: [(&str, &str, MultipartError); 11] = [
            (
                "application/json",
                "",
                MultipartError::NotMultipart {
                    content_type: "application/json".into(),
                },
            ),
            (
                "multipart/mixed",
                "",
                MultipartError::NoBoundary {
                    content_type: "multipart/mixed".into(),
                },
            ),
            (
                ct,
                "no parts",
                MultipartError::NoDelimiter {
                    boundary: "b".into(),
                    offset: 0,
                },
            ),
            (
                ct,
                "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
                MultipartError::MissingClosingDelimiter {
                    boundary: "b".into(),
                    offset: 58,
                },
            ),
            (
                ct,
                "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\nHTTP/1.1 204 x\r\n--b--",
                MultipartError::MissingClosingDelimiter {
                    boundary: "c".into(),
                    offset: 71,
                },
            ),
            (
                ct,
                "--b\r\nContent-Type: application/http\r\n\r\nHTTP/2 200 OK\r\n\r\n--b--",
                MultipartError::BadStatusLine {
                    part: part(1, None),
                    offset: 39,
                    line: "HTTP/2 200 OK".into(),
                },
            ),
            (
                ct,
                "--b\r\n\r\nHTTP/1.1 2000 OK\r\n--b\r\nno header\r\n\r\n--b--",
                MultipartError::BadStatusLine {
                    part: part(1, None),
                    offset: 7,
                    line: "HTTP/1.1 2000 OK".into(),
                },
            ),
            (
                ct,
                "--b\r\n\r\nHTTP/1.1 200 OK\r\n\r\n--b\r\nno header\r\n\r\n--b--",
                MultipartError::BadHeaderLine {
                    part: part(2, None),
                    offset: 31,
                },
            ),
            (
                ct,
                "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--",
                MultipartError::UnexpectedContentType {
                    part: part(1, None),
                    offset: 5,
                    content_type: "text/plain".into(),
                },
            ),
            (
                ct,
                "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\
                 Content-Type: multipart/mixed; boundary=d\r\n\r\n--d--\r\n--c--\r\n--b--",
                MultipartError::NestedTooDeep {
                    part: part(1, Some(1)),
                    offset: 55,
                },
            ),
            (
                ct,
                "--b\r\nContent-Type: application/http\r\n--b--",
                MultipartError::UnterminatedHeaders {
                    part: part(1, None),
                    offset: 5,
                },
            ),
        ];
        for (content_type, body, expected) in cases {
            assert_eq!(decode(content_type, body.as_bytes()), Err(expected), "{body:?}");
        }
    }

    #[test]
    fn byte_errors_point_at_the_bad_byte() {
        let mut body = b"--b\r\n\r\nHTTP/1.1 200 OK\r\n\r\nok \xff\r\n--b--".to_vec();
        let error = decode("multipart/mixed; boundary=b", &body).unwrap_err();
        let expected = MultipartError::BodyNotUtf8 {
            part: PartPath {
                outer: 1,
                inner: None,
            },
            offset: 29,
        };
        assert_eq!(error, expected);
        assert_eq!(
            error.to_string(),
            "part 1: body is not UTF-8 (invalid byte at 29)"
        );
        body = b"--b\r\n\r\nHTTP/1.1 200 OK\r\nX-\xfe: 1\r\n\r\n--b--".to_vec();
        let error = decode("multipart/mixed; boundary=b", &body).unwrap_err();
        assert_eq!(
            error,
            MultipartError::HeaderNotUtf8 {
                part: PartPath {
                    outer: 1,
                    inner: None
                },
                offset: 24
            }
        );
    }

    #[test]
    fn a_thousand_requests_encode_and_decode_in_linear_time() {
        let requests: Vec<_> = (0..1000)
            .map(|i| {
                PartRequest::new("PATCH", format!("accounts({i})"))
                    .with_header("Content-Type", "application/json")
                    .with_body(format!("{{\"name\":\"account {i}\"}}"))
                    .with_content_id(i.to_string())
            })
            .collect();
        let items = [BatchItem::ChangeSet {
            boundary: "changeset_big".into(),
            requests,
        }];
        let encoded = encode("batch_big", &items);
        assert_eq!(encoded.matches("--changeset_big\r\n").count(), 1000);
        let response = synthesized_response("batchresponse_big", &items);
        let decoded = decode("multipart/mixed; boundary=batchresponse_big", response.as_bytes()).unwrap();
        let responses = change_set(&decoded[0]);
        assert_eq!(responses.len(), 1000);
        assert_eq!(responses[999].content_id.as_deref(), Some("999"));
    }

    fn mutate(base: &[u8], cut: prop::sample::Index, flips: &[(prop::sample::Index, u8)]) -> Vec<u8> {
        let mut bytes = base.to_vec();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = *byte;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            content_type in "[ -~]{0,60}",
        ) {
            let _ = decode(&content_type, &body);
            let mut framed = b"--b\r\n".to_vec();
            framed.extend_from_slice(&body);
            let _ = decode("multipart/mixed; boundary=b", &framed);
        }

        #[test]
        fn mutated_responses_never_panic(
            which in 0usize..3,
            crlf_line_ends in any::<bool>(),
            cut in any::<prop::sample::Index>(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        ) {
            let (content_type, fixture) = [
                ("multipart/mixed; boundary=batchresponse_5c1a7e2b-3f4d-4e8a-9b6c-0d2e4f6a8b1c", FNO_RESPONSE),
                ("multipart/mixed; boundary=b_243234_25424_ef_892u748", ODATA_RESPONSE),
                ("multipart/mixed; boundary=batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f", DATAVERSE_RESPONSE),
            ][which];
            let text = if crlf_line_ends { crlf(fixture) } else { fixture.to_owned() };
            let _ = decode(content_type, &mutate(text.as_bytes(), cut, &flips));
        }
    }
}
