//! The payloads that pass between the stream function, the onboarding state
//! machine, the module functions and the status function.
//!
//! The state machine definition (`infra/statemachine/onboarding.asl.json`)
//! builds [`ModuleInvocation`] from [`ExecutionInput`] in its Map state's
//! `ItemSelector`, so the field names here and there must match. The
//! end-to-end tests exercise them.

use serde::{Deserialize, Serialize};

use crate::action::ModuleOperation;
use crate::digest::short_hash;
use crate::module::Module;
use crate::status::ModuleError;
use crate::tenant::TenantRecord;

/// The change an execution makes to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// Provision (and deprovision removed) modules of a new or changed row.
    Provision,
    /// Deprovision every module of a removed row.
    Offboard,
    /// A row rejected by validation; no execution runs.
    Validate,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Provision => "provision",
            Action::Offboard => "offboard",
            Action::Validate => "validate",
        }
    }
}

/// One module's work in an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleTask {
    pub module: Module,
    pub operation: ModuleOperation,
    /// Digest of the module's section; absent for a deprovision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_digest: Option<String>,
}

/// Input of an onboarding execution, written by the stream function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionInput {
    pub tenant_id: String,
    pub action: Action,
    pub digest: String,
    pub sequence_number: String,
    /// The tenant row; for an offboarding, the last image before removal.
    pub tenant: TenantRecord,
    pub modules: Vec<ModuleTask>,
}

/// Input of a module function: one Map iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleInvocation {
    pub tenant_id: String,
    pub digest: String,
    pub execution_arn: String,
    pub sequence_number: String,
    pub tenant: TenantRecord,
    pub task: ModuleTask,
}

impl ModuleInvocation {
    pub fn execution_name(&self) -> &str {
        self.execution_arn.rsplit(':').next().unwrap_or(&self.execution_arn)
    }
}

/// Output of a module function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleOutcome {
    pub module: Module,
    pub operation: ModuleOperation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_digest: Option<String>,
    /// Names and ARNs of the buckets, keys and queues the module created.
    pub outputs: serde_json::Value,
}

/// The Map state's result for one module: the function's output, or the
/// iteration input with the caught error when every retry failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModuleResult {
    Succeeded(ModuleOutcome),
    Caught {
        task: ModuleTask,
        caught: CaughtError,
    },
}

/// The error object a state machine `Catch` places at its `ResultPath`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaughtError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

impl CaughtError {
    /// The module error behind a caught Lambda error. For a function error,
    /// `Cause` is the JSON error object the function returned.
    pub fn to_module_error(&self) -> ModuleError {
        #[derive(Deserialize)]
        struct FunctionError {
            #[serde(rename = "errorMessage", default)]
            error_message: String,
        }
        let message = serde_json::from_str::<FunctionError>(&self.cause)
            .map(|e| e.error_message)
            .unwrap_or_else(|_| self.cause.clone());
        ModuleError { error_type: self.error.clone(), message }
    }
}

/// The phase of an execution the status function is called for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    Started,
    Completed,
}

/// Input of the status function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusInvocation {
    pub phase: Phase,
    pub execution_arn: String,
    pub execution: ExecutionInput,
    #[serde(default)]
    pub results: Vec<ModuleResult>,
}

/// Maximum length of a Step Functions execution name.
pub const EXECUTION_NAME_MAX: usize = 80;

/// The execution name for one stream record: the same record always gets
/// the same name, so a redelivered record cannot start a second execution.
/// `{tenant}-{action}-{digest:16}-{hash of sequence number:8}`, at most 76
/// characters for a 40-character tenant id.
pub fn execution_name(tenant_id: &str, action: Action, digest: &str, sequence_number: &str) -> String {
    let digest = &digest[..16.min(digest.len())];
    format!("{tenant_id}-{}-{digest}-{}", action.as_str(), short_hash(sequence_number, 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_name_is_deterministic_and_short() {
        let a = execution_name(&"t".repeat(40), Action::Provision, &"a".repeat(64), "123");
        assert_eq!(a, execution_name(&"t".repeat(40), Action::Provision, &"a".repeat(64), "123"));
        assert_ne!(a, execution_name(&"t".repeat(40), Action::Provision, &"a".repeat(64), "124"));
        assert!(a.len() <= EXECUTION_NAME_MAX, "{a}");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{a}");
    }

    #[test]
    fn caught_function_error_keeps_message() {
        let caught = CaughtError {
            error: "ProvisioningError".into(),
            cause: r#"{"errorType":"ProvisioningError","errorMessage":"bucket taken"}"#.into(),
        };
        let error = caught.to_module_error();
        assert_eq!(error.error_type, "ProvisioningError");
        assert_eq!(error.message, "bucket taken");
    }

    #[test]
    fn module_result_parses_both_shapes() {
        let ok: ModuleResult = serde_json::from_value(serde_json::json!({
            "module": "AMC", "operation": "PROVISION", "outputs": {"bucketName": "b"}
        }))
        .unwrap();
        assert!(matches!(ok, ModuleResult::Succeeded(_)));
        let failed: ModuleResult = serde_json::from_value(serde_json::json!({
            "tenantId": "acme", "task": {"module": "DSP", "operation": "PROVISION"},
            "caught": {"Error": "States.Timeout", "Cause": ""}
        }))
        .unwrap();
        assert!(matches!(failed, ModuleResult::Caught { .. }));
    }
}
