//! Fault injection for the relay to the emulator: a seeded share of AWS
//! calls fail with throttling or 5xx errors, lose their connection, or are
//! delayed, so the functions' SDK retries and the state machine's Retry are
//! exercised.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// What to inject. `failure_rate` is the share (0.0 to 1.0) of relayed calls
/// that fail; a failure is a throttling error, a 500 or a dropped connection,
/// chosen at random. `latency` is added to every relayed call.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    pub failure_rate: f64,
    pub latency: Duration,
    pub seed: u64,
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 with a throttling error code in the service's format.
    Throttle,
    /// HTTP 500.
    ServerError,
    /// The connection is closed without a response.
    Drop,
}

/// Counters of relayed calls.
#[derive(Debug, Default)]
pub struct FaultStats {
    pub relayed: AtomicU64,
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub dropped: AtomicU64,
}

impl FaultStats {
    pub fn injected(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
            + self.server_errors.load(Ordering::Relaxed)
            + self.dropped.load(Ordering::Relaxed)
    }
}

pub struct FaultInjector {
    pub config: FaultConfig,
    rng: Mutex<SmallRng>,
    pub stats: FaultStats,
}

impl FaultInjector {
    pub fn new(config: FaultConfig) -> Self {
        let rng = Mutex::new(SmallRng::seed_from_u64(config.seed));
        Self { config, rng, stats: FaultStats::default() }
    }

    /// Decides the fate of one relayed call.
    pub fn next(&self) -> Option<Fault> {
        self.stats.relayed.fetch_add(1, Ordering::Relaxed);
        if self.config.failure_rate <= 0.0 {
            return None;
        }
        let mut rng = self.rng.lock().expect("fault RNG lock");
        if !rng.gen_bool(self.config.failure_rate.min(1.0)) {
            return None;
        }
        let fault = match rng.gen_range(0..3) {
            0 => Fault::Throttle,
            1 => Fault::ServerError,
            _ => Fault::Drop,
        };
        let counter = match fault {
            Fault::Throttle => &self.stats.throttled,
            Fault::ServerError => &self.stats.server_errors,
            Fault::Drop => &self.stats.dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_faults() {
        let config = FaultConfig { failure_rate: 0.3, latency: Duration::ZERO, seed: 7 };
        let a = FaultInjector::new(config.clone());
        let b = FaultInjector::new(config);
        let run_a: Vec<_> = (0..200).map(|_| a.next()).collect();
        let run_b: Vec<_> = (0..200).map(|_| b.next()).collect();
        assert_eq!(run_a, run_b);
        let failures = run_a.iter().filter(|f| f.is_some()).count();
        assert!((30..=90).contains(&failures), "{failures} of 200 at rate 0.3");
    }

    #[test]
    fn zero_rate_injects_nothing() {
        let injector = FaultInjector::new(FaultConfig::default());
        assert!((0..100).all(|_| injector.next().is_none()));
        assert_eq!(injector.stats.injected(), 0);
    }
}
