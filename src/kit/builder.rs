//! [`HttpProviderBuilder`], and the settings every HTTP provider's builder shares
//! ([`Common`]): base URL, default model, client, secrets, limits.

use std::fmt;
use std::sync::Arc;

use crate::decode::Origin;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Clients, Endpoint};
use crate::redact::{redact_url, Redactor};
use crate::request::base64;

use super::base_url::BaseUrl;
use super::pool::{Member, Pool};
use super::provider::{HttpProvider, Shared};
use super::settings::HttpSettings;
use super::Dialect;

/// What every HTTP provider's builder holds besides its dialect's own settings.
#[derive(Default, Clone)]
pub(crate) struct Common {
    pub(crate) base_url: Option<String>,
    /// More base URLs of the same API: with `base_url`, an endpoint pool.
    pub(crate) more_base_urls: Vec<String>,
    /// Where the base URL came from, for messages (`OPENAI_BASE_URL`); else "the base URL".
    pub(crate) base_url_source: Option<&'static str>,
    pub(crate) default_model: Option<String>,
    pub(crate) client: Option<reqwest::Client>,
    /// Values never to show: API keys, header values.
    pub(crate) secrets: Vec<String>,
    pub(crate) settings: HttpSettings,
}

impl fmt::Debug for Common {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Common")
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field(
                "more_base_urls",
                &self
                    .more_base_urls
                    .iter()
                    .map(|u| redact_url(u))
                    .collect::<Vec<_>>(),
            )
            .field("default_model", &self.default_model)
            .field("custom_client", &self.client.is_some())
            .field("secrets", &self.secrets.len())
            .field("settings", &self.settings)
            .finish()
    }
}

impl Common {
    /// The provider: the base URL checked (`example` is suggested when it is not
    /// usable), the client built unless one was given, the secrets and the URL's
    /// password made a redactor.
    pub(crate) fn build<D: Dialect>(self, dialect: D, example: &str) -> Result<HttpProvider<D>> {
        let name = dialect.name().to_owned();
        let raw = self.base_url.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("{name}: no base URL. Set one with the builder's base_url"),
            )
        })?;
        let source = self.base_url_source.unwrap_or("the base URL");
        let mut bases = vec![BaseUrl::parse(raw, &name, source, example)?];
        for more in &self.more_base_urls {
            bases.push(BaseUrl::parse(more, &name, "an endpoint", example)?);
        }
        let default_model = match self.default_model.as_deref().map(str::trim) {
            Some(model) if !model.is_empty() => model.to_owned(),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    format!("{name}: no default model. Set one with the builder's default_model"),
                ))
            }
        };
        let mut clients = Clients::new(self.client, self.settings.connect_timeout);
        let mut secrets = self.secrets;
        for base in &bases {
            // The password, and the Basic credentials it travels in: a server that echoes
            // the Authorization header back shows them.
            if let Some((user, password)) = &base.credentials {
                secrets.push(password.clone());
                secrets.push(base64(format!("{user}:{password}").as_bytes()));
            }
        }
        let hint: Arc<str> = Arc::from(dialect.unreachable_hint());
        let members = bases
            .into_iter()
            .map(|base| {
                let origin = Origin::new(Arc::from(name.as_str()), Arc::from(base.shown()));
                let client = clients.for_base_url(&base.url)?;
                Ok(Member::new(
                    base,
                    Endpoint::new(origin, hint.clone()),
                    client,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(HttpProvider {
            shared: Arc::new(Shared {
                dialect,
                pool: Pool::new(members),
                default_model,
                settings: self.settings,
                redactor: Redactor::new(secrets),
            }),
        })
    }
}

/// Builds an [`HttpProvider`]. Errors are reported by [`build`](Self::build).
///
/// ```
/// # use theory_llm::kit::{Dialect, Framing, HttpProvider, HttpRequest, Origin};
/// # #[derive(Debug)] struct Lines;
/// # impl Dialect for Lines {
/// #     type Decoder = NoReply;
/// #     fn name(&self) -> &str { "lines" }
/// #     fn framing(&self) -> Framing { Framing::Ndjson }
/// #     fn request(&self, _: &theory_llm::ChatRequest, _: &str) -> theory_llm::Result<HttpRequest> {
/// #         HttpRequest::post_json("/chat", &())
/// #     }
/// #     fn decoder(&self, origin: &Origin) -> NoReply { NoReply(origin.clone()) }
/// # }
/// # struct NoReply(Origin);
/// # impl theory_llm::kit::Decoder for NoReply {
/// #     fn frame(&mut self, _: &[u8], _: &mut std::collections::VecDeque<theory_llm::Chunk>) -> theory_llm::Result<theory_llm::kit::Flow> {
/// #         Ok(theory_llm::kit::Flow::Continue)
/// #     }
/// #     fn end_of_body(&mut self, _: &mut std::collections::VecDeque<theory_llm::Chunk>) -> theory_llm::Result<()> {
/// #         Err(self.0.truncated("the end"))
/// #     }
/// # }
/// use std::time::Duration;
/// use theory_llm::LlmStreamProvider;
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = HttpProvider::builder(Lines)
///     .base_url("http://admin:hunter2-secret@127.0.0.1:8700/v1/")
///     .default_model("small")
///     .secret("sk-my-key") // hidden from every message, like the URL's password
///     .idle_timeout(Duration::from_secs(30))
///     .build()?;
/// assert_eq!(llm.base_url(), "http://admin:[REDACTED]@127.0.0.1:8700/v1");
/// assert_eq!(llm.default_model(), "small");
/// # Ok(())
/// # }
/// ```
pub struct HttpProviderBuilder<D> {
    dialect: D,
    pub(crate) common: Common,
}

impl<D: fmt::Debug> fmt::Debug for HttpProviderBuilder<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProviderBuilder")
            .field("dialect", &self.dialect)
            .field("common", &self.common)
            .finish()
    }
}

impl<D: Dialect> HttpProviderBuilder<D> {
    pub(crate) fn new(dialect: D) -> HttpProviderBuilder<D> {
        HttpProviderBuilder {
            dialect,
            common: Common::default(),
        }
    }

    /// The base URL (required), e.g. `http://localhost:8700/v1`; a trailing slash is
    /// fine. Requests go to `{base}{path}`, the path from the dialect's request. User
    /// info in it (`http://user:password@host`) is sent as Basic authentication when
    /// the request has no `Authorization` header, and its password is never shown.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.common.base_url = Some(url.into());
        self
    }

    /// The model used when a request names none (required).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.common.default_model = Some(model.into());
        self
    }

    /// More base URLs of the same API, besides [`base_url`](Self::base_url): an
    /// endpoint pool. Each request goes to the endpoint with the fewest requests in
    /// flight; one that fails with retryable errors is skipped for a while (from 1 s,
    /// doubling up to 60 s), then tried again with one request; a request that fails
    /// before any content is retried on another endpoint.
    #[must_use]
    pub fn more_base_urls<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.common.more_base_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// Use this HTTP client (its own timeouts, proxy and TLS settings apply; the
    /// connect timeout of this builder does not). Build it with
    /// `redirect(reqwest::redirect::Policy::none())`: the kit's own client never follows
    /// redirects, so that credentials never travel to another server; a reply that
    /// arrives through a redirect anyway is refused, after the fact.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.common.client = Some(client);
        self
    }

    /// A value that must never be shown: an API key, a header value. It is scrubbed
    /// from every error and from reply metadata (any run of 6 or more of its
    /// characters; values shorter than 8 characters are not searched for).
    #[must_use]
    pub fn secret(mut self, value: impl Into<String>) -> Self {
        self.common.secrets.push(value.into());
        self
    }

    crate::kit::settings::http_builder_setters!(common.settings);

    /// The largest frame accepted (an SSE event or NDJSON line, default 16 MiB),
    /// counted without line ends; a larger one is a `protocol` error.
    #[must_use]
    pub fn max_frame_bytes(mut self, limit: usize) -> Self {
        self.common.settings.max_frame_bytes = limit;
        self
    }

    /// The provider.
    ///
    /// # Errors
    /// `invalid_request` for a missing or unusable base URL or a missing default model;
    /// `provider_unavailable` if the HTTP client cannot be built.
    pub fn build(self) -> Result<HttpProvider<D>> {
        self.common.build(
            self.dialect,
            "http://localhost:8080/v1 or https://api.example.com/v1",
        )
    }
}

/// The endpoint-pool and client setters of the API-key providers' builders, written once,
/// for the builder's [`Common`] at the field path given (`common`).
macro_rules! pool_builder_setters {
    ($($field:ident).+) => {
        /// More base URLs of the same API, besides the base URL: an endpoint pool
        /// (several servers of one deployment). Each request goes to the endpoint with
        /// the fewest requests in flight; one that fails with retryable errors is
        /// skipped for a while (from 1 s, doubling up to 60 s), then tried again with
        /// one request; a request that fails before any content is retried on another
        /// endpoint.
        #[must_use]
        pub fn endpoints<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
            self.$($field).+.more_base_urls = urls.into_iter().map(Into::into).collect();
            self
        }

        /// Use this HTTP client (its own timeouts, proxy and TLS settings apply; the
        /// connect timeout of this builder does not).
        ///
        /// Build it with `redirect(reqwest::redirect::Policy::none())`: the provider's
        /// own client never follows redirects, so that the key never travels to another
        /// server, but a client passed in follows its own policy. A reply that arrives
        /// through a redirect is refused with an error, after the fact.
        #[must_use]
        pub fn client(mut self, client: reqwest::Client) -> Self {
            self.$($field).+.client = Some(client);
            self
        }
    };
}
pub(crate) use pool_builder_setters;
