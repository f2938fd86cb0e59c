//! HTTP glue shared by the HTTP providers: the client, sending a JSON POST, turning
//! error responses into [`Error`]s that keep the server's words, and the decoding
//! pipeline from framed bytes to [`Chunk`]s.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use pin_project::pin_project;
use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION};
use tokio::time::Instant;

use crate::chunk::Chunk;
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::framing::ndjson::{NdjsonError, NdjsonLines};
use crate::framing::sse_native::{self, SseFrames};
use crate::redact::redact_url;
use crate::request::Timeouts;
use crate::retry::RetryPolicy;
use crate::stream::fmt_duration;

/// Default time to establish a TCP (and TLS) connection.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time from sending a request to its first content.
pub(crate) const DEFAULT_FIRST_CHUNK_TIMEOUT: Duration = Duration::from_secs(120);
/// Default longest gap between two content events.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest line or event accepted from a server.
pub(crate) const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// The largest reply collected by `chat()`, by default.
pub(crate) const DEFAULT_MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;
/// How much of an error body is read to find the server's message.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// How much of an unexpected 200 body is read to quote it.
const MAX_UNEXPECTED_BODY_BYTES: usize = 4 * 1024;
/// The longest wait for the body of an error response (or of an unexpected 200) once
/// its status has arrived; it is shorter when the request's time limit is nearer.
const MAX_ERROR_BODY_WAIT: Duration = Duration::from_secs(10);
/// A wait this long or longer is "longer than anyone will wait": what an absurd,
/// negative or unreadable number in `Retry-After` means.
pub(crate) const UNREASONABLE_WAIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Transport settings shared by the HTTP providers' builders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HttpSettings {
    /// Time to establish a connection (applied to the client the provider builds;
    /// a client passed in by the user keeps its own).
    pub(crate) connect_timeout: Duration,
    /// Stream limits used when a request sets none.
    pub(crate) timeouts: Timeouts,
    /// The longest SSE event or NDJSON line accepted.
    pub(crate) max_frame_bytes: usize,
    /// Retries before the first content.
    pub(crate) retry: RetryPolicy,
    /// The largest reply `chat()` collects.
    pub(crate) max_reply_bytes: usize,
}

impl HttpSettings {
    /// The provider's retry policy, with a request's own retry count if it set one.
    pub(crate) fn retry_policy(&self, request_max_retries: Option<u32>) -> RetryPolicy {
        match request_max_retries {
            Some(n) => self.retry.max_retries(n),
            None => self.retry,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeouts: Timeouts::default()
                .first_chunk(DEFAULT_FIRST_CHUNK_TIMEOUT)
                .idle(DEFAULT_IDLE_TIMEOUT),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            retry: RetryPolicy::default(),
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
        }
    }
}

/// The transport setters every HTTP provider's builder has, written once: each builder
/// keeps an `HttpSettings` in a field named `settings`.
macro_rules! http_builder_setters {
    () => {
        /// Time to establish a connection (default 10 s). It applies to the client the
        /// provider builds; a client passed in keeps its own.
        #[must_use]
        pub fn connect_timeout(mut self, limit: std::time::Duration) -> Self {
            self.settings.connect_timeout = limit;
            self
        }

        /// Time from sending a request to its first content (default 120 s): reasoning
        /// models think, and local servers load models, before they speak.
        #[must_use]
        pub fn first_chunk_timeout(mut self, limit: std::time::Duration) -> Self {
            self.settings.timeouts.first_chunk = Some(limit);
            self
        }

        /// The longest wait for the next chunk of content (default 60 s); keep-alives
        /// are not content.
        #[must_use]
        pub fn idle_timeout(mut self, limit: std::time::Duration) -> Self {
            self.settings.timeouts.idle = Some(limit);
            self
        }

        /// A limit on the whole request (default none).
        #[must_use]
        pub fn deadline(mut self, limit: std::time::Duration) -> Self {
            self.settings.timeouts.deadline = Some(limit);
            self
        }

        /// How requests that fail before their first content are retried (default: 2
        /// retries, backoff from 0.5 s doubling to 8 s, `Retry-After` up to 60 s):
        /// connection failures, HTTP 408, 429, 500, 502, 503 and 504, and error events
        /// before any text.
        #[must_use]
        pub fn retry_policy(mut self, policy: $crate::RetryPolicy) -> Self {
            self.settings.retry = policy;
            self
        }

        /// The number of retries (default 2); shorthand for a
        /// [`RetryPolicy`]($crate::RetryPolicy) change.
        #[must_use]
        pub fn max_retries(mut self, retries: u32) -> Self {
            self.settings.retry = self.settings.retry.max_retries(retries);
            self
        }

        /// The largest reply `chat()` collects, in bytes of text and reasoning (default
        /// 64 MiB); a longer one is a `protocol` error rather than unbounded memory.
        /// Streaming with `stream_chat` holds no reply and has no such limit. A request
        /// can set its own with [`ChatRequest::max_reply_bytes`]($crate::ChatRequest::max_reply_bytes).
        #[must_use]
        pub fn max_reply_bytes(mut self, limit: usize) -> Self {
            self.settings.max_reply_bytes = limit;
            self
        }
    };
}
pub(crate) use http_builder_setters;

/// A client for streaming: a connect timeout, but no total request timeout (which
/// would cut long replies); stream timeouts are applied per chunk instead.
///
/// For a loopback base URL, proxies from the environment are not used: a local server
/// is never reached through `HTTP_PROXY`.
///
/// Redirects are never followed: an LLM API does not need them, and reqwest re-sends
/// the request's own headers (the API key) on every hop, checking only the hop before,
/// so a chain A → B → B delivered the key to B (issue 11). A redirect is an error that
/// names its target ([`Endpoint::send`]).
pub(crate) fn build_client(connect_timeout: Duration, base_url: &str) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if is_loopback(base_url) {
        builder = builder.no_proxy();
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("theory-llm/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::ProviderUnavailable,
                format!("could not build the HTTP client: {e}. Check the TLS setup, or pass your own reqwest::Client to the provider builder"),
            )
            .with_source(e)
        })
}

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
pub(crate) fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// Where requests go, for messages: `openai at https://api.openai.com/v1`.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The provider's name.
    pub(crate) provider: &'static str,
    /// The base URL as configured (no secrets in it).
    pub(crate) base: String,
    /// What to suggest when nothing answers at `base`.
    pub(crate) unreachable_hint: &'static str,
}

/// A 2xx response with an accepted content type: what [`Endpoint::send`] gives a
/// provider to frame.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) response: reqwest::Response,
    /// The media type (`text/event-stream`), lowercase without parameters; `None` if the
    /// server sent no content type.
    pub(crate) media_type: Option<String>,
}

/// What a request came back with.
#[derive(Debug)]
pub(crate) enum Sent {
    /// A 2xx response of an accepted content type.
    Accepted(Accepted),
    /// A non-2xx response, read, for the provider to classify.
    Failed(ErrorResponse),
}

impl Endpoint {
    /// Sends `request` and sorts the answer: a 2xx of one of the `accept`ed media types
    /// (or of none stated); a failure status with its body read (for at most 10 s, and
    /// for at most half of the time left before `give_up_at`, so that the status is
    /// reported rather than a timeout); or an error: transport failures, a redirect, or
    /// a 2xx of another type (an HTML page from a captive portal, say).
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        accept: &[&str],
        give_up_at: Option<Instant>,
    ) -> Result<Sent> {
        let (client, request) = request.build_split();
        let request = request.map_err(|e| self.send_error(e))?;
        let url = request.url().clone();
        let response = client
            .execute(request)
            .await
            .map_err(|e| self.send_error(e))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(self.redirect_error(&url, &response));
        }
        if response.url() != &url {
            // A client passed in by the user may follow redirects.
            return Err(self.followed_redirect_error(response.url()));
        }
        let read_by = read_deadline(give_up_at);
        if !status.is_success() {
            return Ok(Sent::Failed(
                ErrorResponse::read(self, response, read_by).await?,
            ));
        }
        let media_type = media_type(response.headers());
        match media_type.as_deref() {
            Some(found) if !accept.contains(&found) => {
                let body = read_some(response, MAX_UNEXPECTED_BODY_BYTES, read_by).await;
                Err(self.unexpected_body(status.as_u16(), found, accept, &body))
            }
            _ => Ok(Sent::Accepted(Accepted {
                response,
                media_type,
            })),
        }
    }

    /// A 3xx: never followed (see [`build_client`]).
    fn redirect_error(&self, url: &reqwest::Url, response: &reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let target = response
            .headers()
            .get(LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .map(|location| match url.join(location.trim()) {
                Ok(absolute) => absolute.to_string(),
                Err(_) => location,
            });
        let (provider, base) = (self.provider, &self.base);
        let message = match target {
            Some(target) => format!(
                "{provider}: {base} answered HTTP {status}, a redirect to {}. Redirects are not followed, so that credentials never reach another server: if that address is the right one, use it as the base URL",
                excerpt(&redact_url(&target), 300)
            ),
            None => format!(
                "{provider}: {base} answered HTTP {status} (a redirect, without a Location). Redirects are not followed; check the base URL"
            ),
        };
        Error::new(ErrorKind::ProviderUnavailable, message).with_status(status)
    }

    /// The user's own client followed a redirect.
    fn followed_redirect_error(&self, landed: &reqwest::Url) -> Error {
        Error::new(
            ErrorKind::ProviderUnavailable,
            format!(
                "{}: the request to {} was redirected to {}, and the HTTP client passed to the builder followed it. The reply is refused; build that client with reqwest::redirect::Policy::none(), so that credentials never reach another server",
                self.provider,
                self.base,
                excerpt(&redact_url(landed.as_str()), 300)
            ),
        )
    }

    /// A 2xx whose body is of another type than the protocol's: not a stream, and not
    /// worth retrying (a proxy or a login page answers in the API's place).
    fn unexpected_body(&self, status: u16, found: &str, accept: &[&str], body: &[u8]) -> Error {
        let quoted = excerpt(&String::from_utf8_lossy(body), 300);
        let quoted = if quoted.is_empty() {
            "(empty body)".to_owned()
        } else {
            quoted
        };
        Error::new(
            ErrorKind::Protocol,
            format!(
                "{}: {} answered HTTP {status} with {found} instead of {}: {quoted}. Something other than the API (a proxy, a captive portal's login page) may be answering: check the base URL",
                self.provider,
                self.base,
                accept.join(" or ")
            ),
        )
        .with_status(status)
    }

    /// Maps a failure to send (or to receive headers) to an error.
    pub(crate) fn send_error(&self, e: reqwest::Error) -> Error {
        // The URL is left out of the cause: the base URL is named, with its password
        // hidden.
        let e = e.without_url();
        let cause = error_chain(&e);
        let (provider, base) = (self.provider, &self.base);
        match transport_failure(&e) {
            TransportFailure::TooManyFiles => too_many_files(provider, base, &cause).with_source(e),
            TransportFailure::Malformed => Error::new(
                ErrorKind::Protocol,
                format!("{provider}: {base} answered with a malformed HTTP response ({cause}). The server, or a proxy in front of it, is broken; check the base URL"),
            )
            .with_source(e),
            TransportFailure::Timeout => Error::new(
                ErrorKind::Timeout,
                format!("{provider} timed out: could not connect to {base} ({cause}). Check that the server is reachable, or raise the connect timeout"),
            )
            .with_retryable(true)
            .with_source(e),
            TransportFailure::Connect { tls } => Error::new(
                ErrorKind::ProviderUnavailable,
                format!(
                    "{provider} is unavailable: cannot connect to {base} ({cause}). {}",
                    if tls { "Check the server's TLS certificate and the https:// in the base URL" } else { self.unreachable_hint }
                ),
            )
            // Nothing was sent, so trying again is safe; it rides out a local server
            // that is restarting. A TLS failure will not pass by itself.
            .with_retryable(!tls)
            .with_source(e),
            TransportFailure::Builder => Error::new(
                ErrorKind::InvalidRequest,
                format!("{provider}: invalid request URL under {base} ({cause}). Fix the base URL"),
            )
            .with_source(e),
            TransportFailure::Other => Error::new(
                ErrorKind::Network,
                format!("{provider}: the request to {base} failed ({cause}). Check the network and retry"),
            )
            .with_retryable(true)
            .with_source(e),
        }
    }

    /// Maps a failure while reading the body of a streaming reply.
    pub(crate) fn body_error(&self, e: reqwest::Error) -> Error {
        let e = e.without_url();
        let cause = error_chain(&e);
        let (provider, base) = (self.provider, &self.base);
        match transport_failure(&e) {
            TransportFailure::Malformed => Error::new(
                ErrorKind::Protocol,
                format!("{provider}: the reply from {base} broke the HTTP framing ({cause}); the reply is incomplete. The server, or a proxy in front of it, is broken"),
            )
            .with_source(e),
            TransportFailure::TooManyFiles => too_many_files(provider, base, &cause).with_source(e),
            _ => Error::new(
                ErrorKind::Network,
                format!("{provider}: the connection to {base} broke mid-reply ({cause}); the reply is incomplete. Retry the request"),
            )
            .with_retryable(true)
            .with_source(e),
        }
    }

    /// The error for a body that ended before the reply was complete.
    pub(crate) fn truncated(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::Network,
            format!(
                "{}: the reply from {} ended before {what}; it is incomplete (the connection was closed early). Retry the request",
                self.provider, self.base
            ),
        )
        .with_retryable(true)
    }

    /// The error for a frame that is not what the protocol says.
    pub(crate) fn malformed(&self, detail: &str) -> Error {
        Error::new(
            ErrorKind::Protocol,
            format!(
                "{}: malformed stream from {}: {detail}. The server may not speak this protocol; check the base URL and the server version",
                self.provider, self.base
            ),
        )
    }

    /// The SSE data frames of a streaming response; an event longer than `max_event`
    /// bytes is a `protocol` error.
    pub(crate) fn sse_frames(
        &self,
        response: reqwest::Response,
        max_event: usize,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        self.sse_frames_of(response.bytes_stream(), max_event)
    }

    /// [`sse_frames`](Self::sse_frames) over any byte stream (benches and fuzzing feed it
    /// from memory), with the built-in framer, or with eventsource-stream's when the
    /// `eventsource-stream` feature is on.
    pub(crate) fn sse_frames_of<S>(
        &self,
        bytes: S,
        max_event: usize,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static
    where
        S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    {
        #[cfg(not(feature = "eventsource-stream"))]
        return self.sse_frames_builtin(bytes, max_event);
        #[cfg(feature = "eventsource-stream")]
        return self.sse_frames_eventsource(bytes, max_event);
    }

    /// SSE framing with the built-in framer ([`SseFrames`]): events that arrive within
    /// one read are passed on without a copy.
    #[cfg_attr(feature = "eventsource-stream", allow(dead_code))]
    pub(crate) fn sse_frames_builtin<S>(
        &self,
        bytes: S,
        max_event: usize,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static
    where
        S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    {
        let endpoint = self.clone();
        SseFrames::new(bytes, max_event).map(move |item| item.map_err(|e| endpoint.sse_error(e)))
    }

    /// Maps a failure of either SSE framer.
    fn sse_error(&self, e: sse_native::SseError<reqwest::Error>) -> Error {
        match e {
            sse_native::SseError::Transport(e) => self.body_error(e),
            sse_native::SseError::Malformed(m) => self.malformed(&m),
            sse_native::SseError::EventTooLong { max } => {
                self.malformed(&format!("an event is longer than {max} bytes"))
            }
        }
    }

    /// SSE framing with eventsource-stream (the reference the built-in framer is tested
    /// against; slower, see README "Performance").
    #[cfg(any(test, feature = "eventsource-stream", feature = "bench"))]
    pub(crate) fn sse_frames_eventsource<S>(
        &self,
        bytes: S,
        max_event: usize,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static
    where
        S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    {
        let endpoint = self.clone();
        crate::framing::sse::SseData::new(bytes, max_event)
            .map(move |item| item.map(Bytes::from).map_err(|e| endpoint.sse_error(e)))
    }

    /// The NDJSON lines of a streaming response, each at most `max_line` bytes.
    pub(crate) fn ndjson_frames(
        &self,
        response: reqwest::Response,
        max_line: usize,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        self.ndjson_frames_of(response.bytes_stream(), max_line)
    }

    /// [`ndjson_frames`](Self::ndjson_frames) over any byte stream (benches feed it from
    /// memory).
    pub(crate) fn ndjson_frames_of<S>(
        &self,
        bytes: S,
        max_line: usize,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static
    where
        S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    {
        let endpoint = self.clone();
        NdjsonLines::new(bytes, max_line).map(move |item| {
            item.map_err(|e| match e {
                NdjsonError::Transport(e) => endpoint.body_error(e),
                NdjsonError::LineTooLong { max } => endpoint.malformed(&format!(
                    "a line is longer than {max} bytes without a newline"
                )),
            })
        })
    }
}

/// What went wrong below HTTP, read from the error's causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportFailure {
    /// The process is out of file descriptors (EMFILE, ENFILE).
    TooManyFiles,
    /// The server's bytes are not HTTP: bad status line or headers, headers too large or
    /// too many, broken chunked encoding.
    Malformed,
    Timeout,
    /// No connection (refused, unreachable, DNS); `tls` when the TLS handshake failed.
    Connect {
        tls: bool,
    },
    /// The request could not be built (a bad URL).
    Builder,
    Other,
}

fn transport_failure(e: &reqwest::Error) -> TransportFailure {
    let mut tls = false;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            // EMFILE (24) and ENFILE (23) on Linux and the BSDs.
            if matches!(io.raw_os_error(), Some(23 | 24)) {
                return TransportFailure::TooManyFiles;
            }
            let bad_bytes = matches!(
                io.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            );
            if bad_bytes && (e.is_body() || e.is_decode()) {
                return TransportFailure::Malformed;
            }
        }
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
        {
            return TransportFailure::Malformed;
        }
        let text = err.to_string().to_ascii_lowercase();
        tls |= ["certificate", "tls", "ssl", "handshake"]
            .iter()
            .any(|w| text.contains(w));
        cur = err.source();
    }
    if e.is_timeout() {
        TransportFailure::Timeout
    } else if e.is_connect() {
        TransportFailure::Connect { tls }
    } else if e.is_builder() {
        TransportFailure::Builder
    } else {
        TransportFailure::Other
    }
}

fn too_many_files(provider: &str, base: &str, cause: &str) -> Error {
    Error::new(
        ErrorKind::Network,
        format!("{provider}: too many open files: this process has used up its file descriptors, so no connection to {base} could be made ({cause}). Raise the limit (`ulimit -n`), or make fewer requests at once"),
    )
    // Descriptors are freed as other requests end.
    .with_retryable(true)
}

/// The media type of a response, lowercase and without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let media = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

/// When to stop waiting for an error body: in 10 s, or halfway to `give_up_at`.
fn read_deadline(give_up_at: Option<Instant>) -> Instant {
    let now = Instant::now();
    let cap = now + MAX_ERROR_BODY_WAIT;
    match give_up_at {
        Some(at) => cap.min(now + at.saturating_duration_since(now) / 2),
        None => cap,
    }
}

/// Up to `max` bytes of a body, read until `read_by`; whatever came, if anything.
async fn read_some(mut response: reqwest::Response, max: usize, read_by: Instant) -> Vec<u8> {
    let mut body = Vec::new();
    let read = async {
        while let Ok(Some(bytes)) = response.chunk().await {
            let room = max.saturating_sub(body.len());
            body.extend_from_slice(&bytes[..bytes.len().min(room)]);
            if body.len() >= max {
                break;
            }
        }
    };
    let _ = tokio::time::timeout_at(read_by, read).await;
    body
}

/// `e` and its causes, joined with `: ` (reqwest's own Display hides the root cause).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}

/// What a server said in an error response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    /// The server's message, or an excerpt of a non-JSON body.
    pub(crate) message: String,
    /// `error.code` (string or number, as a string).
    pub(crate) code: Option<String>,
    /// `error.type`.
    pub(crate) kind: Option<String>,
    /// `error.param`.
    pub(crate) param: Option<String>,
}

impl ErrorBody {
    /// Parses the error bodies seen in the wild: `{"error":{"message","type","param","code"}}`
    /// (OpenAI: code a string or null; llama.cpp: code a number), `{"error":"..."}`
    /// (Ollama), `{"detail": ...}` (FastAPI), `{"message": ...}`, and plain text or HTML
    /// (kept as a short excerpt).
    pub(crate) fn parse(body: &[u8]) -> ErrorBody {
        let text = String::from_utf8_lossy(body);
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ErrorBody {
                message: excerpt(&text, 300),
                ..ErrorBody::default()
            };
        };
        ErrorBody::from_json(&value).unwrap_or_else(|| ErrorBody {
            message: excerpt(&text, 300),
            ..ErrorBody::default()
        })
    }

    /// The message of a JSON error value, if it has one.
    pub(crate) fn from_json(value: &serde_json::Value) -> Option<ErrorBody> {
        use serde_json::Value;
        let as_string = |v: Option<&Value>| match v {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match value {
            Value::Object(map) => {
                if let Some(err) = map.get("error") {
                    return match err {
                        Value::Object(e) => Some(ErrorBody {
                            message: as_string(e.get("message"))
                                .unwrap_or_else(|| excerpt(&err.to_string(), 300)),
                            code: as_string(e.get("code")),
                            kind: as_string(e.get("type")),
                            param: as_string(e.get("param")),
                        }),
                        Value::String(s) => Some(ErrorBody {
                            message: s.clone(),
                            ..ErrorBody::default()
                        }),
                        Value::Null => None,
                        other => Some(ErrorBody {
                            message: excerpt(&other.to_string(), 300),
                            ..ErrorBody::default()
                        }),
                    };
                }
                if let Some(detail) = map.get("detail") {
                    let message = match detail {
                        Value::String(s) => s.clone(),
                        // FastAPI validation errors: [{"loc": [...], "msg": "...", ...}]
                        Value::Array(items) => items
                            .iter()
                            .map(|i| match i.get("msg") {
                                Some(Value::String(m)) => m.clone(),
                                _ => i.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                        other => other.to_string(),
                    };
                    return Some(ErrorBody {
                        message: excerpt(&message, 500),
                        ..ErrorBody::default()
                    });
                }
                as_string(map.get("message")).map(|message| ErrorBody {
                    message,
                    code: as_string(map.get("code")),
                    kind: as_string(map.get("type")),
                    ..ErrorBody::default()
                })
            }
            Value::String(s) => Some(ErrorBody {
                message: s.clone(),
                ..ErrorBody::default()
            }),
            _ => None,
        }
    }
}

/// The default kind for an HTTP error status (providers refine 404 and 429).
pub(crate) fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::Server,
    }
}

/// A non-2xx response, read: status, `Retry-After`, and what the body said.
#[derive(Debug, Clone)]
pub(crate) struct ErrorResponse {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: ErrorBody,
}

impl ErrorResponse {
    /// Reads up to 64 KiB of the body of a non-2xx response, until `read_by`.
    pub(crate) async fn read(
        endpoint: &Endpoint,
        mut response: reqwest::Response,
        read_by: Instant,
    ) -> Result<ErrorResponse> {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        let read = async {
            loop {
                match response.chunk().await {
                    Ok(Some(bytes)) => {
                        let room = MAX_ERROR_BODY_BYTES - body.len();
                        body.extend_from_slice(&bytes[..bytes.len().min(room)]);
                        if body.len() >= MAX_ERROR_BODY_BYTES {
                            return Ok(());
                        }
                    }
                    Ok(None) => return Ok(()),
                    // The status is what matters; a body cut short still has its start.
                    Err(_) if !body.is_empty() => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        };
        let waited_since = Instant::now();
        let stalled = match tokio::time::timeout_at(read_by, read).await {
            Ok(Ok(())) => false,
            Ok(Err(e)) => {
                return Err(endpoint
                    .body_error(e)
                    .context(&format!("HTTP {status} and then: "))
                    .with_status(status))
            }
            Err(_elapsed) => true,
        };
        let mut parsed = ErrorBody::parse(&body);
        if stalled && body.is_empty() {
            parsed.message = format!(
                "(its body did not arrive within {})",
                fmt_duration(read_by.saturating_duration_since(waited_since))
            );
        } else if parsed.message.is_empty() {
            parsed.message = "(empty body)".to_owned();
        }
        Ok(ErrorResponse {
            status,
            retry_after,
            body: parsed,
        })
    }

    /// The error: `"<provider> <what> (HTTP <status>): <server message>. <advice>"`.
    pub(crate) fn into_error(self, provider: &str, kind: ErrorKind, advice: &str) -> Error {
        let what = match kind {
            ErrorKind::Auth => "refused the credentials",
            ErrorKind::RateLimited => "is rate limiting",
            ErrorKind::InvalidRequest => "rejected the request",
            ErrorKind::ModelNotFound => "does not know the model",
            ErrorKind::Timeout => "timed out",
            ErrorKind::ProviderUnavailable => "is unavailable",
            _ => "failed",
        };
        let server_words = self.body.message.trim_end_matches('.');
        let mut message = format!("{provider} {what} (HTTP {}): {server_words}", self.status);
        if let Some(delay) = self.retry_after {
            message.push_str(&format!(
                " (the server asks to retry after {})",
                fmt_duration(delay)
            ));
        }
        if !advice.is_empty() {
            message.push_str(". ");
            message.push_str(advice);
        }
        let retryable = matches!(self.status, 408 | 429 | 500 | 502 | 503 | 504)
            && matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Timeout
            );
        let mut err = Error::new(kind, message)
            .with_status(self.status)
            .with_retryable(retryable);
        if let Some(delay) = self.retry_after {
            err = err.with_retry_after(delay);
        }
        err
    }
}

/// Default advice for a kind of HTTP failure.
pub(crate) fn advice_for(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "Check the API key and its permissions",
        ErrorKind::RateLimited => "Wait and retry, or check your plan's limits",
        ErrorKind::InvalidRequest => "Fix the request and send it again",
        ErrorKind::Server => "This is the server's fault; retry later",
        ErrorKind::Timeout => "Retry the request",
        _ => "",
    }
}

/// How long the server asks to wait before a retry: `retry-after-ms` (milliseconds),
/// else `Retry-After` (seconds, or an HTTP date).
///
/// No header value can panic here. A number that is negative, NaN, infinite or absurdly
/// large means "longer than anyone will wait" ([`UNREASONABLE_WAIT`]), so the request is
/// not retried by itself; a value that is neither a number nor a date is ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).map(|v| v.as_bytes());
    parse_retry_after(get("retry-after-ms"), get("retry-after"), SystemTime::now())
}

/// [`retry_after`] on the raw header values, at time `now` (for HTTP dates).
pub(crate) fn parse_retry_after(
    millis: Option<&[u8]>,
    after: Option<&[u8]>,
    now: SystemTime,
) -> Option<Duration> {
    fn text(v: &[u8]) -> Option<&str> {
        std::str::from_utf8(v).ok().map(str::trim)
    }
    if let Some(ms) = millis.and_then(text).and_then(|v| v.parse::<f64>().ok()) {
        return Some(wait_of(ms / 1000.0));
    }
    let after = after.and_then(text)?;
    if let Ok(secs) = after.parse::<f64>() {
        return Some(wait_of(secs));
    }
    let date = httpdate::parse_http_date(after).ok()?;
    // A date in the past means "now".
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(UNREASONABLE_WAIT),
    )
}

/// `secs` as a wait; anything that is not a sane number of seconds is
/// [`UNREASONABLE_WAIT`].
fn wait_of(secs: f64) -> Duration {
    if secs.is_finite() && secs >= 0.0 && secs < UNREASONABLE_WAIT.as_secs_f64() {
        Duration::from_secs_f64(secs)
    } else {
        UNREASONABLE_WAIT
    }
}

/// What a decoder says after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// More frames may follow.
    Continue,
    /// The reply is complete (OpenAI `[DONE]`, Ollama `done: true`): stop reading.
    Done,
}

/// A provider's mapping from frames to chunks, with whatever state it needs.
pub(crate) trait Decoder: Send + 'static {
    /// Maps one frame, pushing any chunks it produces to `out`.
    fn frame(&mut self, frame: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow>;
    /// The body ended without [`Flow::Done`]: push the finish if the reply is complete,
    /// or return the error for a truncated reply.
    fn end_of_body(&mut self, out: &mut VecDeque<Chunk>) -> Result<()>;
}

/// Frames decoded into chunks, in order, each as soon as its frame arrives.
#[pin_project]
pub(crate) struct Decoded<F, D> {
    #[pin]
    frames: F,
    decoder: D,
    out: VecDeque<Chunk>,
    /// An error to deliver once the chunks decoded before it have been.
    error: Option<Error>,
    /// No more frames will be read (done, failed, or the body ended).
    finished: bool,
}

impl<F, D> Decoded<F, D> {
    pub(crate) fn new(frames: F, decoder: D) -> Decoded<F, D> {
        Decoded {
            frames,
            decoder,
            out: VecDeque::with_capacity(4),
            error: None,
            finished: false,
        }
    }
}

impl<F, T, D> Stream for Decoded<F, D>
where
    F: Stream<Item = Result<T>>,
    T: AsRef<[u8]>,
    D: Decoder,
{
    type Item = Result<Chunk>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(chunk) = this.out.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            if *this.finished {
                return Poll::Ready(this.error.take().map(Err));
            }
            let result = match ready!(this.frames.as_mut().poll_next(cx)) {
                Some(Ok(frame)) => match this.decoder.frame(frame.as_ref(), this.out) {
                    Ok(Flow::Continue) => Ok(()),
                    Ok(Flow::Done) => {
                        *this.finished = true;
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                Some(Err(e)) => Err(e),
                None => {
                    *this.finished = true;
                    this.decoder.end_of_body(this.out)
                }
            };
            if let Err(e) = result {
                // Chunks decoded before the error are delivered first, then the error.
                *this.finished = true;
                *this.error = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every recorded SSE body, in one read, one byte per read and in 7-byte reads,
    /// decodes to the same frames with the built-in framer as with eventsource-stream.
    #[test]
    fn both_sse_framers_agree_on_every_recorded_body() {
        let endpoint = Endpoint {
            provider: "openai",
            base: "http://test".into(),
            unreachable_hint: "",
        };
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/transcripts");
        let mut checked = 0;
        for sub in ["llama-server", "live", "openai-docs", "ollama-compat"] {
            for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
                let path = entry.unwrap().path();
                let body = std::fs::read(&path).unwrap();
                if !body.starts_with(b"data:") {
                    continue;
                }
                for size in [body.len(), 1, 7] {
                    let pieces = || {
                        let pieces: Vec<reqwest::Result<Bytes>> = body
                            .chunks(size)
                            .map(|p| Ok(Bytes::copy_from_slice(p)))
                            .collect();
                        futures::stream::iter(pieces)
                    };
                    let run = |frames: Vec<Result<Bytes>>| -> Vec<String> {
                        frames
                            .into_iter()
                            .map(|f| match f {
                                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                                Err(e) => format!("error: {e}"),
                            })
                            .collect()
                    };
                    use futures::executor::block_on;
                    let builtin = run(block_on(
                        endpoint.sse_frames_builtin(pieces(), 1 << 24).collect(),
                    ));
                    let reference = run(block_on(
                        endpoint.sse_frames_eventsource(pieces(), 1 << 24).collect(),
                    ));
                    assert!(!builtin.is_empty(), "{}", path.display());
                    assert_eq!(
                        builtin,
                        reference,
                        "{} in {size}-byte reads",
                        path.display()
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} SSE transcripts found");
    }

    #[test]
    fn error_bodies_of_every_shape() {
        let openai = br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let b = ErrorBody::parse(openai);
        assert_eq!(b.message, "Incorrect API key");
        assert_eq!(b.code.as_deref(), Some("invalid_api_key"));
        assert_eq!(b.param, None);

        let llama = br#"{"error":{"code":400,"message":"request (2531 tokens) exceeds the available context size (1024 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":2531,"n_ctx":1024}}"#;
        let b = ErrorBody::parse(llama);
        assert!(b.message.starts_with("request (2531 tokens)"));
        assert_eq!(b.code.as_deref(), Some("400"));
        assert_eq!(b.kind.as_deref(), Some("exceed_context_size_error"));

        assert_eq!(
            ErrorBody::parse(br#"{"error":"model 'x' not found"}"#).message,
            "model 'x' not found"
        );
        assert_eq!(
            ErrorBody::parse(br#"{"detail":"Not authenticated"}"#).message,
            "Not authenticated"
        );
        assert_eq!(
            ErrorBody::parse(
                br#"{"detail":[{"loc":["body","model"],"msg":"field required"},{"msg":"bad"}]}"#
            )
            .message,
            "field required; bad"
        );
        assert_eq!(
            ErrorBody::parse(br#"{"message":"Bad gateway"}"#).message,
            "Bad gateway"
        );
        let html = ErrorBody::parse(b"<html>\n<body><h1>502 Bad Gateway</h1></body>\n</html>");
        assert_eq!(
            html.message,
            "<html> <body><h1>502 Bad Gateway</h1></body> </html>"
        );
        assert_eq!(
            ErrorBody::parse(b"Internal Server Error").message,
            "Internal Server Error"
        );
        assert_eq!(ErrorBody::parse(b"").message, "");
        assert_eq!(
            ErrorBody::parse(br#"{"unrelated":1}"#).message,
            r#"{"unrelated":1}"#
        );
        assert_eq!(ErrorBody::parse(&[0xff, 0xfe]).message, "\u{fffd}\u{fffd}");
    }

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://localhost:11434",
            "http://127.0.0.1:8080/v1",
            "http://[::1]:1/",
            "http://a.localhost",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://api.openai.com/v1",
            "http://10.0.0.1",
            "not a url",
            "http://[::2]",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind_for_status(401), ErrorKind::Auth);
        assert_eq!(kind_for_status(403), ErrorKind::Auth);
        assert_eq!(kind_for_status(400), ErrorKind::InvalidRequest);
        assert_eq!(kind_for_status(422), ErrorKind::InvalidRequest);
        assert_eq!(kind_for_status(429), ErrorKind::RateLimited);
        assert_eq!(kind_for_status(500), ErrorKind::Server);
        assert_eq!(kind_for_status(503), ErrorKind::Server);
    }

    #[test]
    fn retry_after_headers() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("20"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(20)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        // Garbage is ignored: the other header, or the usual backoff, applies.
        h.insert("retry-after-ms", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(20)));
    }

    #[test]
    fn retry_after_dates_and_absurd_values() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let parse = |ms: Option<&str>, after: Option<&str>| {
            parse_retry_after(ms.map(str::as_bytes), after.map(str::as_bytes), now)
        };
        assert_eq!(
            parse(None, Some("Wed, 21 Oct 2015 07:29:30 GMT")),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse(None, Some("Wed, 21 Oct 2015 07:00:00 GMT")),
            Some(Duration::ZERO)
        );
        // Regression (issue 11): `retry-after-ms: 1e23` panicked in Duration::from_secs_f64.
        for absurd in ["1e23", "1e300", "-5", "NaN", "inf", "-inf", "1e400"] {
            assert_eq!(
                parse(Some(absurd), None),
                Some(UNREASONABLE_WAIT),
                "{absurd}"
            );
            assert_eq!(
                parse(None, Some(absurd)),
                Some(UNREASONABLE_WAIT),
                "{absurd}"
            );
        }
        assert_eq!(parse(Some("-0"), None), Some(Duration::ZERO));
        for ignored in ["", "soon", "12 s", "Wed, 99 Oct 2015"] {
            assert_eq!(parse(None, Some(ignored)), None, "{ignored}");
        }
        assert_eq!(parse(Some("\u{0}"), Some("\u{ff}")), None);
        assert_eq!(
            parse_retry_after(Some(&[0xff, 0xfe]), Some(&[0x80]), now),
            None
        );
    }
}
