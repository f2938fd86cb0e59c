//! [`ProviderBuilder`]: the one builder of every built-in HTTP provider. The settings
//! every provider has are here, with the same names for all (`base_url`, `endpoints`,
//! `api_key`, `max_frame_bytes`, …); a provider's own are methods on its instance
//! (`ProviderBuilder<Messages>::default_max_tokens`). The key rule and the base URL
//! parsing are written once, here and in [`Common`].

use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::http::is_loopback;
use crate::pricing::{Price, PriceTable};
use crate::redact::redact_url;

use super::api::{Api, Builtin, Description, Setup};
use super::auth::{Auth, KeyHeader};
use super::builder::Common;
use super::builtin::Provider;
use super::headers::checked_headers;

/// Builds a built-in provider ([`OpenAiProvider`](crate::OpenAiProvider),
/// [`AnthropicProvider`](crate::AnthropicProvider), …). Errors are reported by
/// [`build`](Self::build). Every built-in provider has these setters; its own are
/// listed with its type.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::pricing::Price;
/// use theory_llm::{LlmStreamProvider, OpenAiProvider};
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = OpenAiProvider::builder()
///     .api_key("sk-example")
///     .base_url("http://127.0.0.1:8080/v1")
///     .endpoints(["http://127.0.0.1:8081/v1"]) // a pool of two servers
///     .default_model("smollm2")
///     .header("OpenAI-Organization", "org-example")
///     .price("smollm2", Price::per_million_usd(0.1, 0.2))
///     .idle_timeout(Duration::from_secs(30))
///     .build()?;
/// assert_eq!(llm.base_urls(), ["http://127.0.0.1:8080/v1", "http://127.0.0.1:8081/v1"]);
/// # Ok(())
/// # }
/// ```
pub struct ProviderBuilder<A: Api> {
    description: &'static Description,
    pub(crate) common: Common,
    pub(crate) api_key: Option<String>,
    /// How the key is sent when not as the description says, and where it came from
    /// (for messages): set by a credential of another kind (Azure's AD token).
    pub(crate) key_as: Option<(KeyHeader, &'static str)>,
    /// The builder was made from the environment: a missing key names its variable.
    from_env: bool,
    headers: Vec<(String, String)>,
    prices: Option<PriceTable>,
    extra_prices: Vec<(String, Price)>,
    /// The provider's own settings.
    pub(crate) own: A::Settings,
}

impl<A: Api> fmt::Debug for ProviderBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(&format!("{}Builder", self.description.type_name))
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.common.base_url.as_deref().map(redact_url))
            .field(
                "endpoints",
                &self
                    .common
                    .more_base_urls
                    .iter()
                    .map(|u| redact_url(u))
                    .collect::<Vec<_>>(),
            )
            .field("default_model", &self.common.default_model)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("own", &self.own)
            .field("settings", &self.common.settings)
            .finish_non_exhaustive()
    }
}

impl<A: Api> Default for ProviderBuilder<A> {
    fn default() -> Self {
        ProviderBuilder::described(A::DESCRIPTION)
    }
}

impl<A: Api> ProviderBuilder<A> {
    /// A builder for the provider `description` describes (its defaults until set).
    pub(crate) fn described(description: &'static Description) -> ProviderBuilder<A> {
        ProviderBuilder {
            description,
            common: Common::default(),
            api_key: None,
            key_as: None,
            from_env: false,
            headers: Vec::new(),
            prices: None,
            extra_prices: Vec::new(),
            own: A::Settings::default(),
        }
    }

    /// A builder preset from the environment variables `description` names, read
    /// through `var`: the first set key variable and base URL variable.
    pub(crate) fn from_lookup(
        description: &'static Description,
        var: impl Fn(&str) -> Option<String>,
    ) -> ProviderBuilder<A> {
        let mut builder = ProviderBuilder::described(description);
        builder.from_env = true;
        let set = |name: &&str| var(name).filter(|v| !v.trim().is_empty());
        builder.api_key = description.key_vars.iter().find_map(&set);
        if builder.api_key.is_none() {
            if let Some((name, header, key)) = description
                .other_keys
                .iter()
                .find_map(|(name, header)| set(name).map(|key| (*name, *header, key)))
            {
                builder.api_key = Some(key);
                builder.key_as = Some((header, name));
            }
        }
        builder.own = A::settings_from_env(&|name| var(name).filter(|v| !v.trim().is_empty()));
        if let Some((name, base)) = description
            .base_url_vars
            .iter()
            .find_map(|name| set(name).map(|value| (*name, value)))
        {
            builder.common.base_url = Some(base);
            builder.common.base_url_source = Some(name);
        }
        builder
    }

    /// The base URL (a trailing slash is fine), or the provider's default. User info in
    /// it (`http://user:password@host/v1`) is sent as HTTP Basic authentication when no
    /// API key is, and its password is never shown: not in errors, `Debug` or
    /// `base_url()`.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.common.base_url = Some(url.into());
        self.common.base_url_source = None;
        self
    }

    /// More base URLs of the same API, besides the base URL: an endpoint pool (several
    /// servers of one deployment). Each request goes to the endpoint with the fewest
    /// requests in flight; one that fails with retryable errors is skipped for a while
    /// (from 1 s, doubling up to 60 s), then tried again with one request; a request that
    /// fails before any content is retried on another endpoint.
    #[must_use]
    pub fn endpoints<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.common.more_base_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// The model used when a request names none (default: the provider's).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.common.default_model = Some(model.into());
        self
    }

    /// The model [embeddings](crate::embed) use when a request names none (default:
    /// the API's, e.g. `text-embedding-3-small` for OpenAI). Providers without
    /// embeddings ignore it.
    #[must_use]
    pub fn default_embedding_model(mut self, model: impl Into<String>) -> Self {
        self.common.embedding_model = Some(model.into());
        self
    }

    /// The API key (required by hosted APIs; a server on this machine usually needs
    /// none). It is never shown in `Debug`, logs or errors.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self.key_as = None;
        self
    }

    /// Send this header with every request (`OpenAI-Organization`, `anthropic-beta`,
    /// a gateway's own key; one of a default header's name replaces it). Header values
    /// are never shown in `Debug` output, and are hidden from error messages like the
    /// API key.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replace the whole price table (default: the provider's, from the built-in table).
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

    /// Use this HTTP client (its own timeouts, proxy and TLS settings apply; the
    /// connect timeout of this builder does not).
    ///
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: the provider's own
    /// client never follows redirects, so that the key never travels to another server,
    /// but a client passed in follows its own policy. A reply that arrives through a
    /// redirect is refused with an error, after the fact.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.common.client = Some(client);
        self
    }

    crate::kit::settings::http_builder_setters!(common.settings);

    /// The largest frame accepted (an SSE event, counted as the bytes of its lines
    /// without their line ends; an NDJSON line without its line end; an AWS event-stream
    /// message, whole), default 16 MiB; a larger one is a `protocol` error.
    #[must_use]
    pub fn max_frame_bytes(mut self, limit: usize) -> Self {
        self.common.settings.max_frame_bytes = limit;
        self
    }

    /// The largest SSE event accepted: [`max_frame_bytes`](Self::max_frame_bytes), by
    /// the name the SSE providers' builders gave it before every provider's setters
    /// agreed.
    #[deprecated(
        since = "0.2.0",
        note = "use max_frame_bytes, which every provider has"
    )]
    #[must_use]
    pub fn max_event_bytes(self, limit: usize) -> Self {
        self.max_frame_bytes(limit)
    }

    /// The provider.
    ///
    /// # Errors
    /// - `provider_unavailable` naming the key's environment variable for a builder
    ///   from the environment without a key, where the provider needs one (unless the
    ///   base URL is on this machine or has user info);
    /// - `invalid_request` for a missing key otherwise (same exception), a base URL
    ///   that cannot be used, an invalid header, an empty default model, or a setting
    ///   of the provider's own it cannot use;
    /// - `provider_unavailable` if the HTTP client cannot be built.
    pub fn build(self) -> Result<Provider<A>> {
        let description = self.description;
        let name = description.name;
        let default_base_url = A::default_base_url(&self.own)?;
        let bases = self.common.bases_named(
            name,
            description.base_url_name,
            Some(
                default_base_url
                    .as_deref()
                    .unwrap_or(description.default_base_url),
            ),
            description.example_base_urls,
            A::base_url,
        )?;
        let first = &bases[0];
        let key = self.api_key.unwrap_or_default().trim().to_owned();
        let own_secrets = A::own_secrets(&self.own);
        let anonymous = key.is_empty() && first.credentials.is_none() && own_secrets.is_empty();
        if description.key_required && anonymous && !is_loopback(&first.url) {
            return Err(missing_key(
                description,
                A::OTHER_CREDENTIALS,
                self.from_env,
                &first.shown(),
            ));
        }
        let headers = checked_headers(name, &self.headers)?;
        let common = self.common;
        let mut prices = self
            .prices
            .or_else(|| description.prices.map(|table| table()));
        if !self.extra_prices.is_empty() {
            let table = prices.get_or_insert_with(PriceTable::new);
            for (model, price) in self.extra_prices {
                table.insert(model, price);
            }
        }
        if common.settings.max_frame_bytes == 0 {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("{name}: max_frame_bytes is 0, so no reply could be read. Use a limit of at least a few kilobytes (default 16 MiB)"),
            ));
        }
        let mut common = common;
        common.secrets.push(key.clone());
        common.secrets.extend(own_secrets);
        common
            .secrets
            .extend(self.headers.into_iter().map(|(_, value)| value));
        if common.default_model.is_none() {
            common.default_model = Some(description.default_model.to_owned());
        }
        let setup = Setup {
            description,
            shown_base_url: first.shown(),
            base_url: first.url.clone(),
        };
        let dialect = A::new(self.own, &setup)?;
        let default_source = description.key_vars.first().copied();
        let (header, key_source) = self.key_as.unwrap_or((
            description.key_header,
            default_source.unwrap_or("the API key"),
        ));
        let auth = Auth {
            key,
            header,
            headers,
            defaults: description.default_headers,
            key_source,
        };
        let builtin = Builtin {
            description,
            auth,
            prices,
        };
        let http = common.build(dialect, bases, Some(builtin))?;
        Ok(Provider::made(http, description))
    }
}

impl<A: Api> Provider<A> {
    /// A builder for every setting, starting from the provider's defaults (it reads no
    /// environment variable; [`builder_from_env`](Self::builder_from_env) does).
    pub fn builder() -> ProviderBuilder<A> {
        ProviderBuilder::default()
    }

    /// Configured from the environment: the provider's key and base URL variables (the
    /// provider table in the README lists them).
    ///
    /// # Errors
    /// `provider_unavailable` naming the key variable when the provider needs a key and
    /// it is not set (unless the base URL is on this machine: local servers usually need
    /// none); `invalid_request` when the base URL variable cannot be used.
    pub fn from_env() -> Result<Provider<A>> {
        Provider::builder_from_env().build()
    }

    /// A builder preset from the environment (as [`from_env`](Self::from_env) reads
    /// it), to adjust before `build()`, which reports what is missing.
    pub fn builder_from_env() -> ProviderBuilder<A> {
        Provider::builder_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`builder_from_env`](Self::builder_from_env) with a custom variable lookup.
    pub(crate) fn builder_from_lookup(var: impl Fn(&str) -> Option<String>) -> ProviderBuilder<A> {
        ProviderBuilder::from_lookup(A::DESCRIPTION, var)
    }

    /// [`from_env`](Self::from_env) with a custom variable lookup.
    #[cfg(test)]
    pub(crate) fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Provider<A>> {
        Provider::builder_from_lookup(var).build()
    }
}

/// The error for a provider that needs a key (or its `other` credentials) and has none.
fn missing_key(
    description: &Description,
    other: Option<&str>,
    from_env: bool,
    shown_base_url: &str,
) -> Error {
    let name = description.name;
    let or_other = other.map_or(String::new(), |other| format!(", or set {other}"));
    match (from_env, description.key_vars.first()) {
        (true, Some(key_var)) => {
            let base_var = description.base_url_vars.first().unwrap_or(&"the base URL");
            Error::new(
                ErrorKind::ProviderUnavailable,
                format!(
                    "{name} is not configured: {key_var} is not set. Set it to your API key{or_other} \
                     (or point {base_var} at a server on this machine, which needs none)"
                ),
            )
        }
        _ => Error::new(
            ErrorKind::InvalidRequest,
            format!(
                "{name}: no API key for {shown_base_url}. Pass your API key{or_other} (only servers on this machine may go without one)"
            ),
        ),
    }
}
