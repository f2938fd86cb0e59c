//! [`Usage`]: the tokens, time and cost of one reply (or of part of one).

use serde::Serialize;

use crate::chunk::Finish;
use crate::pricing::{Pricing, TokenCounts};

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
    /// Milliseconds from the call to the final chunk (a wait for a budget included).
    pub latency_ms: f64,
    /// Cost in micro-USD (1,000,000 = $1), each kind of token at its own rate. See
    /// `cost_basis` for what a 0 means.
    pub usd_micros: u64,
    /// Milliseconds from the call to the first non-empty text delta (a wait for a
    /// budget included); `None` if there was no text.
    pub ttft_ms: Option<f64>,
    /// Milliseconds the request waited for admission by a budget
    /// ([`BudgetProvider`](crate::budget::BudgetProvider)) before it was sent; 0 without
    /// one. The server's share of `latency_ms` is `latency_ms - waited_ms`.
    pub waited_ms: f64,
    /// `true` when the provider reported no token counts and they were estimated
    /// (about 4 characters per token).
    pub tokens_estimated: bool,
    /// What `usd_micros` is based on: the price it was metered at, a free provider, or
    /// an unknown price (then 0 is not known to be the cost). Serialized as `"free"`,
    /// `"price_table"` or `"unknown_price"`.
    pub cost_basis: Pricing,
}

/// The billed token counts of a reply: the finish's where the provider reported them,
/// else estimates (the prompt's, and one token per 4 characters of the output, counted
/// by `output_chars` only then),
/// and whether any count was estimated. The collector and the tracing span count the
/// same way.
pub(crate) fn token_counts(
    finish: Option<&Finish>,
    prompt_estimate: u64,
    output_chars: impl FnOnce() -> usize,
) -> (TokenCounts, bool) {
    let reported_in = finish.and_then(|f| f.tokens_in);
    let reported_out = finish.and_then(|f| f.tokens_out);
    let estimated = reported_in.is_none() || reported_out.is_none();
    let tokens_in = reported_in.unwrap_or(prompt_estimate);
    let tokens_out = reported_out.unwrap_or_else(|| (output_chars() as u64).div_ceil(4));
    let counts = TokenCounts::new(tokens_in, tokens_out)
        .with_cached_input(finish.and_then(|f| f.cached_tokens_in).unwrap_or(0))
        .with_cache_write(finish.and_then(|f| f.cache_write_tokens_in).unwrap_or(0));
    (counts, estimated)
}
