//! The Anthropic provider over real HTTP on loopback: llama.cpp's recorded `/v1/messages`
//! replies and hand-written ones for what it does not send, in every split; the request
//! and its headers on the wire; error statuses and error events, retried or not.

use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;
use serde_json::{json, Value};
use theory_llm::anthropic::AnthropicProvider;
use theory_llm::pricing::{PriceTable, Pricing, TokenCounts};
use theory_llm::retry::RetryPolicy;
use theory_llm::{
    ChatReply, ChatRequest, Chunk, ErrorKind, FinishReason, LlmStreamProvider, Message,
    ResponseFormat, Tool, ToolCall,
};

use theory_llm_testkit::invariants::{decode, describe, fuzz_wire, wire};

use crate::support::{all_splits, transcript, Reply, Server, Split};

const KEY: &str = "sk-ant-test-0123456789abcdefghijklmnopqrstuvwxyz";

/// A provider for `server`, retrying with short backoffs so tests stay fast.
fn provider(server: &Server) -> AnthropicProvider {
    AnthropicProvider::builder()
        .api_key(KEY)
        .base_url(server.url())
        .default_model("smollm2")
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(40)),
        )
        .build()
        .unwrap()
}

fn recorded(name: &str) -> Vec<u8> {
    transcript(&format!("anthropic/{name}"))
}

/// The reply text of a Messages SSE body, computed without the crate.
fn expected_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|v| v["type"] == "content_block_delta" && v["delta"]["type"] == "text_delta")
        .filter_map(|v| v["delta"]["text"].as_str().map(str::to_owned))
        .collect()
}

/// The `output_tokens` of the last `message_delta` of a body.
fn last_output_tokens(body: &[u8]) -> u64 {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|v| v["type"] == "message_delta")
        .filter_map(|v| v["usage"]["output_tokens"].as_u64())
        .next_back()
        .unwrap()
}

async fn replay(body: &[u8], split: Split, request: ChatRequest) -> theory_llm::Result<ChatReply> {
    let server = Server::reply(Reply::sse(body.to_vec()).split(split)).await;
    provider(&server).chat(request).await
}

// ---- llama.cpp's recorded replies ----

#[tokio::test]
async fn llama_cpp_streams_in_every_split() {
    for (name, reason) in [
        ("stream.body", FinishReason::Stop),
        ("tools_stream.body", FinishReason::Length),
        ("tool_result_turn_stream.body", FinishReason::Length),
        ("missing_max_tokens_stream.body", FinishReason::Stop),
        ("unicode_stream.body", FinishReason::Length),
        ("max_tokens_1_stream.body", FinishReason::Length),
    ] {
        let body = recorded(name);
        let want = expected_text(&body);
        assert!(!want.is_empty(), "{name}");
        for split in all_splits() {
            let reply = replay(&body, split.clone(), "Hello".into())
                .await
                .unwrap_or_else(|e| panic!("{name} {split:?}: {e}"));
            assert_eq!(reply.text, want, "{name} {split:?}");
            assert_eq!(reply.finish_reason, reason, "{name}");
            assert_eq!(reply.usage.tokens_out, last_output_tokens(&body), "{name}");
            assert_eq!(reply.provider, "anthropic");
            assert_eq!(reply.model, "smollm2");
        }
    }
}

#[tokio::test]
async fn usage_and_ids_come_from_the_stream() {
    let reply = replay(&recorded("stream.body"), Split::Frames, "Hello".into())
        .await
        .unwrap();
    assert!(!reply.usage.tokens_estimated);
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (25, 8));
    assert_eq!(reply.usage.cached_tokens_in, Some(0));
    assert_eq!(reply.usage.cache_write_tokens_in, None);
    assert_eq!(
        reply.response_id.as_deref(),
        Some("chatcmpl-zY7xGXywF3mEy5AptDcuK1f0hpAHj6n2")
    );
    assert_eq!(reply.usage.cost_basis, Pricing::Unknown);
    // max_tokens 1: input 10 + cache reads 24.
    let reply = replay(
        &recorded("max_tokens_1_stream.body"),
        Split::EveryByte,
        ChatRequest::new("Count to ten.").max_tokens(1),
    )
    .await
    .unwrap();
    assert_eq!(reply.finish_reason, FinishReason::Length);
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (34, 1));
    assert_eq!(reply.usage.cached_tokens_in, Some(24));
}

#[tokio::test]
async fn a_stream_without_message_start_works_and_estimates_the_prompt() {
    let body = recorded("unicode_stream.body");
    assert!(!String::from_utf8_lossy(&body).contains("message_start"));
    let reply = replay(&body, Split::EveryByte, "Hello".into())
        .await
        .unwrap();
    assert_eq!(reply.text, "🌍🌐🌐🌐🌐🌐🌐🌐");
    assert_eq!(reply.usage.tokens_out, 24);
    assert!(reply.usage.tokens_estimated, "no input count was reported");
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_still_works() {
    let server = Server::reply(Reply::json(200, recorded("nonstream.body"))).await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(
        reply.text,
        "Hello, welcome to my little corner of the world."
    );
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (36, 12));
    let server = Server::reply(Reply::json(200, recorded("nonstream_tool_use.body"))).await;
    let reply = provider(&server).chat("Weather?".into()).await.unwrap();
    assert_eq!(reply.finish_reason, FinishReason::ToolCalls);
    assert_eq!(reply.tool_calls[0].arguments, json!({"city": "Rome"}));
    assert_eq!(reply.reasoning_blocks.len(), 1);
}

#[tokio::test]
async fn context_exceeded_is_an_invalid_request_in_the_servers_words() {
    let server = Server::reply(Reply::status(
        400,
        "application/json; charset=utf-8",
        recorded("context_exceeded_stream.body"),
    ))
    .await;
    let err = provider(&server).chat("hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(err.status(), Some(400));
    assert!(
        err.to_string()
            .contains("request (2531 tokens) exceeds the available context size (1024 tokens)"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1, "not retried");
}

// ---- the request on the wire ----

#[tokio::test]
async fn the_request_and_its_headers_on_the_wire() {
    let server = Server::reply(Reply::sse(recorded("stream.body"))).await;
    let request = ChatRequest::new("Say hello in five words.")
        .system("You are terse.")
        .max_tokens(32)
        .temperature(0.0);
    provider(&server).chat(request).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("authorization"), None);
    // What llama.cpp was sent when stream.body was recorded (0 vs 0.0 compared apart).
    let mut ours = sent.json();
    let mut theirs: Value = serde_json::from_slice(&recorded("stream.request")).unwrap();
    assert_eq!(
        ours.as_object_mut()
            .unwrap()
            .remove("temperature")
            .unwrap()
            .as_f64(),
        theirs
            .as_object_mut()
            .unwrap()
            .remove("temperature")
            .unwrap()
            .as_f64()
    );
    assert_eq!(ours, theirs);
}

#[tokio::test]
async fn max_tokens_is_always_sent() {
    // llama.cpp accepts a request without it (missing_max_tokens_stream); the API does not.
    let server = Server::reply(Reply::sse(recorded("missing_max_tokens_stream.body"))).await;
    provider(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(server.requests()[0].json()["max_tokens"], json!(4096));
}

#[tokio::test]
async fn a_base_url_with_v1_is_not_doubled_and_a_local_server_needs_no_key() {
    let server = Server::reply(Reply::sse(recorded("stream.body"))).await;
    let llm = AnthropicProvider::builder()
        .base_url(format!("{}/v1/", server.url()))
        .build()
        .unwrap();
    llm.chat("Hello".into()).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), None);
    assert_eq!(sent.json()["model"], json!("claude-haiku-5-5"));
}

#[tokio::test]
async fn the_key_is_never_in_errors_or_debug() {
    // A server that quotes the key back.
    let server = Server::reply(Reply::json(
        401,
        format!(r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}}}}"#),
    ))
    .await;
    let llm = provider(&server);
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("invalid x-api-key"), "{err}");
    assert!(!err.to_string().contains(&KEY[8..20]), "key leaked: {err}");
    assert!(!format!("{err:?}").contains(&KEY[8..20]));
    assert!(!format!("{llm:?}").contains(&KEY[8..20]));
}

// ---- tools, thinking, structured output ----

#[tokio::test]
async fn tool_calls_and_thinking_make_the_next_turn() {
    let weather = Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    for split in all_splits() {
        let reply = replay(
            &recorded("tool_use_stream.body"),
            split.clone(),
            ChatRequest::new("Weather in Paris?").tool(weather.clone()),
        )
        .await
        .unwrap();
        assert_eq!(reply.finish_reason, FinishReason::ToolCalls, "{split:?}");
        assert_eq!(
            reply.tool_calls,
            vec![ToolCall::new(
                "toolu_01KF",
                "get_weather",
                json!({"city": "Paris"})
            )]
        );
        assert_eq!(reply.text, "Let me check the weather.");
    }
    // Thinking with its signature goes back with the turn, first, unmodified.
    let reply = replay(
        &recorded("thinking_stream.body"),
        Split::Frames,
        "Q?".into(),
    )
    .await
    .unwrap();
    assert_eq!(reply.reasoning, "The user wants a short answer.");
    assert_eq!(reply.usage.reasoning_tokens_out, Some(50));
    let server = Server::reply(Reply::sse(recorded("stream.body"))).await;
    let next = ChatRequest::new("Q?")
        .message(reply.into_message())
        .message(Message::user("And?"));
    provider(&server).chat(next).await.unwrap();
    let sent = server.requests()[0].json();
    assert_eq!(
        sent["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": "The user wants a short answer.", "signature": "ErUBCkYIBRgCIkB0c2lnbmF0dXJl"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"},
            {"type": "text", "text": "Forty-two."},
        ]})
    );
    assert_eq!(sent["messages"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn structured_output_arrives_as_text_and_json_reads_it() {
    let events = [
        json!({"type":"message_start","message":{"id":"msg_j","model":"claude-haiku-5-5","usage":{"input_tokens":30,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{\"name\": \"Ada\", "}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\"age\": 36}"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}),
        json!({"type":"message_stop"}),
    ];
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    let server = Server::reply(Reply::sse(body)).await;
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]});
    let request = ChatRequest::new("Invent a person.")
        .model("claude-haiku-5-5")
        .response_format(ResponseFormat::json_schema("person", schema));
    let reply = provider(&server).chat(request).await.unwrap();
    #[derive(serde::Deserialize)]
    struct Person {
        name: String,
        age: u32,
    }
    let person: Person = reply.json().unwrap();
    assert_eq!((person.name.as_str(), person.age), ("Ada", 36));
    let sent = server.requests()[0].json();
    assert_eq!(
        sent["output_config"]["format"]["type"],
        json!("json_schema")
    );
    assert_eq!(
        sent["output_config"]["format"]["schema"]["additionalProperties"],
        json!(false)
    );
    // Priced from Anthropic's table, each kind of token at its rate.
    assert!(
        matches!(reply.usage.cost_basis, Pricing::Metered(_)),
        "{:?}",
        reply.usage.cost_basis
    );
    let want = PriceTable::anthropic()
        .pricing("claude-haiku-5-5")
        .cost(&TokenCounts::new(30, 12));
    assert_eq!(reply.usage.usd_micros, want);
}

#[tokio::test]
async fn cache_reads_and_writes_are_priced_apart() {
    let reply = replay(
        &recorded("tool_use_stream.body"),
        Split::Frames,
        ChatRequest::new("Weather?").model("claude-haiku-5-5"),
    )
    .await
    .unwrap();
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (3017, 47));
    assert_eq!(reply.usage.cached_tokens_in, Some(2048));
    assert_eq!(reply.usage.cache_write_tokens_in, Some(120));
    let counts = TokenCounts::new(3017, 47)
        .with_cached_input(2048)
        .with_cache_write(120);
    let basis = PriceTable::anthropic().pricing("claude-haiku-5-5");
    let want = basis.cost(&counts);
    assert_eq!(
        (reply.usage.usd_micros, reply.usage.cost_basis),
        (want, basis)
    );
    assert!(want > 0);
}

// ---- errors: statuses, error events, retries ----

async fn error_for(reply: Reply) -> theory_llm::Error {
    let server = Server::reply(reply).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hello").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 1);
    err
}

fn anthropic_error(kind: &str, message: &str) -> String {
    format!(
        r#"{{"type":"error","error":{{"type":"{kind}","message":"{message}"}},"request_id":"req_011"}}"#
    )
}

#[tokio::test]
async fn http_errors_map_to_kinds() {
    let err = error_for(Reply::json(
        401,
        anthropic_error("authentication_error", "invalid x-api-key"),
    ))
    .await;
    assert_eq!((err.kind(), err.status()), (ErrorKind::Auth, Some(401)));
    let err = error_for(Reply::json(
        403,
        anthropic_error(
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(
        err.to_string().contains("does not have permission"),
        "{err}"
    );
    let err = error_for(Reply::json(
        404,
        anthropic_error("not_found_error", "model: claude-9"),
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
    assert!(err.to_string().contains("model: claude-9"), "{err}");
    let err = error_for(Reply::json(
        404,
        r#"{"error":{"message":"File Not Found","type":"not_found_error","code":404}}"#,
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().contains("/v1/messages does not exist"),
        "{err}"
    );
    let err = error_for(
        Reply::json(
            429,
            anthropic_error(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
        )
        .header("retry-after", "7"),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());
    let err = error_for(Reply::json(
        529,
        anthropic_error("overloaded_error", "Overloaded"),
    ))
    .await;
    assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(529)));
    assert!(err.is_retryable());
    let err = error_for(Reply::json(
        400,
        anthropic_error(
            "invalid_request_error",
            "messages: roles must alternate between \"user\" and \"assistant\"",
        ),
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("roles must alternate"), "{err}");
    assert!(!err.is_retryable());
    let err = error_for(Reply::status(
        413,
        "text/html",
        "<html><h1>413 Request Entity Too Large</h1></html>",
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = error_for(Reply::status(
        400,
        "application/json; charset=utf-8",
        recorded("malformed_json.body"),
    ))
    .await;
    assert!(err.to_string().contains("parse error"), "{err}");
}

#[tokio::test]
async fn overloaded_529_is_retried_then_succeeds() {
    let server = Server::sequence(vec![
        Reply::json(529, anthropic_error("overloaded_error", "Overloaded")),
        Reply::sse(recorded("stream.body")),
    ])
    .await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(reply.text, expected_text(&recorded("stream.body")));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_the_time_asked() {
    let server = Server::sequence(vec![
        Reply::json(429, anthropic_error("rate_limit_error", "slow down"))
            .header("retry-after", "0"),
        Reply::sse(recorded("stream.body")),
    ])
    .await;
    provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn an_overloaded_event_before_content_is_retried() {
    let server = Server::sequence(vec![
        Reply::sse(recorded("overloaded_before_content.body")),
        Reply::sse(recorded("stream.body")),
    ])
    .await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(reply.text, expected_text(&recorded("stream.body")));
    assert_eq!(server.requests().len(), 2);
    // Without retries, the error in the server's words.
    let server = Server::reply(Reply::sse(recorded("overloaded_before_content.body"))).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hello").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("Overloaded"), "{err}");
}

#[tokio::test]
async fn an_error_after_text_is_not_retried_and_the_text_is_kept() {
    let body = recorded("error_after_text.body");
    let server = Server::reply(Reply::sse(body.clone()).split(Split::Frames)).await;
    let items: Vec<_> = provider(&server)
        .stream_chat("Hello".into())
        .collect()
        .await;
    let (last, chunks) = items.split_last().unwrap();
    let err = last.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("Overloaded"), "{err}");
    let text: String = chunks
        .iter()
        .filter_map(|c| c.as_ref().ok()?.as_text().map(str::to_owned))
        .collect();
    assert_eq!(text, "Once upon a time");
    assert_eq!(server.requests().len(), 1, "never retried after content");
}

#[tokio::test]
async fn a_body_cut_before_message_stop_is_an_error_not_a_short_reply() {
    let body = recorded("stream.body");
    let text = String::from_utf8_lossy(&body);
    let cut = text.find("event: message_stop").unwrap();
    let server = Server::reply(Reply::sse(body[..cut].to_vec())).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hello").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.to_string().contains("incomplete"), "{err}");
    // Retried while nothing was delivered: a cut before any text, then a whole reply.
    let before_text = text.find("event: content_block_delta").unwrap();
    let server = Server::sequence(vec![
        Reply::sse(body[..before_text].to_vec()),
        Reply::sse(body.clone()),
    ])
    .await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(reply.text, expected_text(&body));
    assert_eq!(server.requests().len(), 2);
    // The connection dropped mid-body.
    let server = Server::reply(Reply::sse(body).split(Split::Frames).cut_after(4)).await;
    let err = provider(&server).chat("Hello".into()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Network | ErrorKind::Protocol),
        "{err:?}"
    );
}

// ---- any split gives the same chunks ----

/// Every item of `body` served in `split`, as text, for comparison.
fn items_of(body: &[u8], split: Split) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = Server::reply(Reply::sse(body.to_vec()).split(split)).await;
        provider(&server)
            .stream_chat(ChatRequest::new("Hello").max_retries(0))
            .map(|item| match item {
                Ok(Chunk::Finish(f)) => {
                    format!("finish {:?} {:?} {:?}", f.reason, f.tokens_in, f.tokens_out)
                }
                Ok(chunk) => format!("{chunk:?}"),
                Err(e) => format!("error {:?}", e.kind()),
            })
            .collect()
            .await
    })
}

const BODIES: &[&str] = &[
    "stream.body",
    "unicode_stream.body",
    "tool_use_stream.body",
    "thinking_stream.body",
    "error_after_text.body",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_split_of_a_recorded_body_gives_the_same_chunks(
        which in 0..BODIES.len(),
        sizes in prop::collection::vec(1usize..40, 1..12),
    ) {
        let body = recorded(BODIES[which]);
        let want = items_of(&body, Split::Whole);
        prop_assert!(want.len() >= 2);
        prop_assert_eq!(items_of(&body, Split::Sizes(sizes)), want);
    }
}

/// Every SSE body of the folder, recorded and written.
const ALL_BODIES: &[&str] = &[
    "stream.body",
    "unicode_stream.body",
    "max_tokens_1_stream.body",
    "missing_max_tokens_stream.body",
    "tools_stream.body",
    "tool_result_turn_stream.body",
    "tool_use_stream.body",
    "parallel_tool_use_stream.body",
    "thinking_stream.body",
    "refusal_stream.body",
    "newer_events_stream.body",
    "overloaded_before_content.body",
    "error_after_text.body",
];

#[test]
fn every_body_passes_the_fuzz_checks_in_memory() {
    for name in ALL_BODIES {
        let body = recorded(name);
        assert!(!decode(wire("anthropic"), &[&body]).is_empty(), "{name}");
        // Whole, in chosen reads, one byte at a time, with a small cap: the invariants,
        // and the same items for every split.
        fuzz_wire(
            wire("anthropic"),
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
            describe(&decode(wire("anthropic"), &pieces)),
            describe(&decode(wire("anthropic"), &[&body]))
        );
    }

    #[test]
    fn any_bytes_as_an_anthropic_body_keep_the_invariants(
        data in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        fuzz_wire(wire("anthropic"), &data);
    }
}
