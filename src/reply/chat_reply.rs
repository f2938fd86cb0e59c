//! [`ChatReply`]: a whole reply, and what an app does with one: read its JSON, or turn
//! it into the next turn of the conversation.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::chunk::{FinishReason, ServerTimings, ThinkingBlock, ToolCall};
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::request::Message;

use crate::rate_limit::RateLimit;
use crate::route::Attempt;
use crate::usage::Usage;

/// A whole reply: the text and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChatReply {
    /// The reply text: every text delta, concatenated.
    pub text: String,
    /// The model's reasoning, if it sent any (not part of `text`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    /// A refusal, if the model declined to answer (OpenAI `refusal`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub refusal: String,
    /// The tool calls the model made, complete, in order (empty when none).
    pub tool_calls: Vec<ToolCall>,
    /// The provider's name.
    pub provider: String,
    /// The model that answered (as the server named it, else as requested).
    pub model: String,
    /// The provider's id of the reply (`chatcmpl-…`, `msg_…`, `resp_…`), when it sent one.
    pub response_id: Option<String>,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Tokens, time and cost.
    pub usage: Usage,
    /// The rate limits the response reported (`x-ratelimit-*`,
    /// `anthropic-ratelimit-*`), if it did.
    pub rate_limit: Option<RateLimit>,
    /// The base URL that served the reply (secrets redacted), for an HTTP provider.
    pub endpoint: Option<String>,
    /// The entries of a fallback chain that failed before the one that answered (empty
    /// otherwise).
    pub attempts: Vec<Attempt>,
    /// The server's own timings, when it reports them (Ollama).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_timings: Option<ServerTimings>,
    /// Thinking blocks the provider requires back with this turn (Anthropic's, with
    /// their signatures); [`into_message`](Self::into_message) carries them.
    #[serde(skip)]
    pub reasoning_blocks: Vec<ThinkingBlock>,
}

impl ChatReply {
    /// The reply as the assistant turn of the next request: its text, tool calls (ids
    /// kept) and the reasoning a provider requires back.
    ///
    /// ```
    /// use theory_llm::{ChatRequest, LlmStreamProvider, Message, MockProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> theory_llm::Result<()> {
    /// let llm = MockProvider::builder().reply("Ada.").build();
    /// let mut request = ChatRequest::new("My name is Ada. What is it?");
    /// let reply = llm.chat(request.clone()).await?;
    /// request = request.message(reply.into_message()).message(Message::user("Spell it."));
    /// assert_eq!(request.messages.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_message(self) -> Message {
        let mut message = Message::assistant(self.text).with_tool_calls(self.tool_calls);
        message.reasoning.text = self.reasoning;
        message.reasoning.blocks = self.reasoning_blocks;
        message
    }

    /// The reply read as JSON into `T`: for structured output
    /// ([`ResponseFormat`](crate::ResponseFormat)). A ```` ```json ```` fence around
    /// it is allowed.
    ///
    /// ```
    /// use serde_json::json;
    /// use theory_llm::{ChatRequest, LlmStreamProvider, MockProvider, ResponseFormat};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Person { name: String, age: u32 }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> theory_llm::Result<()> {
    /// let schema = json!({"type": "object",
    ///     "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    ///     "required": ["name", "age"]});
    /// let request = ChatRequest::new("Invent a person.")
    ///     .response_format(ResponseFormat::json_schema("person", schema));
    /// // The mock answers with a value that satisfies the schema.
    /// let person: Person = MockProvider::new().chat(request).await?.json()?;
    /// assert!(!person.name.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `protocol`, saying why: the model refused (with its words), a content filter cut
    /// the reply, the token limit cut the reply before its JSON was complete, or the
    /// text is not the JSON `T` needs (quoted).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let fail = |why: String| Err(Error::new(ErrorKind::Protocol, why));
        if !self.refusal.is_empty() || self.finish_reason == FinishReason::Refusal {
            let words = if self.refusal.is_empty() {
                &self.text
            } else {
                &self.refusal
            };
            return fail(format!(
                "the model refused to answer, so there is no JSON: {}",
                excerpt(words, 300)
            ));
        }
        if self.finish_reason == FinishReason::ContentFilter {
            return fail(format!(
                "the {} content filter cut the reply, so its JSON is incomplete",
                self.provider
            ));
        }
        let text = unfenced(&self.text);
        match serde_json::from_str(text) {
            Ok(value) => Ok(value),
            Err(_) if self.finish_reason == FinishReason::Length => fail(format!(
                "the reply was cut by the token limit after {} tokens, before its JSON was complete: raise max_tokens",
                self.usage.tokens_out
            )),
            Err(e) => fail(format!(
                "the reply is not the JSON asked for ({e}): {}",
                excerpt(text, 300)
            )),
        }
    }
}

/// `text` without a Markdown code fence around it (```` ```json … ``` ````).
fn unfenced(text: &str) -> &str {
    let trimmed = text.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let Some(body) = rest.strip_suffix("```") else {
        return trimmed;
    };
    // Drop the info string (`json`) on the opening line.
    body.split_once('\n').map_or(body, |(_, b)| b).trim()
}

#[cfg(test)]
mod tests {
    use super::unfenced;

    #[test]
    fn fences_around_json_are_dropped() {
        assert_eq!(unfenced("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(unfenced("  {\"a\": 1} "), "{\"a\": 1}");
        assert_eq!(unfenced("```\n[1]\n```"), "[1]");
        assert_eq!(unfenced("```not closed"), "```not closed");
    }
}
