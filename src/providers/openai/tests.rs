//! The Chat Completions mapping, request body, configuration and `Debug`, without I/O.

use std::borrow::Cow;
use std::collections::VecDeque;

use super::map::SseDecoder;
use super::request;
use super::wire;
use super::OpenAiProvider;
use crate::chunk::{Chunk, Finish, FinishReason, ToolCall};
use crate::decode::{Decoder, Flow};
use crate::error::{ErrorKind, Result};
use crate::origin::Origin;
use crate::redact::Redactor;
use crate::request::ChatRequest;

fn decoder() -> SseDecoder {
    SseDecoder::new(Origin::new("openai", "http://test/v1"))
}

fn run(frames: &[&str]) -> (Vec<Chunk>, Result<()>) {
    let mut d = decoder();
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

fn text(chunks: &[Chunk]) -> String {
    chunks.iter().filter_map(Chunk::as_text).collect()
}

fn finish(chunks: &[Chunk]) -> &Finish {
    match chunks.last() {
        Some(Chunk::Finish(f)) => f,
        other => panic!("no finish: {other:?}"),
    }
}

#[test]
fn deltas_usage_and_done() {
    let (chunks, end) = run(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}],"model":"gpt-4o-mini-2024-07-18"}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
        "[DONE]",
        "ignored after done",
    ]);
    end.unwrap();
    assert_eq!(chunks.len(), 3);
    assert_eq!(text(&chunks), "Hello");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Length);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(9), Some(2)));
    assert_eq!(f.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
}

#[test]
fn what_real_servers_send_is_tolerated() {
    let (chunks, end) = run(&[
        // Azure's first chunk: no choices, prompt filter results.
        r#"{"choices":[],"prompt_filter_results":[{"prompt_index":0}]}"#,
        r#"{"choices":null}"#,
        r#"{}"#,
        r#"{"choices":[{"delta":{"content":"a"},"finish_reason":""}],"usage":{}}"#,
        r#"{"choices":[{"delta":null}]}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#,
        r#"{"choices":[{"delta":{"content":"\u00e9\ud83e\udd80"}}]}"#,
        r#"{"choices":[{"delta":{"content":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
    ]);
    end.unwrap();
    assert_eq!(text(&chunks), "aé🦀");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Stop);
    assert_eq!(f.tokens_out, Some(2));
}

#[test]
fn text_is_borrowed_from_the_event_unless_it_has_escapes() {
    // Regression: with `#[serde(borrow)]` on `Option<Cow<str>>` fields, every model
    // name and every delta was copied into a new String, and every event allocated
    // a Vec for its choices.
    let event: wire::Event<'_> = serde_json::from_str(
        r#"{"model":"m","choices":[{"index":1,"delta":{"content":"other"}},{"delta":{"content":"plain","reasoning":"t\u00e9"},"finish_reason":"stop"}]}"#,
    )
    .unwrap();
    assert!(matches!(event.model, Some(Cow::Borrowed("m"))));
    let choices: Vec<_> = event.choices.into_iter().collect();
    assert_eq!(choices.len(), 1, "only the first choice is kept");
    let delta = choices[0].delta.as_ref().unwrap();
    assert!(matches!(delta.content, Some(Cow::Borrowed("plain"))));
    assert!(matches!(delta.reasoning, Some(Cow::Owned(ref s)) if s == "té"));
    assert!(matches!(
        choices[0].finish_reason,
        Some(Cow::Borrowed("stop"))
    ));
    let event: wire::Event<'_> = serde_json::from_str(r#"{"choices":null,"model":null}"#).unwrap();
    assert!(event.model.is_none() && event.choices.into_iter().next().is_none());
}

#[test]
fn odd_number_types_in_counts_do_not_lose_the_reply() {
    // Regression (found by the bad-input property tests): a float or string count,
    // or a wrongly typed index, failed the whole reply. By the one rule for counts
    // (issue 11), a string is not a count: not reported, so estimated; an index that
    // is not a count is taken as missing (the first choice).
    let (chunks, end) = run(&[
        r#"{"choices":[{"index":false,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0.0,"delta":{"content":"b"}}]}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#,
        r#"{"choices":[{"index":"x","delta":{"content":"c"}}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":"7","completion_tokens":12.0},"timings":{"prompt_ms":"x","predicted_ms":{"a":[1]}}}"#,
        "[DONE]",
    ]);
    end.unwrap();
    assert_eq!(text(&chunks), "abc");
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (None, Some(12)));
    let (_, end) = run(&[
        r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":-3,"completion_tokens":true}}"#,
    ]);
    end.unwrap();
}

#[test]
fn reasoning_is_its_own_chunk_kind() {
    let (chunks, _) = run(&[
        r#"{"choices":[{"delta":{"reasoning_content":"Let me think"}}]}"#,
        r#"{"choices":[{"delta":{"reasoning":" more"}}]}"#,
        r#"{"choices":[{"delta":{"content":"42"}}]}"#,
        "[DONE]",
    ]);
    assert_eq!(chunks[0], Chunk::Reasoning("Let me think".into()));
    assert_eq!(chunks[1], Chunk::Reasoning(" more".into()));
    assert_eq!(chunks[2], Chunk::Text("42".into()));
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

#[test]
fn reasoning_sent_under_both_names_is_read_once() {
    // Regression: vLLM copies `reasoning` into the deprecated `reasoning_content` on
    // every delta; both were read, so every piece of reasoning came twice.
    let (chunks, end) = run(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","reasoning":"Two and","reasoning_content":"Two and"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"reasoning_content":" two","reasoning":" two"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"4","reasoning_content":null}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        "[DONE]",
    ]);
    end.unwrap();
    assert_eq!(reasoning(&chunks), "Two and two");
    assert_eq!(text(&chunks), "4");
    // Two different texts under the two names are both kept.
    let (chunks, _) =
        run(&[r#"{"choices":[{"delta":{"reasoning_content":"a","reasoning":"b"}}]}"#]);
    assert_eq!(reasoning(&chunks), "ab");
}

/// The complete tool calls of `chunks`.
fn calls(chunks: &[Chunk]) -> Vec<ToolCall> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCall(call) => Some((**call).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_call_sent_as_tool_calls_and_as_function_call_in_one_delta_is_one_call() {
    // Regression (issue 24): llama-cpp-python's `chatml-function-calling` sends each
    // fragment twice in one delta, in `tool_calls` and in the legacy `function_call`;
    // both were read, so the arguments came doubled (`{{""ccitityy`) and were no JSON.
    let oslo = ToolCall::new("call_1", "get_weather", serde_json::json!({"city": "Oslo"}));
    // Streamed, the legacy copy before and after the tool call.
    let (chunks, end) = run(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"function_call":null,"tool_calls":null}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":null,"function_call":{"name":"get_weather","arguments":"{\"city\":"},"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"\"Oslo\"}"}}],"function_call":{"name":"get_weather","arguments":"\"Oslo\"}"}}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"function_call":null,"tool_calls":null},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ]);
    end.unwrap();
    assert_eq!(calls(&chunks), vec![oslo.clone()]);
    let streamed: String = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCallDelta(d) => Some(d.arguments.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, r#"{"city":"Oslo"}"#);
    // Whole (`stream: false`), in either key order.
    for message in [
        r#"{"content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}],"role":"assistant","function_call":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}"#,
        r#"{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"},"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]}"#,
    ] {
        let event = format!(
            r#"{{"object":"chat.completion","choices":[{{"index":0,"message":{message},"finish_reason":"tool_calls"}}]}}"#
        );
        let (chunks, end) = run(&[&event]);
        end.unwrap();
        assert_eq!(calls(&chunks), vec![oslo.clone()], "{message}");
    }
    // The legacy shape alone (or beside an empty `tool_calls`) is still the call.
    for tool_calls in ["", r#","tool_calls":null"#, r#","tool_calls":[]"#] {
        let event = format!(
            r#"{{"choices":[{{"index":0,"delta":{{"function_call":{{"name":"get_weather","arguments":"{{\"city\":\"Oslo\"}}"}}{tool_calls}}},"finish_reason":"function_call"}}]}}"#
        );
        let (chunks, end) = run(&[&event]);
        end.unwrap();
        let got = calls(&chunks);
        assert_eq!(got.len(), 1, "{event}");
        assert_eq!(got[0].arguments, serde_json::json!({"city": "Oslo"}));
    }
}

#[test]
fn cache_writes_in_the_usage_are_read() {
    // Regression: Chat Completions ignored `prompt_tokens_details.cache_write_tokens`
    // (OpenAI bills cache writes); the Responses API provider read them.
    let (chunks, end) = run(&[
        r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":3000,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":1024,"cache_write_tokens":1900}}}"#,
        "[DONE]",
    ]);
    end.unwrap();
    let f = finish(&chunks);
    assert_eq!(f.cached_tokens_in, Some(1024));
    assert_eq!(f.cache_write_tokens_in, Some(1900));
    // Not reported is not 0.
    let (chunks, _) = run(&[
        r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}}"#,
    ]);
    assert_eq!(finish(&chunks).cache_write_tokens_in, None);
}

#[test]
fn eof_after_finish_is_success_and_before_is_an_error() {
    let (chunks, end) = run(&[r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}"#]);
    end.unwrap();
    assert!(matches!(chunks.last(), Some(Chunk::Finish(_))));
    assert_eq!(finish(&chunks).tokens_in, None);

    let (chunks, end) = run(&[r#"{"choices":[{"delta":{"content":"x"}}]}"#]);
    assert_eq!(text(&chunks), "x");
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.to_string().contains("incomplete"), "{err}");
}

#[test]
fn error_events_end_the_stream_with_the_servers_message() {
    let (chunks, end) = run(&[
        r#"{"choices":[{"delta":{"content":"partial"}}]}"#,
        r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#,
    ]);
    assert_eq!(text(&chunks), "partial");
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.to_string().contains("Context size has been exceeded."),
        "{err}"
    );

    let (_, end) = run(&[
        r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
    ]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::RateLimited);
    let (_, end) = run(&[r#"{"error":"plain string error"}"#]);
    assert!(end.unwrap_err().to_string().contains("plain string error"));
}

#[test]
fn malformed_events_are_protocol_errors_without_secrets() {
    let (_, end) = run(&["not json sk-secret-key-123456"]);
    // The provider scrubs every item it passes on.
    let err = Redactor::new(["sk-secret-key-123456"]).error(end.unwrap_err());
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(!err.to_string().contains("sk-secret-key-123456"), "{err}");
    let (_, end) = run(&[r#"{"choices":"nope"}"#]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn a_non_streamed_completion_is_understood() {
    let (chunks, end) = run(&[
        r#"{"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"Whole reply"}}],"usage":{"completion_tokens":2,"prompt_tokens":5}}"#,
    ]);
    end.unwrap();
    assert_eq!(text(&chunks), "Whole reply");
    assert_eq!(finish(&chunks).tokens_in, Some(5));
}

#[test]
fn request_body_has_exactly_the_options_set() {
    let req = ChatRequest::new("hi")
        .system("sys")
        .temperature(0.5)
        .max_tokens(7)
        .stop(["x"])
        .seed(3);
    let v = serde_json::to_value(request::Request::from_chat(&req, "m").unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "model": "m",
            "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.5,
            "max_tokens": 7,
            "stop": ["x"],
            "seed": 3
        })
    );
    let v =
        serde_json::to_value(request::Request::from_chat(&ChatRequest::new("hi"), "m").unwrap())
            .unwrap();
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, vec!["messages", "model", "stream", "stream_options"]);
}

fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<OpenAiProvider> {
    OpenAiProvider::builder_from_lookup(var).build()
}

#[test]
fn env_config() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let err = from_lookup(env(&[])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("OPENAI_API_KEY"));
    let p = from_lookup(env(&[("OPENAI_API_KEY", "k")])).unwrap();
    assert_eq!(p.base_url(), "https://api.openai.com/v1");
    let p = from_lookup(env(&[
        ("OPENAI_API_KEY", "k"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1/"),
    ]))
    .unwrap();
    assert_eq!(p.base_url(), "http://127.0.0.1:1/v1");
    let err = from_lookup(env(&[
        ("OPENAI_API_KEY", "k"),
        ("OPENAI_BASE_URL", "localhost:8080"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
    // A server on this machine needs no key; a remote one does.
    let p = from_lookup(env(&[("OPENAI_BASE_URL", "http://127.0.0.1:18080/v1")])).unwrap();
    assert_eq!(p.base_url(), "http://127.0.0.1:18080/v1");
    let err = from_lookup(env(&[("OPENAI_BASE_URL", "https://gateway.example/v1")])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
}

#[test]
fn debug_never_shows_secrets() {
    let p = OpenAiProvider::builder()
        .api_key("sk-very-secret")
        .header("api-key", "azure-secret")
        .build()
        .unwrap();
    let dbg = format!("{p:?}");
    assert!(
        !dbg.contains("sk-very-secret") && !dbg.contains("azure-secret"),
        "{dbg}"
    );
    assert!(dbg.contains("api-key"));
    let b = OpenAiProvider::builder().api_key("sk-very-secret");
    assert!(!format!("{b:?}").contains("sk-very-secret"));
}

#[test]
fn builder_errors() {
    assert_eq!(
        OpenAiProvider::new(" ").unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    let err = OpenAiProvider::builder()
        .api_key("k")
        .header("bad header", "v")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("bad header"));
}
