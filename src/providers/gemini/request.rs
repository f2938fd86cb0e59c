//! The `generateContent` request body, made from a [`ChatRequest`] (borrowed from it,
//! since it is written out once per attempt). The conversation itself is in
//! `contents.rs`.
//!
//! - `systemInstruction`: the request's system prompt, then every `Role::System`
//!   message (the API has no system turns).
//! - `generationConfig`: `temperature`, `maxOutputTokens`, `stopSequences`, `seed`;
//!   structured output as `responseMimeType: "application/json"` with the schema as
//!   `responseJsonSchema` (JSON mode is the MIME type alone: the API has it natively);
//!   reasoning as `thinkingConfig`. Left out when empty.
//! - [`Reasoning`]: `Budget(n)` is `thinkingBudget: n`, `On` is `thinkingBudget: -1`
//!   (the model decides), both with `includeThoughts: true` so that the thought
//!   summaries stream as reasoning; `Off` is `thinkingBudget: 0`; `Effort(level)` is
//!   Gemini 3's `thinkingLevel` (`LOW`, `MEDIUM`, `HIGH`), with `includeThoughts`. What a
//!   model does not take (Gemini 3 Pro cannot turn thinking off, 2.5 has no level) is
//!   left to the server, whose words say so.
//! - Tools are one `functionDeclarations` list, each with its JSON Schema as
//!   `parametersJsonSchema` (the API has no `strict`). `toolConfig.functionCallingConfig`
//!   is sent only when the request sets a tool choice: `AUTO`, `NONE`, `ANY`, or `ANY`
//!   with `allowedFunctionNames` for one named tool.

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::Result;
use crate::request::{ChatRequest, Reasoning, ResponseFormat, Role, Tool, ToolChoice};

use super::contents::{contents, Content};

/// The body of `streamGenerateContent`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Value>,
    contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<Value>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    generation_config: GenerationConfig<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerationConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_json_schema: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_config: Option<Value>,
    /// Where a server that rejects the top-level one reads it (api-for-gemini).
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<Value>,
}

impl GenerationConfig<'_> {
    fn is_empty(&self) -> bool {
        self.tool_config.is_none()
            && self.temperature.is_none()
            && self.max_output_tokens.is_none()
            && self.stop_sequences.is_empty()
            && self.seed.is_none()
            && self.response_mime_type.is_none()
            && self.thinking_config.is_none()
    }
}

impl<'a> Request<'a> {
    /// The body for `request`.
    ///
    /// # Errors
    /// `invalid_request` for a tool result whose tool cannot be named (the API matches
    /// results to calls by name).
    pub(crate) fn from_chat(request: &'a ChatRequest) -> Result<Request<'a>> {
        let (response_mime_type, response_json_schema) = match &request.response_format {
            Some(ResponseFormat::JsonObject) => (Some("application/json"), None),
            Some(ResponseFormat::JsonSchema { schema, .. }) => {
                (Some("application/json"), Some(schema))
            }
            _ => (None, None),
        };
        let tools: Vec<Value> = if request.tools.is_empty() {
            Vec::new()
        } else {
            let declarations: Vec<Value> = request.tools.iter().map(declaration).collect();
            vec![json!({ "functionDeclarations": declarations })]
        };
        Ok(Request {
            system_instruction: system(request),
            contents: contents(&request.messages)?,
            tool_config: request
                .tool_choice
                .as_ref()
                .filter(|_| !tools.is_empty())
                .map(tool_config),
            tools,
            generation_config: GenerationConfig {
                temperature: request.temperature,
                max_output_tokens: request.max_tokens,
                stop_sequences: &request.stop,
                seed: request.seed,
                response_mime_type,
                response_json_schema,
                thinking_config: request.reasoning.map(thinking_config),
                tool_config: None,
            },
        })
    }

    /// The tool config inside `generationConfig` rather than at the top: where
    /// api-for-gemini reads it (it rejects the top-level field the API documents).
    pub(crate) fn nest_tool_config(&mut self) {
        self.generation_config.tool_config = self.tool_config.take();
    }
}

/// The system prompt and the system messages, in that order, as one text part.
fn system(request: &ChatRequest) -> Option<Value> {
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
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| json!({ "parts": [{ "text": parts.join("\n\n") }] }))
}

fn thinking_config(reasoning: Reasoning) -> Value {
    match reasoning {
        Reasoning::Off => json!({ "thinkingBudget": 0 }),
        Reasoning::Budget(tokens) => json!({ "thinkingBudget": tokens, "includeThoughts": true }),
        Reasoning::Effort(level) => json!({
            "thinkingLevel": level.as_str().to_ascii_uppercase(),
            "includeThoughts": true,
        }),
        // The model decides how much.
        Reasoning::On => json!({ "thinkingBudget": -1, "includeThoughts": true }),
    }
}

fn declaration(tool: &Tool) -> Value {
    let mut declaration = json!({ "name": tool.name });
    if !tool.description.is_empty() {
        declaration["description"] = json!(tool.description);
    }
    if !tool.parameters.is_null() {
        declaration["parametersJsonSchema"] = tool.parameters.clone();
    }
    declaration
}

fn tool_config(choice: &ToolChoice) -> Value {
    let config = match choice {
        ToolChoice::None => json!({ "mode": "NONE" }),
        ToolChoice::Required => json!({ "mode": "ANY" }),
        ToolChoice::Tool(name) => json!({ "mode": "ANY", "allowedFunctionNames": [name] }),
        ToolChoice::Auto => json!({ "mode": "AUTO" }),
    };
    json!({ "functionCallingConfig": config })
}
