//! The Ollama provider over real HTTP on loopback: recorded `/api/chat` NDJSON bodies
//! (Ollama's docs and the ollama-proxy-plus shim) replayed in pieces, error statuses,
//! mid-stream errors, truncation, cancellation, and `/api/tags`.

use std::time::Duration;

use futures::StreamExt;
use theory_llm::pricing::Pricing;
use theory_llm::{
    get_llm_provider, ChatReply, ChatRequest, Chunk, ErrorKind, FinishReason, LlmStreamProvider,
    Message, OllamaProvider, Timeouts,
};

use crate::support::{all_splits, transcript, Reply, Server, Split};

fn provider(server: &Server) -> OllamaProvider {
    OllamaProvider::builder()
        .host(server.url())
        .build()
        .unwrap()
}

fn lines(body: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The reply text of an NDJSON body, computed independently of the crate.
fn expected_text(body: &[u8]) -> String {
    lines(body)
        .iter()
        .filter_map(|v| v["message"]["content"].as_str().map(str::to_owned))
        .collect()
}

/// The `done: true` line of a body.
fn done_line(body: &[u8]) -> serde_json::Value {
    lines(body)
        .into_iter()
        .find(|v| v["done"] == true)
        .expect("a done line")
}

async fn replay(body: &[u8], split: Split, request: ChatRequest) -> theory_llm::Result<ChatReply> {
    let server = Server::reply(Reply::ndjson(body.to_vec()).split(split)).await;
    provider(&server).chat(request).await
}

/// Every item of a stream: chunks until the end, errors as `Err`.
async fn items(llm: &OllamaProvider, request: ChatRequest) -> Vec<theory_llm::Result<Chunk>> {
    llm.stream_chat(request).collect().await
}

fn text_of(items: &[theory_llm::Result<Chunk>]) -> String {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok().and_then(Chunk::as_text))
        .collect()
}

/// A generate-style body (`response`) rewritten as `/api/chat` lines (`message.content`).
fn generate_to_chat(body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for mut v in lines(body) {
        if let Some(obj) = v.as_object_mut() {
            if let Some(text) = obj.remove("response") {
                obj.insert(
                    "message".into(),
                    serde_json::json!({"role": "assistant", "content": text}),
                );
            }
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

// ---- recorded replies ----

#[tokio::test]
async fn shim_transcripts_in_every_split() {
    for name in [
        "chat_stream",
        "chat_unicode",
        "chat_long_256",
        "chat_num_predict_1",
        "chat_unknown_model",
        "chat_tools",
        "chat_think",
        // Recorded from the live shim by scripts/realservers.sh: cut by num_predict.
        "../live/ollama_chat_num_predict_5",
    ] {
        let body = transcript(&format!("ollama-compat/{name}.body"));
        let want = expected_text(&body);
        let done = done_line(&body);
        assert!(!want.is_empty(), "{name}");
        for split in all_splits() {
            let reply = replay(
                &body,
                split.clone(),
                ChatRequest::new("Hello").model("smollm2"),
            )
            .await
            .unwrap_or_else(|e| panic!("{name} {split:?}: {e}"));
            assert_eq!(reply.text, want, "{name} {split:?}");
            assert_eq!(reply.finish_reason, FinishReason::Stop, "{name}");
            assert_eq!(
                reply.usage.tokens_in,
                done["prompt_eval_count"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                reply.usage.tokens_out,
                done["eval_count"].as_u64().unwrap(),
                "{name}"
            );
            assert!(!reply.usage.tokens_estimated);
            assert_eq!(reply.usage.usd_micros, 0);
            assert_eq!(reply.usage.cost_basis, Pricing::Free);
            assert_eq!(reply.model, done["model"].as_str().unwrap(), "{name}");
            let timings = reply.server_timings.expect("Ollama timings");
            let total_ns = done["total_duration"].as_u64().unwrap() as f64;
            assert_eq!(timings.total_ms, Some(total_ns / 1e6), "{name}");
            assert_eq!(timings.load_ms, Some(0.0));
        }
    }
}

#[tokio::test]
async fn chunks_arrive_as_lines_arrive_with_delays() {
    let body = transcript("ollama-compat/chat_stream.body");
    let server = Server::reply(
        Reply::ndjson(body.clone())
            .split(Split::Frames)
            .delay(Duration::from_millis(15)),
    )
    .await;
    let mut stream = provider(&server).stream_chat("Hello".into());
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        first,
        Chunk::Text("Hello".into()),
        "one chunk per line, as it arrives"
    );
    let rest: Vec<_> = stream.collect().await;
    let texts = rest
        .iter()
        .filter(|i| matches!(i, Ok(Chunk::Text(_))))
        .count();
    assert_eq!(
        texts + 1,
        lines(&body).len() - 1,
        "every content line is its own chunk"
    );
    assert!(matches!(rest.last(), Some(Ok(Chunk::Finish(_)))));

    // The first text comes long before the end, and ragged pieces with pauses between
    // them (characters split across writes) give the same reply.
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(reply.text, expected_text(&body));
    let ttft = reply.usage.ttft_ms.unwrap();
    assert!(reply.usage.latency_ms >= ttft + 100.0, "{:?}", reply.usage);
    let body = transcript("ollama-compat/chat_unicode.body");
    let server = Server::reply(
        Reply::ndjson(body.clone())
            .split(Split::Random { seed: 5, max: 9 })
            .delay(Duration::from_millis(1)),
    )
    .await;
    let reply = provider(&server).chat("Emojis".into()).await.unwrap();
    assert_eq!(reply.text, expected_text(&body));
}

#[tokio::test]
async fn ollama_docs_examples() {
    let body = transcript("ollama-docs/chat-stream.ndjson");
    let reply = replay(&body, Split::EveryByte, "Why is the sky blue?".into())
        .await
        .unwrap();
    assert_eq!(reply.text, "The");
    assert_eq!(reply.model, "llama3.2");
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (26, 282));
    let t = reply.server_timings.unwrap();
    assert_eq!(t.total_ms, Some(4883.583458));
    assert_eq!(t.load_ms, Some(1.334875));
    assert_eq!(t.prompt_eval_ms, Some(342.546));
    assert_eq!(t.eval_ms, Some(4535.599));

    // A whole tool call (Ollama's docs): the reply is the call, and it ends for tool
    // calls although Ollama says `stop` (issue 13; before, calls were ignored).
    let body = transcript("ollama-docs/chat-stream-tools.ndjson");
    for split in all_splits() {
        let reply = replay(&body, split, "Weather in Tokyo?".into())
            .await
            .unwrap();
        assert_eq!(reply.text, "");
        assert_eq!(reply.finish_reason, FinishReason::ToolCalls);
        assert_eq!(reply.tool_calls.len(), 1);
        assert_eq!(reply.tool_calls[0].name, "get_weather");
        assert_eq!(reply.tool_calls[0].arguments["city"], "Tokyo");
        assert_eq!(reply.tool_calls[0].id, "call_0");
        assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (169, 15));
    }

    // A one-line (non-streamed) reply is also a complete reply.
    let body = transcript("ollama-docs/chat-nonstream.json");
    let reply = replay(&body, Split::Whole, "Hello".into()).await.unwrap();
    assert_eq!(reply.text, "Hello! How are you today?");
    assert_eq!(reply.usage.tokens_out, 298);
}

#[tokio::test]
async fn a_done_line_ends_the_stream_without_waiting_for_the_connection_to_close() {
    let body = transcript("ollama-compat/chat_num_predict_1.body");
    let pieces = Split::Frames.pieces(&body).len();
    // Every line is sent, then the server holds the connection open.
    let server = Server::reply(
        Reply::ndjson(body.clone())
            .split(Split::Frames)
            .stall_after(pieces),
    )
    .await;
    let reply = tokio::time::timeout(Duration::from_secs(5), provider(&server).chat("Hi".into()))
        .await
        .expect("the done line ends the reply")
        .unwrap();
    assert_eq!(reply.text, "Hello");
    assert!(
        server.wait_closed(1).await,
        "the connection is released after the finish"
    );
}

// ---- errors inside the stream ----

#[tokio::test]
async fn real_ollamas_bare_error_line_after_output() {
    let body = generate_to_chat(&transcript("ollama-docs/generate-midstream-error.ndjson"));
    for split in all_splits() {
        let server = Server::reply(Reply::ndjson(body.clone()).split(split.clone())).await;
        let got = items(&provider(&server), "Hi".into()).await;
        assert_eq!(text_of(&got), " Yes.Ican", "{split:?}");
        let err = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        let msg = err.to_string();
        assert!(
            msg.contains("an error was encountered while running the model"),
            "{msg}"
        );
        assert!(msg.contains("mid-reply"), "{msg}");
        assert!(!got.iter().any(|i| matches!(i, Ok(Chunk::Finish(_)))));
    }
}

#[tokio::test]
async fn the_shims_midstream_error_line() {
    let body = transcript("ollama-compat/chat_backend_midstream_error.body");
    let want = expected_text(&body);
    assert!(want.len() > 100);
    for split in [Split::Frames, Split::Random { seed: 7, max: 200 }] {
        let server = Server::reply(Reply::ndjson(body.clone()).split(split)).await;
        let llm = provider(&server);
        let got = items(&llm, "Write a long story".into()).await;
        assert_eq!(text_of(&got), want);
        let err = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(
            err.to_string().contains("Context size has been exceeded."),
            "{err}"
        );
        let err = llm.chat("again".into()).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Server,
            "chat() fails too, never a truncated success"
        );
    }
}

#[tokio::test]
async fn the_shims_backend_error_before_any_output() {
    for (name, words) in [
        (
            "chat_backend_error_stream",
            "exceeds the available context size",
        ),
        ("chat_backend_bad_param_stream", "type must be number"),
    ] {
        let body = transcript(&format!("ollama-compat/{name}.body"));
        let err = replay(&body, Split::Frames, "hello".into())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{name}");
        assert!(err.to_string().contains(words), "{name}: {err}");
    }
}

#[tokio::test]
async fn a_body_cut_mid_stream_is_an_error_not_a_success() {
    let body = transcript("ollama-compat/chat_stream.body");
    let server = Server::reply(
        Reply::ndjson(body.clone())
            .split(Split::Frames)
            .cut_after(3),
    )
    .await;
    let llm = provider(&server);
    let got = items(&llm, "Hello".into()).await;
    let want: String = lines(&body)[..3]
        .iter()
        .map(|v| v["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text_of(&got), want);
    let err = got.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Network), "{err:?}");
    assert!(llm.chat("Hello".into()).await.is_err());

    // A body that ends cleanly but without its done line is incomplete too.
    let mut no_done: Vec<&str> = std::str::from_utf8(&body).unwrap().lines().collect();
    no_done.pop();
    let err = replay(no_done.join("\n").as_bytes(), Split::Frames, "Hello".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.to_string().contains("incomplete"), "{err}");
}

#[tokio::test]
async fn a_line_that_is_not_json_is_a_protocol_error() {
    let body =
        b"{\"message\":{\"content\":\"ok\"},\"done\":false}\n<html>Bad Gateway</html>\n".to_vec();
    let err = replay(&body, Split::Whole, "Hello".into())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("Bad Gateway"), "{err}");
}

#[tokio::test]
async fn a_line_longer_than_the_limit_is_refused() {
    let body = transcript("ollama-compat/chat_stream.body");
    // Small writes, so the partial line grows past the limit before its newline arrives.
    let server = Server::reply(Reply::ndjson(body).split(Split::Sizes(vec![16]))).await;
    let llm = OllamaProvider::builder()
        .host(server.url())
        .max_frame_bytes(64)
        .build()
        .unwrap();
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("64 bytes"), "{err}");
}

// ---- the request ----

#[tokio::test]
async fn the_request_body_has_the_conversation_and_options() {
    let body = transcript("ollama-compat/chat_num_predict_1.body");
    let server = Server::reply(Reply::ndjson(body)).await;
    let llm = OllamaProvider::builder()
        .host(server.url())
        .keep_alive("10m")
        .option("num_ctx", 2048)
        .option("seed", 1) // the request's seed wins
        .build()
        .unwrap();
    let request = ChatRequest::default()
        .model("smollm2")
        .system("Be brief.")
        .messages([
            Message::user("My name is Ada."),
            Message::assistant("Hi Ada."),
            Message::user("Say hello in five words."),
        ])
        .temperature(0.0)
        .max_tokens(1)
        .stop(["\n"])
        .seed(42);
    llm.chat(request).await.unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path, "/api/chat");
    assert!(sent[0]
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        sent[0].json(),
        serde_json::json!({
            "model": "smollm2",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "My name is Ada."},
                {"role": "assistant", "content": "Hi Ada."},
                {"role": "user", "content": "Say hello in five words."}
            ],
            "stream": true,
            "options": {"temperature": 0.0, "num_predict": 1, "stop": ["\n"], "seed": 42, "num_ctx": 2048},
            "keep_alive": "10m"
        })
    );
}

#[tokio::test]
async fn a_minimal_request_sends_only_what_is_set_and_the_default_model() {
    let body = transcript("ollama-compat/chat_num_predict_1.body");
    let server = Server::reply(Reply::ndjson(body)).await;
    provider(&server).chat("Hi".into()).await.unwrap();
    OllamaProvider::builder()
        .host(server.url())
        .default_model("smollm2")
        .keep_alive(Duration::from_secs(0))
        .build()
        .unwrap()
        .chat("Hi".into())
        .await
        .unwrap();
    let sent = server.requests();
    assert_eq!(
        sent[0].json(),
        serde_json::json!({"model": "qwen2.5:0.5b", "messages": [{"role": "user", "content": "Hi"}], "stream": true})
    );
    assert_eq!(sent[1].json()["model"], "smollm2");
    assert_eq!(sent[1].json()["keep_alive"], 0);
}

#[tokio::test]
async fn a_path_prefix_is_kept() {
    let body = transcript("ollama-compat/chat_num_predict_1.body");
    let server = Server::reply(Reply::ndjson(body)).await;
    let llm = OllamaProvider::builder()
        .host(format!("{}/ollama/", server.url()))
        .build()
        .unwrap();
    assert_eq!(llm.host(), format!("{}/ollama", server.url()));
    llm.chat("Hi".into()).await.unwrap();
    assert_eq!(server.requests()[0].path, "/ollama/api/chat");
}

#[tokio::test]
async fn streams_are_lazy_and_invalid_requests_fail_before_sending() {
    let body = transcript("ollama-compat/chat_num_predict_1.body");
    let server = Server::reply(Reply::ndjson(body)).await;
    let llm = provider(&server);
    let stream = llm.stream_chat("Hi".into());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        server.requests().is_empty(),
        "nothing is sent before the stream is polled"
    );
    drop(stream);
    let err = llm
        .chat(ChatRequest::new("Hi").temperature(9.0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(server.requests().is_empty());
}

// ---- errors before the stream ----

#[tokio::test]
async fn model_not_found_in_every_wording_says_how_to_pull_it() {
    for wording in [
        r#"{"error":"model 'llama9:7b' not found, try pulling it first"}"#,
        r#"{"error":"model \"llama9:7b\" not found, try pulling it first"}"#,
        r#"{"error":"model 'llama9:7b' not found"}"#,
    ] {
        let server = Server::reply(Reply::json(404, wording)).await;
        let err = provider(&server)
            .chat(ChatRequest::new("Hi").model("llama9:7b"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ModelNotFound, "{wording}");
        assert_eq!(
            err.to_string(),
            "Model 'llama9:7b' not found. Pull it with: ollama pull llama9:7b"
        );
        assert_eq!(err.status(), Some(404));
    }
    // A 404 that is not about a model: the host (or its path prefix) is wrong.
    let server = Server::reply(Reply::status(404, "text/plain", "404 page not found")).await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("OLLAMA_HOST"), "{err}");
}

#[tokio::test]
async fn a_daemon_that_is_not_running_is_unavailable_and_says_ollama_serve() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let llm = OllamaProvider::builder()
        .host(format!("127.0.0.1:{port}"))
        .build()
        .unwrap();
    let err = llm.chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    let msg = err.to_string();
    assert!(msg.contains("ollama serve"), "{msg}");
    assert!(msg.contains(&format!("http://127.0.0.1:{port}")), "{msg}");
    let err = llm.list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
}

#[tokio::test]
async fn statuses_map_to_kinds_keeping_ollamas_words() {
    let cases = [
        (
            400,
            r#"{"error":"invalid model name"}"#,
            ErrorKind::InvalidRequest,
            "invalid model name",
        ),
        (
            400,
            r#"{"error":"\"smollm2\" does not support thinking"}"#,
            ErrorKind::InvalidRequest,
            "does not support thinking",
        ),
        (
            401,
            r#"{"error":"unauthorized"}"#,
            ErrorKind::Auth,
            "unauthorized",
        ),
        (
            403,
            r#"{"error":"forbidden"}"#,
            ErrorKind::Auth,
            "forbidden",
        ),
        (
            500,
            r#"{"error":"llama runner process has terminated: exit status 2"}"#,
            ErrorKind::Server,
            "llama runner process has terminated",
        ),
        (
            503,
            r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#,
            ErrorKind::Server,
            "server busy",
        ),
    ];
    for (status, body, kind, words) in cases {
        let server = Server::reply(Reply::json(status, body)).await;
        let err = provider(&server).chat("Hi".into()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.status(), Some(status));
        assert!(err.to_string().contains(words), "{err}");
    }
    // The shim's answers: 400 for an unknown provider prefix, 500 text/plain for bad JSON.
    let body = transcript("ollama-compat/chat_unknown_provider.body");
    let server = Server::reply(Reply::json(400, body)).await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("Unknown provider prefix"), "{err}");
    let body = transcript("ollama-compat/chat_malformed_json.body");
    let server = Server::reply(Reply::status(500, "text/plain; charset=utf-8", body)).await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("Internal Server Error"), "{err}");
}

// ---- cancellation and time limits ----

#[tokio::test]
async fn dropping_the_stream_mid_reply_closes_the_connection() {
    let body = transcript("ollama-compat/chat_long_256.body");
    let server = Server::reply(Reply::ndjson(body).split(Split::Frames).stall_after(5)).await;
    let mut stream = provider(&server).stream_chat("Tell me a story".into());
    for _ in 0..3 {
        assert!(matches!(stream.next().await, Some(Ok(Chunk::Text(_)))));
    }
    drop(stream);
    assert!(
        server.wait_closed(1).await,
        "the server sees the client go away"
    );
}

#[tokio::test]
async fn a_stalled_reply_hits_the_idle_timeout() {
    let body = transcript("ollama-compat/chat_stream.body");
    let server = Server::reply(Reply::ndjson(body).split(Split::Frames).stall_after(2)).await;
    let llm = OllamaProvider::builder()
        .host(server.url())
        .idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let got = items(&llm, "Hi".into()).await;
    assert_eq!(text_of(&got), "Hello,");
    let err = got.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.to_string().contains("idle"), "{err}");

    // A request's own limit wins over the provider's.
    let request =
        ChatRequest::new("Hi").timeouts(Timeouts::default().idle(Duration::from_millis(100)));
    let llm = OllamaProvider::builder()
        .host(server.url())
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), llm.chat(request))
        .await
        .expect("the request's idle limit applies")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

// ---- /api/tags ----

#[tokio::test]
async fn list_models_reads_api_tags() {
    let body = transcript("ollama-compat/tags.body");
    let want: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let server = Server::reply(Reply::json(200, body)).await;
    let models = provider(&server).list_models().await.unwrap();
    let sent = server.requests();
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("GET", "/api/tags")
    );
    let want = want["models"].as_array().unwrap();
    assert_eq!(models.len(), want.len());
    for (got, want) in models.iter().zip(want) {
        assert_eq!(got.name, want["name"].as_str().unwrap());
        assert_eq!(got.digest, want["digest"].as_str().unwrap());
        assert_eq!(got.size, want["size"].as_u64().unwrap());
        assert_eq!(
            got.details.family,
            want["details"]["family"].as_str().unwrap()
        );
    }
    let last = models.last().unwrap();
    assert_eq!(last.name, "smollm2");
    assert_eq!(last.modified_at, "2025-01-01T00:00:00Z");
    assert_eq!(last.details.quantization_level, "none");

    // A real Ollama's local model.
    let body = r#"{"models":[{"name":"qwen2.5:0.5b","model":"qwen2.5:0.5b","modified_at":"2025-05-01T10:00:00.123+02:00","size":397821319,"digest":"a8b0c51577010a279d933d14c2a8ab4b268079d44c5c8830c0a93900f1827c67","details":{"parent_model":"","format":"gguf","family":"qwen2","families":["qwen2"],"parameter_size":"494.03M","quantization_level":"Q4_K_M"}}]}"#;
    let server = Server::reply(Reply::json(200, body)).await;
    let models = provider(&server).list_models().await.unwrap();
    assert_eq!(models[0].size, 397_821_319);
    assert_eq!(models[0].details.parameter_size, "494.03M");

    // Not a model list: a protocol error naming the endpoint.
    let server = Server::reply(Reply::json(200, "<html>hi</html>")).await;
    let err = provider(&server).list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("/api/tags"), "{err}");
    let server = Server::reply(Reply::json(500, r#"{"error":"boom"}"#)).await;
    let err = provider(&server).list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("boom"));
}

#[tokio::test]
async fn the_registry_builds_ollama_from_the_environment() {
    // Whatever OLLAMA_HOST is in this environment, it is a usable value or unset.
    let llm = get_llm_provider("ollama").unwrap();
    assert_eq!(llm.name(), "ollama");
    assert_eq!(llm.default_model(), "qwen2.5:0.5b");
    assert!(format!("{llm:?}").contains("OllamaProvider"));
}
