//! [`ResponsesDecoder`]: Responses API events to chunks.
//!
//! Text, refusal and reasoning deltas stream as they come. Function calls are keyed by
//! their item id (llama.cpp sends no `output_index`): announced when their name is
//! known, their argument deltas streamed, completed at `function_call_arguments.done`
//! or `output_item.done`, whichever comes first, or at the end. The reply ends at
//! exactly one of `response.completed`, `response.incomplete` (its reason) or
//! `response.failed` (its error), or at an `error` event; there is no `[DONE]`, and a
//! body that ends before a terminal event is an error, never a short success.

use std::collections::{HashMap, VecDeque};

use crate::chunk::{Chunk, Finish, FinishReason, Text, ToolCall};
use crate::decode::{Decoder, Flow};
use crate::error::{excerpt, Result};
use crate::origin::{Held, Origin};

use super::errors::event_error;
use super::wire::{self, Event, Item, Response};

/// One function call of the reply.
#[derive(Debug)]
struct Call {
    /// The output item's id, which the deltas name.
    item_id: String,
    /// The id a tool result must name (`call_…`).
    call_id: String,
    name: String,
    arguments: String,
    /// Its number among the reply's calls (the chunks' `index`).
    number: usize,
    started: bool,
    done: bool,
}

/// Maps the events of one reply to chunks.
#[derive(Debug)]
pub struct ResponsesDecoder {
    origin: Origin,
    response_id: Option<String>,
    model: Option<String>,
    calls: Vec<Call>,
    /// Where each item id's call is in `calls`: a reply can hold tens of thousands of
    /// calls, and every delta names one.
    call_at: HashMap<String, usize>,
    /// Some text, refusal or reasoning has streamed: the terminal response's output is
    /// then not read again.
    streamed: bool,
    /// An event of this API has been seen.
    recognized: bool,
    /// The start of the first frame, kept until one is recognized, for the error.
    first_frame: Option<String>,
    /// What the calls keep (ids, names, arguments), counted toward the reply's cap.
    held: Held,
}

impl ResponsesDecoder {
    /// A decoder for one reply from `origin`.
    pub(crate) fn new(origin: Origin) -> ResponsesDecoder {
        ResponsesDecoder {
            origin,
            response_id: None,
            model: None,
            calls: Vec::new(),
            call_at: HashMap::new(),
            streamed: false,
            recognized: false,
            first_frame: None,
            held: Held::default(),
        }
    }

    /// The call an item id names, made if it is new.
    fn call(&mut self, item_id: &str) -> Result<&mut Call> {
        let at = match self.call_at.get(item_id) {
            Some(&at) => at,
            None => {
                // The id is kept twice: in the call and in the index.
                self.held
                    .take(item_id.len().saturating_mul(2), &self.origin)?;
                let at = self.calls.len();
                self.calls.push(Call {
                    item_id: item_id.to_owned(),
                    call_id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                    number: at,
                    started: false,
                    done: false,
                });
                self.call_at.insert(item_id.to_owned(), at);
                at
            }
        };
        Ok(&mut self.calls[at])
    }

    /// What a `function_call` item says (on `added` or `done`) is learned, and the call
    /// announced if it can be.
    fn learn_item(&mut self, item: &Item, out: &mut VecDeque<Chunk>) -> Result<Option<usize>> {
        if item.kind.as_deref() != Some("function_call") {
            return Ok(None);
        }
        let len = |text: &Option<String>| text.as_deref().map_or(0, str::len);
        let kept = [len(&item.call_id), len(&item.name), len(&item.arguments)];
        self.held.take(
            kept.into_iter().fold(0, usize::saturating_add),
            &self.origin,
        )?;
        let key = item.id.as_deref().or(item.call_id.as_deref()).unwrap_or("");
        let call = self.call(key)?;
        if call.call_id.is_empty() {
            if let Some(id) = item.call_id.as_deref() {
                call.call_id = id.to_owned();
            }
        }
        if call.name.is_empty() {
            if let Some(name) = item.name.as_deref() {
                call.name = name.to_owned();
            }
        }
        if call.arguments.is_empty() {
            if let Some(arguments) = item.arguments.as_deref() {
                call.arguments = arguments.to_owned();
            }
        }
        start(call, out);
        Ok(Some(call.number))
    }

    /// Completes the call numbered `number`, if it is not yet.
    fn complete(&mut self, number: usize, out: &mut VecDeque<Chunk>) -> Result<()> {
        let Some(call) = self.calls.get_mut(number) else {
            return Ok(());
        };
        if call.done {
            return Ok(());
        }
        if call.name.is_empty() {
            return Err(self.origin.malformed(&format!(
                "function call {} ended without the name of its tool",
                call.number
            )));
        }
        start(call, out);
        call.done = true;
        let id = call_id(call);
        let complete = ToolCall::from_parts(id, call.name.clone(), &call.arguments)?;
        out.push_back(Chunk::from(complete));
        Ok(())
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
                    if let Some(number) = self.learn_item(item, out)? {
                        self.complete(number, out)?;
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
        for number in 0..self.calls.len() {
            self.complete(number, out)?;
        }
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
                let piece = event.delta.as_deref().unwrap_or("");
                self.held.take(piece.len(), &self.origin)?;
                let call = self.call(event.item_id.as_deref().unwrap_or(""))?;
                call.arguments.push_str(piece);
                if call.started && !piece.is_empty() {
                    out.push_back(Chunk::tool_call_delta(call.number, piece));
                }
            }
            "response.function_call_arguments.done" => {
                let arguments = event.arguments.as_deref().map_or(0, str::len);
                let kept = arguments.saturating_add(event.name.as_deref().map_or(0, str::len));
                self.held.take(kept, &self.origin)?;
                let call = self.call(event.item_id.as_deref().unwrap_or(""))?;
                if call.arguments.is_empty() {
                    if let Some(arguments) = event.arguments.as_deref() {
                        call.arguments = arguments.to_owned();
                    }
                }
                if let (true, Some(name)) = (call.name.is_empty(), event.name) {
                    call.name = name;
                }
                let number = call.number;
                if !call.name.is_empty() {
                    self.complete(number, out)?;
                }
            }
            "response.output_item.added" => {
                if let Some(item) = event.item {
                    self.learn_item(&item, out)?;
                }
            }
            "response.output_item.done" => {
                let learned = match event.item {
                    Some(item) => self.learn_item(&item, out)?,
                    None => None,
                };
                if let Some(number) = learned {
                    self.complete(number, out)?;
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

/// Announces a call once its name is known, with the arguments that came before.
fn start(call: &mut Call, out: &mut VecDeque<Chunk>) {
    if call.started || call.name.is_empty() {
        return;
    }
    call.started = true;
    // Its id is fixed now: the completed call carries the same.
    call.call_id = call_id(call);
    out.push_back(Chunk::tool_call_start(
        call.number,
        call.call_id.clone(),
        call.name.clone(),
    ));
    if !call.arguments.is_empty() {
        out.push_back(Chunk::tool_call_delta(call.number, call.arguments.clone()));
    }
}

/// The id a tool result must name: the call id, else the item id, else a made-up one.
fn call_id(call: &Call) -> String {
    if !call.call_id.is_empty() {
        call.call_id.clone()
    } else if !call.item_id.is_empty() {
        call.item_id.clone()
    } else {
        format!("call_{}", call.number)
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
