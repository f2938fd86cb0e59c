//! [`Origin`]: who answered a request (provider, base URL as shown, media type, and
//! the most the reply may keep), for the errors every layer reports about a reply; and
//! [`Held`], what a decoder keeps counted against that cap. A leaf: the HTTP layer and
//! the decoders both use it.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};

/// Who answered a request, for the errors a [`Decoder`](crate::kit::Decoder) reports: the provider, the base
/// URL as shown (no secrets in it) and the reply's media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    provider: Arc<str>,
    base: Arc<str>,
    media_type: Option<Arc<str>>,
    max_reply_bytes: usize,
}

/// The largest reply a stream keeps, by default: 64 MiB.
pub(crate) const DEFAULT_MAX_REPLY_BYTES: usize = 64 * 1024 * 1024;

/// The error for a reply whose decoder would keep more than `limit` bytes.
fn held_too_much(provider: &str, limit: usize) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!(
            "the {provider} reply holds more than the limit of {limit} bytes (max_reply_bytes) in tool calls or thinking still being assembled: raise the limit if such a reply is expected"
        ),
    )
}

impl Origin {
    /// A reply from `provider` at `base` (shown in messages: give it without secrets).
    pub fn new(provider: impl Into<Arc<str>>, base: impl Into<Arc<str>>) -> Origin {
        Origin {
            provider: provider.into(),
            base: base.into(),
            media_type: None,
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
        }
    }

    /// The same origin, for a reply that may keep at most `limit` bytes (the request's
    /// `max_reply_bytes`, which the kit sets).
    #[must_use]
    pub fn with_max_reply_bytes(mut self, limit: usize) -> Origin {
        self.max_reply_bytes = limit;
        self
    }

    /// The most bytes the reply may keep (64 MiB unless the request or the provider
    /// says otherwise): a decoder holds what it gathers between frames to it with
    /// [`Held`].
    pub fn max_reply_bytes(&self) -> usize {
        self.max_reply_bytes
    }

    /// The same origin, for a reply of `media_type`.
    #[must_use]
    pub fn with_media_type(mut self, media_type: Option<&str>) -> Origin {
        self.media_type = media_type.map(Arc::from);
        self
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The base URL, as shown.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The reply's media type (lowercase, no parameters), if the server sent one.
    pub fn media_type(&self) -> Option<&str> {
        self.media_type.as_deref()
    }

    /// The error for a frame that is not what the protocol says (`protocol`, not
    /// retried): `"<provider>: malformed stream from <base>: <detail>. …"`.
    pub fn malformed(&self, detail: &str) -> Error {
        Error::new(
            ErrorKind::Protocol,
            format!(
                "{}: malformed stream from {}: {detail}. The server may not speak this protocol; check the base URL and the server version",
                self.provider, self.base
            ),
        )
    }

    /// The error for a body that ended before the reply was complete (`network`,
    /// retried while nothing was delivered): `what` is what was missing.
    pub fn truncated(&self, what: &str) -> Error {
        Error::new(
            ErrorKind::Network,
            format!(
                "{}: the reply from {} ended before {what}; it is incomplete (the connection was closed early). Retry the request",
                self.provider, self.base
            ),
        )
        .with_retryable(true)
    }
}

/// What a [`Decoder`](crate::kit::Decoder) keeps between frames (tool call arguments and names gathered
/// until a call completes, thinking text and signatures kept for the next turn),
/// counted toward the reply's cap ([`Origin::max_reply_bytes`]), so that a server
/// cannot fill memory with what is never passed on as a chunk.
///
/// ```
/// use theory_llm::kit::{Held, Origin};
///
/// let origin = Origin::new("lines", "http://127.0.0.1:8700").with_max_reply_bytes(10);
/// let mut held = Held::default();
/// assert!(held.take(6, &origin).is_ok());
/// let err = held.take(6, &origin).unwrap_err();
/// assert_eq!(err.kind(), theory_llm::ErrorKind::Protocol);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    bytes: usize,
}

impl Held {
    /// Counts `more` bytes kept.
    ///
    /// # Errors
    /// A `protocol` error when they would pass the reply's cap; they are not counted.
    pub fn take(&mut self, more: usize, origin: &Origin) -> Result<()> {
        let bytes = self.bytes.saturating_add(more);
        if bytes > origin.max_reply_bytes {
            return Err(held_too_much(&origin.provider, origin.max_reply_bytes));
        }
        self.bytes = bytes;
        Ok(())
    }

    /// The bytes counted so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.provider, self.base)
    }
}
