//! Benchmarks of the Tenant Provisioning Service, run by `make bench`.
//!
//! - [`init`]: cold start and peak memory of every release Lambda bootstrap,
//!   and of a Python baseline, against a minimal Lambda Runtime API
//!   ([`runtime_api`]) with events whose AWS calls reach a local runtime.
//! - [`onboarding`]: row-to-terminal-event latency on the local runtime, for
//!   one tenant at a time and for a batch written at once, broken down by
//!   stage from the execution history ([`history`]).
//! - [`sizes`]: binary and zip size of each bootstrap.
//! - `benches/hot_paths.rs`: criterion benchmarks of the pure hot paths,
//!   whose output [`criterion_results`] reads.
//!
//! [`report`] writes every figure to `docs/benchmarks.md`. No test here
//! asserts a time: the figures are recorded, not checked in CI.

pub mod criterion_results;
pub mod events;
pub mod history;
pub mod init;
pub mod machine;
pub mod onboarding;
pub mod process;
pub mod report;
pub mod runtime_api;
pub mod sizes;
pub mod stats;
