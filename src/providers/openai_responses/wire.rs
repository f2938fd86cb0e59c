//! The JSON of a Responses API stream: typed events, and the response object the
//! terminal events (and a reply that was not streamed) carry. Lenient: every field
//! optional, unknown fields and event types ignored; a text delta is borrowed from the
//! frame when it has no escapes.

use std::borrow::Cow;

use serde::Deserialize;

use crate::lenient::Reported;

/// One event (`{"type": "response.output_text.delta", …}`), or a whole response object
/// from a server that ignored `stream: true` (no `type`, `"object": "response"`).
#[derive(Debug, Deserialize)]
pub(crate) struct Event<'a> {
    #[serde(
        default,
        borrow,
        rename = "type",
        deserialize_with = "crate::json_text::text"
    )]
    pub(crate) kind: Option<Cow<'a, str>>,
    /// Text, refusal, reasoning or argument deltas.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) delta: Option<Cow<'a, str>>,
    /// The output item a delta belongs to (llama.cpp sends no `output_index`).
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) item_id: Option<Cow<'a, str>>,
    /// On `output_item.added` / `.done`.
    #[serde(default)]
    pub(crate) item: Option<Box<Item>>,
    /// On `response.created`, `in_progress` and the terminal events.
    #[serde(default)]
    pub(crate) response: Option<Box<Response>>,
    /// On `function_call_arguments.done`: the whole arguments.
    #[serde(default, deserialize_with = "crate::json_text::text_or_json")]
    pub(crate) arguments: Option<Cow<'a, str>>,
    /// On `function_call_arguments.done`, sometimes.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// An `error` event, flat (as documented): `code` and `message`.
    #[serde(default)]
    pub(crate) code: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    /// An `error` event, nested (as the API has also been seen to send).
    #[serde(default)]
    pub(crate) error: Option<Box<serde_json::Value>>,
    /// `"response"` on a whole response object.
    #[serde(default)]
    pub(crate) object: Option<String>,
}

/// A response object: its id, model, status, output items and usage.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Response {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) output: Vec<Item>,
    #[serde(default)]
    pub(crate) usage: Option<Usage>,
    #[serde(default)]
    pub(crate) incomplete_details: Option<IncompleteDetails>,
    /// Why a `failed` response failed: `{code, message}`.
    #[serde(default)]
    pub(crate) error: Option<serde_json::Value>,
}

/// An output item: a message, a function call, reasoning, or a kind this crate skips.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Item {
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) id: Option<String>,
    /// A function call's id, the one a tool result must name.
    #[serde(default)]
    pub(crate) call_id: Option<String>,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default, deserialize_with = "owned_arguments")]
    pub(crate) arguments: Option<String>,
    /// A message's parts (`output_text`, `refusal`).
    #[serde(default)]
    pub(crate) content: Vec<Part>,
    /// A reasoning item's summary parts.
    #[serde(default)]
    pub(crate) summary: Vec<Part>,
}

/// A content or summary part.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Part {
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) refusal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct IncompleteDetails {
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

/// Token counts: `input_tokens` includes the cached ones, `output_tokens` the
/// reasoning ones.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Usage {
    #[serde(default)]
    pub(crate) input_tokens: Reported,
    #[serde(default)]
    pub(crate) output_tokens: Reported,
    #[serde(default)]
    pub(crate) input_tokens_details: Option<InputDetails>,
    #[serde(default)]
    pub(crate) output_tokens_details: Option<OutputDetails>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InputDetails {
    #[serde(default)]
    pub(crate) cached_tokens: Reported,
    /// Newer API versions.
    #[serde(default)]
    pub(crate) cache_write_tokens: Reported,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OutputDetails {
    #[serde(default)]
    pub(crate) reasoning_tokens: Reported,
}

/// Arguments as JSON text, owned (an item is read rarely).
fn owned_arguments<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(crate::json_text::text_or_json(d)?.map(Cow::into_owned))
}
