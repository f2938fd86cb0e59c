//! [`HttpProviderBuilder`], and what every HTTP provider's builder shares ([`Common`]):
//! base URLs (parsed once), default model, client, secrets, limits; and how they make
//! the provider.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Clients, Endpoint};
use crate::origin::Origin;
use crate::redact::{redact_url, Redactor};
use crate::request::base64;

use super::api::Builtin;
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
    /// The model embeddings use when a request names none (else the API's own).
    pub(crate) embedding_model: Option<String>,
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
            .field("embedding_model", &self.embedding_model)
            .field("custom_client", &self.client.is_some())
            .field("secrets", &self.secrets.len())
            .field("settings", &self.settings)
            .finish()
    }
}

impl Common {
    /// The base URLs, each parsed once: the first from `base_url` (or `default`), the
    /// others from the endpoints; `normalize` first reads each as the API's users write
    /// it (Ollama's host grammar). `example` is suggested when one is not usable.
    pub(crate) fn bases(
        &self,
        name: &str,
        default: Option<&str>,
        example: &str,
        normalize: impl Fn(&str, &str) -> Result<String>,
    ) -> Result<Vec<BaseUrl>> {
        self.bases_named(name, "base URL", default, example, normalize)
    }

    /// [`bases`](Self::bases), for an API whose users call the base URL `what`.
    pub(crate) fn bases_named(
        &self,
        name: &str,
        what: &str,
        default: Option<&str>,
        example: &str,
        normalize: impl Fn(&str, &str) -> Result<String>,
    ) -> Result<Vec<BaseUrl>> {
        let raw = self.base_url.as_deref().or(default).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("{name}: no {what}. Set one with the builder's base_url"),
            )
        })?;
        let source = match self.base_url_source {
            Some(variable) => variable.to_owned(),
            None => format!("the {what}"),
        };
        let source = source.as_str();
        let first = normalize(raw, source)?;
        let mut bases = vec![BaseUrl::parse(&first, name, source, example)?];
        let other = format!("another {what}");
        for more in &self.more_base_urls {
            let more = normalize(more, &other)?;
            bases.push(BaseUrl::parse(&more, name, &other, example)?);
        }
        Ok(bases)
    }

    /// The provider for `bases` (from [`bases`](Self::bases)): the client built unless
    /// one was given, the secrets and the URLs' passwords made a redactor; a built-in
    /// provider's key, headers and prices in `builtin`.
    pub(crate) fn build<D: Dialect>(
        self,
        dialect: D,
        bases: Vec<BaseUrl>,
        builtin: Option<Builtin>,
    ) -> Result<HttpProvider<D>> {
        let name = dialect.name().to_owned();
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
        let hint: Arc<str> = match &builtin {
            Some(builtin) => Arc::from(builtin.description.unreachable_hint()),
            None => Arc::from(dialect.unreachable_hint()),
        };
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
                embedding_model: self
                    .embedding_model
                    .map(|m| m.trim().to_owned())
                    .filter(|m| !m.is_empty()),
                settings: self.settings,
                redactor: Redactor::new(secrets),
                builtin,
            }),
        })
    }
}

impl<D: Dialect> HttpProvider<D> {
    /// A builder for a provider speaking `dialect`.
    pub fn builder(dialect: D) -> HttpProviderBuilder<D> {
        HttpProviderBuilder::new(dialect)
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
        let name = self.dialect.name().to_owned();
        let example = "http://localhost:8080/v1 or https://api.example.com/v1";
        let bases = self
            .common
            .bases(&name, None, example, |raw, _| Ok(raw.to_owned()))?;
        self.common.build(self.dialect, bases, None)
    }
}
