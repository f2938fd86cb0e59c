//! The built-in providers. Adding a provider is one new file here and one line in
//! [`register_builtin`].

pub(crate) mod mock;
pub(crate) mod ollama;
pub(crate) mod openai;

use crate::provider::Registry;

/// Registers every built-in provider, in the order `get_llm_provider`'s errors list them.
pub(crate) fn register_builtin(registry: Registry) -> Registry {
    registry
        .with("mock", || Ok(Box::new(mock::MockProvider::from_env()?)))
        .with("ollama", || {
            Ok(Box::new(ollama::OllamaProvider::from_env()?))
        })
        .with("openai", || {
            Ok(Box::new(openai::OpenAiProvider::from_env()?))
        })
}
