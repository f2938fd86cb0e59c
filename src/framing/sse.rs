//! Server-Sent Events framing over eventsource-stream: bytes in, event data out.
//!
//! eventsource-stream implements the WHATWG parsing rules: lines end with CRLF, LF
//! or CR; a line starting with `:` is a comment; `data:` lines are joined with `\n`;
//! a blank line dispatches the event, and "if the data buffer is an empty string, set
//! the data buffer and the event type buffer to the empty string and return" (no
//! event). So comments (`: ping`) and data-less events (`event: keepalive`) never
//! reach the provider's mapping, and never count as activity for the idle timer.
//! Its UTF-8 decoding keeps incomplete multi-byte sequences until their last byte.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use eventsource_stream::{EventStream, EventStreamError};
use futures::Stream;
use pin_project::pin_project;

/// The data of each SSE event that has data.
#[pin_project]
pub(crate) struct SseData<S> {
    #[pin]
    inner: EventStream<S>,
}

impl<S> std::fmt::Debug for SseData<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseData").finish_non_exhaustive()
    }
}

impl<S> SseData<S> {
    /// Frames the byte stream `inner`.
    pub(crate) fn new(inner: S) -> SseData<S> {
        SseData {
            inner: EventStream::new(inner),
        }
    }
}

/// Why framing failed.
#[derive(Debug)]
pub(crate) enum SseError<E> {
    /// The underlying byte stream failed.
    Transport(E),
    /// The bytes were not valid UTF-8, or not parseable as SSE.
    Malformed(String),
}

impl<S, B, E> Stream for SseData<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = Result<String, SseError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            return Poll::Ready(match ready!(this.inner.as_mut().poll_next(cx)) {
                None => None,
                Some(Ok(event)) => {
                    // Dispatch already drops events whose data is empty; a `data:` line
                    // with nothing after it still makes an empty event on some
                    // servers. Neither is content.
                    if event.data.is_empty() {
                        continue;
                    }
                    Some(Ok(event.data))
                }
                Some(Err(EventStreamError::Transport(e))) => Some(Err(SseError::Transport(e))),
                Some(Err(EventStreamError::Utf8(e))) => Some(Err(SseError::Malformed(format!(
                    "invalid UTF-8 in the event stream: {e}"
                )))),
                Some(Err(EventStreamError::Parser(e))) => Some(Err(SseError::Malformed(format!(
                    "unparseable event stream: {e}"
                )))),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use proptest::prelude::*;

    fn frame(pieces: Vec<Vec<u8>>) -> Vec<String> {
        let input = futures::stream::iter(pieces.into_iter().map(Ok::<_, ()>));
        futures::executor::block_on(
            SseData::new(input)
                .map(|r| match r {
                    Ok(d) => d,
                    Err(SseError::Malformed(m)) => format!("ERR {m}"),
                    Err(SseError::Transport(())) => "ERR transport".into(),
                })
                .collect(),
        )
    }

    #[test]
    fn comments_keepalives_and_crlf() {
        let body = b": ping\n\nevent: keepalive\n\ndata: a\r\n\r\ndata: b\ndata: c\n\n:\n\ndata: [DONE]\n\n";
        assert_eq!(frame(vec![body.to_vec()]), vec!["a", "b\nc", "[DONE]"]);
    }

    #[test]
    fn split_multibyte_characters_survive() {
        let body = "data: {\"t\":\"héllo 🦀\"}\n\n".as_bytes();
        let pieces = body.iter().map(|b| vec![*b]).collect();
        assert_eq!(frame(pieces), vec!["{\"t\":\"héllo 🦀\"}"]);
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..400, 0..30)) {
            let body = ": hi\n\ndata: {\"a\":\"é\"}\r\n\r\nevent: keepalive\n\ndata: x\ndata: y\n\ndata: 🦀🦀\n\n".as_bytes();
            let whole = frame(vec![body.to_vec()]);
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= body.len()).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut last = 0;
            for c in cuts {
                pieces.push(body[last..c].to_vec());
                last = c;
            }
            pieces.push(body[last..].to_vec());
            prop_assert_eq!(frame(pieces), whole);
        }
    }
}
