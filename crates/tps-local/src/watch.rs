//! Reading notifications from the status queue.

use std::time::Duration;

use anyhow::Context;
use tps_core::events::Notification;

/// A consumer of the status queue: each received notification is deleted
/// from the queue once parsed.
pub struct StatusQueue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

/// One received message: the notification, or the body that did not parse.
#[derive(Debug, Clone)]
pub enum Received {
    Notification(Box<Notification>),
    Unparsable(String),
}

impl StatusQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { sqs, url: url.into() }
    }

    /// Receives up to 10 messages, waiting at most `wait` for the first.
    pub async fn receive(&self, wait: Duration) -> anyhow::Result<Vec<Received>> {
        let output = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .send()
            .await
            .with_context(|| format!("sqs:ReceiveMessage on {}", self.url))?;

        let mut received = Vec::new();
        for message in output.messages.unwrap_or_default() {
            let body = message.body.unwrap_or_default();
            received.push(match serde_json::from_str::<Notification>(&body) {
                Ok(notification) => Received::Notification(Box::new(notification)),
                Err(_) => Received::Unparsable(body),
            });
            if let Some(handle) = message.receipt_handle {
                self.sqs
                    .delete_message()
                    .queue_url(&self.url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .with_context(|| format!("sqs:DeleteMessage on {}", self.url))?;
            }
        }
        Ok(received)
    }
}
