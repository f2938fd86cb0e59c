//! The `mock` provider: deterministic, free, no I/O. For tests, CI and first contact.
//!
//! Files: this one (the provider), `builder.rs` (its script), `script.rs` (what it
//! answers to a request), `schema_value.rs` (values that satisfy a JSON Schema),
//! `schema_numbers.rs` (their numbers), `value_budget.rs` (the bound on those values),
//! `embed.rs` (its embeddings).

mod builder;
mod embed;
mod schema_numbers;
mod schema_value;
mod script;
#[cfg(test)]
mod tests;
mod value_budget;

use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::chunk::{Chunk, Finish, FinishReason};
use crate::embed::Embedder;
use crate::error::{Error, ErrorKind, Result};
use crate::pricing::Pricing;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;
use crate::stream::{ChatStream, StreamInfo};

pub use builder::MockProviderBuilder;

/// A provider that answers from a script, with no network and no cost.
///
/// The same request always gives the same chunks and the same token counts. By
/// default it replies with a short sentence that quotes the last user message (or the
/// tool result it answers), one word per chunk; asked for structured output, with a
/// value that satisfies the schema; asked to call a tool (`ToolChoice::Required`, or a
/// named tool), with a call whose arguments satisfy the tool's schema. Script it to
/// test an app: a fixed reply, exact chunks, JSON, tool calls, a refusal, a delay per
/// chunk, reasoning, a finish reason, token counts, or an error after N chunks.
///
/// It has [embeddings](crate::embed) too: deterministic vectors of length 1 (16
/// numbers unless asked for others), the same for the same model and text, so that an
/// app's search and ranking can be tested offline; the scripted error and delay apply.
///
/// A value made for a schema is bounded: at most 1 MiB of JSON, and at most 64 levels
/// of schema deep (each object, array, `$ref` and `anyOf`/`allOf` a level). When the
/// value that shows every property is over the bound, the mock makes the smallest it
/// can (required properties only, the fewest array items, `null` wherever allowed); a
/// schema that asks for more even so (`minItems` inside `minItems`, a `minLength` of
/// millions, a required property that nests forever) fails the request with
/// [`ErrorKind::InvalidRequest`], whose message names the bound, rather than run for
/// minutes or answer with a value that breaks the schema.
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
    tool_calls: Vec<(String, serde_json::Value)>,
    refusal: Option<String>,
    embedding_dimensions: u32,
}

#[derive(Debug, Clone)]
enum Script {
    /// Quote the last user message.
    Echo,
    /// This text, one word (with its leading space) per chunk.
    Reply(String),
    /// Exactly these chunks.
    Chunks(Vec<String>),
    /// This JSON, in pieces.
    Json(serde_json::Value),
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
    pub fn from_env() -> Result<MockProvider> {
        Ok(MockProvider::new())
    }
}

impl LlmStreamProvider for MockProvider {
    fn name(&self) -> &str {
        MockProvider::NAME
    }

    fn default_model(&self) -> &str {
        &self.default_model
    }

    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        StreamInfo::for_request(MockProvider::NAME, request, &self.default_model)
            .with_pricing(Pricing::Free)
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let info = self.stream_info(&request);
        if let Err(e) = request.validate() {
            return ChatStream::from_error(info, e);
        }

        let plan = match script::plan(self, &request) {
            Ok(plan) => plan,
            Err(e) => return ChatStream::from_error(info, e),
        };
        let (tokens_in, tokens_out) = self
            .tokens
            .unwrap_or((info.prompt_tokens_estimate, plan.tokens));
        let mut finish = Finish::new(self.finish_reason.clone()).with_model(info.model.clone());
        if self.report_usage {
            finish = finish.with_tokens(Some(tokens_in), Some(tokens_out));
        }

        let mut items: Vec<Result<Chunk>> = Vec::new();
        let fail_at = self.failure.as_ref().map(|(n, _, _)| *n);
        let mut texts = 0;
        for chunk in plan.chunks {
            if matches!(chunk, Chunk::Text(_)) {
                if Some(texts) == fail_at {
                    break;
                }
                texts += 1;
            }
            items.push(Ok(chunk));
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

    fn embedder(&self) -> Result<&dyn Embedder> {
        Ok(self)
    }
}
