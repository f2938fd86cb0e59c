//! The last item of a successful stream: [`Finish`], why generation stopped
//! ([`FinishReason`]), the server's timings, and the reasoning a provider wants back
//! with the turn ([`ThinkingBlock`]).

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::rate_limit::RateLimit;
use crate::route::Route;

/// Reasoning a provider requires back with the turn that produced it, kept as it came:
/// an Anthropic thinking block, or a Gemini thought signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum ThinkingBlock {
    /// Readable thinking and the signature that vouches for it.
    Thinking {
        /// The thinking text.
        thinking: String,
        /// The signature.
        signature: String,
    },
    /// Thinking the provider keeps encrypted.
    RedactedThinking {
        /// The opaque data.
        data: String,
    },
    /// A Gemini `thoughtSignature`: opaque, sent back unchanged on the same kind of
    /// part it came with (a function call, a thought, or the text). Other providers do
    /// not send it.
    ThoughtSignature {
        /// The signature.
        signature: String,
        /// The call whose `functionCall` part carried it; `None` when a text or thought
        /// part did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool_call_id: Option<String>,
        /// When a thought part carried it: the text of that part and of the unsigned
        /// thought parts just before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thought: Option<String>,
    },
}

/// The last item of a successful stream.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Finish {
    /// Why generation stopped.
    pub reason: FinishReason,
    /// All prompt tokens, cached ones included, as the provider reported them (`None`
    /// if it did not). Providers that count cache reads and writes apart from the input
    /// (Anthropic) have them added here.
    pub tokens_in: Option<u64>,
    /// Generated tokens, reasoning included, as the provider reported them (`None` if
    /// it did not).
    pub tokens_out: Option<u64>,
    /// Of `tokens_in`, the tokens read from the provider's prompt cache (`None`: not
    /// reported, which is not the same as 0).
    pub cached_tokens_in: Option<u64>,
    /// Of `tokens_in`, the tokens written to the provider's prompt cache (Anthropic).
    pub cache_write_tokens_in: Option<u64>,
    /// Of `tokens_out`, the reasoning tokens (OpenAI's reasoning models).
    pub reasoning_tokens_out: Option<u64>,
    /// The provider's id of this reply (`chatcmpl-…`, `msg_…`, `resp_…`).
    pub response_id: Option<String>,
    /// The rate limits the response's headers reported (the HTTP providers fill it in).
    pub rate_limit: Option<RateLimit>,
    /// The base URL that served the reply, secrets redacted (the HTTP providers fill it
    /// in; with an endpoint pool, the endpoint chosen).
    pub endpoint: Option<String>,
    /// Which entry of a fallback chain answered, and the attempts before it.
    pub route: Option<Box<Route>>,
    /// The model that answered, as the server named it (it may be more precise than the
    /// name requested, e.g. a dated OpenAI id).
    pub model: Option<String>,
    /// The server's own timings, where it reports them (Ollama does).
    pub timings: Option<ServerTimings>,
    /// Reasoning the provider requires back with this turn, in order: Anthropic's
    /// thinking blocks with their signatures, Gemini's thought signatures.
    pub reasoning_blocks: Vec<ThinkingBlock>,
    /// How long the request waited for admission by a budget
    /// ([`BudgetProvider`](crate::budget::BudgetProvider)) before it was sent; `None`
    /// without one.
    pub waited: Option<std::time::Duration>,
}

impl Finish {
    /// A finish with `reason` and nothing else known.
    pub fn new(reason: FinishReason) -> Finish {
        Finish {
            reason,
            ..Finish::default()
        }
    }

    /// Sets the token counts the provider reported.
    #[must_use]
    pub fn with_tokens(mut self, tokens_in: Option<u64>, tokens_out: Option<u64>) -> Finish {
        self.tokens_in = tokens_in;
        self.tokens_out = tokens_out;
        self
    }

    /// Sets the prompt cache counts the provider reported: tokens read from the cache
    /// and tokens written to it, both part of `tokens_in`.
    #[must_use]
    pub fn with_cache_tokens(mut self, cached: Option<u64>, written: Option<u64>) -> Finish {
        self.cached_tokens_in = cached;
        self.cache_write_tokens_in = written;
        self
    }

    /// Sets the reasoning tokens the provider reported (part of `tokens_out`).
    #[must_use]
    pub fn with_reasoning_tokens(mut self, tokens: Option<u64>) -> Finish {
        self.reasoning_tokens_out = tokens;
        self
    }

    /// Sets the provider's id of the reply.
    #[must_use]
    pub fn with_response_id(mut self, id: impl Into<String>) -> Finish {
        self.response_id = Some(id.into());
        self
    }

    /// Sets the model name the server reported.
    #[must_use]
    pub fn with_model(mut self, model: impl Into<String>) -> Finish {
        self.model = Some(model.into());
        self
    }

    /// Sets the server's timings.
    #[must_use]
    pub fn with_timings(mut self, timings: ServerTimings) -> Finish {
        self.timings = Some(timings);
        self
    }
}

/// Timings measured by the server itself, in milliseconds (Ollama reports them in
/// nanoseconds; they are converted). A field is `None` when the server left it out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerTimings {
    /// The whole request on the server.
    pub total_ms: Option<f64>,
    /// Loading the model into memory.
    pub load_ms: Option<f64>,
    /// Evaluating the prompt.
    pub prompt_eval_ms: Option<f64>,
    /// Generating the reply.
    pub eval_ms: Option<f64>,
}

/// Why the model stopped generating.
///
/// Serialized as its `snake_case` name (`"stop"`, `"length"`); an unrecognised reason
/// keeps the server's string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FinishReason {
    /// The model finished, or a stop sequence was generated.
    #[default]
    Stop,
    /// The token limit (`max_tokens`) or the context size was reached.
    Length,
    /// The provider's content filter cut the reply.
    ContentFilter,
    /// The model asked to call tools. A reply with tool calls always ends so, whatever
    /// the server said (OpenAI says `stop` when the tool choice names a function; Ollama
    /// always says `stop`).
    ToolCalls,
    /// The model refused to answer (Anthropic `refusal`).
    Refusal,
    /// The app stopped reading before the end (the stream was dropped, which cancels
    /// the request); see [`Collector::cancel`](crate::reply::Collector::cancel).
    Cancelled,
    /// A tool loop (`agent::Run`, feature `agent`) made its most model calls, and the
    /// model still called tools.
    MaxSteps,
    /// A tool loop reached its cost ceiling before the model answered.
    MaxCost,
    /// Any other reason, as the server named it (Ollama: `load`, `unload`).
    Other(String),
}

impl FinishReason {
    /// Parses a provider's reason string (`"stop"`, `"length"`, `"content_filter"`,
    /// `"tool_calls"`, `"function_call"`); anything else is kept as [`FinishReason::Other`].
    pub fn parse(reason: &str) -> FinishReason {
        match reason {
            "stop" | "eos" | "end_turn" | "stop_sequence" => FinishReason::Stop,
            "length" | "max_tokens" => FinishReason::Length,
            "content_filter" => FinishReason::ContentFilter,
            "tool_calls" | "function_call" | "tool_use" => FinishReason::ToolCalls,
            "refusal" => FinishReason::Refusal,
            "cancelled" => FinishReason::Cancelled,
            "max_steps" => FinishReason::MaxSteps,
            "max_cost" => FinishReason::MaxCost,
            other => FinishReason::Other(other.to_owned()),
        }
    }

    /// The `snake_case` name.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Refusal => "refusal",
            FinishReason::Cancelled => "cancelled",
            FinishReason::MaxSteps => "max_steps",
            FinishReason::MaxCost => "max_cost",
            FinishReason::Other(s) => s,
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reasons_round_trip_and_keep_unknown_strings() {
        for s in ["stop", "length", "content_filter", "tool_calls"] {
            assert_eq!(FinishReason::parse(s).as_str(), s);
        }
        assert_eq!(
            FinishReason::parse("load"),
            FinishReason::Other("load".into())
        );
        assert_eq!(
            serde_json::to_string(&FinishReason::parse("unload")).unwrap(),
            "\"unload\""
        );
        assert_eq!(
            FinishReason::parse("function_call"),
            FinishReason::ToolCalls
        );
    }
}
