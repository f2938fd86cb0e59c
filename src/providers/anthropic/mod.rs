//! The `anthropic` provider: the Messages API (`POST /v1/messages`) streamed over
//! Server-Sent Events, for api.anthropic.com and the servers that speak it (llama.cpp's
//! `llama-server`).
//!
//! Files: this one (the provider and the environment), `builder.rs`, `dialect.rs` (the
//! API as a kit dialect), `request.rs` (the request body, and how structured output is
//! asked for), `map.rs` (SSE data to chunks) with `blocks.rs` (content blocks tracked
//! by index: thinking with its signature, tool calls assembled), `errors.rs`, `wire.rs`
//! (the reply's serde types).

mod blocks;
mod builder;
mod dialect;
mod errors;
mod map;
mod request;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;

use reqwest::header::HeaderName;

use crate::error::Result;
use crate::kit::HttpProvider;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;
use crate::stream::ChatStream;

pub use builder::AnthropicProviderBuilder;
use dialect::Messages;
pub(crate) use map::MessagesDecoder;

/// The Anthropic Messages API provider.
///
/// Cheap to clone (the configuration is shared). The API key is sent as `x-api-key`
/// and never appears in `Debug`, logs or error messages. Every request carries
/// `max_tokens` (the API requires it): the request's, else
/// [`DEFAULT_MAX_TOKENS`](Self::DEFAULT_MAX_TOKENS) or the builder's
/// [`default_max_tokens`](AnthropicProviderBuilder::default_max_tokens).
///
/// Replies keep what the next turn needs: thinking blocks with their signatures go to
/// [`Finish::reasoning_blocks`](crate::Finish::reasoning_blocks), so that
/// [`ChatReply::into_message`](crate::ChatReply::into_message) sends them back, as a
/// tool loop with thinking on requires. Usage counts the cache apart, as Anthropic
/// does: `tokens_in` is the input plus the cache reads and writes, which are also
/// reported on their own.
///
/// Structured output: a JSON Schema is sent as the API's native JSON outputs
/// (`output_config.format`), whose JSON streams as text for
/// [`ChatReply::json`](crate::ChatReply::json); JSON mode, which the API lacks, is an
/// instruction in the system prompt (see `request.rs` for why).
///
/// ```
/// use theory_llm::anthropic::AnthropicProvider;
/// use theory_llm::LlmStreamProvider;
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = AnthropicProvider::new("sk-ant-example")?;
/// assert_eq!(llm.default_model(), "claude-haiku-5-5");
/// assert_eq!(llm.base_url(), "https://api.anthropic.com");
/// assert!(!format!("{llm:?}").contains("sk-ant-example"));
///
/// // llama.cpp's server speaks the Messages API too, and needs no key:
/// let local = AnthropicProvider::builder()
///     .base_url("http://127.0.0.1:8080")
///     .default_model("smollm2")
///     .build()?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AnthropicProvider {
    http: HttpProvider<Messages>,
}

impl AnthropicProvider {
    /// The provider's name.
    pub const NAME: &'static str = "anthropic";
    /// The default model.
    pub const DEFAULT_MODEL: &'static str = "claude-haiku-5-5";
    /// The default base URL (requests go to `{base}/v1/messages`).
    pub const DEFAULT_BASE_URL: &'static str = "https://api.anthropic.com";
    /// The `max_tokens` sent when a request sets none: the API requires one.
    pub const DEFAULT_MAX_TOKENS: u32 = 4096;

    /// A provider for api.anthropic.com with `api_key` and the defaults.
    ///
    /// # Errors
    /// `invalid_request` if the key is empty; `provider_unavailable` if the HTTP client
    /// cannot be built.
    pub fn new(api_key: impl Into<String>) -> Result<AnthropicProvider> {
        AnthropicProvider::builder().api_key(api_key).build()
    }

    /// A builder for every setting.
    pub fn builder() -> AnthropicProviderBuilder {
        AnthropicProviderBuilder::default()
    }

    /// Configured from the environment: `ANTHROPIC_API_KEY` (required) and
    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
    ///
    /// # Errors
    /// `provider_unavailable` naming `ANTHROPIC_API_KEY` when it is not set (unless
    /// `ANTHROPIC_BASE_URL` points at this machine: local servers usually need no key);
    /// `invalid_request` when `ANTHROPIC_BASE_URL` is not a valid http(s) URL.
    pub fn from_env() -> Result<AnthropicProvider> {
        AnthropicProvider::builder_from_env().build()
    }

    /// A builder preset from the environment (as [`from_env`](Self::from_env) reads it),
    /// to adjust before `build()`, which reports what is missing.
    pub fn builder_from_env() -> AnthropicProviderBuilder {
        AnthropicProvider::builder_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`builder_from_env`](Self::builder_from_env) with a custom variable lookup.
    pub(crate) fn builder_from_lookup(
        var: impl Fn(&str) -> Option<String>,
    ) -> AnthropicProviderBuilder {
        let mut builder = AnthropicProvider::builder();
        builder.from_env = true;
        if let Some(key) = var("ANTHROPIC_API_KEY").filter(|k| !k.trim().is_empty()) {
            builder = builder.api_key(key);
        }
        if let Some(base) = var("ANTHROPIC_BASE_URL").filter(|b| !b.trim().is_empty()) {
            builder = builder.base_url(base);
            builder.common.base_url_source = Some("ANTHROPIC_BASE_URL");
        }
        builder
    }

    /// The base URL requests go to (no trailing slash), with the password of any user
    /// info in it redacted.
    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }
}

impl fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dialect = self.http.dialect();
        f.debug_struct("AnthropicProvider")
            .field("api_key", &"[REDACTED]")
            .field("base_url", &self.base_url())
            .field("default_model", &self.default_model())
            .field("default_max_tokens", &dialect.max_tokens)
            .field(
                "extra_headers",
                &dialect
                    .headers
                    .keys()
                    .map(HeaderName::as_str)
                    .collect::<Vec<_>>(),
            )
            .field("settings", &self.http.shared.settings)
            .finish_non_exhaustive()
    }
}

impl LlmStreamProvider for AnthropicProvider {
    fn name(&self) -> &str {
        AnthropicProvider::NAME
    }

    fn default_model(&self) -> &str {
        self.http.default_model()
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        self.http.stream_chat(request)
    }
}
