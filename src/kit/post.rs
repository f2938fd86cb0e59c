//! Requests whose reply is read whole rather than streamed: `GET` of a small document
//! (a model list) and `POST` of a JSON request (an embedding batch), on the provider's
//! endpoints, client, key and headers, with the reply capped and timed.

use std::time::Duration;

use tokio::time::Instant;

use crate::duration::fmt_duration;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Endpoint, ErrorResponse, Sent};
use crate::origin::Origin;

use super::attempt::cools_down;
use super::pool::Member;
use super::provider::{http_post, HttpProvider};
use super::{Dialect, HttpRequest};

/// What a GET came back with.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// A 2xx body, whole.
    Body(Vec<u8>),
    /// A failure status, for the provider to classify.
    Failed(Box<ErrorResponse>),
}

impl<D: Dialect> HttpProvider<D> {
    /// `GET {base}{path}` with the provider's client (redirects refused), its body read
    /// whole, up to `max` bytes: for the small JSON documents of an API (a model list).
    pub(crate) async fn get(&self, path: &str, accept: &str, max: usize) -> Result<Fetched> {
        let lease = self.shared.pool.lease();
        let member = &lease.member;
        let request = member
            .client
            .get(format!("{}{path}", member.base.url))
            .header(reqwest::header::ACCEPT, accept);
        let response = match member.endpoint.send(request, &[accept], None).await? {
            Sent::Accepted(accepted) => accepted.response,
            Sent::Failed(failure) => return Ok(Fetched::Failed(Box::new(failure))),
        };
        let too_long = || {
            let detail = format!("GET {path} returned more than {max} bytes");
            member.endpoint.origin.malformed(&detail)
        };
        read_whole(&member.endpoint, response, max, None, too_long)
            .await
            .map(Fetched::Body)
    }

    /// `POST {base}{path}` of the request `api` makes, with the provider's key and
    /// headers (or the base URL's user info, as Basic authentication), to the endpoint
    /// the pool gives; its JSON reply read whole, up to `max` bytes, with no gap between
    /// its pieces longer than `idle`, and all of it by `give_up_at`. After a failure
    /// status `api` may adapt the request once (a server that rejects an optional
    /// field), else classifies it; the endpoint is told how it went, as a streamed
    /// attempt tells it. Returns the body and where it came from.
    pub(crate) async fn post_whole(
        &self,
        api: &dyn Posting,
        max: usize,
        idle: Option<Duration>,
        give_up_at: Option<Instant>,
    ) -> Result<(Vec<u8>, Origin)> {
        let lease = self.shared.pool.lease();
        let member = &lease.member;
        let origin = member.endpoint.origin.clone();
        let sent = async {
            let mut adapted = false;
            let response = loop {
                let post = self.post_request(member, api.request()?)?;
                let accept = ["application/json"];
                match member.endpoint.send(post, &accept, give_up_at).await? {
                    Sent::Accepted(accepted) => break accepted.response,
                    Sent::Failed(failure) if !adapted && api.adapt(&failure) => adapted = true,
                    Sent::Failed(failure) => return Err(api.classify(failure)),
                }
            };
            let too_long = || {
                Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "{}: the reply from {} is longer than the limit of {max} bytes (max_reply_bytes): send fewer inputs per call, or raise the provider's max_reply_bytes",
                        origin.provider(),
                        origin.base()
                    ),
                )
            };
            read_whole(&member.endpoint, response, max, idle, too_long).await
        };
        let outcome = match give_up_at {
            Some(at) => tokio::time::timeout_at(at, sent)
                .await
                .unwrap_or_else(|_| Err(too_slow(&origin))),
            None => sent.await,
        };
        match &outcome {
            Ok(_) => member.succeeded(),
            Err(error) if cools_down(error) => member.failed(),
            Err(_) => {}
        }
        outcome.map(|body| (body, origin))
    }

    /// The `POST` of `http` to `member`, with the provider's key and headers.
    fn post_request(&self, member: &Member, http: HttpRequest) -> Result<reqwest::RequestBuilder> {
        let http = self.shared.authorized(http)?;
        let url = format!("{}{}", member.base.url, http.path);
        Ok(http_post(member, url, http))
    }
}

/// What [`HttpProvider::post_whole`] sends, and what a failure status means.
pub(crate) trait Posting: Send + Sync {
    /// The request, made anew for every try (after [`adapt`](Self::adapt) too).
    fn request(&self) -> Result<HttpRequest>;
    /// Whether to send the request again, made anew, after this failure (once).
    fn adapt(&self, failure: &ErrorResponse) -> bool;
    /// The error for a failure status.
    fn classify(&self, failure: ErrorResponse) -> Error;
}

/// A reply not complete by its time limit.
fn too_slow(origin: &Origin) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "{} timed out: the reply from {} was not complete within the first-chunk limit (or the total deadline). Raise the limit, or send less per call",
            origin.provider(),
            origin.base()
        ),
    )
}

/// The body of `response`, whole: at most `max` bytes (else `too_long`), and no wait
/// for its next piece longer than `idle`.
async fn read_whole(
    endpoint: &Endpoint,
    mut response: reqwest::Response,
    max: usize,
    idle: Option<Duration>,
    too_long: impl Fn() -> Error,
) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let next = response.chunk();
        let piece = match idle {
            Some(limit) => tokio::time::timeout(limit, next)
                .await
                .map_err(|_| stalled(&endpoint.origin, limit))?,
            None => next.await,
        };
        let Some(bytes) = piece.map_err(|e| endpoint.body_error(e))? else {
            return Ok(body);
        };
        if body.len().saturating_add(bytes.len()) > max {
            return Err(too_long());
        }
        body.extend_from_slice(&bytes);
    }
}

/// A reply that stopped arriving midway.
fn stalled(origin: &Origin, limit: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "{} timed out: the reply from {} stopped arriving for {} (the idle limit); it is incomplete. Retry, or raise the idle timeout",
            origin.provider(),
            origin.base(),
            fmt_duration(limit)
        ),
    )
    .with_retryable(true)
}
