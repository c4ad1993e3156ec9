//! Seeded, reproducible fault injection: error answers by rate (429 with `Retry-After`, 500, 502, 503,
//! 504), latency, connection resets before or after the write is applied (the write happened, the
//! answer is lost), downtime windows and slow bodies. Decisions are drawn from one seeded generator in
//! request order, so the same seed and the same requests give the same trace.

use std::time::{Duration, Instant};

/// One kind of error answer and how often.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ErrorRate {
    pub status: u16,
    /// 0.0 to 1.0.
    pub rate: f64,
    /// Seconds for `Retry-After` (429 and 503).
    #[serde(default)]
    pub retry_after: Option<u64>,
}

/// A time window (from the emulator's start or the last fault change) when every request fails.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Downtime {
    pub from_ms: u64,
    pub to_ms: u64,
    /// The answer during the window (503 by default).
    #[serde(default = "default_down_status")]
    pub status: u16,
}

fn default_down_status() -> u16 {
    503
}

/// The fault settings (a JSON file or the admin endpoint).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    pub seed: u64,
    pub errors: Vec<ErrorRate>,
    /// Added latency, uniformly between the two, in milliseconds.
    pub latency_ms: Option<(u64, u64)>,
    /// The connection is dropped before the request is handled (nothing applied).
    pub reset_before_rate: f64,
    /// The request is applied, then the connection is dropped (the answer is lost).
    pub reset_after_rate: f64,
    pub downtime: Vec<Downtime>,
    /// The body is sent slowly (in pieces with pauses) at this rate.
    pub slow_body_rate: f64,
    pub slow_body_ms: u64,
    /// Only requests whose path contains one of these are touched (none = all, admin never).
    pub paths: Vec<String>,
    /// Only these methods (none = all).
    pub methods: Vec<String>,
}

/// What happens to one request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    None,
    Error { status: u16, retry_after: Option<u64> },
    ResetBefore,
    ResetAfter,
    SlowBody { pause_ms: u64 },
}

/// One decision, for the trace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    pub n: u64,
    pub method: String,
    pub path: String,
    pub latency_ms: u64,
    #[serde(flatten)]
    pub fault: Fault,
}

/// The injector: configuration, generator state and trace.
#[derive(Debug)]
pub struct Injector {
    pub config: FaultConfig,
    state: u64,
    started: Instant,
    count: u64,
    pub trace: Vec<Decision>,
}

impl Default for Injector {
    fn default() -> Self {
        Injector::new(FaultConfig::default())
    }
}

impl Injector {
    pub fn new(config: FaultConfig) -> Self {
        Injector {
            state: config.seed ^ 0x9E37_79B9_7F4A_7C15,
            config,
            started: Instant::now(),
            count: 0,
            trace: Vec::new(),
        }
    }

    fn active(&self) -> bool {
        let c = &self.config;
        !c.errors.is_empty()
            || c.latency_ms.is_some()
            || c.reset_before_rate > 0.0
            || c.reset_after_rate > 0.0
            || !c.downtime.is_empty()
            || c.slow_body_rate > 0.0
    }

    /// splitmix64: a uniform draw in [0, 1).
    fn draw(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Decides the fate of the next request (also recorded in the trace).
    pub fn decide(&mut self, method: &str, path: &str) -> (Fault, Duration) {
        if !self.active() {
            return (Fault::None, Duration::ZERO);
        }
        if (!self.config.paths.is_empty() && !self.config.paths.iter().any(|p| path.contains(p.as_str())))
            || (!self.config.methods.is_empty()
                && !self.config.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
        {
            return (Fault::None, Duration::ZERO);
        }
        self.count += 1;
        // Always the same number of draws per request, so one setting does not shift the others.
        let draws: [f64; 5] = [self.draw(), self.draw(), self.draw(), self.draw(), self.draw()];
        let latency = match self.config.latency_ms {
            Some((low, high)) if high >= low => low + ((high - low) as f64 * draws[0]) as u64,
            _ => 0,
        };
        let elapsed = self.started.elapsed().as_millis() as u64;
        let mut fault = Fault::None;
        if let Some(down) = self
            .config
            .downtime
            .iter()
            .find(|d| (d.from_ms..d.to_ms).contains(&elapsed))
        {
            fault = Fault::Error {
                status: down.status,
                retry_after: Some(((down.to_ms - elapsed) / 1000).max(1)),
            };
        } else if draws[1] < self.config.reset_before_rate {
            fault = Fault::ResetBefore;
        } else if draws[2] < self.config.reset_after_rate {
            fault = Fault::ResetAfter;
        } else {
            let mut acc = 0.0;
            for error in &self.config.errors {
                acc += error.rate;
                if draws[3] < acc {
                    fault = Fault::Error {
                        status: error.status,
                        retry_after: error.retry_after,
                    };
                    break;
                }
            }
            if fault == Fault::None && draws[4] < self.config.slow_body_rate {
                fault = Fault::SlowBody {
                    pause_ms: self.config.slow_body_ms,
                };
            }
        }
        self.trace.push(Decision {
            n: self.count,
            method: method.to_string(),
            path: path.to_string(),
            latency_ms: latency,
            fault: fault.clone(),
        });
        if self.trace.len() > 100_000 {
            self.trace.drain(..50_000);
        }
        (fault, Duration::from_millis(latency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> FaultConfig {
        FaultConfig {
            seed,
            errors: vec![
                ErrorRate {
                    status: 429,
                    rate: 0.1,
                    retry_after: Some(1),
                },
                ErrorRate {
                    status: 503,
                    rate: 0.1,
                    retry_after: None,
                },
            ],
            latency_ms: Some((0, 20)),
            reset_after_rate: 0.05,
            ..FaultConfig::default()
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_trace() {
        let run = |seed| {
            let mut injector = Injector::new(config(seed));
            for i in 0..500 {
                injector.decide("GET", &format!("/data/X{i}"));
            }
            injector.trace
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let trace = run(7);
        let errors = trace
            .iter()
            .filter(|d| matches!(d.fault, Fault::Error { .. }))
            .count();
        assert!((60..140).contains(&errors), "about 20 % errors: {errors}");
    }
}
