//! [`GeminiDialect`]: the Gemini API as a kit [`Dialect`]: `streamGenerateContent`
//! over SSE, the decoder and Google's error rules (the key, in `x-goog-api-key`, and
//! the prices are the provider's description).

use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{
    path_segment, Api, Description, Dialect, EmbeddingApi, Framing, HttpRequest, Sealed, Setup,
};
use crate::origin::Origin;
use crate::request::ChatRequest;

use super::errors::classify;
use super::map::GeminiDecoder;
use super::request::Request;

/// The Gemini API, streamed over SSE: what [`GeminiProvider`](super::GeminiProvider)
/// speaks.
#[derive(Debug)]
pub struct GeminiDialect {
    name: &'static str,
}

/// The settings only [`GeminiProvider`](super::GeminiProvider) has: none yet.
#[derive(Debug, Clone, Default)]
pub struct GeminiSettings {}

impl Sealed for GeminiDialect {}

impl Api for GeminiDialect {
    type Settings = GeminiSettings;

    const DESCRIPTION: &'static Description = &super::DESCRIPTION;

    fn new(_settings: GeminiSettings, setup: &Setup) -> Result<GeminiDialect> {
        Ok(GeminiDialect {
            name: setup.description.name,
        })
    }

    fn embeddings(&self) -> Option<&dyn EmbeddingApi> {
        Some(self)
    }
}

impl Dialect for GeminiDialect {
    type Decoder = GeminiDecoder;

    fn name(&self) -> &str {
        self.name
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let body = Request::from_chat(chat)?;
        let path = format!(
            "/v1beta/models/{}:streamGenerateContent?alt=sse",
            path_segment(model_id(model))
        );
        HttpRequest::post_json(path, &body)
            .map_err(|e| e.context("gemini: "))?
            .header("accept", "text/event-stream")
    }

    fn decoder(&self, origin: &Origin) -> GeminiDecoder {
        GeminiDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, model)
    }
}

/// The model's id without the `models/` the API's own lists put before it.
pub(crate) fn model_id(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}
