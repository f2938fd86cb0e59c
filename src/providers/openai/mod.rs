//! The `openai` provider: the Chat Completions API streamed over Server-Sent Events,
//! for api.openai.com and every OpenAI-compatible server (llama.cpp, vLLM, LM Studio,
//! Ollama's `/v1`, hosted gateways).
//!
//! Files: this one (the provider, as data), `builder.rs` (its own settings), `dialect.rs` (the
//! API as a kit dialect), `request.rs` (the request body), `map.rs` (SSE data to chunks)
//! with `tool_calls.rs` (streamed tool calls assembled), `errors.rs`, `wire.rs` (the
//! reply's serde types).

mod builder;
mod compatible;
mod dialect;
pub(crate) mod errors;
pub(crate) mod fast;
mod map;
mod request;
#[cfg(test)]
mod tests;
mod tool_calls;
pub(crate) mod wire;

use crate::error::Result;
use crate::kit::{Description, KeyHeader, Provider, ProviderBuilder};
use crate::pricing::PriceTable;

pub use builder::ChatCompletionsSettings;
pub(crate) use compatible::COMPATIBLE;
pub use dialect::ChatCompletions;
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use map::SseDecoder;

/// Base URLs to suggest when one is not usable.
const EXAMPLE_BASE_URL: &str = "https://api.openai.com/v1 or http://localhost:8080/v1";

/// The OpenAI Chat Completions provider: api.openai.com by default, and every
/// OpenAI-compatible server (`OPENAI_BASE_URL`). The API key (`OPENAI_API_KEY`) is sent
/// as `Authorization: Bearer …`; it is required except for a server on this machine.
///
/// Cheap to clone (the configuration is shared). The key never appears in `Debug`, logs
/// or error messages. Its builder is [`OpenAiProviderBuilder`]: the settings every
/// provider has, and [`stream_options`](ProviderBuilder::stream_options).
///
/// ```
/// use theory_llm::{LlmStreamProvider, OpenAiProvider};
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = OpenAiProvider::new("sk-example")?;
/// assert_eq!(llm.default_model(), "gpt-4o-mini");
/// assert!(!format!("{llm:?}").contains("sk-example"));
///
/// // Any OpenAI-compatible server, e.g. a local llama.cpp server:
/// let local = OpenAiProvider::builder()
///     .api_key("none")
///     .base_url("http://127.0.0.1:8080/v1/")
///     .default_model("smollm2")
///     .build()?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080/v1");
/// # Ok(())
/// # }
/// ```
pub type OpenAiProvider = Provider<ChatCompletions>;

/// Builds an [`OpenAiProvider`].
pub type OpenAiProviderBuilder = ProviderBuilder<ChatCompletions>;

/// What the `openai` provider is.
pub(crate) static DESCRIPTION: Description = Description {
    name: "openai",
    type_name: "OpenAiProvider",
    default_base_url: "https://api.openai.com/v1",
    base_url_name: "base URL",
    default_model: "gpt-4o-mini",
    base_url_vars: &["OPENAI_BASE_URL"],
    key_vars: &["OPENAI_API_KEY"],
    key_header: KeyHeader::Bearer,
    other_keys: &[],
    key_required: true,
    default_headers: &[],
    example_base_urls: EXAMPLE_BASE_URL,
    unreachable_hint: None,
    prices: Some(PriceTable::openai),
    free: false,
};

impl Provider<ChatCompletions> {
    /// A provider for api.openai.com with `api_key` and the defaults.
    ///
    /// # Errors
    /// `invalid_request` if the key is empty; `provider_unavailable` if the HTTP client
    /// cannot be built.
    pub fn new(api_key: impl Into<String>) -> Result<OpenAiProvider> {
        OpenAiProvider::builder().api_key(api_key).build()
    }

    /// The named OpenAI-compatible providers (`groq`, `deepseek`, `openrouter`,
    /// `together`, `fireworks`, `mistral`, `xai`, `cerebras`, and the local servers
    /// `vllm`, `lmstudio`, `llamacpp`): each is this provider with its own base URL, key
    /// variable (`GROQ_API_KEY`, …; none for the local ones), default model and prices,
    /// and reports its own name in replies, errors and spans.
    pub fn compatible_names() -> impl Iterator<Item = &'static str> {
        compatible::COMPATIBLE.iter().map(|d| d.name)
    }

    /// A builder for the named compatible provider (see
    /// [`compatible_names`](Self::compatible_names)), preset to its base URL, default
    /// model and prices; no environment variable is read. `None` for another name.
    ///
    /// ```
    /// use theory_llm::{LlmStreamProvider, OpenAiProvider};
    ///
    /// # fn main() -> theory_llm::Result<()> {
    /// let groq = OpenAiProvider::compatible("groq").unwrap().api_key("gsk-example").build()?;
    /// assert_eq!(groq.name(), "groq");
    /// assert_eq!(groq.base_url(), "https://api.groq.com/openai/v1");
    /// # Ok(())
    /// # }
    /// ```
    pub fn compatible(name: &str) -> Option<OpenAiProviderBuilder> {
        compatible::named(name).map(ProviderBuilder::described)
    }

    /// [`compatible`](Self::compatible), preset from the provider's environment
    /// variables (`GROQ_API_KEY`, `GROQ_BASE_URL`, …), as the registry makes it.
    pub fn compatible_from_env(name: &str) -> Option<OpenAiProviderBuilder> {
        let description = compatible::named(name)?;
        Some(ProviderBuilder::from_lookup(description, |var| {
            std::env::var(var).ok()
        }))
    }
}
