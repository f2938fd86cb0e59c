//! Newline-delimited JSON framing: bytes in, one line per item out. No JSON here.
//!
//! Lines are split on `b'\n'` in bytes, before any UTF-8 decoding, so a multi-byte
//! character split across network reads is never cut. A trailing `\r` is removed,
//! blank lines are skipped, a last line without a newline is flushed at the end of
//! the body, and a line longer than the cap is an error instead of unbounded growth.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;
use pin_project::pin_project;

/// A framing failure: the transport failed, or a line exceeded the cap.
#[derive(Debug)]
pub(crate) enum NdjsonError<E> {
    /// The underlying byte stream failed.
    Transport(E),
    /// A line grew past `max` bytes without a newline.
    LineTooLong {
        /// The cap in bytes.
        max: usize,
    },
}

/// Splits a byte stream into lines (without their `\n` or `\r\n`).
#[pin_project]
#[derive(Debug)]
pub(crate) struct NdjsonLines<S> {
    #[pin]
    inner: S,
    /// Bytes received but not yet framed: at most one partial line once drained.
    buf: BytesMut,
    /// How far `buf` has been searched for `\n` (so each byte is scanned once).
    scanned: usize,
    max_line: usize,
    done: bool,
}

impl<S> NdjsonLines<S> {
    /// Frames `inner`, failing on any line longer than `max_line` bytes.
    pub(crate) fn new(inner: S, max_line: usize) -> NdjsonLines<S> {
        NdjsonLines {
            inner,
            buf: BytesMut::new(),
            scanned: 0,
            max_line,
            done: false,
        }
    }
}

/// The next complete, non-blank line in `buf`, removed from it.
fn next_line(buf: &mut BytesMut, scanned: &mut usize) -> Option<Bytes> {
    loop {
        let from = (*scanned).min(buf.len());
        let pos = buf[from..].iter().position(|&b| b == b'\n')? + from;
        let mut line = buf.split_to(pos + 1).freeze();
        *scanned = 0;
        line.truncate(pos);
        if line.last() == Some(&b'\r') {
            line.truncate(pos - 1);
        }
        if !is_blank(&line) {
            return Some(line);
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

impl<S, B, E> Stream for NdjsonLines<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
{
    type Item = Result<Bytes, NdjsonError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(line) = next_line(this.buf, this.scanned) {
                if line.len() > *this.max_line {
                    // A complete line that arrived in one read is held to the cap too.
                    *this.done = true;
                    this.buf.clear();
                    *this.scanned = 0;
                    return Poll::Ready(Some(Err(NdjsonError::LineTooLong {
                        max: *this.max_line,
                    })));
                }
                return Poll::Ready(Some(Ok(line)));
            }
            *this.scanned = this.buf.len();
            if *this.done {
                return Poll::Ready(None);
            }
            if this.buf.len() > *this.max_line {
                *this.done = true;
                this.buf.clear();
                *this.scanned = 0;
                return Poll::Ready(Some(Err(NdjsonError::LineTooLong {
                    max: *this.max_line,
                })));
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(mut bytes)) => {
                    while bytes.has_remaining() {
                        let chunk = bytes.chunk();
                        this.buf.extend_from_slice(chunk);
                        let n = chunk.len();
                        bytes.advance(n);
                    }
                }
                Some(Err(e)) => {
                    *this.done = true;
                    this.buf.clear();
                    *this.scanned = 0;
                    return Poll::Ready(Some(Err(NdjsonError::Transport(e))));
                }
                None => {
                    *this.done = true;
                    // Flush a last line that has no trailing newline.
                    let mut tail = std::mem::take(this.buf).freeze();
                    *this.scanned = 0;
                    if tail.last() == Some(&b'\r') {
                        tail.truncate(tail.len() - 1);
                    }
                    if !is_blank(&tail) {
                        if tail.len() > *this.max_line {
                            return Poll::Ready(Some(Err(NdjsonError::LineTooLong {
                                max: *this.max_line,
                            })));
                        }
                        return Poll::Ready(Some(Ok(tail)));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use proptest::prelude::*;

    fn frame(pieces: Vec<Vec<u8>>, max: usize) -> Vec<Result<Vec<u8>, String>> {
        let input = futures::stream::iter(pieces.into_iter().map(|p| Ok::<_, ()>(Bytes::from(p))));
        futures::executor::block_on(
            NdjsonLines::new(input, max)
                .map(|r| match r {
                    Ok(b) => Ok(b.to_vec()),
                    Err(NdjsonError::LineTooLong { max }) => Err(format!("too long {max}")),
                    Err(NdjsonError::Transport(())) => Err("transport".into()),
                })
                .collect(),
        )
    }

    fn lines(v: &[&str]) -> Vec<Result<Vec<u8>, String>> {
        v.iter().map(|s| Ok(s.as_bytes().to_vec())).collect()
    }

    #[test]
    fn splits_skips_blanks_strips_cr_and_flushes_the_tail() {
        let got = frame(vec![b"a\n\nb\r\n  \nc".to_vec()], 100);
        assert_eq!(got, lines(&["a", "b", "c"]));
        let got = frame(
            vec![
                b"{\"x\":".to_vec(),
                b"1}\n{\"y\"".to_vec(),
                b":2}\n".to_vec(),
            ],
            100,
        );
        assert_eq!(got, lines(&["{\"x\":1}", "{\"y\":2}"]));
    }

    #[test]
    fn a_multibyte_character_split_across_reads_survives() {
        let text = "héllo 🦀\n".as_bytes();
        let pieces: Vec<Vec<u8>> = text.iter().map(|b| vec![*b]).collect();
        assert_eq!(frame(pieces, 100), lines(&["héllo 🦀"]));
    }

    #[test]
    fn a_line_without_newline_past_the_cap_is_an_error() {
        let got = frame(vec![vec![b'x'; 10], vec![b'x'; 10]], 15);
        assert_eq!(got, vec![Err("too long 15".to_string())]);
        let got = frame(vec![b"ok\n".to_vec(), vec![b'x'; 20]], 15);
        assert_eq!(
            got,
            vec![Ok(b"ok".to_vec()), Err("too long 15".to_string())]
        );
        // A line exactly at the cap is fine.
        assert_eq!(frame(vec![vec![b'x'; 15]], 15), vec![Ok(vec![b'x'; 15])]);
        // Regression: a complete line longer than the cap that arrives in one read
        // used to pass through unchecked.
        let mut long = vec![b'y'; 40];
        long.push(b'\n');
        assert_eq!(frame(vec![long], 15), vec![Err("too long 15".to_string())]);
    }

    #[test]
    fn transport_errors_end_the_stream() {
        let input = futures::stream::iter(vec![Ok(Bytes::from_static(b"a\nb")), Err(())]);
        let got: Vec<_> = futures::executor::block_on(NdjsonLines::new(input, 100).collect());
        assert_eq!(got.len(), 2);
        assert!(matches!(got[1], Err(NdjsonError::Transport(()))));
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_lines(
            body in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), any::<u8>()], 0..300),
            cuts in proptest::collection::vec(0usize..300, 0..20),
        ) {
            let whole = frame(vec![body.clone()], 1 << 20);
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= body.len()).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut last = 0;
            for c in cuts {
                pieces.push(body[last..c].to_vec());
                last = c;
            }
            pieces.push(body[last..].to_vec());
            prop_assert_eq!(frame(pieces, 1 << 20), whole);
        }
    }
}
