//! Reasoning controls against the real servers: llama.cpp (Chat Completions, Responses,
//! Messages) and the Ollama-API server accept each provider's reasoning field and
//! answer. The small model does not reason, so only acceptance is checked here; the
//! reasoning that a reasoning model streams back is checked on loopback
//! (`tests/it/reasoning.rs`).

use theory_llm::request::ReasoningEffort;
use theory_llm::{
    AnthropicProvider, ChatRequest, LlmStreamProvider, OpenAiResponsesProvider, Reasoning,
};

use crate::{env, model, ollama, openai};

fn ask(reasoning: Reasoning) -> ChatRequest {
    ChatRequest::new("Say hello.")
        .temperature(0.0)
        .max_tokens(16)
        .reasoning(reasoning)
}

async fn answers(llm: &dyn LlmStreamProvider, reasoning: Reasoning) {
    let reply = llm
        .chat(ask(reasoning))
        .await
        .unwrap_or_else(|e| panic!("{} with {reasoning}: {e}", llm.name()));
    assert!(!reply.text.is_empty(), "{} with {reasoning}", llm.name());
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_and_responses_send_an_effort_the_server_accepts() {
    let responses = OpenAiResponsesProvider::builder()
        .base_url(env("OPENAI_BASE_URL"))
        .default_model(model())
        .build()
        .unwrap();
    for level in [ReasoningEffort::Low, ReasoningEffort::High] {
        answers(&openai(), Reasoning::Effort(level)).await;
        answers(&responses, Reasoning::Effort(level)).await;
    }
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn anthropic_sends_a_thinking_budget_and_off_the_server_accepts() {
    let llm = AnthropicProvider::builder()
        .base_url(env("ANTHROPIC_BASE_URL"))
        .default_model(model())
        .build()
        .unwrap();
    answers(&llm, Reasoning::Off).await;
    // The request's max_tokens (16) is below the budget: Anthropic would refuse that
    // in its own words; llama.cpp takes it.
    answers(&llm, Reasoning::Budget(1024)).await;
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn ollama_sends_think_the_server_accepts() {
    for reasoning in [
        Reasoning::Off,
        Reasoning::On,
        Reasoning::Effort(ReasoningEffort::Medium),
    ] {
        answers(&ollama(), reasoning).await;
    }
}
