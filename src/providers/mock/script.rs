//! What the mock answers to a request: the [`Plan`] of its reply, made from its script
//! and the request (its tools, tool choice, response format, and whether it answers a
//! tool result).

use serde_json::Value;

use crate::chunk::{Chunk, ToolCall};
use crate::error::Result;
use crate::request::{ChatRequest, ResponseFormat, Role, ToolChoice};

use super::schema_value::value_for;
use super::{MockProvider, Script};

/// The chunks of one reply, before the finish.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub(super) chunks: Vec<Chunk>,
    /// Chunks of text, reasoning and tool call fragments: the reply's "tokens".
    pub(super) tokens: u64,
}

impl Plan {
    fn push(&mut self, chunk: Chunk) {
        self.tokens += 1;
        self.chunks.push(chunk);
    }
}

/// Arguments stream in fragments of this many characters, as servers send them.
const FRAGMENT_CHARS: usize = 8;

/// The reply's plan; an invalid-request error if it is to hold a value for a schema
/// that asks for more than the mock makes.
pub(super) fn plan(mock: &MockProvider, request: &ChatRequest) -> Result<Plan> {
    let mut plan = Plan::default();
    for reasoning in &mock.reasoning {
        plan.push(Chunk::Reasoning(reasoning.into()));
    }
    if let Some(words) = &mock.refusal {
        for word in split_words(words) {
            plan.push(Chunk::Refusal(word.into()));
        }
        return Ok(plan);
    }
    let answers_tool = request
        .messages
        .last()
        .is_some_and(|m| m.role == Role::Tool);
    let calls = if answers_tool {
        Vec::new()
    } else {
        tool_calls(mock, request)?
    };
    for text in reply_text(mock, request, !calls.is_empty())? {
        plan.push(Chunk::Text(text.into()));
    }
    for (index, (name, arguments)) in calls.into_iter().enumerate() {
        let id = format!("call_mock_{index}");
        plan.push(Chunk::tool_call_start(index, id.clone(), name.clone()));
        let json = arguments.to_string();
        let chars: Vec<char> = json.chars().collect();
        for piece in chars.chunks(FRAGMENT_CHARS) {
            plan.push(Chunk::tool_call_delta(
                index,
                piece.iter().collect::<String>(),
            ));
        }
        plan.chunks
            .push(Chunk::from(ToolCall::new(id, name, arguments)));
    }
    Ok(plan)
}

/// The tools the mock calls: the scripted ones, else the one a tool choice requires
/// (with arguments made to fit its schema); none with `ToolChoice::None`.
fn tool_calls(mock: &MockProvider, request: &ChatRequest) -> Result<Vec<(String, Value)>> {
    if request.tool_choice == Some(ToolChoice::None) {
        return Ok(Vec::new());
    }
    if !mock.tool_calls.is_empty() {
        return Ok(mock.tool_calls.clone());
    }
    let wanted = match &request.tool_choice {
        Some(ToolChoice::Required) => request.tools.first(),
        Some(ToolChoice::Tool(name)) => request.tools.iter().find(|t| &t.name == name),
        _ => None,
    };
    match wanted {
        Some(tool) => Ok(vec![(tool.name.clone(), value_for(&tool.parameters)?)]),
        None => Ok(Vec::new()),
    }
}

/// The reply's text chunks.
fn reply_text(
    mock: &MockProvider,
    request: &ChatRequest,
    calling_tools: bool,
) -> Result<Vec<String>> {
    match &mock.script {
        Script::Chunks(chunks) => {
            return Ok(chunks.iter().filter(|c| !c.is_empty()).cloned().collect())
        }
        Script::Reply(text) => return Ok(split_words(text)),
        Script::Json(value) => return Ok(json_pieces(&value.to_string())),
        Script::Echo => {}
    }
    if calling_tools {
        return Ok(Vec::new());
    }
    let last = request.messages.last();
    if let Some(result) = last.filter(|m| m.role == Role::Tool) {
        let tool = result.tool_name.as_deref().unwrap_or("the tool");
        return Ok(split_words(&format!(
            "Hello from the mock provider! {tool} returned: \"{}\".",
            result.content
        )));
    }
    Ok(match &request.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            json_pieces(&value_for(schema)?.to_string())
        }
        Some(ResponseFormat::JsonObject) => {
            json_pieces(&serde_json::json!({ "answer": last_user(request) }).to_string())
        }
        _ => split_words(&format!(
            "Hello from the mock provider! You said: \"{}\". Set --provider openai or ollama to talk to a real model.",
            last_user(request)
        )),
    })
}

fn last_user(request: &ChatRequest) -> &str {
    request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str())
}

/// JSON text in pieces of a few characters.
fn json_pieces(json: &str) -> Vec<String> {
    let chars: Vec<char> = json.chars().collect();
    chars
        .chunks(FRAGMENT_CHARS)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// Splits text into words, each with its leading whitespace, like tokenizers do.
pub(super) fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                out.push(text[start..i].to_owned());
                start = i;
                in_word = false;
            }
        } else {
            in_word = true;
        }
    }
    if start < text.len() {
        out.push(text[start..].to_owned());
    }
    out
}
