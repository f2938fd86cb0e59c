//! The built-in providers, one folder each. Adding a provider is its folder here, one
//! line in `Registry::builtin` (`src/registry.rs`) and one in [`WIRES`] below, which
//! the tests, the fuzz targets and the benches read.

pub mod anthropic;
pub mod azure_openai;
pub mod bedrock;
pub mod gemini;
pub mod mock;
pub mod ollama;
pub mod openai;
pub mod openai_responses;

#[cfg(any(test, feature = "test-hooks"))]
use crate::decode::Decoder;
#[cfg(any(test, feature = "test-hooks"))]
use crate::kit::Framing;
#[cfg(any(test, feature = "test-hooks"))]
use crate::origin::Origin;

/// A built-in wire format: how a provider's replies are framed and decoded.
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) struct WireFormat {
    /// The provider's name.
    pub(crate) name: &'static str,
    pub(crate) framing: Framing,
    /// A decoder for one reply from the origin.
    pub(crate) decoder: fn(Origin) -> Box<dyn Decoder>,
}

/// Every built-in wire format, by provider. The mock has none: it makes chunks.
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) static WIRES: &[WireFormat] = &[
    WireFormat {
        name: "openai",
        framing: Framing::Sse,
        decoder: |origin| Box::new(openai::SseDecoder::new(origin)),
    },
    WireFormat {
        name: "ollama",
        framing: Framing::Ndjson,
        decoder: |origin| Box::new(ollama::LineDecoder::new(origin)),
    },
    WireFormat {
        name: "openai-responses",
        framing: Framing::Sse,
        decoder: |origin| Box::new(openai_responses::ResponsesDecoder::new(origin)),
    },
    WireFormat {
        name: "gemini",
        framing: Framing::Sse,
        decoder: |origin| Box::new(gemini::GeminiDecoder::new(origin)),
    },
    WireFormat {
        name: "anthropic",
        framing: Framing::Sse,
        decoder: |origin| Box::new(anthropic::MessagesDecoder::new(origin)),
    },
    WireFormat {
        name: "bedrock",
        framing: Framing::EventStream,
        decoder: |origin| Box::new(bedrock::ConverseDecoder::new(origin)),
    },
];
