//! AMC module function: the tenant's KMS key and AMC results bucket.

use tps_core::module::Module;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tps_functions::runtime::serve_module(Module::Amc).await
}
