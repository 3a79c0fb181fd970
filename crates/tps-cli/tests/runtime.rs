//! `tps` commands against the real local runtime (moto, the functions and
//! the state machine), started once for this test process.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{Tag, Tagging};
use common::{amc_record, example, queue_lock, runtime, tps, write_json};
use predicates::prelude::*;
use serde_json::{json, Value};

/// Maximum wait for a tenant to be provisioned on the local runtime.
const PROVISIONING_TIMEOUT: Duration = Duration::from_secs(90);

#[test]
fn put_then_status_active() {
    let runtime = runtime();
    let mut record: Value = serde_json::from_str(&std::fs::read_to_string(example("acme-all-modules.json")).unwrap()).unwrap();
    record["customerId"] = json!("status-all-modules");
    record["customerPrefix"] = json!("statusall");
    let path = write_json("status-all-modules.json", &record);

    runtime
        .tps()
        .args(["tenant", "put"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("created tenant status-all-modules (Acme Retail)"))
        .stdout(predicate::str::contains("watch --until-terminal status-all-modules"));

    let status = runtime.wait_for_status("status-all-modules", "ACTIVE", PROVISIONING_TIMEOUT);
    assert_eq!(status["modules"]["AMC"]["state"], "ACTIVE");
    assert_eq!(status["modules"]["DSP"]["state"], "ACTIVE");

    let assert = runtime.tps().args(["status", "status-all-modules"]).assert().code(0);
    let text = common::stdout(assert.get_output());
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("TENANT / MODULE"), "{text}");
    assert!(lines[1].starts_with("status-all-modules"), "{text}");
    assert!(lines[1].contains("ACTIVE"), "{text}");
    assert!(text.contains("bucket=tps-statusall-amc-123456789012-us-east-1"), "{text}");
    assert!(text.contains("key=alias/tps-status-all-modules-amc"), "{text}");
    assert!(text.contains("queues=tps-statusall-sa-budget-usage,tps-statusall-sa-sp-conversion,tps-statusall-sa-sp-traffic"), "{text}");
    assert!(text.contains("ago)"), "{text}");
}

#[test]
fn put_dynamodb_json_then_get() {
    let runtime = runtime();
    let item = json!({
        "customerId": {"S": "ddb-put"},
        "customerName": {"S": "DynamoDB Put"},
        "customerPrefix": {"S": "ddbput"},
        "endemicType": {"S": "NON_ENDEMIC"},
        "AMC": {"M": {"amcOrangeAwsAccount": {"S": "111122223333"}, "amcS3BucketName": {"NULL": true}}},
        "notes": {"S": "kept as it is"}
    });
    let path = write_json("ddb-put.json", &item);
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);

    let assert = runtime.tps().args(["--output", "json", "tenant", "get", "ddb-put"]).assert().code(0);
    let rows: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["customerName"], "DynamoDB Put");
    assert_eq!(rows[0]["AMC"]["amcOrangeAwsAccount"], "111122223333");
    assert_eq!(rows[0]["notes"], "kept as it is");

    let assert = runtime.tps().args(["tenant", "get", "ddb-put"]).assert().code(0);
    let row: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(row["customerId"], "ddb-put");
}

#[test]
fn put_invalid_writes_nothing() {
    let runtime = runtime();
    runtime
        .tps()
        .args(["tenant", "put"])
        .arg(example("invalid-tenant.json"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("customerPrefix: must be 1 to 20"))
        .stderr(predicate::str::contains("SponsoredAds.profileIds: must not be empty"));
    runtime
        .tps()
        .args(["tenant", "get", "broken-co"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no tenant broken-co"));
}

#[test]
fn put_rejects_duplicate_tenant_id() {
    let runtime = runtime();
    let first = write_json("duplicate-first.json", &amc_record("duplicate-id", "First Name"));
    let second = write_json("duplicate-second.json", &amc_record("duplicate-id", "Second Name"));
    runtime.tps().args(["tenant", "put"]).arg(&first).assert().code(0);
    runtime
        .tps()
        .args(["tenant", "put"])
        .arg(&second)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("tenant duplicate-id already exists"))
        .stderr(predicate::str::contains("\"First Name\""));
    runtime
        .tps()
        .args(["tenant", "put"])
        .arg(&first)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("tenant duplicate-id (First Name)"))
        .stdout(predicate::str::contains("is unchanged"))
        .stdout(predicate::str::contains("tenant rerun duplicate-id"));

    let mut changed = amc_record("duplicate-id", "First Name");
    changed["endemicType"] = json!("NON_ENDEMIC");
    let changed = write_json("duplicate-changed.json", &changed);
    runtime
        .tps()
        .args(["tenant", "put"])
        .arg(&changed)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("updated tenant duplicate-id"));
}

/// A module that failed is provisioned again by `tps tenant rerun` once its
/// cause is gone, here a bucket name taken by another tenant.
#[test]
fn rerun_provisions_failed_module() {
    let runtime = runtime();
    let bucket = "tps-rerun-taken-bucket";
    let s3 = runtime.s3();
    common::block_on(async {
        s3.create_bucket().bucket(bucket).send().await.expect("s3:CreateBucket");
        let tag = Tag::builder().key("tps:tenant").value("someone-else").build().unwrap();
        let tagging = Tagging::builder().tag_set(tag).build().unwrap();
        s3.put_bucket_tagging().bucket(bucket).tagging(tagging).send().await.expect("s3:PutBucketTagging");
    });
    let mut record = amc_record("rerun-blocked", "Rerun Blocked");
    record["AMC"]["amcS3BucketName"] = json!(bucket);
    let path = write_json("rerun-blocked.json", &record);
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);
    let failed = runtime.wait_for_status("rerun-blocked", "FAILED", PROVISIONING_TIMEOUT);
    assert_eq!(failed["modules"]["AMC"]["state"], "FAILED", "{failed}");

    // NOTE: moto 5.2.5 keeps a deleted bucket's tags for the next bucket of
    // that name, so the tags go first. On AWS, deleting the bucket is enough.
    common::block_on(async {
        s3.delete_bucket_tagging().bucket(bucket).send().await.expect("s3:DeleteBucketTagging");
        s3.delete_bucket().bucket(bucket).send().await.expect("s3:DeleteBucket");
    });
    runtime
        .tps()
        .args(["tenant", "rerun", "rerun-blocked"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("requested a re-run of tenant rerun-blocked: provision AMC (FAILED)"))
        .stdout(predicate::str::contains("watch --until-terminal rerun-blocked"));
    let active = runtime.wait_for_status("rerun-blocked", "ACTIVE", PROVISIONING_TIMEOUT);
    assert_eq!(active["modules"]["AMC"]["outputs"]["bucketName"], bucket, "{active}");

    runtime
        .tps()
        .args(["tenant", "rerun", "rerun-blocked"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("nothing to re-run: every enabled module is already active"));
}

#[test]
fn put_change_of_active_tenant() {
    let runtime = runtime();
    let mut record = amc_record("settled-tenant", "Settled Tenant");
    let path = write_json("settled-tenant.json", &record);
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);
    runtime.wait_for_status("settled-tenant", "ACTIVE", PROVISIONING_TIMEOUT);

    record["endemicType"] = json!("NON_ENDEMIC");
    let path = write_json("settled-tenant.json", &record);
    runtime
        .tps()
        .args(["tenant", "put"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no execution starts: every enabled module is already active"));

    record["customerPrefix"] = json!("renamed");
    let path = write_json("settled-tenant.json", &record);
    runtime
        .tps()
        .args(["tenant", "put"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("customerPrefix: cannot change from \"settled-tenant\" to \"renamed\""))
        .stderr(predicate::str::contains("not written"));
    let assert = runtime.tps().args(["tenant", "get", "settled-tenant"]).assert().code(0);
    let row: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(row["customerPrefix"], "settled-tenant");
}

#[test]
fn get_two_rows_prints_list_and_warns() {
    let runtime = runtime();
    runtime.put_row_directly(&amc_record("two-rows", "First Row"));
    runtime.put_row_directly(&amc_record("two-rows", "Second Row"));

    let assert = runtime
        .tps()
        .args(["tenant", "get", "two-rows"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("warning: tenant two-rows has 2 rows"));

    let rows: Value = serde_json::from_slice(&assert.get_output().stdout).expect("one JSON document");
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{rows}");
}

#[test]
fn rerun_invalid_row_exit_1() {
    let runtime = runtime();
    let mut row = amc_record("rerun-invalid", "Rerun Invalid");
    row["AMC"]["amcOrangeAwsAccount"] = json!("123");
    runtime.put_row_directly(&row);

    runtime
        .tps()
        .args(["tenant", "rerun", "rerun-invalid"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is invalid, so the stream function would reject it again"))
        .stderr(predicate::str::contains("AMC.amcOrangeAwsAccount: must be 12 digits"));
}

#[test]
fn rerun_unknown_tenant_exit_1() {
    runtime()
        .tps()
        .args(["tenant", "rerun", "no-such-tenant"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no tenant no-such-tenant in table"));
}

#[test]
fn list_text_and_json() {
    let runtime = runtime();
    let path = write_json("listed.json", &amc_record("listed-tenant", "Listed Tenant"));
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);

    let assert = runtime.tps().args(["tenant", "list"]).assert().code(0);
    let text = common::stdout(assert.get_output());
    assert!(text.starts_with("CUSTOMER ID"), "{text}");
    let line = text.lines().find(|l| l.starts_with("listed-tenant ")).unwrap_or_else(|| panic!("no listed-tenant in:\n{text}"));
    assert!(line.contains("Listed Tenant"), "{line}");
    assert!(line.trim_end().ends_with("AMC"), "{line}");

    let assert = runtime.tps().args(["tenant", "list", "--output", "json"]).assert().code(0);
    let rows: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert!(rows.as_array().unwrap().iter().any(|r| r["customerId"] == "listed-tenant"), "{rows}");
}

#[test]
fn delete_needs_yes_without_terminal() {
    let runtime = runtime();
    let path = write_json("deleted.json", &amc_record("deleted-tenant", "Deleted Tenant"));
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);

    runtime
        .tps()
        .args(["tenant", "delete", "deleted-tenant"])
        .write_stdin("y\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pass --yes"));
    runtime.tps().args(["tenant", "get", "deleted-tenant"]).assert().code(0);

    runtime
        .tps()
        .args(["tenant", "delete", "deleted-tenant", "--yes"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("deleted tenant deleted-tenant"));
    runtime.tps().args(["tenant", "get", "deleted-tenant"]).assert().code(1);
    runtime
        .tps()
        .args(["tenant", "delete", "deleted-tenant", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no tenant deleted-tenant"));
}

#[test]
fn delete_asks_on_terminal() {
    let runtime = runtime();
    let path = write_json("asked.json", &amc_record("asked-tenant", "Asked Tenant"));
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);

    // `script` (util-linux) runs tps on a pseudo-terminal, so tps prompts.
    let command = format!("{} {} tenant delete asked-tenant", common::tps_path(), runtime.global_args().join(" "));
    let ask = |answer: &str| {
        let mut script = common::isolated("script");
        script.args(["--quiet", "--return", "--command", &command, "/dev/null"]);
        let mut script = assert_cmd::Command::from_std(script);
        script.timeout(Duration::from_secs(60)).write_stdin(answer.to_string());
        script.output().expect("script from util-linux runs")
    };

    let declined = ask("n\n");
    let transcript = common::stdout(&declined);
    assert_eq!(declined.status.code(), Some(1), "{transcript}");
    assert!(transcript.contains("Delete tenant asked-tenant (Asked Tenant)"), "{transcript}");
    assert!(transcript.contains("retention RETAIN"), "{transcript}");
    runtime.tps().args(["tenant", "get", "asked-tenant"]).assert().code(0);

    let confirmed = ask("y\n");
    assert_eq!(confirmed.status.code(), Some(0), "{}", common::stdout(&confirmed));
    runtime.tps().args(["tenant", "get", "asked-tenant"]).assert().code(1);
}

#[test]
fn status_of_unknown_tenant_exit_1() {
    runtime()
        .tps()
        .args(["status", "never-written"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no status for tenant never-written"));
}

#[test]
fn status_all_as_json() {
    let runtime = runtime();
    let path = write_json("status-json.json", &amc_record("status-json", "Status Json"));
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);
    runtime.wait_for_status("status-json", "ACTIVE", PROVISIONING_TIMEOUT);

    let assert = runtime.tps().args(["--output", "json", "status"]).assert().code(0);
    let statuses: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let found = statuses.as_array().unwrap().iter().find(|s| s["tenantId"] == "status-json").cloned();
    let found = found.unwrap_or_else(|| panic!("no status-json in {statuses}"));
    assert_eq!(found["status"], "ACTIVE");
    assert_eq!(found["modules"]["AMC"]["outputs"]["bucketName"], "tps-status-json-amc-123456789012-us-east-1");
}

#[test]
fn missing_tables_and_queue_name_the_fix() {
    let runtime = runtime();
    let mut args = runtime.global_args();
    let env_index = args.iter().position(|a| a == "--env").unwrap() + 1;
    args[env_index] = "nosuchenv".to_string();
    let table = format!("tps-{}-TenantStatus-nosuchenv", runtime.team);
    let tenant_table = format!("tps-{}-CustomerConfig-nosuchenv", runtime.team);

    tps()
        .args(&args)
        .arg("status")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("table {table} not found")))
        .stderr(predicate::str::contains("--env"));
    tps()
        .args(&args)
        .args(["tenant", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("table {tenant_table} not found")));
    let path = write_json("no-table.json", &amc_record("no-table", "No Table"));
    tps()
        .args(&args)
        .args(["tenant", "put"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("table {tenant_table} not found")));
    tps()
        .args(&args)
        .args(["watch", "--timeout", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("queue {table}.fifo not found")));
}

#[test]
fn watch_until_terminal_sees_put_active() {
    let runtime = runtime();
    let _queue = queue_lock();
    let path = write_json("watched.json", &amc_record("watched-tenant", "Watched Tenant"));

    let mut watch = common::tps_background()
        .args(runtime.global_args())
        .args(["watch", "--until-terminal", "watched-tenant", "--timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);

    let (code, stdout, stderr) = wait_with_deadline(&mut watch, Duration::from_secs(150));
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(" watched-tenant ")).collect();
    assert!(lines.iter().any(|l| l.contains("TenantProvisioningStarted")), "{stdout}");
    assert!(lines.iter().any(|l| l.contains("ModuleProvisioned") && l.contains("bucket=tps-watched-tenant-amc-")), "{stdout}");
    assert!(lines.last().is_some_and(|l| l.contains("TenantActive") && l.contains("status=ACTIVE")), "{stdout}");
    assert!(stderr.contains("tenant watched-tenant reached TenantActive"), "{stderr}");
}

#[test]
fn watch_until_terminal_failure_exit_1() {
    let runtime = runtime();
    let _queue = queue_lock();
    // Written around the validation of `tps tenant put`, as another client might.
    let mut row = amc_record("rejected-row", "Rejected Row");
    row["AMC"]["amcOrangeAwsAccount"] = json!("12345");
    runtime.put_row_directly(&row);

    let assert = runtime
        .tps()
        .args(["watch", "--until-terminal", "rejected-row", "--timeout", "120"])
        .assert()
        .code(1);
    let stdout = common::stdout(assert.get_output());
    let line = stdout.lines().find(|l| l.contains("rejected-row")).unwrap_or_else(|| panic!("no line for rejected-row:\n{stdout}"));
    assert!(line.contains("TenantValidationFailed"), "{line}");
    assert!(line.contains("AMC.amcOrangeAwsAccount: must be 12 digits"), "{line}");
}

#[test]
fn watch_filters_and_json_output() {
    let runtime = runtime();
    let _queue = queue_lock();
    let path = write_json("filtered.json", &amc_record("filtered-tenant", "Filtered Tenant"));
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);

    let assert = runtime
        .tps()
        .args(["--output", "json", "watch", "--tenant", "filtered-tenant", "--event", "TenantActive"])
        .args(["--until-terminal", "filtered-tenant", "--timeout", "120"])
        .assert()
        .code(0);
    let stdout = common::stdout(assert.get_output());
    let notifications: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(notifications.len(), 1, "{stdout}");
    assert_eq!(notifications[0]["eventType"], "TenantActive");
    assert_eq!(notifications[0]["tenantId"], "filtered-tenant");
    assert_eq!(notifications[0]["status"], "ACTIVE");
}

#[test]
fn watch_until_terminal_sees_offboarding() {
    let runtime = runtime();
    let _queue = queue_lock();
    let path = write_json("offboarded.json", &amc_record("offboarded-tenant", "Offboarded Tenant"));
    runtime.tps().args(["tenant", "put"]).arg(&path).assert().code(0);
    runtime
        .tps()
        .args(["watch", "--until-terminal", "offboarded-tenant", "--timeout", "120"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("reached TenantActive"));

    runtime.tps().args(["tenant", "delete", "offboarded-tenant", "--yes"]).assert().code(0);
    let assert = runtime
        .tps()
        .args(["watch", "--until-terminal", "offboarded-tenant", "--timeout", "120"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("reached TenantOffboarded"));
    let stdout = common::stdout(assert.get_output());
    assert!(stdout.contains("ModuleDeprovisioned"), "{stdout}");
    assert!(stdout.contains("kept: S3 bucket tps-offboarded-tenant-amc-"), "{stdout}");

    let status = runtime.wait_for_status("offboarded-tenant", "OFFBOARDED", PROVISIONING_TIMEOUT);
    assert_eq!(status["modules"]["AMC"]["state"], "REMOVED");
}

#[test]
fn watch_timeout_exit_3() {
    let runtime = runtime();
    let _queue = queue_lock();
    let started = Instant::now();
    runtime
        .tps()
        .args(["watch", "--until-terminal", "nobody-at-all", "--timeout", "2"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("timed out after 2 s waiting for a terminal event of tenant nobody-at-all"));
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// Waits for `child` at most `deadline`, killing it after; returns its exit
/// code, standard output and standard error.
fn wait_with_deadline(child: &mut std::process::Child, deadline: Duration) -> (Option<i32>, String, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.and_then(|s| s.code()), stdout, stderr)
}
