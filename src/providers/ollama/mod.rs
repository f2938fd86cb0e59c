//! [`OllamaProvider`]: Ollama's native `/api/chat`, streamed as newline-delimited JSON.
//!
//! Reads top to bottom: the provider and its builder; `OLLAMA_HOST` parsing; the trait
//! impl (glue); the request and its error mapping; `list_models`; the decoder from
//! NDJSON lines to [`Chunk`]s; the serde wire types.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use tokio::time::Instant;

use crate::chunk::{Chunk, Finish, FinishReason, ServerTimings};
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::http::{self, Decoded, Decoder, Endpoint, ErrorResponse, Flow, HttpSettings, Sent};
use crate::lenient::Reported;
use crate::pricing::Pricing;
use crate::provider::LlmStreamProvider;
use crate::redact::redact_url;
use crate::request::ChatRequest;
use crate::retry::Retrying;
use crate::stream::{fmt_duration, ChatStream, StreamInfo};

mod fast;

/// The Ollama provider: chats with a local (or remote) Ollama server through its native
/// `/api/chat` endpoint, streaming tokens as Ollama produces them.
///
/// Free to use ([`Pricing::Free`]) and needs no API key. Token counts and Ollama's own
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
/// [`ErrorKind::ModelNotFound`] with the `ollama pull` command to run; a daemon that is
/// not running is [`ErrorKind::ProviderUnavailable`] suggesting `ollama serve`; a busy
/// server (HTTP 503, `server busy`) is [`ErrorKind::Server`] and worth retrying later;
/// an error Ollama reports after the reply started ends the stream with an
/// [`ErrorKind::Server`] error, never with a truncated success.
#[derive(Clone)]
pub struct OllamaProvider {
    inner: Arc<Config>,
}

struct Config {
    host: String,
    default_model: String,
    client: reqwest::Client,
    /// `keep_alive` as sent: seconds (a number) or a Go duration string.
    keep_alive: Option<serde_json::Value>,
    /// Extra entries under `options`.
    options: BTreeMap<String, serde_json::Value>,
    settings: HttpSettings,
    endpoint: Endpoint,
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
    fn builder_from_lookup(var: impl Fn(&str) -> Option<String>) -> OllamaProviderBuilder {
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
        &self.inner.host
    }
}

impl fmt::Debug for OllamaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner;
        f.debug_struct("OllamaProvider")
            .field("host", &c.host)
            .field("default_model", &c.default_model)
            .field("keep_alive", &c.keep_alive)
            .field("options", &c.options)
            .field("settings", &c.settings)
            .finish_non_exhaustive()
    }
}

/// How long Ollama keeps a model in memory after a request (its `keep_alive`).
///
/// Converts from a [`Duration`] or from text in Ollama's own syntax, so the builder
/// takes either: `.keep_alive(Duration::from_secs(600))`, `.keep_alive("10m")`,
/// `.keep_alive("-1")` (forever), `.keep_alive("0")` (unload right after the reply).
/// Text is checked by [`OllamaProviderBuilder::build`].
///
/// ```
/// use std::time::Duration;
/// use theory_llm::KeepAlive;
///
/// assert_eq!(KeepAlive::from(Duration::from_secs(300)), KeepAlive::For(Duration::from_secs(300)));
/// assert_eq!(KeepAlive::from("1h30m"), KeepAlive::Text("1h30m".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepAlive {
    /// Keep the model loaded this long after each request (zero unloads it at once).
    For(Duration),
    /// Keep the model loaded until the server stops (sent as `-1`).
    Forever,
    /// Ollama's syntax: whole seconds (`"300"`, `"-1"` for forever) or a Go duration
    /// (`"5m"`, `"1h30m"`, `"90s"`; negative means forever).
    Text(String),
}

impl From<Duration> for KeepAlive {
    fn from(d: Duration) -> KeepAlive {
        KeepAlive::For(d)
    }
}

impl From<&str> for KeepAlive {
    fn from(s: &str) -> KeepAlive {
        KeepAlive::Text(s.to_owned())
    }
}

impl From<String> for KeepAlive {
    fn from(s: String) -> KeepAlive {
        KeepAlive::Text(s)
    }
}

impl KeepAlive {
    /// The JSON value Ollama accepts: a number of seconds, or a Go duration string.
    fn to_wire(&self) -> Result<serde_json::Value> {
        Ok(match self {
            KeepAlive::For(d) if d.subsec_nanos() == 0 => serde_json::Value::from(d.as_secs()),
            KeepAlive::For(d) => serde_json::Value::from(d.as_secs_f64()),
            KeepAlive::Forever => serde_json::Value::from(-1),
            KeepAlive::Text(text) => {
                let t = text.trim();
                if let Ok(secs) = t.parse::<i64>() {
                    serde_json::Value::from(secs)
                } else if is_go_duration(t) {
                    serde_json::Value::from(t)
                } else {
                    return Err(Error::new(
                        ErrorKind::InvalidRequest,
                        format!(
                            "ollama: keep_alive '{}' is not a duration Ollama understands. Use whole seconds (\"300\", \"-1\" for forever) or a duration such as \"5m\", \"1h30m\" or \"90s\"",
                            excerpt(text, 60)
                        ),
                    ));
                }
            }
        })
    }
}

/// Go's `time.ParseDuration` syntax: an optional sign, then `0`, or one or more
/// decimal numbers each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`).
fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        rest = tail;
    }
    true
}

/// Builds an [`OllamaProvider`]. Errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct OllamaProviderBuilder {
    host: Option<String>,
    host_from_env: bool,
    default_model: Option<String>,
    client: Option<reqwest::Client>,
    keep_alive: Option<KeepAlive>,
    options: BTreeMap<String, serde_json::Value>,
    max_line_bytes: Option<usize>,
    settings: HttpSettings,
}

impl fmt::Debug for OllamaProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The host as given may hold a password (refused by `build`): never shown.
        f.debug_struct("OllamaProviderBuilder")
            .field("host", &self.host.as_deref().map(redact_url))
            .field("default_model", &self.default_model)
            .field("keep_alive", &self.keep_alive)
            .field("options", &self.options)
            .field("settings", &self.settings)
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

    /// The model used when a request names none (default `qwen2.5:0.5b`).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.default_model = Some(model.into());
        self
    }

    /// Use this HTTP client (its own timeouts, proxy and TLS settings apply; the
    /// connect timeout of this builder does not).
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// How long Ollama keeps the model loaded after each request: a [`Duration`], or
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

    crate::http::http_builder_setters!();

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
        let default_model = match self.default_model {
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
        let mut settings = self.settings;
        if let Some(limit) = self.max_line_bytes {
            if limit == 0 {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    "ollama: max_line_bytes is 0, so no line could be read. Use a limit of at least a few kilobytes (default 16 MiB)",
                ));
            }
            settings.max_frame_bytes = limit;
        }
        let client = match self.client {
            Some(c) => c,
            None => http::build_client(settings.connect_timeout, &host)?,
        };
        let endpoint = Endpoint {
            provider: OllamaProvider::NAME,
            base: host.clone(),
            unreachable_hint:
                "Is Ollama running? Start it with `ollama serve` (or open the Ollama app), \
                or set OLLAMA_HOST to where it listens",
        };
        Ok(OllamaProvider {
            inner: Arc::new(Config {
                host,
                default_model,
                client,
                keep_alive,
                options: self.options,
                settings,
                endpoint,
            }),
        })
    }
}

/// Parses a host the way Ollama reads `OLLAMA_HOST` (`envconfig.Host` and
/// `ConnectableHost`), returning `scheme://host:port[/prefix]`:
///
/// - surrounding spaces and quotes are ignored; empty means `localhost:11434`;
/// - no scheme means `http` and port 11434; `http://` and `https://` default to 80 and 443;
/// - `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (`::1`);
/// - a path after the host is a prefix (Ollama behind a reverse proxy); trailing
///   slashes are dropped;
/// - `0.0.0.0`, `[::]` and an empty host name this machine (`127.0.0.1`, `[::1]`);
/// - `ollama.com` alone means `https://ollama.com:443`.
///
/// Unlike Ollama, which falls back to the default port with a warning, a bad port
/// is an error here.
fn parse_host(raw: &str, source: &str) -> Result<String> {
    let value = raw.trim().trim_matches(['"', '\'']).trim();
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!(
                "ollama: {source} '{}' is not usable: {why}. Use a value such as localhost, 127.0.0.1:11434, [::1]:11434, http://gpu-box:11434 or https://example.com/ollama",
                excerpt(&redact_url(raw.trim()), 200)
            ),
        )
    };
    if value.is_empty() {
        return Ok(OllamaProvider::DEFAULT_HOST.to_owned());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains spaces or control characters"));
    }
    if value.contains(['?', '#']) {
        return Err(invalid("it must not have a query or fragment"));
    }
    let (scheme, rest, default_port) = match value.split_once("://") {
        None if value.eq_ignore_ascii_case("ollama.com") => {
            return Ok("https://ollama.com:443".to_owned());
        }
        None => ("http", value, 11434u16),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => ("http", rest, 80),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => ("https", rest, 443),
        Some((scheme, _)) => {
            return Err(invalid(&format!(
                "the scheme '{scheme}' is not supported (use http or https)"
            )))
        }
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.trim_end_matches('/');
    if hostport.contains('@') {
        return Err(invalid(
            "user names and passwords in the host are not supported (pass your own reqwest::Client to add credentials)",
        ));
    }

    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (inside, tail) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("the IPv6 address has no closing ']'"))?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| invalid(&format!("'{inside}' is not an IPv6 address")))?;
        let port = match tail {
            "" => None,
            _ => Some(
                tail.strip_prefix(':')
                    .ok_or_else(|| invalid("expected ':' and a port after the IPv6 address"))?,
            ),
        };
        (Host::V6(ip), port)
    } else if hostport.matches(':').count() > 1 {
        // A bare IPv6 address, as Ollama accepts it ("::1"); it cannot carry a port.
        let ip: Ipv6Addr = hostport.parse().map_err(|_| {
            invalid("an IPv6 address must be in brackets to have a port, e.g. [::1]:11434")
        })?;
        (Host::V6(ip), None)
    } else {
        let (name, port) = match hostport.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (hostport, None),
        };
        let host = match name.parse::<Ipv4Addr>() {
            Ok(ip) => Host::V4(ip),
            Err(_) if name.is_empty() => Host::V4(Ipv4Addr::UNSPECIFIED),
            Err(_) => {
                let ok = name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'));
                if !ok || name.starts_with(['.', '-']) {
                    return Err(invalid(&format!(
                        "'{name}' is not a host name or IP address"
                    )));
                }
                Host::Name(name)
            }
        };
        (host, port)
    };
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(invalid(&format!("'{p}' is not a port number (1 to 65535)"))),
        },
    };
    let host = match host {
        Host::V4(ip) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        Host::V4(ip) => ip.to_string(),
        Host::V6(ip) if ip.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
        Host::V6(ip) => format!("[{ip}]"),
        Host::Name(name) => name.to_owned(),
    };
    let url = if path.is_empty() {
        format!("{scheme}://{host}:{port}")
    } else {
        format!("{scheme}://{host}:{port}/{path}")
    };
    match reqwest::Url::parse(&url) {
        Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        Ok(_) => Err(invalid("it has no host")),
        Err(e) => Err(invalid(&e.to_string())),
    }
}

enum Host<'a> {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Name(&'a str),
}

impl LlmStreamProvider for OllamaProvider {
    fn name(&self) -> &str {
        OllamaProvider::NAME
    }

    fn default_model(&self) -> &str {
        &self.inner.default_model
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let cfg = &self.inner;
        let info = StreamInfo::for_request(OllamaProvider::NAME, &request, &cfg.default_model)
            .with_pricing(Pricing::Free);
        if let Err(e) = request.validate() {
            return ChatStream::from_error(info, e);
        }
        let info = info.with_max_reply_bytes(
            request
                .max_reply_bytes
                .unwrap_or(cfg.settings.max_reply_bytes),
        );
        let timeouts = request.timeouts.or(cfg.settings.timeouts);
        let policy = cfg.settings.retry_policy(request.max_retries);
        let provider = self.clone();
        let model = info.model.clone();
        let request = Arc::new(request);
        let make_attempt = move |give_up_at| {
            let (provider, request, model) = (provider.clone(), request.clone(), model.clone());
            futures::stream::once(
                async move { provider.open_chat(&request, &model, give_up_at).await },
            )
            .try_flatten()
            .boxed()
        };
        let stream = Retrying::new(OllamaProvider::NAME, policy, timeouts, make_attempt);
        ChatStream::new(info, stream).with_timeouts(timeouts)
    }
}

impl OllamaProvider {
    /// Sends the chat request; on a 2xx, the reply's lines decoded into chunks.
    async fn open_chat(
        &self,
        request: &ChatRequest,
        model: &str,
        give_up_at: Option<Instant>,
    ) -> Result<impl futures::Stream<Item = Result<Chunk>> + Send + 'static> {
        let cfg = &self.inner;
        let endpoint = &cfg.endpoint;
        let body = wire::Chat::new(request, model, cfg.keep_alive.as_ref(), &cfg.options);
        let body = serde_json::to_vec(&body).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("ollama: the request cannot be encoded as JSON ({e}). Check the values passed to OllamaProviderBuilder::option"),
            )
        })?;
        let post = cfg
            .client
            .post(format!("{}/api/chat", cfg.host))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/x-ndjson")
            .body(body);
        // A stream of lines, or one JSON object (a server that ignored `stream: true`).
        let accepted = &["application/x-ndjson", "application/json"];
        let accepted = match endpoint.send(post, accepted, give_up_at).await? {
            Sent::Accepted(accepted) => accepted,
            Sent::Failed(failure) => return Err(classify(failure, Some(model), &cfg.host)),
        };
        let frames = endpoint.ndjson_frames(accepted.response, cfg.settings.max_frame_bytes);
        let decoder = LineDecoder::new(endpoint.clone()).with_media_type(accepted.media_type);
        Ok(Decoded::new(frames, decoder))
    }

    /// The models this Ollama server has (`GET /api/tags`, what `ollama list` shows),
    /// in the server's order.
    ///
    /// The request is bounded by the provider's deadline if one is set, else by its
    /// first-chunk timeout (120 s by default).
    ///
    /// ```no_run
    /// use theory_llm::OllamaProvider;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> theory_llm::Result<()> {
    /// let ollama = OllamaProvider::from_env()?;
    /// for model in ollama.list_models().await? {
    ///     println!("{} ({} bytes, {})", model.name, model.size, model.details.parameter_size);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `provider_unavailable` when nothing answers at the host (suggesting
    /// `ollama serve`); the server's error, classified by status, for a non-2xx reply;
    /// `protocol` if the body is not a model list; `timeout` past the limit above.
    pub async fn list_models(&self) -> Result<Vec<LocalModel>> {
        let cfg = &self.inner;
        let limit = cfg
            .settings
            .timeouts
            .deadline
            .or(cfg.settings.timeouts.first_chunk);
        let work = self.fetch_models();
        match limit {
            None => work.await,
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "ollama timed out: listing the models at {} took longer than {}. Check that the server is not overloaded, or raise the timeout",
                        cfg.host,
                        fmt_duration(limit)
                    ),
                ))
            }),
        }
    }

    async fn fetch_models(&self) -> Result<Vec<LocalModel>> {
        let cfg = &self.inner;
        let endpoint = &cfg.endpoint;
        let get = cfg
            .client
            .get(format!("{}/api/tags", cfg.host))
            .header(ACCEPT, "application/json");
        let mut response = match endpoint.send(get, &["application/json"], None).await? {
            Sent::Accepted(accepted) => accepted.response,
            Sent::Failed(failure) => return Err(classify(failure, None, &cfg.host)),
        };
        let limit = cfg.settings.max_frame_bytes;
        let mut body = Vec::new();
        while let Some(bytes) = response.chunk().await.map_err(|e| endpoint.body_error(e))? {
            if body.len() + bytes.len() > limit {
                return Err(endpoint.malformed(&format!(
                    "the model list is larger than {limit} bytes (raise max_line_bytes)"
                )));
            }
            body.extend_from_slice(&bytes);
        }
        let tags: wire::Tags = serde_json::from_slice(&body).map_err(|e| {
            endpoint.malformed(&format!(
                "GET /api/tags did not return a model list ({e}): {}",
                excerpt(&String::from_utf8_lossy(&body), 120)
            ))
        })?;
        Ok(tags
            .models
            .into_iter()
            .map(wire::TagModel::into_public)
            .collect())
    }
}

/// The error for a non-2xx response (before any line of the reply): status → kind,
/// keeping Ollama's words. `model` is the model requested, for chats.
fn classify(failure: ErrorResponse, model: Option<&str>, host: &str) -> Error {
    let msg = failure.body.message.to_ascii_lowercase();
    match (failure.status, model) {
        // Ollama's wording varies across versions: `model 'x' not found, try pulling it
        // first`, `model "x" not found, try pulling it first`, `model 'x' not found`.
        (404, Some(model)) if msg.contains("not found") && msg.contains("model") => Error::new(
            ErrorKind::ModelNotFound,
            format!("Model '{model}' not found. Pull it with: ollama pull {model}"),
        )
        .with_status(404),
        (404, _) => failure.into_error(
            OllamaProvider::NAME,
            ErrorKind::InvalidRequest,
            &format!("{host} does not serve the Ollama API there: check OLLAMA_HOST (and its path prefix, behind a proxy)"),
        ),
        (401 | 403, _) => failure.into_error(
            OllamaProvider::NAME,
            ErrorKind::Auth,
            "This server (or a proxy in front of it) requires authorization; for Ollama cloud models run `ollama signin`",
        ),
        (503, _) => failure.into_error(
            OllamaProvider::NAME,
            ErrorKind::Server,
            "Ollama is busy (too many queued requests); retry shortly, or raise OLLAMA_NUM_PARALLEL / OLLAMA_MAX_QUEUE on the server",
        ),
        (status, _) => {
            let kind = http::kind_for_status(status);
            let advice = match kind {
                ErrorKind::Server => "This is Ollama's failure; its server log has details. Retry later",
                other => http::advice_for(other),
            };
            failure.into_error(OllamaProvider::NAME, kind, advice)
        }
    }
}

/// Maps NDJSON lines of `/api/chat` to chunks. The state is the model name last seen,
/// reported on the finish, and whether any line was an `/api/chat` line at all.
pub(crate) struct LineDecoder {
    endpoint: Endpoint,
    model: Option<String>,
    /// A line with a message, `done`, an error or a model has been seen.
    recognized: bool,
    /// The start of the first line, kept until one is recognized: a body of JSON that is
    /// not a chat reply is quoted in the error.
    first_line: Option<String>,
    /// The body's media type, for that error.
    media_type: Option<String>,
}

impl LineDecoder {
    pub(crate) fn new(endpoint: Endpoint) -> LineDecoder {
        LineDecoder {
            endpoint,
            model: None,
            recognized: false,
            first_line: None,
            media_type: None,
        }
    }

    /// Names the body's media type in the error for a body that holds no reply.
    pub(crate) fn with_media_type(mut self, media_type: Option<String>) -> LineDecoder {
        self.media_type = media_type;
        self
    }

    /// The pure mapping of one line.
    ///
    /// - `message.thinking` is reasoning and `message.content` is text (empty ones
    ///   skipped); `tool_calls` and other fields are ignored.
    /// - A line with `error` (real Ollama: `{"error": "…"}` with no `done`; the
    ///   ollama-proxy-plus shim: on the `done` line with `done_reason: "error"`) ends the
    ///   stream with a `server` error, after any content it carries.
    /// - The `done: true` line ends the reply: its content first, then the finish with
    ///   the reason (missing means `stop`), the counts and the timings. Ollama omits a
    ///   metric that is zero, so a done line with some metrics reports a missing count
    ///   or duration as 0; one with no metrics at all reports none (counts unknown). A
    ///   metric that is not a count (the crate's one rule, [`Reported`]) is not
    ///   reported: its count is estimated.
    fn map(&mut self, line: wire::Line<'_>, out: &mut VecDeque<Chunk>) -> Result<Flow> {
        if let Some(message) = line.message {
            if !message.thinking.is_empty() {
                out.push_back(Chunk::Reasoning(message.thinking.into_owned()));
            }
            if !message.content.is_empty() {
                out.push_back(Chunk::Text(message.content.into_owned()));
            }
        }
        if !line.model.is_empty() && self.model.as_deref() != Some(&*line.model) {
            self.model = Some(line.model.into_owned());
        }
        if let Some(error) = line.error.as_deref().filter(|e| !e.is_null()) {
            return Err(midstream_error(&error_text(error)));
        }
        if line.done_reason == "error" {
            return Err(midstream_error(
                "the reply ended with done_reason \"error\" and no message",
            ));
        }
        if line.done != Some(true) {
            return Ok(Flow::Continue);
        }
        let reason = if line.done_reason.is_empty() {
            FinishReason::Stop
        } else {
            FinishReason::parse(&line.done_reason)
        };
        let mut finish = Finish::new(reason);
        let m = line.metrics.as_deref().copied().unwrap_or_default();
        let has_metrics = [
            m.total_duration,
            m.load_duration,
            m.prompt_eval_count,
            m.prompt_eval_duration,
            m.eval_count,
            m.eval_duration,
        ]
        .iter()
        .any(|r| r.is_present());
        if has_metrics {
            // Missing is zero (Ollama omits zeros); present but not a count is unknown.
            let metric = |r: Reported| match r {
                Reported::Missing => Some(0),
                other => other.value(),
            };
            let ms = |ns: Reported| metric(ns).map(|ns| ns as f64 / 1e6);
            finish = finish
                .with_tokens(metric(m.prompt_eval_count), metric(m.eval_count))
                .with_timings(ServerTimings {
                    total_ms: ms(m.total_duration),
                    load_ms: ms(m.load_duration),
                    prompt_eval_ms: ms(m.prompt_eval_duration),
                    eval_ms: ms(m.eval_duration),
                });
        }
        if let Some(model) = self.model.take() {
            finish = finish.with_model(model);
        }
        out.push_back(Chunk::from(finish));
        Ok(Flow::Done)
    }
}

impl Decoder for LineDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let malformed = |e: &dyn std::fmt::Display| {
            self.endpoint.malformed(&format!(
                "a line is not an /api/chat JSON object ({e}): {}",
                excerpt(&String::from_utf8_lossy(frame), 120)
            ))
        };
        // Checking the UTF-8 once here and parsing a `&str` is faster than having the
        // JSON parser check each string it borrows (measured: ~50 ns a line).
        let text = std::str::from_utf8(frame).map_err(|e| malformed(&e))?;
        // Token lines take the hand-written fast path (see `fast`); anything it does
        // not take, serde reads.
        let mut line: wire::Line<'_> = match fast::read(text) {
            Some(line) => line,
            None => serde_json::from_str(text).map_err(|e| malformed(&e))?,
        };
        if line.done == Some(true) {
            // The metrics are read by a second parse of the last line only, which keeps
            // what is read from every token line small.
            let metrics = serde_json::from_str(text).map_err(|e| malformed(&e))?;
            line.metrics = Some(Box::new(metrics));
        }
        if !self.recognized {
            self.recognized = line.is_recognized();
            if !self.recognized && self.first_line.is_none() {
                self.first_line = Some(excerpt(text, 200));
            }
        }
        self.map(line, out)
    }

    fn end_of_body(&mut self, _out: &mut VecDeque<Chunk>) -> Result<()> {
        match (self.recognized, &self.first_line) {
            // Not a short reply but no reply at all: something else answered.
            (false, Some(first)) => Err(self.endpoint.malformed(&format!(
                "the body ({}) holds no /api/chat reply; it starts: {first}",
                self.media_type.as_deref().unwrap_or("no content type")
            ))),
            _ => Err(self.endpoint.truncated("the line with \"done\": true")),
        }
    }
}

/// For the fuzz target and property tests: whenever the fast path reads `line`, serde
/// reads it too, the same way. Returns whether the fast path read it.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn fast_path_agrees_with_serde(line: &[u8]) -> std::result::Result<bool, String> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Ok(false);
    };
    let Some(fast) = fast::read(text) else {
        return Ok(false);
    };
    match serde_json::from_str::<wire::Line<'_>>(text) {
        Ok(slow) if slow == fast => Ok(true),
        Ok(slow) => Err(format!("the fast path read {fast:?}, serde {slow:?}")),
        Err(e) => Err(format!(
            "the fast path read {fast:?}, serde rejects it: {e}"
        )),
    }
}

/// The message of an `error` value: a string from Ollama, but any shape is tolerated.
fn error_text(error: &serde_json::Value) -> String {
    http::ErrorBody::from_json(&serde_json::json!({ "error": error }))
        .map(|b| b.message)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "(Ollama sent no message)".to_owned())
}

/// An error Ollama reported inside a 200 reply.
fn midstream_error(message: &str) -> Error {
    Error::new(
        ErrorKind::Server,
        format!(
            "ollama failed mid-reply: {message}. The reply is incomplete; retry the request (the Ollama server log may say more)"
        ),
    )
    // Retried by the provider only while no content has been delivered.
    .with_retryable(true)
}

/// A model on the Ollama server, as `GET /api/tags` (and `ollama list`) reports it.
///
/// Fields the server leaves out are empty (or 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LocalModel {
    /// The name to request it by, with its tag: `qwen2.5:0.5b`, `llama3.2:latest`.
    pub name: String,
    /// The model reference (usually the same as `name`).
    pub model: String,
    /// Size on disk in bytes (0 for cloud models).
    pub size: u64,
    /// When it was last pulled or changed, as the server wrote it (RFC 3339).
    pub modified_at: String,
    /// The content digest of its manifest (`sha256:…` or bare hex).
    pub digest: String,
    /// Format, family, parameter size and quantization.
    pub details: LocalModelDetails,
}

/// What `GET /api/tags` says about a model's build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LocalModelDetails {
    /// The model it was derived from, if any.
    pub parent_model: String,
    /// The file format, e.g. `gguf`.
    pub format: String,
    /// The architecture family, e.g. `qwen2`, `llama`.
    pub family: String,
    /// Every family it belongs to.
    pub families: Vec<String>,
    /// The parameter count as Ollama writes it, e.g. `494.03M`, `3.2B`.
    pub parameter_size: String,
    /// The quantization, e.g. `Q4_K_M`.
    pub quantization_level: String,
}

/// The JSON on the wire. Lenient: every field optional, unknown fields (`tool_calls`,
/// `images`, `created_at`, `logprobs`, …) ignored, `null` taken as missing, and text
/// borrowed from the line when it has no escapes.
mod wire {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::fmt;

    use serde::de::{self, Deserializer, Visitor};
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    use crate::lenient::Reported;
    use crate::request::ChatRequest;

    /// The body of `POST /api/chat`.
    #[derive(Debug, Serialize)]
    pub(super) struct Chat<'a> {
        pub(super) model: &'a str,
        pub(super) messages: Vec<Message<'a>>,
        pub(super) stream: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) options: Option<Options<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) keep_alive: Option<&'a Value>,
    }

    #[derive(Debug, Serialize)]
    pub(super) struct Message<'a> {
        pub(super) role: &'static str,
        pub(super) content: &'a str,
    }

    /// `options`: the request's settings, plus the provider's extra entries for keys
    /// the request does not set.
    #[derive(Debug, Serialize)]
    pub(super) struct Options<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) temperature: Option<f32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) num_predict: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) stop: Option<&'a [String]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) seed: Option<u64>,
        #[serde(flatten)]
        pub(super) extra: BTreeMap<&'a str, &'a Value>,
    }

    impl<'a> Chat<'a> {
        pub(super) fn new(
            request: &'a ChatRequest,
            model: &'a str,
            keep_alive: Option<&'a Value>,
            defaults: &'a BTreeMap<String, Value>,
        ) -> Chat<'a> {
            let stop = (!request.stop.is_empty()).then_some(request.stop.as_slice());
            let set_by_request = |key: &str| match key {
                "temperature" => request.temperature.is_some(),
                "num_predict" => request.max_tokens.is_some(),
                "stop" => stop.is_some(),
                "seed" => request.seed.is_some(),
                _ => false,
            };
            let options = Options {
                temperature: request.temperature,
                num_predict: request.max_tokens,
                stop,
                seed: request.seed,
                extra: defaults
                    .iter()
                    .filter(|(k, _)| !set_by_request(k))
                    .map(|(k, v)| (k.as_str(), v))
                    .collect(),
            };
            let empty = options.temperature.is_none()
                && options.num_predict.is_none()
                && options.stop.is_none()
                && options.seed.is_none()
                && options.extra.is_empty();
            Chat {
                model,
                messages: request
                    .full_conversation()
                    .map(|(role, content)| Message {
                        role: role.as_str(),
                        content,
                    })
                    .collect(),
                stream: true,
                options: (!empty).then_some(options),
                keep_alive,
            }
        }
    }

    /// One line of a streamed `/api/chat` reply.
    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    pub(super) struct Line<'a> {
        #[serde(borrow, deserialize_with = "text")]
        pub(super) model: Cow<'a, str>,
        #[serde(borrow)]
        pub(super) message: Option<LineMessage<'a>>,
        pub(super) done: Option<bool>,
        #[serde(borrow, deserialize_with = "text")]
        pub(super) done_reason: Cow<'a, str>,
        /// A string from Ollama; any shape is tolerated. (Boxed, like everything that
        /// only the last or a failing line has: a smaller struct is measurably faster to
        /// read for every token line.)
        pub(super) error: Option<Box<Value>>,
        /// The final line's metrics, read from that line alone by `LineDecoder::frame`.
        /// (Not a flattened struct: flattening would buffer every unknown field of
        /// every line.)
        #[serde(skip)]
        pub(super) metrics: Option<Box<Metrics>>,
    }

    /// The final line's metrics: counts, and durations in nanoseconds. Ollama omits the
    /// ones that are zero.
    #[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq)]
    #[serde(default)]
    pub(super) struct Metrics {
        pub(super) total_duration: Reported,
        pub(super) load_duration: Reported,
        pub(super) prompt_eval_count: Reported,
        pub(super) prompt_eval_duration: Reported,
        pub(super) eval_count: Reported,
        pub(super) eval_duration: Reported,
    }

    impl Line<'_> {
        /// Whether this is an `/api/chat` line: a message, `done`, an error or a model.
        pub(super) fn is_recognized(&self) -> bool {
            self.message.is_some()
                || self.done.is_some()
                || self.error.is_some()
                || !self.model.is_empty()
        }
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    pub(super) struct LineMessage<'a> {
        #[serde(borrow, deserialize_with = "text")]
        pub(super) content: Cow<'a, str>,
        #[serde(borrow, deserialize_with = "text")]
        pub(super) thinking: Cow<'a, str>,
    }

    /// A string, borrowed when it has no escapes; `null` is empty.
    fn text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, str>, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(""))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(""))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_str(self)
            }
        }
        d.deserialize_option(Text)
    }

    /// The body of `GET /api/tags`.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(super) struct Tags {
        #[serde(deserialize_with = "list")]
        pub(super) models: Vec<TagModel>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub(super) struct TagModel {
        #[serde(deserialize_with = "owned")]
        name: String,
        #[serde(deserialize_with = "owned")]
        model: String,
        size: Reported,
        #[serde(deserialize_with = "owned")]
        modified_at: String,
        #[serde(deserialize_with = "owned")]
        digest: String,
        details: Option<TagDetails>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct TagDetails {
        #[serde(deserialize_with = "owned")]
        parent_model: String,
        #[serde(deserialize_with = "owned")]
        format: String,
        #[serde(deserialize_with = "owned")]
        family: String,
        #[serde(deserialize_with = "list")]
        families: Vec<String>,
        #[serde(deserialize_with = "owned")]
        parameter_size: String,
        #[serde(deserialize_with = "owned")]
        quantization_level: String,
    }

    impl TagModel {
        pub(super) fn into_public(self) -> super::LocalModel {
            let d = self.details.unwrap_or_default();
            super::LocalModel {
                name: self.name,
                model: self.model,
                size: self.size.value().unwrap_or(0),
                modified_at: self.modified_at,
                digest: self.digest,
                details: super::LocalModelDetails {
                    parent_model: d.parent_model,
                    format: d.format,
                    family: d.family,
                    families: d.families,
                    parameter_size: d.parameter_size,
                    quantization_level: d.quantization_level,
                },
            }
        }
    }

    /// A string; `null` is empty.
    fn owned<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
    }

    /// A list; `null` is empty.
    fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    use futures::StreamExt;
    use proptest::prelude::*;

    use crate::framing::ndjson::NdjsonLines;

    fn endpoint() -> Endpoint {
        Endpoint {
            provider: "ollama",
            base: "http://localhost:11434".into(),
            unreachable_hint: "",
        }
    }

    /// Runs lines through the decoder: the chunks, then how it ended.
    fn run(lines: &[&str]) -> (Vec<Chunk>, Result<()>) {
        let mut d = LineDecoder::new(endpoint());
        let mut out = VecDeque::new();
        for line in lines {
            match d.frame(line.as_bytes(), &mut out) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Done) => return (out.into(), Ok(())),
                Err(e) => return (out.into(), Err(e)),
            }
        }
        let end = d.end_of_body(&mut out);
        (out.into(), end)
    }

    fn text(chunks: &[Chunk]) -> String {
        chunks.iter().filter_map(Chunk::as_text).collect()
    }

    fn finish(chunks: &[Chunk]) -> &Finish {
        match chunks.last() {
            Some(Chunk::Finish(f)) => f,
            other => panic!("no finish: {other:?}"),
        }
    }

    // ---- host parsing ----

    fn host(raw: &str) -> String {
        parse_host(raw, "OLLAMA_HOST").unwrap_or_else(|e| panic!("{raw:?}: {e}"))
    }

    #[test]
    fn hosts_are_read_as_ollama_reads_them() {
        let cases = [
            ("", "http://localhost:11434"),
            ("   ", "http://localhost:11434"),
            ("localhost", "http://localhost:11434"),
            ("1.2.3.4", "http://1.2.3.4:11434"),
            ("1.2.3.4:1234", "http://1.2.3.4:1234"),
            ("example.com", "http://example.com:11434"),
            ("example.com:1234", "http://example.com:1234"),
            (":1234", "http://127.0.0.1:1234"),
            ("0.0.0.0", "http://127.0.0.1:11434"),
            ("0.0.0.0:1234", "http://127.0.0.1:1234"),
            ("[::]", "http://[::1]:11434"),
            ("[::]:1234", "http://[::1]:1234"),
            ("[::1]", "http://[::1]:11434"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("::1", "http://[::1]:11434"),
            ("[fe80::1]:99", "http://[fe80::1]:99"),
            (" 1.2.3.4 ", "http://1.2.3.4:11434"),
            ("\"1.2.3.4\"", "http://1.2.3.4:11434"),
            (" \" 1.2.3.4 \" ", "http://1.2.3.4:11434"),
            ("'1.2.3.4'", "http://1.2.3.4:11434"),
            ("http://1.2.3.4", "http://1.2.3.4:80"),
            ("http://1.2.3.4:4321", "http://1.2.3.4:4321"),
            ("HTTP://gpu-box:11434/", "http://gpu-box:11434"),
            ("https://1.2.3.4", "https://1.2.3.4:443"),
            ("https://1.2.3.4:4321", "https://1.2.3.4:4321"),
            ("https://0.0.0.0:4321", "https://127.0.0.1:4321"),
            (
                "https://example.com/ollama",
                "https://example.com:443/ollama",
            ),
            (
                "https://example.com/ollama/",
                "https://example.com:443/ollama",
            ),
            ("http://localhost:11434/", "http://localhost:11434"),
            ("localhost:11434//", "http://localhost:11434"),
            ("gpu-box/prefix/v2/", "http://gpu-box:11434/prefix/v2"),
            ("my_host.lan", "http://my_host.lan:11434"),
            ("ollama.com", "https://ollama.com:443"),
        ];
        for (raw, want) in cases {
            assert_eq!(host(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn a_password_in_the_host_is_never_shown() {
        let b = OllamaProvider::builder().host("http://admin:hunter2-secret@gpu-box:11434");
        assert!(!format!("{b:?}").contains("hunter2"), "{b:?}");
        let err = b.build().unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("admin:[REDACTED]@"), "{err}");
    }

    #[test]
    fn bad_hosts_are_invalid_requests_naming_the_source_and_value() {
        let bad = [
            "localhost:99999",
            "localhost:0",
            "localhost:",
            "localhost:abc",
            ":-1",
            "[::1",
            "[::1]x",
            "[nope]:1",
            "::1:zz",
            "unix:///tmp/ollama.sock",
            "ftp://host",
            "host name",
            "user:pw@host",
            "http://host?x=1",
            "bad$host",
            "-host",
        ];
        for raw in bad {
            let err = parse_host(raw, "OLLAMA_HOST").expect_err(raw);
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{raw}");
            let msg = err.to_string();
            assert!(msg.contains("OLLAMA_HOST"), "{msg}");
            assert!(msg.contains(raw.trim()), "{msg}");
            assert!(
                msg.contains("127.0.0.1:11434"),
                "says what to use instead: {msg}"
            );
        }
    }

    #[test]
    fn env_config_reads_ollama_host() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let p = OllamaProvider::from_lookup(env(&[])).unwrap();
        assert_eq!(p.host(), OllamaProvider::DEFAULT_HOST);
        assert_eq!(p.default_model(), "qwen2.5:0.5b");
        let p = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "0.0.0.0:18081")])).unwrap();
        assert_eq!(p.host(), "http://127.0.0.1:18081");
        let p = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "  ")])).unwrap();
        assert_eq!(p.host(), OllamaProvider::DEFAULT_HOST);
        let err =
            OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "localhost:99999")])).unwrap_err();
        assert!(
            err.to_string().contains("OLLAMA_HOST 'localhost:99999'"),
            "{err}"
        );
        // Set in code, the message does not blame the environment.
        let err = OllamaProvider::builder()
            .host("localhost:99999")
            .build()
            .unwrap_err();
        assert!(!err.to_string().contains("OLLAMA_HOST '"), "{err}");
        assert!(
            err.to_string().contains("the host 'localhost:99999'"),
            "{err}"
        );
    }

    #[test]
    fn builder_settings_and_errors() {
        let p = OllamaProvider::builder()
            .host("[::1]:8080")
            .default_model("smollm2")
            .keep_alive(Duration::from_secs(90))
            .option("num_ctx", 4096)
            .max_line_bytes(1024)
            .idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(p.host(), "http://[::1]:8080");
        assert_eq!(p.default_model(), "smollm2");
        assert_eq!(p.inner.keep_alive, Some(serde_json::json!(90)));
        assert_eq!(p.inner.settings.max_frame_bytes, 1024);
        assert_eq!(p.inner.settings.timeouts.idle, Some(Duration::from_secs(5)));
        assert_eq!(
            p.inner.settings.timeouts.first_chunk,
            Some(http::DEFAULT_FIRST_CHUNK_TIMEOUT)
        );
        let dbg = format!("{p:?}");
        assert!(
            dbg.contains("[::1]:8080") && dbg.contains("num_ctx") && dbg.contains("smollm2"),
            "{dbg}"
        );
        let clone = p.clone();
        assert!(Arc::ptr_eq(&clone.inner, &p.inner));

        for b in [
            OllamaProvider::builder().default_model(" "),
            OllamaProvider::builder().max_line_bytes(0),
            OllamaProvider::builder().keep_alive("5 minutes"),
            OllamaProvider::builder().option("", 1),
            OllamaProvider::builder().host("localhost:0"),
        ] {
            assert_eq!(b.build().unwrap_err().kind(), ErrorKind::InvalidRequest);
        }
        assert_eq!(
            OllamaProvider::new().unwrap().host(),
            "http://localhost:11434"
        );
    }

    #[test]
    fn keep_alive_takes_durations_and_ollamas_syntax() {
        let wire = |k: KeepAlive| k.to_wire().map_err(|e| e.to_string());
        assert_eq!(
            wire(Duration::from_secs(300).into()),
            Ok(serde_json::json!(300))
        );
        assert_eq!(
            wire(Duration::from_millis(1500).into()),
            Ok(serde_json::json!(1.5))
        );
        assert_eq!(wire(Duration::ZERO.into()), Ok(serde_json::json!(0)));
        assert_eq!(wire(KeepAlive::Forever), Ok(serde_json::json!(-1)));
        // Whole seconds go as numbers (Ollama rejects the string "-1").
        assert_eq!(wire("-1".into()), Ok(serde_json::json!(-1)));
        assert_eq!(wire(" 300 ".into()), Ok(serde_json::json!(300)));
        assert_eq!(wire("0".into()), Ok(serde_json::json!(0)));
        for ok in [
            "5m", "1h30m", "90s", "1.5h", "-1m", "+5m", "300ms", "2us", "2µs", ".5s",
        ] {
            assert_eq!(wire(ok.into()), Ok(serde_json::json!(ok)), "{ok}");
        }
        for bad in ["", "5 m", "1d", "m", "1.2.3s", "forever", "5m3"] {
            let err = wire(bad.into()).unwrap_err();
            assert!(
                err.contains("keep_alive") && err.contains("5m"),
                "{bad}: {err}"
            );
        }
    }

    // ---- request body ----

    #[test]
    fn request_body_maps_options_and_puts_the_system_prompt_first() {
        let req = ChatRequest::new("hi")
            .system("be brief")
            .temperature(0.5)
            .max_tokens(7)
            .stop(["\n\n", "END"])
            .seed(42);
        let keep = serde_json::json!("10m");
        let mut defaults = BTreeMap::new();
        defaults.insert("num_ctx".to_owned(), serde_json::json!(8192));
        defaults.insert("temperature".to_owned(), serde_json::json!(1.5)); // the request's wins
        let v =
            serde_json::to_value(wire::Chat::new(&req, "smollm2", Some(&keep), &defaults)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "model": "smollm2",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"}
                ],
                "stream": true,
                "options": {"temperature": 0.5, "num_predict": 7, "stop": ["\n\n", "END"], "seed": 42, "num_ctx": 8192},
                "keep_alive": "10m"
            })
        );
    }

    #[test]
    fn unset_fields_are_absent_from_the_body() {
        let none = BTreeMap::new();
        let req = ChatRequest::new("hi");
        let json = serde_json::to_string(&wire::Chat::new(&req, "m", None, &none)).unwrap();
        assert_eq!(
            json,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#
        );

        let mut defaults = BTreeMap::new();
        defaults.insert("temperature".to_owned(), serde_json::json!(0));
        let v = serde_json::to_value(wire::Chat::new(&req, "m", None, &defaults)).unwrap();
        assert_eq!(v["options"], serde_json::json!({"temperature": 0}));
    }

    // ---- line mapping ----

    #[test]
    fn content_lines_then_done_with_metrics() {
        let (chunks, end) = run(&[
            r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}"#,
            r#"{"model":"llama3.2","message":{"role":"assistant","content":" sky"},"done":false}"#,
            r#"{"model":"llama3.2","message":{"role":"assistant","content":""},"done":false}"#,
            r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
            "not read after done",
        ]);
        end.unwrap();
        assert_eq!(chunks.len(), 3, "empty content is skipped: {chunks:?}");
        assert_eq!(text(&chunks), "The sky");
        let f = finish(&chunks);
        assert_eq!(f.reason, FinishReason::Stop);
        assert_eq!((f.tokens_in, f.tokens_out), (Some(26), Some(282)));
        assert_eq!(f.model.as_deref(), Some("llama3.2"));
        let t = f.timings.unwrap();
        assert_eq!(t.total_ms, Some(4883.583458));
        assert_eq!(t.load_ms, Some(1.334875));
        assert_eq!(t.prompt_eval_ms, Some(342.546));
        assert_eq!(t.eval_ms, Some(4535.599));
    }

    #[test]
    fn thinking_is_reasoning_and_comes_first() {
        let (chunks, _) = run(&[
            r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Let me think"},"done":false}"#,
            r#"{"model":"qwen3","message":{"role":"assistant","content":"42","thinking":" done"},"done":false}"#,
            r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":null},"done":true,"done_reason":"stop"}"#,
        ]);
        assert_eq!(
            chunks[..3],
            [
                Chunk::Reasoning("Let me think".into()),
                Chunk::Reasoning(" done".into()),
                Chunk::Text("42".into())
            ]
        );
    }

    #[test]
    fn tool_calls_and_unknown_fields_are_ignored() {
        let (chunks, end) = run(&[
            r#"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.184789Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false}"#,
            r#"{"model":"llama3.2","message":{"role":"assistant","content":"ok","tool_calls":[{"id":"call_1","function":{"index":0,"name":"f","arguments":{}}}],"images":["aGk="],"tool_name":"x"},"logprobs":[{"token":"ok"}],"_debug_info":{},"remote_host":"h","done":false}"#,
            r#"{"model":"llama3.2","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":182242375,"load_duration":41295167,"prompt_eval_count":169,"prompt_eval_duration":24573166,"eval_count":15,"eval_duration":115959084}"#,
        ]);
        end.unwrap();
        assert_eq!(text(&chunks), "ok");
        assert_eq!(finish(&chunks).tokens_in, Some(169));
    }

    #[test]
    fn missing_metrics_are_zero_but_no_metrics_at_all_is_unknown() {
        // A cached prompt: prompt_eval_count and load_duration omitted (they are 0).
        let (chunks, _) = run(&[
            r#"{"model":"m","message":{"role":"assistant","content":"x"},"done":true,"done_reason":"length","total_duration":1000000,"eval_count":5,"eval_duration":500000}"#,
        ]);
        assert_eq!(text(&chunks), "x", "the done line's content comes first");
        let f = finish(&chunks);
        assert_eq!(f.reason, FinishReason::Length);
        assert_eq!((f.tokens_in, f.tokens_out), (Some(0), Some(5)));
        let t = f.timings.unwrap();
        assert_eq!(
            (t.total_ms, t.load_ms, t.prompt_eval_ms, t.eval_ms),
            (Some(1.0), Some(0.0), Some(0.0), Some(0.5))
        );

        // No metrics at all (generate-style final line): counts unknown, so estimated later.
        let (chunks, _) =
            run(&[r#"{"model":"m","message":{"content":"!"},"done":true,"done_reason":"stop"}"#]);
        let f = finish(&chunks);
        assert_eq!((f.tokens_in, f.tokens_out, f.timings), (None, None, None));

        // Nulls and odd numbers are tolerated.
        let (chunks, _) = run(&[
            r#"{"model":null,"message":null,"done":true,"done_reason":null,"eval_count":null,"prompt_eval_count":3.0,"total_duration":-5}"#,
        ]);
        let f = finish(&chunks);
        assert_eq!(f.reason, FinishReason::Stop);
        assert_eq!((f.tokens_in, f.tokens_out), (Some(3), Some(0)));
        assert_eq!(f.model, None);
    }

    #[test]
    fn other_done_reasons_are_kept() {
        for (reason, want) in [
            ("load", FinishReason::Other("load".into())),
            ("unload", FinishReason::Other("unload".into())),
            ("length", FinishReason::Length),
            ("stop", FinishReason::Stop),
        ] {
            let line = format!(
                r#"{{"model":"m","message":{{"content":""}},"done":true,"done_reason":"{reason}"}}"#
            );
            let (chunks, _) = run(&[&line]);
            assert_eq!(finish(&chunks).reason, want);
        }
    }

    #[test]
    fn a_bare_error_line_ends_the_stream_after_the_text() {
        let (chunks, end) = run(&[
            r#"{"model":"gemma4","message":{"role":"assistant","content":" Yes"},"done":false}"#,
            r#"{"error":"an error was encountered while running the model"}"#,
        ]);
        assert_eq!(text(&chunks), " Yes");
        assert!(!chunks.iter().any(|c| matches!(c, Chunk::Finish(_))));
        let err = end.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        let msg = err.to_string();
        assert!(
            msg.contains("an error was encountered while running the model"),
            "{msg}"
        );
        assert!(msg.contains("mid-reply"), "{msg}");
    }

    #[test]
    fn the_shims_done_reason_error_line_is_an_error() {
        let (chunks, end) = run(&[
            r#"{"model": "smollm2", "created_at": "2026-11-25T09:24:40Z", "message": {"role": "assistant", "content": " things"}, "done": false}"#,
            r#"{"model": "smollm2", "created_at": "2026-11-25T09:24:40Z", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "error", "error": "Context size has been exceeded."}"#,
        ]);
        assert_eq!(text(&chunks), " things");
        let err = end.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(
            err.to_string().contains("Context size has been exceeded."),
            "{err}"
        );

        // done_reason "error" without a message, and odd error shapes, are still errors.
        let (_, end) = run(&[r#"{"done":true,"done_reason":"error"}"#]);
        assert!(end.unwrap_err().to_string().contains("done_reason"));
        let (_, end) = run(&[r#"{"error":{"message":"nested"}}"#]);
        assert!(end.unwrap_err().to_string().contains("nested"));
        let (_, end) = run(&[r#"{"error":""}"#]);
        assert_eq!(end.unwrap_err().kind(), ErrorKind::Server);
        // `"error": null` is no error.
        let (chunks, end) = run(&[r#"{"error":null,"message":{"content":"a"},"done":true}"#]);
        end.unwrap();
        assert_eq!(text(&chunks), "a");
    }

    #[test]
    fn non_json_lines_are_protocol_errors_with_an_excerpt() {
        let (chunks, end) = run(&[
            r#"{"message":{"content":"a"}}"#,
            "<html>502 Bad Gateway</html>",
        ]);
        assert_eq!(text(&chunks), "a");
        let err = end.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(
            err.to_string().contains("<html>502 Bad Gateway</html>"),
            "{err}"
        );
        let long = format!("{{\"message\": {}", "x".repeat(5000));
        let err = run(&[&long]).1.unwrap_err();
        assert!(err.to_string().len() < 600, "the excerpt is short");
        // Wrong types inside an object are malformed too.
        assert_eq!(
            run(&[r#"{"message":{"content":5}}"#]).1.unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn a_body_without_a_done_line_is_truncated_not_a_success() {
        let (chunks, end) = run(&[r#"{"message":{"content":"partial"},"done":false}"#]);
        assert_eq!(text(&chunks), "partial");
        let err = end.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network);
        assert!(err.to_string().contains("\"done\": true"), "{err}");
        assert!(err.to_string().contains("incomplete"), "{err}");
        let (chunks, end) = run(&[]);
        assert!(chunks.is_empty() && end.is_err());
    }

    #[test]
    fn unicode_escapes_and_surrogate_pairs_as_the_shim_sends_them() {
        let (chunks, _) = run(&[
            r#"{"model": "smollm2", "message": {"role": "assistant", "content": "\ud83c\udf0c"}, "done": false}"#,
            r#"{"message": {"content": "caf\u00e9 \u65e5\u672c \"q\"\n"}, "done": false}"#,
            r#"{"message": {"content": "raw é 🦀"}, "done": true}"#,
        ]);
        assert_eq!(text(&chunks), "🌌café 日本 \"q\"\nraw é 🦀");
        // A lone surrogate is not valid JSON text: a protocol error, not a panic.
        let (_, end) = run(&[r#"{"message": {"content": "\ud83c"}, "done": false}"#]);
        assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn text_is_borrowed_from_the_line_unless_it_has_escapes() {
        let line: wire::Line<'_> = serde_json::from_str(
            r#"{"model":"m","message":{"content":"plain","thinking":"t\u00e9"}}"#,
        )
        .unwrap();
        let message = line.message.unwrap();
        assert!(matches!(message.content, Cow::Borrowed("plain")));
        assert!(matches!(message.thinking, Cow::Owned(ref s) if s == "té"));
        assert!(matches!(line.model, Cow::Borrowed("m")));
    }

    #[test]
    fn tags_are_read_leniently() {
        let tags: wire::Tags = serde_json::from_str(
            r#"{"models":[{"name":"qwen2.5:0.5b","model":"qwen2.5:0.5b","modified_at":"2025-05-01T10:00:00.1+02:00","size":397821319,"digest":"a8b0c5157701","details":{"parent_model":"","format":"gguf","family":"qwen2","families":["qwen2"],"parameter_size":"494.03M","quantization_level":"Q4_K_M"},"remote_host":null},{"name":"bare","details":null,"size":null,"digest":null}]}"#,
        )
        .unwrap();
        let models: Vec<LocalModel> = tags
            .models
            .into_iter()
            .map(wire::TagModel::into_public)
            .collect();
        assert_eq!(models.len(), 2);
        assert_eq!(models[0].size, 397_821_319);
        assert_eq!(models[0].details.parameter_size, "494.03M");
        assert_eq!(models[0].details.families, vec!["qwen2"]);
        assert_eq!(models[1].name, "bare");
        assert_eq!(models[1].details, LocalModelDetails::default());
        let empty: wire::Tags = serde_json::from_str(r#"{"models":null}"#).unwrap();
        assert!(empty.models.is_empty());
    }

    #[test]
    fn error_statuses_are_classified() {
        let resp = |status: u16, message: &str| ErrorResponse {
            status,
            retry_after: None,
            body: http::ErrorBody {
                message: message.to_owned(),
                ..http::ErrorBody::default()
            },
        };
        let host = "http://localhost:11434";
        for wording in [
            "model 'llama9' not found, try pulling it first",
            "model \"llama9\" not found, try pulling it first",
            "model 'llama9' not found",
        ] {
            let err = classify(resp(404, wording), Some("llama9"), host);
            assert_eq!(err.kind(), ErrorKind::ModelNotFound);
            assert_eq!(
                err.to_string(),
                "Model 'llama9' not found. Pull it with: ollama pull llama9"
            );
            assert_eq!(err.status(), Some(404));
        }
        let err = classify(resp(404, "404 page not found"), Some("m"), host);
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidRequest,
            "a wrong path is not a missing model"
        );
        assert!(err.to_string().contains("OLLAMA_HOST"), "{err}");
        let cases = [
            (400, "model is required", ErrorKind::InvalidRequest),
            (401, "unauthorized", ErrorKind::Auth),
            (403, "forbidden", ErrorKind::Auth),
            (429, "too many requests", ErrorKind::RateLimited),
            (
                500,
                "llama runner process has terminated",
                ErrorKind::Server,
            ),
            (
                503,
                "server busy, please try again.  maximum pending requests exceeded",
                ErrorKind::Server,
            ),
        ];
        for (status, message, kind) in cases {
            let err = classify(resp(status, message), Some("m"), host);
            assert_eq!(err.kind(), kind, "{status}");
            assert_eq!(err.status(), Some(status));
            assert!(err.to_string().contains(message), "{err}");
            assert!(err.to_string().starts_with("ollama "), "{err}");
        }
    }

    // ---- any split of a transcript gives the same chunks ----

    const UNICODE: &[u8] =
        include_bytes!("../../../tests/transcripts/ollama-compat/chat_unicode.body");
    const STREAM: &[u8] =
        include_bytes!("../../../tests/transcripts/ollama-compat/chat_stream.body");
    const MIDSTREAM_ERROR: &[u8] = include_bytes!(
        "../../../tests/transcripts/ollama-compat/chat_backend_midstream_error.body"
    );

    /// Frames `pieces` with `NdjsonLines` and decodes them: each chunk or the error, as text.
    fn decode_pieces(pieces: Vec<Vec<u8>>) -> Vec<String> {
        let bytes = futures::stream::iter(
            pieces
                .into_iter()
                .map(|p| Ok::<_, ()>(bytes::Bytes::from(p))),
        );
        let frames = NdjsonLines::new(bytes, 1 << 20)
            .map(|r| r.map_err(|_| Error::new(ErrorKind::Protocol, "framing failed")));
        let decoded = Decoded::new(frames, LineDecoder::new(endpoint()));
        futures::executor::block_on(decoded.collect::<Vec<_>>())
            .into_iter()
            .map(|item| match item {
                Ok(chunk) => format!("{chunk:?}"),
                Err(e) => format!("error {:?}: {e}", e.kind()),
            })
            .collect()
    }

    fn cut(body: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
        cuts.retain(|&c| c <= body.len());
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for c in cuts {
            pieces.push(body.get(last..c).unwrap_or_default().to_vec());
            last = c;
        }
        pieces.push(body.get(last..).unwrap_or_default().to_vec());
        pieces
    }

    #[test]
    fn whole_transcripts_decode_as_expected() {
        let chunks = decode_pieces(vec![UNICODE.to_vec()]);
        assert_eq!(chunks.len(), 9);
        assert!(chunks[0].contains('🌌'), "{chunks:?}");
        assert!(chunks[8].starts_with("Finish"), "{chunks:?}");
        let chunks = decode_pieces(vec![MIDSTREAM_ERROR.to_vec()]);
        assert!(chunks
            .last()
            .unwrap()
            .contains("Context size has been exceeded."));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_split_gives_the_same_chunks(
            which in 0usize..3,
            cuts in proptest::collection::vec(0usize..40_000, 0..40),
        ) {
            let body = [UNICODE, STREAM, MIDSTREAM_ERROR][which];
            let cuts = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
            prop_assert_eq!(decode_pieces(cut(body, cuts)), decode_pieces(vec![body.to_vec()]));
        }
    }
}
