//! Observability of the functions against the local runtime (moto behind
//! the tps-local gateway): the JSON log line of a failing module task, and
//! the EMF metric lines of the stream, module and status functions, each
//! checked against the EMF specification.
//!
//! One runtime serves every test in this file. It injects a fault into every
//! call relayed through its gateway. Only the test that expects AWS errors
//! sends its calls there, and the others call moto directly.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_s3::types::{Tag, Tagging};
use serde_json::{json, Value};
use tps_aws::clients::MAX_ATTEMPTS;
use tps_aws::dynamo::DynamoStatusStore;
use tps_aws::sfn::SfnWorkflow;
use tps_aws::sns::SnsEventBus;
use tps_aws::Clients;
use tps_core::action::ModuleOperation;
use tps_core::catalogue::DatasetCatalogue;
use tps_core::module::Module;
use tps_core::status::TenantState;
use tps_core::tenant::TenantRecord;
use tps_core::workflow::{
    Action, CaughtError, ExecutionInput, ModuleInvocation, ModuleOutcome, ModuleResult, ModuleTask, Phase,
    StatusInvocation,
};
use tps_functions::metrics::{self, MemorySink, Recorder};
use tps_functions::module::ModuleDeps;
use tps_functions::status::StatusDeps;
use tps_functions::stream::StreamDeps;
use tps_functions::{FunctionError, Invocation};
use tps_local::faults::{Fault, FaultConfig, FaultInjector};
use tps_local::stack::Stack;
use tps_local::{Options, ACCOUNT};
use tracing_subscriber::EnvFilter;

const TEAM: &str = "demoteam";
const ENVIRONMENT: &str = "obs";
const REGION: &str = "us-east-1";

/// What the tests use of the shared runtime.
struct Shared {
    /// The gateway, where every relayed call fails.
    gateway_endpoint: String,
    /// moto itself, without faults.
    moto_endpoint: String,
    stack: Stack,
    faults: Arc<FaultInjector>,
}

/// Finds the first fault seed whose `attempts`-th fault is a throttling error, so
/// that the last attempt of an SDK call fails with a known AWS error code
/// instead of a dropped connection.
fn seed_ending_in_throttle(attempts: u32) -> u64 {
    (0..10_000)
        .find(|&seed| {
            let injector = FaultInjector::new(FaultConfig { failure_rate: 1.0, latency: Duration::ZERO, seed });
            let faults: Vec<Option<Fault>> = (0..attempts).map(|_| injector.next()).collect();
            faults.last() == Some(&Some(Fault::Throttle))
        })
        .expect("a seed among the first 10000 ends in a throttling fault")
}

/// Starts the runtime once, on a thread that lives as long as the test
/// process, because moto is killed when the thread that started it exits.
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let seed = seed_ending_in_throttle(MAX_ATTEMPTS);
        let options = Options {
            team: TEAM.to_string(),
            env: ENVIRONMENT.to_string(),
            region: REGION.to_string(),
            faults: Some(FaultConfig { failure_rate: 1.0, latency: Duration::ZERO, seed }),
            ..Options::default()
        };
        let local = tps_local::start_on_own_thread(options)
            .unwrap_or_else(|error| panic!("the local runtime did not start: {error:#}"));
        Shared {
            gateway_endpoint: local.endpoint,
            moto_endpoint: local.moto_endpoint,
            stack: local.stack,
            faults: local.faults.expect("faults are configured"),
        }
    })
}

/// Installs the process-wide metrics recorder of this test binary once and
/// returns its sink. Tests run in parallel, so each reads only the lines of
/// its own tenant.
fn metric_sink() -> &'static Arc<MemorySink> {
    static SINK: OnceLock<Arc<MemorySink>> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Arc::new(MemorySink::default());
        metrics::install(Recorder::new(TEAM, ENVIRONMENT, sink.clone()));
        sink
    })
}

/// Returns the EMF documents written for `tenant_id`, each validated against
/// the EMF specification.
fn metric_documents(tenant_id: &str) -> Vec<Value> {
    metric_sink()
        .lines()
        .iter()
        .filter_map(|line| {
            let document =
                metrics::validate_emf(line).unwrap_or_else(|errors| panic!("invalid EMF line {line}: {errors:?}"));
            (document["tenant_id"] == tenant_id).then_some(document)
        })
        .collect()
}

/// Returns the metric names of an EMF document's first directive.
fn metric_names(document: &Value) -> Vec<String> {
    document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .map(|definitions| definitions.iter().filter_map(|d| d["Name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// A writer that keeps the JSON log output in memory.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).expect("logs are UTF-8");
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}")))
            .collect()
    }
}

/// Captures this thread's log events with the subscriber settings of
/// `tps_functions::logging::init`, until the guard is dropped. The tests run
/// on a current-thread runtime, so every event of the handler is captured.
///
/// NOTE: the settings are copied, because `logging::init` takes no writer, so
/// a change there must be made here too.
fn capture_logs() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::new("info"))
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

async fn sdk_config(endpoint: &str) -> SdkConfig {
    tps_local::sdk_config(endpoint, REGION).await
}

/// Function clients for the faulty gateway. They make the production number
/// of attempts, with millisecond backoff so that the test is quick.
async fn gateway_clients(shared: &Shared) -> Clients {
    let retry = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS).with_initial_backoff(Duration::from_millis(5));
    // The functions' app name: the gateway injects faults only into their calls.
    let app_name = aws_config::AppName::new(tps_local::gateway::FUNCTIONS_APP_NAME).expect("a valid app name");
    let config = sdk_config(&shared.gateway_endpoint).await.to_builder().retry_config(retry).app_name(app_name).build();
    Clients::new(&config)
}

fn record(row: Value) -> TenantRecord {
    tps_core::validate(&row, &DatasetCatalogue::embedded()).expect("valid row")
}

fn invocation(function: &str) -> Invocation {
    Invocation {
        request_id: format!("obs-{function}"),
        function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:tps-{TEAM}-{function}-{ENVIRONMENT}"),
    }
}

fn module_task(tenant: &TenantRecord, module: Module) -> ModuleInvocation {
    ModuleInvocation {
        tenant_id: tenant.customer_id.clone(),
        digest: "digest".into(),
        execution_arn: format!(
            "arn:aws:states:{REGION}:{ACCOUNT}:execution:tps-{TEAM}-Onboarding-{ENVIRONMENT}:{}-run",
            tenant.customer_id
        ),
        sequence_number: "100".into(),
        tenant: tenant.clone(),
        task: ModuleTask { module, operation: ModuleOperation::Provision, module_digest: None },
    }
}

fn module_deps(shared: &Shared, clients: Clients) -> ModuleDeps {
    let events = Arc::new(SnsEventBus::new(clients.sns.clone(), shared.stack.topic_arn.clone()));
    ModuleDeps { team: TEAM.to_string(), catalogue: DatasetCatalogue::embedded(), clients, events }
}

/// Returns the one "module task failed" line, and fails the test when there
/// is not exactly one.
fn failure_line(logs: &CapturedLogs) -> Value {
    let lines = logs.lines();
    let failures: Vec<&Value> = lines.iter().filter(|l| l["message"] == "module task failed").collect();
    assert_eq!(failures.len(), 1, "expected one failure line in {lines:#?}");
    failures[0].clone()
}

#[tokio::test]
async fn failing_module_logs_aws_error_code() {
    let shared = shared();
    metric_sink();
    let tenant = record(json!({
        "customerId": "obs-throttled", "customerName": "Throttled Co", "customerPrefix": "obsthrottled",
        "endemicType": "ENDEMIC", "AMC": {"amcOrangeAwsAccount": "111122223333"}
    }));
    let deps = module_deps(shared, gateway_clients(shared).await);
    let relayed_before = shared.faults.stats.relayed.load(std::sync::atomic::Ordering::Relaxed);

    let (logs, guard) = capture_logs();
    let result =
        tps_functions::module::handle(Module::Amc, module_task(&tenant, Module::Amc), &invocation("Amc"), &deps).await;
    drop(guard);

    let relayed = shared.faults.stats.relayed.load(std::sync::atomic::Ordering::Relaxed) - relayed_before;
    assert_eq!(
        relayed,
        u64::from(MAX_ATTEMPTS),
        "the first AWS call (kms:DescribeKey) should be attempted {MAX_ATTEMPTS} times through the gateway"
    );
    match &result {
        Err(FunctionError::Transient(message)) => {
            assert!(message.contains("kms:DescribeKey"), "{message}");
            assert!(message.contains("ThrottlingException"), "{message}");
        }
        other => panic!("expected a transient error, got {other:?}"),
    }

    let line = failure_line(&logs);
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["aws_error_code"], "ThrottlingException");
    assert_eq!(line["error_type"], "TransientError");
    assert_eq!(line["span"]["name"], "module_task");
    assert_eq!(line["span"]["tenant_id"], "obs-throttled");
    assert_eq!(line["span"]["module"], "AMC");
    assert_eq!(line["span"]["aws_request_id"], "obs-Amc");

    let documents = metric_documents("obs-throttled");
    assert_eq!(documents.len(), 1, "{documents:#?}");
    let duration = &documents[0];
    assert_eq!(metric_names(duration), vec!["ProvisioningDuration"]);
    assert_eq!(duration["Module"], "AMC");
    assert_eq!(duration["Team"], TEAM);
    assert_eq!(duration["Environment"], ENVIRONMENT);
    assert_eq!(duration["outcome"], "failed");
    assert!(duration["ProvisioningDuration"].as_f64().is_some_and(|ms| ms > 0.0), "{duration}");
}

#[tokio::test]
async fn conflicting_bucket_fails_module() {
    let shared = shared();
    metric_sink();
    let tenant = record(json!({
        "customerId": "obs-conflict", "customerName": "Conflict Co", "customerPrefix": "obsconflict",
        "endemicType": "ENDEMIC", "AMC": {"amcOrangeAwsAccount": "111122223333"}
    }));
    let clients = Clients::new(&sdk_config(&shared.moto_endpoint).await);
    let bucket = format!("tps-obsconflict-amc-{ACCOUNT}-{REGION}");
    clients.s3.create_bucket().bucket(&bucket).send().await.expect("create the other tenant's bucket");
    let tag = Tag::builder().key("tps:tenant").value("someone-else").build().unwrap();
    clients
        .s3
        .put_bucket_tagging()
        .bucket(&bucket)
        .tagging(Tagging::builder().tag_set(tag).build().unwrap())
        .send()
        .await
        .expect("tag the other tenant's bucket");
    let deps = module_deps(shared, clients);

    let (logs, guard) = capture_logs();
    let result =
        tps_functions::module::handle(Module::Amc, module_task(&tenant, Module::Amc), &invocation("Amc"), &deps).await;
    drop(guard);

    match &result {
        Err(FunctionError::Provisioning(message)) => {
            assert!(message.contains(&bucket), "{message}");
            assert!(message.contains("someone-else"), "{message}");
        }
        other => panic!("expected a provisioning error, got {other:?}"),
    }
    let line = failure_line(&logs);
    assert_eq!(line["error_type"], "ProvisioningError");
    assert_eq!(line["aws_error_code"], "-", "a conflict is not an AWS error");
    assert_eq!(line["span"]["tenant_id"], "obs-conflict");
    assert_eq!(line["span"]["module"], "AMC");
    assert!(line["error"].as_str().is_some_and(|e| e.contains("someone-else")), "{line}");

    let documents = metric_documents("obs-conflict");
    assert_eq!(documents.len(), 1, "{documents:#?}");
    assert_eq!(documents[0]["outcome"], "failed");
}

fn completed(tenant: &TenantRecord, sequence_number: &str, results: Vec<ModuleResult>) -> StatusInvocation {
    let modules = tenant
        .modules()
        .into_iter()
        .map(|module| ModuleTask { module, operation: ModuleOperation::Provision, module_digest: None })
        .collect();
    StatusInvocation {
        phase: Phase::Completed,
        execution_arn: format!(
            "arn:aws:states:{REGION}:{ACCOUNT}:execution:tps-{TEAM}-Onboarding-{ENVIRONMENT}:{}-{sequence_number}",
            tenant.customer_id
        ),
        execution: ExecutionInput {
            tenant_id: tenant.customer_id.clone(),
            action: Action::Provision,
            digest: "digest".into(),
            sequence_number: sequence_number.into(),
            tenant: tenant.clone(),
            modules,
        },
        results,
    }
}

fn provisioned(module: Module) -> ModuleResult {
    ModuleResult::Succeeded(ModuleOutcome {
        module,
        operation: ModuleOperation::Provision,
        module_digest: None,
        outputs: json!({}),
    })
}

#[tokio::test]
async fn status_function_counts_modules_and_onboarding() {
    let shared = shared();
    metric_sink();
    let config = sdk_config(&shared.moto_endpoint).await;
    let deps = StatusDeps {
        status: Arc::new(DynamoStatusStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            shared.stack.names.status_table(),
        )),
        events: Arc::new(SnsEventBus::new(aws_sdk_sns::Client::new(&config), shared.stack.topic_arn.clone())),
    };
    let tenant = record(json!({
        "customerId": "obs-status", "customerName": "Status Co", "customerPrefix": "obsstatus",
        "endemicType": "ENDEMIC", "AMC": {"amcOrangeAwsAccount": "111122223333"},
        "DSP": {"advertisingRegion": "NA", "advertiserIds": ["42"]}
    }));

    let dsp_failed = ModuleResult::Caught {
        task: ModuleTask { module: Module::Dsp, operation: ModuleOperation::Provision, module_digest: None },
        caught: CaughtError {
            error: "ProvisioningError".into(),
            cause: r#"{"errorType":"ProvisioningError","errorMessage":"bucket taken"}"#.into(),
        },
    };
    let first = completed(&tenant, "100", vec![provisioned(Module::Amc), dsp_failed]);
    let summary = tps_functions::status::handle(first, &invocation("Status"), &deps).await.expect("status recorded");
    assert_eq!(summary.status, TenantState::Partial);

    let documents = metric_documents("obs-status");
    let counted: Vec<(Vec<String>, Value)> = documents.iter().map(|d| (metric_names(d), d["Module"].clone())).collect();
    assert_eq!(
        counted,
        vec![(vec!["ModulesProvisioned".to_string()], json!("AMC")), (vec!["ModulesFailed".to_string()], json!("DSP"))],
        "a PARTIAL result counts each module and no onboarding"
    );
    assert_eq!(documents[1]["error_type"], "ProvisioningError");

    let second = completed(&tenant, "200", vec![provisioned(Module::Dsp)]);
    let summary = tps_functions::status::handle(second, &invocation("Status"), &deps).await.expect("status recorded");
    assert_eq!(summary.status, TenantState::Active);

    let documents = metric_documents("obs-status");
    assert_eq!(documents.len(), 4, "{documents:#?}");
    assert_eq!(metric_names(&documents[2]), vec!["ModulesProvisioned"]);
    assert_eq!(documents[2]["Module"], "DSP");
    let onboarded = &documents[3];
    assert_eq!(metric_names(onboarded), vec!["TenantsOnboarded"]);
    assert_eq!(onboarded["TenantsOnboarded"], 1.0);
    assert_eq!(onboarded["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Team", "Environment"]]));
    assert!(onboarded.get("Module").is_none(), "{onboarded}");
}

#[tokio::test]
async fn stream_function_counts_validation_failures() {
    let shared = shared();
    metric_sink();
    let config = sdk_config(&shared.moto_endpoint).await;
    let deps = StreamDeps {
        catalogue: DatasetCatalogue::embedded(),
        status: Arc::new(DynamoStatusStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            shared.stack.names.status_table(),
        )),
        events: Arc::new(SnsEventBus::new(aws_sdk_sns::Client::new(&config), shared.stack.topic_arn.clone())),
        workflow: Arc::new(SfnWorkflow::new(aws_sdk_sfn::Client::new(&config), shared.stack.state_machine_arn.clone())),
    };

    let mut record = aws_lambda_events::dynamodb::EventRecord::default();
    record.event_id = "obs-1".into();
    record.event_name = "INSERT".into();
    record.aws_region = REGION.into();
    record.change.sequence_number = Some("300".into());
    record.change.new_image = serde_json::from_value(json!({
        "customerId": {"S": "obs-invalid"},
        "customerName": {"S": "Invalid Co"},
        "customerPrefix": {"S": "Not A Prefix!"},
        "endemicType": {"S": "ENDEMIC"},
        "AMC": {"M": {"amcOrangeAwsAccount": {"S": "12345"}}}
    }))
    .expect("a DynamoDB item");
    let mut event = aws_lambda_events::dynamodb::Event::default();
    event.records = vec![record];

    let response = tps_functions::stream::handle(event, &invocation("Stream"), &deps).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);

    let documents = metric_documents("obs-invalid");
    assert_eq!(documents.len(), 1, "one rejected row is one failure: {documents:#?}");
    let failure = &documents[0];
    assert_eq!(metric_names(failure), vec!["ValidationFailures"]);
    assert_eq!(failure["ValidationFailures"], 1.0);
    assert_eq!(failure["_aws"]["CloudWatchMetrics"][0]["Namespace"], "TPS");
    assert_eq!(failure["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Team", "Environment"]]));
    let timestamp = failure["_aws"]["Timestamp"].as_i64().expect("integer timestamp");
    let age_ms = chrono::Utc::now().timestamp_millis() - timestamp;
    assert!((0..60_000).contains(&age_ms), "timestamp {timestamp} is {age_ms} ms old");
}
