//! The provider kit: everything an HTTP chat provider shares, so that a provider is
//! only what makes its API different.
//!
//! A provider is a [`Dialect`] (the request to send, how the reply is framed, what an
//! error status means) and a [`Decoder`] (frames to [`Chunk`](crate::Chunk)s). Give the
//! dialect to an [`HttpProvider`] and it gets, for free: the request prologue (the model,
//! validation, token estimates), sending with redirects refused, error bodies read in
//! every shape with the server's words kept, retries before the first content (with
//! backoff and `Retry-After`), first-chunk, idle and total time limits, caps on frames
//! and on collected replies, secrets scrubbed from errors and metadata, SSE, NDJSON or
//! AWS event-stream framing, and the [`ChatStream`](crate::ChatStream) with `chat()` on
//! top.
//!
//! The built-in `openai` and `ollama` providers are made this way; so can yours be,
//! outside this crate. Here is a whole provider for a server that streams JSON lines
//! `{"text": "…"}` and ends with `{"done": true, "tokens": 12}`:
//!
//! ```
//! use std::collections::VecDeque;
//!
//! use theory_llm::kit::{Decoder, Dialect, Flow, Framing, HttpProvider, HttpRequest, Origin};
//! use theory_llm::{ChatRequest, Chunk, Finish, FinishReason, LlmStreamProvider, Result};
//!
//! #[derive(Debug)]
//! struct Lines;
//!
//! impl Dialect for Lines {
//!     type Decoder = LineDecoder;
//!
//!     fn name(&self) -> &str {
//!         "lines"
//!     }
//!
//!     fn framing(&self) -> Framing {
//!         Framing::Ndjson
//!     }
//!
//!     fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
//!         let prompt = chat.messages.last().map_or("", |m| m.content.as_str());
//!         HttpRequest::post_json("/chat", &serde_json::json!({ "model": model, "prompt": prompt }))
//!     }
//!
//!     fn decoder(&self, origin: &Origin) -> LineDecoder {
//!         LineDecoder { origin: origin.clone() }
//!     }
//! }
//!
//! struct LineDecoder {
//!     origin: Origin,
//! }
//!
//! impl Decoder for LineDecoder {
//!     fn frame(&mut self, line: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
//!         let value: serde_json::Value = serde_json::from_slice(line)
//!             .map_err(|e| self.origin.malformed(&format!("not JSON ({e})")))?;
//!         if let Some(text) = value["text"].as_str().filter(|t| !t.is_empty()) {
//!             out.push_back(Chunk::Text(text.into()));
//!         }
//!         if value["done"] == true {
//!             let finish = Finish::new(FinishReason::Stop).with_tokens(None, value["tokens"].as_u64());
//!             out.push_back(Chunk::from(finish));
//!             return Ok(Flow::Done);
//!         }
//!         Ok(Flow::Continue)
//!     }
//!
//!     fn end_of_body(&mut self, _out: &mut VecDeque<Chunk>) -> Result<()> {
//!         Err(self.origin.truncated("the line with \"done\": true"))
//!     }
//! }
//!
//! # fn main() -> Result<()> {
//! let llm = HttpProvider::builder(Lines)
//!     .base_url("http://127.0.0.1:8700")
//!     .default_model("small")
//!     .build()?;
//! assert_eq!(llm.name(), "lines");
//! # Ok(())
//! # }
//! ```
//!
//! `examples/custom_provider.rs` runs such a provider against a small server.

mod api;
mod attempt;
mod auth;
mod base_url;
mod builder;
mod builtin;
mod dialect;
mod embed;
mod embedding_api;
mod frames;
mod headers;
mod pool;
mod post;
mod prologue;
mod provider;
mod provider_builder;
pub(crate) mod settings;

pub(crate) use api::sealed::Sealed;
pub use api::Api;
pub(crate) use api::{Description, Setup};
pub use auth::KeyHeader;
pub use builder::HttpProviderBuilder;
pub use builtin::Provider;
pub use dialect::{path_segment, Dialect, Framing, HttpRequest};
pub(crate) use embedding_api::EmbeddingApi;
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) use frames::frames_of;
pub(crate) use post::Fetched;
pub use provider::HttpProvider;
pub use provider_builder::ProviderBuilder;

pub use crate::decode::{Decoder, Flow};
pub use crate::http::{kind_for_status, ErrorResponse};
pub use crate::lenient::{Reported, MAX_REPORTED};
pub use crate::origin::{Held, Origin};
pub use crate::stream::info::{estimate_tokens, StreamInfo};
