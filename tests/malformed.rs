//! Malformed rows: each is rejected with a field-path error, creates no
//! resource, and the stream keeps flowing.

use serde_json::{json, Value};
use tps_core::events::EventType;
use tps_core::status::TenantState;
use tps_e2e::shared;

fn base(tenant_id: &str) -> Value {
    json!({
        "customerId": tenant_id,
        "customerName": "Malformed Co",
        "customerPrefix": "malformed",
        "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "111122223333" },
        "SponsoredAds": { "advertisingRegion": "NA", "profileIds": ["1"], "streamDatasets": ["sp-traffic"] },
        "DSP": { "advertisingRegion": "NA", "advertiserIds": ["42"] }
    })
}

/// Sets (or, with `None`, removes) the dot-separated `path` in `row`.
fn change(mut row: Value, path: &str, value: Option<Value>) -> Value {
    let parts: Vec<&str> = path.split('.').collect();
    let mut target = &mut row;
    for part in &parts[..parts.len() - 1] {
        target = target.get_mut(*part).expect("path exists");
    }
    let object = target.as_object_mut().expect("object");
    match value {
        Some(value) => {
            object.insert(parts[parts.len() - 1].to_string(), value);
        }
        None => {
            object.remove(parts[parts.len() - 1]);
        }
    }
    row
}

/// (case, path to change, new value or None to remove, expected error path)
fn cases() -> Vec<(&'static str, &'static str, Option<Value>, &'static str)> {
    vec![
        // customerName is the sort key, so DynamoDB itself rejects a row
        // without it, with a non-string value or with more than 1024 bytes.
        ("name-oversized", "customerName", Some(json!("n".repeat(300))), "customerName"),
        ("amc-list", "AMC", Some(json!([{"amcOrangeAwsAccount": "111122223333"}])), "AMC"),
        ("sa-profile-number", "SponsoredAds.profileIds", Some(json!([123])), "SponsoredAds.profileIds[0]"),
        ("name-control", "customerName", Some(json!("bad\u{7}bell")), "customerName"),
        ("prefix-missing", "customerPrefix", None, "customerPrefix"),
        ("prefix-upper", "customerPrefix", Some(json!("Malformed")), "customerPrefix"),
        ("prefix-long", "customerPrefix", Some(json!("p".repeat(21))), "customerPrefix"),
        ("prefix-injection", "customerPrefix", Some(json!("x;rm -rf /")), "customerPrefix"),
        ("endemic-missing", "endemicType", None, "endemicType"),
        ("endemic-wrong", "endemicType", Some(json!("SOMETIMES")), "endemicType"),
        ("endemic-list", "endemicType", Some(json!(["ENDEMIC"])), "endemicType"),
        ("retention-wrong", "retention", Some(json!("FOREVER")), "retention"),
        ("amc-string", "AMC", Some(json!("enabled")), "AMC"),
        ("amc-no-orange", "AMC.amcOrangeAwsAccount", None, "AMC.amcOrangeAwsAccount"),
        ("amc-orange-short", "AMC.amcOrangeAwsAccount", Some(json!("12345")), "AMC.amcOrangeAwsAccount"),
        ("amc-orange-number", "AMC.amcOrangeAwsAccount", Some(json!(111122223333u64)), "AMC.amcOrangeAwsAccount"),
        ("amc-green-letters", "AMC.amcGreenAwsAccount", Some(json!("44445555666x")), "AMC.amcGreenAwsAccount"),
        ("amc-bucket-upper", "AMC.amcS3BucketName", Some(json!("My_Bucket")), "AMC.amcS3BucketName"),
        ("amc-bucket-ip", "AMC.amcS3BucketName", Some(json!("10.0.0.1")), "AMC.amcS3BucketName"),
        ("amc-bucket-injection", "AMC.amcS3BucketName", Some(json!("b\"; DROP TABLE x")), "AMC.amcS3BucketName"),
        ("amc-endpoint-http", "AMC.amcApiEndpoint", Some(json!("http://example.com")), "AMC.amcApiEndpoint"),
        ("amc-endpoint-script", "AMC.amcApiEndpoint", Some(json!("javascript:alert(1)")), "AMC.amcApiEndpoint"),
        ("amc-region-bad", "AMC.amcRegion", Some(json!("moon-1")), "AMC.amcRegion"),
        ("sa-region-bad", "SponsoredAds.advertisingRegion", Some(json!("US")), "SponsoredAds.advertisingRegion"),
        ("sa-profiles-empty", "SponsoredAds.profileIds", Some(json!([])), "SponsoredAds.profileIds"),
        ("sa-profiles-string", "SponsoredAds.profileIds", Some(json!("123")), "SponsoredAds.profileIds"),
        ("sa-profile-letters", "SponsoredAds.profileIds", Some(json!(["12ab"])), "SponsoredAds.profileIds[0]"),
        ("sa-datasets-missing", "SponsoredAds.streamDatasets", None, "SponsoredAds.streamDatasets"),
        ("sa-dataset-unknown", "SponsoredAds.streamDatasets", Some(json!(["sp-everything"])), "SponsoredAds.streamDatasets[0]"),
        ("sa-dataset-traversal", "SponsoredAds.streamDatasets", Some(json!(["../../etc/passwd"])), "SponsoredAds.streamDatasets[0]"),
        ("dsp-advertisers-empty", "DSP.advertiserIds", Some(json!([])), "DSP.advertiserIds"),
        ("dsp-advertiser-slash", "DSP.advertiserIds", Some(json!(["a/../b"])), "DSP.advertiserIds[0]"),
        ("dsp-dataset-unknown", "DSP.streamDatasets", Some(json!(["sp-traffic"])), "DSP.streamDatasets[0]"),
        ("dsp-entity-space", "DSP.entityId", Some(json!("ENTITY 1")), "DSP.entityId"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_rows_are_rejected_and_stream_flows() {
    let harness = shared();
    let cases = cases();
    assert!(cases.len() >= 30);

    for (case, path, value, _) in &cases {
        let row = change(base(&format!("bad-{case}")), path, value.clone());
        harness.put_row(&row).await;
    }
    // A valid row written after all of them must still be onboarded.
    let mut valid = base("after-malformed");
    valid["customerPrefix"] = json!("aftermalformed");
    harness.put_row(&valid).await;
    harness.wait_for("after-malformed", EventType::TenantActive).await;

    for (case, _, _, expected_path) in &cases {
        let tenant_id = format!("bad-{case}");
        let rejected = harness.wait_for(&tenant_id, EventType::TenantValidationFailed).await;
        let paths: Vec<&str> = rejected.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec![*expected_path], "{case}: {:?}", rejected.errors);
        assert!(!rejected.errors[0].message.is_empty(), "{case}");

        let status = harness.status(&tenant_id).await.unwrap_or_else(|| panic!("{case}: no status"));
        assert_eq!(status.status, TenantState::Failed, "{case}");
        assert!(status.modules.is_empty(), "{case}");
        assert!(harness.executions_of(&tenant_id).await.is_empty(), "{case}: an execution started");
        assert!(harness.keys_of_tenant(&tenant_id).await.is_empty(), "{case}: a key was created");
    }
    assert!(harness.queues_with_prefix("us-east-1", "tps-malformed-").await.is_empty());
    assert!(!harness.bucket_exists("tps-malformed-amc-123456789012-us-east-1").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_customer_id_is_rejected() {
    let harness = shared();
    for hostile in ["Robert'); DROP TABLE tenants;--", "../../etc", "<script>alert(1)</script>"] {
        let row = base(hostile);
        harness.put_row(&row).await;
        let rejected = harness.wait_for(hostile, EventType::TenantValidationFailed).await;
        assert_eq!(rejected.errors[0].path, "customerId", "{hostile}");
        assert!(harness.executions_of(hostile).await.is_empty(), "{hostile}");
    }
}
