//! Provider-neutral stream items: [`Chunk`], [`Finish`], [`FinishReason`].

use std::fmt;

use serde::{Serialize, Serializer};

/// One item of a [`ChatStream`](crate::ChatStream), in the order the provider produced it.
///
/// A well-formed stream is any number of `Text` and `Reasoning` chunks followed by
/// exactly one `Finish`; or it ends early with an `Err` item.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Chunk {
    /// A piece of the reply text. Never empty.
    Text(String),
    /// A piece of the model's reasoning ("thinking"), which is not part of the reply
    /// (OpenAI-compatible `reasoning_content`/`reasoning`, Ollama `thinking`). Never empty.
    Reasoning(String),
    /// The end of the reply: why it ended and the token counts the provider reported.
    /// Boxed, so that the text chunks that make up almost every item stay small (moving
    /// them through the stream layers is measurably cheaper); make one with
    /// `Chunk::from(finish)`.
    Finish(Box<Finish>),
}

impl From<Finish> for Chunk {
    fn from(finish: Finish) -> Chunk {
        Chunk::Finish(Box::new(finish))
    }
}

impl Chunk {
    /// The reply text this chunk carries, if it is a `Text` chunk.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Chunk::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// The last item of a successful stream.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Finish {
    /// Why generation stopped.
    pub reason: FinishReason,
    /// Prompt tokens, as the provider reported them (`None` if it did not).
    pub tokens_in: Option<u64>,
    /// Generated tokens, as the provider reported them (`None` if it did not).
    pub tokens_out: Option<u64>,
    /// The model that answered, as the server named it (it may be more precise than the
    /// name requested, e.g. a dated OpenAI id).
    pub model: Option<String>,
    /// The server's own timings, where it reports them (Ollama does).
    pub timings: Option<ServerTimings>,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
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
    /// The model asked to call tools.
    ToolCalls,
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

    #[test]
    fn as_text_only_for_text() {
        assert_eq!(Chunk::Text("a".into()).as_text(), Some("a"));
        assert_eq!(Chunk::Reasoning("a".into()).as_text(), None);
    }
}
