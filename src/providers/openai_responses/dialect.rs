//! [`Responses`]: the Responses API as a kit [`Dialect`]: the request, the error rules
//! it shares with Chat Completions, and llama.cpp's schema field.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::decode::Origin;
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{Dialect, Framing, HttpRequest};
use crate::pricing::Pricing;
use crate::providers::openai::account::Account;
use crate::providers::openai::errors::classify;
use crate::request::ChatRequest;

use super::map::ResponsesDecoder;
use super::request::Request;
use super::OpenAiResponsesProvider;

/// The Responses API, streamed over SSE.
pub(crate) struct Responses {
    pub(crate) account: Account,
    /// Also send structured output as llama.cpp's top-level `json_schema`: its
    /// `/v1/responses` ignores `text.format` but holds the reply to that field with a
    /// grammar. Off for api.openai.com, which rejects unknown fields; turned off for
    /// good after any server rejects it (a 400 naming it).
    pub(crate) schema_extension: AtomicBool,
}

impl std::fmt::Debug for Responses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responses")
            .field("api_key", &"[REDACTED]")
            .field("extra_headers", &self.account.headers.len())
            .field("schema_extension", &self.schema_extension)
            .finish_non_exhaustive()
    }
}

impl Dialect for Responses {
    type Decoder = ResponsesDecoder;

    fn name(&self) -> &str {
        OpenAiResponsesProvider::NAME
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let extension = self.schema_extension.load(Ordering::Relaxed);
        let body = Request::from_chat(chat, model, extension)?;
        let request = HttpRequest::post_json("/responses", &body)
            .map_err(|e| e.context("openai-responses: "))?
            .header("accept", "text/event-stream")?;
        self.account
            .authorize(request, OpenAiResponsesProvider::NAME)
    }

    fn decoder(&self, origin: &Origin) -> ResponsesDecoder {
        ResponsesDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(
            failure,
            model,
            OpenAiResponsesProvider::NAME,
            &format!("{}/responses", self.account.shown_base_url),
        )
    }

    /// A 400 that names `json_schema` (a server that rejects fields it does not know):
    /// the provider stops sending it, and sends the request again.
    fn adapt(&self, failure: &ErrorResponse) -> bool {
        let named = failure.param() == Some("json_schema")
            || failure.message().contains("'json_schema'")
            || failure.message().contains("\"json_schema\"");
        failure.status() == 400 && named && self.schema_extension.swap(false, Ordering::Relaxed)
    }

    fn pricing(&self, model: &str) -> Pricing {
        self.account.prices.pricing(model)
    }

    fn unreachable_hint(&self) -> &str {
        "Check that the server is running and that OPENAI_BASE_URL (or the base URL you set) is right"
    }
}
