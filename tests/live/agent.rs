//! A tool loop against a real model and a real MCP server: SmolLM2 on llama.cpp's server
//! (`scripts/toolmodel.sh`: a chat template that shows the model how to call, llama.cpp's
//! grammar keeps the call valid for the tool's schema) calls `mcp-server-time`'s tool
//! (`scripts/mcpservers.sh`), and the run goes on with its result. A small model may call the tool again after reading the result: the
//! step bound ends that run, which is the bound working.

use serde_json::Value;
use theory_llm::agent::{Run, ToolBox};
use theory_llm::mcp::McpServer;
use theory_llm::{ChatRequest, FinishReason, OpenAiProvider, ToolChoice};

use crate::env;

#[tokio::test]
#[ignore = "live: scripts/toolmodel.sh start, scripts/mcpservers.sh env, THEORY_LLM_LIVE=1"]
async fn a_real_model_calls_an_mcp_tool_and_the_run_goes_on_with_its_result() {
    let llm = OpenAiProvider::builder()
        .api_key("none")
        .base_url(env("THEORY_LLM_TOOLS_BASE_URL"))
        .default_model("smollm2")
        .build()
        .unwrap();
    let time = McpServer::stdio(env("THEORY_LLM_MCP_TIME"), ["--local-timezone", "UTC"])
        .named("time")
        .connect()
        .await
        .unwrap();
    let tools = ToolBox::new().source(time);
    let request = ChatRequest::new("What time is it in Tokyo?")
        .tool_choice(ToolChoice::Tool("get_current_time".into()))
        .temperature(0.0)
        .max_tokens(96);
    let run = Run::new(&llm, &tools, request)
        .max_steps(3)
        .reply()
        .await
        .unwrap();

    let first = &run.steps[0];
    let [call] = first.tool_calls.as_slice() else {
        panic!("one call: {:?}", first.tool_calls);
    };
    assert_eq!(call.name, "get_current_time");
    assert!(
        call.arguments.get("timezone").is_some_and(Value::is_string),
        "{call:?}"
    );
    let [result] = first.tool_results.as_slice() else {
        panic!("its result: {:?}", first.tool_results);
    };
    assert_eq!((&result.id, &result.name), (&call.id, &call.name));
    // The server answered, with the time or with what was wrong with the zone the
    // model named; either way the model read it in the next step.
    assert!(!result.content.is_empty(), "{result:?}");
    assert!(run.steps.len() >= 2, "the run went on: {:?}", run.steps);
    assert!(
        matches!(
            run.reply.finish_reason,
            FinishReason::Stop | FinishReason::Length | FinishReason::MaxSteps
        ),
        "{:?}",
        run.reply.finish_reason
    );
    let tokens: u64 = run.steps.iter().map(|s| s.usage.tokens_out).sum();
    assert_eq!(run.reply.usage.tokens_out, tokens);
}
