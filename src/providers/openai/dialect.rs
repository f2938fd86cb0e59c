//! [`ChatCompletions`]: the Chat Completions API as a kit [`Dialect`]: the request,
//! adapting to servers that reject an optional field, and the OpenAI error rules.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{Api, Description, Dialect, EmbeddingApi, Framing, HttpRequest, Sealed, Setup};
use crate::origin::Origin;
use crate::request::ChatRequest;

use super::builder::ChatCompletionsSettings;
use super::errors::classify;
use super::map::SseDecoder;
use super::request;

/// The Chat Completions API, streamed over SSE: what [`OpenAiProvider`](super::OpenAiProvider)
/// speaks, and every OpenAI-compatible cloud with it.
pub struct ChatCompletions {
    /// The provider's name (`openai`, or a named compatible cloud's).
    pub(super) name: &'static str,
    /// The base URL as shown, for advice in errors.
    pub(super) shown_base_url: String,
    /// Where the key comes from, for advice in errors.
    pub(super) key_var: &'static str,
    /// Send `stream_options.include_usage`. Turned off for good after a server
    /// rejected it (400 naming `stream_options`).
    pub(crate) stream_options: AtomicBool,
    /// Send `max_completion_tokens` instead of `max_tokens` (learned from a 400).
    pub(crate) max_completion_tokens: AtomicBool,
    /// Ask for embeddings as base64. Turned off for good after a server rejected it
    /// (400 naming `encoding_format`).
    pub(crate) base64_embeddings: AtomicBool,
}

impl std::fmt::Debug for ChatCompletions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatCompletions")
            .field("stream_options", &self.stream_options)
            .field("max_completion_tokens", &self.max_completion_tokens)
            .field("base64_embeddings", &self.base64_embeddings)
            .finish_non_exhaustive()
    }
}

impl Sealed for ChatCompletions {}

impl Api for ChatCompletions {
    type Settings = ChatCompletionsSettings;

    const DESCRIPTION: &'static Description = &super::DESCRIPTION;

    fn new(settings: ChatCompletionsSettings, setup: &Setup) -> Result<ChatCompletions> {
        Ok(ChatCompletions {
            name: setup.description.name,
            shown_base_url: setup.shown_base_url.clone(),
            key_var: setup
                .description
                .key_vars
                .first()
                .copied()
                .unwrap_or("the API key"),
            stream_options: AtomicBool::new(settings.stream_options.unwrap_or(true)),
            max_completion_tokens: AtomicBool::new(false),
            base64_embeddings: AtomicBool::new(true),
        })
    }

    fn embeddings(&self) -> Option<&dyn EmbeddingApi> {
        Some(self)
    }
}

impl Dialect for ChatCompletions {
    type Decoder = SseDecoder;

    fn name(&self) -> &str {
        self.name
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
        HttpRequest::post_json("/chat/completions", &body)
            .map_err(|e| e.context(&format!("{}: ", self.name)))?
            .header("accept", "text/event-stream")
    }

    fn decoder(&self, origin: &Origin) -> SseDecoder {
        SseDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(
            failure,
            model,
            self.name,
            &format!("{}/chat/completions", self.shown_base_url),
            self.key_var,
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
}
