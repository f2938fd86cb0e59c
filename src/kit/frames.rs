//! From a response body to frames, by the dialect's [`Framing`]: SSE events' data,
//! NDJSON lines or AWS event-stream messages, each capped; a body of
//! `application/json` is one frame.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures::Stream;
use pin_project::pin_project;

use crate::error::{Error, Result};
use crate::framing::eventstream::{EventStreamError, EventStreamFrames};
use crate::framing::ndjson::{NdjsonError, NdjsonLines};
use crate::framing::sse::{SseError, SseFrames};
use crate::http::{Accepted, Endpoint};
use crate::origin::Origin;

use super::pool::Member;
use super::Framing;

/// The frames of an accepted response's body from `member`, each at most `max` bytes;
/// `origin` (the reply's, with its media type) names it in errors.
pub(crate) fn frames(
    framing: Framing,
    accepted: Accepted,
    max: usize,
    member: &Arc<Member>,
    origin: Origin,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let endpoint = &member.endpoint;
    let Accepted { response, .. } = accepted;
    if origin.media_type() == Some("application/json") {
        // A server that ignored `stream: true`: one whole reply.
        return Frames::Whole {
            body: Some(Box::pin(whole_body(response, max, endpoint.clone()))),
        };
    }
    // The member, not a copy of its endpoint: every open stream holds this.
    let transport = {
        let member = member.clone();
        move |e: reqwest::Error| member.endpoint.body_error(e)
    };
    frames_of(framing, response.bytes_stream(), max, origin, transport)
}

/// The frames of any byte stream, its failures mapped by `transport`.
pub(crate) fn frames_of<S, E, T>(
    framing: Framing,
    bytes: S,
    max: usize,
    origin: Origin,
    transport: T,
) -> Frames<S, T>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: Send + 'static,
    T: Fn(E) -> Error + Send + 'static,
{
    match framing {
        Framing::Sse => Frames::Sse {
            events: SseFrames::new(bytes, max),
            origin,
            transport,
        },
        Framing::Ndjson => Frames::Ndjson {
            lines: NdjsonLines::new(bytes, max),
            origin,
            transport,
        },
        Framing::EventStream => Frames::EventStream {
            messages: EventStreamFrames::new(bytes, max),
            origin,
            transport,
        },
    }
}

/// A body's frames, whatever its framing: one stream type with its errors mapped in
/// place (rather than `Either`s of `map`s, each a call per frame and per wait).
#[pin_project(project = FramesProj)]
pub(crate) enum Frames<S, T> {
    /// SSE events' data.
    Sse {
        #[pin]
        events: SseFrames<S>,
        origin: Origin,
        transport: T,
    },
    /// NDJSON lines.
    Ndjson {
        #[pin]
        lines: NdjsonLines<S>,
        origin: Origin,
        transport: T,
    },
    /// AWS event-stream messages.
    EventStream {
        #[pin]
        messages: EventStreamFrames<S>,
        origin: Origin,
        transport: T,
    },
    /// A whole body as one frame; `None` once it was read.
    Whole { body: Option<WholeBody> },
}

/// Reading a whole body: rare (a server that ignored `stream: true`), so boxed.
type WholeBody = Pin<Box<dyn Future<Output = Result<Bytes>> + Send + 'static>>;

impl<S, E, T> Stream for Frames<S, T>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    T: Fn(E) -> Error,
{
    type Item = Result<Bytes>;

    #[inline(always)]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.project() {
            FramesProj::Sse {
                events,
                origin,
                transport,
            } => Poll::Ready(ready!(events.poll_next(cx)).map(|item| {
                item.map_err(|e| match e {
                    SseError::Transport(e) => transport(e),
                    SseError::Malformed(m) => origin.malformed(&m),
                    SseError::EventTooLong { max } => {
                        origin.malformed(&format!("an event is longer than {max} bytes"))
                    }
                })
            })),
            FramesProj::Ndjson {
                lines,
                origin,
                transport,
            } => Poll::Ready(ready!(lines.poll_next(cx)).map(|item| {
                item.map_err(|e| match e {
                    NdjsonError::Transport(e) => transport(e),
                    NdjsonError::LineTooLong { max } => origin.malformed(&format!(
                        "a line is longer than {max} bytes without a newline"
                    )),
                })
            })),
            FramesProj::EventStream {
                messages,
                origin,
                transport,
            } => Poll::Ready(ready!(messages.poll_next(cx)).map(|item| {
                item.map_err(|e| match e {
                    EventStreamError::Transport(e) => transport(e),
                    EventStreamError::Corrupt(what) => {
                        origin.malformed(&format!("a corrupt event-stream message: {what}"))
                    }
                    EventStreamError::TooLong { max, length } => origin.malformed(&format!(
                        "a message is longer than {max} bytes (it says {length})"
                    )),
                })
            })),
            FramesProj::Whole { body } => match body {
                None => Poll::Ready(None),
                Some(reading) => {
                    let whole = ready!(reading.as_mut().poll(cx));
                    *body = None;
                    Poll::Ready(Some(whole))
                }
            },
        }
    }
}

/// A whole (non-streamed) body as one frame, at most `max` bytes.
async fn whole_body(
    mut response: reqwest::Response,
    max: usize,
    endpoint: Endpoint,
) -> Result<Bytes> {
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
}
