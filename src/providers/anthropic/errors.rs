//! What the Messages API's errors mean: a failure status, and an `error` event inside a
//! stream. Bodies come as Anthropic's `{"type":"error","error":{"type","message"}}` or
//! llama.cpp's `{"error":{"code","message","type"}}`; both are read by
//! [`ErrorBody`], and the server's words are kept.

use crate::error::{Error, ErrorKind};
use crate::http::{advice_for, kind_for_status, ErrorBody, ErrorResponse};

use super::AnthropicProvider;

/// The error for a non-2xx response: by status, refined by the error's `type`.
pub(crate) fn classify(failure: ErrorResponse, model: &str, base_url: &str, path: &str) -> Error {
    let kind_name = failure.body.kind.as_deref().unwrap_or("");
    let msg = failure.body.message.to_ascii_lowercase();
    let overloaded = failure.status == 529 || kind_name == "overloaded_error";
    let (kind, advice) = match failure.status {
        _ if overloaded => (
            ErrorKind::Server,
            "Anthropic's servers are overloaded; retry later".to_owned(),
        ),
        401 => (
            ErrorKind::Auth,
            "Check ANTHROPIC_API_KEY (or the key you passed)".to_owned(),
        ),
        403 => (
            ErrorKind::Auth,
            "The key is not allowed to do this: check its permissions and the model's availability to your organization".to_owned(),
        ),
        404 if msg.contains("model") => (
            ErrorKind::ModelNotFound,
            format!("Check the model name '{model}' (e.g. {})", AnthropicProvider::DEFAULT_MODEL),
        ),
        404 => (
            ErrorKind::InvalidRequest,
            format!("{base_url}{path} does not exist on this server: check the base URL (https://api.anthropic.com, without /v1)"),
        ),
        400 if kind_name == "exceed_context_size_error" => (
            ErrorKind::InvalidRequest,
            "The conversation is longer than the model's context: shorten it".to_owned(),
        ),
        402 => (
            ErrorKind::InvalidRequest,
            "Check the account's plan and billing".to_owned(),
        ),
        status => {
            let kind = kind_for_status(status);
            (kind, advice_for(kind).to_owned())
        }
    };
    let err = failure.into_error(AnthropicProvider::NAME, kind, &advice);
    if overloaded {
        // 529 is not among the statuses the kit retries by itself.
        err.with_retryable(true)
    } else {
        err
    }
}

/// An `error` event inside the stream (after a 200), e.g. `overloaded_error`. Retried
/// by the provider only while no content has been delivered, and only when retrying may
/// help.
pub(crate) fn stream_error(value: &serde_json::Value) -> Error {
    let body = ErrorBody::from_json(&serde_json::json!({ "error": value })).unwrap_or_default();
    let kind_name = body.kind.as_deref().unwrap_or("");
    let (kind, advice, retryable) = match kind_name {
        "rate_limit_error" => (
            ErrorKind::RateLimited,
            "Wait and retry, or check your plan's limits",
            true,
        ),
        "overloaded_error" => (
            ErrorKind::Server,
            "Anthropic's servers are overloaded; retry later",
            true,
        ),
        // The request itself is at fault: sending it again will not help.
        "invalid_request_error"
        | "authentication_error"
        | "permission_error"
        | "not_found_error"
        | "billing_error"
        | "request_too_large" => (
            ErrorKind::Server,
            "The server gave up on the request; check it before sending it again",
            false,
        ),
        // api_error, timeout_error, llama.cpp's server_error, anything else.
        _ => (
            ErrorKind::Server,
            "The reply is incomplete; retry the request",
            true,
        ),
    };
    let message = if body.message.is_empty() {
        value.to_string()
    } else {
        body.message
    };
    let message = message.trim_end_matches('.');
    let tag = if kind_name.is_empty() {
        String::new()
    } else {
        format!(" ({kind_name})")
    };
    Error::new(
        kind,
        format!("anthropic server error mid-stream{tag}: {message}. {advice}"),
    )
    .with_retryable(retryable)
}
