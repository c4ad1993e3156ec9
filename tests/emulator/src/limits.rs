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
    /// The end of the last `Retry-After` window this caller was given.
    penalty_until: Option<Instant>,
}

/// What the limits saw, over every caller: the facts a test or a benchmark asserts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ProtectionStats {
    /// Requests admitted.
    pub admitted: u64,
    /// Requests refused with 429.
    pub refused: u64,
    /// Refusals for too many concurrent requests.
    pub refused_concurrent: u64,
    /// Requests that arrived while their caller's `Retry-After` window was still open: a client
    /// that honours `Retry-After` sends none.
    pub inside_penalty: u64,
    /// The most requests of one caller in flight at once.
    pub peak_concurrent: usize,
}

/// The counters of every caller.
#[derive(Debug, Default)]
pub struct Protection {
    pub limits: Limits,
    callers: BTreeMap<String, Caller>,
    stats: ProtectionStats,
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
        if state.penalty_until.is_some_and(|until| now < until) {
            self.stats.inside_penalty += 1;
        }
        let refusal = Self::check(&limits, window, now, state);
        match refusal {
            Some(refusal) => {
                self.stats.refused += 1;
                if refusal.code == "0x80072326" {
                    self.stats.refused_concurrent += 1;
                }
                let until = now + refusal.retry_after;
                if state.penalty_until.is_none_or(|p| p < until) {
                    state.penalty_until = Some(until);
                }
                Err(refusal)
            }
            None => {
                self.stats.admitted += 1;
                state.in_flight += 1;
                self.stats.peak_concurrent = self.stats.peak_concurrent.max(state.in_flight);
                state
                    .requests
                    .push_back((now, Duration::from_millis(limits.cost_per_request_ms)));
                Ok(())
            }
        }
    }

    /// Which limit refuses a request of `state` at `now`, if any. `Retry-After` is announced in
    /// whole seconds, rounded up, so a client that waits it out finds room.
    fn check(limits: &Limits, window: Duration, now: Instant, state: &mut Caller) -> Option<Refusal> {
        while let Some((at, _)) = state.requests.front() {
            if now.duration_since(*at) >= window {
                state.requests.pop_front();
            } else {
                break;
            }
        }
        let until_oldest_leaves = || {
            let wait = state.requests.front().map_or(Duration::from_secs(1), |(at, _)| {
                window.saturating_sub(now.duration_since(*at))
            });
            Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
                .max(Duration::from_secs(1))
        };
        if state.in_flight >= limits.max_concurrent {
            return Some(Refusal {
                code: "0x80072326",
                message: format!(
                    "Number of concurrent requests exceeded the limit of {}.",
                    limits.max_concurrent
                ),
                retry_after: Duration::from_secs(1),
            });
        }
        if state.requests.len() >= limits.max_requests {
            return Some(Refusal {
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
            return Some(Refusal {
                code: "0x80072321",
                message: format!(
                    "Combined execution time of incoming requests exceeded limit of {} milliseconds over time window of {} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
                    thousands(limits.max_execution_ms),
                    limits.window_ms / 1000
                ),
                retry_after: until_oldest_leaves(),
            });
        }
        None
    }

    /// What the limits saw since the last reset.
    pub fn stats(&self) -> ProtectionStats {
        self.stats
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
        self.stats = ProtectionStats::default();
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

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_early_requests_are_counted() {
        let mut protection = Protection {
            limits: Limits {
                window_ms: 1_500,
                max_requests: 1,
                max_concurrent: 5,
                max_execution_ms: 1_000_000,
                ..Limits::default()
            },
            ..Protection::default()
        };
        protection.admit("a").unwrap();
        protection.finish("a", Duration::ZERO);
        let refusal = protection.admit("a").unwrap_err();
        // 1.5 s minus a moment: announced as 2 s, never as 1 s (the client would come back early).
        assert_eq!(refusal.retry_after, Duration::from_secs(2));
        assert_eq!(protection.stats().inside_penalty, 0);
        assert!(protection.admit("a").is_err());
        protection.admit("b").unwrap();
        protection.admit("b").unwrap_err();
        let stats = protection.stats();
        assert_eq!(stats.inside_penalty, 1, "{stats:?}");
        assert_eq!((stats.admitted, stats.refused), (2, 3));
        assert_eq!(stats.peak_concurrent, 1);
        protection.reset();
        assert_eq!(protection.stats(), ProtectionStats::default());
    }
}
