//! The one error type of the crate: [`Error`], classified by [`ErrorKind`].
//!
//! Every message says what failed and what to do next, and keeps the server's
//! own words when there are any. Secrets (API keys) are scrubbed before they
//! can reach a message.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::rate_limit::RateLimit;

mod attempt;

pub use attempt::Attempt;

/// `Result<T, theory_llm::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is: the value to match on.
///
/// Serialized in `snake_case` (`"model_not_found"`), as the CLI's `--json` output shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider cannot be used: not configured (a missing API key), or not reachable
    /// (connection refused, DNS failure).
    ProviderUnavailable,
    /// The provider does not know the model (for Ollama: it has not been pulled).
    ModelNotFound,
    /// The credentials were refused (HTTP 401/403).
    Auth,
    /// Too many requests, or the quota is used up (HTTP 429).
    RateLimited,
    /// The request was rejected as invalid, by the SDK before sending or by the server (HTTP 400/422).
    InvalidRequest,
    /// The server failed (HTTP 5xx, or an error event inside the stream).
    Server,
    /// The connection failed or was cut after the request was sent.
    Network,
    /// A time limit was exceeded (connect, first chunk, idle gap, or total deadline).
    Timeout,
    /// The server sent something the SDK cannot understand (malformed stream, truncated body).
    Protocol,
    /// The work was cancelled before it finished.
    Cancelled,
    /// A tool server (an MCP server) could not be started or initialized, exited,
    /// stopped answering, or broke its protocol.
    ToolServer,
}

impl ErrorKind {
    /// The `snake_case` name, as serialized: `"rate_limited"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ProviderUnavailable => "provider_unavailable",
            ErrorKind::ModelNotFound => "model_not_found",
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Server => "server",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::ToolServer => "tool_server",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a provider or from the SDK itself.
///
/// Match on [`Error::kind`]; show the error with `Display`, which says what failed
/// and what to do next. `Error` is `Send + Sync + 'static`, cheap to move (one
/// pointer), and carries no type of the HTTP or JSON libraries in its API: the
/// underlying cause, if any, is available through [`std::error::Error::source`].
///
/// ```
/// use theory_llm::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::RateLimited, "openai rate limit reached. Retry in 20 s.")
///     .with_status(429);
/// assert_eq!(err.kind(), ErrorKind::RateLimited);
/// assert_eq!(err.status(), Some(429));
/// assert_eq!(err.to_string(), "openai rate limit reached. Retry in 20 s.");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    retry_after: Option<Duration>,
    retryable: bool,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    /// What the reply had delivered before the failure: a `PartialReply`, typed in
    /// `partial.rs` (its accessors are there), so that this module, at the bottom of
    /// the layers, does not depend on the reply's types.
    partial: Option<Box<dyn std::any::Any + Send + Sync>>,
    rate_limit: Option<RateLimit>,
    /// A fallback chain's entries that were tried, each with its failure.
    attempts: Vec<Attempt>,
}

impl Error {
    /// A new error of `kind` with a message that says what failed and what to do.
    ///
    /// Custom providers use this to report their failures.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: escape_controls(message.into()),
                status: None,
                retry_after: None,
                retryable: false,
                source: None,
                partial: None,
                rate_limit: None,
                attempts: Vec::new(),
            }),
        }
    }

    /// Attaches the HTTP status the server answered with.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Error {
        self.inner.status = Some(status);
        self
    }

    /// Attaches the underlying cause (kept out of the message, reachable through `source()`).
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// Attaches how long the server asked the client to wait before retrying.
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> Error {
        self.inner.retry_after = Some(delay);
        self
    }

    /// Marks whether retrying the same request may succeed (a dropped connection, a busy
    /// server). The providers' retry layer only retries errors marked so, and only
    /// before any content was delivered.
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Error {
        self.inner.retryable = retryable;
        self
    }

    /// Whether retrying the same request may succeed: connection failures, HTTP 408,
    /// 429 (but not a used-up quota), 500, 502, 503, 504, and error events inside a
    /// stream. Providers retry these by themselves before any content was delivered.
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status of the response that carried the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The message: what failed, the server's own words when there are any, and what to do.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// How long the server asked the client to wait before retrying (`Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Attaches the rate limits the failed response reported.
    #[must_use]
    pub fn with_rate_limit(mut self, limits: RateLimit) -> Error {
        self.inner.rate_limit = Some(limits);
        self
    }

    /// The rate limits the failed response reported (`x-ratelimit-*`,
    /// `anthropic-ratelimit-*`), if it did: how many requests and tokens are left, and
    /// when they reset.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.inner.rate_limit.as_ref()
    }

    /// Attaches the entries of a fallback chain that were tried (see
    /// [`attempts`](Self::attempts)).
    #[must_use]
    pub fn with_attempts(mut self, attempts: Vec<Attempt>) -> Error {
        self.inner.attempts = attempts;
        self
    }

    /// When a [`FallbackProvider`](crate::routing::FallbackProvider) gave up: every entry it tried,
    /// in order, each with its own failure (the last one's is this error's). Empty for
    /// an error of one provider.
    pub fn attempts(&self) -> &[Attempt] {
        &self.inner.attempts
    }

    /// The partial reply, type-erased (see `partial.rs`).
    pub(crate) fn partial_slot(&mut self) -> &mut Option<Box<dyn std::any::Any + Send + Sync>> {
        &mut self.inner.partial
    }

    /// The partial reply, type-erased, to read.
    pub(crate) fn partial_any(&self) -> Option<&(dyn std::any::Any + Send + Sync)> {
        self.inner.partial.as_deref()
    }

    /// Replaces the message, keeping kind, status and source (the redactor uses it).
    #[must_use]
    pub(crate) fn with_message(mut self, message: String) -> Error {
        self.inner.message = escape_controls(message);
        self
    }

    /// Appends to the message, keeping kind, status and source.
    #[must_use]
    pub(crate) fn suffix(mut self, suffix: &str) -> Error {
        self.inner
            .message
            .push_str(&escape_controls(suffix.to_owned()));
        self
    }

    /// Prefixes the message with context, keeping kind, status and source.
    #[must_use]
    pub(crate) fn context(mut self, prefix: &str) -> Error {
        self.inner.message = escape_controls(format!("{prefix}{}", self.inner.message));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(status) = self.inner.status {
            d.field("status", &status);
        }
        if let Some(delay) = self.inner.retry_after {
            d.field("retry_after", &delay);
        }
        if self.inner.retryable {
            d.field("retryable", &true);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", &source.to_string());
        }
        if self.inner.partial.is_some() {
            d.field("partial", &true);
        }
        if !self.inner.attempts.is_empty() {
            d.field("attempts", &self.inner.attempts);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

/// `text` with control characters escaped (`\u{1b}` becomes the six characters
/// `\u{1b}`), except newlines and tabs; a carriage return before a newline is
/// dropped. A server's words can then not drive the terminal they are printed on
/// (clear the screen, set its title, hide text).
pub(crate) fn escape_controls(text: String) -> String {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// A short, single-line excerpt of a (possibly HTML) body, at most `max` characters.
pub(crate) fn excerpt(body: &str, max: usize) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_snake_case() {
        let all = [
            ErrorKind::ProviderUnavailable,
            ErrorKind::ModelNotFound,
            ErrorKind::Auth,
            ErrorKind::RateLimited,
            ErrorKind::InvalidRequest,
            ErrorKind::Server,
            ErrorKind::Network,
            ErrorKind::Timeout,
            ErrorKind::Protocol,
            ErrorKind::Cancelled,
            ErrorKind::ToolServer,
        ];
        for kind in all {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(
            ErrorKind::ProviderUnavailable.to_string(),
            "provider_unavailable"
        );
    }

    #[test]
    fn messages_never_carry_control_characters() {
        // Regression (issue 11): ANSI escapes from a server reached the terminal raw.
        let err = Error::new(
            ErrorKind::Server,
            "bad\u{1b}[2J\u{1b}]0;title\u{7}\u{9b}31m\r\nnext\tline\u{0}",
        );
        assert_eq!(
            err.to_string(),
            "bad\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{9b}31m\nnext\tline\\u{0}"
        );
        let err = err.context("\u{1b}ctx: ").suffix(" \u{7f}");
        assert!(!err
            .to_string()
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'));
        assert_eq!(escape_controls("plain\ttext\n".into()), "plain\ttext\n");
    }

    #[test]
    fn error_is_small_and_debug_shows_fields() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        let err = Error::new(ErrorKind::Server, "boom").with_status(500);
        let dbg = format!("{err:?}");
        assert!(dbg.contains("Server") && dbg.contains("500") && dbg.contains("boom"));
    }

    #[test]
    fn excerpt_flattens_and_cuts() {
        assert_eq!(
            excerpt("<html>\n <h1>Bad</h1>\n</html>", 100),
            "<html> <h1>Bad</h1> </html>"
        );
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }
}
