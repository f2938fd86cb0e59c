//! Server-Sent Events framing over eventsource-stream: bytes in, event data out.
//!
//! eventsource-stream implements the WHATWG parsing rules: lines end with CRLF, LF
//! or CR; a line starting with `:` is a comment; `data:` lines are joined with `\n`;
//! a blank line dispatches the event, and "if the data buffer is an empty string, set
//! the data buffer and the event type buffer to the empty string and return" (no
//! event). So comments (`: ping`) and data-less events (`event: keepalive`) never
//! reach the provider's mapping, and never count as activity for the idle timer.
//! Its UTF-8 decoding keeps incomplete multi-byte sequences until their last byte.
//! It gets the two ends of the body wrong, which [`Edges`] fixes before it sees them.

use std::borrow::Cow;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError};
use futures::Stream;
use pin_project::pin_project;

/// The data of each SSE event that has data.
#[pin_project]
pub(crate) struct SseData<S> {
    #[pin]
    inner: EventStream<Edges<EventCap<S>>>,
    /// An error was yielded: nothing follows it.
    done: bool,
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
            inner: EventStream::new(Edges::new(EventCap::new(inner, max_event))),
            done: false,
        }
    }
}

/// Both framers fail the same ways.
pub(crate) use super::SseError;

/// What [`EventCap`] yields as an error: the transport's, or the cap's.
#[derive(Debug)]
pub(crate) enum CapError<E> {
    Transport(E),
    TooLong(usize),
}

/// Passes bytes through unchanged while counting the bytes of the current event's
/// lines (not their line ends) since the last blank line, so that a server that never
/// ends an event cannot make the parser's buffer grow without bound.
///
/// The count is kept byte by byte, as the built-in framer keeps it line by line, so
/// the cap fires at the same byte however the body is split into reads: the bytes
/// before that byte are passed on (the events they finish are still delivered), then
/// the error. CR LF is one line end, also when a read ends between the two.
#[pin_project]
pub(crate) struct EventCap<S> {
    #[pin]
    inner: S,
    max: usize,
    count: EventCount,
    /// The cap was passed: its error comes after the bytes before it.
    pending: bool,
    failed: bool,
}

impl<S> EventCap<S> {
    fn new(inner: S, max: usize) -> EventCap<S> {
        EventCap {
            inner,
            max,
            count: EventCount::default(),
            pending: false,
            failed: false,
        }
    }
}

/// The bytes of the current event's lines, counted across reads.
#[derive(Debug)]
struct EventCount {
    /// Bytes of the current event's lines so far.
    run: usize,
    /// No byte of the current line yet: a line end here ends the event.
    line_start: bool,
    /// The last byte was a CR: an LF next is part of its line end.
    after_cr: bool,
}

impl Default for EventCount {
    fn default() -> EventCount {
        EventCount {
            run: 0,
            line_start: true,
            after_cr: false,
        }
    }
}

impl EventCount {
    /// Counts `bytes` into the event: the index of the byte that takes the event past
    /// `max`, if one does.
    fn add(&mut self, bytes: &[u8], max: usize) -> Option<usize> {
        let mut at = 0;
        while at < bytes.len() {
            if self.after_cr && bytes[at] == b'\n' {
                self.after_cr = false;
                at += 1;
                continue;
            }
            let end = memchr::memchr2(b'\n', b'\r', &bytes[at..]).map_or(bytes.len(), |i| at + i);
            let line = end - at;
            if line > 0 {
                self.after_cr = false;
                self.line_start = false;
                if self.run + line > max {
                    return Some(at + (max - self.run));
                }
                self.run += line;
            }
            if end == bytes.len() {
                break;
            }
            if self.line_start {
                self.run = 0;
            }
            self.line_start = true;
            self.after_cr = bytes[end] == b'\r';
            at = end + 1;
        }
        None
    }
}

impl<S, B, E> Stream for EventCap<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
{
    type Item = Result<Bytes, CapError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if std::mem::take(this.pending) {
            *this.failed = true;
            return Poll::Ready(Some(Err(CapError::TooLong(*this.max))));
        }
        if *this.failed {
            return Poll::Ready(None);
        }
        match ready!(this.inner.poll_next(cx)) {
            None => Poll::Ready(None),
            Some(Err(e)) => Poll::Ready(Some(Err(CapError::Transport(e)))),
            Some(Ok(chunk)) => {
                let mut bytes: Bytes = chunk.into();
                match this.count.add(&bytes, *this.max) {
                    None => Poll::Ready(Some(Ok(bytes))),
                    Some(0) => {
                        *this.failed = true;
                        Poll::Ready(Some(Err(CapError::TooLong(*this.max))))
                    }
                    Some(at) => {
                        bytes.truncate(at);
                        *this.pending = true;
                        Poll::Ready(Some(Ok(bytes)))
                    }
                }
            }
        }
    }
}

/// A leading byte order mark, which the SSE rules skip: "One leading U+FEFF BYTE ORDER
/// MARK character must be ignored if any are present."
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Fixes up the two ends of the body for eventsource-stream's parser, which gets both
/// wrong:
///
/// - The start: it skips a leading BOM by slicing one byte off it, but the BOM is three
///   bytes in UTF-8, so any body starting with one panicked (upstream:
///   jpopesculian/eventsource-stream pull request #10). Here the BOM is skipped, and the
///   parser is first given a comment line (`:\n`, which changes nothing), so that it
///   never sees a BOM first, not even in a body that starts with two of them.
/// - The end: "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE
///   FEED (CRLF) character pair, a single U+000A LINE FEED (LF) character, or a single
///   U+000D CARRIAGE RETURN (CR) character", but after a CR the parser waits for an LF
///   that may follow, even at the end of the body: an event ended by `\r\r` as the
///   last bytes of a body was lost. So a body that ends with a CR gets an LF, which
///   makes the same line end.
#[pin_project]
pub(crate) struct Edges<S> {
    #[pin]
    inner: S,
    /// The first bytes of the body while they may still be a BOM; `None` once past.
    head: Option<Vec<u8>>,
    /// The last byte passed on.
    last: u8,
    ended: bool,
}

impl<S> Edges<S> {
    fn new(inner: S) -> Edges<S> {
        Edges {
            inner,
            head: Some(Vec::new()),
            last: 0,
            ended: false,
        }
    }
}

/// What [`Edges`] passes on: a read as it came, or bytes of its own.
pub(crate) enum Piece<B> {
    Read(B),
    Own(Cow<'static, [u8]>),
}

impl<B: AsRef<[u8]>> AsRef<[u8]> for Piece<B> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Piece::Read(b) => b.as_ref(),
            Piece::Own(b) => b,
        }
    }
}

/// The start of the body for the parser: a comment line, then `head` without its BOM.
fn start(head: Vec<u8>) -> Vec<u8> {
    let rest = head.strip_prefix(BOM).unwrap_or(&head);
    [b":\n", rest].concat()
}

impl<S, B, E> Stream for Edges<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
{
    type Item = Result<Piece<B>, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.ended {
                return Poll::Ready(None);
            }
            let piece = match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(chunk)) => match this.head {
                    None => Piece::Read(chunk),
                    Some(head) => {
                        head.extend_from_slice(chunk.as_ref());
                        if head.len() < BOM.len() && BOM.starts_with(head) {
                            continue; // not yet known whether it is a BOM
                        }
                        Piece::Own(Cow::Owned(start(std::mem::take(head))))
                    }
                },
                None => {
                    *this.ended = true;
                    match this.head.take() {
                        // A body shorter than a BOM.
                        Some(head) => Piece::Own(Cow::Owned(start(head))),
                        None if *this.last == b'\r' => Piece::Own(Cow::Borrowed(b"\n")),
                        None => return Poll::Ready(None),
                    }
                }
            };
            *this.head = None;
            if let Some(&b) = piece.as_ref().last() {
                *this.last = b;
            }
            return Poll::Ready(Some(Ok(piece)));
        }
    }
}

impl<S, B, E> Stream for SseData<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
{
    type Item = Result<String, SseError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            let item = match ready!(this.inner.as_mut().poll_next(cx)) {
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
            };
            // After an error the parser could still dispatch an event from what it
            // holds (Edges ends a body that ends in CR with an LF): the error is last.
            *this.done = matches!(item, Some(Err(_)));
            return Poll::Ready(item);
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
    fn the_cap_counts_line_bytes_of_one_event() {
        let over = |body: &[u8], max| EventCount::default().add(body, max);
        // Line ends are not counted; a blank line starts a new count.
        assert_eq!(over(b"data: a\r\ndata: b\n\ndata: efgh", 14), None);
        // The 13th byte of the event's lines is at index 14.
        assert_eq!(over(b"data: abc\r\ndata: de\n\n", 12), Some(14));
        assert_eq!(over(b"data: abc\r\rdata: de\n\r", 12), None);
        // CR LF split across reads is one line end, not a blank line.
        let mut count = EventCount::default();
        let mut feed = |b: &[u8]| count.add(b, 5);
        assert_eq!(feed(b"abc\r"), None);
        assert_eq!(feed(b"\nde"), None);
        assert_eq!(feed(b"f"), Some(0));
    }

    #[test]
    fn events_before_the_one_past_the_cap_are_delivered_in_one_read() {
        let body = b"data: ok\n\ndata: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\ndata: late\n\n";
        assert_eq!(
            frame_capped(vec![body.to_vec()], 20),
            vec!["ok".to_string(), "ERR too long 20".to_string()]
        );
    }

    #[test]
    fn comments_keepalives_and_crlf() {
        let body = b": ping\n\nevent: keepalive\n\ndata: a\r\n\r\ndata: b\ndata: c\n\n:\n\ndata: [DONE]\n\n";
        assert_eq!(frame(vec![body.to_vec()]), vec!["a", "b\nc", "[DONE]"]);
    }

    #[test]
    fn split_multibyte_characters_survive() {
        let body = "data: {\"t\":\"héllo 🦀\"}\n\n".as_bytes();
        assert_eq!(
            frame(crate::framing::bytewise(body)),
            vec!["{\"t\":\"héllo 🦀\"}"]
        );
    }

    /// Every way to cut `body` into two or three pieces, and one byte at a time.
    fn splits(body: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut all = vec![crate::framing::bytewise(body)];
        for i in 0..=body.len() {
            for j in i..=body.len() {
                all.push(vec![
                    body[..i].to_vec(),
                    body[i..j].to_vec(),
                    body[j..].to_vec(),
                ]);
            }
        }
        all
    }

    #[test]
    fn a_leading_bom_is_skipped_instead_of_panicking() {
        // Regression: eventsource-stream skips a leading BOM by slicing one byte off
        // the three-byte character, which panicked on any body that started with one.
        let cases: [(&[u8], &[&str]); 5] = [
            (b"\xef\xbb\xbfdata: a\n\ndata: b\n\n", &["a", "b"]),
            // Only one BOM is skipped; a second one is part of the first line's field
            // name, so that line is ignored.
            (b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n", &["b"]),
            // A BOM anywhere else is data.
            (b"data: \xef\xbb\xbfa\n\n", &["\u{feff}a"]),
            (b"\xef\xbb\xbf", &[]),
            (b"\xef\xbb", &["ERR invalid UTF-8 in the event stream: incomplete utf-8 byte sequence from index 0"]),
        ];
        for (body, want) in cases {
            for pieces in splits(body) {
                assert_eq!(frame(pieces.clone()), want, "{pieces:?}");
            }
        }
    }

    #[test]
    fn an_event_ended_by_cr_at_the_end_of_the_body_is_delivered() {
        // Regression: after a CR the parser waited for a possible LF even at the end of
        // the body, so a last event ended by `\r\r` (or `\n\r`) was lost.
        for body in [&b"data: a\r\r"[..], b"data: a\n\r", b"data: a\r\n\r"] {
            for pieces in splits(body) {
                assert_eq!(frame(pieces.clone()), vec!["a"], "{pieces:?}");
            }
        }
        // A line cut off by the end of the body is still not an event.
        assert!(frame(vec![b"data: a\r".to_vec()]).is_empty());
        assert!(frame(vec![b"data: a".to_vec()]).is_empty());
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..400, 0..30)) {
            let body = ": hi\n\ndata: {\"a\":\"é\"}\r\n\r\nevent: keepalive\n\ndata: x\ndata: y\n\ndata: 🦀🦀\n\n".as_bytes();
            let whole = frame(vec![body.to_vec()]);
            let pieces = crate::framing::cut(body, cuts);
            prop_assert_eq!(frame(pieces), whole);
        }

        /// With a small cap, the events and the error do not depend on where reads
        /// end.
        #[test]
        fn any_split_gives_the_same_events_and_errors_at_the_cap(
            parts in proptest::collection::vec(prop::sample::select(vec![
                &b"data: "[..], b"data: 0123456789", b": c", b"\n", b"\r", b"\r\n", b"\n\n",
                b"x", b"\xef\xbb\xbf", b"\xf0\x9f\xa6\x80", b"\xf0\x9f", b"\xff",
            ]), 0..40),
            cuts in proptest::collection::vec(0usize..400, 0..12),
            max in 0usize..40,
        ) {
            let body = parts.concat();
            let whole = frame_capped(vec![body.clone()], max);
            let pieces = crate::framing::cut(&body, cuts);
            prop_assert_eq!(&frame_capped(pieces, max), &whole);
            prop_assert_eq!(&frame_capped(crate::framing::bytewise(&body), max), &whole);
        }
    }
}
