//! The `openai` provider: the Chat Completions API streamed over Server-Sent Events,
//! for api.openai.com and every OpenAI-compatible server (llama.cpp, vLLM, LM Studio,
//! Ollama's `/v1`, hosted gateways).
//!
//! Files: this one (the provider and the environment), `builder.rs`, `dialect.rs` (the
//! API as a kit dialect), `request.rs` (the request body), `map.rs` (SSE data to chunks)
//! with `tool_calls.rs` (streamed tool calls assembled), `errors.rs`, `wire.rs` (the
//! reply's serde types).

pub(crate) mod account;
mod builder;
mod dialect;
pub(crate) mod errors;
mod fast;
mod map;
mod request;
#[cfg(test)]
mod tests;
mod tool_calls;
mod wire;

use std::fmt;
use std::sync::atomic::Ordering;

use reqwest::header::HeaderName;

use crate::error::Result;
use crate::kit::HttpProvider;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;
use crate::stream::ChatStream;

pub use builder::OpenAiProviderBuilder;
use dialect::ChatCompletions;
pub(crate) use map::{fast_path_agrees_with_serde, same_shape_agrees, SseDecoder};

/// The OpenAI Chat Completions provider.
///
/// Cheap to clone (the configuration is shared). The API key is sent as
/// `Authorization: Bearer …` and never appears in `Debug`, logs or error messages.
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
#[derive(Clone)]
pub struct OpenAiProvider {
    http: HttpProvider<ChatCompletions>,
}

impl OpenAiProvider {
    /// The provider's name.
    pub const NAME: &'static str = "openai";
    /// The default model.
    pub const DEFAULT_MODEL: &'static str = "gpt-4o-mini";
    /// The default base URL.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.openai.com/v1";

    /// A provider for api.openai.com with `api_key` and the defaults.
    ///
    /// # Errors
    /// `invalid_request` if the key is empty; `provider_unavailable` if the HTTP client
    /// cannot be built.
    pub fn new(api_key: impl Into<String>) -> Result<OpenAiProvider> {
        OpenAiProvider::builder().api_key(api_key).build()
    }

    /// A builder for every setting.
    pub fn builder() -> OpenAiProviderBuilder {
        OpenAiProviderBuilder::default()
    }

    /// Configured from the environment: `OPENAI_API_KEY` (required) and
    /// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`).
    ///
    /// # Errors
    /// `provider_unavailable` naming `OPENAI_API_KEY` when it is not set (unless
    /// `OPENAI_BASE_URL` points at this machine: local servers usually need no key);
    /// `invalid_request` when `OPENAI_BASE_URL` is not a valid http(s) URL.
    pub fn from_env() -> Result<OpenAiProvider> {
        OpenAiProvider::builder_from_env().build()
    }

    /// A builder preset from the environment (as [`from_env`](Self::from_env) reads it),
    /// to adjust before `build()`, which reports what is missing.
    pub fn builder_from_env() -> OpenAiProviderBuilder {
        OpenAiProvider::builder_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`builder_from_env`](Self::builder_from_env) with a custom variable lookup.
    pub(crate) fn builder_from_lookup(
        var: impl Fn(&str) -> Option<String>,
    ) -> OpenAiProviderBuilder {
        let mut builder = OpenAiProvider::builder();
        builder.account = account::AccountSettings::from_lookup(var, &mut builder.common);
        builder
    }

    /// The base URL requests go to (no trailing slash), with the password of any user
    /// info in it redacted.
    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }
}

impl fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dialect = self.http.dialect();
        f.debug_struct("OpenAiProvider")
            .field("api_key", &"[REDACTED]")
            .field("base_url", &self.base_url())
            .field("default_model", &self.default_model())
            .field(
                "extra_headers",
                &dialect
                    .account
                    .headers
                    .keys()
                    .map(HeaderName::as_str)
                    .collect::<Vec<_>>(),
            )
            .field(
                "stream_options",
                &dialect.stream_options.load(Ordering::Relaxed),
            )
            .field("settings", &self.http.shared.settings)
            .finish_non_exhaustive()
    }
}

impl LlmStreamProvider for OpenAiProvider {
    fn name(&self) -> &str {
        OpenAiProvider::NAME
    }

    fn default_model(&self) -> &str {
        self.http.default_model()
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        self.http.stream_chat(request)
    }
}
