//! [`MessagesDecoder`]: Messages API SSE data to chunks, dispatched on each event's JSON
//! `type` (the SSE event name repeats it, and the kit does not pass it on).
//!
//! - `message_start`: the reply's id, model and first usage. llama.cpp leaves it out
//!   when the first token is an incomplete UTF-8 sequence: the reply works without it.
//! - `content_block_start` / `_delta` / `_stop`: the blocks (`blocks.rs`).
//! - `message_delta`: the stop reason, and usage. Every count is a snapshot (the output
//!   count is cumulative): the latest one reported replaces the one before, never adds.
//! - `message_stop`: the finish, and the end of the reply. There is no `[DONE]`; a body
//!   that ends before `message_stop` is truncated, never a short success.
//! - `error`: the reply failed (`errors.rs`); `ping` and unknown events are skipped.
//! - A whole message (`"type": "message"`, from a server that ignored `stream: true`):
//!   decoded at once.

use std::collections::VecDeque;

use crate::chunk::{Chunk, Finish, FinishReason};
use crate::decode::{Decoder, Flow};
use crate::error::{excerpt, Result};
use crate::lenient::Reported;
use crate::origin::Origin;

use super::blocks::Blocks;
use super::errors::stream_error;
use super::wire;

/// The latest counts reported, each as the server last sent it.
#[derive(Debug, Clone, Copy, Default)]
struct Tokens {
    input: Reported,
    output: Reported,
    cache_read: Reported,
    cache_write: Reported,
    thinking: Reported,
}

impl Tokens {
    /// Takes the counts `usage` reports; the others stay as they were.
    fn update(&mut self, usage: &wire::Usage) {
        let take = |mine: &mut Reported, theirs: Reported| {
            if theirs.is_present() {
                *mine = theirs;
            }
        };
        take(&mut self.input, usage.input_tokens);
        take(&mut self.output, usage.output_tokens);
        take(&mut self.cache_read, usage.cache_read_input_tokens);
        take(&mut self.cache_write, usage.cache_creation_input_tokens);
        if let Some(details) = &usage.output_tokens_details {
            take(&mut self.thinking, details.thinking_tokens);
        }
    }

    /// All prompt tokens: the input and the cache reads and writes, which Anthropic
    /// counts apart. A cache count not reported is 0; one that is not a count makes the
    /// total unknown.
    fn prompt(&self) -> Option<u64> {
        let cache = |r: Reported| match r {
            Reported::Missing => Some(0),
            other => other.value(),
        };
        Some(
            self.input
                .value()?
                .saturating_add(cache(self.cache_read)?)
                .saturating_add(cache(self.cache_write)?),
        )
    }

    fn finish(&self, finish: Finish) -> Finish {
        finish
            .with_tokens(self.prompt(), self.output.value())
            .with_cache_tokens(self.cache_read.value(), self.cache_write.value())
            .with_reasoning_tokens(self.thinking.value())
    }
}

/// Maps the SSE data frames of one Messages API reply to chunks.
#[derive(Debug)]
pub struct MessagesDecoder {
    origin: Origin,
    blocks: Blocks,
    tokens: Tokens,
    stop_reason: Option<FinishReason>,
    response_id: Option<String>,
    model: Option<String>,
    /// An event of the Messages API has been seen.
    recognized: bool,
    /// The start of the first event, kept until one is recognized: a body of JSON that is
    /// not a Messages reply is quoted in the error.
    first_frame: Option<String>,
}

impl MessagesDecoder {
    /// A decoder for one reply from `origin`.
    pub(crate) fn new(origin: Origin) -> MessagesDecoder {
        MessagesDecoder {
            origin,
            blocks: Blocks::default(),
            tokens: Tokens::default(),
            stop_reason: None,
            response_id: None,
            model: None,
            recognized: false,
            first_frame: None,
        }
    }

    /// The id, model and usage of a message (`message_start`, or a whole reply).
    fn message(&mut self, message: &wire::Message<'_>) {
        if let Some(id) = message.id.as_deref().filter(|id| !id.is_empty()) {
            self.response_id = Some(id.to_owned());
        }
        if let Some(model) = message.model.as_deref().filter(|m| !m.is_empty()) {
            self.model = Some(model.to_owned());
        }
        if let Some(reason) = message.stop_reason.as_deref() {
            self.stop_reason(reason);
        }
        if let Some(usage) = &message.usage {
            self.tokens.update(usage);
        }
    }

    fn stop_reason(&mut self, reason: &str) {
        self.stop_reason = match reason {
            "" => return,
            // The context window filled up: the reply was cut, as by max_tokens.
            "model_context_window_exceeded" => Some(FinishReason::Length),
            // end_turn, stop_sequence, max_tokens, tool_use, refusal; pause_turn and
            // newer ones kept by name.
            other => Some(FinishReason::parse(other)),
        };
    }

    /// The end of the reply: open blocks completed, then the finish.
    fn finish(&mut self, out: &mut VecDeque<Chunk>) -> Result<Flow> {
        self.blocks.stop_all(out)?;
        let mut finish = self
            .tokens
            .finish(Finish::new(self.stop_reason.take().unwrap_or_default()));
        finish.reasoning_blocks = self.blocks.take_thinking();
        if let Some(id) = self.response_id.take() {
            finish = finish.with_response_id(id);
        }
        if let Some(model) = self.model.take() {
            finish = finish.with_model(model);
        }
        out.push_back(Chunk::from(finish));
        Ok(Flow::Done)
    }

    /// A whole reply, its blocks in order, then the finish.
    fn whole(&mut self, text: &str, out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let message: wire::Message<'_> = serde_json::from_str(text)
            .map_err(|e| self.malformed(&format!("a whole message ({e})"), text))?;
        self.message(&message);
        for (index, block) in (0u64..).zip(message.content.unwrap_or_default()) {
            self.blocks.start(index, block, &self.origin, out)?;
            self.blocks.stop(index, out)?;
        }
        self.finish(out)
    }

    fn malformed(&self, what: &str, frame: &str) -> crate::error::Error {
        self.origin
            .malformed(&format!("an event is not {what}: {}", excerpt(frame, 200)))
    }

    /// The pure mapping of one event.
    fn event(
        &mut self,
        event: wire::Event<'_>,
        text: &str,
        out: &mut VecDeque<Chunk>,
    ) -> Result<Flow> {
        // A missing index (no known server sends none) is the first block.
        let index = event.index.value().unwrap_or(0);
        match event.kind.as_deref().unwrap_or("") {
            "message_start" => {
                if let Some(message) = &event.message {
                    self.message(message);
                }
            }
            "content_block_start" => {
                if let Some(block) = event.content_block {
                    self.blocks.start(index, *block, &self.origin, out)?;
                }
            }
            "content_block_delta" => {
                if let Some(delta) = event.delta {
                    self.blocks.delta(index, delta, &self.origin, out)?;
                }
            }
            "content_block_stop" => self.blocks.stop(index, out)?,
            "message_delta" => {
                if let Some(reason) = event.delta.as_ref().and_then(|d| d.stop_reason.as_deref()) {
                    self.stop_reason(reason);
                }
                if let Some(usage) = &event.usage {
                    self.tokens.update(usage);
                }
            }
            "message_stop" => return self.finish(out),
            "message" => return self.whole(text, out),
            "error" => {
                let error = event.error.map_or(serde_json::Value::Null, |e| *e);
                return Err(stream_error(&error));
            }
            // An error without a type (llama.cpp's shape).
            _ if event.error.as_deref().is_some_and(|e| !e.is_null()) => {
                let error = event.error.map_or(serde_json::Value::Null, |e| *e);
                return Err(stream_error(&error));
            }
            // ping, and events newer than this crate.
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

/// The events of the Messages API; the others are skipped.
const EVENTS: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "message",
    "ping",
    "error",
];

impl Decoder for MessagesDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let text = std::str::from_utf8(frame).map_err(|e| {
            self.malformed(&format!("UTF-8 ({e})"), &String::from_utf8_lossy(frame))
        })?;
        let event: wire::Event<'_> = serde_json::from_str(text)
            .map_err(|e| self.malformed(&format!("a Messages API event ({e})"), text))?;
        if !self.recognized {
            self.recognized = event.error.is_some()
                || event
                    .kind
                    .as_deref()
                    .is_some_and(|kind| EVENTS.contains(&kind));
            if !self.recognized && self.first_frame.is_none() {
                self.first_frame = Some(excerpt(text, 200));
            }
        }
        self.event(event, text, out)
    }

    fn end_of_body(&mut self, _out: &mut VecDeque<Chunk>) -> Result<()> {
        match (self.recognized, &self.first_frame) {
            // Not a short reply but no reply at all: something else answered.
            (false, Some(first)) => Err(self.origin.malformed(&format!(
                "the body ({}) holds no Messages API reply; it starts: {first}",
                self.origin.media_type().unwrap_or("no content type")
            ))),
            _ => Err(self.origin.truncated("message_stop")),
        }
    }
}
