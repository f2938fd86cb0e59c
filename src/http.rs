//! HTTP glue shared by the HTTP providers: the client, sending a JSON POST, turning
//! error responses into [`Error`]s that keep the server's words, and the decoding
//! pipeline from framed bytes to [`Chunk`]s.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use pin_project::pin_project;

use crate::chunk::Chunk;
use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::framing::ndjson::{NdjsonError, NdjsonLines};
use crate::framing::sse_native::{self, SseFrames};
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
/// How much of an error body is read to find the server's message.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

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
    };
}
pub(crate) use http_builder_setters;

/// A client for streaming: a connect timeout, but no total request timeout (which
/// would cut long replies); stream timeouts are applied per chunk instead.
///
/// For a loopback base URL, proxies from the environment are not used: a local server
/// is never reached through `HTTP_PROXY`.
pub(crate) fn build_client(connect_timeout: Duration, base_url: &str) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if is_loopback(base_url) {
        builder = builder.no_proxy();
    }
    builder
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

impl Endpoint {
    /// Maps a failure to send (or to receive headers) to an error.
    pub(crate) fn send_error(&self, e: reqwest::Error) -> Error {
        let cause = error_chain(&e);
        let (provider, base) = (self.provider, &self.base);
        if e.is_timeout() {
            Error::new(
                ErrorKind::Timeout,
                format!("{provider} timed out: could not connect to {base} ({cause}). Check that the server is reachable, or raise the connect timeout"),
            )
            .with_retryable(true)
            .with_source(e)
        } else if e.is_connect() {
            Error::new(
                ErrorKind::ProviderUnavailable,
                format!(
                    "{provider} is unavailable: cannot connect to {base} ({cause}). {}",
                    self.unreachable_hint
                ),
            )
            .with_source(e)
        } else if e.is_builder() {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("{provider}: invalid request URL under {base} ({cause}). Fix the base URL"),
            )
            .with_source(e)
        } else {
            Error::new(
                ErrorKind::Network,
                format!("{provider}: the request to {base} failed ({cause}). Check the network and retry"),
            )
            .with_retryable(true)
            .with_source(e)
        }
    }

    /// Maps a failure while reading the body of a streaming reply.
    pub(crate) fn body_error(&self, e: reqwest::Error) -> Error {
        let cause = error_chain(&e);
        Error::new(
            ErrorKind::Network,
            format!(
                "{}: the connection to {} broke mid-reply ({cause}); the reply is incomplete. Retry the request",
                self.provider, self.base
            ),
        )
        .with_retryable(true)
        .with_source(e)
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
    /// Reads up to 64 KiB of the body of a non-2xx response.
    pub(crate) async fn read(
        endpoint: &Endpoint,
        mut response: reqwest::Response,
    ) -> Result<ErrorResponse> {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(bytes)) => {
                    let room = MAX_ERROR_BODY_BYTES - body.len();
                    body.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    if body.len() >= MAX_ERROR_BODY_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                // The status is what matters; a body cut short still has its start.
                Err(_) if !body.is_empty() => break,
                Err(e) => {
                    return Err(endpoint
                        .body_error(e)
                        .context(&format!("HTTP {status} and then: "))
                        .with_status(status))
                }
            }
        }
        let mut parsed = ErrorBody::parse(&body);
        if parsed.message.is_empty() {
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

/// `retry-after-ms` (milliseconds), else `Retry-After` in seconds. An HTTP-date form is
/// not converted here.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let secs = get("retry-after")?.parse::<f64>().ok()?;
    (secs.is_finite() && (0.0..1e9).contains(&secs)).then(|| Duration::from_secs_f64(secs))
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
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("-3"));
        assert_eq!(retry_after(&h), None);
    }
}
