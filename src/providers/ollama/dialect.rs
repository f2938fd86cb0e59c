//! [`ApiChat`]: Ollama's `/api/chat` as a kit [`Dialect`]: the request with its
//! `options` and `keep_alive`, NDJSON replies, Ollama's error rules. Free to use.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::decode::Origin;
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{Dialect, Framing, HttpRequest};
use crate::pricing::Pricing;
use crate::request::ChatRequest;

use super::errors::classify;
use super::map::LineDecoder;
use super::request;
use super::OllamaProvider;

/// Ollama's native chat API.
#[derive(Debug)]
pub(crate) struct ApiChat {
    /// The server's URL, normalized, for advice in errors.
    pub(crate) host: String,
    /// `keep_alive` as sent: seconds (a number) or a Go duration string.
    pub(crate) keep_alive: Option<Value>,
    /// Extra entries under `options`.
    pub(crate) options: BTreeMap<String, Value>,
}

impl Dialect for ApiChat {
    type Decoder = LineDecoder;

    fn name(&self) -> &str {
        OllamaProvider::NAME
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let body = request::Chat::new(chat, model, self.keep_alive.as_ref(), &self.options)
            .map_err(|e| e.context("ollama: "))?;
        HttpRequest::post_json("/api/chat", &body)
            .map_err(|e| {
                e.context("ollama: ")
                    .suffix(". Check the values passed to OllamaProviderBuilder::option")
            })?
            .header("accept", "application/x-ndjson")
    }

    fn decoder(&self, origin: &Origin) -> LineDecoder {
        LineDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, Some(model), &self.host)
    }

    fn pricing(&self, _model: &str) -> Pricing {
        Pricing::Free
    }

    fn unreachable_hint(&self) -> &str {
        "Is Ollama running? Start it with `ollama serve` (or open the Ollama app), \
         or set OLLAMA_HOST to where it listens"
    }
}
