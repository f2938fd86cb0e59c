//! [`ChatCompletions`]: the Chat Completions API as a kit [`Dialect`]: the request,
//! adapting to servers that reject an optional field, and the OpenAI error rules.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::decode::Origin;
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{Dialect, Framing, HttpRequest};
use crate::pricing::Pricing;
use crate::request::ChatRequest;

use super::account::Account;
use super::errors::classify;
use super::map::SseDecoder;
use super::request;
use super::OpenAiProvider;

/// The Chat Completions API, streamed over SSE.
pub(crate) struct ChatCompletions {
    pub(crate) account: Account,
    /// Send `stream_options.include_usage`. Turned off for good after a server
    /// rejected it (400 naming `stream_options`).
    pub(crate) stream_options: AtomicBool,
    /// Send `max_completion_tokens` instead of `max_tokens` (learned from a 400).
    pub(crate) max_completion_tokens: AtomicBool,
}

impl std::fmt::Debug for ChatCompletions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatCompletions")
            .field("api_key", &"[REDACTED]")
            .field("extra_headers", &self.account.headers.len())
            .field("stream_options", &self.stream_options)
            .field("max_completion_tokens", &self.max_completion_tokens)
            .finish_non_exhaustive()
    }
}

impl Dialect for ChatCompletions {
    type Decoder = SseDecoder;

    fn name(&self) -> &str {
        OpenAiProvider::NAME
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let mut body = request::Request::from_chat(chat, model)?;
        if !self.stream_options.load(Ordering::Relaxed) {
            body.stream_options = None;
        }
        if self.max_completion_tokens.load(Ordering::Relaxed) {
            body.use_max_completion_tokens();
        }
        let request = HttpRequest::post_json("/chat/completions", &body)
            .map_err(|e| e.context("openai: "))?
            .header("accept", "text/event-stream")?;
        self.account.authorize(request, OpenAiProvider::NAME)
    }

    fn decoder(&self, origin: &Origin) -> SseDecoder {
        SseDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(
            failure,
            model,
            OpenAiProvider::NAME,
            &format!("{}/chat/completions", self.account.shown_base_url),
        )
    }

    /// A 400 that names `stream_options` (or `max_completion_tokens`): the server will
    /// reject it every time, so the provider remembers, and sends the request again.
    fn adapt(&self, failure: &ErrorResponse) -> bool {
        if failure.status() != 400 {
            return false;
        }
        let message = failure.message();
        let param = failure.param().unwrap_or("");
        if (message.contains("stream_options") || param == "stream_options")
            && self.stream_options.swap(false, Ordering::Relaxed)
        {
            return true;
        }
        message.contains("max_completion_tokens")
            && !self.max_completion_tokens.swap(true, Ordering::Relaxed)
    }

    fn pricing(&self, model: &str) -> Pricing {
        self.account.prices.pricing(model)
    }

    fn unreachable_hint(&self) -> &str {
        "Check that the server is running and that OPENAI_BASE_URL (or the base URL you set) is right"
    }
}
