//! The Responses mapping and request body, without I/O.

use std::collections::VecDeque;

use serde_json::{json, Value};

use super::map::ResponsesDecoder;
use super::request::Request;
use super::OpenAiResponsesProvider;
use crate::chunk::{Chunk, Finish, FinishReason, ToolCall};
use crate::decode::{Decoder, Flow};
use crate::error::{ErrorKind, Result};
use crate::origin::Origin;
use crate::request::{ChatRequest, Image, Message, ResponseFormat, Tool, ToolChoice};

fn run(frames: &[&str]) -> (Vec<Chunk>, Result<()>) {
    let mut d = ResponsesDecoder::new(Origin::new("openai-responses", "http://test/v1"));
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

fn calls(chunks: &[Chunk]) -> Vec<ToolCall> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCall(call) => Some((**call).clone()),
            _ => None,
        })
        .collect()
}

/// The events of llama.cpp's plain reply, as recorded (no sequence numbers, no
/// output_index, only an id on `created`).
const LLAMA_CPP: &[&str] = &[
    r#"{"type":"response.created","response":{"id":"resp_8h","object":"response","status":"in_progress"}}"#,
    r#"{"type":"response.in_progress","response":{"id":"resp_8h","object":"response","status":"in_progress"}}"#,
    r#"{"type":"response.output_item.added","item":{"content":[],"id":"msg_J","role":"assistant","status":"in_progress","type":"message"}}"#,
    r#"{"type":"response.content_part.added","item_id":"msg_J","part":{"type":"output_text","text":""}}"#,
    r#"{"type":"response.output_text.delta","item_id":"msg_J","delta":"I'm"}"#,
    r#"{"type":"response.output_text.delta","item_id":"msg_J","delta":" sorry."}"#,
    r#"{"type":"response.output_text.done","item_id":"msg_J","text":"I'm sorry."}"#,
    r#"{"type":"response.content_part.done","item_id":"msg_J","part":{"type":"output_text","annotations":[],"logprobs":[],"text":"I'm sorry."}}"#,
    r#"{"type":"response.output_item.done","item":{"type":"message","status":"completed","id":"msg_J","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"I'm sorry."}],"role":"assistant"}}"#,
    r#"{"type":"response.completed","response":{"id":"resp_8h","object":"response","status":"completed","model":"smollm2","output":[{"type":"message","status":"completed","id":"msg_J","content":[{"type":"output_text","text":"I'm sorry."}],"role":"assistant"}],"usage":{"input_tokens":25,"output_tokens":8,"total_tokens":33,"input_tokens_details":{"cached_tokens":24}}},"timings":{"cache_n":24}}"#,
];

#[test]
fn text_usage_and_the_terminal_event() {
    let (chunks, end) = run(LLAMA_CPP);
    end.unwrap();
    assert_eq!(text(&chunks), "I'm sorry.");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Stop);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(25), Some(8)));
    assert_eq!(f.cached_tokens_in, Some(24));
    assert_eq!(f.cache_write_tokens_in, None);
    assert_eq!(f.reasoning_tokens_out, None);
    assert_eq!(f.model.as_deref(), Some("smollm2"));
    assert_eq!(f.response_id.as_deref(), Some("resp_8h"));
    // The text is not repeated from the terminal response's output.
    assert_eq!(chunks.len(), 3);
}

#[test]
fn a_body_without_its_terminal_event_is_truncated_not_short() {
    for cut in 1..LLAMA_CPP.len() {
        let (chunks, end) = run(&LLAMA_CPP[..cut]);
        let err = end.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "cut at {cut}: {err}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains("response.completed"), "{err}");
        assert!(!chunks.iter().any(|c| matches!(c, Chunk::Finish(_))));
    }
}

#[test]
fn incomplete_says_why_and_failed_is_an_error() {
    let (chunks, end) = run(&[
        r#"{"type":"response.output_text.delta","item_id":"m","delta":"Hi"}"#,
        r#"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":5,"output_tokens":1}}}"#,
    ]);
    end.unwrap();
    assert_eq!(finish(&chunks).reason, FinishReason::Length);
    let (chunks, end) = run(&[
        r#"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"content_filter"}}}"#,
    ]);
    end.unwrap();
    assert_eq!(finish(&chunks).reason, FinishReason::ContentFilter);

    let (_, end) = run(&[
        r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"The model crashed."}}}"#,
    ]);
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("The model crashed"), "{err}");
    assert!(err.to_string().contains("server_error"), "{err}");
}

#[test]
fn error_events_flat_and_nested() {
    let (_, end) = run(&[
        r#"{"type":"error","code":"rate_limit_exceeded","message":"Slow down.","param":null,"sequence_number":1}"#,
    ]);
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.to_string().contains("Slow down"), "{err}");
    let (_, end) = run(&[
        r#"{"type":"error","sequence_number":2,"error":{"type":"too_many_requests","code":"too_many_requests","message":"Too Many Requests","param":null}}"#,
    ]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::RateLimited);
    let (_, end) = run(&[r#"{"type":"error","code":"invalid_prompt","message":"No."}"#]);
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.is_retryable());
}

#[test]
fn function_calls_stream_and_complete_by_item_id() {
    let (chunks, end) = run(&[
        r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"gpt-4o-mini"}}"#,
        r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_A","name":"get_weather","arguments":"","status":"in_progress"}}"#,
        r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{\"city\":"}"#,
        r#"{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc_2","call_id":"call_B","name":"now","arguments":""}}"#,
        r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"\"Paris\"}"}"#,
        r#"{"type":"response.function_call_arguments.done","item_id":"fc_1","arguments":"{\"city\":\"Paris\"}"}"#,
        r#"{"type":"response.function_call_arguments.done","item_id":"fc_2","arguments":""}"#,
        r#"{"type":"response.output_item.done","item":{"type":"function_call","id":"fc_2","call_id":"call_B","name":"now","arguments":""}}"#,
        r#"{"type":"response.completed","response":{"status":"completed","output":[{"type":"function_call","id":"fc_1","call_id":"call_A","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},{"type":"function_call","id":"fc_2","call_id":"call_B","name":"now","arguments":""}],"usage":{"input_tokens":50,"output_tokens":20,"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":12}}}}"#,
    ]);
    end.unwrap();
    let calls = calls(&chunks);
    assert_eq!(calls.len(), 2, "{chunks:?}");
    assert_eq!(
        (calls[0].id.as_str(), calls[0].name.as_str()),
        ("call_A", "get_weather")
    );
    assert_eq!(calls[0].arguments, json!({"city": "Paris"}));
    assert_eq!(calls[1].id, "call_B");
    assert_eq!(calls[1].arguments, json!({}));
    let deltas: String = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCallDelta(d) if d.index == 0 => Some(d.arguments.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, r#"{"city":"Paris"}"#);
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::ToolCalls);
    assert_eq!(f.reasoning_tokens_out, Some(12));
    assert_eq!(f.cached_tokens_in, Some(0));
    assert_eq!(f.model.as_deref(), Some("gpt-4o-mini"));
}

#[test]
fn a_call_known_only_at_its_end_is_still_whole() {
    // Deltas before any `output_item.added`, the name only on `.done`.
    let (chunks, end) = run(&[
        r#"{"type":"response.function_call_arguments.delta","item_id":"fc_9","delta":"{\"a\":1}"}"#,
        r#"{"type":"response.function_call_arguments.done","item_id":"fc_9","name":"f"}"#,
        r#"{"type":"response.completed","response":{"status":"completed"}}"#,
    ]);
    end.unwrap();
    let starts: Vec<_> = chunks
        .iter()
        .filter(|c| matches!(c, Chunk::ToolCallStart(_)))
        .collect();
    assert_eq!(starts.len(), 1);
    assert_eq!(calls(&chunks)[0].arguments, json!({"a": 1}));
    assert_eq!(calls(&chunks)[0].id, "fc_9");

    let (_, end) = run(&[
        r#"{"type":"response.function_call_arguments.delta","item_id":"fc_9","delta":"{\"a\":"}"#,
        r#"{"type":"response.function_call_arguments.done","item_id":"fc_9","name":"f"}"#,
    ]);
    let err = end.unwrap_err();
    assert!(err.to_string().contains('f'), "{err}");
}

#[test]
fn refusal_and_reasoning_summaries_stream() {
    let (chunks, end) = run(&[
        r#"{"type":"response.reasoning_summary_text.delta","item_id":"rs_1","delta":"Thinking"}"#,
        r#"{"type":"response.refusal.delta","item_id":"m","delta":"I can't"}"#,
        r#"{"type":"response.some_future_event","item_id":"m","delta":"ignored"}"#,
        r#"{"type":"response.completed","response":{"status":"completed"}}"#,
    ]);
    end.unwrap();
    assert!(matches!(&chunks[0], Chunk::Reasoning(r) if r == "Thinking"));
    assert!(matches!(&chunks[1], Chunk::Refusal(r) if r == "I can't"));
    assert_eq!(chunks.len(), 3);
}

#[test]
fn a_reply_that_was_not_streamed_is_read_whole() {
    let body = r#"{"id":"resp_x","object":"response","status":"completed","model":"smollm2","output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"Hm."}]},{"type":"message","content":[{"type":"output_text","text":"Hello!"}]},{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}],"usage":{"input_tokens":3,"output_tokens":2}}"#;
    let (chunks, end) = run(&[body]);
    end.unwrap();
    assert_eq!(text(&chunks), "Hello!");
    assert!(matches!(&chunks[0], Chunk::Reasoning(r) if r == "Hm."));
    assert_eq!(calls(&chunks)[0].id, "c1");
    assert_eq!(finish(&chunks).reason, FinishReason::ToolCalls);
    assert_eq!(finish(&chunks).response_id.as_deref(), Some("resp_x"));
}

#[test]
fn what_is_not_this_api_is_malformed() {
    let (_, end) = run(&[r#"{"choices":[{"delta":{"content":"hi"}}]}"#]);
    let err = end.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("no Responses API event"), "{err}");
    let (_, end) = run(&["not json"]);
    assert_eq!(end.unwrap_err().kind(), ErrorKind::Protocol);
}

fn body(request: &ChatRequest, extension: bool) -> Value {
    serde_json::to_value(Request::from_chat(request, "m", extension).unwrap()).unwrap()
}

#[test]
fn the_request_carries_instructions_input_and_flat_tools() {
    let call = ToolCall::new("call_A", "get_weather", json!({"city": "Paris"}));
    let request = ChatRequest::new("unused")
        .messages([
            Message::user("What is the weather?").image(Image::Url("https://x/cat.png".into())),
            Message::assistant("").with_tool_calls(vec![call]),
            Message::tool_result("call_A", "get_weather", "17 C"),
        ])
        .system("Be brief.")
        .max_tokens(64)
        .temperature(0.0)
        .tools([Tool::new(
            "get_weather",
            "The weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        )])
        .tool_choice(ToolChoice::Tool("get_weather".into()));
    let b = body(&request, false);
    assert_eq!(b["instructions"], "Be brief.");
    assert_eq!(b["stream"], true);
    assert_eq!(b["store"], false);
    assert_eq!(b["max_output_tokens"], 64);
    assert_eq!(b["input"][0]["role"], "user");
    assert_eq!(b["input"][0]["content"][0]["type"], "input_text");
    assert_eq!(
        b["input"][0]["content"][1]["image_url"],
        "https://x/cat.png"
    );
    // The assistant turn with only a call is the call item alone.
    assert_eq!(b["input"][1]["type"], "function_call");
    assert_eq!(b["input"][1]["call_id"], "call_A");
    assert_eq!(b["input"][1]["arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(b["input"][2]["type"], "function_call_output");
    assert_eq!(b["input"][2]["output"], "17 C");
    assert_eq!(b["tools"][0]["name"], "get_weather");
    assert_eq!(b["tools"][0]["strict"], false);
    assert!(b["tools"][0].get("function").is_none());
    assert_eq!(
        b["tool_choice"],
        json!({"type": "function", "name": "get_weather"})
    );
    assert!(b.get("text").is_none() && b.get("json_schema").is_none());
    assert!(b.get("response_format").is_none() && b.get("max_tokens").is_none());
}

#[test]
fn structured_output_is_text_format_and_llama_cpps_field_when_asked() {
    let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
    let request = ChatRequest::new("Give n")
        .response_format(ResponseFormat::json_schema("thing", schema.clone()));
    let b = body(&request, false);
    assert_eq!(
        b["text"]["format"],
        json!({"type": "json_schema", "name": "thing", "schema": schema, "strict": false})
    );
    assert!(b.get("json_schema").is_none());
    assert_eq!(body(&request, true)["json_schema"], schema);
    let object = ChatRequest::new("Give n").response_format(ResponseFormat::JsonObject);
    assert_eq!(body(&object, true)["text"]["format"]["type"], "json_object");
    assert_eq!(
        body(&object, true)["json_schema"],
        json!({"type": "object"})
    );
}

#[test]
fn what_the_api_cannot_express_is_refused_before_sending() {
    let request = ChatRequest::new("hi").stop(["\n"]);
    let err = Request::from_chat(&request, "m", false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("stop sequences"), "{err}");
    let request = ChatRequest::new("hi").seed(1);
    assert!(Request::from_chat(&request, "m", false).is_err());
}

#[test]
fn configuration_from_the_environment_and_the_schema_extension_default() {
    let env = |key: Option<&'static str>, base: Option<&'static str>| {
        move |name: &str| match name {
            "OPENAI_API_KEY" => key.map(str::to_owned),
            "OPENAI_BASE_URL" => base.map(str::to_owned),
            _ => None,
        }
    };
    let err = OpenAiResponsesProvider::builder_from_lookup(env(None, None))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
    let official = OpenAiResponsesProvider::builder_from_lookup(env(Some("sk-test-123456"), None))
        .build()
        .unwrap();
    let shown = format!("{official:?}");
    assert!(shown.contains("json_schema_extension: false"), "{shown}");
    assert!(!shown.contains("sk-test-123456"));
    let local =
        OpenAiResponsesProvider::builder_from_lookup(env(None, Some("http://127.0.0.1:8080/v1/")))
            .build()
            .unwrap();
    assert_eq!(local.base_url(), "http://127.0.0.1:8080/v1");
    assert!(format!("{local:?}").contains("json_schema_extension: true"));
}
