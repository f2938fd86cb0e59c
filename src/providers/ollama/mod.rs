//! The `ollama` provider: Ollama's native `/api/chat`, streamed as newline-delimited
//! JSON; and [`OllamaProvider::list_models`].
//!
//! Files: this one (the provider, as data), `builder.rs` (its own settings), `host.rs` (the
//! `OLLAMA_HOST` grammar), `keep_alive.rs`, `dialect.rs` (the request, as a kit dialect),
//! `map.rs` (lines to chunks) with `fast.rs` (its fast path for token lines),
//! `errors.rs`, `models.rs` (`/api/tags`), `request.rs` (the request body), `wire.rs`
//! (the reply's serde types).

mod builder;
mod dialect;
mod errors;
pub(crate) mod fast;
mod host;
mod keep_alive;
mod map;
mod models;
mod request;
#[cfg(test)]
mod tests;
pub(crate) mod wire;

use crate::error::Result;
use crate::kit::{Description, KeyHeader, Provider, ProviderBuilder};

pub use builder::ApiChatSettings;
pub use dialect::ApiChat;
pub use keep_alive::KeepAlive;
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use map::LineDecoder;
pub use models::{LocalModel, LocalModelDetails};

/// The Ollama provider: chats with a local (or remote) Ollama server through its native
/// `/api/chat` endpoint, streaming tokens as Ollama produces them.
///
/// Free to use ([`Pricing::Free`](crate::pricing::Pricing::Free)) and needs no API key. Token counts and Ollama's own
/// timings (model load, prompt evaluation, generation) are taken from the final line of
/// the reply. Cheap to clone (the configuration is shared).
///
/// Where the server is comes from [`host`](ProviderBuilder::host), or from
/// `OLLAMA_HOST` with [`from_env`](Self::from_env), read the way the `ollama` CLI reads
/// it: `localhost`, `gpu-box:11500`, `[::1]:8080`, `http://host:port`,
/// `https://example.com/ollama` (a path prefix behind a proxy); `0.0.0.0` and `[::]`
/// mean this machine.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::{LlmStreamProvider, OllamaProvider};
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = OllamaProvider::new()?;
/// assert_eq!(llm.default_model(), "qwen2.5:0.5b");
/// assert_eq!(llm.host(), "http://localhost:11434");
///
/// let remote = OllamaProvider::builder()
///     .host("gpu-box:11500")
///     .default_model("llama3.2")
///     .keep_alive("30m") // keep the model loaded for 30 minutes after each request
///     .option("num_ctx", 8192) // any Ollama option, sent under `options`
///     .idle_timeout(Duration::from_secs(30))
///     .build()?;
/// assert_eq!(remote.host(), "http://gpu-box:11500");
/// assert_eq!(remote.default_model(), "llama3.2");
/// # Ok(())
/// # }
/// ```
///
/// Errors are classified for Ollama: a model that has not been pulled is
/// [`ErrorKind::ModelNotFound`](crate::ErrorKind::ModelNotFound) with the `ollama pull` command to run; a daemon that is
/// not running is [`ErrorKind::ProviderUnavailable`](crate::ErrorKind::ProviderUnavailable) suggesting `ollama serve`; a busy
/// server (HTTP 503, `server busy`) is [`ErrorKind::Server`](crate::ErrorKind::Server) and worth retrying later;
/// an error Ollama reports after the reply started ends the stream with an
/// [`ErrorKind::Server`](crate::ErrorKind::Server) error, never with a truncated success.
///
/// A key is not needed by a local Ollama; one set with `api_key` (or `OLLAMA_API_KEY`)
/// is sent as `Authorization: Bearer …`, for ollama.com or a server behind a gateway.
pub type OllamaProvider = Provider<ApiChat>;

/// Builds an [`OllamaProvider`].
pub type OllamaProviderBuilder = ProviderBuilder<ApiChat>;

/// What the `ollama` provider is.
pub(crate) static DESCRIPTION: Description = Description {
    name: "ollama",
    type_name: "OllamaProvider",
    default_base_url: "http://localhost:11434",
    base_url_name: "host",
    default_model: "qwen2.5:0.5b",
    base_url_vars: &["OLLAMA_HOST"],
    key_vars: &["OLLAMA_API_KEY"],
    key_header: KeyHeader::Bearer,
    other_keys: &[],
    key_required: false,
    default_headers: &[],
    example_base_urls: "http://localhost:11434",
    unreachable_hint: Some("Is Ollama running? Start it with `ollama serve` (or open the Ollama app), or set OLLAMA_HOST to where it listens"),
    prices: None,
    free: true,
};

impl Provider<ApiChat> {
    /// Where Ollama listens by default (what the `ollama` CLI connects to when
    /// `OLLAMA_HOST` is not set).
    pub const DEFAULT_HOST: &'static str = "http://localhost:11434";

    /// A provider for the Ollama server at [`DEFAULT_HOST`](Self::DEFAULT_HOST) with the
    /// default model. It does not read `OLLAMA_HOST`; [`from_env`](Self::from_env) does.
    ///
    /// # Errors
    /// `provider_unavailable` if the HTTP client cannot be built.
    pub fn new() -> Result<OllamaProvider> {
        OllamaProvider::builder().build()
    }

    /// The server's URL, normalized: scheme, host, port and path prefix, no trailing
    /// slash (`http://127.0.0.1:11434`). Requests go to `{host}/api/chat`.
    pub fn host(&self) -> &str {
        self.base_url()
    }
}
