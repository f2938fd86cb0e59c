//! The Converse request body, made from a [`ChatRequest`].
//!
//! - `system`: the request's system prompt, then every `Role::System` message, each a
//!   text block (the API has no system turns).
//! - `messages`: turns alternate user / assistant, consecutive turns of one role merged
//!   (the API rejects two user turns in a row); tool results are `toolResult` blocks
//!   of the user turn after the calls, before its text; empty text is left out (the
//!   API rejects blank text blocks), and so is a turn with nothing in it. An assistant
//!   turn is its reasoning (sent back as it came: `reasoningText` with its signature,
//!   or `redactedContent`), its text, then its `toolUse` blocks.
//! - Images: `image.source.bytes` (base64 in JSON) with their `format` (`png`, `jpeg`,
//!   `gif`, `webp`), or `s3Location` for an `s3://` URL; a web URL is `invalid_request`
//!   before sending (the API fetches nothing).
//! - `inferenceConfig`: `maxTokens`, `temperature`, `stopSequences`; `seed` has no
//!   counterpart and is not sent.
//! - Tools: `toolConfig.tools[].toolSpec` with `inputSchema.json`; `toolChoice` `auto`,
//!   `any` (required) or `tool` (one by name). The API has no "none": with
//!   `ToolChoice::None` the tools are left out, unless the conversation has tool calls
//!   or results, for which the API requires them (then they are sent without a choice).
//! - Reasoning, where the model takes it in `additionalModelRequestFields`: Anthropic's
//!   models (`anthropic.…`, `us.anthropic.…`) take `thinking` with a budget
//!   (`Reasoning::Budget`, and `Off`); Amazon Nova's take `reasoningConfig` with an
//!   effort (`Reasoning::Effort`, `On`, `Off`). Anything else is `invalid_request`
//!   before sending. With a budget and no `max_tokens`, `maxTokens` is the budget plus
//!   4096, so that the reply has room after the reasoning.
//! - Structured output: a schema is `outputConfig.textFormat` (`json_schema`, the
//!   schema as a JSON string); JSON mode, which the API lacks, is an instruction in the
//!   system prompt.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::chunk::{ThinkingBlock, ToolCall};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{
    ChatRequest, Image, Message, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
};

use super::NAME;

/// What the system prompt gains for `ResponseFormat::JsonObject`.
const JSON_OBJECT_INSTRUCTION: &str =
    "Reply with one JSON object and nothing else: no prose before or after it, no Markdown code fence.";

/// Room for the reply after a reasoning budget, when the request sets no `max_tokens`.
const REPLY_ROOM: u32 = 4096;

/// The body of `converse-stream`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request {
    messages: Vec<Turn>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    inference_config: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_model_request_fields: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_config: Option<Value>,
}

/// One message of the conversation.
#[derive(Debug, Serialize)]
struct Turn {
    role: &'static str,
    content: Vec<Value>,
}

impl Request {
    /// The body for `request` to `model`.
    ///
    /// # Errors
    /// `invalid_request` for what the API cannot take: an image from the web or of a
    /// format it does not read, a reasoning setting the model has no field for.
    pub(crate) fn from_chat(request: &ChatRequest, model: &str) -> Result<Request> {
        let (reasoning, budget) = reasoning(request.reasoning, model)?;
        let mut inference_config = Map::new();
        let max_tokens = request
            .max_tokens
            .or_else(|| budget.map(|b| b.saturating_add(REPLY_ROOM)));
        if let Some(max) = max_tokens {
            inference_config.insert("maxTokens".into(), json!(max));
        }
        if let Some(temperature) = request.temperature {
            inference_config.insert("temperature".into(), json!(temperature));
        }
        if !request.stop.is_empty() {
            inference_config.insert("stopSequences".into(), json!(request.stop));
        }
        let messages = turns(&request.messages)?;
        Ok(Request {
            tool_config: tool_config(request, &messages),
            messages,
            system: system(request),
            inference_config,
            additional_model_request_fields: reasoning,
            output_config: match &request.response_format {
                Some(ResponseFormat::JsonSchema { name, schema, .. }) => Some(json!({
                    "textFormat": {
                        "type": "json_schema",
                        "structure": {"jsonSchema": {"schema": schema.to_string(), "name": name}},
                    },
                })),
                _ => None,
            },
        })
    }
}

/// `additionalModelRequestFields` for `reasoning` on `model`, and the budget if any.
fn reasoning(reasoning: Option<Reasoning>, model: &str) -> Result<(Option<Value>, Option<u32>)> {
    let Some(reasoning) = reasoning else {
        return Ok((None, None));
    };
    let family = model.to_ascii_lowercase();
    if family.contains("anthropic.") || family.contains("claude") {
        return match reasoning {
            Reasoning::Budget(tokens) => Ok((
                Some(json!({"thinking": {"type": "enabled", "budget_tokens": tokens}})),
                Some(tokens),
            )),
            Reasoning::Off => Ok((Some(json!({"thinking": {"type": "disabled"}})), None)),
            other => Err(other.unsupported(
                NAME,
                "Reasoning::Budget(tokens) (extended thinking, at least 1,024 tokens) or Reasoning::Off for Anthropic's models",
            )),
        };
    }
    if family.contains("amazon.nova") || family.contains(".nova-") {
        let config = match reasoning {
            Reasoning::Off => json!({"type": "disabled"}),
            Reasoning::On => json!({"type": "enabled"}),
            Reasoning::Effort(level) => {
                json!({"type": "enabled", "maxReasoningEffort": level.as_str()})
            }
            other => {
                return Err(other.unsupported(
                    NAME,
                    "Reasoning::Effort(level), On or Off for Amazon Nova's models",
                ))
            }
        };
        return Ok((Some(json!({"reasoningConfig": config})), None));
    }
    Err(reasoning.unsupported(
        NAME,
        &format!("no reasoning setting for '{model}' (Anthropic's models take a budget, Amazon Nova's an effort)"),
    ))
}

/// The system prompt, the system messages and the JSON instruction, as text blocks.
fn system(request: &ChatRequest) -> Vec<Value> {
    let json = matches!(request.response_format, Some(ResponseFormat::JsonObject))
        .then_some(JSON_OBJECT_INSTRUCTION);
    request
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
        .map(|text| json!({ "text": text }))
        .collect()
}

/// The conversation as alternating turns, consecutive turns of one role merged.
fn turns(messages: &[Message]) -> Result<Vec<Turn>> {
    let mut out: Vec<Turn> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System => continue,
            Role::Assistant => ("assistant", assistant(message)),
            Role::Tool => ("user", vec![tool_result(message)?]),
            _ => ("user", user(message)?),
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => {
                for block in blocks {
                    if block.get("toolResult").is_some() {
                        // Tool results first in a user turn.
                        let at = last
                            .content
                            .iter()
                            .take_while(|b| b.get("toolResult").is_some())
                            .count();
                        last.content.insert(at, block);
                    } else {
                        last.content.push(block);
                    }
                }
            }
            _ => out.push(Turn {
                role,
                content: blocks,
            }),
        }
    }
    Ok(out)
}

fn text(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "text": text }))
}

fn user(message: &Message) -> Result<Vec<Value>> {
    let mut blocks = message
        .images
        .iter()
        .map(image)
        .collect::<Result<Vec<_>>>()?;
    blocks.extend(text(&message.content));
    Ok(blocks)
}

fn assistant(message: &Message) -> Vec<Value> {
    let reasoning = message.reasoning.blocks.iter().filter_map(|block| match block {
        ThinkingBlock::Thinking {
            thinking,
            signature,
        } => Some(json!({"reasoningContent": {"reasoningText": {"text": thinking, "signature": signature}}})),
        ThinkingBlock::RedactedThinking { data } => {
            Some(json!({"reasoningContent": {"redactedContent": data}}))
        }
        // Another provider's (Gemini's signatures): the API would refuse them.
        _ => None,
    });
    reasoning
        .chain(text(&message.content))
        .chain(message.tool_calls.iter().map(tool_use))
        .collect()
}

/// An earlier call: its input is a JSON object (`null`, a call without arguments, is
/// `{}`).
fn tool_use(call: &ToolCall) -> Value {
    let input = match &call.arguments {
        Value::Null => Value::Object(Map::new()),
        arguments => arguments.clone(),
    };
    json!({"toolUse": {"toolUseId": call.id, "name": call.name, "input": input}})
}

fn tool_result(message: &Message) -> Result<Value> {
    let mut content = message
        .images
        .iter()
        .map(image)
        .collect::<Result<Vec<_>>>()?;
    // A result must have content: an empty one is an empty text.
    if !message.content.is_empty() || content.is_empty() {
        content.push(json!({ "text": message.content }));
    }
    Ok(json!({"toolResult": {
        "toolUseId": message.tool_call_id.as_deref().unwrap_or(""),
        "content": content,
    }}))
}

/// An image block: its bytes (base64) and format, or an S3 location.
fn image(image: &Image) -> Result<Value> {
    if let Image::Url(url) = image {
        if url.starts_with("s3://") {
            let format = format_of(url.rsplit('.').next().unwrap_or(""));
            return Ok(json!({"image": {
                "format": format.unwrap_or("png"),
                "source": {"s3Location": {"uri": url}},
            }}));
        }
    }
    let Some((media_type, data)) = image.base64() else {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("{NAME} takes images as bytes (Image::bytes, or a data: URL) or s3:// locations, not web URLs: download the image first"),
        ));
    };
    let subtype = media_type.strip_prefix("image/").unwrap_or(&media_type);
    let Some(format) = format_of(subtype) else {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("{NAME} takes PNG, JPEG, GIF and WebP images, not {media_type}"),
        ));
    };
    Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
}

/// The API's name for an image format, from a media subtype or a file extension.
fn format_of(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "png" => Some("png"),
        "jpeg" | "jpg" => Some("jpeg"),
        "gif" => Some("gif"),
        "webp" => Some("webp"),
        _ => None,
    }
}

/// `toolConfig`, when the request has tools (and, for `ToolChoice::None`, only when
/// the conversation has tool blocks, which the API requires tools for).
fn tool_config(request: &ChatRequest, messages: &[Turn]) -> Option<Value> {
    if request.tools.is_empty() {
        return None;
    }
    let tools: Vec<Value> = request.tools.iter().map(tool).collect();
    let choice = match request.tool_choice.as_ref() {
        // Not sent unless asked for: some models take tools but no toolChoice.
        None => return Some(json!({ "tools": tools })),
        Some(ToolChoice::Auto) => json!({"auto": {}}),
        Some(ToolChoice::Required) => json!({"any": {}}),
        Some(ToolChoice::Tool(name)) => json!({"tool": {"name": name}}),
        Some(_) => {
            let has_tool_blocks = messages
                .iter()
                .flat_map(|t| &t.content)
                .any(|block| block.get("toolUse").is_some() || block.get("toolResult").is_some());
            return has_tool_blocks.then(|| json!({ "tools": tools }));
        }
    };
    Some(json!({"tools": tools, "toolChoice": choice}))
}

fn tool(tool: &Tool) -> Value {
    let mut spec = Map::new();
    spec.insert("name".into(), json!(tool.name));
    if !tool.description.is_empty() {
        spec.insert("description".into(), json!(tool.description));
    }
    spec.insert("inputSchema".into(), json!({ "json": tool.parameters }));
    if let Some(strict) = tool.strict {
        spec.insert("strict".into(), json!(strict));
    }
    json!({ "toolSpec": spec })
}
