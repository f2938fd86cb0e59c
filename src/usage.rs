//! [`Usage`]: the tokens, time and cost of one reply (or of part of one).

use serde::Serialize;

use crate::pricing::CostBasis;

/// Tokens, time and cost of one reply.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Usage {
    /// All prompt tokens, cached ones included.
    pub tokens_in: u64,
    /// Generated tokens (reasoning included, as providers bill it).
    pub tokens_out: u64,
    /// Of `tokens_in`, the tokens read from the provider's prompt cache; `None` when the
    /// provider does not say (not the same as 0).
    pub cached_tokens_in: Option<u64>,
    /// Of `tokens_in`, the tokens written to the provider's prompt cache (Anthropic).
    pub cache_write_tokens_in: Option<u64>,
    /// Of `tokens_out`, the reasoning tokens, when the provider reports them.
    pub reasoning_tokens_out: Option<u64>,
    /// Milliseconds from the call to the final chunk.
    pub latency_ms: f64,
    /// Cost in micro-USD (1,000,000 = $1), each kind of token at its own rate. See
    /// `cost_basis` for what a 0 means.
    pub usd_micros: u64,
    /// Milliseconds from the call to the first non-empty text delta; `None` if there was no text.
    pub ttft_ms: Option<f64>,
    /// `true` when the provider reported no token counts and they were estimated
    /// (about 4 characters per token).
    pub tokens_estimated: bool,
    /// What `usd_micros` is based on: the price table, a free provider, or an unknown price.
    pub cost_basis: CostBasis,
}
