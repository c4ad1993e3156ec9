//! One error type for everything that talks HTTP: what the service said (status, its error code and
//! message, F&O's infolog, `Retry-After`), what the transport saw (timeouts, resets, size limits) and
//! which request it was. Text that came from outside is cleaned before it is kept: control characters
//! are escaped (a server cannot clear the terminal or forge output) and known secrets are redacted.

use std::fmt;
use std::time::Duration;

use crate::auth::AuthError;

/// Which kind of service a client talks to; decides hints and a few protocol rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// Microsoft Dataverse Web API (`/api/data/v9.2/`).
    Dataverse,
    /// Dynamics 365 Finance & Operations OData (`/data/`).
    FinOps,
    /// Any other OData v4 service.
    Other,
}

impl ServiceKind {
    fn unauthorized_hint(self) -> &'static str {
        match self {
            ServiceKind::Dataverse => {
                "Check the tenant and client id, and that the environment has an application user for this app registration (Power Platform admin center > Environment > Settings > Application users)."
            }
            ServiceKind::FinOps => {
                "Check the tenant and client id, and that the app is registered in Finance & Operations (System administration > Setup > Microsoft Entra applications) with a user."
            }
            ServiceKind::Other => "Check the credentials.",
        }
    }

    fn forbidden_hint(self) -> &'static str {
        match self {
            ServiceKind::Dataverse => {
                "Give the application user a security role that may read metadata (for example System Customizer)."
            }
            ServiceKind::FinOps => {
                "Give the user mapped to the Entra application a role that may read data entities."
            }
            ServiceKind::Other => "Check the identity's permissions.",
        }
    }

    fn not_found_hint(self) -> &'static str {
        match self {
            ServiceKind::Dataverse => {
                "Check the URL: the Dataverse Web API root looks like https://<org>.crm.dynamics.com/api/data/v9.2/ (organization URL and API version)."
            }
            ServiceKind::FinOps => {
                "Check the URL: the F&O OData root looks like https://<environment>.operations.dynamics.com/data/."
            }
            ServiceKind::Other => "Check the service URL.",
        }
    }
}

/// The request an error belongs to: method and URL (never headers or bodies, which may hold secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    pub url: String,
}

impl fmt::Display for RequestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

/// What a service answered when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub request: RequestLine,
    pub status: u16,
    /// The service's error code (Dataverse `0x80072322`), if it sent one.
    pub code: Option<String>,
    /// The service's message (cleaned), or "" when it sent none.
    pub message: String,
    /// F&O infolog lines from `innererror` (cleaned), in order.
    pub infolog: Vec<String>,
    /// How long the service asked to wait.
    pub retry_after: Option<Duration>,
    pub attempts: u32,
    pub kind: ServiceKind,
    /// The body was an OData error object.
    pub odata: bool,
}

impl ServiceError {
    fn reason(&self) -> &'static str {
        match self.status {
            400 => " Bad Request",
            401 => " Unauthorized",
            403 => " Forbidden",
            404 => " Not Found",
            405 => " Method Not Allowed",
            409 => " Conflict",
            412 => " Precondition Failed",
            413 => " Payload Too Large",
            429 => " Too Many Requests",
            500 => " Internal Server Error",
            502 => " Bad Gateway",
            503 => " Service Unavailable",
            504 => " Gateway Timeout",
            _ => "",
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self.status {
            401 => Some(self.kind.unauthorized_hint()),
            403 => Some(self.kind.forbidden_hint()),
            // A 404 with an OData error is a missing record; without one, no service is there.
            404 if !self.odata => Some(self.kind.not_found_hint()),
            _ => None,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}{}", self.request, self.status, self.reason())?;
        match self.status {
            401 if self.message.is_empty() => write!(f, ": the service did not accept the token")?,
            403 if self.message.is_empty() => {
                write!(f, ": the token is valid but its identity may not do this")?
            }
            404 if !self.odata => write!(f, ": no OData service there")?,
            _ => {}
        }
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        for line in &self.infolog {
            write!(f, "\n  infolog: {line}")?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        if let Some(hint) = self.hint() {
            write!(f, ". {hint}")?;
        }
        Ok(())
    }
}

/// What went wrong on the way, before any answer could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made (nothing was sent).
    Connect,
    /// No answer within the per-request timeout.
    Timeout,
    /// The connection broke while sending or receiving.
    Broken,
    /// The request could not be built.
    Request,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Broken => "the connection broke",
            TransportKind::Request => "invalid request",
        })
    }
}

/// Any failure of an OData call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service answered with an error status.
    #[error("{0}")]
    Service(Box<ServiceError>),
    /// `If-Match` did not match (HTTP 412): the record changed since it was read (or, with
    /// `If-None-Match: *`, it already exists).
    #[error("{0} (the record was changed or created by someone else)")]
    Conflict(Box<ServiceError>),
    /// The answer was not OData (an HTML sign-in page, a proxy's error page).
    #[error("{request}: HTTP {status}: not an OData answer: {what}")]
    NotOData {
        request: RequestLine,
        status: u16,
        what: String,
    },
    /// The request did not get an answer.
    #[error("{request}: {kind}{detail} (after {attempts} attempt(s)){unknown}",
        detail = if message.is_empty() { String::new() } else { format!(": {message}") },
        unknown = if *outcome_unknown { "; the request may have been applied: not retried because it is not idempotent" } else { "" })]
    Transport {
        request: RequestLine,
        kind: TransportKind,
        message: String,
        attempts: u32,
        /// The request was sent and may have been applied.
        outcome_unknown: bool,
    },
    /// The call's overall deadline passed (retries included).
    #[error("{request}: no success within the deadline of {} s ({attempts} attempt(s)); last: {last}", deadline.as_secs())]
    Deadline {
        request: RequestLine,
        deadline: Duration,
        attempts: u32,
        last: String,
    },
    /// The answer was larger than the limit.
    #[error(
        "{request}: the response is larger than the limit of {limit} bytes (raise it with the size limit setting if it is expected)"
    )]
    TooLarge { request: RequestLine, limit: u64 },
    /// The service asked to wait longer than allowed.
    #[error("{request}: the service asks to wait {} s (Retry-After), longer than the {} s allowed", wait.as_secs(), limit.as_secs())]
    WaitTooLong {
        request: RequestLine,
        wait: Duration,
        limit: Duration,
    },
    /// The token could not be had.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The answer could not be read as what was asked for.
    #[error("{request}: cannot read the response: {message}")]
    Decode { request: RequestLine, message: String },
    /// A Dataverse change-tracking delta link is no longer valid: read the table in full again.
    #[error("{0} (the change-tracking delta link expired: read the table in full again)")]
    DeltaExpired(Box<ServiceError>),
    /// A request of a change set that failed as a whole: it was rolled back, not applied.
    #[error("{request}: rolled back because its change set failed: {cause}")]
    RolledBack { request: RequestLine, cause: String },
    /// A request of a batch that the service did not run (an earlier one failed without
    /// `continue-on-error`).
    #[error("{request}: not run: an earlier request of the batch failed")]
    NotExecuted { request: RequestLine },
    /// The call was refused before sending (a batch over the limit, a key that does not fit).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The HTTP status the service answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Service(e) | Error::Conflict(e) | Error::DeltaExpired(e) => Some(e.status),
            Error::NotOData { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's error details, if it answered with an error.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) | Error::Conflict(e) | Error::DeltaExpired(e) => Some(e),
            _ => None,
        }
    }

    /// The record (or resource) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A concurrency conflict (`If-Match` / `If-None-Match` failed).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }

    /// Worth trying again later (throttling, unavailability, timeouts): the engine's retry queue uses
    /// this; the transport has already retried within its own budget.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Service(e) => matches!(e.status, 408 | 429 | 500 | 502 | 503 | 504),
            Error::NotOData { status, .. } => matches!(status, 502..=504),
            Error::Transport { outcome_unknown, .. } => !outcome_unknown,
            Error::Deadline { .. } | Error::RolledBack { .. } | Error::NotExecuted { .. } => true,
            _ => false,
        }
    }
}

/// Escapes control characters (C0, DEL, C1, bidi controls) so outside text cannot act on a terminal,
/// removes each secret in `secrets`, and shortens the text to `max` characters.
pub fn clean_text(text: &str, secrets: &[&str], max: usize) -> String {
    let mut redacted = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if redacted.contains(secret) {
            redacted = redacted.replace(secret, "[redacted]");
        }
    }
    let mut out = String::with_capacity(redacted.len().min(max + 16));
    for (count, c) in redacted.chars().enumerate() {
        if count >= max {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The error object of an OData error body, if the body is one: code, message and infolog.
pub(crate) struct ODataErrorBody {
    pub code: Option<String>,
    pub message: String,
    pub infolog: Vec<String>,
}

/// Reads `{"error":{"code","message","innererror":{..}}}` (both services' shape; F&O puts its infolog
/// in `innererror.message`, nested `internalexception`s included).
pub(crate) fn parse_error_body(body: &[u8], secrets: &[&str]) -> Option<ODataErrorBody> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?.as_object()?;
    let code = error
        .get("code")
        .and_then(|c| match c {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|c| !c.trim().is_empty())
        .map(|c| clean_text(&c, secrets, 64));
    let message = match error.get("message") {
        Some(serde_json::Value::String(s)) => s.clone(),
        // OData 4.0 JSON (and some older services): {"message":{"lang":..,"value":..}}.
        Some(serde_json::Value::Object(m)) => {
            m.get("value").and_then(|v| v.as_str()).unwrap_or("").to_string()
        }
        _ => String::new(),
    };
    let mut infolog = Vec::new();
    let mut inner = error.get("innererror");
    let mut depth = 0;
    while let Some(object) = inner.and_then(|v| v.as_object())
        && depth < 8
    {
        if let Some(text) = object.get("message").and_then(|m| m.as_str()) {
            infolog.extend(infolog_lines(text, secrets));
        }
        inner = object.get("internalexception");
        depth += 1;
    }
    infolog.dedup();
    infolog.truncate(50);
    Some(ODataErrorBody {
        code,
        message: clean_text(&message, secrets, 2000),
        infolog,
    })
}

/// F&O writes the infolog into the inner message: `Write failed for table row of type 'X'. Infolog:
/// Warning: ...; Error: ...`, sometimes one entry per line.
fn infolog_lines(text: &str, secrets: &[&str]) -> Vec<String> {
    let tail = match text.find("Infolog:") {
        Some(at) => &text[at + "Infolog:".len()..],
        None => text,
    };
    tail.split(['\n', '\r', ';'])
        .map(|line| clean_text(line.trim().trim_start_matches('.').trim(), secrets, 500))
        .filter(|line| !line.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_cleaned() {
        assert_eq!(
            clean_text("ok\x1b[2J\x1b[1;1Hall good\u{202e}", &[], 100),
            "ok\\u{1b}[2J\\u{1b}[1;1Hall good\\u{202e}"
        );
        assert_eq!(
            clean_text(
                "Bearer tok-123456 and client_secret=s3cr3t",
                &["tok-123456", "s3cr3t"],
                100
            ),
            "Bearer [redacted] and client_secret=[redacted]"
        );
        assert_eq!(clean_text("abcdef", &[], 3), "abc…");
    }

    #[test]
    fn fo_infolog_is_read() {
        let body = br#"{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value 'X' in field 'Customer group' is not found in the related table 'Customer groups'.; Error: Write failed.","type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException","stacktrace":""}}}"#;
        let parsed = parse_error_body(body, &[]).unwrap();
        assert_eq!(parsed.code, None);
        assert_eq!(parsed.message, "An error has occurred.");
        assert_eq!(
            parsed.infolog,
            [
                "Warning: The value 'X' in field 'Customer group' is not found in the related table 'Customer groups'.",
                "Error: Write failed."
            ]
        );
    }

    #[test]
    fn dataverse_errors_are_read() {
        let body = br#"{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}"#;
        let parsed = parse_error_body(body, &[]).unwrap();
        assert_eq!(parsed.code.as_deref(), Some("0x80072322"));
        assert!(parsed.message.starts_with("Number of requests"));
        assert!(parse_error_body(b"<html>", &[]).is_none());
        assert!(parse_error_body(br#"{"error":"x"}"#, &[]).is_none());
    }
}
