//! Server-Sent Events framing, built in: bytes in, event data out, without copying
//! what arrives whole.
//!
//! It implements the same rules as the eventsource-stream crate (which the tests hold
//! it to, on any body split anywhere; `reference.rs`), from the WHATWG "event stream
//! interpretation":
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

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

/// A leading byte order mark, as UTF-8.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Why framing failed.
#[derive(Debug)]
pub(crate) enum SseError<E> {
    /// The underlying byte stream failed.
    Transport(E),
    /// The bytes were not valid UTF-8.
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
    scan: Scan,
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
            scan: Scan {
                read: Bytes::new(),
                line_end: None,
                partial: BytesMut::new(),
                data: Data::None,
                event_len: 0,
                max_event,
                after_cr: false,
            },
            head: Some(BytesMut::new()),
            eof: false,
            done: false,
        }
    }
}

/// The scanning state, apart from the inner stream: lines to events.
#[derive(Debug)]
struct Scan {
    /// The unscanned rest of the current read.
    read: Bytes,
    /// Where the first CR or LF of `read` is, when already found (the scan that tells
    /// a read with a line end from one without is not done twice).
    line_end: Option<usize>,
    /// The start of a line that continues in a later read.
    partial: BytesMut,
    data: Data,
    /// Bytes of the current event so far: its lines, not their line ends.
    event_len: usize,
    max_event: usize,
    /// The last line ended with a CR at the end of a read: an LF next belongs to it.
    after_cr: bool,
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

impl Scan {
    /// Scans lines until an event is complete or the read is used up. In the framer's
    /// poll, its one caller: a call and its register saves were ~50 instructions a chunk.
    #[inline(always)]
    fn next(&mut self) -> Found {
        loop {
            let Some(&first) = self.read.first() else {
                if self.event_len + self.partial.len() > self.max_event {
                    return Found::TooLong;
                }
                return Found::NeedMore;
            };
            if self.after_cr {
                self.after_cr = false;
                if first == b'\n' {
                    self.read.advance(1);
                    self.line_end = None;
                    continue;
                }
            }
            let found = match self.line_end.take() {
                Some(end) => Some(end),
                None => find_line_end(&self.read),
            };
            let Some(end) = found else {
                if self.event_len + self.partial.len() + self.read.len() > self.max_event {
                    return Found::TooLong;
                }
                self.partial.extend_from_slice(&self.read);
                self.read.clear();
                return Found::NeedMore;
            };
            let eol = match self.read.get(end..end + 2) {
                Some(b"\r\n") => 2,
                Some(_) => 1,
                // The read ends with this line's CR or LF; an LF may follow a CR.
                None => {
                    self.after_cr = self.read.get(end) == Some(&b'\r');
                    1
                }
            };
            if end == 0 && self.partial.is_empty() {
                // A blank line: dispatch.
                self.read.advance(eol);
                self.event_len = 0;
                match std::mem::replace(&mut self.data, Data::None) {
                    Data::One(data) if !data.is_empty() => return Found::Frame(data),
                    Data::Many(data) if !data.is_empty() => return Found::Frame(data.freeze()),
                    _ => continue,
                }
            }
            let line_len = self.partial.len() + end;
            // Line ends are not counted: where a CR LF is split must not matter.
            self.event_len += line_len;
            if self.event_len > self.max_event {
                return Found::TooLong;
            }
            if !self.partial.is_empty() {
                // The line began in an earlier read: join it, then read it as a whole.
                self.partial.extend_from_slice(&self.read[..end]);
                self.read.advance(end + eol);
                let line = self.partial.split().freeze();
                if let Err(e) = check_utf8(&line) {
                    return Found::Malformed(utf8_error(e));
                }
                if let Some(value) = data_value(&line) {
                    self.push_data(line.slice(value..));
                }
                continue;
            }
            let line = &self.read[..end];
            if let Err(e) = check_utf8(line) {
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
                let mut data = std::mem::take(&mut self.read);
                data.truncate(end);
                data.advance(value);
                self.after_cr = cr_last;
                self.event_len = 0;
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
        match &mut self.data {
            Data::None => self.data = Data::One(value),
            Data::One(first) => {
                let mut joined = BytesMut::with_capacity(first.len() + 1 + value.len());
                joined.extend_from_slice(first);
                joined.put_u8(b'\n');
                joined.extend_from_slice(&value);
                self.data = Data::Many(joined);
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
    // The usual line: no search for the colon.
    if let Some(rest) = line.strip_prefix(b"data:") {
        return Some(5 + usize::from(rest.first() == Some(&b' ')));
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

/// Whether `line` is UTF-8. Lines are almost always ASCII, checked here eight bytes
/// at a time in about half the instructions of the standard library's UTF-8 check
/// (or of its `is_ascii`, which measured the same on a typical event).
#[inline]
fn check_utf8(line: &[u8]) -> Result<(), std::str::Utf8Error> {
    if ascii(line) {
        return Ok(());
    }
    std::str::from_utf8(line).map(drop)
}

/// Whether every byte of `bytes` is ASCII: their high bits, or-ed a word at a time.
#[inline]
fn ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    let mut high = 0;
    for word in words {
        if let Ok(word) = <[u8; 8]>::try_from(word) {
            high |= u64::from_ne_bytes(word);
        }
    }
    high & HIGH == 0 && tail.iter().all(u8::is_ascii)
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

    #[inline(always)]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            let scan = &mut *this.scan;
            let found = scan.next();
            let error = match found {
                Found::Frame(data) => return Poll::Ready(Some(Ok(data))),
                Found::NeedMore => None,
                Found::Malformed(m) => Some(SseError::Malformed(m)),
                Found::TooLong => Some(SseError::EventTooLong {
                    max: scan.max_event,
                }),
            };
            if let Some(e) = error {
                *this.done = true;
                scan.read = Bytes::new();
                scan.line_end = None;
                scan.partial = BytesMut::new();
                scan.data = Data::None;
                return Poll::Ready(Some(Err(e)));
            }
            if *this.eof {
                *this.done = true;
                // An unfinished last line is discarded, but not if it is not UTF-8.
                if let Err(e) = check_utf8(&scan.partial) {
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
                    let line_end = find_line_end(&bytes);
                    if !bytes.is_empty() && line_end.is_none() {
                        // No line ends in this read: only its bytes are kept (the next
                        // scan checks the cap).
                        scan.after_cr = false;
                        scan.partial.extend_from_slice(&bytes);
                    } else {
                        scan.read = bytes;
                        scan.line_end = line_end;
                    }
                }
                Some(Err(e)) => {
                    *this.done = true;
                    scan.read = Bytes::new();
                    scan.line_end = None;
                    scan.partial = BytesMut::new();
                    return Poll::Ready(Some(Err(SseError::Transport(e))));
                }
                None => {
                    *this.eof = true;
                    // A body shorter than a BOM.
                    if let Some(mut head) = this.head.take() {
                        scan.read = skip_bom(head.split().freeze());
                        scan.line_end = None;
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
