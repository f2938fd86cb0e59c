//! Token prices and cost arithmetic, in integers.
//!
//! A price of $X per 1M tokens is X micro-USD per token. Prices such as $0.15 per 1M
//! are fractions of a micro-USD, so a [`Price`] is kept in nano-USD per token
//! (USD per 1M tokens × 1000) and costs are summed in nano-USD, then rounded once
//! to the nearest micro-USD. No floating point touches a bill.

use std::collections::HashMap;

use serde::Serialize;

/// The price of one model: nano-USD per input (prompt) token and per output token.
///
/// ```
/// use theory_llm::Price;
///
/// // $0.15 per 1M input tokens, $0.60 per 1M output tokens:
/// let p = Price::per_million_usd(0.15, 0.60);
/// assert_eq!(p, Price::from_nanos_per_token(150, 600));
/// // 1,000 tokens in and 500 out: 150,000 + 300,000 nano-USD = 450 micro-USD.
/// assert_eq!(p.cost_usd_micros(1_000, 500), 450);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Price {
    /// Nano-USD per prompt token (= USD per 1M tokens × 1000).
    pub input_nanos_per_token: u64,
    /// Nano-USD per generated token (= USD per 1M tokens × 1000).
    pub output_nanos_per_token: u64,
}

impl Price {
    /// A price in nano-USD per token (USD per 1M tokens × 1000).
    pub const fn from_nanos_per_token(input: u64, output: u64) -> Price {
        Price {
            input_nanos_per_token: input,
            output_nanos_per_token: output,
        }
    }

    /// A price as published: USD per 1M tokens. Converted once, to the nearest nano-USD per token;
    /// negative or non-finite values count as 0.
    pub fn per_million_usd(input: f64, output: f64) -> Price {
        fn nanos(usd_per_million: f64) -> u64 {
            if usd_per_million.is_finite() && usd_per_million > 0.0 {
                // Saturating float-to-int conversion; prices are far below u64::MAX.
                (usd_per_million * 1000.0).round() as u64
            } else {
                0
            }
        }
        Price::from_nanos_per_token(nanos(input), nanos(output))
    }

    /// The cost of a request in micro-USD, rounded to the nearest (half up).
    pub fn cost_usd_micros(&self, tokens_in: u64, tokens_out: u64) -> u64 {
        let input = u128::from(tokens_in) * u128::from(self.input_nanos_per_token);
        let output = u128::from(tokens_out) * u128::from(self.output_nanos_per_token);
        // Each product fits in u128; only absurd inputs can overflow the sum.
        let nanos = input.saturating_add(output).saturating_add(500);
        u64::try_from(nanos / 1000).unwrap_or(u64::MAX)
    }
}

/// How a provider prices a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pricing {
    /// Free to run (the mock provider, a local Ollama).
    Free,
    /// Metered at this price.
    Metered(Price),
    /// Metered, but the price of this model is not known (a local model behind an
    /// OpenAI-compatible server, or a model newer than the price table).
    Unknown,
}

impl Pricing {
    /// The cost in micro-USD and what that figure is based on.
    pub fn cost(&self, tokens_in: u64, tokens_out: u64) -> (u64, CostBasis) {
        match self {
            Pricing::Free => (0, CostBasis::Free),
            Pricing::Metered(p) => (
                p.cost_usd_micros(tokens_in, tokens_out),
                CostBasis::PriceTable,
            ),
            Pricing::Unknown => (0, CostBasis::UnknownPrice),
        }
    }
}

/// What a reply's `usd_micros` is based on, so that 0 never silently means "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CostBasis {
    /// Computed from the price table and the token counts.
    PriceTable,
    /// The provider is free to use (cost is really 0).
    Free,
    /// The model's price is unknown: the cost is reported as 0 but is not known to be 0.
    UnknownPrice,
}

/// A table of model prices, looked up by exact model id, then by the id without a
/// `-YYYY-MM-DD` date suffix (servers report dated ids such as `gpt-4o-mini-2024-07-18`).
///
/// ```
/// use theory_llm::{Price, PriceTable, Pricing};
///
/// let table = PriceTable::openai().with("my-finetune", Price::per_million_usd(1.0, 2.0));
/// assert!(matches!(table.pricing("gpt-4o-mini-2024-07-18"), Pricing::Metered(_)));
/// assert!(matches!(table.pricing("my-finetune"), Pricing::Metered(_)));
/// assert_eq!(table.pricing("smollm2"), Pricing::Unknown);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceTable {
    prices: HashMap<String, Price>,
}

/// OpenAI list prices, USD per 1M tokens (input, output).
const OPENAI_PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4", 30.0, 60.0),
    ("gpt-4-turbo", 10.0, 30.0),
    ("gpt-3.5-turbo", 0.50, 1.50),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("o3-mini", 1.10, 4.40),
    ("o4-mini", 1.10, 4.40),
];

impl PriceTable {
    /// An empty table: every model's price is unknown.
    pub fn new() -> PriceTable {
        PriceTable::default()
    }

    /// The built-in OpenAI prices.
    pub fn openai() -> PriceTable {
        let mut table = PriceTable::new();
        for &(model, input, output) in OPENAI_PRICES {
            table.insert(model, Price::per_million_usd(input, output));
        }
        table
    }

    /// Adds or replaces a model's price.
    pub fn insert(&mut self, model: impl Into<String>, price: Price) {
        self.prices.insert(model.into(), price);
    }

    /// `self` with a model's price added or replaced.
    #[must_use]
    pub fn with(mut self, model: impl Into<String>, price: Price) -> PriceTable {
        self.insert(model, price);
        self
    }

    /// The price of `model`: exact id first, then without a `-YYYY-MM-DD` suffix.
    pub fn get(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.prices.get(model) {
            return Some(*p);
        }
        strip_date_suffix(model).and_then(|base| self.prices.get(base).copied())
    }

    /// [`Pricing::Metered`] if the model is in the table, else [`Pricing::Unknown`].
    pub fn pricing(&self, model: &str) -> Pricing {
        self.get(model).map_or(Pricing::Unknown, Pricing::Metered)
    }
}

/// `gpt-4o-2024-08-06` -> `gpt-4o`; `None` when there is no `-YYYY-MM-DD` suffix.
fn strip_date_suffix(model: &str) -> Option<&str> {
    // The cut may fall inside a character of a non-ASCII name (`éaaaaaaaaaa`): then
    // there is no ASCII date suffix, and no cut (issue 11: this slicing panicked).
    let (base, date) = model.split_at_checked(model.len().checked_sub(11)?)?;
    let date = date.as_bytes();
    let shape_ok = date[0] == b'-'
        && date[5] == b'-'
        && date[8] == b'-'
        && [1, 2, 3, 4, 6, 7, 9, 10]
            .iter()
            .all(|&i| date[i].is_ascii_digit());
    (shape_ok && !base.is_empty()).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_published_prices() {
        let t = PriceTable::openai();
        assert_eq!(
            t.get("gpt-4o-mini"),
            Some(Price::from_nanos_per_token(150, 600))
        );
        assert_eq!(
            t.get("gpt-4o"),
            Some(Price::from_nanos_per_token(2_500, 10_000))
        );
        assert_eq!(
            t.get("gpt-4"),
            Some(Price::from_nanos_per_token(30_000, 60_000))
        );
        assert_eq!(
            t.get("gpt-4.1-nano"),
            Some(Price::from_nanos_per_token(100, 400))
        );
        assert_eq!(
            t.get("o4-mini"),
            Some(Price::from_nanos_per_token(1_100, 4_400))
        );
        assert_eq!(t.get("gpt-4o-2024-08-06"), t.get("gpt-4o"));
        assert_eq!(t.get("gpt-4o-mini-2024-07-18"), t.get("gpt-4o-mini"));
        assert_eq!(t.get("unknown-model"), None);
        assert_eq!(t.get("gpt-4o-2024-8-06"), None);
    }

    #[test]
    fn date_suffix_needs_exact_shape() {
        assert_eq!(strip_date_suffix("gpt-4-2024-01-25"), Some("gpt-4"));
        assert_eq!(strip_date_suffix("-2024-01-25"), None);
        assert_eq!(strip_date_suffix("short"), None);
        assert_eq!(strip_date_suffix("model-2024x01-25"), None);
        assert_eq!(strip_date_suffix("modèle-2024-01-25"), Some("modèle"));
        // Regression (issue 11): a cut inside a character panicked.
        for name in [
            "éaaaaaaaaaa",
            "モデル🚀",
            "a-2024-01-0é",
            "🚀-2024-01-01x",
            "é",
        ] {
            assert_eq!(strip_date_suffix(name), None, "{name}");
        }
        assert_eq!(strip_date_suffix("🚀-2024-01-01"), Some("🚀"));
    }

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
    fn pricing_says_what_a_zero_means() {
        assert_eq!(Pricing::Free.cost(5, 5), (0, CostBasis::Free));
        assert_eq!(Pricing::Unknown.cost(5, 5), (0, CostBasis::UnknownPrice));
        let metered = Pricing::Metered(Price::from_nanos_per_token(1000, 2000));
        assert_eq!(metered.cost(5, 5), (15, CostBasis::PriceTable));
        assert_eq!(
            Price::per_million_usd(-1.0, f64::NAN),
            Price::from_nanos_per_token(0, 0)
        );
    }
}
