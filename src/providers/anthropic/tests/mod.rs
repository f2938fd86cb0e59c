//! The Messages API mapping, request body, errors, configuration and `Debug`, without
//! I/O; and the decoder behind the SSE framer with the body cut anywhere.

mod body;
mod dialect;
mod events;
mod recorded;

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};

use super::errors::{classify, stream_error};
use super::request::{self, closed, JSON_OBJECT_INSTRUCTION};
use super::*;
use crate::chunk::{Chunk, Finish, FinishReason, ThinkingBlock, ToolCall};
use crate::decode::{Decoded, Decoder, Flow};
use crate::error::{Error, ErrorKind};
use crate::http::{ErrorBody, ErrorResponse};
use crate::kit::{frames_of, Framing};
use crate::origin::Origin;
use crate::provider::LlmStreamProvider;
use crate::request::{ChatRequest, Image, Message, ResponseFormat, Role, Tool, ToolChoice};

// ---- helpers ----

fn origin() -> Origin {
    Origin::new("anthropic", "http://test")
}

/// The chunks of `frames` (SSE data), then the end of the body or the error.
fn run(frames: &[&str]) -> (Vec<Chunk>, Result<()>) {
    let mut d = MessagesDecoder::new(origin());
    let mut out = VecDeque::new();
    for f in frames {
        match d.frame(f.as_bytes(), &mut out) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Done) => return (out.into(), Ok(())),
            Err(e) => return (out.into(), Err(e)),
        }
    }
    let end = d.end_of_body(&mut out);
    (out.into(), end)
}

/// A recorded or hand-made body under `tests/transcripts/anthropic/`.
fn body(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/transcripts/anthropic/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `body` arriving in `pieces`, through the SSE framer and the decoder, as the
/// provider runs them: every chunk, and the error that ended it, if one did.
fn decode_pieces(pieces: Vec<Vec<u8>>) -> (Vec<Chunk>, Option<Error>) {
    let bytes = futures::stream::iter(pieces.into_iter().map(|p| Ok::<_, Error>(Bytes::from(p))));
    let frames = frames_of(Framing::Sse, bytes, 1 << 20, origin(), |e| e);
    let items = futures::executor::block_on(
        Decoded::new(frames, MessagesDecoder::new(origin())).collect::<Vec<_>>(),
    );
    let mut chunks = Vec::new();
    for item in items {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(e) => return (chunks, Some(e)),
        }
    }
    (chunks, None)
}

fn decode(name: &str) -> Vec<Chunk> {
    let (chunks, err) = decode_pieces(vec![body(name)]);
    assert!(err.is_none(), "{name}: {err:?}");
    chunks
}

fn text(chunks: &[Chunk]) -> String {
    chunks.iter().filter_map(Chunk::as_text).collect()
}

fn reasoning(chunks: &[Chunk]) -> String {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Reasoning(r) => Some(r.as_str()),
            _ => None,
        })
        .collect()
}

fn calls(chunks: &[Chunk]) -> Vec<ToolCall> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCall(call) => Some((**call).clone()),
            _ => None,
        })
        .collect()
}

fn finish(chunks: &[Chunk]) -> &Finish {
    match chunks.last() {
        Some(Chunk::Finish(f)) => f,
        other => panic!("no finish: {other:?}"),
    }
}

/// One event's data.
fn ev(value: Value) -> String {
    value.to_string()
}

fn text_event(index: u64, text: &str) -> String {
    ev(
        json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}),
    )
}

const STOP: &str = r#"{"type":"message_stop"}"#;

fn body_of(request: &ChatRequest) -> Value {
    serde_json::to_value(request::Request::from_chat(request, "m", 4096).unwrap()).unwrap()
}
