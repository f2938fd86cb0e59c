//! Line mapping: content, thinking, tool calls, metrics, done reasons, errors.

use super::*;

#[test]
fn content_lines_then_done_with_metrics() {
    let (chunks, end) = run(&[
        r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The","images":null},"done":false}"#,
        r#"{"model":"llama3.2","message":{"role":"assistant","content":" sky"},"done":false}"#,
        r#"{"model":"llama3.2","message":{"role":"assistant","content":""},"done":false}"#,
        r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
        "not read after done",
    ]);
    end.unwrap();
    assert_eq!(chunks.len(), 3, "empty content is skipped: {chunks:?}");
    assert_eq!(text(&chunks), "The sky");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Stop);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(26), Some(282)));
    assert_eq!(f.model.as_deref(), Some("llama3.2"));
    let t = f.timings.unwrap();
    assert_eq!(t.total_ms, Some(4883.583458));
    assert_eq!(t.load_ms, Some(1.334875));
    assert_eq!(t.prompt_eval_ms, Some(342.546));
    assert_eq!(t.eval_ms, Some(4535.599));
}

#[test]
fn thinking_is_reasoning_and_comes_first() {
    let (chunks, _) = run(&[
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Let me think"},"done":false}"#,
        r#"{"model":"qwen3","message":{"role":"assistant","content":"42","thinking":" done"},"done":false}"#,
        r#"{"model":"qwen3","message":{"role":"assistant","content":"","thinking":null},"done":true,"done_reason":"stop"}"#,
    ]);
    assert_eq!(
        chunks[..3],
        [
            Chunk::Reasoning("Let me think".into()),
            Chunk::Reasoning(" done".into()),
            Chunk::Text("42".into())
        ]
    );
}

#[test]
fn tool_calls_and_unknown_fields_are_ignored() {
    let (chunks, end) = run(&[
        r#"{"model":"llama3.2","created_at":"2025-07-07T20:22:19.184789Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false}"#,
        r#"{"model":"llama3.2","message":{"role":"assistant","content":"ok","tool_calls":[{"id":"call_1","function":{"index":0,"name":"f","arguments":{}}}],"images":["aGk="],"tool_name":"x"},"logprobs":[{"token":"ok"}],"_debug_info":{},"remote_host":"h","done":false}"#,
        r#"{"model":"llama3.2","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":182242375,"load_duration":41295167,"prompt_eval_count":169,"prompt_eval_duration":24573166,"eval_count":15,"eval_duration":115959084}"#,
    ]);
    end.unwrap();
    assert_eq!(text(&chunks), "ok");
    assert_eq!(finish(&chunks).tokens_in, Some(169));
}

#[test]
fn missing_metrics_are_zero_but_no_metrics_at_all_is_unknown() {
    // A cached prompt: prompt_eval_count and load_duration omitted (they are 0).
    let (chunks, _) = run(&[
        r#"{"model":"m","message":{"role":"assistant","content":"x"},"done":true,"done_reason":"length","total_duration":1000000,"eval_count":5,"eval_duration":500000}"#,
    ]);
    assert_eq!(text(&chunks), "x", "the done line's content comes first");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Length);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(0), Some(5)));
    let t = f.timings.unwrap();
    assert_eq!(
        (t.total_ms, t.load_ms, t.prompt_eval_ms, t.eval_ms),
        (Some(1.0), Some(0.0), Some(0.0), Some(0.5))
    );

    // No metrics at all (generate-style final line): counts unknown, so estimated later.
    let (chunks, _) =
        run(&[r#"{"model":"m","message":{"content":"!"},"done":true,"done_reason":"stop"}"#]);
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out, f.timings), (None, None, None));

    // Nulls and odd numbers are tolerated.
    let (chunks, _) = run(&[
        r#"{"model":null,"message":null,"done":true,"done_reason":null,"eval_count":null,"prompt_eval_count":3.0,"total_duration":-5}"#,
    ]);
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Stop);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(3), Some(0)));
    assert_eq!(f.model, None);
}

#[test]
fn other_done_reasons_are_kept() {
    for (reason, want) in [
        ("load", FinishReason::Other("load".into())),
        ("unload", FinishReason::Other("unload".into())),
        ("length", FinishReason::Length),
        ("stop", FinishReason::Stop),
    ] {
        let line = format!(
            r#"{{"model":"m","message":{{"content":""}},"done":true,"done_reason":"{reason}"}}"#
        );
        let (chunks, _) = run(&[&line]);
        assert_eq!(finish(&chunks).reason, want);
    }
}

#[test]
fn a_bare_error_line_ends_the_stream_after_the_text() {
    let (chunks, end) = run(&[
        r#"{"model":"gemma4","message":{"role":"assistant","content":" Yes"},"done":false}"#,
        r#"{"error":"an error was encountered while running the model"}"#,
    ]);
    assert_eq!(text(&chunks), " Yes");
    assert!(!chunks.iter().any(|c| matches!(c, Chunk::Finish(_))));
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    let msg = err.to_string();
    assert!(
        msg.contains("an error was encountered while running the model"),
        "{msg}"
    );
    assert!(msg.contains("mid-reply"), "{msg}");
}

#[test]
fn the_shims_done_reason_error_line_is_an_error() {
    let (chunks, end) = run(&[
        r#"{"model": "smollm2", "created_at": "2026-11-25T09:24:40Z", "message": {"role": "assistant", "content": " things"}, "done": false}"#,
        r#"{"model": "smollm2", "created_at": "2026-11-25T09:24:40Z", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "error", "error": "Context size has been exceeded."}"#,
    ]);
    assert_eq!(text(&chunks), " things");
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.to_string().contains("Context size has been exceeded."),
        "{err}"
    );

    // done_reason "error" without a message, and odd error shapes, are still errors.
    let (_, end) = run(&[r#"{"done":true,"done_reason":"error"}"#]);
    assert!(end.unwrap_err().to_string().contains("done_reason"));
    let (_, end) = run(&[r#"{"error":{"message":"nested"}}"#]);
    assert!(end.unwrap_err().to_string().contains("nested"));
    let (_, end) = run(&[r#"{"error":""}"#]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Server);
    // `"error": null` is no error.
    let (chunks, end) = run(&[r#"{"error":null,"message":{"content":"a"},"done":true}"#]);
    end.unwrap();
    assert_eq!(text(&chunks), "a");
}

#[test]
fn non_json_lines_are_protocol_errors_with_an_excerpt() {
    let (chunks, end) = run(&[
        r#"{"message":{"content":"a"}}"#,
        "<html>502 Bad Gateway</html>",
    ]);
    assert_eq!(text(&chunks), "a");
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(
        err.to_string().contains("<html>502 Bad Gateway</html>"),
        "{err}"
    );
    let long = format!("{{\"message\": {}", "x".repeat(5000));
    let err = run(&[&long]).1.unwrap_err();
    assert!(err.to_string().len() < 600, "the excerpt is short");
    // Wrong types inside an object are malformed too.
    assert_eq!(
        run(&[r#"{"message":{"content":5}}"#]).1.unwrap_err().kind(),
        ErrorKind::Protocol
    );
}

#[test]
fn a_body_without_a_done_line_is_truncated_not_a_success() {
    let (chunks, end) = run(&[r#"{"message":{"content":"partial"},"done":false}"#]);
    assert_eq!(text(&chunks), "partial");
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.to_string().contains("\"done\": true"), "{err}");
    assert!(err.to_string().contains("incomplete"), "{err}");
    let (chunks, end) = run(&[]);
    assert!(chunks.is_empty() && end.is_err());
}

#[test]
fn unicode_escapes_and_surrogate_pairs_as_the_shim_sends_them() {
    let (chunks, _) = run(&[
        r#"{"model": "smollm2", "message": {"role": "assistant", "content": "\ud83c\udf0c"}, "done": false}"#,
        r#"{"message": {"content": "caf\u00e9 \u65e5\u672c \"q\"\n"}, "done": false}"#,
        r#"{"message": {"content": "raw é 🦀"}, "done": true}"#,
    ]);
    assert_eq!(text(&chunks), "🌌café 日本 \"q\"\nraw é 🦀");
    // A lone surrogate is not valid JSON text: a protocol error, not a panic.
    let (_, end) = run(&[r#"{"message": {"content": "\ud83c"}, "done": false}"#]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn text_is_borrowed_from_the_line_unless_it_has_escapes() {
    let line: wire::Line<'_> =
        serde_json::from_str(r#"{"model":"m","message":{"content":"plain","thinking":"t\u00e9"}}"#)
            .unwrap();
    let message = line.message.unwrap();
    assert!(matches!(message.content, Cow::Borrowed("plain")));
    assert!(matches!(message.thinking, Cow::Owned(ref s) if s == "té"));
    assert!(matches!(line.model, Cow::Borrowed("m")));
}

#[test]
fn tags_are_read_leniently() {
    let tags: models::Tags = serde_json::from_str(
        r#"{"models":[{"name":"qwen2.5:0.5b","model":"qwen2.5:0.5b","modified_at":"2025-05-01T10:00:00.1+02:00","size":397821319,"digest":"a8b0c5157701","details":{"parent_model":"","format":"gguf","family":"qwen2","families":["qwen2"],"parameter_size":"494.03M","quantization_level":"Q4_K_M"},"remote_host":null},{"name":"bare","details":null,"size":null,"digest":null}]}"#,
    )
    .unwrap();
    let models: Vec<LocalModel> = tags.models.into_iter().map(TagModel::into_public).collect();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0].size, 397_821_319);
    assert_eq!(models[0].details.parameter_size, "494.03M");
    assert_eq!(models[0].details.families, vec!["qwen2"]);
    assert_eq!(models[1].name, "bare");
    assert_eq!(models[1].details, LocalModelDetails::default());
    let empty: models::Tags = serde_json::from_str(r#"{"models":null}"#).unwrap();
    assert!(empty.models.is_empty());
}

#[test]
fn error_statuses_are_classified() {
    let resp = |status: u16, message: &str| ErrorResponse {
        status,
        retry_after: None,
        rate_limit: None,
        body: crate::http::ErrorBody {
            message: message.to_owned(),
            ..crate::http::ErrorBody::default()
        },
    };
    let host = "http://localhost:11434";
    for wording in [
        "model 'llama9' not found, try pulling it first",
        "model \"llama9\" not found, try pulling it first",
        "model 'llama9' not found",
    ] {
        let err = classify(resp(404, wording), Some("llama9"), host);
        assert_eq!(err.kind(), ErrorKind::ModelNotFound);
        assert_eq!(
            err.to_string(),
            "Model 'llama9' not found. Pull it with: ollama pull llama9"
        );
        assert_eq!(err.status(), Some(404));
    }
    let err = classify(resp(404, "404 page not found"), Some("m"), host);
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidRequest,
        "a wrong path is not a missing model"
    );
    assert!(err.to_string().contains("OLLAMA_HOST"), "{err}");
    let cases = [
        (400, "model is required", ErrorKind::InvalidRequest),
        (401, "unauthorized", ErrorKind::Auth),
        (403, "forbidden", ErrorKind::Auth),
        (429, "too many requests", ErrorKind::RateLimited),
        (
            500,
            "llama runner process has terminated",
            ErrorKind::Server,
        ),
        (
            503,
            "server busy, please try again.  maximum pending requests exceeded",
            ErrorKind::Server,
        ),
    ];
    for (status, message, kind) in cases {
        let err = classify(resp(status, message), Some("m"), host);
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.status(), Some(status));
        assert!(err.to_string().contains(message), "{err}");
        assert!(err.to_string().starts_with("ollama "), "{err}");
    }
}
