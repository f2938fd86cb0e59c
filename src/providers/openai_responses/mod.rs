//! The `openai-responses` provider: OpenAI's Responses API (`POST {base}/responses`)
//! streamed over Server-Sent Events, with typed events and no `[DONE]`. It takes the
//! same configuration as `openai` (`OPENAI_API_KEY`, `OPENAI_BASE_URL`), and shares its
//! account checks and error rules (`providers/openai/{account,errors}.rs`).
//!
//! Files: this one (the provider, as data), `builder.rs` (its own settings), `dialect.rs` (the
//! API as a kit dialect), `request.rs` (the request body), `map.rs` (events to chunks),
//! `errors.rs` (error events), `wire.rs` (the events' serde types).
//!
//! Structured output is sent as `text.format`. llama.cpp's server ignores that field on
//! this endpoint, so the provider also sends llama.cpp's own `json_schema` to every
//! server but api.openai.com (see
//! [`json_schema_extension`](crate::kit::ProviderBuilder::json_schema_extension)).

mod builder;
mod calls;
mod dialect;
mod errors;
mod map;
mod request;
#[cfg(test)]
mod tests;
mod wire;

use crate::error::Result;
use crate::kit::{Description, Provider, ProviderBuilder};
use crate::providers::openai;

pub use builder::ResponsesSettings;
pub use dialect::Responses;
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use map::ResponsesDecoder;

/// The OpenAI Responses API provider. It takes the `openai` provider's configuration:
/// `OPENAI_API_KEY` (sent as `Authorization: Bearer …`; required except for a server on
/// this machine) and `OPENAI_BASE_URL` (default `https://api.openai.com/v1`).
///
/// Cheap to clone (the configuration is shared). The key never appears in `Debug`, logs
/// or error messages. Its builder is [`OpenAiResponsesProviderBuilder`]: the settings
/// every provider has, and
/// [`json_schema_extension`](ProviderBuilder::json_schema_extension).
///
/// ```
/// use theory_llm::{LlmStreamProvider, OpenAiResponsesProvider};
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = OpenAiResponsesProvider::new("sk-example")?;
/// assert_eq!(llm.name(), "openai-responses");
/// assert!(!format!("{llm:?}").contains("sk-example"));
///
/// // A local llama.cpp server, which serves /v1/responses too:
/// let local = OpenAiResponsesProvider::builder()
///     .base_url("http://127.0.0.1:8080/v1")
///     .default_model("smollm2")
///     .build()?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080/v1");
/// # Ok(())
/// # }
/// ```
pub type OpenAiResponsesProvider = Provider<Responses>;

/// Builds an [`OpenAiResponsesProvider`].
pub type OpenAiResponsesProviderBuilder = ProviderBuilder<Responses>;

/// What the `openai-responses` provider is: the `openai` provider's account (key, base
/// URL, prices), another API.
pub(crate) static DESCRIPTION: Description = Description {
    name: "openai-responses",
    type_name: "OpenAiResponsesProvider",
    ..openai::DESCRIPTION
};

impl Provider<Responses> {
    /// A provider for api.openai.com with `api_key` and the defaults.
    ///
    /// # Errors
    /// `invalid_request` if the key is empty; `provider_unavailable` if the HTTP client
    /// cannot be built.
    pub fn new(api_key: impl Into<String>) -> Result<OpenAiResponsesProvider> {
        OpenAiResponsesProvider::builder().api_key(api_key).build()
    }
}
