//! The `bedrock` provider over real HTTP on loopback: ConverseStream replies in the
//! documented shapes (tests/transcripts/bedrock/, encoded as AWS event-stream
//! messages), in every split; the request, its path, its bearer token or its SigV4
//! signature on the wire; error types and exceptions, retried or not; the
//! hostile-server checks every provider gets.

use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;
use serde_json::{json, Value};
use theory_llm::bedrock::BedrockProvider;
use theory_llm::retry::RetryPolicy;
use theory_llm::stream::ThinkingBlock;
use theory_llm::{ChatReply, ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, Tool};
use theory_llm_testkit::eventstream::{body_from_lines, event, exception, message};
use theory_llm_testkit::invariants::{decode, describe, fuzz_bedrock, fuzz_wire, wire};

use crate::support::{all_splits, closed_port, transcript, Reply, Server, Split};

const TOKEN: &str = "ABSKQmVkcm9ja0FQSUtleS0123456789abcdefghij";
const ACCESS_KEY_ID: &str = "AKIDEXAMPLE0123456789";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";
const MEDIA_TYPE: &str = "application/vnd.amazon.eventstream";

fn retries() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(40))
}

/// A provider for `server`, with a Bedrock API key.
fn provider(server: &Server) -> BedrockProvider {
    provider_at(&server.url())
}

fn provider_at(base: &str) -> BedrockProvider {
    BedrockProvider::builder()
        .api_key(TOKEN)
        .base_url(base)
        .retry_policy(retries())
        .build()
        .unwrap()
}

/// A provider for `server` that signs with an AWS access key.
fn signing(server: &Server) -> BedrockProvider {
    BedrockProvider::builder()
        .aws_credentials(ACCESS_KEY_ID, SECRET_KEY)
        .aws_session_token(SESSION_TOKEN)
        .region("us-west-2")
        .base_url(server.url())
        .retry_policy(retries())
        .build()
        .unwrap()
}

/// A reply body of the transcript folder, encoded.
fn recorded(name: &str) -> Vec<u8> {
    body_from_lines(&transcript(&format!("bedrock/{name}")))
}

fn stream(body: Vec<u8>) -> Reply {
    Reply::ok(MEDIA_TYPE, body)
}

/// The events of a transcript, parsed without the crate.
fn events(name: &str) -> Vec<(String, Value)> {
    String::from_utf8(transcript(&format!("bedrock/{name}")))
        .unwrap()
        .lines()
        .map(|line| {
            let (kind, payload) = line.split_once('|').unwrap();
            (kind.to_owned(), serde_json::from_str(payload).unwrap())
        })
        .collect()
}

/// The text of a transcript's text deltas, and its usage, computed without the crate.
fn expected(name: &str) -> (String, Value) {
    let events = events(name);
    let text = events
        .iter()
        .filter_map(|(_, p)| p["delta"]["text"].as_str())
        .collect();
    let usage = events
        .iter()
        .find(|(k, _)| k == "metadata")
        .map(|(_, p)| p["usage"].clone())
        .unwrap_or(Value::Null);
    (text, usage)
}

async fn replay(body: &[u8], split: Split, request: ChatRequest) -> theory_llm::Result<ChatReply> {
    let server = Server::reply(stream(body.to_vec()).split(split)).await;
    provider(&server).chat(request).await
}

// ---- replies in the documented shapes ----

#[tokio::test]
async fn documented_replies_stream_in_every_split() {
    for (name, reason) in [
        ("text_stream.events", FinishReason::Stop),
        ("max_tokens_stream.events", FinishReason::Length),
        ("guardrail_stream.events", FinishReason::ContentFilter),
        ("reasoning_stream.events", FinishReason::Stop),
        ("tool_use_stream.events", FinishReason::ToolCalls),
    ] {
        let body = recorded(name);
        let (text, usage) = expected(name);
        let cache = |key: &str| usage[key].as_u64().unwrap_or(0);
        let tokens_in = usage["inputTokens"].as_u64().unwrap()
            + cache("cacheReadInputTokens")
            + cache("cacheWriteInputTokens");
        for split in all_splits() {
            let reply = replay(&body, split.clone(), "Hello".into())
                .await
                .unwrap_or_else(|e| panic!("{name} {split:?}: {e}"));
            assert_eq!(reply.text, text, "{name} {split:?}");
            assert_eq!(reply.finish_reason, reason, "{name}");
            assert_eq!(
                (reply.usage.tokens_in, reply.usage.tokens_out),
                (tokens_in, usage["outputTokens"].as_u64().unwrap()),
                "{name}"
            );
            assert!(!reply.usage.tokens_estimated, "{name}");
            assert_eq!(reply.provider, "bedrock");
        }
    }
}

#[tokio::test]
async fn tool_calls_and_reasoning_make_the_next_turn() {
    let reply = replay(
        &recorded("tool_use_stream.events"),
        Split::EveryByte,
        "Weather?".into(),
    )
    .await
    .unwrap();
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!(call.id, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
    assert_eq!(call.name, "get_weather");
    assert_eq!(call.arguments, json!({"city": "Paris", "unit": "celsius"}));

    let reply = replay(
        &recorded("reasoning_stream.events"),
        Split::Whole,
        "17*3?".into(),
    )
    .await
    .unwrap();
    assert_eq!(
        reply.reasoning,
        "The user asks for 17 times 3. 17 × 3 = 51."
    );
    assert!(matches!(
        reply.reasoning_blocks.as_slice(),
        [ThinkingBlock::Thinking { .. }]
    ));
    assert_eq!(reply.usage.cached_tokens_in, Some(1024));
    // The next turn sends the reasoning back with its signature.
    let server = Server::reply(stream(recorded("text_stream.events"))).await;
    let next = ChatRequest::default().messages(vec![
        theory_llm::Message::user("17*3?"),
        reply.into_message(),
        theory_llm::Message::user("And 17*4?"),
    ]);
    provider(&server).chat(next).await.unwrap();
    let sent = server.requests()[0].json();
    assert_eq!(
        sent["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]["signature"],
        "EqoBCkgIARABGAIiQGm1a8sTQ2Vb9j7c1f0Ox0Zq3s8QW"
    );
}

#[tokio::test]
async fn a_whole_converse_reply_of_application_json_works() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Paris."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7},
    });
    let server = Server::reply(Reply::json(200, body.to_string())).await;
    let reply = provider(&server).chat("Q?".into()).await.unwrap();
    assert_eq!((reply.text.as_str(), reply.usage.tokens_out), ("Paris.", 2));
}

// ---- the request on the wire ----

#[tokio::test]
async fn the_request_goes_to_the_model_path_with_the_bearer_token() {
    let server = Server::reply(stream(recorded("text_stream.events"))).await;
    let request = ChatRequest::new("Hi")
        .model("us.anthropic.claude-3-5-haiku-20241022-v1:0")
        .system("Be brief.")
        .max_tokens(64)
        .tools(vec![Tool::new(
            "get_weather",
            "",
            json!({"type": "object"}),
        )]);
    provider(&server).chat(request).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.path,
        "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream"
    );
    assert_eq!(
        sent.header("authorization").map(str::to_owned),
        Some(format!("Bearer {TOKEN}"))
    );
    assert_eq!(sent.header("accept"), Some(MEDIA_TYPE));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.header("x-amz-date"),
        None,
        "a bearer token is not signed"
    );
    let body = sent.json();
    assert_eq!(body["messages"][0]["content"][0]["text"], "Hi");
    assert_eq!(body["system"][0]["text"], "Be brief.");
    assert_eq!(body["inferenceConfig"]["maxTokens"], 64);
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "get_weather"
    );
    // A model id cannot reach another path or add a query.
    let server = Server::reply(stream(recorded("text_stream.events"))).await;
    provider(&server)
        .chat(ChatRequest::new("Hi").model("../../evil?x=1"))
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].path,
        "/model/..%2F..%2Fevil%3Fx%3D1/converse-stream"
    );
}

#[tokio::test]
async fn an_access_key_signs_every_request_with_sigv4() {
    let server = Server::reply(stream(recorded("text_stream.events"))).await;
    signing(&server)
        .chat(ChatRequest::new("Hi").model("amazon.nova-micro-v1:0"))
        .await
        .unwrap();
    let sent = &server.requests()[0];
    let date = sent.header("x-amz-date").unwrap().to_owned();
    assert_eq!(date.len(), 16, "{date}");
    assert_eq!(sent.header("x-amz-security-token"), Some(SESSION_TOKEN));
    let authorization = sent.header("authorization").unwrap();
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{}/us-west-2/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=",
        &date[..8]
    );
    assert!(authorization.starts_with(&prefix), "{authorization}");
    let signature = &authorization[prefix.len()..];
    assert_eq!(signature.len(), 64);
    assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!authorization.contains(SECRET_KEY));
    // Signed anew for each attempt: a retry after a throttled first try is signed too.
    let server = Server::sequence(vec![
        stream(recorded("throttled_before_text.events")),
        stream(recorded("text_stream.events")),
    ])
    .await;
    signing(&server).chat("Hi".into()).await.unwrap();
    assert!(server.requests().iter().all(|r| r
        .header("authorization")
        .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256"))));
}

#[tokio::test]
async fn secrets_are_never_in_errors_replies_or_debug() {
    // A server that quotes every secret back, in an error and in reply metadata.
    let quoted = format!("bad: {TOKEN} {SECRET_KEY} {SESSION_TOKEN}");
    let server = Server::reply(
        Reply::json(403, json!({ "message": quoted }).to_string()).header(
            "x-amzn-errortype",
            "UnrecognizedClientException:http://internal.amazon.com/coral/",
        ),
    )
    .await;
    let llm = signing(&server);
    let err = llm.chat("Hello".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    let keyed = provider(&server);
    let err2 = keyed.chat("Hello".into()).await.unwrap_err();
    let builder = BedrockProvider::builder()
        .aws_credentials(ACCESS_KEY_ID, SECRET_KEY)
        .aws_session_token(SESSION_TOKEN);
    // Each provider hides the secrets it was given.
    for (shown, secrets) in [
        (err.to_string(), [SECRET_KEY, SESSION_TOKEN]),
        (format!("{err:?}"), [SECRET_KEY, SESSION_TOKEN]),
        (format!("{llm:?}"), [SECRET_KEY, SESSION_TOKEN]),
        (format!("{builder:?}"), [SECRET_KEY, SESSION_TOKEN]),
        (err2.to_string(), [TOKEN, TOKEN]),
        (format!("{keyed:?}"), [TOKEN, TOKEN]),
    ] {
        for secret in secrets {
            assert!(!shown.contains(&secret[8..24]), "a secret leaked: {shown}");
        }
        assert!(
            shown.contains("bedrock") || shown.contains("Bedrock"),
            "{shown}"
        );
    }
    let echo = message(
        &[(":event-type", "contentBlockStart"), (":message-type", "event")],
        json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": SECRET_KEY, "name": "f"}}})
            .to_string()
            .as_bytes(),
    );
    let mut body = echo;
    body.extend(event("messageStop", &json!({"stopReason": "tool_use"})));
    let server = Server::reply(stream(body)).await;
    let reply = signing(&server).chat("Hello".into()).await.unwrap();
    let shown = format!("{reply:?}");
    assert!(!shown.contains(&SECRET_KEY[8..24]), "key leaked: {shown}");
}

#[tokio::test]
async fn redirects_are_refused_and_never_carry_credentials() {
    let b = Server::reply(stream(recorded("text_stream.events"))).await;
    for status in [301u16, 302, 307, 308] {
        let a = Server::reply(Reply::status(status, "text/plain", "moved").header(
            "Location",
            &format!("{}/model/amazon.nova-micro-v1%3A0/converse-stream", b.url()),
        ))
        .await;
        for llm in [provider(&a), signing(&a)] {
            let err = llm.chat("Hello".into()).await.unwrap_err();
            assert_eq!(err.status(), Some(status));
            assert!(!err.to_string().contains(&TOKEN[8..24]), "{err}");
        }
        assert_eq!(a.requests().len(), 2, "a redirect is not retried");
    }
    assert!(b.requests().is_empty(), "followed: {:?}", b.requests());
}

// ---- errors: statuses, exceptions, retries ----

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
async fn error_types_map_to_kinds_in_the_servers_words() {
    for (error_type, status, kind, retryable) in [
        (
            "ResourceNotFoundException",
            404,
            ErrorKind::ModelNotFound,
            false,
        ),
        ("AccessDeniedException", 403, ErrorKind::Auth, false),
        ("UnrecognizedClientException", 403, ErrorKind::Auth, false),
        ("ThrottlingException", 429, ErrorKind::RateLimited, true),
        ("ValidationException", 400, ErrorKind::InvalidRequest, false),
        ("ServiceUnavailableException", 503, ErrorKind::Server, true),
        ("InternalServerException", 500, ErrorKind::Server, true),
        ("ModelTimeoutException", 408, ErrorKind::Timeout, true),
    ] {
        let words = format!("The server says {error_type} happened");
        let reply = Reply::json(status, json!({ "message": words }).to_string()).header(
            "x-amzn-errortype",
            &format!("{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        );
        let err = error_for(reply).await;
        assert_eq!(
            (err.kind(), err.status()),
            (kind, Some(status)),
            "{error_type}: {err}"
        );
        assert_eq!(err.is_retryable(), retryable, "{error_type}");
        assert!(err.to_string().contains(&words), "{err}");
        assert!(err.to_string().contains(error_type), "{err}");
    }
    // Without the header, by status (aimock's error bodies).
    let err = error_for(Reply::json(
        404,
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"No fixture matched"}}"#,
    ))
    .await;
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("No fixture matched"), "{err}");
}

#[tokio::test]
async fn an_exception_before_content_is_retried_and_after_it_is_not() {
    let server = Server::sequence(vec![
        stream(recorded("throttled_before_text.events")),
        stream(recorded("text_stream.events")),
    ])
    .await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(reply.text, expected("text_stream.events").0);
    assert_eq!(server.requests().len(), 2);

    let server =
        Server::reply(stream(recorded("error_after_text.events")).split(Split::EveryByte)).await;
    let items: Vec<_> = provider(&server)
        .stream_chat("Hello".into())
        .collect()
        .await;
    let (last, chunks) = items.split_last().unwrap();
    let err = last.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.to_string().contains("modelStreamErrorException"),
        "{err}"
    );
    assert!(err.to_string().contains("Try your request again"), "{err}");
    let text: String = chunks
        .iter()
        .filter_map(|c| c.as_ref().ok()?.as_text().map(str::to_owned))
        .collect();
    assert_eq!(text, "The first");
    assert_eq!(server.requests().len(), 1, "never retried after content");

    let err = error_for(stream(recorded("validation_error.events"))).await;
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("Input is too long"), "{err}");
}

#[tokio::test]
async fn a_corrupt_message_is_a_protocol_error_naming_the_checksum() {
    let mut body = recorded("text_stream.events");
    let at = body.len() / 2;
    body[at] ^= 0x20;
    let err = error_for(stream(body)).await;
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("CRC32"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_body_cut_short_is_truncated_and_retried_before_content() {
    let body = recorded("text_stream.events");
    let metadata_and_stop = event("messageStop", &json!({"stopReason": "end_turn"})).len()
        + event("metadata", &json!({})).len();
    let cut = body[..body.len() - metadata_and_stop - 200].to_vec();
    let err = error_for(stream(cut)).await;
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(err.to_string().contains("messageStop"), "{err}");
    let server = Server::sequence(vec![stream(Vec::new()), stream(body.clone())]).await;
    let reply = provider(&server).chat("Hello".into()).await.unwrap();
    assert_eq!(reply.text, expected("text_stream.events").0);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_200_that_is_not_a_converse_stream_is_a_protocol_error_not_retried() {
    let portal = "<html><body>Please log in</body></html>";
    for reply in [
        Reply::ok("text/html", portal),
        Reply::ok("application/json", r#"{"status":"ok","service":"proxy"}"#),
        Reply::sse(transcript("llama-server/stream_include_usage.body")),
        stream(b"not an event stream at all, but long enough".to_vec()),
    ] {
        let server = Server::reply(reply).await;
        let err = provider(&server).chat("Hello".into()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
        assert_eq!(server.requests().len(), 1, "retried: {err}");
    }
}

#[tokio::test]
async fn caps_on_messages_and_on_what_the_reply_keeps() {
    let server = Server::reply(stream(recorded("tool_use_stream.events"))).await;
    let llm = BedrockProvider::builder()
        .api_key(TOKEN)
        .base_url(server.url())
        .max_frame_bytes(100)
        .build()
        .unwrap();
    let err = llm
        .chat(ChatRequest::new("Hi").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("longer than 100 bytes"), "{err}");

    let cap = 64 * 1024;
    let mut body = event(
        "contentBlockStart",
        &json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}}),
    );
    for _ in 0..4 {
        body.extend(event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "x".repeat(cap / 3)}}}),
        ));
    }
    let server = Server::reply(stream(body)).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hi").max_reply_bytes(cap).max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains(&cap.to_string()), "{err}");
}

#[tokio::test]
async fn nothing_listening_is_provider_unavailable_with_the_hint() {
    let llm = provider_at(&format!("http://127.0.0.1:{}", closed_port()));
    let err = llm
        .chat(ChatRequest::new("Hi").max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable, "{err}");
    assert!(err.to_string().contains("BEDROCK_BASE_URL"), "{err}");
}

#[test]
fn the_registry_says_what_bedrock_reads() {
    let registry = theory_llm::Registry::builtin();
    assert!(registry.names().contains(&"bedrock"));
    let environment = registry.environment("bedrock").unwrap();
    for var in [
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "BEDROCK_BASE_URL",
    ] {
        assert!(environment.contains(var), "{environment}");
    }
}

// ---- any split gives the same items ----

const ALL_BODIES: &[&str] = &[
    "text_stream.events",
    "tool_use_stream.events",
    "reasoning_stream.events",
    "max_tokens_stream.events",
    "guardrail_stream.events",
    "throttled_before_text.events",
    "error_after_text.events",
    "validation_error.events",
];

#[test]
fn every_body_passes_the_fuzz_checks_in_memory() {
    for name in ALL_BODIES {
        let body = recorded(name);
        assert!(!decode(wire("bedrock"), &[&body]).is_empty(), "{name}");
        fuzz_wire(
            wire("bedrock"),
            &[[4, 3, 1, 9, 27].as_slice(), &body].concat(),
        );
        fuzz_bedrock(&[[0].as_slice(), &transcript(&format!("bedrock/{name}"))].concat());
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
            describe(&decode(wire("bedrock"), &pieces)),
            describe(&decode(wire("bedrock"), &[&body]))
        );
    }

    #[test]
    fn any_bytes_as_a_bedrock_body_keep_the_invariants(
        data in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        fuzz_wire(wire("bedrock"), &data);
    }

    /// Lines of events with any payloads, framed right: the decoder behind the checksums.
    #[test]
    fn any_events_keep_the_invariants(
        lines in prop::collection::vec((
            prop::sample::select(vec!["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "!throttlingException", "other"]),
            prop::sample::select(vec![
                r#"{"contentBlockIndex":0,"delta":{"text":"hi"}}"#,
                r#"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"t","name":"f"}}}"#,
                r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"a\":"}}}"#,
                r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"1}"}}}"#,
                r#"{"contentBlockIndex":2,"delta":{"reasoningContent":{"text":"r","signature":"s"}}}"#,
                r#"{"stopReason":"end_turn"}"#,
                r#"{"usage":{"inputTokens":1e30,"outputTokens":-1}}"#,
                r#"{"message":"no"}"#,
                r#"{"contentBlockIndex":"x"}"#,
                "[1,2]",
                "",
            ]),
        ), 0..12),
        sizes in prop::collection::vec(any::<u8>(), 0..7),
    ) {
        let text: Vec<String> = lines.iter().map(|(kind, payload)| format!("{kind}|{payload}")).collect();
        let data = [[sizes.len() as u8].as_slice(), &sizes, text.join("\n").as_bytes()].concat();
        fuzz_bedrock(&data);
    }
}

#[test]
fn exceptions_written_by_the_kit_decode_as_the_crate_reads_them() {
    let items = decode(
        wire("bedrock"),
        &[&exception("throttlingException", "slow down")],
    );
    assert!(describe(&items)[0].contains("slow down"), "{items:?}");
}

/// botocore's verdicts on generated event-stream bodies (scripts/eventstream_crosscheck.py
/// writes them): the framer gives the same messages, and refuses what botocore refused.
/// Two differences are by design, where botocore reads what is not a message: headers
/// whose length runs past the message (checksums right), and a string header whose
/// value runs past the end of the headers (Python's slicing gives a shorter string
/// without complaint); both are refused here.
#[test]
fn the_framer_agrees_with_botocore_on_generated_messages() {
    use theory_llm::__private::eventstream_messages;
    let recorded: Value =
        serde_json::from_slice(&transcript("bedrock/botocore_eventstream.json")).unwrap();
    let hex = |text: &str| -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    };
    let (mut agreed, mut refused, mut lax_cases) = (0, 0, 0);
    for (i, case) in recorded["cases"].as_array().unwrap().iter().enumerate() {
        let body = hex(case["body"].as_str().unwrap());
        let ours: Vec<_> = futures::executor::block_on(
            eventstream_messages(&body, 16 * 1024 * 1024).collect::<Vec<_>>(),
        );
        let theirs = case["messages"].as_array().unwrap();
        let botocore_failed = case["failed"] != false;
        let ok: Vec<_> = ours.iter().take_while(|m| m.is_ok()).collect();
        let our_error = ours.iter().find_map(|m| m.as_ref().err());
        for (mine, theirs) in ok.iter().zip(theirs) {
            let mine = mine.as_ref().unwrap();
            assert_eq!(
                hex(theirs["payload"].as_str().unwrap()),
                mine.payload,
                "case {i}"
            );
            for (name, value) in &mine.headers {
                let expected = theirs["headers"][name].as_str().map(str::to_owned);
                assert_eq!(&expected, value, "case {i}: header {name}");
            }
        }
        match (botocore_failed, our_error) {
            (false, None) => assert_eq!(ok.len(), theirs.len(), "case {i}"),
            (true, Some(_)) => {
                assert_eq!(
                    ok.len(),
                    theirs.len(),
                    "case {i}: messages before the failure"
                );
                refused += 1;
            }
            (false, Some(e)) => {
                let lax = [
                    "lengths do not fit",
                    "value runs past the end of the headers",
                ];
                assert!(
                    lax.iter().any(|why| e.to_string().contains(why)),
                    "case {i}: we refused what botocore read: {e}"
                );
                lax_cases += 1;
                assert!(ok.len() <= theirs.len(), "case {i}");
            }
            (true, None) => panic!(
                "case {i}: botocore refused ({}) what we read: {ours:?}",
                case["failed"]
            ),
        }
        agreed += 1;
    }
    assert_eq!(agreed, 400);
    assert!(refused >= 60 && lax_cases <= 20, "{refused} {lax_cases}");
}

#[tokio::test]
async fn reasoning_goes_to_the_model_that_takes_it_and_is_refused_before_sending_otherwise() {
    let server = Server::reply(stream(recorded("reasoning_stream.events"))).await;
    let llm = provider(&server);
    let request = ChatRequest::new("17*3?")
        .model("us.anthropic.claude-sonnet-4-20250514-v1:0")
        .reasoning(theory_llm::Reasoning::Budget(2048));
    let reply = llm.chat(request).await.unwrap();
    assert!(!reply.reasoning.is_empty());
    let sent = server.requests()[0].json();
    assert_eq!(
        sent["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2048}})
    );
    let err = llm
        .chat(
            ChatRequest::new("17*3?")
                .model("meta.llama3-8b-instruct-v1:0")
                .reasoning(theory_llm::Reasoning::Budget(2048)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_eq!(
        server.requests().len(),
        1,
        "nothing sent for what cannot be said"
    );
}
