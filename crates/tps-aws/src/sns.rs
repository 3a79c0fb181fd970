//! The tenant events topic (SNS FIFO).

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use tps_core::events::Notification;
use tps_core::ports::{EventBus, PortError};
use tracing::instrument;

use crate::error::classify;

pub struct SnsEventBus {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsEventBus {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self { client, topic_arn: topic_arn.into() }
    }
}

/// The FIFO message group of a tenant: its id when that is a valid group id,
/// otherwise a stable hash (ids of rejected rows can hold any text).
pub fn message_group_id(tenant_id: &str) -> String {
    let valid = !tenant_id.is_empty()
        && tenant_id.len() <= 128
        && tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation());
    if valid {
        tenant_id.to_string()
    } else {
        format!("invalid-{}", tps_core::digest::short_hash(tenant_id, 16))
    }
}

fn string_attribute(value: &str) -> MessageAttributeValue {
    // String attributes only: a Binary attribute breaks raw delivery to SQS
    // on the emulator, and filter policies match strings.
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data type is set")
}

#[async_trait]
impl EventBus for SnsEventBus {
    #[instrument(skip(self, notification), fields(
        event_type = %notification.event_type,
        tenant_id = %notification.tenant_id,
        module = ?notification.module,
        deduplication_id = %notification.deduplication_id,
    ))]
    async fn publish(&self, notification: &Notification) -> Result<(), PortError> {
        let body = serde_json::to_string(notification)
            .map_err(|e| PortError::permanent("sns:Publish", format!("notification does not serialize: {e}")))?;
        let tenant_attribute = if notification.tenant_id.is_empty() { "-" } else { notification.tenant_id.as_str() };
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .message_group_id(message_group_id(&notification.tenant_id))
            .message_deduplication_id(&notification.deduplication_id)
            .message_attributes("eventType", string_attribute(notification.event_type.as_str()))
            .message_attributes("tenantId", string_attribute(tenant_attribute));
        if let Some(module) = notification.module {
            request = request.message_attributes("module", string_attribute(module.section()));
        }

        request.send().await.map_err(|e| classify("sns:Publish", &e))?;
        tracing::info!("notification published");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_id_of_hostile_tenant_id_is_hashed() {
        assert_eq!(message_group_id("acme-001"), "acme-001");
        let hashed = message_group_id("acme 001\n");
        assert!(hashed.starts_with("invalid-"), "{hashed}");
        assert_eq!(hashed, message_group_id("acme 001\n"));
        assert!(message_group_id("").starts_with("invalid-"));
    }
}
