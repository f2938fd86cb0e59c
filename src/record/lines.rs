//! The recording format: one JSON object per line, each with its `type`. An exchange
//! is an `exchange` line (the provider, the model, the request, how it is priced), then
//! one line per chunk with its time offset, then a `finish` or an `error` line.

use std::io::{BufRead, Read};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chunk::{Chunk, Finish, FinishReason, ServerTimings, ThinkingBlock, ToolCall};
use crate::error::{Error, ErrorKind, Result};
use crate::pricing::{LongPrompt, Price, Pricing};
use crate::rate_limit::RateLimit;
use crate::request::ChatRequest;

/// The format's version, written on every exchange line.
pub(crate) const VERSION: u32 = 1;

/// One line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Line {
    /// The start of an exchange.
    Exchange {
        version: u32,
        provider: String,
        model: String,
        /// The request as sent (no secrets are part of a request).
        request: Value,
        /// `"free"`, `"unknown"` or the rates in nano-USD per token.
        pricing: Value,
    },
    Text {
        t_ms: f64,
        text: String,
    },
    Reasoning {
        t_ms: f64,
        text: String,
    },
    Refusal {
        t_ms: f64,
        text: String,
    },
    ToolCallStart {
        t_ms: f64,
        index: usize,
        id: String,
        name: String,
    },
    ToolCallDelta {
        t_ms: f64,
        index: usize,
        arguments: String,
    },
    ToolCall {
        t_ms: f64,
        id: String,
        name: String,
        arguments: Value,
    },
    Finish {
        t_ms: f64,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tokens_in: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tokens_out: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cached_tokens_in: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_write_tokens_in: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning_tokens_out: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timings: Option<ServerTimings>,
        /// Thinking blocks, which the next turn needs back.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reasoning_blocks: Vec<ThinkingBlock>,
        /// The endpoint that served the reply (its base URL, any password hidden).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// The rate limits the response's headers reported (boxed: rarely there, and
        /// larger than the rest of the line).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rate_limit: Option<Box<RateLimit>>,
    },
    Error {
        t_ms: f64,
        kind: ErrorKind,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
}

impl Line {
    /// The line of a chunk that came `t_ms` after the call.
    pub(crate) fn of_chunk(chunk: &Chunk, t_ms: f64) -> Line {
        match chunk {
            Chunk::Text(text) => Line::Text {
                t_ms,
                text: text.clone(),
            },
            Chunk::Reasoning(text) => Line::Reasoning {
                t_ms,
                text: text.clone(),
            },
            Chunk::Refusal(text) => Line::Refusal {
                t_ms,
                text: text.clone(),
            },
            Chunk::ToolCallStart(start) => Line::ToolCallStart {
                t_ms,
                index: start.index,
                id: start.id.clone(),
                name: start.name.clone(),
            },
            Chunk::ToolCallDelta(delta) => Line::ToolCallDelta {
                t_ms,
                index: delta.index,
                arguments: delta.arguments.clone(),
            },
            Chunk::ToolCall(call) => Line::ToolCall {
                t_ms,
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            },
            Chunk::Finish(finish) => Line::Finish {
                t_ms,
                reason: finish.reason.as_str().to_owned(),
                tokens_in: finish.tokens_in,
                tokens_out: finish.tokens_out,
                cached_tokens_in: finish.cached_tokens_in,
                cache_write_tokens_in: finish.cache_write_tokens_in,
                reasoning_tokens_out: finish.reasoning_tokens_out,
                model: finish.model.clone(),
                response_id: finish.response_id.clone(),
                timings: finish.timings,
                reasoning_blocks: finish.reasoning_blocks.clone(),
                endpoint: finish.endpoint.clone(),
                rate_limit: finish.rate_limit.map(Box::new),
            },
        }
    }

    /// The line of an error that came `t_ms` after the call.
    pub(crate) fn of_error(error: &Error, t_ms: f64) -> Line {
        Line::Error {
            t_ms,
            kind: error.kind(),
            message: error.message().to_owned(),
            status: error.status(),
        }
    }

    /// When the item came, for a chunk or an error line.
    pub(crate) fn t_ms(&self) -> Option<f64> {
        match self {
            Line::Exchange { .. } => None,
            Line::Text { t_ms, .. }
            | Line::Reasoning { t_ms, .. }
            | Line::Refusal { t_ms, .. }
            | Line::ToolCallStart { t_ms, .. }
            | Line::ToolCallDelta { t_ms, .. }
            | Line::ToolCall { t_ms, .. }
            | Line::Finish { t_ms, .. }
            | Line::Error { t_ms, .. } => Some(*t_ms),
        }
    }

    /// The stream item this line records (`None` for an exchange line).
    pub(crate) fn item(&self) -> Option<Result<Chunk>> {
        Some(match self.clone() {
            Line::Exchange { .. } => return None,
            Line::Text { text, .. } => Ok(Chunk::Text(text)),
            Line::Reasoning { text, .. } => Ok(Chunk::Reasoning(text)),
            Line::Refusal { text, .. } => Ok(Chunk::Refusal(text)),
            Line::ToolCallStart {
                index, id, name, ..
            } => Ok(Chunk::tool_call_start(index, id, name)),
            Line::ToolCallDelta {
                index, arguments, ..
            } => Ok(Chunk::tool_call_delta(index, arguments)),
            Line::ToolCall {
                id,
                name,
                arguments,
                ..
            } => Ok(Chunk::from(ToolCall::new(id, name, arguments))),
            Line::Finish {
                reason,
                tokens_in,
                tokens_out,
                cached_tokens_in,
                cache_write_tokens_in,
                reasoning_tokens_out,
                model,
                response_id,
                timings,
                reasoning_blocks,
                endpoint,
                rate_limit,
                ..
            } => {
                let mut finish = Finish::new(FinishReason::parse(&reason))
                    .with_tokens(tokens_in, tokens_out)
                    .with_cache_tokens(cached_tokens_in, cache_write_tokens_in)
                    .with_reasoning_tokens(reasoning_tokens_out);
                if let Some(model) = model {
                    finish = finish.with_model(model);
                }
                if let Some(id) = response_id {
                    finish = finish.with_response_id(id);
                }
                if let Some(timings) = timings {
                    finish = finish.with_timings(timings);
                }
                finish.reasoning_blocks = reasoning_blocks;
                finish.endpoint = endpoint;
                finish.rate_limit = rate_limit.map(|limits| *limits);
                Ok(Chunk::from(finish))
            }
            Line::Error {
                kind,
                message,
                status,
                ..
            } => {
                let mut error = Error::new(kind, message);
                if let Some(status) = status {
                    error = error.with_status(status);
                }
                Err(error)
            }
        })
    }

    /// The line as JSON text (no newline).
    pub(crate) fn to_json(&self) -> String {
        // A line holds only strings, numbers and JSON values: it always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A request as an exchange records it, with the model the provider used, so that a
/// request naming no model matches the recording of the same request.
pub(crate) fn request_json(request: &ChatRequest, model: &str) -> Value {
    let mut value = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("model".to_owned(), Value::from(model));
    }
    value
}

/// How pricing is recorded.
pub(crate) fn pricing_json(pricing: Pricing) -> Value {
    match pricing {
        Pricing::Free => Value::from("free"),
        Pricing::Metered(price) => {
            let mut value = serde_json::json!({
                "input": price.input_nanos_per_token,
                "output": price.output_nanos_per_token,
                "cached_input": price.cached_input_nanos_per_token,
                "cache_write": price.cache_write_nanos_per_token,
            });
            if let Some(long) = price.long_prompt {
                value["long_prompt"] = serde_json::json!({
                    "above_tokens": long.above_tokens,
                    "input": long.input_nanos_per_token,
                    "output": long.output_nanos_per_token,
                    "cached_input": long.cached_input_nanos_per_token,
                    "cache_write": long.cache_write_nanos_per_token,
                });
            }
            value
        }
        _ => Value::from("unknown"),
    }
}

/// Pricing as recorded; anything else is unknown.
pub(crate) fn pricing_of(value: &Value) -> Pricing {
    let nanos = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64);
    match value {
        Value::String(s) if s == "free" => Pricing::Free,
        Value::Object(_) => {
            let (Some(input), Some(output)) = (nanos(value, "input"), nanos(value, "output"))
            else {
                return Pricing::Unknown;
            };
            let mut price = Price::from_nanos_per_token(input, output);
            price.cached_input_nanos_per_token = nanos(value, "cached_input");
            price.cache_write_nanos_per_token = nanos(value, "cache_write");
            if let Some(long) = value.get("long_prompt") {
                if let (Some(above), Some(input), Some(output)) = (
                    nanos(long, "above_tokens"),
                    nanos(long, "input"),
                    nanos(long, "output"),
                ) {
                    let mut tier = LongPrompt::per_million_usd(above, 0.0, 0.0);
                    tier.input_nanos_per_token = input;
                    tier.output_nanos_per_token = output;
                    tier.cached_input_nanos_per_token = nanos(long, "cached_input");
                    tier.cache_write_nanos_per_token = nanos(long, "cache_write");
                    price = price.with_long_prompt(tier);
                }
            }
            Pricing::Metered(price)
        }
        _ => Pricing::Unknown,
    }
}

/// How much of a recording is read: past any of these, it is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The longest line, in bytes, without its line end.
    pub(crate) line_bytes: usize,
    /// The whole recording, in bytes.
    pub(crate) total_bytes: u64,
    /// The lines that are not blank.
    pub(crate) lines: usize,
}

/// Reads a recording line by line, within `limits`, naming the first line that is not
/// of the format. `source` (a file's name, or empty) starts each message. Reads at
/// most `limits.total_bytes + 1` bytes, and holds at most one line past the last kept.
pub(crate) fn read(reader: impl BufRead, source: &str, limits: Limits) -> Result<Vec<Line>> {
    let fail = |what: String| failure(source, &what);
    let mut reader = reader.take(limits.total_bytes.saturating_add(1));
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    let mut total: u64 = 0;
    let mut number: usize = 0;
    loop {
        buf.clear();
        number += 1;
        // The line, its line end ("\n" or "\r\n"), and one byte to tell it too long.
        let line_limit = (limits.line_bytes as u64).saturating_add(2);
        let read = (&mut reader)
            .take(line_limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| fail(format!("cannot read line {number}: {e}")))?;
        if read == 0 {
            return Ok(lines);
        }
        total = total.saturating_add(read as u64);
        if total > limits.total_bytes {
            return Err(fail(format!(
                "the recording is larger than {}; replay a smaller one",
                size(limits.total_bytes)
            )));
        }
        let line = match buf.strip_suffix(b"\n") {
            Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
            None => &buf[..],
        };
        if line.len() > limits.line_bytes {
            return Err(fail(format!(
                "line {number} is longer than {}, the longest line a recording may have",
                size(limits.line_bytes as u64)
            )));
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| fail(format!("line {number} is not UTF-8 text")))?;
        if line.trim().is_empty() {
            continue;
        }
        if lines.len() == limits.lines {
            return Err(fail(format!(
                "the recording has more than {} lines; replay a smaller one",
                limits.lines
            )));
        }
        let parsed = serde_json::from_str::<Line>(line).map_err(|e| {
            fail(format!(
                "line {number} is not a recording line ({e}): {}",
                crate::error::excerpt(line, 120)
            ))
        })?;
        lines.push(parsed);
    }
}

/// A recording that cannot be replayed, and why; `source` names it (or is empty).
pub(crate) fn failure(source: &str, why: &str) -> Error {
    let message = match source {
        "" => format!("replay: {why}"),
        source => format!("replay: {source}: {why}"),
    };
    Error::new(ErrorKind::InvalidRequest, message)
}

/// `64 MiB`, or `1000 bytes`.
fn size(bytes: u64) -> String {
    match bytes % (1 << 20) {
        0 => format!("{} MiB", bytes >> 20),
        _ => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{"type":"text","t_ms":1.0,"text":"x"}"#;

    fn limits(line_bytes: usize, total_bytes: u64, lines: usize) -> Limits {
        Limits {
            line_bytes,
            total_bytes,
            lines,
        }
    }

    fn read_str(text: &str, limits: Limits) -> Result<Vec<Line>> {
        read(text.as_bytes(), "f.jsonl", limits)
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_read_and_one_byte_more_is_not() {
        let cap = TEXT.len();
        for ending in ["", "\n", "\r\n"] {
            let text = format!("{TEXT}{ending}");
            assert_eq!(
                read_str(&text, limits(cap, 1000, 10)).unwrap().len(),
                1,
                "{ending:?}"
            );
            let err = read_str(&text, limits(cap - 1, 1000, 10)).unwrap_err();
            assert_eq!(
                err.message(),
                format!("replay: f.jsonl: line 1 is longer than {} bytes, the longest line a recording may have", cap - 1)
            );
        }
        // Line numbers count blank lines, as an editor does.
        let text = format!("{TEXT}\n\n{TEXT}x\n");
        let err = read_str(&text, limits(cap, 1000, 10)).unwrap_err();
        assert!(err.message().contains("line 3 is longer"), "{err}");
    }

    #[test]
    fn a_recording_is_capped_in_bytes_and_in_lines() {
        let text = format!("{TEXT}\n\n{TEXT}\n");
        let size = text.len() as u64;
        assert_eq!(read_str(&text, limits(100, size, 2)).unwrap().len(), 2);
        let err = read_str(&text, limits(100, size - 1, 2)).unwrap_err();
        assert_eq!(
            err.message(),
            format!(
                "replay: f.jsonl: the recording is larger than {} bytes; replay a smaller one",
                size - 1
            )
        );
        // Blank lines are not counted, and cost only their bytes.
        let err = read_str(&text, limits(100, size, 1)).unwrap_err();
        assert!(err.message().contains("more than 1 lines"), "{err}");
        assert!(read_str("\n\n \n", limits(1, 4, 0)).unwrap().is_empty());
    }

    #[test]
    fn the_recording_is_read_no_further_than_its_caps() {
        /// An endless source that counts what it gives.
        struct Endless(u64);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                buf.fill(b' ');
                self.0 += buf.len() as u64;
                Ok(buf.len())
            }
        }
        let mut endless = Endless(0);
        let reader = std::io::BufReader::with_capacity(7, &mut endless);
        assert!(read(reader, "", limits(100, 1000, 10)).is_err());
        assert!(endless.0 <= 102 + 7, "read {} bytes", endless.0);
        // Many short lines: the total is the bound.
        let mut lines = std::io::repeat(b'\n').take(u64::MAX);
        let reader = std::io::BufReader::with_capacity(64, &mut lines);
        let err = read(reader, "", limits(100, 1000, 10)).unwrap_err();
        assert!(err.message().contains("larger than 1000 bytes"), "{err}");
        assert!(u64::MAX - lines.limit() <= 1001 + 64);
    }

    #[test]
    fn lines_split_anywhere_read_the_same() {
        let text = format!("{TEXT}\r\n\n{TEXT}\n  \n{TEXT}");
        let whole = read_str(&text, limits(100, 1000, 10)).unwrap();
        assert_eq!(whole.len(), 3);
        for capacity in 1..8 {
            let reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            assert_eq!(read(reader, "", limits(100, 1000, 10)).unwrap(), whole);
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_or_not_of_the_format_is_named() {
        let err = read(&b"\n\xff\n"[..], "", limits(100, 1000, 10)).unwrap_err();
        assert_eq!(err.message(), "replay: line 2 is not UTF-8 text");
        let err = read_str("{}\n", limits(100, 1000, 10)).unwrap_err();
        assert!(
            err.message()
                .starts_with("replay: f.jsonl: line 1 is not a recording line"),
            "{err}"
        );
    }
}
