//! The conversation as Gemini `contents`: turns of role `user` or `model`, each a list
//! of parts.
//!
//! - Consecutive turns of one role become one content (the results of several tool
//!   calls are one `user` content of `functionResponse` parts, as the API wants them
//!   after a turn of parallel calls); in a user content, tool results come before its
//!   text. A turn with nothing in it is left out.
//! - A user turn is its images, then its text: bytes and `data:` URLs as `inlineData`,
//!   web URLs as `fileData` (with the media type guessed from the extension, when it
//!   says one).
//! - A model turn is its signed thoughts, its text, then its calls as `functionCall`
//!   parts, each with its id. Gemini's thought signatures
//!   ([`ThinkingBlock::ThoughtSignature`]) go back unchanged on the kind of part they
//!   came with: a call's on that call, a thought's on a thought part with its text, a
//!   text's on the text part. Other providers' reasoning is not sent.
//! - A tool result is a `functionResponse` with the call's id and the tool's name (the
//!   result's own, else the name of the call it answers); its `response` is the result
//!   when that is a JSON object, else `{"output": result}`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::chunk::{ThinkingBlock, ToolCall};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{Image, Message, Role};

/// One turn.
#[derive(Debug, Serialize)]
pub(crate) struct Content<'a> {
    role: &'static str,
    parts: Vec<Part<'a>>,
}

/// One part: exactly one of its data fields, and perhaps a signature.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inline_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_call: Option<FunctionCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_response: Option<FunctionResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought_signature: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct FunctionCall<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    id: &'a str,
    name: &'a str,
    args: Cow<'a, Value>,
}

#[derive(Debug, Serialize)]
struct FunctionResponse<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    id: &'a str,
    name: &'a str,
    response: Value,
}

impl Part<'_> {
    fn is_function_response(&self) -> bool {
        self.function_response.is_some()
    }
}

/// The conversation, system messages left out (they are the system instruction).
///
/// # Errors
/// `invalid_request` for a tool result whose tool cannot be named.
pub(crate) fn contents(messages: &[Message]) -> Result<Vec<Content<'_>>> {
    let names = call_names(messages);
    let mut out: Vec<Content<'_>> = Vec::new();
    for message in messages {
        let (role, parts) = match message.role {
            Role::System => continue,
            Role::Assistant => ("model", model_parts(message)),
            Role::Tool => ("user", tool_result(message, &names)?),
            _ => ("user", user_parts(message)),
        };
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => {
                for part in parts {
                    if part.is_function_response() {
                        let at = last
                            .parts
                            .iter()
                            .take_while(|p| p.is_function_response())
                            .count();
                        last.parts.insert(at, part);
                    } else {
                        last.parts.push(part);
                    }
                }
            }
            _ => out.push(Content { role, parts }),
        }
    }
    Ok(out)
}

/// The tool of every call in the conversation, by call id.
fn call_names(messages: &[Message]) -> HashMap<&str, &str> {
    messages
        .iter()
        .flat_map(|m| &m.tool_calls)
        .map(|call| (call.id.as_str(), call.name.as_str()))
        .collect()
}

fn text(text: &str) -> Option<Part<'_>> {
    (!text.is_empty()).then(|| Part {
        text: Some(text),
        ..Part::default()
    })
}

fn user_parts(message: &Message) -> Vec<Part<'_>> {
    let images = message.images.iter().filter_map(image);
    images.chain(text(&message.content)).collect()
}

fn model_parts(message: &Message) -> Vec<Part<'_>> {
    let mut thoughts = Vec::new();
    let mut text_signatures = Vec::new();
    let mut call_signatures = HashMap::new();
    for block in &message.reasoning.blocks {
        let ThinkingBlock::ThoughtSignature {
            signature,
            tool_call_id,
            thought,
        } = block
        else {
            // Another provider's reasoning: not Gemini's to read.
            continue;
        };
        match (tool_call_id, thought) {
            (Some(id), _) => {
                call_signatures.insert(id.as_str(), signature.as_str());
            }
            (None, Some(thought)) => thoughts.push(Part {
                text: Some(thought),
                thought: Some(true),
                thought_signature: Some(signature),
                ..Part::default()
            }),
            (None, None) => text_signatures.push(signature.as_str()),
        }
    }
    let mut text_signatures = text_signatures.into_iter();
    let mut parts = thoughts;
    if !message.content.is_empty() || text_signatures.len() > 0 {
        parts.push(Part {
            text: Some(&message.content),
            thought_signature: text_signatures.next(),
            ..Part::default()
        });
    }
    // More than one text signature (text between calls): each on an empty text part.
    parts.extend(text_signatures.map(|signature| Part {
        text: Some(""),
        thought_signature: Some(signature),
        ..Part::default()
    }));
    parts.extend(message.tool_calls.iter().map(|call| Part {
        thought_signature: call_signatures.get(call.id.as_str()).copied(),
        function_call: Some(function_call(call)),
        ..Part::default()
    }));
    parts
}

/// An earlier call: its arguments are a JSON object (`null`, a call without arguments,
/// is `{}`).
fn function_call(call: &ToolCall) -> FunctionCall<'_> {
    let args = match &call.arguments {
        Value::Null => Cow::Owned(Value::Object(Map::new())),
        arguments => Cow::Borrowed(arguments),
    };
    FunctionCall {
        id: &call.id,
        name: &call.name,
        args,
    }
}

fn tool_result<'a>(message: &'a Message, names: &HashMap<&str, &'a str>) -> Result<Vec<Part<'a>>> {
    let id = message.tool_call_id.as_deref().unwrap_or("");
    let name = message
        .tool_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .or_else(|| names.get(id).copied())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "gemini: the tool result for call '{id}' names no tool, and no earlier call has that id; Gemini matches results to calls by the tool's name: give it with Message::tool_result"
                ),
            )
        })?;
    let response = match serde_json::from_str::<Value>(&message.content) {
        Ok(object @ Value::Object(_)) => object,
        _ => serde_json::json!({ "output": message.content }),
    };
    let result = Part {
        function_response: Some(FunctionResponse { id, name, response }),
        ..Part::default()
    };
    Ok(std::iter::once(result)
        .chain(message.images.iter().filter_map(image))
        .collect())
}

fn image(image: &Image) -> Option<Part<'_>> {
    if let Some((mime_type, data)) = image.base64() {
        return Some(Part {
            inline_data: Some(serde_json::json!({ "mimeType": mime_type, "data": data })),
            ..Part::default()
        });
    }
    // Bytes always have their base64: only a web URL is left.
    let Image::Url(url) = image else { return None };
    let mut file = serde_json::json!({ "fileUri": url });
    if let Some(mime_type) = media_type_of(url) {
        file["mimeType"] = Value::from(mime_type);
    }
    Some(Part {
        file_data: Some(file),
        ..Part::default()
    })
}

/// The image media type a URL's extension names, if it names one the API reads.
fn media_type_of(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}
