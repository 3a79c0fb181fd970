//! `tps local`: the local runtime.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use tps_core::naming::StackNames;
use tps_local::faults::FaultConfig;
use tps_local::{demo, LocalRuntime, Options};

use crate::context::{Ddk, GlobalArgs, LOCAL_ENDPOINT_VAR, LOCAL_ENV, LOCAL_REGION};

#[derive(Subcommand, Debug)]
pub enum LocalCommand {
    /// Start the local runtime and keep it running until Ctrl-C.
    ///
    /// Prints the endpoints on standard error and `export
    /// TPS_LOCAL_ENDPOINT=URL` on standard output; other tps commands reach
    /// the runtime with --local. Uses --team (default from ddk.json), --env
    /// (default local) and --region (default us-east-1).
    Up {
        #[command(flatten)]
        runtime: RuntimeArgs,
        /// Port of the runtime's endpoint on 127.0.0.1; 0 picks any free port.
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
    },
    /// Start the local runtime, onboard the example tenants and print the result.
    ///
    /// Exits 0 only when every tenant reaches the status examples/tenants/expected.json names.
    Demo {
        #[command(flatten)]
        runtime: RuntimeArgs,
        /// Directory of tenant rows and their expected.json.
        #[arg(long, default_value = "examples/tenants")]
        examples: PathBuf,
        /// Port of the runtime's endpoint on 127.0.0.1; 0 picks any free port.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Print the stack's resource names, function environments and event
    /// source mapping settings as JSON (the CDK tests compare them).
    ///
    /// Uses --team (default from ddk.json, else demoteam), --env (default
    /// dev) and --region (default us-east-1).
    Manifest {
        /// AWS account id (12 digits) in the ARNs.
        #[arg(long, default_value = tps_local::ACCOUNT)]
        account: String,
    },
}

/// The port `tps local up` listens on, which `--local` reaches by default.
const DEFAULT_PORT: u16 = 4566;

#[derive(Args, Clone, Debug)]
pub struct RuntimeArgs {
    /// Share of the functions' AWS calls that fail (0.0 to 1.0) with
    /// throttling, HTTP 500 or a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Milliseconds added to every relayed AWS call.
    #[arg(long, default_value_t = 0)]
    fault_latency_ms: u64,
    /// Seed of the fault injection, for reproducible runs.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
    /// Log level of the runtime and functions (RUST_LOG syntax).
    #[arg(long, env = "RUST_LOG", default_value = "warn")]
    log: String,
}

impl RuntimeArgs {
    fn options(&self, global: &GlobalArgs, port: u16) -> anyhow::Result<Options> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            anyhow::bail!("--fault-rate must be between 0.0 and 1.0, got {}", self.fault_rate);
        }
        let faults = (self.fault_rate > 0.0 || self.fault_latency_ms > 0).then(|| FaultConfig {
            failure_rate: self.fault_rate,
            latency: Duration::from_millis(self.fault_latency_ms),
            seed: self.fault_seed,
        });
        Ok(Options {
            team: team(global)?,
            env: global.env.clone().unwrap_or_else(|| LOCAL_ENV.to_string()),
            region: global.region.clone().unwrap_or_else(|| LOCAL_REGION.to_string()),
            faults,
            gateway_port: Some(port),
            ..Options::default()
        })
    }
}

/// Returns `--team`, else the team of ddk.json.
fn team(global: &GlobalArgs) -> anyhow::Result<String> {
    match &global.team {
        Some(team) => Ok(team.clone()),
        None => Ok(Ddk::load(global.ddk_config.as_deref())?.team()),
    }
}

/// Starts the runtime with a spinner on standard error, and names the
/// option to change when the port is taken.
async fn start(options: Options) -> anyhow::Result<LocalRuntime> {
    let port = options.gateway_port.unwrap_or(0);
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(format!("starting the local runtime: moto and the stack of team {}, environment {}", options.team, options.env));
    spinner.enable_steady_tick(Duration::from_millis(100));
    let started = LocalRuntime::start(options).await;
    spinner.finish_and_clear();
    started.map_err(|error| {
        let in_use = error
            .chain()
            .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse));
        if in_use {
            error.context(format!(
                "port {port} is in use, perhaps by another `tps local up`: stop it, or pass --port with another port (0 picks any free port)"
            ))
        } else {
            error
        }
    })
}

fn init_logging(level: &str) {
    std::env::set_var("RUST_LOG", level);
    tps_functions::logging::init();
}

pub async fn run(command: LocalCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        LocalCommand::Manifest { account } => {
            let env = global.env.clone().unwrap_or_else(|| "dev".to_string());
            let region = global.region.clone().unwrap_or_else(|| LOCAL_REGION.to_string());
            let manifest = tps_local::stack::manifest(&StackNames::new(team(global)?, env), &region, &account);
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Up { runtime: args, port } => {
            init_logging(&args.log);
            let runtime = start(args.options(global, port)?).await?;
            print_summary(&runtime);
            print_hint(&runtime);
            println!("export {LOCAL_ENDPOINT_VAR}={}", runtime.endpoint);
            tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
            eprintln!("stopping");
            runtime.stop().await;
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Demo { runtime: args, examples, port } => {
            // The demo prints every notification itself; by default only
            // errors are logged, so the expected rejection of the invalid
            // example does not interleave a warning with the report.
            let level = if std::env::var_os("RUST_LOG").is_none() && args.log == "warn" { "error" } else { &args.log };
            init_logging(level);
            let examples = demo::load_examples(&examples)?;
            eprintln!("starting the local runtime");
            let runtime = start(args.options(global, port)?).await?;
            print_summary(&runtime);
            let mut stdout = std::io::stdout();
            let outcomes = tokio::select! {
                outcomes = demo::run(&runtime, examples, &mut stdout) => outcomes,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("interrupted");
                    runtime.stop().await;
                    return Ok(ExitCode::from(130));
                }
            };
            runtime.stop().await;
            let outcomes = outcomes?;
            let failed: Vec<&str> =
                outcomes.iter().filter(|o| !o.passed()).map(|o| o.example.tenant_id.as_str()).collect();
            if failed.is_empty() {
                println!("every tenant reached its expected status");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("tenants that did not reach their expected status: {}", failed.join(", "));
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

/// Prints the command that reaches this runtime from another shell.
fn print_hint(runtime: &LocalRuntime) {
    let names = &runtime.stack.names;
    let mut command = "tps --local".to_string();
    if names.env != LOCAL_ENV {
        command.push_str(&format!(" --env {}", names.env));
    }
    if runtime.stack.region != LOCAL_REGION {
        command.push_str(&format!(" --region {}", runtime.stack.region));
    }
    let endpoint = &runtime.endpoint;
    if endpoint.as_str() != crate::context::DEFAULT_LOCAL_ENDPOINT {
        command = format!("{LOCAL_ENDPOINT_VAR}={endpoint} {command}");
    }
    eprintln!("  try             {command} status");
}

fn print_summary(runtime: &LocalRuntime) {
    let names = &runtime.stack.names;
    let mut err = std::io::stderr();
    let _ = writeln!(err, "local runtime ready");
    let _ = writeln!(err, "  endpoint        {}  (AWS_ENDPOINT_URL for any client)", runtime.endpoint);
    let _ = writeln!(err, "  tenant table    {}", names.tenant_table());
    let _ = writeln!(err, "  status table    {}", names.status_table());
    let _ = writeln!(err, "  events topic    {}", runtime.stack.topic_arn);
    let _ = writeln!(err, "  status queue    {}", runtime.stack.status_queue_url);
    let _ = writeln!(err, "  state machine   {}", runtime.stack.state_machine_arn);
    let _ = writeln!(err, "  moto log        {}", runtime.moto_log.display());
}
