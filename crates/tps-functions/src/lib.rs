//! Lambda handlers of the Tenant Provisioning Service.
//!
//! Each handler is a plain async function over typed input and explicit
//! dependencies, so the Lambda binaries in `src/bin/` (a few lines each) and
//! the local runtime call the same code. Dependencies are built once per
//! process from [`tps_aws::FunctionSettings`] and [`tps_aws::Clients`].

pub mod error;
pub mod invocation;
pub mod logging;
pub mod metrics;
pub mod module;
pub mod runtime;
pub mod status;
pub mod stream;

pub use error::FunctionError;
pub use invocation::Invocation;
