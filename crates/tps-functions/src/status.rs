//! The status function: records an execution's start and result in the
//! status table and publishes the tenant events.

use std::sync::Arc;

use serde::Serialize;
use tps_core::action::ModuleOperation;
use tps_core::events::{EventType, Notification};
use tps_core::module::Module;
use tps_core::ports::{EventBus, StatusStore, WriteOutcome};
use tps_core::status::{aggregate, ModuleState, ModuleStatus, TenantState, TenantStatus};
use tps_core::workflow::{Action, ModuleResult, Phase, StatusInvocation};
use tracing::{info_span, Instrument};

use crate::error::FunctionError;
use crate::invocation::Invocation;

pub struct StatusDeps {
    pub status: Arc<dyn StatusStore>,
    pub events: Arc<dyn EventBus>,
}

/// Output of the status function, which becomes the execution's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSummary {
    pub tenant_id: String,
    pub status: TenantState,
    pub modules: Vec<(Module, ModuleState)>,
}

pub async fn handle(
    input: StatusInvocation,
    invocation: &Invocation,
    deps: &StatusDeps,
) -> Result<StatusSummary, FunctionError> {
    let span = info_span!(
        "status",
        tenant_id = %input.execution.tenant_id,
        execution_arn = %input.execution_arn,
        phase = ?input.phase,
        aws_request_id = %invocation.request_id,
    );
    async {
        let result = match input.phase {
            Phase::Started => started(&input, deps).await,
            Phase::Completed => completed(&input, deps).await,
        };
        if let Err(error) = &result {
            tracing::error!(error = %error, error_type = error.error_type(), "status update failed");
        }
        result
    }
    .instrument(span)
    .await
}

fn execution_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn started(input: &StatusInvocation, deps: &StatusDeps) -> Result<StatusSummary, FunctionError> {
    let execution = &input.execution;
    let mut status = current_or_new(deps, input).await?;
    status.status = TenantState::InProgress;
    status.updated_at = now();
    if deps.status.put(&status).await? == WriteOutcome::Stale {
        tracing::warn!("a newer record's status is stored; this execution's start is not recorded");
    }

    let mut notification = Notification::new(
        match execution.action {
            Action::Offboard => EventType::TenantOffboardingStarted,
            _ => EventType::TenantProvisioningStarted,
        },
        &execution.tenant_id,
        &execution.digest,
        execution_name(&input.execution_arn),
        None,
    );
    notification.execution_arn = input.execution_arn.clone();
    notification.status = Some(TenantState::InProgress);
    deps.events.publish(&notification).await?;
    tracing::info!(modules = execution.modules.len(), "execution start recorded");
    Ok(summary(&status))
}

async fn completed(input: &StatusInvocation, deps: &StatusDeps) -> Result<StatusSummary, FunctionError> {
    let execution = &input.execution;
    let mut status = current_or_new(deps, input).await?;
    let updated_at = now();
    let mut failures = Vec::new();

    for result in &input.results {
        match result {
            ModuleResult::Succeeded(outcome) => {
                let state = match outcome.operation {
                    ModuleOperation::Provision => ModuleState::Active,
                    ModuleOperation::Deprovision => ModuleState::Removed,
                };
                status.modules.insert(outcome.module, ModuleStatus {
                    state,
                    digest: outcome.module_digest.clone(),
                    outputs: outcome.outputs.clone(),
                    error: None,
                    updated_at: updated_at.clone(),
                    execution_arn: Some(input.execution_arn.clone()),
                });
            }
            ModuleResult::Caught { task, caught } => {
                let error = caught.to_module_error();
                tracing::warn!(module = %task.module, error_type = %error.error_type, error = %error.message, "module failed");
                let previous_outputs = status.modules.get(&task.module).map(|m| m.outputs.clone());
                status.modules.insert(task.module, ModuleStatus {
                    state: ModuleState::Failed,
                    digest: None,
                    outputs: previous_outputs.unwrap_or(serde_json::Value::Null),
                    error: Some(error.clone()),
                    updated_at: updated_at.clone(),
                    execution_arn: Some(input.execution_arn.clone()),
                });
                failures.push((task.module, error));
            }
        }
    }

    status.status = match execution.action {
        Action::Offboard if failures.is_empty() => TenantState::Offboarded,
        Action::Offboard => TenantState::Failed,
        _ => aggregate(
            status
                .modules
                .iter()
                .filter(|(module, _)| execution.tenant.enables(**module))
                .map(|(_, m)| m),
        ),
    };
    status.updated_at = updated_at;
    if deps.status.put(&status).await? == WriteOutcome::Stale {
        tracing::warn!("a newer record's status is stored; this execution's result is not recorded");
        return Ok(summary(&status));
    }

    let scope = execution_name(&input.execution_arn);
    for (module, error) in failures {
        let mut notification =
            Notification::new(EventType::ModuleFailed, &execution.tenant_id, &execution.digest, scope, Some(module));
        notification.execution_arn = input.execution_arn.clone();
        notification.error = Some(error);
        deps.events.publish(&notification).await?;
    }
    let mut notification = Notification::new(
        EventType::for_state(status.status),
        &execution.tenant_id,
        &execution.digest,
        scope,
        None,
    );
    notification.execution_arn = input.execution_arn.clone();
    notification.status = Some(status.status);
    notification.outputs = Some(serde_json::to_value(&status.modules).unwrap_or_default());
    deps.events.publish(&notification).await?;
    crate::metrics::execution_recorded(&execution.tenant_id, &input.execution_arn, &input.results, status.status);
    tracing::info!(status = %status.status, "execution result recorded");
    Ok(summary(&status))
}

/// The stored status updated with this execution's identity, or a new one.
async fn current_or_new(deps: &StatusDeps, input: &StatusInvocation) -> Result<TenantStatus, FunctionError> {
    let execution = &input.execution;
    let mut status = deps.status.get(&execution.tenant_id).await?.unwrap_or_else(|| TenantStatus {
        tenant_id: execution.tenant_id.clone(),
        customer_name: execution.tenant.customer_name.clone(),
        customer_prefix: None,
        status: TenantState::InProgress,
        digest: String::new(),
        action: execution.action,
        execution_arn: None,
        sequence_number: None,
        updated_at: String::new(),
        modules: Default::default(),
        errors: Vec::new(),
    });
    status.customer_name = execution.tenant.customer_name.clone();
    status.customer_prefix = Some(execution.tenant.customer_prefix.clone());
    status.digest = execution.digest.clone();
    status.action = execution.action;
    status.execution_arn = Some(input.execution_arn.clone());
    status.sequence_number = Some(execution.sequence_number.clone());
    status.errors.clear();
    Ok(status)
}

fn summary(status: &TenantStatus) -> StatusSummary {
    StatusSummary {
        tenant_id: status.tenant_id.clone(),
        status: status.status,
        modules: status.modules.iter().map(|(m, s)| (*m, s.state)).collect(),
    }
}
