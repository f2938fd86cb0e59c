//! Every shape of reply: text, thoughts, function calls with and without ids, thought
//! signatures, usage (in every chunk, or last with no candidates), finish reasons,
//! blocked prompts, errors mid-stream, whole replies, truncation and the reply cap.

use super::*;

#[test]
fn text_streams_in_order_and_the_end_of_the_body_finishes() {
    let body = transcript("text_stream.sse");
    let (chunks, err) = decode_pieces(vec![body]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        text(&chunks),
        "The sky looks blue because air molecules scatter short (blue) wavelengths of sunlight more than long ones: Rayleigh scattering."
    );
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Stop);
    // Each chunk repeats the totals: the last one counts.
    assert_eq!((f.tokens_in, f.tokens_out), (Some(11), Some(25)));
    assert_eq!(f.reasoning_tokens_out, None);
    assert_eq!(f.cached_tokens_in, None);
    assert_eq!(f.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(f.response_id.as_deref(), Some("Xq3bZ8-TEXTstreamAAAA"));
    assert!(f.reasoning_blocks.is_empty());
}

#[test]
fn any_split_of_a_body_gives_the_same_chunks() {
    for name in [
        "text_stream.sse",
        "thinking_stream.sse",
        "parallel_calls_stream.sse",
        "call_with_id_usage_last.sse",
        "error_after_text_stream.sse",
    ] {
        let body = transcript(name);
        let whole = decode_pieces(vec![body.clone()]);
        let whole = format!("{whole:?}");
        for size in [1, 2, 3, 7, 64] {
            let pieces = body.chunks(size).map(<[u8]>::to_vec).collect();
            assert_eq!(
                format!("{:?}", decode_pieces(pieces)),
                whole,
                "{name} {size}"
            );
        }
    }
}

#[test]
fn thoughts_are_reasoning_and_output_counts_them() {
    let (chunks, err) = decode_pieces(vec![transcript("thinking_stream.sse")]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        reasoning(&chunks),
        "**Counting the letters**\n\nI spell strawberry and count each r. Three r's: st-r-awbe-rr-y."
    );
    assert_eq!(
        text(&chunks),
        "There are three r's in \u{201c}strawberry\u{201d}."
    );
    let f = finish(&chunks);
    // Output is the reply and the thoughts (billed alike); the thoughts apart.
    assert_eq!((f.tokens_in, f.tokens_out), (Some(9), Some(352)));
    assert_eq!(f.reasoning_tokens_out, Some(340));
    // The signature came on an empty text part at the end: kept to go back on the text.
    assert_eq!(
        f.reasoning_blocks,
        vec![signature(
            "CiQBcsjafGSIGNtextAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            None,
            None
        )]
    );
}

#[test]
fn calls_without_ids_get_stable_unique_ids_and_their_signature() {
    let (chunks, err) = decode_pieces(vec![transcript("parallel_calls_stream.sse")]);
    assert!(err.is_none(), "{err:?}");
    let rid = "Zu9dR2-CALLSstreamCCC";
    assert_eq!(
        calls(&chunks),
        vec![
            ToolCall::new(
                format!("call_{rid}_0"),
                "get_weather",
                json!({"city": "Paris"})
            ),
            ToolCall::new(format!("call_{rid}_1"), "get_time", json!({})),
        ]
    );
    // Each call: its start, one delta with all of its arguments, then the call.
    let shapes: Vec<String> = chunks
        .iter()
        .map(|c| match c {
            Chunk::ToolCallStart(s) => format!("start {} {} {}", s.index, s.id, s.name),
            Chunk::ToolCallDelta(d) => format!("delta {} {}", d.index, d.arguments),
            Chunk::ToolCall(c) => format!("call {}", c.id),
            Chunk::Finish(_) => "finish".into(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        shapes,
        [
            format!("start 0 call_{rid}_0 get_weather"),
            r#"delta 0 {"city":"Paris"}"#.to_owned(),
            format!("call call_{rid}_0"),
            format!("start 1 call_{rid}_1 get_time"),
            "delta 1 {}".to_owned(),
            format!("call call_{rid}_1"),
            "finish".to_owned(),
        ]
    );
    let f = finish(&chunks);
    // Gemini says STOP after calls.
    assert_eq!(f.reason, FinishReason::ToolCalls);
    assert_eq!(
        f.reasoning_blocks,
        vec![signature(
            "CikBcsjafCALLsigOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO=",
            Some(&format!("call_{rid}_0")),
            None
        )]
    );
    assert_eq!((f.tokens_in, f.tokens_out), (Some(83), Some(125)));
    // Without a reply id, the ids are still unique within the reply.
    let chunks = chunks_of(&[
        &parts(
            json!([{"functionCall": {"name": "a"}}, {"functionCall": {"name": "b", "args": null}}]),
            None,
        ),
        &stop(),
    ]);
    let ids: Vec<String> = calls(&chunks).into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["call_0", "call_1"]);
    assert_eq!(calls(&chunks)[1].arguments, json!({}));
}

#[test]
fn a_call_keeps_its_id_and_usage_may_come_last_without_candidates() {
    let (chunks, err) = decode_pieces(vec![transcript("call_with_id_usage_last.sse")]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text(&chunks), "Let me check the weather.");
    assert_eq!(
        calls(&chunks),
        vec![ToolCall::new(
            "fc_7f3a",
            "get_weather",
            json!({"city": "Oslo", "unit": "celsius"})
        )]
    );
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(120), Some(89)));
    assert_eq!(f.reasoning_tokens_out, Some(58));
    assert_eq!(f.cached_tokens_in, Some(64));
    assert_eq!(f.model.as_deref(), Some("gemini-3.8-flash"));
    assert_eq!(
        f.reasoning_blocks,
        vec![signature(
            "EjQKMgEMcallSIGwithIDxxxxxxxxxxxxxxxxxxxxxxxxx=",
            Some("fc_7f3a"),
            None
        )]
    );
}

#[test]
fn a_signature_on_a_thought_part_keeps_the_thought_run_it_signs() {
    let chunks = chunks_of(&[
        &parts(json!([{"text": "First ", "thought": true}]), None),
        &parts(
            json!([{"text": "second.", "thought": true, "thoughtSignature": "sig-1"}]),
            None,
        ),
        &parts(json!([{"text": "unsigned", "thought": true}]), None),
        &parts(json!([{"text": "Answer."}]), None),
        // An empty thought part that only signs: the run before it is empty.
        &parts(
            json!([{"thought": true, "thoughtSignature": "sig-2"}]),
            None,
        ),
        // A signature nested in the call (some 2.x servers).
        &parts(
            json!([{"functionCall": {"id": "c1", "name": "f", "args": {}, "thoughtSignature": "sig-3"}}]),
            Some("STOP"),
        ),
    ]);
    assert_eq!(reasoning(&chunks), "First second.unsigned");
    assert_eq!(text(&chunks), "Answer.");
    assert_eq!(
        finish(&chunks).reasoning_blocks,
        vec![
            signature("sig-1", None, Some("First second.")),
            signature("sig-2", None, Some("")),
            signature("sig-3", Some("c1"), None),
        ]
    );
}

#[test]
fn finish_reasons_map_to_the_crates() {
    for (reason, want) in [
        ("STOP", FinishReason::Stop),
        ("MAX_TOKENS", FinishReason::Length),
        ("SAFETY", FinishReason::ContentFilter),
        ("RECITATION", FinishReason::ContentFilter),
        ("BLOCKLIST", FinishReason::ContentFilter),
        ("PROHIBITED_CONTENT", FinishReason::ContentFilter),
        ("SPII", FinishReason::ContentFilter),
        ("IMAGE_SAFETY", FinishReason::ContentFilter),
        ("LANGUAGE", FinishReason::Other("language".into())),
        ("OTHER", FinishReason::Other("other".into())),
    ] {
        let chunks = chunks_of(&[&text_chunk("a"), &parts(json!([]), Some(reason))]);
        assert_eq!(finish(&chunks).reason, want, "{reason}");
    }
    let (chunks, err) = decode_pieces(vec![transcript("safety_stream.sse")]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text(&chunks), "Here is how");
    assert_eq!(finish(&chunks).reason, FinishReason::ContentFilter);
    let (_, err) = decode_pieces(vec![transcript("max_tokens_stream.sse")]);
    assert!(err.is_none());
}

#[test]
fn a_malformed_function_call_is_a_protocol_error_in_the_servers_words() {
    let (chunks, err) = decode_pieces(vec![transcript("malformed_function_call_stream.sse")]);
    assert!(chunks.is_empty(), "{chunks:?}");
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("MALFORMED_FUNCTION_CALL"), "{err}");
    assert!(
        err.to_string()
            .contains("Malformed function call: print(get_weather(city=Paris))"),
        "{err}"
    );
}

#[test]
fn a_blocked_prompt_is_an_error_not_an_empty_reply() {
    let (chunks, err) = decode_pieces(vec![transcript("blocked_prompt_stream.sse")]);
    assert!(chunks.is_empty(), "{chunks:?}");
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .contains("blocked the prompt (PROHIBITED_CONTENT)"),
        "{err}"
    );
    let (_, err) = failure_of(&[
        &json!({"promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": "Unsafe."}})
            .to_string(),
    ]);
    assert!(err.to_string().contains("(SAFETY): Unsafe"), "{err}");
    // Feedback without a block reason is not a block.
    let chunks = chunks_of(&[
        &json!({"promptFeedback": {"safetyRatings": []}}).to_string(),
        &text_chunk("ok"),
        &stop(),
    ]);
    assert_eq!(text(&chunks), "ok");
}

#[test]
fn an_error_object_mid_stream_keeps_the_text_before_it() {
    let (chunks, err) = decode_pieces(vec![transcript("error_after_text_stream.sse")]);
    assert_eq!(text(&chunks), "The first");
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("(UNAVAILABLE)"), "{err}");
    assert!(err.to_string().contains("The model is overloaded"), "{err}");
    // By status: a rate limit (with its delay), an invalid request, a refusal.
    let (_, err) = failure_of(&[&json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota.", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}}).to_string()]);
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(
        err.retry_after(),
        Some(std::time::Duration::from_millis(1500))
    );
    let (_, err) = failure_of(&[
        &json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Bad."}})
            .to_string(),
    ]);
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.is_retryable());
    let (_, err) = failure_of(&[
        &json!({"error": {"status": "PERMISSION_DENIED", "message": "No."}}).to_string(),
    ]);
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(!err.is_retryable());
    // Without a status, its code says the same.
    let (_, err) =
        failure_of(&[&json!({"error": {"code": 429, "message": "Slow down."}}).to_string()]);
    assert_eq!(
        (err.kind(), err.is_retryable()),
        (ErrorKind::RateLimited, true)
    );
    let (_, err) = failure_of(&[&json!({"error": {"code": 400, "message": "Bad."}}).to_string()]);
    assert_eq!(
        (err.kind(), err.is_retryable()),
        (ErrorKind::InvalidRequest, false)
    );
    let (_, err) = failure_of(&[&json!({"error": {"code": 500, "message": "Oops."}}).to_string()]);
    assert_eq!((err.kind(), err.is_retryable()), (ErrorKind::Server, true));
    let (_, err) = failure_of(&[&json!({"error": "plain words"}).to_string()]);
    assert!(err.to_string().contains("plain words"), "{err}");
    // `"error": null` is no error.
    let chunks = chunks_of(&[
        &json!({"error": null, "candidates": []}).to_string(),
        &stop(),
    ]);
    assert!(matches!(chunks.last(), Some(Chunk::Finish(_))));
}

#[test]
fn whole_replies_decode_as_one_frame() {
    let body = String::from_utf8(transcript("nonstream.json")).unwrap();
    let chunks = chunks_of(&[&body]);
    assert_eq!(text(&chunks), "Paris is the capital of France.");
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(8), Some(32)));
    assert_eq!(f.reasoning_blocks.len(), 1);
    // streamGenerateContent without alt=sse: a JSON array of chunks.
    let body = String::from_utf8(transcript("stream_array.json")).unwrap();
    let chunks = chunks_of(&[&body]);
    assert_eq!(text(&chunks), "One, two, three.");
    assert_eq!(finish(&chunks).tokens_out, Some(7));
    // An array whose element is not a response is malformed.
    let (_, err) = failure_of(&["[1, 2]"]);
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[test]
fn a_body_that_ends_without_a_finish_reason_is_truncated() {
    let (chunks, err) = failure_of(&[&text_chunk("Once upon")]);
    assert_eq!(text(&chunks), "Once upon");
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("finishReason"), "{err}");
    let (_, err) = failure_of(&[]);
    assert_eq!(err.kind(), ErrorKind::Network);
    // JSON that is not a Gemini reply at all is quoted.
    let (_, err) = failure_of(&[r#"{"choices": [{"delta": {"content": "hi"}}]}"#]);
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("holds no Gemini reply"), "{err}");
    assert!(err.to_string().contains("choices"), "{err}");
}

#[test]
fn frames_that_are_not_responses_are_malformed() {
    for bad in [
        "not json",
        r#"{"candidates": {"a": 1}}"#,
        r#"{"candidates": [{"content": {"parts": [{"text": 5}]}}]}"#,
        "\u{fffd}",
    ] {
        let (_, err) = failure_of(&[bad]);
        assert_eq!(err.kind(), ErrorKind::Protocol, "{bad}");
    }
    let mut d = GeminiDecoder::new(origin());
    let err = d.frame(&[0xff, 0xfe], &mut VecDeque::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[test]
fn a_call_without_a_name_is_malformed() {
    let (_, err) = failure_of(&[&parts(json!([{"functionCall": {"args": {}}}]), None)]);
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("no name"), "{err}");
}

#[test]
fn only_the_first_candidate_is_read() {
    let two = json!({"candidates": [
        {"content": {"parts": [{"text": "second"}]}, "index": 1},
        {"content": {"parts": [{"text": "first"}]}, "index": 0, "finishReason": "STOP"},
    ]});
    let chunks = chunks_of(&[&two.to_string()]);
    assert_eq!(text(&chunks), "first");
}

#[test]
fn counts_that_are_not_counts_are_not_taken() {
    let usage = |u: Value| {
        json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}], "usageMetadata": u}).to_string()
    };
    let f = |u: Value| {
        let chunks = chunks_of(&[&usage(u)]);
        let f = finish(&chunks);
        (f.tokens_in, f.tokens_out, f.reasoning_tokens_out)
    };
    assert_eq!(
        f(json!({"promptTokenCount": -1, "candidatesTokenCount": 3})),
        (None, Some(3), None)
    );
    assert_eq!(
        f(json!({"promptTokenCount": 4, "candidatesTokenCount": "3"})),
        (Some(4), None, None)
    );
    // Zero counts are left out by the API: a missing one is 0 once the other is there.
    assert_eq!(
        f(json!({"promptTokenCount": 4, "thoughtsTokenCount": 9})),
        (Some(4), Some(9), Some(9))
    );
    assert_eq!(f(json!({"promptTokenCount": 4})), (Some(4), None, None));
    // Built-in tools' prompt is input.
    assert_eq!(
        f(
            json!({"promptTokenCount": 4, "toolUsePromptTokenCount": 100, "candidatesTokenCount": 1})
        ),
        (Some(104), Some(1), None)
    );
    // A later chunk's count replaces the earlier one; a missing one keeps it.
    let chunks = chunks_of(&[
        &json!({"candidates": [], "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1}}).to_string(),
        &json!({"candidates": [{"finishReason": "STOP"}], "usageMetadata": {"candidatesTokenCount": 9}}).to_string(),
    ]);
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(5), Some(9)));
}

#[test]
fn what_the_decoder_keeps_counts_toward_the_reply_cap() {
    let origin = Origin::new("gemini", "http://test").with_max_reply_bytes(64);
    let mut d = GeminiDecoder::new(origin);
    let mut out = VecDeque::new();
    let thought = parts(json!([{"text": "x".repeat(40), "thought": true}]), None);
    assert!(d.frame(thought.as_bytes(), &mut out).is_ok());
    let signed = parts(
        json!([{"text": "y", "thoughtSignature": "s".repeat(40)}]),
        None,
    );
    let err = d.frame(signed.as_bytes(), &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("max_reply_bytes"), "{err}");
}
