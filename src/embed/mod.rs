//! Text embeddings beside chat: an [`EmbedRequest`] (one or more inputs, a model,
//! optional dimensions) in, [`Embeddings`] out: one vector per input, in the inputs'
//! order, with the provider, the model and the [`EmbedUsage`] (tokens, time, cost).
//!
//! The providers that have embeddings offer them as an [`Embedder`]; any provider,
//! boxed or not, says whether it has one
//! ([`LlmStreamProvider::embedder`](crate::LlmStreamProvider::embedder)): `openai` and
//! every OpenAI-compatible server (`/v1/embeddings`), `azure-openai`, `ollama`
//! (`/api/embed`), `gemini` (`batchEmbedContents`) and `mock` (deterministic vectors,
//! so that apps test offline). The others answer `invalid_request` without sending.
//!
//! ```
//! use theory_llm::embed::EmbedRequest;
//! use theory_llm::get_llm_provider;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> theory_llm::Result<()> {
//! let llm = get_llm_provider("mock")?;
//! let reply = llm
//!     .embedder()?
//!     .embed(EmbedRequest::new(["a cat on a mat", "a dog in a fog"]))
//!     .await?;
//! assert_eq!(reply.vectors.len(), 2);
//! assert_eq!(reply.dimensions(), 16);
//! println!("{} tokens, {} micro-USD", reply.usage.tokens_in, reply.usage.usd_micros);
//!
//! // A provider without embeddings says so, and sends nothing:
//! let anthropic = theory_llm::AnthropicProvider::builder().api_key("sk-example").build()?;
//! # use theory_llm::LlmStreamProvider;
//! assert_eq!(anthropic.embedder().unwrap_err().kind(), theory_llm::ErrorKind::InvalidRequest);
//! # Ok(())
//! # }
//! ```
//!
//! Large input lists are cut into batches the API accepts (OpenAI: 2048 inputs and
//! about 300,000 characters a request; Gemini: 100 inputs; Ollama: 512), sent one after
//! another with the provider's retries and time limits; every vector is checked (as
//! many as inputs, each at its index, all of one length, finite numbers) and a reply
//! that breaks a rule is a `protocol` error. What a reply holds counts against the
//! provider's `max_reply_bytes` (4 bytes a number), so memory stays bounded.

mod base64;
mod batches;
mod collect;
mod reply;
mod request;
mod vector;

use std::fmt;

use futures::future::BoxFuture;

use crate::error::Result;

pub(crate) use base64::decode_f32_le;
pub(crate) use batches::batches;
pub(crate) use collect::{in_index_order, malformed, Batch, Collected};
pub use reply::{EmbedUsage, Embeddings};
pub use request::EmbedRequest;
pub(crate) use vector::Vector;

/// The longest vector accepted, in numbers: more than any embedding model gives
/// (3072 for OpenAI's and Gemini's largest), few enough that a server cannot make a
/// reply of absurd size.
pub const MAX_DIMENSIONS: usize = 65_536;

/// A provider's embeddings: texts in, vectors out.
///
/// Implemented by the providers that have them; ask any provider for its own with
/// [`LlmStreamProvider::embedder`](crate::LlmStreamProvider::embedder). A provider of
/// your own implements it and returns itself from that method.
pub trait Embedder: fmt::Debug + Send + Sync {
    /// The model used when a request names none.
    fn default_embedding_model(&self) -> &str;

    /// One vector per input of `request`, in the inputs' order, with usage.
    ///
    /// # Errors
    /// `invalid_request` for a request that cannot be sent (no inputs, an empty input,
    /// dimensions of 0) or a provider without embeddings, before anything is sent; the
    /// provider's errors as for a chat; `protocol` for a reply that breaks the rules
    /// above.
    fn embed(&self, request: EmbedRequest) -> BoxFuture<'_, Result<Embeddings>>;
}

impl<E: Embedder + ?Sized> Embedder for Box<E> {
    fn default_embedding_model(&self) -> &str {
        (**self).default_embedding_model()
    }
    fn embed(&self, request: EmbedRequest) -> BoxFuture<'_, Result<Embeddings>> {
        (**self).embed(request)
    }
}

impl<E: Embedder + ?Sized> Embedder for std::sync::Arc<E> {
    fn default_embedding_model(&self) -> &str {
        (**self).default_embedding_model()
    }
    fn embed(&self, request: EmbedRequest) -> BoxFuture<'_, Result<Embeddings>> {
        (**self).embed(request)
    }
}

/// The error of a provider that has no embeddings.
pub(crate) fn no_embeddings(provider: &str) -> crate::error::Error {
    crate::error::Error::new(
        crate::error::ErrorKind::InvalidRequest,
        format!(
            "{provider} has no embeddings API in this crate: use openai (or an OpenAI-compatible server), azure-openai, ollama, gemini or mock"
        ),
    )
}
