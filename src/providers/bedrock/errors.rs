//! What Bedrock's errors mean. A failure status names its error in the
//! `x-amzn-errortype` header (`ValidationException:http://internal.amazon.com/…`),
//! which the kit reads as the error's type, with `{"message": "..."}` as the body; an
//! error inside a 200 stream is an event-stream message of type `exception`, named by
//! its `:exception-type` header (`throttlingException`), or of type `error`
//! (`:error-code`, `:error-message`). The server's words are kept.

use crate::error::{Error, ErrorKind};
use crate::http::{advice_for, kind_for_status, ErrorResponse};

use super::NAME;

/// The error for a non-2xx response: by the error's type, else by status.
pub(crate) fn classify(failure: ErrorResponse, model: &str) -> Error {
    let error_type = failure.body.kind.clone().unwrap_or_default();
    let (kind, advice) = match error_type.as_str() {
        "ResourceNotFoundException" => (
            ErrorKind::ModelNotFound,
            format!(
                "Check the model id '{model}' (e.g. anthropic.claude-3-5-haiku-20241022-v1:0, or an inference profile such as us.anthropic.…) and that it is offered in your region"
            ),
        ),
        "AccessDeniedException" => (
            ErrorKind::Auth,
            "The credentials may not call this model: check the IAM policy (bedrock:InvokeModelWithResponseStream) and the model's access in the Bedrock console".to_owned(),
        ),
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignatureException"
        | "MissingAuthenticationTokenException"
        | "ExpiredTokenException" => (
            ErrorKind::Auth,
            "The credentials were refused: check AWS_BEARER_TOKEN_BEDROCK, or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and the region".to_owned(),
        ),
        "ThrottlingException" | "TooManyRequestsException" | "ServiceQuotaExceededException" => (
            ErrorKind::RateLimited,
            advice_for(ErrorKind::RateLimited).to_owned(),
        ),
        "ValidationException" => (
            ErrorKind::InvalidRequest,
            advice_for(ErrorKind::InvalidRequest).to_owned(),
        ),
        "ModelTimeoutException" => (ErrorKind::Timeout, advice_for(ErrorKind::Timeout).to_owned()),
        "ServiceUnavailableException"
        | "InternalServerException"
        | "ModelNotReadyException"
        | "ModelErrorException" => (ErrorKind::Server, advice_for(ErrorKind::Server).to_owned()),
        _ if failure.status == 404 => (
            ErrorKind::InvalidRequest,
            "This path does not exist on the server: check BEDROCK_BASE_URL (https://bedrock-runtime.REGION.amazonaws.com)".to_owned(),
        ),
        _ => {
            let kind = kind_for_status(failure.status);
            (kind, advice_for(kind).to_owned())
        }
    };
    let advice = if error_type.is_empty() {
        advice
    } else {
        format!("({error_type}) {advice}")
    };
    failure.into_error(NAME, kind, &advice)
}

/// An `exception` message inside the stream. Throttling and the server's failures are
/// retried while nothing was delivered; a request the server found invalid is not.
pub(crate) fn exception(exception_type: &str, message: Option<&str>) -> Error {
    let (kind, retryable, advice) = match exception_type {
        "throttlingException" => (
            ErrorKind::RateLimited,
            true,
            advice_for(ErrorKind::RateLimited),
        ),
        "validationException" => (
            ErrorKind::InvalidRequest,
            false,
            "Check the request (the conversation, its images and tools, the parameters)",
        ),
        // modelStreamErrorException, serviceUnavailableException,
        // internalServerException, and any newer one.
        _ => (
            ErrorKind::Server,
            true,
            "The reply is incomplete; retry the request",
        ),
    };
    let tag = if exception_type.is_empty() {
        "an exception".to_owned()
    } else {
        exception_type.to_owned()
    };
    let message = message
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("(no message)");
    Error::new(
        kind,
        format!(
            "{NAME} server error mid-stream ({tag}): {}. {advice}",
            message.trim_end_matches('.')
        ),
    )
    .with_retryable(retryable)
}

/// An `error` message inside the stream (the event-stream protocol's own).
pub(crate) fn error_message(code: Option<&str>, message: Option<&str>) -> Error {
    let code = code.filter(|c| !c.is_empty()).unwrap_or("an error");
    let message = message
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("(no message)");
    Error::new(
        ErrorKind::Server,
        format!(
            "{NAME} server error mid-stream ({code}): {}. The reply is incomplete; retry the request",
            message.trim_end_matches('.')
        ),
    )
    .with_retryable(true)
}
