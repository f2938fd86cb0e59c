//! Provider-neutral stream items: [`Chunk`], [`ToolCall`] and its beginnings. The
//! finish, and what it keeps, are in `finish.rs`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{excerpt, Error, ErrorKind, Result};
pub use crate::finish::{Finish, FinishReason, ServerTimings, ThinkingBlock};
pub use crate::text::Text;

/// One item of a [`ChatStream`](crate::ChatStream), in the order the provider produced it.
///
/// A well-formed stream is any number of text, reasoning, refusal and tool call chunks
/// followed by exactly one `Finish`; or it ends early with an `Err` item. A tool call
/// streams in three steps, tied by its `index`: [`Chunk::ToolCallStart`], any number of
/// [`Chunk::ToolCallDelta`] (its arguments as they arrive), then [`Chunk::ToolCall`]
/// (complete, arguments parsed). Providers whose wire sends calls whole send the three
/// at once. Text may come before, between and after tool calls.
///
/// The variants that only a few chunks are (tool calls, the finish) are boxed, so that
/// the text chunks that make up almost every item stay small (moving them through the
/// stream layers is measurably cheaper).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Chunk {
    /// A piece of the reply text. Never empty.
    Text(Text),
    /// A piece of the model's reasoning ("thinking"), which is not part of the reply
    /// (OpenAI-compatible `reasoning_content`/`reasoning`, Ollama `thinking`, Anthropic
    /// thinking blocks). Never empty.
    Reasoning(Text),
    /// A piece of a refusal: the model declined to answer (OpenAI `delta.refusal`).
    /// Never empty.
    Refusal(Text),
    /// A tool call has begun.
    ToolCallStart(Box<ToolCallStart>),
    /// A fragment of a tool call's arguments (JSON text, as it streams). Never empty.
    ToolCallDelta(Box<ToolCallDelta>),
    /// A tool call, complete, its arguments parsed.
    ToolCall(Box<ToolCall>),
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

impl From<ToolCall> for Chunk {
    fn from(call: ToolCall) -> Chunk {
        Chunk::ToolCall(Box::new(call))
    }
}

impl Chunk {
    /// The beginning of tool call number `index` (from 0, in the reply's order).
    pub fn tool_call_start(index: usize, id: impl Into<String>, name: impl Into<String>) -> Chunk {
        Chunk::ToolCallStart(Box::new(ToolCallStart {
            index,
            id: id.into(),
            name: name.into(),
        }))
    }

    /// A fragment of the arguments of tool call number `index`.
    pub fn tool_call_delta(index: usize, arguments: impl Into<String>) -> Chunk {
        Chunk::ToolCallDelta(Box::new(ToolCallDelta {
            index,
            arguments: arguments.into(),
        }))
    }

    /// The reply text this chunk carries, if it is a `Text` chunk.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Chunk::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// A tool call has begun: its number among the reply's calls, its id and the tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ToolCallStart {
    /// The call's number in the reply, from 0; its deltas carry the same.
    pub index: usize,
    /// The call's id, to tie its result to it in the next turn.
    pub id: String,
    /// The tool's name.
    pub name: String,
}

/// A fragment of a tool call's arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// The call's number in the reply (as in its [`ToolCallStart`]).
    pub index: usize,
    /// JSON text; the fragments of one call concatenate to its arguments.
    pub arguments: String,
}

/// A tool call the model made: which tool, with which arguments.
///
/// ```
/// use serde_json::json;
/// use theory_llm::ToolCall;
///
/// #[derive(serde::Deserialize)]
/// struct Weather { city: String }
///
/// let call = ToolCall::new("call_1", "get_weather", json!({"city": "Paris"}));
/// let args: Weather = call.parse()?;
/// assert_eq!(args.city, "Paris");
/// # Ok::<(), theory_llm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ToolCall {
    /// The call's id: give it back with the result (`Message::tool_result`).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, parsed (a JSON object, usually; `serde_json::Value` is JSON data,
    /// by design). [`parse`](Self::parse) reads them into your own type.
    pub arguments: Value,
}

impl ToolCall {
    /// A call to `name` with `arguments`.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: Value) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments,
        }
    }

    /// The arguments read into `T`.
    ///
    /// # Errors
    /// `protocol` if they do not fit `T`, naming the tool and what did not fit.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.arguments).map_err(|e| {
            Error::new(
                ErrorKind::Protocol,
                format!(
                    "the arguments of tool '{}' do not fit the type asked for ({e}): {}",
                    self.name,
                    excerpt(&self.arguments.to_string(), 200)
                ),
            )
        })
    }

    /// A complete call from its streamed parts: the arguments' JSON text parsed (empty
    /// text is `{}`: a tool without parameters).
    ///
    /// # Errors
    /// `protocol` when the arguments are not JSON, naming the tool and quoting them.
    pub fn from_parts(id: String, name: String, arguments: &str) -> Result<ToolCall> {
        let text = arguments.trim();
        let arguments = if text.is_empty() {
            Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_str(text).map_err(|e| {
                Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "the arguments of tool call '{name}' are not valid JSON ({e}): {}",
                        excerpt(text, 200)
                    ),
                )
            })?
        };
        Ok(ToolCall {
            id,
            name,
            arguments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_text_only_for_text() {
        assert_eq!(Chunk::Text("a".into()).as_text(), Some("a"));
        assert_eq!(Chunk::Reasoning("a".into()).as_text(), None);
    }
}
