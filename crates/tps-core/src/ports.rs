//! Ports: what the functions need from the outside world. The AWS adapters
//! in `tps-aws` implement them for DynamoDB, SNS and Step Functions, and
//! [`memory`] implements them in memory for unit tests.

use async_trait::async_trait;

use crate::events::Notification;
use crate::status::TenantStatus;

/// Error of a port call. `transient` errors (throttling, 5xx, timeouts) are
/// worth retrying; the others are not.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed{}: {message}", code.as_ref().map(|c| format!(" with {c}")).unwrap_or_default())]
pub struct PortError {
    pub operation: String,
    pub code: Option<String>,
    pub message: String,
    pub transient: bool,
}

impl PortError {
    pub fn permanent(operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self { operation: operation.into(), code: None, message: message.into(), transient: false }
    }

    pub fn transient(operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self { operation: operation.into(), code: None, message: message.into(), transient: true }
    }
}

/// Result of a conditional status write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The stored status is from a newer stream record; nothing was written.
    Stale,
}

/// The status table.
#[async_trait]
pub trait StatusStore: Send + Sync {
    async fn get(&self, tenant_id: &str) -> Result<Option<TenantStatus>, PortError>;

    /// Writes `status` unless the stored item has a higher sequence number.
    async fn put(&self, status: &TenantStatus) -> Result<WriteOutcome, PortError>;

    /// Writes `status` only if the stored item has a lower sequence number
    /// or none. A status already recorded for the same stream record is
    /// kept: the execution may have written its result there first.
    async fn put_if_newer(&self, status: &TenantStatus) -> Result<WriteOutcome, PortError>;
}

/// The tenant events topic.
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, notification: &Notification) -> Result<(), PortError>;
}

/// Result of starting an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    Started { execution_arn: String },
    /// An execution with this name exists already: the record was delivered before.
    AlreadyExists { execution_arn: String },
}

/// The onboarding state machine.
#[async_trait]
pub trait Workflow: Send + Sync {
    async fn start_execution(&self, name: &str, input: &str) -> Result<StartOutcome, PortError>;

    /// Whether the execution is still running. An execution that does not
    /// exist is not running.
    async fn is_running(&self, execution_arn: &str) -> Result<bool, PortError>;
}

pub mod memory {
    //! In-memory ports for unit tests of pure logic.

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::status::sequence_cmp;

    #[derive(Default)]
    pub struct MemoryStatus(pub Mutex<BTreeMap<String, TenantStatus>>);

    #[async_trait]
    impl StatusStore for MemoryStatus {
        async fn get(&self, tenant_id: &str) -> Result<Option<TenantStatus>, PortError> {
            Ok(self.0.lock().unwrap().get(tenant_id).cloned())
        }

        async fn put(&self, status: &TenantStatus) -> Result<WriteOutcome, PortError> {
            Ok(self.write(status, |order| order.is_lt()))
        }

        async fn put_if_newer(&self, status: &TenantStatus) -> Result<WriteOutcome, PortError> {
            Ok(self.write(status, |order| order.is_le()))
        }
    }

    impl MemoryStatus {
        /// Writes `status` unless `stale` returns true for the order of its
        /// sequence number against the stored one.
        fn write(&self, status: &TenantStatus, stale: impl Fn(std::cmp::Ordering) -> bool) -> WriteOutcome {
            let mut items = self.0.lock().unwrap();
            if let Some(existing) = items.get(&status.tenant_id) {
                if let (Some(stored), Some(new)) = (&existing.sequence_number, &status.sequence_number) {
                    if stale(sequence_cmp(new, stored)) {
                        return WriteOutcome::Stale;
                    }
                }
            }
            items.insert(status.tenant_id.clone(), status.clone());
            WriteOutcome::Written
        }
    }

    #[derive(Default)]
    pub struct MemoryEvents(pub Mutex<Vec<Notification>>);

    #[async_trait]
    impl EventBus for MemoryEvents {
        async fn publish(&self, notification: &Notification) -> Result<(), PortError> {
            self.0.lock().unwrap().push(notification.clone());
            Ok(())
        }
    }

    /// Records started executions; a second start with one name reports
    /// `AlreadyExists`, as Step Functions does.
    #[derive(Default)]
    pub struct MemoryWorkflow(pub Mutex<BTreeMap<String, String>>);

    #[async_trait]
    impl Workflow for MemoryWorkflow {
        async fn start_execution(&self, name: &str, input: &str) -> Result<StartOutcome, PortError> {
            let mut executions = self.0.lock().unwrap();
            let execution_arn = format!("arn:aws:states:us-east-1:123456789012:execution:test:{name}");
            if executions.contains_key(name) {
                return Ok(StartOutcome::AlreadyExists { execution_arn });
            }
            executions.insert(name.to_string(), input.to_string());
            Ok(StartOutcome::Started { execution_arn })
        }

        /// Every started execution counts as running; none ever stops.
        async fn is_running(&self, execution_arn: &str) -> Result<bool, PortError> {
            let name = execution_arn.rsplit(':').next().unwrap_or_default();
            Ok(self.0.lock().unwrap().contains_key(name))
        }
    }
}
