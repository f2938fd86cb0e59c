//! The `gemini` provider over real HTTP on loopback:
//! api-for-gemini's recorded replies and hand-written ones in the documented shapes,
//! in every split; the request, its path and its key header on the wire; error bodies
//! and statuses, retried or not; the hostile-server checks every provider gets.

use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;
use serde_json::{json, Value};
use theory_llm::gemini::GeminiProvider;
use theory_llm::pricing::{PriceTable, Pricing, TokenCounts};
use theory_llm::retry::RetryPolicy;
use theory_llm::stream::ThinkingBlock;
use theory_llm::{
    ChatReply, ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, Message, ResponseFormat,
    Tool, ToolCall,
};

use theory_llm_testkit::invariants::{decode, describe, fuzz_wire, wire};

use crate::support::{all_splits, closed_port, transcript, Reply, Server, Split};

const KEY: &str = "AIzaSy-test-0123456789abcdefghijklmnopq";

/// A provider for `server`, retrying with short backoffs so tests stay fast.
fn provider(server: &Server) -> impl LlmStreamProvider {
    provider_at(&server.url())
}

fn provider_at(base: &str) -> impl LlmStreamProvider {
    GeminiProvider::builder()
        .api_key(KEY)
        .base_url(base)
        .default_model("smollm2")
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(40)),
        )
        .build()
        .unwrap()
}

fn recorded(name: &str) -> Vec<u8> {
    transcript(&format!("gemini/{name}"))
}

/// The responses of a Gemini SSE body, parsed without the crate.
fn responses(body: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .collect()
}

/// The reply text of a Gemini SSE body (the text of the first candidate's non-thought
/// parts), computed without the crate.
fn expected_text(body: &[u8]) -> String {
    responses(body)
        .iter()
        .flat_map(|v| {
            v["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|p| p["thought"] != true)
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect()
}

/// The last `usageMetadata` counts of a body: (prompt, candidates).
fn last_counts(body: &[u8]) -> (u64, u64) {
    let usage = responses(body)
        .into_iter()
        .filter_map(|v| v["usageMetadata"]["promptTokenCount"].as_u64().map(|_| v))
        .next_back()
        .unwrap();
    let count = |name: &str| usage["usageMetadata"][name].as_u64().unwrap();
    (count("promptTokenCount"), count("candidatesTokenCount"))
}

async fn replay(body: &[u8], split: Split, request: ChatRequest) -> theory_llm::Result<ChatReply> {
    let server = Server::reply(Reply::sse(body.to_vec()).split(split)).await;
    provider(&server).chat(request).await
}

// ---- api-for-gemini's recorded replies ----

#[tokio::test]
async fn recorded_replies_stream_in_every_split() {
    for (name, reason) in [
        ("stream.body", FinishReason::Stop),
        ("max_tokens_1_stream.body", FinishReason::Length),
        ("unicode_stream.body", FinishReason::Length),
        ("options_stream.body", FinishReason::Length),
        ("tool_result_turn_stream.body", FinishReason::Stop),
        ("json_schema_stream.body", FinishReason::Stop),
        ("thinking_level_stream.body", FinishReason::Length),
    ] {
        let body = recorded(name);
        let want = expected_text(&body);
        assert!(!want.is_empty(), "{name}");
        let (prompt, candidates) = last_counts(&body);
        for split in all_splits() {
            let reply = replay(&body, split.clone(), "Hello".into())
                .await
                .unwrap_or_else(|e| panic!("{name} {split:?}: {e}"));
            assert_eq!(reply.text, want, "{name} {split:?}");
            assert_eq!(reply.finish_reason, reason, "{name}");
            assert_eq!(
                (reply.usage.tokens_in, reply.usage.tokens_out),
                (prompt, candidates),
                "{name}"
            );
            assert!(!reply.usage.tokens_estimated, "{name}");
            assert_eq!(reply.provider, "gemini");
        }
    }
}

#[tokio::test]
async fn the_recorded_requests_are_what_the_provider_sends() {
    let weather = Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let mut call_turn = Message::assistant("").with_tool_calls([ToolCall::new(
        "call_0",
        "get_weather",
        json!({"city": "Paris"}),
    )]);
    call_turn.reasoning.blocks = serde_json::from_value(json!([
        {"type": "thought_signature", "signature": "c2lnbmF0dXJl", "tool_call_id": "call_0"}
    ]))
    .unwrap();
    let person = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]});
    for (name, model, request) in [
        (
            "stream",
            "smollm2",
            ChatRequest::new("Say hello in five words.")
                .system("You are terse.")
                .temperature(0.0)
                .max_tokens(32),
        ),
        (
            "max_tokens_1_stream",
            "smollm2",
            ChatRequest::new("Tell me a story.").max_tokens(1),
        ),
        (
            "options_stream",
            "gemini-3.5-flash",
            ChatRequest::new("Write a sentence about the sea.")
                .temperature(0.0)
                .max_tokens(24)
                .stop(["."])
                .seed(42),
        ),
        (
            "tool_result_turn_stream",
            "smollm2",
            ChatRequest::default()
                .messages([
                    Message::user("What is the weather in Paris?"),
                    call_turn.clone(),
                    Message::tool_result("call_0", "get_weather", "18 C and sunny"),
                ])
                .tool(weather.clone())
                .temperature(0.0)
                .max_tokens(32),
        ),
        (
            "json_schema_stream",
            "smollm2",
            ChatRequest::new("Invent a person with a name and an age.")
                .temperature(0.0)
                .max_tokens(48)
                .response_format(ResponseFormat::json_schema("person", person.clone())),
        ),
        (
            "thinking_level_stream",
            "smollm2",
            ChatRequest::new("Say hi.")
                .max_tokens(8)
                .reasoning(theory_llm::Reasoning::Effort(
                    theory_llm::request::ReasoningEffort::Low,
                )),
        ),
    ] {
        let server = Server::reply(Reply::sse(recorded(&format!("{name}.body")))).await;
        provider(&server)
            .chat(request.model(model))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let sent = &server.requests()[0];
        let url = String::from_utf8(recorded(&format!("{name}.url"))).unwrap();
        assert!(
            url.trim_end().ends_with(&sent.path),
            "{name}: {} {url}",
            sent.path
        );
        let theirs: Value = serde_json::from_slice(&recorded(&format!("{name}.request"))).unwrap();
        assert_eq!(sent.json(), theirs, "{name}");
    }
}

#[tokio::test]
async fn the_recorded_refusals_are_errors_of_their_kind() {
    let status = |name: &str| -> u16 {
        let head = String::from_utf8(recorded(&format!("{name}.headers"))).unwrap();
        head.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    for (name, content_type, kind, words) in [
        (
            "tool_config_rejected",
            "application/json",
            ErrorKind::InvalidRequest,
            "Extra inputs are not permitted",
        ),
        (
            "unknown_model",
            "application/json",
            ErrorKind::ModelNotFound,
            "Model not found",
        ),
        (
            "context_exceeded",
            "text/plain; charset=utf-8",
            ErrorKind::Server,
            "Internal Server Error",
        ),
    ] {
        let code = status(name);
        let server = Server::reply(Reply::status(
            code,
            content_type,
            recorded(&format!("{name}.body")),
        ))
        .await;
        let err = provider(&server)
            .chat(ChatRequest::new("Hello").max_retries(0))
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.status()),
            (kind, Some(code)),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(words), "{name}: {err}");
    }
}

// ---- hand-written replies in the documented shapes ----

#[tokio::test]
async fn documented_replies_stream_in_every_split() {
    for (name, text, reason) in [
        (
            "text_stream.sse",
            "The sky looks blue because air molecules scatter short (blue) wavelengths of sunlight more than long ones: Rayleigh scattering.",
            FinishReason::Stop,
        ),
        (
            "thinking_stream.sse",
            "There are three r's in \u{201c}strawberry\u{201d}.",
            FinishReason::Stop,
        ),
        ("max_tokens_stream.sse", "Once upon a time", FinishReason::Length),
        ("safety_stream.sse", "Here is how", FinishReason::ContentFilter),
        ("parallel_calls_stream.sse", "", FinishReason::ToolCalls),
        (
            "call_with_id_usage_last.sse",
            "Let me check the weather.",
            FinishReason::ToolCalls,
        ),
    ] {
        let body = recorded(name);
        for split in all_splits() {
            let reply = replay(&body, split.clone(), "Q?".into())
                .await
                .unwrap_or_else(|e| panic!("{name} {split:?}: {e}"));
            assert_eq!(reply.text, text, "{name} {split:?}");
            assert_eq!(reply.finish_reason, reason, "{name} {split:?}");
        }
    }
}

#[tokio::test]
async fn thinking_and_its_signature_make_the_next_turn() {
    let reply = replay(&recorded("thinking_stream.sse"), Split::Frames, "Q?".into())
        .await
        .unwrap();
    assert!(
        reply.reasoning.starts_with("**Counting the letters**"),
        "{}",
        reply.reasoning
    );
    assert_eq!(reply.usage.reasoning_tokens_out, Some(340));
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (9, 352));
    assert_eq!(reply.model, "gemini-2.5-flash");
    let server = Server::reply(Reply::sse(recorded("text_stream.sse"))).await;
    let next = ChatRequest::new("Q?")
        .message(reply.into_message())
        .message(Message::user("And?"));
    provider(&server).chat(next).await.unwrap();
    assert_eq!(
        server.requests()[0].json()["contents"][1],
        json!({"role": "model", "parts": [{
            "text": "There are three r's in \u{201c}strawberry\u{201d}.",
            "thoughtSignature": "CiQBcsjafGSIGNtextAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        }]})
    );
}

#[tokio::test]
async fn tool_calls_go_back_with_their_ids_and_signatures() {
    let weather = Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    let ask = || ChatRequest::new("Weather in Paris, and the time?").tool(weather.clone());
    let reply = replay(
        &recorded("parallel_calls_stream.sse"),
        Split::EveryByte,
        ask(),
    )
    .await
    .unwrap();
    let rid = "Zu9dR2-CALLSstreamCCC";
    assert_eq!(
        reply.tool_calls,
        vec![
            ToolCall::new(
                format!("call_{rid}_0"),
                "get_weather",
                json!({"city": "Paris"})
            ),
            ToolCall::new(format!("call_{rid}_1"), "get_time", json!({})),
        ]
    );
    assert_eq!(reply.usage.reasoning_tokens_out, Some(104));
    let calls = reply.tool_calls.clone();
    let server = Server::reply(Reply::sse(recorded("text_stream.sse"))).await;
    let next = ask()
        .message(reply.into_message())
        .message(Message::tool_result(&calls[0].id, "get_weather", "18 C"))
        .message(Message::tool_result(
            &calls[1].id,
            "get_time",
            r#"{"time": "12:00"}"#,
        ));
    provider(&server).chat(next).await.unwrap();
    let contents = server.requests()[0].json()["contents"].clone();
    assert_eq!(
        contents[1],
        json!({"role": "model", "parts": [
            {"functionCall": {"id": calls[0].id, "name": "get_weather", "args": {"city": "Paris"}},
             "thoughtSignature": "CikBcsjafCALLsigOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO="},
            {"functionCall": {"id": calls[1].id, "name": "get_time", "args": {}}},
        ]})
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"id": calls[0].id, "name": "get_weather", "response": {"output": "18 C"}}},
            {"functionResponse": {"id": calls[1].id, "name": "get_time", "response": {"time": "12:00"}}},
        ]})
    );
}

#[tokio::test]
async fn structured_output_arrives_as_text_and_json_reads_it() {
    let body = recorded("json_schema_stream.body");
    let reply = replay(&body, Split::Frames, "Invent a person.".into())
        .await
        .unwrap();
    #[derive(serde::Deserialize)]
    struct Person {
        name: String,
        age: u32,
    }
    let person: Person = reply.json().unwrap();
    assert_eq!((person.name.as_str(), person.age), ("Alejandro", 25));
}

#[tokio::test]
async fn usage_is_priced_from_the_gemini_table_with_the_cache_apart() {
    let reply = replay(
        &recorded("call_with_id_usage_last.sse"),
        Split::Whole,
        ChatRequest::new("Weather?").model("gemini-3.5-flash"),
    )
    .await
    .unwrap();
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (120, 89));
    assert_eq!(reply.usage.cached_tokens_in, Some(64));
    let counts = TokenCounts::new(120, 89).with_cached_input(64);
    let basis = PriceTable::gemini().pricing("gemini-3.5-flash");
    let want = basis.cost(&counts);
    assert!(matches!(basis, Pricing::Metered(_)), "{basis:?}");
    assert_eq!(
        (reply.usage.usd_micros, reply.usage.cost_basis),
        (want, basis)
    );
    assert!(want > 0);
}

#[tokio::test]
async fn whole_replies_of_application_json_work() {
    for (name, text) in [
        ("nonstream.json", "Paris is the capital of France."),
        ("stream_array.json", "One, two, three."),
    ] {
        let server = Server::reply(Reply::json(200, recorded(name))).await;
        let reply = provider(&server).chat("Q?".into()).await.unwrap();
        assert_eq!(reply.text, text, "{name}");
        assert_eq!(reply.finish_reason, FinishReason::Stop, "{name}");
    }
}

// ---- the request on the wire ----

#[tokio::test]
async fn the_key_is_a_header_never_in_the_url() {
    let server = Server::reply(Reply::sse(recorded("stream.body"))).await;
    provider(&server)
        .chat(ChatRequest::new("Hi").model("models/gemini-3.5-flash"))
        .await
        .unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-3.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("authorization"), None);
    assert!(!sent.path.contains(&KEY[8..20]), "{}", sent.path);
    // A model name cannot reach another path or add a query.
    let server = Server::reply(Reply::sse(recorded("stream.body"))).await;
    provider(&server)
        .chat(ChatRequest::new("Hi").model("../../evil?key=x"))
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].path,
        "/v1beta/models/..%2F..%2Fevil%3Fkey%3Dx:streamGenerateContent?alt=sse"
    );
}

#[tokio::test]
async fn the_key_is_never_in_errors_replies_or_debug() {
    // A server that quotes the key back, in an error and in reply metadata.
    let server = Server::reply(Reply::json(
        400,
        format!(r#"{{"error":{{"code":400,"message":"API key not valid: {KEY}","status":"INVALID_ARGUMENT","details":[{{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}}]}}}}"#),
    ))
    .await;
    let llm = provider(&server);
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("API key not valid"), "{err}");
    for shown in [err.to_string(), format!("{err:?}"), format!("{llm:?}")] {
        assert!(!shown.contains(&KEY[8..20]), "key leaked: {shown}");
    }
    let echo = format!(
        "data: {}\r\n\r\n",
        json!({"candidates": [{"content": {"parts": [{"text": "hi", "thoughtSignature": KEY}]}, "finishReason": "STOP"}],
               "responseId": KEY, "modelVersion": KEY})
    );
    let server = Server::reply(Reply::sse(echo)).await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    let shown = format!("{reply:?}");
    assert!(!shown.contains(&KEY[8..20]), "key leaked: {shown}");
}

#[tokio::test]
async fn redirects_are_refused_and_never_carry_the_key() {
    let b = Server::reply(Reply::sse(recorded("stream.body"))).await;
    for status in [301u16, 302, 307, 308] {
        let a = Server::reply(Reply::status(status, "text/plain", "moved").header(
            "Location",
            &format!(
                "{}/v1beta/models/smollm2:streamGenerateContent?alt=sse",
                b.url()
            ),
        ))
        .await;
        let err = provider(&a).chat("Hello".into()).await.unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(a.requests().len(), 1, "a redirect is not retried");
        assert!(!err.to_string().contains(&KEY[8..20]), "{err}");
    }
    assert!(b.requests().is_empty(), "followed: {:?}", b.requests());
}

// ---- errors: statuses, error objects, retries ----

async fn error_for(reply: Reply) -> theory_llm::Error {
    let server = Server::reply(reply).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hello").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 1);
    err
}

#[tokio::test]
async fn error_bodies_map_to_kinds_in_the_servers_words() {
    for (name, status, kind, retryable) in [
        ("error_404_model.json", 404, ErrorKind::ModelNotFound, false),
        ("error_429_retry.json", 429, ErrorKind::RateLimited, true),
        (
            "error_400_api_key_invalid.json",
            400,
            ErrorKind::Auth,
            false,
        ),
        (
            "error_403_permission_denied.json",
            403,
            ErrorKind::Auth,
            false,
        ),
        (
            "error_400_invalid_argument.json",
            400,
            ErrorKind::InvalidRequest,
            false,
        ),
        ("error_503_unavailable.json", 503, ErrorKind::Server, true),
        ("error_500_internal.json", 500, ErrorKind::Server, true),
    ] {
        let body = recorded(name);
        let message: Value = serde_json::from_slice(&body).unwrap();
        let message = message["error"]["message"]
            .as_str()
            .unwrap()
            .trim_end_matches(['.', '\n']);
        let err = error_for(Reply::json(status, body)).await;
        assert_eq!(
            (err.kind(), err.status()),
            (kind, Some(status)),
            "{name}: {err}"
        );
        assert_eq!(err.is_retryable(), retryable, "{name}");
        assert!(err.to_string().contains(message), "{name}: {err}");
    }
    let err = error_for(Reply::json(429, recorded("error_429_retry.json"))).await;
    assert_eq!(err.retry_after(), Some(Duration::from_secs(17)));
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_the_delay_its_body_asks() {
    let body = String::from_utf8(recorded("error_429_retry.json"))
        .unwrap()
        .replace("\"17s\"", "\"0.2s\"");
    let server = Server::sequence(vec![
        Reply::json(429, body),
        Reply::sse(recorded("text_stream.sse")),
    ])
    .await;
    let started = std::time::Instant::now();
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(reply.text, expected_text(&recorded("text_stream.sse")));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_error_object_before_content_is_retried_and_after_it_is_not() {
    let server = Server::sequence(vec![
        Reply::sse(recorded("error_before_text_stream.sse")),
        Reply::sse(recorded("text_stream.sse")),
    ])
    .await;
    provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(server.requests().len(), 2);

    let server =
        Server::reply(Reply::sse(recorded("error_after_text_stream.sse")).split(Split::Frames))
            .await;
    let items: Vec<_> = provider(&server)
        .stream_chat("Hello".into())
        .collect()
        .await;
    let (last, chunks) = items.split_last().unwrap();
    let err = last.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("The model is overloaded"), "{err}");
    let text: String = chunks
        .iter()
        .filter_map(|c| c.as_ref().ok()?.as_text().map(str::to_owned))
        .collect();
    assert_eq!(text, "The first");
    assert_eq!(server.requests().len(), 1, "never retried after content");
}

#[tokio::test]
async fn a_blocked_prompt_and_a_malformed_call_are_errors_not_retried() {
    let err = error_for(Reply::sse(recorded("blocked_prompt_stream.sse"))).await;
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("PROHIBITED_CONTENT"), "{err}");
    let server = Server::reply(Reply::sse(recorded("blocked_prompt_stream.sse"))).await;
    provider(&server).chat("Hello".into()).await.unwrap_err();
    assert_eq!(
        server.requests().len(),
        1,
        "a blocked prompt is not retried"
    );
    let err = error_for(Reply::sse(recorded("malformed_function_call_stream.sse"))).await;
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(
        err.to_string().contains("print(get_weather(city=Paris))"),
        "{err}"
    );
}

#[tokio::test]
async fn a_body_without_a_finish_reason_is_truncated_and_retried_before_content() {
    let body = recorded("text_stream.sse");
    let text = String::from_utf8_lossy(&body).into_owned();
    let last = text.rfind("data: ").unwrap();
    let err = error_for(Reply::sse(body[..last].to_vec())).await;
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.to_string().contains("incomplete"), "{err}");
    // Cut before any text: retried, then a whole reply.
    let server = Server::sequence(vec![Reply::sse(""), Reply::sse(body.clone())]).await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(reply.text, expected_text(&body));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_200_that_is_not_a_gemini_reply_is_a_protocol_error_not_retried() {
    let portal = "<html><body>Please log in</body></html>";
    for reply in [
        Reply::ok("text/html", portal),
        Reply::ok("application/json", r#"{"status":"ok","service":"proxy"}"#),
        Reply::sse(transcript("llama-server/stream_include_usage.body")),
    ] {
        let server = Server::reply(reply).await;
        let err = provider(&server).chat("Hello".into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
        assert_eq!(server.requests().len(), 1, "retried: {err}");
    }
}

#[tokio::test]
async fn thought_signatures_count_toward_the_reply_cap() {
    let cap = 64 * 1024;
    let chunk = |i: usize| {
        format!(
            "data: {}\r\n\r\n",
            json!({"candidates": [{"content": {"parts": [{"text": "", "thoughtSignature": format!("{i}{}", "s".repeat(cap / 3))}]}}]})
        )
    };
    let body: String = (0..4).map(chunk).collect::<String>()
        + "data: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\r\n\r\n";
    let server = Server::reply(Reply::sse(body)).await;
    let mut stream =
        provider(&server).stream_chat(ChatRequest::new("Hi").max_reply_bytes(cap).max_retries(0));
    let mut error = None;
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            error = Some(e);
        }
    }
    let error = error.expect("the cap stops the reply");
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(error.to_string().contains(&cap.to_string()), "{error}");
}

#[tokio::test]
async fn nothing_listening_is_provider_unavailable_with_the_hint() {
    let llm = provider_at(&format!("http://127.0.0.1:{}", closed_port()));
    let err = llm
        .chat(ChatRequest::new("Hi").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
    assert!(err.to_string().contains("GEMINI_BASE_URL"), "{err}");
}

// ---- any split gives the same items ----

/// Every SSE body of the folder, recorded and written.
const ALL_BODIES: &[&str] = &[
    "stream.body",
    "max_tokens_1_stream.body",
    "unicode_stream.body",
    "options_stream.body",
    "tool_result_turn_stream.body",
    "json_schema_stream.body",
    "thinking_level_stream.body",
    "text_stream.sse",
    "thinking_stream.sse",
    "parallel_calls_stream.sse",
    "call_with_id_usage_last.sse",
    "max_tokens_stream.sse",
    "safety_stream.sse",
    "blocked_prompt_stream.sse",
    "malformed_function_call_stream.sse",
    "error_after_text_stream.sse",
    "error_before_text_stream.sse",
];

#[test]
fn every_body_passes_the_fuzz_checks_in_memory() {
    for name in ALL_BODIES {
        let body = recorded(name);
        assert!(!decode(wire("gemini"), &[&body]).is_empty(), "{name}");
        // Whole, in chosen reads, one byte at a time, with a small cap: the invariants,
        // and the same items for every split.
        fuzz_wire(
            wire("gemini"),
            &[[4, 3, 1, 9, 27].as_slice(), &body].concat(),
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_cut_of_any_body_gives_the_same_items_in_memory(
        which in 0..ALL_BODIES.len(),
        cuts in prop::collection::vec(0usize..8192, 0..24),
    ) {
        let body = recorded(ALL_BODIES[which]);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut at = 0;
        for cut in cuts {
            pieces.push(&body[at..cut]);
            at = cut;
        }
        pieces.push(&body[at..]);
        prop_assert_eq!(
            describe(&decode(wire("gemini"), &pieces)),
            describe(&decode(wire("gemini"), &[&body]))
        );
    }

    #[test]
    fn any_bytes_as_a_gemini_body_keep_the_invariants(
        data in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        fuzz_wire(wire("gemini"), &data);
    }
}

#[test]
fn recorded_signatures_serialize_as_the_crate_documents() {
    let block: ThinkingBlock = serde_json::from_value(
        json!({"type": "thought_signature", "signature": "s", "tool_call_id": "c"}),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&block).unwrap(),
        json!({"type": "thought_signature", "signature": "s", "tool_call_id": "c"})
    );
}

/// api-for-gemini rejects a top-level `toolConfig` (422, "Extra inputs are not
/// permitted" at `body.toolConfig`) and reads it from `generationConfig` instead: so a
/// request with a tool choice failed there. The provider sends it again nested, once,
/// and keeps doing so for that server.
#[tokio::test]
async fn a_server_that_takes_tool_config_in_generation_config_gets_it_there() {
    let rejected = Reply::status(
        422,
        "application/json",
        recorded("tool_config_rejected.body"),
    );
    let ok = Reply::sse(recorded("stream.body"));
    let server = Server::sequence(vec![rejected, ok.clone(), ok]).await;
    let llm = provider(&server);
    let weather = Tool::new(
        "get_weather",
        "The weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    let request = ChatRequest::new("Weather?")
        .tool(weather)
        .tool_choice(theory_llm::ToolChoice::Required);
    llm.chat(request.clone()).await.unwrap();
    llm.chat(request).await.unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    assert!(sent[0].json().get("toolConfig").is_some());
    for again in &sent[1..] {
        let body = again.json();
        assert!(body.get("toolConfig").is_none(), "{body}");
        assert_eq!(
            body["generationConfig"]["toolConfig"]["functionCallingConfig"]["mode"],
            "ANY"
        );
    }
}
