//! The Chat Completions request body, made from a [`ChatRequest`]: borrowed from it, since
//! it is written out once per attempt.

use serde::Serialize;
use serde_json::{json, Value};

use crate::chunk::ToolCall;
use crate::error::Result;
use crate::request::{
    ChatRequest, Image, Message, Reasoning, ReasoningEffort, ResponseFormat, Role, Tool, ToolChoice,
};

#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<WireMessage<'a>>,
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response_format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_effort: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
}

/// One message: `content` is a string or a list of parts (text and images). An
/// assistant turn that only called tools has `""`, never `null`: OpenAI takes either,
/// but llama-cpp-python's server rejects `null` ("Input should be a valid string").
#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    role: &'static str,
    content: Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
    /// DeepSeek requires its reasoning back on assistant turns that called tools; the
    /// servers that reason this way accept it on any assistant turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

impl<'a> Request<'a> {
    /// The body for `request` to `model`.
    ///
    /// # Errors
    /// `invalid_request` for a [`Reasoning`] other than an effort level, which is all
    /// Chat Completions can express (`reasoning_effort`).
    pub(crate) fn from_chat(request: &'a ChatRequest, model: &'a str) -> Result<Request<'a>> {
        let reasoning_effort = Reasoning::effort_only(
            request.reasoning,
            super::OpenAiProvider::NAME,
            "reasoning_effort",
        )?
        .map(ReasoningEffort::as_str);
        let system = request.system.as_deref().map(|s| WireMessage {
            role: Role::System.as_str(),
            content: Value::from(s),
            tool_calls: Vec::new(),
            tool_call_id: None,
            reasoning_content: None,
        });
        Ok(Request {
            model,
            messages: system
                .into_iter()
                .chain(request.messages.iter().map(message))
                .collect(),
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            temperature: request.temperature,
            max_tokens: request.max_tokens,
            max_completion_tokens: None,
            stop: &request.stop,
            seed: request.seed,
            tools: request.tools.iter().map(tool).collect(),
            tool_choice: request.tool_choice.as_ref().map(tool_choice),
            response_format: request.response_format.as_ref().and_then(response_format),
            reasoning_effort,
        })
    }

    pub(crate) fn use_max_completion_tokens(&mut self) {
        if let Some(n) = self.max_tokens.take() {
            self.max_completion_tokens = Some(n);
        }
    }
}

fn message(m: &Message) -> WireMessage<'_> {
    let content = if !m.images.is_empty() {
        let text = (!m.content.is_empty()).then(|| json!({"type": "text", "text": m.content}));
        Value::Array(text.into_iter().chain(m.images.iter().map(image)).collect())
    } else {
        Value::from(m.content.as_str())
    };
    WireMessage {
        role: m.role.as_str(),
        content,
        tool_calls: m.tool_calls.iter().map(call).collect(),
        tool_call_id: m.tool_call_id.as_deref(),
        reasoning_content: (m.role == Role::Assistant && !m.reasoning.text.is_empty())
            .then_some(m.reasoning.text.as_str()),
    }
}

fn image(image: &Image) -> Value {
    let url = match image {
        Image::Url(url) => url.clone(),
        other => other.data_url().unwrap_or_default(),
    };
    json!({"type": "image_url", "image_url": {"url": url}})
}

/// An earlier call, as the assistant turn carries it: arguments as a JSON string.
fn call(call: &ToolCall) -> Value {
    json!({
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments.to_string()},
    })
}

fn tool(tool: &Tool) -> WireTool<'_> {
    WireTool {
        r#type: "function",
        function: WireFunction {
            name: &tool.name,
            description: &tool.description,
            parameters: &tool.parameters,
            strict: tool.strict,
        },
    }
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
        _ => json!("auto"),
    }
}

fn response_format(format: &ResponseFormat) -> Option<Value> {
    match format {
        ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => Some(json!({
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": strict},
        })),
        _ => None,
    }
}
