//! Hooks for the benches (`benches/framing.rs`): the providers' private decoding
//! pipelines (framing, then mapping to [`Chunk`]s), fed from memory.
//!
//! Compiled only with the `bench` feature; not part of the public API and not covered
//! by semver. Each function runs exactly the stream the provider builds over a
//! response body, minus the socket.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::chunk::Chunk;
use crate::error::Result;
use crate::http::{Decoded, Endpoint, DEFAULT_MAX_FRAME_BYTES};
use crate::providers::ollama::LineDecoder;
use crate::providers::openai::SseDecoder;

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

fn endpoint(provider: &'static str) -> Endpoint {
    Endpoint {
        provider,
        base: "http://bench".to_owned(),
        unreachable_hint: "",
    }
}

/// The pieces a body arrives in: any iterator of [`Bytes`] (the benches pass the
/// iterator of a leaked `&'static [Bytes]` of static slices, which costs no copy).
pub trait Pieces: IntoIterator<Item = Bytes, IntoIter: Send + 'static> {}
impl<I: IntoIterator<Item = Bytes, IntoIter: Send + 'static>> Pieces for I {}

fn pieces_stream(
    pieces: impl Pieces,
) -> impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static {
    futures::stream::iter(pieces.into_iter().map(Ok))
}

/// Polls a stream that never waits (it is fed from memory) to its end.
fn drain<S, T>(stream: S, mut each: impl FnMut(&mut Stats, Result<T>)) -> Stats
where
    S: Stream<Item = Result<T>>,
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
        Err(_) => stats.errors += 1,
    }
}

/// OpenAI: SSE framing and the Chat Completions mapping, over a body cut into `pieces`.
pub fn openai_sse(pieces: impl Pieces) -> Stats {
    let ep = endpoint("openai");
    let frames = ep.sse_frames_builtin(pieces_stream(pieces), DEFAULT_MAX_FRAME_BYTES);
    let decoded = Decoded::new(frames, SseDecoder::new(ep));
    drain(decoded, count_chunk)
}

/// [`openai_sse`] with eventsource-stream's SSE framing (the `eventsource-stream`
/// feature's), for comparison.
pub fn openai_sse_eventsource(pieces: impl Pieces) -> Stats {
    let ep = endpoint("openai");
    let frames = ep.sse_frames_eventsource(pieces_stream(pieces), DEFAULT_MAX_FRAME_BYTES);
    let decoded = Decoded::new(frames, SseDecoder::new(ep));
    drain(decoded, count_chunk)
}

/// Ollama: NDJSON framing and the `/api/chat` mapping, over a body cut into `pieces`.
pub fn ollama_ndjson(pieces: impl Pieces) -> Stats {
    let ep = endpoint("ollama");
    let frames = ep.ndjson_frames_of(pieces_stream(pieces), DEFAULT_MAX_FRAME_BYTES);
    let decoded = Decoded::new(frames, LineDecoder::new(ep));
    drain(decoded, count_chunk)
}

fn count_frame(stats: &mut Stats, item: Result<usize>) {
    match item {
        Ok(n) => {
            stats.chunks += 1;
            stats.bytes += n;
        }
        Err(_) => stats.errors += 1,
    }
}

/// SSE framing alone: the data of each event, not parsed.
pub fn sse_frames(pieces: impl Pieces) -> Stats {
    let ep = endpoint("openai");
    let frames = ep
        .sse_frames_builtin(pieces_stream(pieces), DEFAULT_MAX_FRAME_BYTES)
        .map_ok(|f| f.len());
    drain(frames, count_frame)
}

/// [`sse_frames`] with eventsource-stream's framing, for comparison.
pub fn sse_frames_eventsource(pieces: impl Pieces) -> Stats {
    let ep = endpoint("openai");
    let frames = ep
        .sse_frames_eventsource(pieces_stream(pieces), DEFAULT_MAX_FRAME_BYTES)
        .map_ok(|f| f.len());
    drain(frames, count_frame)
}

/// NDJSON framing alone: each line, not parsed.
pub fn ndjson_lines(pieces: impl Pieces) -> Stats {
    let ep = endpoint("ollama");
    let frames = ep
        .ndjson_frames_of(pieces_stream(pieces), DEFAULT_MAX_FRAME_BYTES)
        .map_ok(|f| f.len());
    drain(frames, count_frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipelines_run_from_memory() {
        let sse = Bytes::from_static(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"h\xc3\xa9\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
        );
        let pieces: Vec<Bytes> = (0..sse.len()).map(|i| sse.slice(i..i + 1)).collect();
        let s = openai_sse(pieces.clone());
        assert_eq!((s.chunks, s.bytes, s.finished, s.errors), (1, 3, true, 0));
        assert_eq!(openai_sse_eventsource(pieces.clone()), s);
        assert_eq!(sse_frames(pieces.clone()).chunks, 3);
        assert_eq!(sse_frames_eventsource(pieces).chunks, 3);

        let nd = Bytes::from_static(
            b"{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"done\":true}\n",
        );
        let s = ollama_ndjson([nd.clone()]);
        assert_eq!((s.chunks, s.finished, s.errors), (1, true, 0));
        assert_eq!(ndjson_lines([nd.clone()]).chunks, 2);
    }
}
