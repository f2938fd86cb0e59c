//! The map stage: frames (SSE events' data, NDJSON lines) to [`Chunk`]s, by a
//! provider's [`Decoder`]; [`Decoded`] runs one over a stream of frames.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::Stream;
use pin_project::pin_project;

use crate::chunk::Chunk;
use crate::error::{Error, Result};
use crate::json_scan::SameShape;

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

/// For the fuzz targets and tests: `template` (a token frame whose text is `text`, a
/// string borrowed from it), then the template with each of `texts` in place of its
/// text, then `end`, decoded by a decoder that reads frames by their shape and by one
/// that parses each (`decoder` makes one with the given `SameShape`). Returns whether
/// any frame was read by its shape.
///
/// # Errors
/// The two decodings, when they differ.
pub(crate) fn shape_agrees_with_parsing<D: Decoder>(
    decoder: impl Fn(SameShape) -> D,
    template: &str,
    text: &str,
    texts: &[&[u8]],
    end: &[u8],
) -> Result<bool, String> {
    let start = (text.as_ptr() as usize).wrapping_sub(template.as_ptr() as usize);
    let (Some(prefix), Some(suffix)) = (
        template.as_bytes().get(..start),
        template.as_bytes().get(start.saturating_add(text.len())..),
    ) else {
        return Ok(false);
    };
    let mut frames = vec![template.as_bytes().to_vec()];
    frames.extend(texts.iter().map(|t| [prefix, t, suffix].concat()));
    frames.push(end.to_vec());
    let run = |shape| decoded(decoder(shape), frames.iter().map(Vec::as_slice));
    let mut probe = SameShape::default();
    probe.keep(template, text);
    let hit = frames[1..].iter().any(|f| probe.text_of(f).is_some());
    let (by_shape, parsed) = (run(SameShape::default()), run(SameShape::disabled()));
    if by_shape == parsed {
        Ok(hit)
    } else {
        Err(format!(
            "read by shape: {by_shape:?}\nparsed: {parsed:?}\nframes: {:?}",
            frames
                .iter()
                .map(|f| String::from_utf8_lossy(f))
                .collect::<Vec<_>>()
        ))
    }
}

/// What `decoder` yields from `frames`, as text, up to its first error or done.
pub(crate) fn decoded<'a>(
    mut decoder: impl Decoder,
    frames: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<String> {
    let mut out = std::collections::VecDeque::new();
    let mut seen = Vec::new();
    for frame in frames {
        let flow = decoder.frame(frame, &mut out);
        seen.extend(out.drain(..).map(|c| format!("{c:?}")));
        if !matches!(flow, Ok(Flow::Continue)) {
            seen.push(format!("{flow:?}"));
            break;
        }
    }
    seen
}
