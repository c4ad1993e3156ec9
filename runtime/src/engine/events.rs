//! The endpoint F&O data events are POSTed to (business events over HTTPS, or a relay in front of
//! it): each event is checked, queued durably, and only then acknowledged, so an event is either in
//! the queue or F&O sends it again. Answers are fast: nothing is written to a service here.
//!
//! An event is a JSON object (or an array of them) with `EntityName`, `Operation`
//! (`Create`/`Update`/`Delete`), `LegalEntity` (the company), `Record` (the record as the entity's
//! OData JSON) and optionally `EventId` and `ControlNumber`. When a shared secret is set, a request
//! must carry it in the `X-Dualsync-Key` header or the `code` query parameter (Azure Functions'
//! convention), compared in constant time.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use super::spec::Object;
use super::{Engine, EngineError};

/// The largest request body accepted.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// One data event, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DataEvent {
    pub entity: String,
    pub delete: bool,
    pub company: Option<String>,
    pub record: Object,
    pub event_id: Option<String>,
}

/// Why an event was refused (answered with 400, and the text says which event and what).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {index}: {message}")]
pub struct EventError {
    pub index: usize,
    pub message: String,
}

fn text(object: &Object, name: &str) -> Option<String> {
    object.get(name).and_then(Value::as_str).map(str::to_string)
}

/// Reads a request body of events.
pub fn parse_events(body: &[u8]) -> Result<Vec<DataEvent>, EventError> {
    let value = crate::json::parse_strict(body).map_err(|e| EventError {
        index: 0,
        message: format!("not JSON: {e}"),
    })?;
    let list = match value {
        Value::Array(list) => list,
        Value::Object(_) => vec![value],
        _ => {
            return Err(EventError {
                index: 0,
                message: "expected an event object or an array of them".into(),
            });
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, event) in list.into_iter().enumerate() {
        let fail = |message: String| EventError { index, message };
        let Value::Object(event) = event else {
            return Err(fail("not an object".into()));
        };
        let entity = text(&event, "EntityName").ok_or_else(|| fail("no `EntityName`".into()))?;
        if entity.is_empty() || entity.len() > 256 {
            return Err(fail("`EntityName` is empty or too long".into()));
        }
        let operation = text(&event, "Operation").unwrap_or_else(|| "Update".into());
        let delete = match operation.to_ascii_lowercase().as_str() {
            "create" | "update" | "insert" => false,
            "delete" => true,
            _ => {
                return Err(fail(format!(
                    "`Operation` is {}, not Create, Update or Delete",
                    crate::odata::clean_text(&operation, &[], 40)
                )));
            }
        };
        let record = match event.get("Record") {
            Some(Value::Object(record)) => record.clone(),
            // Some relays send the record as a JSON string.
            Some(Value::String(inner)) => match serde_json::from_str::<Value>(inner) {
                Ok(Value::Object(record)) => record,
                _ => return Err(fail("`Record` is a string but not a JSON object".into())),
            },
            _ => return Err(fail("no `Record` object".into())),
        };
        out.push(DataEvent {
            entity,
            delete,
            company: text(&event, "LegalEntity").map(|c| c.to_lowercase()),
            record,
            event_id: text(&event, "EventId"),
        });
    }
    Ok(out)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn answer(status: StatusCode, message: &str) -> Response {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Body::from(serde_json::json!({ "message": message }).to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn authorised(secret: Option<&str>, headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(secret) = secret else { return true };
    if let Some(given) = headers.get("x-dualsync-key").and_then(|v| v.to_str().ok()) {
        return constant_time_eq(given.as_bytes(), secret.as_bytes());
    }
    uri.query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.strip_prefix("code="))
        .any(|given| {
            let decoded = percent_encoding::percent_decode_str(given).decode_utf8_lossy();
            constant_time_eq(decoded.as_bytes(), secret.as_bytes())
        })
}

/// Handles one POST of events.
pub fn handle(
    engine: &Engine,
    secret: Option<&str>,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
) -> Response {
    if !authorised(secret, headers, uri) {
        return answer(StatusCode::UNAUTHORIZED, "missing or wrong key");
    }
    let events = match parse_events(body) {
        Ok(events) => events,
        Err(e) => return answer(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match engine.accept_events(&events) {
        Ok(queued) => answer(StatusCode::OK, &format!("queued {queued} change(s)")),
        Err(e) => {
            tracing::error!("cannot queue data events: {e}");
            // Not acknowledged: F&O sends them again.
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot queue the events now; send them again",
            )
        }
    }
}

/// A running endpoint.
#[derive(Debug)]
pub struct Endpoint {
    pub address: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the endpoint on `address` (`POST /events`, and `GET /health`).
pub async fn serve(
    engine: Arc<Engine>,
    address: &str,
    secret: Option<String>,
) -> Result<Endpoint, EngineError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| EngineError::Listen {
            address: address.to_string(),
            message: e.to_string(),
        })?;
    let local = listener.local_addr().map_err(|e| EngineError::Listen {
        address: address.to_string(),
        message: e.to_string(),
    })?;
    let secret = Arc::new(secret);
    let app = axum::Router::new()
        .route(
            "/events",
            axum::routing::post(move |headers: HeaderMap, uri: Uri, body: Bytes| {
                let engine = Arc::clone(&engine);
                let secret = Arc::clone(&secret);
                async move {
                    tokio::task::spawn_blocking(move || {
                        handle(&engine, secret.as_deref(), &headers, &uri, &body)
                    })
                    .await
                    .unwrap_or_else(|_| answer(StatusCode::INTERNAL_SERVER_ERROR, "the handler failed"))
                }
            }),
        )
        .route("/health", axum::routing::get(|| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Endpoint { address: local, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_checked() {
        let body = br#"[{"EntityName":"CustomersV3","Operation":"Update","LegalEntity":"USMF",
            "Record":{"dataAreaId":"usmf","CustomerAccount":"US-1"},"EventId":"e1"}]"#;
        let events = parse_events(body).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].company.as_deref(), Some("usmf"));
        assert!(!events[0].delete);
        let err =
            parse_events(br#"{"EntityName":"CustomersV3","Operation":"Drop","Record":{}}"#).unwrap_err();
        assert!(err.to_string().contains("Operation"), "{err}");
        let err = parse_events(br#"{"Operation":"Update","Record":{}}"#).unwrap_err();
        assert!(err.to_string().contains("EntityName"), "{err}");
        assert!(parse_events(b"not json").is_err());
        assert!(parse_events(br#"[{"EntityName":"X","Record":5}]"#).is_err());
    }

    #[test]
    fn the_key_is_compared_whole() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/events".parse().unwrap();
        assert!(authorised(None, &headers, &uri));
        assert!(!authorised(Some("s3cret"), &headers, &uri));
        headers.insert("x-dualsync-key", "s3cret".parse().unwrap());
        assert!(authorised(Some("s3cret"), &headers, &uri));
        headers.insert("x-dualsync-key", "s3cre".parse().unwrap());
        assert!(!authorised(Some("s3cret"), &headers, &uri));
        let uri: Uri = "/events?code=s3cret".parse().unwrap();
        assert!(authorised(Some("s3cret"), &HeaderMap::new(), &uri));
    }
}
