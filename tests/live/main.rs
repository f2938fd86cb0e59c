//! Live conformance: every HTTP provider against real servers on loopback — llama.cpp's
//! own HTTP server (Chat Completions, Responses and Anthropic Messages), and an
//! Ollama-API server and a Gemini-API server in front of it — with a real model; and
//! the bedrock provider against aimock, a Bedrock mock server (`scripts/aimock.sh`).
//!
//! These tests are `#[ignore]`d by default, so `cargo test` lists them as ignored. Run them:
//!
//! ```text
//! eval "$(scripts/realservers.sh start)"; eval "$(scripts/aimock.sh start)"
//! THEORY_LLM_LIVE=1 cargo test --test live -- --ignored
//! scripts/realservers.sh stop; scripts/aimock.sh stop
//! ```
//!
//! Run with `--ignored` but without the servers, they fail rather than skip, so CI can
//! never pass without having talked to the servers.

mod agent; // a real model made to call an MCP tool, and the loop going on with its result
mod anthropic; // the anthropic provider against llama.cpp's /v1/messages
mod bedrock; // the bedrock provider against @copilotkit/aimock's ConverseStream (scripts/aimock.sh)
mod embed; // embeddings: llama.cpp's /v1/embeddings, and the Ollama shim's /api/embed
mod gemini; // the Gemini API's wire against api-for-gemini in front of llama.cpp
mod reasoning; // each provider's reasoning field, accepted by the real servers
mod responses;
mod routing; // a fallback chain and a recording against the real servers // the openai-responses provider against llama.cpp's /v1/responses
mod tools; // structured output, tool turns and images against the real servers
mod usage; // cached prompt tokens and their price

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use theory_llm::stream::Text;
use theory_llm::{
    ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, OllamaProvider, OpenAiProvider,
};

pub(crate) fn env(name: &str) -> String {
    assert_eq!(
        std::env::var("THEORY_LLM_LIVE").as_deref(),
        Ok("1"),
        "live tests need THEORY_LLM_LIVE=1 and running servers: eval \"$(scripts/realservers.sh start)\""
    );
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: eval \"$(scripts/realservers.sh start)\""))
}

pub(crate) fn model() -> String {
    std::env::var("THEORY_LLM_LIVE_MODEL").unwrap_or_else(|_| "smollm2".into())
}

pub(crate) fn openai() -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key("none")
        .base_url(env("OPENAI_BASE_URL"))
        .default_model(model())
        .build()
        .unwrap()
}

pub(crate) fn ollama() -> OllamaProvider {
    OllamaProvider::builder()
        .host(env("OLLAMA_HOST"))
        .default_model(model())
        .build()
        .unwrap()
}

fn deterministic(prompt: &str) -> ChatRequest {
    ChatRequest::new(prompt)
        .temperature(0.0)
        .max_tokens(48)
        .seed(42)
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_streamed_text_equals_chat_text_with_usage() {
    let llm = openai();
    let request = deterministic("Name three colors.");
    let streamed: Vec<Text> = llm
        .stream_chat(request.clone())
        .text()
        .try_collect()
        .await
        .unwrap();
    let reply = llm.chat(request).await.unwrap();
    assert!(!reply.text.is_empty());
    assert_eq!(streamed.concat(), reply.text);
    assert!(
        !reply.usage.tokens_estimated,
        "llama.cpp sends a usage chunk"
    );
    assert!(reply.usage.tokens_in > 0 && reply.usage.tokens_out > 0);
    assert!(reply.usage.ttft_ms.unwrap() < reply.usage.latency_ms);
    assert_eq!(reply.model, model());
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_max_tokens_1_finishes_with_length() {
    let reply = openai()
        .chat(ChatRequest::new("Tell me a story.").max_tokens(1))
        .await
        .unwrap();
    assert_eq!(reply.finish_reason, FinishReason::Length);
    assert_eq!(reply.usage.tokens_out, 1);
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_a_stop_sequence_finishes_with_stop_before_it() {
    let llm = openai();
    let full = llm
        .chat(deterministic("Write a sentence about the sea."))
        .await
        .unwrap();
    // Stop at a word from the middle of the deterministic reply.
    let words: Vec<&str> = full.text.split_whitespace().collect();
    assert!(words.len() >= 4, "{}", full.text);
    let stop = words[words.len() / 2];
    let cut = llm
        .chat(deterministic("Write a sentence about the sea.").stop([stop]))
        .await
        .unwrap();
    assert_eq!(cut.finish_reason, FinishReason::Stop);
    assert!(
        full.text.starts_with(cut.text.trim_end()),
        "{:?} vs {:?}",
        cut.text,
        full.text
    );
    assert!(cut.text.len() < full.text.len());
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_unicode_prompts_round_trip() {
    let llm = openai();
    let request = deterministic("Répète: « café 🦀 中文 »");
    let streamed: Vec<Text> = llm
        .stream_chat(request.clone())
        .text()
        .try_collect()
        .await
        .unwrap();
    let reply = llm.chat(request).await.unwrap();
    assert_eq!(streamed.concat(), reply.text);
    assert!(reply.usage.tokens_in > 10);
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_four_concurrent_streams_complete() {
    let llm = openai();
    let replies = futures::future::join_all(
        (0..4).map(|i| llm.chat(ChatRequest::new(format!("Say the number {i}.")).max_tokens(16))),
    )
    .await;
    for reply in replies {
        let reply = reply.unwrap();
        assert!(reply.usage.tokens_out > 0);
    }
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_dropping_a_stream_mid_reply_leaves_the_server_healthy() {
    let llm = openai();
    let mut stream = llm.stream_chat(ChatRequest::new("Write a long story.").max_tokens(400));
    let mut texts = 0;
    while let Some(chunk) = stream.next().await {
        if chunk.unwrap().as_text().is_some() {
            texts += 1;
            if texts == 3 {
                break;
            }
        }
    }
    drop(stream);
    let reply = llm.chat(deterministic("Hello")).await.unwrap();
    assert!(!reply.text.is_empty());
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_a_prompt_longer_than_the_context_is_the_servers_error() {
    let long = "word ".repeat(3000);
    let err = openai()
        .chat(ChatRequest::new(long).max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.status(), Some(400));
    assert!(
        err.to_string()
            .contains("exceeds the available context size"),
        "{err}"
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_an_unreachable_port_is_provider_unavailable() {
    let base = env("OPENAI_BASE_URL");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let llm = OpenAiProvider::builder()
        .api_key("none")
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .max_retries(0)
        .build()
        .unwrap();
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::ProviderUnavailable,
        "{err} (live server is at {base})"
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn ollama_streams_text_and_the_done_lines_counts() {
    let llm = ollama();
    let request = deterministic("Name three animals.");
    let streamed: Vec<Text> = llm
        .stream_chat(request.clone())
        .text()
        .try_collect()
        .await
        .unwrap();
    let reply = llm.chat(request).await.unwrap();
    assert!(!reply.text.is_empty());
    assert_eq!(streamed.concat(), reply.text);
    assert_eq!(reply.finish_reason, FinishReason::Stop);
    assert!(!reply.usage.tokens_estimated);
    assert!(reply.usage.tokens_in > 0 && reply.usage.tokens_out > 0);
    assert!(reply.server_timings.is_some());
    assert_eq!(reply.usage.usd_micros, 0);
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn ollama_num_predict_and_temperature_are_passed_through() {
    let llm = ollama();
    let short = llm
        .chat(
            ChatRequest::new("Write a long story about a dragon.")
                .temperature(0.0)
                .max_tokens(5),
        )
        .await
        .unwrap();
    let long = llm
        .chat(
            ChatRequest::new("Write a long story about a dragon.")
                .temperature(0.0)
                .max_tokens(60),
        )
        .await
        .unwrap();
    // The shim counts whitespace-separated words, so 5 tokens are at most 5 words.
    assert!(short.usage.tokens_out <= 5, "{:?}", short.usage);
    assert!(short.text.len() < long.text.len());
    assert!(
        long.text.starts_with(short.text.trim_end()),
        "temperature 0 is deterministic"
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn ollama_a_server_error_is_surfaced_with_its_message() {
    let long = "word ".repeat(3000);
    let err = ollama()
        .chat(ChatRequest::new(long).max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(
        err.to_string()
            .contains("exceeds the available context size"),
        "{err}"
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn ollama_lists_the_served_model() {
    let models = ollama().list_models().await.unwrap();
    assert!(
        models.iter().any(|m| m.name.starts_with(&model())),
        "{models:?}"
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn a_slow_consumer_still_gets_every_token() {
    let llm = openai();
    let request = deterministic("Count to twenty.");
    let reference = llm.chat(request.clone()).await.unwrap();
    let mut stream = llm.stream_chat(request).text();
    let mut text = String::new();
    while let Some(piece) = stream.next().await {
        text.push_str(&piece.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(text, reference.text);
}
