//! The tool loop (issue 28) over loopback: the results go back with their ids in each
//! provider's format, the calls of a step run together, every failure of a call is fed
//! back to the model, and the bounds hold: steps, cost, deadline; dropping a run drops
//! the request and the tools that run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use theory_llm::agent::{Approval, Run, RunEvent, RunReply, ToolBox};
use theory_llm::pricing::Price;
use theory_llm::{
    AnthropicProvider, ChatRequest, ErrorKind, FinishReason, LlmStreamProvider, OllamaProvider,
    OpenAiProvider, Timeouts, Tool, ToolChoice,
};

use crate::support::{transcript, Reply, Server};

const KEY: &str = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz";

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1/", server.url()))
        .max_retries(0)
        .build()
        .unwrap()
}

/// A Chat Completions stream that calls `calls` (id, name, arguments as JSON text),
/// with `usage` when given.
fn openai_calls(calls: &[(&str, &str, &str)], usage: Option<(u64, u64)>) -> Vec<u8> {
    let mut body = String::new();
    for (index, (id, name, arguments)) in calls.iter().enumerate() {
        let delta = json!({"tool_calls": [{"index": index, "id": id, "type": "function",
            "function": {"name": name, "arguments": arguments}}]});
        body += &format!(
            "data: {}\n\n",
            json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
        );
    }
    body += &format!(
        "data: {}\n\n",
        json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    );
    if let Some((input, output)) = usage {
        body += &format!(
            "data: {}\n\n",
            json!({"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [],
                "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output}})
        );
    }
    body += "data: [DONE]\n\n";
    body.into_bytes()
}

fn openai_text(text: &str) -> Vec<u8> {
    format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
        json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    )
    .into_bytes()
}

fn object_schema(property: &str) -> Value {
    json!({"type": "object", "properties": {property: {"type": "string"}}, "required": [property]})
}

/// `get_weather(city)` and `get_time(tz)`, answering at once.
fn weather_and_time() -> ToolBox {
    ToolBox::new()
        .tool(
            Tool::new("get_weather", "The weather", object_schema("city")),
            |args: Value| async move {
                Ok::<_, String>(format!("18 C in {}", args["city"].as_str().unwrap_or("?")))
            },
        )
        .tool(
            Tool::new(
                "get_time",
                "The time",
                json!({"type": "object", "properties": {"tz": {"type": "string"}}}),
            ),
            |_: Value| async { Ok::<_, String>("12:00") },
        )
}

async fn two_step_run(llm: &dyn LlmStreamProvider, tools: &ToolBox) -> RunReply {
    Run::new(llm, tools, ChatRequest::new("Weather and time?"))
        .reply()
        .await
        .unwrap()
}

#[tokio::test]
async fn results_go_back_with_their_ids_in_each_providers_format() {
    let tools = weather_and_time();
    let run = |llm| two_step_run(llm, &tools);
    let two_steps = |first: Reply, second: Reply| async move {
        Server::start(move |n, _| {
            if n == 0 {
                first.clone()
            } else {
                second.clone()
            }
        })
        .await
    };

    // OpenAI: an assistant turn with `tool_calls`, then one `tool` message per call.
    let server = two_steps(
        Reply::sse(transcript("tool-calls/openai_parallel.sse")),
        Reply::sse(openai_text("Sunny, noon.")),
    )
    .await;
    let llm = openai(&server);
    let reply = run(&llm).await;
    assert_eq!(reply.reply.text, "Sunny, noon.");
    let sent = server.requests()[1].json();
    let ids: Vec<&Value> = sent["messages"][1]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(ids, [&json!("call_a"), &json!("call_b")]);
    assert_eq!(
        sent["messages"][2],
        json!({"role": "tool", "tool_call_id": "call_a", "content": "18 C in Paris"})
    );
    assert_eq!(
        sent["messages"][3],
        json!({"role": "tool", "tool_call_id": "call_b", "content": "12:00"})
    );
    assert_eq!(sent["tools"].as_array().unwrap().len(), 2);

    // Anthropic: `tool_result` blocks with `tool_use_id`, in the user turn.
    let server = two_steps(
        Reply::sse(transcript("anthropic/parallel_tool_use_stream.body")),
        Reply::sse(transcript("anthropic/stream.body")),
    )
    .await;
    let anthropic = AnthropicProvider::builder()
        .api_key(KEY)
        .base_url(server.url())
        .max_retries(0)
        .build()
        .unwrap();
    let reply = run(&anthropic).await;
    assert_eq!(reply.steps.len(), 2);
    let sent = server.requests()[1].json();
    let results = &sent["messages"][2]["content"];
    assert_eq!(results[0]["type"], "tool_result");
    assert_eq!(results[0]["tool_use_id"], "toolu_A");
    assert_eq!(results[1]["tool_use_id"], "toolu_B");
    assert_eq!(sent["messages"][1]["content"][0]["id"], "toolu_A");

    // Gemini: `functionResponse` parts, by name (and the id the crate gave the call).
    let server = two_steps(
        Reply::sse(transcript("gemini/parallel_calls_stream.sse")),
        Reply::sse(transcript("gemini/text_stream.sse")),
    )
    .await;
    let gemini = theory_llm::gemini::GeminiProvider::builder()
        .api_key("AIzaSy-test-0123456789abcdefghijklmnopq")
        .base_url(server.url())
        .default_model("smollm2")
        .max_retries(0)
        .build()
        .unwrap();
    let reply = run(&gemini).await;
    let sent = server.requests()[1].json();
    let response = &sent["contents"][2]["parts"][0]["functionResponse"];
    assert_eq!(response["name"], "get_weather");
    assert_eq!(response["id"], json!(reply.steps[0].tool_calls[0].id));
    assert_eq!(response["response"]["output"], "18 C in Paris");

    // OpenAI Responses: `function_call` items, then `function_call_output` by `call_id`.
    let server = two_steps(
        Reply::sse(transcript("responses/function_calls_reasoning.sse")),
        Reply::sse(transcript("responses/stream.body")),
    )
    .await;
    let responses = theory_llm::OpenAiResponsesProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1/", server.url()))
        .max_retries(0)
        .build()
        .unwrap();
    run(&responses).await;
    let sent = server.requests()[1].json();
    let items = sent["input"].as_array().unwrap();
    let calls: Vec<&Value> = items
        .iter()
        .filter(|i| i["type"] == "function_call")
        .map(|i| &i["call_id"])
        .collect();
    let outputs: Vec<(&Value, &Value)> = items
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| (&i["call_id"], &i["output"]))
        .collect();
    assert_eq!(calls, [&json!("call_paris"), &json!("call_rome")]);
    assert_eq!(
        outputs,
        [
            (&json!("call_paris"), &json!("18 C in Paris")),
            (&json!("call_rome"), &json!("18 C in Rome ☀"))
        ]
    );

    // Ollama: a `tool` message with `tool_name` and the call's id.
    let server = two_steps(
        Reply::ndjson(transcript("ollama-docs/chat-stream-tools.ndjson")),
        Reply::ndjson(transcript(
            "ollama-compat/chat_tool_result_turn_stream.body",
        )),
    )
    .await;
    let ollama = OllamaProvider::builder()
        .host(server.url())
        .max_retries(0)
        .build()
        .unwrap();
    let reply = run(&ollama).await;
    let sent = server.requests()[1].json();
    assert_eq!(sent["messages"][2]["role"], "tool");
    assert_eq!(sent["messages"][2]["tool_name"], "get_weather");
    assert_eq!(sent["messages"][2]["content"], "18 C in Tokyo");
    assert_eq!(
        sent["messages"][2]["tool_call_id"],
        json!(reply.steps[0].tool_calls[0].id)
    );
}

#[tokio::test]
async fn the_calls_of_a_step_run_together() {
    // Each tool waits for the other: run one after the other, they never finish.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let (b1, b2) = (barrier.clone(), barrier);
    let tools = ToolBox::new()
        .tool(
            Tool::new("get_weather", "", object_schema("city")),
            move |_: Value| {
                let b = b1.clone();
                async move {
                    b.wait().await;
                    Ok::<_, String>("sunny")
                }
            },
        )
        .tool(
            Tool::new("get_time", "", json!({"type": "object"})),
            move |_: Value| {
                let b = b2.clone();
                async move {
                    b.wait().await;
                    Ok::<_, String>("noon")
                }
            },
        );
    let server = Server::sequence(vec![
        Reply::sse(transcript("tool-calls/openai_parallel.sse")),
        Reply::sse(openai_text("done")),
    ])
    .await;
    let llm = openai(&server);
    let run = Run::new(&llm, &tools, "Both?".into()).reply();
    let reply = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("the two calls ran together")
        .unwrap();
    let results: Vec<&str> = reply.steps[0]
        .tool_results
        .iter()
        .map(|r| r.content.as_str())
        .collect();
    assert_eq!(results, ["sunny", "noon"]);
}

#[tokio::test]
async fn every_failure_of_a_call_is_fed_back_and_the_run_goes_on() {
    const SECRET: &str = "tok-0123456789-secret";
    let tools = ToolBox::new()
        .tool(
            Tool::new("fails", "", json!({"type": "object"})),
            |_: Value| async { Err::<String, _>(format!("the backend refused token {SECRET}")) },
        )
        .tool(
            Tool::new("panics", "", json!({"type": "object"})),
            |_: Value| async {
                if true {
                    panic!("index out of bounds (scripted)");
                }
                Ok::<String, String>(String::new())
            },
        )
        .tool(
            Tool::new("hangs", "", json!({"type": "object"})),
            |_: Value| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, String>("never")
            },
        )
        .tool(
            Tool::new("typed", "", object_schema("city")),
            |_: Value| async { Ok::<_, String>("ran") },
        )
        .tool(
            Tool::new("guarded", "", json!({"type": "object"})),
            |_: Value| async { Ok::<_, String>("ran") },
        )
        .tool(
            Tool::new("long", "", json!({"type": "object"})),
            |_: Value| async { Err::<String, _>("x".repeat(100_000)) },
        )
        .call_timeout(Duration::from_millis(200))
        .secret(SECRET);
    let calls = [
        ("c1", "fails", "{}"),
        ("c2", "panics", "{}"),
        ("c3", "hangs", "{}"),
        ("c4", "typed", r#"{"city": 7}"#),
        ("c5", "nowhere", "{}"),
        ("c6", "guarded", "{}"),
        ("c7", "long", "{}"),
    ];
    let server = Server::sequence(vec![
        Reply::sse(openai_calls(&calls, None)),
        Reply::sse(openai_text("I see.")),
    ])
    .await;
    let llm = openai(&server);
    let reply = Run::new(&llm, &tools, "Try them all".into())
        .approve(|call| {
            let verdict = if call.name == "guarded" {
                Approval::Refuse("the user said no".into())
            } else {
                Approval::Allow
            };
            async move { verdict }
        })
        .reply()
        .await
        .unwrap();
    assert_eq!(reply.reply.text, "I see.");
    assert_eq!(reply.reply.finish_reason, FinishReason::Stop);
    let results = &reply.steps[0].tool_results;
    let wanted = [
        ("c1", "the backend refused token [REDACTED]"),
        ("c2", "the tool failed (it panicked: index out of bounds (scripted))"),
        ("c3", "the tool did not finish within its time limit of 200 ms"),
        ("c4", "the arguments do not match the tool's schema, so it did not run: at /city: 7 is not of type \"string\""),
        ("c5", "there is no tool named 'nowhere'; the tools are: fails, panics, hangs, typed, guarded, long"),
        ("c6", "the call was refused before it ran: the user said no"),
        ("c7", "xxxxxxxx"),
    ];
    assert_eq!(results.len(), wanted.len());
    for (result, (id, start)) in results.iter().zip(wanted) {
        assert_eq!(result.id, id);
        assert!(result.is_error, "{result:?}");
        assert!(
            result.content.starts_with(start),
            "{id}: {}",
            result.content
        );
    }
    assert_eq!(results[6].content.chars().count(), 2_001, "bounded");
    // Each went back to the model, tied to its call and flagged in its text.
    let sent = server.requests()[1].json();
    for (i, (id, _)) in wanted.iter().enumerate() {
        let message = &sent["messages"][2 + i];
        assert_eq!(message["tool_call_id"], *id);
        assert!(
            message["content"].as_str().unwrap().starts_with("error: "),
            "{message}"
        );
    }
    assert!(!String::from_utf8_lossy(&server.requests()[1].body).contains(SECRET));
}

#[tokio::test]
async fn a_model_that_keeps_calling_tools_stops_at_max_steps() {
    let ran = Arc::new(AtomicUsize::new(0));
    let counted = ran.clone();
    let tools = ToolBox::new().tool(
        Tool::new("get_weather", "", object_schema("city")),
        move |_: Value| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, String>("sunny") }
        },
    );
    let server = Server::reply(Reply::sse(openai_calls(
        &[("c", "get_weather", r#"{"city":"Oslo"}"#)],
        None,
    )))
    .await;
    let llm = openai(&server);
    let reply: RunReply = Run::new(&llm, &tools, "Weather?".into())
        .max_steps(3)
        .reply()
        .await
        .unwrap();
    assert_eq!(reply.reply.finish_reason, FinishReason::MaxSteps);
    assert_eq!(server.requests().len(), 3);
    assert_eq!(reply.steps.len(), 3);
    // The last step's call is not run: no model call would read its result.
    assert!(reply.steps[2].tool_results.is_empty());
    assert_eq!(reply.steps[2].tool_calls.len(), 1);
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    let json = serde_json::to_value(&reply).unwrap();
    assert_eq!(json["finish_reason"], "max_steps");

    // The default bound is 8.
    let server = Server::reply(Reply::sse(openai_calls(
        &[("c", "get_weather", r#"{"city":"Oslo"}"#)],
        None,
    )))
    .await;
    let llm = openai(&server);
    let reply = Run::new(&llm, &tools, "Weather?".into())
        .reply()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 8);
    assert_eq!(reply.reply.finish_reason, FinishReason::MaxSteps);
}

#[tokio::test]
async fn the_cost_ceiling_stops_the_run_and_usage_is_summed() {
    let tools = weather_and_time();
    let server = Server::reply(Reply::sse(openai_calls(
        &[("c", "get_weather", r#"{"city":"Oslo"}"#)],
        Some((1000, 100)),
    )))
    .await;
    // $1 per 1M tokens in and out: 1100 micro-USD a step.
    let llm = OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1/", server.url()))
        .price("m", Price::per_million_usd(1.0, 1.0))
        .default_model("m")
        .max_retries(0)
        .build()
        .unwrap();
    let reply = Run::new(&llm, &tools, "Weather?".into())
        .max_cost_usd_micros(2000)
        .reply()
        .await
        .unwrap();
    assert_eq!(reply.reply.finish_reason, FinishReason::MaxCost);
    assert_eq!(reply.steps.len(), 2);
    assert_eq!(reply.reply.usage.usd_micros, 2200);
    assert_eq!(
        (reply.reply.usage.tokens_in, reply.reply.usage.tokens_out),
        (2000, 200)
    );
    assert!(reply.steps[1].tool_results.is_empty());
}

#[tokio::test]
async fn the_tool_choice_applies_to_the_first_step_only() {
    let tools = weather_and_time();
    let server = Server::sequence(vec![
        Reply::sse(openai_calls(
            &[("c", "get_weather", r#"{"city":"Oslo"}"#)],
            None,
        )),
        Reply::sse(openai_text("ok")),
    ])
    .await;
    let llm = openai(&server);
    let request = ChatRequest::new("Weather?").tool_choice(ToolChoice::Required);
    Run::new(&llm, &tools, request).reply().await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].json()["tool_choice"], "required");
    assert!(requests[1].json().get("tool_choice").is_none());
}

#[tokio::test]
async fn the_deadline_holds_for_the_whole_run_tools_included() {
    let tools = ToolBox::new().tool(
        Tool::new("get_weather", "", object_schema("city")),
        |_: Value| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<_, String>("never")
        },
    );
    let server = Server::reply(Reply::sse(openai_calls(
        &[("c", "get_weather", r#"{"city":"Oslo"}"#)],
        None,
    )))
    .await;
    let llm = openai(&server);
    let request = ChatRequest::new("Weather?")
        .timeouts(Timeouts::default().deadline(Duration::from_millis(300)));
    let started = std::time::Instant::now();
    let err = Run::new(&llm, &tools, request).reply().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        err.to_string().contains("deadline of 300 ms in step 1"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// Sets its flag when dropped: proof that a tool's future was dropped.
struct DropFlag(Arc<AtomicUsize>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn dropping_the_run_drops_the_running_tools_and_the_request() {
    // A tool that runs until its future is dropped.
    let (started, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (s, d) = (started.clone(), dropped.clone());
    let tools = ToolBox::new().tool(
        Tool::new("get_weather", "", object_schema("city")),
        move |_: Value| {
            let (s, flag) = (s.clone(), DropFlag(d.clone()));
            async move {
                let _flag = flag;
                s.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
                Ok::<_, String>("never")
            }
        },
    );
    let server = Server::reply(Reply::sse(openai_calls(
        &[("c", "get_weather", r#"{"city":"Oslo"}"#)],
        None,
    )))
    .await;
    let llm = openai(&server);
    let mut run = Run::new(&llm, &tools, "Weather?".into()).stream();
    // Read until the step's reply is whole; then the tool starts on the next poll.
    while let Some(event) = run.next().await {
        if let RunEvent::Chunk(theory_llm::Chunk::Finish(_)) = event.unwrap() {
            break;
        }
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), run.next())
            .await
            .is_err(),
        "the tool never ends"
    );
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    drop(run);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the tool's future was dropped"
    );

    // A model call that is streaming: dropping the run closes its connection.
    let server = Server::reply(Reply::sse(openai_text("a long answer")).stall_after(1)).await;
    let llm = openai(&server);
    let tools = ToolBox::new();
    let mut run = Run::new(&llm, &tools, "Talk".into()).stream();
    assert!(matches!(run.next().await, Some(Ok(RunEvent::StepStart(1)))));
    assert!(matches!(
        run.next().await,
        Some(Ok(RunEvent::Chunk(theory_llm::Chunk::Text(_))))
    ));
    assert_eq!(server.aborted(), 0);
    drop(run);
    assert!(server.wait_aborted(1).await, "the request was cancelled");
}
