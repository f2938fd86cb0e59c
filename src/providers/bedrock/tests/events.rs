//! ConverseStream messages to chunks: text, reasoning with its signature, tool calls,
//! the finish with usage, exceptions, truncation, whole replies.

use std::collections::VecDeque;

use serde_json::json;

use crate::chunk::{Chunk, FinishReason, ThinkingBlock};
use crate::decode::{Decoder, Flow};
use crate::error::{Error, ErrorKind, Result};
use crate::framing::eventstream::encoder::{encode, event, exception, Value};
use crate::origin::Origin;
use crate::providers::bedrock::ConverseDecoder;

fn origin() -> Origin {
    Origin::new("bedrock", "http://127.0.0.1:1")
}

/// The chunks of these messages, then the end of the body if no message ended it.
fn decode_with(origin: Origin, frames: &[Vec<u8>]) -> (Vec<Chunk>, Option<Error>) {
    let mut decoder = ConverseDecoder::new(origin);
    let mut out = VecDeque::new();
    let mut run = || -> Result<()> {
        for frame in frames {
            if decoder.frame(frame, &mut out)? == Flow::Done {
                return Ok(());
            }
        }
        decoder.end_of_body(&mut out)
    };
    let error = run().err();
    (out.into(), error)
}

fn decode(frames: &[Vec<u8>]) -> (Vec<Chunk>, Option<Error>) {
    decode_with(origin(), frames)
}

fn ev(kind: &str, payload: serde_json::Value) -> Vec<u8> {
    event(kind, &payload.to_string())
}

fn finish(chunks: &[Chunk]) -> &crate::chunk::Finish {
    match chunks.last() {
        Some(Chunk::Finish(finish)) => finish,
        other => panic!("no finish: {other:?}"),
    }
}

#[test]
fn text_streams_and_metadata_finishes_with_usage() {
    let frames = [
        ev(
            "messageStart",
            json!({"role": "assistant", "p": "abcdefgh"}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "Hello"}, "p": "ab"}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": ", world"}}),
        ),
        ev("contentBlockStop", json!({"contentBlockIndex": 0})),
        ev("messageStop", json!({"stopReason": "end_turn"})),
        ev(
            "metadata",
            json!({"usage": {"inputTokens": 10, "outputTokens": 4, "totalTokens": 30,
            "cacheReadInputTokens": 12, "cacheWriteInputTokens": 4}, "metrics": {"latencyMs": 321}}),
        ),
    ];
    let (chunks, error) = decode(&frames);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks[0], Chunk::Text("Hello".into()));
    assert_eq!(chunks[1], Chunk::Text(", world".into()));
    let finish = finish(&chunks);
    assert_eq!(finish.reason, FinishReason::Stop);
    assert_eq!((finish.tokens_in, finish.tokens_out), (Some(26), Some(4)));
    assert_eq!(
        (finish.cached_tokens_in, finish.cache_write_tokens_in),
        (Some(12), Some(4))
    );
    assert_eq!(finish.timings.and_then(|t| t.total_ms), Some(321.0));
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    for (reason, want) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("tool_use", FinishReason::ToolCalls),
        ("max_tokens", FinishReason::Length),
        ("guardrail_intervened", FinishReason::ContentFilter),
        ("content_filtered", FinishReason::ContentFilter),
        ("something_new", FinishReason::Other("something_new".into())),
    ] {
        let (chunks, _) = decode(&[
            ev("contentBlockDelta", json!({"delta": {"text": "x"}})),
            ev("messageStop", json!({"stopReason": reason})),
            ev(
                "metadata",
                json!({"usage": {"inputTokens": 1, "outputTokens": 1}}),
            ),
        ]);
        assert_eq!(finish(&chunks).reason, want, "{reason}");
    }
}

#[test]
fn tool_calls_stream_in_three_steps() {
    let frames = [
        ev("messageStart", json!({"role": "assistant"})),
        ev(
            "contentBlockStart",
            json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_a", "name": "get_weather"}}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\":"}}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"Paris\"}"}}}),
        ),
        ev("contentBlockStop", json!({"contentBlockIndex": 1})),
        ev(
            "contentBlockStart",
            json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tooluse_b", "name": "noop"}}}),
        ),
        ev("messageStop", json!({"stopReason": "tool_use"})),
    ];
    let (chunks, error) = decode(&frames);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        chunks[0],
        Chunk::tool_call_start(0, "tooluse_a", "get_weather")
    );
    assert_eq!(chunks[1], Chunk::tool_call_delta(0, "{\"city\":"));
    let Chunk::ToolCall(call) = &chunks[3] else {
        panic!("{chunks:?}")
    };
    assert_eq!(
        (call.id.as_str(), call.arguments.clone()),
        ("tooluse_a", json!({"city": "Paris"}))
    );
    // A call without input, completed by messageStop; the body ended without metadata.
    assert_eq!(chunks[4], Chunk::tool_call_start(1, "tooluse_b", "noop"));
    let Chunk::ToolCall(call) = &chunks[5] else {
        panic!("{chunks:?}")
    };
    assert_eq!(call.arguments, json!({}));
    let finish = finish(&chunks);
    assert_eq!(finish.reason, FinishReason::ToolCalls);
    assert_eq!(
        finish.tokens_in, None,
        "no metadata: estimated by the stream"
    );
}

#[test]
fn reasoning_streams_and_is_kept_with_its_signature() {
    let frames = [
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Let me think"}}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": " more."}}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig-1"}}}),
        ),
        ev("contentBlockStop", json!({"contentBlockIndex": 0})),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"reasoningContent": {"redactedContent": "ZW5j"}}}),
        ),
        ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 2, "delta": {"text": "42"}}),
        ),
        ev("messageStop", json!({"stopReason": "end_turn"})),
        ev(
            "metadata",
            json!({"usage": {"inputTokens": 5, "outputTokens": 9}}),
        ),
    ];
    let (chunks, error) = decode(&frames);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks[0], Chunk::Reasoning("Let me think".into()));
    assert_eq!(chunks[1], Chunk::Reasoning(" more.".into()));
    assert_eq!(chunks[2], Chunk::Text("42".into()));
    assert_eq!(
        finish(&chunks).reasoning_blocks,
        vec![
            ThinkingBlock::Thinking {
                thinking: "Let me think more.".into(),
                signature: "sig-1".into()
            },
            ThinkingBlock::RedactedThinking {
                data: "ZW5j".into()
            },
        ]
    );
}

#[test]
fn exceptions_are_errors_of_their_kind_in_the_servers_words() {
    for (kind, want, retryable) in [
        ("throttlingException", ErrorKind::RateLimited, true),
        ("modelStreamErrorException", ErrorKind::Server, true),
        ("validationException", ErrorKind::InvalidRequest, false),
        ("serviceUnavailableException", ErrorKind::Server, true),
        ("internalServerException", ErrorKind::Server, true),
    ] {
        let (chunks, error) = decode(&[
            ev("contentBlockDelta", json!({"delta": {"text": "partial"}})),
            exception(kind, r#"{"message":"The server says no."}"#),
        ]);
        assert_eq!(chunks, vec![Chunk::Text("partial".into())]);
        let error = error.unwrap();
        assert_eq!(
            (error.kind(), error.is_retryable()),
            (want, retryable),
            "{kind}"
        );
        assert!(error.to_string().contains("The server says no"), "{error}");
        assert!(error.to_string().contains(kind), "{error}");
    }
    let error = encode(
        &[
            (":message-type", Value::Str("error".into())),
            (":error-code", Value::Str("InternalFailure".into())),
            (":error-message", Value::Str("It broke.".into())),
        ],
        b"",
    );
    let (_, err) = decode(&[error]);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("InternalFailure") && err.to_string().contains("It broke"));
}

#[test]
fn a_body_without_message_stop_is_truncated_and_one_of_other_events_is_not_a_reply() {
    let (chunks, error) = decode(&[ev("contentBlockDelta", json!({"delta": {"text": "Hi"}}))]);
    assert_eq!(chunks, vec![Chunk::Text("Hi".into())]);
    let error = error.unwrap();
    assert_eq!(error.kind(), ErrorKind::Network);
    assert!(error.to_string().contains("messageStop"), "{error}");
    let (_, error) = decode(&[ev("chunk", json!({"bytes": "eyJ9"}))]);
    let error = error.unwrap();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(error.to_string().contains("'chunk'"), "{error}");
}

#[test]
fn malformed_payloads_and_messages_are_protocol_errors() {
    for frames in [
        vec![event("contentBlockDelta", "{not json")],
        vec![b"not a message at all".to_vec()],
        vec![encode(
            &[(":message-type", Value::Str("gossip".into()))],
            b"{}",
        )],
        vec![ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{}"}}}),
        )],
        vec![ev(
            "contentBlockStart",
            json!({"start": {"toolUse": {"toolUseId": "t"}}}),
        )],
    ] {
        let (_, error) = decode(&frames);
        let error = error.unwrap();
        assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
    }
}

#[test]
fn a_whole_converse_reply_is_decoded_at_once() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "s"}}},
            {"text": "Paris."},
            {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"q": "Paris"}}},
        ]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 7, "outputTokens": 3},
        "metrics": {"latencyMs": 50},
    });
    let json_origin = origin().with_media_type(Some("application/json"));
    let (chunks, error) = decode_with(json_origin.clone(), &[body.to_string().into_bytes()]);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(chunks[0], Chunk::Reasoning("Think.".into()));
    assert_eq!(chunks[1], Chunk::Text("Paris.".into()));
    assert!(
        matches!(&chunks[4], Chunk::ToolCall(c) if c.arguments == json!({"q": "Paris"})),
        "{chunks:?}"
    );
    let finish = finish(&chunks);
    assert_eq!(
        (finish.reason.clone(), finish.tokens_in),
        (FinishReason::ToolCalls, Some(7))
    );
    let (_, error) = decode_with(json_origin, &[br#"{"status":"ok"}"#.to_vec()]);
    assert_eq!(error.unwrap().kind(), ErrorKind::Protocol);
}

#[test]
fn what_the_blocks_keep_counts_toward_the_reply_cap() {
    let capped = origin().with_max_reply_bytes(100);
    let big = "x".repeat(60);
    for frames in [
        vec![
            ev(
                "contentBlockStart",
                json!({"start": {"toolUse": {"toolUseId": "t", "name": "f"}}}),
            ),
            ev(
                "contentBlockDelta",
                json!({"delta": {"toolUse": {"input": big}}}),
            ),
            ev(
                "contentBlockDelta",
                json!({"delta": {"toolUse": {"input": big}}}),
            ),
        ],
        vec![
            ev(
                "contentBlockDelta",
                json!({"delta": {"reasoningContent": {"text": big}}}),
            ),
            ev(
                "contentBlockDelta",
                json!({"delta": {"reasoningContent": {"signature": big}}}),
            ),
        ],
        vec![
            ev(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"redactedContent": big}}}),
            ),
            ev(
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"reasoningContent": {"redactedContent": big}}}),
            ),
        ],
    ] {
        let (_, error) = decode_with(capped.clone(), &frames);
        let error = error.unwrap();
        assert_eq!(error.kind(), ErrorKind::Protocol);
        assert!(error.to_string().contains("max_reply_bytes"), "{error}");
    }
}
