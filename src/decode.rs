//! The map stage: frames (SSE events' data, NDJSON lines) to [`Chunk`]s, by a
//! provider's [`Decoder`]; [`Decoded`] runs one over a stream of frames.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::Stream;
use pin_project::pin_project;

use crate::chunk::Chunk;
use crate::error::{Error, Result};

/// What a decoder says after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// More frames may follow.
    Continue,
    /// The reply is complete (OpenAI `[DONE]`, Ollama `done: true`): stop reading.
    Done,
}

/// A provider's mapping from frames to chunks, with whatever state one reply needs.
///
/// The kit gives it each frame as it arrives: the data of an SSE event, or one NDJSON
/// line (without its line end), or, for a reply of `application/json`, the whole body.
/// It never sees keep-alives or comments. Its errors should say what was wrong with the
/// reply; [`Origin`](crate::kit::Origin) makes the usual ones. Secrets are not its concern: the kit scrubs
/// every item it passes on.
pub trait Decoder: Send + 'static {
    /// Maps one frame, pushing any chunks it produces to `out`. Text and reasoning
    /// chunks must not be empty. `Err` ends the reply, after the chunks pushed so far.
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow>;

    /// The body ended without [`Flow::Done`]: push the finish if the reply is complete,
    /// or return the error for a truncated one (see [`Origin::truncated`](crate::kit::Origin::truncated)).
    fn end_of_body(&mut self, out: &mut VecDeque<Chunk>) -> Result<()>;
}

impl<D: Decoder + ?Sized> Decoder for Box<D> {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        (**self).frame(frame, out)
    }

    fn end_of_body(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        (**self).end_of_body(out)
    }
}

/// Frames decoded into chunks, in order, each as soon as its frame arrives.
#[pin_project]
#[derive(Debug)]
pub(crate) struct Decoded<F, D> {
    #[pin]
    frames: F,
    decoder: D,
    out: VecDeque<Chunk>,
    /// An error to deliver once the chunks decoded before it have been.
    error: Option<Error>,
    /// No more frames will be read (done, failed, or the body ended).
    finished: bool,
}

impl<F, D> Decoded<F, D> {
    pub(crate) fn new(frames: F, decoder: D) -> Decoded<F, D> {
        Decoded {
            frames,
            decoder,
            out: VecDeque::with_capacity(4),
            error: None,
            finished: false,
        }
    }
}

impl<F, T, D> Stream for Decoded<F, D>
where
    F: Stream<Item = Result<T>>,
    T: AsRef<[u8]>,
    D: Decoder,
{
    type Item = Result<Chunk>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(chunk) = this.out.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            if *this.finished {
                return Poll::Ready(this.error.take().map(Err));
            }
            let result = match ready!(this.frames.as_mut().poll_next(cx)) {
                Some(Ok(frame)) => match this.decoder.frame(frame.as_ref(), this.out) {
                    Ok(Flow::Continue) => Ok(()),
                    Ok(Flow::Done) => {
                        *this.finished = true;
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                Some(Err(e)) => Err(e),
                None => {
                    *this.finished = true;
                    this.decoder.end_of_body(this.out)
                }
            };
            if let Err(e) = result {
                // Chunks decoded before the error are delivered first, then the error.
                *this.finished = true;
                *this.error = Some(e);
            }
        }
    }
}
