//! `tps-bench`: runs the benchmarks and writes docs/benchmarks.md.
//!
//! `make bench` builds the release Lambda bootstraps and the Python
//! baseline's virtualenv, runs the criterion benchmarks, then this binary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tps_bench::init::{InitOptions, MEMORY_SIZE_MB};
use tps_bench::onboarding::OnboardingOptions;
use tps_bench::report::{self, Results, Settings, Variant};
use tps_bench::{criterion_results, init, machine, onboarding, sizes};
use tps_local::{LocalRuntime, Options};

#[derive(Parser)]
#[command(about = "Measure cold start, onboarding latency, memory and sizes of the TPS functions and write the report.")]
struct Args {
    /// Markdown report to write.
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: PathBuf,
    /// JSON file that receives every measured figure.
    #[arg(long, default_value = "target/bench/results.json")]
    json: PathBuf,
    /// Directory of the release bootstraps, `<function>/bootstrap`, as cargo lambda writes them.
    #[arg(long, default_value = "target/lambda")]
    lambda_dir: PathBuf,
    /// Python of the baseline's virtualenv (boto3 and aws-lambda-powertools installed).
    #[arg(long, default_value = ".venv-bench/bin/python")]
    python: PathBuf,
    /// The Python baseline's runtime loop.
    #[arg(long, default_value = "benches/python_baseline/bootstrap.py")]
    python_bootstrap: PathBuf,
    /// Criterion's output directory, read for the hot path figures.
    #[arg(long, default_value = "target/criterion")]
    criterion_dir: PathBuf,
    /// Directory of the function processes' logs.
    #[arg(long, default_value = "target/bench/logs")]
    log_dir: PathBuf,
    /// Measured cold starts per function and language.
    #[arg(long, default_value_t = 10)]
    init_runs: usize,
    /// Single-tenant onboardings.
    #[arg(long, default_value_t = 20)]
    latency_runs: usize,
    /// Tenants written at once.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Seconds the batch may take before it counts as incomplete.
    #[arg(long, default_value_t = 180)]
    batch_timeout: u64,
    /// Skip the cold start and memory benchmark.
    #[arg(long)]
    skip_init: bool,
    /// Skip the Python baseline in the cold start benchmark.
    #[arg(long)]
    skip_python: bool,
    /// Skip the onboarding latency benchmark.
    #[arg(long)]
    skip_onboarding: bool,
    /// Another build to measure for size and Rust cold start, as LABEL=DIR
    /// with DIR holding `<function>/bootstrap`. Repeatable.
    #[arg(long = "variant", value_parser = parse_variant)]
    variants: Vec<(String, PathBuf)>,
    /// The command to name in the report as the one that produced it.
    #[arg(long)]
    command: Option<String>,
    /// Log level (RUST_LOG syntax).
    #[arg(long, env = "RUST_LOG", default_value = "info,tps_local=warn,tps_functions=warn,tps_aws=warn")]
    log: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt().with_env_filter(&args.log).with_writer(std::io::stderr).init();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tps-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every benchmark that is not skipped, on this thread: the local
/// runtimes' moto processes die with the thread that started them.
async fn run(args: &Args) -> anyhow::Result<()> {
    let command = args.command.clone().unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" "));
    let mut results = Results {
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        command,
        machine: machine::describe(),
        versions: versions(args),
        settings: Settings {
            init_runs: args.init_runs,
            latency_runs: args.latency_runs,
            batch: args.batch,
            memory_size_mb: MEMORY_SIZE_MB,
        },
        sizes: None,
        init: None,
        onboarding: None,
        hot_paths: criterion_results::read(&args.criterion_dir)?,
        variants: Vec::new(),
    };
    tracing::info!(count = results.hot_paths.len(), dir = %args.criterion_dir.display(), "criterion results read");

    results.sizes = Some(sizes::measure(&args.lambda_dir)?);

    if !args.skip_init {
        let python = (!args.skip_python).then(|| args.python.clone());
        if let Some(python) = &python {
            anyhow::ensure!(python.is_file(), "{} is missing: create the baseline's virtualenv (make bench does) or pass --skip-python", python.display());
        }
        let options = InitOptions {
            lambda_dir: args.lambda_dir.clone(),
            python,
            python_bootstrap: std::path::absolute(&args.python_bootstrap)?,
            runs: args.init_runs,
            log_dir: args.log_dir.clone(),
            tag: String::new(),
        };
        let runtime = start_runtime("benchinit").await?;
        let measured = measure_init(&runtime, &options, &args.variants).await;
        runtime.stop().await;
        let (default, variants) = measured?;
        results.init = Some(default);
        results.variants = variants;
    }

    if !args.skip_onboarding {
        let options = OnboardingOptions {
            runs: args.latency_runs,
            batch: args.batch,
            single_timeout: Duration::from_secs(60),
            batch_timeout: Duration::from_secs(args.batch_timeout),
        };
        let runtime = start_runtime("benchlat").await?;
        let measured = onboarding::run(&runtime, &options).await;
        runtime.stop().await;
        results.onboarding = Some(measured?);
    }

    write(&args.json, &serde_json::to_string_pretty(&results)?)?;
    write(&args.out, &report::render(&results))?;
    println!("wrote {} and {}", args.out.display(), args.json.display());
    for check in report::check_goals(&results) {
        println!("{:<4} {}: {} (goal {})", if check.met { "ok" } else { "MISS" }, check.figure, check.measured, check.goal);
    }
    Ok(())
}

/// Measures the default build with `options`, then each variant's Rust
/// bootstraps on the same runtime.
async fn measure_init(
    runtime: &LocalRuntime,
    options: &InitOptions,
    variants: &[(String, PathBuf)],
) -> anyhow::Result<(Vec<init::FunctionInit>, Vec<Variant>)> {
    let default = init::run(runtime, options).await?;
    let mut measured = Vec::new();
    for (index, (label, dir)) in variants.iter().enumerate() {
        let variant_options = InitOptions {
            lambda_dir: dir.clone(),
            python: None,
            log_dir: options.log_dir.join(label),
            tag: format!("v{index}"),
            ..options.clone()
        };
        measured.push(Variant {
            label: label.clone(),
            lambda_dir: dir.display().to_string(),
            sizes: sizes::measure(dir)?,
            init: init::run(runtime, &variant_options).await.with_context(|| format!("variant {label}"))?,
        });
    }
    Ok((default, measured))
}

fn parse_variant(text: &str) -> Result<(String, PathBuf), String> {
    let (label, dir) = text.split_once('=').ok_or_else(|| format!("invalid variant {text:?}: expected LABEL=DIR"))?;
    if label.is_empty() || dir.is_empty() {
        return Err(format!("invalid variant {text:?}: expected LABEL=DIR with both parts non-empty"));
    }
    Ok((label.to_string(), PathBuf::from(dir)))
}

/// Starts a local runtime whose stack names are this process's own.
async fn start_runtime(env_prefix: &str) -> anyhow::Result<LocalRuntime> {
    let options = Options { env: format!("{env_prefix}{}", std::process::id()), ..Options::default() };
    LocalRuntime::start(options).await.context("cannot start the local runtime")
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Versions of the toolchain, the crates the functions are built on, the
/// emulator and the Python baseline.
fn versions(args: &Args) -> Vec<(String, String)> {
    let mut versions = vec![
        ("rustc".to_string(), machine::command_version(Path::new("rustc"), &["--version"])),
        ("cargo-lambda".to_string(), machine::command_version(Path::new("cargo"), &["lambda", "--version"])),
    ];
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let crates = ["lambda_runtime", "aws-config", "aws-sdk-dynamodb", "tokio", "serde_dynamo"];
    let locked: Vec<String> = crates.iter().map(|name| format!("{name} {}", locked_version(&lock, name).unwrap_or("?"))).collect();
    versions.push(("crates (Cargo.lock)".to_string(), locked.join(", ")));

    let moto_python = tps_local::paths::repo_root()
        .map(|root| tps_local::paths::moto_server(&root))
        .and_then(|server| server.parent().map(|bin| bin.join("python")));
    if let Some(python) = moto_python {
        versions.push(("emulator".to_string(), machine::python_packages(&python, &["moto"])));
    }
    if !args.skip_python && args.python.is_file() {
        versions.push(("Python baseline".to_string(), machine::command_version(&args.python, &["--version"])));
        versions.push((
            "Python packages".to_string(),
            machine::python_packages(&args.python, &["boto3", "botocore", "aws-lambda-powertools"]),
        ));
    }
    versions
}

/// Returns the version of `name` in a Cargo.lock, the first one listed.
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name = \"{name}\"\nversion = \"");
    let start = lock.find(&marker)? + marker.len();
    let end = lock[start..].find('"')?;
    Some(&lock[start..start + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_argument_is_label_and_dir() {
        assert_eq!(parse_variant("opt-s=/tmp/lambda"), Ok(("opt-s".to_string(), PathBuf::from("/tmp/lambda"))));
        assert!(parse_variant("opt-s").is_err());
        assert!(parse_variant("=/tmp").is_err());
    }

    #[test]
    fn locked_version_reads_the_package_entry() {
        let lock = "[[package]]\nname = \"tokio\"\nversion = \"1.54.1\"\n\n[[package]]\nname = \"tokio-macros\"\nversion = \"2.6.0\"\n";
        assert_eq!(locked_version(lock, "tokio"), Some("1.54.1"));
        assert_eq!(locked_version(lock, "tokio-macros"), Some("2.6.0"));
        assert_eq!(locked_version(lock, "serde"), None);
    }
}
