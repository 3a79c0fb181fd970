//! Wiring: builds each function's dependencies once and serves them, either
//! on the Lambda Runtime API (the binaries) or in process (the local
//! runtime's Invoke API). Both paths run the same handlers.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use tps_aws::dynamo::DynamoStatusStore;
use tps_aws::sfn::SfnWorkflow;
use tps_aws::sns::SnsEventBus;
use tps_aws::{Clients, FunctionSettings};
use tps_core::module::Module;
use tps_core::naming::FunctionKind;
use tps_core::workflow::{ModuleInvocation, StatusInvocation};

use crate::error::FunctionError;
use crate::invocation::Invocation;
use crate::module::ModuleDeps;
use crate::status::StatusDeps;
use crate::stream::StreamDeps;
use crate::{logging, module, status, stream};

/// The dependencies of every function, built from one set of settings.
pub struct Functions {
    pub stream: StreamDeps,
    pub module: ModuleDeps,
    pub status: StatusDeps,
}

impl Functions {
    pub fn new(settings: &FunctionSettings, clients: &Clients) -> Self {
        let events = Arc::new(SnsEventBus::new(clients.sns.clone(), settings.events_topic_arn.clone()));
        let status_store = Arc::new(DynamoStatusStore::new(clients.dynamodb.clone(), settings.status_table.clone()));
        let workflow = Arc::new(SfnWorkflow::new(
            clients.sfn.clone(),
            settings.state_machine_arn.clone().unwrap_or_default(),
        ));
        Self {
            stream: StreamDeps {
                catalogue: settings.catalogue.clone(),
                status: status_store.clone(),
                events: events.clone(),
                workflow,
            },
            module: ModuleDeps {
                team: settings.team.clone(),
                catalogue: settings.catalogue.clone(),
                clients: clients.clone(),
                events: events.clone(),
            },
            status: StatusDeps { status: status_store, events },
        }
    }

    /// Invokes function `kind` with a JSON payload and returns its JSON output.
    pub async fn invoke(
        &self,
        kind: FunctionKind,
        payload: &[u8],
        invocation: &Invocation,
    ) -> Result<Vec<u8>, FunctionError> {
        let invalid = |e: serde_json::Error| FunctionError::InvalidInput(format!("{} event: {e}", kind.label()));
        let output = match kind {
            FunctionKind::Stream => {
                let event: Event = serde_json::from_slice(payload).map_err(invalid)?;
                serde_json::to_vec(&Box::pin(stream::handle(event, invocation, &self.stream)).await)
            }
            FunctionKind::Status => {
                let input: StatusInvocation = serde_json::from_slice(payload).map_err(invalid)?;
                serde_json::to_vec(&Box::pin(status::handle(input, invocation, &self.status)).await?)
            }
            FunctionKind::Amc | FunctionKind::SponsoredAds | FunctionKind::Dsp => {
                let input: ModuleInvocation = serde_json::from_slice(payload).map_err(invalid)?;
                let module = module_of(kind);
                serde_json::to_vec(&Box::pin(module::handle(module, input, invocation, &self.module)).await?)
            }
        };
        Ok(output.expect("handler outputs serialize"))
    }
}

fn module_of(kind: FunctionKind) -> Module {
    match kind {
        FunctionKind::Amc => Module::Amc,
        FunctionKind::SponsoredAds => Module::SponsoredAds,
        _ => Module::Dsp,
    }
}

/// Reads settings and builds clients, or exits with the missing setting named.
async fn start(kind: FunctionKind) -> Functions {
    logging::init();
    let settings = match FunctionSettings::from_env(kind == FunctionKind::Stream) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(error = %error, function = kind.label(), "cannot start");
            eprintln!("{}: {error}", kind.label());
            std::process::exit(2);
        }
    };
    crate::metrics::init(&settings.team, &settings.env);
    let clients = Clients::from_env().await;
    tracing::info!(function = kind.label(), region = %clients.region(), "function initialized");
    Functions::new(&settings, &clients)
}

/// Serves the stream function on the Lambda Runtime API.
pub async fn serve_stream() -> Result<(), lambda_runtime::Error> {
    let functions = start(FunctionKind::Stream).await;
    let functions = &functions;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        let invocation = Invocation::from_context(&event.context);
        Ok::<_, Diagnostic>(Box::pin(stream::handle(event.payload, &invocation, &functions.stream)).await)
    }))
    .await
}

/// Serves a module function on the Lambda Runtime API.
pub async fn serve_module(module: Module) -> Result<(), lambda_runtime::Error> {
    let functions = start(FunctionKind::for_module(module)).await;
    let functions = &functions;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ModuleInvocation>| async move {
        let invocation = Invocation::from_context(&event.context);
        // Boxed: the provisioning future is too deep to nest in the runtime's.
        Box::pin(module::handle(module, event.payload, &invocation, &functions.module))
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}

/// Serves the status function on the Lambda Runtime API.
pub async fn serve_status() -> Result<(), lambda_runtime::Error> {
    let functions = start(FunctionKind::Status).await;
    let functions = &functions;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StatusInvocation>| async move {
        let invocation = Invocation::from_context(&event.context);
        Box::pin(status::handle(event.payload, &invocation, &functions.status))
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
