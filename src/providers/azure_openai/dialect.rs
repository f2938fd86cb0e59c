//! [`AzureOpenAi`]: the Chat Completions dialect on Azure's paths
//! (`/openai/deployments/{deployment}/chat/completions?api-version=V`), with what Azure
//! adds to its errors: the content filter's verdict.

use crate::embed::Batch;
use crate::error::{Error, ErrorKind, Result};
use crate::http::ErrorResponse;
use crate::kit::{
    path_segment, Api, Description, Dialect, EmbeddingApi, Framing, HttpRequest, Sealed, Setup,
};
use crate::origin::Origin;
use crate::providers::openai::embed;
use crate::providers::openai::{ChatCompletions, ChatCompletionsSettings};
use crate::request::ChatRequest;

use super::builder::AzureSettings;
use super::DEFAULT_API_VERSION;

/// Azure OpenAI's Chat Completions: what
/// [`AzureOpenAiProvider`](super::AzureOpenAiProvider) speaks. The request, the stream
/// and most errors are OpenAI's; the path names the deployment and the API version.
#[derive(Debug)]
pub struct AzureOpenAi {
    chat: ChatCompletions,
    api_version: String,
}

impl Sealed for AzureOpenAi {}

impl Api for AzureOpenAi {
    type Settings = AzureSettings;
    const DESCRIPTION: &'static Description = &super::DESCRIPTION;

    /// An endpoint given with the API's own `/openai` is the resource's endpoint; none
    /// given is a provider not configured (there is no default resource).
    fn base_url(raw: &str, _source: &str) -> Result<String> {
        if raw == super::DESCRIPTION.default_base_url {
            return Err(Error::new(
                ErrorKind::ProviderUnavailable,
                "azure-openai is not configured: AZURE_OPENAI_ENDPOINT is not set. Set it to your resource's endpoint, https://NAME.openai.azure.com (or give the builder a base_url)",
            ));
        }
        let trimmed = raw.trim().trim_end_matches('/');
        Ok(trimmed
            .strip_suffix("/openai")
            .unwrap_or(trimmed)
            .to_owned())
    }

    fn settings_from_env(var: &dyn Fn(&str) -> Option<String>) -> AzureSettings {
        AzureSettings {
            api_version: var("AZURE_OPENAI_API_VERSION"),
        }
    }

    fn new(settings: AzureSettings, setup: &Setup) -> Result<AzureOpenAi> {
        let api_version = settings
            .api_version
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
        let query_safe = !api_version.is_empty()
            && api_version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !query_safe {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "azure-openai: the api-version '{api_version}' is not one: use a version such as {DEFAULT_API_VERSION} (AZURE_OPENAI_API_VERSION)"
                ),
            ));
        }
        Ok(AzureOpenAi {
            chat: ChatCompletions::new(ChatCompletionsSettings::default(), setup)?,
            api_version,
        })
    }

    fn embeddings(&self) -> Option<&dyn EmbeddingApi> {
        Some(self)
    }
}

/// Embeddings from a deployment: OpenAI's, at
/// `/openai/deployments/{deployment}/embeddings?api-version=V`.
impl EmbeddingApi for AzureOpenAi {
    fn embedding_model(&self) -> &str {
        embed::DEFAULT_MODEL
    }

    fn max_inputs(&self) -> usize {
        embed::MAX_INPUTS
    }

    fn max_chars(&self) -> Option<usize> {
        Some(embed::MAX_CHARS)
    }

    fn embed_request(
        &self,
        inputs: &[String],
        model: &str,
        dimensions: Option<u32>,
    ) -> Result<HttpRequest> {
        let mut request = self.chat.embed_request(inputs, model, dimensions)?;
        request.path = format!(
            "/openai/deployments/{}/embeddings?api-version={}",
            path_segment(model),
            self.api_version
        );
        Ok(request)
    }

    fn embed_reply(&self, body: &[u8], inputs: usize, origin: &Origin) -> Result<Batch> {
        embed::decode(body, inputs, origin)
    }

    fn embed_adapt(&self, failure: &ErrorResponse) -> bool {
        self.chat.embed_adapt(failure)
    }

    fn embed_error(&self, failure: ErrorResponse, model: &str) -> Error {
        if failure.body.code.as_deref() == Some("content_filter") {
            return content_filtered(failure);
        }
        self.chat.embed_error(failure, model)
    }
}

impl Dialect for AzureOpenAi {
    type Decoder = <ChatCompletions as Dialect>::Decoder;

    fn name(&self) -> &str {
        self.chat.name()
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let mut request = self.chat.request(chat, model)?;
        request.path = format!(
            "/openai/deployments/{}/chat/completions?api-version={}",
            path_segment(model),
            self.api_version
        );
        Ok(request)
    }

    fn decoder(&self, origin: &Origin) -> Self::Decoder {
        self.chat.decoder(origin)
    }

    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        if failure.body.code.as_deref() == Some("content_filter") {
            return content_filtered(failure);
        }
        self.chat.classify(failure, model)
    }

    fn adapt(&self, failure: &ErrorResponse) -> bool {
        self.chat.adapt(failure)
    }
}

/// A prompt Azure's content filter refused (`error.code: content_filter`): an
/// `invalid_request` error naming the categories it flagged, in the server's words.
fn content_filtered(failure: ErrorResponse) -> Error {
    let flagged: Vec<String> = failure
        .body
        .json
        .as_deref()
        .and_then(|error| error.pointer("/innererror/content_filter_result"))
        .and_then(serde_json::Value::as_object)
        .map(|results| {
            results
                .iter()
                .filter(|(_, verdict)| verdict["filtered"] == true || verdict["detected"] == true)
                .map(|(category, verdict)| match verdict["severity"].as_str() {
                    Some(severity) => format!("{category} ({severity})"),
                    None => category.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let advice = if flagged.is_empty() {
        "Azure's content filter refused the prompt: rephrase it, or review the deployment's content filter".to_owned()
    } else {
        format!(
            "Azure's content filter refused the prompt for {}: rephrase it, or review the deployment's content filter",
            flagged.join(", ")
        )
    };
    failure
        .into_error(super::DESCRIPTION.name, ErrorKind::InvalidRequest, &advice)
        .with_retryable(false)
}
