//! [`ResponsesDecoder`]: Responses API events to chunks.
//!
//! Text, refusal and reasoning deltas stream as they come; function calls are kept by
//! [`Calls`] (`calls.rs`). The reply ends at exactly one of `response.completed`,
//! `response.incomplete` (its reason) or `response.failed` (its error), or at an
//! `error` event; there is no `[DONE]`, and a body that ends before a terminal event is
//! an error, never a short success.

use std::collections::VecDeque;

use crate::chunk::{Chunk, Finish, FinishReason, Text};
use crate::decode::{Decoder, Flow};
use crate::error::{excerpt, Result};
use crate::origin::Origin;

use super::calls::Calls;
use super::errors::event_error;
use super::wire::{self, Event, Response};

/// Maps the events of one reply to chunks.
#[derive(Debug)]
pub struct ResponsesDecoder {
    origin: Origin,
    response_id: Option<String>,
    model: Option<String>,
    calls: Calls,
    /// Some text, refusal or reasoning has streamed: the terminal response's output is
    /// then not read again.
    streamed: bool,
    /// An event of this API has been seen.
    recognized: bool,
    /// The start of the first frame, kept until one is recognized, for the error.
    first_frame: Option<String>,
}

impl ResponsesDecoder {
    /// A decoder for one reply from `origin`.
    pub(crate) fn new(origin: Origin) -> ResponsesDecoder {
        ResponsesDecoder {
            origin,
            response_id: None,
            model: None,
            calls: Calls::default(),
            streamed: false,
            recognized: false,
            first_frame: None,
        }
    }

    /// The terminal response: anything it holds that did not stream, the open calls
    /// completed, then the finish.
    fn terminal(&mut self, response: Response, out: &mut VecDeque<Chunk>) -> Result<()> {
        if let Some(id) = response.id {
            self.response_id.get_or_insert(id);
        }
        if let Some(model) = response.model {
            self.model = Some(model);
        }
        if response.status.as_deref() == Some("failed") {
            let error = response.error.unwrap_or(serde_json::Value::Null);
            return Err(event_error(&error));
        }
        for item in &response.output {
            match item.kind.as_deref() {
                Some("function_call") => {
                    if let Some(number) = self.calls.learn_item(item, &self.origin, out)? {
                        self.calls.complete(number, &self.origin, out)?;
                    }
                }
                Some("message") if !self.streamed => {
                    for part in &item.content {
                        push_part(part, out);
                    }
                }
                Some("reasoning") if !self.streamed => {
                    for part in &item.summary {
                        if let Some(text) = part.text.as_deref().filter(|t| !t.is_empty()) {
                            out.push_back(Chunk::Reasoning(text.into()));
                        }
                    }
                }
                _ => {}
            }
        }
        self.calls.complete_all(&self.origin, out)?;
        let reason = match response.status.as_deref() {
            Some("incomplete") => match response
                .incomplete_details
                .and_then(|d| d.reason)
                .as_deref()
            {
                Some("max_output_tokens") => FinishReason::Length,
                Some("content_filter") => FinishReason::ContentFilter,
                Some(other) => FinishReason::Other(other.to_owned()),
                None => FinishReason::Other("incomplete".to_owned()),
            },
            _ if !self.calls.is_empty() => FinishReason::ToolCalls,
            _ => FinishReason::Stop,
        };
        let mut finish = Finish::new(reason);
        if let Some(usage) = response.usage {
            finish = with_usage(finish, &usage);
        }
        if let Some(model) = self.model.take() {
            finish = finish.with_model(model);
        }
        if let Some(id) = self.response_id.take() {
            finish = finish.with_response_id(id);
        }
        out.push_back(Chunk::from(finish));
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let kind = event.kind.as_deref().unwrap_or("");
        match kind {
            "response.output_text.delta" => self.text(event.delta, Chunk::Text, out),
            "response.refusal.delta" => self.text(event.delta, Chunk::Refusal, out),
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                self.text(event.delta, Chunk::Reasoning, out);
            }
            "response.function_call_arguments.delta" => {
                let item_id = event.item_id.as_deref().unwrap_or("");
                let piece = event.delta.as_deref().unwrap_or("");
                self.calls
                    .arguments_delta(item_id, piece, &self.origin, out)?;
            }
            "response.function_call_arguments.done" => {
                let item_id = event.item_id.as_deref().unwrap_or("");
                let arguments = event.arguments.as_deref();
                self.calls
                    .arguments_done(item_id, arguments, event.name, &self.origin, out)?;
            }
            "response.output_item.added" => {
                if let Some(item) = event.item {
                    self.calls.learn_item(&item, &self.origin, out)?;
                }
            }
            "response.output_item.done" => {
                let learned = match event.item {
                    Some(item) => self.calls.learn_item(&item, &self.origin, out)?,
                    None => None,
                };
                if let Some(number) = learned {
                    self.calls.complete(number, &self.origin, out)?;
                }
            }
            "response.created" | "response.in_progress" | "response.queued" => {
                if let Some(response) = event.response {
                    if let Some(id) = response.id {
                        self.response_id.get_or_insert(id);
                    }
                    if response.model.is_some() {
                        self.model = response.model;
                    }
                }
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                let mut response = event.response.map(|r| *r).unwrap_or_default();
                if response.status.is_none() {
                    let status = kind.trim_start_matches("response.");
                    response.status = Some(status.to_owned());
                }
                self.terminal(response, out)?;
                return Ok(Flow::Done);
            }
            "error" => {
                let error = match event.error {
                    Some(nested) => *nested,
                    None => serde_json::json!({"code": event.code, "message": event.message}),
                };
                return Err(event_error(&error));
            }
            // The rest (part and item bookkeeping, annotations, built-in tools, events
            // added after this was written) carries nothing new for a chat reply.
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// A text-like delta: streamed unless empty.
    fn text(
        &mut self,
        delta: Option<std::borrow::Cow<'_, str>>,
        chunk: fn(Text) -> Chunk,
        out: &mut VecDeque<Chunk>,
    ) {
        if let Some(delta) = delta.filter(|d| !d.is_empty()) {
            self.streamed = true;
            out.push_back(chunk(delta.into()));
        }
    }
}

impl Decoder for ResponsesDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let parsed = match std::str::from_utf8(frame) {
            Ok(text) => serde_json::from_str::<Event<'_>>(text).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let event = parsed.map_err(|e| {
            self.origin.malformed(&format!(
                "an event is not a Responses API event ({e}): {}",
                excerpt(&String::from_utf8_lossy(frame), 200)
            ))
        })?;
        if event.kind.is_none() && event.object.as_deref() == Some("response") {
            // A server that ignored `stream: true`: the whole response in one body.
            self.recognized = true;
            let response: Response = serde_json::from_slice(frame).map_err(|e| {
                self.origin
                    .malformed(&format!("a response object that cannot be read ({e})"))
            })?;
            self.terminal(response, out)?;
            return Ok(Flow::Done);
        }
        let known = event
            .kind
            .as_deref()
            .is_some_and(|k| k == "error" || k.starts_with("response."));
        if known {
            self.recognized = true;
        } else if !self.recognized && self.first_frame.is_none() {
            self.first_frame = Some(excerpt(&String::from_utf8_lossy(frame), 200));
        }
        self.event(event, out)
    }

    fn end_of_body(&mut self, _out: &mut VecDeque<Chunk>) -> Result<()> {
        match (self.recognized, &self.first_frame) {
            (false, Some(first)) => Err(self.origin.malformed(&format!(
                "the body ({}) holds no Responses API event; it starts: {first}",
                self.origin.media_type().unwrap_or("no content type")
            ))),
            _ => Err(self.origin.truncated(
                "its terminal event (response.completed, response.incomplete or response.failed)",
            )),
        }
    }
}

/// A message part of a response that did not stream.
fn push_part(part: &wire::Part, out: &mut VecDeque<Chunk>) {
    match part.kind.as_deref() {
        Some("output_text") => {
            if let Some(text) = part.text.as_deref().filter(|t| !t.is_empty()) {
                out.push_back(Chunk::Text(text.into()));
            }
        }
        Some("refusal") => {
            if let Some(text) = part.refusal.as_deref().filter(|t| !t.is_empty()) {
                out.push_back(Chunk::Refusal(text.into()));
            }
        }
        _ => {}
    }
}

/// The finish with the usage's counts: input includes the cached tokens, output the
/// reasoning ones, as the crate counts them.
fn with_usage(finish: Finish, usage: &wire::Usage) -> Finish {
    let input = usage.input_tokens_details.as_ref();
    let output = usage.output_tokens_details.as_ref();
    finish
        .with_tokens(usage.input_tokens.value(), usage.output_tokens.value())
        .with_cache_tokens(
            input.and_then(|d| d.cached_tokens.value()),
            input.and_then(|d| d.cache_write_tokens.value()),
        )
        .with_reasoning_tokens(output.and_then(|d| d.reasoning_tokens.value()))
}
