//! The mock's embeddings: deterministic vectors, no I/O, so that apps test offline.
//! The same model and text always give the same vector, of length 1, and different
//! texts give different ones.

use futures::future::BoxFuture;
use tokio::time::Instant;

use crate::embed::{EmbedRequest, EmbedUsage, Embedder, Embeddings};
use crate::error::{Error, Result};
use crate::pricing::Pricing;
use crate::stream::info::estimate_tokens;

use super::MockProvider;

/// The mock's embedding model when a request names none.
pub(crate) const DEFAULT_EMBEDDING_MODEL: &str = "mock-embed";
/// The length of the mock's vectors unless the request or the builder says otherwise.
pub(crate) const DEFAULT_DIMENSIONS: u32 = 16;

/// FNV-1a over the model and the text: the seed of a text's vector.
fn seed(model: &str, text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in model.bytes().chain([0]).chain(text.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash | 1
}

/// The vector of `text`: `dimensions` numbers from a xorshift generator seeded by the
/// text, scaled to length 1.
pub(crate) fn vector(model: &str, text: &str, dimensions: usize) -> Vec<f32> {
    let mut state = seed(model, text);
    let mut values: Vec<f32> = (0..dimensions)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // The top 24 bits, as a number in [-1, 1).
            ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        values.iter_mut().for_each(|v| *v /= norm);
    }
    values
}

impl Embedder for MockProvider {
    fn default_embedding_model(&self) -> &str {
        DEFAULT_EMBEDDING_MODEL
    }

    /// Vectors of the request's `dimensions` (else the builder's
    /// [`embedding_dimensions`](super::MockProviderBuilder::embedding_dimensions), 16
    /// by default); the scripted error and delay apply, as to a chat.
    fn embed(&self, request: EmbedRequest) -> BoxFuture<'_, Result<Embeddings>> {
        Box::pin(async move {
            let started = Instant::now();
            request.validate(MockProvider::NAME)?;
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            if let Some((_, kind, message)) = &self.failure {
                return Err(Error::new(*kind, message.clone()));
            }
            let model = request.model_or(DEFAULT_EMBEDDING_MODEL);
            let dimensions = request.dimensions.unwrap_or(self.embedding_dimensions) as usize;
            let vectors = request
                .inputs
                .iter()
                .map(|text| vector(model, text, dimensions))
                .collect();
            let tokens = request
                .inputs
                .iter()
                .map(|text| estimate_tokens(text))
                .fold(0, u64::saturating_add);
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let usage = EmbedUsage::priced(tokens, !self.report_usage, latency_ms, Pricing::Free);
            Ok(Embeddings::new(MockProvider::NAME, model, vectors, usage))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_length_and_differ_by_text() {
        let a = vector("m", "a cat", 16);
        assert_eq!(a, vector("m", "a cat", 16));
        assert_ne!(a, vector("m", "a dog", 16));
        assert_ne!(a, vector("other", "a cat", 16));
        let norm: f32 = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert!(a.iter().all(|v| v.is_finite()));
        assert_eq!(vector("m", "", 3).len(), 3);
    }
}
