//! [`GeminiDialect`]: the Gemini API as a kit [`Dialect`]: `streamGenerateContent`
//! over SSE with the key in a header, the decoder, Google's error rules and the price
//! table.

use std::fmt;

use crate::decode::Origin;
use crate::error::{Error, ErrorKind, Result};
use crate::http::ErrorResponse;
use crate::kit::{Dialect, Framing, HttpRequest};
use crate::pricing::{PriceTable, Pricing};
use crate::request::ChatRequest;

use super::errors::classify;
use super::map::GeminiDecoder;
use super::request::Request;

/// The provider's name.
pub(crate) const NAME: &str = "gemini";

/// The Gemini API, streamed over SSE.
pub(crate) struct GeminiDialect {
    /// Sent as `x-goog-api-key` when set and not empty: never in the URL, where proxies
    /// and logs keep it.
    api_key: Option<String>,
    prices: PriceTable,
}

impl GeminiDialect {
    /// A dialect that sends `api_key` (none for a server that needs none).
    pub(crate) fn new(api_key: Option<String>) -> GeminiDialect {
        GeminiDialect {
            api_key,
            prices: PriceTable::gemini(),
        }
    }
}

impl fmt::Debug for GeminiDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.api_key.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("GeminiDialect")
            .field("api_key", &key)
            .finish_non_exhaustive()
    }
}

impl Dialect for GeminiDialect {
    type Decoder = GeminiDecoder;

    fn name(&self) -> &str {
        NAME
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
        let request = HttpRequest::post_json(path, &body)
            .map_err(|e| e.context("gemini: "))?
            .header("accept", "text/event-stream")?;
        match self.api_key.as_deref().filter(|k| !k.is_empty()) {
            None => Ok(request),
            Some(key) => request.sensitive_header("x-goog-api-key", key).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    "gemini: the API key contains characters not allowed in an HTTP header; check GEMINI_API_KEY",
                )
            }),
        }
    }

    fn decoder(&self, origin: &Origin) -> GeminiDecoder {
        GeminiDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, model)
    }

    fn pricing(&self, model: &str) -> Pricing {
        self.prices.pricing(model_id(model))
    }

    fn unreachable_hint(&self) -> &str {
        "Check that the server is running and that GEMINI_BASE_URL (or the base URL you set) is right"
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
