//! The Messages API request body, made from a [`ChatRequest`] (borrowed from it, since
//! it is written out once per attempt).
//!
//! - `system` is top level: the request's system prompt, then every `Role::System`
//!   message (their place in the conversation is lost: the API has no system turns).
//! - Turns alternate user / assistant: consecutive turns of one role become one message
//!   with several blocks (the API rejects two user turns in a row), so the results of
//!   several `Role::Tool` messages are one user message of `tool_result` blocks, right
//!   after the assistant turn with their `tool_use` blocks; in a user message, tool
//!   results come before its text. A turn with nothing in it is left out.
//! - An assistant turn is its thinking blocks (sent back unmodified, first), its text,
//!   then its tool calls; reasoning text without Anthropic blocks is not sent (the API
//!   takes only signed thinking). Images go with user turns and tool results, before the
//!   text, as Anthropic recommends; the API takes none from the assistant.
//! - `max_tokens` is required: the request's, else the provider's default (plus the
//!   thinking budget, when one is set: thinking counts against `max_tokens`, and the
//!   default is meant for the reply).
//! - [`Reasoning::Budget`] is extended thinking, `thinking: {"type": "enabled",
//!   "budget_tokens": …}`, and [`Reasoning::Off`] is `{"type": "disabled"}`; the API
//!   has no level and no "on" without a budget, so those are `invalid_request` before
//!   sending. The API's own limits on the budget (at least 1,024 tokens, fewer than
//!   `max_tokens` without interleaved thinking) are left to it: its words say which.
//! - `seed` has no counterpart and is not sent; `temperature` is sent as given (the API
//!   accepts 0 to 1 and says so otherwise). `tool_choice` is sent only with tools.
//!
//! Structured output. `ResponseFormat::JsonSchema` uses the API's native JSON outputs,
//! `output_config.format = {"type": "json_schema", "schema": …}`: the JSON streams as
//! ordinary text, so [`ChatReply::json`](crate::ChatReply::json) reads it like any
//! provider's. The API requires every object to be closed, so `additionalProperties:
//! false` is added where a schema leaves it out (as Anthropic's own SDKs do); the schema's
//! name has no counterpart. `ResponseFormat::JsonObject` has no native counterpart (a
//! closed object with no properties only admits `{}`): the system prompt asks for one
//! JSON object and nothing else. That is an instruction, not a constraint; `json()`
//! reports a reply that did not follow it. (A forced tool whose input is the schema, the
//! older recipe, was not chosen: the reply would arrive as a tool call, not as text.)

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::chunk::{ThinkingBlock, ToolCall};
use crate::error::Result;
use crate::request::{
    ChatRequest, Image, Message, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
};

/// What the system prompt gains for `ResponseFormat::JsonObject`.
pub(crate) const JSON_OBJECT_INSTRUCTION: &str =
    "Reply with one JSON object and nothing else: no prose before or after it, no Markdown code fence.";

#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    pub(crate) model: &'a str,
    pub(crate) max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) system: Option<String>,
    pub(crate) messages: Vec<Turn<'a>>,
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thinking: Option<Value>,
}

/// One message: `content` a string when it is one text block, else a list of blocks.
#[derive(Debug, Serialize)]
pub(crate) struct Turn<'a> {
    role: &'static str,
    content: Content<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Content<'a> {
    Text(&'a str),
    Blocks(Vec<Block<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    Image {
        source: Source<'a>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Cow<'a, Value>,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: Content<'a>,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Source<'a> {
    Base64 { media_type: String, data: String },
    Url { url: &'a str },
}

#[derive(Debug, Serialize)]
pub(crate) struct WireTool<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    input_schema: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

impl<'a> Request<'a> {
    /// The body for `request` to `model`, with `max_tokens` when the request sets none.
    ///
    /// # Errors
    /// `invalid_request` for a [`Reasoning`] the API cannot express: an effort level, or
    /// reasoning on without a budget.
    pub(crate) fn from_chat(
        request: &'a ChatRequest,
        model: &'a str,
        max_tokens: u32,
    ) -> Result<Request<'a>> {
        let (thinking, budget) = match request.reasoning {
            None => (None, 0),
            Some(Reasoning::Off) => (Some(serde_json::json!({"type": "disabled"})), 0),
            Some(Reasoning::Budget(tokens)) => (
                Some(serde_json::json!({"type": "enabled", "budget_tokens": tokens})),
                tokens,
            ),
            Some(other) => {
                return Err(other.unsupported(
                    super::AnthropicProvider::NAME,
                    "Reasoning::Budget(tokens) (extended thinking, at least 1,024 tokens) or Reasoning::Off",
                ))
            }
        };
        let tools: Vec<WireTool<'a>> = request.tools.iter().map(tool).collect();
        Ok(Request {
            model,
            max_tokens: request
                .max_tokens
                .unwrap_or_else(|| max_tokens.saturating_add(budget)),
            system: system(request),
            messages: turns(&request.messages),
            stream: true,
            temperature: request.temperature,
            stop_sequences: &request.stop,
            tool_choice: request
                .tool_choice
                .as_ref()
                .filter(|_| !tools.is_empty())
                .map(tool_choice),
            tools,
            output_config: match &request.response_format {
                Some(ResponseFormat::JsonSchema { schema, .. }) => Some(serde_json::json!({
                    "format": {"type": "json_schema", "schema": closed(schema)},
                })),
                _ => None,
            },
            thinking,
        })
    }
}

/// The system prompt, the system messages and the JSON instruction, in that order.
fn system(request: &ChatRequest) -> Option<String> {
    let json = matches!(request.response_format, Some(ResponseFormat::JsonObject))
        .then_some(JSON_OBJECT_INSTRUCTION);
    let parts: Vec<&str> = request
        .system
        .as_deref()
        .into_iter()
        .chain(
            request
                .messages
                .iter()
                .filter(|m| m.role == Role::System)
                .map(|m| m.content.as_str()),
        )
        .chain(json)
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// The conversation as alternating turns, consecutive turns of one role merged.
fn turns(messages: &[Message]) -> Vec<Turn<'_>> {
    let mut out: Vec<(&'static str, Vec<Block<'_>>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System => continue,
            Role::Assistant => ("assistant", assistant(message)),
            Role::Tool => ("user", vec![tool_result(message)]),
            _ => ("user", user(message)),
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, merged)) if *last == role => {
                for block in blocks {
                    if matches!(block, Block::ToolResult { .. }) {
                        // Tool results first in a user message.
                        let at = merged
                            .iter()
                            .take_while(|b| matches!(b, Block::ToolResult { .. }))
                            .count();
                        merged.insert(at, block);
                    } else {
                        merged.push(block);
                    }
                }
            }
            _ => out.push((role, blocks)),
        }
    }
    out.into_iter()
        .map(|(role, blocks)| Turn {
            role,
            content: content(blocks),
        })
        .collect()
}

/// One text block as a string (as most requests are), else the blocks.
fn content(blocks: Vec<Block<'_>>) -> Content<'_> {
    if let [Block::Text { text }] = blocks.as_slice() {
        return Content::Text(text);
    }
    Content::Blocks(blocks)
}

fn text(text: &str) -> Option<Block<'_>> {
    (!text.is_empty()).then_some(Block::Text { text })
}

fn user(message: &Message) -> Vec<Block<'_>> {
    let images = message.images.iter().map(image);
    images.chain(text(&message.content)).collect()
}

fn assistant(message: &Message) -> Vec<Block<'_>> {
    let thinking = message
        .reasoning
        .blocks
        .iter()
        .filter_map(|block| match block {
            ThinkingBlock::Thinking {
                thinking,
                signature,
            } => Some(Block::Thinking {
                thinking,
                signature,
            }),
            ThinkingBlock::RedactedThinking { data } => Some(Block::RedactedThinking { data }),
            // Another provider's (Gemini's signatures): the API would refuse them.
            _ => None,
        });
    thinking
        .chain(text(&message.content))
        .chain(message.tool_calls.iter().map(tool_use))
        .collect()
}

/// An earlier call: its input is a JSON object (`null`, a call without arguments, is
/// `{}`).
fn tool_use(call: &ToolCall) -> Block<'_> {
    let input = match &call.arguments {
        Value::Null => Cow::Owned(Value::Object(Map::new())),
        arguments => Cow::Borrowed(arguments),
    };
    Block::ToolUse {
        id: &call.id,
        name: &call.name,
        input,
    }
}

fn tool_result(message: &Message) -> Block<'_> {
    Block::ToolResult {
        tool_use_id: message.tool_call_id.as_deref().unwrap_or(""),
        content: if message.images.is_empty() {
            Content::Text(&message.content)
        } else {
            Content::Blocks(user(message))
        },
    }
}

fn image(image: &Image) -> Block<'_> {
    let source = match (image, image.base64()) {
        (_, Some((media_type, data))) => Source::Base64 { media_type, data },
        (Image::Url(url), None) => Source::Url { url },
        // Bytes always have their base64.
        (_, None) => Source::Url { url: "" },
    };
    Block::Image { source }
}

fn tool(tool: &Tool) -> WireTool<'_> {
    WireTool {
        name: &tool.name,
        description: &tool.description,
        input_schema: &tool.parameters,
        strict: tool.strict,
    }
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::None => serde_json::json!({"type": "none"}),
        ToolChoice::Required => serde_json::json!({"type": "any"}),
        ToolChoice::Tool(name) => serde_json::json!({"type": "tool", "name": name}),
        _ => serde_json::json!({"type": "auto"}),
    }
}

/// `schema` with `"additionalProperties": false` on every object schema that does not
/// set it (properties, array items, branches and definitions too): the API's JSON
/// outputs admit only closed objects. Nothing else changes.
pub(crate) fn closed(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let converted = match (key.as_str(), value) {
            ("properties" | "$defs" | "definitions", Value::Object(props)) => Value::Object(
                props
                    .iter()
                    .map(|(name, schema)| (name.clone(), closed(schema)))
                    .collect(),
            ),
            ("items" | "not", _) => closed(value),
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(branches)) => {
                Value::Array(branches.iter().map(closed).collect())
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    let is_object = match out.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => false,
    } || out.contains_key("properties");
    if is_object && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    Value::Object(out)
}
