//! DSP module function: the report bucket and any DSP stream queues.

use tps_core::module::Module;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tps_functions::runtime::serve_module(Module::Dsp).await
}
