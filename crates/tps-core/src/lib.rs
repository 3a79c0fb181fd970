//! Domain of the Tenant Provisioning Service.
//!
//! Everything here is pure: the tenant record and its validation, the config
//! digest, the action a stream record asks for, resource names, the policy
//! documents the modules apply, notifications and status. No AWS SDK type
//! appears in this crate, so all of it is testable without an emulator.

pub mod action;
pub mod catalogue;
pub mod digest;
pub mod events;
pub mod module;
pub mod naming;
pub mod policy;
pub mod ports;
pub mod settings;
pub mod status;
pub mod tenant;
pub mod validate;
pub mod workflow;

pub use action::{decide, Decision, ModuleChange, ModuleOperation, StreamEventName};
pub use catalogue::{AdvertisingRegion, DatasetCatalogue};
pub use digest::ConfigDigest;
pub use events::{EventType, Notification};
pub use module::Module;
pub use naming::{StackNames, TenantNames};
pub use status::{ModuleState, ModuleStatus, TenantState, TenantStatus};
pub use tenant::TenantRecord;
pub use validate::{validate, FieldError, ValidationErrors};
