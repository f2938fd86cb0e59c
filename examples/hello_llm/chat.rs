//! One request: the reply printed live (or whole), or as one JSON object; tool calls
//! printed as they complete; structured output read as JSON.

use std::cell::RefCell;
use std::io::{self, Write};

use futures::StreamExt;
use serde_json::Value;
use theory_llm::reply::{Collector, PartialReply};
use theory_llm::{ChatReply, ChatRequest, Chunk, Error, LlmStreamProvider, ToolCall};

use crate::output::{reply_text, terminal_safe, usage_line, write_json};
use crate::Outcome;

/// How to print a reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub(crate) json: bool,
    pub(crate) stream: bool,
    pub(crate) raw: bool,
    /// The reply must be JSON (`--json-schema`, `--json-object`).
    pub(crate) structured: bool,
}

/// The reply being collected, shared with whoever may interrupt the request (Ctrl-C),
/// so that what had arrived is not lost.
#[derive(Default)]
pub(crate) struct Progress(RefCell<Option<Collector>>);

impl Progress {
    /// What had arrived, if anything.
    pub(crate) fn partial(&self) -> Option<PartialReply> {
        let partial = self.0.borrow().as_ref()?.partial();
        (!partial.is_empty()).then_some(partial)
    }

    /// `error` with what had arrived attached.
    fn attach(&self, error: Error) -> Error {
        match self.partial() {
            Some(partial) => error.with_partial(partial),
            None => error,
        }
    }
}

/// Sends `request` and prints the reply to `out` (reasoning and the usage line to `err`).
pub(crate) async fn chat(
    llm: &dyn LlmStreamProvider,
    request: ChatRequest,
    style: Style,
    progress: &Progress,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let live = style.stream && !style.json;
    let reply = match collect(llm, request, live, style.raw, progress, out, err).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => return Outcome::Failed(progress.attach(e)),
        Err(io) => return Outcome::Output(io),
    };
    // Structured output that does not parse fails, saying why (refused, cut short).
    let parsed = if style.structured {
        match reply.json::<Value>() {
            Ok(value) => Some(value),
            Err(e) => return Outcome::Failed(e),
        }
    } else {
        None
    };
    let printed = if style.json {
        write_json(
            out,
            &JsonReply {
                reply: &reply,
                json: parsed,
            },
        )
    } else {
        print_whole(&reply, style, out)
    };
    if let Err(io) = printed {
        return Outcome::Output(io);
    }
    if !style.json {
        let _ = writeln!(err, "{}", usage_line(&reply));
    }
    Outcome::Done
}

/// The reply as `--json` prints it: the reply's fields, in their order (`tool_calls`
/// always there) and, for structured output, `"json"`: the parsed reply.
#[derive(serde::Serialize)]
struct JsonReply<'a> {
    #[serde(flatten)]
    reply: &'a ChatReply,
    #[serde(skip_serializing_if = "Option::is_none")]
    json: Option<Value>,
}

/// Plain mode, after the reply: the text if it was not streamed, and the tool calls.
fn print_whole(reply: &ChatReply, style: Style, out: &mut dyn Write) -> io::Result<()> {
    if !style.stream {
        writeln!(out, "{}", reply_text(&reply.text, style.raw))?;
        for call in &reply.tool_calls {
            writeln!(out, "{}", tool_call_line(call))?;
        }
    }
    out.flush()
}

/// `→ get_weather {"city":"Paris"} (call_1)`
pub(crate) fn tool_call_line(call: &ToolCall) -> String {
    format!(
        "→ {} {} ({})",
        terminal_safe(&call.name),
        terminal_safe(&call.arguments.to_string()),
        terminal_safe(&call.id)
    )
}

/// Collects the reply into `progress`; when `live`, prints text as it arrives
/// (reasoning goes to `err`) and each tool call when it is complete. A write to `out`
/// that fails ends the request (dropping the stream cancels it).
async fn collect(
    llm: &dyn LlmStreamProvider,
    request: ChatRequest,
    live: bool,
    raw: bool,
    progress: &Progress,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<theory_llm::Result<ChatReply>> {
    let mut stream = llm.stream_chat(request);
    *progress.0.borrow_mut() = Some(Collector::for_stream(&stream));
    let push = |chunk: &Chunk| match progress.0.borrow_mut().as_mut() {
        Some(collector) => collector.push(chunk),
        None => Ok(()),
    };
    let mut in_reasoning = false;
    let mut mid_line = false;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                if live && mid_line {
                    writeln!(out)?;
                }
                return Ok(Err(e));
            }
        };
        if !live {
            if let Err(e) = push(&chunk) {
                return Ok(Err(e));
            }
            continue;
        }
        match &chunk {
            Chunk::Text(text) => {
                if in_reasoning {
                    let _ = writeln!(err);
                    in_reasoning = false;
                }
                out.write_all(reply_text(text, raw).as_bytes())?;
                out.flush()?;
                mid_line = !text.ends_with('\n');
            }
            Chunk::Reasoning(text) => {
                in_reasoning = true;
                let _ = write!(err, "{}", terminal_safe(text));
            }
            Chunk::Refusal(text) => {
                out.write_all(terminal_safe(text).as_bytes())?;
                out.flush()?;
                mid_line = true;
            }
            Chunk::ToolCall(call) => {
                if mid_line {
                    writeln!(out)?;
                }
                writeln!(out, "{}", tool_call_line(call))?;
                out.flush()?;
                mid_line = false;
            }
            _ => {}
        }
        if let Err(e) = push(&chunk) {
            writeln!(out)?;
            return Ok(Err(e));
        }
    }
    if live && mid_line {
        writeln!(out)?;
    }
    out.flush()?;
    let collector = progress.0.borrow_mut().take();
    Ok(collector.map_or_else(
        || {
            Err(Error::new(
                theory_llm::ErrorKind::Protocol,
                "no reply was collected",
            ))
        },
        Collector::finish,
    ))
}
