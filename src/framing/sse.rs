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
    inner: EventStream<EventCap<S>>,
}

impl<S> std::fmt::Debug for SseData<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseData").finish_non_exhaustive()
    }
}

impl<S> SseData<S> {
    /// Frames the byte stream `inner`; an event longer than `max_event` bytes is an error.
    pub(crate) fn new(inner: S, max_event: usize) -> SseData<S> {
        SseData {
            inner: EventStream::new(EventCap::new(inner, max_event)),
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
    /// An event grew past the cap without a blank line ending it.
    EventTooLong {
        /// The cap in bytes.
        max: usize,
    },
}

/// What [`EventCap`] yields as an error: the transport's, or the cap's.
#[derive(Debug)]
pub(crate) enum CapError<E> {
    Transport(E),
    TooLong(usize),
}

/// Passes bytes through unchanged while counting the bytes since the last blank line
/// (the end of an event), so that a server that never ends an event cannot make the
/// parser's buffer grow without bound.
///
/// A blank line is two line terminators in a row; with CRLF counted as one terminator,
/// the byte pairs that end a blank line are `\n\n`, `\r\r` and `\n\r` (`\r\n` alone is
/// a single terminator). Chunks usually end an event, so the backward scan is short.
#[pin_project]
pub(crate) struct EventCap<S> {
    #[pin]
    inner: S,
    max: usize,
    /// Bytes since the last blank line.
    run: usize,
    /// The last byte seen, for pairs split across chunks.
    last: u8,
    failed: bool,
}

impl<S> EventCap<S> {
    fn new(inner: S, max: usize) -> EventCap<S> {
        EventCap {
            inner,
            max,
            run: 0,
            last: 0,
            failed: false,
        }
    }
}

/// The number of bytes after the last blank-line pair in `prev` + `bytes`, or `None`.
fn bytes_after_blank_line(prev: u8, bytes: &[u8]) -> Option<usize> {
    let is_blank_pair =
        |a: u8, b: u8| matches!((a, b), (b'\n', b'\n') | (b'\r', b'\r') | (b'\n', b'\r'));
    for i in (0..bytes.len()).rev() {
        let before = if i == 0 { prev } else { bytes[i - 1] };
        if is_blank_pair(before, bytes[i]) {
            return Some(bytes.len() - i - 1);
        }
    }
    None
}

impl<S, B, E> Stream for EventCap<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = Result<B, CapError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        match ready!(this.inner.poll_next(cx)) {
            None => Poll::Ready(None),
            Some(Err(e)) => Poll::Ready(Some(Err(CapError::Transport(e)))),
            Some(Ok(chunk)) => {
                let bytes = chunk.as_ref();
                *this.run = match bytes_after_blank_line(*this.last, bytes) {
                    Some(after) => after,
                    None => this.run.saturating_add(bytes.len()),
                };
                if let Some(&b) = bytes.last() {
                    *this.last = b;
                }
                if *this.run > *this.max {
                    *this.failed = true;
                    return Poll::Ready(Some(Err(CapError::TooLong(*this.max))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
        }
    }
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
                Some(Err(EventStreamError::Transport(CapError::Transport(e)))) => {
                    Some(Err(SseError::Transport(e)))
                }
                Some(Err(EventStreamError::Transport(CapError::TooLong(max)))) => {
                    Some(Err(SseError::EventTooLong { max }))
                }
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

    fn frame_capped(pieces: Vec<Vec<u8>>, max: usize) -> Vec<String> {
        let input = futures::stream::iter(pieces.into_iter().map(Ok::<_, ()>));
        futures::executor::block_on(
            SseData::new(input, max)
                .map(|r| match r {
                    Ok(d) => d,
                    Err(SseError::Malformed(m)) => format!("ERR {m}"),
                    Err(SseError::Transport(())) => "ERR transport".into(),
                    Err(SseError::EventTooLong { max }) => format!("ERR too long {max}"),
                })
                .collect(),
        )
    }

    fn frame(pieces: Vec<Vec<u8>>) -> Vec<String> {
        frame_capped(pieces, 1 << 20)
    }

    #[test]
    fn an_event_that_never_ends_hits_the_cap() {
        let mut pieces = vec![b"data: ok\n\n".to_vec()];
        pieces.extend((0..100).map(|_| b"data: xxxxxxxxxx\n".to_vec()));
        let got = frame_capped(pieces, 500);
        assert_eq!(got, vec!["ok".to_string(), "ERR too long 500".to_string()]);
    }

    #[test]
    fn many_small_events_split_anywhere_never_hit_the_cap() {
        let body = "data: 0123456789\r\n\r\n".repeat(200);
        for size in [1, 2, 3, 7] {
            let pieces = body.as_bytes().chunks(size).map(<[u8]>::to_vec).collect();
            assert_eq!(frame_capped(pieces, 40).len(), 200, "size {size}");
        }
        let body = "data: 0123456789\r\r".repeat(50) + &"data: 0123456789\n\r\n".repeat(50);
        let pieces = body.as_bytes().chunks(1).map(<[u8]>::to_vec).collect();
        assert_eq!(frame_capped(pieces, 40).len(), 100);
    }

    #[test]
    fn blank_line_pairs() {
        assert_eq!(bytes_after_blank_line(0, b"abc\n\nde"), Some(2));
        assert_eq!(bytes_after_blank_line(b'\n', b"\nde"), Some(2));
        assert_eq!(bytes_after_blank_line(0, b"a\r\nb\r\n"), None);
        assert_eq!(bytes_after_blank_line(0, b"a\r\n\r\n"), Some(1));
        assert_eq!(bytes_after_blank_line(0, b""), None);
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
