//! AWS SDK errors in plain words: what failed, on which resource, and what
//! to do next.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::context::Connection;

/// The stack resource an AWS call was about.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Table(&'a str),
    Queue(&'a str),
}

impl Resource<'_> {
    fn describe(&self) -> String {
        match self {
            Resource::Table(name) => format!("table {name}"),
            Resource::Queue(name) => format!("queue {name}"),
        }
    }
}

// NOTE: no test sends these codes. The local runtime accepts any
// credentials, so the tests cover only the not-found and connection
// branches of `describe`.

/// Error codes with which AWS rejects the credentials themselves.
const REJECTED_CREDENTIALS: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
];

const ACCESS_DENIED: &[&str] = &["AccessDenied", "AccessDeniedException"];

const NOT_FOUND: &[&str] = &[
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
];

/// Describes a failed call of `operation` (such as `dynamodb:Query`) on `resource`.
pub fn describe<E>(connection: &Connection, operation: &str, resource: Resource<'_>, error: &SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let target = &connection.target;
    let location = connection.location();
    let resource_name = resource.describe();
    match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if NOT_FOUND.contains(&code) {
                anyhow::anyhow!("{resource_name} not found in {location}: {}", target.missing_resource_hint())
            } else if REJECTED_CREDENTIALS.contains(&code) {
                anyhow::anyhow!(
                    "{operation} on {resource_name} failed: AWS rejected the credentials ({code}): refresh them (for SSO, run `aws sso login`), or choose others with --profile or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                )
            } else if ACCESS_DENIED.contains(&code) {
                anyhow::anyhow!(
                    "{operation} on {resource_name} was denied ({code}): the credentials need that permission on the table or queue; pass --profile for a role that has it"
                )
            } else {
                anyhow::anyhow!("{operation} on {resource_name} in {location} failed: {}", DisplayErrorContext(error))
            }
        }
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            let endpoint = target.endpoint.clone().unwrap_or_else(|| "the AWS endpoint".to_string());
            let hint = if target.local {
                "is the local runtime running? Start it with `tps local up`, or fix --endpoint-url or TPS_LOCAL_ENDPOINT"
            } else {
                "check the network, --region and --endpoint-url"
            };
            tracing::debug!(error = %DisplayErrorContext(error), "{operation} failed");
            anyhow::anyhow!("{operation} on {resource_name} failed: cannot connect to {endpoint} ({}): {hint}", root_cause(error))
        }
        SdkError::TimeoutError(_) => {
            anyhow::anyhow!("{operation} on {resource_name} in {location} timed out: check that the endpoint responds, then retry")
        }
        _ => anyhow::anyhow!("{operation} on {resource_name} in {location} failed: {}", DisplayErrorContext(error)),
    }
}

/// Returns the innermost cause of `error`, such as "Connection refused (os error 111)".
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
