//! # theory-llm
//!
//! A streaming-first async SDK for LLM chat providers: tokens on screen as they
//! arrive, whole replies with honest usage and cost, one trait for every provider.
//!
//! ```
//! use futures::StreamExt;
//! use theory_llm::{get_llm_provider, Chunk, LlmStreamProvider};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> theory_llm::Result<()> {
//! let llm = get_llm_provider("mock")?; // or "openai", "anthropic", "ollama", "openai-responses"
//!
//! // Tokens as they arrive:
//! let mut stream = llm.stream_chat("Hello".into());
//! while let Some(chunk) = stream.next().await {
//!     if let Chunk::Text(text) = chunk? {
//!         print!("{text}");
//!     }
//! }
//!
//! // Or the whole reply, with usage:
//! let reply = llm.chat("Hello".into()).await?;
//! println!("{} ({} tokens in, {} out, {:.1} ms)",
//!     reply.text, reply.usage.tokens_in, reply.usage.tokens_out, reply.usage.latency_ms);
//! # Ok(())
//! # }
//! ```
//!
//! ## Layers
//!
//! A [`ChatRequest`] goes to a provider, which maps it onto its wire format and sends
//! it; the response bytes are framed (Server-Sent Events or newline-delimited JSON),
//! each frame is mapped to provider-neutral [`Chunk`]s, and the [`ChatStream`] hands
//! them to the app as they arrive, or a [`Collector`] folds them into a [`ChatReply`].
//! The source follows that flow: `kit/` (what every HTTP provider shares) and
//! `providers/` on top, then `http/`, `framing/`, `decode.rs`, `stream/`, `collect/`.
//!
//! ## Where things are
//!
//! The crate root has what an app uses. Provider-specific types are in [`openai`],
//! [`openai_responses`], [`anthropic`], [`ollama`] and [`mock`] (builders, Ollama's
//! [`KeepAlive`](ollama::KeepAlive) and model list); what it takes to write a provider
//! of your own is in [`kit`].
//!
//! ## Cargo features
//!
//! - `rustls` (default) or `native-tls`: the TLS backend for HTTPS providers.
//! - `tracing` (off): one `tracing` span per call with the OpenTelemetry GenAI
//!   attributes (model, usage, cost, time to first chunk, finish reasons, errors),
//!   retries as span events; see the README's "Tracing". Without it, nothing of it is
//!   compiled in.
//!
//! Foreign types in the API are few and deliberate: `futures::Stream` (what a
//! [`ChatStream`] is), `reqwest::Client` (bring your own HTTP client to a builder),
//! `serde_json::Value` (JSON data: Ollama's options), and `serde` traits for what is
//! serialized.

// Library code never panics on input and never prints; tests may unwrap.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::print_stdout,
        clippy::print_stderr
    )
)]

mod chunk;
mod collect;
mod decode;
mod duration;
#[doc(hidden)]
pub mod entry;
mod error;
mod fallback;
mod framing;
mod http;
mod json_scan;
mod json_text;
pub mod kit;
mod lenient;
mod partial;
mod pricing;
mod provider;
mod providers;
mod rate_limit;
pub mod record;
mod redact;
mod registry;
mod request;
mod retry;
mod route;
mod stream;
mod usage;

pub use chunk::{
    Chunk, Finish, FinishReason, ServerTimings, ThinkingBlock, ToolCall, ToolCallDelta,
    ToolCallStart,
};
pub use collect::{ChatReply, Collector};
pub use error::{Error, ErrorKind, Result};
pub use fallback::{FallbackProvider, FallbackProviderBuilder, DEFAULT_FALLBACK_KINDS};
pub use partial::PartialReply;
pub use pricing::{CostBasis, LongPrompt, Price, PriceTable, Pricing, TokenCounts};
pub use provider::LlmStreamProvider;
pub use providers::{anthropic, mock, ollama, openai, openai_responses};
pub use providers::{
    anthropic::AnthropicProvider, mock::MockProvider, ollama::OllamaProvider,
    openai::OpenAiProvider, openai_responses::OpenAiResponsesProvider,
};
pub use rate_limit::{Quota, RateLimit};
pub use registry::{get_llm_provider, ProviderOptions, Registry};
pub use request::{
    strict_schema, ChatRequest, Image, Message, ProviderReasoning, Reasoning, ReasoningEffort,
    ResponseFormat, Role, Timeouts, Tool, ToolChoice,
};
pub use retry::RetryPolicy;
pub use route::{Attempt, Route};
pub use stream::{ChatStream, TextStream};
pub use usage::Usage;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
