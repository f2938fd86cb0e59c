//! The JSON of a Messages API reply: the data of each SSE event, and the whole message
//! a server sends when it ignored `stream: true`. Lenient: every field optional, unknown
//! fields ignored, counts read by the crate's one rule ([`Reported`]), and text borrowed
//! from the frame when it has no escapes. (The request is in `request.rs`.)

use std::borrow::Cow;

use serde::Deserialize;

use crate::lenient::Reported;

/// One event's data. Which fields it has depends on its `type`: `message_start`
/// (`message`), `content_block_start` (`index`, `content_block`), `content_block_delta`
/// (`index`, `delta`), `content_block_stop` (`index`), `message_delta` (`delta`,
/// `usage`), `message_stop`, `ping`, `error` (`error`). What only a few events carry is
/// boxed: the text deltas that make up almost every event stay small.
#[derive(Debug, Deserialize)]
pub(crate) struct Event<'a> {
    #[serde(
        default,
        borrow,
        rename = "type",
        deserialize_with = "crate::json_text::text"
    )]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) message: Option<Box<Message<'a>>>,
    #[serde(default)]
    pub(crate) index: Reported,
    #[serde(default, borrow)]
    pub(crate) content_block: Option<Box<Block<'a>>>,
    #[serde(default, borrow)]
    pub(crate) delta: Option<Delta<'a>>,
    #[serde(default)]
    pub(crate) usage: Option<Box<Usage>>,
    /// `{"type","message"}` (Anthropic) or `{"code","message","type"}` (llama.cpp).
    #[serde(default)]
    pub(crate) error: Option<Box<serde_json::Value>>,
}

/// A message: the one `message_start` announces (no content yet), or a whole reply.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Message<'a> {
    /// `msg_…` (llama.cpp: `chatcmpl-…`).
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) model: Option<Cow<'a, str>>,
    /// The blocks of a whole reply (empty on `message_start`).
    #[serde(default, borrow)]
    pub(crate) content: Option<Vec<Block<'a>>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) usage: Option<Usage>,
}

/// A content block as it starts (or, in a whole reply, complete): text, thinking,
/// redacted thinking, a tool call, or a kind this crate does not read (server tools).
#[derive(Debug, Deserialize)]
pub(crate) struct Block<'a> {
    #[serde(
        default,
        borrow,
        rename = "type",
        deserialize_with = "crate::json_text::text"
    )]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) thinking: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) signature: Option<Cow<'a, str>>,
    /// The opaque data of a `redacted_thinking` block.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) data: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) name: Option<Cow<'a, str>>,
    /// A tool call's input: `{}` at the start of a streamed call (it arrives in
    /// `input_json_delta`s), the whole input in a whole reply.
    #[serde(default)]
    pub(crate) input: Option<serde_json::Value>,
}

/// The `delta` of a `content_block_delta` (by its `type`: `text_delta`, `thinking_delta`,
/// `signature_delta`, `input_json_delta`, `citations_delta`) or of a `message_delta`
/// (`stop_reason`).
#[derive(Debug, Deserialize)]
pub(crate) struct Delta<'a> {
    #[serde(
        default,
        borrow,
        rename = "type",
        deserialize_with = "crate::json_text::text"
    )]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) thinking: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) signature: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) partial_json: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) stop_reason: Option<Cow<'a, str>>,
}

/// Token counts. `input_tokens` excludes the cache reads and writes, which are counted
/// apart; `output_tokens` is cumulative (a `message_delta` repeats the total so far).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Usage {
    #[serde(default)]
    pub(crate) input_tokens: Reported,
    #[serde(default)]
    pub(crate) output_tokens: Reported,
    #[serde(default)]
    pub(crate) cache_read_input_tokens: Reported,
    #[serde(default)]
    pub(crate) cache_creation_input_tokens: Reported,
    /// `thinking_tokens`: the reasoning part of `output_tokens`.
    #[serde(default)]
    pub(crate) output_tokens_details: Option<OutputDetails>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OutputDetails {
    #[serde(default)]
    pub(crate) thinking_tokens: Reported,
}
