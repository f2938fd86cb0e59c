//! Reasoning controls on the wire, over loopback: each provider sends a `Reasoning` in
//! its own terms, refuses one it cannot express before anything is sent, sends nothing
//! when none is set, and streams the reasoning that comes back.

use serde_json::{json, Value};
use theory_llm::anthropic::AnthropicProvider;
use theory_llm::request::ReasoningEffort;
use theory_llm::{
    ChatRequest, ErrorKind, LlmStreamProvider, MockProvider, OllamaProvider, OpenAiProvider,
    OpenAiResponsesProvider, Reasoning,
};

use crate::support::{transcript, Reply, Server};

const KEY: &str = "sk-test-Qw7Lp2Xv9Rt4Kz8Mn3Bc";

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap()
}

fn responses(server: &Server) -> OpenAiResponsesProvider {
    OpenAiResponsesProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap()
}

fn anthropic(server: &Server) -> AnthropicProvider {
    AnthropicProvider::builder()
        .api_key(KEY)
        .base_url(server.url())
        .build()
        .unwrap()
}

fn ollama(server: &Server) -> OllamaProvider {
    OllamaProvider::builder()
        .host(server.url())
        .build()
        .unwrap()
}

/// A Chat Completions stream that reasons (`reasoning_content`, as DeepSeek, vLLM and
/// llama.cpp send it), then answers.
const OPENAI_REASONING: &str = concat!(
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"o4-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"Two and two \"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"o4-mini\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"make four.\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"o4-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"4\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"o4-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: [DONE]\n\n",
);

/// An `/api/chat` stream of a thinking model: `thinking` first, then the content.
const OLLAMA_THINKING: &str = concat!(
    "{\"model\":\"qwen3\",\"created_at\":\"2026-12-02T00:00:00.1Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Two and two \"},\"done\":false}\n",
    "{\"model\":\"qwen3\",\"created_at\":\"2026-12-02T00:00:00.2Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"make four.\"},\"done\":false}\n",
    "{\"model\":\"qwen3\",\"created_at\":\"2026-12-02T00:00:00.3Z\",\"message\":{\"role\":\"assistant\",\"content\":\"4\"},\"done\":false}\n",
    "{\"model\":\"qwen3\",\"created_at\":\"2026-12-02T00:00:00.4Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":5,\"eval_count\":6}\n",
);

fn ask(reasoning: Reasoning) -> ChatRequest {
    ChatRequest::new("What is two and two?").reasoning(reasoning)
}

/// The JSON body of the one request the server received.
fn sent(server: &Server) -> Value {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one request");
    requests[0].json()
}

#[tokio::test]
async fn openai_sends_an_effort_as_reasoning_effort_and_streams_the_reasoning() {
    let server = Server::reply(Reply::sse(OPENAI_REASONING)).await;
    let reply = openai(&server)
        .chat(ask(Reasoning::Effort(ReasoningEffort::High)))
        .await
        .unwrap();
    assert_eq!(reply.reasoning, "Two and two make four.");
    assert_eq!(reply.text, "4");
    assert_eq!(sent(&server)["reasoning_effort"], json!("high"));
}

#[tokio::test]
async fn responses_sends_the_effort_and_asks_for_the_reasoning_summary() {
    let body = transcript("responses/function_calls_reasoning.sse");
    let server = Server::reply(Reply::sse(body)).await;
    let reply = responses(&server)
        .chat(ask(Reasoning::Effort(ReasoningEffort::Low)))
        .await
        .unwrap();
    assert!(!reply.reasoning.is_empty(), "{reply:?}");
    assert_eq!(
        sent(&server)["reasoning"],
        json!({"effort": "low", "summary": "auto"})
    );
}

#[tokio::test]
async fn anthropic_sends_a_budget_as_extended_thinking_with_room_left_for_the_reply() {
    let body = transcript("anthropic/thinking_stream.body");
    let server = Server::reply(Reply::sse(body.clone())).await;
    let reply = anthropic(&server)
        .chat(ask(Reasoning::Budget(2048)))
        .await
        .unwrap();
    assert_eq!(reply.reasoning, "The user wants a short answer.");
    let sent_body = sent(&server);
    assert_eq!(
        sent_body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    // Thinking counts against max_tokens: the default is kept for the reply.
    assert_eq!(
        sent_body["max_tokens"],
        json!(AnthropicProvider::DEFAULT_MAX_TOKENS + 2048)
    );

    // A max_tokens of the request's own is sent as it is.
    let server = Server::reply(Reply::sse(body.clone())).await;
    anthropic(&server)
        .chat(ask(Reasoning::Budget(2048)).max_tokens(3000))
        .await
        .unwrap();
    assert_eq!(sent(&server)["max_tokens"], json!(3000));

    let server = Server::reply(Reply::sse(body)).await;
    anthropic(&server).chat(ask(Reasoning::Off)).await.unwrap();
    let sent_body = sent(&server);
    assert_eq!(sent_body["thinking"], json!({"type": "disabled"}));
    assert_eq!(
        sent_body["max_tokens"],
        json!(AnthropicProvider::DEFAULT_MAX_TOKENS)
    );
}

#[tokio::test]
async fn ollama_sends_think_and_streams_the_thinking() {
    for (reasoning, think) in [
        (Reasoning::On, json!(true)),
        (Reasoning::Off, json!(false)),
        (Reasoning::Effort(ReasoningEffort::Medium), json!("medium")),
    ] {
        let server = Server::reply(Reply::ndjson(OLLAMA_THINKING)).await;
        let reply = ollama(&server).chat(ask(reasoning)).await.unwrap();
        assert_eq!(reply.reasoning, "Two and two make four.");
        assert_eq!(reply.text, "4");
        assert_eq!(sent(&server)["think"], think, "{reasoning}");
    }
}

#[tokio::test]
async fn a_setting_a_provider_cannot_express_is_refused_before_sending() {
    let cases: Vec<(&str, Reasoning)> = vec![
        ("openai", Reasoning::Budget(2048)),
        ("openai", Reasoning::On),
        ("openai", Reasoning::Off),
        ("openai-responses", Reasoning::Budget(2048)),
        ("openai-responses", Reasoning::Off),
        ("anthropic", Reasoning::Effort(ReasoningEffort::High)),
        ("anthropic", Reasoning::On),
        ("ollama", Reasoning::Budget(2048)),
    ];
    for (name, reasoning) in cases {
        let server = Server::reply(Reply::sse(OPENAI_REASONING)).await;
        let llm: Box<dyn LlmStreamProvider> = match name {
            "openai" => Box::new(openai(&server)),
            "openai-responses" => Box::new(responses(&server)),
            "anthropic" => Box::new(anthropic(&server)),
            _ => Box::new(ollama(&server)),
        };
        let err = llm.chat(ask(reasoning)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{name}: {err}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("cannot send {reasoning} to {name}: it takes")),
            "{name}: {message}"
        );
        assert!(server.requests().is_empty(), "{name}: nothing is sent");
    }
}

#[tokio::test]
async fn without_a_setting_no_reasoning_field_is_sent() {
    let server = Server::reply(Reply::sse(OPENAI_REASONING)).await;
    openai(&server).chat("Hi".into()).await.unwrap();
    assert!(sent(&server).get("reasoning_effort").is_none());

    let server = Server::reply(Reply::sse(transcript("responses/stream.body"))).await;
    responses(&server).chat("Hi".into()).await.unwrap();
    assert!(sent(&server).get("reasoning").is_none());

    let server = Server::reply(Reply::sse(transcript("anthropic/stream.body"))).await;
    anthropic(&server).chat("Hi".into()).await.unwrap();
    let body = sent(&server);
    assert!(body.get("thinking").is_none());
    assert_eq!(
        body["max_tokens"],
        json!(AnthropicProvider::DEFAULT_MAX_TOKENS)
    );

    let server = Server::reply(Reply::ndjson(OLLAMA_THINKING)).await;
    ollama(&server).chat("Hi".into()).await.unwrap();
    assert!(sent(&server).get("think").is_none());
}

#[tokio::test]
async fn the_mock_provider_takes_any_setting() {
    let llm = MockProvider::builder().reply("4").build();
    for reasoning in [
        Reasoning::Off,
        Reasoning::On,
        Reasoning::Effort(ReasoningEffort::Low),
        Reasoning::Budget(1024),
    ] {
        assert_eq!(llm.chat(ask(reasoning)).await.unwrap().text, "4");
    }
}
