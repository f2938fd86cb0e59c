//! The settings only the `openai-responses` provider has, and their setters on its
//! builder (the settings every provider has are [`ProviderBuilder`]'s own).

use crate::kit::ProviderBuilder;

use super::Responses;

/// The settings only [`OpenAiResponsesProvider`](super::OpenAiResponsesProvider) has.
#[derive(Debug, Clone, Default)]
pub struct ResponsesSettings {
    pub(crate) json_schema_extension: Option<bool>,
}

impl ProviderBuilder<Responses> {
    /// Whether to also send structured output as a top-level `json_schema` field, which
    /// llama.cpp's `/v1/responses` enforces (it ignores `text.format`). By default on
    /// for every server but api.openai.com; a server that rejects the field with a 400
    /// naming it gets the request again without it, and never again.
    #[must_use]
    pub fn json_schema_extension(mut self, send: bool) -> Self {
        self.own.json_schema_extension = Some(send);
        self
    }
}
