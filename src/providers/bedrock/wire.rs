//! The JSON of a Converse reply: the payload of each event-stream message, and the
//! whole reply a server sends as `application/json`. Lenient: every field optional,
//! unknown fields ignored (Bedrock pads payloads with a random `p`), counts read by the
//! crate's one rule ([`Reported`]), text borrowed from the frame when it has no escapes.
//! (The request is in `request.rs`.)

use std::borrow::Cow;

use serde::Deserialize;

use crate::lenient::Reported;

/// One message's payload. Which fields it has depends on its `:event-type`:
/// `messageStart` (`role`), `contentBlockStart` (`contentBlockIndex`, `start`),
/// `contentBlockDelta` (`contentBlockIndex`, `delta`), `contentBlockStop`
/// (`contentBlockIndex`), `messageStop` (`stopReason`), `metadata` (`usage`,
/// `metrics`); an exception's is `{"message"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payload<'a> {
    #[serde(default)]
    pub(crate) content_block_index: Reported,
    #[serde(default, borrow)]
    pub(crate) start: Option<Box<Start<'a>>>,
    #[serde(default, borrow)]
    pub(crate) delta: Option<Delta<'a>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) usage: Option<Usage>,
    #[serde(default)]
    pub(crate) metrics: Option<Metrics>,
    /// An exception's message (`Message` in some services' spelling).
    #[serde(
        default,
        borrow,
        alias = "Message",
        deserialize_with = "crate::json_text::text"
    )]
    pub(crate) message: Option<Cow<'a, str>>,
}

/// `start` of a `contentBlockStart`: a tool call's id and name (text and reasoning
/// blocks start with nothing, or an empty object).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Start<'a> {
    #[serde(default, borrow)]
    pub(crate) tool_use: Option<ToolUseStart<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseStart<'a> {
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) tool_use_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) name: Option<Cow<'a, str>>,
}

/// `delta` of a `contentBlockDelta`: text, a fragment of a tool call's input (JSON
/// text), or reasoning (its text, its signature, or redacted reasoning).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Delta<'a> {
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) tool_use: Option<ToolUseDelta<'a>>,
    #[serde(default, borrow)]
    pub(crate) reasoning_content: Option<ReasoningDelta<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToolUseDelta<'a> {
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) input: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReasoningDelta<'a> {
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) signature: Option<Cow<'a, str>>,
    /// Encrypted reasoning, base64.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) redacted_content: Option<Cow<'a, str>>,
}

/// Token counts. `inputTokens` excludes the cache reads and writes, which are counted
/// apart (as Anthropic's API does).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Usage {
    #[serde(default)]
    pub(crate) input_tokens: Reported,
    #[serde(default)]
    pub(crate) output_tokens: Reported,
    #[serde(default)]
    pub(crate) cache_read_input_tokens: Reported,
    #[serde(default)]
    pub(crate) cache_write_input_tokens: Reported,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Metrics {
    #[serde(default)]
    pub(crate) latency_ms: Reported,
}

/// A whole Converse reply: `{"output": {"message": {"content": [...]}}, "stopReason",
/// "usage", "metrics"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Whole {
    #[serde(default)]
    pub(crate) output: Option<Output>,
    #[serde(default)]
    pub(crate) stop_reason: Option<String>,
    #[serde(default)]
    pub(crate) usage: Option<Usage>,
    #[serde(default)]
    pub(crate) metrics: Option<Metrics>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Output {
    #[serde(default)]
    pub(crate) message: Option<OutputMessage>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OutputMessage {
    #[serde(default)]
    pub(crate) content: Vec<Block>,
}

/// A content block of a whole reply.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Block {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) tool_use: Option<ToolUse>,
    #[serde(default)]
    pub(crate) reasoning_content: Option<Reasoning>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUse {
    #[serde(default)]
    pub(crate) tool_use_id: Option<String>,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) input: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reasoning {
    #[serde(default)]
    pub(crate) reasoning_text: Option<ReasoningText>,
    #[serde(default)]
    pub(crate) redacted_content: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReasoningText {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) signature: Option<String>,
}
