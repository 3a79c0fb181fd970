//! The error a function returns to its caller. Its `errorType` is what the
//! state machine's Retry and Catch match on.

use lambda_runtime::Diagnostic;
use tps_aws::provision::ProvisionError;
use tps_core::ports::PortError;

#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// Throttling, 5xx or a timeout from AWS: the state machine retries it.
    #[error("{0}")]
    Transient(String),
    /// Provisioning failed for a reason retrying cannot fix.
    #[error("{0}")]
    Provisioning(String),
    /// The event is not what the function accepts.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl FunctionError {
    /// The Lambda `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            FunctionError::Transient(_) => "TransientError",
            FunctionError::Provisioning(_) => "ProvisioningError",
            FunctionError::InvalidInput(_) => "InvalidInput",
        }
    }
}

impl From<PortError> for FunctionError {
    fn from(error: PortError) -> Self {
        if error.transient {
            FunctionError::Transient(error.to_string())
        } else {
            FunctionError::Provisioning(error.to_string())
        }
    }
}

impl From<ProvisionError> for FunctionError {
    fn from(error: ProvisionError) -> Self {
        if error.is_transient() {
            FunctionError::Transient(error.to_string())
        } else {
            FunctionError::Provisioning(error.to_string())
        }
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Self {
        Diagnostic { error_type: error.error_type().to_string(), error_message: error.to_string() }
    }
}
