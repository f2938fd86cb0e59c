//! The `ollama` provider: Ollama's native `/api/chat`, streamed as newline-delimited
//! JSON; and [`OllamaProvider::list_models`].
//!
//! Files: this one (the provider and the environment), `builder.rs`, `host.rs` (the
//! `OLLAMA_HOST` grammar), `keep_alive.rs`, `dialect.rs` (the request, as a kit dialect),
//! `map.rs` (lines to chunks) with `fast.rs` (its fast path for token lines),
//! `errors.rs`, `models.rs` (`/api/tags`), `request.rs` (the request body), `wire.rs`
//! (the reply's serde types).

mod builder;
mod dialect;
mod errors;
mod fast;
mod host;
mod keep_alive;
mod map;
mod models;
mod request;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;

use crate::error::Result;
use crate::kit::HttpProvider;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;
use crate::stream::ChatStream;

pub use builder::OllamaProviderBuilder;
use dialect::ApiChat;
pub use keep_alive::KeepAlive;
pub(crate) use map::{fast_path_agrees_with_serde, same_shape_agrees, LineDecoder};
pub use models::{LocalModel, LocalModelDetails};

/// The Ollama provider: chats with a local (or remote) Ollama server through its native
/// `/api/chat` endpoint, streaming tokens as Ollama produces them.
///
/// Free to use ([`Pricing::Free`](crate::pricing::Pricing::Free)) and needs no API key. Token counts and Ollama's own
/// timings (model load, prompt evaluation, generation) are taken from the final line of
/// the reply. Cheap to clone (the configuration is shared).
///
/// Where the server is comes from [`host`](OllamaProviderBuilder::host), or from
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
#[derive(Clone)]
pub struct OllamaProvider {
    pub(crate) http: HttpProvider<ApiChat>,
}

impl OllamaProvider {
    /// The provider's name.
    pub const NAME: &'static str = "ollama";
    /// The default model: small enough to pull and run anywhere.
    pub const DEFAULT_MODEL: &'static str = "qwen2.5:0.5b";
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

    /// A builder for every setting.
    pub fn builder() -> OllamaProviderBuilder {
        OllamaProviderBuilder::default()
    }

    /// Configured from the environment: `OLLAMA_HOST` (default `http://localhost:11434`), read
    /// as the `ollama` CLI reads it.
    ///
    /// # Errors
    /// `invalid_request` naming `OLLAMA_HOST` and its value when it cannot be used.
    pub fn from_env() -> Result<OllamaProvider> {
        OllamaProvider::from_lookup(|name| std::env::var(name).ok())
    }

    /// A builder preset from the environment (`OLLAMA_HOST`), to adjust before
    /// `build()`: e.g. the CLI's `--connect-timeout`. Errors are reported by `build()`.
    pub fn builder_from_env() -> OllamaProviderBuilder {
        OllamaProvider::builder_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with a custom variable lookup.
    pub(crate) fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<OllamaProvider> {
        OllamaProvider::builder_from_lookup(var).build()
    }

    /// [`builder_from_env`](Self::builder_from_env) with a custom variable lookup.
    pub(crate) fn builder_from_lookup(
        var: impl Fn(&str) -> Option<String>,
    ) -> OllamaProviderBuilder {
        let mut builder = OllamaProvider::builder();
        if let Some(host) = var("OLLAMA_HOST").filter(|h| !h.trim().is_empty()) {
            builder = builder.host(host);
            builder.host_from_env = true;
        }
        builder
    }

    /// The server's URL, normalized: scheme, host, port and path prefix, no trailing
    /// slash (`http://127.0.0.1:11434`). Requests go to `{host}/api/chat`.
    pub fn host(&self) -> &str {
        self.http.base_url()
    }
}

impl fmt::Debug for OllamaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dialect = self.http.dialect();
        f.debug_struct("OllamaProvider")
            .field("host", &self.host())
            .field("default_model", &self.default_model())
            .field("keep_alive", &dialect.keep_alive)
            .field("options", &dialect.options)
            .field("settings", &self.http.shared.settings)
            .finish_non_exhaustive()
    }
}

impl LlmStreamProvider for OllamaProvider {
    fn name(&self) -> &str {
        OllamaProvider::NAME
    }

    fn default_model(&self) -> &str {
        self.http.default_model()
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        self.http.stream_chat(request)
    }
}
