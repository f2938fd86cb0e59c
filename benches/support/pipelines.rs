//! The decoding pipelines of the providers, run from memory through
//! `theory_llm::__private` (exactly what a provider runs over a response body, minus the
//! socket), and eventsource-stream's SSE framing for comparison.

#![allow(dead_code, unreachable_pub)] // each bench uses a different part

use std::task::{Context, Poll};

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use theory_llm::__private::{self as entry, Wire, DEFAULT_MAX_FRAME_BYTES};

/// The wire format of a built-in provider.
fn wire(name: &str) -> Wire {
    Wire::named(name).expect("a built-in wire format")
}
use theory_llm::{Chunk, Result};

/// The key the OpenAI pipeline scrubs, as a provider with a key does.
const KEY: &str = "sk-bench-0123456789";

/// What a run produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Text and reasoning chunks (or frames, for the framing-only runs).
    pub chunks: usize,
    /// Bytes of text and reasoning (or of frames).
    pub bytes: usize,
    /// A finish chunk was produced.
    pub finished: bool,
    /// Error items.
    pub errors: usize,
}

/// The pieces a body arrives in (the benches pass clones of static `Bytes`, which cost
/// no copy).
pub trait Pieces: IntoIterator<Item = Bytes, IntoIter: Send + 'static> + 'static {}
impl<I: IntoIterator<Item = Bytes, IntoIter: Send + 'static> + 'static> Pieces for I {}

/// Polls a stream that never waits (it is fed from memory) to its end.
fn drain<S, T>(stream: S, mut each: impl FnMut(&mut Stats, T)) -> Stats
where
    S: Stream<Item = T>,
{
    let mut stream = std::pin::pin!(stream);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut stats = Stats::default();
    loop {
        match stream.poll_next_unpin(&mut cx) {
            Poll::Ready(Some(item)) => each(&mut stats, item),
            Poll::Ready(None) => return stats,
            // A stream fed from memory never waits; stop rather than spin.
            Poll::Pending => {
                stats.errors += 1;
                return stats;
            }
        }
    }
}

fn count_chunk(stats: &mut Stats, item: Result<Chunk>) {
    match item {
        Ok(Chunk::Text(t) | Chunk::Reasoning(t)) => {
            stats.chunks += 1;
            stats.bytes += t.len();
        }
        Ok(Chunk::Finish(_)) => stats.finished = true,
        Ok(_) => {}
        Err(_) => stats.errors += 1,
    }
}

fn count_frame(stats: &mut Stats, item: Result<Bytes>) {
    match item {
        Ok(f) => {
            stats.chunks += 1;
            stats.bytes += f.len();
        }
        Err(_) => stats.errors += 1,
    }
}

/// OpenAI: SSE framing and the Chat Completions mapping, over a body cut into `pieces`.
pub fn openai_sse(pieces: impl Pieces) -> Stats {
    let items = entry::decode(wire("openai"), pieces, DEFAULT_MAX_FRAME_BYTES, KEY);
    drain(items, count_chunk)
}

/// Ollama: NDJSON framing and the `/api/chat` mapping, over a body cut into `pieces`.
pub fn ollama_ndjson(pieces: impl Pieces) -> Stats {
    let items = entry::decode(wire("ollama"), pieces, DEFAULT_MAX_FRAME_BYTES, "");
    drain(items, count_chunk)
}

/// SSE framing alone: the data of each event, not parsed.
pub fn sse_frames(pieces: impl Pieces) -> Stats {
    drain(
        entry::frames(wire("openai"), pieces, DEFAULT_MAX_FRAME_BYTES),
        count_frame,
    )
}

/// NDJSON framing alone: each line, not parsed.
pub fn ndjson_lines(pieces: impl Pieces) -> Stats {
    drain(
        entry::frames(wire("ollama"), pieces, DEFAULT_MAX_FRAME_BYTES),
        count_frame,
    )
}

/// eventsource-stream's SSE framing: the data of each event that has data.
fn eventsource_frames(pieces: impl Pieces) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let bytes = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    bytes.eventsource().filter_map(|event| async move {
        match event {
            Ok(e) if e.data.is_empty() => None,
            Ok(e) => Some(Ok(Bytes::from(e.data))),
            Err(e) => Some(Err(theory_llm::Error::new(
                theory_llm::ErrorKind::Protocol,
                e.to_string(),
            ))),
        }
    })
}

/// [`openai_sse`] with eventsource-stream's SSE framing, for comparison.
pub fn openai_sse_eventsource(pieces: impl Pieces) -> Stats {
    drain(
        entry::map(wire("openai"), eventsource_frames(pieces), KEY),
        count_chunk,
    )
}

/// [`sse_frames`] with eventsource-stream's framing, for comparison.
pub fn sse_frames_eventsource(pieces: impl Pieces) -> Stats {
    drain(eventsource_frames(pieces), count_frame)
}
