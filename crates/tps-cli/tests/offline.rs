//! `tps` commands that make no AWS call, or fail before one: validate,
//! schema, manifest, tenant put --dry-run, option defaults, usage errors
//! and credential errors.

mod common;

use common::{amc_record, example, scratch_dir, tps, write_json};
use predicates::prelude::*;
use serde_json::{json, Value};

#[test]
fn validate_valid_examples() {
    tps()
        .args(["validate"])
        .arg(example("acme-all-modules.json"))
        .arg(example("quickstart-amc-only.json"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("acme-all-modules.json: valid: tenant acme-retail, modules AMC, SponsoredAds, DSP"))
        .stdout(predicate::str::contains("quickstart-amc-only.json: valid: tenant demoadvertiser, modules AMC"))
        .stdout(predicate::str::contains("2 of 2 records valid"));
}

#[test]
fn validate_invalid_lists_every_error() {
    let assert = tps().arg("validate").arg(example("invalid-tenant.json")).assert().code(1);
    let output = assert.get_output();
    let stdout = common::stdout(output);
    assert!(stdout.contains("invalid-tenant.json: invalid: 6 errors"), "{stdout}");
    for line in [
        "  customerPrefix: must be 1 to 20 lowercase letters, digits or '-', got \"Broken_Co\"",
        "  endemicType: must be ENDEMIC or NON_ENDEMIC, got \"SOMETIMES\"",
        "  AMC.amcOrangeAwsAccount: must be 12 digits, got \"12345\"",
        "  SponsoredAds.profileIds: must not be empty",
        "  SponsoredAds.streamDatasets[0]: unknown SponsoredAds dataset \"sp-everything\"",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}

#[test]
fn validate_mixed_files_exit_1() {
    tps()
        .arg("validate")
        .arg(example("acme-all-modules.json"))
        .arg(example("invalid-tenant.json"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("1 of 2 records valid"));
}

#[test]
fn validate_dynamodb_json() {
    let item = json!({
        "customerId": {"S": "ddb-tenant"},
        "customerName": {"S": "DynamoDB Tenant"},
        "customerPrefix": {"S": "ddb"},
        "endemicType": {"S": "ENDEMIC"},
        "AMC": {"M": {
            "amcOrangeAwsAccount": {"S": "111122223333"},
            "amcS3BucketName": {"NULL": true}
        }}
    });
    let path = write_json("ddb-valid.json", &item);
    tps()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ddb-valid.json (DynamoDB JSON): valid: tenant ddb-tenant, modules AMC"));

    let mut invalid = item.clone();
    invalid["AMC"]["M"]["amcOrangeAwsAccount"] = json!({"S": "123"});
    let path = write_json("ddb-invalid.json", &invalid);
    tps()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("AMC.amcOrangeAwsAccount: must be 12 digits, got \"123\""));
}

#[test]
fn validate_aws_cli_items_list() {
    // As `aws dynamodb scan` prints it, with the counts next to the items.
    let items = json!({"Items": [
        {"customerId": {"S": "first-one"}, "customerName": {"S": "First"}, "customerPrefix": {"S": "first"},
         "endemicType": {"S": "ENDEMIC"}, "AMC": {"M": {"amcOrangeAwsAccount": {"S": "111122223333"}}}},
        {"customerId": {"S": "x"}}
    ], "Count": 2, "ScannedCount": 2, "ConsumedCapacity": null});
    let path = write_json("scan-output.json", &items);
    let assert = tps().arg("validate").arg(&path).assert().code(1);
    let stdout = common::stdout(assert.get_output());
    assert!(stdout.contains("scan-output.json[0] (DynamoDB JSON): valid: tenant first-one"), "{stdout}");
    assert!(stdout.contains("scan-output.json[1] (DynamoDB JSON): invalid"), "{stdout}");
    assert!(stdout.contains("customerId: must be 3 to 40"), "{stdout}");
}

#[test]
fn validate_json_lines_names_lines() {
    let path = scratch_dir().join("rows.jsonl");
    let valid = serde_json::to_string(&amc_record("line-one", "Line One")).unwrap();
    std::fs::write(&path, format!("{valid}\n{{\"customerId\": \"Bad_Id\"}}\n")).unwrap();

    let assert = tps().arg("validate").arg(&path).assert().code(1);

    let stdout = common::stdout(assert.get_output());
    assert!(stdout.contains("rows.jsonl:1: valid: tenant line-one"), "{stdout}");
    assert!(stdout.contains("rows.jsonl:2: invalid"), "{stdout}");
}

#[test]
fn validate_json_output() {
    let assert = tps()
        .args(["--output", "json", "validate"])
        .arg(example("invalid-tenant.json"))
        .arg(example("quickstart-amc-only.json"))
        .assert()
        .code(1);
    let reports: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["tenantId"], "broken-co");
    assert_eq!(reports[0]["valid"], false);
    assert_eq!(reports[0]["errors"][0]["path"], "customerPrefix");
    assert_eq!(reports[1]["valid"], true);
    assert_eq!(reports[1]["errors"], json!([]));
}

#[test]
fn validate_unparsable_json_exit_1() {
    let path = scratch_dir().join("broken.json");
    std::fs::write(&path, "{\"customerId\": ").unwrap();
    tps()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("broken.json: invalid: 1 error"))
        .stdout(predicate::str::contains("$: not valid JSON"));
}

#[test]
fn validate_missing_file_exit_2() {
    tps()
        .arg("validate")
        .arg(example("acme-all-modules.json"))
        .arg("no/such/file.json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read no/such/file.json"))
        .stdout(predicate::str::contains("acme-all-modules.json: valid"));
}

#[test]
fn validate_reads_stdin() {
    tps()
        .args(["validate", "-"])
        .write_stdin(amc_record("from-stdin", "From Stdin").to_string())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("<stdin>: valid: tenant from-stdin"));
}

#[test]
fn validate_custom_catalogue() {
    let catalogue: Value = serde_json::from_str(tps_core::catalogue::EMBEDDED_CATALOGUE).unwrap();
    let mut trimmed = catalogue.clone();
    trimmed["regions"]["NA"]["datasets"].as_object_mut().unwrap().remove("sp-traffic");
    let path = write_json("catalogue-without-sp-traffic.json", &trimmed);

    tps().arg("validate").arg(example("acme-all-modules.json")).assert().code(0);
    tps()
        .arg("validate")
        .arg("--catalogue")
        .arg(&path)
        .arg(example("acme-all-modules.json"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("SponsoredAds.streamDatasets[0]: unknown SponsoredAds dataset \"sp-traffic\""));
}

#[test]
fn validate_bad_catalogue_exit_2() {
    tps()
        .args(["validate", "--catalogue", "no/such/catalogue.json"])
        .arg(example("acme-all-modules.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/catalogue.json"))
        .stderr(predicate::str::contains("--catalogue"));
}

#[test]
fn validate_without_files_is_usage_error() {
    tps().arg("validate").assert().code(2).stderr(predicate::str::contains("<FILE>"));
}

#[test]
fn schema_describes_tenant_record() {
    let assert = tps().arg("schema").assert().code(0);
    let schema: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(schema["title"], "Tenant record");
    let required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"customerId"), "{required:?}");
    assert!(schema["properties"]["AMC"].is_object());
    assert_eq!(schema["properties"]["customerId"]["pattern"], "^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$");
}

#[test]
fn schema_markdown_lists_fields() {
    tps()
        .args(["schema", "--format", "markdown"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("## Top-level fields"))
        .stdout(predicate::str::contains("| `amcOrangeAwsAccount` | string | yes |"));
}

#[test]
fn schema_rejects_unknown_format() {
    tps()
        .args(["schema", "--format", "yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values: json, markdown"));
}

#[test]
fn manifest_uses_given_names() {
    let assert = tps()
        .args(["local", "manifest", "--team", "teamx", "--env", "qa", "--region", "eu-west-1", "--account", "210987654321"])
        .assert()
        .code(0);
    let manifest: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(manifest["tables"]["tenant"], "tps-teamx-CustomerConfig-qa");
    assert_eq!(manifest["queues"]["status"], "tps-teamx-TenantStatus-qa.fifo");
    let stream_env = &manifest["functions"]["tps-teamx-Stream-qa"]["environment"];
    assert_eq!(
        stream_env["TPS_STATE_MACHINE_ARN"],
        "arn:aws:states:eu-west-1:210987654321:stateMachine:tps-teamx-Onboarding-qa"
    );
}

#[test]
fn manifest_defaults() {
    let assert = tps().args(["local", "manifest"]).current_dir(common::repo_root()).assert().code(0);
    let manifest: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(manifest["team"], "demoteam");
    assert_eq!(manifest["env"], "dev");
    let stream_env = &manifest["functions"]["tps-demoteam-Stream-dev"]["environment"];
    assert_eq!(
        stream_env["TPS_STATE_MACHINE_ARN"],
        "arn:aws:states:us-east-1:123456789012:stateMachine:tps-demoteam-Onboarding-dev"
    );
}

#[test]
fn dry_run_prints_dynamodb_item() {
    let path = write_json("dry-run.json", &amc_record("dry-run-tenant", "Dry Run"));
    let assert = tps()
        .args(["--team", "t1", "--env", "e1", "tenant", "put", "--dry-run"])
        .arg(&path)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("tenant dry-run-tenant would be written to table tps-t1-CustomerConfig-e1"));
    let item: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(item["customerId"], json!({"S": "dry-run-tenant"}));
    assert_eq!(item["AMC"]["M"]["amcOrangeAwsAccount"], json!({"S": "111122223333"}));
}

#[test]
fn dry_run_rejects_invalid_record() {
    tps()
        .args(["tenant", "put", "--dry-run"])
        .arg(example("invalid-tenant.json"))
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("AMC.amcOrangeAwsAccount: must be 12 digits"))
        .stderr(predicate::str::contains("tenant record not written"));
}

#[test]
fn put_rejects_file_with_many_records() {
    let path = write_json("two-records.json", &json!([amc_record("one-1", "One"), amc_record("two-2", "Two")]));
    tps()
        .args(["tenant", "put", "--dry-run"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("contains 2 records"));
}

#[test]
fn defaults_come_from_ddk_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ddk.json"),
        r#"{"tps_parameters": {"team": "adsteam"}, "environments": {"prod": {"name": "prd", "region": "eu-west-1"}}}"#,
    )
    .unwrap();
    let nested = dir.path().join("sub/dir");
    std::fs::create_dir_all(&nested).unwrap();
    let path = write_json("ddk-defaults.json", &amc_record("ddk-defaults", "Ddk"));

    tps()
        .current_dir(&nested)
        .args(["tenant", "put", "--dry-run"])
        .arg(&path)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("table tps-adsteam-CustomerConfig-prd"));

    tps()
        .current_dir(&nested)
        .args(["--local", "tenant", "put", "--dry-run"])
        .arg(&path)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("table tps-adsteam-CustomerConfig-local"));

    tps()
        .current_dir(&nested)
        .env("TPS_TEAM", "envteam")
        .args(["--env", "prod", "tenant", "put", "--dry-run"])
        .arg(&path)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("table tps-envteam-CustomerConfig-prd"));
}

#[test]
fn defaults_without_ddk_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json("no-ddk.json", &amc_record("no-ddk", "No Ddk"));
    tps()
        .current_dir(dir.path())
        .args(["tenant", "put", "--dry-run"])
        .arg(&path)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("table tps-demoteam-CustomerConfig-dev"));
}

#[test]
fn invalid_ddk_json_exit_2() {
    let path = write_json("bad-ddk.json", &json!({"tps_parameters": {"team": "Bad_Team"}}));
    tps()
        .arg("--ddk-config")
        .arg(&path)
        .args(["status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tps_parameters.team"))
        .stderr(predicate::str::contains("Bad_Team"));
}

#[test]
fn no_credentials_names_the_fix() {
    // 127.0.0.2 is not one of the hosts that get test credentials, so the
    // default chain runs and finds nothing; no request is sent.
    tps()
        .args(["--endpoint-url", "http://127.0.0.2:9", "--region", "us-east-1", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no AWS credentials found"))
        .stderr(predicate::str::contains("AWS_ACCESS_KEY_ID"))
        .stderr(predicate::str::contains("--profile"));
}

#[test]
fn unreachable_endpoint_suggests_local_up() {
    tps()
        .args(["--endpoint-url", "http://127.0.0.1:1", "tenant", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot connect to http://127.0.0.1:1"))
        .stderr(predicate::str::contains("tps local up"));
}

#[test]
fn local_conflicts_with_endpoint_url() {
    tps()
        .args(["--local", "--endpoint-url", "http://127.0.0.1:1", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn invalid_endpoint_url_exit_2() {
    tps()
        .args(["--endpoint-url", "127.0.0.1:4566", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("must start with http:// or https://"));
}

#[test]
fn watch_rejects_unknown_event_type() {
    tps()
        .args(["watch", "--event", "TenantHappy"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("TenantActive"));
}

#[test]
fn help_lists_exit_codes_and_watch_note() {
    tps().arg("--help").assert().code(0).stdout(predicate::str::contains("Exit codes:"));
    tps()
        .args(["watch", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("deletes them"))
        .stdout(predicate::str::contains("SECONDS"));
    tps().args(["local", "up", "--help"]).assert().code(0).stdout(predicate::str::contains("--port"));
}
