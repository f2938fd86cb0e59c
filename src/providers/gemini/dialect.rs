//! [`GeminiDialect`]: the Gemini API as a kit [`Dialect`]: `streamGenerateContent`
//! over SSE, the decoder and Google's error rules (the key, in `x-goog-api-key`, and
//! the prices are the provider's description).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{path_segment, Api, Description, Dialect, Framing, HttpRequest, Sealed, Setup};
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
    /// Send `toolConfig` inside `generationConfig`: learned from a server that refused
    /// the top-level field (422 naming `toolConfig`).
    nest_tool_config: AtomicBool,
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
            nest_tool_config: AtomicBool::new(false),
        })
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
        let mut body = Request::from_chat(chat)?;
        if self.nest_tool_config.load(Ordering::Relaxed) {
            body.nest_tool_config();
        }
        let path = format!(
            "/v1beta/models/{}:streamGenerateContent?alt=sse",
            path_segment(model_id(model))
        );
        HttpRequest::post_json(path, &body)
            .map_err(|e| e.context("gemini: "))?
            .header("accept", "text/event-stream")
    }

    /// A validation error (422) that names `toolConfig` as a field the server does not
    /// take: it reads the tool config from `generationConfig` (api-for-gemini, whose
    /// validation errors are FastAPI's); sent again so, from now on. Google's own API
    /// answers 400 and names fields in snake_case, so it never takes this path.
    fn adapt(&self, failure: &ErrorResponse) -> bool {
        let named = failure.message().contains("toolConfig");
        failure.status() == 422 && named && !self.nest_tool_config.swap(true, Ordering::Relaxed)
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
