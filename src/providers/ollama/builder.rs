//! [`OllamaProviderBuilder`]: every setting of the Ollama provider, checked by `build`.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::kit::Common;
use crate::redact::redact_url;

use super::dialect::ApiChat;
use super::host::parse_host;
use super::keep_alive::KeepAlive;
use super::OllamaProvider;

/// Builds an [`OllamaProvider`]. Errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct OllamaProviderBuilder {
    host: Option<String>,
    /// More hosts: an endpoint pool.
    more_hosts: Vec<String>,
    pub(crate) host_from_env: bool,
    keep_alive: Option<KeepAlive>,
    options: BTreeMap<String, serde_json::Value>,
    max_line_bytes: Option<usize>,
    common: Common,
}

impl fmt::Debug for OllamaProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The host as given may hold a password (refused by `build`): never shown.
        f.debug_struct("OllamaProviderBuilder")
            .field("host", &self.host.as_deref().map(redact_url))
            .field(
                "more_hosts",
                &self
                    .more_hosts
                    .iter()
                    .map(|h| redact_url(h))
                    .collect::<Vec<_>>(),
            )
            .field("default_model", &self.common.default_model)
            .field("keep_alive", &self.keep_alive)
            .field("options", &self.options)
            .field("settings", &self.common.settings)
            .finish_non_exhaustive()
    }
}

impl OllamaProviderBuilder {
    /// Where the Ollama server is, in any form `OLLAMA_HOST` accepts: `localhost`,
    /// `gpu-box:11500`, `[::1]:8080`, `http://host:port`, `https://example.com/ollama`.
    /// Without a scheme the port defaults to 11434; with `http://` or `https://` it
    /// defaults to 80 or 443, as in Ollama. `0.0.0.0` and `[::]` mean this machine.
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self.host_from_env = false;
        self
    }

    /// More Ollama servers besides [`host`](Self::host), in the same forms: an endpoint
    /// pool. Each request goes to the server with the fewest requests in flight; one
    /// that fails with retryable errors is skipped for a while (from 1 s, doubling up to
    /// 60 s), then tried again with one request; a request that fails before any content
    /// is retried on another server.
    #[must_use]
    pub fn hosts<S: Into<String>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.more_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// The model used when a request names none (default `qwen2.5:0.5b`).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.common.default_model = Some(model.into());
        self
    }

    /// Use this HTTP client (its own timeouts, proxy and TLS settings apply; the
    /// connect timeout of this builder does not). Build it with
    /// `redirect(reqwest::redirect::Policy::none())`, as the provider's own client is.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.common.client = Some(client);
        self
    }

    /// How long Ollama keeps the model loaded after each request: a [`Duration`](std::time::Duration), or
    /// text in Ollama's syntax (`"5m"`, `"-1"` for forever, `"0"` to unload at once).
    /// Unset, the server's default applies (5 minutes, or its `OLLAMA_KEEP_ALIVE`).
    #[must_use]
    pub fn keep_alive(mut self, keep_alive: impl Into<KeepAlive>) -> Self {
        self.keep_alive = Some(keep_alive.into());
        self
    }

    /// Send this entry under `options` with every request, e.g. `("num_ctx", 8192)`
    /// or `("top_k", 20)`. A request's own settings win over these: its temperature,
    /// `max_tokens` (`num_predict`), stop sequences and seed.
    #[must_use]
    pub fn option(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    crate::kit::settings::http_builder_setters!(common.settings);

    /// The longest line accepted from the server (default 16 MiB), without its line end;
    /// a longer one is a `protocol` error.
    #[must_use]
    pub fn max_line_bytes(mut self, limit: usize) -> Self {
        self.max_line_bytes = Some(limit);
        self
    }

    /// The provider.
    ///
    /// # Errors
    /// `invalid_request` for a host that cannot be used (naming `OLLAMA_HOST` when the
    /// value came from there), an empty default model, a `keep_alive` Ollama would
    /// reject, an empty option name or a zero line limit; `provider_unavailable` if the
    /// HTTP client cannot be built.
    pub fn build(self) -> Result<OllamaProvider> {
        let source = if self.host_from_env {
            "OLLAMA_HOST"
        } else {
            "the host"
        };
        let host = match &self.host {
            Some(raw) => parse_host(raw, source)?,
            None => OllamaProvider::DEFAULT_HOST.to_owned(),
        };
        let mut common = self.common;
        let default_model = match common.default_model.take() {
            Some(m) if m.trim().is_empty() => {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    "ollama: the default model name is empty. Set a model name such as qwen2.5:0.5b (`ollama list` shows the pulled ones)",
                ))
            }
            Some(m) => m.trim().to_owned(),
            None => OllamaProvider::DEFAULT_MODEL.to_owned(),
        };
        let keep_alive = self
            .keep_alive
            .as_ref()
            .map(KeepAlive::to_wire)
            .transpose()?;
        if self.options.keys().any(|k| k.trim().is_empty()) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "ollama: an option has an empty name. Use Ollama's option names, e.g. num_ctx or top_k",
            ));
        }
        if let Some(limit) = self.max_line_bytes {
            if limit == 0 {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    "ollama: max_line_bytes is 0, so no line could be read. Use a limit of at least a few kilobytes (default 16 MiB)",
                ));
            }
            common.settings.max_frame_bytes = limit;
        }
        common.base_url = Some(host.clone());
        common.more_base_urls = self
            .more_hosts
            .iter()
            .map(|raw| parse_host(raw, "a host"))
            .collect::<Result<_>>()?;
        common.default_model = Some(default_model);
        let dialect = ApiChat {
            host,
            keep_alive,
            options: self.options,
        };
        let http = common.build(dialect, "http://localhost:11434")?;
        Ok(OllamaProvider { http })
    }
}
