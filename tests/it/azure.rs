//! The `azure-openai` provider over loopback, with bodies in Azure's documented stream
//! shape (tests/transcripts/azure-openai/): the deployment and the API version in the
//! path, the key in `api-key` (never in the URL, never shown), the content filter's
//! finish and its refusal, `retry-after-ms` on a 429, and the hostile-server checks.

use std::time::Duration;

use theory_llm::azure_openai::AzureOpenAiProvider;
use theory_llm::retry::RetryPolicy;
use theory_llm::{ChatRequest, ErrorKind, FinishReason, LlmStreamProvider};

use crate::support::{all_splits, transcript, Reply, Server};

const KEY: &str = "azure-key-0123456789abcdefghijklmn";

fn provider(server: &Server) -> AzureOpenAiProvider {
    AzureOpenAiProvider::builder()
        .base_url(format!("{}/openai/", server.url()))
        .api_key(KEY)
        .default_model("gpt-4o-mini")
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_stream_in_every_split_with_the_deployment_in_the_path_and_the_key_in_a_header() {
    let body = transcript("azure-openai/stream.body");
    for split in all_splits() {
        let server = Server::reply(Reply::sse(body.clone()).split(split.clone())).await;
        let reply = provider(&server)
            .chat(ChatRequest::new("Hi").model("prod-mini"))
            .await
            .unwrap();
        assert_eq!(reply.text, "Hello from Azure!", "{split:?}");
        assert_eq!(reply.provider, "azure-openai");
        assert_eq!(reply.finish_reason, FinishReason::Stop);
        assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (12, 4));
        assert!(!reply.usage.tokens_estimated);
        let sent = &server.requests()[0];
        assert_eq!(
            sent.path,
            "/openai/deployments/prod-mini/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(sent.header("api-key"), Some(KEY));
        assert!(sent.header("authorization").is_none());
        assert!(!sent.path.contains(KEY));
        assert_eq!(sent.json()["messages"][0]["content"], "Hi");
    }
}

#[tokio::test]
async fn a_reply_the_content_filter_cut_finishes_so() {
    let server = Server::reply(Reply::sse(transcript(
        "azure-openai/content_filter_stream.body",
    )))
    .await;
    let reply = provider(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(reply.finish_reason, FinishReason::ContentFilter);
    assert_eq!(reply.text, "Here is how to");
}

#[tokio::test]
async fn a_refused_prompt_names_the_categories_and_is_not_retried() {
    let body = r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"},"sexual":{"filtered":false,"severity":"safe"}}}}}"#;
    let server = Server::reply(Reply::json(400, body)).await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("hate (high)"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_ms_is_waited_for_then_retried() {
    let limited = Reply::json(
        429,
        r#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded the call rate limit."}}"#,
    )
    .header("retry-after-ms", "30");
    let ok = Reply::sse(transcript("azure-openai/stream.body"));
    let server = Server::sequence(vec![limited, ok]).await;
    let started = std::time::Instant::now();
    let reply = provider(&server).chat("Hi".into()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(reply.text, "Hello from Azure!");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn the_key_never_shows_and_redirects_are_not_followed() {
    let echo = format!(
        r#"{{"error":{{"code":"401","message":"Access denied due to invalid subscription key {KEY}."}}}}"#
    );
    let server = Server::reply(Reply::json(401, echo)).await;
    let llm = provider(&server);
    let err = llm.chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.to_string().contains(&KEY[6..20]), "{err}");
    assert!(err.to_string().contains("AZURE_OPENAI_API_KEY"), "{err}");
    assert!(!format!("{llm:?}").contains(&KEY[6..20]));

    let elsewhere = Server::reply(Reply::sse(transcript("azure-openai/stream.body"))).await;
    let moved = Server::reply(Reply::status(307, "text/plain", "moved").header(
        "Location",
        &format!("{}/openai/deployments/x", elsewhere.url()),
    ))
    .await;
    let err = provider(&moved).chat("Hi".into()).await.unwrap_err();
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(elsewhere.requests().is_empty());
}
