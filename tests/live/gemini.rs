//! The Gemini API's wire against api-for-gemini (in front of llama.cpp), through the
//! `gemini` provider: text with usage and its finish, in a
//! stream and collected; `maxOutputTokens` 1; a reply held to a JSON Schema; a turn
//! with a function call, its thought signature and its response; reasoning settings;
//! a default Gemini model name; an unknown model; the key sent as a header; a prompt
//! longer than the context. The server's quirks: tests/transcripts/gemini/README.md.

use futures::TryStreamExt;
use serde_json::json;
use theory_llm::gemini::GeminiProvider;
use theory_llm::request::ReasoningEffort;
use theory_llm::stream::Text;
use theory_llm::{
    ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, Message, Reasoning, ResponseFormat,
    Tool, ToolCall,
};

use crate::{env, model};

fn gemini() -> impl LlmStreamProvider {
    GeminiProvider::builder()
        .api_key("live-test-key")
        .base_url(env("GEMINI_BASE_URL"))
        .default_model(model())
        .build()
        .unwrap()
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn gemini_streams_text_with_usage_and_its_finish() {
    let llm = gemini();
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
    assert_eq!(reply.provider, "gemini");
    // The counts come in a last chunk without candidates.
    assert!(!reply.usage.tokens_estimated, "{:?}", reply.usage);
    assert!(reply.usage.tokens_in > 0 && reply.usage.tokens_out > 0);
    assert!(reply.usage.cached_tokens_in.unwrap_or(0) <= reply.usage.tokens_in);
    assert!(reply.response_id.is_some());
    assert_eq!(reply.model, model());
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
async fn gemini_max_output_tokens_1_finishes_with_length() {
    let reply = gemini()
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
async fn gemini_a_json_schema_holds_the_reply() {
    #[derive(serde::Deserialize)]
    struct Person {
        name: String,
        age: u32,
    }
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]});
    let reply = gemini()
        .chat(
            ChatRequest::new("Invent a person with a name and an age.")
                .temperature(0.0)
                .max_tokens(64)
                .response_format(ResponseFormat::json_schema("person", schema)),
        )
        .await
        .unwrap();
    let person: Person = reply.json().unwrap();
    assert!(!person.name.is_empty());
    assert!(person.age < 200);
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn gemini_a_function_call_turn_with_its_signature_is_answered() {
    let weather = Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let mut turn = Message::assistant("").with_tool_calls([ToolCall::new(
        "call_0",
        "get_weather",
        json!({"city": "Paris"}),
    )]);
    turn.reasoning.blocks = serde_json::from_value(json!([
        {"type": "thought_signature", "signature": "c2lnbmF0dXJl", "tool_call_id": "call_0"}
    ]))
    .unwrap();
    let request = ChatRequest::default()
        .tool(weather)
        .temperature(0.0)
        .max_tokens(40)
        .messages([
            Message::user("What is the weather in Paris?"),
            turn,
            Message::tool_result("call_0", "get_weather", "17 C and sunny"),
        ]);
    let reply = gemini().chat(request).await.unwrap();
    assert!(!reply.text.is_empty());
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn gemini_reasoning_settings_are_accepted() {
    for reasoning in [
        Reasoning::Off,
        Reasoning::On,
        Reasoning::Budget(256),
        Reasoning::Effort(ReasoningEffort::Low),
    ] {
        let reply = gemini()
            .chat(
                ChatRequest::new("Say hi.")
                    .max_tokens(8)
                    .reasoning(reasoning),
            )
            .await
            .unwrap_or_else(|e| panic!("{reasoning}: {e}"));
        assert!(!reply.text.is_empty(), "{reasoning}");
    }
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn gemini_a_gemini_model_name_is_served_and_an_unknown_one_is_not_found() {
    let reply = gemini()
        .chat(
            ChatRequest::new("Say hi.")
                .model("models/gemini-3.5-flash")
                .max_tokens(8),
        )
        .await
        .unwrap();
    assert_eq!(reply.model, "gemini-3.5-flash");
    let err = gemini()
        .chat(ChatRequest::new("Say hi.").model("no-such-model"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound, "{err}");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn gemini_a_prompt_longer_than_the_context_is_a_server_error() {
    // api-for-gemini answers llama.cpp's 400 with a bare 500.
    let err = gemini()
        .chat(
            ChatRequest::new("hello ".repeat(3000))
                .max_tokens(8)
                .max_retries(0),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.status(), Some(500));
    assert!(!err.to_string().contains("live-test-key"), "{err}");
}
