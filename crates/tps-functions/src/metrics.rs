//! CloudWatch metrics in the embedded metric format (EMF).
//!
//! Each metric set is one JSON line on stdout. In Lambda, stdout goes to the
//! function's CloudWatch Logs log group, and CloudWatch Logs extracts the
//! metrics from lines whose `_aws` member is an EMF directive, so the
//! functions need no `cloudwatch:PutMetricData` permission. Every metric is in
//! the `TPS` namespace with the dimensions `Team` and `Environment` from the
//! function settings, and module metrics add `Module`.
//!
//! | metric | unit | dimensions | written by |
//! |---|---|---|---|
//! | `ValidationFailures` | Count | Team, Environment | stream function, per rejected row |
//! | `ProvisioningDuration` | Milliseconds | Team, Environment, Module | module function, per task |
//! | `ModulesProvisioned` | Count | Team, Environment, Module | status function, per module provisioned |
//! | `ModulesFailed` | Count | Team, Environment, Module | status function, per module that failed |
//! | `TenantsOnboarded` | Count | Team, Environment | status function, per execution that leaves a tenant `ACTIVE` |
//!
//! Lines also carry properties that are not dimensions (`tenant_id`,
//! `execution_arn`, `operation`, `outcome`, `error_type`). `tenant_id` and
//! `execution_arn` match the span fields of the JSON logs, which nest them
//! under `span`.
//!
//! Metrics go to a process-wide [`Recorder`]. [`init`] installs one that
//! writes to stdout, and the Lambda binaries call it at start. Until a recorder
//! is installed, nothing is written, which keeps the local runtime's and the
//! tests' output free of metric lines. Tests install a recorder with a
//! [`MemorySink`] to read the lines back.

use std::io::Write;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tps_core::action::ModuleOperation;
use tps_core::module::Module;
use tps_core::status::TenantState;
use tps_core::workflow::{ModuleInvocation, ModuleResult};

/// The CloudWatch namespace of every TPS metric.
pub const NAMESPACE: &str = "TPS";

pub const VALIDATION_FAILURES: &str = "ValidationFailures";
pub const PROVISIONING_DURATION: &str = "ProvisioningDuration";
pub const MODULES_PROVISIONED: &str = "ModulesProvisioned";
pub const MODULES_FAILED: &str = "ModulesFailed";
pub const TENANTS_ONBOARDED: &str = "TenantsOnboarded";

pub const DIMENSION_TEAM: &str = "Team";
pub const DIMENSION_ENVIRONMENT: &str = "Environment";
pub const DIMENSION_MODULE: &str = "Module";

/// Maximum metric definitions in one EMF directive.
pub const MAX_METRICS: usize = 100;
/// Maximum dimension names in one EMF dimension set.
pub const MAX_DIMENSIONS: usize = 30;
/// Maximum values of one metric member when it is an array.
pub const MAX_VALUES: usize = 100;
/// Maximum size of an EMF line. Older versions of the EMF specification
/// give 256 KB as the CloudWatch Logs event limit and newer ones 1 MB, so
/// this keeps to the lower one.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// The units CloudWatch accepts, as in the `Unit` of `PutMetricData`.
pub const CLOUDWATCH_UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// The units the TPS metrics use, each one of [`CLOUDWATCH_UNITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Destination of EMF lines. `write_line` receives one JSON document without
/// the trailing newline.
pub trait MetricsSink: Send + Sync {
    fn write_line(&self, line: &str);
}

/// Writes each line to stdout, which Lambda sends to CloudWatch Logs.
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn write_line(&self, line: &str) {
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        // The line and its newline go out in one call under the stdout lock,
        // so a log line written at the same time cannot land inside the
        // document. A failed write loses the metric and is ignored.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
}

/// Keeps every line in memory, for tests.
#[derive(Default)]
pub struct MemorySink {
    lines: Mutex<Vec<String>>,
}

impl MemorySink {
    /// Returns the lines written so far, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("metrics sink lock").clone()
    }
}

impl MetricsSink for MemorySink {
    fn write_line(&self, line: &str) {
        self.lines.lock().expect("metrics sink lock").push(line.to_string());
    }
}

/// One EMF document: a timestamp, dimensions, metrics and properties.
#[derive(Debug, Clone)]
pub struct MetricSet {
    timestamp_ms: i64,
    dimensions: Vec<(String, String)>,
    metrics: Vec<(String, f64, Unit)>,
    properties: Vec<(String, Value)>,
}

impl MetricSet {
    /// Creates an empty set stamped with the current time.
    pub fn new() -> Self {
        Self::at(chrono::Utc::now().timestamp_millis())
    }

    /// Creates an empty set stamped with `timestamp_ms`, in milliseconds
    /// since the Unix epoch.
    pub fn at(timestamp_ms: i64) -> Self {
        Self { timestamp_ms, dimensions: Vec::new(), metrics: Vec::new(), properties: Vec::new() }
    }

    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.to_string(), value.to_string()));
        self
    }

    pub fn metric(mut self, name: &str, value: f64, unit: Unit) -> Self {
        self.metrics.push((name.to_string(), value, unit));
        self
    }

    /// Adds a member that is logged but is neither a dimension nor a metric.
    pub fn property(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.properties.push((name.to_string(), value.into()));
        self
    }

    /// Builds the EMF document in `namespace`, with one dimension set made of
    /// every dimension in the order they were added. A property that has the
    /// name of a dimension or metric is left out, because the member must hold
    /// the dimension's or metric's value.
    pub fn to_emf(&self, namespace: &str) -> Value {
        let mut root = Map::new();
        let dimension_names: Vec<&str> = self.dimensions.iter().map(|(name, _)| name.as_str()).collect();
        let definitions: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, _, unit)| serde_json::json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        root.insert(
            "_aws".to_string(),
            serde_json::json!({
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [dimension_names],
                    "Metrics": definitions,
                }],
            }),
        );
        for (name, value) in &self.dimensions {
            root.insert(name.clone(), Value::String(value.clone()));
        }
        for (name, value, _) in &self.metrics {
            root.insert(name.clone(), serde_json::json!(value));
        }
        for (name, value) in &self.properties {
            root.entry(name.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(root)
    }
}

impl Default for MetricSet {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes the TPS metric sets for one team and environment to a sink.
pub struct Recorder {
    team: String,
    environment: String,
    sink: Arc<dyn MetricsSink>,
}

impl Recorder {
    pub fn new(team: &str, environment: &str, sink: Arc<dyn MetricsSink>) -> Self {
        Self { team: team.to_string(), environment: environment.to_string(), sink }
    }

    /// Adds the `Team` and `Environment` dimensions and writes the set as one
    /// line. A set beyond the EMF limits is logged and dropped, never written.
    pub fn emit(&self, set: MetricSet) {
        let mut dimensions = vec![
            (DIMENSION_TEAM.to_string(), self.team.clone()),
            (DIMENSION_ENVIRONMENT.to_string(), self.environment.clone()),
        ];
        dimensions.extend(set.dimensions);
        let set = MetricSet { dimensions, ..set };
        if set.metrics.len() > MAX_METRICS || set.dimensions.len() > MAX_DIMENSIONS {
            tracing::warn!(
                metrics = set.metrics.len(),
                dimensions = set.dimensions.len(),
                "metric set exceeds the EMF limits of {MAX_METRICS} metrics and {MAX_DIMENSIONS} dimensions and is dropped"
            );
            return;
        }
        self.sink.write_line(&set.to_emf(NAMESPACE).to_string());
    }

    /// Writes `ValidationFailures` = 1 for a tenant row that was rejected.
    ///
    /// NOTE: a record that the event source mapping delivers again (after a
    /// later record of its batch failed) is counted again.
    pub fn validation_failed(&self, tenant_id: &str) {
        self.emit(MetricSet::new().metric(VALIDATION_FAILURES, 1.0, Unit::Count).property("tenant_id", tenant_id));
    }

    /// Writes the `ProvisioningDuration` of one module task.
    pub fn task_finished(&self, module: Module, input: &ModuleInvocation, elapsed: Duration, succeeded: bool) {
        self.emit(
            MetricSet::new()
                .dimension(DIMENSION_MODULE, module.section())
                .metric(PROVISIONING_DURATION, elapsed.as_secs_f64() * 1000.0, Unit::Milliseconds)
                .property("tenant_id", input.tenant_id.as_str())
                .property("execution_arn", input.execution_arn.as_str())
                .property("operation", operation_name(input.task.operation))
                .property("outcome", if succeeded { "succeeded" } else { "failed" }),
        );
    }

    /// Writes the metrics of a recorded execution result: `ModulesProvisioned`
    /// per module provisioned, `ModulesFailed` per module whose task failed every
    /// retry (provision or deprovision), and `TenantsOnboarded` when the
    /// tenant's new state is `ACTIVE`. A successful deprovision counts in
    /// none of them.
    pub fn execution_recorded(
        &self,
        tenant_id: &str,
        execution_arn: &str,
        results: &[ModuleResult],
        state: TenantState,
    ) {
        for result in results {
            match result {
                ModuleResult::Succeeded(outcome) if outcome.operation == ModuleOperation::Provision => self.emit(
                    MetricSet::new()
                        .dimension(DIMENSION_MODULE, outcome.module.section())
                        .metric(MODULES_PROVISIONED, 1.0, Unit::Count)
                        .property("tenant_id", tenant_id)
                        .property("execution_arn", execution_arn),
                ),
                ModuleResult::Succeeded(_) => {}
                ModuleResult::Caught { task, caught } => self.emit(
                    MetricSet::new()
                        .dimension(DIMENSION_MODULE, task.module.section())
                        .metric(MODULES_FAILED, 1.0, Unit::Count)
                        .property("tenant_id", tenant_id)
                        .property("execution_arn", execution_arn)
                        .property("operation", operation_name(task.operation))
                        .property("error_type", caught.error.as_str()),
                ),
            }
        }
        if state == TenantState::Active {
            self.emit(
                MetricSet::new()
                    .metric(TENANTS_ONBOARDED, 1.0, Unit::Count)
                    .property("tenant_id", tenant_id)
                    .property("execution_arn", execution_arn),
            );
        }
    }
}

fn operation_name(operation: ModuleOperation) -> &'static str {
    match operation {
        ModuleOperation::Provision => "PROVISION",
        ModuleOperation::Deprovision => "DEPROVISION",
    }
}

static RECORDER: RwLock<Option<Arc<Recorder>>> = RwLock::new(None);

/// Installs a recorder that writes to stdout, with the `Team` and
/// `Environment` dimensions from the function settings.
pub fn init(team: &str, environment: &str) {
    install(Recorder::new(team, environment, Arc::new(StdoutSink)));
}

/// Installs `recorder` for the whole process, replacing any other.
pub fn install(recorder: Recorder) {
    *RECORDER.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(recorder));
}

fn with_recorder(write: impl FnOnce(&Recorder)) {
    let recorder = RECORDER.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    if let Some(recorder) = recorder {
        write(&recorder);
    }
}

/// See [`Recorder::validation_failed`].
pub fn validation_failed(tenant_id: &str) {
    with_recorder(|recorder| recorder.validation_failed(tenant_id));
}

/// See [`Recorder::execution_recorded`].
pub fn execution_recorded(tenant_id: &str, execution_arn: &str, results: &[ModuleResult], state: TenantState) {
    with_recorder(|recorder| recorder.execution_recorded(tenant_id, execution_arn, results, state));
}

/// Measures one module task for `ProvisioningDuration`: start it before the
/// task and call [`TaskTimer::finish`] with the outcome.
pub struct TaskTimer {
    started: Instant,
}

impl TaskTimer {
    pub fn start() -> Self {
        Self { started: Instant::now() }
    }

    /// Records the task's duration with [`Recorder::task_finished`].
    pub fn finish(&self, module: Module, input: &ModuleInvocation, succeeded: bool) {
        let elapsed = self.started.elapsed();
        with_recorder(|recorder| recorder.task_finished(module, input, elapsed, succeeded));
    }
}

/// Checks one line against the EMF specification and returns the parsed
/// document, or every rule it breaks. The rules:
///
/// - the line is a JSON object of at most [`MAX_LINE_BYTES`];
/// - `_aws` is an object with a non-negative integer `Timestamp`
///   (milliseconds) and a non-empty `CloudWatchMetrics` array;
/// - each directive has a `Namespace` of 1 to 255 characters, `Dimensions` as
///   an array of dimension sets of at most [`MAX_DIMENSIONS`] names, and 1 to
///   [`MAX_METRICS`] `Metrics` definitions;
/// - each definition has a `Name` of 1 to 255 characters, an optional `Unit`
///   from [`CLOUDWATCH_UNITS`] and an optional `StorageResolution` of 1 or 60;
/// - every dimension name is a top-level member whose value is a non-blank
///   ASCII string of at most 1024 characters;
/// - every metric name is a top-level member whose value is a number or an
///   array of 1 to [`MAX_VALUES`] numbers.
pub fn validate_emf(line: &str) -> Result<Value, Vec<String>> {
    let mut errors = Vec::new();
    if line.len() > MAX_LINE_BYTES {
        errors.push(format!("line is {} bytes; the maximum is {MAX_LINE_BYTES}", line.len()));
    }
    let document: Value = match serde_json::from_str(line) {
        Ok(document) => document,
        Err(error) => return Err(vec![format!("line is not JSON: {error}")]),
    };
    let Some(root) = document.as_object() else {
        return Err(vec!["document is not a JSON object".to_string()]);
    };
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else {
        return Err(vec!["missing object member _aws".to_string()]);
    };

    let timestamp_valid = aws.get("Timestamp").is_some_and(Value::is_u64);
    if !timestamp_valid {
        errors.push("_aws.Timestamp must be a non-negative integer of milliseconds".to_string());
    }
    let directives = match aws.get("CloudWatchMetrics").and_then(Value::as_array) {
        Some(directives) if !directives.is_empty() => directives.as_slice(),
        _ => {
            errors.push("_aws.CloudWatchMetrics must be a non-empty array".to_string());
            &[]
        }
    };
    for (index, directive) in directives.iter().enumerate() {
        validate_directive(root, index, directive, &mut errors);
    }

    if errors.is_empty() {
        Ok(document)
    } else {
        Err(errors)
    }
}

fn validate_directive(root: &Map<String, Value>, index: usize, directive: &Value, errors: &mut Vec<String>) {
    let at = format!("_aws.CloudWatchMetrics[{index}]");
    let namespace_ok =
        directive.get("Namespace").and_then(Value::as_str).is_some_and(|n| (1..=255).contains(&n.chars().count()));
    if !namespace_ok {
        errors.push(format!("{at}.Namespace must be a string of 1 to 255 characters"));
    }

    match directive.get("Dimensions").and_then(Value::as_array) {
        None => errors.push(format!("{at}.Dimensions must be an array of dimension sets")),
        Some(sets) => {
            for (set_index, set) in sets.iter().enumerate() {
                let Some(names) = set.as_array() else {
                    errors.push(format!("{at}.Dimensions[{set_index}] must be an array of names"));
                    continue;
                };
                if names.len() > MAX_DIMENSIONS {
                    errors.push(format!(
                        "{at}.Dimensions[{set_index}] has {} dimensions; the maximum is {MAX_DIMENSIONS}",
                        names.len()
                    ));
                }
                for name in names {
                    match name.as_str() {
                        None => errors.push(format!("{at}.Dimensions[{set_index}] holds a non-string name {name}")),
                        Some(name) => validate_dimension_member(root, name, errors),
                    }
                }
            }
        }
    }

    match directive.get("Metrics").and_then(Value::as_array) {
        None => errors.push(format!("{at}.Metrics must be an array of metric definitions")),
        Some(definitions) => {
            if definitions.is_empty() || definitions.len() > MAX_METRICS {
                errors.push(format!(
                    "{at}.Metrics has {} definitions; it must have 1 to {MAX_METRICS}",
                    definitions.len()
                ));
            }
            for (metric_index, definition) in definitions.iter().enumerate() {
                validate_definition(root, &format!("{at}.Metrics[{metric_index}]"), definition, errors);
            }
        }
    }
}

fn validate_dimension_member(root: &Map<String, Value>, name: &str, errors: &mut Vec<String>) {
    match root.get(name) {
        None => errors.push(format!("dimension {name:?} is not a top-level member")),
        Some(Value::String(value)) => {
            let valid = !value.trim().is_empty()
                && value.chars().count() <= 1024
                && value.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
            if !valid {
                errors.push(format!(
                    "dimension {name:?} has value {value:?}; it must be 1 to 1024 ASCII characters, not all blank"
                ));
            }
        }
        Some(other) => errors.push(format!("dimension {name:?} has non-string value {other}")),
    }
}

fn validate_definition(root: &Map<String, Value>, at: &str, definition: &Value, errors: &mut Vec<String>) {
    let Some(name) = definition.get("Name").and_then(Value::as_str) else {
        errors.push(format!("{at}.Name must be a string"));
        return;
    };
    if !(1..=255).contains(&name.chars().count()) {
        errors.push(format!("{at}.Name must have 1 to 255 characters, got {name:?}"));
    }
    if let Some(unit) = definition.get("Unit") {
        if !unit.as_str().is_some_and(|u| CLOUDWATCH_UNITS.contains(&u)) {
            errors.push(format!("{at}.Unit {unit} is not a CloudWatch unit"));
        }
    }
    if let Some(resolution) = definition.get("StorageResolution") {
        if !matches!(resolution.as_u64(), Some(1) | Some(60)) {
            errors.push(format!("{at}.StorageResolution must be 1 or 60, got {resolution}"));
        }
    }
    match root.get(name) {
        None => errors.push(format!("metric {name:?} is not a top-level member")),
        Some(Value::Number(_)) => {}
        Some(Value::Array(values)) => {
            if values.is_empty() || values.len() > MAX_VALUES || !values.iter().all(Value::is_number) {
                errors.push(format!("metric {name:?} must hold 1 to {MAX_VALUES} numbers"));
            }
        }
        Some(other) => errors.push(format!("metric {name:?} has non-numeric value {other}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tps_core::workflow::{CaughtError, ModuleOutcome, ModuleTask};

    use super::*;

    fn recorder() -> (Recorder, Arc<MemorySink>) {
        let sink = Arc::new(MemorySink::default());
        (Recorder::new("demoteam", "dev", sink.clone()), sink)
    }

    /// Parses every line, failing the test with the broken rules of any line
    /// that is not valid EMF.
    fn parsed(sink: &MemorySink) -> Vec<Value> {
        sink.lines()
            .iter()
            .map(|line| validate_emf(line).unwrap_or_else(|errors| panic!("invalid EMF {line}: {errors:?}")))
            .collect()
    }

    fn invocation(module: Module, operation: ModuleOperation) -> ModuleInvocation {
        let tenant = tps_core::validate(
            &json!({
                "customerId": "acme-001", "customerName": "Acme", "customerPrefix": "acme",
                "endemicType": "ENDEMIC", "AMC": {"amcOrangeAwsAccount": "111122223333"}
            }),
            &tps_core::DatasetCatalogue::embedded(),
        )
        .expect("valid row");
        ModuleInvocation {
            tenant_id: "acme-001".into(),
            digest: "d".into(),
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:run-1".into(),
            sequence_number: "100".into(),
            tenant,
            task: ModuleTask { module, operation, module_digest: None },
        }
    }

    #[test]
    fn document_matches_emf_layout() {
        let document = MetricSet::at(1_700_000_000_000)
            .dimension("Module", "AMC")
            .metric("ModulesProvisioned", 1.0, Unit::Count)
            .property("tenant_id", "acme-001")
            .to_emf("TPS");
        assert_eq!(
            document,
            json!({
                "_aws": {
                    "Timestamp": 1_700_000_000_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "TPS",
                        "Dimensions": [["Module"]],
                        "Metrics": [{"Name": "ModulesProvisioned", "Unit": "Count"}]
                    }]
                },
                "Module": "AMC",
                "ModulesProvisioned": 1.0,
                "tenant_id": "acme-001"
            })
        );
        assert!(validate_emf(&document.to_string()).is_ok());
    }

    #[test]
    fn property_never_replaces_dimension() {
        let document = MetricSet::at(0)
            .dimension("Module", "AMC")
            .metric("ModulesFailed", 1.0, Unit::Count)
            .property("Module", 7)
            .property("ModulesFailed", "x")
            .to_emf("TPS");
        assert_eq!(document["Module"], "AMC");
        assert_eq!(document["ModulesFailed"], 1.0);
    }

    #[test]
    fn validation_failure_has_team_and_environment() {
        let (recorder, sink) = recorder();
        recorder.validation_failed("acme-001");
        let documents = parsed(&sink);
        assert_eq!(documents.len(), 1);
        let document = &documents[0];
        assert_eq!(document["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Team", "Environment"]]));
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "ValidationFailures", "Unit": "Count"}])
        );
        assert_eq!(document["Team"], "demoteam");
        assert_eq!(document["Environment"], "dev");
        assert_eq!(document["ValidationFailures"], 1.0);
        assert_eq!(document["tenant_id"], "acme-001");
    }

    #[test]
    fn task_duration_is_in_milliseconds() {
        let (recorder, sink) = recorder();
        let input = invocation(Module::Amc, ModuleOperation::Provision);
        recorder.task_finished(Module::Amc, &input, Duration::from_millis(1500), false);
        let documents = parsed(&sink);
        assert_eq!(documents.len(), 1);
        let document = &documents[0];
        assert_eq!(document["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Team", "Environment", "Module"]]));
        assert_eq!(document["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Milliseconds");
        assert_eq!(document["ProvisioningDuration"], 1500.0);
        assert_eq!(document["Module"], "AMC");
        assert_eq!(document["operation"], "PROVISION");
        assert_eq!(document["outcome"], "failed");
        assert_eq!(document["execution_arn"], input.execution_arn);
    }

    #[test]
    fn execution_result_counts_modules_and_onboarding() {
        let (recorder, sink) = recorder();
        let results = vec![
            ModuleResult::Succeeded(ModuleOutcome {
                module: Module::Amc,
                operation: ModuleOperation::Provision,
                module_digest: None,
                outputs: json!({}),
            }),
            ModuleResult::Succeeded(ModuleOutcome {
                module: Module::SponsoredAds,
                operation: ModuleOperation::Deprovision,
                module_digest: None,
                outputs: json!({}),
            }),
            ModuleResult::Caught {
                task: ModuleTask { module: Module::Dsp, operation: ModuleOperation::Provision, module_digest: None },
                caught: CaughtError { error: "ProvisioningError".into(), cause: String::new() },
            },
        ];
        recorder.execution_recorded("acme-001", "arn:x", &results, TenantState::Partial);
        let documents = parsed(&sink);
        let summary: Vec<(String, String)> = documents
            .iter()
            .map(|d| {
                let metric = d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"].as_str().unwrap().to_string();
                (metric, d["Module"].as_str().unwrap_or("-").to_string())
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("ModulesProvisioned".to_string(), "AMC".to_string()),
                ("ModulesFailed".to_string(), "DSP".to_string())
            ]
        );
        assert_eq!(documents[1]["error_type"], "ProvisioningError");

        recorder.execution_recorded("acme-001", "arn:y", &results[..1], TenantState::Active);
        let documents = parsed(&sink);
        let onboarded = documents.last().unwrap();
        assert_eq!(onboarded["TenantsOnboarded"], 1.0);
        assert_eq!(onboarded["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Team", "Environment"]]));
        assert!(onboarded.get("Module").is_none());
    }

    #[test]
    fn oversized_set_is_dropped() {
        let (recorder, sink) = recorder();
        let mut set = MetricSet::new();
        for index in 0..=MAX_METRICS {
            set = set.metric(&format!("M{index}"), 1.0, Unit::Count);
        }
        recorder.emit(set);
        let mut set = MetricSet::new().metric("M", 1.0, Unit::Count);
        for index in 0..MAX_DIMENSIONS - 1 {
            set = set.dimension(&format!("D{index}"), "v");
        }
        recorder.emit(set);
        assert!(sink.lines().is_empty(), "{:?}", sink.lines());
    }

    #[test]
    fn validator_rejects_broken_documents() {
        let valid = MetricSet::at(1).dimension("Module", "AMC").metric("ModulesFailed", 1.0, Unit::Count).to_emf("TPS");
        assert!(validate_emf(&valid.to_string()).is_ok());

        let too_many_metrics: Vec<Value> = (0..=MAX_METRICS).map(|i| json!({"Name": format!("M{i}")})).collect();
        let too_many_dimensions: Vec<String> = (0..=MAX_DIMENSIONS).map(|i| format!("D{i}")).collect();
        // Each case: its name, how it breaks the valid document, and a part
        // of the error message it must cause.
        type Breaker = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Breaker, &str)> = vec![
            ("no timestamp", Box::new(|d| d["_aws"].as_object_mut().unwrap().clear()), "Timestamp"),
            ("string timestamp", Box::new(|d| d["_aws"]["Timestamp"] = json!("1")), "Timestamp"),
            ("empty directives", Box::new(|d| d["_aws"]["CloudWatchMetrics"] = json!([])), "CloudWatchMetrics"),
            ("no namespace", Box::new(|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("")), "Namespace"),
            (
                "dimension not a member",
                Box::new(|d| {
                    d.as_object_mut().unwrap().remove("Module");
                }),
                "not a top-level member",
            ),
            ("numeric dimension", Box::new(|d| d["Module"] = json!(3)), "non-string value"),
            ("blank dimension", Box::new(|d| d["Module"] = json!(" ")), "ASCII"),
            (
                "metric not a member",
                Box::new(|d| {
                    d.as_object_mut().unwrap().remove("ModulesFailed");
                }),
                "not a top-level member",
            ),
            ("string metric", Box::new(|d| d["ModulesFailed"] = json!("1")), "non-numeric"),
            (
                "unknown unit",
                Box::new(|d| d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Hours")),
                "not a CloudWatch unit",
            ),
            (
                "bad resolution",
                Box::new(|d| d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"] = json!(5)),
                "StorageResolution",
            ),
            ("no metrics", Box::new(|d| d["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!([])), "1 to 100"),
            (
                "101 metrics",
                Box::new(move |d| {
                    for i in 0..=MAX_METRICS {
                        d[format!("M{i}")] = json!(1);
                    }
                    d["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!(too_many_metrics.clone());
                }),
                "1 to 100",
            ),
            (
                "31 dimensions",
                Box::new(move |d| {
                    for name in &too_many_dimensions {
                        d[name] = json!("v");
                    }
                    d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([too_many_dimensions.clone()]);
                }),
                "the maximum is 30",
            ),
        ];
        for (case, break_it, expected) in cases {
            let mut document = valid.clone();
            break_it(&mut document);
            let errors = validate_emf(&document.to_string()).expect_err(case);
            assert!(errors.iter().any(|e| e.contains(expected)), "{case}: {errors:?} lacks {expected:?}");
        }
        assert!(validate_emf("not json").is_err());
        assert!(validate_emf("[1]").is_err());
        assert!(validate_emf(r#"{"a": 1}"#).is_err());
    }
}
