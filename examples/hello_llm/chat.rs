//! One request: the reply printed live (or whole), or as one JSON object.

use std::io::{self, Write};

use futures::StreamExt;
use theory_llm::{ChatReply, ChatRequest, Chunk, Collector, LlmStreamProvider};

use crate::output::{reply_text, terminal_safe, usage_line, write_json};
use crate::Outcome;

/// Sends `request` and prints the reply to `out` (reasoning and the usage line to `err`).
pub(crate) async fn chat(
    llm: &dyn LlmStreamProvider,
    request: ChatRequest,
    json: bool,
    stream: bool,
    raw: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let reply = if json || !stream {
        match llm.chat(request).await {
            Ok(reply) => reply,
            Err(e) => return Outcome::Failed(e),
        }
    } else {
        match stream_live(llm, request, raw, out, err).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => return Outcome::Failed(e),
            Err(io) => return Outcome::Output(io),
        }
    };
    if json {
        return match write_json(out, &reply) {
            Ok(()) => Outcome::Done,
            Err(io) => Outcome::Output(io),
        };
    }
    if !stream {
        let text = reply_text(&reply.text, raw);
        if let Err(io) = writeln!(out, "{text}").and_then(|()| out.flush()) {
            return Outcome::Output(io);
        }
    }
    let _ = writeln!(err, "{}", usage_line(&reply));
    Outcome::Done
}

/// Prints text as it arrives (reasoning goes to `err`), and returns the collected reply.
/// A write to `out` that fails ends the request (dropping the stream cancels it).
async fn stream_live(
    llm: &dyn LlmStreamProvider,
    request: ChatRequest,
    raw: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<theory_llm::Result<ChatReply>> {
    let mut stream = llm.stream_chat(request);
    let mut collector = Collector::for_stream(&stream);
    let mut in_reasoning = false;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                writeln!(out)?;
                return Ok(Err(e));
            }
        };
        match &chunk {
            Chunk::Text(text) => {
                if in_reasoning {
                    let _ = writeln!(err);
                    in_reasoning = false;
                }
                out.write_all(reply_text(text, raw).as_bytes())?;
                out.flush()?;
            }
            Chunk::Reasoning(text) => {
                in_reasoning = true;
                let _ = write!(err, "{}", terminal_safe(text));
            }
            _ => {}
        }
        if let Err(e) = collector.push(&chunk) {
            writeln!(out)?;
            return Ok(Err(e));
        }
    }
    writeln!(out)?;
    out.flush()?;
    Ok(collector.finish())
}
