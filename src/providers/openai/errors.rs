//! What OpenAI-compatible servers' errors mean: a failure status, and an error event
//! inside a stream.

use crate::error::{Error, ErrorKind};
use crate::http::{advice_for, kind_for_status, ErrorBody, ErrorResponse};

/// The error for a non-2xx response from `endpoint` (the URL as shown): status → kind,
/// keeping the server's words. For both OpenAI APIs and every compatible provider, named
/// `provider`, whose key comes from `key_var`.
pub(crate) fn classify(
    failure: ErrorResponse,
    model: &str,
    provider: &str,
    endpoint: &str,
    key_var: &str,
) -> Error {
    let base_url = endpoint.rsplit_once('/').map_or(endpoint, |(base, _)| base);
    let code = failure.body.code.as_deref().unwrap_or("");
    let kind_name = failure.body.kind.as_deref().unwrap_or("");
    let msg = failure.body.message.to_ascii_lowercase();
    let (kind, advice) = match failure.status {
        401 | 403 => (ErrorKind::Auth, format!("Check {key_var} (or the key you passed) and its permissions")),
        404 if code == "model_not_found"
            || msg.contains("does not exist")
            || (msg.contains("model") && msg.contains("not found")) =>
        {
            (
                ErrorKind::ModelNotFound,
                format!("Check the model name '{model}'; GET {base_url}/models lists the models this server has"),
            )
        }
        404 => (
            ErrorKind::InvalidRequest,
            format!("{endpoint} does not exist on this server: check the base URL (it usually ends in /v1)"),
        ),
        429 if code == "insufficient_quota" || kind_name == "insufficient_quota" => {
            let advice = "The account's quota is used up: check the plan and billing (retrying will not help)";
            // Not retryable, unlike other 429s.
            return failure
                .into_error(provider, ErrorKind::RateLimited, advice)
                .with_retryable(false);
        }
        status => {
            let kind = kind_for_status(status);
            (kind, advice_for(kind).to_owned())
        }
    };
    failure.into_error(provider, kind, &advice)
}

/// An error event inside the stream (OpenAI and llama.cpp send these after a 200), for
/// the provider named `provider`.
pub(crate) fn stream_error(value: &serde_json::Value, provider: &str) -> Error {
    let body = ErrorBody::from_json(&serde_json::json!({ "error": value })).unwrap_or_default();
    let tag = format!(
        "{} {}",
        body.code.as_deref().unwrap_or(""),
        body.kind.as_deref().unwrap_or("")
    );
    let quota_gone = tag.contains("insufficient_quota");
    let limited = quota_gone || tag.contains("rate_limit") || tag.contains("429");
    let (kind, advice) = if quota_gone {
        (
            ErrorKind::RateLimited,
            "The account's quota is used up: check the plan and billing",
        )
    } else if limited {
        (
            ErrorKind::RateLimited,
            "Wait and retry, or check your plan's limits",
        )
    } else {
        (
            ErrorKind::Server,
            "The reply is incomplete; retry the request",
        )
    };
    let message = if body.message.is_empty() {
        value.to_string()
    } else {
        body.message
    };
    // Retried by the provider only while no content has been delivered.
    let message = message.trim_end_matches('.');
    Error::new(
        kind,
        format!("{provider} server error mid-stream: {message}. {advice}"),
    )
    .with_retryable(!quota_gone)
}
