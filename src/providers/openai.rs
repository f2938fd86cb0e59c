//! [`OpenAiProvider`]: the Chat Completions API streamed over Server-Sent Events, for
//! api.openai.com and every OpenAI-compatible server (llama.cpp, vLLM, LM Studio,
//! Ollama's `/v1`, hosted gateways).
//!
//! Reads top to bottom: the provider and its builder; the trait impl (glue); the
//! request and its error mapping; the decoder from SSE data to [`Chunk`]s; the serde
//! wire types.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use tokio::time::Instant;

use crate::chunk::{Chunk, Finish, FinishReason, ServerTimings};
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::http::{self, Decoded, Decoder, Endpoint, ErrorResponse, Flow, HttpSettings, Sent};
use crate::pricing::{Price, PriceTable};
use crate::provider::LlmStreamProvider;
use crate::redact::{redact_url, Redactor};
use crate::request::ChatRequest;
use crate::retry::Retrying;
use crate::stream::{ChatStream, StreamInfo};

/// The OpenAI Chat Completions provider.
///
/// Cheap to clone (the configuration is shared). The API key is sent as
/// `Authorization: Bearer …` and never appears in `Debug`, logs or error messages.
///
/// ```
/// use theory_llm::{LlmStreamProvider, OpenAiProvider};
///
/// # fn main() -> theory_llm::Result<()> {
/// let llm = OpenAiProvider::new("sk-example")?;
/// assert_eq!(llm.default_model(), "gpt-4o-mini");
/// assert!(!format!("{llm:?}").contains("sk-example"));
///
/// // Any OpenAI-compatible server, e.g. a local llama.cpp server:
/// let local = OpenAiProvider::builder()
///     .api_key("none")
///     .base_url("http://127.0.0.1:8080/v1/")
///     .default_model("smollm2")
///     .build()?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080/v1");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct OpenAiProvider {
    inner: Arc<Config>,
}

struct Config {
    api_key: String,
    /// The base URL requests go to, without user info.
    request_base: String,
    /// The base URL as shown (its password redacted).
    base_url: String,
    /// User name and password from the base URL, sent as Basic auth when there is no
    /// API key.
    credentials: Option<(String, String)>,
    /// Hides the key, the URL's password and the extra headers' values from errors
    /// and reply metadata.
    redactor: Redactor,
    default_model: String,
    client: reqwest::Client,
    headers: HeaderMap,
    prices: PriceTable,
    /// Send `stream_options.include_usage`. Turned off for good after a server
    /// rejected it (400 naming `stream_options`).
    stream_options: AtomicBool,
    /// Send `max_completion_tokens` instead of `max_tokens` (learned from a 400).
    max_completion_tokens: AtomicBool,
    settings: HttpSettings,
}

impl OpenAiProvider {
    /// The provider's name.
    pub const NAME: &'static str = "openai";
    /// The default model.
    pub const DEFAULT_MODEL: &'static str = "gpt-4o-mini";
    /// The default base URL.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.openai.com/v1";

    /// A provider for api.openai.com with `api_key` and the defaults.
    ///
    /// # Errors
    /// `invalid_request` if the key is empty; `provider_unavailable` if the HTTP client
    /// cannot be built.
    pub fn new(api_key: impl Into<String>) -> Result<OpenAiProvider> {
        OpenAiProvider::builder().api_key(api_key).build()
    }

    /// A builder for every setting.
    pub fn builder() -> OpenAiProviderBuilder {
        OpenAiProviderBuilder::default()
    }

    /// Configured from the environment: `OPENAI_API_KEY` (required) and
    /// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`).
    ///
    /// # Errors
    /// `provider_unavailable` naming `OPENAI_API_KEY` when it is not set (unless
    /// `OPENAI_BASE_URL` points at this machine: local servers usually need no key);
    /// `invalid_request` when `OPENAI_BASE_URL` is not a valid http(s) URL.
    pub fn from_env() -> Result<OpenAiProvider> {
        OpenAiProvider::from_lookup(|name| std::env::var(name).ok())
    }

    /// A builder preset from the environment (as [`from_env`](Self::from_env) reads it),
    /// to adjust before `build()`: e.g. the CLI's `--connect-timeout`.
    ///
    /// # Errors
    /// `provider_unavailable` naming `OPENAI_API_KEY` when it is not set.
    pub fn builder_from_env() -> Result<OpenAiProviderBuilder> {
        OpenAiProvider::builder_from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with a custom variable lookup.
    pub(crate) fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<OpenAiProvider> {
        OpenAiProvider::builder_from_lookup(var)?.build()
    }

    /// [`builder_from_env`](Self::builder_from_env) with a custom variable lookup.
    fn builder_from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<OpenAiProviderBuilder> {
        let key = var("OPENAI_API_KEY").filter(|k| !k.trim().is_empty());
        let base = var("OPENAI_BASE_URL").filter(|b| !b.trim().is_empty());
        // A server on this machine (llama.cpp, LM Studio, vLLM, Ollama's /v1) usually
        // needs no key; anything else does.
        let local = base.as_deref().is_some_and(http::is_loopback);
        if key.is_none() && !local {
            return Err(Error::new(
                ErrorKind::ProviderUnavailable,
                "openai is not configured: OPENAI_API_KEY is not set. Set it to your OpenAI API key \
                 (or point OPENAI_BASE_URL at a local OpenAI-compatible server, which needs none)",
            ));
        }
        let mut builder = OpenAiProvider::builder();
        builder.api_key = key;
        if let Some(base) = base {
            builder = builder.base_url(base);
            builder.base_url_from_env = true;
        }
        Ok(builder)
    }

    /// The base URL requests go to (no trailing slash), with the password of any user
    /// info in it redacted.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            provider: OpenAiProvider::NAME,
            base: self.inner.base_url.clone(),
            unreachable_hint: "Check that the server is running and that OPENAI_BASE_URL (or the base URL you set) is right",
        }
    }
}

impl fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner;
        f.debug_struct("OpenAiProvider")
            .field("api_key", &"[REDACTED]")
            .field("base_url", &c.base_url)
            .field("default_model", &c.default_model)
            .field(
                "extra_headers",
                &c.headers.keys().map(HeaderName::as_str).collect::<Vec<_>>(),
            )
            .field("stream_options", &c.stream_options.load(Ordering::Relaxed))
            .field("settings", &c.settings)
            .finish_non_exhaustive()
    }
}

/// Builds an [`OpenAiProvider`]. Errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct OpenAiProviderBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    base_url_from_env: bool,
    default_model: Option<String>,
    client: Option<reqwest::Client>,
    headers: Vec<(String, String)>,
    prices: Option<PriceTable>,
    extra_prices: Vec<(String, Price)>,
    stream_options: Option<bool>,
    settings: HttpSettings,
}

impl fmt::Debug for OpenAiProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiProviderBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("default_model", &self.default_model)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OpenAiProviderBuilder {
    /// The API key (required, except for a server on this machine, which usually needs none).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The base URL, e.g. `http://localhost:8080/v1` (default `https://api.openai.com/v1`;
    /// a trailing slash is fine). Requests go to `{base}/chat/completions`.
    ///
    /// User info in it (`http://user:password@host/v1`) is sent as HTTP Basic
    /// authentication when there is no API key (a key wins), and its password is never
    /// shown: not in errors, `Debug` or [`OpenAiProvider::base_url`].
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The model used when a request names none (default `gpt-4o-mini`).
    #[must_use]
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.default_model = Some(model.into());
        self
    }

    /// Use this HTTP client (its own timeouts, proxy and TLS settings apply; the
    /// connect timeout of this builder does not).
    ///
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: the provider's own
    /// client never follows redirects, so that the key never travels to another
    /// server, but a client passed in follows its own policy. A reply that arrives
    /// through a redirect is refused with an error, after the fact.
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Send this header with every request (e.g. `OpenAI-Organization`, or `api-key`
    /// for Azure). Header values are never shown in `Debug` output, and are hidden
    /// from error messages like the API key.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replace the whole price table (default: [`PriceTable::openai`]).
    #[must_use]
    pub fn prices(mut self, table: PriceTable) -> Self {
        self.prices = Some(table);
        self
    }

    /// Add or override the price of one model.
    #[must_use]
    pub fn price(mut self, model: impl Into<String>, price: Price) -> Self {
        self.extra_prices.push((model.into(), price));
        self
    }

    /// Whether to send `stream_options: {"include_usage": true}` (default `true`). Some
    /// compatible servers reject it; the provider also turns it off by itself after a
    /// 400 that names it, retrying once.
    #[must_use]
    pub fn stream_options(mut self, send: bool) -> Self {
        self.stream_options = Some(send);
        self
    }

    crate::http::http_builder_setters!();

    /// The largest SSE event accepted (default 16 MiB), counted as the bytes of its lines
    /// without their line ends; a larger one is a `protocol` error.
    #[must_use]
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.settings.max_frame_bytes = limit;
        self
    }

    /// The provider.
    ///
    /// # Errors
    /// `invalid_request` for a missing key (unless the base URL is on this machine), a
    /// base URL that is not http(s), or
    /// an invalid header; `provider_unavailable` if the HTTP client cannot be built.
    pub fn build(self) -> Result<OpenAiProvider> {
        let api_key = self.api_key.unwrap_or_default().trim().to_owned();
        let source = if self.base_url_from_env {
            "OPENAI_BASE_URL"
        } else {
            "the base URL"
        };
        let base = normalize_base_url(
            self.base_url
                .as_deref()
                .unwrap_or(OpenAiProvider::DEFAULT_BASE_URL),
            source,
        )?;
        let request_base = base.url;
        let base_url = redact_url(&base.shown);
        if api_key.is_empty() && base.credentials.is_none() && !http::is_loopback(&request_base) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("openai: no API key for {base_url}. Pass your API key (only servers on this machine may go without one)"),
            ));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!("openai: '{name}' is not a valid HTTP header name"),
                )
            })?;
            let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "openai: the value of header '{name}' is not a valid HTTP header value"
                    ),
                )
            })?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let client = match self.client {
            Some(c) => c,
            None => http::build_client(self.settings.connect_timeout, &request_base)?,
        };
        let mut prices = self.prices.unwrap_or_else(PriceTable::openai);
        for (model, price) in self.extra_prices {
            prices.insert(model, price);
        }
        let mut secrets = vec![api_key.clone()];
        secrets.extend(
            base.credentials
                .iter()
                .map(|(_, password)| password.clone()),
        );
        secrets.extend(self.headers.iter().map(|(_, value)| value.clone()));
        Ok(OpenAiProvider {
            inner: Arc::new(Config {
                api_key,
                request_base,
                base_url,
                credentials: base.credentials,
                redactor: Redactor::new(secrets),
                default_model: self
                    .default_model
                    .unwrap_or_else(|| OpenAiProvider::DEFAULT_MODEL.to_owned()),
                client,
                headers,
                prices,
                stream_options: AtomicBool::new(self.stream_options.unwrap_or(true)),
                max_completion_tokens: AtomicBool::new(false),
                settings: self.settings,
            }),
        })
    }
}

/// A checked base URL.
struct BaseUrl {
    /// Where requests go: the URL without user info or trailing slashes.
    url: String,
    /// The URL as configured, without trailing slashes (it may hold a password; show it
    /// only through `redact_url`).
    shown: String,
    /// The user name and password of the user info, percent-decoded.
    credentials: Option<(String, String)>,
}

/// Checks `raw` is an http(s) URL, drops trailing slashes and takes out user info.
fn normalize_base_url(raw: &str, source: &str) -> Result<BaseUrl> {
    let trimmed = raw.trim().trim_end_matches('/');
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!(
                "openai: {source} '{}' is not usable: {why}. Use a URL such as https://api.openai.com/v1 or http://localhost:8080/v1",
                redact_url(trimmed)
            ),
        )
    };
    let mut url = reqwest::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    let credentials = (!url.username().is_empty() || url.password().is_some()).then(|| {
        (
            percent_decode(url.username()),
            percent_decode(url.password().unwrap_or("")),
        )
    });
    if credentials.is_none() {
        return Ok(BaseUrl {
            url: trimmed.to_owned(),
            shown: trimmed.to_owned(),
            credentials,
        });
    }
    // Infallible for an http(s) URL with a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(BaseUrl {
        url: url.as_str().trim_end_matches('/').to_owned(),
        shown: trimmed.to_owned(),
        credentials,
    })
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseUrl")
            .field("url", &self.url)
            .field("shown", &redact_url(&self.shown))
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish()
    }
}

/// `%xx` escapes decoded (as in URL user info); invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl LlmStreamProvider for OpenAiProvider {
    fn name(&self) -> &str {
        OpenAiProvider::NAME
    }

    fn default_model(&self) -> &str {
        &self.inner.default_model
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let cfg = &self.inner;
        let mut info = StreamInfo::for_request(OpenAiProvider::NAME, &request, &cfg.default_model);
        info.pricing = cfg.prices.pricing(&info.model);
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
        let body = wire::Request::from_chat(&request, info.model.clone());
        let provider = self.clone();
        let make_attempt = move |give_up_at| provider.attempt(body.clone(), give_up_at).boxed();
        let redactor = cfg.redactor.clone();
        let stream = Retrying::new(OpenAiProvider::NAME, policy, timeouts, make_attempt)
            .map(move |item| redactor.item(item));
        ChatStream::new(info, stream).with_timeouts(timeouts)
    }
}

impl OpenAiProvider {
    /// One attempt: send, check the status, then decode the body as it arrives.
    fn attempt(
        &self,
        body: wire::Request,
        give_up_at: Option<Instant>,
    ) -> impl futures::Stream<Item = Result<Chunk>> + Send + 'static {
        let provider = self.clone();
        let endpoint = self.endpoint();
        futures::stream::once(async move {
            let accepted = provider.open(body, &endpoint, give_up_at).await?;
            let response = accepted.response;
            let is_json = accepted.media_type.as_deref() == Some("application/json");
            let decoder = SseDecoder::new(endpoint.clone()).with_media_type(accepted.media_type);
            let frames = if is_json {
                // A server that ignored `stream: true` sends one completion object; the
                // decoder reads `message` like `delta`.
                let limit = provider.inner.settings.max_frame_bytes;
                read_whole(response, endpoint.clone(), limit)
                    .map_ok(bytes::Bytes::from)
                    .boxed()
            } else {
                endpoint
                    .sse_frames(response, provider.inner.settings.max_frame_bytes)
                    .boxed()
            };
            Ok::<_, Error>(Decoded::new(frames, decoder))
        })
        .try_flatten()
    }
}

/// A whole (non-streamed) body as one frame.
fn read_whole(
    response: reqwest::Response,
    endpoint: Endpoint,
    limit: usize,
) -> impl futures::Stream<Item = Result<Vec<u8>>> + Send {
    futures::stream::once(async move {
        let mut body = Vec::new();
        let mut response = response;
        while let Some(bytes) = response.chunk().await.map_err(|e| endpoint.body_error(e))? {
            if body.len() + bytes.len() > limit {
                return Err(
                    endpoint.malformed(&format!("the response is larger than {limit} bytes"))
                );
            }
            body.extend_from_slice(&bytes);
        }
        Ok(body)
    })
}

impl OpenAiProvider {
    /// Sends the request and returns a 2xx response, adapting once to servers that
    /// reject `stream_options` or `max_tokens`.
    async fn open(
        &self,
        mut body: wire::Request,
        endpoint: &Endpoint,
        give_up_at: Option<Instant>,
    ) -> Result<http::Accepted> {
        let cfg = &self.inner;
        if !cfg.stream_options.load(Ordering::Relaxed) {
            body.stream_options = None;
        }
        if cfg.max_completion_tokens.load(Ordering::Relaxed) {
            body.use_max_completion_tokens();
        }
        let url = format!("{}/chat/completions", cfg.request_base);
        let mut adapted = false;
        loop {
            let bytes = serde_json::to_vec(&body).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!("openai: the request cannot be encoded as JSON ({e})"),
                )
            })?;
            let mut post = cfg.client.post(&url).headers(cfg.headers.clone());
            if !cfg.api_key.is_empty() {
                let mut auth = HeaderValue::from_str(&format!("Bearer {}", cfg.api_key)).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidRequest,
                        "openai: the API key contains characters not allowed in an HTTP header; check OPENAI_API_KEY",
                    )
                })?;
                auth.set_sensitive(true);
                post = post.header(AUTHORIZATION, auth);
            } else if let Some((user, password)) = &cfg.credentials {
                post = post.basic_auth(user, Some(password));
            }
            let post = post
                .header(CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "text/event-stream")
                .body(bytes);
            let failure = match endpoint.send(post, ACCEPTED, give_up_at).await? {
                Sent::Accepted(accepted) => return Ok(accepted),
                Sent::Failed(failure) => failure,
            };
            if failure.status == 400 && !adapted {
                let msg = failure.body.message.as_str();
                let param = failure.body.param.as_deref().unwrap_or("");
                if body.stream_options.is_some()
                    && (msg.contains("stream_options") || param == "stream_options")
                {
                    // Remember: this server will reject it every time.
                    cfg.stream_options.store(false, Ordering::Relaxed);
                    body.stream_options = None;
                    adapted = true;
                    continue;
                }
                if body.max_tokens.is_some() && msg.contains("max_completion_tokens") {
                    cfg.max_completion_tokens.store(true, Ordering::Relaxed);
                    body.use_max_completion_tokens();
                    adapted = true;
                    continue;
                }
            }
            return Err(classify(failure, &body.model, &cfg.base_url));
        }
    }
}

/// The media types of a chat reply: a stream, or one whole completion from a server
/// that ignored `stream: true`.
const ACCEPTED: &[&str] = &["text/event-stream", "application/json"];

/// The error for a non-2xx response: status → kind, keeping the server's words.
fn classify(failure: ErrorResponse, model: &str, base_url: &str) -> Error {
    let code = failure.body.code.as_deref().unwrap_or("");
    let kind_name = failure.body.kind.as_deref().unwrap_or("");
    let msg = failure.body.message.to_ascii_lowercase();
    let (kind, advice) = match failure.status {
        401 | 403 => (ErrorKind::Auth, "Check OPENAI_API_KEY (or the key you passed) and its permissions".to_owned()),
        404 if code == "model_not_found"
            || msg.contains("does not exist")
            || (msg.contains("model") && msg.contains("not found")) =>
        {
            (
                ErrorKind::ModelNotFound,
                format!("Check the model name '{model}'; GET {base_url}/models lists the models this server has"),
            )
        }
        404 => (
            ErrorKind::InvalidRequest,
            format!("{base_url}/chat/completions does not exist on this server: check the base URL (it usually ends in /v1)"),
        ),
        429 if code == "insufficient_quota" || kind_name == "insufficient_quota" => {
            let advice = "The account's quota is used up: check the plan and billing (retrying will not help)";
            // Not retryable, unlike other 429s.
            return failure
                .into_error(OpenAiProvider::NAME, ErrorKind::RateLimited, advice)
                .with_retryable(false);
        }
        status => {
            let kind = http::kind_for_status(status);
            (kind, http::advice_for(kind).to_owned())
        }
    };
    failure.into_error(OpenAiProvider::NAME, kind, &advice)
}

/// Maps SSE data frames to chunks.
///
/// The finish is held back until `[DONE]` or the end of the body, because with
/// `include_usage` the token counts come in a chunk after the one with `finish_reason`.
/// Secrets are not its concern: the provider scrubs every item it passes on.
pub(crate) struct SseDecoder {
    endpoint: Endpoint,
    finish_reason: Option<FinishReason>,
    tokens: Option<(Option<u64>, Option<u64>)>,
    model: Option<String>,
    timings: Option<ServerTimings>,
    /// An event that was a chat completion chunk has been seen.
    recognized: bool,
    /// The start of the first event, kept until one is recognized: a body of JSON that is
    /// not a chat completion is quoted in the error.
    first_frame: Option<String>,
    /// The body's media type, for that error.
    media_type: Option<String>,
}

impl SseDecoder {
    pub(crate) fn new(endpoint: Endpoint) -> SseDecoder {
        SseDecoder {
            endpoint,
            finish_reason: None,
            tokens: None,
            model: None,
            timings: None,
            recognized: false,
            first_frame: None,
            media_type: None,
        }
    }

    /// Names the body's media type in the error for a body that holds no reply.
    pub(crate) fn with_media_type(mut self, media_type: Option<String>) -> SseDecoder {
        self.media_type = media_type;
        self
    }

    fn finish(&mut self) -> Chunk {
        let mut finish = Finish::new(self.finish_reason.take().unwrap_or_default());
        if let Some((tokens_in, tokens_out)) = self.tokens.take() {
            finish = finish.with_tokens(tokens_in, tokens_out);
        }
        if let Some(model) = self.model.take() {
            finish = finish.with_model(model);
        }
        if let Some(t) = self.timings.take() {
            finish = finish.with_timings(t);
        }
        Chunk::from(finish)
    }
}

impl Decoder for SseDecoder {
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        if frame.trim_ascii() == b"[DONE]" {
            out.push_back(self.finish());
            return Ok(Flow::Done);
        }
        // Checking the UTF-8 once here and parsing a `&str` is faster than having the
        // JSON parser check each string it borrows (measured: ~50 ns an event).
        let parsed = match std::str::from_utf8(frame) {
            Ok(text) => serde_json::from_str::<wire::Event<'_>>(text).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let event = parsed.map_err(|e| {
            let text = String::from_utf8_lossy(frame);
            self.endpoint.malformed(&format!(
                "an event is not a chat completion chunk ({e}): {}",
                excerpt(&text, 200)
            ))
        })?;
        if !self.recognized {
            self.recognized = event.is_recognized();
            if !self.recognized && self.first_frame.is_none() {
                self.first_frame = Some(excerpt(&String::from_utf8_lossy(frame), 200));
            }
        }
        map_event(event, self, out)?;
        Ok(Flow::Continue)
    }

    fn end_of_body(&mut self, out: &mut VecDeque<Chunk>) -> Result<()> {
        if self.finish_reason.is_some() {
            // Some servers close after the finish without sending `[DONE]`: complete.
            out.push_back(self.finish());
            Ok(())
        } else if let (false, Some(first)) = (self.recognized, &self.first_frame) {
            // Not a short reply but no reply at all: something else answered.
            Err(self.endpoint.malformed(&format!(
                "the body ({}) holds no chat completion; it starts: {first}",
                self.media_type.as_deref().unwrap_or("no content type")
            )))
        } else {
            Err(self
                .endpoint
                .truncated("the reply finished (no finish_reason and no [DONE])"))
        }
    }
}

/// The pure mapping of one event: text, reasoning, finish reason, usage, or an error.
fn map_event(
    event: wire::Event<'_>,
    state: &mut SseDecoder,
    out: &mut VecDeque<Chunk>,
) -> Result<()> {
    if let Some(error) = event.error {
        return Err(stream_error(&error));
    }
    if let Some(model) = event.model {
        if state.model.as_deref() != Some(&*model) {
            state.model = Some(model.into_owned());
        }
    }
    // With `n > 1` only the first choice is the reply: `Choices` keeps only index 0.
    for choice in event.choices {
        if let Some(delta) = choice.delta {
            for reasoning in [delta.reasoning_content, delta.reasoning]
                .into_iter()
                .flatten()
            {
                if !reasoning.is_empty() {
                    out.push_back(Chunk::Reasoning(reasoning.into_owned()));
                }
            }
            if let Some(content) = delta.content {
                if !content.is_empty() {
                    out.push_back(Chunk::Text(content.into_owned()));
                }
            }
        }
        if let Some(reason) = choice.finish_reason {
            if !reason.is_empty() {
                state.finish_reason = Some(FinishReason::parse(&reason));
            }
        }
    }
    if let Some(usage) = event.usage {
        if usage.prompt_tokens.is_present() || usage.completion_tokens.is_present() {
            state.tokens = Some((usage.prompt_tokens.value(), usage.completion_tokens.value()));
        }
    }
    if let Some(t) = event.timings {
        state.timings = Some(ServerTimings {
            total_ms: match (t.prompt_ms, t.predicted_ms) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            },
            load_ms: None,
            prompt_eval_ms: t.prompt_ms,
            eval_ms: t.predicted_ms,
        });
    }
    Ok(())
}

/// An error event inside the stream (OpenAI and llama.cpp send these after a 200).
fn stream_error(value: &serde_json::Value) -> Error {
    let body =
        http::ErrorBody::from_json(&serde_json::json!({ "error": value })).unwrap_or_default();
    let tag = format!(
        "{} {}",
        body.code.as_deref().unwrap_or(""),
        body.kind.as_deref().unwrap_or("")
    );
    let quota_gone = tag.contains("insufficient_quota");
    let limited = quota_gone || tag.contains("rate_limit") || tag.contains("429");
    let (kind, advice) = if quota_gone {
        (
            ErrorKind::RateLimited,
            "The account's quota is used up: check the plan and billing",
        )
    } else if limited {
        (
            ErrorKind::RateLimited,
            "Wait and retry, or check your plan's limits",
        )
    } else {
        (
            ErrorKind::Server,
            "The reply is incomplete; retry the request",
        )
    };
    let message = if body.message.is_empty() {
        value.to_string()
    } else {
        body.message
    };
    // Retried by the provider only while no content has been delivered.
    let message = message.trim_end_matches('.');
    Error::new(
        kind,
        format!("openai server error mid-stream: {message}. {advice}"),
    )
    .with_retryable(!quota_gone)
}

/// The JSON on the wire. Lenient: every field optional, unknown fields ignored, and
/// text borrowed from the frame when it has no escapes.
mod wire {
    use std::borrow::Cow;
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{self, Deserializer, SeqAccess, Visitor};
    use serde::{Deserialize, Serialize};

    use crate::lenient::Reported;
    use crate::request::ChatRequest;

    #[derive(Debug, Clone, Serialize)]
    pub(super) struct Request {
        pub(super) model: String,
        pub(super) messages: Vec<Message>,
        pub(super) stream: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) stream_options: Option<StreamOptions>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) temperature: Option<f32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) max_tokens: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) max_completion_tokens: Option<u32>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) stop: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub(super) seed: Option<u64>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub(super) struct Message {
        pub(super) role: &'static str,
        pub(super) content: String,
    }

    #[derive(Debug, Clone, Serialize)]
    pub(super) struct StreamOptions {
        pub(super) include_usage: bool,
    }

    impl Request {
        pub(super) fn from_chat(request: &ChatRequest, model: String) -> Request {
            Request {
                model,
                messages: request
                    .full_conversation()
                    .map(|(role, content)| Message {
                        role: role.as_str(),
                        content: content.to_owned(),
                    })
                    .collect(),
                stream: true,
                stream_options: Some(StreamOptions {
                    include_usage: true,
                }),
                temperature: request.temperature,
                max_tokens: request.max_tokens,
                max_completion_tokens: None,
                stop: request.stop.clone(),
                seed: request.seed,
            }
        }

        pub(super) fn use_max_completion_tokens(&mut self) {
            if let Some(n) = self.max_tokens.take() {
                self.max_completion_tokens = Some(n);
            }
        }
    }

    impl Event<'_> {
        /// Whether this is what a chat completion stream is made of: choices, usage, an
        /// error, or at least a model name.
        pub(super) fn is_recognized(&self) -> bool {
            self.choices.first.is_some()
                || self.choices.seen
                || self.usage.is_some()
                || self.error.is_some()
                || self.model.is_some()
        }
    }

    /// One `data:` event: a `chat.completion.chunk`, a usage-only chunk, an error, or
    /// (from a server that ignored `stream: true`) a whole `chat.completion`. What only
    /// a few events carry is boxed: a smaller struct is measurably faster to read.
    #[derive(Debug, Deserialize)]
    pub(super) struct Event<'a> {
        #[serde(default, borrow)]
        pub(super) choices: Choices<'a>,
        #[serde(default)]
        pub(super) usage: Option<Box<Usage>>,
        #[serde(default, borrow, deserialize_with = "text")]
        pub(super) model: Option<Cow<'a, str>>,
        #[serde(default)]
        pub(super) error: Option<Box<serde_json::Value>>,
        /// llama.cpp's server timings.
        #[serde(default)]
        pub(super) timings: Option<Box<Timings>>,
    }

    /// The choices of the reply (`choices[i]` with `index` 0, or no index): with `n > 1`
    /// the others are other replies, and are dropped as they are read. `null` or a
    /// missing list is empty. Reading the usual one choice allocates nothing.
    #[derive(Debug, Default)]
    pub(super) struct Choices<'a> {
        first: Option<Choice<'a>>,
        more: Vec<Choice<'a>>,
        /// The event had a `choices` list (maybe empty, as in Azure's first chunk).
        seen: bool,
    }

    impl<'a> IntoIterator for Choices<'a> {
        type Item = Choice<'a>;
        type IntoIter =
            std::iter::Chain<std::option::IntoIter<Choice<'a>>, std::vec::IntoIter<Choice<'a>>>;

        fn into_iter(self) -> Self::IntoIter {
            self.first.into_iter().chain(self.more)
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Choices<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct List<'a>(PhantomData<Choice<'a>>);
            impl<'de: 'a, 'a> Visitor<'de> for List<'a> {
                type Value = Choices<'a>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a list of choices or null")
                }
                fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Choices::default())
                }
                fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(Choices::default())
                }
                fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                    d.deserialize_seq(self)
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    let mut choices = Choices {
                        seen: true,
                        ..Choices::default()
                    };
                    while let Some(choice) = seq.next_element::<Choice<'a>>()? {
                        if choice.index.value().unwrap_or(0) != 0 {
                            continue;
                        }
                        match choices.first {
                            None => choices.first = Some(choice),
                            Some(_) => choices.more.push(choice),
                        }
                    }
                    Ok(choices)
                }
            }
            d.deserialize_option(List(PhantomData))
        }
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Choice<'a> {
        #[serde(default)]
        pub(super) index: Reported,
        #[serde(default, borrow, alias = "message")]
        pub(super) delta: Option<Delta<'a>>,
        #[serde(default, borrow, deserialize_with = "text")]
        pub(super) finish_reason: Option<Cow<'a, str>>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Delta<'a> {
        #[serde(default, borrow, deserialize_with = "text")]
        pub(super) content: Option<Cow<'a, str>>,
        /// DeepSeek, vLLM.
        #[serde(default, borrow, deserialize_with = "text")]
        pub(super) reasoning_content: Option<Cow<'a, str>>,
        /// Groq, OpenRouter.
        #[serde(default, borrow, deserialize_with = "text")]
        pub(super) reasoning: Option<Cow<'a, str>>,
    }

    /// A string, borrowed from the frame when it has no escapes; `null` is `None`.
    ///
    /// (`#[serde(borrow)]` alone borrows a `Cow<str>` field but not an
    /// `Option<Cow<str>>`: that one was always an owned copy.)
    fn text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Option<Cow<'de, str>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v)))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_str(self)
            }
        }
        d.deserialize_option(Text)
    }

    /// Token counts, by the crate's one rule for counts ([`Reported`]).
    #[derive(Debug, Deserialize)]
    pub(super) struct Usage {
        #[serde(default)]
        pub(super) prompt_tokens: Reported,
        #[serde(default)]
        pub(super) completion_tokens: Reported,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Timings {
        #[serde(default, deserialize_with = "millis")]
        pub(super) prompt_ms: Option<f64>,
        #[serde(default, deserialize_with = "millis")]
        pub(super) predicted_ms: Option<f64>,
    }

    /// A number read leniently: an integer, a float (`12.0`, rounded), or a numeric
    /// string; anything else (a negative number, `true`, an object) is `None` rather
    /// than a failed reply, since a count is never worth losing the text over.
    fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        struct Number;
        impl<'de> Visitor<'de> for Number {
            type Value = Option<f64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(v.trim().parse().ok())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(None)
            }
        }
        d.deserialize_option(Number)
    }

    /// A duration in milliseconds, leniently (see [`number`]).
    fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(number(d)?.filter(|n| n.is_finite() && *n >= 0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn decoder() -> SseDecoder {
        SseDecoder::new(Endpoint {
            provider: "openai",
            base: "http://test/v1".into(),
            unreachable_hint: "",
        })
    }

    fn run(frames: &[&str]) -> (Vec<Chunk>, Result<()>) {
        let mut d = decoder();
        let mut out = VecDeque::new();
        for f in frames {
            match d.frame(f.as_bytes(), &mut out) {
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

    #[test]
    fn deltas_usage_and_done() {
        let (chunks, end) = run(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}],"model":"gpt-4o-mini-2024-07-18"}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
            "[DONE]",
            "ignored after done",
        ]);
        end.unwrap();
        assert_eq!(chunks.len(), 3);
        assert_eq!(text(&chunks), "Hello");
        let f = finish(&chunks);
        assert_eq!(f.reason, FinishReason::Length);
        assert_eq!((f.tokens_in, f.tokens_out), (Some(9), Some(2)));
        assert_eq!(f.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    }

    #[test]
    fn what_real_servers_send_is_tolerated() {
        let (chunks, end) = run(&[
            // Azure's first chunk: no choices, prompt filter results.
            r#"{"choices":[],"prompt_filter_results":[{"prompt_index":0}]}"#,
            r#"{"choices":null}"#,
            r#"{}"#,
            r#"{"choices":[{"delta":{"content":"a"},"finish_reason":""}],"usage":{}}"#,
            r#"{"choices":[{"delta":null}]}"#,
            r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#,
            r#"{"choices":[{"delta":{"content":"\u00e9\ud83e\udd80"}}]}"#,
            r#"{"choices":[{"delta":{"content":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
        ]);
        end.unwrap();
        assert_eq!(text(&chunks), "aé🦀");
        let f = finish(&chunks);
        assert_eq!(f.reason, FinishReason::Stop);
        assert_eq!(f.tokens_out, Some(2));
    }

    #[test]
    fn text_is_borrowed_from_the_event_unless_it_has_escapes() {
        // Regression: with `#[serde(borrow)]` on `Option<Cow<str>>` fields, every model
        // name and every delta was copied into a new String, and every event allocated
        // a Vec for its choices.
        let event: wire::Event<'_> = serde_json::from_str(
            r#"{"model":"m","choices":[{"index":1,"delta":{"content":"other"}},{"delta":{"content":"plain","reasoning":"t\u00e9"},"finish_reason":"stop"}]}"#,
        )
        .unwrap();
        assert!(matches!(event.model, Some(Cow::Borrowed("m"))));
        let choices: Vec<_> = event.choices.into_iter().collect();
        assert_eq!(choices.len(), 1, "only the first choice is kept");
        let delta = choices[0].delta.as_ref().unwrap();
        assert!(matches!(delta.content, Some(Cow::Borrowed("plain"))));
        assert!(matches!(delta.reasoning, Some(Cow::Owned(ref s)) if s == "té"));
        assert!(matches!(
            choices[0].finish_reason,
            Some(Cow::Borrowed("stop"))
        ));
        let event: wire::Event<'_> =
            serde_json::from_str(r#"{"choices":null,"model":null}"#).unwrap();
        assert!(event.model.is_none() && event.choices.into_iter().next().is_none());
    }

    #[test]
    fn odd_number_types_in_counts_do_not_lose_the_reply() {
        // Regression (found by the bad-input property tests): a float or string count,
        // or a wrongly typed index, failed the whole reply. By the one rule for counts
        // (issue 11), a string is not a count: not reported, so estimated; an index that
        // is not a count is taken as missing (the first choice).
        let (chunks, end) = run(&[
            r#"{"choices":[{"index":false,"delta":{"content":"a"}}]}"#,
            r#"{"choices":[{"index":0.0,"delta":{"content":"b"}}]}"#,
            r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#,
            r#"{"choices":[{"index":"x","delta":{"content":"c"}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":"7","completion_tokens":12.0},"timings":{"prompt_ms":"x","predicted_ms":{"a":[1]}}}"#,
            "[DONE]",
        ]);
        end.unwrap();
        assert_eq!(text(&chunks), "abc");
        let f = finish(&chunks);
        assert_eq!((f.tokens_in, f.tokens_out), (None, Some(12)));
        let (_, end) = run(&[
            r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":-3,"completion_tokens":true}}"#,
        ]);
        end.unwrap();
    }

    #[test]
    fn reasoning_is_its_own_chunk_kind() {
        let (chunks, _) = run(&[
            r#"{"choices":[{"delta":{"reasoning_content":"Let me think"}}]}"#,
            r#"{"choices":[{"delta":{"reasoning":" more"}}]}"#,
            r#"{"choices":[{"delta":{"content":"42"}}]}"#,
            "[DONE]",
        ]);
        assert_eq!(chunks[0], Chunk::Reasoning("Let me think".into()));
        assert_eq!(chunks[1], Chunk::Reasoning(" more".into()));
        assert_eq!(chunks[2], Chunk::Text("42".into()));
    }

    #[test]
    fn eof_after_finish_is_success_and_before_is_an_error() {
        let (chunks, end) =
            run(&[r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}"#]);
        end.unwrap();
        assert!(matches!(chunks.last(), Some(Chunk::Finish(_))));
        assert_eq!(finish(&chunks).tokens_in, None);

        let (chunks, end) = run(&[r#"{"choices":[{"delta":{"content":"x"}}]}"#]);
        assert_eq!(text(&chunks), "x");
        let err = end.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network);
        assert!(err.to_string().contains("incomplete"), "{err}");
    }

    #[test]
    fn error_events_end_the_stream_with_the_servers_message() {
        let (chunks, end) = run(&[
            r#"{"choices":[{"delta":{"content":"partial"}}]}"#,
            r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#,
        ]);
        assert_eq!(text(&chunks), "partial");
        let err = end.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(
            err.to_string().contains("Context size has been exceeded."),
            "{err}"
        );

        let (_, end) = run(&[
            r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
        ]);
        assert_eq!(end.unwrap_err().kind(), ErrorKind::RateLimited);
        let (_, end) = run(&[r#"{"error":"plain string error"}"#]);
        assert!(end.unwrap_err().to_string().contains("plain string error"));
    }

    #[test]
    fn malformed_events_are_protocol_errors_without_secrets() {
        let (_, end) = run(&["not json sk-secret-key-123456"]);
        // The provider scrubs every item it passes on.
        let err = Redactor::new(["sk-secret-key-123456"]).error(end.unwrap_err());
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(!err.to_string().contains("sk-secret-key-123456"), "{err}");
        let (_, end) = run(&[r#"{"choices":"nope"}"#]);
        assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn a_non_streamed_completion_is_understood() {
        let (chunks, end) = run(&[
            r#"{"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"Whole reply"}}],"usage":{"completion_tokens":2,"prompt_tokens":5}}"#,
        ]);
        end.unwrap();
        assert_eq!(text(&chunks), "Whole reply");
        assert_eq!(finish(&chunks).tokens_in, Some(5));
    }

    #[test]
    fn request_body_has_exactly_the_options_set() {
        let req = ChatRequest::new("hi")
            .system("sys")
            .temperature(0.5)
            .max_tokens(7)
            .stop(["x"])
            .seed(3);
        let v = serde_json::to_value(wire::Request::from_chat(&req, "m".into())).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "model": "m",
                "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
                "stream": true,
                "stream_options": {"include_usage": true},
                "temperature": 0.5,
                "max_tokens": 7,
                "stop": ["x"],
                "seed": 3
            })
        );
        let v = serde_json::to_value(wire::Request::from_chat(
            &ChatRequest::new("hi"),
            "m".into(),
        ))
        .unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec!["messages", "model", "stream", "stream_options"]);
    }

    #[test]
    fn base_urls_are_checked_and_normalized() {
        assert_eq!(
            normalize_base_url("https://api.openai.com/v1/", "x")
                .unwrap()
                .url,
            "https://api.openai.com/v1"
        );
        assert_eq!(
            normalize_base_url(" http://[::1]:8080/v1 ", "x")
                .unwrap()
                .url,
            "http://[::1]:8080/v1"
        );
        for bad in [
            "",
            "api.openai.com/v1",
            "ftp://host/v1",
            "http://",
            "http://h/v1?x=1",
        ] {
            let err = normalize_base_url(bad, "OPENAI_BASE_URL").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}");
            assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
        }
    }

    #[test]
    fn user_info_is_taken_out_of_the_base_url_and_never_shown() {
        let base = normalize_base_url("http://ad%40min:p%3Ass@host:8080/v1/", "x").unwrap();
        assert_eq!(base.url, "http://host:8080/v1");
        assert_eq!(
            base.credentials,
            Some(("ad@min".to_owned(), "p:ss".to_owned()))
        );
        // An unusable URL is quoted without its password.
        let err = normalize_base_url("http://admin:hunter2-secret@host/v1?x=1", "OPENAI_BASE_URL")
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert_eq!(percent_decode("a%2Fb%zz%"), "a/b%zz%");
    }

    #[test]
    fn env_config() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let err = OpenAiProvider::from_lookup(env(&[])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert!(err.to_string().contains("OPENAI_API_KEY"));
        let p = OpenAiProvider::from_lookup(env(&[("OPENAI_API_KEY", "k")])).unwrap();
        assert_eq!(p.base_url(), "https://api.openai.com/v1");
        let p = OpenAiProvider::from_lookup(env(&[
            ("OPENAI_API_KEY", "k"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1/"),
        ]))
        .unwrap();
        assert_eq!(p.base_url(), "http://127.0.0.1:1/v1");
        let err = OpenAiProvider::from_lookup(env(&[
            ("OPENAI_API_KEY", "k"),
            ("OPENAI_BASE_URL", "localhost:8080"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
        // A server on this machine needs no key; a remote one does.
        let p =
            OpenAiProvider::from_lookup(env(&[("OPENAI_BASE_URL", "http://127.0.0.1:18080/v1")]))
                .unwrap();
        assert_eq!(p.base_url(), "http://127.0.0.1:18080/v1");
        let err =
            OpenAiProvider::from_lookup(env(&[("OPENAI_BASE_URL", "https://gateway.example/v1")]))
                .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let p = OpenAiProvider::builder()
            .api_key("sk-very-secret")
            .header("api-key", "azure-secret")
            .build()
            .unwrap();
        let dbg = format!("{p:?}");
        assert!(
            !dbg.contains("sk-very-secret") && !dbg.contains("azure-secret"),
            "{dbg}"
        );
        assert!(dbg.contains("api-key"));
        let b = OpenAiProvider::builder().api_key("sk-very-secret");
        assert!(!format!("{b:?}").contains("sk-very-secret"));
    }

    #[test]
    fn builder_errors() {
        assert_eq!(
            OpenAiProvider::new(" ").unwrap_err().kind(),
            ErrorKind::InvalidRequest
        );
        let err = OpenAiProvider::builder()
            .api_key("k")
            .header("bad header", "v")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("bad header"));
    }
}
