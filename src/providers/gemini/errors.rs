//! What the Gemini API's errors mean. A failure status comes with Google's error body,
//! `{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "...", "details":
//! [...]}}`; the same object may arrive inside a 200 stream. The canonical `status`
//! says what went wrong more surely than the HTTP status (a bad API key is a 400
//! `INVALID_ARGUMENT` whose details say `API_KEY_INVALID`), and `details` may hold a
//! `RetryInfo` whose `retryDelay` ("17s") is honoured as `Retry-After` is. The server's
//! words are kept.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::http::{advice_for, kind_for_status, ErrorBody, ErrorResponse};

use super::NAME;

/// The error for a non-2xx response.
pub(crate) fn classify(mut failure: ErrorResponse, model: &str) -> Error {
    let error = failure.body.json.as_deref();
    let status = google_status(error).unwrap_or_default();
    if failure.retry_after.is_none() {
        failure.retry_after = error.and_then(retry_delay);
    }
    let message = failure.body.message.to_ascii_lowercase();
    let (kind, advice) = match (status, failure.status) {
        _ if has_reason(error, "API_KEY_INVALID") || message.contains("api key not valid") => (
            ErrorKind::Auth,
            "The API key was refused: check GEMINI_API_KEY (or the key you passed)".to_owned(),
        ),
        ("UNAUTHENTICATED", _) | (_, 401) => (
            ErrorKind::Auth,
            "Check GEMINI_API_KEY (or the key you passed)".to_owned(),
        ),
        ("PERMISSION_DENIED", _) | (_, 403) => (
            ErrorKind::Auth,
            "The key is not allowed to do this: check its project, its API restrictions and the model's availability".to_owned(),
        ),
        ("NOT_FOUND", _) => (ErrorKind::ModelNotFound, model_advice(model)),
        (_, 404) if message.contains("model") => (ErrorKind::ModelNotFound, model_advice(model)),
        (_, 404) => (
            ErrorKind::InvalidRequest,
            "This path does not exist on the server: check the base URL (https://generativelanguage.googleapis.com, without /v1beta)".to_owned(),
        ),
        ("RESOURCE_EXHAUSTED", _) | (_, 429) => (
            ErrorKind::RateLimited,
            advice_for(ErrorKind::RateLimited).to_owned(),
        ),
        ("INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE", _) => (
            ErrorKind::InvalidRequest,
            advice_for(ErrorKind::InvalidRequest).to_owned(),
        ),
        ("UNAVAILABLE" | "INTERNAL" | "DEADLINE_EXCEEDED" | "UNKNOWN", _) => {
            (ErrorKind::Server, advice_for(ErrorKind::Server).to_owned())
        }
        (_, http) => {
            let kind = kind_for_status(http);
            (kind, advice_for(kind).to_owned())
        }
    };
    let advice = if status.is_empty() {
        advice
    } else {
        format!("({status}) {advice}")
    };
    failure.into_error(NAME, kind, &advice)
}

fn model_advice(model: &str) -> String {
    format!("Check the model name '{model}' (e.g. gemini-2.5-flash; the API lists them at /v1beta/models)")
}

/// An error object inside a 200 stream. Rate limits and server failures are retried
/// while nothing was delivered; a request the server found invalid is not.
pub(crate) fn stream_error(error: &Value) -> Error {
    let body = ErrorBody::from_json(&serde_json::json!({ "error": error })).unwrap_or_default();
    let status = google_status(Some(error)).unwrap_or_default();
    // Without a status, the HTTP code the object gives says the same.
    let canonical = match (status, error.get("code").and_then(Value::as_u64)) {
        ("", Some(429)) => "RESOURCE_EXHAUSTED",
        ("", Some(400)) => "INVALID_ARGUMENT",
        ("", Some(401 | 403 | 404)) => "PERMISSION_DENIED",
        (status, _) => status,
    };
    let (kind, retryable, advice) = match canonical {
        "RESOURCE_EXHAUSTED" => (
            ErrorKind::RateLimited,
            true,
            advice_for(ErrorKind::RateLimited),
        ),
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => (
            ErrorKind::InvalidRequest,
            false,
            "Check the request (the prompt, its images, the parameters)",
        ),
        // The server gave up for a reason a retry cannot change.
        "UNAUTHENTICATED" | "PERMISSION_DENIED" | "NOT_FOUND" | "ALREADY_EXISTS"
        | "UNIMPLEMENTED" | "CANCELLED" => (
            ErrorKind::Server,
            false,
            "The server gave up on the request; check it before sending it again",
        ),
        // UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED, UNKNOWN, ABORTED, none.
        _ => (
            ErrorKind::Server,
            true,
            "The reply is incomplete; retry the request",
        ),
    };
    let message = if body.message.is_empty() {
        error.to_string()
    } else {
        body.message
    };
    let tag = if status.is_empty() {
        String::new()
    } else {
        format!(" ({status})")
    };
    let mut err = Error::new(
        kind,
        format!(
            "{NAME} server error mid-stream{tag}: {}. {advice}",
            message.trim_end_matches('.')
        ),
    )
    .with_retryable(retryable);
    if let Some(delay) = retry_delay(error) {
        err = err.with_retry_after(delay);
    }
    err
}

/// The canonical status (`RESOURCE_EXHAUSTED`) of an error object.
fn google_status(error: Option<&Value>) -> Option<&str> {
    error?.get("status")?.as_str().filter(|s| !s.is_empty())
}

/// The error's `details`, each an object with its `@type`.
fn details(error: &Value) -> impl Iterator<Item = &Value> {
    error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Whether an `ErrorInfo` of the details gives `reason`.
fn has_reason(error: Option<&Value>, reason: &str) -> bool {
    error.is_some_and(|error| {
        details(error).any(|d| d.get("reason").and_then(Value::as_str) == Some(reason))
    })
}

/// The `retryDelay` of a `RetryInfo` in the details: a protobuf duration, seconds with
/// an `s` ("17s", "1.5s"). Read by the rules of `Retry-After`: a wait that is not sane
/// is "longer than anyone will wait", and one that is not a number is ignored.
pub(crate) fn retry_delay(error: &Value) -> Option<Duration> {
    details(error)
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("RetryInfo"))
        })
        .find_map(|d| {
            let seconds = d.get("retryDelay")?.as_str()?.trim().strip_suffix('s')?;
            seconds.parse::<f64>().ok()?;
            crate::http::parse_retry_after(None, Some(seconds.as_bytes()), SystemTime::now())
        })
}
