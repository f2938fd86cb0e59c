//! The `gemini` provider: the Gemini API (`POST
//! /v1beta/models/{model}:streamGenerateContent?alt=sse`), streamed over Server-Sent
//! Events, the key in the `x-goog-api-key` header (never in the URL, where proxies and
//! logs keep it).
//!
//! Files: this one (the provider, as data), `dialect.rs` (the API as a kit dialect:
//! path, errors), `request.rs` (the request body) with `contents.rs` (the conversation,
//! thought signatures sent back), `map.rs` (SSE data to chunks) with `parts.rs` (text,
//! thoughts, function calls and their signatures), `errors.rs` (Google's error bodies
//! and `RetryInfo`), `wire.rs` (the reply's serde types).

mod contents;
mod dialect;
mod errors;
mod map;
mod parts;
mod request;
#[cfg(test)]
mod tests;
mod wire;

use crate::kit::{Description, KeyHeader, Provider, ProviderBuilder};
use crate::pricing::PriceTable;

pub use dialect::{GeminiDialect, GeminiSettings};
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use map::GeminiDecoder;

/// The Gemini API provider: `GEMINI_API_KEY` (else `GOOGLE_API_KEY`), sent as
/// `x-goog-api-key` and required except for a server on this machine;
/// `GEMINI_BASE_URL` (default `https://generativelanguage.googleapis.com`).
///
/// Everything the crate maps is mapped: the system instruction, whole conversations,
/// images (`inlineData`, `fileData` for URLs), the sampling settings, tools
/// (`functionDeclarations`, `toolConfig`), structured output (`responseJsonSchema`),
/// reasoning (`thinkingConfig`; thoughts stream as reasoning, and thought signatures go
/// back with the next turn through
/// [`ChatReply::into_message`](crate::ChatReply::into_message)). Usage comes from
/// `usageMetadata` (thinking counted as output, cache reads apart).
///
/// ```
/// use theory_llm::gemini::GeminiProvider;
/// use theory_llm::LlmStreamProvider;
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = GeminiProvider::builder().api_key("example-key").build()?;
/// assert_eq!(llm.name(), "gemini");
/// assert_eq!(llm.base_url(), "https://generativelanguage.googleapis.com");
/// assert!(!format!("{llm:?}").contains("example-key"));
/// # Ok(())
/// # }
/// ```
pub type GeminiProvider = Provider<GeminiDialect>;

/// Builds a [`GeminiProvider`].
pub type GeminiProviderBuilder = ProviderBuilder<GeminiDialect>;

/// The provider's name, as its messages give it.
pub(crate) const NAME: &str = "gemini";

/// What the `gemini` provider is.
pub(crate) static DESCRIPTION: Description = Description {
    name: NAME,
    type_name: "GeminiProvider",
    default_base_url: "https://generativelanguage.googleapis.com",
    base_url_name: "base URL",
    default_model: "gemini-3.8-flash",
    base_url_vars: &["GEMINI_BASE_URL"],
    key_vars: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    key_header: KeyHeader::Named("x-goog-api-key"),
    other_keys: &[],
    key_required: true,
    default_headers: &[],
    example_base_urls: "https://generativelanguage.googleapis.com or http://localhost:8000",
    unreachable_hint: None,
    prices: Some(PriceTable::gemini),
    free: false,
};
