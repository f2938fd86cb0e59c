//! An OpenAI account as both OpenAI APIs (Chat Completions and Responses) use it: the
//! key, extra headers and prices, read from `OPENAI_API_KEY` and `OPENAI_BASE_URL` and
//! checked the same way, and the authorization of each request.

use reqwest::header::HeaderMap;

use crate::error::{Error, ErrorKind, Result};
use crate::http::is_loopback;
use crate::kit::{checked_headers, BaseUrl, Common, HttpRequest};
use crate::pricing::{Price, PriceTable};

/// Base URLs to suggest when one is not usable.
pub(crate) const EXAMPLE_BASE_URL: &str = "https://api.openai.com/v1 or http://localhost:8080/v1";

/// What a builder collects before it is checked.
#[derive(Default)]
pub(crate) struct AccountSettings {
    pub(crate) api_key: Option<String>,
    /// Made from the environment, where the key may be missing: `build` names the
    /// variable.
    pub(crate) from_env: bool,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) prices: Option<PriceTable>,
    pub(crate) extra_prices: Vec<(String, Price)>,
}

/// The account, checked.
pub(crate) struct Account {
    /// Sent as `Authorization: Bearer …` when not empty.
    pub(crate) api_key: String,
    /// Extra headers, values sensitive.
    pub(crate) headers: HeaderMap,
    pub(crate) prices: PriceTable,
    /// The base URL as shown, for advice in errors.
    pub(crate) shown_base_url: String,
}

impl AccountSettings {
    /// Reads `OPENAI_API_KEY` and `OPENAI_BASE_URL` through `var` into the settings and
    /// `common`.
    pub(crate) fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        common: &mut Common,
    ) -> AccountSettings {
        let mut settings = AccountSettings {
            from_env: true,
            ..AccountSettings::default()
        };
        settings.api_key = var("OPENAI_API_KEY").filter(|k| !k.trim().is_empty());
        if let Some(base) = var("OPENAI_BASE_URL").filter(|b| !b.trim().is_empty()) {
            common.base_url = Some(base);
            common.base_url_source = Some("OPENAI_BASE_URL");
        }
        settings
    }

    /// Checks the settings for `provider` and completes `common` (default base URL and
    /// model, the secrets to scrub).
    ///
    /// # Errors
    /// - `provider_unavailable` naming `OPENAI_API_KEY` for settings from the
    ///   environment without a key (unless the base URL is on this machine);
    /// - `invalid_request` for a missing key otherwise (same exception), a base URL
    ///   that is not http(s), or an invalid header.
    pub(crate) fn check(
        self,
        provider: &str,
        common: &mut Common,
        default_model: &str,
    ) -> Result<Account> {
        let api_key = self.api_key.unwrap_or_default().trim().to_owned();
        let raw_base = common
            .base_url
            .get_or_insert_with(|| super::OpenAiProvider::DEFAULT_BASE_URL.to_owned())
            .clone();
        let source = common.base_url_source.unwrap_or("the base URL");
        let base = BaseUrl::parse(&raw_base, provider, source, EXAMPLE_BASE_URL)?;
        // A server on this machine (llama.cpp, LM Studio, vLLM, Ollama's /v1) usually
        // needs no key, nor one that authenticates with the URL's user info.
        if api_key.is_empty() && base.credentials.is_none() && !is_loopback(&base.url) {
            return Err(if self.from_env {
                Error::new(
                    ErrorKind::ProviderUnavailable,
                    format!(
                        "{provider} is not configured: OPENAI_API_KEY is not set. Set it to your OpenAI API key \
                         (or point OPENAI_BASE_URL at a local OpenAI-compatible server, which needs none)"
                    ),
                )
            } else {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "{provider}: no API key for {}. Pass your API key (only servers on this machine may go without one)",
                        base.shown()
                    ),
                )
            });
        }
        let headers = checked_headers(provider, &self.headers)?;
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
            .get_or_insert_with(|| default_model.to_owned());
        Ok(Account {
            api_key,
            headers,
            prices,
            shown_base_url: base.shown(),
        })
    }
}

impl Account {
    /// `request` with the extra headers and the key.
    ///
    /// # Errors
    /// `invalid_request` for a key HTTP headers cannot carry.
    pub(crate) fn authorize(&self, request: HttpRequest, provider: &str) -> Result<HttpRequest> {
        let request = request.with_headers(&self.headers);
        if self.api_key.is_empty() {
            return Ok(request);
        }
        request.bearer_auth(&self.api_key).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("{provider}: the API key contains characters not allowed in an HTTP header; check OPENAI_API_KEY"),
            )
        })
    }
}

/// The account setters both OpenAI builders have (key, headers, prices), written once,
/// for the builder's [`AccountSettings`] at the field path given (`account`).
macro_rules! account_builder_setters {
    ($($field:ident).+) => {
        /// The API key (required, except for a server on this machine, which usually
        /// needs none).
        #[must_use]
        pub fn api_key(mut self, key: impl Into<String>) -> Self {
            self.$($field).+.api_key = Some(key.into());
            self
        }

        /// Send this header with every request (e.g. `OpenAI-Organization`, or
        /// `api-key` for Azure). Header values are never shown in `Debug` output, and
        /// are hidden from error messages like the API key.
        #[must_use]
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.$($field).+.headers.push((name.into(), value.into()));
            self
        }

        /// Replace the whole price table (default: [`PriceTable::openai`](crate::pricing::PriceTable::openai)).
        #[must_use]
        pub fn prices(mut self, table: crate::pricing::PriceTable) -> Self {
            self.$($field).+.prices = Some(table);
            self
        }

        /// Add or override the price of one model.
        #[must_use]
        pub fn price(mut self, model: impl Into<String>, price: crate::pricing::Price) -> Self {
            self.$($field).+.extra_prices.push((model.into(), price));
            self
        }
    };
}
pub(crate) use account_builder_setters;
