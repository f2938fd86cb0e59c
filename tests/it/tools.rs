//! Tools, structured output, images and conversations (issue 13), over loopback: every
//! tool-call quirk of OpenAI-compatible servers in every split, what the requests carry,
//! and how a reply that is not the JSON asked for fails.

use std::collections::BTreeMap;

use futures::StreamExt;
use serde_json::{json, Value};
use theory_llm::{
    ChatRequest, Chunk, ErrorKind, FinishReason, Image, LlmStreamProvider, Message, OllamaProvider,
    ResponseFormat, Tool, ToolCall, ToolChoice,
};

use crate::openai::provider;
use crate::support::{all_splits, transcript, Reply, Server, Split};

fn weather() -> Tool {
    Tool::new(
        "get_weather",
        "The weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

/// The calls of a reply in every split, with the stream's own order checked: each
/// call starts, its deltas concatenate to its arguments, then it completes.
async fn calls_in_every_split(file: &str) -> (Vec<ToolCall>, FinishReason, String) {
    calls_of_body_in_every_split(file, transcript(&format!("tool-calls/{file}"))).await
}

/// [`calls_in_every_split`] of `body`, named `file` in failures.
async fn calls_of_body_in_every_split(
    file: &str,
    body: Vec<u8>,
) -> (Vec<ToolCall>, FinishReason, String) {
    let mut seen = None;
    for split in all_splits() {
        let server = Server::reply(Reply::sse(body.clone()).split(split.clone())).await;
        let items: Vec<_> = provider(&server)
            .stream_chat(ChatRequest::new("Weather?").tool(weather()))
            .collect()
            .await;
        let mut started = BTreeMap::new();
        let mut arguments: BTreeMap<usize, String> = BTreeMap::new();
        let (mut calls, mut text, mut reason) = (Vec::new(), String::new(), None);
        for item in items {
            match item.unwrap_or_else(|e| panic!("{file} {split:?}: {e}")) {
                Chunk::ToolCallStart(s) => {
                    assert!(
                        started.insert(s.index, s.name.clone()).is_none(),
                        "{file}: started twice"
                    );
                }
                Chunk::ToolCallDelta(d) => {
                    assert!(
                        started.contains_key(&d.index),
                        "{file}: a delta before its start"
                    );
                    arguments.entry(d.index).or_default().push_str(&d.arguments);
                }
                Chunk::ToolCall(call) => {
                    let index = calls.len();
                    assert_eq!(
                        started.get(&index),
                        Some(&call.name),
                        "{file}: completed before started"
                    );
                    let streamed = arguments.get(&index).map_or("", String::as_str);
                    let parsed: Value = if streamed.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(streamed).unwrap()
                    };
                    assert_eq!(
                        parsed, call.arguments,
                        "{file}: the deltas make the arguments"
                    );
                    calls.push(*call);
                }
                Chunk::Text(t) => text.push_str(&t),
                Chunk::Finish(f) => reason = Some(f.reason.clone()),
                _ => {}
            }
        }
        let got = (calls, reason.expect("a finish"), text);
        if let Some(first) = &seen {
            assert_eq!(&got, first, "{file}: {split:?} differs");
        }
        seen = Some(got);
    }
    seen.unwrap()
}

fn call(id: &str, name: &str, arguments: Value) -> ToolCall {
    ToolCall::new(id, name, arguments)
}

#[tokio::test]
async fn every_tool_call_quirk_assembles_the_same_calls_in_every_split() {
    let cases = [
        (
            "openai_parallel.sse",
            vec![
                call("call_a", "get_weather", json!({"city": "Paris"})),
                call("call_b", "get_time", json!({"tz": "CET"})),
            ],
        ),
        (
            "gemini_no_index.sse",
            vec![
                call("g1", "get_weather", json!({"city": "Rome"})),
                call("g2", "get_time", json!({})),
            ],
        ),
        (
            "name_later.sse",
            vec![call("call_n", "search", json!({"q": "rust"}))],
        ),
        (
            "whole_call_with_text.sse",
            vec![call("call_w", "get_weather", json!({"city": "Oslo"}))],
        ),
        (
            "no_arguments_empty_ids.sse",
            vec![call("call_now", "now", json!({}))],
        ),
        (
            "vllm_index_reused.sse",
            vec![
                call("call_1", "get_weather", json!({"city": "Lima"})),
                call("call_2", "get_weather", json!({"city": "Quito"})),
            ],
        ),
        (
            "legacy_function_call.sse",
            vec![call("call_0", "get_weather", json!({"city": "Cairo"}))],
        ),
        (
            "named_choice_finish_stop.sse",
            vec![call("call_s", "get_weather", json!({"city": "Nice"}))],
        ),
        (
            "object_arguments_repeated_id.sse",
            vec![call("call_o", "get_weather", json!({"city": "Bern"}))],
        ),
    ];
    for (file, expected) in cases {
        let (calls, reason, _) = calls_in_every_split(file).await;
        assert_eq!(calls, expected, "{file}");
        // Whatever the server said (`stop`, `function_call`), tool calls end a reply so.
        assert_eq!(reason, FinishReason::ToolCalls, "{file}");
    }
    let (_, _, text) = calls_in_every_split("whole_call_with_text.sse").await;
    assert_eq!(text, "Let me check.");
}

/// `body` with llama-cpp-python's legacy copy of each event's first tool call fragment
/// (its `function`, as `function_call` beside `tool_calls`).
fn with_legacy_copies(body: &[u8]) -> Vec<u8> {
    let body = std::str::from_utf8(body).unwrap();
    let mut out = String::new();
    for line in body.split_inclusive('\n') {
        let data = line.strip_prefix("data: ").map(str::trim_end);
        let Some(mut event) = data.and_then(|d| serde_json::from_str::<Value>(d).ok()) else {
            out.push_str(line);
            continue;
        };
        for choice in event["choices"].as_array_mut().into_iter().flatten() {
            let copy = choice["delta"]["tool_calls"][0]["function"].clone();
            if copy.is_object() {
                choice["delta"]["function_call"] = copy;
            }
        }
        let end = &line[line.trim_end().len()..];
        out.push_str(&format!("data: {event}{end}"));
    }
    out.into_bytes()
}

/// llama-cpp-python's call, `call__0_<tool>_<completion id>`.
fn sao_paulo(completion: &str) -> ToolCall {
    call(
        &format!("call__0_get_weather_{completion}"),
        "get_weather",
        json!({"city": "São Paulo"}),
    )
}

#[tokio::test]
async fn llama_cpp_pythons_call_sent_twice_in_each_delta_is_one_call() {
    // Regression (issue 24): llama-cpp-python's `chatml-function-calling` sends every
    // piece of the arguments twice in one delta, in `tool_calls` and in the legacy
    // `function_call`. Both were read: the arguments came doubled (`{"{"ccitityy…`)
    // and the call failed as invalid JSON, streamed or not.
    let body = transcript("llama-cpp-python/tools_chatml_function_calling.body");
    let (calls, reason, text) =
        calls_of_body_in_every_split("tools_chatml_function_calling.body", body).await;
    assert_eq!(
        calls,
        vec![sao_paulo("cmpl-5b0e6c1d-2f4a-4c9e-8d37-a1f2b3c4d5e6")]
    );
    assert_eq!(reason, FinishReason::ToolCalls);
    assert_eq!(text, "");

    // `stream: false`: the whole completion, `tool_calls` before `function_call` as the
    // server orders them, and the other way round (serde_json writes keys sorted).
    let body = transcript("llama-cpp-python/tools_chatml_function_calling_nonstream.body");
    let reordered = serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    for (body, tool_calls_first) in [(body, true), (reordered, false)] {
        let text = String::from_utf8(body.clone()).unwrap();
        let order = text.find("\"tool_calls\":") < text.find("\"function_call\":");
        assert_eq!(order, tool_calls_first, "{text}");
        let server = Server::reply(Reply::json(200, body)).await;
        let reply = provider(&server)
            .chat(ChatRequest::new("Weather in São Paulo?").tool(weather()))
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            reply.tool_calls,
            vec![sao_paulo("cmpl-8e9f0a1b-3c4d-4e5f-9a6b-7c8d9e0f1a2b")]
        );
        assert_eq!(reply.finish_reason, FinishReason::ToolCalls);
        assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (212, 11));
    }
}

#[tokio::test]
async fn a_legacy_copy_beside_tool_calls_changes_no_call() {
    // Every quirk's stream with llama-cpp-python's copy added to each delta that has a
    // tool call: the same calls, in every split.
    for file in [
        "openai_parallel.sse",
        "gemini_no_index.sse",
        "name_later.sse",
        "whole_call_with_text.sse",
        "no_arguments_empty_ids.sse",
        "vllm_index_reused.sse",
        "named_choice_finish_stop.sse",
        "object_arguments_repeated_id.sse",
    ] {
        let body = transcript(&format!("tool-calls/{file}"));
        let copied = with_legacy_copies(&body);
        assert!(
            String::from_utf8_lossy(&copied).contains("\"function_call\":{"),
            "{file}"
        );
        let want = calls_in_every_split(file).await;
        assert_eq!(
            calls_of_body_in_every_split(file, copied).await,
            want,
            "{file}"
        );
    }
}

#[tokio::test]
async fn a_tool_loop_runs_on_llama_cpp_python() {
    // Regression (issue 24): the assistant turn that called a tool went back with
    // `"content": null`, which llama-cpp-python rejects (its request types `content`
    // as a string): the loop could not take its second step. This server answers as
    // it does: that error for a `content` that is not a string, else the call
    // (twice in each delta, as above), then, after the tool's result, text.
    let server = Server::start(|_, request| {
        let sent = request.json();
        let messages = sent["messages"].as_array().cloned().unwrap_or_default();
        if messages
            .iter()
            .any(|m| m.get("content").is_some_and(|c| !c.is_string()))
        {
            return Reply::json(
                500,
                transcript("llama-cpp-python/assistant_content_null.body"),
            );
        }
        match messages.last().map(|m| m["role"].clone()) {
            Some(role) if role == "tool" => {
                Reply::sse(transcript("llama-cpp-python/tool_result_turn_stream.body"))
            }
            _ => Reply::sse(transcript(
                "llama-cpp-python/tools_chatml_function_calling.body",
            )),
        }
    })
    .await;
    let llm = provider(&server);
    let mut request = ChatRequest::new("Weather in São Paulo?")
        .tool(weather())
        .tool_choice(ToolChoice::Tool("get_weather".into()))
        .max_retries(0);
    let first = llm.chat(request.clone()).await.unwrap();
    let [call] = first.tool_calls.as_slice() else {
        panic!("one call: {:?}", first.tool_calls);
    };
    let result = Message::tool_result(&call.id, &call.name, "24 C and sunny");
    request = request
        .tool_choice(ToolChoice::Auto)
        .message(first.into_message())
        .message(result);
    let second = llm.chat(request).await.unwrap();
    assert_eq!(second.text, "It's 24°C and sunny in São Paulo.");
    let sent = server.requests()[1].json();
    assert_eq!(sent["messages"][1]["role"], "assistant");
    assert_eq!(sent["messages"][1]["content"], "");
    assert_eq!(
        sent["messages"][1]["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"São Paulo"}"#
    );
}

#[tokio::test]
async fn arguments_that_are_not_json_are_an_error_naming_the_tool() {
    let body = transcript("tool-calls/invalid_arguments.sse");
    let server = Server::reply(Reply::sse(body)).await;
    let err = provider(&server).chat("Weather?".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    let msg = err.to_string();
    assert!(
        msg.contains("get_weather") && msg.contains("\"Par"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_refusal_is_kept_and_is_no_json() {
    let body = transcript("tool-calls/refusal.sse");
    let server = Server::reply(Reply::sse(body).split(Split::EveryByte)).await;
    let reply = provider(&server).chat("x".into()).await.unwrap();
    assert_eq!(reply.refusal, "I'm sorry, I can't help with that.");
    let err = reply.json::<Value>().unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
}

#[tokio::test]
async fn structured_output_parses_and_a_cut_reply_says_why() {
    // llama.cpp constrains the reply with a grammar: valid JSON for the schema.
    let server = Server::reply(Reply::sse(transcript(
        "llama-server/json_schema_stream.body",
    )))
    .await;
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]});
    let request = ChatRequest::new("A person.")
        .response_format(ResponseFormat::json_schema("person", schema.clone()));
    let reply = provider(&server).chat(request).await.unwrap();
    let person: Value = reply.json().unwrap();
    assert!(
        person["name"].is_string() && person["age"].is_i64(),
        "{person}"
    );
    let sent = server.requests()[0].json();
    assert_eq!(
        sent["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": false}})
    );

    // JSON mode cut by max_tokens: not "unexpected end of input", but why.
    let server = Server::reply(Reply::sse(transcript(
        "llama-server/json_object_stream.body",
    )))
    .await;
    let reply = provider(&server)
        .chat(ChatRequest::new("A cat.").response_format(ResponseFormat::JsonObject))
        .await
        .unwrap();
    assert_eq!(reply.finish_reason, FinishReason::Length);
    let err = reply.json::<Value>().unwrap_err();
    assert!(err.to_string().contains("token limit"), "{err}");
}

#[tokio::test]
async fn a_schema_the_server_rejects_is_invalid_request_with_its_words() {
    let server = Server::reply(Reply::json(400, transcript("llama-server/bad_schema.body"))).await;
    let request = ChatRequest::new("x").response_format(ResponseFormat::json_schema(
        "bad",
        json!({"type": "nonsense"}),
    ));
    let err = provider(&server).chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().contains("unrecognized type nonsense"),
        "{err}"
    );
}

#[tokio::test]
async fn an_image_the_server_cannot_read_is_its_error() {
    let server = Server::reply(Reply::json(
        500,
        transcript("llama-server/image_input_stream.body"),
    ))
    .await;
    let request = ChatRequest::default().message(
        Message::user("What is this?")
            .image(Image::bytes("image/png", vec![0x89, b'P', b'N', b'G'])),
    );
    let err = provider(&server)
        .chat(request.max_retries(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.to_string().contains("image input is not supported"),
        "{err}"
    );
    let sent = server.requests()[0].json();
    assert_eq!(
        sent["messages"][0]["content"],
        json!([{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}}])
    );
}

/// A second turn: the assistant's tool call and the result, as each API wants them.
fn second_turn() -> ChatRequest {
    let call = ToolCall::new("call_7", "get_weather", json!({"city": "Paris"}));
    ChatRequest::default()
        .tool(weather())
        .tool_choice(ToolChoice::Auto)
        .messages([
            Message::user("Weather in Paris?"),
            Message::assistant("").with_tool_calls([call]),
            Message::tool_result("call_7", "get_weather", "18 C and sunny"),
        ])
}

#[tokio::test]
async fn openai_requests_carry_tools_and_the_tool_loop() {
    let server = Server::reply(Reply::sse(transcript(
        "llama-server/tool_result_turn_stream.body",
    )))
    .await;
    let reply = provider(&server).chat(second_turn()).await.unwrap();
    assert!(!reply.text.is_empty());
    assert!(reply.tool_calls.is_empty());
    let sent = server.requests()[0].json();
    assert_eq!(sent["tools"][0]["type"], "function");
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(sent["tool_choice"], "auto");
    // `""`, not `null`: llama-cpp-python rejects `null` (see the tool loop below).
    assert_eq!(sent["messages"][1]["content"], "");
    assert_eq!(
        sent["messages"][1]["tool_calls"],
        json!([{"id": "call_7", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])
    );
    assert_eq!(
        sent["messages"][2],
        json!({"role": "tool", "content": "18 C and sunny", "tool_call_id": "call_7"})
    );
}

fn ollama(server: &Server) -> OllamaProvider {
    OllamaProvider::builder()
        .host(server.url())
        .build()
        .unwrap()
}

#[tokio::test]
async fn ollama_requests_carry_tools_format_images_and_the_tool_loop() {
    let server = Server::reply(Reply::ndjson(transcript(
        "ollama-compat/chat_tool_result_turn_stream.body",
    )))
    .await;
    let reply = ollama(&server).chat(second_turn()).await.unwrap();
    assert!(!reply.text.is_empty());
    let sent = server.requests()[0].json();
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    // Always with id and type: the shim needs both.
    assert_eq!(
        sent["messages"][1]["tool_calls"],
        json!([{"id": "call_7", "type": "function", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}])
    );
    assert_eq!(sent["messages"][2]["tool_name"], "get_weather");
    assert_eq!(sent["messages"][2]["tool_call_id"], "call_7");

    // `format` at the top level: a schema object, or "json"; images as bare base64.
    let server = Server::reply(Reply::ndjson(transcript(
        "ollama-compat/chat_format_schema_stream.body",
    )))
    .await;
    let schema =
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
    let request = ChatRequest::default()
        .message(Message::user("A name.").image(Image::bytes("image/png", b"foo".to_vec())))
        .response_format(ResponseFormat::json_schema("n", schema.clone()));
    let reply = ollama(&server).chat(request).await.unwrap();
    let value: Value = reply.json().unwrap();
    assert!(value.is_object(), "{value}");
    let sent = server.requests()[0].json();
    assert_eq!(sent["format"], schema);
    assert!(sent
        .get("options")
        .is_none_or(|o| o.get("format").is_none()));
    assert_eq!(sent["messages"][0]["images"], json!(["Zm9v"]));

    let server = Server::reply(Reply::ndjson(transcript(
        "ollama-compat/chat_format_json_stream.body",
    )))
    .await;
    ollama(&server)
        .chat(ChatRequest::new("json").response_format(ResponseFormat::JsonObject))
        .await
        .unwrap();
    assert_eq!(server.requests()[0].json()["format"], "json");

    // An image by URL cannot go to Ollama: said before sending.
    let server = Server::reply(Reply::ndjson("")).await;
    let request =
        ChatRequest::default().message(Message::user("x").image(Image::url("https://x/y.png")));
    let err = ollama(&server).chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn the_untyped_tool_call_turn_is_the_servers_error_with_its_words() {
    // What happens when `type` is missing: the shim's backend rejects it mid-reply.
    let server = Server::reply(Reply::ndjson(transcript(
        "ollama-compat/chat_tool_result_turn_untyped_stream.body",
    )))
    .await;
    let err = ollama(&server)
        .chat(second_turn().max_retries(0))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Missing tool call type"), "{err}");
}
