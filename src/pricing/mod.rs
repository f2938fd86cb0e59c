//! Token prices and cost arithmetic, in integers; the price table is in `table.rs`, its
//! data in `prices.json`.
//!
//! A price of $X per 1M tokens is X micro-USD per token. Prices such as $0.15 per 1M
//! are fractions of a micro-USD, so a [`Price`] is kept in nano-USD per token
//! (USD per 1M tokens × 1000) and costs are summed in nano-USD, then rounded once
//! to the nearest micro-USD. No floating point touches a bill.

mod table;

use serde::Serialize;

pub use table::PriceTable;

/// The rates of one model, nano-USD per token (= USD per 1M tokens × 1000), for
/// each kind of token; cached reads and cache writes cost the input rate when the
/// provider has no rate of its own for them.
///
/// ```
/// use theory_llm::pricing::{Price, TokenCounts};
///
/// // $0.15 per 1M input tokens, $0.60 per 1M output tokens:
/// let p = Price::per_million_usd(0.15, 0.60);
/// assert_eq!(p, Price::from_nanos_per_token(150, 600));
/// // 1,000 tokens in and 500 out: 150,000 + 300,000 nano-USD = 450 micro-USD.
/// assert_eq!(p.cost_usd_micros(1_000, 500), 450);
///
/// // With a cached-input rate of $0.075, 800 of the 1,000 prompt tokens read from the
/// // cache cost half: 200 × 150 + 800 × 75 + 500 × 600 = 390,000 nano-USD.
/// let p = p.with_cached_input_per_million(0.075);
/// assert_eq!(p.cost(&TokenCounts::new(1_000, 500).with_cached_input(800)), 390);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Price {
    /// Nano-USD per prompt token that is neither read from nor written to a cache.
    pub input_nanos_per_token: u64,
    /// Nano-USD per generated token (reasoning tokens included).
    pub output_nanos_per_token: u64,
    /// Nano-USD per prompt token read from the provider's cache (`None`: the input rate).
    pub cached_input_nanos_per_token: Option<u64>,
    /// Nano-USD per prompt token written to the provider's cache (`None`: the input rate).
    pub cache_write_nanos_per_token: Option<u64>,
    /// Other rates for the whole request when its prompt is longer than a threshold.
    pub long_prompt: Option<LongPrompt>,
}

/// The rates of a request whose prompt (all its input tokens, cached included) is
/// longer than `above_tokens`: some models bill such requests at higher rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct LongPrompt {
    /// The prompt length past which these rates apply.
    pub above_tokens: u64,
    /// Nano-USD per uncached prompt token.
    pub input_nanos_per_token: u64,
    /// Nano-USD per generated token.
    pub output_nanos_per_token: u64,
    /// Nano-USD per cached prompt token (`None`: this tier's input rate).
    pub cached_input_nanos_per_token: Option<u64>,
    /// Nano-USD per cache-write token (`None`: this tier's input rate).
    pub cache_write_nanos_per_token: Option<u64>,
}

/// The tokens of one request, by how they are billed. `input` counts every prompt
/// token, the cached and cache-write ones included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct TokenCounts {
    /// All prompt tokens.
    pub input: u64,
    /// Generated tokens.
    pub output: u64,
    /// Of `input`, the tokens read from the provider's prompt cache.
    pub cached_input: u64,
    /// Of `input`, the tokens written to the provider's prompt cache.
    pub cache_write: u64,
}

impl TokenCounts {
    /// `input` prompt tokens (none cached) and `output` generated ones.
    pub const fn new(input: u64, output: u64) -> TokenCounts {
        TokenCounts {
            input,
            output,
            cached_input: 0,
            cache_write: 0,
        }
    }

    /// Says how many of the prompt tokens were read from the cache.
    #[must_use]
    pub const fn with_cached_input(mut self, tokens: u64) -> TokenCounts {
        self.cached_input = tokens;
        self
    }

    /// Says how many of the prompt tokens were written to the cache.
    #[must_use]
    pub const fn with_cache_write(mut self, tokens: u64) -> TokenCounts {
        self.cache_write = tokens;
        self
    }
}

/// USD per 1M tokens to nano-USD per token, to the nearest; negative or non-finite
/// values count as 0.
fn nanos(usd_per_million: f64) -> u64 {
    if usd_per_million.is_finite() && usd_per_million > 0.0 {
        // Saturating float-to-int conversion; prices are far below u64::MAX.
        (usd_per_million * 1000.0).round() as u64
    } else {
        0
    }
}

impl Price {
    /// A price in nano-USD per token (USD per 1M tokens × 1000); cached input and cache
    /// writes at the input rate.
    pub const fn from_nanos_per_token(input: u64, output: u64) -> Price {
        Price {
            input_nanos_per_token: input,
            output_nanos_per_token: output,
            cached_input_nanos_per_token: None,
            cache_write_nanos_per_token: None,
            long_prompt: None,
        }
    }

    /// A price as published: USD per 1M tokens. Converted once, to the nearest nano-USD
    /// per token; negative or non-finite values count as 0.
    pub fn per_million_usd(input: f64, output: f64) -> Price {
        Price::from_nanos_per_token(nanos(input), nanos(output))
    }

    /// The same price with a rate for prompt tokens read from the cache, USD per 1M.
    #[must_use]
    pub fn with_cached_input_per_million(mut self, usd: f64) -> Price {
        self.cached_input_nanos_per_token = Some(nanos(usd));
        self
    }

    /// The same price with a rate for prompt tokens written to the cache, USD per 1M.
    #[must_use]
    pub fn with_cache_write_per_million(mut self, usd: f64) -> Price {
        self.cache_write_nanos_per_token = Some(nanos(usd));
        self
    }

    /// The same price with other rates for requests whose prompt is longer than
    /// `above_tokens`.
    #[must_use]
    pub fn with_long_prompt(mut self, tier: LongPrompt) -> Price {
        self.long_prompt = Some(tier);
        self
    }

    /// The cost of `input` prompt tokens (none cached) and `output` generated ones, in
    /// micro-USD, rounded to the nearest (half up).
    pub fn cost_usd_micros(&self, input: u64, output: u64) -> u64 {
        self.cost(&TokenCounts::new(input, output))
    }

    /// The cost of a request in micro-USD, each kind of token at its rate, rounded once
    /// to the nearest (half up). Saturates rather than overflows on absurd counts;
    /// cached and cache-write counts above the input count are taken as all of it.
    pub fn cost(&self, tokens: &TokenCounts) -> u64 {
        let (input, output, cached, write) = match self.long_prompt {
            Some(tier) if tokens.input > tier.above_tokens => (
                tier.input_nanos_per_token,
                tier.output_nanos_per_token,
                tier.cached_input_nanos_per_token,
                tier.cache_write_nanos_per_token,
            ),
            _ => (
                self.input_nanos_per_token,
                self.output_nanos_per_token,
                self.cached_input_nanos_per_token,
                self.cache_write_nanos_per_token,
            ),
        };
        let cached_tokens = tokens.cached_input.min(tokens.input);
        let write_tokens = tokens.cache_write.min(tokens.input - cached_tokens);
        let plain_tokens = tokens.input - cached_tokens - write_tokens;
        let part = |count: u64, rate: u64| u128::from(count) * u128::from(rate);
        // Each product fits in u128; only absurd inputs can overflow the sum.
        let nanos = part(plain_tokens, input)
            .saturating_add(part(cached_tokens, cached.unwrap_or(input)))
            .saturating_add(part(write_tokens, write.unwrap_or(input)))
            .saturating_add(part(tokens.output, output))
            .saturating_add(500);
        u64::try_from(nanos / 1000).unwrap_or(u64::MAX)
    }
}

impl LongPrompt {
    /// Rates for prompts longer than `above_tokens`, USD per 1M tokens; cached input
    /// and cache writes at this tier's input rate unless set.
    pub fn per_million_usd(above_tokens: u64, input: f64, output: f64) -> LongPrompt {
        LongPrompt {
            above_tokens,
            input_nanos_per_token: nanos(input),
            output_nanos_per_token: nanos(output),
            cached_input_nanos_per_token: None,
            cache_write_nanos_per_token: None,
        }
    }

    /// This tier's rate for cached prompt tokens, USD per 1M.
    #[must_use]
    pub fn with_cached_input_per_million(mut self, usd: f64) -> LongPrompt {
        self.cached_input_nanos_per_token = Some(nanos(usd));
        self
    }

    /// This tier's rate for cache-write tokens, USD per 1M.
    #[must_use]
    pub fn with_cache_write_per_million(mut self, usd: f64) -> LongPrompt {
        self.cache_write_nanos_per_token = Some(nanos(usd));
        self
    }
}

/// How a provider prices a model, and so what a reply's cost is based on
/// ([`Usage::cost_basis`](crate::Usage::cost_basis)): a `usd_micros` of 0 never silently
/// means "unknown".
///
/// Serialized as the basis of a cost: `"free"`, `"price_table"` (metered, at the price
/// in the table) or `"unknown_price"`, as `hello_llm --json` shows `cost_basis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pricing {
    /// Free to run (the mock provider, a local Ollama): a cost of 0 is real.
    Free,
    /// Metered at this price (from the price table, or one the app gave).
    Metered(Price),
    /// Metered, but the price of this model is not known (a local model behind an
    /// OpenAI-compatible server, or a model newer than the price table): the cost is
    /// reported as 0 but is not known to be 0.
    Unknown,
}

impl Pricing {
    /// The cost of `tokens` in micro-USD (0 unless metered).
    pub fn cost(&self, tokens: &TokenCounts) -> u64 {
        match self {
            Pricing::Metered(p) => p.cost(tokens),
            Pricing::Free | Pricing::Unknown => 0,
        }
    }

    /// The basis of a cost, as serialized: `"free"`, `"price_table"` or `"unknown_price"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Pricing::Free => "free",
            Pricing::Metered(_) => "price_table",
            Pricing::Unknown => "unknown_price",
        }
    }
}

impl Serialize for Pricing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_integer_and_rounds_half_up() {
        let p = Price::per_million_usd(0.15, 0.60);
        assert_eq!(p.cost_usd_micros(0, 0), 0);
        assert_eq!(p.cost_usd_micros(10, 0), 2); // 1.5 micro-USD rounds up
        assert_eq!(p.cost_usd_micros(3, 0), 0); // 0.45 rounds down
        assert_eq!(p.cost_usd_micros(1_000_000, 1_000_000), 750_000);
        let big = Price::from_nanos_per_token(u64::MAX, u64::MAX);
        assert_eq!(big.cost_usd_micros(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn each_kind_of_token_costs_its_own_rate() {
        // Anthropic-like: $1 in, $5 out, $1.25 cache write, $0.10 cache read.
        let p = Price::per_million_usd(1.0, 5.0)
            .with_cache_write_per_million(1.25)
            .with_cached_input_per_million(0.10);
        let tokens = TokenCounts::new(10_000, 1_000)
            .with_cached_input(6_000)
            .with_cache_write(2_000);
        // 2,000 × 1000 + 6,000 × 100 + 2,000 × 1250 + 1,000 × 5000 nano-USD.
        assert_eq!(p.cost(&tokens), 2_000 + 600 + 2_500 + 5_000);
        // Without cache rates, cached tokens cost the input rate.
        let plain = Price::per_million_usd(1.0, 5.0);
        assert_eq!(plain.cost(&tokens), 10_000 + 5_000);
        // Counts a server got wrong (more cached than input) never underflow.
        let odd = TokenCounts::new(10, 0)
            .with_cached_input(u64::MAX)
            .with_cache_write(u64::MAX);
        // All 10 taken as cached: 10 × 100 nano-USD = 1 micro-USD.
        assert_eq!(p.cost(&odd), 1);
        let all =
            Price::from_nanos_per_token(u64::MAX, u64::MAX).with_cached_input_per_million(f64::MAX);
        let huge = TokenCounts::new(u64::MAX, u64::MAX).with_cached_input(u64::MAX / 2);
        assert_eq!(all.cost(&huge), u64::MAX);
    }

    #[test]
    fn a_long_prompt_switches_every_rate() {
        let p = Price::per_million_usd(0.10, 0.50)
            .with_cached_input_per_million(0.01)
            .with_long_prompt(
                LongPrompt::per_million_usd(100_000, 0.50, 2.50)
                    .with_cached_input_per_million(0.05),
            );
        assert_eq!(p.cost(&TokenCounts::new(100_000, 1_000)), 10_000 + 500);
        assert_eq!(
            p.cost(&TokenCounts::new(100_001, 1_000)),
            (100_001 * 500 + 1_000 * 2_500 + 500) / 1000
        );
        let cached = TokenCounts::new(200_000, 0).with_cached_input(100_000);
        assert_eq!(p.cost(&cached), 50_000 + 5_000);
    }

    #[test]
    fn pricing_says_what_a_zero_means() {
        let five = TokenCounts::new(5, 5);
        assert_eq!(Pricing::Free.cost(&five), 0);
        assert_eq!(Pricing::Unknown.cost(&five), 0);
        let metered = Pricing::Metered(Price::from_nanos_per_token(1000, 2000));
        assert_eq!(metered.cost(&five), 15);
        assert_eq!(
            Price::per_million_usd(-1.0, f64::NAN),
            Price::from_nanos_per_token(0, 0)
        );
    }
}
