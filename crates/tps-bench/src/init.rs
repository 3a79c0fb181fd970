//! The cold start benchmark: every function's release bootstrap and the
//! Python baseline, started against the benchmark's Runtime API with an event
//! whose AWS calls reach a local runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tps_core::naming::FunctionKind;
use tps_local::LocalRuntime;

use crate::events::{function_event, tenant_row, EventTarget};
use crate::process::{cold_start, ColdStart, Launch};
use crate::runtime_api::{Invocation, Outcome};

/// Memory size announced to the functions, as the CDK stack configures it.
pub const MEMORY_SIZE_MB: u32 = 128;

/// Time limit of one cold start, after which it counts as failed.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Paths and run count of the cold start benchmark.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// `target/lambda`, holding `<binary>/bootstrap` per function.
    pub lambda_dir: PathBuf,
    /// Python of the baseline's virtualenv; the baseline is skipped when `None`.
    pub python: Option<PathBuf>,
    /// The baseline's runtime loop, `benches/python_baseline/bootstrap.py`.
    pub python_bootstrap: PathBuf,
    /// Measured runs per function and language, after one warm-up run each.
    pub runs: usize,
    /// Directory of each process's output.
    pub log_dir: PathBuf,
    /// Short tag, at most 4 characters of `[a-z0-9]`, that makes this run's
    /// tenants and state machine differ from other runs on the same runtime.
    pub tag: String,
}

/// The language of a measured function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Language {
    Rust,
    Python,
}

impl Language {
    fn tag(self) -> &'static str {
        match self {
            Language::Rust => "rs",
            Language::Python => "py",
        }
    }
}

/// Cold starts of one function.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionInit {
    pub function: String,
    pub binary: String,
    pub rust: Vec<ColdStart>,
    pub python: Vec<ColdStart>,
}

/// Returns the bootstrap binary's name of a function.
pub fn binary_name(kind: FunctionKind) -> &'static str {
    match kind {
        FunctionKind::Stream => "tps-stream",
        FunctionKind::Amc => "tps-amc",
        FunctionKind::SponsoredAds => "tps-sponsored-ads",
        FunctionKind::Dsp => "tps-dsp",
        FunctionKind::Status => "tps-status",
    }
}

fn short_label(kind: FunctionKind) -> &'static str {
    match kind {
        FunctionKind::Stream => "st",
        FunctionKind::Amc => "amc",
        FunctionKind::SponsoredAds => "sa",
        FunctionKind::Dsp => "dsp",
        FunctionKind::Status => "sts",
    }
}

/// Runs the cold start benchmark against `runtime`.
pub async fn run(runtime: &LocalRuntime, options: &InitOptions) -> anyhow::Result<Vec<FunctionInit>> {
    std::fs::create_dir_all(&options.log_dir).with_context(|| format!("cannot create {}", options.log_dir.display()))?;
    for kind in FunctionKind::ALL {
        let bootstrap = bootstrap_path(&options.lambda_dir, kind);
        if !bootstrap.is_file() {
            bail!("{} is missing: build it with `make lambdas` (cargo lambda build --release)", bootstrap.display());
        }
    }
    let noop_state_machine = create_noop_state_machine(runtime, &options.tag).await?;

    let mut results = Vec::new();
    let mut sequence = 1u64;
    for kind in FunctionKind::ALL {
        let mut function = FunctionInit {
            function: kind.label().to_string(),
            binary: binary_name(kind).to_string(),
            rust: Vec::new(),
            python: Vec::new(),
        };
        let environment = function_environment(runtime, kind, &noop_state_machine);
        // Run 0 warms the page cache and is not recorded. Rust and Python
        // alternate so that drift in the machine's load hits both alike.
        // NOTE: so every recorded run starts from a warm page cache, unlike a
        // Lambda cold start, which also fetches the package and boots a sandbox.
        for run in 0..=options.runs {
            for language in [Language::Rust, Language::Python] {
                let launch = match (language, &options.python) {
                    (Language::Rust, _) => rust_launch(options, kind, &environment, run),
                    (Language::Python, Some(python)) => python_launch(options, python, kind, &environment, run),
                    (Language::Python, None) => continue,
                };
                let invocation = invocation(runtime, kind, language, &options.tag, run, sequence)?;
                sequence += 1;
                let measured = cold_start(&launch, invocation, RUN_TIMEOUT, |outcome| check_outcome(kind, outcome))
                    .await
                    .with_context(|| format!("cold start {run} of the {language:?} {} function", kind.label()))?;
                tracing::info!(function = kind.label(), ?language, run, init_ms = measured.init_ms, first_response_ms = measured.first_response_ms, "cold start measured");
                if run == 0 {
                    continue;
                }
                match language {
                    Language::Rust => function.rust.push(measured),
                    Language::Python => function.python.push(measured),
                }
            }
        }
        results.push(function);
    }
    Ok(results)
}

pub fn bootstrap_path(lambda_dir: &Path, kind: FunctionKind) -> PathBuf {
    lambda_dir.join(binary_name(kind)).join("bootstrap")
}

/// Creates a state machine with one Pass state, so that the stream function's
/// StartExecution succeeds without starting an onboarding during the runs.
async fn create_noop_state_machine(runtime: &LocalRuntime, tag: &str) -> anyhow::Result<String> {
    let sfn = aws_sdk_sfn::Client::new(&runtime.sdk_config().await);
    let names = &runtime.stack.names;
    let output = sfn
        .create_state_machine()
        .name(format!("tps-{}-BenchNoop{tag}-{}", names.team, names.env))
        .definition(r#"{"StartAt":"Done","States":{"Done":{"Type":"Pass","End":true}}}"#)
        .role_arn(format!("arn:aws:iam::{}:role/tps-bench-noop", runtime.stack.account))
        .send()
        .await
        .context("states:CreateStateMachine of the benchmark's no-op state machine")?;
    Ok(output.state_machine_arn)
}

/// Builds the environment Lambda and the CDK stack give function `kind`, with the
/// emulator's endpoint and test credentials.
fn function_environment(runtime: &LocalRuntime, kind: FunctionKind, noop_state_machine: &str) -> BTreeMap<String, String> {
    let stack = &runtime.stack;
    let name = stack.names.function(kind);
    let mut env = stack.function_environment(kind);
    if kind == FunctionKind::Stream {
        env.insert(tps_aws::settings::STATE_MACHINE_ARN.to_string(), noop_state_machine.to_string());
    }
    let lambda = [
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_SIZE_MB.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_string()),
        ("AWS_REGION", stack.region.clone()),
        ("AWS_DEFAULT_REGION", stack.region.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_SESSION_TOKEN", "testing".to_string()),
        ("AWS_ENDPOINT_URL", runtime.endpoint.clone()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("LANG", "C.UTF-8".to_string()),
        ("TZ", ":UTC".to_string()),
    ];
    env.extend(lambda.into_iter().map(|(key, value)| (key.to_string(), value)));
    env
}

fn rust_launch(options: &InitOptions, kind: FunctionKind, env: &BTreeMap<String, String>, run: usize) -> Launch {
    Launch {
        program: bootstrap_path(&options.lambda_dir, kind),
        args: Vec::new(),
        env: env.clone(),
        log: options.log_dir.join(format!("{}-rust-{run}.log", binary_name(kind))),
    }
}

fn python_launch(options: &InitOptions, python: &Path, kind: FunctionKind, env: &BTreeMap<String, String>, run: usize) -> Launch {
    let mut env = env.clone();
    env.insert("BENCH_FUNCTION_KIND".to_string(), kind.label().to_string());
    env.insert("LAMBDA_TASK_ROOT".to_string(), options.python_bootstrap.parent().unwrap_or(Path::new(".")).display().to_string());
    Launch {
        program: python.to_path_buf(),
        args: vec![options.python_bootstrap.display().to_string()],
        env,
        log: options.log_dir.join(format!("{}-python-{run}.log", binary_name(kind))),
    }
}

/// Builds the event of one run: a tenant of its own, so that every run creates
/// its resources afresh.
fn invocation(
    runtime: &LocalRuntime,
    kind: FunctionKind,
    language: Language,
    tag: &str,
    run: usize,
    sequence: u64,
) -> anyhow::Result<Invocation> {
    let stack = &runtime.stack;
    let prefix = format!("{}{tag}-{}-{run}", language.tag(), short_label(kind));
    let tenant_id = format!("init-{prefix}");
    let row = tenant_row(&tenant_id, &prefix);
    let execution_arn = format!(
        "arn:aws:states:{}:{}:execution:{}:{tenant_id}-bench",
        stack.region,
        stack.account,
        stack.names.state_machine()
    );
    let target = EventTarget { stream_arn: &stack.stream_arn, region: &stack.region, execution_arn: &execution_arn };
    Ok(Invocation {
        request_id: format!("bench-{}-{}-{run}", language.tag(), short_label(kind)),
        function_arn: stack.function_arn(kind),
        payload: Bytes::from(function_event(kind, &row, sequence, &target)?),
    })
}

/// Accepts only a successful outcome: a response, and for the stream
/// function one that reports no failed record.
fn check_outcome(kind: FunctionKind, outcome: &Outcome) -> anyhow::Result<()> {
    let Outcome::Response(body) = outcome else {
        bail!("expected a response, got {} {}", outcome.kind(), outcome.body());
    };
    if kind == FunctionKind::Stream {
        let response: Value = serde_json::from_str(body).with_context(|| format!("stream response is not JSON: {body}"))?;
        let failures = response
            .get("batchItemFailures")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("stream response has no batchItemFailures: {body}"))?;
        if !failures.is_empty() {
            bail!("the stream function reported failed records: {body}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_response_with_failures_is_rejected() {
        let ok = Outcome::Response(r#"{"batchItemFailures":[]}"#.into());
        assert!(check_outcome(FunctionKind::Stream, &ok).is_ok());
        let failed = Outcome::Response(r#"{"batchItemFailures":[{"itemIdentifier":"1"}]}"#.into());
        assert!(check_outcome(FunctionKind::Stream, &failed).is_err());
        let error = Outcome::Error(r#"{"errorType":"X"}"#.into());
        assert!(check_outcome(FunctionKind::Amc, &error).is_err());
        assert!(check_outcome(FunctionKind::Amc, &Outcome::Response("{}".into())).is_ok());
    }

    #[test]
    fn bootstrap_paths_follow_cargo_lambda_layout() {
        let path = bootstrap_path(Path::new("target/lambda"), FunctionKind::SponsoredAds);
        assert_eq!(path, PathBuf::from("target/lambda/tps-sponsored-ads/bootstrap"));
    }
}
