//! Issue 24: every byte a reply keeps counts toward its cap (`max_reply_bytes`), not
//! only its text. A hostile server could fill memory with what a decoder gathers
//! between frames and never passes on as a chunk: tool call arguments that arrive
//! before the call's name, tool names, Anthropic's redacted thinking data and thinking
//! signatures. Each test reads the stream itself, as a live app does (no `chat()`, so
//! the collector's own cap is not what stops it).

use futures::StreamExt;
use theory_llm::{AnthropicProvider, ChatRequest, Chunk, ErrorKind, LlmStreamProvider};

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
    assert!(error.to_string().contains(&CAP.to_string()), "{what}: {error}");
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
