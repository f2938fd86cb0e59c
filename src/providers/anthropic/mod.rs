//! The `anthropic` provider: the Messages API (`POST /v1/messages`) streamed over
//! Server-Sent Events, for api.anthropic.com and the servers that speak it (llama.cpp's
//! `llama-server`).
//!
//! Files: this one (the provider, as data), `builder.rs` (its own settings), `dialect.rs` (the
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

use crate::error::Result;
use crate::kit::{Description, KeyHeader, Provider, ProviderBuilder};
use crate::pricing::PriceTable;

pub use builder::MessagesSettings;
pub use dialect::Messages;
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use map::MessagesDecoder;

/// The Anthropic Messages API provider.
///
/// Cheap to clone (the configuration is shared). The API key is sent as `x-api-key`
/// and never appears in `Debug`, logs or error messages. Every request carries
/// `max_tokens` (the API requires it): the request's, else
/// [`DEFAULT_MAX_TOKENS`](Self::DEFAULT_MAX_TOKENS) or the builder's
/// [`default_max_tokens`](ProviderBuilder::default_max_tokens).
///
/// Replies keep what the next turn needs: thinking blocks with their signatures go to
/// [`Finish::reasoning_blocks`](crate::stream::Finish::reasoning_blocks), so that
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
pub type AnthropicProvider = Provider<Messages>;

/// Builds an [`AnthropicProvider`].
pub type AnthropicProviderBuilder = ProviderBuilder<Messages>;

/// The API version every request names (`anthropic-version`), unless the builder's
/// headers name another.
pub(crate) const API_VERSION: &str = "2023-06-01";

/// What the `anthropic` provider is.
pub(crate) static DESCRIPTION: Description = Description {
    name: "anthropic",
    type_name: "AnthropicProvider",
    default_base_url: "https://api.anthropic.com",
    base_url_name: "base URL",
    default_model: "claude-haiku-5-5",
    base_url_vars: &["ANTHROPIC_BASE_URL"],
    key_vars: &["ANTHROPIC_API_KEY"],
    key_header: KeyHeader::Named("x-api-key"),
    other_keys: &[],
    key_required: true,
    default_headers: &[("anthropic-version", API_VERSION)],
    example_base_urls: "https://api.anthropic.com or http://localhost:8080",
    unreachable_hint: None,
    prices: Some(PriceTable::anthropic),
    free: false,
};

impl Provider<Messages> {
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
}
