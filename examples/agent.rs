//! A tool loop with one Rust function and the tools of one MCP server: the model calls
//! them, they run (together, when it calls several), their results go back, and it
//! answers, in at most 6 model calls.
//!
//! ```text
//! cargo run --example agent                                  # the mock, with `uvx mcp-server-time`
//! MCP_SERVER="mcp-server-time --local-timezone UTC" cargo run --example agent -- openai gpt-4o-mini
//! ```

use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use theory_llm::agent::{Run, RunEvent, ToolBox};
use theory_llm::mcp::McpServer;
use theory_llm::{ChatRequest, Chunk, LlmStreamProvider, MockProvider, Registry};

/// Two numbers to add.
#[derive(Deserialize, JsonSchema)]
struct Add {
    a: f64,
    b: f64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> theory_llm::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The mock calls both tools, then answers with what they returned.
    let llm: Box<dyn LlmStreamProvider> = match args.first().map(String::as_str) {
        None | Some("mock") => Box::new(
            MockProvider::builder()
                .tool_call("add", json!({"a": 2, "b": 40}))
                .tool_call("get_current_time", json!({"timezone": "Asia/Tokyo"}))
                .build(),
        ),
        Some(name) => Registry::builtin().create(name)?,
    };

    // An MCP server over stdio (killed when `tools` is dropped), and a Rust function
    // whose JSON Schema is derived from its argument type.
    let server = std::env::var("MCP_SERVER").unwrap_or_else(|_| "uvx mcp-server-time".into());
    let words: Vec<&str> = server.split_whitespace().collect();
    let time = McpServer::stdio(words[0], words[1..].iter().copied())
        .connect()
        .await?;
    let tools = ToolBox::new()
        .function("add", "Adds two numbers", |args: Add| async move {
            Ok::<_, String>(json!(args.a + args.b))
        })
        .source(time);

    let mut request = ChatRequest::new("What is 2 + 40, and what time is it in Tokyo?");
    if let Some(model) = args.get(1) {
        request = request.model(model.clone());
    }
    let mut run = Run::new(llm.as_ref(), &tools, request)
        .max_steps(6)
        .stream();
    while let Some(event) = run.next().await {
        match event? {
            RunEvent::Chunk(Chunk::Text(text)) => print!("{text}"),
            RunEvent::Chunk(Chunk::ToolCall(call)) => {
                println!("→ {} {}", call.name, call.arguments)
            }
            RunEvent::ToolResult(result) => println!("← {}: {}", result.name, result.content),
            RunEvent::Done(reply) => println!(
                "\n[{} steps · {} tokens in, {} out · {}]",
                reply.steps.len(),
                reply.reply.usage.tokens_in,
                reply.reply.usage.tokens_out,
                reply.reply.finish_reason
            ),
            _ => {}
        }
    }
    Ok(())
}
