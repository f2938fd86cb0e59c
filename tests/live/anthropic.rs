//! The `anthropic` provider against llama.cpp's `/v1/messages`: text, usage and finish
//! reason; `max_tokens` 1; a prompt longer than the context; and a turn that carries a
//! `tool_use` block and its `tool_result`.

use futures::TryStreamExt;
use serde_json::json;
use theory_llm::stream::Text;
use theory_llm::{
    AnthropicProvider, ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, Message, Tool,
    ToolCall,
};

use crate::{env, model};

fn anthropic() -> AnthropicProvider {
    AnthropicProvider::builder()
        .base_url(env("ANTHROPIC_BASE_URL"))
        .default_model(model())
        .build()
        .unwrap()
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn anthropic_streams_text_with_usage_and_its_finish() {
    let llm = anthropic();
    let request = ChatRequest::new("Name three colors.")
        .system("You are terse.")
        .temperature(0.0)
        .max_tokens(32);
    let streamed: Vec<Text> = llm
        .stream_chat(request.clone())
        .text()
        .try_collect()
        .await
        .unwrap();
    let reply = llm.chat(request).await.unwrap();
    assert!(!reply.text.is_empty());
    assert_eq!(streamed.concat(), reply.text);
    assert!(!reply.usage.tokens_estimated, "{:?}", reply.usage);
    assert!(reply.usage.tokens_in > 0 && reply.usage.tokens_out > 0);
    // llama.cpp counts a reused prompt prefix as cache reads, part of tokens_in.
    let cached = reply
        .usage
        .cached_tokens_in
        .expect("llama.cpp reports cache reads");
    assert!(cached <= reply.usage.tokens_in);
    assert!(reply.response_id.is_some());
    assert!(
        matches!(
            reply.finish_reason,
            FinishReason::Stop | FinishReason::Length
        ),
        "{:?}",
        reply.finish_reason
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn anthropic_max_tokens_1_finishes_with_length() {
    let reply = anthropic()
        .chat(
            ChatRequest::new("Count to ten.")
                .temperature(0.0)
                .max_tokens(1),
        )
        .await
        .unwrap();
    assert_eq!(reply.finish_reason, FinishReason::Length);
    assert_eq!(reply.usage.tokens_out, 1);
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn anthropic_a_prompt_longer_than_the_context_is_the_servers_error() {
    let err = anthropic()
        .chat(ChatRequest::new("hello ".repeat(3000)).max_tokens(8))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.status(), Some(400));
    assert!(
        err.to_string()
            .contains("exceeds the available context size"),
        "{err}"
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn anthropic_a_tool_result_turn_is_answered() {
    let weather = Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let call = ToolCall::new("toolu_1", "get_weather", json!({"city": "Paris"}));
    let request = ChatRequest::default()
        .tool(weather)
        .temperature(0.0)
        .max_tokens(40)
        .messages([
            Message::user("What is the weather in Paris?"),
            Message::assistant("").with_tool_calls([call]),
            Message::tool_result("toolu_1", "get_weather", "17 C and sunny"),
        ]);
    let reply = anthropic().chat(request).await.unwrap();
    assert!(!reply.text.is_empty());
}
