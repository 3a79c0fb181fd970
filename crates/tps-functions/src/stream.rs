//! The stream function: turns tenant table stream records into executions
//! of the onboarding state machine.
//!
//! Records are handled in order. A valid row starts an execution whose name
//! is derived from the record, so a redelivered record cannot start a second
//! one. An invalid row is recorded as `FAILED` with every validation error
//! and announced, and never provisioned. A record that fails for a transient
//! reason is reported in the partial batch response, and the records after
//! it are left for the retry, which keeps them in order.

use std::sync::Arc;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::Value;
use tps_core::action::{decide, Decision, StreamEventName};
use tps_core::catalogue::DatasetCatalogue;
use tps_core::digest::{short_hash, ConfigDigest};
use tps_core::events::{EventType, Notification};
use tps_core::ports::{EventBus, PortError, StartOutcome, StatusStore, Workflow, WriteOutcome};
use tps_core::status::{TenantState, TenantStatus};
use tps_core::validate::{validate, FieldError, ValidationErrors};
use tps_core::workflow::{execution_name, Action, ExecutionInput};
use tps_core::TenantRecord;
use tracing::{info_span, Instrument};

use crate::invocation::Invocation;

/// Maximum length of a tenant id used as the status key of a rejected row.
const MAX_STATUS_KEY_CHARS: usize = 128;

pub struct StreamDeps {
    pub catalogue: DatasetCatalogue,
    pub status: Arc<dyn StatusStore>,
    pub events: Arc<dyn EventBus>,
    pub workflow: Arc<dyn Workflow>,
}

/// Failure to handle one record.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    /// Retrying can help: report the record and stop the batch here.
    #[error(transparent)]
    Transient(PortError),
    /// The record can never be handled: report it so that the event source
    /// mapping sends it to its on-failure destination.
    #[error("{0}")]
    Poison(String),
}

impl From<PortError> for RecordError {
    fn from(error: PortError) -> Self {
        if error.transient {
            RecordError::Transient(error)
        } else {
            RecordError::Poison(error.to_string())
        }
    }
}

/// Handles a batch and returns the partial batch response.
pub async fn handle(event: Event, invocation: &Invocation, deps: &StreamDeps) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    let batch_size = event.records.len();

    for record in &event.records {
        let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
        let span = info_span!(
            "stream_record",
            aws_request_id = %invocation.request_id,
            event_name = %record.event_name,
            sequence_number = %sequence_number,
            tenant_id = tracing::field::Empty,
            execution_arn = tracing::field::Empty,
        );

        match handle_record(record, &sequence_number, deps).instrument(span.clone()).await {
            Ok(()) => {}
            Err(RecordError::Transient(error)) => {
                span.in_scope(|| {
                    tracing::warn!(error = %error, aws_error_code = ?error.code, "transient failure; the record and the ones after it will be retried")
                });
                response.batch_item_failures.push(failure(&sequence_number));
                break;
            }
            Err(RecordError::Poison(message)) => {
                span.in_scope(|| tracing::error!(error = %message, "record cannot be handled; reporting it as a batch item failure"));
                response.batch_item_failures.push(failure(&sequence_number));
            }
        }
    }

    tracing::info!(
        aws_request_id = %invocation.request_id,
        records = batch_size,
        failures = response.batch_item_failures.len(),
        "stream batch handled"
    );
    response
}

fn failure(sequence_number: &str) -> DynamoDbBatchItemFailure {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(sequence_number.to_string());
    failure
}

async fn handle_record(record: &EventRecord, sequence_number: &str, deps: &StreamDeps) -> Result<(), RecordError> {
    let event = match record.event_name.as_str() {
        "INSERT" => StreamEventName::Insert,
        "MODIFY" => StreamEventName::Modify,
        "REMOVE" => StreamEventName::Remove,
        other => return Err(RecordError::Poison(format!("unknown stream event name {other:?}"))),
    };
    if sequence_number.is_empty() {
        return Err(RecordError::Poison("the stream record has no sequence number".into()));
    }
    let image = if event == StreamEventName::Remove { &record.change.old_image } else { &record.change.new_image };
    if image.is_empty() {
        return Err(RecordError::Poison(format!(
            "the {event:?} record has no {} image; the stream must use NEW_AND_OLD_IMAGES",
            if event == StreamEventName::Remove { "old" } else { "new" }
        )));
    }
    let row: Value = serde_dynamo::from_item(image.clone())
        .map_err(|e| RecordError::Poison(format!("the image is not a decodable DynamoDB item: {e}")))?;

    let raw_tenant_id = row.get("customerId").and_then(Value::as_str).unwrap_or_default().to_string();
    tracing::Span::current().record("tenant_id", raw_tenant_id.as_str());

    match validate(&row, &deps.catalogue) {
        Ok(tenant) => handle_valid(event, tenant, sequence_number, deps).await,
        Err(errors) if event == StreamEventName::Remove => {
            // NOTE: an invalid old image carries no usable names, so the
            // modules it may have provisioned are not offboarded from it.
            tracing::warn!(errors = %errors, "REMOVE of a row that does not validate; nothing to offboard from it");
            Ok(())
        }
        Err(errors) => reject(&row, &raw_tenant_id, errors, sequence_number, deps).await,
    }
}

async fn handle_valid(
    event: StreamEventName,
    tenant: TenantRecord,
    sequence_number: &str,
    deps: &StreamDeps,
) -> Result<(), RecordError> {
    let mut status = deps.status.get(&tenant.customer_id).await?;
    if let Some(recorded) = status.as_mut() {
        release_stopped_execution(recorded, deps).await?;
    }

    if let Some(existing) = &status {
        let other_row = existing.customer_name != tenant.customer_name && existing.status != TenantState::Offboarded;
        if other_row && !existing.customer_name.is_empty() {
            if event == StreamEventName::Remove {
                tracing::info!(owner = %existing.customer_name, "REMOVE of a duplicate row that was never provisioned");
                return Ok(());
            }
            let errors = ValidationErrors(vec![FieldError {
                path: "customerId".into(),
                message: format!(
                    "already used by the row with customerName {:?}; choose another customerId or delete this row",
                    existing.customer_name
                ),
            }]);
            // The status item belongs to the other row, so only announce.
            tracing::warn!(errors = %errors, "row rejected: duplicate customerId");
            let digest = ConfigDigest::of_record(&tenant);
            let mut notification = Notification::new(
                EventType::TenantValidationFailed,
                &tenant.customer_id,
                digest.as_str(),
                sequence_number,
                None,
            );
            notification.status = Some(TenantState::Failed);
            notification.errors = errors.0;
            deps.events.publish(&notification).await?;
            crate::metrics::validation_failed(&tenant.customer_id);
            return Ok(());
        }
    }

    let newer_recorded = status
        .as_ref()
        .and_then(|s| s.sequence_number.as_deref())
        .is_some_and(|recorded| tps_core::status::sequence_cmp(recorded, sequence_number).is_gt());
    if newer_recorded {
        tracing::info!("the status is from a newer record; this older record needs nothing");
        return Ok(());
    }

    let prefix_error = match (&status, event) {
        (Some(status), StreamEventName::Insert | StreamEventName::Modify) => status.prefix_change_error(&tenant),
        _ => None,
    };
    if let Some(error) = prefix_error {
        tracing::warn!(errors = %error, "row rejected: customerPrefix changed while modules are provisioned");
        let row = serde_json::to_value(&tenant).unwrap_or_default();
        return reject(&row, &tenant.customer_id, ValidationErrors(vec![error]), sequence_number, deps).await;
    }

    let (action, tasks) = match decide(event, &tenant, status.as_ref(), sequence_number) {
        Decision::Skip { reason } => {
            tracing::info!(reason = %reason, "record needs no execution");
            return Ok(());
        }
        Decision::Run { action, tasks } => (action, tasks),
    };

    let digest = ConfigDigest::of_record(&tenant);
    let name = execution_name(&tenant.customer_id, action, digest.as_str(), sequence_number);
    let input = ExecutionInput {
        tenant_id: tenant.customer_id.clone(),
        action,
        digest: digest.0.clone(),
        sequence_number: sequence_number.to_string(),
        tenant: tenant.without_extras(),
        modules: tasks,
    };
    let input_json = serde_json::to_string(&input)
        .map_err(|e| RecordError::Poison(format!("execution input does not serialize: {e}")))?;

    let execution_arn = match deps.workflow.start_execution(&name, &input_json).await? {
        StartOutcome::Started { execution_arn } => {
            tracing::Span::current().record("execution_arn", execution_arn.as_str());
            tracing::info!(action = action.as_str(), modules = input.modules.len(), "execution started");
            execution_arn
        }
        StartOutcome::AlreadyExists { execution_arn } => {
            tracing::Span::current().record("execution_arn", execution_arn.as_str());
            tracing::info!("execution exists already: the record was delivered before");
            execution_arn
        }
    };

    // Record the execution now, so that a later record in this batch finds it.
    // The execution may have finished already, so a status written for this
    // record is never replaced.
    let mut in_progress = status.unwrap_or_else(|| TenantStatus {
        tenant_id: tenant.customer_id.clone(),
        customer_name: tenant.customer_name.clone(),
        customer_prefix: None,
        status: TenantState::InProgress,
        digest: String::new(),
        action,
        execution_arn: None,
        sequence_number: None,
        updated_at: String::new(),
        modules: Default::default(),
        errors: Vec::new(),
    });
    in_progress.customer_name = tenant.customer_name.clone();
    in_progress.customer_prefix = Some(tenant.customer_prefix.clone());
    in_progress.status = TenantState::InProgress;
    in_progress.digest = digest.0;
    in_progress.action = action;
    in_progress.execution_arn = Some(execution_arn);
    in_progress.sequence_number = Some(sequence_number.to_string());
    in_progress.updated_at = now();
    in_progress.errors.clear();
    if deps.status.put_if_newer(&in_progress).await? == WriteOutcome::Stale {
        tracing::info!("IN_PROGRESS not written: the execution has recorded a status for this record already");
    }
    Ok(())
}

/// Marks an `IN_PROGRESS` status whose execution has stopped as `FAILED`
/// for the decision, so that a re-written row runs again. An execution stops
/// without recording its result when the status function fails every retry.
async fn release_stopped_execution(status: &mut TenantStatus, deps: &StreamDeps) -> Result<(), PortError> {
    if status.status != TenantState::InProgress {
        return Ok(());
    }
    let Some(execution_arn) = status.execution_arn.clone() else { return Ok(()) };
    if !deps.workflow.is_running(&execution_arn).await? {
        tracing::warn!(
            recorded_execution_arn = %execution_arn,
            "the tenant is recorded IN_PROGRESS but its execution has stopped; handling the record as after a failure"
        );
        status.status = TenantState::Failed;
    }
    Ok(())
}

/// Records a row that failed validation as `FAILED` and announces it.
async fn reject(
    row: &Value,
    raw_tenant_id: &str,
    errors: ValidationErrors,
    sequence_number: &str,
    deps: &StreamDeps,
) -> Result<(), RecordError> {
    tracing::warn!(errors = %errors, error_count = errors.0.len(), "row rejected: validation failed");
    let digest = short_hash(&row.to_string(), 64);

    let usable_key = !raw_tenant_id.is_empty()
        && raw_tenant_id.chars().count() <= MAX_STATUS_KEY_CHARS
        && !raw_tenant_id.chars().any(char::is_control);
    if usable_key {
        let customer_name = row.get("customerName").and_then(Value::as_str).unwrap_or_default();
        let existing = deps.status.get(raw_tenant_id).await?;
        let belongs_to_other_row = existing.as_ref().is_some_and(|s| {
            s.customer_name != customer_name && !s.customer_name.is_empty() && s.status != TenantState::Offboarded
        });
        // A redelivered record (a retried batch) finds its own rejection
        // recorded, or a newer record's status: nothing to record or announce.
        let handled = existing.as_ref().and_then(|s| s.sequence_number.as_deref()).is_some_and(|recorded| {
            tps_core::status::sequence_cmp(recorded, sequence_number).is_ge()
        });
        if handled && !belongs_to_other_row {
            tracing::info!("the rejection of this record, or a newer record, is recorded already");
            return Ok(());
        }
        if !belongs_to_other_row {
            let mut failed = existing.unwrap_or_else(|| TenantStatus {
                tenant_id: raw_tenant_id.to_string(),
                customer_name: String::new(),
                customer_prefix: None,
                status: TenantState::Failed,
                digest: String::new(),
                action: Action::Validate,
                execution_arn: None,
                sequence_number: None,
                updated_at: String::new(),
                modules: Default::default(),
                errors: Vec::new(),
            });
            failed.customer_name = customer_name.chars().take(256).collect();
            failed.status = TenantState::Failed;
            failed.digest = digest.clone();
            failed.action = Action::Validate;
            failed.execution_arn = None;
            failed.sequence_number = Some(sequence_number.to_string());
            failed.updated_at = now();
            failed.errors = errors.0.clone();
            if deps.status.put(&failed).await? == WriteOutcome::Stale {
                tracing::info!("a newer record's status is stored; the rejection is not announced");
                return Ok(());
            }
        }
    }

    let tenant_id: String = if usable_key { raw_tenant_id.to_string() } else { String::new() };
    let mut notification =
        Notification::new(EventType::TenantValidationFailed, &tenant_id, &digest, sequence_number, None);
    notification.status = Some(TenantState::Failed);
    notification.errors = errors.0;
    deps.events.publish(&notification).await?;
    crate::metrics::validation_failed(&tenant_id);
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests;
