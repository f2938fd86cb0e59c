//! `--mcp` and `--mcp-url`: the MCP servers started (all of them, before any model
//! call), their tools offered, and the tool loop run: each call printed when it
//! completes, then its result (one line, shortened), then the model's next text; or,
//! with `--json`, the run's reply with its `steps`.

use std::io::{self, Write};

use futures::StreamExt;
use serde_json::Value;
use theory_llm::agent::{Run, RunEvent, RunReply, ToolBox, ToolResult};
use theory_llm::mcp::McpServer;
use theory_llm::{ChatRequest, Chunk, LlmStreamProvider};

use crate::args::Args;
use crate::chat::{tool_call_line, Style};
use crate::output::{reply_text, terminal_safe, usage_line, write_json};
use crate::Outcome;

/// The servers of the command line, in order: `--mcp` ones, then `--mcp-url` ones.
pub(crate) fn servers(args: &Args) -> Vec<McpServer> {
    let stdio = args
        .mcp
        .iter()
        .filter_map(|words| words.split_first())
        .map(|(command, rest)| McpServer::stdio(command.as_str(), rest.iter().cloned()));
    let http = args
        .mcp_urls
        .iter()
        .map(|url| McpServer::http(url.as_str()));
    stdio.chain(http).collect()
}

/// Connects every server, together; the first that fails fails the run.
pub(crate) async fn tool_box(args: &Args) -> theory_llm::Result<ToolBox> {
    let servers = servers(args);
    let connected = futures::future::join_all(servers.iter().map(McpServer::connect)).await;
    let mut tools = ToolBox::new();
    for client in connected {
        tools = tools.source(client?);
    }
    Ok(tools)
}

/// The most characters of a result printed on its line.
const RESULT_CHARS: usize = 200;

/// `← get_time: {"time": "12:00"}`: one line, shortened, safe for a terminal.
fn result_line(result: &ToolResult) -> String {
    let flat: String = result
        .content
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let short: String = flat.chars().take(RESULT_CHARS).collect();
    let more = if flat.chars().count() > RESULT_CHARS {
        "…"
    } else {
        ""
    };
    let error = if result.is_error { "error: " } else { "" };
    format!(
        "← {}: {error}{}{more}",
        terminal_safe(&result.name),
        terminal_safe(&short)
    )
}

/// Runs the loop on `llm` and prints it.
pub(crate) async fn run(
    llm: &dyn LlmStreamProvider,
    tools: &ToolBox,
    request: ChatRequest,
    args: &Args,
    style: Style,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let mut run = Run::new(llm, tools, request);
    if let Some(steps) = args.max_steps {
        run = run.max_steps(steps);
    }
    let mut events = run.stream();
    let mut printer = Printer {
        live: !style.json,
        raw: style.raw,
        mid_line: false,
    };
    let mut done = None;
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                let _ = printer.end_line(out);
                return Outcome::Failed(e);
            }
        };
        if let Err(io) = printer.print(&event, out) {
            return Outcome::Output(io);
        }
        if let RunEvent::Done(reply) = event {
            done = Some(reply);
        }
    }
    let Some(reply) = done else {
        return Outcome::Failed(theory_llm::Error::new(
            theory_llm::ErrorKind::Protocol,
            "the tool loop ended without its reply",
        ));
    };
    let parsed = if style.structured {
        match reply.reply.json::<Value>() {
            Ok(value) => Some(value),
            Err(e) => return Outcome::Failed(e),
        }
    } else {
        None
    };
    if style.json {
        if let Err(io) = write_json(
            out,
            &JsonRun {
                run: &reply,
                json: parsed,
            },
        ) {
            return Outcome::Output(io);
        }
    } else {
        if let Err(io) = printer.end_line(out).and_then(|()| out.flush()) {
            return Outcome::Output(io);
        }
        let steps = reply.steps.len();
        let _ = writeln!(err, "{} · {steps} steps", usage_line(&reply.reply));
    }
    Outcome::Done
}

/// The run as `--json` prints it: the last reply's fields (usage summed, the run's
/// finish reason), `steps`, and `json` for structured output.
#[derive(serde::Serialize)]
struct JsonRun<'a> {
    #[serde(flatten)]
    run: &'a RunReply,
    #[serde(skip_serializing_if = "Option::is_none")]
    json: Option<Value>,
}

/// Plain mode's printing, event by event.
struct Printer {
    live: bool,
    raw: bool,
    mid_line: bool,
}

impl Printer {
    fn print(&mut self, event: &RunEvent, out: &mut dyn Write) -> io::Result<()> {
        if !self.live {
            return Ok(());
        }
        match event {
            RunEvent::Chunk(Chunk::Text(text)) => {
                out.write_all(reply_text(text, self.raw).as_bytes())?;
                self.mid_line = !text.ends_with('\n');
            }
            RunEvent::Chunk(Chunk::ToolCall(call)) => {
                self.end_line(out)?;
                writeln!(out, "{}", tool_call_line(call))?;
            }
            RunEvent::ToolResult(result) => {
                self.end_line(out)?;
                writeln!(out, "{}", result_line(result))?;
            }
            _ => return Ok(()),
        }
        out.flush()
    }

    fn end_line(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.mid_line {
            writeln!(out)?;
            self.mid_line = false;
        }
        Ok(())
    }
}
