//! The `openai-responses` provider over real HTTP on loopback: recorded llama.cpp
//! streams and written streams of the real API, replayed in every split; the request
//! on the wire; errors before and during the stream; retries; and the property that any
//! split of any of these bodies gives the same items.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::json;
use theory_llm::pricing::Pricing;
use theory_llm::retry::RetryPolicy;
use theory_llm::{
    ChatRequest, Chunk, ErrorKind, FinishReason, LlmStreamProvider, OpenAiResponsesProvider,
    ResponseFormat,
};
use theory_llm_testkit::invariants::{decode, describe, fuzz_wire, wire};

use crate::support::{all_splits, transcript, Reply, Server, Split};

const KEY: &str = "sk-test-Zq81xT0pLm3vRb7YcW2nKd5";

fn provider(server: &Server) -> OpenAiResponsesProvider {
    OpenAiResponsesProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1/", server.url()))
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(40)),
        )
        .build()
        .unwrap()
}

/// Every SSE body of the folder.
const BODIES: &[&str] = &[
    "responses/stream.body",
    "responses/json_schema_stream.body",
    "responses/function_calls_reasoning.sse",
    "responses/incomplete_max_output_tokens.sse",
    "responses/failed_server_error.sse",
    "responses/error_event_nested.sse",
    "responses/refusal.sse",
];

#[tokio::test]
async fn llama_cpp_stream_in_every_split() {
    let body = transcript("responses/stream.body");
    for split in all_splits() {
        let server = Server::reply(Reply::sse(body.clone()).split(split.clone())).await;
        let reply = provider(&server)
            .chat(ChatRequest::new("Say hello in five words.").model("smollm2"))
            .await
            .unwrap();
        assert_eq!(reply.text, "I'm sorry for any confusion.", "{split:?}");
        assert_eq!(reply.finish_reason, FinishReason::Stop);
        assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (25, 8));
        assert_eq!(reply.usage.cached_tokens_in, Some(24));
        assert!(!reply.usage.tokens_estimated);
        assert_eq!(reply.usage.cost_basis, Pricing::Unknown);
        assert_eq!(reply.model, "smollm2");
        assert_eq!(
            reply.response_id.as_deref(),
            Some("resp_8hGBB3USL9XS9HM6UZ24bDPNvdhyf0VR")
        );
    }
}

#[tokio::test]
async fn the_request_on_the_wire() {
    let server = Server::reply(Reply::sse(transcript("responses/stream.body"))).await;
    let llm = OpenAiResponsesProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .header("OpenAI-Organization", "org-1")
        .build()
        .unwrap();
    let request = ChatRequest::new("Hi")
        .system("Be brief")
        .temperature(0.0)
        .max_tokens(5);
    llm.chat(request).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
    assert_eq!(sent.header("openai-organization"), Some("org-1"));
    assert_eq!(
        sent.json(),
        json!({
            "model": "gpt-4o-mini",
            "instructions": "Be brief",
            "input": [{"role": "user", "content": "Hi"}],
            "stream": true,
            "store": false,
            "temperature": 0.0,
            "max_output_tokens": 5
        })
    );
}

#[tokio::test]
async fn function_calls_reasoning_and_usage_of_the_real_api() {
    let body = transcript("responses/function_calls_reasoning.sse");
    for split in [
        Split::Frames,
        Split::EveryByte,
        Split::Random { seed: 9, max: 40 },
    ] {
        let server = Server::reply(Reply::sse(body.clone()).split(split)).await;
        let reply = provider(&server)
            .chat(ChatRequest::new("Weather in Paris and Rome?").model("gpt-4.1"))
            .await
            .unwrap();
        assert_eq!(reply.finish_reason, FinishReason::ToolCalls);
        assert_eq!(
            reply.reasoning,
            "The user wants weather; call the tool twice."
        );
        let calls: Vec<_> = reply
            .tool_calls
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.clone()))
            .collect();
        assert_eq!(
            calls,
            [
                ("call_paris", "get_weather", json!({"city": "Paris"})),
                ("call_rome", "get_weather", json!({"city": "Rome ☀"})),
            ]
        );
        let usage = reply.usage;
        assert_eq!((usage.tokens_in, usage.tokens_out), (120, 58));
        assert_eq!(usage.cached_tokens_in, Some(64));
        assert_eq!(usage.reasoning_tokens_out, Some(30));
        // gpt-4.1: 56 × $2 + 64 × $0.50 + 58 × $8 per 1M = 608 micro-USD.
        assert!(
            matches!(usage.cost_basis, Pricing::Metered(_)),
            "{:?}",
            usage.cost_basis
        );
        assert_eq!(usage.usd_micros, 608);
        assert_eq!(reply.model, "gpt-4.1-2025-04-14");
    }
}

#[tokio::test]
async fn incomplete_refusal_failed_and_error_events() {
    let chat = |name: &'static str| async move {
        let server = Server::reply(Reply::sse(transcript(name)).split(Split::Frames)).await;
        let reply = provider(&server)
            .chat(ChatRequest::new("Hi").max_retries(0))
            .await;
        (reply, server.requests().len())
    };
    let (reply, _) = chat("responses/incomplete_max_output_tokens.sse").await;
    let reply = reply.unwrap();
    assert_eq!(reply.text, "Once upon a time");
    assert_eq!(reply.finish_reason, FinishReason::Length);
    // Structured output cut by the limit says so, not "unexpected end of input".
    let err = reply.json::<serde_json::Value>().unwrap_err();
    assert!(
        err.to_string().contains("token limit") || err.to_string().contains("max"),
        "{err}"
    );

    let (reply, _) = chat("responses/refusal.sse").await;
    let reply = reply.unwrap();
    assert_eq!(reply.refusal, "I can't help with that.");
    assert!(reply.text.is_empty());

    let (err, _) = chat("responses/failed_server_error.sse").await;
    let err = err.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("The server had an error"), "{err}");

    let (err, _) = chat("responses/error_event_nested.sse").await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::RateLimited);
}

#[tokio::test]
async fn a_failure_before_content_is_retried_and_one_after_is_not() {
    let failed = Reply::sse(transcript("responses/failed_server_error.sse"));
    let ok = Reply::sse(transcript("responses/stream.body"));
    let server = Server::sequence(vec![failed, ok]).await;
    let reply = provider(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(reply.text, "I'm sorry for any confusion.");
    assert_eq!(server.requests().len(), 2);

    // Text, then the failure: the text was delivered, so no retry.
    let body = String::from_utf8(transcript("responses/incomplete_max_output_tokens.sse")).unwrap();
    let cut = body.find("event: response.incomplete").unwrap();
    let failing = format!(
        "{}event: response.failed\ndata: {{\"type\":\"response.failed\",\"response\":{{\"status\":\"failed\",\"error\":{{\"code\":\"server_error\",\"message\":\"Boom.\"}}}}}}\n\n",
        &body[..cut]
    );
    let server = Server::sequence(vec![
        Reply::sse(failing).split(Split::Frames),
        Reply::sse(transcript("responses/stream.body")),
    ])
    .await;
    let mut stream = provider(&server).stream_chat("Hi".into());
    let mut text = String::new();
    let mut error = None;
    while let Some(item) = futures::StreamExt::next(&mut stream).await {
        match item {
            Ok(Chunk::Text(t)) => text.push_str(&t),
            Ok(_) => {}
            Err(e) => error = Some(e),
        }
    }
    assert_eq!(text, "Once upon a time");
    assert!(error.unwrap().to_string().contains("Boom"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_body_cut_before_its_terminal_event_is_an_error() {
    // A body that ends cleanly, but before `response.completed`.
    let body = String::from_utf8(transcript("responses/stream.body")).unwrap();
    let cut = body.find("event: response.completed").unwrap();
    let server = Server::reply(Reply::sse(body[..cut].to_owned())).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hi").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(err.to_string().contains("response.completed"), "{err}");
}

#[tokio::test]
async fn llama_cpps_errors_keep_its_words() {
    let server = Server::reply(Reply::json(
        400,
        transcript("responses/context_exceeded_stream.body"),
    ))
    .await;
    let err = provider(&server)
        .chat(ChatRequest::new("hello ".repeat(50)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("exceeds the available context size"),
        "{err}"
    );
    assert!(!err.to_string().contains(KEY));
    let server = Server::reply(Reply::json(
        401,
        r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    ))
    .await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let server = Server::reply(Reply::json(404, r#"{"error":{"message":"Not found"}}"#)).await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert!(
        err.to_string().contains("/v1/responses does not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_still_works() {
    let server = Server::reply(Reply::json(200, transcript("responses/nonstream.body"))).await;
    let reply = provider(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(
        reply.text,
        "Hello, welcome to my little corner of the world."
    );
    assert!(!reply.usage.tokens_estimated);
}

#[tokio::test]
async fn llama_cpps_schema_field_is_dropped_for_good_when_a_server_rejects_it() {
    let reject = Reply::json(
        400,
        r#"{"error":{"message":"Unknown parameter: 'json_schema'.","type":"invalid_request_error","param":"json_schema","code":"unknown_parameter"}}"#,
    );
    let ok = || Reply::sse(transcript("responses/stream.body"));
    let server = Server::sequence(vec![reject, ok(), ok()]).await;
    let llm = provider(&server);
    let request = ChatRequest::new("A person")
        .response_format(ResponseFormat::json_schema("p", json!({"type": "object"})));
    llm.chat(request.clone()).await.unwrap();
    llm.chat(request).await.unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    assert!(sent[0].json().get("json_schema").is_some());
    assert_eq!(sent[0].json()["text"]["format"]["type"], "json_schema");
    assert!(sent[1].json().get("json_schema").is_none());
    assert!(sent[2].json().get("json_schema").is_none(), "remembered");
    assert_eq!(sent[2].json()["text"]["format"]["type"], "json_schema");
}

#[test]
fn the_bodies_decode_as_recorded_and_pass_the_fuzz_checks() {
    for name in BODIES {
        let body = transcript(name);
        let items = decode(wire("openai-responses"), &[&body]);
        assert!(!items.is_empty(), "{name}");
        // Every split, a small cap, the invariants.
        fuzz_wire(
            wire("openai-responses"),
            &[[4, 1, 2, 7, 30].as_slice(), &body].concat(),
        );
    }
}

/// A Responses stream of `calls` function calls, as the real API sends them: each
/// item added, its arguments in two deltas, done, the item done; then the completed
/// response listing every item again.
fn many_function_calls_responses(calls: usize) -> Vec<u8> {
    let mut body = String::new();
    let mut output = Vec::with_capacity(calls);
    for i in 0..calls {
        let id = format!("fc_{i}");
        let arguments = format!("{{\"n\":{i}}}");
        let item = json!({"type": "function_call", "id": id, "call_id": format!("call_{i}"),
            "name": "lookup", "arguments": ""});
        let mut done = item.clone();
        done["arguments"] = json!(arguments);
        let events = [
            json!({"type": "response.output_item.added", "output_index": i, "item": item}),
            json!({"type": "response.function_call_arguments.delta", "item_id": id,
                "output_index": i, "delta": "{\"n\":"}),
            json!({"type": "response.function_call_arguments.delta", "item_id": id,
                "output_index": i, "delta": format!("{i}}}")}),
            json!({"type": "response.function_call_arguments.done", "item_id": id,
                "output_index": i, "arguments": arguments}),
            json!({"type": "response.output_item.done", "output_index": i, "item": done}),
        ];
        for event in events {
            let kind = event["type"].as_str().unwrap();
            body.push_str(&format!("event: {kind}\ndata: {event}\n\n"));
        }
        output.push(done);
    }
    let completed = json!({"type": "response.completed", "response": {"id": "resp_1",
        "model": "gpt-test", "status": "completed", "output": output,
        "usage": {"input_tokens": 10, "output_tokens": 20}}});
    body.push_str(&format!("event: response.completed\ndata: {completed}\n\n"));
    body.into_bytes()
}

/// The same calls as a Chat Completions stream: a start with the name, two argument
/// deltas, then the finish.
fn many_function_calls_chat_completions(calls: usize) -> Vec<u8> {
    let mut body = String::new();
    let frame = |delta: serde_json::Value| {
        let event = json!({"id": "chatcmpl-1", "model": "gpt-test",
            "choices": [{"index": 0, "delta": delta}]});
        format!("data: {event}\n\n")
    };
    for i in 0..calls {
        body.push_str(&frame(
            json!({"tool_calls": [{"index": i, "id": format!("call_{i}"),
            "type": "function", "function": {"name": "lookup", "arguments": ""}}]}),
        ));
        body.push_str(&frame(json!({"tool_calls": [{"index": i,
            "function": {"arguments": "{\"n\":"}}]})));
        body.push_str(&frame(json!({"tool_calls": [{"index": i,
            "function": {"arguments": format!("{i}}}")}}]})));
    }
    let finish = json!({"id": "chatcmpl-1", "model": "gpt-test",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20}});
    body.push_str(&format!("data: {finish}\n\ndata: [DONE]\n\n"));
    body.into_bytes()
}

/// Issue 24, item 14: a reply of 30,000 function calls took 10-25 s to decode, against
/// about 1 s for the same calls over Chat Completions: each event looked its call up by
/// item id in a list of every call so far. Each call must now cost the same however
/// many came before it, so the Responses decoder keeps pace with the Chat Completions
/// one on the same calls (both decoded here from memory, in the same process, so a
/// slow machine slows both).
#[test]
fn thirty_thousand_function_calls_decode_in_linear_time() {
    const CALLS: usize = 30_000;
    let responses = many_function_calls_responses(CALLS);
    let chat_completions = many_function_calls_chat_completions(CALLS);

    let started = Instant::now();
    let items = decode(wire("openai"), &[&chat_completions]);
    let chat_completions_took = started.elapsed();
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, Ok(Chunk::ToolCall(_))))
            .count(),
        CALLS
    );

    let started = Instant::now();
    let items = decode(wire("openai-responses"), &[&responses]);
    let responses_took = started.elapsed();
    let calls: Vec<_> = items
        .iter()
        .filter_map(|item| match item {
            Ok(Chunk::ToolCall(call)) => Some(call),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), CALLS);
    assert_eq!(calls[CALLS - 1].id, format!("call_{}", CALLS - 1));
    assert_eq!(calls[CALLS - 1].arguments, json!({"n": CALLS - 1}));
    assert!(
        matches!(items.last(), Some(Ok(Chunk::Finish(f))) if f.reason == FinishReason::ToolCalls)
    );
    eprintln!(
        "{CALLS} calls: Chat Completions {chat_completions_took:?}, Responses {responses_took:?}"
    );
    // Linear, the two take about as long (the Responses body has more bytes and events
    // per call, but its deltas are read faster); the quadratic lookup took 17 times as
    // long on 30,000 calls, and more on more.
    assert!(
        responses_took < chat_completions_took * 6 + Duration::from_millis(500),
        "{CALLS} calls: Responses took {responses_took:?}, Chat Completions {chat_completions_took:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_split_of_a_responses_body_gives_the_same_items(
        which in 0..BODIES.len(),
        cuts in prop::collection::vec(0usize..4096, 0..24),
    ) {
        let body = transcript(BODIES[which]);
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
            describe(&decode(wire("openai-responses"), &pieces)),
            describe(&decode(wire("openai-responses"), &[&body]))
        );
    }

    #[test]
    fn any_bytes_as_a_responses_body_keep_the_invariants(
        data in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        fuzz_wire(wire("openai-responses"), &data);
    }
}
