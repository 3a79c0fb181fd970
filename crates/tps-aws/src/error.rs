//! Classification of AWS SDK errors into transient (retry) and permanent.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use tps_core::ports::PortError;

/// Error codes that mean "slow down" or "try again" on the services used here.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "KMSInternalException",
    "KMSInvalidStateException",
    "TransactionConflictException",
    "OperationAborted",
    "KeyUnavailableException",
    "DependencyTimeoutException",
];

/// Turns an SDK error into a [`PortError`] that names the operation, the
/// AWS error code and whether retrying can help.
pub fn classify<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, transient) = match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (None, true)
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().map(str::to_string);
            let transient = status >= 500
                || status == 429
                || code.as_deref().is_some_and(|c| TRANSIENT_CODES.contains(&c));
            (code, transient)
        }
        _ => (None, false),
    };
    PortError {
        operation: operation.to_string(),
        code,
        message: DisplayErrorContext(error).to_string(),
        transient,
    }
}

/// The AWS error code of a service error, if any.
pub fn code_of<E>(error: &SdkError<E, HttpResponse>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}
