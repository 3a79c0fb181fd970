//! The benchmark report: every figure of one run, as JSON and as the
//! Markdown page `docs/benchmarks.md`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::criterion_results::HotPath;
use crate::init::FunctionInit;
use crate::machine::Machine;
use crate::onboarding::{OnboardingResults, TenantTimeline};
use crate::process::ColdStart;
use crate::sizes::FunctionSize;
use crate::stats::{median_of, Summary};

/// Goals the figures are compared with.
pub mod goals {
    /// Python baseline's median init over the Rust function's, at least.
    pub const INIT_RATIO: f64 = 20.0;
    /// One tenant with three modules, row to terminal event, in milliseconds.
    pub const SINGLE_P50_MS: f64 = 2_000.0;
    pub const SINGLE_P95_MS: f64 = 5_000.0;
    /// A batch of tenants written at once, until all are terminal.
    pub const BATCH_MS: f64 = 60_000.0;
    /// Peak resident memory of each function, in bytes (40 MB).
    pub const MAX_RSS_BYTES: f64 = 40.0e6;
    /// Zipped deployment package of each function, in bytes (6 MB).
    pub const ZIP_BYTES: f64 = 6.0e6;
    /// Step Functions state transitions per onboarding, at most.
    pub const STATE_TRANSITIONS: usize = 15;
}

/// Run counts and the memory size announced to the functions.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub init_runs: usize,
    pub latency_runs: usize,
    pub batch: usize,
    pub memory_size_mb: u32,
}

/// Everything one run measured. Parts that were skipped are `None` or empty.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub generated_at: String,
    pub command: String,
    pub machine: Machine,
    /// Tool and library versions, as `(name, version)`.
    pub versions: Vec<(String, String)>,
    pub settings: Settings,
    pub sizes: Option<Vec<FunctionSize>>,
    pub init: Option<Vec<FunctionInit>>,
    pub onboarding: Option<OnboardingResults>,
    pub hot_paths: Vec<HotPath>,
    /// Other builds of the bootstraps, measured for size and Rust cold start.
    pub variants: Vec<Variant>,
}

/// Another build of the bootstraps, such as one with `opt-level = "s"`.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    pub label: String,
    pub lambda_dir: String,
    pub sizes: Vec<FunctionSize>,
    pub init: Vec<FunctionInit>,
}

/// One goal and whether the run met it.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalCheck {
    pub figure: String,
    pub goal: String,
    pub measured: String,
    pub met: bool,
}

const MIB: f64 = 1024.0 * 1024.0;

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / MIB)
}

/// Formats milliseconds with a precision that suits their size.
fn ms(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn opt_ms(value: Option<f64>) -> String {
    value.map(ms).unwrap_or_else(|| "-".into())
}

fn seconds(value_ms: f64) -> String {
    format!("{:.2} s", value_ms / 1000.0)
}

fn summary_of(values: impl IntoIterator<Item = f64>) -> Option<Summary> {
    Summary::of(&values.into_iter().collect::<Vec<_>>())
}

fn init_summary(runs: &[ColdStart]) -> Option<Summary> {
    summary_of(runs.iter().map(|r| r.init_ms))
}

fn response_summary(runs: &[ColdStart]) -> Option<Summary> {
    summary_of(runs.iter().map(|r| r.first_response_ms))
}

fn rss_summary(runs: &[ColdStart]) -> Option<Summary> {
    summary_of(runs.iter().filter_map(ColdStart::max_rss_mib))
}

/// Returns Python's median init divided by Rust's, for one function.
pub fn init_ratio(function: &FunctionInit) -> Option<f64> {
    let rust = init_summary(&function.rust)?.p50;
    let python = init_summary(&function.python)?.p50;
    (rust > 0.0).then(|| python / rust)
}

fn single_totals(onboarding: &OnboardingResults) -> Vec<f64> {
    onboarding.single.iter().filter_map(|t| t.total_ms).collect()
}

/// Checks every goal the run has figures for.
pub fn check_goals(results: &Results) -> Vec<GoalCheck> {
    let mut checks = Vec::new();
    if let Some(init) = &results.init {
        for function in init {
            if let Some(ratio) = init_ratio(function) {
                checks.push(GoalCheck {
                    figure: format!("{} init, Python p50 / Rust p50", function.function),
                    goal: format!(">= {:.0}x", goals::INIT_RATIO),
                    measured: format!("{ratio:.0}x"),
                    met: ratio >= goals::INIT_RATIO,
                });
            }
        }
        for function in init {
            let peak = function.rust.iter().filter_map(ColdStart::max_rss_mib).fold(None, |max: Option<f64>, v| Some(max.map_or(v, |m| m.max(v))));
            if let Some(peak) = peak {
                checks.push(GoalCheck {
                    figure: format!("{} max RSS (highest run)", function.function),
                    goal: format!("< 40 MB ({})", mib(goals::MAX_RSS_BYTES)),
                    measured: format!("{peak:.1} MiB"),
                    met: peak * MIB < goals::MAX_RSS_BYTES,
                });
            }
        }
    }
    if let Some(sizes) = &results.sizes {
        for size in sizes {
            checks.push(GoalCheck {
                figure: format!("{} zip size", size.function),
                goal: format!("< 6 MB ({})", mib(goals::ZIP_BYTES)),
                measured: mib(size.zip_bytes as f64),
                met: (size.zip_bytes as f64) < goals::ZIP_BYTES,
            });
        }
    }
    if let Some(onboarding) = &results.onboarding {
        let totals = single_totals(onboarding);
        let complete = totals.len() == onboarding.single.len() && !totals.is_empty();
        if let Some(summary) = Summary::of(&totals) {
            checks.push(GoalCheck {
                figure: format!("1 tenant, 3 modules: p50 of {} runs", onboarding.single.len()),
                goal: format!("< {}", seconds(goals::SINGLE_P50_MS)),
                measured: seconds(summary.p50),
                met: complete && summary.p50 < goals::SINGLE_P50_MS,
            });
            checks.push(GoalCheck {
                figure: format!("1 tenant, 3 modules: p95 of {} runs", onboarding.single.len()),
                goal: format!("< {}", seconds(goals::SINGLE_P95_MS)),
                measured: seconds(summary.p95),
                met: complete && summary.p95 < goals::SINGLE_P95_MS,
            });
        }
        let batch = &onboarding.batch;
        checks.push(GoalCheck {
            figure: format!("{} tenants written at once, until all terminal", batch.tenants),
            goal: format!("< {}", seconds(goals::BATCH_MS)),
            measured: if batch.all_terminal {
                seconds(batch.elapsed_ms)
            } else {
                format!("{} of {} terminal after {}", batch.terminal_count(), batch.tenants, seconds(batch.elapsed_ms))
            },
            met: batch.all_terminal && batch.elapsed_ms < goals::BATCH_MS,
        });
        let transitions: Vec<usize> = onboarding.single.iter().map(|t| t.execution.state_transitions).collect();
        if let Some(max) = transitions.iter().max() {
            checks.push(GoalCheck {
                figure: "state transitions per onboarding (3 modules)".into(),
                goal: format!("<= {}", goals::STATE_TRANSITIONS),
                measured: max.to_string(),
                met: *max > 0 && *max <= goals::STATE_TRANSITIONS,
            });
        }
    }
    checks
}

/// Renders the Markdown page.
pub fn render(results: &Results) -> String {
    let mut out = String::new();
    header(&mut out, results);
    goals_section(&mut out, results);
    if let Some(init) = &results.init {
        init_section(&mut out, init, &results.settings);
        memory_section(&mut out, init);
    }
    if let Some(sizes) = &results.sizes {
        sizes_section(&mut out, sizes);
    }
    if !results.variants.is_empty() {
        variants_section(&mut out, results);
    }
    if let Some(onboarding) = &results.onboarding {
        onboarding_section(&mut out, onboarding);
    }
    hot_paths_section(&mut out, &results.hot_paths);
    method_section(&mut out);
    out
}

fn header(out: &mut String, results: &Results) {
    let machine = &results.machine;
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Figures of one run of `{}` on {}. The page is generated by the `tps-bench` \
         binary (crates/tps-bench): rerun the command to refresh it rather than edit it.\n",
        results.command, results.generated_at
    );
    let _ = writeln!(out, "## Machine and versions\n");
    let _ = writeln!(out, "| item | value |\n|---|---|");
    let _ = writeln!(out, "| CPUs (nproc) | {} |", machine.cpus);
    let _ = writeln!(out, "| CPU model | {} |", machine.cpu_model);
    let _ = writeln!(out, "| memory | {:.1} GiB |", machine.memory_gib);
    let _ = writeln!(out, "| OS, kernel | {}, Linux {} |", machine.os, machine.kernel);
    for (name, version) in &results.versions {
        let _ = writeln!(out, "| {name} | {version} |");
    }
    let settings = &results.settings;
    let _ = writeln!(
        out,
        "| runs | {} cold starts per function and language (after one warm-up each), \
         {} single-tenant onboardings (after one warm-up), {} tenants in the batch |\n",
        settings.init_runs, settings.latency_runs, settings.batch
    );
}

fn goals_section(out: &mut String, results: &Results) {
    let checks = check_goals(results);
    if checks.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Goals\n");
    let _ = writeln!(out, "| figure | goal | measured | met |\n|---|---|---|---|");
    for check in &checks {
        let _ = writeln!(out, "| {} | {} | {} | {} |", check.figure, check.goal, check.measured, if check.met { "yes" } else { "**no**" });
    }
    let _ = writeln!(out);
}

fn init_section(out: &mut String, init: &[FunctionInit], settings: &crate::report::Settings) {
    let _ = writeln!(out, "## Cold start\n");
    let _ = writeln!(
        out,
        "Process start to the first `GET /2018-06-01/runtime/invocation/next` (init), and to \
         the first response posted (first response), in milliseconds. Each run starts a new \
         process, announced {} MB of memory, against a fresh Runtime API on 127.0.0.1. The \
         process handles an event that provisions a tenant of its own on a local runtime \
         (moto behind the tps-local gateway).\n",
        settings.memory_size_mb
    );
    let _ = writeln!(
        out,
        "| function | Rust init p50 | Rust init p95 | Python init p50 | Python init p95 | ratio (p50) | Rust first response p50 | Python first response p50 |\n|---|---|---|---|---|---|---|---|"
    );
    for function in init {
        let rust = init_summary(&function.rust);
        let python = init_summary(&function.python);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            function.binary,
            opt_ms(rust.map(|s| s.p50)),
            opt_ms(rust.map(|s| s.p95)),
            opt_ms(python.map(|s| s.p50)),
            opt_ms(python.map(|s| s.p95)),
            init_ratio(function).map(|r| format!("{r:.0}x")).unwrap_or_else(|| "-".into()),
            opt_ms(response_summary(&function.rust).map(|s| s.p50)),
            opt_ms(response_summary(&function.python).map(|s| s.p50)),
        );
    }
    let _ = writeln!(
        out,
        "\nThe Python handler makes fewer AWS calls per event than the Rust function (see \
         Method), so the first-response columns favor Python; the init columns compare like with like.\n"
    );
}

fn memory_section(out: &mut String, init: &[FunctionInit]) {
    let _ = writeln!(out, "## Memory\n");
    let _ = writeln!(
        out,
        "Peak resident set size of each process after it handled its event: the larger of \
         `VmHWM` from `/proc/<pid>/status`, read once the runtime requested its next event, \
         and `ru_maxrss` from `wait4` after the process was killed.\n"
    );
    let _ = writeln!(out, "| function | Rust p50 | Rust max | Python p50 | Python max |\n|---|---|---|---|---|");
    for function in init {
        let rust = rss_summary(&function.rust);
        let python = rss_summary(&function.python);
        let fmt = |value: Option<f64>| value.map(|v| format!("{v:.1} MiB")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            function.binary,
            fmt(rust.map(|s| s.p50)),
            fmt(rust.map(|s| s.max)),
            fmt(python.map(|s| s.p50)),
            fmt(python.map(|s| s.max)),
        );
    }
    let _ = writeln!(out);
}

fn sizes_section(out: &mut String, sizes: &[FunctionSize]) {
    let _ = writeln!(out, "## Deployment size\n");
    let _ = writeln!(
        out,
        "Each `target/lambda/<function>/bootstrap` as `cargo lambda build --release` builds it \
         (x86_64; the workspace's release profile: `opt-level = \"s\"`, `lto = \"thin\"`, \
         `codegen-units = 1`, `strip = true`), and the zip of that one file (deflate).\n"
    );
    let _ = writeln!(out, "| function | binary | zip |\n|---|---|---|");
    for size in sizes {
        let _ = writeln!(out, "| {} | {} | {} |", size.binary, mib(size.binary_bytes as f64), mib(size.zip_bytes as f64));
    }
    let _ = writeln!(out);
    out.push_str(OPT_LEVEL_NOTE);
}

/// The opt-level comparison, measured once because each build variant is a
/// full release build. Rerun it with `--variant` to refresh the figures.
/// NOTE: these figures are fixed text and do not follow source changes.
const OPT_LEVEL_NOTE: &str = "The workspace builds for size (`opt-level = \"s\"`). One comparison \
with `opt-level = 3` ran on 2026-12-04 on the machine above: `tps-bench --skip-onboarding \
--skip-python --variant opt-3=DIR`, 10 runs each. With `opt-level = 3` the module bootstraps were \
16.2 MiB (6.4 MiB zipped, over the 6 MB goal) against 11.5 MiB (4.7 MiB zipped) with \
`opt-level = \"s\"`; stream zipped to 5.5 against 3.8 MiB and status to 5.1 against 3.6 MiB. Both \
builds had an init of 8.4 to 9.1 ms and a max RSS of 28.8 to 28.9 MiB, and first response, \
dominated by the emulator's calls, moved by at most 15 ms either way.\n\n";

fn variants_section(out: &mut String, results: &Results) {
    let _ = writeln!(out, "## Build variants\n");
    let _ = writeln!(
        out,
        "The default build next to other builds of the same sources, passed with `--variant \
         LABEL=DIR`; cold start figures are Rust p50 over the same number of runs.\n"
    );
    let _ = writeln!(out, "| build | function | binary | zip | init p50 | first response p50 | max RSS p50 |\n|---|---|---|---|---|---|---|");
    let default = Variant {
        label: "default".into(),
        lambda_dir: String::new(),
        sizes: results.sizes.clone().unwrap_or_default(),
        init: results.init.clone().unwrap_or_default(),
    };
    for variant in std::iter::once(&default).chain(&results.variants) {
        for size in &variant.sizes {
            let init = variant.init.iter().find(|f| f.binary == size.binary);
            let rust = |read: fn(&[ColdStart]) -> Option<Summary>| init.and_then(|f| read(&f.rust)).map(|s| s.p50);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                variant.label,
                size.binary,
                mib(size.binary_bytes as f64),
                mib(size.zip_bytes as f64),
                opt_ms(rust(init_summary)),
                opt_ms(rust(response_summary)),
                rust(rss_summary).map(|v| format!("{v:.1} MiB")).unwrap_or_else(|| "-".into()),
            );
        }
    }
    let _ = writeln!(out);
}

/// Reader of one stage's milliseconds from a timeline.
type StageReader = fn(&TenantTimeline) -> Option<f64>;

fn stage_rows() -> Vec<(&'static str, StageReader)> {
    vec![
        ("row written to ExecutionStarted (stream delay)", |t| t.stream_delay_ms),
        ("MarkInProgress state (status function, STARTED)", |t| t.execution.state(crate::history::MARK_IN_PROGRESS)),
        ("AmcModule state", |t| t.execution.state("AmcModule")),
        ("SponsoredAdsModule state", |t| t.execution.state("SponsoredAdsModule")),
        ("DspModule state", |t| t.execution.state("DspModule")),
        ("ProvisionModules Map state (modules in parallel)", |t| t.execution.state(crate::history::PROVISION_MODULES)),
        ("RecordStatus state (status function, COMPLETED)", |t| t.execution.state(crate::history::RECORD_STATUS)),
        ("execution, ExecutionStarted to its end", |t| t.execution.execution_ms()),
        ("execution start to TenantProvisioningStarted timestamp", |t| t.notifications_ms.get("TenantProvisioningStarted").copied()),
        ("execution start to ModuleProvisioned AMC timestamp", |t| t.notifications_ms.get("ModuleProvisioned AMC").copied()),
        ("execution start to ModuleProvisioned SponsoredAds timestamp", |t| t.notifications_ms.get("ModuleProvisioned SponsoredAds").copied()),
        ("execution start to ModuleProvisioned DSP timestamp", |t| t.notifications_ms.get("ModuleProvisioned DSP").copied()),
        ("row written to status table updatedAt", |t| t.status_updated_ms),
        ("terminal notification timestamp to received (SNS, SQS)", |t| t.delivery_ms),
        ("row written to terminal event received (total)", |t| t.total_ms),
    ]
}

fn onboarding_section(out: &mut String, onboarding: &OnboardingResults) {
    let _ = writeln!(out, "## Onboarding latency\n");
    let totals = single_totals(onboarding);
    let _ = writeln!(
        out,
        "One tenant with AMC, Sponsored Ads and DSP at a time on the local runtime (moto's \
         Step Functions interpreter running the stack's state machine, functions in process): \
         PutItem acknowledged to the terminal tenant event received from the status queue. \
         {} of {} runs reached a terminal event; terminal events: {}.\n",
        totals.len(),
        onboarding.single.len(),
        terminal_events(&onboarding.single)
    );
    if let Some(summary) = Summary::of(&totals) {
        let _ = writeln!(out, "| runs | p50 | p95 | min | max | mean | first tenant after start |\n|---|---|---|---|---|---|---|");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            summary.count,
            seconds(summary.p50),
            seconds(summary.p95),
            seconds(summary.min),
            seconds(summary.max),
            seconds(summary.mean),
            onboarding.warmup.total_ms.map(seconds).unwrap_or_else(|| "-".into())
        );
    }

    let batch = &onboarding.batch;
    let _ = writeln!(out, "### {} tenants written at once\n", batch.tenants);
    let per_tenant = summary_of(batch.timelines.iter().filter_map(|t| t.total_ms));
    let _ = writeln!(
        out,
        "{} concurrent BatchWriteItem requests of up to 25 rows took {} ms. {} of {} tenants \
         reached a terminal event ({}); the last one {} after the writes started, {:.1} tenants/s. \
         Per tenant, from the start of the writes: p50 {}, p95 {}.\n",
        batch.tenants.div_ceil(25),
        ms(batch.write_ms),
        batch.terminal_count(),
        batch.tenants,
        terminal_events(&batch.timelines),
        seconds(batch.elapsed_ms),
        batch.throughput(),
        per_tenant.map(|s| seconds(s.p50)).unwrap_or_else(|| "-".into()),
        per_tenant.map(|s| seconds(s.p95)).unwrap_or_else(|| "-".into()),
    );
    let starts = summary_of(batch.timelines.iter().filter_map(|t| t.stream_delay_ms));
    if let Some(starts) = starts {
        let _ = writeln!(
            out,
            "The stream function handles the shard's records one at a time, so the executions \
             start at its pace: the first {} and the last {} after the writes started, {:.1} \
             executions/s in between.\n",
            seconds(starts.min),
            seconds(starts.max),
            (starts.count.saturating_sub(1)) as f64 / ((starts.max - starts.min) / 1000.0).max(f64::EPSILON),
        );
    }

    let _ = writeln!(out, "### Stages\n");
    let _ = writeln!(
        out,
        "Milliseconds, from the execution history's event timestamps (GetExecutionHistory), \
         the notifications' `timestamp` fields and the status item's `updatedAt`; state \
         durations run from a state's entry to its exit. In the batch, \"row written\" is the \
         start of the writes.\n"
    );
    let _ = writeln!(out, "| stage | 1 tenant p50 | 1 tenant p95 | batch p50 | batch p95 |\n|---|---|---|---|---|");
    for (label, read) in stage_rows() {
        let single = summary_of(onboarding.single.iter().filter_map(read));
        let batch_summary = summary_of(batch.timelines.iter().filter_map(read));
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} |",
            opt_ms(single.map(|s| s.p50)),
            opt_ms(single.map(|s| s.p95)),
            opt_ms(batch_summary.map(|s| s.p50)),
            opt_ms(batch_summary.map(|s| s.p95)),
        );
    }
    let transitions: Vec<usize> = onboarding.single.iter().map(|t| t.execution.state_transitions).collect();
    let _ = writeln!(
        out,
        "\nState transitions per onboarding (`*StateEntered` events in the history, Map \
         iterations included): {} for a tenant with three modules (min {}, max {} over the \
         single-tenant runs); median {} in the batch.\n",
        median_of(transitions.iter().map(|t| Some(*t as f64))).map(|m| format!("{m:.0}")).unwrap_or_else(|| "-".into()),
        transitions.iter().min().map(ToString::to_string).unwrap_or_else(|| "-".into()),
        transitions.iter().max().map(ToString::to_string).unwrap_or_else(|| "-".into()),
        median_of(batch.timelines.iter().map(|t| Some(t.execution.state_transitions as f64)))
            .map(|m| format!("{m:.0}"))
            .unwrap_or_else(|| "-".into()),
    );
}

fn terminal_events(timelines: &[TenantTimeline]) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for timeline in timelines {
        *counts.entry(timeline.terminal_event.as_deref().unwrap_or("none")).or_default() += 1;
    }
    counts.iter().map(|(event, count)| format!("{count} {event}")).collect::<Vec<_>>().join(", ")
}

fn hot_paths_section(out: &mut String, hot_paths: &[HotPath]) {
    if hot_paths.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Hot paths\n");
    let _ = writeln!(
        out,
        "Criterion benchmarks in `crates/tps-bench/benches/hot_paths.rs`, release profile; \
         median time per iteration with its 95% confidence interval.\n"
    );
    let _ = writeln!(out, "| benchmark | median | 95% interval | mean |\n|---|---|---|---|");
    for path in hot_paths {
        let _ = writeln!(
            out,
            "| {} | {} | {} to {} | {} |",
            path.id,
            duration_ns(path.median_ns),
            duration_ns(path.median_low_ns),
            duration_ns(path.median_high_ns),
            duration_ns(path.mean_ns)
        );
    }
    let _ = writeln!(out);
}

fn duration_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn method_section(out: &mut String) {
    out.push_str(METHOD);
}

const METHOD: &str = "## Method

- **Cold start.** Each run spawns the function with the environment Lambda and the \
CDK stack give it (`AWS_LAMBDA_FUNCTION_NAME`, `..._MEMORY_SIZE`, `..._VERSION`, \
`AWS_REGION`, test credentials, `AWS_ENDPOINT_URL` of the local runtime and the \
`TPS_*` variables) and nothing else. The clock starts just before `spawn` and stops \
when the Runtime API receives the request. One warm-up run per function and \
language is not recorded, so the figures are for a warm page cache; a real cold \
start also loads the package from Lambda's storage and starts the sandbox, which \
neither figure includes. The stream function's StartExecution targets a state \
machine with one Pass state, so no onboarding runs during the measurements.
- **Python baseline.** `benches/python_baseline/handler.py` imports boto3 and \
aws_lambda_powertools, creates a powertools `Logger` and DynamoDB, SNS, SFN, S3, \
KMS and SQS clients at import time, as the AMC QuickStart's TPS functions create \
theirs. `bootstrap.py` runs it under a Runtime API loop written with the standard library. \
The loop is lighter than AWS's own Python runtime client and the packages' bytecode \
is already compiled, so the baseline's init is if anything too fast. Per event the \
handler makes each function's main calls (for example CreateKey, CreateAlias, \
CreateBucket, PutBucketEncryption, PutBucketPolicy and Publish for AMC) but skips the \
Rust functions' ownership checks, tagging and idempotency reads.
- **Memory.** Read from the kernel for the function process alone; the Runtime API \
and the local runtime run in the benchmark's own process.
- **Onboarding.** The local runtime runs the functions in process behind its Lambda \
Invoke API and plays the event source mapping (batch size 10, 100 ms polling of an \
idle shard). Two receivers consume the status queue, each deleting what it received \
with one DeleteMessageBatch call. moto is one Python process, so these latencies \
measure the emulator as much as the service and are not a forecast of AWS's.
- **Hot paths.** Each benchmark builds its input once outside the timed loop.
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ExecutionStages;
    use crate::onboarding::BatchRun;

    fn cold(init_ms: f64, rss_kib: u64) -> ColdStart {
        ColdStart { init_ms, first_response_ms: init_ms * 2.0, vm_hwm_kib: Some(rss_kib), ru_maxrss_kib: Some(rss_kib) }
    }

    fn timeline(total_ms: f64, transitions: usize) -> TenantTimeline {
        TenantTimeline {
            tenant_id: "t".into(),
            terminal_event: Some("TenantActive".into()),
            total_ms: Some(total_ms),
            stream_delay_ms: Some(120.0),
            notifications_ms: Default::default(),
            status_updated_ms: None,
            delivery_ms: Some(3.0),
            execution: ExecutionStages { state_transitions: transitions, ..Default::default() },
        }
    }

    fn results() -> Results {
        Results {
            generated_at: "2026-01-01T00:00:00Z".into(),
            command: "make bench".into(),
            machine: Machine { cpus: 2, cpu_model: "cpu".into(), memory_gib: 24.0, os: "Debian".into(), kernel: "6".into() },
            versions: vec![("rustc".into(), "rustc 1.95.0".into())],
            settings: Settings { init_runs: 2, latency_runs: 2, batch: 2, memory_size_mb: 128 },
            sizes: Some(vec![FunctionSize { function: "Stream".into(), binary: "tps-stream".into(), binary_bytes: 13_000_000, zip_bytes: 5_000_000 }]),
            init: Some(vec![FunctionInit {
                function: "Stream".into(),
                binary: "tps-stream".into(),
                rust: vec![cold(10.0, 20_000), cold(12.0, 21_000)],
                python: vec![cold(500.0, 80_000), cold(520.0, 81_000)],
            }]),
            onboarding: Some(OnboardingResults {
                warmup: timeline(3000.0, 9),
                single: vec![timeline(900.0, 9), timeline(1100.0, 9)],
                batch: BatchRun { tenants: 2, write_ms: 20.0, elapsed_ms: 4000.0, all_terminal: true, timelines: vec![timeline(3000.0, 9), timeline(4000.0, 9)] },
            }),
            hot_paths: Vec::new(),
            variants: Vec::new(),
        }
    }

    #[test]
    fn goals_are_checked() {
        let checks = check_goals(&results());
        let find = |prefix: &str| checks.iter().find(|c| c.figure.starts_with(prefix)).unwrap_or_else(|| panic!("no check {prefix}"));
        // Nearest-rank medians: 500 ms over 10 ms.
        assert!(find("Stream init").met);
        assert_eq!(find("Stream init").measured, "50x");
        assert!(find("Stream max RSS").met);
        assert!(find("Stream zip size").met);
        assert!(find("1 tenant, 3 modules: p50").met);
        assert!(find("2 tenants written at once").met);
        assert!(find("state transitions").met);
    }

    #[test]
    fn missed_goals_are_marked() {
        let mut results = results();
        results.sizes.as_mut().unwrap()[0].zip_bytes = 6_000_001;
        if let Some(onboarding) = results.onboarding.as_mut() {
            onboarding.batch.all_terminal = false;
        }
        let checks = check_goals(&results);
        assert!(!checks.iter().find(|c| c.figure == "Stream zip size").unwrap().met);
        assert!(!checks.iter().find(|c| c.figure.starts_with("2 tenants")).unwrap().met);
        assert!(render(&results).contains("**no**"));
    }

    #[test]
    fn page_has_every_section() {
        let page = render(&results());
        for heading in ["# Benchmarks", "## Machine and versions", "## Goals", "## Cold start", "## Memory", "## Deployment size", "## Onboarding latency", "### Stages", "## Method"] {
            assert!(page.contains(heading), "missing {heading}");
        }
        assert!(page.contains("make bench"));
    }
}
