//! The `mock` provider: deterministic, free, no I/O. For tests, CI and first contact.

use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::chunk::{Chunk, Finish, FinishReason};
use crate::error::{Error, ErrorKind};
use crate::pricing::Pricing;
use crate::provider::LlmStreamProvider;
use crate::request::{ChatRequest, Role};
use crate::stream::{ChatStream, StreamInfo};

/// A provider that answers from a script, with no network and no cost.
///
/// The same request always gives the same chunks and the same token counts. By
/// default it replies with a short sentence that quotes the last user message, one
/// word per chunk. Script it to test an app: a fixed reply, exact chunks, a delay per
/// chunk, reasoning, a finish reason, token counts, or an error after N chunks.
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// use theory_llm::{ErrorKind, LlmStreamProvider, MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let llm = MockProvider::builder()
///     .chunks(["Hel", "lo", "!"])
///     .delay(Duration::from_millis(1))
///     .fail_after(2, ErrorKind::Network, "connection reset (scripted)")
///     .build();
/// let items: Vec<_> = llm.stream_chat("hi".into()).collect().await;
/// assert_eq!(items.len(), 3); // two chunks, then the error
/// assert_eq!(items[2].as_ref().unwrap_err().kind(), ErrorKind::Network);
/// assert!(llm.chat("hi".into()).await.is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MockProvider {
    default_model: String,
    script: Script,
    delay: Duration,
    reasoning: Vec<String>,
    finish_reason: FinishReason,
    tokens: Option<(u64, u64)>,
    report_usage: bool,
    failure: Option<(usize, ErrorKind, String)>,
}

#[derive(Debug, Clone)]
enum Script {
    /// Quote the last user message.
    Echo,
    /// This text, one word (with its leading space) per chunk.
    Reply(String),
    /// Exactly these chunks.
    Chunks(Vec<String>),
}

impl Default for MockProvider {
    fn default() -> MockProvider {
        MockProvider::new()
    }
}

impl MockProvider {
    /// The provider's name.
    pub const NAME: &'static str = "mock";
    /// The default model's name.
    pub const DEFAULT_MODEL: &'static str = "mock";

    /// The default mock: echoes the last user message, no delay, usage reported.
    pub fn new() -> MockProvider {
        MockProviderBuilder::default().build()
    }

    /// A builder to script the mock.
    pub fn builder() -> MockProviderBuilder {
        MockProviderBuilder::default()
    }

    /// Works from any environment; there is nothing to configure.
    pub fn from_env() -> crate::Result<MockProvider> {
        Ok(MockProvider::new())
    }

    /// The text chunks this mock produces for `request`.
    fn chunks_for(&self, request: &ChatRequest) -> Vec<String> {
        match &self.script {
            Script::Chunks(chunks) => chunks.iter().filter(|c| !c.is_empty()).cloned().collect(),
            Script::Reply(text) => split_words(text),
            Script::Echo => {
                let last_user = request
                    .messages
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::User)
                    .map_or("", |m| m.content.as_str());
                split_words(&format!(
                    "Hello from the mock provider! You said: \"{last_user}\". Set --provider openai or ollama to talk to a real model."
                ))
            }
        }
    }
}

/// Splits text into words, each with its leading whitespace, like tokenizers do.
fn split_words(text: &str) -> Vec<String> {
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

impl LlmStreamProvider for MockProvider {
    fn name(&self) -> &str {
        MockProvider::NAME
    }

    fn default_model(&self) -> &str {
        &self.default_model
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let info = StreamInfo::for_request(MockProvider::NAME, &request, &self.default_model)
            .with_pricing(Pricing::Free);
        if let Err(e) = request.validate() {
            return ChatStream::from_error(info, e);
        }

        let text = self.chunks_for(&request);
        let (tokens_in, tokens_out) = self.tokens.unwrap_or((
            info.prompt_tokens_estimate,
            (text.len() + self.reasoning.len()) as u64,
        ));
        let mut finish = Finish::new(self.finish_reason.clone()).with_model(info.model.clone());
        if self.report_usage {
            finish = finish.with_tokens(Some(tokens_in), Some(tokens_out));
        }

        let mut items: Vec<crate::Result<Chunk>> = Vec::new();
        items.extend(
            self.reasoning
                .iter()
                .cloned()
                .map(|r| Ok(Chunk::Reasoning(r))),
        );
        let fail_at = self.failure.as_ref().map(|(n, _, _)| *n);
        for (i, t) in text.into_iter().enumerate() {
            if Some(i) == fail_at {
                break;
            }
            items.push(Ok(Chunk::Text(t)));
        }
        match &self.failure {
            Some((_, kind, message)) => items.push(Err(Error::new(*kind, message.clone()))),
            None => items.push(Ok(Chunk::from(finish))),
        }

        let delay = self.delay;
        let stream = stream::iter(items).then(move |item| async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            item
        });
        // The request's time limits are in `info`; the stream applies them.
        ChatStream::new(info, stream)
    }
}

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

    /// The provider.
    pub fn build(self) -> MockProvider {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_leading_space() {
        assert_eq!(split_words("a bc  d"), vec!["a", " bc", "  d"]);
        assert_eq!(split_words(" lead"), vec![" lead"]);
        assert_eq!(split_words(""), Vec::<String>::new());
        assert_eq!(split_words("trail "), vec!["trail", " "]);
        assert_eq!(split_words("é ü").concat(), "é ü");
    }

    #[tokio::test]
    async fn same_request_same_reply() {
        let llm = MockProvider::new();
        let a = llm.chat("same".into()).await.unwrap();
        let b = llm.chat("same".into()).await.unwrap();
        assert_eq!(
            (a.text.clone(), a.usage.tokens_in, a.usage.tokens_out),
            (b.text, b.usage.tokens_in, b.usage.tokens_out)
        );
        assert!(a.text.contains("same"));
        assert_eq!(a.usage.usd_micros, 0);
    }

    #[tokio::test]
    async fn invalid_requests_fail_before_any_chunk() {
        let err = MockProvider::new()
            .chat(ChatRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    }
}
