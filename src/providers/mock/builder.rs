//! [`MockProviderBuilder`]: how to script the mock.

use std::time::Duration;

use crate::chunk::FinishReason;
use crate::error::ErrorKind;

use super::{MockProvider, Script};

/// Builds a [`MockProvider`]; see there for an example.
#[derive(Debug, Clone)]
pub struct MockProviderBuilder {
    inner: MockProvider,
}

impl Default for MockProviderBuilder {
    fn default() -> MockProviderBuilder {
        MockProviderBuilder {
            inner: MockProvider {
                default_model: MockProvider::DEFAULT_MODEL.to_owned(),
                script: Script::Echo,
                delay: Duration::ZERO,
                reasoning: Vec::new(),
                finish_reason: FinishReason::Stop,
                tokens: None,
                report_usage: true,
                failure: None,
                tool_calls: Vec::new(),
                refusal: None,
                embedding_dimensions: super::embed::DEFAULT_DIMENSIONS,
            },
        }
    }
}

impl MockProviderBuilder {
    /// The model used when a request names none (default `mock`).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.inner.default_model = model.into();
        self
    }

    /// Always reply with `text`, one word per chunk.
    #[must_use]
    pub fn reply(mut self, text: impl Into<String>) -> Self {
        self.inner.script = Script::Reply(text.into());
        self
    }

    /// Always reply with exactly these text chunks (empty ones are skipped).
    #[must_use]
    pub fn chunks<S: Into<String>>(mut self, chunks: impl IntoIterator<Item = S>) -> Self {
        self.inner.script = Script::Chunks(chunks.into_iter().map(Into::into).collect());
        self
    }

    /// Always reply with this JSON value (as text, in pieces), as a model asked for
    /// structured output does.
    #[must_use]
    pub fn json(mut self, value: serde_json::Value) -> Self {
        self.inner.script = Script::Json(value);
        self
    }

    /// Call this tool with these arguments (a JSON object) in every reply that does
    /// not answer a tool result; repeat for parallel calls. The arguments stream in
    /// fragments, as a real server sends them.
    #[must_use]
    pub fn tool_call(mut self, name: impl Into<String>, arguments: serde_json::Value) -> Self {
        self.inner.tool_calls.push((name.into(), arguments));
        self
    }

    /// Refuse, with these words (as OpenAI's `refusal`), instead of replying.
    #[must_use]
    pub fn refusal(mut self, words: impl Into<String>) -> Self {
        self.inner.refusal = Some(words.into());
        self
    }

    /// Send these reasoning chunks before the text.
    #[must_use]
    pub fn reasoning<S: Into<String>>(mut self, chunks: impl IntoIterator<Item = S>) -> Self {
        self.inner.reasoning = chunks
            .into_iter()
            .map(Into::into)
            .filter(|c: &String| !c.is_empty())
            .collect();
        self
    }

    /// Wait this long before each item (chunk, finish or error). Uses tokio's clock, so
    /// tests with a paused clock run instantly.
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.inner.delay = delay;
        self
    }

    /// End with this finish reason (default `stop`).
    #[must_use]
    pub fn finish_reason(mut self, reason: FinishReason) -> Self {
        self.inner.finish_reason = reason;
        self
    }

    /// Report these token counts (default: the prompt's estimate, and one token per chunk).
    #[must_use]
    pub fn tokens(mut self, tokens_in: u64, tokens_out: u64) -> Self {
        self.inner.tokens = Some((tokens_in, tokens_out));
        self
    }

    /// Whether the finish reports token counts (default `true`). Without them, replies
    /// show estimated counts, as with servers that send no usage.
    #[must_use]
    pub fn report_usage(mut self, report: bool) -> Self {
        self.inner.report_usage = report;
        self
    }

    /// After `n` text chunks, end the stream with an error of `kind` and `message`
    /// instead of the rest of the reply.
    #[must_use]
    pub fn fail_after(mut self, n: usize, kind: ErrorKind, message: impl Into<String>) -> Self {
        self.inner.failure = Some((n, kind, message.into()));
        self
    }

    /// The length of the vectors of [embeddings](crate::embed) whose request sets none
    /// (default 16; at least 1).
    #[must_use]
    pub fn embedding_dimensions(mut self, dimensions: u32) -> Self {
        self.inner.embedding_dimensions = dimensions.max(1);
        self
    }

    /// The provider.
    pub fn build(self) -> MockProvider {
        self.inner
    }
}
