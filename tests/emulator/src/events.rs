//! F&O data events: when a create, update or delete of an entity with events enabled happens, a JSON
//! event is POSTed to each subscribed endpoint, carrying the record, an event id, the time, the company
//! and a control number that increases by one per event; an endpoint that fails is retried with
//! exponential backoff (as business events are), in order, by one task per endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::service::DataChange;

/// Which sets raise events, to which endpoints.
#[derive(Debug, Default)]
pub struct Subscriptions {
    /// Entity set -> endpoint URLs.
    pub by_set: BTreeMap<String, Vec<String>>,
    senders: BTreeMap<String, mpsc::UnboundedSender<Value>>,
    control_number: u64,
    /// Delivered and failed attempts, for the admin counters.
    pub delivered: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub failed_attempts: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Subscriptions {
    /// Enables events of `set` to `endpoint`.
    pub fn subscribe(&mut self, set: &str, endpoint: &str) {
        let endpoints = self.by_set.entry(set.to_string()).or_default();
        if !endpoints.iter().any(|e| e == endpoint) {
            endpoints.push(endpoint.to_string());
        }
    }

    /// Disables the events of `set`.
    pub fn unsubscribe(&mut self, set: &str) {
        self.by_set.remove(set);
    }

    /// Queues an event per subscribed endpoint for each change (in order).
    pub fn publish(&mut self, changes: &[DataChange]) {
        for change in changes {
            let Some(endpoints) = self.by_set.get(&change.set).cloned() else {
                continue;
            };
            self.control_number += 1;
            let event = json!({
                "BusinessEventId": format!("DataEvent_{}_{}", change.set, change.operation),
                "EventId": format!("{:08X}-0000-4000-8000-{:012X}", self.control_number >> 32, self.control_number & 0xffff_ffff_ffff),
                "EventTime": crate::text::now_utc(),
                "ControlNumber": self.control_number,
                "EntityName": change.set,
                "Operation": change.operation,
                "LegalEntity": change.company,
                "Record": change.record,
            });
            for endpoint in endpoints {
                let sender = self.senders.entry(endpoint.clone()).or_insert_with(|| {
                    let (sender, receiver) = mpsc::unbounded_channel();
                    tokio::spawn(deliver(
                        endpoint.clone(),
                        receiver,
                        std::sync::Arc::clone(&self.delivered),
                        std::sync::Arc::clone(&self.failed_attempts),
                    ));
                    sender
                });
                let _ = sender.send(event.clone());
            }
        }
    }
}

/// Sends events to one endpoint in order, each retried with backoff until it is accepted (2xx).
async fn deliver(
    endpoint: String,
    mut events: mpsc::UnboundedReceiver<Value>,
    delivered: std::sync::Arc<std::sync::atomic::AtomicU64>,
    failed: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    while let Some(event) = events.recv().await {
        let mut delay = Duration::from_millis(100);
        loop {
            let sent = http
                .post(&endpoint)
                .header("Content-Type", "application/json")
                .body(event.to_string())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                delivered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                break;
            }
            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    }
}
