//! Entry points for the crate's benches, fuzz targets and test kit (`testkit/`): the
//! built-in decoding pipelines exactly as the providers run them over a response body,
//! fed from memory, and the parsers of header values.
//!
//! Hidden from the docs; not part of the public API and not covered by semver.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::chunk::Chunk;
use crate::decode::Decoder;
use crate::decode::{Decoded, Origin};
use crate::error::{Error, Result};
use crate::kit::{frames_of, Framing};
use crate::providers::anthropic::MessagesDecoder;
use crate::providers::gemini::{GeminiDecoder, GeminiDialect};
use crate::providers::ollama::LineDecoder;
use crate::providers::openai::SseDecoder;
use crate::providers::openai_responses::ResponsesDecoder;
use crate::redact::Redactor;

/// The longest SSE event or NDJSON line the providers accept by default.
pub const DEFAULT_MAX_FRAME_BYTES: usize = crate::kit::settings::DEFAULT_MAX_FRAME_BYTES;

/// A wait this long means "longer than anyone will wait" (an absurd `Retry-After`).
pub const UNREASONABLE_WAIT: Duration = crate::duration::UNREASONABLE_WAIT;

/// A built-in pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI Chat Completions: SSE framing, then the chat completion chunk decoder.
    OpenAiSse,
    /// Ollama `/api/chat`: NDJSON framing, then the line decoder.
    OllamaNdjson,
    /// OpenAI Responses: SSE framing, then the typed-event decoder.
    ResponsesSse,
    /// Anthropic Messages: SSE framing, then the content-block decoder.
    AnthropicSse,
    /// Gemini `streamGenerateContent`: SSE framing, then the response-chunk decoder.
    GeminiSse,
}

impl Wire {
    /// Every pipeline.
    pub const ALL: [Wire; 5] = [
        Wire::OpenAiSse,
        Wire::OllamaNdjson,
        Wire::ResponsesSse,
        Wire::AnthropicSse,
        Wire::GeminiSse,
    ];
}

impl Wire {
    fn framing(self) -> Framing {
        match self {
            Wire::OllamaNdjson => Framing::Ndjson,
            Wire::OpenAiSse | Wire::ResponsesSse | Wire::AnthropicSse | Wire::GeminiSse => {
                Framing::Sse
            }
        }
    }

    fn origin(self) -> Origin {
        let name = match self {
            Wire::OpenAiSse => "openai",
            Wire::OllamaNdjson => "ollama",
            Wire::ResponsesSse => "openai-responses",
            Wire::AnthropicSse => "anthropic",
            Wire::GeminiSse => "gemini",
        };
        Origin::new(name, "http://entry")
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
    frames_of(wire.framing(), bytes, max_frame, wire.origin(), |e| e)
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
    let origin = wire.origin();
    let decoder = match wire {
        Wire::OpenAiSse => AnyDecoder::OpenAi(SseDecoder::new(origin)),
        Wire::OllamaNdjson => AnyDecoder::Ollama(LineDecoder::new(origin)),
        Wire::ResponsesSse => AnyDecoder::Responses(ResponsesDecoder::new(origin)),
        Wire::AnthropicSse => AnyDecoder::Anthropic(MessagesDecoder::new(origin)),
        Wire::GeminiSse => AnyDecoder::Gemini(GeminiDecoder::new(origin)),
    };
    Decoded::new(frames, decoder).map(move |item| redactor.item(item))
}

/// The decoder of any pipeline.
enum AnyDecoder {
    OpenAi(SseDecoder),
    Ollama(LineDecoder),
    Responses(ResponsesDecoder),
    Anthropic(MessagesDecoder),
    Gemini(GeminiDecoder),
}

impl AnyDecoder {
    fn inner(&mut self) -> &mut dyn Decoder {
        match self {
            AnyDecoder::OpenAi(d) => d,
            AnyDecoder::Ollama(d) => d,
            AnyDecoder::Responses(d) => d,
            AnyDecoder::Anthropic(d) => d,
            AnyDecoder::Gemini(d) => d,
        }
    }
}

impl Decoder for AnyDecoder {
    fn frame(
        &mut self,
        frame: &[u8],
        out: &mut std::collections::VecDeque<Chunk>,
    ) -> Result<crate::kit::Flow> {
        self.inner().frame(frame, out)
    }

    fn end_of_body(&mut self, out: &mut std::collections::VecDeque<Chunk>) -> Result<()> {
        self.inner().end_of_body(out)
    }
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

/// Whenever the Ollama decoder's fast path reads `line`, serde reads it too, the same
/// way. Returns whether the fast path read it.
///
/// # Errors
/// What the two readings disagree on.
pub fn ollama_fast_path_agrees_with_serde(line: &[u8]) -> std::result::Result<bool, String> {
    crate::providers::ollama::fast_path_agrees_with_serde(line)
}

/// Whenever the OpenAI decoder's fast path reads `frame` (one SSE event's data), serde
/// reads it too, the same way. Returns whether the fast path read it.
///
/// # Errors
/// What the two readings disagree on.
pub fn openai_fast_path_agrees_with_serde(frame: &[u8]) -> std::result::Result<bool, String> {
    crate::providers::openai::fast_path_agrees_with_serde(frame)
}

/// A token frame of `wire` (OpenAI or Ollama), then the same frame with each of
/// `texts` in place of its text: the decoder that reads frames by their shape yields
/// what the one that parses each yields. Returns whether a frame was read by its shape.
///
/// # Errors
/// The two decodings, when they differ.
pub fn same_shape_agrees(
    wire: Wire,
    template: &[u8],
    texts: &[&[u8]],
) -> std::result::Result<bool, String> {
    match wire {
        Wire::OpenAiSse => crate::providers::openai::same_shape_agrees(template, texts),
        Wire::OllamaNdjson => crate::providers::ollama::same_shape_agrees(template, texts),
        Wire::ResponsesSse | Wire::AnthropicSse | Wire::GeminiSse => Ok(false),
    }
}

/// The Gemini API's dialect (crate-private until the provider is wired into the
/// registry), for tests over loopback and the live tests: give it to
/// [`HttpProvider::builder`](crate::kit::HttpProvider::builder), and the key to the
/// builder's `secret` too, so that it is scrubbed from messages.
pub fn gemini_dialect(api_key: Option<&str>) -> impl crate::kit::Dialect {
    GeminiDialect::new(api_key.map(str::to_owned))
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
