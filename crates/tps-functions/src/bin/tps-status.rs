//! Status function: records and announces an execution's start and result.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tps_functions::runtime::serve_status().await
}
