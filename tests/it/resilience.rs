//! Failure paths shared by the HTTP providers: retries that never duplicate output,
//! cancellation at every stage, timeouts, many concurrent streams.

use std::time::{Duration, Instant};

use futures::StreamExt;
use theory_llm::{ChatRequest, Chunk, ErrorKind, LlmStreamProvider, Timeouts};

use crate::openai::provider;
use crate::support::{transcript, Reply, Server, Split};

fn ok_body() -> Vec<u8> {
    transcript("llama-server/stream_include_usage.body")
}

fn busy() -> Reply {
    Reply::json(
        503,
        r#"{"error":{"message":"Loading model","type":"unavailable_error","code":503}}"#,
    )
}

#[tokio::test]
async fn a_503_twice_then_success_is_retried() {
    let server = Server::sequence(vec![busy(), busy(), Reply::sse(ok_body())]).await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert!(!reply.text.is_empty());
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retries_run_out_with_the_last_error_and_the_count() {
    let server = Server::reply(busy()).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hello").max_retries(3))
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 4);
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("Loading model"), "{err}");
    assert!(err.to_string().contains("after 4 attempts"), "{err}");
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured() {
    let limited = Reply::json(
        429,
        r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#,
    )
    .header("retry-after-ms", "300");
    let server = Server::sequence(vec![limited, Reply::sse(ok_body())]).await;
    let start = Instant::now();
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert!(!reply.text.is_empty());
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_bound_fails_and_says_when() {
    let limited = Reply::json(
        429,
        r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#,
    )
    .header("Retry-After", "3600");
    let server = Server::reply(limited).await;
    let err = provider(&server).chat("Hello".into()).await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert!(err.to_string().contains("retry after 3600 s"), "{err}");
}

#[tokio::test]
async fn an_error_event_before_any_text_is_retried() {
    let early_error = Reply::sse(
        "data: {\"error\":{\"code\":500,\"message\":\"Context size has been exceeded.\",\"type\":\"server_error\"}}\n\n",
    );
    let server = Server::sequence(vec![early_error, Reply::sse(ok_body())]).await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert!(!reply.text.is_empty());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_cut_after_text_is_an_error_and_never_retried() {
    let server = Server::reply(Reply::sse(ok_body()).split(Split::Frames).cut_after(4)).await;
    let items: Vec<_> = provider(&server)
        .stream_chat("Hello".into())
        .collect()
        .await;
    let (last, chunks) = items.split_last().unwrap();
    assert!(chunks.iter().any(|c| matches!(c, Ok(Chunk::Text(_)))));
    let err = last.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(server.requests().len(), 1, "output is never duplicated");
}

#[tokio::test]
async fn a_mid_stream_error_after_text_is_never_retried() {
    let body = transcript("llama-server/midstream_error_kv_pool_exhausted.body");
    let server = Server::reply(Reply::sse(body)).await;
    let err = provider(&server).chat("Hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn dropping_before_the_response_closes_the_connection() {
    let server = Server::reply(Reply::sse(ok_body()).head_delay(Duration::from_secs(30))).await;
    let mut stream = provider(&server).stream_chat("Hello".into());
    let waited = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
    assert!(waited.is_err(), "no response yet");
    assert_eq!(server.requests().len(), 1);
    drop(stream);
    assert!(
        server.wait_aborted(1).await,
        "the server saw the client leave"
    );
}

#[tokio::test]
async fn dropping_during_a_backoff_sleep_stops_the_retries() {
    let server = Server::sequence(vec![busy(), Reply::sse(ok_body())]).await;
    let llm = theory_llm::OpenAiProvider::builder()
        .api_key("k")
        .base_url(format!("{}/v1", server.url()))
        .retry_policy(
            theory_llm::retry::RetryPolicy::default()
                .backoff(Duration::from_secs(10), Duration::from_secs(10)),
        )
        .build()
        .unwrap();
    let mut stream = llm.stream_chat("Hello".into());
    let waited = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(waited.is_err(), "backing off");
    assert!(
        server.wait_closed(1).await,
        "the failed attempt's connection is already released"
    );
    drop(stream);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.requests().len(),
        1,
        "no retry after the stream was dropped"
    );
}

#[tokio::test]
async fn keepalives_forever_still_hit_the_idle_timeout() {
    let mut body = String::from_utf8(ok_body()).unwrap();
    // The role chunk and the first text, then only keep-alives.
    let first = body.find("\n\n").unwrap() + 2;
    let cut = first + body[first..].find("\n\n").unwrap() + 2;
    body.truncate(cut);
    body.push_str(&": keep-alive\n\n".repeat(200));
    let server = Server::reply(
        Reply::sse(body)
            .split(Split::Frames)
            .delay(Duration::from_millis(20)),
    )
    .await;
    let request =
        ChatRequest::new("Hello").timeouts(Timeouts::default().idle(Duration::from_millis(250)));
    let start = Instant::now();
    let err = provider(&server).chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("idle"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_total_deadline_ends_a_slow_reply() {
    let server = Server::reply(
        Reply::sse(ok_body())
            .split(Split::Frames)
            .delay(Duration::from_millis(50)),
    )
    .await;
    let request = ChatRequest::new("Hello")
        .timeouts(Timeouts::default().deadline(Duration::from_millis(300)));
    let err = provider(&server).chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        err.to_string().contains("deadline") && err.to_string().contains("300 ms"),
        "{err}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_thousand_concurrent_streams_on_one_runtime() {
    let body = ok_body();
    let server = Server::start(move |n, _| {
        // Each stream gets its own text, so a mix-up would show.
        let text = String::from_utf8(body.clone())
            .unwrap()
            .replace("Hello", &format!("Hello{n}"));
        Reply::sse(text).split(Split::Frames)
    })
    .await;
    let llm = provider(&server);
    let replies = futures::future::join_all((0..1000).map(|_| llm.chat("Hello".into()))).await;
    let mut seen = std::collections::HashSet::new();
    for reply in replies {
        let reply = reply.unwrap();
        let n: usize = reply
            .text
            .trim_start_matches("Hello")
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(seen.insert(n));
        assert!(reply.text.ends_with(
            &crate::support::sse_text(&transcript("llama-server/stream_include_usage.body"))[5..]
        ));
    }
    assert_eq!(seen.len(), 1000);
}

#[tokio::test]
async fn a_slow_consumer_makes_the_server_wait_instead_of_memory_grow() {
    // 40 MB of events, written as fast as the socket takes them.
    let event = "data: {\"choices\":[{\"delta\":{\"content\":\"0123456789012345678901234567890123456789\"}}]}\n\n";
    let count = 40_000_000 / event.len();
    let mut body = event.repeat(count);
    body.push_str(
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    );
    let server = Server::reply(Reply::sse(body).split(Split::Sizes(vec![16 * 1024]))).await;
    let mut stream = provider(&server).stream_chat("Hello".into());
    // Take one chunk, then stop reading for a while.
    assert!(stream.next().await.unwrap().is_ok());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let written = server.written();
    // Only socket buffers and the client's small read buffer hold unread data: the
    // stream is pulled, so nothing reads ahead into memory.
    assert!(
        written < 8_000_000,
        "the server wrote {written} bytes to a client that stopped reading"
    );
    // Reading on drains everything, in order.
    let mut texts = 1usize;
    while let Some(item) = stream.next().await {
        if let Chunk::Text(_) = item.unwrap() {
            texts += 1;
        }
    }
    assert_eq!(texts, count);
}
