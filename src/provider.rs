//! The [`LlmStreamProvider`] trait, the [`Registry`] of providers, and [`get_llm_provider`].

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::collect::ChatReply;
use crate::error::{Error, ErrorKind, Result};
use crate::request::ChatRequest;
use crate::stream::ChatStream;

/// A way to talk to LLMs: given a chat request, a stream of chunks as the provider
/// produces them.
///
/// Providers are *how to connect*; the request's model is *what to invoke*. The trait
/// is object safe: `Box<dyn LlmStreamProvider>` is what [`get_llm_provider`] returns.
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

    /// The whole reply, with usage. Collects [`stream_chat`](Self::stream_chat): there
    /// is no second code path.
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatReply>> {
        let stream = self.stream_chat(request);
        Box::pin(stream.reply())
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
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatReply>> {
        (**self).chat(request)
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
    fn chat(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatReply>> {
        (**self).chat(request)
    }
}

/// A function that builds a provider, typically from the environment.
pub type ProviderFactory = dyn Fn() -> Result<Box<dyn LlmStreamProvider>> + Send + Sync;

/// Named provider factories. [`Registry::builtin`] knows the providers of this crate;
/// add your own with [`Registry::with`].
///
/// ```
/// use theory_llm::{LlmStreamProvider, MockProvider, Registry};
///
/// # fn main() -> theory_llm::Result<()> {
/// let registry = Registry::builtin().with("canned", || {
///     Ok(Box::new(MockProvider::builder().reply("Canned answer.").build()))
/// });
/// assert!(registry.names().contains(&"canned"));
/// let llm = registry.create("canned")?;
/// assert_eq!(llm.name(), "mock");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    entries: Vec<(String, Arc<ProviderFactory>)>,
}

impl Registry {
    /// A registry with no providers.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// The providers of this crate: `mock`, `openai`, `ollama`.
    pub fn builtin() -> Registry {
        crate::providers::register_builtin(Registry::empty())
    }

    /// `self` with `name` mapped to `factory` (replacing an entry of the same name).
    /// Names are matched case-insensitively.
    #[must_use]
    pub fn with<F>(mut self, name: impl Into<String>, factory: F) -> Registry
    where
        F: Fn() -> Result<Box<dyn LlmStreamProvider>> + Send + Sync + 'static,
    {
        let name = name.into().trim().to_ascii_lowercase();
        let factory: Arc<ProviderFactory> = Arc::new(factory);
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = factory,
            None => self.entries.push((name, factory)),
        }
        self
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Builds the provider registered as `name`.
    ///
    /// # Errors
    /// `provider_unavailable` if no provider has that name (the message lists the known
    /// names), or whatever the factory returns (e.g. a missing API key).
    pub fn create(&self, name: &str) -> Result<Box<dyn LlmStreamProvider>> {
        let wanted = name.trim().to_ascii_lowercase();
        match self.entries.iter().find(|(n, _)| *n == wanted) {
            Some((_, factory)) => factory(),
            None => Err(Error::new(
                ErrorKind::ProviderUnavailable,
                format!(
                    "unknown provider '{name}': known providers are {}. Use one of these, or register your own with Registry::with",
                    self.names().join(", ")
                ),
            )),
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("names", &self.names())
            .finish()
    }
}

/// Builds a built-in provider by name, configured from the environment
/// (see each provider's `from_env`).
///
/// # Errors
/// `provider_unavailable` for an unknown name (listing the known ones) or a provider
/// that is not configured (naming the missing variable).
///
/// ```
/// let err = theory_llm::get_llm_provider("nope").unwrap_err();
/// assert!(err.to_string().contains("mock"));
/// ```
pub fn get_llm_provider(name: &str) -> Result<Box<dyn LlmStreamProvider>> {
    Registry::builtin().create(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::mock::MockProvider;

    #[test]
    fn names_are_case_insensitive_and_replaceable() {
        let r = Registry::empty()
            .with("One", || Ok(Box::new(MockProvider::new())))
            .with("one", || {
                Ok(Box::new(MockProvider::builder().model("x").build()))
            });
        assert_eq!(r.names(), vec!["one"]);
        assert_eq!(r.create(" ONE ").unwrap().default_model(), "x");
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = Registry::builtin().create("gemini").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        for name in Registry::builtin().names() {
            assert!(err.to_string().contains(name), "{err}");
        }
        assert!(format!("{:?}", Registry::builtin()).contains("mock"));
    }
}
