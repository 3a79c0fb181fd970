//! Tenant KMS keys, found by alias.

use aws_sdk_kms::types::{KeyState, Tag};
use serde_json::Value;
use tracing::instrument;

use super::{ProvisionError, Tags, TAG_TENANT};
use crate::error::{classify, code_of};

/// Days before a scheduled key deletion takes effect; the maximum, so an
/// operator has a month to cancel.
pub const KEY_DELETION_DAYS: i32 = 30;

#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub key_id: String,
    pub key_arn: String,
    pub alias: String,
}

/// Creates the key behind `alias`, or converges the existing one: cancels a
/// pending deletion, re-applies the policy and tags, and enables rotation.
#[instrument(skip(kms, policy, tags, description), fields(tenant_id = %tags.tenant()))]
pub async fn ensure_key(
    kms: &aws_sdk_kms::Client,
    alias: &str,
    description: &str,
    policy: &Value,
    tags: &Tags,
) -> Result<KeyInfo, ProvisionError> {
    let policy_text = policy.to_string();
    let key = match describe(kms, alias).await? {
        Some(key) => key,
        None => create(kms, alias, description, &policy_text, tags).await?,
    };

    let owner = tenant_tag(kms, &key.key_id).await?;
    tags.check_owner(&format!("KMS key {alias}"), owner.as_deref())?;

    let state = kms
        .describe_key()
        .key_id(&key.key_id)
        .send()
        .await
        .map_err(|e| classify("kms:DescribeKey", &e))?
        .key_metadata
        .and_then(|m| m.key_state);
    if state == Some(KeyState::PendingDeletion) {
        tracing::info!(alias, "cancelling the scheduled deletion of the tenant key");
        kms.cancel_key_deletion().key_id(&key.key_id).send().await.map_err(|e| classify("kms:CancelKeyDeletion", &e))?;
    }
    if matches!(state, Some(KeyState::PendingDeletion) | Some(KeyState::Disabled)) {
        kms.enable_key().key_id(&key.key_id).send().await.map_err(|e| classify("kms:EnableKey", &e))?;
    }

    // Tag first: the stack's IAM policy allows key changes only on keys
    // that carry the team's tags.
    kms.tag_resource()
        .key_id(&key.key_id)
        .set_tags(Some(kms_tags(tags)))
        .send()
        .await
        .map_err(|e| classify("kms:TagResource", &e))?;
    kms.put_key_policy()
        .key_id(&key.key_id)
        .policy_name("default")
        .policy(&policy_text)
        .send()
        .await
        .map_err(|e| classify("kms:PutKeyPolicy", &e))?;
    kms.enable_key_rotation()
        .key_id(&key.key_id)
        .send()
        .await
        .map_err(|e| classify("kms:EnableKeyRotation", &e))?;
    Ok(key)
}

/// The key behind `alias`, or `None` when the alias does not exist.
pub async fn describe(kms: &aws_sdk_kms::Client, alias: &str) -> Result<Option<KeyInfo>, ProvisionError> {
    match kms.describe_key().key_id(alias).send().await {
        Ok(output) => {
            let metadata = output.key_metadata.ok_or_else(|| {
                ProvisionError::Invalid(format!("kms:DescribeKey returned no metadata for {alias}"))
            })?;
            Ok(Some(KeyInfo {
                key_arn: metadata.arn.clone().unwrap_or_default(),
                key_id: metadata.key_id,
                alias: alias.to_string(),
            }))
        }
        Err(error) if code_of(&error) == Some("NotFoundException") => Ok(None),
        Err(error) => Err(classify("kms:DescribeKey", &error).into()),
    }
}

async fn create(
    kms: &aws_sdk_kms::Client,
    alias: &str,
    description: &str,
    policy: &str,
    tags: &Tags,
) -> Result<KeyInfo, ProvisionError> {
    let metadata = kms
        .create_key()
        .description(description)
        .policy(policy)
        .set_tags(Some(kms_tags(tags)))
        .send()
        .await
        .map_err(|e| classify("kms:CreateKey", &e))?
        .key_metadata
        .ok_or_else(|| ProvisionError::Invalid("kms:CreateKey returned no key metadata".into()))?;
    let key_id = metadata.key_id.clone();
    tracing::info!(alias, key_id, "created tenant key");

    match kms.create_alias().alias_name(alias).target_key_id(&key_id).send().await {
        Ok(_) => Ok(KeyInfo { key_arn: metadata.arn.unwrap_or_default(), key_id, alias: alias.to_string() }),
        Err(error) if code_of(&error) == Some("AlreadyExistsException") => {
            // Another execution created the alias first: keep its key and
            // schedule the one created here for deletion.
            tracing::warn!(alias, key_id, "alias created concurrently; scheduling the duplicate key for deletion");
            schedule_deletion(kms, &key_id).await?;
            describe(kms, alias)
                .await?
                .ok_or_else(|| ProvisionError::Invalid(format!("alias {alias} vanished after it was created")))
        }
        Err(error) => Err(classify("kms:CreateAlias", &error).into()),
    }
}

/// Schedules the key for deletion after [`KEY_DELETION_DAYS`].
pub async fn schedule_deletion(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<(), ProvisionError> {
    match kms.schedule_key_deletion().key_id(key_id).pending_window_in_days(KEY_DELETION_DAYS).send().await {
        Ok(_) => Ok(()),
        Err(error) if code_of(&error) == Some("KMSInvalidStateException") => Ok(()),
        Err(error) => Err(classify("kms:ScheduleKeyDeletion", &error).into()),
    }
}

/// Replaces the key policy.
pub async fn put_policy(kms: &aws_sdk_kms::Client, key_id: &str, policy: &Value) -> Result<(), ProvisionError> {
    kms.put_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| classify("kms:PutKeyPolicy", &e))?;
    Ok(())
}

/// The key's `tps:tenant` tag, if any.
pub async fn tenant_tag(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<Option<String>, ProvisionError> {
    let output = kms
        .list_resource_tags()
        .key_id(key_id)
        .send()
        .await
        .map_err(|e| classify("kms:ListResourceTags", &e))?;
    Ok(output
        .tags
        .unwrap_or_default()
        .into_iter()
        .find(|t| t.tag_key == TAG_TENANT)
        .map(|t| t.tag_value))
}

fn kms_tags(tags: &Tags) -> Vec<Tag> {
    tags.0
        .iter()
        .map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().expect("key and value are set"))
        .collect()
}
