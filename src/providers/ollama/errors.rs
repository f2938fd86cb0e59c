//! What Ollama's errors mean: a failure status (a model not pulled, a busy server), and
//! an error inside a 200 reply.

use crate::error::{Error, ErrorKind};
use crate::http::{advice_for, kind_for_status, ErrorBody, ErrorResponse};

use super::OllamaProvider;

/// The error for a non-2xx response (before any line of the reply): status → kind,
/// keeping Ollama's words. `model` is the model requested, for chats.
pub(crate) fn classify(failure: ErrorResponse, model: Option<&str>, host: &str) -> Error {
    let msg = failure.body.message.to_ascii_lowercase();
    match (failure.status, model) {
        // Ollama's wording varies across versions: `model 'x' not found, try pulling it
        // first`, `model "x" not found, try pulling it first`, `model 'x' not found`.
        (404, Some(model)) if msg.contains("not found") && msg.contains("model") => Error::new(
            ErrorKind::ModelNotFound,
            format!("Model '{model}' not found. Pull it with: ollama pull {model}"),
        )
        .with_status(404),
        (404, _) => failure.into_error(
            OllamaProvider::NAME,
            ErrorKind::InvalidRequest,
            &format!("{host} does not serve the Ollama API there: check OLLAMA_HOST (and its path prefix, behind a proxy)"),
        ),
        (401 | 403, _) => failure.into_error(
            OllamaProvider::NAME,
            ErrorKind::Auth,
            "This server (or a proxy in front of it) requires authorization; for Ollama cloud models run `ollama signin`",
        ),
        (503, _) => failure.into_error(
            OllamaProvider::NAME,
            ErrorKind::Server,
            "Ollama is busy (too many queued requests); retry shortly, or raise OLLAMA_NUM_PARALLEL / OLLAMA_MAX_QUEUE on the server",
        ),
        (status, _) => {
            let kind = kind_for_status(status);
            let advice = match kind {
                ErrorKind::Server => "This is Ollama's failure; its server log has details. Retry later",
                other => advice_for(other),
            };
            failure.into_error(OllamaProvider::NAME, kind, advice)
        }
    }
}

/// The message of an `error` value: a string from Ollama, but any shape is tolerated.
pub(crate) fn error_text(error: &serde_json::Value) -> String {
    ErrorBody::from_json(&serde_json::json!({ "error": error }))
        .map(|b| b.message)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "(Ollama sent no message)".to_owned())
}

/// An error Ollama reported inside a 200 reply.
pub(crate) fn midstream_error(message: &str) -> Error {
    Error::new(
        ErrorKind::Server,
        format!(
            "ollama failed mid-reply: {message}. The reply is incomplete; retry the request (the Ollama server log may say more)"
        ),
    )
    // Retried by the provider only while no content has been delivered.
    .with_retryable(true)
}
