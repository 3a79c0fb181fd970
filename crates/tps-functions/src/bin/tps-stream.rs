//! Stream function: turns tenant table stream batches into onboarding executions.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tps_functions::runtime::serve_stream().await
}
