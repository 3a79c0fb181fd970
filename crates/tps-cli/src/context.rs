//! Global options and what they select: the stack's resource names from
//! `--team` and `--env` (defaults from `ddk.json`), the region, the endpoint
//! and the credentials of the AWS clients.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_dynamodb::config::{Credentials, ProvideCredentials};
use aws_sdk_dynamodb::types::AttributeValue;
use clap::Args;
use tps_core::naming::StackNames;
use tps_core::settings::DdkConfig;

use crate::errors::{describe, Resource};
use crate::output::OutputFormat;

/// Variable that contains the local runtime's endpoint for `--local`.
pub const LOCAL_ENDPOINT_VAR: &str = "TPS_LOCAL_ENDPOINT";
/// The endpoint `--local` uses when `TPS_LOCAL_ENDPOINT` is unset; `tps
/// local up` listens there by default.
pub const DEFAULT_LOCAL_ENDPOINT: &str = "http://127.0.0.1:4566";
/// The environment `tps local up` creates unless `--env` is given.
pub const LOCAL_ENV: &str = "local";
/// The environment when neither `--env` nor `ddk.json` names one.
pub const DEFAULT_ENV: &str = "dev";
/// The region of the local runtime when nothing else sets one.
pub const LOCAL_REGION: &str = "us-east-1";
/// The configuration file searched for in the current directory and its parents.
pub const DDK_FILE: &str = "ddk.json";

/// Attempts per AWS call, the first included. Fewer than the functions
/// make, so that an unreachable endpoint fails within seconds.
const MAX_ATTEMPTS: u32 = 3;
/// Longest wait for the credential chain, which may query an instance
/// metadata service that does not respond.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(20);

/// Options that every command accepts, before or after the subcommand.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// AWS region of the stack, such as eu-west-1. Default: AWS_REGION or
    /// AWS_DEFAULT_REGION, then the environment's region in ddk.json, then
    /// the profile's region; us-east-1 on the local runtime.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Named profile of ~/.aws/config and ~/.aws/credentials to take
    /// credentials and region from. Default: AWS_PROFILE, else the default
    /// credential chain (environment variables, profile "default", SSO,
    /// container and instance roles).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// URL that every AWS call goes to instead of the AWS endpoints, such as
    /// http://127.0.0.1:4566. Default: AWS_ENDPOINT_URL. On 127.0.0.1,
    /// localhost or [::1], test credentials are used when none are configured.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "local")]
    pub endpoint_url: Option<String>,

    /// Use the local runtime that `tps local up` started: the endpoint in
    /// TPS_LOCAL_ENDPOINT (default http://127.0.0.1:4566), test credentials
    /// unless some are configured, and the environment "local" unless --env
    /// is given.
    #[arg(long, global = true)]
    pub local: bool,

    /// Team part of the resource names (tps-{team}-...). Default:
    /// tps_parameters.team in ddk.json, else demoteam.
    #[arg(long, global = true, env = "TPS_TEAM", value_name = "TEAM")]
    pub team: Option<String>,

    /// Environment part of the resource names (...-{env}): a key or name of
    /// ddk.json's environments. Default: "local" with --local, else the
    /// first environment in ddk.json, else dev.
    #[arg(long, global = true, env = "TPS_ENV", value_name = "ENV")]
    pub env: Option<String>,

    /// The ddk.json that sets the default team, environment and region.
    /// Default: ddk.json in the current directory or the nearest parent
    /// directory that has one.
    #[arg(long, global = true, env = "TPS_DDK_CONFIG", value_name = "FILE")]
    pub ddk_config: Option<PathBuf>,

    /// Format of the result on standard output.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Log every AWS call, retry and credential lookup on standard error.
    #[arg(long, global = true)]
    pub debug: bool,
}

/// `ddk.json`, if one was found, and where.
#[derive(Debug, Clone, Default)]
pub struct Ddk {
    pub path: Option<PathBuf>,
    pub config: DdkConfig,
}

impl Ddk {
    /// Loads `explicit`, or the nearest `ddk.json` from the current
    /// directory upwards; defaults when there is none.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let path = match explicit {
            Some(path) => {
                if !path.is_file() {
                    bail!("--ddk-config {}: no such file; pass the path of a ddk.json, or omit the option", path.display());
                }
                Some(path.to_path_buf())
            }
            None => std::env::current_dir()
                .ok()
                .and_then(|dir| dir.ancestors().map(|d| d.join(DDK_FILE)).find(|p| p.is_file())),
        };
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let config = DdkConfig::load(&path)
            .map_err(|error| anyhow!("{error}; fix the file, or pass --ddk-config with another one"))?;
        Ok(Self { path: Some(path), config })
    }

    /// Returns the team: `tps_parameters.team`, or `demoteam` when absent.
    pub fn team(&self) -> String {
        self.config.team()
    }

    /// Finds the environment that `env` names (by key or by name) and
    /// returns its resource name and region.
    fn environment(&self, env: &str) -> (String, Option<String>) {
        let found = self.config.environments.iter().find(|(key, e)| *key == env || e.name.as_deref() == Some(env));
        match found {
            Some((key, e)) => {
                let name = e.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| key.clone());
                (name, e.region.clone().filter(|r| !r.trim().is_empty()))
            }
            None => (env.to_string(), None),
        }
    }

    /// Returns the first environment's name, in key order.
    fn first_environment(&self) -> Option<String> {
        let (key, e) = self.config.environments.iter().next()?;
        Some(e.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| key.clone()))
    }
}

/// The stack and endpoint that the global options select.
#[derive(Debug, Clone)]
pub struct Target {
    pub names: StackNames,
    /// The region when an option, variable or ddk.json sets it; otherwise the
    /// profile's region, found when connecting.
    pub region: Option<String>,
    /// The endpoint of every AWS call; the AWS endpoints when `None`.
    pub endpoint: Option<String>,
    /// Whether the endpoint is on this machine, so test credentials suffice.
    pub local: bool,
    pub profile: Option<String>,
}

impl Target {
    /// Resolves the global options, `ddk.json` and the environment variables.
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Self> {
        let ddk = Ddk::load(args.ddk_config.as_deref())?;
        let team = non_empty(args.team.clone()).unwrap_or_else(|| ddk.team());

        let endpoint = if args.local {
            Some(non_empty(std::env::var(LOCAL_ENDPOINT_VAR).ok()).unwrap_or_else(|| DEFAULT_LOCAL_ENDPOINT.to_string()))
        } else {
            non_empty(args.endpoint_url.clone()).or_else(|| non_empty(std::env::var("AWS_ENDPOINT_URL").ok()))
        };
        if let Some(url) = &endpoint {
            check_endpoint(url)?;
        }
        let local = args.local || endpoint.as_deref().is_some_and(is_loopback);

        let env = non_empty(args.env.clone())
            .or_else(|| args.local.then(|| LOCAL_ENV.to_string()))
            .or_else(|| ddk.first_environment())
            .unwrap_or_else(|| DEFAULT_ENV.to_string());
        let (env_name, ddk_region) = ddk.environment(&env);

        let region = non_empty(args.region.clone())
            .or_else(|| non_empty(std::env::var("AWS_REGION").ok()))
            .or_else(|| non_empty(std::env::var("AWS_DEFAULT_REGION").ok()))
            .or(ddk_region)
            .or_else(|| local.then(|| LOCAL_REGION.to_string()));

        tracing::debug!(ddk = ?ddk.path, team, env = env_name, ?region, ?endpoint, local, "resolved the stack");
        Ok(Self {
            names: StackNames::new(team, env_name),
            region,
            endpoint,
            local,
            profile: non_empty(args.profile.clone()),
        })
    }

    /// Describes where the calls go, for messages: "region R at URL" or "region R".
    pub fn location(&self, region: &str) -> String {
        match &self.endpoint {
            Some(url) => format!("region {region} at {url}"),
            None => format!("region {region}"),
        }
    }

    /// Returns what to check when a stack resource is missing.
    pub fn missing_resource_hint(&self) -> String {
        let names = &self.names;
        if self.local {
            format!(
                "check --team and --env (now {} and {}) and --region, or start the local runtime with `tps local up --team {} --env {}`",
                names.team, names.env, names.team, names.env
            )
        } else {
            format!(
                "check --team and --env (now {} and {}), --region and --profile, or pass --local for the local runtime started with `tps local up`",
                names.team, names.env
            )
        }
    }

    /// Loads the SDK configuration and, for AWS endpoints, checks that
    /// credentials exist.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    // A ReceiveMessage long poll takes up to 20 seconds.
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &self.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if self.local && !credentials_configured(self.profile.as_deref()) {
            loader = loader.credentials_provider(Credentials::new("testing", "testing", None, None, "tps-local"));
        }
        let config = loader.load().await;

        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            anyhow!(
                "no AWS region set: pass --region, set AWS_REGION, set the region of environment {} in ddk.json, or set one in the profile",
                self.names.env
            )
        })?;
        if !self.local {
            check_credentials(&config, self.profile.as_deref()).await?;
        }
        Ok(Connection { target: self.clone(), region, config })
    }
}

/// SDK configuration for the selected stack.
pub struct Connection {
    pub target: Target,
    pub region: String,
    pub config: SdkConfig,
}

impl Connection {
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    pub fn names(&self) -> &StackNames {
        &self.target.names
    }

    /// Reads every item of `table`, following pagination.
    pub async fn scan(&self, table: &str) -> anyhow::Result<Vec<HashMap<String, AttributeValue>>> {
        self.dynamodb()
            .scan()
            .table_name(table)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|error| describe(self, "dynamodb:Scan", Resource::Table(table), &error))
    }

    /// Describes where the calls go, for messages.
    pub fn location(&self) -> String {
        self.target.location(&self.region)
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn check_endpoint(url: &str) -> anyhow::Result<()> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() => Ok(()),
        _ => bail!("invalid endpoint URL {url:?}: it must start with http:// or https://, such as {DEFAULT_LOCAL_ENDPOINT}"),
    }
}

/// Returns whether `url`'s host is 127.0.0.1, localhost or [::1].
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    matches!(host.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "::1")
}

/// Returns whether the user configured credentials for a local endpoint:
/// access key variables or a profile. The local runtime accepts any credentials.
fn credentials_configured(profile: Option<&str>) -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    profile.is_some() || set("AWS_ACCESS_KEY_ID") || set("AWS_PROFILE")
}

async fn check_credentials(config: &SdkConfig, profile: Option<&str>) -> anyhow::Result<()> {
    let provider = config
        .credentials_provider()
        .context("the AWS SDK configuration has no credentials provider")?;
    let profile_hint = match profile {
        Some(name) => format!("check that profile {name:?} exists in ~/.aws/config and has credentials (for SSO, run `aws sso login --profile {name}`)"),
        None => "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), or pass --profile NAME or set AWS_PROFILE for a profile in ~/.aws/config (for SSO, run `aws sso login` first)".to_string(),
    };
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(CredentialsError::CredentialsNotLoaded(details))) => {
            tracing::debug!(?details, "the credential chain found no credentials");
            Err(anyhow!(
                "no AWS credentials found: {profile_hint}; to use the local runtime instead, pass --local (--debug shows where tps looked)"
            ))
        }
        Ok(Err(error)) => Err(anyhow!(
            "cannot load AWS credentials: {error}: {}: {profile_hint}",
            crate::errors::root_cause(&error)
        )),
        Err(_) => Err(anyhow!(
            "timed out after {} s looking for AWS credentials: {profile_hint}; to use the local runtime instead, pass --local",
            CREDENTIALS_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:4566"));
        assert!(is_loopback("http://localhost:4566/"));
        assert!(is_loopback("http://[::1]:4566"));
        assert!(is_loopback("https://LOCALHOST"));
        assert!(!is_loopback("https://dynamodb.us-east-1.amazonaws.com"));
        assert!(!is_loopback("http://127.0.0.2:4566"));
        assert!(!is_loopback("http://localhost.example.com:4566"));
    }

    #[test]
    fn endpoint_needs_scheme() {
        assert!(check_endpoint("http://127.0.0.1:1").is_ok());
        assert!(check_endpoint("127.0.0.1:4566").is_err());
        assert!(check_endpoint("http://").is_err());
    }

    #[test]
    fn ddk_environment_by_key_or_name() {
        let config: DdkConfig = serde_json::from_str(
            r#"{"environments": {"prod": {"name": "prd", "region": "eu-west-1"}, "beta": {"region": ""}}}"#,
        )
        .unwrap();
        let ddk = Ddk { path: None, config };
        assert_eq!(ddk.environment("prod"), ("prd".to_string(), Some("eu-west-1".to_string())));
        assert_eq!(ddk.environment("prd"), ("prd".to_string(), Some("eu-west-1".to_string())));
        assert_eq!(ddk.environment("beta"), ("beta".to_string(), None));
        assert_eq!(ddk.environment("other"), ("other".to_string(), None));
        assert_eq!(ddk.first_environment().as_deref(), Some("beta"));
    }
}
