//! [`Responses`]: the Responses API as a kit [`Dialect`]: the request, the error rules
//! it shares with Chat Completions, and llama.cpp's schema field.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::kit::{Api, Description, Dialect, Framing, HttpRequest, Sealed, Setup};
use crate::origin::Origin;
use crate::providers::openai::errors::classify;
use crate::request::ChatRequest;

use super::builder::ResponsesSettings;
use super::map::ResponsesDecoder;
use super::request::Request;

/// The Responses API, streamed over SSE: what
/// [`OpenAiResponsesProvider`](super::OpenAiResponsesProvider) speaks.
pub struct Responses {
    name: &'static str,
    /// The base URL as shown, for advice in errors.
    shown_base_url: String,
    /// Also send structured output as llama.cpp's top-level `json_schema`: its
    /// `/v1/responses` ignores `text.format` but holds the reply to that field with a
    /// grammar. Off for api.openai.com, which rejects unknown fields; turned off for
    /// good after any server rejects it (a 400 naming it).
    pub(crate) schema_extension: AtomicBool,
}

impl std::fmt::Debug for Responses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responses")
            .field("json_schema_extension", &self.schema_extension)
            .finish_non_exhaustive()
    }
}

impl Sealed for Responses {}

impl Api for Responses {
    type Settings = ResponsesSettings;

    const DESCRIPTION: &'static Description = &super::DESCRIPTION;

    fn new(settings: ResponsesSettings, setup: &Setup) -> Result<Responses> {
        let official = is_openai_host(&setup.base_url);
        let extension = settings.json_schema_extension.unwrap_or(!official);
        Ok(Responses {
            name: setup.description.name,
            shown_base_url: setup.shown_base_url.clone(),
            schema_extension: AtomicBool::new(extension),
        })
    }
}

/// Whether the base URL is OpenAI's own API, which rejects fields it does not know.
fn is_openai_host(base_url: &str) -> bool {
    reqwest::Url::parse(base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|host| host == "api.openai.com" || host.ends_with(".openai.azure.com"))
}

impl Dialect for Responses {
    type Decoder = ResponsesDecoder;

    fn name(&self) -> &str {
        self.name
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let extension = self.schema_extension.load(Ordering::Relaxed);
        let body = Request::from_chat(chat, model, extension)?;
        HttpRequest::post_json("/responses", &body)
            .map_err(|e| e.context(&format!("{}: ", self.name)))?
            .header("accept", "text/event-stream")
    }

    fn decoder(&self, origin: &Origin) -> ResponsesDecoder {
        ResponsesDecoder::new(origin.clone())
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        classify(
            failure,
            model,
            self.name,
            &format!("{}/responses", self.shown_base_url),
            "OPENAI_API_KEY",
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
}
