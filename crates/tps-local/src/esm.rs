//! The event source mapping of the tenant table's stream, played locally:
//! polls the stream, invokes the stream function with the event Lambda
//! sends, and honours partial batch responses, bisects a failing batch,
//! bounds retries and sends what it gives up on to the on-failure
//! destination, as the CDK stack configures the mapping.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType};
use aws_lambda_events::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_json::json;
use tokio::sync::watch;
use tps_core::naming::FunctionKind;
use tps_functions::runtime::Functions;
use tps_functions::Invocation;

use crate::stack::mapping;

/// How often an idle shard is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Counters of the mapping's work.
#[derive(Debug, Default)]
pub struct MappingStats {
    pub invocations: AtomicU64,
    pub records: AtomicU64,
    pub retries: AtomicU64,
    pub sent_to_destination: AtomicU64,
}

pub struct EventSourceMapping {
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub stream_arn: String,
    pub region: String,
    pub function_arn: String,
    pub destination_queue_url: String,
    pub functions: Arc<Functions>,
    /// Invoke every batch twice, as an at-least-once delivery may.
    pub duplicate_delivery: bool,
    pub stats: Arc<MappingStats>,
}

/// Outcome of one invocation.
enum BatchResult {
    /// Every record succeeded.
    Done,
    /// The record at this index (and the ones after it) must be retried.
    FailedFrom(usize),
    /// The function itself failed.
    FunctionError(String),
}

impl EventSourceMapping {
    /// Polls every shard until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut polled: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            match self.shards().await {
                Ok(shards) => {
                    for shard in shards {
                        if polled.contains_key(&shard) {
                            continue;
                        }
                        let mapping = self.clone();
                        let shutdown = shutdown.clone();
                        let shard_id = shard.clone();
                        polled.insert(shard, tokio::spawn(async move { mapping.poll_shard(shard_id, shutdown).await }));
                    }
                }
                Err(error) => tracing::warn!(error = %error, "dynamodb:DescribeStream failed; retrying"),
            }
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
        for (_, task) in polled {
            task.abort();
        }
    }

    async fn shards(&self) -> anyhow::Result<Vec<String>> {
        let output = self.streams.describe_stream().stream_arn(&self.stream_arn).send().await?;
        Ok(output
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.shard_id)
            .collect())
    }

    async fn poll_shard(&self, shard_id: String, mut shutdown: watch::Receiver<bool>) {
        let mut iterator = None;
        let mut last_fetched: Option<String> = None;
        let mut pending: VecDeque<EventRecord> = VecDeque::new();
        let mut attempts: HashMap<String, u32> = HashMap::new();
        let mut batch_limit = mapping::BATCH_SIZE;

        loop {
            if *shutdown.borrow() {
                return;
            }
            if iterator.is_none() {
                iterator = self.iterator(&shard_id, last_fetched.as_deref()).await;
            }
            if pending.len() < mapping::BATCH_SIZE {
                if let Some(current) = iterator.clone() {
                    match self.streams.get_records().shard_iterator(current).limit(mapping::BATCH_SIZE as i32).send().await {
                        Ok(output) => {
                            iterator = output.next_shard_iterator;
                            for record in output.records.unwrap_or_default() {
                                let record = self.to_event_record(record);
                                last_fetched = record.change.sequence_number.clone().or(last_fetched);
                                pending.push_back(record);
                            }
                        }
                        Err(error) => {
                            // The emulator returns a 5xx for an expired or bad iterator,
                            // so get a new one after the last record fetched.
                            tracing::warn!(shard_id, error = %aws_smithy_types::error::display::DisplayErrorContext(&error), "dynamodbstreams:GetRecords failed; getting a new iterator");
                            iterator = None;
                        }
                    }
                }
            }
            if pending.is_empty() {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(POLL_INTERVAL) => continue,
                }
            }

            let take = batch_limit.min(pending.len());
            let batch: Vec<EventRecord> = pending.iter().take(take).cloned().collect();
            match self.invoke(&batch).await {
                BatchResult::Done => {
                    pending.drain(..take);
                    batch_limit = mapping::BATCH_SIZE;
                    for record in &batch {
                        attempts.remove(record.change.sequence_number.as_deref().unwrap_or_default());
                    }
                }
                BatchResult::FailedFrom(index) => {
                    pending.drain(..index);
                    self.retry_or_give_up(&mut pending, &mut attempts, 1, "partial batch failure").await;
                }
                BatchResult::FunctionError(message) => {
                    if mapping::BISECT_BATCH_ON_FUNCTION_ERROR && take > 1 {
                        batch_limit = take / 2;
                        tracing::warn!(error = %message, batch = take, "function error; bisecting the batch");
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    } else {
                        self.retry_or_give_up(&mut pending, &mut attempts, take, &message).await;
                    }
                }
            }
        }
    }

    /// Counts a failed attempt of the first `count` pending records; past
    /// the retry limit, sends them to the on-failure destination and moves on.
    async fn retry_or_give_up(
        &self,
        pending: &mut VecDeque<EventRecord>,
        attempts: &mut HashMap<String, u32>,
        count: usize,
        reason: &str,
    ) {
        let Some(first) = pending.front() else { return };
        let sequence_number = first.change.sequence_number.clone().unwrap_or_default();
        let attempt = attempts.entry(sequence_number.clone()).or_insert(0);
        *attempt += 1;
        let expired = is_expired(first);
        if *attempt <= mapping::MAXIMUM_RETRY_ATTEMPTS && !expired {
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            let delay = Duration::from_millis(200 * u64::from(*attempt));
            tracing::warn!(sequence_number, attempt = *attempt, reason, ?delay, "retrying the batch from this record");
            tokio::time::sleep(delay).await;
            return;
        }

        let invoke_count = *attempt;
        let count = count.min(pending.len());
        let records: Vec<EventRecord> = pending.drain(..count).collect();
        attempts.remove(&sequence_number);
        let condition = if expired { "RecordAgeExceeded" } else { "RetryAttemptsExhausted" };
        tracing::error!(sequence_number, records = records.len(), condition, reason, "sending records to the on-failure destination");
        self.send_to_destination(&records, condition, invoke_count).await;
    }

    async fn send_to_destination(&self, records: &[EventRecord], condition: &str, invoke_count: u32) {
        let first = records.first().expect("at least one record");
        let last = records.last().expect("at least one record");
        let message = json!({
            "version": "1.0",
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "requestContext": {
                "requestId": format!("local-esm-{}", std::process::id()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
            "DDBStreamBatchInfo": {
                "shardId": first.event_id.split(':').next().unwrap_or_default(),
                "startSequenceNumber": first.change.sequence_number,
                "endSequenceNumber": last.change.sequence_number,
                "approximateArrivalOfFirstRecord": first.change.approximate_creation_date_time.to_rfc3339(),
                "approximateArrivalOfLastRecord": last.change.approximate_creation_date_time.to_rfc3339(),
                "batchSize": records.len(),
                "streamArn": self.stream_arn,
            },
        });
        match self.sqs.send_message().queue_url(&self.destination_queue_url).message_body(message.to_string()).send().await {
            Ok(_) => {
                self.stats.sent_to_destination.fetch_add(records.len() as u64, Ordering::Relaxed);
            }
            Err(error) => tracing::error!(error = %aws_smithy_types::error::display::DisplayErrorContext(&error), "sending to the on-failure destination failed; the records are dropped"),
        }
    }

    /// An iterator after `last_fetched`, or at the trim horizon.
    async fn iterator(&self, shard_id: &str, last_fetched: Option<&str>) -> Option<String> {
        let request = self.streams.get_shard_iterator().stream_arn(&self.stream_arn).shard_id(shard_id);
        let request = match last_fetched {
            Some(sequence_number) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence_number),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        match request
            .send()
            .await
        {
            Ok(output) => output.shard_iterator,
            Err(error) => {
                tracing::warn!(shard_id, error = %aws_smithy_types::error::display::DisplayErrorContext(&error), "dynamodbstreams:GetShardIterator failed");
                None
            }
        }
    }

    async fn invoke(&self, batch: &[EventRecord]) -> BatchResult {
        let mut event = Event::default();
        event.records = batch.to_vec();
        let payload = serde_json::to_vec(&event).expect("stream events serialize");
        let deliveries = if self.duplicate_delivery { 2 } else { 1 };

        let mut result = BatchResult::Done;
        for _ in 0..deliveries {
            result = self.invoke_once(batch, &payload).await;
        }
        result
    }

    async fn invoke_once(&self, batch: &[EventRecord], payload: &[u8]) -> BatchResult {
        let number = self.stats.invocations.fetch_add(1, Ordering::Relaxed);
        self.stats.records.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let invocation = Invocation {
            request_id: format!("local-esm-{}-{number:08}", std::process::id()),
            function_arn: self.function_arn.clone(),
        };
        let output = match self.functions.invoke(FunctionKind::Stream, payload, &invocation).await {
            Ok(output) => output,
            Err(error) => return BatchResult::FunctionError(error.to_string()),
        };
        let response: DynamoDbEventResponse = match serde_json::from_slice(&output) {
            Ok(response) => response,
            Err(error) => return BatchResult::FunctionError(format!("invalid partial batch response: {error}")),
        };
        if response.batch_item_failures.is_empty() {
            return BatchResult::Done;
        }
        // Lambda retries from the lowest failed sequence number; an unknown
        // or empty identifier fails the whole batch.
        let mut lowest = batch.len();
        for failure in &response.batch_item_failures {
            let position = failure
                .item_identifier
                .as_deref()
                .and_then(|id| batch.iter().position(|r| r.change.sequence_number.as_deref() == Some(id)));
            lowest = lowest.min(position.unwrap_or(0));
        }
        BatchResult::FailedFrom(lowest)
    }

    fn to_event_record(&self, record: Record) -> EventRecord {
        let mut change = StreamRecord::default();
        if let Some(data) = record.dynamodb {
            if let Some(time) = data.approximate_creation_date_time {
                change.approximate_creation_date_time =
                    chrono::DateTime::from_timestamp(time.secs(), time.subsec_nanos()).unwrap_or_default();
            }
            change.keys = data.keys.unwrap_or_default().into();
            change.new_image = data.new_image.unwrap_or_default().into();
            change.old_image = data.old_image.unwrap_or_default().into();
            change.sequence_number = data.sequence_number;
            change.size_bytes = data.size_bytes.unwrap_or_default();
            change.stream_view_type = Some(StreamViewType::NewAndOldImages);
        }
        let mut event = EventRecord::default();
        event.aws_region = self.region.clone();
        event.event_id = record.event_id.unwrap_or_default();
        event.event_name = record.event_name.map(|n| n.as_str().to_string()).unwrap_or_default();
        event.event_source = Some("aws:dynamodb".to_string());
        event.event_version = record.event_version;
        event.event_source_arn = Some(self.stream_arn.clone());
        event.change = change;
        event
    }
}

fn is_expired(record: &EventRecord) -> bool {
    let created = record.change.approximate_creation_date_time;
    created.timestamp() > 0
        && (chrono::Utc::now() - created).num_seconds() > mapping::MAXIMUM_RECORD_AGE_SECONDS
}
