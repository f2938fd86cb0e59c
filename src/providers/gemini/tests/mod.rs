//! The Gemini mapping without I/O: the request body and path (`body.rs`), every shape of
//! reply chunk (`events.rs`), error bodies and statuses (`errors.rs`); and the decoder
//! behind the SSE framer with the body cut anywhere.

mod body;
mod errors;
mod events;

use std::collections::VecDeque;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};

use super::map::GeminiDecoder;
use super::request::Request;
use crate::chunk::{Chunk, Finish, FinishReason, ThinkingBlock, ToolCall};
use crate::decode::{Decoded, Decoder, Flow};
use crate::error::{Error, ErrorKind, Result};
use crate::kit::path_segment;
use crate::kit::{frames_of, Framing};
use crate::origin::Origin;
use crate::request::ChatRequest;

fn origin() -> Origin {
    Origin::new("gemini", "http://test")
}

/// The chunks of `frames` (SSE data), then the end of the body or the error.
fn run(frames: &[&str]) -> (Vec<Chunk>, Result<()>) {
    let mut d = GeminiDecoder::new(origin());
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

/// [`run`], which must succeed.
fn chunks_of(frames: &[&str]) -> Vec<Chunk> {
    let (chunks, end) = run(frames);
    end.unwrap_or_else(|e| panic!("{e}"));
    chunks
}

/// [`run`], which must fail: the chunks before the error, and the error.
fn failure_of(frames: &[&str]) -> (Vec<Chunk>, Error) {
    let (chunks, end) = run(frames);
    (chunks, end.unwrap_err())
}

/// A body under `tests/transcripts/gemini/`.
fn transcript(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/transcripts/gemini/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `pieces` of a body through the SSE framer and the decoder, as the provider runs
/// them: every chunk, and the error that ended it, if one did.
fn decode_pieces(pieces: Vec<Vec<u8>>) -> (Vec<Chunk>, Option<Error>) {
    let bytes = futures::stream::iter(pieces.into_iter().map(|p| Ok::<_, Error>(Bytes::from(p))));
    let frames = frames_of(Framing::Sse, bytes, 1 << 20, origin(), |e| e);
    let items = futures::executor::block_on(
        Decoded::new(frames, GeminiDecoder::new(origin())).collect::<Vec<_>>(),
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

/// One response chunk with these parts (and a finish reason, if given).
fn parts(parts: Value, finish: Option<&str>) -> String {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(reason) = finish {
        candidate["finishReason"] = json!(reason);
    }
    json!({"candidates": [candidate]}).to_string()
}

fn text_chunk(text: &str) -> String {
    parts(json!([{ "text": text }]), None)
}

fn stop() -> String {
    parts(json!([]), Some("STOP"))
}

fn body_of(request: &ChatRequest) -> Value {
    serde_json::to_value(Request::from_chat(request).unwrap()).unwrap()
}

fn signature(signature: &str, tool_call_id: Option<&str>, thought: Option<&str>) -> ThinkingBlock {
    ThinkingBlock::ThoughtSignature {
        signature: signature.to_owned(),
        tool_call_id: tool_call_id.map(str::to_owned),
        thought: thought.map(str::to_owned),
    }
}
