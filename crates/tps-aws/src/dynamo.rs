//! The status table (DynamoDB).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use tps_core::ports::{PortError, StatusStore, WriteOutcome};
use tps_core::status::TenantStatus;
use tracing::instrument;

use crate::error::{classify, code_of};

/// Width of the zero-padded sequence key. DynamoDB stream sequence numbers
/// have at most 40 digits, which is more than a DynamoDB number keeps
/// exactly, so they are compared as padded strings.
const SEQUENCE_KEY_WIDTH: usize = 40;

pub struct DynamoStatusStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStatusStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn sequence_key(sequence_number: &str) -> String {
    format!("{:0>width$}", sequence_number.trim_start_matches('0'), width = SEQUENCE_KEY_WIDTH)
}

#[async_trait]
impl StatusStore for DynamoStatusStore {
    #[instrument(skip(self), fields(table = %self.table))]
    async fn get(&self, tenant_id: &str) -> Result<Option<TenantStatus>, PortError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("tenantId", AttributeValue::S(tenant_id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb:GetItem", &e))?;
        let Some(item) = output.item else { return Ok(None) };
        serde_dynamo::from_item(item).map(Some).map_err(|e| {
            PortError::permanent(
                "dynamodb:GetItem",
                format!("status item of tenant {tenant_id:?} in {} is not a tenant status: {e}", self.table),
            )
        })
    }

    #[instrument(skip(self, status), fields(table = %self.table, tenant_id = %status.tenant_id, status = %status.status))]
    async fn put(&self, status: &TenantStatus) -> Result<WriteOutcome, PortError> {
        self.write(status, "sequenceKey <= :sequence").await
    }

    #[instrument(skip(self, status), fields(table = %self.table, tenant_id = %status.tenant_id, status = %status.status))]
    async fn put_if_newer(&self, status: &TenantStatus) -> Result<WriteOutcome, PortError> {
        self.write(status, "sequenceKey < :sequence").await
    }
}

impl DynamoStatusStore {
    /// Puts `status`. A status with a sequence number is written only when
    /// the stored item has none or the condition `order` is true.
    async fn write(&self, status: &TenantStatus, order: &str) -> Result<WriteOutcome, PortError> {
        let mut item: std::collections::HashMap<String, AttributeValue> = serde_dynamo::to_item(status)
            .map_err(|e| PortError::permanent("dynamodb:PutItem", format!("status does not serialize: {e}")))?;
        let mut request = self.client.put_item().table_name(&self.table);
        if let Some(sequence_number) = &status.sequence_number {
            let key = sequence_key(sequence_number);
            item.insert("sequenceKey".to_string(), AttributeValue::S(key.clone()));
            request = request
                .condition_expression(format!(
                    "attribute_not_exists(tenantId) OR attribute_not_exists(sequenceKey) OR {order}"
                ))
                .expression_attribute_values(":sequence", AttributeValue::S(key));
        }

        match request.set_item(Some(item)).send().await {
            Ok(_) => Ok(WriteOutcome::Written),
            Err(error) if code_of(&error) == Some("ConditionalCheckFailedException") => {
                tracing::info!(
                    condition = order,
                    "status not written: the stored status is from a newer stream record, or from the same one when the condition is <"
                );
                Ok(WriteOutcome::Stale)
            }
            Err(error) => Err(classify("dynamodb:PutItem", &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_keys_sort_numerically() {
        assert!(sequence_key("900") < sequence_key("1000"));
        assert_eq!(sequence_key("0042"), sequence_key("42"));
        assert_eq!(sequence_key("1").len(), SEQUENCE_KEY_WIDTH);
    }
}
