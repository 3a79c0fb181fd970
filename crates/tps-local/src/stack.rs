//! The stack's resources on the emulator, created with the names and the
//! state machine definition the CDK stack uses.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, SseSpecification, SseType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};
use tps_aws::settings as vars;
use tps_core::naming::{FunctionKind, StackNames};

/// Settings of the tenant table's event source mapping, as the CDK stack
/// configures them.
pub mod mapping {
    pub const BATCH_SIZE: usize = 10;
    pub const MAXIMUM_RETRY_ATTEMPTS: u32 = 3;
    pub const BISECT_BATCH_ON_FUNCTION_ERROR: bool = true;
    pub const MAXIMUM_RECORD_AGE_SECONDS: i64 = 3600;
    pub const FUNCTION_RESPONSE_TYPES: [&str; 1] = ["ReportBatchItemFailures"];
}

/// Receives before a status message moves to the status DLQ.
const STATUS_MAX_RECEIVE_COUNT: u32 = 5;

/// The created resources.
#[derive(Debug, Clone)]
pub struct Stack {
    pub names: StackNames,
    pub region: String,
    pub account: String,
    pub data_key_arn: String,
    pub stream_arn: String,
    pub topic_arn: String,
    pub status_queue_url: String,
    pub status_dlq_url: String,
    pub failure_queue_url: String,
    pub failure_queue_arn: String,
    pub state_machine_arn: String,
}

impl Stack {
    pub fn function_arn(&self, kind: FunctionKind) -> String {
        function_arn(&self.region, &self.account, &self.names.function(kind))
    }

    /// The environment variables function `kind` is configured with.
    pub fn function_environment(&self, kind: FunctionKind) -> BTreeMap<String, String> {
        environment(&self.names, kind, &self.topic_arn, &self.state_machine_arn)
    }
}

fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

fn environment(names: &StackNames, kind: FunctionKind, topic_arn: &str, state_machine_arn: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        (vars::TEAM.to_string(), names.team.clone()),
        (vars::ENV.to_string(), names.env.clone()),
        (vars::TENANT_TABLE.to_string(), names.tenant_table()),
        (vars::STATUS_TABLE.to_string(), names.status_table()),
        (vars::EVENTS_TOPIC_ARN.to_string(), topic_arn.to_string()),
        ("RUST_LOG".to_string(), "info".to_string()),
    ]);
    if kind == FunctionKind::Stream {
        env.insert(vars::STATE_MACHINE_ARN.to_string(), state_machine_arn.to_string());
    }
    env
}

/// The names, function environments and mapping settings of a stack, as
/// JSON. The CDK app's tests compare it with the synthesized template.
pub fn manifest(names: &StackNames, region: &str, account: &str) -> Value {
    let topic_arn = format!("arn:aws:sns:{region}:{account}:{}", names.events_topic());
    let state_machine_arn = format!("arn:aws:states:{region}:{account}:stateMachine:{}", names.state_machine());
    let functions: serde_json::Map<String, Value> = FunctionKind::ALL
        .iter()
        .map(|kind| {
            (
                names.function(*kind),
                json!({
                    "kind": kind.label(),
                    "environment": environment(names, *kind, &topic_arn, &state_machine_arn),
                }),
            )
        })
        .collect();
    json!({
        "team": names.team,
        "env": names.env,
        "tables": { "tenant": names.tenant_table(), "status": names.status_table() },
        "topics": { "events": names.events_topic() },
        "queues": {
            "status": names.status_queue(),
            "statusDlq": names.status_dlq(),
            "streamFailures": names.stream_failure_queue(),
        },
        "keyAlias": names.data_key_alias(),
        "stateMachine": names.state_machine(),
        "functions": functions,
        "eventSourceMapping": {
            "batchSize": mapping::BATCH_SIZE,
            "maximumRetryAttempts": mapping::MAXIMUM_RETRY_ATTEMPTS,
            "bisectBatchOnFunctionError": mapping::BISECT_BATCH_ON_FUNCTION_ERROR,
            "maximumRecordAgeInSeconds": mapping::MAXIMUM_RECORD_AGE_SECONDS,
            "functionResponseTypes": mapping::FUNCTION_RESPONSE_TYPES,
        },
        "stateMachineSubstitutions": [
            FunctionKind::Status.substitution_key(),
            FunctionKind::Amc.substitution_key(),
            FunctionKind::SponsoredAds.substitution_key(),
            FunctionKind::Dsp.substitution_key(),
        ],
    })
}

/// Fills the `${Key}` placeholders of a state machine definition.
pub fn substitute(definition: &str, substitutions: &BTreeMap<String, String>) -> anyhow::Result<String> {
    let mut result = definition.to_string();
    for (key, value) in substitutions {
        result = result.replace(&format!("${{{key}}}"), value);
    }
    if let Some(start) = result.find("${") {
        let end = result[start..].find('}').map(|e| start + e + 1).unwrap_or(result.len());
        return Err(anyhow!("the state machine definition has no substitution for {}", &result[start..end]));
    }
    Ok(result)
}

/// Clients aimed straight at moto, for setting up infrastructure.
pub struct SetupClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sfn: aws_sdk_sfn::Client,
}

/// Creates every resource of the stack on moto at `moto_endpoint`.
pub async fn create(
    clients: &SetupClients,
    moto_endpoint: &str,
    names: &StackNames,
    region: &str,
    account: &str,
    repo_root: &Path,
) -> anyhow::Result<Stack> {
    enable_interpreter(moto_endpoint).await?;

    let key = clients
        .kms
        .create_key()
        .description(format!("TPS data key of {}-{}", names.team, names.env))
        .send()
        .await
        .context("kms:CreateKey of the data key")?
        .key_metadata
        .ok_or_else(|| anyhow!("kms:CreateKey returned no metadata"))?;
    clients
        .kms
        .create_alias()
        .alias_name(names.data_key_alias())
        .target_key_id(&key.key_id)
        .send()
        .await
        .context("kms:CreateAlias of the data key")?;
    let data_key_arn = key.arn.unwrap_or_default();

    let stream_arn = create_tables(clients, names, &data_key_arn).await?;

    let status_dlq_url = create_queue(clients, &names.status_dlq(), fifo_attributes(&data_key_arn)).await?;
    let status_dlq_arn = queue_arn(clients, &status_dlq_url).await?;
    let mut status_attributes = fifo_attributes(&data_key_arn);
    status_attributes.push((
        QueueAttributeName::RedrivePolicy,
        json!({"deadLetterTargetArn": status_dlq_arn, "maxReceiveCount": STATUS_MAX_RECEIVE_COUNT}).to_string(),
    ));
    let status_queue_url = create_queue(clients, &names.status_queue(), status_attributes).await?;
    let status_queue_arn = queue_arn(clients, &status_queue_url).await?;
    let failure_queue_url = create_queue(
        clients,
        &names.stream_failure_queue(),
        vec![(QueueAttributeName::KmsMasterKeyId, data_key_arn.clone())],
    )
    .await?;
    let failure_queue_arn = queue_arn(clients, &failure_queue_url).await?;

    let topic_arn = clients
        .sns
        .create_topic()
        .name(names.events_topic())
        .attributes("FifoTopic", "true")
        .attributes("ContentBasedDeduplication", "false")
        .attributes("KmsMasterKeyId", &data_key_arn)
        .send()
        .await
        .context("sns:CreateTopic of the events topic")?
        .topic_arn
        .ok_or_else(|| anyhow!("sns:CreateTopic returned no ARN"))?;
    clients
        .sns
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&status_queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .context("sns:Subscribe of the status queue")?;

    let definition_path = repo_root.join(crate::paths::STATE_MACHINE_FILE);
    let definition = std::fs::read_to_string(&definition_path)
        .with_context(|| format!("cannot read the state machine definition {}", definition_path.display()))?;
    let substitutions: BTreeMap<String, String> = FunctionKind::ALL
        .iter()
        .filter(|kind| **kind != FunctionKind::Stream)
        .map(|kind| (kind.substitution_key(), function_arn(region, account, &names.function(*kind))))
        .collect();
    let state_machine_arn = clients
        .sfn
        .create_state_machine()
        .name(names.state_machine())
        .definition(substitute(&definition, &substitutions)?)
        .role_arn(format!("arn:aws:iam::{account}:role/{}-role", names.state_machine()))
        .r#type(aws_sdk_sfn::types::StateMachineType::Standard)
        .send()
        .await
        .context("states:CreateStateMachine")?
        .state_machine_arn;

    Ok(Stack {
        names: names.clone(),
        region: region.to_string(),
        account: account.to_string(),
        data_key_arn,
        stream_arn,
        topic_arn,
        status_queue_url,
        status_dlq_url,
        failure_queue_url,
        failure_queue_arn,
        state_machine_arn,
    })
}

/// Switches moto's Step Functions interpreter on. State machines created
/// before the switch are invisible after it, so this comes first.
async fn enable_interpreter(moto_endpoint: &str) -> anyhow::Result<()> {
    let body = r#"{"stepfunctions": {"execute_state_machine": true}}"#;
    let request = hyper::Request::post(format!("{moto_endpoint}/moto-api/config"))
        .header("Content-Type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(body.as_bytes())))?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let response = client.request(request).await.context("POST /moto-api/config")?;
    if !response.status().is_success() {
        anyhow::bail!("moto refused to switch the Step Functions interpreter on: HTTP {}", response.status());
    }
    Ok(())
}

async fn create_tables(clients: &SetupClients, names: &StackNames, key_arn: &str) -> anyhow::Result<String> {
    let sse = SseSpecification::builder().enabled(true).sse_type(SseType::Kms).kms_master_key_id(key_arn).build();
    let tenant = clients
        .dynamodb
        .create_table()
        .table_name(names.tenant_table())
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("customerId")?)
        .attribute_definitions(string_attribute("customerName")?)
        .key_schema(key("customerId", KeyType::Hash)?)
        .key_schema(key("customerName", KeyType::Range)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()?,
        )
        .sse_specification(sse.clone())
        .send()
        .await
        .context("dynamodb:CreateTable of the tenant table")?;
    let stream_arn = tenant
        .table_description
        .and_then(|t| t.latest_stream_arn)
        .ok_or_else(|| anyhow!("the tenant table has no stream"))?;

    clients
        .dynamodb
        .create_table()
        .table_name(names.status_table())
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("tenantId")?)
        .key_schema(key("tenantId", KeyType::Hash)?)
        .sse_specification(sse)
        .send()
        .await
        .context("dynamodb:CreateTable of the status table")?;
    Ok(stream_arn)
}

fn string_attribute(name: &str) -> anyhow::Result<AttributeDefinition> {
    Ok(AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()?)
}

fn key(name: &str, key_type: KeyType) -> anyhow::Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder().attribute_name(name).key_type(key_type).build()?)
}

fn fifo_attributes(key_arn: &str) -> Vec<(QueueAttributeName, String)> {
    vec![
        (QueueAttributeName::FifoQueue, "true".to_string()),
        (QueueAttributeName::KmsMasterKeyId, key_arn.to_string()),
    ]
}

async fn create_queue(
    clients: &SetupClients,
    name: &str,
    attributes: Vec<(QueueAttributeName, String)>,
) -> anyhow::Result<String> {
    let output = clients
        .sqs
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes.into_iter().collect()))
        .send()
        .await
        .with_context(|| format!("sqs:CreateQueue of {name}"))?;
    output.queue_url.ok_or_else(|| anyhow!("sqs:CreateQueue of {name} returned no URL"))
}

async fn queue_arn(clients: &SetupClients, url: &str) -> anyhow::Result<String> {
    clients
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .with_context(|| format!("sqs:GetQueueAttributes of {url}"))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| anyhow!("queue {url} has no ARN"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitute_fills_and_reports_missing() {
        let subs = BTreeMap::from([("AFunctionArn".to_string(), "arn:a".to_string())]);
        assert_eq!(substitute(r#"{"R": "${AFunctionArn}"}"#, &subs).unwrap(), r#"{"R": "arn:a"}"#);
        let error = substitute(r#"{"R": "${BFunctionArn}"}"#, &subs).unwrap_err();
        assert!(error.to_string().contains("${BFunctionArn}"), "{error}");
    }

    #[test]
    fn repository_definition_has_every_placeholder_filled() {
        let root = crate::paths::repo_root().expect("repository root");
        let definition = std::fs::read_to_string(root.join(crate::paths::STATE_MACHINE_FILE)).unwrap();
        let names = StackNames::new("t", "e");
        let subs: BTreeMap<String, String> = FunctionKind::ALL
            .iter()
            .filter(|k| **k != FunctionKind::Stream)
            .map(|k| (k.substitution_key(), function_arn("us-east-1", "123456789012", &names.function(*k))))
            .collect();
        let filled = substitute(&definition, &subs).unwrap();
        let parsed: Value = serde_json::from_str(&filled).unwrap();
        assert_eq!(parsed["StartAt"], "MarkInProgress");
    }

    #[test]
    fn manifest_environment_of_stream_has_state_machine() {
        let manifest = manifest(&StackNames::new("demoteam", "dev"), "us-east-1", "123456789012");
        let stream = &manifest["functions"]["tps-demoteam-Stream-dev"]["environment"];
        assert_eq!(stream["TPS_TENANT_TABLE"], "tps-demoteam-CustomerConfig-dev");
        assert!(stream["TPS_STATE_MACHINE_ARN"].as_str().unwrap().ends_with(":stateMachine:tps-demoteam-Onboarding-dev"));
        assert!(manifest["functions"]["tps-demoteam-Amc-dev"]["environment"].get("TPS_STATE_MACHINE_ARN").is_none());
    }
}
