//! The recording format: one JSON object per line, each with its `type`. An exchange
//! is an `exchange` line (the provider, the model, the request, how it is priced), then
//! one line per chunk with its time offset, then a `finish` or an `error` line.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chunk::{Chunk, Finish, FinishReason, ServerTimings, Text, ThinkingBlock, ToolCall};
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
        text: Text,
    },
    Reasoning {
        t_ms: f64,
        text: Text,
    },
    Refusal {
        t_ms: f64,
        text: Text,
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
