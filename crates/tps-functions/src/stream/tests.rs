use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use tps_core::ports::memory::{MemoryEvents, MemoryStatus, MemoryWorkflow};
use tps_core::ports::{PortError, StartOutcome, Workflow};

use super::*;

fn row(tenant_id: &str) -> Value {
    json!({
        "customerId": tenant_id, "customerName": "Acme", "customerPrefix": "acme", "endemicType": "ENDEMIC",
        "AMC": {"amcOrangeAwsAccount": "111122223333"}
    })
}

/// A stream record as Lambda delivers it, with `image` as the new image.
fn record(event_name: &str, sequence_number: &str, image: &Value) -> Value {
    let item: std::collections::HashMap<String, serde_dynamo::AttributeValue> =
        serde_dynamo::to_item(image).expect("image converts");
    json!({
        "eventID": format!("id-{sequence_number}"),
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "SequenceNumber": sequence_number,
            "NewImage": item,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "SizeBytes": 100
        }
    })
}

fn event(records: Vec<Value>) -> Event {
    serde_json::from_value(json!({ "Records": records })).expect("a DynamoDB stream event")
}

struct Fixture {
    status: Arc<MemoryStatus>,
    events: Arc<MemoryEvents>,
    workflow: Arc<MemoryWorkflow>,
    deps: StreamDeps,
}

fn fixture() -> Fixture {
    let status = Arc::new(MemoryStatus::default());
    let events = Arc::new(MemoryEvents::default());
    let workflow = Arc::new(MemoryWorkflow::default());
    let deps = StreamDeps {
        catalogue: DatasetCatalogue::embedded(),
        status: status.clone(),
        events: events.clone(),
        workflow: workflow.clone(),
    };
    Fixture { status, events, workflow, deps }
}

fn invocation() -> Invocation {
    Invocation { request_id: "req-1".into(), function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into() }
}

#[tokio::test]
async fn valid_insert_starts_one_execution() {
    let f = fixture();
    let response = handle(event(vec![record("INSERT", "100", &row("acme-001"))]), &invocation(), &f.deps).await;

    assert!(response.batch_item_failures.is_empty());
    let executions = f.workflow.0.lock().unwrap().clone();
    assert_eq!(executions.len(), 1);
    let (name, input) = executions.into_iter().next().unwrap();
    assert!(name.starts_with("acme-001-provision-"), "{name}");
    let input: ExecutionInput = serde_json::from_str(&input).unwrap();
    assert_eq!(input.modules.len(), 1);
    assert_eq!(input.sequence_number, "100");
    let status = f.status.0.lock().unwrap()["acme-001"].clone();
    assert_eq!(status.status, TenantState::InProgress);
    assert!(f.events.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn redelivered_batch_starts_no_second_execution() {
    let f = fixture();
    let batch = vec![record("INSERT", "100", &row("acme-001"))];
    handle(event(batch.clone()), &invocation(), &f.deps).await;
    let response = handle(event(batch), &invocation(), &f.deps).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(f.workflow.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_row_is_failed_and_announced() {
    let f = fixture();
    let mut bad = row("acme-001");
    bad["AMC"]["amcOrangeAwsAccount"] = json!("12345");
    bad["endemicType"] = json!("MAYBE");
    let response = handle(event(vec![record("INSERT", "100", &bad)]), &invocation(), &f.deps).await;

    assert!(response.batch_item_failures.is_empty());
    assert!(f.workflow.0.lock().unwrap().is_empty());
    let status = f.status.0.lock().unwrap()["acme-001"].clone();
    assert_eq!(status.status, TenantState::Failed);
    assert_eq!(status.errors.len(), 2);
    let events = f.events.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::TenantValidationFailed);
    assert_eq!(events[0].errors[1].path, "AMC.amcOrangeAwsAccount");
}

#[tokio::test]
async fn poison_record_does_not_block_the_next() {
    let f = fixture();
    let poison = json!({
        "eventID": "id-100", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": { "SequenceNumber": "100", "StreamViewType": "NEW_AND_OLD_IMAGES", "SizeBytes": 10 }
    });
    let response = handle(event(vec![poison, record("INSERT", "101", &row("acme-002"))]), &invocation(), &f.deps).await;

    let failed: Vec<Option<String>> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![Some("100".to_string())]);
    assert_eq!(f.workflow.0.lock().unwrap().len(), 1, "the record after the poison one is handled");
}

struct ThrottledWorkflow;

#[async_trait]
impl Workflow for ThrottledWorkflow {
    async fn start_execution(&self, _name: &str, _input: &str) -> Result<StartOutcome, PortError> {
        Err(PortError::transient("states:StartExecution", "Rate exceeded"))
    }

    async fn is_running(&self, _execution_arn: &str) -> Result<bool, PortError> {
        Err(PortError::transient("states:DescribeExecution", "Rate exceeded"))
    }
}

#[tokio::test]
async fn transient_failure_stops_the_batch() {
    let mut f = fixture();
    f.deps.workflow = Arc::new(ThrottledWorkflow);
    let records = vec![record("INSERT", "100", &row("acme-001")), record("INSERT", "101", &row("acme-002"))];
    let response = handle(event(records), &invocation(), &f.deps).await;

    let failed: Vec<Option<String>> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![Some("100".to_string())], "only the first failed record is reported");
    assert!(f.status.0.lock().unwrap().is_empty(), "nothing recorded for a record that will be retried");
}

#[tokio::test]
async fn redelivered_invalid_row_is_announced_once() {
    let f = fixture();
    let mut bad = row("acme-001");
    bad["endemicType"] = json!("MAYBE");
    let batch = vec![record("INSERT", "100", &bad)];
    handle(event(batch.clone()), &invocation(), &f.deps).await;
    handle(event(batch), &invocation(), &f.deps).await;

    assert_eq!(f.events.0.lock().unwrap().len(), 1);
}

/// An execution that runs to its end before `StartExecution` returns, as a
/// fast execution does when the stream function's own status write is slow.
struct InstantWorkflow {
    status: Arc<MemoryStatus>,
}

#[async_trait]
impl Workflow for InstantWorkflow {
    async fn start_execution(&self, name: &str, input: &str) -> Result<StartOutcome, PortError> {
        let input: ExecutionInput = serde_json::from_str(input).expect("execution input");
        let finished = TenantStatus {
            tenant_id: input.tenant_id,
            customer_name: input.tenant.customer_name.clone(),
            customer_prefix: Some(input.tenant.customer_prefix.clone()),
            status: TenantState::Active,
            digest: input.digest,
            action: input.action,
            execution_arn: Some(format!("arn:aws:states:us-east-1:123456789012:execution:test:{name}")),
            sequence_number: Some(input.sequence_number),
            updated_at: now(),
            modules: Default::default(),
            errors: Vec::new(),
        };
        self.status.put(&finished).await?;
        Ok(StartOutcome::Started { execution_arn: finished.execution_arn.unwrap() })
    }

    async fn is_running(&self, _execution_arn: &str) -> Result<bool, PortError> {
        Ok(false)
    }
}

#[tokio::test]
async fn finished_execution_keeps_its_status() {
    let mut f = fixture();
    f.deps.workflow = Arc::new(InstantWorkflow { status: f.status.clone() });
    let response = handle(event(vec![record("INSERT", "100", &row("acme-001"))]), &invocation(), &f.deps).await;

    assert!(response.batch_item_failures.is_empty());
    let status = f.status.0.lock().unwrap()["acme-001"].clone();
    assert_eq!(status.status, TenantState::Active, "IN_PROGRESS must not replace the execution's result");
}
