//! Issue 24: every byte a reply keeps counts toward its cap (`max_reply_bytes`), not
//! only its text. A hostile server could fill memory with what a decoder gathers
//! between frames and never passes on as a chunk: tool call arguments that arrive
//! before the call's name, tool names, Anthropic's redacted thinking data and thinking
//! signatures. Each test reads the stream itself, as a live app does (no `chat()`, so
//! the collector's own cap is not what stops it).

use futures::StreamExt;
use theory_llm::{
    AnthropicProvider, ChatRequest, Chunk, ErrorKind, LlmStreamProvider, OpenAiProvider,
    OpenAiResponsesProvider,
};

use crate::support::{Reply, Server};

const KEY: &str = "sk-caps-0123456789abcdefghijklmnop";
/// The cap every test sets, and a piece a third of it: four pieces pass it.
const CAP: usize = 64 * 1024;
const PIECE: usize = CAP / 3;

/// What a stream yields: the error it ended with, if any, and how many finishes.
async fn drain(llm: &dyn LlmStreamProvider) -> (Option<theory_llm::Error>, usize) {
    let mut stream = llm.stream_chat(ChatRequest::new("Hi").max_reply_bytes(CAP).max_retries(0));
    let mut finishes = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(Chunk::Finish(_)) => finishes += 1,
            Ok(_) => {}
            Err(e) => return (Some(e), finishes),
        }
    }
    (None, finishes)
}

fn assert_capped(what: &str, (error, finishes): (Option<theory_llm::Error>, usize)) {
    let error = error.unwrap_or_else(|| panic!("{what}: no error, {finishes} finish"));
    assert_eq!(error.kind(), ErrorKind::Protocol, "{what}: {error}");
    assert!(
        error.to_string().contains(&CAP.to_string()),
        "{what}: {error}"
    );
}

fn anthropic(server: &Server) -> AnthropicProvider {
    AnthropicProvider::builder()
        .api_key(KEY)
        .base_url(server.url())
        .build()
        .unwrap()
}

fn sse_event(name: &str, data: &serde_json::Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// A Messages reply whose blocks are `blocks` (started, maybe given deltas, stopped).
fn messages_body(blocks: &[(serde_json::Value, Vec<serde_json::Value>)]) -> String {
    let mut body = sse_event(
        "message_start",
        &serde_json::json!({"type":"message_start","message":{"id":"msg_1","type":"message",
            "role":"assistant","content":[],"model":"claude","usage":{"input_tokens":3,"output_tokens":0}}}),
    );
    for (index, (start, deltas)) in blocks.iter().enumerate() {
        body += &sse_event(
            "content_block_start",
            &serde_json::json!({"type":"content_block_start","index":index,"content_block":start}),
        );
        for delta in deltas {
            body += &sse_event(
                "content_block_delta",
                &serde_json::json!({"type":"content_block_delta","index":index,"delta":delta}),
            );
        }
        body += &sse_event(
            "content_block_stop",
            &serde_json::json!({"type":"content_block_stop","index":index}),
        );
    }
    body += &sse_event(
        "message_delta",
        &serde_json::json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}),
    );
    body + &sse_event("message_stop", &serde_json::json!({"type":"message_stop"}))
}

#[tokio::test]
async fn anthropic_redacted_thinking_counts_toward_the_cap() {
    let block = serde_json::json!({"type":"redacted_thinking","data":"r".repeat(PIECE)});
    let body = messages_body(&vec![(block, vec![]); 4]);
    let server = Server::reply(Reply::sse(body)).await;
    assert_capped("redacted thinking", drain(&anthropic(&server)).await);
}

#[tokio::test]
async fn anthropic_thinking_signatures_count_toward_the_cap() {
    let block = serde_json::json!({"type":"thinking","thinking":""});
    let deltas = vec![
        serde_json::json!({"type":"thinking_delta","thinking":"hm"}),
        serde_json::json!({"type":"signature_delta","signature":"s".repeat(PIECE)}),
    ];
    let body = messages_body(&vec![(block, deltas); 4]);
    let server = Server::reply(Reply::sse(body)).await;
    assert_capped("thinking signatures", drain(&anthropic(&server)).await);
}

#[tokio::test]
async fn anthropic_tool_names_count_toward_the_cap() {
    let blocks: Vec<_> = (0..4)
        .map(|i| {
            let block = serde_json::json!({"type":"tool_use","id":format!("toolu_{i}"),
                "name":"n".repeat(PIECE),"input":{}});
            (block, vec![])
        })
        .collect();
    let server = Server::reply(Reply::sse(messages_body(&blocks))).await;
    assert_capped("tool names", drain(&anthropic(&server)).await);
}

/// Chat Completions `data:` events, then `[DONE]`.
fn chat_completions_body(deltas: &[serde_json::Value], finish: &str) -> String {
    let mut body = String::new();
    for delta in deltas {
        let event =
            serde_json::json!({"id":"c1","model":"m","choices":[{"index":0,"delta":delta}]});
        body += &format!("data: {event}\n\n");
    }
    let last = serde_json::json!({"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":finish}]});
    body + &format!("data: {last}\n\ndata: [DONE]\n\n")
}

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn openai_arguments_before_the_tool_name_count_toward_the_cap() {
    let fragment =
        serde_json::json!({"tool_calls":[{"index":0,"function":{"arguments":"a".repeat(PIECE)}}]});
    let body = chat_completions_body(&vec![fragment; 4], "tool_calls");
    let server = Server::reply(Reply::sse(body)).await;
    assert_capped("arguments before the name", drain(&openai(&server)).await);
}

#[tokio::test]
async fn openai_tool_names_count_toward_the_cap() {
    let deltas: Vec<_> = (0..4)
        .map(|i| {
            serde_json::json!({"tool_calls":[{"index":i,"id":format!("call_{i}"),
                "function":{"name":"n".repeat(PIECE),"arguments":"{}"}}]})
        })
        .collect();
    let body = chat_completions_body(&deltas, "tool_calls");
    let server = Server::reply(Reply::sse(body)).await;
    assert_capped("tool names", drain(&openai(&server)).await);
}

fn responses(server: &Server) -> OpenAiResponsesProvider {
    OpenAiResponsesProvider::builder()
        .api_key(KEY)
        .base_url(format!("{}/v1", server.url()))
        .build()
        .unwrap()
}

/// A Responses event.
fn responses_event(data: serde_json::Value) -> String {
    format!(
        "event: {}\ndata: {data}\n\n",
        data["type"].as_str().unwrap()
    )
}

#[tokio::test]
async fn responses_arguments_before_the_call_count_toward_the_cap() {
    let mut body = responses_event(serde_json::json!({"type":"response.created",
        "response":{"id":"resp_1","model":"m","status":"in_progress","output":[]}}));
    for _ in 0..4 {
        // Arguments for an item that was never added: kept until the call is known.
        body += &responses_event(
            serde_json::json!({"type":"response.function_call_arguments.delta",
            "item_id":"fc_unknown","output_index":0,"delta":"a".repeat(PIECE)}),
        );
    }
    body += &responses_event(serde_json::json!({"type":"response.completed",
        "response":{"id":"resp_1","model":"m","status":"completed","output":[],
        "usage":{"input_tokens":3,"output_tokens":5,"total_tokens":8}}}));
    let server = Server::reply(Reply::sse(body)).await;
    assert_capped("Responses arguments", drain(&responses(&server)).await);
}

#[tokio::test]
async fn responses_tool_names_count_toward_the_cap() {
    let mut body = responses_event(serde_json::json!({"type":"response.created",
        "response":{"id":"resp_1","model":"m","status":"in_progress","output":[]}}));
    for i in 0..4 {
        body += &responses_event(serde_json::json!({"type":"response.output_item.added",
            "output_index":i,"item":{"type":"function_call","id":format!("fc_{i}"),
            "call_id":format!("call_{i}"),"name":"n".repeat(PIECE),"arguments":""}}));
    }
    body += &responses_event(serde_json::json!({"type":"response.completed",
        "response":{"id":"resp_1","model":"m","status":"completed","output":[],
        "usage":{"input_tokens":3,"output_tokens":5,"total_tokens":8}}}));
    let server = Server::reply(Reply::sse(body)).await;
    assert_capped("Responses tool names", drain(&responses(&server)).await);
}
