//! The Messages API mapping, request body, errors, configuration and `Debug`, without
//! I/O; and the decoder behind the SSE framer with the body cut anywhere.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};

use super::errors::{classify, stream_error};
use super::request::{self, closed, JSON_OBJECT_INSTRUCTION};
use super::*;
use crate::chunk::{Chunk, Finish, FinishReason, ThinkingBlock, ToolCall};
use crate::decode::{Decoded, Decoder, Flow, Origin};
use crate::error::{Error, ErrorKind};
use crate::http::{ErrorBody, ErrorResponse};
use crate::kit::{frames_of, Dialect, Framing};
use crate::request::{Image, Message, ResponseFormat, Role, Tool, ToolChoice};

// ---- helpers ----

fn origin() -> Origin {
    Origin::new("anthropic", "http://test")
}

/// The chunks of `frames` (SSE data), then the end of the body or the error.
fn run(frames: &[&str]) -> (Vec<Chunk>, Result<()>) {
    let mut d = MessagesDecoder::new(origin());
    let mut out = VecDeque::new();
    for f in frames {
        match d.frame(f.as_bytes(), &mut out) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Done) => return (out.into(), Ok(())),
            Err(e) => return (out.into(), Err(e)),
        }
    }
    let end = d.end_of_body(&mut out);
    (out.into(), end)
}

/// A recorded or hand-made body under `tests/transcripts/anthropic/`.
fn body(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/transcripts/anthropic/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `body` arriving in `pieces`, through the SSE framer and the decoder, as the
/// provider runs them: every chunk, and the error that ended it, if one did.
fn decode_pieces(pieces: Vec<Vec<u8>>) -> (Vec<Chunk>, Option<Error>) {
    let bytes = futures::stream::iter(pieces.into_iter().map(|p| Ok::<_, Error>(Bytes::from(p))));
    let frames = frames_of(Framing::Sse, bytes, 1 << 20, origin(), |e| e);
    let items = futures::executor::block_on(
        Decoded::new(frames, MessagesDecoder::new(origin())).collect::<Vec<_>>(),
    );
    let mut chunks = Vec::new();
    for item in items {
        match item {
            Ok(chunk) => chunks.push(chunk),
            Err(e) => return (chunks, Some(e)),
        }
    }
    (chunks, None)
}

fn decode(name: &str) -> Vec<Chunk> {
    let (chunks, err) = decode_pieces(vec![body(name)]);
    assert!(err.is_none(), "{name}: {err:?}");
    chunks
}

fn text(chunks: &[Chunk]) -> String {
    chunks.iter().filter_map(Chunk::as_text).collect()
}

fn reasoning(chunks: &[Chunk]) -> String {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Reasoning(r) => Some(r.as_str()),
            _ => None,
        })
        .collect()
}

fn calls(chunks: &[Chunk]) -> Vec<ToolCall> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCall(call) => Some((**call).clone()),
            _ => None,
        })
        .collect()
}

fn finish(chunks: &[Chunk]) -> &Finish {
    match chunks.last() {
        Some(Chunk::Finish(f)) => f,
        other => panic!("no finish: {other:?}"),
    }
}

/// One event's data.
fn ev(value: Value) -> String {
    value.to_string()
}

fn text_event(index: u64, text: &str) -> String {
    ev(
        json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}),
    )
}

const STOP: &str = r#"{"type":"message_stop"}"#;

// ---- the decoder, on recorded bodies ----

#[test]
fn a_recorded_llama_cpp_stream() {
    let chunks = decode("stream.body");
    assert_eq!(text(&chunks), "I'm sorry for any confusion.");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Stop);
    // input_tokens 25 + cache_read_input_tokens 0; no cache_creation reported.
    assert_eq!((f.tokens_in, f.tokens_out), (Some(25), Some(8)));
    assert_eq!(
        (f.cached_tokens_in, f.cache_write_tokens_in),
        (Some(0), None)
    );
    assert_eq!(f.model.as_deref(), Some("smollm2"));
    assert_eq!(
        f.response_id.as_deref(),
        Some("chatcmpl-zY7xGXywF3mEy5AptDcuK1f0hpAHj6n2")
    );
    assert!(f.reasoning_blocks.is_empty());
}

#[test]
fn a_stream_without_message_start_still_works() {
    // llama.cpp: the first token was an incomplete UTF-8 sequence, and message_start
    // was never sent. No id, no model, no input count: only the output count.
    let chunks = decode("unicode_stream.body");
    assert_eq!(text(&chunks), "🌍🌐🌐🌐🌐🌐🌐🌐");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Length);
    assert_eq!((f.tokens_in, f.tokens_out), (None, Some(24)));
    assert_eq!((f.response_id.as_deref(), f.model.as_deref()), (None, None));
}

#[test]
fn recorded_cache_reads_count_in_the_prompt() {
    // max_tokens_1: input_tokens 10 + cache_read_input_tokens 24.
    let chunks = decode("max_tokens_1_stream.body");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Length);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(34), Some(1)));
    assert_eq!(f.cached_tokens_in, Some(24));
    assert_eq!(text(&chunks), "I");
}

/// A whole body as the one frame the kit gives for `application/json`.
fn whole(name: &str) -> Vec<Chunk> {
    let text = String::from_utf8(body(name)).unwrap();
    let (chunks, end) = run(&[&text]);
    end.unwrap();
    chunks
}

#[test]
fn a_whole_message_is_decoded_at_once() {
    let chunks = whole("nonstream.body");
    assert_eq!(
        text(&chunks),
        "Hello, welcome to my little corner of the world."
    );
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(36), Some(12)));
    assert_eq!(f.reason, FinishReason::Stop);

    let chunks = whole("nonstream_tool_use.body");
    assert_eq!(text(&chunks), "Checking.");
    assert_eq!(reasoning(&chunks), "Need the weather.");
    assert!(matches!(&chunks[2], Chunk::ToolCallStart(s) if s.index == 0 && s.id == "toolu_W"));
    assert!(matches!(&chunks[3], Chunk::ToolCallDelta(d) if d.arguments == r#"{"city":"Rome"}"#));
    assert_eq!(
        calls(&chunks),
        vec![ToolCall::new(
            "toolu_W",
            "get_weather",
            json!({"city": "Rome"})
        )]
    );
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::ToolCalls);
    assert_eq!((f.tokens_in, f.cached_tokens_in), (Some(150), Some(50)));
    assert_eq!(
        f.reasoning_blocks,
        vec![ThinkingBlock::Thinking {
            thinking: "Need the weather.".into(),
            signature: "c2lnLXdob2xl".into()
        }]
    );
}

// ---- every event kind ----

#[test]
fn text_then_a_tool_call_with_cache_counts() {
    let chunks = decode("tool_use_stream.body");
    assert_eq!(text(&chunks), "Let me check the weather.");
    // The call's index is its number among calls (0), not its block index (1).
    let starts: Vec<_> = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCallStart(s) => Some((s.index, s.id.clone(), s.name.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(starts, vec![(0, "toolu_01KF".into(), "get_weather".into())]);
    let deltas: String = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCallDelta(d) => {
                assert_eq!(d.index, 0);
                assert!(!d.arguments.is_empty(), "no empty deltas");
                Some(d.arguments.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(deltas, r#"{"city": "Paris"}"#);
    assert_eq!(calls(&chunks)[0].arguments, json!({"city": "Paris"}));
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::ToolCalls);
    // 849 input + 2048 cache reads + 120 cache writes; output overwritten (10 then 47).
    assert_eq!((f.tokens_in, f.tokens_out), (Some(3017), Some(47)));
    assert_eq!(
        (f.cached_tokens_in, f.cache_write_tokens_in),
        (Some(2048), Some(120))
    );
    assert_eq!(f.response_id.as_deref(), Some("msg_01Tool"));
}

#[test]
fn a_tool_without_parameters_gets_an_empty_object() {
    let chunks = decode("parallel_tool_use_stream.body");
    assert_eq!(
        calls(&chunks),
        vec![
            ToolCall::new("toolu_A", "get_weather", json!({"city": "Oslo"})),
            ToolCall::new("toolu_B", "get_time", json!({})),
        ]
    );
    let starts: Vec<usize> = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCallStart(s) => Some(s.index),
            _ => None,
        })
        .collect();
    assert_eq!(starts, vec![0, 1]);
}

#[test]
fn thinking_and_its_signature_are_kept_for_the_next_turn() {
    let chunks = decode("thinking_stream.body");
    assert_eq!(reasoning(&chunks), "The user wants a short answer.");
    assert_eq!(text(&chunks), "Forty-two.");
    let f = finish(&chunks);
    assert_eq!(
        f.reasoning_blocks,
        vec![
            ThinkingBlock::Thinking {
                thinking: "The user wants a short answer.".into(),
                signature: "ErUBCkYIBRgCIkB0c2lnbmF0dXJl".into(),
            },
            ThinkingBlock::RedactedThinking {
                data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT".into()
            },
        ]
    );
    assert_eq!(f.reasoning_tokens_out, Some(50));
    assert_eq!(f.tokens_out, Some(64));
}

#[test]
fn a_signature_replaces_and_a_thinking_block_without_one_is_not_kept() {
    let (chunks, end) = run(&[
        &ev(
            json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":"old"}}),
        ),
        &ev(
            json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"new"}}),
        ),
        r#"{"type":"content_block_stop","index":0}"#,
        // Display omitted: no thinking text, only the signature.
        &ev(
            json!({"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"unstarted"}}),
        ),
        // No signature: the API would refuse it back.
        &ev(
            json!({"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":"local"}}),
        ),
        STOP,
    ]);
    end.unwrap();
    assert_eq!(reasoning(&chunks), "unstartedlocal");
    assert_eq!(
        finish(&chunks).reasoning_blocks,
        vec![ThinkingBlock::Thinking {
            thinking: String::new(),
            signature: "new".into()
        }]
    );
}

#[test]
fn output_tokens_are_cumulative_and_overwritten() {
    let start = ev(
        json!({"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":5,"output_tokens":3}}}),
    );
    let (chunks, end) = run(&[
        &start,
        &text_event(0, "a"),
        r#"{"type":"message_delta","delta":{},"usage":{"output_tokens":9}}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}"#,
        STOP,
    ]);
    end.unwrap();
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(5), Some(12)));
}

#[test]
fn input_and_cache_counts_may_come_on_message_start_or_message_delta() {
    // On message_delta only.
    let (chunks, _) = run(&[
        &text_event(0, "a"),
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":7,"cache_read_input_tokens":3,"cache_creation_input_tokens":2,"output_tokens":4}}"#,
        STOP,
    ]);
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(12), Some(4)));
    assert_eq!(
        (f.cached_tokens_in, f.cache_write_tokens_in),
        (Some(3), Some(2))
    );
    // On both: the latest reported wins, a field not repeated stays.
    let (chunks, _) = run(&[
        r#"{"type":"message_start","message":{"usage":{"input_tokens":7,"cache_read_input_tokens":100,"output_tokens":1}}}"#,
        r#"{"type":"message_delta","delta":{},"usage":{"input_tokens":8,"output_tokens":4}}"#,
        STOP,
    ]);
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.cached_tokens_in), (Some(108), Some(100)));
    assert_eq!(f.cache_write_tokens_in, None, "not reported is not 0");
    // A count that is not a count: not reported (estimated), never a lost reply.
    let (chunks, end) = run(&[
        r#"{"type":"message_start","message":{"usage":{"input_tokens":"7","output_tokens":1}}}"#,
        r#"{"type":"message_delta","delta":{},"usage":{"output_tokens":-4}}"#,
        STOP,
    ]);
    end.unwrap();
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (None, None));
    // A cache count that is not a count makes the prompt total unknown.
    let (chunks, _) = run(&[
        r#"{"type":"message_delta","delta":{},"usage":{"input_tokens":7,"cache_read_input_tokens":1.5,"output_tokens":2}}"#,
        STOP,
    ]);
    assert_eq!(finish(&chunks).tokens_in, None);
    // Huge counts saturate.
    let (chunks, _) = run(&[
        r#"{"type":"message_delta","delta":{},"usage":{"input_tokens":1125899906842624,"cache_read_input_tokens":1125899906842624,"output_tokens":2}}"#,
        STOP,
    ]);
    assert_eq!(finish(&chunks).tokens_in, Some(2 * (1u64 << 50)));
}

#[test]
fn stop_reasons() {
    for (reason, want) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("refusal", FinishReason::Refusal),
        ("pause_turn", FinishReason::Other("pause_turn".into())),
        ("something_new", FinishReason::Other("something_new".into())),
    ] {
        let delta = ev(json!({"type":"message_delta","delta":{"stop_reason":reason}}));
        let (chunks, end) = run(&[&text_event(0, "x"), &delta, STOP]);
        end.unwrap();
        assert_eq!(finish(&chunks).reason, want, "{reason}");
    }
    // None given: stop.
    let (chunks, _) = run(&[&text_event(0, "x"), STOP]);
    assert_eq!(finish(&chunks).reason, FinishReason::Stop);
    let chunks = decode("refusal_stream.body");
    assert_eq!(finish(&chunks).reason, FinishReason::Refusal);
    assert_eq!(text(&chunks), "I can't help with that.");
}

#[test]
fn ping_unknown_events_and_newer_block_kinds_are_skipped() {
    let chunks = decode("newer_events_stream.body");
    assert_eq!(text(&chunks), "Sunny.");
    assert!(
        calls(&chunks).is_empty(),
        "a server tool is not the app's call"
    );
    assert_eq!(
        finish(&chunks).reason,
        FinishReason::Other("pause_turn".into())
    );
    let (chunks, end) = run(&[
        r#"{"type":"ping"}"#,
        &text_event(0, "a"),
        r#"{"type":"ping"}"#,
        STOP,
    ]);
    end.unwrap();
    assert_eq!(chunks.len(), 2);
}

#[test]
fn tool_input_that_is_not_json_is_an_error_naming_the_tool() {
    let (chunks, end) = run(&[
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\": Par"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        STOP,
    ]);
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    let msg = err.to_string();
    assert!(msg.contains("get_weather") && msg.contains("Par"), "{msg}");
    assert!(matches!(chunks[0], Chunk::ToolCallStart(_)));
}

#[test]
fn tool_calls_in_odd_shapes() {
    // Input given whole in the start (a compatible server), a call never stopped
    // (completed by message_stop), a call without an id (one is made up).
    let (chunks, end) = run(&[
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"a","input":{"x":1}}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","name":"b"}}"#,
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"y\":2}"}}"#,
        STOP,
    ]);
    end.unwrap();
    assert_eq!(
        calls(&chunks),
        vec![
            ToolCall::new("t1", "a", json!({"x": 1})),
            ToolCall::new("toolu_1", "b", json!({"y": 2}))
        ]
    );
    // A call without a name, and input for a block that is not a tool call.
    let (_, end) = run(&[
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","input":{}}}"#,
    ]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
    let (_, end) = run(&[
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
    ]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn blocks_started_and_never_stopped_are_capped() {
    // The API streams one block at a time; a server that opens blocks without end is
    // refused rather than making every lookup slower.
    let starts: Vec<String> = (0..300)
        .map(|i| ev(json!({"type":"content_block_start","index":i,"content_block":{"type":"text","text":""}})))
        .collect();
    let frames: Vec<&str> = starts.iter().map(String::as_str).collect();
    let (_, end) = run(&frames);
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("256"), "{err}");
    // Thinking deltas for ever new blocks still stream, without opening more.
    let deltas: Vec<String> = (0..300)
        .map(|i| ev(json!({"type":"content_block_delta","index":i,"delta":{"type":"thinking_delta","thinking":"t"}})))
        .collect();
    let mut frames: Vec<&str> = deltas.iter().map(String::as_str).collect();
    frames.push(STOP);
    let (chunks, end) = run(&frames);
    end.unwrap();
    assert_eq!(reasoning(&chunks).len(), 300);
}

#[test]
fn error_events_end_the_stream() {
    let (chunks, end) = decode_pieces(vec![body("error_after_text.body")]);
    assert_eq!(text(&chunks), "Once upon a time");
    let err = end.unwrap();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.is_retryable(), "the kit retries only before content");
    assert!(err.to_string().contains("Overloaded"), "{err}");
    assert!(err.to_string().contains("overloaded_error"), "{err}");

    let (chunks, end) = decode_pieces(vec![body("overloaded_before_content.body")]);
    assert!(chunks.is_empty());
    assert!(end.unwrap().is_retryable());

    for (error, kind, retryable) in [
        (
            json!({"type":"rate_limit_error","message":"Slow down"}),
            ErrorKind::RateLimited,
            true,
        ),
        (
            json!({"type":"api_error","message":"Internal"}),
            ErrorKind::Server,
            true,
        ),
        (
            json!({"type":"invalid_request_error","message":"Bad"}),
            ErrorKind::Server,
            false,
        ),
        (
            json!({"code":500,"message":"Context size has been exceeded.","type":"server_error"}),
            ErrorKind::Server,
            true,
        ),
        (json!("plain words"), ErrorKind::Server, true),
    ] {
        let err = stream_error(&error);
        assert_eq!(
            (err.kind(), err.is_retryable()),
            (kind, retryable),
            "{error}"
        );
    }
    // llama.cpp's shape, without an event type.
    let (_, end) = run(&[
        &text_event(0, "partial"),
        r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#,
    ]);
    let err = end.unwrap_err();
    assert!(
        err.to_string().contains("Context size has been exceeded"),
        "{err}"
    );
}

#[test]
fn a_body_cut_before_message_stop_is_truncated_not_short() {
    let whole = body("stream.body");
    let cut = String::from_utf8_lossy(&whole)
        .find("event: message_stop")
        .unwrap();
    let (chunks, end) = decode_pieces(vec![whole[..cut].to_vec()]);
    assert_eq!(text(&chunks), "I'm sorry for any confusion.");
    assert!(!chunks.iter().any(|c| matches!(c, Chunk::Finish(_))));
    let err = end.unwrap();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("message_stop"), "{err}");
    // Nothing at all.
    let (_, end) = run(&[]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Network);
}

#[test]
fn a_body_that_is_not_a_messages_reply_says_so() {
    let (_, end) =
        run(&[r#"{"choices":[{"delta":{"content":"hi"}}],"object":"chat.completion.chunk"}"#]);
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("chat.completion.chunk"), "{err}");
    let (_, end) = run(&["not json"]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
    let (_, end) =
        run(&[r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":5}}"#]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
    let mut d = MessagesDecoder::new(origin());
    let err = d.frame(&[0xff, 0xfe], &mut VecDeque::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

// ---- any split of a body gives the same chunks ----

/// The chunks and the error of `body` cut at `cuts`, each as text, for comparison.
fn shown(pieces: Vec<Vec<u8>>) -> Vec<String> {
    let (chunks, err) = decode_pieces(pieces);
    chunks
        .iter()
        .map(|c| format!("{c:?}"))
        .chain(err.map(|e| format!("error {:?}: {e}", e.kind())))
        .collect()
}

fn cut(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut last = 0;
    for &c in cuts {
        pieces.push(body[last..c].to_vec());
        last = c;
    }
    pieces.push(body[last..].to_vec());
    pieces
}

/// Coalesces adjacent text and reasoning chunks: how text is cut into chunks follows the
/// events, never the reads, but this states what must hold either way.
#[test]
fn any_split_of_a_body_gives_the_same_chunks() {
    for name in [
        "stream.body",
        "unicode_stream.body",
        "tool_use_stream.body",
        "thinking_stream.body",
        "error_after_text.body",
        "newer_events_stream.body",
    ] {
        let whole = body(name);
        let want = shown(vec![whole.clone()]);
        assert!(want.len() >= 2, "{name}");
        for at in 0..=whole.len() {
            assert_eq!(shown(cut(&whole, &[at])), want, "{name} cut at {at}");
        }
        let every_byte: Vec<Vec<u8>> = whole.iter().map(|b| vec![*b]).collect();
        assert_eq!(shown(every_byte), want, "{name} byte by byte");
        // Two cuts, spread over the body.
        let step = (whole.len() / 40).max(1);
        for a in (0..whole.len()).step_by(step) {
            for b in (a..whole.len()).step_by(step * 3 + 1) {
                assert_eq!(shown(cut(&whole, &[a, b])), want, "{name} cut at {a}, {b}");
            }
        }
    }
}

// ---- the request body ----

fn body_of(request: &ChatRequest) -> Value {
    serde_json::to_value(request::Request::from_chat(request, "m", 4096)).unwrap()
}

#[test]
fn request_body_has_exactly_the_options_set() {
    let req = ChatRequest::new("hi")
        .system("sys")
        .temperature(0.5)
        .max_tokens(7)
        .stop(["x"])
        .seed(3);
    assert_eq!(
        body_of(&req),
        json!({
            "model": "m",
            "max_tokens": 7,
            "system": "sys",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "temperature": 0.5,
            "stop_sequences": ["x"]
        })
    );
    // The API requires max_tokens: the provider's default when the request sets none.
    let v = body_of(&ChatRequest::new("hi"));
    assert_eq!(
        v,
        json!({"model": "m", "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}], "stream": true})
    );
}

#[test]
fn system_messages_are_folded_into_the_top_level_system() {
    let req = ChatRequest::default().system("Be terse.").messages([
        Message::system("Answer in French."),
        Message::user("hi"),
        Message::system("   "),
        Message::system("Never apologize."),
    ]);
    let v = body_of(&req);
    assert_eq!(
        v["system"],
        json!("Be terse.\n\nAnswer in French.\n\nNever apologize.")
    );
    assert_eq!(v["messages"], json!([{"role": "user", "content": "hi"}]));
}

#[test]
fn consecutive_turns_of_one_role_are_merged() {
    let req = ChatRequest::default().messages([
        Message::user("one"),
        Message::user("two"),
        Message::assistant("three"),
        Message::assistant(""),
        Message::user(""),
        Message::assistant("four"),
    ]);
    assert_eq!(
        body_of(&req)["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "three"}, {"type": "text", "text": "four"}]},
        ])
    );
}

#[test]
fn tool_results_are_one_user_turn_right_after_the_calls() {
    let mut assistant = Message::assistant("Checking both.").with_tool_calls([
        ToolCall::new("toolu_1", "get_weather", json!({"city": "Paris"})),
        ToolCall::new("toolu_2", "get_time", Value::Null),
    ]);
    assistant.reasoning.text = "thinking text".into();
    assistant.reasoning.blocks = vec![
        ThinkingBlock::Thinking {
            thinking: "Two tools.".into(),
            signature: "sig".into(),
        },
        ThinkingBlock::RedactedThinking {
            data: "opaque".into(),
        },
    ];
    let req = ChatRequest::default().messages([
        Message::user("Weather and time in Paris?"),
        assistant,
        Message::tool_result("toolu_1", "get_weather", "18 C"),
        Message::tool_result("toolu_2", "get_time", "12:00"),
        Message::user("Thanks; and tomorrow?"),
    ]);
    assert_eq!(
        body_of(&req)["messages"],
        json!([
            {"role": "user", "content": "Weather and time in Paris?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Two tools.", "signature": "sig"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "12:00"},
                {"type": "text", "text": "Thanks; and tomorrow?"},
            ]},
        ])
    );
    // A result after text in the same turn still comes first.
    let req = ChatRequest::default().messages([
        Message::assistant("").with_tool_calls([ToolCall::new("t", "f", json!({}))]),
        Message::user("note"),
        Message::tool_result("t", "f", "done"),
    ]);
    assert_eq!(
        body_of(&req)["messages"][1]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "t", "content": "done"},
            {"type": "text", "text": "note"},
        ])
    );
}

#[test]
fn the_request_of_the_recorded_tool_result_turn() {
    // What the llama.cpp server accepted, made from a ChatRequest.
    let recorded: Value = serde_json::from_slice(&body("tool_result_turn_stream.request")).unwrap();
    let weather = Tool::new(
        "get_weather",
        "Get the weather for a city",
        json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    );
    let req = ChatRequest::default()
        .tool(weather)
        .max_tokens(32)
        .temperature(0.0)
        .messages([
            Message::user("What is the weather in Paris?"),
            Message::assistant("").with_tool_calls([ToolCall::new(
                "toolu_01",
                "get_weather",
                json!({"city": "Paris"}),
            )]),
            Message::tool_result("toolu_01", "get_weather", "18 C and sunny"),
        ]);
    let mut ours =
        serde_json::to_value(request::Request::from_chat(&req, "smollm2", 4096)).unwrap();
    let mut recorded = recorded;
    // 0 and 0.0 are different JSON values: compared apart.
    assert_eq!(
        ours.as_object_mut()
            .unwrap()
            .remove("temperature")
            .unwrap()
            .as_f64(),
        recorded
            .as_object_mut()
            .unwrap()
            .remove("temperature")
            .unwrap()
            .as_f64()
    );
    assert_eq!(ours, recorded);
}

#[test]
fn images_go_before_the_text_as_base64_or_url() {
    let req = ChatRequest::default().messages([Message::user("What is this?")
        .image(Image::bytes("image/png", b"foo".to_vec()))
        .image(Image::url("data:image/jpeg;base64,YmFy"))
        .image(Image::url("https://example.com/cat.jpg"))]);
    assert_eq!(
        body_of(&req)["messages"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "Zm9v"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "YmFy"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "What is this?"},
        ])
    );
    // A tool result with an image carries it in its content.
    let mut result = Message::tool_result("t", "screenshot", "here");
    result.images.push(Image::bytes("image/png", b"f".to_vec()));
    let req = ChatRequest::default().messages([result]);
    assert_eq!(
        body_of(&req)["messages"][0]["content"][0]["content"],
        json!([
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "Zg=="}},
            {"type": "text", "text": "here"},
        ])
    );
}

#[test]
fn tools_and_tool_choice() {
    let tool = Tool::new("get", "Get it", json!({"type": "object", "properties": {}}));
    for (choice, want) in [
        (ToolChoice::Auto, json!({"type": "auto"})),
        (ToolChoice::None, json!({"type": "none"})),
        (ToolChoice::Required, json!({"type": "any"})),
        (
            ToolChoice::Tool("get".into()),
            json!({"type": "tool", "name": "get"}),
        ),
    ] {
        let req = ChatRequest::new("x").tool(tool.clone()).tool_choice(choice);
        let v = body_of(&req);
        assert_eq!(v["tool_choice"], want);
        assert_eq!(
            v["tools"],
            json!([{"name": "get", "description": "Get it", "input_schema": {"type": "object", "properties": {}}}])
        );
    }
    // No tools: no tool choice (the API rejects one alone).
    let v = body_of(&ChatRequest::new("x").tool_choice(ToolChoice::None));
    assert!(v.get("tool_choice").is_none() && v.get("tools").is_none());
    // Strict tools say so; no description, no field.
    let strict = Tool::new(
        "s",
        "",
        json!({"type": "object", "properties": {"a": {"type": "string"}}}),
    )
    .strict();
    let v = body_of(&ChatRequest::new("x").tool(strict));
    assert_eq!(v["tools"][0]["strict"], json!(true));
    assert!(v["tools"][0].get("description").is_none());
}

#[test]
fn structured_output_uses_output_config_with_closed_objects() {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
            "either": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {}}]},
            "open": {"type": "object", "additionalProperties": false}
        },
        "required": ["name"],
        "$defs": {"P": {"type": "object", "properties": {"x": {"type": "number"}}}}
    });
    let req = ChatRequest::new("Invent one.")
        .response_format(ResponseFormat::json_schema("person", schema.clone()));
    let v = body_of(&req);
    let format = &v["output_config"]["format"];
    assert_eq!(format["type"], json!("json_schema"));
    let sent = &format["schema"];
    assert_eq!(sent["additionalProperties"], json!(false));
    assert_eq!(
        sent["required"],
        json!(["name"]),
        "required is left as it was"
    );
    assert_eq!(
        sent["properties"]["tags"]["items"]["additionalProperties"],
        json!(false)
    );
    assert_eq!(
        sent["properties"]["either"]["anyOf"][1]["additionalProperties"],
        json!(false)
    );
    assert_eq!(
        sent["properties"]["either"]["anyOf"][0],
        json!({"type": "string"})
    );
    assert_eq!(sent["$defs"]["P"]["additionalProperties"], json!(false));
    assert_eq!(sent["properties"]["name"], json!({"type": "string"}));
    assert!(v.get("system").is_none());
    assert_eq!(closed(&closed(&schema)), closed(&schema), "idempotent");
    assert_eq!(closed(&json!(true)), json!(true));

    // JSON mode has no native counterpart: an instruction in the system prompt.
    let req = ChatRequest::new("List three colors.")
        .system("Be brief.")
        .response_format(ResponseFormat::JsonObject);
    let v = body_of(&req);
    assert_eq!(
        v["system"],
        json!(format!("Be brief.\n\n{JSON_OBJECT_INSTRUCTION}"))
    );
    assert!(v.get("output_config").is_none());
    let v = body_of(&ChatRequest::new("x").response_format(ResponseFormat::Text));
    assert!(v.get("output_config").is_none() && v.get("system").is_none());
}

// ---- the dialect: path, headers ----

fn provider() -> AnthropicProvider {
    AnthropicProvider::builder()
        .api_key("sk-ant-very-secret")
        .build()
        .unwrap()
}

#[test]
fn requests_go_to_v1_messages_with_the_headers() {
    let p = provider();
    let http = p
        .http
        .dialect()
        .request(&ChatRequest::new("hi"), "m")
        .unwrap();
    assert_eq!(http.path(), "/v1/messages");
    let header = |name: &str| {
        http.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(header("x-api-key").as_deref(), Some("sk-ant-very-secret"));
    assert!(http.headers.get("x-api-key").unwrap().is_sensitive());
    assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(header("accept").as_deref(), Some("text/event-stream"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert!(!format!("{http:?}").contains("very-secret"));
    // A base URL ending in /v1 is not doubled.
    for base in [
        "https://api.anthropic.com/v1",
        "https://api.anthropic.com/v1/",
    ] {
        let p = AnthropicProvider::builder()
            .api_key("k")
            .base_url(base)
            .build()
            .unwrap();
        let http = p
            .http
            .dialect()
            .request(&ChatRequest::new("hi"), "m")
            .unwrap();
        assert_eq!(http.path(), "/messages", "{base}");
    }
    // A version of one's own replaces the default; no key, no x-api-key.
    let p = AnthropicProvider::builder()
        .base_url("http://127.0.0.1:1")
        .header("anthropic-version", "2099-01-01")
        .header("anthropic-beta", "feature-x")
        .build()
        .unwrap();
    let http = p
        .http
        .dialect()
        .request(&ChatRequest::new("hi"), "m")
        .unwrap();
    let versions: Vec<_> = http.headers.get_all("anthropic-version").iter().collect();
    assert_eq!(versions, vec!["2099-01-01"]);
    assert!(http.headers.get("x-api-key").is_none());
    assert_eq!(http.headers.get("anthropic-beta").unwrap(), "feature-x");
}

#[test]
fn the_default_max_tokens_is_the_builders() {
    let p = AnthropicProvider::builder()
        .api_key("k")
        .default_max_tokens(99)
        .build()
        .unwrap();
    let http = p
        .http
        .dialect()
        .request(&ChatRequest::new("hi"), "m")
        .unwrap();
    let v: Value = serde_json::from_slice(&http.body).unwrap();
    assert_eq!(v["max_tokens"], json!(99));
    let err = AnthropicProvider::builder()
        .api_key("k")
        .default_max_tokens(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn the_price_table_is_anthropics() {
    let p = provider();
    assert!(matches!(
        p.http.dialect().pricing("claude-haiku-5-5"),
        crate::pricing::Pricing::Metered(_)
    ));
    assert_eq!(
        p.http.dialect().pricing("smollm2"),
        crate::pricing::Pricing::Unknown
    );
    let p = AnthropicProvider::builder()
        .api_key("k")
        .price("smollm2", crate::Price::per_million_usd(1.0, 2.0))
        .build()
        .unwrap();
    assert!(matches!(
        p.http.dialect().pricing("smollm2"),
        crate::pricing::Pricing::Metered(_)
    ));
}

// ---- errors ----

fn failure(status: u16, body: &str) -> ErrorResponse {
    ErrorResponse {
        status,
        retry_after: None,
        rate_limit: None,
        body: ErrorBody::parse(body.as_bytes()),
    }
}

fn classified(status: u16, body: &str) -> Error {
    classify(
        failure(status, body),
        "claude-x",
        "https://api.anthropic.com",
        "/v1/messages",
    )
}

#[test]
fn http_errors_by_status_and_type() {
    let anthropic = |kind: &str, msg: &str| {
        format!(
            r#"{{"type":"error","error":{{"type":"{kind}","message":"{msg}"}},"request_id":"req_1"}}"#
        )
    };
    let err = classified(401, &anthropic("authentication_error", "invalid x-api-key"));
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("invalid x-api-key"));
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"));
    let err = classified(403, &anthropic("permission_error", "not allowed"));
    assert_eq!(err.kind(), ErrorKind::Auth);
    let err = classified(404, &anthropic("not_found_error", "model: claude-x"));
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
    assert!(err.to_string().contains("model: claude-x"), "{err}");
    let err = classified(
        404,
        r#"{"error":{"message":"File Not Found","type":"not_found_error","code":404}}"#,
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("https://api.anthropic.com/v1/messages does not exist"),
        "{err}"
    );
    let mut limited = failure(
        429,
        &anthropic(
            "rate_limit_error",
            "Number of requests has exceeded your rate limit",
        ),
    );
    limited.retry_after = Some(Duration::from_secs(7));
    let err = classify(limited, "m", "b", "/v1/messages");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    let err = classified(529, &anthropic("overloaded_error", "Overloaded"));
    assert_eq!((err.kind(), err.is_retryable()), (ErrorKind::Server, true));
    assert!(err.to_string().contains("Overloaded"));
    let err = classified(500, &anthropic("api_error", "Internal server error"));
    assert_eq!((err.kind(), err.is_retryable()), (ErrorKind::Server, true));
    let err = classified(
        400,
        &anthropic("invalid_request_error", "max_tokens: Field required"),
    );
    assert_eq!(
        (err.kind(), err.is_retryable()),
        (ErrorKind::InvalidRequest, false)
    );
    assert!(err.to_string().contains("max_tokens: Field required"));
    let err = classified(
        413,
        &anthropic("request_too_large", "Request exceeds the maximum size"),
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = classified(413, "<html>413 Request Entity Too Large</html>");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    // llama.cpp's shape.
    let err = classified(
        400,
        &String::from_utf8(body("context_exceeded_stream.body")).unwrap(),
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("exceeds the available context size (1024 tokens)"),
        "{err}"
    );
    let err = classified(
        400,
        &String::from_utf8(body("malformed_json.body")).unwrap(),
    );
    assert!(err.to_string().contains("parse error"), "{err}");
    assert!(err.to_string().starts_with("anthropic "), "{err}");
}

// ---- configuration ----

fn from_lookup(pairs: &'static [(&'static str, &'static str)]) -> Result<AnthropicProvider> {
    AnthropicProvider::builder_from_lookup(move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .build()
}

#[test]
fn env_config() {
    let err = from_lookup(&[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
    let p = from_lookup(&[("ANTHROPIC_API_KEY", "k")]).unwrap();
    assert_eq!(p.base_url(), "https://api.anthropic.com");
    assert_eq!(p.default_model(), "claude-haiku-5-5");
    let p = from_lookup(&[
        ("ANTHROPIC_API_KEY", " "),
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:18080/"),
    ])
    .unwrap();
    assert_eq!(p.base_url(), "http://127.0.0.1:18080");
    let err = from_lookup(&[
        ("ANTHROPIC_API_KEY", "k"),
        ("ANTHROPIC_BASE_URL", "localhost:8080"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("ANTHROPIC_BASE_URL"), "{err}");
    let err = from_lookup(&[("ANTHROPIC_BASE_URL", "https://gateway.example")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
    // Not from the environment: a plain invalid request.
    let err = AnthropicProvider::builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        AnthropicProvider::new(" ").unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
}

#[test]
fn debug_never_shows_secrets() {
    let p = AnthropicProvider::builder()
        .api_key("sk-ant-very-secret")
        .header("anthropic-beta", "beta-secret-value")
        .build()
        .unwrap();
    let dbg = format!("{p:?}");
    assert!(
        !dbg.contains("very-secret") && !dbg.contains("beta-secret-value"),
        "{dbg}"
    );
    assert!(
        dbg.contains("anthropic-beta") && dbg.contains("4096"),
        "{dbg}"
    );
    let b = AnthropicProvider::builder().api_key("sk-ant-very-secret");
    assert!(!format!("{b:?}").contains("very-secret"));
    assert!(!format!("{:?}", p.http.dialect()).contains("very-secret"));
}

#[test]
fn builder_errors_name_the_header() {
    let err = AnthropicProvider::builder()
        .api_key("k")
        .header("bad header", "v")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("bad header"));
    let p = AnthropicProvider::builder()
        .api_key("bad\nkey")
        .build()
        .unwrap();
    let err = p
        .http
        .dialect()
        .request(&ChatRequest::new("hi"), "m")
        .unwrap_err();
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
}

#[test]
fn roles_are_what_the_api_names() {
    // Role::Tool becomes a user turn, Role::System the top-level system.
    let req = ChatRequest::default().messages([Message::new(Role::Tool, "r")]);
    let mut req = req;
    req.messages[0].tool_call_id = Some("t".into());
    assert_eq!(body_of(&req)["messages"][0]["role"], json!("user"));
}
