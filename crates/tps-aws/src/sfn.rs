//! The onboarding state machine (Step Functions).

use async_trait::async_trait;
use tps_core::ports::{PortError, StartOutcome, Workflow};
use tracing::instrument;

use crate::error::{classify, code_of};

pub struct SfnWorkflow {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

impl SfnWorkflow {
    pub fn new(client: aws_sdk_sfn::Client, state_machine_arn: impl Into<String>) -> Self {
        Self { client, state_machine_arn: state_machine_arn.into() }
    }

    /// The ARN an execution named `name` of this state machine has.
    pub fn execution_arn(&self, name: &str) -> String {
        format!("{}:{name}", self.state_machine_arn.replacen(":stateMachine:", ":execution:", 1))
    }
}

#[async_trait]
impl Workflow for SfnWorkflow {
    #[instrument(skip(self, input), fields(state_machine_arn = %self.state_machine_arn))]
    async fn start_execution(&self, name: &str, input: &str) -> Result<StartOutcome, PortError> {
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input)
            .send()
            .await;
        match result {
            Ok(output) => Ok(StartOutcome::Started { execution_arn: output.execution_arn }),
            Err(error) if code_of(&error) == Some("ExecutionAlreadyExists") => {
                Ok(StartOutcome::AlreadyExists { execution_arn: self.execution_arn(name) })
            }
            Err(error) => Err(classify("states:StartExecution", &error)),
        }
    }

    #[instrument(skip(self))]
    async fn is_running(&self, execution_arn: &str) -> Result<bool, PortError> {
        match self.client.describe_execution().execution_arn(execution_arn).send().await {
            Ok(output) => Ok(output.status == aws_sdk_sfn::types::ExecutionStatus::Running),
            Err(error) if code_of(&error) == Some("ExecutionDoesNotExist") => Ok(false),
            Err(error) => Err(classify("states:DescribeExecution", &error)),
        }
    }
}
