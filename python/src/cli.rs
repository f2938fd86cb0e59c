//! `python -m theory_llm`: `hello_llm`'s job for `--provider`, `--model`, `--prompt`
//! and `--json`, with its output (the same text, usage line and JSON objects, written
//! by hello_llm's own `output.rs`) and its exit statuses: 0 done, 1 the request failed
//! or its output could not be written, 2 a bad command line, 130 Ctrl-C.

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use std::ffi::OsString;
use std::io::{self, Write};

use crate::ahead::ReadAhead;
use crate::core::{
    ChatRequest, Chunk, Error, ErrorKind, Message, PartialReply, Registry, ToolCall,
};
use crate::hello_output::{error_json, terminal_safe, usage_line, write_json};
use crate::reading::{Reading, Step};
use crate::reply::ReplyData;
use crate::runtime::runtime;

const USAGE: &str = "\
python -m theory_llm: chat with an LLM provider, printing tokens as they arrive

USAGE:
    python -m theory_llm [OPTIONS]

OPTIONS:
    --provider NAME    one of: {providers}                 [default: mock]
    --model MODEL      the model to invoke                 [default: the provider's]
    --prompt TEXT      the user message                    [default: Hello]
    --json             print one JSON object on stdout (the reply, or the error)
    -h, --help         print this help

Providers are configured from the environment, as with hello_llm (OPENAI_API_KEY,
OPENAI_BASE_URL, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OLLAMA_HOST).

Without --json the reply goes to stdout and a usage line to stderr.
Exit status: 0 on success, 1 if the request failed or its output could not be written,
2 for a bad command line, 130 when interrupted (Ctrl-C).";

fn usage() -> String {
    USAGE.replace("{providers}", &Registry::builtin().names().join(", "))
}

struct Args {
    provider: String,
    model: Option<String>,
    prompt: String,
    json: bool,
}

enum Parsed {
    Run(Args),
    Help,
}

fn parse(argv: Vec<OsString>) -> Result<Parsed, String> {
    use lexopt::prelude::*;

    let fail = |e: lexopt::Error| e.to_string();
    let mut args = Args {
        provider: "mock".to_owned(),
        model: None,
        prompt: "Hello".to_owned(),
        json: false,
    };
    let mut parser = lexopt::Parser::from_args(argv);
    let text = |parser: &mut lexopt::Parser| -> Result<String, String> {
        parser.value().map_err(fail)?.string().map_err(fail)
    };
    while let Some(arg) = parser.next().map_err(fail)? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Long("provider") => {
                args.provider = text(&mut parser)?.trim().to_owned();
                if args.provider.is_empty() {
                    return Err("--provider needs a name".into());
                }
            }
            Long("model") => args.model = Some(text(&mut parser)?),
            Long("prompt") => args.prompt = text(&mut parser)?,
            Long("json") => args.json = true,
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Parsed::Run(args))
}

/// How a run ended.
enum Outcome {
    Done(ReplyData),
    Failed(Error),
    /// The output could not be written.
    Output(io::Error),
    /// Ctrl-C, with what had arrived.
    Interrupted(Option<Box<PartialReply>>),
}

/// Runs the command line `argv` (without the program name); returns the exit status.
#[pyfunction]
pub(crate) fn cli(py: Python<'_>, argv: Vec<OsString>) -> PyResult<u8> {
    let (mut out, mut err) = (io::stdout(), io::stderr());
    let args = match parse(argv) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            let _ = writeln!(out, "{}", usage());
            return Ok(0);
        }
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}\n\n{}", usage());
            return Ok(2);
        }
    };
    let outcome = run(py, &args, &mut out, &mut err)?;
    Ok(report(outcome, &args, &mut out, &mut err))
}

fn run(py: Python<'_>, args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> PyResult<Outcome> {
    let rt = runtime()?;
    let _entered = rt.rt.enter();
    let llm = match Registry::builtin().create(&args.provider) {
        Ok(llm) => llm,
        Err(e) => return Ok(Outcome::Failed(e)),
    };
    let mut request = ChatRequest::default().message(Message::user(args.prompt.clone()));
    if let Some(model) = &args.model {
        request = request.model(model.clone());
    }
    let mut reading = Reading::new(llm.stream_chat(request), false);
    drop(_entered);
    let Some(stream) = reading.take_stream() else {
        return Ok(Outcome::Failed(Error::new(
            ErrorKind::Protocol,
            "no stream",
        )));
    };
    let mut ahead = Some(ReadAhead::start(rt, stream));
    let live = !args.json;
    let mut mid_line = false;
    let mut in_reasoning = false;
    while let Some(reader) = ahead.as_mut() {
        let item = match reader.next(py) {
            Ok(item) => item,
            Err(e) if e.is_instance_of::<PyKeyboardInterrupt>(py) => {
                let partial = reading.partial();
                // Stops the reading task: the request is cancelled.
                drop(ahead.take());
                reading.cancel();
                if live && mid_line {
                    let _ = writeln!(out);
                }
                return Ok(Outcome::Interrupted(partial.map(Box::new)));
            }
            Err(e) => return Err(e),
        };
        let chunk = match reading.advance(item) {
            Ok(Step::Chunk(chunk)) => chunk,
            Ok(Step::End) => {
                ahead = None;
                continue;
            }
            Err(failure) => {
                if live && mid_line {
                    let _ = writeln!(out);
                }
                return Ok(Outcome::Failed(failure.error));
            }
        };
        if !live {
            continue;
        }
        let printed = match &chunk {
            Chunk::Text(text) => {
                if in_reasoning {
                    let _ = writeln!(err);
                    in_reasoning = false;
                }
                mid_line = !text.ends_with('\n');
                out.write_all(terminal_safe(text).as_bytes())
                    .and_then(|()| out.flush())
            }
            Chunk::Reasoning(text) => {
                in_reasoning = true;
                let _ = write!(err, "{}", terminal_safe(text));
                Ok(())
            }
            Chunk::Refusal(text) => {
                mid_line = true;
                out.write_all(terminal_safe(text).as_bytes())
                    .and_then(|()| out.flush())
            }
            Chunk::ToolCall(call) => {
                let line = if mid_line { "\n" } else { "" };
                mid_line = false;
                writeln!(out, "{line}{}", tool_call_line(call)).and_then(|()| out.flush())
            }
            _ => Ok(()),
        };
        if let Err(io) = printed {
            return Ok(Outcome::Output(io));
        }
    }
    if live && mid_line {
        if let Err(io) = writeln!(out).and_then(|()| out.flush()) {
            return Ok(Outcome::Output(io));
        }
    }
    Ok(match reading.take_ended() {
        Some(reply) => Outcome::Done(reply),
        None => Outcome::Failed(Error::new(ErrorKind::Protocol, "no reply was collected")),
    })
}

/// `→ get_weather {"city":"Paris"} (call_1)`, as hello_llm prints a tool call.
fn tool_call_line(call: &ToolCall) -> String {
    format!(
        "→ {} {} ({})",
        terminal_safe(&call.name),
        terminal_safe(&call.arguments.to_string()),
        terminal_safe(&call.id)
    )
}

/// Prints how the run ended (with `--json`, stdout gets the reply or the error object;
/// stderr always gets a line) and gives the exit status, as hello_llm does.
fn report(outcome: Outcome, args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (code, error) = match outcome {
        Outcome::Done(reply) => {
            if args.json {
                if let Err(io) = write_json(out, &reply.object()) {
                    let _ = writeln!(err, "error: cannot write the output: {io}");
                    return 1;
                }
            } else if let ReplyData::Whole { reply, .. } = &reply {
                let _ = writeln!(err, "{}", usage_line(reply));
            }
            return 0;
        }
        Outcome::Failed(e) => (1, e),
        Outcome::Interrupted(partial) => {
            let error = Error::new(
                ErrorKind::Cancelled,
                "interrupted (Ctrl-C) before the reply was complete; the request was cancelled",
            );
            let error = match partial {
                Some(partial) => error.with_partial(*partial),
                None => error,
            };
            (130, error)
        }
        Outcome::Output(io) => {
            let _ = writeln!(err, "error: cannot write the output: {io}");
            return 1;
        }
    };
    if args.json {
        if let Err(io) = write_json(out, &error_json(&error)) {
            let _ = writeln!(err, "error: cannot write the output: {io}");
        }
    }
    let _ = writeln!(err, "error: {error}");
    code
}
