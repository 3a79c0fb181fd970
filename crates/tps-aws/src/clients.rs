//! AWS clients, built once per process.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Attempts per AWS call, the first included. Standard retry mode backs off
/// exponentially with jitter between them, so throttling and 5xx responses are
/// absorbed before an error reaches the state machine's own Retry.
pub const MAX_ATTEMPTS: u32 = 6;

/// Every client the functions use.
#[derive(Clone, Debug)]
pub struct Clients {
    pub config: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sns: aws_sdk_sns::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub kms: aws_sdk_kms::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
}

/// The SDK configuration loader the functions use: the default credential
/// and region chain, `AWS_ENDPOINT_URL` when set, standard retries and
/// timeouts. The local runtime adds its endpoint and credentials to it.
pub fn loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(20))
                .build(),
        )
}

pub async fn load_config() -> SdkConfig {
    loader().load().await
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            config: config.clone(),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            sfn: aws_sdk_sfn::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            s3: s3_client(config, None),
            sqs: aws_sdk_sqs::Client::new(config),
        }
    }

    pub async fn from_env() -> Self {
        Self::new(&load_config().await)
    }

    /// The region the clients call by default.
    pub fn region(&self) -> String {
        self.config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".to_string())
    }

    /// KMS, S3 and SQS clients for `region`; the shared ones when it is the default.
    pub fn regional(&self, region: &str) -> RegionalClients {
        if region == self.region() {
            return RegionalClients {
                region: region.to_string(),
                kms: self.kms.clone(),
                s3: self.s3.clone(),
                sqs: self.sqs.clone(),
            };
        }
        let region_value = Region::new(region.to_string());
        RegionalClients {
            region: region.to_string(),
            kms: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::config::Builder::from(&self.config).region(region_value.clone()).build(),
            ),
            s3: s3_client(&self.config, Some(region_value.clone())),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(&self.config).region(region_value).build(),
            ),
        }
    }
}

/// S3 client with path-style addressing when a custom endpoint is set, since
/// a local endpoint has no per-bucket DNS names.
fn s3_client(config: &SdkConfig, region: Option<Region>) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config);
    if config.endpoint_url().is_some() {
        builder = builder.force_path_style(true);
    }
    if let Some(region) = region {
        builder = builder.region(region);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// Clients bound to one region, for resources that must live where a
/// tenant's data is delivered.
#[derive(Clone, Debug)]
pub struct RegionalClients {
    pub region: String,
    pub kms: aws_sdk_kms::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
}
