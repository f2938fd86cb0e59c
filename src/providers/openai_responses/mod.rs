//! The `openai-responses` provider: OpenAI's Responses API (`POST {base}/responses`)
//! streamed over Server-Sent Events, with typed events and no `[DONE]`. It takes the
//! same configuration as `openai` (`OPENAI_API_KEY`, `OPENAI_BASE_URL`), and shares its
//! account checks and error rules (`providers/openai/{account,errors}.rs`).
//!
//! Files: this one (the provider and the environment), `builder.rs`, `dialect.rs` (the
//! API as a kit dialect), `request.rs` (the request body), `map.rs` (events to chunks),
//! `errors.rs` (error events), `wire.rs` (the events' serde types).
//!
//! Structured output is sent as `text.format`. llama.cpp's server ignores that field on
//! this endpoint, so the provider also sends llama.cpp's own `json_schema` to every
//! server but api.openai.com (see
//! [`json_schema_extension`](OpenAiResponsesProviderBuilder::json_schema_extension)).

mod builder;
mod dialect;
mod errors;
mod map;
mod request;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;
use std::sync::atomic::Ordering;

use crate::error::Result;
use crate::kit::HttpProvider;
use crate::provider::LlmStreamProvider;
use crate::providers::openai::account::AccountSettings;
use crate::request::ChatRequest;
use crate::stream::ChatStream;

pub use builder::OpenAiResponsesProviderBuilder;
use dialect::Responses;
pub(crate) use map::ResponsesDecoder;

/// The OpenAI Responses API provider.
///
/// Cheap to clone (the configuration is shared). The API key is sent as
/// `Authorization: Bearer …` and never appears in `Debug`, logs or error messages.
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
#[derive(Clone)]
pub struct OpenAiResponsesProvider {
    http: HttpProvider<Responses>,
}

impl OpenAiResponsesProvider {
    /// The provider's name.
    pub const NAME: &'static str = "openai-responses";
    /// The default model.
    pub const DEFAULT_MODEL: &'static str = "gpt-4o-mini";
    /// The default base URL.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.openai.com/v1";

    /// A provider for api.openai.com with `api_key` and the defaults.
    ///
    /// # Errors
    /// `invalid_request` if the key is empty; `provider_unavailable` if the HTTP client
    /// cannot be built.
    pub fn new(api_key: impl Into<String>) -> Result<OpenAiResponsesProvider> {
        OpenAiResponsesProvider::builder().api_key(api_key).build()
    }

    /// A builder for every setting.
    pub fn builder() -> OpenAiResponsesProviderBuilder {
        OpenAiResponsesProviderBuilder::default()
    }

    /// Configured from the environment: `OPENAI_API_KEY` (required unless
    /// `OPENAI_BASE_URL` points at this machine) and `OPENAI_BASE_URL` (default
    /// `https://api.openai.com/v1`), as for the `openai` provider.
    ///
    /// # Errors
    /// `provider_unavailable` naming `OPENAI_API_KEY` when it is needed and not set;
    /// `invalid_request` when `OPENAI_BASE_URL` is not a valid http(s) URL.
    pub fn from_env() -> Result<OpenAiResponsesProvider> {
        OpenAiResponsesProvider::builder_from_env().build()
    }

    /// A builder preset from the environment, to adjust before `build()`.
    pub fn builder_from_env() -> OpenAiResponsesProviderBuilder {
        OpenAiResponsesProvider::builder_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`builder_from_env`](Self::builder_from_env) with a custom variable lookup.
    pub(crate) fn builder_from_lookup(
        var: impl Fn(&str) -> Option<String>,
    ) -> OpenAiResponsesProviderBuilder {
        let mut builder = OpenAiResponsesProvider::builder();
        builder.account = AccountSettings::from_lookup(var, &mut builder.common);
        builder
    }

    /// The base URL requests go to (no trailing slash), with the password of any user
    /// info in it redacted.
    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }
}

impl fmt::Debug for OpenAiResponsesProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dialect = self.http.dialect();
        f.debug_struct("OpenAiResponsesProvider")
            .field("api_key", &"[REDACTED]")
            .field("base_url", &self.base_url())
            .field("default_model", &self.default_model())
            .field(
                "json_schema_extension",
                &dialect.schema_extension.load(Ordering::Relaxed),
            )
            .field("settings", &self.http.shared.settings)
            .finish_non_exhaustive()
    }
}

impl LlmStreamProvider for OpenAiResponsesProvider {
    fn name(&self) -> &str {
        OpenAiResponsesProvider::NAME
    }

    fn default_model(&self) -> &str {
        self.http.default_model()
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        self.http.stream_chat(request)
    }
}
