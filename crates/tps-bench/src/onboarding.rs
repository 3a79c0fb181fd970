//! The onboarding latency benchmark on the local runtime.
//!
//! Tenant rows are written to the tenant table and timed until their
//! terminal tenant event arrives on the status queue. Each tenant's time is
//! then broken down into stages from the notifications' timestamps, the
//! status table's `updatedAt` and the execution history.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tps_core::events::{EventType, Notification};
use tps_core::status::TenantStatus;
use tps_local::LocalRuntime;

use crate::events::tenant_row;
use crate::history::{self, millis_between, ExecutionStages, HistoryEntry};

/// Items per BatchWriteItem request, DynamoDB's maximum.
const BATCH_WRITE_ITEMS: usize = 25;

/// Concurrent receivers of the status queue. Its messages are grouped by
/// tenant, so receivers do not compete for one tenant's messages.
const CONSUMERS: usize = 2;

/// Most pages of execution history read per execution.
const MAX_HISTORY_PAGES: usize = 20;

#[derive(Debug, Clone)]
pub struct OnboardingOptions {
    /// Tenants onboarded one after another, after one warm-up tenant.
    pub runs: usize,
    /// Tenants written at once.
    pub batch: usize,
    /// Time limit of one tenant.
    pub single_timeout: Duration,
    /// Time limit of the whole batch.
    pub batch_timeout: Duration,
}

/// One tenant's way from its row to its terminal event.
#[derive(Debug, Clone, Serialize)]
pub struct TenantTimeline {
    pub tenant_id: String,
    /// The terminal event, `None` when none arrived in time.
    pub terminal_event: Option<String>,
    /// Write to terminal event received, measured with a monotonic clock.
    pub total_ms: Option<f64>,
    /// Write to the execution's `ExecutionStarted` event: the event source
    /// mapping's polling, the stream function and StartExecution.
    pub stream_delay_ms: Option<f64>,
    /// Execution start to each notification's timestamp, by event and module.
    pub notifications_ms: BTreeMap<String, f64>,
    /// Write to the status item's `updatedAt` after the execution.
    pub status_updated_ms: Option<f64>,
    /// The terminal notification's timestamp to its arrival at the consumer:
    /// SNS to SQS to ReceiveMessage.
    pub delivery_ms: Option<f64>,
    pub execution: ExecutionStages,
}

/// Tenants written at once.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRun {
    pub tenants: usize,
    /// Time the BatchWriteItem requests took.
    pub write_ms: f64,
    /// Start of the writes to the last terminal event, or to the timeout.
    pub elapsed_ms: f64,
    /// Whether every tenant reached a terminal event in time.
    pub all_terminal: bool,
    pub timelines: Vec<TenantTimeline>,
}

impl BatchRun {
    pub fn terminal_count(&self) -> usize {
        self.timelines.iter().filter(|t| t.terminal_event.is_some()).count()
    }

    /// Tenants onboarded per second.
    pub fn throughput(&self) -> f64 {
        self.terminal_count() as f64 / (self.elapsed_ms / 1000.0)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OnboardingResults {
    /// The first tenant after the runtime started; not part of the percentiles.
    pub warmup: TenantTimeline,
    pub single: Vec<TenantTimeline>,
    pub batch: BatchRun,
}

/// A notification and when the consumer received it.
#[derive(Debug, Clone)]
struct Arrival {
    notification: Notification,
    received: Instant,
    received_at: DateTime<Utc>,
}

/// The notifications received so far, by tenant.
struct Inbox {
    receiver: mpsc::UnboundedReceiver<Arrival>,
    by_tenant: HashMap<String, Vec<Arrival>>,
    consumers: Vec<JoinHandle<()>>,
}

impl Inbox {
    /// Starts consuming the status queue of `runtime` with [`CONSUMERS`]
    /// concurrent receivers.
    async fn start(runtime: &LocalRuntime) -> Self {
        let config = runtime.sdk_config().await;
        let (sender, receiver) = mpsc::unbounded_channel();
        let consumers = (0..CONSUMERS)
            .map(|_| {
                let sqs = aws_sdk_sqs::Client::new(&config);
                let url = runtime.stack.status_queue_url.clone();
                let sender = sender.clone();
                tokio::spawn(async move { consume(sqs, url, sender).await })
            })
            .collect();
        Self { receiver, by_tenant: HashMap::new(), consumers }
    }

    fn terminal(&self, tenant_id: &str) -> Option<&Arrival> {
        self.by_tenant.get(tenant_id)?.iter().find(|a| a.notification.event_type.is_terminal())
    }

    /// Receives until every tenant of `tenants` has a terminal event or
    /// `deadline` passes. Returns whether all did.
    async fn wait_terminal(&mut self, tenants: &HashSet<String>, deadline: Instant) -> bool {
        loop {
            if tenants.iter().all(|tenant| self.terminal(tenant).is_some()) {
                return true;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return false;
            }
            match tokio::time::timeout(remaining, self.receiver.recv()).await {
                Ok(Some(arrival)) => {
                    self.by_tenant.entry(arrival.notification.tenant_id.clone()).or_default().push(arrival);
                }
                Ok(None) | Err(_) => return false,
            }
        }
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        for consumer in &self.consumers {
            consumer.abort();
        }
    }
}

/// Receives from the status queue until `sender` closes, deleting each
/// batch with one DeleteMessageBatch call.
async fn consume(sqs: aws_sdk_sqs::Client, url: String, sender: mpsc::UnboundedSender<Arrival>) {
    loop {
        let output = sqs.receive_message().queue_url(&url).max_number_of_messages(10).wait_time_seconds(1).send().await;
        let (received, received_at) = (Instant::now(), Utc::now());
        let messages = match output {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), queue = url, "sqs:ReceiveMessage failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };

        let mut deletes = Vec::new();
        for (index, message) in messages.into_iter().enumerate() {
            let body = message.body.unwrap_or_default();
            match serde_json::from_str::<Notification>(&body) {
                Ok(notification) => {
                    if sender.send(Arrival { notification, received, received_at }).is_err() {
                        return;
                    }
                }
                Err(error) => tracing::warn!(%error, body, "unparsable notification on the status queue"),
            }
            if let Some(handle) = message.receipt_handle {
                match DeleteMessageBatchRequestEntry::builder().id(index.to_string()).receipt_handle(handle).build() {
                    Ok(entry) => deletes.push(entry),
                    Err(error) => tracing::warn!(%error, "cannot build a DeleteMessageBatch entry"),
                }
            }
        }
        if deletes.is_empty() {
            continue;
        }
        if let Err(error) = sqs.delete_message_batch().queue_url(&url).set_entries(Some(deletes)).send().await {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), queue = url, "sqs:DeleteMessageBatch failed; the messages will be received again");
        }
    }
}

/// Clients of the runtime the benchmark reads from.
struct Readers {
    dynamodb: aws_sdk_dynamodb::Client,
    sfn: aws_sdk_sfn::Client,
    tenant_table: String,
    status_table: String,
}

/// Runs the single-tenant runs, then the batch.
pub async fn run(runtime: &LocalRuntime, options: &OnboardingOptions) -> anyhow::Result<OnboardingResults> {
    let config = runtime.sdk_config().await;
    let readers = Readers {
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        sfn: aws_sdk_sfn::Client::new(&config),
        tenant_table: runtime.stack.names.tenant_table(),
        status_table: runtime.stack.names.status_table(),
    };
    let mut inbox = Inbox::start(runtime).await;

    let warmup = onboard_one(&readers, &mut inbox, "lat-warmup", "lw", options.single_timeout).await?;
    let mut single = Vec::new();
    for run in 0..options.runs {
        let timeline = onboard_one(&readers, &mut inbox, &format!("lat-{run}"), &format!("l{run}"), options.single_timeout).await?;
        tracing::info!(run, total_ms = timeline.total_ms, event = timeline.terminal_event, "tenant onboarded");
        single.push(timeline);
    }
    let batch = onboard_batch(&readers, &mut inbox, options.batch, options.batch_timeout).await?;
    Ok(OnboardingResults { warmup, single, batch })
}

async fn onboard_one(readers: &Readers, inbox: &mut Inbox, tenant_id: &str, prefix: &str, timeout: Duration) -> anyhow::Result<TenantTimeline> {
    let row = tenant_row(tenant_id, prefix);
    let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&row).context("the row converts to a DynamoDB item")?;
    readers
        .dynamodb
        .put_item()
        .table_name(&readers.tenant_table)
        .set_item(Some(item))
        .send()
        .await
        .with_context(|| format!("dynamodb:PutItem of tenant {tenant_id}"))?;
    let (written, written_at) = (Instant::now(), Utc::now());

    let tenants = HashSet::from([tenant_id.to_string()]);
    inbox.wait_terminal(&tenants, written + timeout).await;
    timeline(readers, inbox, tenant_id, written, written_at).await
}

async fn onboard_batch(readers: &Readers, inbox: &mut Inbox, count: usize, timeout: Duration) -> anyhow::Result<BatchRun> {
    let rows: Vec<(String, Value)> = (0..count)
        .map(|i| {
            let tenant_id = format!("batch-{i}");
            let row = tenant_row(&tenant_id, &format!("b{i}"));
            (tenant_id, row)
        })
        .collect();
    let mut requests = Vec::new();
    for chunk in rows.chunks(BATCH_WRITE_ITEMS) {
        let mut writes = Vec::new();
        for (_, row) in chunk {
            let item = serde_dynamo::to_item(row).context("the row converts to a DynamoDB item")?;
            writes.push(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build()?).build());
        }
        requests.push(writes);
    }

    let (started, started_at) = (Instant::now(), Utc::now());
    let sends = requests.into_iter().map(|writes| {
        let dynamodb = readers.dynamodb.clone();
        let table = readers.tenant_table.clone();
        tokio::spawn(async move { dynamodb.batch_write_item().request_items(table, writes).send().await })
    });
    let sends: Vec<_> = sends.collect();
    for send in sends {
        let output = send.await.context("batch write task")?.context("dynamodb:BatchWriteItem of the batch's tenants")?;
        let unprocessed = output.unprocessed_items.map(|items| items.values().map(Vec::len).sum::<usize>()).unwrap_or(0);
        anyhow::ensure!(unprocessed == 0, "dynamodb:BatchWriteItem left {unprocessed} items unprocessed");
    }
    let write_ms = started.elapsed().as_secs_f64() * 1000.0;

    let tenants: HashSet<String> = rows.iter().map(|(tenant_id, _)| tenant_id.clone()).collect();
    let all_terminal = inbox.wait_terminal(&tenants, started + timeout).await;
    let last_arrival = tenants.iter().filter_map(|tenant| inbox.terminal(tenant).map(|a| a.received)).max();
    let elapsed_ms = match (all_terminal, last_arrival) {
        (true, Some(last)) => (last - started).as_secs_f64() * 1000.0,
        _ => started.elapsed().as_secs_f64() * 1000.0,
    };
    tracing::info!(tenants = count, elapsed_ms, all_terminal, "batch onboarded");

    let mut timelines = Vec::new();
    for (tenant_id, _) in &rows {
        timelines.push(timeline(readers, inbox, tenant_id, started, started_at).await?);
    }
    Ok(BatchRun { tenants: count, write_ms, elapsed_ms, all_terminal, timelines })
}

/// Builds a tenant's timeline from what arrived and what was recorded.
async fn timeline(readers: &Readers, inbox: &Inbox, tenant_id: &str, written: Instant, written_at: DateTime<Utc>) -> anyhow::Result<TenantTimeline> {
    let mut timeline = TenantTimeline {
        tenant_id: tenant_id.to_string(),
        terminal_event: None,
        total_ms: None,
        stream_delay_ms: None,
        notifications_ms: BTreeMap::new(),
        status_updated_ms: None,
        delivery_ms: None,
        execution: ExecutionStages::default(),
    };
    let Some(terminal) = inbox.terminal(tenant_id) else {
        tracing::warn!(tenant_id, "no terminal event arrived in time");
        return Ok(timeline);
    };
    timeline.terminal_event = Some(terminal.notification.event_type.to_string());
    timeline.total_ms = Some((terminal.received - written).as_secs_f64() * 1000.0);
    if let Some(sent) = parse_time(&terminal.notification.timestamp) {
        timeline.delivery_ms = Some(millis_between(sent, terminal.received_at));
    }

    if !terminal.notification.execution_arn.is_empty() {
        let events = execution_history(&readers.sfn, &terminal.notification.execution_arn).await?;
        timeline.execution = history::stages(&events);
    }
    if let Some(started) = timeline.execution.started {
        timeline.stream_delay_ms = Some(millis_between(written_at, started));
        for arrival in inbox.by_tenant.get(tenant_id).into_iter().flatten() {
            let notification = &arrival.notification;
            let Some(sent) = parse_time(&notification.timestamp) else { continue };
            timeline.notifications_ms.insert(notification_label(notification), millis_between(started, sent));
        }
    }
    if let Some(status) = status_item(readers, tenant_id).await? {
        timeline.status_updated_ms = parse_time(&status.updated_at).map(|updated| millis_between(written_at, updated));
    }
    Ok(timeline)
}

/// `ModuleProvisioned AMC`, `TenantActive`, ...
pub fn notification_label(notification: &Notification) -> String {
    match notification.module {
        Some(module) if notification.event_type != EventType::TenantProvisioningStarted => {
            format!("{} {module}", notification.event_type)
        }
        _ => notification.event_type.to_string(),
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.with_timezone(&Utc))
}

async fn status_item(readers: &Readers, tenant_id: &str) -> anyhow::Result<Option<TenantStatus>> {
    let output = readers
        .dynamodb
        .get_item()
        .table_name(&readers.status_table)
        .key("tenantId", AttributeValue::S(tenant_id.to_string()))
        .consistent_read(true)
        .send()
        .await
        .with_context(|| format!("dynamodb:GetItem of the status of {tenant_id}"))?;
    output.item.map(serde_dynamo::from_item).transpose().with_context(|| format!("status item of {tenant_id} is not a tenant status"))
}

async fn execution_history(sfn: &aws_sdk_sfn::Client, execution_arn: &str) -> anyhow::Result<Vec<HistoryEntry>> {
    let mut entries = Vec::new();
    let mut token = None;
    for _ in 0..MAX_HISTORY_PAGES {
        let output = sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
            .with_context(|| format!("states:GetExecutionHistory of {execution_arn}"))?;
        for event in output.events {
            let state = event
                .state_entered_event_details
                .map(|details| details.name)
                .or_else(|| event.state_exited_event_details.map(|details| details.name));
            let timestamp = DateTime::from_timestamp(event.timestamp.secs(), event.timestamp.subsec_nanos()).unwrap_or_default();
            entries.push(HistoryEntry { event_type: event.r#type.as_str().to_string(), timestamp, state });
        }
        token = output.next_token;
        if token.is_none() {
            break;
        }
    }
    Ok(entries)
}
