//! [`Dialect`]: what makes one HTTP chat API, the part of a provider the kit cannot do
//! for it; and the [`HttpRequest`] it asks the kit to send.

use std::fmt;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use serde::Serialize;

use crate::decode::Decoder;

use crate::error::{Error, ErrorKind, Result};
use crate::http::ErrorResponse;
use crate::origin::Origin;
use crate::pricing::Pricing;
use crate::request::ChatRequest;

/// How a reply's body is cut into frames for the [`Decoder`]. Whatever the framing, a
/// reply of `application/json` (a server that ignored `stream: true`) is one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Framing {
    /// Server-Sent Events (`text/event-stream`): each event's data is a frame;
    /// comments and keep-alives are dropped. Event names are not passed on: the APIs
    /// that use them repeat them in the data.
    Sse,
    /// Newline-delimited JSON (`application/x-ndjson`): each non-blank line is a frame.
    Ndjson,
    /// The AWS event stream (`application/vnd.amazon.eventstream`, Bedrock): each
    /// message, checked (both CRC32s, lengths, headers), is a frame, as it came: the
    /// prelude, the headers and the payload. Its headers (`:event-type`, …) say what the
    /// payload is; the built-in Bedrock decoder reads them.
    EventStream,
}

impl Framing {
    /// The media types a reply may have; any other is a `protocol` error, not a reply.
    pub(crate) fn media_types(self) -> &'static [&'static str] {
        match self {
            Framing::Sse => &["text/event-stream", "application/json"],
            Framing::Ndjson => &["application/x-ndjson", "application/json"],
            Framing::EventStream => &["application/vnd.amazon.eventstream", "application/json"],
        }
    }
}

/// One HTTP chat API, as the kit's [`HttpProvider`](super::HttpProvider) speaks it:
/// the request to send, how the reply is framed and decoded, what an error status
/// means. The kit does the rest: the request prologue (model, validation, estimates),
/// sending, redirects, retries, time limits, caps, redaction, and the `ChatStream`.
///
/// See the [module documentation](crate::kit) for a whole provider.
pub trait Dialect: fmt::Debug + Send + Sync + 'static {
    /// The decoder of one reply.
    type Decoder: Decoder;

    /// The provider's name, as [`LlmStreamProvider::name`](crate::LlmStreamProvider::name)
    /// reports it and messages show it.
    fn name(&self) -> &str;

    /// How replies are framed.
    fn framing(&self) -> Framing;

    /// The request for a chat with `model` (the request's, or the provider's default).
    /// Called for every attempt, so that what [`adapt`](Self::adapt) learned applies.
    ///
    /// # Errors
    /// What cannot be sent (`invalid_request`): the request is not retried.
    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest>;

    /// A decoder for one reply from `origin` (its media type included).
    fn decoder(&self, origin: &Origin) -> Self::Decoder;

    /// The error for a response with a failure status. By default: by status
    /// ([`kind_for_status`](crate::kit::kind_for_status)), keeping the server's words.
    fn classify(&self, failure: ErrorResponse, model: &str) -> Error {
        let _ = model;
        failure.into_default_error(self.name())
    }

    /// Called with a failure before it is classified: return `true` to send the request
    /// again, built anew by [`request`](Self::request) (at most once per attempt). For
    /// servers that reject an optional field: remember not to send it, and say `true`.
    fn adapt(&self, failure: &ErrorResponse) -> bool {
        let _ = failure;
        false
    }

    /// How `model` is priced (default: [`Pricing::Unknown`]).
    fn pricing(&self, model: &str) -> Pricing {
        let _ = model;
        Pricing::Unknown
    }

    /// What to suggest when nothing answers at the base URL.
    fn unreachable_hint(&self) -> &str {
        "Check that the server is running and that the base URL is right"
    }

    /// The request as it goes to `url` (the base URL and the path), for an API that
    /// signs its requests over the URL, the headers and the body (Bedrock's SigV4).
    /// Called for every attempt, last, after the kit added the key and the headers. By
    /// default the request is sent as it is.
    ///
    /// # Errors
    /// What cannot be signed (`invalid_request`): the request is not sent.
    fn sign(&self, request: HttpRequest, url: &str) -> Result<HttpRequest> {
        let _ = url;
        Ok(request)
    }
}

/// A request a [`Dialect`] asks the kit to send: `POST {base URL}{path}` with a JSON
/// body and headers. Header values marked sensitive are never shown; give the
/// provider's secrets to its builder too, so that they are scrubbed from messages.
///
/// ```
/// use theory_llm::kit::HttpRequest;
///
/// # fn main() -> theory_llm::Result<()> {
/// let request = HttpRequest::post_json("/chat", &serde_json::json!({"prompt": "hi"}))?
///     .header("accept", "application/x-ndjson")?
///     .bearer_auth("sk-example")?;
/// assert_eq!(request.path(), "/chat");
/// assert!(!format!("{request:?}").contains("sk-example"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct HttpRequest {
    pub(crate) path: String,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: HeaderMap,
}

impl HttpRequest {
    /// `POST {base}{path}` with `body` as JSON (`content-type: application/json`).
    ///
    /// # Errors
    /// `invalid_request` if `body` cannot be written as JSON.
    pub fn post_json(path: impl Into<String>, body: &impl Serialize) -> Result<HttpRequest> {
        let body = serde_json::to_vec(body).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("the request cannot be encoded as JSON ({e})"),
            )
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(HttpRequest {
            path: path.into(),
            body,
            headers,
        })
    }

    /// Adds a header.
    ///
    /// # Errors
    /// `invalid_request` for a name or value HTTP does not allow.
    pub fn header(self, name: &str, value: &str) -> Result<HttpRequest> {
        self.add(name, value, false)
    }

    /// Adds a header whose value is a secret: never shown in `Debug`.
    ///
    /// # Errors
    /// `invalid_request` for a name or value HTTP does not allow (the value is not
    /// quoted).
    pub fn sensitive_header(self, name: &str, value: &str) -> Result<HttpRequest> {
        self.add(name, value, true)
    }

    /// `Authorization: Bearer {token}`, sensitive.
    ///
    /// # Errors
    /// `invalid_request` if the token has characters HTTP headers do not allow.
    pub fn bearer_auth(self, token: &str) -> Result<HttpRequest> {
        self.add(AUTHORIZATION.as_str(), &format!("Bearer {token}"), true)
    }

    /// Adds these headers (already checked; a built-in provider's extra headers).
    pub(crate) fn with_headers(mut self, headers: &HeaderMap) -> HttpRequest {
        for (name, value) in headers {
            self.headers.append(name, value.clone());
        }
        self
    }

    /// The path, appended to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The headers, each name lowercase, in the order they were added.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
    }

    /// Whether the request carries its own `Authorization` header (else the kit sends
    /// the user info of the base URL, if any, as Basic authentication).
    pub(crate) fn has_authorization(&self) -> bool {
        self.headers.contains_key(AUTHORIZATION)
    }

    fn add(mut self, name: &str, value: &str, sensitive: bool) -> Result<HttpRequest> {
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("'{name}' is not a valid HTTP header name"),
            )
        })?;
        let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("the value of header '{name}' has characters HTTP headers do not allow"),
            )
        })?;
        value.set_sensitive(sensitive);
        self.headers.append(header, value);
        Ok(self)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // HeaderMap's Debug prints "Sensitive" for sensitive values.
        f.debug_struct("HttpRequest")
            .field("path", &self.path)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// `text` as one path segment: every byte but the unreserved ones (`A-Z a-z 0-9 - . _
/// ~`) percent-encoded, so that no model or deployment name can add a segment, a query
/// or a colon to a request's path.
///
/// ```
/// assert_eq!(theory_llm::kit::path_segment("../x?y"), "..%2Fx%3Fy");
/// ```
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
