//! [`HttpProvider`]: a [`Dialect`] made a provider. Per request: the prologue, then
//! attempts (send, adapt once, classify a failure; frame and decode a reply) under the
//! retry policy, every item scrubbed of secrets, in one `ChatStream`.

use std::fmt;
use std::sync::Arc;

use futures::{Stream, StreamExt, TryStreamExt};
use tokio::time::Instant;

use crate::chunk::Chunk;
use crate::decode::Decoded;
use crate::error::Result;
use crate::http::{Accepted, Endpoint, Sent};
use crate::provider::LlmStreamProvider;
use crate::rate_limit::RateLimit;
use crate::redact::Redactor;
use crate::request::ChatRequest;
use crate::retry::Retrying;
use crate::stream::ChatStream;

use super::base_url::BaseUrl;
use super::builder::HttpProviderBuilder;
use super::frames::frames;
use super::prologue::Prologue;
use super::settings::HttpSettings;
use super::Dialect;

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
    pub(crate) base: BaseUrl,
    pub(crate) default_model: String,
    pub(crate) client: reqwest::Client,
    pub(crate) settings: HttpSettings,
    pub(crate) redactor: Redactor,
    pub(crate) endpoint: Endpoint,
    /// The server's host and port, for the call's tracing span.
    pub(crate) server: Option<(String, u16)>,
}

impl<D> Clone for HttpProvider<D> {
    fn clone(&self) -> Self {
        HttpProvider {
            shared: self.shared.clone(),
        }
    }
}

impl<D: Dialect> HttpProvider<D> {
    /// A builder for a provider speaking `dialect`.
    pub fn builder(dialect: D) -> HttpProviderBuilder<D> {
        HttpProviderBuilder::new(dialect)
    }

    /// The dialect.
    pub fn dialect(&self) -> &D {
        &self.shared.dialect
    }

    /// The base URL requests go to (no trailing slash), with the password of any user
    /// info in it redacted.
    pub fn base_url(&self) -> &str {
        self.shared.endpoint.origin.base()
    }

    /// `GET {base}{path}` with the provider's client (redirects refused), its body read
    /// whole, up to `max` bytes: for the small JSON documents of an API (a model list).
    pub(crate) async fn get(&self, path: &str, accept: &str, max: usize) -> Result<Fetched> {
        let shared = &self.shared;
        let request = shared
            .client
            .get(format!("{}{path}", shared.base.url))
            .header(reqwest::header::ACCEPT, accept);
        let mut response = match shared.endpoint.send(request, &[accept], None).await? {
            Sent::Accepted(accepted) => accepted.response,
            Sent::Failed(failure) => return Ok(Fetched::Failed(Box::new(failure))),
        };
        let mut body = Vec::new();
        while let Some(bytes) = response
            .chunk()
            .await
            .map_err(|e| shared.endpoint.body_error(e))?
        {
            if body.len().saturating_add(bytes.len()) > max {
                return Err(shared
                    .endpoint
                    .origin
                    .malformed(&format!("GET {path} returned more than {max} bytes")));
            }
            body.extend_from_slice(&bytes);
        }
        Ok(Fetched::Body(body))
    }
}

impl<D: Dialect> fmt::Debug for HttpProvider<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shared;
        f.debug_struct("HttpProvider")
            .field("dialect", &s.dialect)
            .field("base_url", &s.endpoint.origin.base())
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
        let mut prologue = match Prologue::new(
            name,
            &request,
            &shared.default_model,
            &shared.settings,
            |model| shared.dialect.pricing(model),
        ) {
            Ok(prologue) => prologue,
            Err(rejected) => return *rejected,
        };
        if let Some((host, port)) = &shared.server {
            prologue.info = prologue.info.with_server(host.clone(), *port);
        }
        let timeouts = prologue.info.timeouts();
        let model: Arc<str> = Arc::from(prologue.info.model());
        let request = Arc::new(request);
        let this = self.shared.clone();
        let make_attempt = move |give_up_at| {
            attempt(this.clone(), request.clone(), model.clone(), give_up_at).boxed()
        };
        let redactor = shared.redactor.clone();
        let stream = Retrying::new(Arc::from(name), prologue.retry, timeouts, make_attempt)
            .map(move |item| redactor.item(item));
        ChatStream::new(prologue.info, stream)
    }
}

/// What a GET came back with.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// A 2xx body, whole.
    Body(Vec<u8>),
    /// A failure status, for the provider to classify.
    Failed(Box<crate::http::ErrorResponse>),
}

/// One attempt: send, then decode the body as it arrives.
fn attempt<D: Dialect>(
    shared: Arc<Shared<D>>,
    request: Arc<ChatRequest>,
    model: Arc<str>,
    give_up_at: Option<Instant>,
) -> impl Stream<Item = Result<Chunk>> + Send + 'static {
    futures::stream::once(async move {
        let accepted = send(&shared, &request, &model, give_up_at).await?;
        let origin = shared
            .endpoint
            .origin
            .clone()
            .with_media_type(accepted.media_type.as_deref());
        let decoder = shared.dialect.decoder(&origin);
        let framing = shared.dialect.framing();
        let max = shared.settings.max_frame_bytes;
        let limits = accepted.rate_limit;
        let decoded = Decoded::new(frames(framing, accepted, max, &shared.endpoint), decoder);
        Ok(decoded.map(move |item| with_rate_limit(item, limits)))
    })
    .try_flatten()
}

/// The response's rate limits on its finish, or on its error.
fn with_rate_limit(item: Result<Chunk>, limits: Option<RateLimit>) -> Result<Chunk> {
    let Some(limits) = limits else {
        return item;
    };
    match item {
        Ok(Chunk::Finish(mut finish)) => {
            finish.rate_limit.get_or_insert(limits);
            Ok(Chunk::Finish(finish))
        }
        Err(error) if error.rate_limit().is_none() => Err(error.with_rate_limit(limits)),
        other => other,
    }
}

/// Sends the chat request and returns an accepted reply; after a failure the dialect
/// may adapt the request once (a server that rejects an optional field).
async fn send<D: Dialect>(
    shared: &Shared<D>,
    request: &ChatRequest,
    model: &str,
    give_up_at: Option<Instant>,
) -> Result<Accepted> {
    let mut adapted = false;
    loop {
        let http = shared.dialect.request(request, model)?;
        let own_authorization = http.has_authorization();
        let mut post = shared
            .client
            .post(format!("{}{}", shared.base.url, http.path))
            .headers(http.headers)
            .body(http.body);
        if !own_authorization {
            if let Some((user, password)) = &shared.base.credentials {
                post = post.basic_auth(user, Some(password));
            }
        }
        let accept = shared.dialect.framing().media_types();
        match shared.endpoint.send(post, accept, give_up_at).await? {
            Sent::Accepted(accepted) => return Ok(accepted),
            Sent::Failed(failure) if !adapted && shared.dialect.adapt(&failure) => adapted = true,
            Sent::Failed(failure) => return Err(shared.dialect.classify(failure, model)),
        }
    }
}
