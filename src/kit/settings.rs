//! The settings every HTTP provider has (time limits, retries, caps), and the builder
//! setters for them, written once.

use std::time::Duration;

use crate::http::DEFAULT_CONNECT_TIMEOUT;
use crate::origin::DEFAULT_MAX_REPLY_BYTES;
use crate::request::Timeouts;
use crate::retry::RetryPolicy;

/// Default time from sending a request to its first content.
pub(crate) const DEFAULT_FIRST_CHUNK_TIMEOUT: Duration = Duration::from_secs(120);
/// Default longest gap between two content events.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest line or event accepted from a server.
pub(crate) const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

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

/// The transport setters every HTTP provider's builder has, written once, for the
/// builder's `HttpSettings` at the field path given (`common.settings`).
macro_rules! http_builder_setters {
    ($($field:ident).+) => {
        /// Time to establish a connection (default 10 s). It applies to the client the
        /// provider builds; a client passed in keeps its own.
        #[must_use]
        pub fn connect_timeout(mut self, limit: std::time::Duration) -> Self {
            self.$($field).+.connect_timeout = limit;
            self
        }

        /// Time from sending a request to its first content (default 120 s): reasoning
        /// models think, and local servers load models, before they speak.
        #[must_use]
        pub fn first_chunk_timeout(mut self, limit: std::time::Duration) -> Self {
            self.$($field).+.timeouts.first_chunk = Some(limit);
            self
        }

        /// The longest wait for the next chunk of content (default 60 s); keep-alives
        /// are not content.
        #[must_use]
        pub fn idle_timeout(mut self, limit: std::time::Duration) -> Self {
            self.$($field).+.timeouts.idle = Some(limit);
            self
        }

        /// A limit on the whole request (default none).
        #[must_use]
        pub fn deadline(mut self, limit: std::time::Duration) -> Self {
            self.$($field).+.timeouts.deadline = Some(limit);
            self
        }

        /// How requests that fail before their first content are retried (default: 2
        /// retries, backoff from 0.5 s doubling to 8 s, `Retry-After` up to 60 s):
        /// connection failures, HTTP 408, 429, 500, 502, 503 and 504, and error events
        /// before any text.
        #[must_use]
        pub fn retry_policy(mut self, policy: $crate::retry::RetryPolicy) -> Self {
            self.$($field).+.retry = policy;
            self
        }

        /// The number of retries (default 2); shorthand for a
        /// [`RetryPolicy`]($crate::retry::RetryPolicy) change.
        #[must_use]
        pub fn max_retries(mut self, retries: u32) -> Self {
            self.$($field).+.retry = self.$($field).+.retry.max_retries(retries);
            self
        }

        /// The largest reply `chat()` collects, in bytes of text and reasoning (default
        /// 64 MiB); a longer one is a `protocol` error rather than unbounded memory.
        /// Streaming with `stream_chat` holds no reply and has no such limit. A request
        /// can set its own with [`ChatRequest::max_reply_bytes`]($crate::ChatRequest::max_reply_bytes).
        #[must_use]
        pub fn max_reply_bytes(mut self, limit: usize) -> Self {
            self.$($field).+.max_reply_bytes = limit;
            self
        }
    };
}
pub(crate) use http_builder_setters;
