//! [`OpenAiResponsesProviderBuilder`]: every setting of the Responses provider, checked
//! by `build`.

use std::fmt;
use std::sync::atomic::AtomicBool;

use crate::error::Result;
use crate::kit::Common;
use crate::pricing::{Price, PriceTable};
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
    /// The API key (required, except for a server on this machine, which usually needs none).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.account.api_key = Some(key.into());
        self
    }

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

    /// More base URLs of the same API, besides the base URL: an endpoint pool (several
    /// servers of one deployment). Each request goes to the endpoint with the fewest
    /// requests in flight; one that fails with retryable errors is skipped for a while
    /// (from 1 s, doubling up to 60 s), then tried again with one request; a request
    /// that fails before any content is retried on another endpoint.
    #[must_use]
    pub fn endpoints<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.common.more_base_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// The model used when a request names none (default `gpt-4o-mini`).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.common.default_model = Some(model.into());
        self
    }

    /// Use this HTTP client (its own timeouts, proxy and TLS settings apply). Build it
    /// with `redirect(reqwest::redirect::Policy::none())`: a reply that arrives through a
    /// redirect is refused, after the fact, so that the key never travels elsewhere.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.common.client = Some(client);
        self
    }

    /// Send this header with every request (e.g. `OpenAI-Organization`). Header values
    /// are never shown, like the API key.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.account.headers.push((name.into(), value.into()));
        self
    }

    /// Replace the whole price table (default: [`PriceTable::openai`]).
    #[must_use]
    pub fn prices(mut self, table: PriceTable) -> Self {
        self.account.prices = Some(table);
        self
    }

    /// Add or override the price of one model.
    #[must_use]
    pub fn price(mut self, model: impl Into<String>, price: Price) -> Self {
        self.account.extra_prices.push((model.into(), price));
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
