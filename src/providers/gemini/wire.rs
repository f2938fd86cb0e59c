//! The JSON of a Gemini API reply: one `GenerateContentResponse` per SSE event of
//! `streamGenerateContent?alt=sse`, the same object whole from `generateContent`, or a
//! JSON array of them (`streamGenerateContent` without `alt=sse`). Lenient: every field
//! optional, unknown fields ignored, counts read by the crate's one rule
//! ([`Reported`]), and text borrowed from the frame when it has no escapes. (The request
//! is in `request.rs`; error bodies of failure statuses in `errors.rs`.)

use std::borrow::Cow;

use serde::Deserialize;

use crate::lenient::Reported;

/// One chunk of a reply (or a whole reply).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response<'a> {
    /// Usually one; the last chunk may have none and carry only the usage.
    #[serde(default, borrow)]
    pub(crate) candidates: Option<Vec<Candidate<'a>>>,
    /// `blockReason` when the prompt itself was blocked (and there are no candidates).
    #[serde(default, borrow)]
    pub(crate) prompt_feedback: Option<PromptFeedback<'a>>,
    /// Token counts so far; each chunk repeats the totals.
    #[serde(default)]
    pub(crate) usage_metadata: Option<Usage>,
    /// The model that answered (`gemini-2.5-flash`).
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) model_version: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) response_id: Option<Cow<'a, str>>,
    /// `{"code", "status", "message", "details"}`: the reply failed mid-stream.
    #[serde(default)]
    pub(crate) error: Option<serde_json::Value>,
}

/// One candidate reply.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate<'a> {
    #[serde(default, borrow)]
    pub(crate) content: Option<Content<'a>>,
    /// `STOP`, `MAX_TOKENS`, `SAFETY`, `MALFORMED_FUNCTION_CALL`, ...
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) finish_reason: Option<Cow<'a, str>>,
    /// What the server says about the finish (the malformed call, for one).
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) finish_message: Option<Cow<'a, str>>,
    /// Its number among the candidates (missing for the first).
    #[serde(default)]
    pub(crate) index: Reported,
}

/// A candidate's content: its parts (the role is always `model`).
#[derive(Debug, Deserialize)]
pub(crate) struct Content<'a> {
    #[serde(default, borrow)]
    pub(crate) parts: Option<Vec<Part<'a>>>,
}

/// One part: text (a thought when `thought` is true), a function call, or a kind this
/// crate does not read (`inlineData`, `executableCode`, ...), any of them with a
/// `thoughtSignature`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part<'a> {
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "flag")]
    pub(crate) thought: bool,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) thought_signature: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) function_call: Option<FunctionCall<'a>>,
}

/// A call the model made, whole: Gemini does not stream a call's arguments unless
/// asked to.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FunctionCall<'a> {
    /// Often missing: the decoder makes one.
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) name: Option<Cow<'a, str>>,
    /// The arguments, a JSON object.
    #[serde(default)]
    pub(crate) args: Option<serde_json::Value>,
    /// Where some Gemini 2.x servers put the signature (the part is where the API
    /// puts it).
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) thought_signature: Option<Cow<'a, str>>,
}

/// Why the prompt was not answered.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback<'a> {
    /// `SAFETY`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `OTHER`, ...
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) block_reason: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "crate::json_text::text")]
    pub(crate) block_reason_message: Option<Cow<'a, str>>,
}

/// Token counts. `candidatesTokenCount` excludes the thoughts, which are counted apart
/// (and billed as output); zero counts are often left out.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Usage {
    #[serde(default)]
    pub(crate) prompt_token_count: Reported,
    /// The prompt of built-in tools (search results read): billed as input.
    #[serde(default)]
    pub(crate) tool_use_prompt_token_count: Reported,
    #[serde(default)]
    pub(crate) candidates_token_count: Reported,
    #[serde(default)]
    pub(crate) thoughts_token_count: Reported,
    /// Of the prompt, the tokens read from a cache.
    #[serde(default)]
    pub(crate) cached_content_token_count: Reported,
}

/// `true` is true; anything else (false, null, a string, a number) is not.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(serde_json::Value::deserialize(d)? == serde_json::Value::Bool(true))
}
