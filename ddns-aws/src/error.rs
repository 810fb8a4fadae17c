//! AWS failures, classified into ddns-core's error.
//!
//! Every SDK error is turned into [`AwsError`] (private), which says which
//! service and operation failed, and then into [`ddns_core::Error`] with the
//! SDK error as its source.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// What went wrong talking to AWS.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum AwsError {
    #[error(
        "{service} {operation}: the request could not be sent or got no answer ({detail}); check the endpoint and the network"
    )]
    Unreachable {
        service: &'static str,
        operation: &'static str,
        detail: String,
    },

    #[error("{service} {operation}: throttled by AWS ({code}); retry later or raise the limits")]
    Throttled {
        service: &'static str,
        operation: &'static str,
        code: String,
    },

    #[error(
        "{service} {operation}: access denied ({code}: {message}); check the IAM permissions of these credentials"
    )]
    Denied {
        service: &'static str,
        operation: &'static str,
        code: String,
        message: String,
    },

    #[error("{service} {operation}: {what} does not exist ({message})")]
    Missing {
        service: &'static str,
        operation: &'static str,
        what: String,
        message: String,
    },

    #[error("{service} {operation}: the request was rejected ({code}: {message})")]
    Rejected {
        service: &'static str,
        operation: &'static str,
        code: String,
        message: String,
    },

    #[error("{service} {operation}: AWS failed ({code}: {message})")]
    Failed {
        service: &'static str,
        operation: &'static str,
        code: String,
        message: String,
    },

    #[error("a stored item is unusable: {0}")]
    BadItem(String),
}

impl AwsError {
    /// Classifies an SDK error of `operation` on `service`; `what` names
    /// the resource for "does not exist" answers.
    pub(crate) fn from_sdk<E, R>(
        service: &'static str,
        operation: &'static str,
        what: &str,
        err: &SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error,
    {
        let detail = match err {
            SdkError::ServiceError(service_err) => {
                let e = service_err.err();
                let code = e.code().unwrap_or("unknown").to_owned();
                let message = e.message().unwrap_or("").to_owned();
                return Self::from_code(service, operation, what, code, message);
            }
            SdkError::TimeoutError(_) => "timed out".to_owned(),
            SdkError::DispatchFailure(e) => format!("{e:?}"),
            SdkError::ResponseError(_) => "unreadable answer".to_owned(),
            SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
            other => other.to_string(),
        };
        Self::Unreachable {
            service,
            operation,
            detail,
        }
    }

    pub(crate) fn from_code(
        service: &'static str,
        operation: &'static str,
        what: &str,
        code: String,
        message: String,
    ) -> Self {
        match code.as_str() {
            "Throttling"
            | "ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "PriorRequestNotComplete" => Self::Throttled {
                service,
                operation,
                code,
            },
            "AccessDenied"
            | "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException" => Self::Denied {
                service,
                operation,
                code,
                message,
            },
            "ResourceNotFoundException" | "NoSuchHostedZone" => Self::Missing {
                service,
                operation,
                what: what.to_owned(),
                message,
            },
            "ValidationException" | "InvalidChangeBatch" | "InvalidInput" => Self::Rejected {
                service,
                operation,
                code,
                message,
            },
            _ => Self::Failed {
                service,
                operation,
                code,
                message,
            },
        }
    }

    /// True for throttling, which waiting fixes.
    pub(crate) fn is_throttling(&self) -> bool {
        matches!(self, Self::Throttled { .. })
    }
}

impl From<AwsError> for ddns_core::Error {
    fn from(e: AwsError) -> Self {
        let message = e.to_string();
        let base = match &e {
            AwsError::Unreachable { .. } | AwsError::Throttled { .. } => {
                Self::unavailable(message, true)
            }
            AwsError::Denied { .. } => Self::permission_denied(message),
            AwsError::Missing { .. } => Self::unavailable(message, false),
            AwsError::Rejected { .. } => return Self::invalid_input(message),
            AwsError::Failed { .. } | AwsError::BadItem(_) => Self::unavailable(message, false),
        };
        base.with_source(e)
    }
}
