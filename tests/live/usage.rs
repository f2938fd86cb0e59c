//! Issue 15 against llama.cpp: a repeated prompt reports cached input tokens (llama.cpp
//! reuses the prompt prefix), and with a price configured they cost the cached rate.

use theory_llm::pricing::Price;
use theory_llm::{ChatRequest, LlmStreamProvider, OpenAiProvider};

use crate::{env, model};

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn a_repeated_prompt_reports_cached_tokens_priced_at_the_cached_rate() {
    // $1 per 1M input tokens, $0.10 per 1M cached ones, $2 per 1M output.
    let price = Price::per_million_usd(1.0, 2.0).with_cached_input_per_million(0.10);
    let llm = OpenAiProvider::builder()
        .api_key("none")
        .base_url(env("OPENAI_BASE_URL"))
        .default_model(model())
        .price(model(), price)
        .build()
        .unwrap();
    let request = ChatRequest::new(
        "Here is a long and unusual prompt about lighthouses, tides and the keepers who \
         watched them through the winter storms of the northern coast. Say one word.",
    )
    .temperature(0.0)
    .max_tokens(4);
    llm.chat(request.clone()).await.unwrap();
    let second = llm.chat(request).await.unwrap();
    let usage = second.usage;
    let cached = usage
        .cached_tokens_in
        .expect("llama.cpp reports cached_tokens");
    assert!(cached > 0, "{usage:?}");
    assert!(cached <= usage.tokens_in, "{usage:?}");
    let uncached = usage.tokens_in - cached;
    // In nano-USD: 1000 per uncached, 100 per cached, 2000 per output token.
    let nanos = uncached * 1000 + cached * 100 + usage.tokens_out * 2000;
    assert_eq!(usage.usd_micros, (nanos + 500) / 1000, "{usage:?}");
    assert!(
        usage.usd_micros < price.cost_usd_micros(usage.tokens_in, usage.tokens_out) || nanos < 1000
    );
}
