//! Onboarding through the whole flow: tenant row -> stream -> state machine
//! -> module functions -> status table and notifications.

use serde_json::json;
use tps_core::events::EventType;
use tps_core::module::Module;
use tps_core::status::{ModuleState, TenantState};
use tps_e2e::{all_modules_row, shared};

#[tokio::test(flavor = "multi_thread")]
async fn all_modules_tenant_becomes_active() {
    let harness = shared();
    harness.put_row(&all_modules_row("e2e-all-modules", "e2eall")).await;

    let active = harness.wait_for("e2e-all-modules", EventType::TenantActive).await;
    assert_eq!(active.status, Some(TenantState::Active));
    assert!(active.execution_arn.contains(":execution:"), "{}", active.execution_arn);

    let events: Vec<EventType> = harness.notifications_for("e2e-all-modules").iter().map(|n| n.event_type).collect();
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0], EventType::TenantProvisioningStarted, "{events:?}");
    assert!(events[1..4].iter().all(|e| *e == EventType::ModuleProvisioned), "{events:?}");
    assert_eq!(events[4], EventType::TenantActive, "{events:?}");
    let mut modules: Vec<Module> = harness
        .notifications_for("e2e-all-modules")
        .iter()
        .filter_map(|n| n.module)
        .collect();
    modules.sort();
    assert_eq!(modules, vec![Module::Amc, Module::SponsoredAds, Module::Dsp]);

    let status = harness.status("e2e-all-modules").await.expect("status item");
    assert_eq!(status.status, TenantState::Active);
    assert_eq!(status.modules.len(), 3);
    assert!(status.modules.values().all(|m| m.state == ModuleState::Active));
    let amc = &status.modules[&Module::Amc].outputs;
    let bucket = amc["bucketName"].as_str().expect("AMC bucket output");
    assert_eq!(bucket, "tps-e2eall-amc-123456789012-us-east-1");
    assert!(harness.bucket_exists(bucket).await);
    let datasets = status.modules[&Module::SponsoredAds].outputs["datasets"].as_object().expect("datasets output").clone();
    assert_eq!(datasets.len(), 2);
    assert!(datasets["sp-traffic"]["queueArn"].as_str().unwrap().ends_with(":tps-e2eall-sa-sp-traffic"));
}

#[tokio::test(flavor = "multi_thread")]
async fn quickstart_notebook_row_becomes_active() {
    let harness = shared();
    // As the AMC QuickStart's notebooks write it: optional values as null.
    let row = json!({
        "customerId": "e2e-quickstart",
        "customerPrefix": "e2equick",
        "customerName": "QuickStart Advertiser",
        "endemicType": "NON_ENDEMIC",
        "AMC": {
            "amcOrangeAwsAccount": "123456789012",
            "amcS3BucketName": null,
            "amcDatasetName": "amcdataset",
            "amcApiEndpoint": null,
            "amcTeamName": "demoteam",
            "amcRegion": "us-east-1"
        }
    });
    harness.put_row(&row).await;

    harness.wait_for("e2e-quickstart", EventType::TenantActive).await;
    let status = harness.status("e2e-quickstart").await.expect("status item");
    assert_eq!(status.status, TenantState::Active);
    assert_eq!(status.modules.keys().copied().collect::<Vec<_>>(), vec![Module::Amc]);
    assert_eq!(status.modules[&Module::Amc].outputs["kmsKeyAlias"], "alias/tps-e2e-quickstart-amc");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_tenant_fails_without_resources() {
    let harness = shared();
    let row = json!({
        "customerId": "e2e-invalid",
        "customerName": "Invalid Co",
        "customerPrefix": "e2einvalid",
        "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "12345" },
        "SponsoredAds": { "advertisingRegion": "NA", "profileIds": ["x1"], "streamDatasets": ["sp-traffic"] }
    });
    harness.put_row(&row).await;

    let failed = harness.wait_for("e2e-invalid", EventType::TenantValidationFailed).await;
    let paths: Vec<&str> = failed.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, vec!["AMC.amcOrangeAwsAccount", "SponsoredAds.profileIds[0]"]);
    assert_eq!(failed.errors[0].message, "must be 12 digits, got \"12345\"");

    let status = harness.status("e2e-invalid").await.expect("status item");
    assert_eq!(status.status, TenantState::Failed);
    assert_eq!(status.errors.len(), 2);
    assert!(status.modules.is_empty());

    assert!(harness.executions_of("e2e-invalid").await.is_empty());
    assert!(harness.keys_of_tenant("e2e-invalid").await.is_empty());
    assert!(harness.queues_with_prefix("us-east-1", "tps-e2einvalid-").await.is_empty());
    assert!(!harness.bucket_exists("tps-e2einvalid-amc-123456789012-us-east-1").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn second_row_with_same_customer_id_is_rejected() {
    let harness = shared();
    let first = json!({
        "customerId": "e2e-unique", "customerName": "First Name", "customerPrefix": "e2eunique",
        "endemicType": "ENDEMIC", "AMC": { "amcOrangeAwsAccount": "111122223333" }
    });
    harness.put_row(&first).await;
    harness.wait_for("e2e-unique", EventType::TenantActive).await;

    let mut second = first.clone();
    second["customerName"] = json!("Second Name");
    harness.put_row(&second).await;

    let rejected = harness.wait_for("e2e-unique", EventType::TenantValidationFailed).await;
    assert_eq!(rejected.errors.len(), 1);
    assert_eq!(rejected.errors[0].path, "customerId");
    assert!(rejected.errors[0].message.contains("\"First Name\""), "{}", rejected.errors[0].message);

    let status = harness.status("e2e-unique").await.expect("status item");
    assert_eq!(status.status, TenantState::Active, "the first row's status must stay");
    assert_eq!(status.customer_name, "First Name");
    assert_eq!(harness.executions_of("e2e-unique").await.len(), 1);
}
