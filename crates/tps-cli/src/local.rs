//! `tps local`: the local runtime.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use tps_core::naming::StackNames;
use tps_local::faults::FaultConfig;
use tps_local::{demo, LocalRuntime, Options};

#[derive(Subcommand)]
pub enum LocalCommand {
    /// Start the local runtime and keep it running until Ctrl-C.
    Up(RuntimeArgs),
    /// Start the local runtime, onboard the example tenants and print the result.
    ///
    /// Exits 0 only when every tenant reaches the status examples/tenants/expected.json names.
    Demo {
        #[command(flatten)]
        runtime: RuntimeArgs,
        /// Directory of tenant rows and their expected.json.
        #[arg(long, default_value = "examples/tenants")]
        examples: PathBuf,
    },
    /// Print the stack's resource names, function environments and event
    /// source mapping settings as JSON (the CDK tests compare them).
    Manifest {
        #[arg(long, default_value = tps_core::settings::DEFAULT_TEAM)]
        team: String,
        #[arg(long, default_value = "dev")]
        env: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        #[arg(long, default_value = tps_local::ACCOUNT)]
        account: String,
    },
}

#[derive(Args, Clone)]
pub struct RuntimeArgs {
    /// Team part of the resource names (tps-{team}-...).
    #[arg(long, default_value = tps_core::settings::DEFAULT_TEAM)]
    team: String,
    /// Environment part of the resource names (...-{env}).
    #[arg(long, default_value = "local")]
    env: String,
    /// AWS region the emulated resources are in.
    #[arg(long, default_value = "us-east-1")]
    region: String,
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
    fn options(&self) -> anyhow::Result<Options> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            anyhow::bail!("--fault-rate must be between 0.0 and 1.0, got {}", self.fault_rate);
        }
        let faults = (self.fault_rate > 0.0 || self.fault_latency_ms > 0).then(|| FaultConfig {
            failure_rate: self.fault_rate,
            latency: Duration::from_millis(self.fault_latency_ms),
            seed: self.fault_seed,
        });
        Ok(Options {
            team: self.team.clone(),
            env: self.env.clone(),
            region: self.region.clone(),
            faults,
            ..Options::default()
        })
    }
}

fn init_logging(level: &str) {
    std::env::set_var("RUST_LOG", level);
    tps_functions::logging::init();
}

pub async fn run(command: LocalCommand) -> anyhow::Result<ExitCode> {
    match command {
        LocalCommand::Manifest { team, env, region, account } => {
            let manifest = tps_local::stack::manifest(&StackNames::new(team, env), &region, &account);
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Up(args) => {
            init_logging(&args.log);
            let runtime = LocalRuntime::start(args.options()?).await?;
            print_summary(&runtime);
            tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
            eprintln!("stopping");
            runtime.stop().await;
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Demo { runtime: args, examples } => {
            init_logging(&args.log);
            let examples = demo::load_examples(&examples)?;
            eprintln!("starting the local runtime");
            let runtime = LocalRuntime::start(args.options()?).await?;
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
