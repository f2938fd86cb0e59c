//! What the Responses API's errors mean: a failure status is read as for Chat
//! Completions (`openai::errors`); here, an `error` event and a `failed` response.

use crate::error::{Error, ErrorKind};

use super::OpenAiResponsesProvider;

/// The error of an `error` event or a `failed` response: `{code, message}` (or `type`
/// where `code` is missing). Rate limits and server errors are retried while nothing
/// was delivered; a request the API found invalid is not.
pub(crate) fn event_error(error: &serde_json::Value) -> Error {
    let field = |name: &str| error.get(name).and_then(serde_json::Value::as_str);
    let code = field("code").or_else(|| field("type")).unwrap_or("");
    let message = field("message")
        .filter(|m| !m.is_empty())
        .map_or_else(|| error.to_string(), str::to_owned);
    let message = message.trim_end_matches('.');
    let (kind, retryable, advice) = if code.contains("quota") {
        (
            ErrorKind::RateLimited,
            false,
            "The account's quota is used up: check the plan and billing",
        )
    } else if code.contains("rate_limit") || code.contains("too_many_requests") {
        (
            ErrorKind::RateLimited,
            true,
            "Wait and retry, or check your plan's limits",
        )
    } else if code.starts_with("invalid") || code.contains("context_length") {
        (
            ErrorKind::InvalidRequest,
            false,
            "Check the request (the prompt, its images, the parameters)",
        )
    } else {
        (
            ErrorKind::Server,
            true,
            "The reply is incomplete; retry the request",
        )
    };
    let code = if code.is_empty() {
        String::new()
    } else {
        format!(" ({code})")
    };
    Error::new(
        kind,
        format!(
            "{} server error mid-stream{code}: {message}. {advice}",
            OpenAiResponsesProvider::NAME
        ),
    )
    .with_retryable(retryable)
}
