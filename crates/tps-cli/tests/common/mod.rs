//! Helpers shared by the `tps` command line tests: a hermetic `tps`
//! command, the local runtime, and tenant record files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use tps_local::Options;

/// Variables that would point `tps` at the developer's own account,
/// profile or stack.
const HOST_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "TPS_TEAM",
    "TPS_ENV",
    "TPS_DDK_CONFIG",
    "TPS_LOCAL_ENDPOINT",
    "TPS_DATASET_CATALOGUE",
    "RUST_LOG",
];

/// Returns the path of the `tps` binary that cargo built for these tests.
pub fn tps_path() -> &'static str {
    env!("CARGO_BIN_EXE_tps")
}

/// `tps` with no AWS configuration of the host: no credentials, profiles,
/// region or endpoint from the environment, and no instance metadata
/// lookups, so that nothing leaves this machine.
pub fn tps() -> Command {
    let mut command = Command::from_std(tps_background());
    command.timeout(Duration::from_secs(180));
    command
}

/// Builds the same hermetic `tps` as a `std::process::Command`, to run in the background.
pub fn tps_background() -> std::process::Command {
    isolated(tps_path())
}

/// Builds a command for `program` with the environment of [`tps`].
pub fn isolated(program: &str) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    for name in HOST_VARIABLES {
        command.env_remove(name);
    }
    let missing = scratch_dir().join("no-aws-config");
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &missing)
        .env("AWS_SHARED_CREDENTIALS_FILE", &missing);
    command
}

/// Returns a directory that lives as long as the test process.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temporary directory")).path()
}

/// Returns the repository root, where `examples/` is.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("repository root").to_path_buf()
}

pub fn example(name: &str) -> PathBuf {
    repo_root().join("examples/tenants").join(name)
}

/// Writes `value` as JSON to a new file in the scratch directory.
pub fn write_json(name: &str, value: &Value) -> PathBuf {
    let path = scratch_dir().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// Builds a valid record with one module (AMC) for tenant `id`.
pub fn amc_record(id: &str, name: &str) -> Value {
    serde_json::json!({
        "customerId": id,
        "customerName": name,
        "customerPrefix": id,
        "endemicType": "ENDEMIC",
        "AMC": {"amcOrangeAwsAccount": "111122223333", "amcRegion": "us-east-1"}
    })
}

/// The local runtime of this test process: its endpoint, region and the
/// environment name of its stack.
pub struct Runtime {
    pub endpoint: String,
    pub region: String,
    pub env: String,
    pub team: String,
}

impl Runtime {
    /// `tps` with the global options that select this runtime's stack.
    pub fn tps(&self) -> Command {
        let mut command = tps();
        command.args(self.global_args());
        command
    }

    pub fn global_args(&self) -> Vec<String> {
        vec![
            "--endpoint-url".into(),
            self.endpoint.clone(),
            "--region".into(),
            self.region.clone(),
            "--team".into(),
            self.team.clone(),
            "--env".into(),
            self.env.clone(),
        ]
    }

    /// Writes `row` (plain JSON) straight to the tenant table, bypassing
    /// the validation of `tps tenant put`.
    pub fn put_row_directly(&self, row: &Value) {
        let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            serde_dynamo::to_item(row).unwrap();
        let table = format!("tps-{}-CustomerConfig-{}", self.team, self.env);
        block_on(async {
            let config = tps_local::sdk_config(&self.endpoint, &self.region).await;
            aws_sdk_dynamodb::Client::new(&config)
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .send()
                .await
                .expect("dynamodb:PutItem");
        });
    }

    /// Builds an S3 client of the emulator, for the resources a test sets
    /// up itself.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = block_on(tps_local::sdk_config(&self.endpoint, &self.region));
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
    }

    /// Polls `tps status ID` until the tenant reaches `state`; returns its
    /// JSON status. Panics after `timeout`.
    pub fn wait_for_status(&self, id: &str, state: &str, timeout: Duration) -> Value {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < timeout {
            let output = self.tps().args(["--output", "json", "status", id]).output().unwrap();
            if output.status.success() {
                let status: Value = serde_json::from_slice(&output.stdout).unwrap();
                if status["status"] == state {
                    return status;
                }
                last = status["status"].to_string();
            } else {
                last = String::from_utf8_lossy(&output.stderr).into_owned();
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("tenant {id} did not reach {state} within {timeout:?}; last: {last}");
    }
}

/// Starts the local runtime once per test process, on a thread with its own
/// tokio runtime that lives until the process exits: moto is killed when
/// the thread that started it exits.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let env = format!("cli{}", std::process::id());
        let options = Options { env: env.clone(), ..Default::default() };
        let local = tps_local::start_on_own_thread(options).unwrap_or_else(|error| {
            panic!("the local runtime did not start: {error:#}\nset TPS_MOTO_SERVER to moto_server, or run `make venv`")
        });
        let runtime = Runtime {
            endpoint: local.endpoint,
            region: local.stack.region.clone(),
            env: local.stack.names.env.clone(),
            team: local.stack.names.team.clone(),
        };
        assert_eq!(runtime.env, env);
        runtime
    })
}

/// Serializes the tests that read the status queue: `tps watch` deletes
/// what it receives, so two watchers would take each other's messages.
pub fn queue_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `future` to completion on a short-lived tokio runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
