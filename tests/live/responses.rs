//! The `openai-responses` provider against llama.cpp's `/v1/responses`: text, usage and
//! finish reason; a prompt longer than the context; structured output that parses and
//! matches its schema (through llama.cpp's `json_schema` field, which the provider
//! sends besides `text.format`).

use futures::TryStreamExt;
use serde_json::{json, Value};
use theory_llm::stream::Text;
use theory_llm::{
    ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, OpenAiResponsesProvider,
    ResponseFormat,
};
use theory_llm_testkit::schema::validate;

use crate::{env, model};

fn responses() -> OpenAiResponsesProvider {
    OpenAiResponsesProvider::builder()
        .base_url(env("OPENAI_BASE_URL"))
        .default_model(model())
        .build()
        .unwrap()
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn responses_streams_text_with_usage_and_its_finish() {
    let llm = responses();
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
    assert!(
        !reply.usage.tokens_estimated,
        "usage comes on response.completed"
    );
    assert!(reply.usage.tokens_in > 0 && reply.usage.tokens_out > 0);
    assert!(
        reply.usage.cached_tokens_in.is_some(),
        "llama.cpp reports cached_tokens"
    );
    assert!(reply
        .response_id
        .as_deref()
        .is_some_and(|id| id.starts_with("resp_")));
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
async fn responses_max_output_tokens_1_finishes_with_length() {
    let reply = responses()
        .chat(
            ChatRequest::new("Count to ten.")
                .temperature(0.0)
                .max_tokens(1),
        )
        .await
        .unwrap();
    assert_eq!(reply.usage.tokens_out, 1);
    // The real API says `response.incomplete` (max_output_tokens): Length. llama.cpp
    // says `completed` even for a reply it cut, and the provider does not guess.
    assert!(
        matches!(
            reply.finish_reason,
            FinishReason::Length | FinishReason::Stop
        ),
        "{:?}",
        reply.finish_reason
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn responses_a_prompt_longer_than_the_context_is_the_servers_error() {
    let err = responses()
        .chat(ChatRequest::new("hello ".repeat(3000)).max_tokens(8))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(
        err.to_string()
            .contains("exceeds the available context size"),
        "{err}"
    );
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn responses_structured_output_parses_and_matches_its_schema() {
    let schema = json!({"type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"], "additionalProperties": false});
    let request = ChatRequest::new("Give me a person named Bob aged 30.")
        .temperature(0.0)
        .max_tokens(120)
        .response_format(ResponseFormat::strict_json_schema("person", &schema));
    let reply = responses().chat(request).await.unwrap();
    let value: Value = reply
        .json()
        .unwrap_or_else(|e| panic!("{e}: {}", reply.text));
    validate(&schema, &value).unwrap_or_else(|e| panic!("{e}: {value}"));
}
