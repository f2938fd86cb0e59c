//! The tool loop on the mock provider: no I/O (the loopback tests are in
//! `tests/it/agent.rs`).

use futures::StreamExt;
use serde_json::json;

use super::*;
use crate::providers::mock::MockProvider;
use crate::request::{ChatRequest, Tool};
use crate::stream::FinishReason;

fn echo_tool() -> Tool {
    Tool::new(
        "echo",
        "Echoes",
        json!({"type": "object", "properties": {"say": {"type": "string"}}, "required": ["say"]}),
    )
}

#[tokio::test]
async fn a_run_streams_its_steps_in_order() {
    let tools = ToolBox::new().tool(echo_tool(), |args: serde_json::Value| async move {
        Ok::<_, String>(format!("said {}", args["say"]))
    });
    let llm = MockProvider::builder()
        .tool_call("echo", json!({"say": "hi"}))
        .build();
    let events: Vec<RunEvent> = Run::new(&llm, &tools, ChatRequest::new("go"))
        .stream()
        .map(|e| e.unwrap())
        .collect()
        .await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            RunEvent::StepStart(_) => "start",
            RunEvent::Chunk(_) => "chunk",
            RunEvent::ToolResult(_) => "result",
            RunEvent::StepEnd(_) => "end",
            RunEvent::Done(_) => "done",
        })
        .filter(|k| *k != "chunk")
        .collect();
    assert_eq!(kinds, ["start", "result", "end", "start", "end", "done"]);
    let RunEvent::Done(reply) = events.last().unwrap() else {
        panic!()
    };
    assert_eq!(reply.steps[0].tool_results[0].content, "said \"hi\"");
    assert_eq!(reply.reply.finish_reason, FinishReason::Stop);
    assert_eq!(
        reply.reply.usage.tokens_out,
        reply.steps[0].usage.tokens_out + reply.steps[1].usage.tokens_out
    );
}
