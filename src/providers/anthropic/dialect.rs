//! [`Messages`]: the Messages API as a kit [`Dialect`]: the request with its headers,
//! the decoder, the Anthropic error rules and the price table.

use std::fmt;

use reqwest::header::HeaderMap;

use crate::decode::Origin;
use crate::error::{Error, ErrorKind, Result};
use crate::http::ErrorResponse;
use crate::kit::{Dialect, Framing, HttpRequest};
use crate::pricing::{PriceTable, Pricing};
use crate::request::ChatRequest;

use super::errors::classify;
use super::request;
use super::{AnthropicProvider, MessagesDecoder};

/// The API version every request names (`anthropic-version`), unless the builder's
/// headers name another.
pub(crate) const API_VERSION: &str = "2023-06-01";

/// The Messages API, streamed over SSE.
pub(crate) struct Messages {
    /// Sent as `x-api-key` when not empty.
    pub(crate) api_key: String,
    /// Extra headers, values sensitive.
    pub(crate) headers: HeaderMap,
    pub(crate) prices: PriceTable,
    /// The base URL as shown, for advice in errors.
    pub(crate) shown_base_url: String,
    /// `/v1/messages`, or `/messages` for a base URL that already ends in `/v1`.
    pub(crate) path: &'static str,
    /// `max_tokens` for a request that sets none (the API requires one).
    pub(crate) max_tokens: u32,
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages")
            .field("api_key", &"[REDACTED]")
            .field("extra_headers", &self.headers.len())
            .field("path", &self.path)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl Dialect for Messages {
    type Decoder = MessagesDecoder;

    fn name(&self) -> &str {
        AnthropicProvider::NAME
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let body = request::Request::from_chat(chat, model, self.max_tokens)?;
        let mut request = HttpRequest::post_json(self.path, &body)
            .map_err(|e| e.context("anthropic: "))?
            .header("accept", "text/event-stream")?;
        if !self.headers.contains_key("anthropic-version") {
            request = request.header("anthropic-version", API_VERSION)?;
        }
        let request = request.with_headers(&self.headers);
        if self.api_key.is_empty() {
            return Ok(request);
        }
        request.sensitive_header("x-api-key", &self.api_key).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                "anthropic: the API key contains characters not allowed in an HTTP header; check ANTHROPIC_API_KEY",
            )
        })
    }

    fn decoder(&self, origin: &Origin) -> MessagesDecoder {
        MessagesDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, model, &self.shown_base_url, self.path)
    }

    fn pricing(&self, model: &str) -> Pricing {
        self.prices.pricing(model)
    }

    fn unreachable_hint(&self) -> &str {
        "Check that the server is running and that ANTHROPIC_BASE_URL (or the base URL you set) is right"
    }
}
