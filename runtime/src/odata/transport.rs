//! The one HTTP transport of the project: every request to a service (`fetch`, the client, the engine)
//! goes through [`Transport::send`], which adds the token and the OData headers, holds the concurrency
//! limit and the optional request pace, bounds the response size and the time spent, and retries.
//!
//! Retries are a classifier plus a strategy (as in smithy-rs): 429 and 503 are retried always (the
//! service did not act on the request); 502/504, timeouts and broken connections only for idempotent
//! requests (a create that timed out may have been applied, so it is reported as "outcome unknown",
//! never sent twice); connection failures always (nothing was sent); other statuses never. The wait is
//! exponential with jitter, or exactly what `Retry-After` asks, and a `Retry-After` holds back every
//! request of this transport (one identity) until it has passed: the service's penalty window is
//! never entered again. An overall deadline bounds a call, retries included.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::Instrument;

use super::error::{
    Error, RequestLine, ServiceError, ServiceKind, TransportKind, clean_text, parse_error_body,
};
use crate::auth::{Credentials, TokenProvider};

/// How a transport behaves. `Default` suits Dataverse and F&O.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Which service this is (hints in errors, protocol details).
    pub kind: ServiceKind,
    /// Requests in flight at once for this identity (Dataverse allows 52 per user).
    pub max_in_flight: usize,
    /// An optional steady pace, in requests per second.
    pub requests_per_second: Option<NonZeroU32>,
    /// Time allowed for one attempt (connect, send, answer and body).
    pub timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for a whole call, retries and waits included.
    pub deadline: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one is an error.
    pub max_retry_after: Duration,
    /// The largest response body read (bytes); larger answers are refused.
    pub max_response_bytes: u64,
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            kind: ServiceKind::Other,
            max_in_flight: 52,
            requests_per_second: None,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(600),
            retries: 5,
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            max_response_bytes: 256 * 1024 * 1024,
            user_agent: concat!("dualsync/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// One request, before the transport adds the token and the OData headers.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Option<Vec<u8>>,
    /// Sending it twice has the effect of sending it once (GET, PUT, PATCH, DELETE, an upsert batch).
    pub idempotent: bool,
    /// A size limit for this request's answer instead of the transport's.
    pub max_response_bytes: Option<u64>,
}

impl Request {
    /// A request; idempotent unless the method is POST.
    pub fn new(method: reqwest::Method, url: impl Into<String>) -> Self {
        let idempotent = method != reqwest::Method::POST;
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            idempotent,
            max_response_bytes: None,
        }
    }

    /// A GET.
    pub fn get(url: impl Into<String>) -> Self {
        Request::new(reqwest::Method::GET, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A JSON body.
    pub fn json(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.headers
            .push((reqwest::header::CONTENT_TYPE, "application/json".to_string()));
        self.body = Some(body.into());
        self
    }

    /// Marks the request as safe (or not) to send again after a timeout.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Overrides the response size limit.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    fn line(&self) -> RequestLine {
        RequestLine {
            method: self.method.to_string(),
            url: clean_text(&self.url, &[], 500),
        }
    }
}

/// A successful answer (2xx or 304).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub request: RequestLine,
    pub attempts: u32,
}

impl Response {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a transport has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Attempts sent (retries included).
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Answers with status 429.
    pub throttled: u64,
    /// The most requests ever in flight at once.
    pub peak_in_flight: usize,
}

type Pace = governor::DefaultDirectRateLimiter;

struct Inner {
    http: reqwest::Client,
    tokens: TokenProvider,
    resource: String,
    config: TransportConfig,
    limit: Semaphore,
    pace: Option<Pace>,
    /// No request is sent before this instant (a `Retry-After` of the service).
    hold_until: std::sync::Mutex<Option<Instant>>,
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// The HTTP transport of one identity against one service host. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("resource", &self.inner.resource)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The origin (`scheme://host[:port]`) of a URL: the resource a token is requested for.
pub fn origin(url: &str) -> Result<String, Error> {
    let bad = |reason: &str| {
        Error::Invalid(format!(
            "invalid service URL `{}`: {reason}",
            clean_text(url, &[], 200)
        ))
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected http:// or https://"))?;
    if scheme != "https" && scheme != "http" {
        return Err(bad("expected http:// or https://"));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if host.contains('@') {
        return Err(bad(
            "user information in the URL is not allowed (credentials go in the settings)",
        ));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the host has spaces or control characters"));
    }
    Ok(format!("{scheme}://{host}"))
}

impl Transport {
    /// A transport for the service at `service_url` (its origin is the token's resource).
    pub fn new(service_url: &str, credentials: Credentials, config: TransportConfig) -> Result<Self, Error> {
        let resource = origin(service_url)?;
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            // Redirects could carry the bearer token elsewhere; services do not redirect API calls.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Invalid(format!("cannot set up HTTP: {e}")))?;
        let tokens = TokenProvider::new(credentials, http.clone());
        let pace = config
            .requests_per_second
            .map(|n| governor::RateLimiter::direct(governor::Quota::per_second(n)));
        Ok(Transport {
            inner: Arc::new(Inner {
                http,
                tokens,
                resource,
                limit: Semaphore::new(config.max_in_flight.max(1)),
                pace,
                config,
                hold_until: std::sync::Mutex::new(None),
                requests: AtomicU64::new(0),
                retries: AtomicU64::new(0),
                throttled: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                peak_in_flight: AtomicUsize::new(0),
            }),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// Counters since the transport was made.
    pub fn stats(&self) -> TransportStats {
        TransportStats {
            requests: self.inner.requests.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
            throttled: self.inner.throttled.load(Ordering::Relaxed),
            peak_in_flight: self.inner.peak_in_flight.load(Ordering::Relaxed),
        }
    }

    /// Sends `request` with retries; `Ok` only for 2xx and 304, every other answer is an [`Error`].
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        let span = tracing::debug_span!("odata", method = %request.method, url = %request.line().url);
        self.send_with_retries(request).instrument(span).await
    }

    async fn send_with_retries(&self, request: Request) -> Result<Response, Error> {
        let config = &self.inner.config;
        let started = Instant::now();
        let deadline = started + config.deadline;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(config.min_backoff)
            .with_max_delay(config.max_backoff)
            .with_max_times(config.retries as usize)
            .with_jitter()
            .build();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            self.wait_for_hold(&request, deadline, attempts).await?;
            if let Some(pace) = &self.inner.pace {
                pace.until_ready().await;
            }
            if attempts > 1 {
                self.inner.retries.fetch_add(1, Ordering::Relaxed);
            }
            let (failure, retry_after) = match self.attempt(&request, attempts, deadline).await {
                Ok(response) => return Ok(response),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Retriable(e, retry_after)) => (e, retry_after),
            };
            let Some(delay) = backoff.next() else {
                return Err(failure);
            };
            let delay = match retry_after {
                Some(wait) if wait > config.max_retry_after => {
                    return Err(Error::WaitTooLong {
                        request: request.line(),
                        wait,
                        limit: config.max_retry_after,
                    });
                }
                Some(wait) => wait,
                None => delay,
            };
            if Instant::now() + delay > deadline {
                return Err(Error::Deadline {
                    request: request.line(),
                    deadline: config.deadline,
                    attempts,
                    last: failure.to_string(),
                });
            }
            tracing::warn!(attempt = attempts, delay_ms = delay.as_millis() as u64, error = %failure, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// Waits while the service's `Retry-After` window is open.
    async fn wait_for_hold(&self, request: &Request, deadline: Instant, attempts: u32) -> Result<(), Error> {
        let until = self.inner.hold_until.lock().ok().and_then(|h| *h);
        if let Some(until) = until
            && until > Instant::now()
        {
            if until > deadline {
                return Err(Error::Deadline {
                    request: request.line(),
                    deadline: self.inner.config.deadline,
                    attempts: attempts - 1,
                    last: "the service asked to wait beyond the deadline (Retry-After)".into(),
                });
            }
            tokio::time::sleep_until(until).await;
        }
        Ok(())
    }

    fn hold(&self, wait: Duration) {
        if let Ok(mut hold) = self.inner.hold_until.lock() {
            let until = Instant::now() + wait;
            if hold.is_none_or(|h| h < until) {
                *hold = Some(until);
            }
        }
    }

    async fn attempt(
        &self,
        request: &Request,
        attempts: u32,
        deadline: Instant,
    ) -> Result<Response, Attempt> {
        let inner = &self.inner;
        let line = request.line();
        let _permit = inner
            .limit
            .acquire()
            .await
            .map_err(|_| Attempt::Final(Error::Invalid("the transport was shut down".into())))?;
        // Another request's answer may have opened a `Retry-After` window while this one waited
        // for its turn: nothing is sent inside it.
        self.wait_for_hold(request, deadline, attempts)
            .await
            .map_err(Attempt::Final)?;
        let token = inner
            .tokens
            .token(&inner.resource)
            .await
            .map_err(|e| Attempt::Final(e.into()))?;
        let secrets: Vec<&str> = token.as_ref().map(|t| vec![t.expose()]).unwrap_or_default();
        let remaining = deadline.saturating_duration_since(Instant::now());
        let timeout = inner.config.timeout.min(remaining).max(Duration::from_millis(1));
        let mut builder = inner
            .http
            .request(request.method.clone(), &request.url)
            .timeout(timeout)
            .header("OData-MaxVersion", "4.0")
            .header("OData-Version", "4.0");
        if !request.headers.iter().any(|(n, _)| n == reqwest::header::ACCEPT) {
            builder = builder.header(reqwest::header::ACCEPT, "application/json");
        }
        for (name, value) in &request.headers {
            let value = HeaderValue::from_str(value).map_err(|_| {
                Attempt::Final(Error::Invalid(format!(
                    "{line}: header `{name}` has characters HTTP does not allow"
                )))
            })?;
            builder = builder.header(name.clone(), value);
        }
        if let Some(token) = &token {
            builder = builder.bearer_auth(token.expose());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        inner.requests.fetch_add(1, Ordering::Relaxed);
        let now = inner.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        inner.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        let result = self.exchange(builder, request, &line, attempts, &secrets).await;
        inner.in_flight.fetch_sub(1, Ordering::Relaxed);
        result
    }

    async fn exchange(
        &self,
        builder: reqwest::RequestBuilder,
        request: &Request,
        line: &RequestLine,
        attempts: u32,
        secrets: &[&str],
    ) -> Result<Response, Attempt> {
        let transport_error = |e: reqwest::Error| {
            let kind = if e.is_connect() {
                TransportKind::Connect
            } else if e.is_timeout() {
                TransportKind::Timeout
            } else if e.is_builder() {
                TransportKind::Request
            } else {
                TransportKind::Broken
            };
            let outcome_unknown = !request.idempotent && kind != TransportKind::Connect;
            let error = Error::Transport {
                request: line.clone(),
                kind,
                message: describe(&e, secrets),
                attempts,
                outcome_unknown,
            };
            if kind == TransportKind::Request || outcome_unknown {
                Attempt::Final(error)
            } else {
                Attempt::Retriable(error, None)
            }
        };
        let mut response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        tracing::debug!(status, attempt = attempts, "answer");
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let limit = request
            .max_response_bytes
            .unwrap_or(self.inner.config.max_response_bytes);
        let too_large = || {
            Attempt::Final(Error::TooLarge {
                request: line.clone(),
                limit,
            })
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if (200..300).contains(&status) || status == 304 {
            return Ok(Response {
                status,
                headers: response.headers().clone(),
                body,
                request: line.clone(),
                attempts,
            });
        }
        if status == 429 {
            self.inner.throttled.fetch_add(1, Ordering::Relaxed);
            if let Some(wait) = retry_after {
                self.hold(wait.min(self.inner.config.max_retry_after));
            }
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let error = status_error(
            self.inner.config.kind,
            Answer {
                status,
                content_type,
                body: &body,
                retry_after,
            },
            line,
            attempts,
            secrets,
        );
        let retriable = match status {
            // The service did not act on the request.
            429 | 503 => true,
            // A gateway lost the answer: the request may have been applied.
            502 | 504 => request.idempotent,
            _ => false,
        };
        if retriable {
            Err(Attempt::Retriable(error, retry_after))
        } else {
            Err(Attempt::Final(error))
        }
    }
}

/// An error answer, as received (also the parts of a `$batch` answer).
pub(crate) struct Answer<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub retry_after: Option<Duration>,
}

/// The typed error for an error answer.
pub(crate) fn status_error(
    kind: ServiceKind,
    answer: Answer<'_>,
    line: &RequestLine,
    attempts: u32,
    secrets: &[&str],
) -> Error {
    let Answer {
        status,
        content_type,
        body,
        retry_after,
    } = answer;
    let parsed = parse_error_body(body, secrets);
    let looks_html = content_type.contains("html")
        || body.trim_ascii_start().starts_with(b"<!")
        || body.trim_ascii_start().starts_with(b"<html");
    if parsed.is_none() && looks_html && !matches!(status, 401 | 403 | 404 | 429) {
        return Error::NotOData {
            request: line.clone(),
            status,
            what: "an HTML page came back (a sign-in page, a portal or a proxy?)".into(),
        };
    }
    let odata = parsed.is_some();
    let parsed = parsed.unwrap_or(super::error::ODataErrorBody {
        code: None,
        message: String::new(),
        infolog: Vec::new(),
    });
    let error = Box::new(ServiceError {
        request: line.clone(),
        status,
        code: parsed.code,
        message: parsed.message,
        infolog: parsed.infolog,
        retry_after,
        attempts,
        kind,
        odata,
    });
    if status == 412 {
        Error::Conflict(error)
    } else {
        Error::Service(error)
    }
}

enum Attempt {
    /// Not worth repeating.
    Final(Error),
    /// Worth repeating, after the service's `Retry-After` if it gave one.
    Retriable(Error, Option<Duration>),
}

/// A reqwest error in words, without the URL (already in the message) and without secrets.
fn describe(e: &reqwest::Error, secrets: &[&str]) -> String {
    use std::error::Error as _;
    let mut text = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        source = s.source();
    }
    if text.is_empty() && !e.is_timeout() {
        text = e.to_string();
    }
    clean_text(&text, secrets, 300)
}

/// `Retry-After` in seconds (integer or decimal) or as an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && (0.0..1e9).contains(&seconds))
            .then(|| Duration::from_secs_f64(seconds));
    }
    let date = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = date - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-3"), None);
        assert_eq!(parse_retry_after("1e300"), None);
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://contoso.crm.dynamics.com/api/data/v9.2/").unwrap(),
            "https://contoso.crm.dynamics.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/data/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(origin("contoso.crm.dynamics.com").is_err());
        assert!(origin("ftp://x/").is_err());
        assert!(origin("https://user:pw@x/").is_err());
    }
}
