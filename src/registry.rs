//! The [`Registry`] of providers by name, and [`get_llm_provider`]. It knows the
//! built-in providers; the trait does not.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::kit::{Api, Description, ProviderBuilder};
use crate::provider::LlmStreamProvider;
use crate::providers::anthropic::{self, Messages};
use crate::providers::azure_openai::{self, AzureOpenAi};
use crate::providers::bedrock::{self, Converse};
use crate::providers::gemini::{self, GeminiDialect};
use crate::providers::mock::MockProvider;
use crate::providers::ollama::{self, ApiChat};
use crate::providers::openai::{self, ChatCompletions};
use crate::providers::openai_responses::{self, Responses};

/// Settings given to a factory when it builds a provider: what a caller (the CLI, an
/// app) sets once for every provider. A factory with no use for one ignores it.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::{ProviderOptions, Registry};
///
/// # fn main() -> theory_llm::Result<()> {
/// let options = ProviderOptions::default().connect_timeout(Duration::from_secs(2));
/// let llm = Registry::builtin().create_with("mock", &options)?;
/// assert_eq!(llm.name(), "mock");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderOptions {
    /// The time to establish a connection, for providers that connect; `None` keeps the
    /// provider's default (10 s for the built-in ones).
    pub connect_timeout: Option<Duration>,
    /// Base URLs (or Ollama hosts) to use instead of the one the environment gives: with
    /// more than one, an endpoint pool. Empty: the environment's.
    pub endpoints: Vec<String>,
}

impl ProviderOptions {
    /// Sets the connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, limit: Duration) -> ProviderOptions {
        self.connect_timeout = Some(limit);
        self
    }

    /// Sets the endpoints: the first replaces the environment's base URL, the others
    /// join it in a pool.
    #[must_use]
    pub fn endpoints<S: Into<String>>(
        mut self,
        urls: impl IntoIterator<Item = S>,
    ) -> ProviderOptions {
        self.endpoints = urls.into_iter().map(Into::into).collect();
        self
    }
}

/// The built-in HTTP provider `description` describes, from the environment, with the
/// caller's options: the connect timeout, and endpoints in place of the environment's
/// base URL. Every built-in provider's builder has the same setters, so this is written
/// once.
fn from_env<A: Api>(
    description: &'static Description,
    options: &ProviderOptions,
) -> Result<Box<dyn LlmStreamProvider>> {
    let mut builder =
        ProviderBuilder::<A>::from_lookup(description, |name| std::env::var(name).ok());
    if let Some(limit) = options.connect_timeout {
        builder = builder.connect_timeout(limit);
    }
    if let Some((first, more)) = options.endpoints.split_first() {
        builder = builder.base_url(first.clone()).endpoints(more.to_vec());
    }
    Ok(Box::new(builder.build()?))
}

/// A function that builds a provider, typically from the environment.
type Factory = dyn Fn(&ProviderOptions) -> Result<Box<dyn LlmStreamProvider>> + Send + Sync;

/// Named provider factories. [`Registry::builtin`] knows the providers of this crate;
/// add your own with [`Registry::with`].
///
/// ```
/// use theory_llm::{LlmStreamProvider, MockProvider, Registry};
///
/// # fn main() -> theory_llm::Result<()> {
/// let registry = Registry::builtin().with("canned", |_options| {
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
    entries: Vec<Entry>,
}

/// A registered provider: its name, its factory, and the environment it reads (the
/// built-in ones say; one of an app's does not).
#[derive(Clone)]
struct Entry {
    name: String,
    factory: Arc<Factory>,
    environment: Option<String>,
}

impl Registry {
    /// A registry with no providers.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// The providers of this crate, each configured from the environment (see their
    /// `from_env`): `mock`, `anthropic`, `azure-openai`, `bedrock`, `gemini`, `ollama`,
    /// `openai`, `openai-responses`, and the OpenAI-compatible ones by name (`groq`,
    /// `deepseek`, `openrouter`, `together`, `fireworks`, `mistral`, `xai`, `cerebras`,
    /// `vllm`, `lmstudio`, `llamacpp`).
    pub fn builtin() -> Registry {
        let registry = Registry::empty()
            .with("mock", |_| Ok(Box::new(MockProvider::from_env()?)))
            .described::<Messages>(&anthropic::DESCRIPTION)
            .described::<AzureOpenAi>(&azure_openai::DESCRIPTION)
            .described::<Converse>(&bedrock::DESCRIPTION)
            .described::<GeminiDialect>(&gemini::DESCRIPTION)
            .described::<ApiChat>(&ollama::DESCRIPTION)
            .described::<ChatCompletions>(&openai::DESCRIPTION)
            .described::<Responses>(&openai_responses::DESCRIPTION);
        // The named OpenAI-compatible clouds and local servers.
        openai::COMPATIBLE.iter().fold(registry, |registry, cloud| {
            registry.described::<ChatCompletions>(cloud)
        })
    }

    /// `self` with the built-in provider `description` describes, configured from the
    /// environment it names.
    fn described<A: Api>(self, description: &'static Description) -> Registry {
        let mut registry = self.with(description.name, move |options| {
            from_env::<A>(description, options)
        });
        if let Some(entry) = registry.entries.last_mut() {
            entry.environment = Some(description.environment_with(A::OTHER_CREDENTIALS));
        }
        registry
    }

    /// The environment variables the provider registered as `name` reads, as a line
    /// for people (`OPENAI_API_KEY (required unless …), OPENAI_BASE_URL (default …)`);
    /// `None` for one that does not say (an app's own), or an unknown name.
    pub fn environment(&self, name: &str) -> Option<&str> {
        let wanted = name.trim().to_ascii_lowercase();
        self.entries
            .iter()
            .find(|e| e.name == wanted)
            .and_then(|e| e.environment.as_deref())
    }

    /// `self` with `name` mapped to `factory` (replacing an entry of the same name).
    /// Names are matched case-insensitively. The factory is given the caller's
    /// [`ProviderOptions`].
    #[must_use]
    pub fn with<F>(mut self, name: impl Into<String>, factory: F) -> Registry
    where
        F: Fn(&ProviderOptions) -> Result<Box<dyn LlmStreamProvider>> + Send + Sync + 'static,
    {
        let name = name.into().trim().to_ascii_lowercase();
        let factory: Arc<Factory> = Arc::new(factory);
        // A replaced entry goes last, so that `described` finds it there.
        self.entries.retain(|e| e.name != name);
        self.entries.push(Entry {
            name,
            factory,
            environment: None,
        });
        self
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.name.as_str()).collect()
    }

    /// Builds the provider registered as `name`, with default options.
    ///
    /// # Errors
    /// `provider_unavailable` if no provider has that name (the message lists the known
    /// names), or whatever the factory returns (e.g. a missing API key).
    pub fn create(&self, name: &str) -> Result<Box<dyn LlmStreamProvider>> {
        self.create_with(name, &ProviderOptions::default())
    }

    /// Builds the provider registered as `name`, with `options`.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_with(
        &self,
        name: &str,
        options: &ProviderOptions,
    ) -> Result<Box<dyn LlmStreamProvider>> {
        let wanted = name.trim().to_ascii_lowercase();
        match self.entries.iter().find(|e| e.name == wanted) {
            Some(entry) => (entry.factory)(options),
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

    #[test]
    fn names_are_case_insensitive_and_replaceable() {
        let r = Registry::empty()
            .with("One", |_| Ok(Box::new(MockProvider::new())))
            .with("one", |_| {
                Ok(Box::new(MockProvider::builder().default_model("x").build()))
            });
        assert_eq!(r.names(), vec!["one"]);
        assert_eq!(r.create(" ONE ").unwrap().default_model(), "x");
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = Registry::builtin().create("nope").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        for name in Registry::builtin().names() {
            assert!(err.to_string().contains(name), "{err}");
        }
        assert!(format!("{:?}", Registry::builtin()).contains("mock"));
    }

    #[test]
    fn factories_are_given_the_options() {
        let r = Registry::empty().with("probe", |options| {
            let model = format!("{:?}", options.connect_timeout);
            Ok(Box::new(
                MockProvider::builder().default_model(model).build(),
            ))
        });
        let options = ProviderOptions::default().connect_timeout(Duration::from_secs(3));
        assert_eq!(
            r.create_with("probe", &options).unwrap().default_model(),
            "Some(3s)"
        );
    }
}
