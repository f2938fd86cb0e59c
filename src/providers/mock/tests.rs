//! The mock: words, determinism, validation, tool calls and structured output.

use super::script::split_words;
use super::*;
use crate::error::ErrorKind;
use crate::request::ChatRequest;

#[test]
fn words_keep_their_leading_space() {
    assert_eq!(split_words("a bc  d"), vec!["a", " bc", "  d"]);
    assert_eq!(split_words(" lead"), vec![" lead"]);
    assert_eq!(split_words(""), Vec::<String>::new());
    assert_eq!(split_words("trail "), vec!["trail", " "]);
    assert_eq!(split_words("é ü").concat(), "é ü");
}

#[tokio::test]
async fn same_request_same_reply() {
    let llm = MockProvider::new();
    let a = llm.chat("same".into()).await.unwrap();
    let b = llm.chat("same".into()).await.unwrap();
    assert_eq!(
        (a.text.clone(), a.usage.tokens_in, a.usage.tokens_out),
        (b.text, b.usage.tokens_in, b.usage.tokens_out)
    );
    assert!(a.text.contains("same"));
    assert_eq!(a.usage.usd_micros, 0);
}

#[tokio::test]
async fn invalid_requests_fail_before_any_chunk() {
    let err = MockProvider::new()
        .chat(ChatRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn scripted_tool_calls_stream_in_fragments_then_answer_the_result() {
    use crate::chunk::Chunk;
    use crate::chunk::FinishReason;
    use crate::request::{Message, Tool};
    use futures::StreamExt;
    use serde_json::json;

    let llm = MockProvider::builder()
        .tool_call("get_weather", json!({"city": "Paris", "unit": "celsius"}))
        .build();
    let tool = Tool::new("get_weather", "Weather", json!({"type": "object"}));
    let request = ChatRequest::new("Weather in Paris?").tool(tool);
    let items: Vec<_> = llm.stream_chat(request.clone()).collect().await;
    let deltas = items
        .iter()
        .filter(|i| matches!(i, Ok(Chunk::ToolCallDelta(_))))
        .count();
    assert!(deltas > 2, "{items:?}");
    let reply = llm.chat(request.clone()).await.unwrap();
    assert_eq!(reply.finish_reason, FinishReason::ToolCalls);
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].arguments["city"], "Paris");
    let call = reply.tool_calls[0].clone();
    let next = request
        .message(reply.into_message())
        .message(Message::tool_result(call.id, call.name, "18 C"));
    let answer = llm.chat(next).await.unwrap();
    assert!(answer.tool_calls.is_empty());
    assert!(answer.text.contains("18 C"), "{}", answer.text);
    assert_eq!(answer.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn structured_output_and_refusals() {
    use crate::request::{ResponseFormat, Tool, ToolChoice};
    use serde_json::json;

    let schema = json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}, "required": ["n"]});
    let request =
        ChatRequest::new("count").response_format(ResponseFormat::json_schema("c", schema.clone()));
    let value: serde_json::Value = MockProvider::new()
        .chat(request)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(value, json!({"n": 3}));
    // A required tool is called with arguments that fit its schema.
    let request = ChatRequest::new("go")
        .tool(Tool::new("count", "Count", schema))
        .tool_choice(ToolChoice::Required);
    let reply = MockProvider::new().chat(request).await.unwrap();
    assert_eq!(reply.tool_calls[0].arguments, json!({"n": 3}));
    // A refusal is no JSON, and says so.
    let reply = MockProvider::builder()
        .refusal("I cannot help with that.")
        .build()
        .chat("x".into())
        .await
        .unwrap();
    let err = reply.json::<serde_json::Value>().unwrap_err();
    assert!(
        err.to_string().contains("refused") && err.to_string().contains("cannot help"),
        "{err}"
    );
}
