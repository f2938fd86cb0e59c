//! [`OpenAiProviderBuilder`]: every setting of the OpenAI provider, checked by `build`.

use std::fmt;
use std::sync::atomic::AtomicBool;

use crate::error::Result;
use crate::kit::Common;
use crate::redact::redact_url;

use super::account::{AccountSettings, EXAMPLE_BASE_URL};
use super::dialect::ChatCompletions;
use super::OpenAiProvider;

/// Builds an [`OpenAiProvider`]. Errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct OpenAiProviderBuilder {
    pub(crate) account: AccountSettings,
    stream_options: Option<bool>,
    pub(crate) common: Common,
}

impl fmt::Debug for OpenAiProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiProviderBuilder")
            .field(
                "api_key",
                &self.account.api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("base_url", &self.common.base_url.as_deref().map(redact_url))
            .field("default_model", &self.common.default_model)
            .field(
                "headers",
                &self
                    .account
                    .headers
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OpenAiProviderBuilder {
    /// The base URL, e.g. `http://localhost:8080/v1` (default `https://api.openai.com/v1`;
    /// a trailing slash is fine). Requests go to `{base}/chat/completions`.
    ///
    /// User info in it (`http://user:password@host/v1`) is sent as HTTP Basic
    /// authentication when there is no API key (a key wins), and its password is never
    /// shown: not in errors, `Debug` or [`OpenAiProvider::base_url`].
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

    /// Whether to send `stream_options: {"include_usage": true}` (default `true`). Some
    /// compatible servers reject it; the provider also turns it off by itself after a
    /// 400 that names it, retrying once.
    #[must_use]
    pub fn stream_options(mut self, send: bool) -> Self {
        self.stream_options = Some(send);
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
    /// - `provider_unavailable` naming `OPENAI_API_KEY` for a builder from the
    ///   environment without a key (unless the base URL is on this machine);
    /// - `invalid_request` for a missing key otherwise (same exception), a base URL
    ///   that is not http(s), or an invalid header;
    /// - `provider_unavailable` if the HTTP client cannot be built.
    pub fn build(self) -> Result<OpenAiProvider> {
        let mut common = self.common;
        let account = self.account.check(
            OpenAiProvider::NAME,
            &mut common,
            OpenAiProvider::DEFAULT_MODEL,
        )?;
        let dialect = ChatCompletions {
            account,
            stream_options: AtomicBool::new(self.stream_options.unwrap_or(true)),
            max_completion_tokens: AtomicBool::new(false),
        };
        let http = common.build(dialect, EXAMPLE_BASE_URL)?;
        Ok(OpenAiProvider { http })
    }
}
