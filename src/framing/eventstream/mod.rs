//! The AWS event stream (`application/vnd.amazon.eventstream`, Bedrock's
//! ConverseStream): bytes in, whole messages out, each checked. No JSON here.
//!
//! A message is length-prefixed (see `message.rs` for its layout): a 12-byte prelude
//! says how long it is, and a CRC32 guards the prelude and another the whole message.
//! Each message is checked before it is passed on: the prelude's CRC, lengths that fit
//! together, the length within the cap (the kit's `max_frame_bytes`) and the headers
//! within 128 KiB, the message's CRC, and headers that parse. The first that fails ends
//! the stream with an error naming it: a corrupt stream cannot be resynchronized.
//!
//! The frame passed on is the message itself, as it came: the decoder reads its headers
//! and payload back with [`Message::read`], which borrows them (no second format to keep
//! in step, and no copy). A message that arrives within one read is sliced out of it;
//! only a message split across reads is copied, once. What is decided about a message
//! is decided on its prelude and then on its whole bytes, so the same body split
//! anywhere gives the same frames and the same errors. Bytes left at the end of the body
//! (a message cut off) are dropped, as SSE drops an unfinished event: the decoder then
//! says what the reply is missing.

#[cfg(test)]
pub(crate) mod encoder;
mod message;
#[cfg(test)]
mod tests;

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;
use pin_project::pin_project;

pub(crate) use message::Message;
use message::{checked, prelude, PRELUDE};

/// Why framing failed.
#[derive(Debug)]
pub(crate) enum EventStreamError<E> {
    /// The underlying byte stream failed.
    Transport(E),
    /// A message is corrupt: what failed (a checksum, its lengths, its headers).
    Corrupt(String),
    /// A message is longer than the cap.
    TooLong {
        /// The cap in bytes.
        max: usize,
        /// The length the message announced.
        length: usize,
    },
}

/// The messages of an AWS event stream, each checked, as [`Bytes`].
#[pin_project]
#[derive(Debug)]
pub(crate) struct EventStreamFrames<S> {
    #[pin]
    inner: S,
    /// The unscanned rest of the current read.
    read: Bytes,
    /// The start of a message that continues in a later read.
    partial: BytesMut,
    /// The length of the message in `partial`, once its prelude is in and checked.
    want: Option<usize>,
    max: usize,
    done: bool,
}

impl<S> EventStreamFrames<S> {
    /// Frames the byte stream `inner`; a message longer than `max` bytes is an error.
    pub(crate) fn new(inner: S, max: usize) -> EventStreamFrames<S> {
        EventStreamFrames {
            inner,
            read: Bytes::new(),
            partial: BytesMut::new(),
            want: None,
            max,
            done: false,
        }
    }
}

/// What the bytes so far give.
enum Found<E> {
    Frame(Bytes),
    NeedMore,
    Failed(EventStreamError<E>),
}

/// The length of the message whose prelude is `bytes`, or why there is none.
fn length<E>(bytes: &[u8], max: usize) -> Result<usize, EventStreamError<E>> {
    let mut head = [0u8; PRELUDE];
    head.copy_from_slice(&bytes[..PRELUDE]);
    match prelude(&head, max) {
        Ok(Ok(total)) => Ok(total),
        Ok(Err(length)) => Err(EventStreamError::TooLong { max, length }),
        Err(what) => Err(EventStreamError::Corrupt(what)),
    }
}

/// `message` if its checksums and headers are right.
fn verified<E>(message: Bytes) -> Found<E> {
    match checked(&message) {
        Ok(_) => Found::Frame(message),
        Err(what) => Found::Failed(EventStreamError::Corrupt(what)),
    }
}

impl<S> EventStreamFrames<S> {
    /// The next message from `partial` and `read`, if they hold one.
    /// Nothing is reserved ahead for a message still arriving: its prelude alone must
    /// not make a 16 MiB allocation.
    fn scan<E>(
        read: &mut Bytes,
        partial: &mut BytesMut,
        want: &mut Option<usize>,
        max: usize,
    ) -> Found<E> {
        if partial.is_empty() && want.is_none() {
            // The usual case: the message starts this read.
            if read.len() < PRELUDE {
                partial.extend_from_slice(read);
                read.clear();
                return Found::NeedMore;
            }
            let total = match length(read, max) {
                Ok(total) => total,
                Err(e) => return Found::Failed(e),
            };
            if read.len() >= total {
                return verified(read.split_to(total));
            }
            *want = Some(total);
            partial.extend_from_slice(read);
            read.clear();
            return Found::NeedMore;
        }
        let total = match *want {
            Some(total) => total,
            None => {
                let take = (PRELUDE - partial.len()).min(read.len());
                partial.extend_from_slice(&read[..take]);
                read.advance(take);
                if partial.len() < PRELUDE {
                    return Found::NeedMore;
                }
                let total = match length(partial, max) {
                    Ok(total) => total,
                    Err(e) => return Found::Failed(e),
                };
                *want = Some(total);
                total
            }
        };
        let take = (total - partial.len()).min(read.len());
        partial.extend_from_slice(&read[..take]);
        read.advance(take);
        if partial.len() < total {
            return Found::NeedMore;
        }
        *want = None;
        verified(partial.split().freeze())
    }
}

impl<S, B, E> Stream for EventStreamFrames<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
{
    type Item = Result<Bytes, EventStreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            if !this.read.is_empty() {
                match Self::scan(this.read, this.partial, this.want, *this.max) {
                    Found::Frame(frame) => return Poll::Ready(Some(Ok(frame))),
                    Found::NeedMore => {}
                    Found::Failed(e) => {
                        *this.done = true;
                        *this.read = Bytes::new();
                        *this.partial = BytesMut::new();
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                continue;
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(bytes)) => *this.read = bytes.into(),
                Some(Err(e)) => {
                    *this.done = true;
                    *this.partial = BytesMut::new();
                    return Poll::Ready(Some(Err(EventStreamError::Transport(e))));
                }
                None => {
                    // A message cut off by the end of the body is dropped.
                    *this.done = true;
                    *this.partial = BytesMut::new();
                    return Poll::Ready(None);
                }
            }
        }
    }
}
