//! Test harness: one local runtime per test binary, and helpers to write
//! tenant rows and wait for their notifications and status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use tps_core::events::{EventType, Notification};
use tps_core::status::TenantStatus;
use tps_local::stack::Stack;
use tps_local::watch::{Received, StatusQueue};
use tps_local::Options;

/// How long a test waits for a tenant to reach a terminal state.
pub const WAIT: Duration = Duration::from_secs(60);

/// What the tests see of a running local runtime.
pub struct Harness {
    pub endpoint: String,
    pub stack: Stack,
    pub config: SdkConfig,
    /// Every notification received from the status queue, in arrival order.
    pub notifications: Arc<Mutex<Vec<Notification>>>,
    pub mapping_stats: Arc<tps_local::esm::MappingStats>,
    pub faults: Option<Arc<tps_local::faults::FaultInjector>>,
}

/// Starts the local runtime for this test process, and a collector that
/// stores every notification of the status queue.
pub fn start(options: Options) -> Harness {
    let local = tps_local::start_on_own_thread(options)
        .unwrap_or_else(|error| panic!("local runtime failed to start: {error:#}"));
    // Under fault injection the tests write rows and read resources straight
    // from moto, so that only the functions' calls meet the faults.
    let endpoint = if local.faults.is_some() { &local.moto_endpoint } else { &local.endpoint };
    // start() runs inside the tests' own tokio runtimes, so the config is
    // loaded on a thread of its own.
    let (endpoint, region) = (endpoint.clone(), local.stack.region.clone());
    let config = std::thread::spawn(move || block_on(tps_local::sdk_config(&endpoint, &region)))
        .join()
        .expect("load the SDK config");

    let notifications = Arc::new(Mutex::new(Vec::new()));
    let queue = StatusQueue::new(aws_sdk_sqs::Client::new(&config), local.stack.status_queue_url.clone());
    let collected = notifications.clone();
    std::thread::Builder::new()
        .name("notification-collector".into())
        .spawn(move || block_on(collect(queue, collected)))
        .expect("spawn the notification collector");

    Harness {
        endpoint: local.endpoint.clone(),
        stack: local.stack.clone(),
        config,
        notifications,
        mapping_stats: local.mapping_stats.clone(),
        faults: local.faults.clone(),
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(future)
}

/// Receives from the status queue forever, appending each notification.
async fn collect(queue: StatusQueue, collected: Arc<Mutex<Vec<Notification>>>) {
    loop {
        match queue.receive(Duration::from_secs(1)).await {
            Ok(received) => {
                for message in received {
                    match message {
                        Received::Notification(n) => collected.lock().unwrap().push(*n),
                        Received::Unparsable(body) => panic!("unparsable notification: {body}"),
                    }
                }
            }
            Err(error) => {
                eprintln!("status queue receive failed: {error:#}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// The shared harness of this test binary, with default options.
pub fn shared() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| start(Options { env: "e2e".into(), ..Options::default() }))
}

impl Harness {
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&self.config).force_path_style(true).build())
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.config)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    pub fn sfn(&self) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::new(&self.config)
    }

    /// Writes a tenant row, given as plain JSON, to the tenant table.
    pub async fn put_row(&self, row: &Value) {
        let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(row).expect("row converts to an item");
        self.dynamodb()
            .put_item()
            .table_name(self.stack.names.tenant_table())
            .set_item(Some(item))
            .send()
            .await
            .expect("put the tenant row");
    }

    pub async fn delete_row(&self, customer_id: &str, customer_name: &str) {
        self.dynamodb()
            .delete_item()
            .table_name(self.stack.names.tenant_table())
            .key("customerId", AttributeValue::S(customer_id.into()))
            .key("customerName", AttributeValue::S(customer_name.into()))
            .send()
            .await
            .expect("delete the tenant row");
    }

    pub async fn status(&self, tenant_id: &str) -> Option<TenantStatus> {
        let output = self
            .dynamodb()
            .get_item()
            .table_name(self.stack.names.status_table())
            .key("tenantId", AttributeValue::S(tenant_id.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get the status item");
        output.item.map(|item| serde_dynamo::from_item(item).expect("status item parses"))
    }

    /// The notifications received so far for `tenant_id`, in order.
    pub fn notifications_for(&self, tenant_id: &str) -> Vec<Notification> {
        self.notifications.lock().unwrap().iter().filter(|n| n.tenant_id == tenant_id).cloned().collect()
    }

    /// Waits until `tenant_id` has a notification of type `event`; panics
    /// with every notification of the tenant after [`WAIT`].
    pub async fn wait_for(&self, tenant_id: &str, event: EventType) -> Notification {
        let started = Instant::now();
        loop {
            if let Some(found) = self.notifications_for(tenant_id).into_iter().find(|n| n.event_type == event) {
                return found;
            }
            if started.elapsed() > WAIT {
                let seen: Vec<String> =
                    self.notifications_for(tenant_id).iter().map(|n| n.event_type.to_string()).collect();
                panic!("{tenant_id} did not reach {event} within {WAIT:?}; notifications: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `tenant_id` has `count` terminal notifications.
    pub async fn wait_for_terminal(&self, tenant_id: &str, count: usize) -> Vec<Notification> {
        let started = Instant::now();
        loop {
            let terminal: Vec<Notification> =
                self.notifications_for(tenant_id).into_iter().filter(|n| n.event_type.is_terminal()).collect();
            if terminal.len() >= count {
                return terminal;
            }
            if started.elapsed() > WAIT {
                let seen: Vec<String> =
                    self.notifications_for(tenant_id).iter().map(|n| n.event_type.to_string()).collect();
                panic!("{tenant_id} did not reach {count} terminal events within {WAIT:?}; notifications: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Names of the executions of the state machine whose names start with `prefix`.
    pub async fn executions_of(&self, prefix: &str) -> Vec<String> {
        let output = self
            .sfn()
            .list_executions()
            .state_machine_arn(&self.stack.state_machine_arn)
            .max_results(1000)
            .send()
            .await
            .expect("list executions");
        output
            .executions
            .into_iter()
            .map(|e| e.name)
            .filter(|name| name.starts_with(&format!("{prefix}-")))
            .collect()
    }

    /// Names of the queues whose names start with `prefix`, in `region`.
    pub async fn queues_with_prefix(&self, region: &str, prefix: &str) -> Vec<String> {
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&self.config).region(aws_config::Region::new(region.to_string())).build(),
        );
        let output = sqs.list_queues().queue_name_prefix(prefix).send().await.expect("list queues");
        output
            .queue_urls
            .unwrap_or_default()
            .into_iter()
            .filter_map(|url| url.rsplit('/').next().map(str::to_string))
            .collect()
    }

    /// Key ids tagged `tps:tenant` = `tenant_id`, whatever their state.
    pub async fn keys_of_tenant(&self, tenant_id: &str) -> Vec<String> {
        let kms = self.kms();
        let keys = kms.list_keys().limit(1000).send().await.expect("list keys").keys.unwrap_or_default();
        let mut found = Vec::new();
        for key in keys {
            let Some(id) = key.key_id else { continue };
            let tags = kms.list_resource_tags().key_id(&id).send().await.expect("list key tags");
            if tags.tags.unwrap_or_default().iter().any(|t| t.tag_key == "tps:tenant" && t.tag_value == tenant_id) {
                found.push(id);
            }
        }
        found
    }

    pub async fn bucket_exists(&self, bucket: &str) -> bool {
        self.s3().head_bucket().bucket(bucket).send().await.is_ok()
    }
}

/// A row enabling all three modules, with the tenant id and prefix given.
pub fn all_modules_row(tenant_id: &str, prefix: &str) -> Value {
    serde_json::json!({
        "customerId": tenant_id,
        "customerName": format!("{tenant_id} Inc."),
        "customerPrefix": prefix,
        "endemicType": "ENDEMIC",
        "AMC": {
            "amcOrangeAwsAccount": "111122223333",
            "amcRegion": "us-east-1",
            "amcDatasetName": "amcdataset",
            "amcTeamName": "demoteam"
        },
        "SponsoredAds": {
            "advertisingRegion": "NA",
            "profileIds": ["1234567890"],
            "streamDatasets": ["sp-traffic", "sp-conversion"]
        },
        "DSP": {
            "advertisingRegion": "NA",
            "advertiserIds": ["5830012345678"]
        }
    })
}

/// Invokes a function through the runtime's Lambda Invoke API with a raw
/// HTTP/1.1 request, as any Lambda client would. Returns the
/// `X-Amz-Function-Error` header, if any, and the body.
pub async fn invoke(endpoint: &str, function_name: &str, payload: &Value) -> (Option<String>, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let address = endpoint.trim_start_matches("http://");
    let body = payload.to_string();
    let request = format!(
        "POST /2015-03-31/functions/{function_name}/invocations HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect to the gateway");
    stream.write_all(request.as_bytes()).await.expect("send the invoke request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read the invoke response");
    let response = String::from_utf8(response).expect("UTF-8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    let function_error = head
        .lines()
        .find_map(|line| line.strip_prefix("x-amz-function-error: ").or_else(|| line.strip_prefix("X-Amz-Function-Error: ")))
        .map(str::to_string);
    (function_error, serde_json::from_str(body).expect("JSON body"))
}
