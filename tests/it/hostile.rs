//! Hostile servers and careless users (issue 11): redirects that would carry the key
//! elsewhere, absurd header values, bodies that are not streams, secrets in URLs,
//! broken HTTP framing. Each test names the defect it pins.

use std::time::{Duration, Instant};

use theory_llm::retry::RetryPolicy;
use theory_llm::{
    ChatRequest, ErrorKind, LlmStreamProvider, OllamaProvider, OpenAiProvider, Timeouts,
};

use crate::support::{closed_port, transcript, RawServer, Reply, Server};

const KEY: &str = "sk-hostile-0123456789abcdefghijklmnop";

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(40))
}

fn openai_at(base: &str) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(base)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn ollama_at(host: &str) -> OllamaProvider {
    OllamaProvider::builder()
        .host(host)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn ok_sse() -> Reply {
    Reply::sse(transcript("llama-server/stream_include_usage.body"))
}

/// Defect 1: A answers 307 to B, and B answers 307 to itself. reqwest re-adds the
/// original headers on each hop and compares only with the previous URL, so B's second
/// request carried `Authorization: Bearer <key>`. Redirects are not followed at all.
#[tokio::test]
async fn a_redirect_chain_never_carries_the_key_to_another_origin() {
    for status in [301u16, 302, 303, 307, 308] {
        for host in ["127.0.0.1", "localhost"] {
            let b = Server::start(move |_, _| {
                Reply::status(status, "text/plain", "moved")
                    .header("Location", "/v1/chat/completions?again")
            })
            .await;
            let target = format!("http://{host}:{}/v1/chat/completions", b.addr.port());
            let a = Server::reply(
                Reply::status(status, "text/plain", "moved").header("Location", &target),
            )
            .await;
            let err = openai_at(&format!("{}/v1", a.url()))
                .chat("Hello".into())
                .await
                .unwrap_err();
            assert!(
                b.requests().is_empty(),
                "{status} via {host}: the redirect was followed: {:?}",
                b.requests()
            );
            assert_eq!(a.requests().len(), 1, "a redirect is not retried");
            assert_eq!(err.status(), Some(status));
            let msg = err.to_string();
            assert!(msg.contains(&status.to_string()), "{msg}");
            assert!(msg.contains(&target), "the target is named: {msg}");
            assert!(!msg.contains(KEY), "{msg}");
        }
    }
}

/// Defect 1, for Ollama: its provider does not follow redirects either.
#[tokio::test]
async fn ollama_does_not_follow_redirects() {
    let b = Server::reply(Reply::ndjson(transcript("ollama-compat/chat_stream.body"))).await;
    let a = Server::reply(
        Reply::status(307, "text/plain", "").header("Location", &format!("{}/api/chat", b.url())),
    )
    .await;
    let err = ollama_at(&a.url()).chat("Hello".into()).await.unwrap_err();
    assert!(b.requests().is_empty());
    assert_eq!(err.status(), Some(307));
}

/// Defect 5: a `Location` carrying the key was printed in clear in the redirect
/// errors ("too many redirects", "URL scheme is not allowed").
#[tokio::test]
async fn a_redirect_target_carrying_the_key_is_redacted() {
    for location in [
        format!("http://127.0.0.1:{}/?api_key={KEY}", closed_port()),
        format!("ftp://evil.example/{KEY}"),
        format!("/v1/chat/completions?key={KEY}"),
    ] {
        let a =
            Server::reply(Reply::status(302, "text/plain", "").header("Location", &location)).await;
        let err = openai_at(&format!("{}/v1", a.url()))
            .chat("Hello".into())
            .await
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert!(shown.contains("302"), "{shown}");
    }
}

/// Defect 2: `retry-after-ms: 1e23` panicked (exit 101) in the retry-after parsing,
/// for both providers. Absurd, negative, NaN or overflowing values mean "longer than
/// we will wait": a `rate_limited` error at once, no retry, no panic.
#[tokio::test]
async fn absurd_retry_after_values_never_panic_and_are_not_waited_for() {
    for value in [
        "1e23",
        "1e300",
        "-5",
        "NaN",
        "inf",
        "-inf",
        "99999999999999999999999999",
        "18446744073709551616",
    ] {
        for header in ["retry-after-ms", "retry-after"] {
            let limited =
                || Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header(header, value);
            let server = Server::reply(limited()).await;
            let err = openai_at(&format!("{}/v1", server.url()))
                .chat("Hello".into())
                .await
                .unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::RateLimited,
                "{header}: {value}: {err}"
            );
            assert_eq!(server.requests().len(), 1, "{header}: {value}: {err}");

            let server = Server::reply(limited()).await;
            let err = ollama_at(&server.url())
                .chat("Hello".into())
                .await
                .unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::RateLimited,
                "{header}: {value}: {err}"
            );
            assert_eq!(server.requests().len(), 1, "{header}: {value}: {err}");
        }
    }
}

/// Random bytes in header values (retry-after, content type, anything) never panic.
#[tokio::test]
async fn random_bytes_as_header_values_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..40 {
        let mut value: Vec<u8> = (0..(next() % 40 + 1)).map(|_| next() as u8).collect();
        // Keep the header on one line; anything else goes.
        value.retain(|b| *b != b'\r' && *b != b'\n');
        let status = [200u16, 429, 503][round % 3];
        let mut raw = format!("HTTP/1.1 {status} X\r\n").into_bytes();
        for name in ["retry-after-ms", "retry-after", "content-type"] {
            raw.extend_from_slice(name.as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(&value);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"content-length: 2\r\nconnection: close\r\n\r\n{}");
        let server = RawServer::start(raw).await;
        let request = ChatRequest::new("Hello").max_retries(1);
        let _ = openai_at(&format!("{}/v1", server.url()))
            .chat(request.clone())
            .await;
        let _ = ollama_at(&server.url()).chat(request).await;
    }
}

/// Defect 3: a non-ASCII model name panicked the OpenAI provider before sending: the
/// dated-suffix stripping of the price lookup cut the name inside a character.
#[tokio::test]
async fn non_ascii_model_names_are_sent_not_panicked_on() {
    for model in [
        "éaaaaaaaaaa",
        "モデル🚀",
        "a-2024-01-0é",
        "🚀-2024-01-01",
        "é",
    ] {
        let server = Server::reply(ok_sse()).await;
        let reply = openai_at(&format!("{}/v1", server.url()))
            .chat(ChatRequest::new("Hello").model(model))
            .await
            .unwrap();
        assert!(!reply.text.is_empty());
        assert_eq!(server.requests()[0].json()["model"], model);
    }
}

/// Defect 4: a 200 that is not a stream (a captive portal's HTML login page, a JSON
/// body without `choices`) was reported as `network` "connection was closed early"
/// and retried 3 times. It is `protocol`, not retried, and says what came instead.
#[tokio::test]
async fn a_200_that_is_not_a_stream_is_a_protocol_error_not_retried() {
    let portal = "<html><head><title>Hotel Wi-Fi</title></head><body>Please log in</body></html>";
    let cases = [
        Reply::ok("text/html; charset=utf-8", portal),
        Reply::ok("application/json", r#"{"status":"ok","service":"proxy"}"#),
        Reply::ok("text/plain", "Service is up"),
    ];
    for reply in cases {
        let content_type = reply.headers[0].1.clone();
        let server = Server::reply(reply).await;
        let err = openai_at(&format!("{}/v1", server.url()))
            .chat("Hello".into())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{content_type}: {err}");
        assert_eq!(server.requests().len(), 1, "{content_type}: retried: {err}");
        let msg = err.to_string();
        let media_type = content_type.split(';').next().unwrap();
        assert!(msg.contains(media_type), "{msg}");
        assert!(!err.is_retryable());
    }
    // The HTML page's text is quoted.
    let server = Server::reply(Reply::ok("text/html", portal)).await;
    let err = openai_at(&format!("{}/v1", server.url()))
        .chat("Hello".into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Please log in"), "{err}");

    // Ollama: the same for a page, and for a JSON line that is not a chat reply.
    for reply in [
        Reply::ok("text/html", portal),
        Reply::ok("application/json", r#"{"status":"ok"}"#),
    ] {
        let server = Server::reply(reply).await;
        let err = ollama_at(&server.url())
            .chat("Hello".into())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
        assert_eq!(server.requests().len(), 1, "retried: {err}");
    }
}

/// Defect 6: a password in `OPENAI_BASE_URL` (`http://admin:secret@host/v1`) appeared
/// in every error message and in the provider's `Debug`.
#[tokio::test]
async fn a_password_in_the_base_url_is_never_shown() {
    const PASSWORD: &str = "hunter2-very-secret";
    let server = Server::reply(Reply::json(
        500,
        r#"{"error":{"message":"boom","type":"server_error"}}"#,
    ))
    .await;
    let base = format!("http://admin:{PASSWORD}@{}/v1", server.addr);
    let llm = OpenAiProvider::builder()
        .base_url(&base)
        .max_retries(0)
        .build()
        .unwrap();
    let err = llm.chat("Hello".into()).await.unwrap_err();
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        format!("{llm:?}"),
        llm.base_url().to_owned(),
    ] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
    assert_eq!(
        llm.base_url(),
        format!("http://admin:[REDACTED]@{}/v1", server.addr),
        "the user name may stay"
    );
    // The credentials still reach the server they belong to.
    let auth = server.requests()[0]
        .header("authorization")
        .unwrap()
        .to_owned();
    assert!(auth.starts_with("Basic "), "{auth}");

    // Nothing listening: the connection error does not show it either.
    let llm = OpenAiProvider::builder()
        .base_url(format!(
            "http://admin:{PASSWORD}@127.0.0.1:{}/v1",
            closed_port()
        ))
        .max_retries(0)
        .build()
        .unwrap();
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(PASSWORD), "{err:?}");
    assert!(err.to_string().contains("admin:[REDACTED]@"), "{err}");
}

/// Defect 7: connection refused was never retried, although the README says so. It
/// is retried with the same backoff, which rides out a local server that restarts.
#[tokio::test]
async fn connection_refused_is_retried_until_the_server_is_back() {
    let port = closed_port();
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(8)
                .backoff(Duration::from_millis(100), Duration::from_millis(100)),
        )
        .build()
        .unwrap();
    let restart = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        // Answer one request, as a freshly started server would.
        let (mut socket, _) = listener.accept().await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 65536];
        let mut seen = Vec::new();
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
            if let Some(head) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                let head_text = String::from_utf8_lossy(&seen[..head]).to_ascii_lowercase();
                let len: usize = head_text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if seen.len() >= head + 4 + len {
                    break;
                }
            }
        }
        let body = transcript("llama-server/stream_include_usage.body");
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&body).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    let reply = llm.chat("Hello".into()).await.unwrap();
    assert!(!reply.text.is_empty());
    restart.await.unwrap();

    // With nothing coming back, it still fails, after the retries, as unavailable.
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{}/v1", closed_port()))
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

/// Defect 9: Ollama reported impossible token counts as real: `eval_count` 1e30
/// became 18446744073709551615 and -5 became 0, not flagged as estimated. Out of range
/// or wrong type means "not reported": estimated and flagged, as for OpenAI.
#[tokio::test]
async fn impossible_token_counts_are_estimated_and_flagged() {
    for (prompt, eval) in [
        ("3", "1e30"),
        ("3", "-5"),
        ("3", "18446744073709551615"),
        ("3", "\"12\""),
        ("3", "1.5"),
        ("true", "4"),
    ] {
        let body = format!(
            "{{\"model\":\"m\",\"message\":{{\"role\":\"assistant\",\"content\":\"Hi there\"}},\"done\":false}}\n\
             {{\"model\":\"m\",\"message\":{{\"role\":\"assistant\",\"content\":\"\"}},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":{prompt},\"eval_count\":{eval},\"eval_duration\":1000}}\n"
        );
        let server = Server::reply(Reply::ndjson(body)).await;
        let reply = ollama_at(&server.url()).chat("Hello".into()).await.unwrap();
        assert!(
            reply.usage.tokens_estimated,
            "{prompt}/{eval}: {:?}",
            reply.usage
        );
        assert!(
            reply.usage.tokens_out < 100,
            "{prompt}/{eval}: {:?}",
            reply.usage
        );
        assert!(
            reply.usage.tokens_in < 100,
            "{prompt}/{eval}: {:?}",
            reply.usage
        );
    }
    // The same rule for OpenAI.
    for (prompt, completion) in [("3", "1e30"), ("3", "-5"), ("3", "\"12\"")] {
        let body = format!(
            "data: {{\"choices\":[{{\"delta\":{{\"content\":\"Hi there\"}},\"finish_reason\":\"stop\"}}]}}\n\n\
             data: {{\"choices\":[],\"usage\":{{\"prompt_tokens\":{prompt},\"completion_tokens\":{completion}}}}}\n\n\
             data: [DONE]\n\n"
        );
        let server = Server::reply(Reply::sse(body)).await;
        let reply = openai_at(&format!("{}/v1", server.url()))
            .chat("Hello".into())
            .await
            .unwrap();
        assert!(
            reply.usage.tokens_estimated,
            "{completion}: {:?}",
            reply.usage
        );
        assert!(
            reply.usage.tokens_out < 100,
            "{completion}: {:?}",
            reply.usage
        );
    }
}

/// A key echoed inside a successful reply field (the model name) is not passed on.
#[tokio::test]
async fn a_key_echoed_in_reply_metadata_is_redacted() {
    let body = format!(
        "data: {{\"model\":\"{KEY}\",\"choices\":[{{\"delta\":{{\"content\":\"Hi\"}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n"
    );
    let server = Server::reply(Reply::sse(body)).await;
    let reply = openai_at(&format!("{}/v1", server.url()))
        .chat("Hello".into())
        .await
        .unwrap();
    assert!(!reply.model.contains("0123456789abcdef"), "{}", reply.model);
}

/// Control characters from the server (an ANSI escape that clears the screen or sets
/// the terminal title) never reach an error message raw.
#[tokio::test]
async fn control_characters_in_server_messages_are_escaped() {
    let evil = "bad\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m request\r\nline two\ttab";
    let body = serde_json::json!({ "error": { "message": evil } }).to_string();
    let server = Server::reply(Reply::json(400, body)).await;
    let err = openai_at(&format!("{}/v1", server.url()))
        .chat("Hello".into())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        !msg.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{msg:?}"
    );
    assert!(msg.contains("bad") && msg.contains("request"), "{msg:?}");

    let line = format!("{{\"error\":\"{}\"}}\n", "boom\\u001b[31m red");
    let server = Server::reply(Reply::ndjson(line)).await;
    let err = ollama_at(&server.url())
        .chat(ChatRequest::new("Hello").max_retries(0))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains('\u{1b}'), "{err:?}");
}

/// Malformed chunked encoding, oversized or too many headers came out as `network`
/// and were retried: they are `protocol`, not retried.
#[tokio::test]
async fn broken_http_framing_is_a_protocol_error_not_retried() {
    let bad_chunk = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nzz\r\ndata: x\r\n0\r\n\r\n".to_vec();
    let mut huge_header = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-big: ".to_vec();
    huge_header.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    huge_header.extend_from_slice(b"\r\n\r\n");
    let mut many_headers = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n".to_vec();
    for i in 0..2000 {
        many_headers.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
    }
    many_headers.extend_from_slice(b"\r\n");
    for (what, raw) in [
        ("bad chunk size", bad_chunk),
        ("huge header", huge_header),
        ("many headers", many_headers),
    ] {
        let server = RawServer::start(raw).await;
        let err = openai_at(&format!("{}/v1", server.url()))
            .chat("Hello".into())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{what}: {err}");
        assert_eq!(server.connections(), 1, "{what}: retried: {err}");
    }
}

/// A 500 whose body stalls was reported as "no content within the first-chunk
/// limit": the status that was received is reported.
#[tokio::test]
async fn an_error_status_with_a_stalled_body_reports_the_status() {
    let server =
        Server::reply(Reply::json(500, r#"{"error":{"message":"never finished"}}"#).stall_after(0))
            .await;
    let request = ChatRequest::new("Hello")
        .max_retries(0)
        .timeouts(Timeouts::default().first_chunk(Duration::from_secs(2)));
    let started = Instant::now();
    let err = openai_at(&format!("{}/v1", server.url()))
        .chat(request)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500), "{err}");
    assert!(err.to_string().contains("500"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A 503 asking to wait longer than the first-chunk limit was reported as "no content
/// within the first-chunk limit" after waiting: the status is reported, at once.
#[tokio::test]
async fn a_wait_beyond_the_time_limit_reports_the_status_at_once() {
    let server = Server::reply(
        Reply::json(503, r#"{"error":{"message":"overloaded"}}"#).header("retry-after", "30"),
    )
    .await;
    let request =
        ChatRequest::new("Hello").timeouts(Timeouts::default().first_chunk(Duration::from_secs(2)));
    let started = Instant::now();
    let err = openai_at(&format!("{}/v1", server.url()))
        .chat(request)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert!(err.to_string().contains("overloaded"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 1);
}

/// No cap on a whole reply: a 300 MiB reply used 606 MB with `--json`. The collected
/// reply is capped (settable per provider and per request): over it is `protocol`.
#[tokio::test]
async fn a_reply_larger_than_the_cap_is_a_protocol_error() {
    let mut body = String::new();
    for _ in 0..200 {
        body.push_str("data: {\"choices\":[{\"delta\":{\"content\":\"0123456789\"}}]}\n\n");
    }
    body.push_str(
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    );
    let server = Server::reply(Reply::sse(body.clone())).await;
    let err = openai_at(&format!("{}/v1", server.url()))
        .chat(ChatRequest::new("Hello").max_reply_bytes(1000))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("1000"), "{err}");

    let server = Server::reply(Reply::sse(body.clone())).await;
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .max_reply_bytes(500)
        .build()
        .unwrap();
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");

    // Under the cap, the same reply is fine.
    let server = Server::reply(Reply::sse(body)).await;
    let reply = openai_at(&format!("{}/v1", server.url()))
        .chat(ChatRequest::new("Hello").max_reply_bytes(2000))
        .await
        .unwrap();
    assert_eq!(reply.text.len(), 2000);
}
