//! [`ConverseDecoder`]: ConverseStream's event-stream messages to chunks, dispatched on
//! each message's `:message-type` and `:event-type` headers.
//!
//! - `messageStart`: nothing to pass on (the role).
//! - `contentBlockStart` / `Delta` / `Stop`: the blocks (`blocks.rs`).
//! - `messageStop`: the stop reason; open blocks are completed.
//! - `metadata`: usage and the server's latency. It comes after `messageStop`, so the
//!   reply finishes there; a body that ends after `messageStop` without it finishes
//!   too (its counts are then estimated). A body that ends before `messageStop` is
//!   truncated, never a short success.
//! - An `exception` (`throttlingException`, …) or `error` message: the reply failed
//!   (`errors.rs`). Other events are skipped.
//! - A body of `application/json` (a Converse reply, from a server that does not
//!   stream): decoded at once.

use std::collections::VecDeque;

use crate::chunk::{Chunk, Finish, FinishReason, ServerTimings};
use crate::decode::{Decoder, Flow};
use crate::error::{excerpt, Error, Result};
use crate::framing::eventstream::Message;
use crate::lenient::Reported;
use crate::origin::Origin;

use super::blocks::Blocks;
use super::errors::{error_message, exception};
use super::wire;

/// The events of ConverseStream; the others are skipped.
const EVENTS: &[&str] = &[
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
];

/// Maps the event-stream messages of one ConverseStream reply to chunks.
#[derive(Debug)]
pub struct ConverseDecoder {
    origin: Origin,
    blocks: Blocks,
    usage: wire::Usage,
    latency_ms: Reported,
    /// `messageStop` came, with this reason.
    stopped: Option<FinishReason>,
    /// A message of ConverseStream has been seen.
    recognized: bool,
    /// What the first message was, kept until one is recognized, for the error about a
    /// body that holds no reply.
    first: Option<String>,
}

impl ConverseDecoder {
    /// A decoder for one reply from `origin`.
    pub(crate) fn new(origin: Origin) -> ConverseDecoder {
        ConverseDecoder {
            origin,
            blocks: Blocks::default(),
            usage: wire::Usage::default(),
            latency_ms: Reported::Missing,
            stopped: None,
            recognized: false,
            first: None,
        }
    }

    fn malformed(&self, what: &str) -> Error {
        self.origin.malformed(what)
    }

    /// The latest counts reported replace the ones before.
    fn take_usage(&mut self, usage: &wire::Usage, metrics: Option<&wire::Metrics>) {
        let take = |mine: &mut Reported, theirs: Reported| {
            if theirs.is_present() {
                *mine = theirs;
            }
        };
        take(&mut self.usage.input_tokens, usage.input_tokens);
        take(&mut self.usage.output_tokens, usage.output_tokens);
        take(
            &mut self.usage.cache_read_input_tokens,
            usage.cache_read_input_tokens,
        );
        take(
            &mut self.usage.cache_write_input_tokens,
            usage.cache_write_input_tokens,
        );
        if let Some(metrics) = metrics {
            take(&mut self.latency_ms, metrics.latency_ms);
        }
    }

    /// The finish: the stop reason, usage (the input with the cache reads and writes,
    /// which Bedrock counts apart), the server's latency and the reasoning to send back.
    fn finish(&mut self, reason: FinishReason, out: &mut VecDeque<Chunk>) -> Result<Flow> {
        self.blocks.stop_all(out)?;
        let usage = self.usage;
        let cache = |r: Reported| match r {
            Reported::Missing => Some(0),
            other => other.value(),
        };
        let prompt = (|| {
            Some(
                usage
                    .input_tokens
                    .value()?
                    .saturating_add(cache(usage.cache_read_input_tokens)?)
                    .saturating_add(cache(usage.cache_write_input_tokens)?),
            )
        })();
        let mut finish = Finish::new(reason)
            .with_tokens(prompt, usage.output_tokens.value())
            .with_cache_tokens(
                usage.cache_read_input_tokens.value(),
                usage.cache_write_input_tokens.value(),
            );
        if let Some(ms) = self.latency_ms.value() {
            finish = finish.with_timings(ServerTimings {
                total_ms: Some(ms as f64),
                ..ServerTimings::default()
            });
        }
        finish.reasoning_blocks = self.blocks.take_kept();
        out.push_back(Chunk::from(finish));
        Ok(Flow::Done)
    }

    /// One event's payload, by its type.
    fn event(&mut self, kind: &str, payload: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let payload: wire::Payload<'_> = if payload.is_empty() {
            wire::Payload::default()
        } else {
            serde_json::from_slice(payload).map_err(|e| {
                self.malformed(&format!(
                    "the payload of a {kind} event is not what ConverseStream sends ({e}): {}",
                    excerpt(&String::from_utf8_lossy(payload), 200)
                ))
            })?
        };
        // A missing index (no known server sends none) is the first block.
        let index = payload.content_block_index.value().unwrap_or(0);
        match kind {
            "contentBlockStart" => {
                self.blocks
                    .start(index, payload.start.as_deref(), &self.origin, out)?
            }
            "contentBlockDelta" => {
                if let Some(delta) = payload.delta {
                    self.blocks.delta(index, delta, &self.origin, out)?;
                }
            }
            "contentBlockStop" => self.blocks.stop(index, out)?,
            "messageStop" => {
                self.blocks.stop_all(out)?;
                self.stopped = Some(stop_reason(payload.stop_reason.as_deref()));
            }
            "metadata" => {
                if let Some(usage) = &payload.usage {
                    self.take_usage(usage, payload.metrics.as_ref());
                }
                if let Some(reason) = self.stopped.take() {
                    return self.finish(reason, out);
                }
            }
            // messageStart, and events newer than this crate.
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// A whole Converse reply (`application/json`), its blocks in order, then the finish.
    fn whole(&mut self, body: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let quoted = || excerpt(&String::from_utf8_lossy(body), 200);
        let whole: wire::Whole = serde_json::from_slice(body)
            .map_err(|e| self.malformed(&format!("a reply is not JSON ({e}): {}", quoted())))?;
        let Some(message) = whole.output.and_then(|o| o.message) else {
            return Err(self.malformed(&format!(
                "the body (application/json) holds no Converse reply; it starts: {}",
                quoted()
            )));
        };
        for (index, block) in (0u64..).zip(message.content) {
            self.blocks.whole(index, block, &self.origin, out)?;
        }
        if let Some(usage) = &whole.usage {
            self.take_usage(usage, whole.metrics.as_ref());
        }
        self.finish(stop_reason(whole.stop_reason.as_deref()), out)
    }
}

/// The finish reason of a `stopReason`.
fn stop_reason(reason: Option<&str>) -> FinishReason {
    match reason.unwrap_or("") {
        "" | "end_turn" | "stop_sequence" => FinishReason::Stop,
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

impl Decoder for ConverseDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        if self.origin.media_type() == Some("application/json") {
            return self.whole(frame, out);
        }
        let message = Message::read(frame)
            .map_err(|what| self.malformed(&format!("a corrupt event-stream message: {what}")))?;
        let text = |value: Option<&str>| value.map(|v| excerpt(v, 100));
        match message.message_type.unwrap_or("") {
            "event" => {
                let kind = message.event_type.unwrap_or("");
                if EVENTS.contains(&kind) {
                    self.recognized = true;
                } else if !self.recognized && self.first.is_none() {
                    self.first = Some(format!("an event of type '{}'", excerpt(kind, 100)));
                }
                self.event(kind, message.payload, out)
            }
            "exception" => {
                let payload: wire::Payload<'_> =
                    serde_json::from_slice(message.payload).unwrap_or_default();
                Err(exception(
                    &text(message.exception_type).unwrap_or_default(),
                    payload.message.as_deref(),
                ))
            }
            "error" => Err(error_message(
                text(message.error_code).as_deref(),
                text(message.error_message).as_deref(),
            )),
            other => Err(self.malformed(&format!(
                "a message has the type '{}' (not event, exception or error)",
                excerpt(other, 100)
            ))),
        }
    }

    fn end_of_body(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        if let Some(reason) = self.stopped.take() {
            // `metadata` did not come: the reply is whole, its counts estimated.
            return self.finish(reason, out).map(|_| ());
        }
        match (self.recognized, &self.first) {
            (false, Some(first)) => Err(self.malformed(&format!(
                "the body ({}) holds no ConverseStream reply; it starts with {first}",
                self.origin.media_type().unwrap_or("no content type")
            ))),
            _ => Err(self.origin.truncated("messageStop")),
        }
    }
}
