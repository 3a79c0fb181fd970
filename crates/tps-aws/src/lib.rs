//! AWS adapters of the Tenant Provisioning Service.
//!
//! Each AWS service is used from one place: [`dynamo`] for the status table,
//! [`sns`] for the events topic, [`sfn`] for the onboarding state machine and
//! [`provision`] for the tenant resources (KMS, S3, SQS). Clients are built
//! once per process by [`clients::Clients`] and honour `AWS_ENDPOINT_URL`,
//! which is how the local runtime points them at the emulator.

pub mod clients;
pub mod dynamo;
pub mod error;
pub mod provision;
pub mod settings;
pub mod sfn;
pub mod sns;

pub use clients::Clients;
pub use error::classify;
pub use settings::{FunctionSettings, SettingsError};
