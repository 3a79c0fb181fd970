//! Marketing Stream ingress queues and their DLQs.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use tracing::instrument;

use super::{ProvisionError, Tags, TAG_TENANT};
use crate::error::{classify, code_of};

/// Seconds a message stays in an ingress queue or DLQ: 14 days, the maximum.
pub const RETENTION_SECONDS: u32 = 1_209_600;
/// Receives before a message moves to the DLQ.
pub const MAX_RECEIVE_COUNT: u32 = 5;

#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// The ARN a queue named `name` has in `region` and `account`.
pub fn queue_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

/// Creates the queue with `attributes` and `tags`, or converges the
/// existing one to them.
#[instrument(skip(sqs, attributes, tags), fields(tenant_id = %tags.tenant()))]
pub async fn ensure_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
    tags: &Tags,
) -> Result<QueueInfo, ProvisionError> {
    let url = match url_of(sqs, name).await? {
        Some(url) => {
            let owner = tenant_tag(sqs, &url).await?;
            tags.check_owner(&format!("SQS queue {name}"), owner.as_deref())?;
            // Tag first: the stack's IAM policy allows queue changes only on
            // queues that carry the team's tags.
            sqs.tag_queue()
                .queue_url(&url)
                .set_tags(Some(tags.0.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| classify("sqs:TagQueue", &e))?;
            sqs.set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(attributes))
                .send()
                .await
                .map_err(|e| classify("sqs:SetQueueAttributes", &e))?;
            url
        }
        None => {
            let output = sqs
                .create_queue()
                .queue_name(name)
                .set_attributes(Some(attributes))
                .set_tags(Some(tags.0.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| classify("sqs:CreateQueue", &e))?;
            tracing::info!(queue = name, "created queue");
            output.queue_url.unwrap_or_default()
        }
    };

    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| classify("sqs:GetQueueAttributes", &e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    Ok(QueueInfo { name: name.to_string(), url, arn })
}

/// The URL of queue `name`, or `None` when it does not exist.
pub async fn url_of(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<Option<String>, ProvisionError> {
    match sqs.get_queue_url().queue_name(name).send().await {
        Ok(output) => Ok(output.queue_url),
        Err(error)
            if matches!(
                code_of(&error),
                Some("AWS.SimpleQueueService.NonExistentQueue") | Some("QueueDoesNotExist")
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(classify("sqs:GetQueueUrl", &error).into()),
    }
}

/// Deletes queue `name` if it exists and is this tenant's; returns whether
/// it was deleted.
pub async fn delete_queue(sqs: &aws_sdk_sqs::Client, name: &str, tags: &Tags) -> Result<bool, ProvisionError> {
    let Some(url) = url_of(sqs, name).await? else { return Ok(false) };
    let owner = tenant_tag(sqs, &url).await?;
    tags.check_owner(&format!("SQS queue {name}"), owner.as_deref())?;
    match sqs.delete_queue().queue_url(&url).send().await {
        Ok(_) => {
            tracing::info!(queue = name, "deleted queue");
            Ok(true)
        }
        Err(error) if matches!(code_of(&error), Some("AWS.SimpleQueueService.NonExistentQueue") | Some("QueueDoesNotExist")) => Ok(false),
        Err(error) => Err(classify("sqs:DeleteQueue", &error).into()),
    }
}

/// Names of the queues whose names start with `prefix`.
pub async fn names_with_prefix(sqs: &aws_sdk_sqs::Client, prefix: &str) -> Result<Vec<String>, ProvisionError> {
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let output = sqs
            .list_queues()
            .queue_name_prefix(prefix)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .map_err(|e| classify("sqs:ListQueues", &e))?;
        names.extend(
            output
                .queue_urls
                .unwrap_or_default()
                .into_iter()
                .filter_map(|url| url.rsplit('/').next().map(str::to_string)),
        );
        token = output.next_token;
        if token.is_none() {
            return Ok(names);
        }
    }
}

async fn tenant_tag(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Option<String>, ProvisionError> {
    let output = sqs
        .list_queue_tags()
        .queue_url(url)
        .send()
        .await
        .map_err(|e| classify("sqs:ListQueueTags", &e))?;
    Ok(output.tags.and_then(|mut t| t.remove(TAG_TENANT)))
}
