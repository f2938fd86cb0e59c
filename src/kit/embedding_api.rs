//! [`EmbeddingApi`]: an API's embeddings endpoint, the part of embeddings the kit cannot
//! do for a provider: its request, its reply, its limits and its errors.

use crate::embed::Batch;
use crate::error::{Error, Result};
use crate::http::ErrorResponse;
use crate::origin::Origin;

use super::HttpRequest;

/// An API's embeddings endpoint: what a built-in dialect that has one gives
/// ([`Api::embeddings`]).
pub trait EmbeddingApi: Send + Sync {
    /// The model used when neither the request nor the app names one.
    fn embedding_model(&self) -> &str;

    /// The most inputs one request may carry.
    fn max_inputs(&self) -> usize;

    /// The most characters one request may carry in all (an API's token limit per
    /// request, at one token a character); `None`: no such limit.
    fn max_chars(&self) -> Option<usize> {
        None
    }

    /// The request embedding `inputs` (at most [`max_inputs`](Self::max_inputs)).
    ///
    /// # Errors
    /// What cannot be sent (`invalid_request`).
    fn embed_request(
        &self,
        inputs: &[String],
        model: &str,
        dimensions: Option<u32>,
    ) -> Result<HttpRequest>;

    /// The vectors of a 2xx reply to a request of `inputs` inputs, in their order.
    ///
    /// # Errors
    /// `protocol` for a body that is not this API's reply, or whose vectors are not
    /// one per input (counts and indexes checked here; lengths and values by the
    /// collector).
    fn embed_reply(&self, body: &[u8], inputs: usize, origin: &Origin) -> Result<Batch>;

    /// Called with a failure before it is classified: `true` to send the request
    /// again, made anew (once per attempt), for servers that reject an optional field.
    fn embed_adapt(&self, failure: &ErrorResponse) -> bool {
        let _ = failure;
        false
    }

    /// The error for a failure status.
    fn embed_error(&self, failure: ErrorResponse, model: &str) -> Error;
}
