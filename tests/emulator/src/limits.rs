//! Dataverse's service protection limits, per caller over a sliding window: the number of requests,
//! their combined execution time (measured, plus a configurable cost per request so tests can reach
//! the limit in seconds), and concurrent requests. Over a limit the answer is 429 with `Retry-After`
//! and Dataverse's error code and message.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// The limits; Microsoft's defaults are 6,000 requests and 1,200 s of execution time per 300 s, and
/// 52 concurrent requests, per user.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    pub enabled: bool,
    pub window_ms: u64,
    pub max_requests: usize,
    pub max_execution_ms: u64,
    pub max_concurrent: usize,
    /// Execution time charged per request on top of the measured time.
    pub cost_per_request_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            enabled: true,
            window_ms: 300_000,
            max_requests: 6000,
            max_execution_ms: 1_200_000,
            max_concurrent: 52,
            cost_per_request_ms: 0,
        }
    }
}

/// `1200000` as `1,200,000`, as Dataverse's execution-time message writes it.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Which limit a request ran into.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    pub retry_after: Duration,
}

#[derive(Debug, Default)]
struct Caller {
    /// Start time and charged execution time of each request in the window.
    requests: VecDeque<(Instant, Duration)>,
    in_flight: usize,
}

/// The counters of every caller.
#[derive(Debug, Default)]
pub struct Protection {
    pub limits: Limits,
    callers: BTreeMap<String, Caller>,
}

impl Protection {
    /// Admits a request of `caller` now, or says which limit refuses it and for how long.
    pub fn admit(&mut self, caller: &str) -> Result<(), Refusal> {
        if !self.limits.enabled {
            return Ok(());
        }
        let limits = self.limits.clone();
        let window = Duration::from_millis(limits.window_ms);
        let now = Instant::now();
        let state = self.callers.entry(caller.to_string()).or_default();
        while let Some((at, _)) = state.requests.front() {
            if now.duration_since(*at) >= window {
                state.requests.pop_front();
            } else {
                break;
            }
        }
        let until_oldest_leaves = || {
            state
                .requests
                .front()
                .map_or(Duration::from_secs(1), |(at, _)| {
                    window.saturating_sub(now.duration_since(*at))
                })
                .max(Duration::from_millis(1))
        };
        if state.in_flight >= limits.max_concurrent {
            return Err(Refusal {
                code: "0x80072326",
                message: format!(
                    "Number of concurrent requests exceeded the limit of {}.",
                    limits.max_concurrent
                ),
                retry_after: Duration::from_secs(1),
            });
        }
        if state.requests.len() >= limits.max_requests {
            return Err(Refusal {
                code: "0x80072322",
                message: format!(
                    "Number of requests exceeded the limit of {} over time window of {} seconds.",
                    limits.max_requests,
                    limits.window_ms / 1000
                ),
                retry_after: until_oldest_leaves(),
            });
        }
        let used: Duration = state.requests.iter().map(|(_, d)| *d).sum();
        if used >= Duration::from_millis(limits.max_execution_ms) {
            return Err(Refusal {
                code: "0x80072321",
                message: format!(
                    "Combined execution time of incoming requests exceeded limit of {} milliseconds over time window of {} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
                    thousands(limits.max_execution_ms),
                    limits.window_ms / 1000
                ),
                retry_after: until_oldest_leaves(),
            });
        }
        state.in_flight += 1;
        state
            .requests
            .push_back((now, Duration::from_millis(limits.cost_per_request_ms)));
        Ok(())
    }

    /// Ends an admitted request that took `elapsed`.
    pub fn finish(&mut self, caller: &str, elapsed: Duration) {
        if let Some(state) = self.callers.get_mut(caller) {
            state.in_flight = state.in_flight.saturating_sub(1);
            if let Some((_, charged)) = state.requests.back_mut() {
                *charged += elapsed;
            }
        }
    }

    /// Forgets every caller's history (after the limits change).
    pub fn reset(&mut self) {
        self.callers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_refuses_with_its_code() {
        let mut protection = Protection {
            limits: Limits {
                window_ms: 60_000,
                max_requests: 3,
                max_concurrent: 2,
                max_execution_ms: 1_000_000,
                ..Limits::default()
            },
            ..Protection::default()
        };
        protection.admit("a").unwrap();
        protection.admit("a").unwrap();
        assert_eq!(protection.admit("a").unwrap_err().code, "0x80072326");
        protection.finish("a", Duration::ZERO);
        protection.admit("a").unwrap();
        protection.finish("a", Duration::ZERO);
        protection.finish("a", Duration::ZERO);
        let refusal = protection.admit("a").unwrap_err();
        assert_eq!(refusal.code, "0x80072322");
        assert!(refusal.retry_after > Duration::from_secs(50));
        protection.admit("b").unwrap();
        let mut costly = Protection {
            limits: Limits {
                cost_per_request_ms: 600,
                max_execution_ms: 1000,
                ..Limits::default()
            },
            ..Protection::default()
        };
        costly.admit("a").unwrap();
        costly.finish("a", Duration::ZERO);
        costly.admit("a").unwrap();
        costly.finish("a", Duration::ZERO);
        assert_eq!(costly.admit("a").unwrap_err().code, "0x80072321");
    }
}
