//! [`OpenAiProviderBuilder`]: every setting of the OpenAI provider, checked by `build`.

use std::fmt;
use std::sync::atomic::AtomicBool;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, ErrorKind, Result};
use crate::http::is_loopback;
use crate::kit::{BaseUrl, Common};
use crate::pricing::{Price, PriceTable};
use crate::redact::redact_url;

use super::dialect::ChatCompletions;
use super::OpenAiProvider;

/// Base URLs to suggest when one is not usable.
const EXAMPLE: &str = "https://api.openai.com/v1 or http://localhost:8080/v1";

/// Builds an [`OpenAiProvider`]. Errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct OpenAiProviderBuilder {
    api_key: Option<String>,
    /// Made by `builder_from_env`, where the key may be missing: `build` names the
    /// variable.
    pub(crate) from_env: bool,
    headers: Vec<(String, String)>,
    prices: Option<PriceTable>,
    extra_prices: Vec<(String, Price)>,
    stream_options: Option<bool>,
    pub(crate) common: Common,
}

impl fmt::Debug for OpenAiProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiProviderBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.common.base_url.as_deref().map(redact_url))
            .field("default_model", &self.common.default_model)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OpenAiProviderBuilder {
    /// The API key (required, except for a server on this machine, which usually needs none).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

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

    /// Use this HTTP client (its own timeouts, proxy and TLS settings apply; the
    /// connect timeout of this builder does not).
    ///
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: the provider's own
    /// client never follows redirects, so that the key never travels to another
    /// server, but a client passed in follows its own policy. A reply that arrives
    /// through a redirect is refused with an error, after the fact.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.common.client = Some(client);
        self
    }

    /// Send this header with every request (e.g. `OpenAI-Organization`, or `api-key`
    /// for Azure). Header values are never shown in `Debug` output, and are hidden
    /// from error messages like the API key.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replace the whole price table (default: [`PriceTable::openai`]).
    #[must_use]
    pub fn prices(mut self, table: PriceTable) -> Self {
        self.prices = Some(table);
        self
    }

    /// Add or override the price of one model.
    #[must_use]
    pub fn price(mut self, model: impl Into<String>, price: Price) -> Self {
        self.extra_prices.push((model.into(), price));
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
        let api_key = self.api_key.unwrap_or_default().trim().to_owned();
        let mut common = self.common;
        let raw_base = common
            .base_url
            .get_or_insert_with(|| OpenAiProvider::DEFAULT_BASE_URL.to_owned())
            .clone();
        let source = common.base_url_source.unwrap_or("the base URL");
        let base = BaseUrl::parse(&raw_base, OpenAiProvider::NAME, source, EXAMPLE)?;
        // A server on this machine (llama.cpp, LM Studio, vLLM, Ollama's /v1) usually
        // needs no key, nor one that authenticates with the URL's user info.
        if api_key.is_empty() && base.credentials.is_none() && !is_loopback(&base.url) {
            return Err(if self.from_env {
                Error::new(
                    ErrorKind::ProviderUnavailable,
                    "openai is not configured: OPENAI_API_KEY is not set. Set it to your OpenAI API key \
                     (or point OPENAI_BASE_URL at a local OpenAI-compatible server, which needs none)",
                )
            } else {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "openai: no API key for {}. Pass your API key (only servers on this machine may go without one)",
                        base.shown()
                    ),
                )
            });
        }
        let headers = checked_headers(&self.headers)?;
        let mut prices = self.prices.unwrap_or_else(PriceTable::openai);
        for (model, price) in self.extra_prices {
            prices.insert(model, price);
        }
        common.secrets.push(api_key.clone());
        common
            .secrets
            .extend(self.headers.iter().map(|(_, value)| value.clone()));
        common
            .default_model
            .get_or_insert_with(|| OpenAiProvider::DEFAULT_MODEL.to_owned());
        let dialect = ChatCompletions {
            api_key,
            headers,
            prices,
            shown_base_url: base.shown(),
            stream_options: AtomicBool::new(self.stream_options.unwrap_or(true)),
            max_completion_tokens: AtomicBool::new(false),
        };
        let http = common.build(dialect, EXAMPLE)?;
        Ok(OpenAiProvider { http })
    }
}

/// The extra headers, checked, their values sensitive.
fn checked_headers(headers: &[(String, String)]) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("openai: '{name}' is not a valid HTTP header name"),
            )
        })?;
        let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("openai: the value of header '{name}' is not a valid HTTP header value"),
            )
        })?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}
