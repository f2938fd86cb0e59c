//! The `/api/chat` mapping, request body, `OLLAMA_HOST`, keep-alive, configuration and
//! error classification, without I/O.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;

use super::errors::classify;
use super::host::parse_host;
use super::models::{self, TagModel};
use super::request;
use super::*;
use crate::chunk::{Chunk, Finish, FinishReason};
use crate::decode::{Decoded, Decoder, Flow, Origin};
use crate::error::{Error, ErrorKind, Result};
use crate::framing::ndjson::NdjsonLines;
use crate::http::ErrorResponse;

fn endpoint() -> Origin {
    Origin::new("ollama", "http://localhost:11434")
}

/// Runs lines through the decoder: the chunks, then how it ended.
fn run(lines: &[&str]) -> (Vec<Chunk>, Result<()>) {
    let mut d = LineDecoder::new(endpoint());
    let mut out = VecDeque::new();
    for line in lines {
        match d.frame(line.as_bytes(), &mut out) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Done) => return (out.into(), Ok(())),
            Err(e) => return (out.into(), Err(e)),
        }
    }
    let end = d.end_of_body(&mut out);
    (out.into(), end)
}

fn text(chunks: &[Chunk]) -> String {
    chunks.iter().filter_map(Chunk::as_text).collect()
}

fn finish(chunks: &[Chunk]) -> &Finish {
    match chunks.last() {
        Some(Chunk::Finish(f)) => f,
        other => panic!("no finish: {other:?}"),
    }
}

// ---- host parsing ----

fn host(raw: &str) -> String {
    parse_host(raw, "OLLAMA_HOST").unwrap_or_else(|e| panic!("{raw:?}: {e}"))
}

#[test]
fn hosts_are_read_as_ollama_reads_them() {
    let cases = [
        ("", "http://localhost:11434"),
        ("   ", "http://localhost:11434"),
        ("localhost", "http://localhost:11434"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("1.2.3.4:1234", "http://1.2.3.4:1234"),
        ("example.com", "http://example.com:11434"),
        ("example.com:1234", "http://example.com:1234"),
        (":1234", "http://127.0.0.1:1234"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:1234", "http://127.0.0.1:1234"),
        ("[::]", "http://[::1]:11434"),
        ("[::]:1234", "http://[::1]:1234"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("::1", "http://[::1]:11434"),
        ("[fe80::1]:99", "http://[fe80::1]:99"),
        (" 1.2.3.4 ", "http://1.2.3.4:11434"),
        ("\"1.2.3.4\"", "http://1.2.3.4:11434"),
        (" \" 1.2.3.4 \" ", "http://1.2.3.4:11434"),
        ("'1.2.3.4'", "http://1.2.3.4:11434"),
        ("http://1.2.3.4", "http://1.2.3.4:80"),
        ("http://1.2.3.4:4321", "http://1.2.3.4:4321"),
        ("HTTP://gpu-box:11434/", "http://gpu-box:11434"),
        ("https://1.2.3.4", "https://1.2.3.4:443"),
        ("https://1.2.3.4:4321", "https://1.2.3.4:4321"),
        ("https://0.0.0.0:4321", "https://127.0.0.1:4321"),
        (
            "https://example.com/ollama",
            "https://example.com:443/ollama",
        ),
        (
            "https://example.com/ollama/",
            "https://example.com:443/ollama",
        ),
        ("http://localhost:11434/", "http://localhost:11434"),
        ("localhost:11434//", "http://localhost:11434"),
        ("gpu-box/prefix/v2/", "http://gpu-box:11434/prefix/v2"),
        ("my_host.lan", "http://my_host.lan:11434"),
        ("ollama.com", "https://ollama.com:443"),
    ];
    for (raw, want) in cases {
        assert_eq!(host(raw), want, "{raw:?}");
    }
}

#[test]
fn a_password_in_the_host_is_never_shown() {
    let b = OllamaProvider::builder().host("http://admin:hunter2-secret@gpu-box:11434");
    assert!(!format!("{b:?}").contains("hunter2"), "{b:?}");
    let err = b.build().unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains("admin:[REDACTED]@"), "{err}");
}

#[test]
fn bad_hosts_are_invalid_requests_naming_the_source_and_value() {
    let bad = [
        "localhost:99999",
        "localhost:0",
        "localhost:",
        "localhost:abc",
        ":-1",
        "[::1",
        "[::1]x",
        "[nope]:1",
        "::1:zz",
        "unix:///tmp/ollama.sock",
        "ftp://host",
        "host name",
        "user:pw@host",
        "http://host?x=1",
        "bad$host",
        "-host",
    ];
    for raw in bad {
        let err = parse_host(raw, "OLLAMA_HOST").expect_err(raw);
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{raw}");
        let msg = err.to_string();
        assert!(msg.contains("OLLAMA_HOST"), "{msg}");
        assert!(msg.contains(raw.trim()), "{msg}");
        assert!(
            msg.contains("127.0.0.1:11434"),
            "says what to use instead: {msg}"
        );
    }
}

#[test]
fn env_config_reads_ollama_host() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let p = OllamaProvider::from_lookup(env(&[])).unwrap();
    assert_eq!(p.host(), OllamaProvider::DEFAULT_HOST);
    assert_eq!(p.default_model(), "qwen2.5:0.5b");
    let p = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "0.0.0.0:18081")])).unwrap();
    assert_eq!(p.host(), "http://127.0.0.1:18081");
    let p = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "  ")])).unwrap();
    assert_eq!(p.host(), OllamaProvider::DEFAULT_HOST);
    let err = OllamaProvider::from_lookup(env(&[("OLLAMA_HOST", "localhost:99999")])).unwrap_err();
    assert!(
        err.to_string().contains("OLLAMA_HOST 'localhost:99999'"),
        "{err}"
    );
    // Set in code, the message does not blame the environment.
    let err = OllamaProvider::builder()
        .host("localhost:99999")
        .build()
        .unwrap_err();
    assert!(!err.to_string().contains("OLLAMA_HOST '"), "{err}");
    assert!(
        err.to_string().contains("the host 'localhost:99999'"),
        "{err}"
    );
}

#[test]
fn builder_settings_and_errors() {
    let p = OllamaProvider::builder()
        .host("[::1]:8080")
        .default_model("smollm2")
        .keep_alive(Duration::from_secs(90))
        .option("num_ctx", 4096)
        .max_line_bytes(1024)
        .idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(p.host(), "http://[::1]:8080");
    assert_eq!(p.default_model(), "smollm2");
    let settings = &p.http.shared.settings;
    assert_eq!(p.http.dialect().keep_alive, Some(serde_json::json!(90)));
    assert_eq!(settings.max_frame_bytes, 1024);
    assert_eq!(settings.timeouts.idle, Some(Duration::from_secs(5)));
    assert_eq!(
        settings.timeouts.first_chunk,
        Some(crate::kit::settings::DEFAULT_FIRST_CHUNK_TIMEOUT)
    );
    let dbg = format!("{p:?}");
    assert!(
        dbg.contains("[::1]:8080") && dbg.contains("num_ctx") && dbg.contains("smollm2"),
        "{dbg}"
    );
    let clone = p.clone();
    assert!(std::sync::Arc::ptr_eq(&clone.http.shared, &p.http.shared));

    for b in [
        OllamaProvider::builder().default_model(" "),
        OllamaProvider::builder().max_line_bytes(0),
        OllamaProvider::builder().keep_alive("5 minutes"),
        OllamaProvider::builder().option("", 1),
        OllamaProvider::builder().host("localhost:0"),
    ] {
        assert_eq!(b.build().unwrap_err().kind(), ErrorKind::InvalidRequest);
    }
    assert_eq!(
        OllamaProvider::new().unwrap().host(),
        "http://localhost:11434"
    );
}

#[test]
fn keep_alive_takes_durations_and_ollamas_syntax() {
    let wire = |k: KeepAlive| k.to_wire().map_err(|e| e.to_string());
    assert_eq!(
        wire(Duration::from_secs(300).into()),
        Ok(serde_json::json!(300))
    );
    assert_eq!(
        wire(Duration::from_millis(1500).into()),
        Ok(serde_json::json!(1.5))
    );
    assert_eq!(wire(Duration::ZERO.into()), Ok(serde_json::json!(0)));
    assert_eq!(wire(KeepAlive::Forever), Ok(serde_json::json!(-1)));
    // Whole seconds go as numbers (Ollama rejects the string "-1").
    assert_eq!(wire("-1".into()), Ok(serde_json::json!(-1)));
    assert_eq!(wire(" 300 ".into()), Ok(serde_json::json!(300)));
    assert_eq!(wire("0".into()), Ok(serde_json::json!(0)));
    for ok in [
        "5m", "1h30m", "90s", "1.5h", "-1m", "+5m", "300ms", "2us", "2µs", ".5s",
    ] {
        assert_eq!(wire(ok.into()), Ok(serde_json::json!(ok)), "{ok}");
    }
    for bad in ["", "5 m", "1d", "m", "1.2.3s", "forever", "5m3"] {
        let err = wire(bad.into()).unwrap_err();
        assert!(
            err.contains("keep_alive") && err.contains("5m"),
            "{bad}: {err}"
        );
    }
}

// ---- request body ----

#[test]
fn request_body_maps_options_and_puts_the_system_prompt_first() {
    let req = ChatRequest::new("hi")
        .system("be brief")
        .temperature(0.5)
        .max_tokens(7)
        .stop(["\n\n", "END"])
        .seed(42);
    let keep = serde_json::json!("10m");
    let mut defaults = BTreeMap::new();
    defaults.insert("num_ctx".to_owned(), serde_json::json!(8192));
    defaults.insert("temperature".to_owned(), serde_json::json!(1.5)); // the request's wins
    let v =
        serde_json::to_value(request::Chat::new(&req, "smollm2", Some(&keep), &defaults).unwrap())
            .unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "model": "smollm2",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"}
            ],
            "stream": true,
            "options": {"temperature": 0.5, "num_predict": 7, "stop": ["\n\n", "END"], "seed": 42, "num_ctx": 8192},
            "keep_alive": "10m"
        })
    );
}

#[test]
fn unset_fields_are_absent_from_the_body() {
    let none = BTreeMap::new();
    let req = ChatRequest::new("hi");
    let json = serde_json::to_string(&request::Chat::new(&req, "m", None, &none).unwrap()).unwrap();
    assert_eq!(
        json,
        r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#
    );

    let mut defaults = BTreeMap::new();
    defaults.insert("temperature".to_owned(), serde_json::json!(0));
    let v = serde_json::to_value(request::Chat::new(&req, "m", None, &defaults).unwrap()).unwrap();
    assert_eq!(v["options"], serde_json::json!({"temperature": 0}));
}

// ---- line mapping ----

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

// ---- any split of a transcript gives the same chunks ----

const UNICODE: &[u8] = include_bytes!("../../../tests/transcripts/ollama-compat/chat_unicode.body");
const STREAM: &[u8] = include_bytes!("../../../tests/transcripts/ollama-compat/chat_stream.body");
const MIDSTREAM_ERROR: &[u8] =
    include_bytes!("../../../tests/transcripts/ollama-compat/chat_backend_midstream_error.body");

/// Frames `pieces` with `NdjsonLines` and decodes them: each chunk or the error, as text.
fn decode_pieces(pieces: Vec<Vec<u8>>) -> Vec<String> {
    let bytes = futures::stream::iter(
        pieces
            .into_iter()
            .map(|p| Ok::<_, ()>(bytes::Bytes::from(p))),
    );
    let frames = NdjsonLines::new(bytes, 1 << 20)
        .map(|r| r.map_err(|_| Error::new(ErrorKind::Protocol, "framing failed")));
    let decoded = Decoded::new(frames, LineDecoder::new(endpoint()));
    futures::executor::block_on(decoded.collect::<Vec<_>>())
        .into_iter()
        .map(|item| match item {
            Ok(chunk) => format!("{chunk:?}"),
            Err(e) => format!("error {:?}: {e}", e.kind()),
        })
        .collect()
}

fn cut(body: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
    cuts.retain(|&c| c <= body.len());
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut last = 0;
    for c in cuts {
        pieces.push(body.get(last..c).unwrap_or_default().to_vec());
        last = c;
    }
    pieces.push(body.get(last..).unwrap_or_default().to_vec());
    pieces
}

#[test]
fn whole_transcripts_decode_as_expected() {
    let chunks = decode_pieces(vec![UNICODE.to_vec()]);
    assert_eq!(chunks.len(), 9);
    assert!(chunks[0].contains('🌌'), "{chunks:?}");
    assert!(chunks[8].starts_with("Finish"), "{chunks:?}");
    let chunks = decode_pieces(vec![MIDSTREAM_ERROR.to_vec()]);
    assert!(chunks
        .last()
        .unwrap()
        .contains("Context size has been exceeded."));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_split_gives_the_same_chunks(
        which in 0usize..3,
        cuts in proptest::collection::vec(0usize..40_000, 0..40),
    ) {
        let body = [UNICODE, STREAM, MIDSTREAM_ERROR][which];
        let cuts = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
        prop_assert_eq!(decode_pieces(cut(body, cuts)), decode_pieces(vec![body.to_vec()]));
    }
}
