//! Tenant and module status, as stored in the status table and shown by `tps status`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::module::Module;
use crate::tenant::TenantRecord;
use crate::validate::FieldError;
use crate::workflow::Action;

/// Overall state of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TenantState {
    InProgress,
    Active,
    Partial,
    Failed,
    Offboarded,
}

impl TenantState {
    /// Whether no execution is running for this state.
    pub fn is_terminal(self) -> bool {
        !matches!(self, TenantState::InProgress)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::InProgress => "IN_PROGRESS",
            TenantState::Active => "ACTIVE",
            TenantState::Partial => "PARTIAL",
            TenantState::Failed => "FAILED",
            TenantState::Offboarded => "OFFBOARDED",
        }
    }
}

impl fmt::Display for TenantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// State of one module of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModuleState {
    Active,
    Failed,
    /// Deprovisioned; buckets and keys may be kept per the retention policy.
    Removed,
}

/// The error that stopped a module: the Lambda error type (the name a state
/// machine Retry or Catch matches) and its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleError {
    pub error_type: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleStatus {
    pub state: ModuleState,
    /// Digest of the module's config when it was last provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default)]
    pub outputs: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ModuleError>,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
}

/// One item of the status table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    pub tenant_id: String,
    #[serde(default)]
    pub customer_name: String,
    /// Prefix the tenant's resources are named with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_prefix: Option<String>,
    pub status: TenantState,
    /// Config digest of the row this status reflects.
    pub digest: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// Stream sequence number of the row this status reflects; a record with
    /// a lower number never overwrites it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    pub updated_at: String,
    #[serde(default)]
    pub modules: BTreeMap<Module, ModuleStatus>,
    /// Validation errors of a `FAILED` row that was never provisioned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl TenantStatus {
    /// Returns the error for `tenant` when it changes `customerPrefix` while
    /// modules named with the recorded prefix exist: renaming would leave
    /// them behind, still granting access.
    pub fn prefix_change_error(&self, tenant: &TenantRecord) -> Option<FieldError> {
        let recorded = self.customer_prefix.as_deref()?;
        let provisioned = self.modules.values().any(|m| m.state != ModuleState::Removed);
        if recorded == tenant.customer_prefix || !provisioned {
            return None;
        }
        Some(FieldError {
            path: "customerPrefix".into(),
            message: format!(
                "cannot change from {recorded:?} to {:?} while modules named with it exist; \
                 restore {recorded:?}, or offboard the tenant (delete the row) and onboard it again with the new prefix",
                tenant.customer_prefix
            ),
        })
    }
}

/// Aggregates module outcomes into the tenant's state: every enabled module
/// active is `ACTIVE`, some is `PARTIAL`, none is `FAILED`. A tenant with no
/// enabled modules left is `ACTIVE`.
pub fn aggregate<'a>(enabled: impl IntoIterator<Item = &'a ModuleStatus>) -> TenantState {
    let states: Vec<ModuleState> = enabled.into_iter().map(|m| m.state).collect();
    let active = states.iter().filter(|s| **s == ModuleState::Active).count();
    if active == states.len() {
        TenantState::Active
    } else if active == 0 {
        TenantState::Failed
    } else {
        TenantState::Partial
    }
}

/// Compares two stream sequence numbers, which are decimal strings of up to
/// 40 digits, numerically.
pub fn sequence_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;

    fn module(state: ModuleState) -> ModuleStatus {
        ModuleStatus {
            state,
            digest: None,
            outputs: serde_json::Value::Null,
            error: None,
            updated_at: "2026-01-01T00:00:00Z".into(),
            execution_arn: None,
        }
    }

    #[test]
    fn aggregate_states() {
        use ModuleState::*;
        assert_eq!(aggregate(&[module(Active), module(Active)]), TenantState::Active);
        assert_eq!(aggregate(&[module(Active), module(Failed)]), TenantState::Partial);
        assert_eq!(aggregate(&[module(Failed)]), TenantState::Failed);
        assert_eq!(aggregate(&[]), TenantState::Active);
    }

    #[test]
    fn sequence_numbers_compare_numerically() {
        assert_eq!(sequence_cmp("900", "1000"), Ordering::Less);
        assert_eq!(sequence_cmp("1000", "1000"), Ordering::Equal);
        assert_eq!(sequence_cmp("000123", "123"), Ordering::Equal);
        assert_eq!(sequence_cmp("49668042663452364", "4966804266345236"), Ordering::Greater);
    }
}
