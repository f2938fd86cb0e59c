//! The Responses API request body, made from a [`ChatRequest`]: the system prompt as
//! `instructions`, the conversation as `input` items (messages, `function_call` and
//! `function_call_output`), flat tools, and structured output as `text.format`.

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::request::{
    ChatRequest, Image, Message, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
};

use super::OpenAiResponsesProvider;

#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    input: Vec<Value>,
    stream: bool,
    /// Replies are not kept on the server: every request carries its whole
    /// conversation, as with Chat Completions.
    store: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Value>,
    /// The effort, and `summary: "auto"`: without a summary the API streams no
    /// reasoning text at all, only its token count.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<Value>,
    /// llama.cpp's own field for a grammar-constrained reply: its `/v1/responses`
    /// ignores `text.format` but enforces this (see the dialect).
    #[serde(skip_serializing_if = "Option::is_none")]
    json_schema: Option<Value>,
}

impl<'a> Request<'a> {
    /// The body for `chat` with `model`; with `schema_extension`, structured output is
    /// also sent as llama.cpp's `json_schema`.
    ///
    /// # Errors
    /// `invalid_request` for what the Responses API cannot express: stop sequences, a
    /// seed, and a [`Reasoning`] other than an effort level.
    pub(crate) fn from_chat(
        chat: &'a ChatRequest,
        model: &'a str,
        schema_extension: bool,
    ) -> Result<Request<'a>> {
        let unsupported = |what: &str| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "{}: the Responses API has no {what}; use the openai provider (Chat Completions) for it",
                    OpenAiResponsesProvider::NAME
                ),
            )
        };
        if !chat.stop.is_empty() {
            return Err(unsupported("stop sequences"));
        }
        if chat.seed.is_some() {
            return Err(unsupported("seed"));
        }
        let reasoning = Reasoning::effort_only(
            chat.reasoning,
            OpenAiResponsesProvider::NAME,
            "reasoning.effort",
        )?
        .map(|level| json!({"effort": level.as_str(), "summary": "auto"}));
        let format = chat.response_format.as_ref().and_then(text_format);
        let json_schema = match (&chat.response_format, schema_extension) {
            (Some(ResponseFormat::JsonSchema { schema, .. }), true) => Some(schema.clone()),
            (Some(ResponseFormat::JsonObject), true) => Some(json!({"type": "object"})),
            _ => None,
        };
        Ok(Request {
            model,
            instructions: chat.system.as_deref(),
            input: chat.messages.iter().flat_map(items).collect(),
            stream: true,
            store: false,
            temperature: chat.temperature,
            max_output_tokens: chat.max_tokens,
            tools: chat.tools.iter().map(tool).collect(),
            tool_choice: chat.tool_choice.as_ref().map(tool_choice),
            text: format.map(|format| json!({ "format": format })),
            reasoning,
            json_schema,
        })
    }
}

/// The input items of one message: a message item (unless it is only tool calls), then
/// its tool calls; a tool result is a `function_call_output`.
fn items(message: &Message) -> Vec<Value> {
    match message.role {
        Role::Tool => vec![json!({
            "type": "function_call_output",
            "call_id": message.tool_call_id.as_deref().unwrap_or_default(),
            "output": message.content,
        })],
        Role::Assistant => {
            let text = (!message.content.is_empty() || message.tool_calls.is_empty())
                .then(|| json!({"role": "assistant", "content": message.content}));
            let calls = message.tool_calls.iter().map(|call| {
                json!({
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments.to_string(),
                })
            });
            text.into_iter().chain(calls).collect()
        }
        role => {
            let content = if message.images.is_empty() {
                Value::from(message.content.as_str())
            } else {
                let text = (!message.content.is_empty())
                    .then(|| json!({"type": "input_text", "text": message.content}));
                Value::Array(
                    text.into_iter()
                        .chain(message.images.iter().map(image))
                        .collect(),
                )
            };
            vec![json!({"role": role.as_str(), "content": content})]
        }
    }
}

/// An image part: `image_url` is a plain string here (a URL or a `data:` URL).
fn image(image: &Image) -> Value {
    let url = match image {
        Image::Url(url) => url.clone(),
        other => other.data_url().unwrap_or_default(),
    };
    json!({"type": "input_image", "image_url": url, "detail": "auto"})
}

/// A tool, flat. `strict` is sent always: the API's default for function tools is
/// strict, Chat Completions' is not, and the same `Tool` should mean the same on both.
fn tool(tool: &Tool) -> Value {
    let mut value = json!({
        "type": "function",
        "name": tool.name,
        "parameters": tool.parameters,
        "strict": tool.strict.unwrap_or(false),
    });
    if !tool.description.is_empty() {
        value["description"] = Value::from(tool.description.as_str());
    }
    value
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool(name) => json!({"type": "function", "name": name}),
        _ => json!("auto"),
    }
}

/// `text.format`: flat, unlike Chat Completions' `response_format.json_schema`.
fn text_format(format: &ResponseFormat) -> Option<Value> {
    match format {
        ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => Some(json!({"type": "json_schema", "name": name, "schema": schema, "strict": strict})),
        _ => None,
    }
}
