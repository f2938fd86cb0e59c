//! Every event kind of the stream: text, tools, thinking, counts, stop reasons, errors.

use super::*;

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
