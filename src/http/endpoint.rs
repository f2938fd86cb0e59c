//! [`Endpoint`]: where a provider's requests go, and [`Endpoint::send`], which sends one
//! and sorts the answer: accepted, failed (with its body read), or an error.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::LOCATION;
use tokio::time::Instant;

use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::origin::Origin;
use crate::rate_limit::RateLimit;
use crate::redact::redact_url;

use super::error_response::ErrorResponse;
use super::headers::{media_type, rate_limit};

/// How much of an unexpected 200 body is read to quote it.
const MAX_UNEXPECTED_BODY_BYTES: usize = 4 * 1024;
/// The longest wait for the body of an error response (or of an unexpected 200) once
/// its status has arrived; it is shorter when the request's time limit is nearer.
const MAX_ERROR_BODY_WAIT: Duration = Duration::from_secs(10);

/// Where requests go, for messages: `openai at https://api.openai.com/v1`.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The provider and the base URL as shown (no secrets in it).
    pub(crate) origin: Origin,
    /// What to suggest when nothing answers there.
    pub(crate) unreachable_hint: Arc<str>,
}

/// A 2xx response with an accepted content type: what [`Endpoint::send`] gives a
/// provider to frame.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) response: reqwest::Response,
    /// The media type (`text/event-stream`), lowercase without parameters; `None` if the
    /// server sent no content type.
    pub(crate) media_type: Option<String>,
    /// The rate limits its headers reported.
    pub(crate) rate_limit: Option<RateLimit>,
}

/// What a request came back with.
#[derive(Debug)]
pub(crate) enum Sent {
    /// A 2xx response of an accepted content type.
    Accepted(Accepted),
    /// A non-2xx response, read, for the provider to classify.
    Failed(ErrorResponse),
}

impl Endpoint {
    /// Requests to `origin`; `unreachable_hint` says what to check when nothing answers.
    pub(crate) fn new(origin: Origin, unreachable_hint: impl Into<Arc<str>>) -> Endpoint {
        Endpoint {
            origin,
            unreachable_hint: unreachable_hint.into(),
        }
    }

    /// Sends `request` and sorts the answer: a 2xx of one of the `accept`ed media types
    /// (or of none stated); a failure status with its body read (for at most 10 s, and
    /// for at most half of the time left before `give_up_at`, so that the status is
    /// reported rather than a timeout); or an error: transport failures, a redirect, or
    /// a 2xx of another type (an HTML page from a captive portal, say).
    ///
    /// The request is built before the returned future starts: a builder and a request
    /// held in it would add half a kilobyte to every stream waiting for its headers.
    pub(crate) fn send<'a>(
        &'a self,
        request: reqwest::RequestBuilder,
        accept: &'a [&'a str],
        give_up_at: Option<Instant>,
    ) -> impl Future<Output = Result<Sent>> + 'a {
        let (client, request) = request.build_split();
        let pending = request.map(|request| {
            let url = request.url().clone();
            (client.execute(request), url)
        });
        async move {
            let (pending, url) = pending.map_err(|e| self.send_error(e))?;
            let response = pending.await.map_err(|e| self.send_error(e))?;
            self.sort(response, &url, accept, give_up_at).await
        }
    }

    /// What [`send`](Self::send) does with the response. The error bodies are read in
    /// futures of their own (boxed), so that their state is not part of every request's.
    async fn sort(
        &self,
        response: reqwest::Response,
        url: &reqwest::Url,
        accept: &[&str],
        give_up_at: Option<Instant>,
    ) -> Result<Sent> {
        let status = response.status();
        if status.is_redirection() {
            return Err(self.redirect_error(url, &response));
        }
        if response.url() != url {
            // A client passed in by the user may follow redirects.
            return Err(self.followed_redirect_error(response.url()));
        }
        let read_by = read_deadline(give_up_at);
        if !status.is_success() {
            return Ok(Sent::Failed(
                Box::pin(ErrorResponse::read(response, read_by, |e| {
                    self.body_error(e)
                }))
                .await?,
            ));
        }
        let media_type = media_type(response.headers());
        match media_type.as_deref() {
            Some(found) if !accept.contains(&found) => {
                let body = Box::pin(read_some(response, MAX_UNEXPECTED_BODY_BYTES, read_by)).await;
                Err(self.unexpected_body(status.as_u16(), found, accept, &body))
            }
            _ => Ok(Sent::Accepted(Accepted {
                rate_limit: rate_limit(response.headers()),
                response,
                media_type,
            })),
        }
    }

    /// A 3xx: never followed (see [`Clients`](super::Clients)).
    fn redirect_error(&self, url: &reqwest::Url, response: &reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let target = response
            .headers()
            .get(LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .map(|location| match url.join(location.trim()) {
                Ok(absolute) => absolute.to_string(),
                Err(_) => location,
            });
        let (provider, base) = (self.origin.provider(), self.origin.base());
        let message = match target {
            Some(target) => format!(
                "{provider}: {base} answered HTTP {status}, a redirect to {}. Redirects are not followed, so that credentials never reach another server: if that address is the right one, use it as the base URL",
                excerpt(&redact_url(&target), 300)
            ),
            None => format!(
                "{provider}: {base} answered HTTP {status} (a redirect, without a Location). Redirects are not followed; check the base URL"
            ),
        };
        Error::new(ErrorKind::ProviderUnavailable, message).with_status(status)
    }

    /// The user's own client followed a redirect.
    fn followed_redirect_error(&self, landed: &reqwest::Url) -> Error {
        Error::new(
            ErrorKind::ProviderUnavailable,
            format!(
                "{}: the request to {} was redirected to {}, and the HTTP client passed to the builder followed it. The reply is refused; build that client with reqwest::redirect::Policy::none(), so that credentials never reach another server",
                self.origin.provider(),
                self.origin.base(),
                excerpt(&redact_url(landed.as_str()), 300)
            ),
        )
    }

    /// A 2xx whose body is of another type than the protocol's: not a stream, and not
    /// worth retrying (a proxy or a login page answers in the API's place).
    fn unexpected_body(&self, status: u16, found: &str, accept: &[&str], body: &[u8]) -> Error {
        let quoted = excerpt(&String::from_utf8_lossy(body), 300);
        let quoted = if quoted.is_empty() {
            "(empty body)".to_owned()
        } else {
            quoted
        };
        Error::new(
            ErrorKind::Protocol,
            format!(
                "{}: {} answered HTTP {status} with {found} instead of {}: {quoted}. Something other than the API (a proxy, a captive portal's login page) may be answering: check the base URL",
                self.origin.provider(),
                self.origin.base(),
                accept.join(" or ")
            ),
        )
        .with_status(status)
    }
}

/// When to stop waiting for an error body: in 10 s, or halfway to `give_up_at`.
fn read_deadline(give_up_at: Option<Instant>) -> Instant {
    let now = Instant::now();
    let cap = now + MAX_ERROR_BODY_WAIT;
    match give_up_at {
        Some(at) => cap.min(now + at.saturating_duration_since(now) / 2),
        None => cap,
    }
}

/// Up to `max` bytes of a body, read until `read_by`; whatever came, if anything.
async fn read_some(mut response: reqwest::Response, max: usize, read_by: Instant) -> Vec<u8> {
    let mut body = Vec::new();
    let read = async {
        while let Ok(Some(bytes)) = response.chunk().await {
            let room = max.saturating_sub(body.len());
            body.extend_from_slice(&bytes[..bytes.len().min(room)]);
            if body.len() >= max {
                break;
            }
        }
    };
    let _ = tokio::time::timeout_at(read_by, read).await;
    body
}
