//! Entry points for the crate's benches, fuzz targets and test kit (`testkit/`): the
//! built-in decoding pipelines exactly as the providers run them over a response body,
//! fed from memory, and the parsers of header values.
//!
//! Hidden from the docs; not part of the public API and not covered by semver; compiled
//! only for tests, benches and fuzzing (the `test-hooks` feature).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::chunk::Chunk;
use crate::decode::Decoded;
use crate::error::{Error, Result};
use crate::kit::{frames_of, Framing};
use crate::origin::Origin;
use crate::providers::{WireFormat, WIRES};
use crate::redact::Redactor;

pub(crate) mod hooks;

pub use hooks::{ollama_fast_path_agrees_with_serde, openai_fast_path_agrees_with_serde};

/// The longest SSE event or NDJSON line the providers accept by default.
pub const DEFAULT_MAX_FRAME_BYTES: usize = crate::kit::settings::DEFAULT_MAX_FRAME_BYTES;

/// A wait this long means "longer than anyone will wait" (an absurd `Retry-After`).
pub const UNREASONABLE_WAIT: Duration = crate::duration::UNREASONABLE_WAIT;

/// A built-in wire format (a line of the providers' table): what tests, fuzz targets and
/// benches run replies through.
#[derive(Clone, Copy)]
pub struct Wire(&'static WireFormat);

impl Wire {
    /// The wire format of the provider named `name` (`"openai"`, `"ollama"`, …).
    pub fn named(name: &str) -> Option<Wire> {
        WIRES.iter().find(|w| w.name == name).map(Wire)
    }

    /// Every built-in wire format.
    pub fn all() -> impl Iterator<Item = Wire> {
        WIRES.iter().map(Wire)
    }

    /// The provider's name.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Whether replies are newline-delimited JSON (else Server-Sent Events).
    pub fn is_ndjson(self) -> bool {
        self.0.framing == Framing::Ndjson
    }

    fn origin(self) -> Origin {
        Origin::new(self.0.name, "http://entry")
    }
}

impl PartialEq for Wire {
    fn eq(&self, other: &Wire) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Wire {}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Wire({})", self.0.name)
    }
}

/// The frames of a body that arrives in `pieces` (network reads), each at most
/// `max_frame` bytes.
pub fn frames<I>(
    wire: Wire,
    pieces: I,
    max_frame: usize,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static
where
    I: IntoIterator<Item = Bytes> + 'static,
    I::IntoIter: Send + 'static,
{
    let bytes = futures::stream::iter(pieces.into_iter().map(Ok::<_, Error>));
    frames_of(wire.0.framing, bytes, max_frame, wire.origin(), |e| e)
}

/// Frames given to the pipeline's decoder, then the end of the body; every item
/// scrubbed of `secret` as the provider scrubs them.
pub fn map<S>(
    wire: Wire,
    frames: S,
    secret: &str,
) -> impl Stream<Item = Result<Chunk>> + Send + 'static
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    let redactor = Redactor::new([secret]);
    let decoder = (wire.0.decoder)(wire.origin());
    Decoded::new(frames, decoder).map(move |item| redactor.item(item))
}

/// The items of a reply whose body arrives in `pieces`: framing, then the decoder, then
/// the scrub of `secret`, as the provider runs them (minus the socket).
pub fn decode<I>(
    wire: Wire,
    pieces: I,
    max_frame: usize,
    secret: &str,
) -> impl Stream<Item = Result<Chunk>> + Send + 'static
where
    I: IntoIterator<Item = Bytes> + 'static,
    I::IntoIter: Send + 'static,
{
    map(wire, frames(wire, pieces, max_frame), secret)
}

/// A token frame of `wire` (OpenAI: the only decoder that reads frames by their
/// shape), then the same frame with each of `texts` in place of its text: the decoder
/// that reads frames by their shape yields what the one that parses each yields.
/// Returns whether a frame was read by its shape.
///
/// # Errors
/// The two decodings, when they differ.
pub fn same_shape_agrees(
    wire: Wire,
    template: &[u8],
    texts: &[&[u8]],
) -> std::result::Result<bool, String> {
    match wire.name() {
        "openai" => hooks::openai_same_shape_agrees(template, texts),
        _ => Ok(false),
    }
}

/// The wait `retry-after-ms` and `Retry-After` ask for, read as the providers read them.
pub fn parse_retry_after(
    millis: Option<&[u8]>,
    after: Option<&[u8]>,
    now: SystemTime,
) -> Option<Duration> {
    crate::http::parse_retry_after(millis, after, now)
}

/// The media type of a `Content-Type` value, as the providers read it: lowercase, no
/// parameters; `None` for a value HTTP does not allow, or an empty one.
pub fn media_type(content_type: &[u8]) -> Option<String> {
    let value = reqwest::header::HeaderValue::from_bytes(content_type).ok()?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::CONTENT_TYPE, value);
    crate::http::media_type(&headers)
}

/// An AWS event-stream message as the framer passed it on, read: the headers the crate
/// reads and the payload (for the cross-check against botocore's decoder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStreamMessage {
    /// `:message-type`, `:event-type`, `:exception-type`, `:content-type`,
    /// `:error-code`, `:error-message`, as far as they are string headers.
    pub headers: Vec<(&'static str, Option<String>)>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// The messages of an AWS event-stream body, framed as the Bedrock provider frames it
/// (each at most `max` bytes), each read, or the framing's error as the provider says
/// it; after an error, nothing. Fed from memory: it never waits.
pub fn eventstream_messages(
    body: &[u8],
    max: usize,
) -> impl Stream<Item = Result<EventStreamMessage>> + Send + 'static {
    use crate::framing::eventstream::Message;
    let bytes = futures::stream::iter([Ok::<_, Error>(Bytes::copy_from_slice(body))]);
    let origin = Origin::new("bedrock", "http://entry");
    frames_of(Framing::EventStream, bytes, max, origin, |e| e).map(|frame| {
        let frame = frame?;
        let message = Message::read(&frame)
            .map_err(|what| Error::new(crate::error::ErrorKind::Protocol, what))?;
        let text = |value: Option<&str>| value.map(str::to_owned);
        Ok(EventStreamMessage {
            headers: vec![
                (":message-type", text(message.message_type)),
                (":event-type", text(message.event_type)),
                (":exception-type", text(message.exception_type)),
                (":content-type", text(message.content_type)),
                (":error-code", text(message.error_code)),
                (":error-message", text(message.error_message)),
            ],
            payload: message.payload.to_vec(),
        })
    })
}
