//! What to ask a provider: [`ChatRequest`]; one file per part of it: [`Message`] and
//! [`Image`] (`message.rs`), [`Tool`], [`ToolChoice`] and [`ResponseFormat`]
//! (`tools.rs`), [`Reasoning`] (`reasoning.rs`), [`Timeouts`] (`timeouts.rs`).

mod message;
mod reasoning;
mod timeouts;
mod tools;

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};

pub(crate) use message::base64;
pub use message::{Image, Message, ProviderReasoning, Role};
pub use reasoning::{Reasoning, ReasoningEffort};
pub use timeouts::Timeouts;
pub(crate) use tools::merge_schema;
pub use tools::{strict_schema, ResponseFormat, Tool, ToolChoice};

/// A chat request: the conversation, which model, and generation options.
///
/// Build one from a prompt and add what you need; anything left unset is left to
/// the provider (no model means the provider's default model).
///
/// ```
/// use theory_llm::{ChatRequest, Message};
///
/// let simple: ChatRequest = "Hello".into();
/// assert_eq!(simple.messages, vec![Message::user("Hello")]);
///
/// let tuned = ChatRequest::new("Write a haiku about Rust")
///     .model("gpt-4o-mini")
///     .system("You are a poet.")
///     .temperature(0.2)
///     .max_tokens(60)
///     .stop(["\n\n"])
///     .seed(7);
/// assert_eq!(tuned.model.as_deref(), Some("gpt-4o-mini"));
///
/// let multi_turn = ChatRequest::default().messages([
///     Message::user("My name is Ada."),
///     Message::assistant("Nice to meet you, Ada."),
///     Message::user("What is my name?"),
/// ]);
/// assert_eq!(multi_turn.messages.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The model to invoke; `None` means the provider's default model.
    pub model: Option<String>,
    /// A system prompt, sent before `messages`.
    pub system: Option<String>,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Sampling temperature, `0.0..=2.0`.
    pub temperature: Option<f32>,
    /// The most tokens to generate (Ollama: `num_predict`).
    pub max_tokens: Option<u32>,
    /// Sequences that end the reply when generated (not included in the reply).
    pub stop: Vec<String>,
    /// A seed for reproducible sampling, where the provider supports it.
    pub seed: Option<u64>,
    /// How much a model that reasons should reason (`None`: the model's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    /// Time limits for this request; unset limits use the provider's.
    #[serde(skip)]
    pub timeouts: Timeouts,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// Whether and which tool the model must call (`None`: the provider's default,
    /// which is "auto" when tools are given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// The shape of the reply: JSON, or JSON matching a schema (`None`: text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Retries before the first content for this request; `None` uses the provider's.
    #[serde(skip)]
    pub max_retries: Option<u32>,
    /// The largest reply `chat()` collects for this request, in bytes of text and
    /// reasoning; `None` uses the provider's (64 MiB by default).
    #[serde(skip)]
    pub max_reply_bytes: Option<usize>,
}

impl ChatRequest {
    /// A request with one user message.
    pub fn new(prompt: impl Into<String>) -> ChatRequest {
        ChatRequest {
            messages: vec![Message::user(prompt)],
            ..ChatRequest::default()
        }
    }

    /// Sets the model (otherwise the provider's default).
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> ChatRequest {
        self.model = Some(model.into());
        self
    }

    /// Sets the system prompt.
    #[must_use]
    pub fn system(mut self, system: impl Into<String>) -> ChatRequest {
        self.system = Some(system.into());
        self
    }

    /// Replaces the conversation with `messages` (oldest first).
    #[must_use]
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> ChatRequest {
        self.messages = messages.into_iter().collect();
        self
    }

    /// Appends one message to the conversation.
    #[must_use]
    pub fn message(mut self, message: Message) -> ChatRequest {
        self.messages.push(message);
        self
    }

    /// Sets the sampling temperature (`0.0..=2.0`).
    #[must_use]
    pub fn temperature(mut self, temperature: f32) -> ChatRequest {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the most tokens to generate.
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> ChatRequest {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the stop sequences.
    #[must_use]
    pub fn stop<S: Into<String>>(mut self, stop: impl IntoIterator<Item = S>) -> ChatRequest {
        self.stop = stop.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a tool the model may call.
    #[must_use]
    pub fn tool(mut self, tool: Tool) -> ChatRequest {
        self.tools.push(tool);
        self
    }

    /// Sets the tools the model may call.
    #[must_use]
    pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> ChatRequest {
        self.tools = tools.into_iter().collect();
        self
    }

    /// Sets whether and which tool the model must call.
    #[must_use]
    pub fn tool_choice(mut self, choice: ToolChoice) -> ChatRequest {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets the shape of the reply.
    #[must_use]
    pub fn response_format(mut self, format: ResponseFormat) -> ChatRequest {
        self.response_format = Some(format);
        self
    }

    /// Sets the sampling seed.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> ChatRequest {
        self.seed = Some(seed);
        self
    }

    /// Sets how much a model that reasons should reason; see [`Reasoning`] for what each
    /// provider takes.
    #[must_use]
    pub fn reasoning(mut self, reasoning: Reasoning) -> ChatRequest {
        self.reasoning = Some(reasoning);
        self
    }

    /// Sets this request's time limits (unset ones fall back to the provider's).
    #[must_use]
    pub fn timeouts(mut self, timeouts: Timeouts) -> ChatRequest {
        self.timeouts = timeouts;
        self
    }

    /// Sets how often this request is retried if it fails before any content
    /// (`0` turns retries off).
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> ChatRequest {
        self.max_retries = Some(retries);
        self
    }

    /// Sets the largest reply `chat()` collects for this request (bytes of text and
    /// reasoning): a longer reply is a `protocol` error instead of unbounded memory.
    /// Reading the stream with `stream_chat` holds no reply and has no such limit.
    #[must_use]
    pub fn max_reply_bytes(mut self, limit: usize) -> ChatRequest {
        self.max_reply_bytes = Some(limit);
        self
    }

    /// The system prompt followed by the messages, as providers send them.
    pub fn full_conversation(&self) -> impl Iterator<Item = (Role, &str)> + '_ {
        self.system
            .iter()
            .map(|s| (Role::System, s.as_str()))
            .chain(self.messages.iter().map(|m| (m.role, m.content.as_str())))
    }

    /// Checks what can be checked before sending: there is something to answer,
    /// and the options are in range. Providers call this before any I/O.
    ///
    /// ```
    /// use theory_llm::{ChatRequest, ErrorKind};
    ///
    /// let err = ChatRequest::default().validate().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// assert!(ChatRequest::new("hi").temperature(3.5).validate().is_err());
    /// assert!(ChatRequest::new("hi").validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.messages.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "the request has no messages: add at least one, e.g. ChatRequest::new(\"Hello\")",
            ));
        }
        if let Some(t) = self.temperature {
            if !(0.0..=2.0).contains(&t) {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    format!("temperature {t} is out of range: use a value from 0.0 to 2.0"),
                ));
            }
        }
        if let Some(model) = &self.model {
            if model.trim().is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    "the model name is empty: set a model name, or leave it unset for the provider's default",
                ));
            }
        }
        self.validate_tools()
    }

    /// Tools have names and object schemas; a named tool choice names one of them; a
    /// tool result says which call it answers; a response schema is an object.
    fn validate_tools(&self) -> Result<()> {
        let invalid = |msg: String| Err(Error::new(ErrorKind::InvalidRequest, msg));
        for tool in &self.tools {
            if tool.name.trim().is_empty() {
                return invalid("a tool has an empty name: give every tool a name".into());
            }
            if !tool.parameters.is_object() {
                return invalid(format!(
                    "the parameters of tool '{}' are not a JSON Schema object: use {{\"type\": \"object\", \"properties\": {{...}}}}",
                    tool.name
                ));
            }
        }
        if let Some(ToolChoice::Tool(name)) = &self.tool_choice {
            if !self.tools.iter().any(|t| &t.name == name) {
                return invalid(format!(
                    "the tool choice names '{name}', which is not among the request's tools: add it with ChatRequest::tool"
                ));
            }
        }
        if let Some(ResponseFormat::JsonSchema { schema, .. }) = &self.response_format {
            if !schema.is_object() {
                return invalid("the response schema is not a JSON Schema object".into());
            }
        }
        for message in &self.messages {
            if message.role == Role::Tool
                && message.tool_call_id.as_deref().is_none_or(str::is_empty)
            {
                return invalid("a tool result has no call id: make it with Message::tool_result(call_id, name, result)".into());
            }
        }
        Ok(())
    }
}

impl From<&str> for ChatRequest {
    fn from(prompt: &str) -> ChatRequest {
        ChatRequest::new(prompt)
    }
}

impl From<String> for ChatRequest {
    fn from(prompt: String) -> ChatRequest {
        ChatRequest::new(prompt)
    }
}

impl From<&String> for ChatRequest {
    fn from(prompt: &String) -> ChatRequest {
        ChatRequest::new(prompt.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn conversions_make_one_user_message() {
        for req in [
            ChatRequest::from("hi"),
            ChatRequest::from(String::from("hi")),
            ChatRequest::from(&String::from("hi")),
        ] {
            assert_eq!(req.messages, vec![Message::user("hi")]);
            assert_eq!(req.model, None);
        }
    }

    #[test]
    fn full_conversation_puts_system_first() {
        let req = ChatRequest::new("q").system("be brief");
        let turns: Vec<_> = req.full_conversation().collect();
        assert_eq!(turns, vec![(Role::System, "be brief"), (Role::User, "q")]);
    }

    #[test]
    fn validate_rejects_bad_options_with_actionable_messages() {
        let err = ChatRequest::new("x")
            .temperature(-0.1)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("0.0 to 2.0"), "{err}");
        let err = ChatRequest::new("x").model(" ").validate().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(ChatRequest::new("x")
            .temperature(f32::NAN)
            .validate()
            .is_err());
        assert!(ChatRequest::new("x").temperature(2.0).validate().is_ok());
    }

    #[test]
    fn tools_and_formats_are_checked_before_sending() {
        use serde_json::json;
        let tool = Tool::new("get", "Get", json!({"type": "object"}));
        assert!(ChatRequest::new("x").tool(tool.clone()).validate().is_ok());
        let bad = [
            ChatRequest::new("x").tool(Tool::new(" ", "", json!({"type": "object"}))),
            ChatRequest::new("x").tool(Tool::new("t", "", json!("object"))),
            ChatRequest::new("x")
                .tool(tool.clone())
                .tool_choice(ToolChoice::Tool("other".into())),
            ChatRequest::new("x").response_format(ResponseFormat::json_schema("s", json!(1))),
            ChatRequest::default().messages([Message::new(Role::Tool, "18 C")]),
        ];
        for request in bad {
            let err = request.validate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        }
        let turn = ChatRequest::default().messages([Message::tool_result("c1", "get", "18 C")]);
        assert!(turn.validate().is_ok());
    }

    #[test]
    fn timeouts_fall_back_per_field() {
        let a = Timeouts::default().idle(Duration::from_secs(1));
        let b = Timeouts::default()
            .idle(Duration::from_secs(9))
            .first_chunk(Duration::from_secs(2));
        let c = a.or(b);
        assert_eq!(c.idle, Some(Duration::from_secs(1)));
        assert_eq!(c.first_chunk, Some(Duration::from_secs(2)));
        assert_eq!(c.deadline, None);
    }
}
