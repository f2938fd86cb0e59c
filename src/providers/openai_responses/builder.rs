//! [`OpenAiResponsesProviderBuilder`]: every setting of the Responses provider, checked
//! by `build`.

use std::fmt;
use std::sync::atomic::AtomicBool;

use crate::error::Result;
use crate::kit::Common;
use crate::providers::openai::account::{AccountSettings, EXAMPLE_BASE_URL};
use crate::redact::redact_url;

use super::dialect::Responses;
use super::OpenAiResponsesProvider;

/// Builds an [`OpenAiResponsesProvider`]. Errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct OpenAiResponsesProviderBuilder {
    pub(crate) account: AccountSettings,
    json_schema_extension: Option<bool>,
    pub(crate) common: Common,
}

impl fmt::Debug for OpenAiResponsesProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiResponsesProviderBuilder")
            .field(
                "api_key",
                &self.account.api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("base_url", &self.common.base_url.as_deref().map(redact_url))
            .field("default_model", &self.common.default_model)
            .finish_non_exhaustive()
    }
}

impl OpenAiResponsesProviderBuilder {
    /// The base URL, e.g. `http://localhost:8080/v1` (default `https://api.openai.com/v1`;
    /// a trailing slash is fine). Requests go to `{base}/responses`. User info in it is
    /// sent as HTTP Basic authentication when there is no API key, and its password is
    /// never shown.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.common.base_url = Some(url.into());
        self.common.base_url_source = None;
        self
    }

    /// The model used when a request names none (default `gpt-4o-mini`).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.common.default_model = Some(model.into());
        self
    }

    /// Whether to also send structured output as a top-level `json_schema` field, which
    /// llama.cpp's `/v1/responses` enforces (it ignores `text.format`). By default on
    /// for every server but api.openai.com; a server that rejects the field with a 400
    /// naming it gets the request again without it, and never again.
    #[must_use]
    pub fn json_schema_extension(mut self, send: bool) -> Self {
        self.json_schema_extension = Some(send);
        self
    }

    crate::providers::openai::account::account_builder_setters!(account);
    crate::kit::pool_builder_setters!(common);
    crate::kit::settings::http_builder_setters!(common.settings);

    /// The largest SSE event accepted (default 16 MiB), counted as the bytes of its lines
    /// without their line ends; a larger one is a `protocol` error.
    #[must_use]
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.common.settings.max_frame_bytes = limit;
        self
    }

    /// The provider.
    ///
    /// # Errors
    /// As [`OpenAiProviderBuilder::build`](crate::openai::OpenAiProviderBuilder::build):
    /// a missing key (`provider_unavailable` naming `OPENAI_API_KEY` from the
    /// environment), an unusable base URL or header (`invalid_request`), a client that
    /// cannot be built (`provider_unavailable`).
    pub fn build(self) -> Result<OpenAiResponsesProvider> {
        let mut common = self.common;
        let account = self.account.check(
            OpenAiResponsesProvider::NAME,
            &mut common,
            OpenAiResponsesProvider::DEFAULT_MODEL,
        )?;
        let official = is_openai_host(&account.shown_base_url);
        let dialect = Responses {
            account,
            schema_extension: AtomicBool::new(self.json_schema_extension.unwrap_or(!official)),
        };
        let http = common.build(dialect, EXAMPLE_BASE_URL)?;
        Ok(OpenAiResponsesProvider { http })
    }
}

/// Whether the base URL is OpenAI's own API, which rejects fields it does not know.
fn is_openai_host(base_url: &str) -> bool {
    reqwest::Url::parse(base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|host| host == "api.openai.com" || host.ends_with(".openai.azure.com"))
}
