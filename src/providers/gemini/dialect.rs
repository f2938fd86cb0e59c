//! [`GeminiDialect`]: the Gemini API as a kit [`Dialect`]: `streamGenerateContent`
//! over SSE, the decoder and Google's error rules (the key, in `x-goog-api-key`, and
//! the prices are the provider's description).

use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{Api, Description, Dialect, Framing, HttpRequest, Sealed, Setup};
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

/// `text` as one path segment: every byte but the unreserved ones (`A-Z a-z 0-9 - . _
/// ~`) percent-encoded, so that no model name can add a segment, a query or a colon.
pub(crate) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
