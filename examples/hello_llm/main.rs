//! `hello_llm`: talk to any provider from the command line, tokens printed as they
//! arrive; or benchmark providers and models against each other with `--repeat`.
//!
//! ```text
//! cargo run --example hello_llm -- --provider mock
//! OPENAI_API_KEY=sk-... cargo run --example hello_llm -- --provider openai --prompt "Hi"
//! cargo run --example hello_llm -- --provider ollama --model qwen2.5:0.5b --json
//! cargo run --example hello_llm -- --provider ollama=qwen2.5:0.5b,openai=gpt-4o-mini --repeat 20 --concurrency 4
//! ```
//!
//! Files: `args.rs` (flags and usage), `inputs.rs` (the files and images they point to,
//! and the request), `overwrite.rs` (no output file may be an input or another output),
//! `chat.rs` (one request), `embed.rs` (`--embed`), `bench.rs` (benchmark mode),
//! `budget.rs` (`--budget`), `tool_loop.rs` (`--mcp`: the tools of MCP servers, and
//! the loop that runs them), `output.rs` (what is printed, made safe), `trace.rs`
//! (`--trace`: the spans as JSON lines);
//! for benchmark mode, `progress.rs` (the display while it runs), `report.rs`
//! (`--report`: the charts) and `samples.rs` (`--samples`: one JSON line per request).

mod args;
mod bench;
mod budget;
mod chat;
mod embed;
mod inputs;
mod output;
mod overwrite;
mod progress;
mod providers;
mod report;
mod samples;
mod tool_loop;
mod trace;

use std::future::Future;
use std::io::{self, Write};
use std::process::ExitCode;

use theory_llm::reply::PartialReply;
use theory_llm::{Error, ErrorKind, Registry};

use crate::args::{parse, usage, Args, Parsed};
use crate::inputs::Inputs;
use crate::output::{error_json, write_json};
use crate::providers::RecordFile;

/// How a run ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done,
    /// The request failed.
    Failed(Error),
    /// The output could not be written (a closed pipe, a full disk).
    Output(io::Error),
    /// Benchmark mode: some provider answered no request (the report says why).
    BenchFailed(String),
    /// Ctrl-C, with what the reply had delivered by then.
    Interrupted(Option<Box<PartialReply>>),
    /// Ctrl-C during a benchmark, saying how much had finished (its table and files
    /// have what did).
    BenchInterrupted(String),
}

/// The providers the CLI knows: the built-in ones. A provider registered here (with
/// `Registry::with`) is listed by `--help` and usable with `--provider`.
pub(crate) fn registry() -> Registry {
    Registry::builtin()
}

/// Runs the command, or stops when `interrupted` resolves (dropping the request, which
/// cancels it). Returns the exit status.
async fn run(
    args: &Args,
    out: &mut dyn Write,
    err: &mut dyn Write,
    interrupted: impl Future<Output = ()>,
) -> u8 {
    // Before anything is read or written: an output must not empty an input.
    let inputs = match overwrite::refuse_overwriting(args).and_then(|()| Inputs::load(args)) {
        Ok(inputs) => inputs,
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}\n\n{}", usage(&registry()));
            return 2;
        }
    };
    let record = match args.record.as_deref().map(RecordFile::create).transpose() {
        Ok(record) => record,
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}");
            return 1;
        }
    };
    let budgets = budget::Budgets::default();
    let outcome = match args.repeat {
        // A benchmark watches for Ctrl-C itself: it keeps what finished.
        Some(runs) => {
            let wrap = bench::Wrap {
                record: record.as_ref(),
                budgets: &budgets,
            };
            bench::benchmark(args, &inputs, runs, wrap, out, err, interrupted).await
        }
        None => {
            // The reply so far, readable when Ctrl-C interrupts the request.
            let progress = chat::Progress::default();
            let work = async {
                // The tool servers start before any model call: one that cannot is the
                // run's failure (`tool_server`).
                let tools = if args.tool_loop() {
                    match tool_loop::tool_box(args).await {
                        Ok(tools) => Some(tools),
                        Err(e) => return Outcome::Failed(e),
                    }
                } else {
                    None
                };
                let target = &args.targets[0];
                match providers::provider(args, target, record.as_ref(), &budgets).await {
                    Ok(llm) if args.embed => {
                        let request = inputs.embed_request(args, target);
                        embed::embed(llm.as_ref(), request, args.json, out, err).await
                    }
                    Ok(llm) => {
                        let request = inputs.request(args, target);
                        let style = chat::Style {
                            json: args.json,
                            stream: args.stream,
                            raw: args.raw,
                            structured: inputs.structured(),
                        };
                        match &tools {
                            Some(tools) => {
                                tool_loop::run(llm.as_ref(), tools, request, args, style, out, err)
                                    .await
                            }
                            None => {
                                chat::chat(llm.as_ref(), request, style, &progress, out, err).await
                            }
                        }
                    }
                    Err(e) => Outcome::Failed(e),
                }
            };
            tokio::select! {
                biased;
                () = interrupted => Outcome::Interrupted(progress.partial().map(Box::new)),
                outcome = work => outcome,
            }
        }
    };
    let code = report(outcome, args.json, out, err);
    match record.as_ref().and_then(RecordFile::failed) {
        Some(why) => {
            let _ = writeln!(err, "error: the recording is incomplete: {why}");
            code.max(1)
        }
        None => code,
    }
}

/// Prints how the run ended (stdout gets the JSON error object with `--json`; stderr
/// always gets a line) and gives the exit status.
fn report(outcome: Outcome, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (code, error) = match outcome {
        Outcome::Done => return 0,
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
        Outcome::BenchInterrupted(how_far) => (
            130,
            Error::new(
                ErrorKind::Cancelled,
                format!("interrupted (Ctrl-C): {how_far}; the requests in flight were cancelled"),
            ),
        ),
        Outcome::Output(io) => {
            let _ = writeln!(err, "error: cannot write the output: {io}");
            return 1;
        }
        Outcome::BenchFailed(why) => {
            let _ = writeln!(err, "error: {why}");
            return 1;
        }
    };
    if json {
        if let Err(io) = write_json(out, &error_json(&error)) {
            let _ = writeln!(err, "error: cannot write the output: {io}");
        }
    }
    let _ = writeln!(err, "error: {error}");
    code
}

/// Resolves on Ctrl-C; never, where signals cannot be watched.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The runtime, or why it cannot start. Out of file descriptors, tokio panics setting up
/// its signal pipe rather than fail: that panic is caught and reported like an error.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let built = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    });
    std::panic::set_hook(hook);
    match built {
        Ok(Ok(runtime)) => Ok(runtime),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the async runtime failed to start".to_owned())),
    }
}

fn main() -> ExitCode {
    // Built by hand rather than by #[tokio::main], which panics when it cannot start.
    match runtime() {
        Ok(runtime) => runtime.block_on(cli()),
        Err(why) => {
            let _ = writeln!(io::stderr(), "error: cannot start: {why}");
            ExitCode::from(1)
        }
    }
}

async fn cli() -> ExitCode {
    let (mut out, mut err) = (io::stdout(), io::stderr());
    let args = match parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            let _ = writeln!(out, "{}", usage(&registry()));
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}\n\n{}", usage(&registry()));
            return ExitCode::from(2);
        }
    };
    if args.trace {
        trace::print_spans_to_stderr();
    }
    progress::draw_on_terminal();
    ExitCode::from(run(&args, &mut out, &mut err, ctrl_c()).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn parsed(v: &[&str]) -> Args {
        match parse(v.iter().map(OsString::from)) {
            Ok(Parsed::Run(a)) => *a,
            _ => panic!("{v:?} did not parse"),
        }
    }

    async fn run_to_end(args: &Args, out: &mut dyn Write) -> (u8, String) {
        let mut err = Vec::new();
        let code = run(args, out, &mut err, std::future::pending()).await;
        (code, String::from_utf8(err).unwrap())
    }

    #[tokio::test]
    async fn json_output_is_one_object() {
        let mut out = Vec::new();
        let (code, _) = run_to_end(&parsed(&["--json"]), &mut out).await;
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["provider"], "mock");
        let mut out = Vec::new();
        let (code, err) = run_to_end(&parsed(&["--provider", "nope", "--json"]), &mut out).await;
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["kind"], "provider_unavailable");
        assert!(err.contains("unknown provider"), "{err}");
    }

    #[tokio::test]
    async fn a_tool_server_that_cannot_start_fails_before_any_model_call() {
        let argv = [
            "--mcp",
            "/nonexistent/mcp-server --flag 'two words'",
            "--json",
        ];
        let mut out = Vec::new();
        let (code, err) = run_to_end(&parsed(&argv), &mut out).await;
        assert_eq!(code, 1, "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["kind"], "tool_server");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "the MCP server '/nonexistent/mcp-server --flag two words' cannot be started"
            ),
            "{message}"
        );
    }

    /// The loop over a real MCP server (`scripts/mcpservers.sh`): the `--json` object
    /// has the steps, the results and the run's finish reason.
    #[tokio::test]
    async fn an_mcp_tool_loop_prints_its_steps() {
        let Ok(time) = std::env::var("THEORY_LLM_MCP_TIME") else {
            assert!(
                std::env::var("THEORY_LLM_MCP").is_err(),
                "THEORY_LLM_MCP_TIME is not set: scripts/mcpservers.sh env"
            );
            eprintln!("skipped: THEORY_LLM_MCP_TIME is not set (scripts/mcpservers.sh env)");
            return;
        };
        let server = format!("{time} --local-timezone UTC");
        let argv = ["--mcp", &server, "--tool-choice", "required", "--json"];
        let mut out = Vec::new();
        let (code, err) = run_to_end(&parsed(&argv), &mut out).await;
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["finish_reason"], "stop");
        let steps = v["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 2);
        let call = &steps[0]["tool_calls"][0];
        let result = &steps[0]["tool_results"][0];
        assert_eq!(call["name"], "get_current_time");
        assert_eq!(
            (&result["id"], &result["name"]),
            (&call["id"], &call["name"])
        );
        assert!(result["content"].is_string() && result["is_error"].is_boolean());
        assert_eq!(steps[0]["finish_reason"], "tool_calls");
        let tokens = |u: &serde_json::Value| u["tokens_out"].as_u64().unwrap();
        assert_eq!(
            tokens(&v["usage"]),
            tokens(&steps[0]["usage"]) + tokens(&steps[1]["usage"])
        );
        // Plain mode: the call, its result on one line, then the text.
        let argv = [
            "--mcp",
            &server,
            "--tool-choice",
            "required",
            "--max-steps",
            "1",
        ];
        let mut out = Vec::new();
        let (code, err) = run_to_end(&parsed(&argv), &mut out).await;
        assert_eq!(code, 0, "{err}");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("→ get_current_time {"), "{text}");
        assert!(
            !text.contains("←"),
            "at max_steps the last calls do not run: {text}"
        );
    }

    /// A stdout that fails like a closed pipe or a full disk.
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[tokio::test]
    async fn embed_prints_exactly_the_documented_json_or_a_preview() {
        let mut out = Vec::new();
        let (code, err) = run_to_end(
            &parsed(&["--embed", "--json", "--prompt", "a cat"]),
            &mut out,
        )
        .await;
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["dimensions", "embeddings", "model", "provider", "usage"]
        );
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with(
                r#"{"provider":"mock","model":"mock-embed","dimensions":16,"embeddings":[["#
            ),
            "{text}"
        );
        assert_eq!(
            (v["provider"].as_str(), v["model"].as_str()),
            (Some("mock"), Some("mock-embed"))
        );
        assert_eq!(v["dimensions"], 16);
        assert_eq!(v["embeddings"].as_array().unwrap().len(), 1);
        assert_eq!(v["embeddings"][0].as_array().unwrap().len(), 16);
        assert_eq!(v["usage"]["cost_basis"], "free");
        assert!(v["usage"]["tokens_in"].as_u64().unwrap() > 0);
        assert!(err.is_empty(), "{err}");

        // Each non-empty line of a prompt file is an input.
        let dir = std::env::temp_dir().join(format!("hello_llm_embed_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lines.txt");
        std::fs::write(&file, "first line\n\n  \nsecond line\nthird\n").unwrap();
        let args = parsed(&[
            "--embed",
            "--dimensions",
            "3",
            "--prompt-file",
            file.to_str().unwrap(),
        ]);
        let mut out = Vec::new();
        let (code, err) = run_to_end(&args, &mut out).await;
        assert_eq!(code, 0, "{err}");
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "dimensions: 3");
        assert!(
            lines[1].starts_with("0: [") && !lines[1].contains('…'),
            "{text}"
        );
        assert!(
            err.starts_with("[mock · mock-embed · 3 vectors · "),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();

        // A provider without embeddings: the library's error, as for a chat.
        let mut out = Vec::new();
        // (An endpoint on this machine needs no key; nothing is sent to it.)
        let args = parsed(&[
            "--embed",
            "--json",
            "--provider",
            "anthropic",
            "--endpoints",
            "http://127.0.0.1:9",
        ]);
        let (code, err) = run_to_end(&args, &mut out).await;
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["kind"], "invalid_request");
        assert!(err.contains("has no embeddings"), "{err}");
    }

    #[tokio::test]
    async fn a_closed_stdout_is_a_failure() {
        // Regression (issue 11): `--json > /dev/full` exited 0.
        for flags in [&["--json"][..], &[], &["--no-stream"], &["--repeat", "2"]] {
            let (code, err) = run_to_end(&parsed(flags), &mut Closed).await;
            assert_eq!(code, 1, "{flags:?}: {err}");
            assert!(err.contains("cannot write"), "{flags:?}: {err}");
        }
    }

    #[tokio::test]
    async fn ctrl_c_under_json_prints_a_cancelled_error() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let args = parsed(&["--json"]);
        let code = run(&args, &mut out, &mut err, std::future::ready(())).await;
        assert_eq!(code, 130);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["kind"], "cancelled");
    }

    #[tokio::test]
    async fn ctrl_c_after_some_text_reports_the_partial_reply() {
        use std::time::Duration;
        let llm = theory_llm::MockProvider::builder()
            .chunks(["one ", "two ", "three ", "four"])
            .delay(Duration::from_millis(40))
            .build();
        let progress = chat::Progress::default();
        let style = chat::Style {
            json: true,
            stream: true,
            raw: false,
            structured: false,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let outcome = tokio::select! {
            biased;
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                Outcome::Interrupted(progress.partial().map(Box::new))
            }
            outcome = chat::chat(&llm, "Count".into(), style, &progress, &mut out, &mut err) => outcome,
        };
        let mut json = Vec::new();
        assert_eq!(report(outcome, true, &mut json, &mut err), 130);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["error"]["kind"], "cancelled");
        let text = v["partial"]["text"].as_str().unwrap();
        assert!(text.starts_with("one") && !text.contains("four"), "{v}");
        assert_eq!(v["partial"]["usage"]["tokens_estimated"], true);
        assert!(
            out.is_empty(),
            "nothing printed before the end under --json"
        );
    }

    #[tokio::test]
    async fn tool_calls_and_structured_output_in_the_json_object() {
        let dir = std::env::temp_dir().join(format!("hello_llm_main_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let tools = dir.join("tools.json");
        std::fs::write(&tools, r#"[{"name": "now", "description": "The time"}]"#).unwrap();
        let schema = dir.join("n.json");
        std::fs::write(
            &schema,
            r#"{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        let args = parsed(&[
            "--json",
            "--tools",
            tools.to_str().unwrap(),
            "--tool-choice",
            "required",
        ]);
        assert_eq!(run_to_end(&args, &mut out).await.0, 0);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["tool_calls"][0]["name"], "now");
        assert_eq!(v["tool_calls"][0]["arguments"], serde_json::json!({}));
        assert_eq!(v["finish_reason"], "tool_calls");
        let mut out = Vec::new();
        let args = parsed(&["--json", "--json-schema", schema.to_str().unwrap()]);
        assert_eq!(run_to_end(&args, &mut out).await.0, 0);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["json"], serde_json::json!({"n": 0}));
        assert_eq!(v["tool_calls"], serde_json::json!([]));
        // The reply's own fields keep their order, "json" last.
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("{\"text\":") && text.contains(",\"json\":{"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_budget_makes_requests_wait_and_says_how_long() {
        let dir = scratch("budget");
        let samples = dir.join("s.jsonl");
        let argv = [
            "--budget",
            "requests=2/s",
            "--repeat",
            "4",
            "--concurrency",
            "4",
            "--json",
            "--samples",
            samples.to_str().unwrap(),
        ];
        let mut out = Vec::new();
        let (code, err) = run_to_end(&parsed(&argv), &mut out).await;
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let waited = &v["results"][0]["waited_ms"];
        assert_eq!(waited["p50"], 0.0, "{v}");
        assert!(waited["p95"].as_f64().unwrap() >= 900.0, "{v}");
        let lines = std::fs::read_to_string(&samples).unwrap();
        let waits: Vec<f64> = lines
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["waited_ms"]
                    .as_f64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            waits.iter().filter(|w| **w >= 900.0).count(),
            2,
            "{waits:?}"
        );
        // One request: the reply's usage says it waited (here, not at all).
        let mut out = Vec::new();
        let (code, _) =
            run_to_end(&parsed(&["--budget", "concurrent=1", "--json"]), &mut out).await;
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["usage"]["waited_ms"], 0.0, "{v}");
        // The table has a column for it.
        let mut out = Vec::new();
        let (code, _) = run_to_end(
            &parsed(&["--budget", "concurrent=1", "--repeat", "2"]),
            &mut out,
        )
        .await;
        assert_eq!(code, 0);
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("waited p50/p95 ms"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_budget_that_cannot_be_kept_fails_the_run() {
        // Redis cannot be reached: exit 1, and the message names it.
        let port = theory_llm_testkit::loopback::closed_port();
        let url = format!("redis://127.0.0.1:{port}/0");
        let mut out = Vec::new();
        let argv = ["--budget", "concurrent=1", "--budget-redis", &url, "--json"];
        let (code, err) = run_to_end(&parsed(&argv), &mut out).await;
        assert_eq!(code, 1, "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["kind"], "provider_unavailable");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("Redis at"),
            "{v}"
        );
        // A request larger than the budget: refused, never sent.
        let mut out = Vec::new();
        let argv = ["--budget", "tokens=10/m", "--max-tokens", "100", "--json"];
        let (code, _) = run_to_end(&parsed(&argv), &mut out).await;
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["kind"], "invalid_request", "{v}");
    }

    #[test]
    fn the_provider_list_comes_from_the_registry() {
        let text =
            usage(&registry().with("faq", |_| Ok(Box::new(theory_llm::MockProvider::new()))));
        assert!(
            text.contains(
                "mock, anthropic, azure-openai, bedrock, gemini, ollama, openai, openai-responses, groq"
            ),
            "{text}"
        );
        assert!(text.contains("lmstudio, llamacpp, faq"), "{text}");
        // What each built-in provider reads from the environment, from the registry.
        assert!(
            text.contains("OPENAI_API_KEY (required unless OPENAI_BASE_URL"),
            "{text}"
        );
        assert!(text.contains("GROQ_BASE_URL (default"), "{text}");
    }

    /// A fresh directory for one test.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("hello_llm_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn an_output_that_is_also_an_input_is_refused() {
        // Regression (issue 24, item 12): `--replay F --repeat 2 --samples F` emptied the
        // recording before reading it, and `--record F --samples F` corrupted it and
        // exited 0.
        let dir = scratch("clobber");
        let at = |name: &str| dir.join(name).to_str().unwrap().to_owned();
        let recording = at("run.jsonl");
        assert_eq!(
            run_to_end(&parsed(&["--record", &recording]), &mut Vec::new())
                .await
                .0,
            0
        );
        let recorded = std::fs::read(&recording).unwrap();
        assert!(!recorded.is_empty());
        std::fs::write(at("tools.json"), r#"[{"name": "now"}]"#).unwrap();
        std::fs::write(at("schema.json"), r#"{"type": "object"}"#).unwrap();
        std::fs::write(at("prompt.txt"), "Hi").unwrap();
        std::fs::write(at("dot.png"), [1, 2, 3]).unwrap();
        let through_dot = format!("{}/./run.jsonl", dir.display());
        let through_parent = format!("{}/sub/../run.jsonl", dir.display());
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let (new, new_through_dot) = (at("new.jsonl"), format!("{}/./new.jsonl", dir.display()));
        // [output flag, output, input flag, input]
        let mut cases: Vec<[&str; 4]> = vec![
            ["--samples", &recording, "--replay", &recording],
            ["--report", &through_dot, "--replay", &recording],
            ["--samples", &recording, "--record", &through_dot],
            ["--report", &new_through_dot, "--record", &new],
        ];
        #[cfg(unix)]
        let (hard_link, symlink, dangling, not_yet) = (
            at("hardlink.jsonl"),
            at("symlink.jsonl"),
            at("dangling.jsonl"),
            at("not_yet.html"),
        );
        #[cfg(unix)]
        {
            std::fs::hard_link(&recording, &hard_link).unwrap();
            std::os::unix::fs::symlink(&recording, &symlink).unwrap();
            std::os::unix::fs::symlink(&not_yet, &dangling).unwrap();
            cases.push(["--samples", &hard_link, "--replay", &through_parent]);
            cases.push(["--samples", &symlink, "--replay", &recording]);
            cases.push(["--samples", &dangling, "--report", &not_yet]);
        }
        let inputs = [
            ("--tools", at("tools.json")),
            ("--json-schema", at("schema.json")),
            ("--prompt-file", at("prompt.txt")),
            ("--image", at("dot.png")),
        ];
        for (flag, path) in &inputs {
            for output in ["--record", "--samples", "--report"] {
                cases.push([output, path, flag, path]);
            }
        }
        for [output, output_path, input, input_path] in cases {
            let argv = [input, input_path, output, output_path, "--repeat", "2"];
            let mut out = Vec::new();
            let (code, err) = run_to_end(&parsed(&argv), &mut out).await;
            assert_eq!(code, 2, "{argv:?}: {err}");
            assert!(
                err.contains(output) && err.contains(input) && err.contains("same file"),
                "{argv:?}: {err}"
            );
            assert!(out.is_empty(), "{argv:?}");
            assert_eq!(std::fs::read(&recording).unwrap(), recorded, "{argv:?}");
        }
        assert_eq!(
            std::fs::read(at("tools.json")).unwrap(),
            br#"[{"name": "now"}]"#
        );
        assert_eq!(std::fs::read(at("prompt.txt")).unwrap(), b"Hi");
        assert_eq!(std::fs::read(at("dot.png")).unwrap(), [1, 2, 3]);
        assert!(!dir.join("new.jsonl").exists() && !dir.join("not_yet.html").exists());
        // Different files are fine.
        let args = parsed(&[
            "--replay",
            &recording,
            "--repeat",
            "2",
            "--samples",
            &at("s.jsonl"),
            "--report",
            &at("r.html"),
        ]);
        let (code, err) = run_to_end(&args, &mut Vec::new()).await;
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read(&recording).unwrap(), recorded);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file of `len` zero bytes, sparse: no cost to write or to keep.
    fn zeros(path: &std::path::Path, len: u64) {
        std::fs::File::create(path).unwrap().set_len(len).unwrap();
    }

    #[tokio::test]
    async fn an_input_file_over_its_cap_is_a_usage_error() {
        // Regression (issue 24, item 13): --tools, --json-schema, --prompt-file and
        // --image read files of any size (a 200 MB image cost 939 MB).
        let dir = scratch("caps");
        const MIB: u64 = 1 << 20;
        for (flag, name, cap) in [
            ("--tools", "tools.json", "4 MiB"),
            ("--json-schema", "schema.json", "4 MiB"),
            ("--prompt-file", "prompt.txt", "16 MiB"),
            ("--image", "big.png", "20 MiB"),
        ] {
            let path = dir.join(name);
            let mib: u64 = cap.split(' ').next().unwrap().parse().unwrap();
            zeros(&path, mib * MIB + 1);
            let path = path.to_str().unwrap();
            let (code, err) = run_to_end(&parsed(&[flag, path]), &mut Vec::new()).await;
            assert_eq!(code, 2, "{flag}: {err}");
            assert!(
                err.contains(&format!("{flag}: {path} is larger than {cap}")),
                "{flag}: {err}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_endless_prompt_file_is_refused_promptly() {
        // Regression (issue 24, item 13): `--prompt-file /dev/zero` grew by about
        // 2 GB/s until memory ran out.
        let started = std::time::Instant::now();
        let args = parsed(&["--prompt-file", "/dev/zero"]);
        let (code, err) = run_to_end(&args, &mut Vec::new()).await;
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("--prompt-file: /dev/zero is larger than 16 MiB"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_recording_with_a_line_over_the_cap_is_refused() {
        // Regression (issue 24, item 13): --replay read the whole file, whatever its size.
        let dir = scratch("replay_cap");
        let path = dir.join("long.jsonl");
        zeros(&path, (64 << 20) + 1);
        let path = path.to_str().unwrap();
        let mut out = Vec::new();
        let args = parsed(&["--replay", path, "--json"]);
        let (code, err) = run_to_end(&args, &mut out).await;
        // As for a --replay file that cannot be read: a failed run, with its JSON error.
        assert_eq!(code, 1, "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["kind"], "invalid_request");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("--replay: {path}: line 1 is longer than 64 MiB")),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_bad_prompt_file_is_a_usage_error() {
        let mut out = Vec::new();
        let args = parsed(&["--prompt-file", "/nonexistent/hello_llm/prompt"]);
        let (code, err) = run_to_end(&args, &mut out).await;
        assert_eq!(code, 2);
        assert!(err.contains("--prompt-file"), "{err}");
    }

    /// Issue 24: when every entry of a `--fallback` chain failed, the `--json` error
    /// listed the attempts in its message only.
    #[tokio::test]
    async fn a_chain_that_fails_everywhere_lists_its_attempts_in_the_json_error() {
        use theory_llm::routing::FallbackProvider;
        use theory_llm::{LlmStreamProvider, OpenAiProvider};
        let port = theory_llm_testkit::loopback::closed_port();
        let closed = || {
            OpenAiProvider::builder()
                .base_url(format!("http://127.0.0.1:{port}/v1"))
                .build()
                .unwrap()
        };
        let chain = FallbackProvider::builder()
            .entry(closed(), Some("m1"))
            .entry(closed(), Some("m2"))
            .build()
            .unwrap();
        let failed = chain
            .chat(theory_llm::ChatRequest::new("Hi").max_retries(0))
            .await
            .unwrap_err();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(report(Outcome::Failed(failed), true, &mut out, &mut err), 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let attempts = v["attempts"]
            .as_array()
            .expect("attempts in the error object");
        let tried: Vec<_> = attempts
            .iter()
            .map(|a| {
                (
                    a["provider"].as_str(),
                    a["model"].as_str(),
                    a["error"]["kind"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            tried,
            [
                (Some("openai"), Some("m1"), Some("provider_unavailable")),
                (Some("openai"), Some("m2"), Some("provider_unavailable")),
            ],
            "{v}"
        );
    }
}
