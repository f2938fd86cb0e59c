//! Issue 13 against the real servers: structured output that parses and matches its
//! schema (grammar-constrained on llama.cpp; `format` on the Ollama-API server), a
//! second turn that carries an assistant tool call and its result, and an image to a
//! server that cannot read one.

use serde_json::{json, Value};
use theory_llm::{
    ChatRequest, ErrorKind, Image, LlmStreamProvider, Message, ResponseFormat, Tool, ToolCall,
};
use theory_llm_testkit::schema::validate;

use crate::{ollama, openai};

fn person() -> Value {
    json!({"type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"]})
}

fn structured() -> ChatRequest {
    ChatRequest::new("Invent a person, with a name and an age.")
        .temperature(0.0)
        .max_tokens(300)
        .response_format(ResponseFormat::json_schema("person", person()))
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn openai_structured_output_parses_and_matches_its_schema() {
    let reply = openai().chat(structured()).await.unwrap();
    let value: Value = reply
        .json()
        .unwrap_or_else(|e| panic!("{e}: {}", reply.text));
    validate(&person(), &value).unwrap_or_else(|e| panic!("{e}: {value}"));
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn ollama_structured_output_parses_and_matches_its_schema() {
    let reply = ollama().chat(structured()).await.unwrap();
    let value: Value = reply
        .json()
        .unwrap_or_else(|e| panic!("{e}: {}", reply.text));
    validate(&person(), &value).unwrap_or_else(|e| panic!("{e}: {value}"));
}

/// The turn after a tool call: the assistant's call (with its id) and the result.
fn second_turn() -> ChatRequest {
    let weather = Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let call = ToolCall::new("call_1", "get_weather", json!({"city": "Paris"}));
    ChatRequest::default()
        .tool(weather)
        .temperature(0.0)
        .max_tokens(40)
        .messages([
            Message::user("What is the weather in Paris?"),
            Message::assistant("").with_tool_calls([call]),
            Message::tool_result("call_1", "get_weather", "18 C and sunny"),
        ])
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn a_tool_result_turn_is_answered_by_both_servers() {
    let reply = openai().chat(second_turn()).await.unwrap();
    assert!(!reply.text.trim().is_empty(), "{reply:?}");
    // The Ollama-API shim forwards the call to llama.cpp, which needs its id and type.
    let reply = ollama().chat(second_turn()).await.unwrap();
    assert!(!reply.text.trim().is_empty(), "{reply:?}");
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn an_image_to_a_server_without_vision_is_its_own_error() {
    let png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let request = ChatRequest::default()
        .message(Message::user("What is in this picture?").image(Image::bytes("image/png", png)))
        .max_retries(0);
    let err = openai().chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(
        err.to_string().contains("image input is not supported"),
        "{err}"
    );
}
