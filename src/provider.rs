//! The [`LlmStreamProvider`] trait: what every provider is.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::embed::{no_embeddings, Embedder};
use crate::error::Result;
use crate::reply::ChatReply;
use crate::request::ChatRequest;
use crate::stream::{ChatStream, StreamInfo};

/// A way to talk to LLMs: given a chat request, a stream of chunks as the provider
/// produces them.
///
/// Providers are *how to connect*; the request's model is *what to invoke*. The trait
/// is object safe: `Box<dyn LlmStreamProvider>` is what
/// [`get_llm_provider`](crate::get_llm_provider) returns.
///
/// ```
/// use theory_llm::{get_llm_provider, LlmStreamProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let llm = get_llm_provider("mock")?;
/// let reply = llm.chat("Hello".into()).await?;
/// assert_eq!(reply.provider, "mock");
/// assert!(reply.usage.tokens_out > 0);
/// # Ok(())
/// # }
/// ```
pub trait LlmStreamProvider: fmt::Debug + Send + Sync {
    /// The provider's name: `"mock"`, `"openai"`, `"ollama"`, or a custom name.
    fn name(&self) -> &str;

    /// The model used when a request names none.
    fn default_model(&self) -> &str;

    /// Starts a chat. Lazy: nothing is sent until the stream is polled; dropping the
    /// stream cancels the request. Errors (including a request rejected before
    /// sending) arrive as the stream's `Err` item.
    fn stream_chat(&self, request: ChatRequest) -> ChatStream;

    /// What [`stream_chat`](Self::stream_chat) would make of `request`, without making
    /// it: the model, its pricing, the prompt's token estimate and the time limits that
    /// would apply. For wrappers that decide before sending (a
    /// [`BudgetProvider`](crate::budget::BudgetProvider) prices a request before it
    /// admits it). By default: the request's model (else the default one), priced
    /// [`Unknown`](crate::pricing::Pricing::Unknown), the request's own limits;
    /// providers that know better say so.
    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        StreamInfo::for_request(self.name(), request, self.default_model())
    }

    /// The whole reply, with usage. Collects [`stream_chat`](Self::stream_chat): there
    /// is no second code path.
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatReply>> {
        let stream = self.stream_chat(request);
        Box::pin(stream.reply())
    }

    /// The provider's embeddings (see [`embed`](crate::embed)): `openai` (and every
    /// OpenAI-compatible server), `azure-openai`, `ollama`, `gemini` and `mock` have
    /// them.
    ///
    /// # Errors
    /// `invalid_request` for a provider without embeddings (nothing is sent).
    fn embedder(&self) -> Result<&dyn Embedder> {
        Err(no_embeddings(self.name()))
    }
}

impl<P: LlmStreamProvider + ?Sized> LlmStreamProvider for Box<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn default_model(&self) -> &str {
        (**self).default_model()
    }
    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        (**self).stream_chat(request)
    }
    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        (**self).stream_info(request)
    }
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatReply>> {
        (**self).chat(request)
    }
    fn embedder(&self) -> Result<&dyn Embedder> {
        (**self).embedder()
    }
}

impl<P: LlmStreamProvider + ?Sized> LlmStreamProvider for Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn default_model(&self) -> &str {
        (**self).default_model()
    }
    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        (**self).stream_chat(request)
    }
    fn stream_info(&self, request: &ChatRequest) -> StreamInfo {
        (**self).stream_info(request)
    }
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatReply>> {
        (**self).chat(request)
    }
    fn embedder(&self) -> Result<&dyn Embedder> {
        (**self).embedder()
    }
}
