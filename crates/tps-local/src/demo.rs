//! The demo: writes the example tenants to the local runtime, follows their
//! notifications and prints the result.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use tps_core::events::EventType;
use tps_core::status::{TenantState, TenantStatus};

use crate::watch::{Received, StatusQueue};
use crate::LocalRuntime;

/// The file that maps each example file to the status it must reach.
pub const EXPECTATIONS_FILE: &str = "expected.json";

/// How long the demo waits for every tenant to finish.
pub const TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct Example {
    pub file: PathBuf,
    pub row: Value,
    pub tenant_id: String,
    pub expected: TenantState,
}

/// Loads the examples of `dir`: every file named in `expected.json`.
pub fn load_examples(dir: &Path) -> anyhow::Result<Vec<Example>> {
    let expectations_path = dir.join(EXPECTATIONS_FILE);
    let text = std::fs::read_to_string(&expectations_path)
        .with_context(|| format!("cannot read {}", expectations_path.display()))?;
    let expectations: BTreeMap<String, TenantState> = serde_json::from_str(&text)
        .with_context(|| format!("{} must map file names to statuses such as \"ACTIVE\"", expectations_path.display()))?;

    let mut examples = Vec::new();
    for (name, expected) in expectations {
        let file = dir.join(&name);
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let row: Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", file.display()))?;
        let tenant_id = row
            .get("customerId")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("{} has no customerId string; the demo needs one to follow the tenant", file.display()))?
            .to_string();
        examples.push(Example { file, row, tenant_id, expected });
    }
    Ok(examples)
}

/// Result of one example.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub example: Example,
    pub status: Option<TenantStatus>,
    /// Time from the row's write to its terminal notification.
    pub latency: Option<Duration>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.status == self.example.expected)
    }
}

/// Writes the examples, prints each notification as it arrives, then the
/// final table. Returns the outcomes.
pub async fn run(runtime: &LocalRuntime, examples: Vec<Example>, out: &mut (impl Write + Send)) -> anyhow::Result<Vec<Outcome>> {
    let config = runtime.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let queue = StatusQueue::new(aws_sdk_sqs::Client::new(&config), runtime.stack.status_queue_url.clone());
    let table = runtime.stack.names.tenant_table();
    let started = Instant::now();

    let mut written: BTreeMap<String, Instant> = BTreeMap::new();
    for example in &examples {
        let item: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(&example.row)
            .with_context(|| format!("{} does not convert to a DynamoDB item", example.file.display()))?;
        dynamodb
            .put_item()
            .table_name(&table)
            .set_item(Some(item))
            .send()
            .await
            .with_context(|| format!("dynamodb:PutItem of {} into {table}", example.file.display()))?;
        written.insert(example.tenant_id.clone(), Instant::now());
        writeln!(out, "[{:>6.2}s] wrote {} ({})", started.elapsed().as_secs_f64(), example.tenant_id, file_name(&example.file))?;
    }

    let mut finished: BTreeMap<String, Duration> = BTreeMap::new();
    while finished.len() < examples.len() && started.elapsed() < TIMEOUT {
        for received in queue.receive(Duration::from_secs(1)).await? {
            match received {
                Received::Notification(notification) => {
                    let module = notification.module.map(|m| format!(" {m}")).unwrap_or_default();
                    let detail = if !notification.errors.is_empty() {
                        format!(": {}", notification.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
                    } else if let Some(error) = &notification.error {
                        format!(": {} {}", error.error_type, error.message)
                    } else {
                        String::new()
                    };
                    writeln!(
                        out,
                        "[{:>6.2}s] {:<24} {}{module}{detail}",
                        started.elapsed().as_secs_f64(),
                        notification.tenant_id,
                        notification.event_type
                    )?;
                    if notification.event_type.is_terminal() && notification.event_type != EventType::TenantProvisioningStarted {
                        if let Some(write_time) = written.get(&notification.tenant_id) {
                            finished.entry(notification.tenant_id.clone()).or_insert_with(|| write_time.elapsed());
                        }
                    }
                }
                Received::Unparsable(body) => writeln!(out, "unparsable notification: {body}")?,
            }
        }
    }

    let mut outcomes = Vec::new();
    for example in examples {
        let output = dynamodb
            .get_item()
            .table_name(runtime.stack.names.status_table())
            .key("tenantId", AttributeValue::S(example.tenant_id.clone()))
            .consistent_read(true)
            .send()
            .await
            .context("dynamodb:GetItem on the status table")?;
        let status = output.item.map(serde_dynamo::from_item::<_, TenantStatus>).transpose()?;
        let latency = finished.get(&example.tenant_id).copied();
        outcomes.push(Outcome { example, status, latency });
    }
    print_table(&outcomes, out)?;
    writeln!(out, "demo finished in {:.2}s", started.elapsed().as_secs_f64())?;
    Ok(outcomes)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Prints one line per tenant and module with the key outputs.
pub fn print_table(outcomes: &[Outcome], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{:<24} {:<12} {:<10} {:<10} {:>9}  OUTPUTS", "TENANT", "MODULE", "STATUS", "EXPECTED", "LATENCY")?;
    for outcome in outcomes {
        let status = outcome.status.as_ref().map(|s| s.status.to_string()).unwrap_or_else(|| "-".into());
        let latency = outcome.latency.map(|l| format!("{:.2}s", l.as_secs_f64())).unwrap_or_else(|| "-".into());
        let mark = if outcome.passed() { "" } else { "  <-- unexpected" };
        writeln!(
            out,
            "{:<24} {:<12} {:<10} {:<10} {:>9}{mark}",
            outcome.example.tenant_id, "-", status, outcome.example.expected, latency
        )?;
        let Some(tenant) = &outcome.status else { continue };
        for error in &tenant.errors {
            writeln!(out, "{:<24}   error: {error}", "")?;
        }
        for (module, module_status) in &tenant.modules {
            let state = format!("{:?}", module_status.state).to_uppercase();
            writeln!(out, "{:<24} {:<12} {:<10} {:<10} {:>9}  {}", "", module.to_string(), state, "", "", key_outputs(&module_status.outputs))?;
            if let Some(error) = &module_status.error {
                writeln!(out, "{:<24}   error: {} {}", "", error.error_type, error.message)?;
            }
        }
    }
    Ok(())
}

/// The outputs an operator needs first: bucket, key alias, queue names.
pub fn key_outputs(outputs: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(bucket) = outputs.get("bucketName").and_then(Value::as_str) {
        parts.push(format!("bucket={bucket}"));
    }
    if let Some(alias) = outputs.get("kmsKeyAlias").and_then(Value::as_str) {
        parts.push(format!("key={alias}"));
    }
    if let Some(datasets) = outputs.get("datasets").and_then(Value::as_object) {
        if !datasets.is_empty() {
            let queues: Vec<&str> = datasets.values().filter_map(|d| d.get("queueName").and_then(Value::as_str)).collect();
            parts.push(format!("queues={}", queues.join(",")));
        }
    }
    if let Some(prefixes) = outputs.get("prefixes").and_then(Value::as_array) {
        parts.push(format!("prefixes={}", prefixes.len()));
    }
    parts.join(" ")
}
