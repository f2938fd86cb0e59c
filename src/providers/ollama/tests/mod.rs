//! The `/api/chat` mapping, request body, `OLLAMA_HOST`, keep-alive, configuration and
//! error classification, without I/O.

mod body;
mod config;
mod lines;
mod splits;

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;

use super::errors::classify;
use super::host::parse_host;
use super::models::{self, TagModel};
use super::request;
use super::*;
use crate::chunk::{Chunk, Finish, FinishReason};
use crate::decode::{Decoded, Decoder, Flow};
use crate::error::{Error, ErrorKind, Result};
use crate::framing::ndjson::NdjsonLines;
use crate::http::ErrorResponse;
use crate::origin::Origin;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;

fn endpoint() -> Origin {
    Origin::new("ollama", "http://localhost:11434")
}

/// Runs lines through the decoder: the chunks, then how it ended.
fn run(lines: &[&str]) -> (Vec<Chunk>, Result<()>) {
    let mut d = LineDecoder::new(endpoint());
    let mut out = VecDeque::new();
    for line in lines {
        match d.frame(line.as_bytes(), &mut out) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Done) => return (out.into(), Ok(())),
            Err(e) => return (out.into(), Err(e)),
        }
    }
    let end = d.end_of_body(&mut out);
    (out.into(), end)
}

fn text(chunks: &[Chunk]) -> String {
    chunks.iter().filter_map(Chunk::as_text).collect()
}

fn finish(chunks: &[Chunk]) -> &Finish {
    match chunks.last() {
        Some(Chunk::Finish(f)) => f,
        other => panic!("no finish: {other:?}"),
    }
}
