//! [`PartialReply`]: what a reply had delivered when it ended without its finish.

use serde::Serialize;

use crate::chunk::ToolCall;
use crate::error::Error;
use crate::usage::Usage;

/// What a reply had delivered when it ended without its finish: the stream failed
/// after some output, or the app stopped reading. [`Error::partial`](crate::Error::partial)
/// carries it for `chat()`; [`Collector::partial`](crate::reply::Collector::partial) gives it
/// to an app that reads the stream itself.
///
/// The usage is what is known: token counts the provider never sent are estimated
/// (about 4 characters a token) and flagged in `usage.tokens_estimated`, and the cost
/// is computed from them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PartialReply {
    /// The text received.
    pub text: String,
    /// The reasoning received.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    /// The refusal received.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub refusal: String,
    /// The tool calls completed before the end (one still streaming is not here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Tokens, time and cost so far.
    pub usage: Usage,
}

impl PartialReply {
    /// Whether nothing had been delivered.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
            && self.reasoning.is_empty()
            && self.refusal.is_empty()
            && self.tool_calls.is_empty()
    }
}

impl Error {
    /// Attaches what the reply had delivered before this failure (see
    /// [`partial`](Self::partial)).
    #[must_use]
    pub fn with_partial(mut self, partial: PartialReply) -> Error {
        *self.partial_slot() = Some(Box::new(partial));
        self
    }

    /// What the reply had delivered before it failed (text, completed tool calls, usage
    /// with estimated counts flagged), when something had: `chat()` attaches it, so a
    /// reply cut half-way is not lost.
    ///
    /// ```
    /// use theory_llm::{ErrorKind, LlmStreamProvider, MockProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let llm = MockProvider::builder()
    ///     .reply("one two three")
    ///     .fail_after(2, ErrorKind::Network, "the connection dropped")
    ///     .build();
    /// let err = llm.chat("Count".into()).await.unwrap_err();
    /// let partial = err.partial().expect("some text had arrived");
    /// assert!("one two three".starts_with(&partial.text));
    /// assert!(partial.usage.tokens_estimated);
    /// # }
    /// ```
    pub fn partial(&self) -> Option<&PartialReply> {
        self.partial_any()?.downcast_ref()
    }

    /// Takes the partial reply out of the error.
    pub fn take_partial(&mut self) -> Option<PartialReply> {
        let partial = self.partial_slot().take()?;
        partial.downcast().ok().map(|boxed| *boxed)
    }
}
