//! The local runtime: the whole service on one machine.
//!
//! [`LocalRuntime::start`] starts moto, switches its Step Functions
//! interpreter on, creates the stack's resources with the CDK stack's names
//! and state machine definition, serves the Lambda Invoke API for the
//! project's functions on moto's `MOTO_PORT` (relaying every other request
//! to moto), and plays the tenant table's event source mapping. Every
//! client, the functions included, talks to [`LocalRuntime::endpoint`].
//! Dropping the runtime stops everything it started.

pub mod demo;
pub mod esm;
pub mod faults;
pub mod gateway;
pub mod moto;
pub mod paths;
pub mod stack;
pub mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use aws_config::{Region, SdkConfig};
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;
use tps_aws::{Clients, FunctionSettings};
use tps_core::naming::{FunctionKind, StackNames};
use tps_functions::runtime::Functions;

use crate::esm::{EventSourceMapping, MappingStats};
use crate::faults::{FaultConfig, FaultInjector};
use crate::gateway::Gateway;
use crate::moto::Moto;
use crate::stack::{SetupClients, Stack};

/// The account moto reports.
pub const ACCOUNT: &str = "123456789012";

/// How to start the runtime.
#[derive(Debug, Clone)]
pub struct Options {
    pub team: String,
    pub env: String,
    pub region: String,
    /// Faults to inject into the functions' AWS calls; none when `None`.
    pub faults: Option<FaultConfig>,
    /// Invoke the stream function twice with every batch.
    pub duplicate_delivery: bool,
    /// Directory of moto's log file, the system temporary directory when `None`.
    pub log_dir: Option<PathBuf>,
    /// Port of the gateway (the runtime's endpoint) on 127.0.0.1; any free
    /// port when `None` or 0.
    pub gateway_port: Option<u16>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            team: tps_core::settings::DEFAULT_TEAM.to_string(),
            env: "local".to_string(),
            region: "us-east-1".to_string(),
            faults: None,
            duplicate_delivery: false,
            log_dir: None,
            gateway_port: None,
        }
    }
}

pub struct LocalRuntime {
    /// The gateway's URL: point every AWS client here.
    pub endpoint: String,
    pub moto_endpoint: String,
    pub stack: Stack,
    pub faults: Option<Arc<FaultInjector>>,
    pub mapping_stats: Arc<MappingStats>,
    pub gateway: Arc<Gateway>,
    pub moto_log: PathBuf,
    shutdown: signal::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _moto: Moto,
}

impl LocalRuntime {
    /// Starts moto, creates the stack and serves the functions. Call it from
    /// a thread that outlives the runtime: moto is killed when that thread
    /// exits.
    pub async fn start(options: Options) -> anyhow::Result<Self> {
        let root = paths::repo_root().ok_or_else(|| {
            anyhow!("cannot find the repository (no {} above the current directory); run from the repository or set TPS_REPO_ROOT", paths::STATE_MACHINE_FILE)
        })?;

        let requested_port = options.gateway_port.unwrap_or(0);
        let listener = TcpListener::bind(("127.0.0.1", requested_port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{requested_port}"))?;
        let gateway_port = listener.local_addr()?.port();
        let mut listeners = vec![listener];
        // moto calls "localhost", which may resolve to ::1 first.
        if let Ok(v6) = TcpListener::bind(("::1", gateway_port)).await {
            listeners.push(v6);
        }

        let log_dir = options.log_dir.clone().unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&log_dir).with_context(|| format!("cannot create {}", log_dir.display()))?;
        let moto_log = log_dir.join(format!("tps-moto-{}-{gateway_port}.log", std::process::id()));
        let moto_port = moto::free_port()?;
        let moto = Moto::start(&paths::moto_server(&root), moto_port, gateway_port, &moto_log)?;
        let endpoint = format!("http://127.0.0.1:{gateway_port}");
        tracing::info!(endpoint, moto = %moto.endpoint(), log = %moto_log.display(), "moto started");

        let setup_config = sdk_config(&moto.endpoint(), &options.region).await;
        let setup = SetupClients {
            dynamodb: aws_sdk_dynamodb::Client::new(&setup_config),
            kms: aws_sdk_kms::Client::new(&setup_config),
            sns: aws_sdk_sns::Client::new(&setup_config),
            sqs: aws_sdk_sqs::Client::new(&setup_config),
            sfn: aws_sdk_sfn::Client::new(&setup_config),
        };
        let names = StackNames::new(options.team.clone(), options.env.clone());
        let stack = stack::create(&setup, &moto.endpoint(), &names, &options.region, ACCOUNT, &root).await?;

        // The functions read the variables the CDK stack sets; the stream
        // function's set is the superset.
        let environment = stack.function_environment(FunctionKind::Stream);
        let settings = FunctionSettings::from_lookup(|name| environment.get(name).cloned(), true)?;
        // The app name marks the functions' calls in their User-Agent, so
        // that faults are injected into those calls only.
        let function_config = tps_aws::clients::loader()
            .region(Region::new(options.region.clone()))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "tps-local"))
            .app_name(aws_config::AppName::new(gateway::FUNCTIONS_APP_NAME).expect("a valid app name"))
            .load()
            .await;
        let functions = Arc::new(Functions::new(&settings, &Clients::new(&function_config)));

        let faults = options.faults.clone().map(|config| Arc::new(FaultInjector::new(config)));
        let function_names: HashMap<String, FunctionKind> =
            FunctionKind::ALL.iter().map(|kind| (names.function(*kind), *kind)).collect();
        let gateway = Arc::new(Gateway::new(
            moto.endpoint(),
            functions.clone(),
            function_names,
            options.region.clone(),
            ACCOUNT.to_string(),
            faults.clone(),
        ));
        let (shutdown, shutdown_signal) = signal::channel(false);
        let mut tasks = vec![tokio::spawn(gateway.clone().serve(listeners, shutdown_signal.clone()))];

        let mapping_stats = Arc::new(MappingStats::default());
        let mapping = Arc::new(EventSourceMapping {
            streams: aws_sdk_dynamodbstreams::Client::new(&setup_config),
            sqs: aws_sdk_sqs::Client::new(&setup_config),
            stream_arn: stack.stream_arn.clone(),
            region: options.region.clone(),
            function_arn: stack.function_arn(FunctionKind::Stream),
            destination_queue_url: stack.failure_queue_url.clone(),
            functions,
            duplicate_delivery: options.duplicate_delivery,
            stats: mapping_stats.clone(),
        });
        tasks.push(tokio::spawn(mapping.run(shutdown_signal)));
        tracing::info!(endpoint, tenant_table = %names.tenant_table(), "local runtime ready");

        Ok(Self {
            endpoint,
            moto_endpoint: moto.endpoint(),
            stack,
            faults,
            mapping_stats,
            gateway,
            moto_log,
            shutdown,
            tasks,
            _moto: moto,
        })
    }

    /// SDK configuration for clients of this runtime.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config(&self.endpoint, &self.stack.region).await
    }

    /// Stops the mapping and the gateway, then moto.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        tracing::info!("local runtime stopped");
    }
}

/// The parts of a runtime that [`start_on_own_thread`] hands back.
#[derive(Clone)]
pub struct RuntimeHandle {
    pub endpoint: String,
    pub moto_endpoint: String,
    pub stack: Stack,
    pub faults: Option<Arc<FaultInjector>>,
    pub mapping_stats: Arc<MappingStats>,
}

/// Starts a runtime on a thread of its own that keeps it running until the
/// process exits. Tests share one runtime per process this way, because moto
/// is killed when the thread that started it exits.
pub fn start_on_own_thread(options: Options) -> anyhow::Result<RuntimeHandle> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("local-runtime".into())
        .spawn(move || {
            let tokio = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(tokio) => tokio,
                Err(error) => {
                    let _ = sender.send(Err(anyhow!("cannot build a tokio runtime: {error}")));
                    return;
                }
            };
            tokio.block_on(async move {
                match LocalRuntime::start(options).await {
                    Ok(local) => {
                        let _ = sender.send(Ok(RuntimeHandle {
                            endpoint: local.endpoint.clone(),
                            moto_endpoint: local.moto_endpoint.clone(),
                            stack: local.stack.clone(),
                            faults: local.faults.clone(),
                            mapping_stats: local.mapping_stats.clone(),
                        }));
                        std::future::pending::<()>().await;
                        drop(local);
                    }
                    Err(error) => {
                        let _ = sender.send(Err(error));
                    }
                }
            });
        })
        .context("cannot spawn the local runtime's thread")?;
    receiver.recv().context("the local runtime's thread ended before the runtime started")?
}

/// SDK configuration for `endpoint` with the emulator's test credentials.
pub async fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    tps_aws::clients::loader()
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "tps-local"))
        .load()
        .await
}
