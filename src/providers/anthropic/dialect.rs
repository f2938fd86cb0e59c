//! [`Messages`]: the Messages API as a kit [`Dialect`]: the request, the decoder and the
//! Anthropic error rules; and what the generic builder needs to make it ([`Api`]).

use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::http::ErrorResponse;
use crate::kit::{Api, Description, Dialect, Framing, HttpRequest, Sealed, Setup};
use crate::origin::Origin;
use crate::request::ChatRequest;

use super::builder::MessagesSettings;
use super::errors::classify;
use super::map::MessagesDecoder;
use super::request;
use super::AnthropicProvider;

/// Where requests go, after the base URL: a base URL given with `/v1` has it taken off
/// (see [`Api::base_url`]), so that every endpoint of a pool takes the same path.
const PATH: &str = "/v1/messages";

/// The Messages API, streamed over SSE: what
/// [`AnthropicProvider`](super::AnthropicProvider) speaks.
pub struct Messages {
    /// The base URL as shown, for advice in errors.
    shown_base_url: String,
    /// `max_tokens` for a request that sets none (the API requires one).
    pub(crate) max_tokens: u32,
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages")
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl Sealed for Messages {}

impl Api for Messages {
    type Settings = MessagesSettings;

    const DESCRIPTION: &'static Description = &super::DESCRIPTION;

    /// `https://api.anthropic.com/v1` is `https://api.anthropic.com`: requests go to
    /// `/v1/messages` of it either way.
    fn base_url(raw: &str, _source: &str) -> Result<String> {
        let trimmed = raw.trim().trim_end_matches('/');
        Ok(trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_owned())
    }

    fn new(settings: MessagesSettings, setup: &Setup) -> Result<Messages> {
        let max_tokens = settings
            .max_tokens
            .unwrap_or(AnthropicProvider::DEFAULT_MAX_TOKENS);
        if max_tokens == 0 {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "anthropic: the default max_tokens is 0; the API requires at least 1",
            ));
        }
        Ok(Messages {
            shown_base_url: setup.shown_base_url.clone(),
            max_tokens,
        })
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
        HttpRequest::post_json(PATH, &body)
            .map_err(|e| e.context("anthropic: "))?
            .header("accept", "text/event-stream")
    }

    fn decoder(&self, origin: &Origin) -> MessagesDecoder {
        MessagesDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(failure, model, &self.shown_base_url, PATH)
    }
}
