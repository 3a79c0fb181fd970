//! JSON logs. Every line carries the fields of its enclosing spans, so the
//! handlers' spans put `tenant_id`, `module`, `execution_arn` and
//! `aws_request_id` on each line. The level comes from `RUST_LOG` (`info`
//! when unset).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber; a second call does nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .try_init();
}
