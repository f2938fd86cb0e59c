//! [`HttpProvider`]: a [`Dialect`] made a provider. Per request: the prologue, then
//! attempts (send, adapt once, classify a failure; frame and decode a reply) under the
//! retry policy, every item scrubbed of secrets, in one `ChatStream`.

use std::fmt;
use std::sync::Arc;

use futures::Stream;
use tokio::time::Instant;

use crate::chunk::Chunk;
use crate::error::Result;
use crate::http::{Accepted, Endpoint, Sent};
use crate::pricing::Pricing;
use crate::provider::LlmStreamProvider;
use crate::redact::Redactor;
use crate::request::ChatRequest;
use crate::retry::Retrying;
use crate::stream::{ChatStream, StreamInfo};

use super::api::Builtin;
use super::attempt::{cools_down, Attempt, Receiving};
use super::frames::frames;
use super::pool::{Member, Pool};
use super::prologue::Prologue;
use super::settings::HttpSettings;
use super::{Dialect, HttpRequest};

/// A provider for an HTTP chat API, made from its [`Dialect`]: the kit does the
/// sending, retries, time limits, caps, redaction and framing. Cheap to clone (the
/// configuration is shared).
///
/// Build one with [`HttpProvider::builder`]; see the [module documentation](crate::kit).
pub struct HttpProvider<D> {
    pub(crate) shared: Arc<Shared<D>>,
}

/// The configuration every request of one provider shares.
pub(crate) struct Shared<D> {
    pub(crate) dialect: D,
    /// The base URL, or several (an endpoint pool).
    pub(crate) pool: Pool,
    pub(crate) default_model: String,
    /// The model embeddings use when a request names none, if the app set one (else
    /// the API's own).
    pub(crate) embedding_model: Option<String>,
    pub(crate) settings: HttpSettings,
    pub(crate) redactor: Redactor,
    /// A built-in provider's key, headers and prices.
    pub(crate) builtin: Option<Builtin>,
}

impl<D> Clone for HttpProvider<D> {
    fn clone(&self) -> Self {
        HttpProvider {
            shared: self.shared.clone(),
        }
    }
}

impl<D: Dialect> HttpProvider<D> {
    /// The dialect.
    pub fn dialect(&self) -> &D {
        &self.shared.dialect
    }

    /// The base URL requests go to (no trailing slash), with the password of any user
    /// info in it redacted; the first, for an endpoint pool.
    pub fn base_url(&self) -> &str {
        self.shared.pool.first().shown()
    }

    /// Every base URL requests may go to (more than one for an endpoint pool), as
    /// [`base_url`](Self::base_url) shows them.
    pub fn base_urls(&self) -> Vec<&str> {
        self.shared
            .pool
            .members()
            .iter()
            .map(|m| m.shown())
            .collect()
    }

    /// The endpoint of the provider's first base URL, for requests outside a chat (a
    /// model list).
    pub(crate) fn first_endpoint(&self) -> &Endpoint {
        &self.shared.pool.first().endpoint
    }
}

impl<D: Dialect> fmt::Debug for HttpProvider<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shared;
        f.debug_struct("HttpProvider")
            .field("dialect", &s.dialect)
            .field("base_urls", &self.base_urls())
            .field("default_model", &s.default_model)
            .field("settings", &s.settings)
            .finish_non_exhaustive()
    }
}

impl<D: Dialect> LlmStreamProvider for HttpProvider<D> {
    fn name(&self) -> &str {
        self.shared.dialect.name()
    }

    fn default_model(&self) -> &str {
        &self.shared.default_model
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let shared = &self.shared;
        let name = shared.dialect.name();
        let prologue = match Prologue::new(
            name,
            &request,
            &shared.default_model,
            &shared.settings,
            |model| shared.pricing(model),
        ) {
            Ok(prologue) => prologue,
            Err(rejected) => return *rejected,
        };
        let timeouts = prologue.info.timeouts();
        let model: Arc<str> = Arc::from(prologue.info.model());
        let max_reply_bytes = prologue.info.max_reply_bytes();
        let request = Arc::new(request);
        let this = self.shared.clone();
        let make_attempt = move |give_up_at| {
            let asked = Asked {
                request: request.clone(),
                model: model.clone(),
                max_reply_bytes,
            };
            attempt(this.clone(), asked, give_up_at)
        };
        // Every item is scrubbed of secrets in its attempt (see `attempt`); the retry
        // layer's own errors only quote those.
        let stream = Retrying::new(Arc::from(name), prologue.retry, timeouts, make_attempt);
        ChatStream::new(prologue.info, stream)
    }

    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        let shared = &self.shared;
        Prologue::info(
            shared.dialect.name(),
            request,
            &shared.default_model,
            &shared.settings,
            |model| shared.pricing(model),
        )
    }
}

impl<D: Dialect> Shared<D> {
    /// How `model` is priced: a built-in provider's table, else the dialect's rule.
    pub(crate) fn pricing(&self, model: &str) -> Pricing {
        let Some(builtin) = &self.builtin else {
            return self.dialect.pricing(model);
        };
        let free = builtin.description.free;
        match &builtin.prices {
            Some(table) => match table.pricing(model) {
                Pricing::Unknown if free => Pricing::Free,
                priced => priced,
            },
            None if free => Pricing::Free,
            None => self.dialect.pricing(model),
        }
    }

    /// The dialect's request for `chat`, with a built-in provider's headers and key.
    pub(crate) fn prepared(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        self.authorized(self.dialect.request(chat, model)?)
    }

    /// `request` with a built-in provider's headers and key.
    pub(crate) fn authorized(&self, request: HttpRequest) -> Result<HttpRequest> {
        match &self.builtin {
            Some(builtin) => builtin.auth.apply(request, self.dialect.name()),
            None => Ok(request),
        }
    }
}

/// What an attempt asks for: the request, its model, and what its reply may keep.
struct Asked {
    request: Arc<ChatRequest>,
    model: Arc<str>,
    max_reply_bytes: usize,
}

/// One attempt: an endpoint of the pool, send, then decode the body as it arrives.
/// The endpoint is told how it went: content arrived, or a retryable failure came
/// first (which cools it down).
fn attempt<D: Dialect>(
    shared: Arc<Shared<D>>,
    asked: Asked,
    give_up_at: Option<Instant>,
) -> impl Stream<Item = Result<Chunk>> + Send + 'static {
    // The lease lives as long as the attempt (first in the future, then in the
    // reply's state): the endpoint counts it in flight.
    let lease = shared.pool.lease();
    let member = lease.member.clone();
    Attempt::new(async move {
        let accepted = match send(&shared, &member, &asked.request, &asked.model, give_up_at).await
        {
            Ok(accepted) => accepted,
            Err(error) => {
                if cools_down(&error) {
                    member.failed();
                }
                return Err(shared.redactor.error(error));
            }
        };
        let origin = member
            .endpoint
            .origin
            .clone()
            .with_media_type(accepted.media_type.as_deref())
            .with_max_reply_bytes(asked.max_reply_bytes);
        let decoder = shared.dialect.decoder(&origin);
        let framing = shared.dialect.framing();
        let max = shared.settings.max_frame_bytes;
        let limits = accepted.rate_limit;
        let frames = frames(framing, accepted, max, &member, origin);
        let redactor = shared.redactor.clone();
        Ok(Receiving::new(frames, decoder, lease, redactor, limits))
    })
}

/// Sends the chat request to `member` and returns an accepted reply; after a failure
/// the dialect may adapt the request once (a server that rejects an optional field).
async fn send<D: Dialect>(
    shared: &Shared<D>,
    member: &Member,
    request: &ChatRequest,
    model: &str,
    give_up_at: Option<Instant>,
) -> Result<Accepted> {
    let mut adapted = false;
    loop {
        let post = post(shared, member, request, model)?;
        let accept = shared.dialect.framing().media_types();
        match member.endpoint.send(post, accept, give_up_at).await? {
            Sent::Accepted(accepted) => return Ok(accepted),
            Sent::Failed(failure) if !adapted && shared.dialect.adapt(&failure) => adapted = true,
            Sent::Failed(failure) => return Err(shared.dialect.classify(failure, model)),
        }
    }
}

/// The HTTP request for `request` to `member`, signed. Apart from `send`, whose state
/// every stream waiting for its headers holds: the prepared request would stay in it.
fn post<D: Dialect>(
    shared: &Shared<D>,
    member: &Member,
    request: &ChatRequest,
    model: &str,
) -> Result<reqwest::RequestBuilder> {
    let http = shared.prepared(request, model)?;
    let url = format!("{}{}", member.base.url, http.path);
    let http = shared.dialect.sign(http, &url)?;
    Ok(http_post(member, url, http))
}

/// The `POST` of `http` to `url` on `member`: its headers and body, and the base URL's
/// own credentials unless the request carries an `Authorization` of its own.
pub(super) fn http_post(
    member: &Member,
    url: String,
    http: HttpRequest,
) -> reqwest::RequestBuilder {
    let own_authorization = http.has_authorization();
    let post = member
        .client
        .post(url)
        .headers(http.headers)
        .body(http.body);
    match &member.base.credentials {
        Some((user, password)) if !own_authorization => post.basic_auth(user, Some(password)),
        _ => post,
    }
}
