//! Tenant lifecycle on the local runtime: edits, removal, ordering,
//! partial failure and poison records.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use tps_core::events::EventType;
use tps_core::module::Module;
use tps_core::naming::FunctionKind;
use tps_core::status::{ModuleState, TenantState};
use tps_e2e::{all_modules_row, invoke, shared};

/// Events of the tenant's execution named by its terminal notification.
fn events_of_execution(tenant: &[tps_core::events::Notification], execution_arn: &str) -> Vec<String> {
    tenant
        .iter()
        .filter(|n| n.execution_arn == execution_arn)
        .map(|n| format!("{}{}", n.event_type, n.module.map(|m| format!(" {m}")).unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn modify_provisions_only_changed_module() {
    let harness = shared();
    let mut row = all_modules_row("lc-modify", "lcmodify");
    harness.put_row(&row).await;
    harness.wait_for_terminal("lc-modify", 1).await;

    row["SponsoredAds"]["streamDatasets"] = json!(["sp-traffic", "budget-usage"]);
    harness.put_row(&row).await;
    let terminal = harness.wait_for_terminal("lc-modify", 2).await;

    let second = &terminal[1];
    assert_eq!(second.event_type, EventType::TenantActive);
    let events = events_of_execution(&harness.notifications_for("lc-modify"), &second.execution_arn);
    assert_eq!(events, vec!["TenantProvisioningStarted", "ModuleProvisioned SponsoredAds", "TenantActive"]);
    let mut queues = harness.queues_with_prefix("us-east-1", "tps-lcmodify-sa-").await;
    queues.sort();
    assert_eq!(
        queues,
        vec!["tps-lcmodify-sa-budget-usage", "tps-lcmodify-sa-budget-usage-dlq", "tps-lcmodify-sa-sp-traffic", "tps-lcmodify-sa-sp-traffic-dlq"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn modify_without_relevant_change_does_nothing() {
    let harness = shared();
    let mut row = all_modules_row("lc-noop", "lcnoop");
    harness.put_row(&row).await;
    harness.wait_for_terminal("lc-noop", 1).await;
    let before = harness.status("lc-noop").await.unwrap();

    row["notes"] = json!("moved to the EU team");
    harness.put_row(&row).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert_eq!(harness.notifications_for("lc-noop").len(), 5, "no new notification");
    assert_eq!(harness.executions_of("lc-noop").await.len(), 1);
    let after = harness.status("lc-noop").await.unwrap();
    assert_eq!(after.updated_at, before.updated_at, "status untouched");
}

#[tokio::test(flavor = "multi_thread")]
async fn removed_section_is_deprovisioned() {
    let harness = shared();
    let mut row = all_modules_row("lc-drop", "lcdrop");
    harness.put_row(&row).await;
    harness.wait_for_terminal("lc-drop", 1).await;

    row.as_object_mut().unwrap().remove("SponsoredAds");
    harness.put_row(&row).await;
    let terminal = harness.wait_for_terminal("lc-drop", 2).await;

    let events = events_of_execution(&harness.notifications_for("lc-drop"), &terminal[1].execution_arn);
    assert_eq!(events, vec!["TenantProvisioningStarted", "ModuleDeprovisioned SponsoredAds", "TenantActive"]);
    let status = harness.status("lc-drop").await.unwrap();
    assert_eq!(status.status, TenantState::Active);
    assert_eq!(status.modules[&Module::SponsoredAds].state, ModuleState::Removed);
    assert!(harness.queues_with_prefix("us-east-1", "tps-lcdrop-sa-").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_with_retain_keeps_buckets_and_keys() {
    let harness = shared();
    let row = all_modules_row("lc-retain", "lcretain");
    harness.put_row(&row).await;
    harness.wait_for_terminal("lc-retain", 1).await;

    harness.delete_row("lc-retain", row["customerName"].as_str().unwrap()).await;
    let offboarded = harness.wait_for("lc-retain", EventType::TenantOffboarded).await;

    assert_eq!(offboarded.status, Some(TenantState::Offboarded));
    let events = events_of_execution(&harness.notifications_for("lc-retain"), &offboarded.execution_arn);
    assert_eq!(events[0], "TenantOffboardingStarted", "{events:?}");
    let status = harness.status("lc-retain").await.unwrap();
    assert_eq!(status.status, TenantState::Offboarded);
    assert!(status.modules.values().all(|m| m.state == ModuleState::Removed), "{:?}", status.modules);
    assert!(harness.queues_with_prefix("us-east-1", "tps-lcretain-").await.is_empty(), "stream queues removed");
    assert!(harness.bucket_exists("tps-lcretain-amc-123456789012-us-east-1").await);
    assert!(harness.bucket_exists("tps-lcretain-dsp-123456789012-us-east-1").await);
    let kept = status.modules[&Module::Amc].outputs["kept"].as_array().unwrap().len();
    assert_eq!(kept, 2, "bucket and key kept with their reason");
    assert_eq!(harness.keys_of_tenant("lc-retain").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_with_delete_deletes_empty_buckets() {
    let harness = shared();
    let mut row = all_modules_row("lc-delete", "lcdelete");
    row["retention"] = json!("DELETE");
    harness.put_row(&row).await;
    harness.wait_for_terminal("lc-delete", 1).await;

    harness.delete_row("lc-delete", row["customerName"].as_str().unwrap()).await;
    harness.wait_for("lc-delete", EventType::TenantOffboarded).await;

    assert!(!harness.bucket_exists("tps-lcdelete-amc-123456789012-us-east-1").await);
    assert!(!harness.bucket_exists("tps-lcdelete-dsp-123456789012-us-east-1").await);
    let kms = harness.kms();
    for alias in ["alias/tps-lc-delete-amc", "alias/tps-lc-delete-dsp"] {
        let key = kms.describe_key().key_id(alias).send().await.unwrap().key_metadata.unwrap();
        assert_eq!(key.key_state.unwrap().as_str(), "PendingDeletion", "{alias}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_failure_then_fix_provisions_only_failed_module() {
    let harness = shared();
    // A bucket that belongs to another tenant makes the AMC module fail.
    let s3 = harness.s3();
    s3.create_bucket().bucket("lc-taken-bucket").send().await.unwrap();
    let tag = aws_sdk_s3::types::Tag::builder().key("tps:tenant").value("someone-else").build().unwrap();
    s3.put_bucket_tagging()
        .bucket("lc-taken-bucket")
        .tagging(aws_sdk_s3::types::Tagging::builder().tag_set(tag).build().unwrap())
        .send()
        .await
        .unwrap();
    let mut row = all_modules_row("lc-partial", "lcpartial");
    row["AMC"]["amcS3BucketName"] = json!("lc-taken-bucket");
    harness.put_row(&row).await;

    let partial = harness.wait_for("lc-partial", EventType::TenantPartiallyActive).await;
    assert_eq!(partial.status, Some(TenantState::Partial));
    let failed = harness.wait_for("lc-partial", EventType::ModuleFailed).await;
    assert_eq!(failed.module, Some(Module::Amc));
    let error = failed.error.expect("module error");
    assert_eq!(error.error_type, "ProvisioningError");
    assert!(error.message.contains("someone-else"), "{}", error.message);
    let status = harness.status("lc-partial").await.unwrap();
    assert_eq!(status.modules[&Module::Amc].state, ModuleState::Failed);
    assert_eq!(status.modules[&Module::Dsp].state, ModuleState::Active);
    assert_eq!(status.modules[&Module::SponsoredAds].state, ModuleState::Active);

    row["AMC"]["amcS3BucketName"] = Value::Null;
    harness.put_row(&row).await;
    let active = harness.wait_for("lc-partial", EventType::TenantActive).await;
    let events = events_of_execution(&harness.notifications_for("lc-partial"), &active.execution_arn);
    assert_eq!(events, vec!["TenantProvisioningStarted", "ModuleProvisioned AMC", "TenantActive"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn older_record_never_rolls_back() {
    let harness = shared();
    let mut row = all_modules_row("lc-order", "lcorder");
    harness.put_row(&row).await;
    harness.wait_for_terminal("lc-order", 1).await;
    row["SponsoredAds"]["streamDatasets"] = json!(["budget-usage"]);
    harness.put_row(&row).await;
    harness.wait_for_terminal("lc-order", 2).await;
    let current = harness.status("lc-order").await.unwrap();

    // Deliver the first config again with a lower sequence number than the
    // recorded one, as a late retry of an old batch would.
    let old = all_modules_row("lc-order", "lcorder");
    let item: HashMap<String, serde_dynamo::AttributeValue> = serde_dynamo::to_item(&old).unwrap();
    let event = json!({ "Records": [{
        "eventID": "late-1", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": { "SequenceNumber": "1", "NewImage": item, "StreamViewType": "NEW_AND_OLD_IMAGES", "SizeBytes": 10 }
    }]});
    let (error, response) = invoke(&harness.endpoint, &harness.stack.names.function(FunctionKind::Stream), &event).await;
    assert_eq!(error, None, "{response}");
    assert_eq!(response["batchItemFailures"], json!([]));
    tokio::time::sleep(Duration::from_secs(2)).await;

    assert_eq!(harness.executions_of("lc-order").await.len(), 2, "no execution for the old record");
    let after = harness.status("lc-order").await.unwrap();
    assert_eq!(after.digest, current.digest);
    assert_eq!(after.sequence_number, current.sequence_number);
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_record_goes_to_failure_queue() {
    let harness = shared();
    // A status item that is not a tenant status makes the record unhandleable.
    harness
        .dynamodb()
        .put_item()
        .table_name(harness.stack.names.status_table())
        .item("tenantId", AttributeValue::S("lc-poison".into()))
        .item("status", AttributeValue::S("NOT_A_STATUS".into()))
        .send()
        .await
        .unwrap();
    harness.put_row(&all_modules_row("lc-poison", "lcpoison")).await;
    harness.put_row(&all_modules_row("lc-after-poison", "lcafter")).await;

    harness.wait_for("lc-after-poison", EventType::TenantActive).await;
    let sqs = harness.sqs();
    let mut destination = Vec::new();
    for _ in 0..20 {
        let output = sqs
            .receive_message()
            .queue_url(&harness.stack.failure_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        destination.extend(output.messages.unwrap_or_default().into_iter().filter_map(|m| m.body));
        if !destination.is_empty() {
            break;
        }
    }
    assert_eq!(destination.len(), 1, "{destination:?}");
    let message: Value = serde_json::from_str(&destination[0]).unwrap();
    assert_eq!(message["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(message["DDBStreamBatchInfo"]["batchSize"], 1);
    assert_eq!(message["DDBStreamBatchInfo"]["streamArn"], harness.stack.stream_arn.as_str());
    assert!(harness.executions_of("lc-poison").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn stopped_execution_does_not_block_rewrite() {
    let harness = shared();
    let row = all_modules_row("lc-stuck", "lcstuck");
    // The status an execution leaves behind when it stops before recording
    // its result: IN_PROGRESS, for this row's digest, with no running execution.
    let record = tps_core::validate(&row, &tps_core::DatasetCatalogue::embedded()).unwrap();
    let digest = tps_core::ConfigDigest::of_record(&record).0;
    let stuck = tps_core::TenantStatus {
        tenant_id: "lc-stuck".into(),
        customer_name: row["customerName"].as_str().unwrap().into(),
        customer_prefix: Some("lcstuck".into()),
        status: TenantState::InProgress,
        digest,
        action: tps_core::workflow::Action::Provision,
        execution_arn: Some(format!("{}:gone", harness.stack.state_machine_arn.replace(":stateMachine:", ":execution:"))),
        sequence_number: Some("1".into()),
        updated_at: "2026-01-01T00:00:00.000Z".into(),
        modules: Default::default(),
        errors: vec![],
    };
    let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(&stuck).unwrap();
    harness
        .dynamodb()
        .put_item()
        .table_name(harness.stack.names.status_table())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();

    harness.put_row(&row).await;
    harness.wait_for("lc-stuck", EventType::TenantActive).await;
    assert_eq!(harness.status("lc-stuck").await.unwrap().status, TenantState::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn offboarding_leaves_other_tenants_bucket() {
    let harness = shared();
    let owner = json!({
        "customerId": "lc-owner", "customerName": "Owner", "customerPrefix": "lcshared", "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "111122223333" }
    });
    harness.put_row(&owner).await;
    harness.wait_for("lc-owner", EventType::TenantActive).await;

    // A second tenant with the same prefix fails on the owner's bucket...
    let mut squatter = owner.clone();
    squatter["customerId"] = json!("lc-squatter");
    squatter["customerName"] = json!("Squatter");
    squatter["retention"] = json!("DELETE");
    harness.put_row(&squatter).await;
    harness.wait_for("lc-squatter", EventType::TenantFailed).await;

    // ...and offboarding it must leave the owner's bucket and grants alone.
    harness.delete_row("lc-squatter", "Squatter").await;
    harness.wait_for("lc-squatter", EventType::TenantOffboarded).await;

    let bucket = "tps-lcshared-amc-123456789012-us-east-1";
    assert!(harness.bucket_exists(bucket).await, "the owner's bucket was deleted");
    let policy: Value = serde_json::from_str(&harness.s3().get_bucket_policy().bucket(bucket).send().await.unwrap().policy.unwrap()).unwrap();
    assert!(
        policy["Statement"].as_array().unwrap().iter().any(|s| s["Sid"] == "WritersPutObjects"),
        "the owner's write grant was removed: {policy}"
    );
    let status = harness.status("lc-squatter").await.unwrap();
    let kept = status.modules[&Module::Amc].outputs["kept"].to_string();
    assert!(kept.contains("lc-owner"), "{kept}");
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_change_is_rejected_until_restored() {
    let harness = shared();
    let mut row = json!({
        "customerId": "lc-rename", "customerName": "Rename", "customerPrefix": "lcrename", "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "111122223333" }
    });
    harness.put_row(&row).await;
    harness.wait_for("lc-rename", EventType::TenantActive).await;

    row["customerPrefix"] = json!("lcrenamed");
    harness.put_row(&row).await;
    let rejected = harness.wait_for("lc-rename", EventType::TenantValidationFailed).await;
    assert_eq!(rejected.errors[0].path, "customerPrefix");
    assert!(rejected.errors[0].message.contains("\"lcrename\""), "{}", rejected.errors[0].message);
    let status = harness.status("lc-rename").await.unwrap();
    assert_eq!(status.status, TenantState::Failed);
    assert_eq!(status.modules[&Module::Amc].state, ModuleState::Active, "the provisioned module is still recorded");
    assert!(!harness.bucket_exists("tps-lcrenamed-amc-123456789012-us-east-1").await);

    // Restoring the prefix records the tenant ACTIVE again without re-provisioning.
    row["customerPrefix"] = json!("lcrename");
    harness.put_row(&row).await;
    let started = std::time::Instant::now();
    let restored = loop {
        let active: Vec<_> = harness
            .notifications_for("lc-rename")
            .into_iter()
            .filter(|n| n.event_type == EventType::TenantActive)
            .collect();
        if active.len() >= 2 {
            break active[1].clone();
        }
        assert!(started.elapsed() < tps_e2e::WAIT, "no second TenantActive: {:?}", harness.notifications_for("lc-rename"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let events = events_of_execution(&harness.notifications_for("lc-rename"), &restored.execution_arn);
    assert_eq!(events, vec!["TenantProvisioningStarted", "TenantActive"]);
    assert_eq!(harness.status("lc-rename").await.unwrap().status, TenantState::Active);
}
