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
//! let llm = get_llm_provider("mock")?; // or "openai", "ollama"
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

#[cfg(feature = "bench")]
#[doc(hidden)]
pub mod bench_support;
mod chunk;
mod collect;
mod error;
mod framing;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod lenient;
mod pricing;
mod provider;
mod providers;
mod redact;
mod request;
mod retry;
mod stream;

pub use chunk::{Chunk, Finish, FinishReason, ServerTimings};
pub use collect::{ChatReply, Collector, Usage};
pub use error::{Error, ErrorKind, Result};
pub use pricing::{CostBasis, Price, PriceTable, Pricing};
pub use provider::{get_llm_provider, LlmStreamProvider, ProviderFactory, Registry};
pub use providers::mock::{MockProvider, MockProviderBuilder};
pub use providers::ollama::{
    KeepAlive, LocalModel, LocalModelDetails, OllamaProvider, OllamaProviderBuilder,
};
pub use providers::openai::{OpenAiProvider, OpenAiProviderBuilder};
pub use request::{ChatRequest, Message, Role, Timeouts};
pub use retry::RetryPolicy;
pub use stream::{estimate_tokens, ChatStream, StreamInfo, TextStream};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
