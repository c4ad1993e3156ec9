//! The admin API (`/_admin/`, served on the emulator's loopback address), so tests can set up data,
//! faults and limits and assert what the services saw:
//!
//! | request | does |
//! |---|---|
//! | `GET counters` | requests, 429s, injected faults and writes per table, per service; events delivered |
//! | `POST {dataverse,fo}/load` | loads `{"set": [records]}` |
//! | `GET {dataverse,fo}/export` | every record, `{"set": [records]}` |
//! | `POST {dataverse,fo}/clear` | removes every record |
//! | `PUT {dataverse,fo}/settings` | `{"default_company", "caller_companies", "token_ttl_secs", "max_batch"}` |
//! | `PUT faults` / `GET faults/trace` | the fault configuration (`FaultConfig`) / the decisions so far |
//! | `PUT limits` | Dataverse's service protection limits (`Limits`) |
//! | `POST fo/events` / `DELETE fo/events/{set}` | `{"set", "endpoint"}`: data events on / off |
//! | `POST save` | writes the state file now |

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::Method;
use axum::response::Response as HttpResponse;
use serde_json::{Value, json};

use crate::faults::FaultConfig;
use crate::limits::Limits;
use crate::server::{Emulator, State};

fn answer(status: u16, value: Value) -> HttpResponse {
    axum::http::Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Body::from(value.to_string()))
        .unwrap_or_else(|_| HttpResponse::new(Body::empty()))
}

fn bad(message: impl Into<String>) -> HttpResponse {
    answer(400, json!({"error": message.into()}))
}

// The error is the answer to send: a large `Err` on a path taken once per admin call is fine.
#[allow(clippy::result_large_err)]
fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, HttpResponse> {
    serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))
}

fn service_mut<'a>(state: &'a mut State, name: &str) -> Option<&'a mut crate::service::Service> {
    match name {
        "dataverse" => state.dataverse.as_mut(),
        "fo" => state.fo.as_mut(),
        _ => None,
    }
}

/// Settings of one service.
#[derive(Debug, Default, serde::Deserialize)]
struct Settings {
    default_company: Option<String>,
    caller_companies: Option<std::collections::BTreeMap<String, String>>,
    token_ttl_secs: Option<u64>,
    max_batch: Option<usize>,
}

/// Answers `/_admin/{path}`.
pub fn handle(emulator: &Emulator, method: &Method, path: &str, body: &Bytes) -> HttpResponse {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["counters"]) => emulator.with(|s| {
            let delivered = s.events.delivered.load(std::sync::atomic::Ordering::Relaxed);
            let failed = s
                .events
                .failed_attempts
                .load(std::sync::atomic::Ordering::Relaxed);
            answer(
                200,
                json!({
                    "dataverse": s.dataverse.as_ref().map(|d| &d.counters),
                    "fo": s.fo.as_ref().map(|f| &f.counters),
                    "events": {"delivered": delivered, "failed_attempts": failed},
                    "protection": s.protection.stats(),
                }),
            )
        }),
        ("POST", [service, "load"]) => {
            let seed: serde_json::Map<String, Value> = match parse(body) {
                Ok(s) => s,
                Err(r) => return r,
            };
            emulator.with(|s| {
                let Some(target) = service_mut(s, service) else {
                    return bad(format!("no service `{service}`"));
                };
                let mut loaded = 0;
                for (set, records) in &seed {
                    let Some(records) = records.as_array() else {
                        return bad(format!("`{set}` is not an array"));
                    };
                    match target.load(set, records) {
                        Ok(n) => loaded += n,
                        Err(e) => return bad(e),
                    }
                }
                answer(200, json!({"loaded": loaded}))
            })
        }
        ("GET", [service, "export"]) => emulator.with(|s| match service_mut(s, service) {
            Some(target) => answer(200, target.export()),
            None => bad(format!("no service `{service}`")),
        }),
        ("POST", [service, "clear"]) => emulator.with(|s| match service_mut(s, service) {
            Some(target) => {
                target.clear();
                answer(200, json!({"cleared": true}))
            }
            None => bad(format!("no service `{service}`")),
        }),
        ("PUT", [service, "settings"]) => {
            let settings: Settings = match parse(body) {
                Ok(s) => s,
                Err(r) => return r,
            };
            emulator.with(|s| {
                let Some(target) = service_mut(s, service) else {
                    return bad(format!("no service `{service}`"));
                };
                if let Some(company) = settings.default_company {
                    target.default_company = company;
                }
                if let Some(companies) = settings.caller_companies {
                    target.caller_companies = companies;
                }
                if let Some(ttl) = settings.token_ttl_secs {
                    target.token_ttl = Duration::from_secs(ttl);
                }
                if let Some(max) = settings.max_batch {
                    target.max_batch = max;
                }
                answer(200, json!({"ok": true}))
            })
        }
        ("PUT", ["faults"]) => match parse::<FaultConfig>(body) {
            Ok(config) => {
                emulator.set_faults(config);
                answer(200, json!({"ok": true}))
            }
            Err(r) => r,
        },
        ("GET", ["faults", "trace"]) => emulator.with(|s| answer(200, json!(s.injector.trace))),
        ("PUT", ["limits"]) => match parse::<Limits>(body) {
            Ok(limits) => {
                emulator.set_limits(limits);
                answer(200, json!({"ok": true}))
            }
            Err(r) => r,
        },
        ("POST", ["fo", "events"]) => {
            let subscription: Value = match parse(body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let (Some(set), Some(endpoint)) = (
                subscription.get("set").and_then(Value::as_str),
                subscription.get("endpoint").and_then(Value::as_str),
            ) else {
                return bad("expected {\"set\": ..., \"endpoint\": ...}");
            };
            emulator.with(|s| {
                let known = s.fo.as_ref().is_some_and(|f| f.schema.tables.contains_key(set));
                if !known {
                    return bad(format!("no F&O entity set `{set}`"));
                }
                s.events.subscribe(set, endpoint);
                if let Some(fo) = s.fo.as_mut() {
                    fo.emit_changes = true;
                }
                answer(200, json!({"ok": true}))
            })
        }
        ("DELETE", ["fo", "events", set]) => emulator.with(|s| {
            s.events.unsubscribe(set);
            answer(200, json!({"ok": true}))
        }),
        ("POST", ["save"]) => emulator.with(|s| match s.save() {
            Ok(()) => answer(200, json!({"ok": true})),
            Err(e) => answer(500, json!({"error": e.to_string()})),
        }),
        _ => answer(
            404,
            json!({"error": format!("no admin endpoint {method} /_admin/{path}")}),
        ),
    }
}
