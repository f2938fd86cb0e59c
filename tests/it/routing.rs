//! Beyond one server (issue 16), over loopback: fallback chains move on before any
//! output and never after; endpoint pools spread requests, cool down a dead endpoint
//! and retry elsewhere.

use std::time::Duration;

use futures::StreamExt;
use theory_llm::pricing::Price;
use theory_llm::pricing::Pricing;
use theory_llm::retry::RetryPolicy;
use theory_llm::routing::FallbackProvider;
use theory_llm::{ChatRequest, Chunk, ErrorKind, LlmStreamProvider, OpenAiProvider, Timeouts};

use crate::support::{transcript, Reply, Server, Split};

const KEY: &str = "sk-test-Route5Hk2Qz8Wm4Xv7Np";

/// An OpenAI provider for `base`, retrying once, quickly.
fn openai(base: &str) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(base)
        .retry_policy(
            RetryPolicy::default()
                .max_retries(1)
                .backoff(Duration::from_millis(5), Duration::from_millis(10)),
        )
        .first_chunk_timeout(Duration::from_millis(400))
        .build()
        .unwrap()
}

fn ok_body() -> Vec<u8> {
    transcript("llama-server/stream_include_usage.body")
}

/// A port nothing listens on.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/v1")
}

async fn chain_to_backup(primary: OpenAiProvider, backup: &Server) -> theory_llm::ChatReply {
    let llm = FallbackProvider::builder()
        .entry(primary, Some("primary-model"))
        .entry(
            openai(&format!("{}/v1", backup.url())),
            Some("backup-model"),
        )
        .build()
        .unwrap();
    llm.chat("Hello".into()).await.unwrap()
}

#[tokio::test]
async fn a_primary_answering_503_forever_moves_the_chain_on() {
    let primary = Server::reply(Reply::json(503, r#"{"error":{"message":"Overloaded."}}"#)).await;
    let backup = Server::reply(Reply::sse(ok_body())).await;
    let reply = chain_to_backup(openai(&format!("{}/v1", primary.url())), &backup).await;
    assert!(!reply.text.is_empty());
    assert_eq!(reply.provider, "openai");
    assert_eq!(reply.attempts.len(), 1, "{:?}", reply.attempts);
    let attempt = &reply.attempts[0];
    assert_eq!(attempt.model, "primary-model");
    assert_eq!(attempt.kind, ErrorKind::Server);
    assert!(
        attempt.message.contains("Overloaded"),
        "{}",
        attempt.message
    );
    // The primary retried by itself first (once), then the chain moved on.
    assert_eq!(primary.requests().len(), 2);
    assert_eq!(backup.requests().len(), 1);
    assert_eq!(backup.requests()[0].json()["model"], "backup-model");
    assert_eq!(
        reply.endpoint.as_deref(),
        Some(format!("{}/v1", backup.url()).as_str())
    );
}

#[tokio::test]
async fn a_refused_connection_and_a_stall_before_content_move_the_chain_on() {
    let backup = Server::reply(Reply::sse(ok_body())).await;
    let reply = chain_to_backup(openai(&closed_port()), &backup).await;
    assert_eq!(reply.attempts[0].kind, ErrorKind::ProviderUnavailable);
    assert!(!reply.text.is_empty());

    let stalls = Server::reply(Reply::sse(ok_body()).split(Split::Frames).stall_after(0)).await;
    let reply = chain_to_backup(openai(&format!("{}/v1", stalls.url())), &backup).await;
    assert_eq!(
        reply.attempts[0].kind,
        ErrorKind::Timeout,
        "{:?}",
        reply.attempts
    );
    assert!(!reply.text.is_empty());
}

#[tokio::test]
async fn a_failure_after_text_surfaces_and_the_chain_does_not_move_on() {
    let body = String::from_utf8(transcript(
        "llama-server/midstream_error_kv_pool_exhausted.body",
    ))
    .unwrap();
    let primary = Server::reply(Reply::sse(body).split(Split::Frames)).await;
    let backup = Server::reply(Reply::sse(ok_body())).await;
    let llm = FallbackProvider::builder()
        .entry(openai(&format!("{}/v1", primary.url())), None)
        .entry(openai(&format!("{}/v1", backup.url())), None)
        .build()
        .unwrap();
    let mut stream = llm.stream_chat("Hello".into());
    let mut text = String::new();
    let mut failed = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(Chunk::Text(t)) => text.push_str(&t),
            Ok(_) => {}
            Err(e) => failed = Some(e),
        }
    }
    assert!(!text.is_empty(), "text came first");
    assert_eq!(failed.unwrap().kind(), ErrorKind::Server);
    assert_eq!(backup.requests().len(), 0, "never after output");
}

#[tokio::test]
async fn when_every_entry_fails_the_error_lists_them_all() {
    let down = Server::reply(Reply::json(
        503,
        r#"{"error":{"message":"Down for maintenance."}}"#,
    ))
    .await;
    let llm = FallbackProvider::builder()
        .entry(openai(&closed_port()), Some("a"))
        .entry(openai(&format!("{}/v1", down.url())), Some("b"))
        .build()
        .unwrap();
    let err = llm.chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    let message = err.to_string();
    assert!(message.contains("Down for maintenance"), "{message}");
    assert!(
        message.contains("openai=a: provider_unavailable"),
        "{message}"
    );
    assert!(!message.contains(KEY));
    // An error the policy does not fall back on surfaces at once.
    let auth = Server::reply(Reply::json(401, r#"{"error":{"message":"Bad key."}}"#)).await;
    let backup = Server::reply(Reply::sse(ok_body())).await;
    let llm = FallbackProvider::builder()
        .entry(openai(&format!("{}/v1", auth.url())), None)
        .entry(openai(&format!("{}/v1", backup.url())), None)
        .build()
        .unwrap();
    assert_eq!(
        llm.chat("Hi".into()).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
    assert_eq!(backup.requests().len(), 0);
}

#[tokio::test]
async fn usage_and_cost_belong_to_the_entry_that_answered() {
    let primary = Server::reply(Reply::json(503, r#"{"error":{"message":"Busy."}}"#)).await;
    let backup = Server::reply(Reply::sse(ok_body())).await;
    let priced = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", backup.url()))
        .price("backup-model", Price::per_million_usd(1000.0, 2000.0))
        .build()
        .unwrap();
    let llm = FallbackProvider::builder()
        .entry(openai(&format!("{}/v1", primary.url())), Some("gpt-4o"))
        .entry(priced, Some("backup-model"))
        .build()
        .unwrap();
    let reply = llm.chat("Hello".into()).await.unwrap();
    assert!(
        matches!(reply.usage.cost_basis, Pricing::Metered(_)),
        "{:?}",
        reply.usage.cost_basis
    );
    let expected =
        (reply.usage.tokens_in * 1_000_000 + reply.usage.tokens_out * 2_000_000).div_ceil(1000);
    assert!(
        reply.usage.usd_micros.abs_diff(expected) <= 1,
        "{} vs {expected}",
        reply.usage.usd_micros
    );
}

#[tokio::test]
async fn a_pool_with_a_dead_endpoint_serves_every_request_without_retrying_it_each_time() {
    let dead = Server::reply(Reply::json(503, r#"{"error":{"message":"I am dead."}}"#)).await;
    let a = Server::reply(Reply::sse(ok_body())).await;
    let b = Server::reply(Reply::sse(ok_body())).await;
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", dead.url()))
        .endpoints([format!("{}/v1", a.url()), format!("{}/v1", b.url())])
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    for _ in 0..12 {
        let reply = llm.chat("Hello".into()).await.unwrap();
        assert!(!reply.text.is_empty());
        let served_by = reply.endpoint.unwrap();
        assert!(!served_by.contains(&dead.url()), "{served_by}");
    }
    // Cooled down after its first failure (for a second, then longer): not tried on
    // every request.
    assert!(
        dead.requests().len() <= 2,
        "{} requests to the dead endpoint",
        dead.requests().len()
    );
    assert_eq!(a.requests().len() + b.requests().len(), 12);
    assert!(
        a.requests().len() >= 4 && b.requests().len() >= 4,
        "spread over both"
    );
}

#[tokio::test]
async fn a_pool_spreads_concurrent_requests_by_requests_in_flight() {
    let slow = Reply::sse(ok_body())
        .split(Split::Frames)
        .delay(Duration::from_millis(20));
    let a = Server::reply(slow.clone()).await;
    let b = Server::reply(slow).await;
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", a.url()))
        .endpoints([format!("{}/v1", b.url())])
        .build()
        .unwrap();
    let replies = futures::future::join_all((0..6).map(|_| llm.chat("Hello".into()))).await;
    assert!(replies.iter().all(Result::is_ok));
    assert_eq!(a.requests().len(), 3);
    assert_eq!(b.requests().len(), 3);
    assert_eq!(llm.base_url(), format!("{}/v1", a.url()));
}

#[tokio::test]
async fn a_pool_member_refusing_connections_is_retried_elsewhere() {
    let alive = Server::reply(Reply::sse(ok_body())).await;
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(closed_port())
        .endpoints([format!("{}/v1", alive.url())])
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    for _ in 0..5 {
        llm.chat(ChatRequest::new("Hi")).await.unwrap();
    }
    assert_eq!(alive.requests().len(), 5);
}

/// Issue 24: a chain did not move on when the first-chunk limit came with the request
/// (as `hello_llm --first-chunk-timeout` sets it) rather than from the provider: the
/// chain's own stream applied the same limit and ended the whole chain with `timeout`
/// at the moment its first entry timed out.
#[tokio::test]
async fn a_request_s_own_first_chunk_limit_moves_the_chain_on() {
    let stalls = Server::reply(Reply::sse(ok_body()).split(Split::Frames).stall_after(0)).await;
    let backup = Server::reply(Reply::sse(ok_body())).await;
    let unlimited = |base: String| {
        OpenAiProvider::builder()
            .api_key(KEY)
            .base_url(base)
            .build()
            .unwrap()
    };
    let llm = FallbackProvider::builder()
        .entry(unlimited(format!("{}/v1", stalls.url())), Some("m1"))
        .entry(unlimited(format!("{}/v1", backup.url())), Some("m2"))
        .build()
        .unwrap();
    let request = ChatRequest::new("Hello")
        .max_retries(0)
        .timeouts(Timeouts::default().first_chunk(Duration::from_millis(300)));
    let reply = llm.chat(request).await.unwrap();
    assert!(!reply.text.is_empty());
    assert_eq!(reply.attempts.len(), 1, "{:?}", reply.attempts);
    assert_eq!(reply.attempts[0].kind, ErrorKind::Timeout);
    assert_eq!(backup.requests().len(), 1);
    assert_eq!(backup.requests()[0].json()["model"], "m2");
}

/// Issue 24: when every entry failed, the error listed the attempts in its message
/// only; it now carries them, each with its own kind and message.
#[tokio::test]
async fn when_every_entry_fails_the_error_carries_every_attempt() {
    let down = Server::reply(Reply::json(503, r#"{"error":{"message":"Down."}}"#)).await;
    let llm = FallbackProvider::builder()
        .entry(openai(&closed_port()), Some("a"))
        .entry(openai(&format!("{}/v1", down.url())), Some("b"))
        .build()
        .unwrap();
    let err = llm.chat("Hi".into()).await.unwrap_err();
    let attempts = err.attempts();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(
        (attempts[0].model.as_str(), attempts[0].kind),
        ("a", ErrorKind::ProviderUnavailable)
    );
    assert_eq!(
        (attempts[1].model.as_str(), attempts[1].kind),
        ("b", ErrorKind::Server)
    );
    assert!(attempts[1].message.contains("Down."), "{attempts:?}");
    assert!(!attempts[1].message.contains("every entry failed"));
    let json = serde_json::to_value(attempts).unwrap();
    assert_eq!(json[0]["provider"], "openai");
    assert_eq!(json[0]["error"]["kind"], "provider_unavailable");
    // One provider's own error has none.
    let alone = openai(&closed_port()).chat("Hi".into()).await.unwrap_err();
    assert!(alone.attempts().is_empty());
}
