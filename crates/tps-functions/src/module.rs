//! The module functions: provision or deprovision one module of a tenant,
//! then publish the module event.

use std::sync::Arc;

use tps_aws::provision::{amc, dsp, sponsored_ads, ModuleContext, ProvisionError};
use tps_aws::Clients;
use tps_core::action::ModuleOperation;
use tps_core::catalogue::DatasetCatalogue;
use tps_core::events::{EventType, Notification};
use tps_core::module::Module;
use tps_core::ports::EventBus;
use tps_core::workflow::{ModuleInvocation, ModuleOutcome};
use tracing::{info_span, Instrument};

use crate::error::FunctionError;
use crate::invocation::Invocation;

pub struct ModuleDeps {
    pub team: String,
    pub catalogue: DatasetCatalogue,
    pub clients: Clients,
    pub events: Arc<dyn EventBus>,
}

/// Runs one module task. `module` is the module this function serves; a
/// task for another module is invalid input.
pub async fn handle(
    module: Module,
    input: ModuleInvocation,
    invocation: &Invocation,
    deps: &ModuleDeps,
) -> Result<ModuleOutcome, FunctionError> {
    let span = info_span!(
        "module_task",
        tenant_id = %input.tenant_id,
        module = %module,
        operation = ?input.task.operation,
        execution_arn = %input.execution_arn,
        aws_request_id = %invocation.request_id,
    );
    async {
        let timer = crate::metrics::TaskTimer::start();
        let result = run(module, &input, invocation, deps).await;
        timer.finish(module, &input, result.is_ok());
        match &result {
            Ok(_) => tracing::info!("module task succeeded"),
            Err((error, code)) => tracing::error!(
                error = %error,
                error_type = error.error_type(),
                aws_error_code = code.as_deref().unwrap_or("-"),
                "module task failed"
            ),
        }
        result.map_err(|(error, _)| error)
    }
    .instrument(span)
    .await
}

async fn run(
    module: Module,
    input: &ModuleInvocation,
    invocation: &Invocation,
    deps: &ModuleDeps,
) -> Result<ModuleOutcome, (FunctionError, Option<String>)> {
    if input.task.module != module {
        let message = format!("this function provisions {module}, but the task is for {}", input.task.module);
        return Err((FunctionError::InvalidInput(message), None));
    }
    let account = invocation
        .account()
        .ok_or_else(|| {
            let message = format!("cannot read the account id from the function ARN {:?}", invocation.function_arn);
            (FunctionError::InvalidInput(message), None)
        })?
        .to_string();

    let context = ModuleContext {
        clients: &deps.clients,
        catalogue: &deps.catalogue,
        tenant: &input.tenant,
        account,
        team: deps.team.clone(),
    };
    let operation = input.task.operation;
    let outputs = match (module, operation) {
        (Module::Amc, ModuleOperation::Provision) => amc::provision(&context).await,
        (Module::Amc, ModuleOperation::Deprovision) => amc::deprovision(&context).await,
        (Module::SponsoredAds, ModuleOperation::Provision) => sponsored_ads::provision(&context).await,
        (Module::SponsoredAds, ModuleOperation::Deprovision) => sponsored_ads::deprovision(&context).await,
        (Module::Dsp, ModuleOperation::Provision) => dsp::provision(&context).await,
        (Module::Dsp, ModuleOperation::Deprovision) => dsp::deprovision(&context).await,
    }
    .map_err(|error: ProvisionError| {
        let code = error.aws_code().map(str::to_string);
        (FunctionError::from(error), code)
    })?;

    let event_type = match operation {
        ModuleOperation::Provision => EventType::ModuleProvisioned,
        ModuleOperation::Deprovision => EventType::ModuleDeprovisioned,
    };
    let mut notification =
        Notification::new(event_type, &input.tenant_id, &input.digest, input.execution_name(), Some(module));
    notification.execution_arn = input.execution_arn.clone();
    notification.outputs = Some(outputs.clone());
    deps.events.publish(&notification).await.map_err(|error| {
        let code = error.code.clone();
        (FunctionError::from(error), code)
    })?;

    Ok(ModuleOutcome { module, operation, module_digest: input.task.module_digest.clone(), outputs })
}
