use serde_json::json;

use super::*;

fn catalogue() -> DatasetCatalogue {
    DatasetCatalogue::embedded()
}

fn full_row() -> Value {
    json!({
        "customerId": "acme-001",
        "customerName": "Acme Retail",
        "customerPrefix": "acme",
        "endemicType": "ENDEMIC",
        "retention": "DELETE",
        "AMC": {
            "amcOrangeAwsAccount": "111122223333",
            "amcGreenAwsAccount": "444455556666",
            "amcS3BucketName": "acme-amc-results",
            "amcDatasetName": "amcdataset",
            "amcTeamName": "demoteam",
            "amcApiEndpoint": "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
            "amcRegion": "us-east-1"
        },
        "SponsoredAds": {
            "advertisingRegion": "NA",
            "profileIds": ["1234567890"],
            "streamDatasets": ["sp-traffic", "sp-conversion"]
        },
        "DSP": {
            "advertisingRegion": "EU",
            "advertiserIds": ["5550001"],
            "entityId": "ENTITY1"
        }
    })
}

/// Sets `path` (dot-separated) in `row` to `value`.
fn with(mut row: Value, path: &str, value: Value) -> Value {
    let mut target = &mut row;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        target = target.get_mut(*part).expect("path exists");
    }
    target[parts[parts.len() - 1]] = value;
    row
}

fn without(mut row: Value, path: &str) -> Value {
    let parts: Vec<&str> = path.split('.').collect();
    let mut target = &mut row;
    for part in &parts[..parts.len() - 1] {
        target = target.get_mut(*part).expect("path exists");
    }
    target.as_object_mut().unwrap().remove(parts[parts.len() - 1]);
    row
}

fn errors_of(row: &Value) -> Vec<String> {
    match validate(row, &catalogue()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn full_row_is_valid() {
    let record = validate(&full_row(), &catalogue()).expect("valid");
    assert_eq!(record.customer_id, "acme-001");
    assert_eq!(record.modules(), vec![Module::Amc, Module::SponsoredAds, Module::Dsp]);
    assert_eq!(record.retention(), Retention::Delete);
    assert_eq!(record.dsp.unwrap().entity_id.as_deref(), Some("ENTITY1"));
}

#[test]
fn quickstart_notebook_row_is_valid() {
    // The AMC QuickStart's notebooks write optional values as None, which
    // DynamoDB stores as NULL.
    let row = json!({
        "customerId": "demoadvertiser",
        "customerPrefix": "demoadvertiser",
        "customerName": "Demo Advertiser",
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
    let record = validate(&row, &catalogue()).expect("valid");
    assert_eq!(record.modules(), vec![Module::Amc]);
    assert_eq!(record.retention(), Retention::Retain);
    let amc = record.amc.expect("AMC section");
    assert_eq!(amc.amc_s3_bucket_name, None);
    assert_eq!(amc.amc_api_endpoint, None);
}

#[test]
fn unknown_fields_are_kept() {
    let row = with(full_row(), "bucketExists", json!("true"));
    let row = with(row, "AMC.amcInstanceId", json!("amc123"));
    let record = validate(&row, &catalogue()).expect("valid");
    assert_eq!(record.extra.get("bucketExists"), Some(&json!("true")));
    assert_eq!(record.amc.unwrap().extra.get("amcInstanceId"), Some(&json!("amc123")));
}

#[test]
fn non_object_row_is_rejected() {
    assert_eq!(errors_of(&json!([1, 2])), vec!["$: must be a JSON object, got a list"]);
}

#[test]
fn row_without_modules_is_rejected() {
    let row = without(without(without(full_row(), "AMC"), "SponsoredAds"), "DSP");
    let errors = errors_of(&row);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("$: must enable at least one module"), "{errors:?}");
}

#[test]
fn missing_required_fields_are_each_reported() {
    let row = json!({ "AMC": {} });
    let errors = errors_of(&row);
    assert!(errors.contains(&"customerId: is required".to_string()), "{errors:?}");
    assert!(errors.contains(&"customerName: is required".to_string()), "{errors:?}");
    assert!(errors.contains(&"customerPrefix: is required".to_string()), "{errors:?}");
    assert!(errors.contains(&"endemicType: is required".to_string()), "{errors:?}");
    assert!(errors.contains(&"AMC.amcOrangeAwsAccount: is required".to_string()), "{errors:?}");
    assert_eq!(errors.len(), 5, "{errors:?}");
}

#[test]
fn null_required_field_counts_as_missing() {
    let errors = errors_of(&with(full_row(), "customerName", Value::Null));
    assert_eq!(errors, vec!["customerName: is required"]);
}

/// Each case: a field path, a bad value, and a part of the expected message.
#[test]
fn each_rule_rejects_bad_values() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("customerId", json!("ab"), "must be 3 to 40"),
        ("customerId", json!("Acme"), "must be 3 to 40"),
        ("customerId", json!("-acme"), "starting and ending"),
        ("customerId", json!("acme-"), "starting and ending"),
        ("customerId", json!("a".repeat(41)), "must be 3 to 40"),
        ("customerId", json!("acme'; DROP TABLE"), "must be 3 to 40"),
        ("customerId", json!(42), "must be a string, got number 42"),
        ("customerName", json!(""), "must be 1 to 256"),
        ("customerName", json!("x".repeat(257)), "must be 1 to 256"),
        ("customerName", json!("evil\u{0}name"), "printable"),
        ("customerPrefix", json!("ACME"), "lowercase"),
        ("customerPrefix", json!("a".repeat(21)), "1 to 20"),
        ("endemicType", json!("endemic"), "ENDEMIC or NON_ENDEMIC"),
        ("retention", json!("KEEP"), "RETAIN or DELETE"),
        ("AMC", json!("yes"), "must be an object, got \"yes\""),
        ("AMC.amcOrangeAwsAccount", json!("12345"), "must be 12 digits, got \"12345\""),
        ("AMC.amcOrangeAwsAccount", json!(111122223333u64), "must be a string"),
        ("AMC.amcGreenAwsAccount", json!("12345678901a"), "must be 12 digits"),
        ("AMC.amcS3BucketName", json!("Bad_Bucket"), "valid S3 bucket name"),
        ("AMC.amcS3BucketName", json!("ab"), "valid S3 bucket name"),
        ("AMC.amcS3BucketName", json!("a..b"), "adjacent"),
        ("AMC.amcS3BucketName", json!("192.168.1.1"), "IP address"),
        ("AMC.amcS3BucketName", json!("xn--bucket"), "reserved"),
        ("AMC.amcApiEndpoint", json!("http://example.com"), "https:// URL"),
        ("AMC.amcApiEndpoint", json!("https://exa mple.com"), "https:// URL"),
        ("AMC.amcRegion", json!("mars-1"), "AWS region"),
        ("AMC.amcDatasetName", json!(""), "1 to 256"),
        ("SponsoredAds.advertisingRegion", json!("US"), "NA, EU or FE"),
        ("SponsoredAds.profileIds", json!([]), "must not be empty"),
        ("SponsoredAds.profileIds", json!("123"), "must be a list of strings"),
        ("SponsoredAds.streamDatasets", json!([]), "must not be empty"),
        ("DSP.advertiserIds", json!([]), "must not be empty"),
        ("DSP.entityId", json!("has space"), "letters, digits"),
    ];
    for (path, value, expected) in cases {
        let errors = errors_of(&with(full_row(), path, value.clone()));
        assert_eq!(errors.len(), 1, "{path} = {value}: {errors:?}");
        assert!(errors[0].starts_with(&format!("{path}: ")), "{path} = {value}: {errors:?}");
        assert!(errors[0].contains(expected), "{path} = {value}: {errors:?}");
    }
}

#[test]
fn list_item_errors_name_the_index() {
    let row = with(full_row(), "SponsoredAds.profileIds", json!(["123", "12a", 7, "123"]));
    let errors = errors_of(&row);
    assert_eq!(
        errors,
        vec![
            "SponsoredAds.profileIds[1]: must be a string of 1 to 20 digits, got \"12a\"",
            "SponsoredAds.profileIds[2]: must be a string, got number 7",
            "SponsoredAds.profileIds[3]: duplicates an earlier entry \"123\"",
        ]
    );
}

#[test]
fn unknown_dataset_lists_known_ones() {
    let row = with(full_row(), "SponsoredAds.streamDatasets", json!(["sp-traffic", "sp-everything"]));
    let errors = errors_of(&row);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("SponsoredAds.streamDatasets[1]: unknown SponsoredAds dataset \"sp-everything\" for advertising region NA"));
    assert!(errors[0].contains("sp-conversion"), "{errors:?}");
}

#[test]
fn dsp_dataset_must_be_a_dsp_dataset() {
    let row = with(full_row(), "DSP.streamDatasets", json!(["sp-traffic"]));
    let errors = errors_of(&row);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("the catalogue lists no DSP datasets for EU"), "{errors:?}");
}

#[test]
fn too_many_ids_are_rejected() {
    let ids: Vec<String> = (0..=MAX_IDS).map(|i| i.to_string()).collect();
    let errors = errors_of(&with(full_row(), "DSP.advertiserIds", json!(ids)));
    assert_eq!(errors, vec![format!("DSP.advertiserIds: must have at most {MAX_IDS} entries, got {}", MAX_IDS + 1)]);
}

#[test]
fn long_values_are_truncated_in_messages() {
    let errors = errors_of(&with(full_row(), "customerPrefix", json!("x".repeat(5000))));
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("(5000 characters)"), "{errors:?}");
    assert!(errors[0].len() < 300, "{errors:?}");
}

#[test]
fn every_error_is_reported_at_once() {
    let row = json!({
        "customerId": "X",
        "customerName": "ok",
        "customerPrefix": "ok",
        "endemicType": "ENDEMIC",
        "AMC": { "amcOrangeAwsAccount": "1" },
        "SponsoredAds": { "advertisingRegion": "XX", "profileIds": [], "streamDatasets": ["sp-traffic"] }
    });
    let paths: Vec<String> = match validate(&row, &catalogue()) {
        Err(errors) => errors.paths().into_iter().map(String::from).collect(),
        Ok(_) => panic!("row is invalid"),
    };
    assert_eq!(
        paths,
        vec![
            "customerId",
            "AMC.amcOrangeAwsAccount",
            "SponsoredAds.advertisingRegion",
            "SponsoredAds.profileIds"
        ]
    );
}
