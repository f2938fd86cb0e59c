//! [`ApiChat`]: Ollama's `/api/chat` as a kit [`Dialect`]: the request with its
//! `options` and `keep_alive`, NDJSON replies, Ollama's error rules. Free to use.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::http::ErrorResponse;
use crate::kit::{Api, Description, Dialect, EmbeddingApi, Framing, HttpRequest, Sealed, Setup};
use crate::origin::Origin;
use crate::pricing::Pricing;
use crate::request::ChatRequest;

use super::builder::ApiChatSettings;
use super::errors::classify;
use super::host::parse_host;
use super::keep_alive::KeepAlive;
use super::map::LineDecoder;
use super::request;
use super::OllamaProvider;

/// Ollama's native chat API: what [`OllamaProvider`](super::OllamaProvider) speaks.
#[derive(Debug)]
pub struct ApiChat {
    /// The server's URL, normalized, for advice in errors.
    pub(crate) host: String,
    /// `keep_alive` as sent: seconds (a number) or a Go duration string.
    pub(crate) keep_alive: Option<Value>,
    /// Extra entries under `options`.
    pub(crate) options: BTreeMap<String, Value>,
}

impl Sealed for ApiChat {}

impl Api for ApiChat {
    type Settings = ApiChatSettings;

    const DESCRIPTION: &'static Description = &super::DESCRIPTION;

    /// Read as the `ollama` CLI reads `OLLAMA_HOST` (see `host.rs`).
    fn base_url(raw: &str, source: &str) -> Result<String> {
        parse_host(raw, source)
    }

    fn new(settings: ApiChatSettings, setup: &Setup) -> Result<ApiChat> {
        let keep_alive = settings
            .keep_alive
            .as_ref()
            .map(KeepAlive::to_wire)
            .transpose()?;
        if settings.options.keys().any(|k| k.trim().is_empty()) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "ollama: an option has an empty name. Use Ollama's option names, e.g. num_ctx or top_k",
            ));
        }
        Ok(ApiChat {
            host: setup.shown_base_url.clone(),
            keep_alive,
            options: settings.options,
        })
    }

    fn embeddings(&self) -> Option<&dyn EmbeddingApi> {
        Some(self)
    }
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
}
