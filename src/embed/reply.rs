//! [`Embeddings`]: the vectors of a request, and their [`EmbedUsage`].

use serde::Serialize;

use crate::pricing::{Pricing, TokenCounts};

/// The vectors of an [`EmbedRequest`](super::EmbedRequest): `vectors[i]` is the
/// embedding of `inputs[i]`; all of one length.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Embeddings {
    /// One vector per input, in the inputs' order.
    pub vectors: Vec<Vec<f32>>,
    /// The provider that made them (`"openai"`).
    pub provider: String,
    /// The model that made them, as the server named it (else as asked for).
    pub model: String,
    /// Tokens, time and cost.
    pub usage: EmbedUsage,
}

impl Embeddings {
    /// Embeddings made by `provider` with `model`: for an [`Embedder`](super::Embedder)
    /// of your own.
    pub fn new(
        provider: impl Into<String>,
        model: impl Into<String>,
        vectors: Vec<Vec<f32>>,
        usage: EmbedUsage,
    ) -> Embeddings {
        Embeddings {
            vectors,
            provider: provider.into(),
            model: model.into(),
            usage,
        }
    }

    /// The length of the vectors (0 when there are none).
    pub fn dimensions(&self) -> usize {
        self.vectors.first().map_or(0, Vec::len)
    }
}

/// Tokens, time and cost of an embedding request (all its batches).
///
/// ```
/// use theory_llm::embed::EmbedUsage;
/// use theory_llm::pricing::{Price, Pricing};
///
/// // 1,000 tokens at $0.02 per 1M: 20 micro-USD.
/// let usage = EmbedUsage::priced(1_000, false, 12.5, Pricing::Metered(Price::per_million_usd(0.02, 0.0)));
/// assert_eq!(usage.usd_micros, 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EmbedUsage {
    /// The tokens of the inputs, as the server counted them (else estimated).
    pub tokens_in: u64,
    /// Milliseconds from the call to the last vector.
    pub latency_ms: f64,
    /// Cost in micro-USD (1,000,000 = $1); see `cost_basis` for what a 0 means.
    pub usd_micros: u64,
    /// `true` when the server did not report the tokens of some batch and they were
    /// estimated (about 4 characters per token).
    pub tokens_estimated: bool,
    /// What `usd_micros` is based on: `"free"`, `"price_table"` or `"unknown_price"`.
    pub cost_basis: Pricing,
}

impl EmbedUsage {
    /// The usage of `tokens_in` tokens priced by `pricing` (input tokens only: an
    /// embedding generates none).
    pub fn priced(
        tokens_in: u64,
        tokens_estimated: bool,
        latency_ms: f64,
        pricing: Pricing,
    ) -> EmbedUsage {
        EmbedUsage {
            tokens_in,
            latency_ms,
            usd_micros: pricing.cost(&TokenCounts::new(tokens_in, 0)),
            tokens_estimated,
            cost_basis: pricing,
        }
    }
}
