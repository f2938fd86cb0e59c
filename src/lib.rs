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
//! ## Where things are
//!
//! The crate root has what an app touches in its first hour: the trait, the factory
//! and [`Registry`], the first providers, the request, the stream and its [`Chunk`],
//! the reply and the error. The rest is in area modules:
//!
//! | module | what |
//! | --- | --- |
//! | [`request`] | the request and its parts: messages, images, tools, structured output, reasoning, time limits |
//! | [`stream`] | the stream and its chunks, and the text-only view |
//! | [`reply`] | the collected reply, its usage, a partial reply, rate limits, the [`Collector`](reply::Collector) |
//! | [`pricing`] | prices, the price table, how a reply is priced |
//! | [`routing`] | fallback chains and how a reply was routed |
//! | [`budget`] | budgets: requests, tokens, streams at once and money per period, shared through Redis |
//! | [`retry`] | the retry policy |
//! | [`record`] | recording and replaying streams |
//! | [`embed`] | text embeddings: the request, the vectors, the [`Embedder`](embed::Embedder) of each provider that has them |
//! | [`kit`] | what it takes to write an HTTP provider of your own |
//! | `agent` | tool loops: a tool box of async functions and MCP servers, runs bounded in steps, cost and time (feature `agent`) |
//! | `mcp` | MCP servers' tools, over stdio or streamable HTTP (feature `mcp`) |
//! | [`openai`], [`openai_responses`], [`anthropic`], [`ollama`], [`mock`] | each provider's builder and what only it has |
//!
//! A [`ChatRequest`] goes to a provider, which maps it onto its wire format and sends
//! it; the response bytes are framed (Server-Sent Events or newline-delimited JSON),
//! each frame is mapped to provider-neutral [`Chunk`]s, and the [`ChatStream`] hands
//! them to the app as they arrive, or a collector folds them into a [`ChatReply`].
//! The source follows that flow (see CONTRIBUTING.md, "Layout").
//!
//! ## Cargo features
//!
//! - `rustls` (default) or `native-tls`: the TLS backend for HTTPS providers.
//! - `tracing` (off): one `tracing` span per call with the OpenTelemetry GenAI
//!   attributes (model, usage, cost, time to first chunk, finish reasons, errors),
//!   retries as span events; see the README's "Tracing". Without it, nothing of it is
//!   compiled in.
//! - `redis` (off): budgets shared by every process through a Redis server
//!   (`budget::RedisBudget`).
//! - `agent` (off): the `agent` module, tool loops; tool arguments are checked against
//!   their JSON Schemas with the `jsonschema` crate. `schemars` (off): tools whose
//!   schema is derived from their argument type. `mcp` (off): the `mcp` module, the
//!   tools of MCP servers (on the `rmcp` crate, which needs Rust 1.88).
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

// Internal modules, in the order data flows (see CONTRIBUTING.md "Layout").
mod chunk;
mod decode;
mod duration;
mod error;
mod finish;
mod framing;
mod http;
mod json_scan;
mod json_text;
mod lenient;
mod origin;
mod partial;
mod provider;
mod providers;
mod rate_limit;
mod redact;
mod registry;
mod route;
mod text;
mod usage;

// Area modules: everything public, by what it is about.
#[cfg(feature = "agent")]
pub mod agent;
pub mod budget;
pub mod embed;
pub mod kit;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod pricing;
pub mod record;
pub mod reply;
pub mod request;
pub mod retry;
pub mod routing;
pub mod stream;
// Providers, each with its builder and what only it has.
pub use providers::{
    anthropic, azure_openai, bedrock, gemini, mock, ollama, openai, openai_responses,
};

// The root: what an app touches in its first hour. `tests/it/public_api.rs` lists it;
// a name added here has to argue for its place there.
pub use error::{Error, ErrorKind, Result};
pub use provider::LlmStreamProvider;
pub use providers::{
    anthropic::AnthropicProvider, mock::MockProvider, ollama::OllamaProvider,
    openai::OpenAiProvider, openai_responses::OpenAiResponsesProvider,
};
pub use registry::{get_llm_provider, ProviderOptions, Registry};
pub use reply::{ChatReply, Usage};
pub use request::{
    ChatRequest, Image, Message, Reasoning, ResponseFormat, Role, Timeouts, Tool, ToolChoice,
};
pub use stream::{ChatStream, Chunk, Finish, FinishReason, ToolCall};

/// Entry points for the crate's own benches, fuzz targets and test kit (the `test-hooks`
/// feature). Not part of the public API, not covered by semver.
#[cfg(any(test, feature = "test-hooks"))]
#[doc(hidden)]
pub mod __private;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The guide's examples (docs/GUIDE.md), compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/GUIDE.md")]
pub struct GuideDoctests;
