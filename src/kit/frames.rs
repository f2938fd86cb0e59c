//! From a response body to frames, by the dialect's [`Framing`]: SSE events' data or
//! NDJSON lines, each capped; a body of `application/json` is one frame.

use bytes::Bytes;
use futures::future::Either;
use futures::{Stream, StreamExt};

use crate::decode::Origin;
use crate::error::{Error, Result};
use crate::framing::ndjson::{NdjsonError, NdjsonLines};
use crate::framing::sse::{SseError, SseFrames};
use crate::http::{Accepted, Endpoint};

use super::Framing;

/// The frames of an accepted response's body, each at most `max` bytes.
pub(crate) fn frames(
    framing: Framing,
    accepted: Accepted,
    max: usize,
    endpoint: &Endpoint,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let Accepted {
        response,
        media_type,
        ..
    } = accepted;
    if media_type.as_deref() == Some("application/json") {
        // A server that ignored `stream: true`: one whole reply.
        return Either::Left(whole_body(response, max, endpoint.clone()));
    }
    let transport = {
        let endpoint = endpoint.clone();
        move |e: reqwest::Error| endpoint.body_error(e)
    };
    let origin = endpoint
        .origin
        .clone()
        .with_media_type(media_type.as_deref());
    Either::Right(frames_of(
        framing,
        response.bytes_stream(),
        max,
        origin,
        transport,
    ))
}

/// The frames of any byte stream, its failures mapped by `transport`.
pub(crate) fn frames_of<S, E, T>(
    framing: Framing,
    bytes: S,
    max: usize,
    origin: Origin,
    transport: T,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: Send + 'static,
    T: Fn(E) -> Error + Send + 'static,
{
    match framing {
        Framing::Sse => Either::Left(SseFrames::new(bytes, max).map(move |item| {
            item.map_err(|e| match e {
                SseError::Transport(e) => transport(e),
                SseError::Malformed(m) => origin.malformed(&m),
                SseError::EventTooLong { max } => {
                    origin.malformed(&format!("an event is longer than {max} bytes"))
                }
            })
        })),
        Framing::Ndjson => Either::Right(NdjsonLines::new(bytes, max).map(move |item| {
            item.map_err(|e| match e {
                NdjsonError::Transport(e) => transport(e),
                NdjsonError::LineTooLong { max } => origin.malformed(&format!(
                    "a line is longer than {max} bytes without a newline"
                )),
            })
        })),
    }
}

/// A whole (non-streamed) body as one frame, at most `max` bytes.
fn whole_body(
    mut response: reqwest::Response,
    max: usize,
    endpoint: Endpoint,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    futures::stream::once(async move {
        let mut body = Vec::new();
        while let Some(bytes) = response.chunk().await.map_err(|e| endpoint.body_error(e))? {
            if body.len().saturating_add(bytes.len()) > max {
                return Err(endpoint
                    .origin
                    .malformed(&format!("the response is larger than {max} bytes")));
            }
            body.extend_from_slice(&bytes);
        }
        Ok(Bytes::from(body))
    })
}
