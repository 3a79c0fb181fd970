//! Sponsored Ads module function: a Marketing Stream ingress queue per dataset.

use tps_core::module::Module;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tps_functions::runtime::serve_module(Module::SponsoredAds).await
}
