//! The settings only the `ollama` provider has, and their setters on its builder (the
//! settings every provider has are [`ProviderBuilder`]'s own), with the names Ollama's
//! users know (`host`, `hosts`).

use std::collections::BTreeMap;

use crate::kit::ProviderBuilder;

use super::keep_alive::KeepAlive;
use super::ApiChat;

/// The settings only [`OllamaProvider`](super::OllamaProvider) has.
#[derive(Debug, Clone, Default)]
pub struct ApiChatSettings {
    pub(crate) keep_alive: Option<KeepAlive>,
    pub(crate) options: BTreeMap<String, serde_json::Value>,
}

impl ProviderBuilder<ApiChat> {
    /// Where the Ollama server is, in any form `OLLAMA_HOST` accepts: `localhost`,
    /// `gpu-box:11500`, `[::1]:8080`, `http://host:port`, `https://example.com/ollama`.
    /// Without a scheme the port defaults to 11434; with `http://` or `https://` it
    /// defaults to 80 or 443, as in Ollama. `0.0.0.0` and `[::]` mean this machine.
    /// The same as [`base_url`](Self::base_url).
    #[must_use]
    pub fn host(self, host: impl Into<String>) -> Self {
        self.base_url(host)
    }

    /// More Ollama servers besides [`host`](Self::host), in the same forms: an endpoint
    /// pool. The same as [`endpoints`](Self::endpoints).
    #[must_use]
    pub fn hosts<S: Into<String>>(self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.endpoints(hosts)
    }

    /// How long Ollama keeps the model loaded after each request: a [`Duration`](std::time::Duration), or
    /// text in Ollama's syntax (`"5m"`, `"-1"` for forever, `"0"` to unload at once).
    /// Unset, the server's default applies (5 minutes, or its `OLLAMA_KEEP_ALIVE`).
    #[must_use]
    pub fn keep_alive(mut self, keep_alive: impl Into<KeepAlive>) -> Self {
        self.own.keep_alive = Some(keep_alive.into());
        self
    }

    /// Send this entry under `options` with every request, e.g. `("num_ctx", 8192)`
    /// or `("top_k", 20)`. A request's own settings win over these: its temperature,
    /// `max_tokens` (`num_predict`), stop sequences and seed.
    #[must_use]
    pub fn option(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.own.options.insert(key.into(), value.into());
        self
    }

    /// The longest line accepted: [`max_frame_bytes`](Self::max_frame_bytes), by the
    /// name it had before every provider's setters agreed.
    #[deprecated(
        since = "0.2.0",
        note = "use max_frame_bytes, which every provider has"
    )]
    #[must_use]
    pub fn max_line_bytes(self, limit: usize) -> Self {
        self.max_frame_bytes(limit)
    }
}
