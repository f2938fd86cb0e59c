//! [`AnthropicProviderBuilder`]: every setting of the Anthropic provider, checked by
//! `build`.

use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::http::is_loopback;
use crate::kit::{checked_headers, BaseUrl, Common};
use crate::pricing::{Price, PriceTable};
use crate::redact::redact_url;

use super::dialect::Messages;
use super::AnthropicProvider;

/// Base URLs to suggest when one is not usable.
const EXAMPLE: &str = "https://api.anthropic.com or http://localhost:8080";

/// Builds an [`AnthropicProvider`]. Errors are reported by [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// use theory_llm::anthropic::AnthropicProvider;
/// use theory_llm::LlmStreamProvider;
/// use theory_llm::pricing::Price;
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = AnthropicProvider::builder()
///     .api_key("sk-ant-example")
///     .default_model("claude-haiku-4-5")
///     .default_max_tokens(1024)
///     .header("anthropic-beta", "some-feature-2026-01-01")
///     .price("my-fine-tune", Price::per_million_usd(1.0, 5.0))
///     .idle_timeout(Duration::from_secs(30))
///     .build()?;
/// assert_eq!(llm.default_model(), "claude-haiku-4-5");
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
pub struct AnthropicProviderBuilder {
    api_key: Option<String>,
    /// Made by `builder_from_env`, where the key may be missing: `build` names the
    /// variable.
    pub(crate) from_env: bool,
    headers: Vec<(String, String)>,
    prices: Option<PriceTable>,
    extra_prices: Vec<(String, Price)>,
    max_tokens: Option<u32>,
    pub(crate) common: Common,
}

impl fmt::Debug for AnthropicProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicProviderBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.common.base_url.as_deref().map(redact_url))
            .field("default_model", &self.common.default_model)
            .field("default_max_tokens", &self.max_tokens)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl AnthropicProviderBuilder {
    /// The API key, sent as `x-api-key` (required, except for a server on this machine,
    /// which usually needs none).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The base URL (default `https://api.anthropic.com`; a trailing slash is fine).
    /// Requests go to `{base}/v1/messages`; a base that already ends in `/v1` is
    /// accepted too (`{base}/messages`).
    ///
    /// User info in it (`http://user:password@host`) is sent as HTTP Basic
    /// authentication, and its password is never shown: not in errors, `Debug` or
    /// [`AnthropicProvider::base_url`].
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.common.base_url = Some(url.into());
        self.common.base_url_source = None;
        self
    }

    /// The model used when a request names none (default `claude-haiku-5-5`).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.common.default_model = Some(model.into());
        self
    }

    /// The `max_tokens` sent when a request sets none (default
    /// [`AnthropicProvider::DEFAULT_MAX_TOKENS`], 4096): the API requires one.
    #[must_use]
    pub fn default_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Send this header with every request (e.g. `anthropic-beta`; an
    /// `anthropic-version` given here replaces the default `2023-06-01`). Header values
    /// are never shown in `Debug` output, and are hidden from error messages like the
    /// API key.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replace the whole price table (default: [`PriceTable::anthropic`]).
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
    /// - `provider_unavailable` naming `ANTHROPIC_API_KEY` for a builder from the
    ///   environment without a key (unless the base URL is on this machine);
    /// - `invalid_request` for a missing key otherwise (same exception), a base URL
    ///   that is not http(s), an invalid header, or a default `max_tokens` of 0;
    /// - `provider_unavailable` if the HTTP client cannot be built.
    pub fn build(self) -> Result<AnthropicProvider> {
        let api_key = self.api_key.unwrap_or_default().trim().to_owned();
        let mut common = self.common;
        let raw_base = common
            .base_url
            .get_or_insert_with(|| AnthropicProvider::DEFAULT_BASE_URL.to_owned())
            .clone();
        let source = common.base_url_source.unwrap_or("the base URL");
        let base = BaseUrl::parse(&raw_base, AnthropicProvider::NAME, source, EXAMPLE)?;
        // A server on this machine (llama.cpp) usually needs no key, nor one that
        // authenticates with the URL's user info.
        if api_key.is_empty() && base.credentials.is_none() && !is_loopback(&base.url) {
            return Err(if self.from_env {
                Error::new(
                    ErrorKind::ProviderUnavailable,
                    "anthropic is not configured: ANTHROPIC_API_KEY is not set. Set it to your Anthropic API key \
                     (or point ANTHROPIC_BASE_URL at a local server that speaks the Messages API, which needs none)",
                )
            } else {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "anthropic: no API key for {}. Pass your API key (only servers on this machine may go without one)",
                        base.shown()
                    ),
                )
            });
        }
        let max_tokens = self
            .max_tokens
            .unwrap_or(AnthropicProvider::DEFAULT_MAX_TOKENS);
        if max_tokens == 0 {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "anthropic: the default max_tokens is 0; the API requires at least 1",
            ));
        }
        let headers = checked_headers(AnthropicProvider::NAME, &self.headers)?;
        let mut prices = self.prices.unwrap_or_else(PriceTable::anthropic);
        for (model, price) in self.extra_prices {
            prices.insert(model, price);
        }
        common.secrets.push(api_key.clone());
        common
            .secrets
            .extend(self.headers.iter().map(|(_, value)| value.clone()));
        common
            .default_model
            .get_or_insert_with(|| AnthropicProvider::DEFAULT_MODEL.to_owned());
        let with_v1 = base.url.ends_with("/v1");
        let path = if with_v1 { "/messages" } else { "/v1/messages" };
        // Every endpoint of a pool takes the same path: give them the first one's shape.
        for more in &mut common.more_base_urls {
            let trimmed = more.trim().trim_end_matches('/');
            *more = match (with_v1, trimmed.strip_suffix("/v1")) {
                (true, None) => format!("{trimmed}/v1"),
                (false, Some(without)) => without.to_owned(),
                _ => trimmed.to_owned(),
            };
        }
        let dialect = Messages {
            api_key,
            headers,
            prices,
            shown_base_url: base.shown(),
            path,
            max_tokens,
        };
        let http = common.build(dialect, EXAMPLE)?;
        Ok(AnthropicProvider { http })
    }
}
