//! [`SseDecoder`]: Chat Completions SSE data to chunks. A pure mapping per event, with
//! the state one reply needs (the finish is held back for the usage that follows it).

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::chunk::{Chunk, Finish, FinishReason, ServerTimings};
use crate::decode::{Decoder, Flow};
use crate::error::{excerpt, Result};
use crate::json_scan::SameShape;
use crate::origin::Origin;

use super::errors::stream_error;
use super::fast;
use super::tool_calls::{Fragment, ToolCalls};
use super::wire;

/// The counts of a usage object: prompt, completion, cached prompt, prompt written to
/// the cache, reasoning.
#[derive(Debug, Clone, Copy)]
struct Tokens {
    prompt: Option<u64>,
    completion: Option<u64>,
    cached: Option<u64>,
    cache_write: Option<u64>,
    reasoning: Option<u64>,
}

/// Maps SSE data frames to chunks.
///
/// The finish is held back until `[DONE]` or the end of the body, because with
/// `include_usage` the token counts come in a chunk after the one with `finish_reason`.
/// Secrets are not its concern: the provider scrubs every item it passes on.
#[derive(Debug)]
pub struct SseDecoder {
    origin: Origin,
    finish_reason: Option<FinishReason>,
    /// The usage and the server's timings come once, at the end: boxed, so that every
    /// open stream does not carry their 144 bytes.
    tokens: Option<Box<Tokens>>,
    model: Option<String>,
    response_id: Option<String>,
    timings: Option<Box<ServerTimings>>,
    /// An event that was a chat completion chunk has been seen.
    recognized: bool,
    /// The start of the first event, kept until one is recognized: a body of JSON that is
    /// not a chat completion is quoted in the error.
    first_frame: Option<String>,
    /// Tool calls being assembled from their fragments.
    tool_calls: ToolCalls,
    /// The last token event, when the events since it were all of its shape.
    shape: SameShape,
}

impl SseDecoder {
    /// A decoder for one reply from `origin`.
    pub(crate) fn new(origin: Origin) -> SseDecoder {
        SseDecoder {
            origin,
            finish_reason: None,
            tokens: None,
            model: None,
            response_id: None,
            timings: None,
            recognized: false,
            first_frame: None,
            tool_calls: ToolCalls::default(),
            shape: SameShape::default(),
        }
    }

    /// Uses `shape` to read repeated token events (tests compare with one disabled).
    #[cfg(any(test, feature = "test-hooks"))]
    pub(crate) fn set_shape(&mut self, shape: SameShape) {
        self.shape = shape;
    }

    /// A token chunk, as the fast path read it: what `map_event` does with the same
    /// event, for the little it holds.
    fn token(&mut self, token: fast::Token<'_>, frame: &[u8], out: &mut VecDeque<Chunk>) {
        if !self.recognized {
            self.recognized = token.choices || token.model.is_some();
            if !self.recognized && self.first_frame.is_none() {
                self.first_frame = Some(excerpt(&String::from_utf8_lossy(frame), 200));
            }
        }
        if let (None, Some(id)) = (&self.response_id, &token.id) {
            if !id.is_empty() {
                self.response_id = Some(id.to_string());
            }
        }
        if let Some(model) = token.model {
            if self.model.as_deref() != Some(&*model) {
                self.model = Some(model.into_owned());
            }
        }
        if let Some(content) = token.content.filter(|c| !c.is_empty()) {
            out.push_back(Chunk::Text(content.into()));
        }
    }

    /// The finish, after the tool calls still open (complete now).
    fn finish(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        self.tool_calls.finish(&self.origin, out)?;
        out.push_back(self.finish_chunk());
        Ok(())
    }

    fn finish_chunk(&mut self) -> Chunk {
        let mut finish = Finish::new(self.finish_reason.take().unwrap_or_default());
        if let Some(t) = self.tokens.take() {
            finish = finish
                .with_tokens(t.prompt, t.completion)
                .with_cache_tokens(t.cached, t.cache_write)
                .with_reasoning_tokens(t.reasoning);
        }
        if let Some(id) = self.response_id.take() {
            finish = finish.with_response_id(id);
        }
        if let Some(model) = self.model.take() {
            finish = finish.with_model(model);
        }
        if let Some(t) = self.timings.take() {
            finish = finish.with_timings(*t);
        }
        Chunk::from(finish)
    }
}

impl Decoder for SseDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        if frame.trim_ascii() == b"[DONE]" {
            self.finish(out)?;
            return Ok(Flow::Done);
        }
        if let Some(content) = self.shape.text_of(frame) {
            // The last token event again with another text: all `token` would do.
            if !content.is_empty() {
                out.push_back(Chunk::Text(content.into()));
            }
            return Ok(Flow::Continue);
        }
        // Checking the UTF-8 once here and parsing a `&str` is faster than having the
        // JSON parser check each string it borrows (measured: ~50 ns an event).
        let parsed = match std::str::from_utf8(frame) {
            Ok(text) => {
                // The chunk almost every token comes in: read by hand (see fast.rs).
                if let Some(token) = fast::read(text) {
                    let content = match &token.content {
                        Some(Cow::Borrowed(content)) => Some(*content),
                        _ => None,
                    };
                    self.token(token, frame, out);
                    match content {
                        Some(content) if self.recognized => self.shape.keep(text, content),
                        _ => self.shape.forget(),
                    }
                    return Ok(Flow::Continue);
                }
                serde_json::from_str::<wire::Event<'_>>(text).map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        self.shape.forget();
        let event = parsed.map_err(|e| {
            let text = String::from_utf8_lossy(frame);
            self.origin.malformed(&format!(
                "an event is not a chat completion chunk ({e}): {}",
                excerpt(&text, 200)
            ))
        })?;
        if !self.recognized {
            self.recognized = event.is_recognized();
            if !self.recognized && self.first_frame.is_none() {
                self.first_frame = Some(excerpt(&String::from_utf8_lossy(frame), 200));
            }
        }
        map_event(event, self, out)?;
        Ok(Flow::Continue)
    }

    fn end_of_body(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        if self.finish_reason.is_some() {
            // Some servers close after the finish without sending `[DONE]`: complete.
            self.finish(out)
        } else if let (false, Some(first)) = (self.recognized, &self.first_frame) {
            // Not a short reply but no reply at all: something else answered.
            Err(self.origin.malformed(&format!(
                "the body ({}) holds no chat completion; it starts: {first}",
                self.origin.media_type().unwrap_or("no content type")
            )))
        } else {
            Err(self
                .origin
                .truncated("the reply finished (no finish_reason and no [DONE])"))
        }
    }
}

/// The pure mapping of one event: text, reasoning, finish reason, usage, or an error.
fn map_event(
    event: wire::Event<'_>,
    state: &mut SseDecoder,
    out: &mut VecDeque<Chunk>,
) -> Result<()> {
    if let Some(error) = event.error {
        return Err(stream_error(&error, super::OpenAiProvider::NAME));
    }
    if let (None, Some(id)) = (&state.response_id, &event.id) {
        if !id.is_empty() {
            state.response_id = Some(id.to_string());
        }
    }
    if let Some(model) = event.model {
        if state.model.as_deref() != Some(&*model) {
            state.model = Some(model.into_owned());
        }
    }
    // With `n > 1` only the first choice is the reply: `Choices` keeps only index 0.
    for choice in event.choices {
        if let Some(delta) = choice.delta {
            // vLLM copies `reasoning` into the older `reasoning_content`: the same text
            // under both names is read once.
            let reasoning = match (delta.reasoning_content, delta.reasoning) {
                (Some(a), Some(b)) if a == b => [Some(a), None],
                (a, b) => [a, b],
            };
            for reasoning in reasoning.into_iter().flatten() {
                if !reasoning.is_empty() {
                    out.push_back(Chunk::Reasoning(reasoning.into()));
                }
            }
            if let Some(content) = delta.content {
                if !content.is_empty() {
                    out.push_back(Chunk::Text(content.into()));
                }
            }
            if let Some(refusal) = delta.refusal.filter(|r| !r.is_empty()) {
                out.push_back(Chunk::Refusal(refusal.into()));
            }
            // llama-cpp-python sends each fragment twice in one delta, in `tool_calls`
            // and in the legacy `function_call`: one call, read from `tool_calls`.
            let legacy_copy = delta.tool_calls.as_ref().is_some_and(|c| !c.is_empty());
            for call in delta.tool_calls.into_iter().flatten() {
                let function = call.function.as_ref();
                let fragment = Fragment {
                    key: call.index.value(),
                    id: call.id.as_deref(),
                    name: function.and_then(|f| f.name.as_deref()),
                    arguments: function.and_then(|f| f.arguments.as_deref()),
                };
                state.tool_calls.fragment(fragment, &state.origin, out)?;
            }
            if let Some(function) = delta.function_call.filter(|_| !legacy_copy) {
                // The legacy shape: one call, no id.
                let fragment = Fragment {
                    key: Some(0),
                    id: None,
                    name: function.name.as_deref(),
                    arguments: function.arguments.as_deref(),
                };
                state.tool_calls.fragment(fragment, &state.origin, out)?;
            }
        }
        if let Some(reason) = choice.finish_reason {
            if !reason.is_empty() {
                // The choice is over: its tool calls are complete.
                state.tool_calls.finish(&state.origin, out)?;
                state.finish_reason = Some(FinishReason::parse(&reason));
            }
        }
    }
    if let Some(usage) = event.usage {
        if usage.prompt_tokens.is_present() || usage.completion_tokens.is_present() {
            set_boxed(
                &mut state.tokens,
                Tokens {
                    prompt: usage.prompt_tokens.value(),
                    completion: usage.completion_tokens.value(),
                    cached: usage.cached_tokens(),
                    cache_write: usage.cache_write_tokens(),
                    reasoning: usage.reasoning_tokens(),
                },
            );
        }
    }
    if let Some(t) = event.timings {
        set_boxed(
            &mut state.timings,
            ServerTimings {
                total_ms: match (t.prompt_ms, t.predicted_ms) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                },
                load_ms: None,
                prompt_eval_ms: t.prompt_ms,
                eval_ms: t.predicted_ms,
            },
        );
    }
    Ok(())
}

/// Sets a boxed field, in its box if it has one: some servers send usage or timings
/// with every chunk.
fn set_boxed<T>(slot: &mut Option<Box<T>>, value: T) {
    match slot {
        Some(boxed) => **boxed = value,
        None => *slot = Some(Box::new(value)),
    }
}
