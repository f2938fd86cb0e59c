//! Server-Sent Events framing, built in: bytes in, event data out, without copying
//! what arrives whole.
//!
//! It implements the same rules as the eventsource-stream framer in `framing::sse`
//! (which the tests hold it to, on any body split anywhere), from the WHATWG "event
//! stream interpretation":
//!
//! - "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED
//!   (CRLF) character pair, a single U+000A LINE FEED (LF) character, or a single
//!   U+000D CARRIAGE RETURN (CR) character." A CR at the end of a read ends its line at
//!   once; an LF first in the next read is then the rest of that CRLF.
//! - "If the line is empty (a blank line): Dispatch the event". "If the data buffer is
//!   an empty string, set the data buffer and the event type buffer to the empty
//!   string and return" (no event); "If the data buffer's last character is a U+000A
//!   LINE FEED (LF) character, then remove the last character from the data buffer."
//!   An event whose data is then empty is not content either, and is skipped.
//! - "If the line starts with a U+003A COLON character (:): Ignore the line" (comments,
//!   keep-alives).
//! - "If the line contains a U+003A COLON character (:): Collect the characters on the
//!   line before the first U+003A COLON character (:), and let field be that string.
//!   Collect the characters on the line after the first U+003A COLON character (:), and
//!   let value be that string. If value starts with a U+0020 SPACE character, remove it
//!   from value." Otherwise the whole line is the field name and the value is empty.
//! - For the field `data`: "Append the field value to the data buffer, then append a
//!   single U+000A LINE FEED (LF) character to the data buffer." Other fields (`event`,
//!   `id`, `retry`, unknown ones) change nothing the providers read, and are ignored.
//! - "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
//! - "Once the end of the file is reached, any pending data must be discarded."
//!
//! Like eventsource-stream, bytes that are not UTF-8 end the stream with an error
//! (every line is checked once it is complete, so a character split across reads is
//! fine). An event longer than the cap (its lines so far, or a line still arriving) is
//! an error instead of unbounded growth.
//!
//! Why it exists (measured, see README "Performance"): eventsource-stream copies every
//! read into a `String`, then into its line buffer, copies the rest of that buffer
//! once per line (`String::split_off`), builds a `String` per field, re-parses a line
//! from its start on every read while the line is incomplete, and allocates the event
//! type `"message"` for every event. On a typical OpenAI event that was about 430 ns of
//! the ~880 ns it took to frame and map it, and 39 µs per event when the body came one
//! byte per read. Here an event that arrives within one read is sliced out of it (at
//! most a reference count, no copy); only a line split across reads is copied, once.
//! Measured the same way: ~55 ns per event, and 1.8 µs per event one byte per read.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::Stream;
use pin_project::pin_project;

/// A leading byte order mark, as UTF-8.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Why framing failed.
#[derive(Debug)]
pub(crate) enum SseError<E> {
    /// The underlying byte stream failed.
    Transport(E),
    /// The bytes were not valid UTF-8 (or, for eventsource-stream, not parseable as SSE).
    Malformed(String),
    /// An event grew past the cap without a blank line ending it.
    EventTooLong {
        /// The cap in bytes.
        max: usize,
    },
}

/// The data of the event being read.
#[derive(Debug)]
enum Data {
    /// No `data` line yet.
    None,
    /// One `data` line: its value, sliced from the read it came in.
    One(Bytes),
    /// Several `data` lines, joined with `\n`.
    Many(BytesMut),
}

/// The data of each SSE event that has data, as [`Bytes`].
#[pin_project]
#[derive(Debug)]
pub(crate) struct SseFrames<S> {
    #[pin]
    inner: S,
    /// The unscanned rest of the current read.
    read: Bytes,
    /// The start of a line that continues in a later read.
    partial: BytesMut,
    data: Data,
    /// Bytes of the current event so far: its lines, not their line ends.
    event_len: usize,
    max_event: usize,
    /// The last line ended with a CR at the end of a read: an LF next belongs to it.
    after_cr: bool,
    /// The first bytes of the body while they may be a BOM; `None` once past them.
    head: Option<BytesMut>,
    /// The body ended; what is left in `read` is still to be scanned.
    eof: bool,
    /// Nothing more will be yielded.
    done: bool,
}

impl<S> SseFrames<S> {
    /// Frames the byte stream `inner`; an event longer than `max_event` bytes is an error.
    pub(crate) fn new(inner: S, max_event: usize) -> SseFrames<S> {
        SseFrames {
            inner,
            read: Bytes::new(),
            partial: BytesMut::new(),
            data: Data::None,
            event_len: 0,
            max_event,
            after_cr: false,
            head: Some(BytesMut::new()),
            eof: false,
            done: false,
        }
    }
}

/// The scanning state, apart from the inner stream.
struct Scan<'a> {
    read: &'a mut Bytes,
    partial: &'a mut BytesMut,
    data: &'a mut Data,
    event_len: &'a mut usize,
    max_event: usize,
    after_cr: &'a mut bool,
}

/// What scanning the current read gave.
enum Found {
    /// An event's data.
    Frame(Bytes),
    /// The read is used up (its unfinished last line, if any, is in `partial`).
    NeedMore,
    /// Malformed input or the cap: the stream ends.
    Malformed(String),
    TooLong,
}

impl Scan<'_> {
    /// Scans lines until an event is complete or the read is used up.
    fn next(&mut self) -> Found {
        loop {
            let Some(&first) = self.read.first() else {
                if *self.event_len + self.partial.len() > self.max_event {
                    return Found::TooLong;
                }
                return Found::NeedMore;
            };
            if *self.after_cr {
                *self.after_cr = false;
                if first == b'\n' {
                    self.read.advance(1);
                    continue;
                }
            }
            let Some(end) = find_line_end(self.read) else {
                if *self.event_len + self.partial.len() + self.read.len() > self.max_event {
                    return Found::TooLong;
                }
                self.partial.extend_from_slice(self.read);
                self.read.clear();
                return Found::NeedMore;
            };
            let eol = match self.read.get(end..end + 2) {
                Some(b"\r\n") => 2,
                Some(_) => 1,
                // The read ends with this line's CR or LF; an LF may follow a CR.
                None => {
                    *self.after_cr = self.read.get(end) == Some(&b'\r');
                    1
                }
            };
            if end == 0 && self.partial.is_empty() {
                // A blank line: dispatch.
                self.read.advance(eol);
                *self.event_len = 0;
                match std::mem::replace(self.data, Data::None) {
                    Data::One(data) if !data.is_empty() => return Found::Frame(data),
                    Data::Many(data) if !data.is_empty() => return Found::Frame(data.freeze()),
                    _ => continue,
                }
            }
            let line_len = self.partial.len() + end;
            // Line ends are not counted: where a CR LF is split must not matter.
            *self.event_len += line_len;
            if *self.event_len > self.max_event {
                return Found::TooLong;
            }
            if !self.partial.is_empty() {
                // The line began in an earlier read: join it, then read it as a whole.
                self.partial.extend_from_slice(&self.read[..end]);
                self.read.advance(end + eol);
                let line = self.partial.split().freeze();
                if let Err(e) = std::str::from_utf8(&line) {
                    return Found::Malformed(utf8_error(e));
                }
                if let Some(value) = data_value(&line) {
                    self.push_data(line.slice(value..));
                }
                continue;
            }
            let line = &self.read[..end];
            if let Err(e) = std::str::from_utf8(line) {
                return Found::Malformed(utf8_error(e));
            }
            let Some(value) = data_value(line) else {
                self.read.advance(end + eol);
                continue;
            };
            // The usual event, `data: …` and a blank line that end the read, is the read
            // itself, trimmed: no reference count is taken.
            let blank = match self.read.get(end + eol..) {
                Some(b"\n" | b"\r\n") => Some(false),
                Some(b"\r") => Some(true),
                _ => None,
            };
            if let (Some(cr_last), Data::None) = (blank, &self.data) {
                let mut data = std::mem::take(self.read);
                data.truncate(end);
                data.advance(value);
                *self.after_cr = cr_last;
                *self.event_len = 0;
                if data.is_empty() {
                    continue;
                }
                return Found::Frame(data);
            }
            let data = self.read.slice(value..end);
            self.read.advance(end + eol);
            self.push_data(data);
        }
    }

    /// Appends a `data` line's value to the event's data.
    fn push_data(&mut self, value: Bytes) {
        match self.data {
            Data::None => *self.data = Data::One(value),
            Data::One(first) => {
                let mut joined = BytesMut::with_capacity(first.len() + 1 + value.len());
                joined.extend_from_slice(first);
                joined.put_u8(b'\n');
                joined.extend_from_slice(&value);
                *self.data = Data::Many(joined);
            }
            Data::Many(joined) => {
                joined.put_u8(b'\n');
                joined.extend_from_slice(&value);
            }
        }
    }
}

/// Where the value of a `data` field starts in `line` (a non-blank line); `None` for a
/// comment or any other field.
fn data_value(line: &[u8]) -> Option<usize> {
    if line.first() == Some(&b':') {
        return None;
    }
    let (name, value) = match memchr::memchr(b':', line) {
        Some(colon) => {
            let skip = usize::from(line.get(colon + 1) == Some(&b' '));
            (&line[..colon], colon + 1 + skip)
        }
        None => (line, line.len()),
    };
    (name == b"data").then_some(value)
}

/// Where the first CR or LF in `bytes` is. memchr is fast on long reads; a plain loop
/// is faster on reads of a few bytes.
#[inline]
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 16 {
        bytes.iter().position(|&b| b == b'\n' || b == b'\r')
    } else {
        memchr::memchr2(b'\n', b'\r', bytes)
    }
}

fn utf8_error(e: std::str::Utf8Error) -> String {
    format!("invalid UTF-8 in the event stream: {e}")
}

impl<S, B, E> Stream for SseFrames<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
{
    type Item = Result<Bytes, SseError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            let found = Scan {
                read: this.read,
                partial: this.partial,
                data: this.data,
                event_len: this.event_len,
                max_event: *this.max_event,
                after_cr: this.after_cr,
            }
            .next();
            let error = match found {
                Found::Frame(data) => return Poll::Ready(Some(Ok(data))),
                Found::NeedMore => None,
                Found::Malformed(m) => Some(SseError::Malformed(m)),
                Found::TooLong => Some(SseError::EventTooLong {
                    max: *this.max_event,
                }),
            };
            if let Some(e) = error {
                *this.done = true;
                *this.read = Bytes::new();
                *this.partial = BytesMut::new();
                *this.data = Data::None;
                return Poll::Ready(Some(Err(e)));
            }
            if *this.eof {
                *this.done = true;
                // An unfinished last line is discarded, but not if it is not UTF-8.
                if let Err(e) = std::str::from_utf8(this.partial) {
                    return Poll::Ready(Some(Err(SseError::Malformed(format!(
                        "invalid UTF-8 in the event stream: {e}"
                    )))));
                }
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(bytes)) => {
                    let bytes = bytes.into();
                    let bytes = match this.head.as_mut() {
                        None => bytes,
                        Some(head) if head.is_empty() && bytes.len() >= BOM.len() => {
                            *this.head = None;
                            skip_bom(bytes)
                        }
                        Some(head) => {
                            head.extend_from_slice(&bytes);
                            if head.len() < BOM.len() && BOM.starts_with(head) {
                                continue; // not yet known whether it is a BOM
                            }
                            let bytes = head.split().freeze();
                            *this.head = None;
                            skip_bom(bytes)
                        }
                    };
                    if !bytes.is_empty() && find_line_end(&bytes).is_none() {
                        // No line ends in this read: only its bytes are kept (the next
                        // scan checks the cap).
                        *this.after_cr = false;
                        this.partial.extend_from_slice(&bytes);
                    } else {
                        *this.read = bytes;
                    }
                }
                Some(Err(e)) => {
                    *this.done = true;
                    *this.read = Bytes::new();
                    *this.partial = BytesMut::new();
                    return Poll::Ready(Some(Err(SseError::Transport(e))));
                }
                None => {
                    *this.eof = true;
                    // A body shorter than a BOM.
                    if let Some(mut head) = this.head.take() {
                        *this.read = skip_bom(head.split().freeze());
                    }
                }
            }
        }
    }
}

fn skip_bom(mut bytes: Bytes) -> Bytes {
    if bytes.starts_with(BOM) {
        bytes.advance(BOM.len());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::{bytewise, cut};
    use futures::StreamExt;
    use proptest::prelude::*;

    fn frame_capped(pieces: Vec<Vec<u8>>, max: usize) -> Vec<String> {
        let input = futures::stream::iter(pieces.into_iter().map(Ok::<_, ()>));
        futures::executor::block_on(
            SseFrames::new(input, max)
                .map(|r| match r {
                    Ok(d) => String::from_utf8(d.to_vec()).unwrap(),
                    Err(SseError::Malformed(_)) => "ERR utf8".to_string(),
                    Err(SseError::Transport(())) => "ERR transport".into(),
                    Err(SseError::EventTooLong { max }) => format!("ERR too long {max}"),
                })
                .collect(),
        )
    }

    fn frame(pieces: Vec<Vec<u8>>) -> Vec<String> {
        frame_capped(pieces, 1 << 20)
    }

    /// The same body through eventsource-stream (the reference), errors normalized.
    fn reference(pieces: Vec<Vec<u8>>) -> Vec<String> {
        use super::super::sse::{SseData, SseError as RefError};
        let input = futures::stream::iter(pieces.into_iter().map(Ok::<_, ()>));
        futures::executor::block_on(
            SseData::new(input, 1 << 20)
                .map(|r| match r {
                    Ok(d) => d,
                    Err(RefError::Malformed(_)) => "ERR utf8".to_string(),
                    Err(RefError::Transport(())) => "ERR transport".into(),
                    Err(RefError::EventTooLong { max }) => format!("ERR too long {max}"),
                })
                .collect(),
        )
    }

    #[test]
    fn comments_keepalives_and_crlf() {
        let body = b": ping\n\nevent: keepalive\n\ndata: a\r\n\r\ndata: b\ndata: c\n\n:\n\ndata: [DONE]\n\n";
        assert_eq!(frame(vec![body.to_vec()]), vec!["a", "b\nc", "[DONE]"]);
        assert_eq!(frame(bytewise(body)), vec!["a", "b\nc", "[DONE]"]);
    }

    #[test]
    fn field_values_lose_one_leading_space_only() {
        let body = b"data:x\n\ndata:  two\n\ndata\n\ndata:\ndata:\n\nDATA: no\n\ndata:: colon\n\n";
        assert_eq!(
            frame(vec![body.to_vec()]),
            vec!["x", " two", "\n", ": colon"]
        );
    }

    #[test]
    fn every_line_end_and_a_cr_at_the_end_of_a_read() {
        let body = b"data: a\r\rdata: b\r\n\r\ndata: c\n\rdata: d\r\n\n";
        let want = vec!["a", "b", "c", "d"];
        assert_eq!(frame(vec![body.to_vec()]), want);
        assert_eq!(frame(bytewise(body)), want);
        // CR, then LF in the next read: one line end, so no blank line yet.
        assert_eq!(
            frame(vec![
                b"data: a\r".to_vec(),
                b"\ndata: b\r".to_vec(),
                b"\n\r\n".to_vec()
            ]),
            vec!["a\nb"]
        );
        // The last bytes of the body are CR CR: the event is complete.
        assert_eq!(frame(vec![b"data: a\r\r".to_vec()]), vec!["a"]);
    }

    #[test]
    fn a_leading_bom_is_skipped_once_even_split() {
        let body = b"\xef\xbb\xbfdata: a\n\n";
        assert_eq!(frame(vec![body.to_vec()]), vec!["a"]);
        assert_eq!(frame(bytewise(body)), vec!["a"]);
        // A second BOM is part of the first line's field name.
        assert_eq!(
            frame(vec![
                b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n".to_vec()
            ]),
            vec!["b"]
        );
        assert_eq!(frame(vec![b"\xef".to_vec()]), vec!["ERR utf8"]);
        assert!(frame(vec![]).is_empty());
    }

    #[test]
    fn unfinished_events_at_the_end_are_discarded() {
        assert!(frame(vec![b"data: a\n".to_vec()]).is_empty());
        assert!(frame(vec![b"data: a".to_vec()]).is_empty());
    }

    #[test]
    fn invalid_utf8_ends_the_stream() {
        let body = b"data: ok\n\ndata: \xff\n\ndata: late\n\n";
        assert_eq!(frame(vec![body.to_vec()]), vec!["ok", "ERR utf8"]);
        assert_eq!(reference(vec![body.to_vec()]), vec!["ok", "ERR utf8"]);
    }

    #[test]
    fn split_multibyte_characters_survive() {
        let body = "data: {\"t\":\"héllo 🦀\"}\n\n".as_bytes();
        assert_eq!(frame(bytewise(body)), vec!["{\"t\":\"héllo 🦀\"}"]);
    }

    #[test]
    fn an_event_that_never_ends_hits_the_cap() {
        let mut pieces = vec![b"data: ok\n\n".to_vec()];
        pieces.extend((0..100).map(|_| b"data: xxxxxxxxxx\n".to_vec()));
        let got = frame_capped(pieces, 500);
        assert_eq!(got, vec!["ok".to_string(), "ERR too long 500".to_string()]);
        // Nor a line that never ends.
        let got = frame_capped(vec![vec![b'x'; 300], vec![b'x'; 300]], 500);
        assert_eq!(got, vec!["ERR too long 500".to_string()]);
        // Nor an event longer than the cap that arrives whole in one read.
        let long = format!("data: {}\n\n", "y".repeat(600));
        assert_eq!(
            frame_capped(vec![long.into_bytes()], 500),
            vec!["ERR too long 500"]
        );
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
    fn transport_errors_end_the_stream() {
        let input = futures::stream::iter(vec![
            Ok(b"data: a\n\ndata: b".to_vec()),
            Err(()),
            Ok(b"\n\n".to_vec()),
        ]);
        let got: Vec<_> = futures::executor::block_on(SseFrames::new(input, 100).collect());
        assert_eq!(got.len(), 2);
        assert!(matches!(got[1], Err(SseError::Transport(()))));
    }

    #[test]
    fn a_one_line_event_in_one_read_is_not_copied() {
        let read = Bytes::from_static(b"data: {\"a\":1}\n\n");
        let input = futures::stream::iter(vec![Ok::<_, ()>(read.clone())]);
        let got: Vec<_> = futures::executor::block_on(SseFrames::new(input, 100).collect());
        let Ok(frame) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(frame.as_ptr(), read[6..].as_ptr());
    }

    /// Bodies made of SSE's pieces, including the awkward ones: every line end, BOMs,
    /// comments, fields without a colon, empty data, CR and LF alone, invalid and split
    /// UTF-8.
    fn sse_body() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop::sample::select(vec![
                &b"data: "[..],
                b"data:",
                b"data",
                b"event: x",
                b"id: 1",
                b"retry: 5",
                b": c",
                b":",
                b"\n",
                b"\r",
                b"\r\n",
                b"\n\n",
                b"{\"a\":\"\xc3\xa9\"}",
                b"[DONE]",
                b" ",
                b"x",
                b"\xef\xbb\xbf",
                b"\xf0\x9f\xa6\x80",
                b"\xf0\x9f",
                b"\xff",
                b"\0",
            ]),
            0..40,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..400, 0..30)) {
            let body = ": hi\n\ndata: {\"a\":\"é\"}\r\n\r\nevent: keepalive\n\ndata: x\ndata: y\n\ndata: 🦀🦀\n\n".as_bytes();
            let whole = frame(vec![body.to_vec()]);
            prop_assert_eq!(frame(cut(body, cuts)), whole);
        }

        /// With a small cap, the events and the error do not depend on where reads
        /// end either.
        #[test]
        fn any_split_gives_the_same_events_and_errors_at_the_cap(
            body in sse_body(),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            max in 0usize..40,
        ) {
            let got = frame_capped(vec![body.clone()], max);
            prop_assert_eq!(&frame_capped(cut(&body, cuts), max), &got);
            prop_assert_eq!(&frame_capped(bytewise(&body), max), &got);
        }

        /// The built-in framer gives what eventsource-stream gives, on any body split
        /// anywhere; and gives the same for every split.
        #[test]
        fn it_agrees_with_eventsource_stream(
            body in sse_body(),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let got = frame(vec![body.clone()]);
            prop_assert_eq!(&frame(cut(&body, cuts)), &got);
            prop_assert_eq!(&frame(bytewise(&body)), &got);
            let expected = reference(vec![body.clone()]);
            if got != expected {
                // The one known difference: eventsource-stream holds a CR that ends the
                // bytes it has decoded until it sees what follows (it might be CRLF).
                // When what follows is not UTF-8 it never does, so an event that CR
                // dispatched is lost before the error. Here the CR ends its line at once.
                let (got_last, got_events) = got.split_last().unwrap();
                let (exp_last, exp_events) = expected.split_last().unwrap();
                prop_assert_eq!(got_last, "ERR utf8");
                prop_assert_eq!(exp_last, "ERR utf8");
                prop_assert!(got_events.starts_with(exp_events), "{:?} vs {:?}", got, expected);
                prop_assert!(body.contains(&b'\r'));
            }
        }
    }
}
