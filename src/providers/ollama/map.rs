//! [`LineDecoder`]: `/api/chat` NDJSON lines to chunks. A token line that repeats the
//! last one but for its text and `created_at` is read by comparing bytes
//! ([`SameShape`]); other token lines take the hand-written fast path (`fast.rs`);
//! serde reads every other line and is the reference.

use std::collections::VecDeque;

use serde_json::Value;

use crate::chunk::{Chunk, Finish, FinishReason, ServerTimings, ToolCall};
use crate::decode::{Decoder, Flow};
use crate::error::{excerpt, Result};
use crate::json_scan::SameShape;
use crate::lenient::Reported;
use crate::origin::Origin;

use super::errors::{error_text, midstream_error};
use super::{fast, wire};

/// Maps NDJSON lines of `/api/chat` to chunks. The state is the model name last seen,
/// reported on the finish, and whether any line was an `/api/chat` line at all.
#[derive(Debug)]
pub struct LineDecoder {
    origin: Origin,
    model: Option<String>,
    /// A line with a message, `done`, an error or a model has been seen.
    recognized: bool,
    /// The start of the first line, kept until one is recognized: a body of JSON that is
    /// not a chat reply is quoted in the error.
    first_line: Option<String>,
    /// Tool calls sent so far.
    tool_calls: usize,
    /// The last token line, when the lines since it were all of its shape.
    shape: SameShape,
}

impl LineDecoder {
    /// A decoder for one reply from `origin`.
    pub(crate) fn new(origin: Origin) -> LineDecoder {
        LineDecoder {
            origin,
            model: None,
            recognized: false,
            first_line: None,
            tool_calls: 0,
            shape: SameShape::default(),
        }
    }

    /// Uses `shape` to read repeated token lines (tests compare with one disabled).
    #[cfg(test)]
    pub(crate) fn set_shape(&mut self, shape: SameShape) {
        self.shape = shape;
    }

    /// The pure mapping of one line.
    ///
    /// - `message.thinking` is reasoning and `message.content` is text (empty ones
    ///   skipped); each of `message.tool_calls` is a whole call (start, arguments and
    ///   the complete call at once); other fields are ignored.
    /// - A line with `error` (real Ollama: `{"error": "…"}` with no `done`; the
    ///   ollama-proxy-plus shim: on the `done` line with `done_reason: "error"`) ends the
    ///   stream with a `server` error, after any content it carries.
    /// - The `done: true` line ends the reply: its content first, then the finish with
    ///   the reason (missing means `stop`), the counts and the timings. Ollama omits a
    ///   metric that is zero, so a done line with some metrics reports a missing count
    ///   or duration as 0; one with no metrics at all reports none (counts unknown). A
    ///   metric that is not a count (the crate's one rule, [`Reported`]) is not
    ///   reported: its count is estimated.
    fn map(&mut self, line: wire::Line<'_>, out: &mut VecDeque<Chunk>) -> Result<Flow> {
        if let Some(message) = line.message {
            if !message.thinking.is_empty() {
                out.push_back(Chunk::Reasoning(message.thinking.into()));
            }
            if !message.content.is_empty() {
                out.push_back(Chunk::Text(message.content.into()));
            }
            if let Some(calls) = message.tool_calls.as_deref() {
                self.tool_calls(calls, out)?;
            }
        }
        if !line.model.is_empty() && self.model.as_deref() != Some(&*line.model) {
            self.model = Some(line.model.into_owned());
        }
        if let Some(error) = line.error.as_deref().filter(|e| !e.is_null()) {
            return Err(midstream_error(&error_text(error)));
        }
        if line.done_reason == "error" {
            return Err(midstream_error(
                "the reply ended with done_reason \"error\" and no message",
            ));
        }
        if line.done != Some(true) {
            return Ok(Flow::Continue);
        }
        let reason = if line.done_reason.is_empty() {
            FinishReason::Stop
        } else {
            FinishReason::parse(&line.done_reason)
        };
        let mut finish = Finish::new(reason);
        let m = line.metrics.as_deref().copied().unwrap_or_default();
        let has_metrics = [
            m.total_duration,
            m.load_duration,
            m.prompt_eval_count,
            m.prompt_eval_duration,
            m.eval_count,
            m.eval_duration,
        ]
        .iter()
        .any(|r| r.is_present());
        if has_metrics {
            // Missing is zero (Ollama omits zeros); present but not a count is unknown.
            let metric = |r: Reported| match r {
                Reported::Missing => Some(0),
                other => other.value(),
            };
            let ms = |ns: Reported| metric(ns).map(|ns| ns as f64 / 1e6);
            finish = finish
                .with_tokens(metric(m.prompt_eval_count), metric(m.eval_count))
                .with_timings(ServerTimings {
                    total_ms: ms(m.total_duration),
                    load_ms: ms(m.load_duration),
                    prompt_eval_ms: ms(m.prompt_eval_duration),
                    eval_ms: ms(m.eval_duration),
                });
        }
        if let Some(model) = self.model.take() {
            finish = finish.with_model(model);
        }
        out.push_back(Chunk::from(finish));
        Ok(Flow::Done)
    }
}

impl LineDecoder {
    /// `[{"id"?, "function": {"index"?, "name", "arguments": {…}}}]`: each a whole call.
    /// Ollama's ids are missing in older versions: `call_<n>` then.
    fn tool_calls(&mut self, calls: &Value, out: &mut VecDeque<Chunk>) -> Result<()> {
        let Value::Array(calls) = calls else {
            return Ok(());
        };
        for call in calls {
            let function = &call["function"];
            let Some(name) = function["name"].as_str().filter(|n| !n.is_empty()) else {
                return Err(self.origin.malformed(&format!(
                    "a tool call has no name: {}",
                    excerpt(&call.to_string(), 200)
                )));
            };
            let number = self.tool_calls;
            self.tool_calls += 1;
            let id = call["id"]
                .as_str()
                .filter(|id| !id.is_empty())
                .map_or_else(|| format!("call_{number}"), str::to_owned);
            let arguments = match &function["arguments"] {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.push_back(Chunk::tool_call_start(number, id.clone(), name));
            if !arguments.is_empty() {
                out.push_back(Chunk::tool_call_delta(number, arguments.clone()));
            }
            out.push_back(Chunk::from(ToolCall::from_parts(
                id,
                name.to_owned(),
                &arguments,
            )?));
        }
        Ok(())
    }
}

impl Decoder for LineDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let malformed = |e: &dyn std::fmt::Display| {
            self.origin.malformed(&format!(
                "a line is not an /api/chat JSON object ({e}): {}",
                excerpt(&String::from_utf8_lossy(frame), 120)
            ))
        };
        if let Some(content) = self.shape.text_of(frame) {
            // The last token line again with another text: all `map` would do.
            if !content.is_empty() {
                out.push_back(Chunk::Text(content.into()));
            }
            return Ok(Flow::Continue);
        }
        // Checking the UTF-8 once here and parsing a `&str` is faster than having the
        // JSON parser check each string it borrows (measured: ~50 ns a line).
        let text = std::str::from_utf8(frame).map_err(|e| malformed(&e))?;
        // Token lines take the hand-written fast path (see `fast`); anything it does
        // not take, serde reads.
        let (mut line, keep): (wire::Line<'_>, _) = match fast::read_stamped(text) {
            Some((line, created_at)) => {
                let keep = line.plain_text().map(|content| (created_at, content));
                (line, keep)
            }
            None => (serde_json::from_str(text).map_err(|e| malformed(&e))?, None),
        };
        if line.done == Some(true) {
            // The metrics are read by a second parse of the last line only, which keeps
            // what is read from every token line small.
            let metrics = serde_json::from_str(text).map_err(|e| malformed(&e))?;
            line.metrics = Some(Box::new(metrics));
        }
        if !self.recognized {
            self.recognized = line.is_recognized();
            if !self.recognized && self.first_line.is_none() {
                self.first_line = Some(excerpt(text, 200));
            }
        }
        match keep {
            Some((created_at, content)) if self.recognized => {
                self.shape.keep_skipping(text, created_at, content)
            }
            _ => self.shape.forget(),
        }
        self.map(line, out)
    }

    fn end_of_body(&mut self, _out: &mut VecDeque<Chunk>) -> Result<()> {
        match (self.recognized, &self.first_line) {
            // Not a short reply but no reply at all: something else answered.
            (false, Some(first)) => Err(self.origin.malformed(&format!(
                "the body ({}) holds no /api/chat reply; it starts: {first}",
                self.origin.media_type().unwrap_or("no content type")
            ))),
            _ => Err(self.origin.truncated("the line with \"done\": true")),
        }
    }
}
