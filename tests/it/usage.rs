//! Honest usage (issue 15): cached, cache-write and reasoning tokens from every usage
//! shape, cost per kind of token, and what a reply had delivered when it failed or was
//! cancelled.

use futures::StreamExt;
use theory_llm::pricing::Price;
use theory_llm::pricing::Pricing;
use theory_llm::reply::Collector;
use theory_llm::retry::RetryPolicy;
use theory_llm::{ErrorKind, FinishReason, LlmStreamProvider, MockProvider, OpenAiProvider};

use crate::support::{transcript, Reply, Server, Split};

const KEY: &str = "sk-test-Usage7Yq2mXv9Lp4Rt8Wk3Nb";

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_failure_after_text_carries_the_partial_reply() {
    let llm = MockProvider::builder()
        .reply("one two three four five")
        .fail_after(3, ErrorKind::Network, "the connection dropped")
        .build();
    let err = llm.chat("Count".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    let partial = err.partial().expect("text had arrived");
    assert!(!partial.text.is_empty());
    assert!("one two three four five".starts_with(&partial.text));
    assert!(partial.usage.tokens_estimated, "the mock never sent counts");
    assert!(partial.usage.tokens_out > 0);
    // A failure before any output carries none.
    let llm = MockProvider::builder()
        .fail_after(0, ErrorKind::Server, "down")
        .build();
    assert!(llm.chat("Hi".into()).await.unwrap_err().partial().is_none());
}

#[tokio::test]
async fn a_body_cut_mid_reply_gives_what_arrived_over_http() {
    let body = transcript("llama-server/stream_include_usage.body");
    let server = Server::reply(Reply::sse(body).split(Split::Frames).cut_after(4)).await;
    let request = theory_llm::ChatRequest::new("Hello").model("smollm2");
    let err = openai(&server).chat(request).await.unwrap_err();
    let partial = err.partial().expect("some text came first");
    assert!(!partial.text.is_empty(), "{err}");
    assert!(partial.usage.tokens_estimated);
    assert_eq!(partial.usage.cost_basis, Pricing::Unknown);
}

#[tokio::test]
async fn the_collector_gives_the_partial_reply_and_a_cancelled_one() {
    let llm = MockProvider::builder()
        .reply("alpha beta gamma delta")
        .build();
    let mut stream = llm.stream_chat("Hi".into());
    let mut collector = Collector::for_stream(&stream);
    // Read two chunks, then stop reading.
    for _ in 0..2 {
        let chunk = stream.next().await.unwrap().unwrap();
        collector.push(&chunk).unwrap();
    }
    drop(stream);
    let partial = collector.partial();
    assert!(!partial.text.is_empty());
    let reply = collector.cancel();
    assert_eq!(reply.finish_reason, FinishReason::Cancelled);
    assert_eq!(reply.text, partial.text);
    assert!(reply.usage.tokens_estimated);
    assert!(reply.usage.latency_ms >= 0.0);
    assert_eq!(FinishReason::Cancelled.as_str(), "cancelled");
}

#[tokio::test]
async fn openai_cached_and_reasoning_tokens_are_priced_at_their_rates() {
    // llama.cpp's usage chunk for a repeated prompt: 40 of 41 prompt tokens cached.
    let body = transcript("llama-server/cached_prompt_repeat_stream.body");
    let server = Server::reply(Reply::sse(body)).await;
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .price(
            "smollm2",
            Price::per_million_usd(1.0, 2.0).with_cached_input_per_million(0.1),
        )
        .build()
        .unwrap();
    let reply = llm
        .chat(theory_llm::ChatRequest::new("Hello").model("smollm2"))
        .await
        .unwrap();
    let usage = reply.usage;
    assert_eq!((usage.tokens_in, usage.tokens_out), (41, 8));
    assert_eq!(usage.cached_tokens_in, Some(40));
    assert_eq!(usage.cache_write_tokens_in, None);
    assert_eq!(usage.reasoning_tokens_out, None);
    // 1 × 1000 + 40 × 100 + 8 × 2000 nano-USD = 21 micro-USD (41 at full rate: 57).
    assert_eq!(usage.usd_micros, 21);

    // OpenAI's own shape, with reasoning tokens; and DeepSeek's name for cache hits.
    let events = [
        r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":2000,"completion_tokens":500,"prompt_tokens_details":{"cached_tokens":1536,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":384}}}"#,
    ];
    let body: String = events
        .iter()
        .map(|e| format!("data: {e}\n\n"))
        .chain(["data: [DONE]\n\n".to_owned()])
        .collect();
    let server = Server::reply(Reply::sse(body)).await;
    let reply = openai(&server)
        .chat(theory_llm::ChatRequest::new("Hi").model("o4-mini"))
        .await
        .unwrap();
    assert_eq!(reply.usage.cached_tokens_in, Some(1536));
    assert_eq!(reply.usage.reasoning_tokens_out, Some(384));
    // o4-mini: 464 × $1.10 + 1536 × $0.275 + 500 × $4.40 per 1M = 3133 micro-USD.
    assert_eq!(reply.usage.usd_micros, 3133);

    let deepseek = r#"data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}

data: [DONE]

"#;
    let server = Server::reply(Reply::sse(deepseek)).await;
    let reply = openai(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(reply.usage.cached_tokens_in, Some(64));
    // Not reported is not 0.
    let server = Server::reply(Reply::sse(transcript(
        "llama-server/stream_include_usage.body",
    )))
    .await;
    let reply = openai(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(reply.usage.reasoning_tokens_out, None);
}

/// A Chat Completions reply whose usage reports cache reads and writes, as OpenAI does.
fn chat_completion_with_cache_writes(model: &str) -> String {
    let events = [
        r#"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"MODEL","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"MODEL","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"MODEL","choices":[],"usage":{"prompt_tokens":10000,"completion_tokens":100,"total_tokens":10100,"prompt_tokens_details":{"cached_tokens":2000,"cache_write_tokens":6000,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#,
    ];
    events
        .iter()
        .map(|e| format!("data: {}\n\n", e.replace("MODEL", model)))
        .chain(["data: [DONE]\n\n".to_owned()])
        .collect()
}

#[tokio::test]
async fn chat_completions_cache_writes_are_read_and_priced_at_their_rate() {
    // Regression (issue 24): OpenAI bills prompt-cache writes (GPT-5.6 and later, 1.25×
    // the input rate) and reports them in `prompt_tokens_details.cache_write_tokens`;
    // the Chat Completions provider ignored them (the Responses one read them), so
    // `cache_write_tokens_in` was None and they were billed as plain input.
    let server = Server::reply(Reply::sse(chat_completion_with_cache_writes("gpt-5.6"))).await;
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .price(
            "gpt-5.6",
            Price::per_million_usd(2.0, 8.0)
                .with_cached_input_per_million(0.2)
                .with_cache_write_per_million(2.5),
        )
        .build()
        .unwrap();
    let reply = llm
        .chat(theory_llm::ChatRequest::new("Hi").model("gpt-5.6"))
        .await
        .unwrap();
    let usage = reply.usage;
    assert_eq!((usage.tokens_in, usage.tokens_out), (10_000, 100));
    assert_eq!(usage.cached_tokens_in, Some(2000));
    assert_eq!(usage.cache_write_tokens_in, Some(6000));
    // 2000 × $2 + 2000 × $0.20 + 6000 × $2.50 + 100 × $8 per 1M = 20,200 micro-USD
    // (with the writes as plain input: 17,200).
    assert_eq!(usage.usd_micros, 20_200);
    assert!(
        matches!(usage.cost_basis, Pricing::Metered(_)),
        "{:?}",
        usage.cost_basis
    );
}

#[tokio::test]
async fn cache_writes_cost_the_same_through_both_openai_apis() {
    // A model of the built-in table with a cached-input rate and no cache-write rate
    // (gpt-4o-mini): its writes cost what the pricing module says for a missing rate
    // (the input rate), through Chat Completions as through the Responses API.
    let server = Server::reply(Reply::sse(chat_completion_with_cache_writes("gpt-4o-mini"))).await;
    let chat = openai(&server)
        .chat(theory_llm::ChatRequest::new("Hi").model("gpt-4o-mini"))
        .await
        .unwrap()
        .usage;
    let completed = r#"{"type":"response.completed","response":{"id":"resp_9","object":"response","model":"gpt-4o-mini","status":"completed","output":[{"type":"message","id":"msg_9","role":"assistant","content":[{"type":"output_text","text":"Hi"}]}],"usage":{"input_tokens":10000,"output_tokens":100,"total_tokens":10100,"input_tokens_details":{"cached_tokens":2000,"cache_write_tokens":6000},"output_tokens_details":{"reasoning_tokens":0}}},"sequence_number":1}"#;
    let server = Server::reply(Reply::sse(format!(
        "event: response.completed\ndata: {completed}\n\n"
    )))
    .await;
    let responses = theory_llm::OpenAiResponsesProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .chat(theory_llm::ChatRequest::new("Hi").model("gpt-4o-mini"))
        .await
        .unwrap()
        .usage;
    assert_eq!(responses.cache_write_tokens_in, Some(6000));
    assert_eq!(chat.cache_write_tokens_in, responses.cache_write_tokens_in);
    assert_eq!(chat.cached_tokens_in, responses.cached_tokens_in);
    // 2000 × $0.15 + 2000 × $0.075 + 6000 × $0.15 + 100 × $0.60 per 1M = 1410 micro-USD.
    assert_eq!(responses.usd_micros, 1410);
    assert_eq!(chat.usd_micros, responses.usd_micros);
}

#[tokio::test]
async fn rate_limit_headers_on_the_reply_and_on_the_error() {
    let body = transcript("llama-server/stream_include_usage.body");
    let server = Server::reply(
        Reply::sse(body)
            .header("x-ratelimit-limit-requests", "500")
            .header("x-ratelimit-remaining-requests", "499")
            .header("x-ratelimit-reset-requests", "120ms")
            .header("x-ratelimit-remaining-tokens", "99980")
            .header("x-ratelimit-reset-tokens", "6m0s"),
    )
    .await;
    let reply = openai(&server).chat("Hi".into()).await.unwrap();
    let limits = reply.rate_limit.expect("the headers were sent");
    assert_eq!(limits.requests.limit, Some(500));
    assert_eq!(limits.requests.remaining, Some(499));
    assert_eq!(
        limits.requests.reset,
        Some(std::time::Duration::from_millis(120))
    );
    assert_eq!(limits.tokens.remaining, Some(99_980));
    assert_eq!(
        limits.tokens.reset,
        Some(std::time::Duration::from_secs(360))
    );

    let server = Server::reply(
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
        )
        .header("x-ratelimit-remaining-requests", "0")
        .header("x-ratelimit-reset-requests", "1e999")
        .header("retry-after", "1"),
    )
    .await;
    let err = openai(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let limits = err.rate_limit().expect("the 429 said how many are left");
    assert_eq!(limits.requests.remaining, Some(0));
    assert_eq!(limits.requests.reset, None, "an absurd value is left out");

    // No headers: None, not zeros.
    let server = Server::reply(Reply::sse(transcript("llama-server/stream.body"))).await;
    assert_eq!(
        openai(&server).chat("Hi".into()).await.unwrap().rate_limit,
        None
    );
}

// ---- a cut stream's partial reply, for any cut ----

use proptest::prelude::*;
use theory_llm::__private::{self as entry, Wire};
use theory_llm::kit::StreamInfo;
use theory_llm_testkit::invariants::wire;

/// The collector's partial reply of `body` cut after `cut` bytes, and the whole reply's
/// text.
fn partial_after_cut(
    wire: Wire,
    body: &[u8],
    cut: usize,
) -> (theory_llm::reply::PartialReply, String) {
    let run = |bytes: &[u8]| {
        let pieces = vec![bytes::Bytes::copy_from_slice(bytes)];
        let items: Vec<_> = futures::executor::block_on(
            entry::decode(wire, pieces, 1 << 20, "").collect::<Vec<_>>(),
        );
        let mut collector = Collector::new(StreamInfo::new("test", "m"));
        for item in items {
            match item {
                Ok(chunk) => collector.push(&chunk).unwrap(),
                Err(_) => break,
            }
        }
        collector
    };
    let whole = run(body).partial().text;
    (run(&body[..cut]).partial(), whole)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_stream_cut_anywhere_leaves_a_prefix_of_the_reply_with_estimated_usage(
        which in 0usize..4,
        at in 0.0f64..1.0,
    ) {
        let (wire, name) = [
            (wire("openai"), "llama-server/stream_include_usage.body"),
            (wire("anthropic"), "anthropic/stream.body"),
            (wire("openai-responses"), "responses/stream.body"),
            (wire("gemini"), "gemini/stream.body"),
        ][which];
        let body = transcript(name);
        let cut = ((body.len() as f64) * at) as usize;
        let (partial, whole) = partial_after_cut(wire, &body, cut);
        prop_assert!(whole.starts_with(&partial.text), "{:?} not a prefix of {:?}", partial.text, whole);
        prop_assert!(partial.usage.tokens_estimated);
        prop_assert_eq!(
            partial.usage.tokens_out,
            (partial.text.chars().count() as u64).div_ceil(4)
        );
    }
}
