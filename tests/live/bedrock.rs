//! The `bedrock` provider against a Bedrock mock no one here wrote: @copilotkit/aimock
//! (`scripts/aimock.sh start`), which serves ConverseStream in the binary AWS
//! event-stream framing from tests/fixtures/aimock/bedrock.json: text streamed with its
//! usage, a tool call and the turn with its result, reasoning, a throttled request, and
//! a SigV4-signed request.

use futures::TryStreamExt;
use serde_json::json;
use theory_llm::bedrock::BedrockProvider;
use theory_llm::stream::Text;
use theory_llm::{ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, Message, Tool};

use crate::env;

const MODEL: &str = "amazon.nova-micro-v1:0";

fn bedrock() -> BedrockProvider {
    BedrockProvider::builder()
        .base_url(env("BEDROCK_BASE_URL"))
        .default_model(MODEL)
        .build()
        .unwrap()
}

#[tokio::test]
#[ignore = "live: start scripts/aimock.sh and set THEORY_LLM_LIVE=1"]
async fn bedrock_streams_text_with_usage_from_aimock() {
    let llm = bedrock();
    let streamed: Vec<Text> = llm
        .stream_chat("Say hello.".into())
        .text()
        .try_collect()
        .await
        .unwrap();
    assert!(streamed.len() >= 2, "one chunk per event: {streamed:?}");
    let want = "Hello from aimock, streamed as an AWS event stream!";
    assert_eq!(streamed.concat(), want);
    let reply = llm.chat("Say hello.".into()).await.unwrap();
    assert_eq!(reply.text, want);
    assert_eq!(reply.finish_reason, FinishReason::Stop);
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (12, 11));
    assert!(!reply.usage.tokens_estimated);
    assert_eq!(
        (reply.provider.as_str(), reply.model.as_str()),
        ("bedrock", MODEL)
    );
}

#[tokio::test]
#[ignore = "live: start scripts/aimock.sh and set THEORY_LLM_LIVE=1"]
async fn bedrock_calls_a_tool_and_reads_its_result_from_aimock() {
    let llm = bedrock();
    let tools = vec![Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}}),
    )];
    let ask = Message::user("What is the weather in Paris?");
    let reply = llm
        .chat(
            ChatRequest::default()
                .messages(vec![ask.clone()])
                .tools(tools.clone()),
        )
        .await
        .unwrap();
    assert_eq!(reply.finish_reason, FinishReason::ToolCalls);
    let call = reply.tool_calls[0].clone();
    assert_eq!(
        (call.id.as_str(), call.name.as_str()),
        ("tooluse_paris1", "get_weather")
    );
    assert_eq!(call.arguments, json!({"city": "Paris", "unit": "celsius"}));
    let next = ChatRequest::default()
        .messages(vec![
            ask,
            reply.into_message(),
            Message::tool_result(&call.id, &call.name, "18 °C"),
        ])
        .tools(tools);
    let answer = llm.chat(next).await.unwrap();
    assert_eq!(answer.text, "It is 18 °C in Paris.");
}

#[tokio::test]
#[ignore = "live: start scripts/aimock.sh and set THEORY_LLM_LIVE=1"]
async fn bedrock_streams_reasoning_before_the_answer_from_aimock() {
    let reply = bedrock()
        .chat(
            ChatRequest::new("Think first, then answer.")
                .model("us.anthropic.claude-sonnet-4-20250514-v1:0"),
        )
        .await
        .unwrap();
    assert_eq!(reply.reasoning, "Seventeen times three is fifty-one.");
    assert_eq!(reply.text, "51");
}

#[tokio::test]
#[ignore = "live: start scripts/aimock.sh and set THEORY_LLM_LIVE=1"]
async fn bedrock_reports_throttling_and_signs_with_an_access_key() {
    let err = bedrock()
        .chat(ChatRequest::new("Be throttled.").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::RateLimited, Some(429)),
        "{err}"
    );
    assert!(err.to_string().contains("Too many requests"), "{err}");
    let signed = BedrockProvider::builder()
        .base_url(env("BEDROCK_BASE_URL"))
        .aws_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        .region("eu-central-1")
        .build()
        .unwrap();
    let reply = signed.chat("Say hello.".into()).await.unwrap();
    assert!(
        reply.text.starts_with("Hello from aimock"),
        "{}",
        reply.text
    );
}
