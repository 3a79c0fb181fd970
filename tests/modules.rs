//! Integration tests of each module's provisioning against the emulator:
//! every created resource is read back through the AWS SDK.

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};
use tps_aws::provision::{amc, dsp, sponsored_ads, ModuleContext, ProvisionError};
use tps_aws::Clients;
use tps_core::catalogue::DatasetCatalogue;
use tps_core::tenant::TenantRecord;
use tps_core::validate;
use tps_e2e::{shared, Harness};

const ACCOUNT: &str = "123456789012";

fn record(row: Value) -> TenantRecord {
    validate(&row, &DatasetCatalogue::embedded()).expect("valid row")
}

fn context<'a>(harness: &Harness, clients: &'a Clients, catalogue: &'a DatasetCatalogue, tenant: &'a TenantRecord) -> ModuleContext<'a> {
    let _ = harness;
    ModuleContext { clients, catalogue, tenant, account: ACCOUNT.into(), team: "demoteam".into() }
}

fn tags_of_bucket(tags: &[aws_sdk_s3::types::Tag]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    pairs.sort();
    pairs
}

#[tokio::test(flavor = "multi_thread")]
async fn amc_provisions_key_and_bucket() {
    let harness = shared();
    let clients = Clients::new(&harness.config);
    let catalogue = DatasetCatalogue::embedded();
    let tenant = record(json!({
        "customerId": "mod-amc", "customerName": "AMC Co", "customerPrefix": "modamc", "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "111122223333", "amcGreenAwsAccount": "444455556666", "amcRegion": "us-east-1" }
    }));
    let ctx = context(harness, &clients, &catalogue, &tenant);

    let outputs = amc::provision(&ctx).await.expect("provision");
    let again = amc::provision(&ctx).await.expect("provision again");
    assert_eq!(outputs, again, "re-provisioning converges to the same resources");

    let bucket = outputs["bucketName"].as_str().unwrap();
    let key_arn = outputs["kmsKeyArn"].as_str().unwrap();
    assert_eq!(bucket, "tps-modamc-amc-123456789012-us-east-1");
    assert_eq!(outputs["bucketArn"], format!("arn:aws:s3:::{bucket}"));
    assert_eq!(outputs["kmsKeyAlias"], "alias/tps-mod-amc-amc");

    let s3 = harness.s3();
    let encryption = s3.get_bucket_encryption().bucket(bucket).send().await.unwrap();
    let rule = &encryption.server_side_encryption_configuration.unwrap().rules[0];
    let default = rule.apply_server_side_encryption_by_default.as_ref().unwrap();
    assert_eq!(default.sse_algorithm.as_str(), "aws:kms");
    assert_eq!(default.kms_master_key_id.as_deref(), Some(key_arn));

    let block = s3.get_public_access_block().bucket(bucket).send().await.unwrap().public_access_block_configuration.unwrap();
    assert_eq!(block.block_public_acls, Some(true));
    assert_eq!(block.ignore_public_acls, Some(true));
    assert_eq!(block.block_public_policy, Some(true));
    assert_eq!(block.restrict_public_buckets, Some(true));

    let policy: Value = serde_json::from_str(&s3.get_bucket_policy().bucket(bucket).send().await.unwrap().policy.unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0]["Effect"], "Deny");
    assert_eq!(statements[0]["Condition"]["Bool"]["aws:SecureTransport"], "false");
    assert_eq!(statements[1]["Effect"], "Allow");
    assert_eq!(statements[1]["Action"], json!(["s3:PutObject", "s3:PutObjectAcl"]));
    assert_eq!(
        statements[1]["Principal"]["AWS"],
        json!(["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"])
    );

    let tags = s3.get_bucket_tagging().bucket(bucket).send().await.unwrap().tag_set;
    assert_eq!(
        tags_of_bucket(&tags),
        vec![
            ("tps:module".to_string(), "AMC".to_string()),
            ("tps:team".to_string(), "demoteam".to_string()),
            ("tps:tenant".to_string(), "mod-amc".to_string()),
        ]
    );

    let kms = harness.kms();
    let key = kms.describe_key().key_id("alias/tps-mod-amc-amc").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.arn.as_deref(), Some(key_arn));
    let key_policy: Value = serde_json::from_str(
        &kms.get_key_policy().key_id(&key.key_id).policy_name("default").send().await.unwrap().policy.unwrap(),
    )
    .unwrap();
    let writers = &key_policy["Statement"][1];
    assert_eq!(writers["Condition"]["StringEquals"]["kms:ViaService"], "s3.us-east-1.amazonaws.com");
    assert_eq!(writers["Principal"]["AWS"][0], "arn:aws:iam::111122223333:root");
    let rotation = kms.get_key_rotation_status().key_id(&key.key_id).send().await.unwrap();
    assert!(rotation.key_rotation_enabled);
    assert_eq!(harness.keys_of_tenant("mod-amc").await.len(), 1, "one key after two runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn sponsored_ads_queues_accept_only_the_dataset_topic() {
    let harness = shared();
    let clients = Clients::new(&harness.config);
    let catalogue = DatasetCatalogue::embedded();

    for (region, aws_region, tenant_id, prefix) in [("NA", "us-east-1", "mod-sa-na", "modsana"), ("EU", "eu-west-1", "mod-sa-eu", "modsaeu")] {
        let tenant = record(json!({
            "customerId": tenant_id, "customerName": "SA Co", "customerPrefix": prefix, "endemicType": "ENDEMIC",
            "SponsoredAds": { "advertisingRegion": region, "profileIds": ["1"], "streamDatasets": ["sp-traffic", "budget-usage"] }
        }));
        let ctx = context(harness, &clients, &catalogue, &tenant);
        let outputs = sponsored_ads::provision(&ctx).await.expect("provision");
        assert_eq!(outputs["region"], aws_region);

        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&harness.config).region(aws_config::Region::new(aws_region)).build(),
        );
        for dataset in ["sp-traffic", "budget-usage"] {
            let expected_source = &catalogue.regions[&region.parse().unwrap()].datasets[dataset].sns_source_arn;
            let queue = &outputs["datasets"][dataset];
            let attributes = sqs
                .get_queue_attributes()
                .queue_url(queue["queueUrl"].as_str().unwrap())
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap();
            let policy: Value = serde_json::from_str(&attributes[&QueueAttributeName::Policy]).unwrap();
            let send = &policy["Statement"][0];
            assert_eq!(send["Principal"]["Service"], "sns.amazonaws.com");
            assert_eq!(send["Action"], "sqs:SendMessage");
            assert_eq!(&send["Condition"]["ArnLike"]["aws:SourceArn"], expected_source, "{region} {dataset}");
            assert_eq!(send["Resource"], queue["queueArn"]);
            assert_eq!(policy["Statement"][1]["Principal"]["AWS"], catalogue.reviewer_role_arn.as_str());
            assert_eq!(policy["Statement"][1]["Action"], "sqs:GetQueueAttributes");

            let redrive: Value = serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
            assert_eq!(redrive["deadLetterTargetArn"], queue["dlqArn"]);
            assert_eq!(redrive["maxReceiveCount"], 5);
            assert_eq!(attributes.get(&QueueAttributeName::SqsManagedSseEnabled).map(String::as_str), Some("true"));

            let tags = sqs.list_queue_tags().queue_url(queue["queueUrl"].as_str().unwrap()).send().await.unwrap().tags.unwrap();
            assert_eq!(tags.get("tps:tenant").map(String::as_str), Some(tenant_id));
            assert_eq!(tags.get("tps:module").map(String::as_str), Some("SponsoredAds"));
        }

        // Dropping a dataset deletes its queue and DLQ.
        let fewer = record(json!({
            "customerId": tenant_id, "customerName": "SA Co", "customerPrefix": prefix, "endemicType": "ENDEMIC",
            "SponsoredAds": { "advertisingRegion": region, "profileIds": ["1"], "streamDatasets": ["sp-traffic"] }
        }));
        sponsored_ads::provision(&context(harness, &clients, &catalogue, &fewer)).await.expect("provision fewer");
        let mut queues = harness.queues_with_prefix(aws_region, &format!("tps-{prefix}-")).await;
        queues.sort();
        assert_eq!(queues, vec![format!("tps-{prefix}-sa-sp-traffic"), format!("tps-{prefix}-sa-sp-traffic-dlq")]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dsp_provisions_report_bucket() {
    let harness = shared();
    let clients = Clients::new(&harness.config);
    let catalogue = DatasetCatalogue::embedded();
    let tenant = record(json!({
        "customerId": "mod-dsp", "customerName": "DSP Co", "customerPrefix": "moddsp", "endemicType": "ENDEMIC",
        "DSP": { "advertisingRegion": "NA", "advertiserIds": ["111", "222"] }
    }));
    let outputs = dsp::provision(&context(harness, &clients, &catalogue, &tenant)).await.expect("provision");
    assert_eq!(outputs["prefixes"], json!(["advertisers/111/", "advertisers/222/"]));
    assert_eq!(outputs["kmsKeyAlias"], "alias/tps-mod-dsp-dsp");

    let bucket = outputs["bucketName"].as_str().unwrap();
    let s3 = harness.s3();
    let rules = s3.get_bucket_lifecycle_configuration().bucket(bucket).send().await.unwrap().rules.unwrap();
    let ids: Vec<&str> = rules.iter().filter_map(|r| r.id.as_deref()).collect();
    assert_eq!(ids, vec!["tps-abort-incomplete-uploads", "tps-reports-to-intelligent-tiering"]);
    let encryption = s3.get_bucket_encryption().bucket(bucket).send().await.unwrap();
    let default = encryption.server_side_encryption_configuration.unwrap().rules[0]
        .apply_server_side_encryption_by_default
        .clone()
        .unwrap();
    assert_eq!(default.kms_master_key_id.as_deref(), outputs["kmsKeyArn"].as_str());
    let policy: Value = serde_json::from_str(&s3.get_bucket_policy().bucket(bucket).send().await.unwrap().policy.unwrap()).unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1, "TLS-only deny, no writers");
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_of_another_tenant_is_a_conflict() {
    let harness = shared();
    let clients = Clients::new(&harness.config);
    let catalogue = DatasetCatalogue::embedded();
    let owner = record(json!({
        "customerId": "mod-owner", "customerName": "Owner", "customerPrefix": "modshared", "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "111122223333", "amcS3BucketName": "mod-shared-bucket" }
    }));
    amc::provision(&context(harness, &clients, &catalogue, &owner)).await.expect("owner provisions");

    let intruder = record(json!({
        "customerId": "mod-intruder", "customerName": "Intruder", "customerPrefix": "modintruder", "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "111122223333", "amcS3BucketName": "mod-shared-bucket" }
    }));
    let error = amc::provision(&context(harness, &clients, &catalogue, &intruder)).await.unwrap_err();
    assert!(matches!(error, ProvisionError::Conflict { .. }), "{error}");
    assert!(error.to_string().contains("mod-shared-bucket"), "{error}");
    assert!(error.to_string().contains("mod-owner"), "{error}");

    let policy: Value = serde_json::from_str(
        &harness.s3().get_bucket_policy().bucket("mod-shared-bucket").send().await.unwrap().policy.unwrap(),
    )
    .unwrap();
    assert_eq!(policy["Statement"][1]["Principal"]["AWS"], json!(["arn:aws:iam::111122223333:root"]), "owner's policy untouched");
}

#[tokio::test(flavor = "multi_thread")]
async fn deprovision_applies_retention() {
    let harness = shared();
    let clients = Clients::new(&harness.config);
    let catalogue = DatasetCatalogue::embedded();

    let retained = record(json!({
        "customerId": "mod-retain", "customerName": "Retain", "customerPrefix": "modretain", "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "111122223333" }
    }));
    let ctx = context(harness, &clients, &catalogue, &retained);
    let outputs = amc::provision(&ctx).await.unwrap();
    let removal = amc::deprovision(&ctx).await.unwrap();
    let bucket = outputs["bucketName"].as_str().unwrap();
    assert!(harness.bucket_exists(bucket).await, "RETAIN keeps the bucket");
    assert_eq!(removal["kept"].as_array().unwrap().len(), 2, "{removal}");
    let policy: Value = serde_json::from_str(&harness.s3().get_bucket_policy().bucket(bucket).send().await.unwrap().policy.unwrap()).unwrap();
    assert!(policy["Statement"].as_array().unwrap().iter().all(|s| s["Effect"] == "Deny"), "grants removed: {policy}");
    let key = harness.kms().describe_key().key_id("alias/tps-mod-retain-amc").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state.unwrap().as_str(), "Enabled");

    let deleted = record(json!({
        "customerId": "mod-delete", "customerName": "Delete", "customerPrefix": "moddelete", "endemicType": "ENDEMIC",
        "retention": "DELETE", "AMC": { "amcOrangeAwsAccount": "111122223333" }
    }));
    let ctx = context(harness, &clients, &catalogue, &deleted);
    let outputs = amc::provision(&ctx).await.unwrap();
    let removal = amc::deprovision(&ctx).await.unwrap();
    assert!(!harness.bucket_exists(outputs["bucketName"].as_str().unwrap()).await, "DELETE removes the empty bucket");
    assert!(removal["kept"].as_array().unwrap().is_empty(), "{removal}");
    let key = harness.kms().describe_key().key_id("alias/tps-mod-delete-amc").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state.unwrap().as_str(), "PendingDeletion");

    // Onboarding again cancels the pending deletion.
    amc::provision(&ctx).await.unwrap();
    let key = harness.kms().describe_key().key_id("alias/tps-mod-delete-amc").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state.unwrap().as_str(), "Enabled");
}
