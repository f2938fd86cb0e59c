//! [`PriceTable`]: model prices by id, the built-in ones read from `prices.json` (the one
//! place prices live, with the date they were checked and their sources).

use std::collections::HashMap;

use serde::Deserialize;

use super::{LongPrompt, Price, Pricing};
use crate::error::{Error, ErrorKind, Result};

/// The built-in prices: USD per 1M tokens, with the date they were checked.
const BUILT_IN: &str = include_str!("prices.json");

/// A table of model prices, looked up by exact model id, then by the id without a date
/// suffix (`-2024-07-18` as OpenAI dates ids, `-20251001` as Anthropic does) or a
/// `-latest` alias. Nothing else is cut: a preview (`gemini-3.8-flash-preview-09-2026`)
/// or a variant (`gpt-5.6-luna`) is its own model, priced only if the table names it, so
/// a model is never billed at a neighbour's rates.
///
/// The built-in tables come from `src/pricing/prices.json`, which says when they were
/// checked and where: prices change, so apps that bill should load their own
/// ([`from_json`](Self::from_json)) or override single models.
///
/// ```
/// use theory_llm::pricing::{Price, PriceTable, Pricing};
///
/// let table = PriceTable::openai().with("my-finetune", Price::per_million_usd(1.0, 2.0));
/// assert!(matches!(table.pricing("gpt-4o-mini-2024-07-18"), Pricing::Metered(_)));
/// assert!(matches!(table.pricing("my-finetune"), Pricing::Metered(_)));
/// assert_eq!(table.pricing("smollm2"), Pricing::Unknown);
///
/// // A table of your own, in the same format as the built-in one:
/// let mine = PriceTable::from_json(r#"{"models": {
///     "local-70b": {"input": 0.2, "output": 0.6, "cached_input": 0.05}
/// }}"#)?;
/// assert_eq!(mine.get("local-70b"), Some(Price::per_million_usd(0.2, 0.6).with_cached_input_per_million(0.05)));
/// # Ok::<(), theory_llm::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceTable {
    prices: HashMap<String, Price>,
}

/// `prices.json`, or one provider's part of it.
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    providers: HashMap<String, Section>,
    #[serde(default)]
    models: HashMap<String, Entry>,
}

#[derive(Deserialize)]
struct Section {
    models: HashMap<String, Entry>,
}

/// One model's rates, USD per 1M tokens.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    input: f64,
    output: f64,
    #[serde(default)]
    cached_input: Option<f64>,
    #[serde(default)]
    cache_write: Option<f64>,
    #[serde(default)]
    long_prompt: Option<Tier>,
    /// When the rates were read from their source (`YYYY-MM-DD`), where, and any remark:
    /// documentation for whoever updates the file. The built-in rows all carry the first
    /// two (tested); other tables may leave them out.
    #[serde(default)]
    #[allow(dead_code)] // read by the tests only
    checked: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // read by the tests only
    source: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // documentation only
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tier {
    above_tokens: u64,
    input: f64,
    output: f64,
    #[serde(default)]
    cached_input: Option<f64>,
    #[serde(default)]
    cache_write: Option<f64>,
}

impl Entry {
    fn price(&self) -> Price {
        let mut price = Price::per_million_usd(self.input, self.output);
        if let Some(usd) = self.cached_input {
            price = price.with_cached_input_per_million(usd);
        }
        if let Some(usd) = self.cache_write {
            price = price.with_cache_write_per_million(usd);
        }
        if let Some(tier) = &self.long_prompt {
            let mut long = LongPrompt::per_million_usd(tier.above_tokens, tier.input, tier.output);
            if let Some(usd) = tier.cached_input {
                long = long.with_cached_input_per_million(usd);
            }
            if let Some(usd) = tier.cache_write {
                long = long.with_cache_write_per_million(usd);
            }
            price = price.with_long_prompt(long);
        }
        price
    }
}

impl PriceTable {
    /// An empty table: every model's price is unknown.
    pub fn new() -> PriceTable {
        PriceTable::default()
    }

    /// The built-in prices of the provider section `name` of `prices.json`: `"openai"`,
    /// `"anthropic"`, `"gemini"`, and the OpenAI-compatible clouds `"groq"`,
    /// `"deepseek"`, `"together"`, `"fireworks"`, `"mistral"`, `"xai"` and `"cerebras"`
    /// (the registry's names). An empty table for any other name: OpenRouter's prices
    /// follow the routed model and local servers are free, so neither has a section.
    ///
    /// ```
    /// use theory_llm::pricing::{PriceTable, Pricing};
    ///
    /// let groq = PriceTable::for_provider("groq");
    /// assert!(matches!(groq.pricing("openai/gpt-oss-20b"), Pricing::Metered(_)));
    /// assert_eq!(PriceTable::for_provider("vllm"), PriceTable::new());
    /// ```
    pub fn for_provider(name: &str) -> PriceTable {
        PriceTable::built_in(name)
    }

    /// The built-in OpenAI prices (input, cached input, output; for GPT-5.6 and later,
    /// cache writes at 1.25x the input rate and other rates past 272k prompt tokens).
    pub fn openai() -> PriceTable {
        PriceTable::built_in("openai")
    }

    /// The built-in Anthropic prices (input, cache write, cache read, output; Claude
    /// Haiku 5.5's rates for prompts over 100k tokens).
    pub fn anthropic() -> PriceTable {
        PriceTable::built_in("anthropic")
    }

    /// The built-in Google Gemini API prices (input, cached input, output with thinking
    /// included; Gemini 3.1 Pro's rates for prompts over 200k tokens).
    pub fn gemini() -> PriceTable {
        PriceTable::built_in("gemini")
    }

    /// The date the built-in prices were last checked against their sources.
    pub fn built_in_checked_on() -> &'static str {
        #[derive(Deserialize)]
        struct Checked<'a> {
            checked: &'a str,
        }
        serde_json::from_str::<Checked<'_>>(BUILT_IN).map_or("unknown", |c| c.checked)
    }

    fn built_in(provider: &str) -> PriceTable {
        // The file is part of the crate and tested: it always parses.
        let file: File = serde_json::from_str(BUILT_IN).unwrap_or(File {
            providers: HashMap::new(),
            models: HashMap::new(),
        });
        let mut table = PriceTable::new();
        if let Some(section) = file.providers.get(provider) {
            for (model, entry) in &section.models {
                table.insert(model.clone(), entry.price());
            }
        }
        table
    }

    /// A table from JSON in the format of `src/pricing/prices.json`: `{"models": {id:
    /// {"input", "output", "cached_input"?, "cache_write"?, "long_prompt"?}}}`, USD per
    /// 1M tokens, or a whole file with `"providers": {name: {"models": …}}` (all its
    /// providers' models in one table).
    ///
    /// # Errors
    /// `invalid_request` naming what is wrong, for JSON that is not such a table.
    pub fn from_json(json: &str) -> Result<PriceTable> {
        let file: File = serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("the price table is not valid: {e}"),
            )
        })?;
        let mut table = PriceTable::new();
        for section in file.providers.values() {
            for (model, entry) in &section.models {
                table.insert(model.clone(), entry.price());
            }
        }
        for (model, entry) in &file.models {
            table.insert(model.clone(), entry.price());
        }
        Ok(table)
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

    /// Adds every price of `other`, replacing those of the same models.
    pub fn extend(&mut self, other: PriceTable) {
        self.prices.extend(other.prices);
    }

    /// The price of `model`: exact id first, then without a date suffix or `-latest`.
    pub fn get(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.prices.get(model) {
            return Some(*p);
        }
        base_model(model).and_then(|base| self.prices.get(base).copied())
    }

    /// [`Pricing::Metered`] if the model is in the table, else [`Pricing::Unknown`].
    pub fn pricing(&self, model: &str) -> Pricing {
        // Gemini's own model lists name models `models/{id}`.
        let model = model.strip_prefix("models/").unwrap_or(model);
        self.get(model).map_or(Pricing::Unknown, Pricing::Metered)
    }
}

/// The model id without its version: `gpt-4o-2024-08-06` → `gpt-4o`,
/// `claude-3-5-haiku-20241022` → `claude-3-5-haiku`, `claude-3-5-haiku-latest` →
/// `claude-3-5-haiku`; `None` when there is no such suffix.
fn base_model(model: &str) -> Option<&str> {
    strip_dashed_date(model)
        .or_else(|| strip_compact_date(model))
        .or_else(|| model.strip_suffix("-latest").filter(|b| !b.is_empty()))
}

/// Without a `-YYYY-MM-DD` suffix.
fn strip_dashed_date(model: &str) -> Option<&str> {
    // The cut may fall inside a character of a non-ASCII name (`éaaaaaaaaaa`): then
    // there is no ASCII date suffix, and no cut (issue 11: this slicing panicked).
    let (base, date) = model.split_at_checked(model.len().checked_sub(11)?)?;
    let date = date.as_bytes();
    let shape_ok = date[0] == b'-'
        && date[5] == b'-'
        && date[8] == b'-'
        && is_date(&date[1..5], &date[6..8], &date[9..11]);
    (shape_ok && !base.is_empty()).then_some(base)
}

/// Without a `-YYYYMMDD` suffix.
fn strip_compact_date(model: &str) -> Option<&str> {
    let (base, date) = model.split_at_checked(model.len().checked_sub(9)?)?;
    let date = date.as_bytes();
    let shape_ok = date[0] == b'-' && is_date(&date[1..5], &date[5..7], &date[7..9]);
    (shape_ok && !base.is_empty()).then_some(base)
}

/// Whether ASCII digits read as a date of this century, so that a version number of
/// the same length (`-20261399`) is not taken for one.
fn is_date(year: &[u8], month: &[u8], day: &[u8]) -> bool {
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    matches!(
        (number(year), number(month), number(day)),
        (Some(2000..=2099), Some(1..=12), Some(1..=31))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::TokenCounts;

    /// The provider sections of `prices.json`, named as the registry names providers.
    const BUILT_IN_SECTIONS: [&str; 10] = [
        "anthropic",
        "cerebras",
        "deepseek",
        "fireworks",
        "gemini",
        "groq",
        "mistral",
        "openai",
        "together",
        "xai",
    ];

    #[test]
    fn the_built_in_file_parses_and_has_the_published_prices() {
        let file: File = serde_json::from_str(BUILT_IN).expect("prices.json parses");
        let mut sections: Vec<&str> = file.providers.keys().map(String::as_str).collect();
        sections.sort_unstable();
        assert_eq!(sections, BUILT_IN_SECTIONS);
        assert_eq!(PriceTable::built_in_checked_on().len(), 10);
        let t = PriceTable::openai();
        assert_eq!(
            t.get("gpt-4o-mini"),
            Some(Price::per_million_usd(0.15, 0.60).with_cached_input_per_million(0.075))
        );
        assert_eq!(
            t.get("gpt-4o").map(|p| p.input_nanos_per_token),
            Some(2_500)
        );
        assert_eq!(
            t.get("gpt-4").map(|p| p.cached_input_nanos_per_token),
            Some(None)
        );
        for (model, cached) in [
            ("gpt-4o-mini", 75),
            ("gpt-4o", 1_250),
            ("gpt-4.1", 500),
            ("gpt-4.1-mini", 100),
            ("gpt-4.1-nano", 25),
            ("o3-mini", 550),
            ("o4-mini", 275),
        ] {
            assert_eq!(
                t.get(model).and_then(|p| p.cached_input_nanos_per_token),
                Some(cached),
                "{model}"
            );
        }
        assert_eq!(t.get("gpt-4o-2024-08-06"), t.get("gpt-4o"));
        assert_eq!(t.get("unknown-model"), None);
        assert_eq!(t.get("gpt-4o-2024-8-06"), None);

        let a = PriceTable::anthropic();
        let haiku = a
            .get("claude-haiku-5-5")
            .expect("the default model is priced");
        // 1,000 in (600 cache reads, 200 cache writes), 100 out.
        let tokens = TokenCounts::new(1_000, 100)
            .with_cached_input(600)
            .with_cache_write(200);
        // 200 × 100 + 600 × 10 + 200 × 125 + 100 × 500 nano-USD = 101 micro-USD.
        assert_eq!(haiku.cost(&tokens), 101);
        assert_eq!(
            a.get("claude-3-5-haiku-20241022"),
            a.get("claude-3-5-haiku")
        );
        assert_eq!(a.get("claude-3-5-haiku-latest"), a.get("claude-3-5-haiku"));
    }

    /// Regression (issue 24, item 6): the table stopped at gpt-4.1 and o4-mini, so every
    /// current OpenAI model (GPT-5.6, GPT-6) and the current Claude and Gemini models
    /// reported `unknown_price` and a cost of 0.
    #[test]
    fn current_models_are_priced_not_unknown() {
        use crate::pricing::Pricing;
        // 10,000 prompt tokens (2,000 cache reads, 1,000 cache writes) and 500 out.
        let tokens = TokenCounts::new(10_000, 500)
            .with_cached_input(2_000)
            .with_cache_write(1_000);
        let cost = |pricing: Pricing| pricing.cost(&tokens);
        // GPT-6.2 Sol: $2 in, $0.10 cached, $2.50 cache writes (1.25x), $10 out:
        // 7,000 × 2,000 + 2,000 × 100 + 1,000 × 2,500 + 500 × 10,000 nano-USD.
        assert_eq!(
            cost(PriceTable::openai().pricing("gpt-6.2-sol")),
            14_000 + 200 + 2_500 + 5_000
        );
        // GPT-5.6 Luna: $0.20 in, $0.02 cached, $0.25 cache writes, $1.20 out.
        assert_eq!(
            cost(PriceTable::openai().pricing("gpt-5.6-luna")),
            1_400 + 40 + 250 + 600
        );
        // Claude Sonnet 5.5: $2 in, $0.10 cache reads, $2.50 cache writes, $10 out.
        assert_eq!(
            cost(PriceTable::anthropic().pricing("claude-sonnet-5-5")),
            14_000 + 200 + 2_500 + 5_000
        );
        // Gemini 3.8 Flash: $0.75 in, $0.075 cached, $3.75 out (thinking included);
        // no cache-write rate, so those tokens cost the input rate.
        assert_eq!(
            cost(PriceTable::gemini().pricing("gemini-3.8-flash")),
            5_250 + 150 + 750 + 1_875
        );
    }

    #[test]
    fn every_built_in_row_says_when_and_where_its_price_was_read() {
        let file: File = serde_json::from_str(BUILT_IN).expect("prices.json parses");
        let newest = PriceTable::built_in_checked_on();
        let mut dates = Vec::new();
        for provider in BUILT_IN_SECTIONS {
            let section = &file.providers[provider];
            assert!(!section.models.is_empty(), "{provider}");
            for (model, entry) in &section.models {
                let checked = entry.checked.as_deref().unwrap_or("");
                let bytes = checked.as_bytes();
                let is_iso = bytes.len() == 10
                    && bytes[4] == b'-'
                    && bytes[7] == b'-'
                    && is_date(&bytes[..4], &bytes[5..7], &bytes[8..]);
                assert!(is_iso, "{model}: checked {checked:?}");
                assert!(checked <= newest, "{model}: {checked} after {newest}");
                let source = entry.source.as_deref().unwrap_or("");
                assert!(source.starts_with("https://"), "{model}: source {source:?}");
                dates.push(checked);
            }
        }
        assert_eq!(
            dates.iter().max(),
            Some(&newest),
            "the file's date is its newest row's"
        );
    }

    #[test]
    fn current_id_styles_resolve_to_their_own_model_only() {
        let o = PriceTable::openai();
        // Dated snapshots are priced as their model.
        assert!(o.get("gpt-5.1").is_some());
        assert_eq!(o.get("gpt-5.1-2025-11-13"), o.get("gpt-5.1"));
        assert_eq!(o.get("gpt-6.1-terra-2026-10-26"), o.get("gpt-6.1-terra"));
        // The gpt-5.6 alias routes to GPT-5.6 Sol.
        assert_eq!(o.get("gpt-5.6"), o.get("gpt-5.6-sol"));
        // No prefix matching: a sibling or an unlisted model is never billed as another.
        assert_ne!(o.get("gpt-5.6-terra"), o.get("gpt-5.6-sol"));
        for unlisted in ["gpt-6", "gpt-6.2", "gpt-6.2-sol-fast", "gpt-6.2-astra"] {
            assert_eq!(o.get(unlisted), None, "{unlisted}");
        }
        // GPT-5.6 and later bill cache writes at 1.25x the input rate.
        for model in [
            "gpt-5.6-sol",
            "gpt-5.6-terra",
            "gpt-5.6-luna",
            "gpt-6-sol",
            "gpt-6.2-sol",
        ] {
            let p = o.get(model).expect(model);
            assert_eq!(
                p.cache_write_nanos_per_token,
                Some(p.input_nanos_per_token * 5 / 4),
                "{model}"
            );
        }

        let a = PriceTable::anthropic();
        assert!(a.get("claude-sonnet-4-5").is_some());
        assert_eq!(
            a.get("claude-sonnet-4-5-20250929"),
            a.get("claude-sonnet-4-5")
        );
        assert_eq!(
            a.get("claude-haiku-4-5-20251001"),
            a.get("claude-haiku-4-5")
        );
        // Sonnet 5.5 (cache reads $0.10) is not Sonnet 5 ($0.20), dated or not.
        assert_ne!(a.get("claude-sonnet-5-5"), a.get("claude-sonnet-5"));
        assert_eq!(
            a.get("claude-sonnet-5-5-20261007"),
            a.get("claude-sonnet-5-5")
        );
        assert_eq!(a.get("claude-opus-4-20250514"), None);

        let g = PriceTable::gemini();
        assert_ne!(g.get("gemini-3.5-flash-lite"), g.get("gemini-3.5-flash"));
        // A preview is a model of its own (previews have been priced differently from
        // the stable model), and `gemini-flash-latest` follows whatever Flash is newest.
        for unlisted in [
            "gemini-3.8-flash-preview-09-2026",
            "gemini-3.8-flash-lite",
            "gemini-flash-latest",
            "gemini-2.5-flash-preview-09-2025",
        ] {
            assert_eq!(g.get(unlisted), None, "{unlisted}");
        }
        // Gemini 3.1 Pro bills the whole request at other rates past 200k prompt tokens.
        let pro = g.get("gemini-3.1-pro-preview").expect("priced");
        assert_eq!(
            pro.cost(&TokenCounts::new(200_000, 1_000)),
            400_000 + 12_000
        );
        assert_eq!(
            pro.cost(&TokenCounts::new(200_001, 1_000)),
            800_004 + 18_000
        );
    }

    #[test]
    fn tables_load_from_json_and_say_what_is_wrong() {
        let t = PriceTable::from_json(r#"{"models": {"m": {"input": 1, "output": 2}}}"#).unwrap();
        assert_eq!(t.get("m"), Some(Price::per_million_usd(1.0, 2.0)));
        let whole = PriceTable::from_json(BUILT_IN).unwrap();
        assert!(whole.get("gpt-4o").is_some() && whole.get("claude-haiku-5-5").is_some());
        // The documentation fields are accepted, and change no price.
        let documented = PriceTable::from_json(
            r#"{"models": {"m": {"input": 1, "output": 2, "checked": "2026-12-07",
                "source": "https://example.com/prices", "note": "list price"}}}"#,
        )
        .unwrap();
        assert_eq!(documented, t);
        let err = PriceTable::from_json(r#"{"models": {"m": {"input": 1}}}"#).unwrap_err();
        assert!(err.to_string().contains("output"), "{err}");
        let err =
            PriceTable::from_json(r#"{"models": {"m": {"input": 1, "output": 2, "cache": 1}}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("cache"), "{err}");
    }

    #[test]
    fn for_provider_gives_a_section_or_an_empty_table() {
        assert_eq!(PriceTable::for_provider("openai"), PriceTable::openai());
        assert_eq!(
            PriceTable::for_provider("anthropic"),
            PriceTable::anthropic()
        );
        assert_eq!(PriceTable::for_provider("gemini"), PriceTable::gemini());
        for name in BUILT_IN_SECTIONS {
            assert_ne!(PriceTable::for_provider(name), PriceTable::new(), "{name}");
        }
        // OpenRouter bills the routed model's price; local servers are free: no table.
        for name in [
            "openrouter",
            "vllm",
            "lmstudio",
            "llamacpp",
            "Groq",
            "",
            "nope",
        ] {
            assert_eq!(PriceTable::for_provider(name), PriceTable::new(), "{name}");
        }
        // A section prices only its own ids: Groq's and Together's names of gpt-oss
        // differ from Fireworks' and Cerebras'.
        let groq = PriceTable::for_provider("groq");
        assert_eq!(groq.get("gpt-oss-120b"), None);
        assert_eq!(groq.get("accounts/fireworks/models/gpt-oss-120b"), None);
    }

    /// Each OpenAI-compatible cloud's default model (issue 27) is priced, at its
    /// published rates: 10,000 prompt tokens (2,000 of them cache hits) and 1,000 out.
    #[test]
    fn each_cloud_prices_its_default_model() {
        let tokens = TokenCounts::new(10_000, 1_000).with_cached_input(2_000);
        let cost =
            |provider: &str, model: &str| match PriceTable::for_provider(provider).pricing(model) {
                Pricing::Metered(price) => price.cost(&tokens),
                other => panic!("{provider}/{model}: {other:?}"),
            };
        // Groq gpt-oss-20b: $0.075 in, $0.0375 cached (kept as 38 nano-USD), $0.30 out.
        assert_eq!(
            cost("groq", "openai/gpt-oss-20b"),
            (8_000 * 75 + 2_000 * 38 + 1_000 * 300) / 1_000
        );
        // DeepSeek Flash at peak: $0.30 cache miss, $0.006 cache hit, $1.20 out.
        assert_eq!(
            cost("deepseek", "deepseek-flash"),
            (8_000 * 300 + 2_000 * 6 + 1_000 * 1_200) / 1_000
        );
        // Together gpt-oss-120b: $0.15 in, no cache rate, $0.60 out.
        assert_eq!(
            cost("together", "openai/gpt-oss-120b"),
            (10_000 * 150 + 1_000 * 600) / 1_000
        );
        // Fireworks gpt-oss-120b: $0.15 in, $0.015 cached, $0.60 out.
        assert_eq!(
            cost("fireworks", "accounts/fireworks/models/gpt-oss-120b"),
            (8_000 * 150 + 2_000 * 15 + 1_000 * 600) / 1_000
        );
        // Mistral Small (latest): $0.15 in, no cache rate, $0.60 out.
        assert_eq!(
            cost("mistral", "mistral-small-latest"),
            (10_000 * 150 + 1_000 * 600) / 1_000
        );
        // xAI Grok 4.3: $1.25 in, $0.20 cached, $2.50 out.
        assert_eq!(
            cost("xai", "grok-4.3"),
            (8_000 * 1_250 + 2_000 * 200 + 1_000 * 2_500) / 1_000
        );
        // Cerebras gpt-oss-120b: $0.35 in, no cache rate, $0.75 out.
        assert_eq!(
            cost("cerebras", "gpt-oss-120b"),
            (10_000 * 350 + 1_000 * 750) / 1_000
        );
    }

    #[test]
    fn cloud_aliases_and_tiers_bill_as_published() {
        let deepseek = PriceTable::for_provider("deepseek");
        // The legacy name is served by V4.1 Flash at the Flash price.
        assert_eq!(
            deepseek.get("deepseek-v4-flash"),
            deepseek.get("deepseek-flash")
        );
        // Retired names are not billed as their successor.
        assert_eq!(deepseek.get("deepseek-chat"), None);

        let xai = PriceTable::for_provider("xai");
        assert_eq!(
            xai.get("grok-4.20-non-reasoning"),
            xai.get("grok-4.20-0309-non-reasoning")
        );
        assert_eq!(xai.get("grok-4"), None);
        // Grok 4.7 bills the whole request at other rates past 200k prompt tokens.
        let grok = xai.get("grok-4.7").expect("priced");
        assert_eq!(
            grok.cost(&TokenCounts::new(200_000, 1_000)),
            200_000 * 2 + 1_000 * 6
        );
        assert_eq!(
            grok.cost(&TokenCounts::new(200_001, 1_000)),
            (200_001 * 4_000 + 1_000 * 12_000) / 1_000
        );

        let mistral = PriceTable::for_provider("mistral");
        assert_eq!(
            mistral.get("mistral-small-latest"),
            mistral.get("mistral-small-2603")
        );
        assert_ne!(
            mistral.get("mistral-large-latest"),
            mistral.get("mistral-small-latest")
        );
    }

    #[test]
    fn date_suffixes_need_their_exact_shape() {
        assert_eq!(base_model("gpt-4-2024-01-25"), Some("gpt-4"));
        assert_eq!(
            base_model("claude-3-haiku-20240307"),
            Some("claude-3-haiku")
        );
        assert_eq!(base_model("-2024-01-25"), None);
        assert_eq!(base_model("-20240125"), None);
        assert_eq!(base_model("short"), None);
        assert_eq!(base_model("model-2024x01-25"), None);
        assert_eq!(base_model("model-2024012"), None);
        assert_eq!(base_model("-latest"), None);
        assert_eq!(base_model("modèle-2024-01-25"), Some("modèle"));
        // Regression (issue 11): a cut inside a character panicked.
        for name in [
            "éaaaaaaaaaa",
            "モデル🚀",
            "a-2024-01-0é",
            "🚀-2024-01-01x",
            "é",
            "éééé1",
        ] {
            assert_eq!(base_model(name), None, "{name}");
        }
        assert_eq!(base_model("🚀-2024-01-01"), Some("🚀"));
        assert_eq!(base_model("🚀-20240101"), Some("🚀"));
        // Eight digits that are no date are part of the name.
        for name in [
            "model-20241301",
            "model-20240132",
            "model-19990101",
            "model-2024-00-10",
            "model-12345678",
        ] {
            assert_eq!(base_model(name), None, "{name}");
        }
    }
}
