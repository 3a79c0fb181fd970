//! Tenant rows and function events for the benchmarks, built from the
//! example tenant with all three modules.

use anyhow::{anyhow, Context};
use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType};
use serde_json::{json, Value};
use tps_core::action::{decide, Decision, ModuleOperation, StreamEventName};
use tps_core::catalogue::DatasetCatalogue;
use tps_core::digest::ConfigDigest;
use tps_core::module::Module;
use tps_core::naming::FunctionKind;
use tps_core::workflow::{ExecutionInput, ModuleInvocation, ModuleOutcome, ModuleResult, Phase, StatusInvocation};
use tps_core::TenantRecord;

/// The example row with AMC, Sponsored Ads and DSP enabled.
pub const ALL_MODULES_ROW: &str = include_str!("../../../examples/tenants/acme-all-modules.json");

/// Returns the example row with `customerId`, `customerName` and
/// `customerPrefix` replaced, so that every benchmark tenant gets its own resources.
/// `prefix` must be 1 to 20 characters of `[a-z0-9-]`.
pub fn tenant_row(tenant_id: &str, prefix: &str) -> Value {
    let mut row: Value = serde_json::from_str(ALL_MODULES_ROW).expect("the example row is JSON");
    row["customerId"] = json!(tenant_id);
    row["customerName"] = json!(format!("Benchmark tenant {tenant_id}"));
    row["customerPrefix"] = json!(prefix);
    row
}

/// Validates `row` against the embedded dataset catalogue.
pub fn tenant_record(row: &Value) -> anyhow::Result<TenantRecord> {
    tps_core::validate(row, &DatasetCatalogue::embedded()).map_err(|errors| anyhow!("benchmark row is invalid: {errors}"))
}

/// Formats a stream sequence number as DynamoDB writes them: 21 digits.
pub fn sequence_number(n: u64) -> String {
    format!("{n:021}")
}

/// Builds one `INSERT` record of the tenant table's stream, as the event
/// source mapping delivers it.
pub fn insert_record(row: &Value, sequence_number: &str, stream_arn: &str, region: &str) -> anyhow::Result<EventRecord> {
    let keys = json!({ "customerId": row["customerId"], "customerName": row["customerName"] });
    let mut change = StreamRecord::default();
    change.approximate_creation_date_time = chrono::Utc::now();
    change.keys = serde_dynamo::to_item(keys).context("the key converts to a DynamoDB item")?;
    change.new_image = serde_dynamo::to_item(row).context("the row converts to a DynamoDB item")?;
    change.sequence_number = Some(sequence_number.to_string());
    change.size_bytes = row.to_string().len() as i64;
    change.stream_view_type = Some(StreamViewType::NewAndOldImages);

    let mut record = EventRecord::default();
    record.aws_region = region.to_string();
    record.event_id = format!("bench-{sequence_number}");
    record.event_name = "INSERT".to_string();
    record.event_source = Some("aws:dynamodb".to_string());
    record.event_version = Some("1.1".to_string());
    record.event_source_arn = Some(stream_arn.to_string());
    record.change = change;
    Ok(record)
}

/// Builds a stream event with one `INSERT` record per row.
pub fn stream_event(rows: &[Value], first_sequence: u64, stream_arn: &str, region: &str) -> anyhow::Result<Event> {
    let mut event = Event::default();
    for (offset, row) in rows.iter().enumerate() {
        event.records.push(insert_record(row, &sequence_number(first_sequence + offset as u64), stream_arn, region)?);
    }
    Ok(event)
}

/// Builds the execution input the stream function starts for a new tenant.
pub fn execution_input(record: &TenantRecord, sequence_number: &str) -> anyhow::Result<ExecutionInput> {
    let Decision::Run { action, tasks } = decide(StreamEventName::Insert, record, None, sequence_number) else {
        return Err(anyhow!("a new tenant must need an execution"));
    };
    Ok(ExecutionInput {
        tenant_id: record.customer_id.clone(),
        action,
        digest: ConfigDigest::of_record(record).0,
        sequence_number: sequence_number.to_string(),
        tenant: record.clone(),
        modules: tasks,
    })
}

/// Builds the Map iteration input of one module's provisioning task.
pub fn module_invocation(input: &ExecutionInput, module: Module, execution_arn: &str) -> anyhow::Result<ModuleInvocation> {
    let task = input
        .modules
        .iter()
        .find(|task| task.module == module)
        .ok_or_else(|| anyhow!("the benchmark tenant does not enable {module}"))?;
    Ok(ModuleInvocation {
        tenant_id: input.tenant_id.clone(),
        digest: input.digest.clone(),
        execution_arn: execution_arn.to_string(),
        sequence_number: input.sequence_number.clone(),
        tenant: input.tenant.clone(),
        task: task.clone(),
    })
}

/// Builds the status function's `COMPLETED` input after every module succeeded.
pub fn completed_invocation(input: &ExecutionInput, execution_arn: &str) -> StatusInvocation {
    let results = input
        .modules
        .iter()
        .map(|task| {
            ModuleResult::Succeeded(ModuleOutcome {
                module: task.module,
                operation: ModuleOperation::Provision,
                module_digest: task.module_digest.clone(),
                outputs: json!({ "bucketName": format!("tps-{}-{}", input.tenant.customer_prefix, task.module.slug()) }),
            })
        })
        .collect();
    StatusInvocation {
        phase: Phase::Completed,
        execution_arn: execution_arn.to_string(),
        execution: input.clone(),
        results,
    }
}

/// ARNs and region that a function's benchmark event refers to.
pub struct EventTarget<'a> {
    pub stream_arn: &'a str,
    pub region: &'a str,
    pub execution_arn: &'a str,
}

/// Builds the JSON event for function `kind` that onboards tenant `row`: the
/// stream record of its insert, its module task, or its completed status.
pub fn function_event(kind: FunctionKind, row: &Value, sequence: u64, target: &EventTarget<'_>) -> anyhow::Result<Vec<u8>> {
    let sequence_number = sequence_number(sequence);
    let record = tenant_record(row)?;
    let input = execution_input(&record, &sequence_number)?;
    let bytes = match kind {
        FunctionKind::Stream => serde_json::to_vec(&stream_event(std::slice::from_ref(row), sequence, target.stream_arn, target.region)?)?,
        FunctionKind::Amc => serde_json::to_vec(&module_invocation(&input, Module::Amc, target.execution_arn)?)?,
        FunctionKind::SponsoredAds => serde_json::to_vec(&module_invocation(&input, Module::SponsoredAds, target.execution_arn)?)?,
        FunctionKind::Dsp => serde_json::to_vec(&module_invocation(&input, Module::Dsp, target.execution_arn)?)?,
        FunctionKind::Status => serde_json::to_vec(&completed_invocation(&input, target.execution_arn))?,
    };
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM_ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000";

    #[test]
    fn row_validates_with_three_modules() {
        let row = tenant_row("bench-1", "b1");
        let record = tenant_record(&row).unwrap();
        assert_eq!(record.customer_prefix, "b1");
        let input = execution_input(&record, &sequence_number(1)).unwrap();
        assert_eq!(input.modules.len(), 3);
    }

    #[test]
    fn stream_event_round_trips_through_serde_dynamo() {
        let rows: Vec<Value> = (0..3).map(|i| tenant_row(&format!("bench-{i}"), &format!("b{i}"))).collect();
        let event = stream_event(&rows, 7, STREAM_ARN, "us-east-1").unwrap();
        let json = serde_json::to_vec(&event).unwrap();
        let parsed: Event = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed.records.len(), 3);
        assert_eq!(parsed.records[1].change.sequence_number.as_deref(), Some("000000000000000000008"));
        let image: Value = serde_dynamo::from_item(parsed.records[2].change.new_image.clone()).unwrap();
        assert_eq!(image, rows[2]);
    }

    #[test]
    fn every_function_event_parses_as_its_input() {
        let row = tenant_row("bench-9", "b9");
        let target = EventTarget {
            stream_arn: STREAM_ARN,
            region: "us-east-1",
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm:run",
        };
        for kind in FunctionKind::ALL {
            let bytes = function_event(kind, &row, 1, &target).unwrap();
            match kind {
                FunctionKind::Stream => assert!(serde_json::from_slice::<Event>(&bytes).is_ok()),
                FunctionKind::Status => {
                    let input: StatusInvocation = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(input.results.len(), 3);
                }
                _ => {
                    let input: ModuleInvocation = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(FunctionKind::for_module(input.task.module), kind);
                }
            }
        }
    }
}
