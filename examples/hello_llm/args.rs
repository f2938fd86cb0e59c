//! The command line: flags, their checks, and the usage text.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use theory_llm::budget::Limits;
use theory_llm::{Registry, Timeouts, ToolChoice};

/// The usage text, listing the providers of `registry`.
pub(crate) fn usage(registry: &Registry) -> String {
    // What each provider reads from the environment, as the registry says.
    let mut environment = String::new();
    for name in registry.names() {
        if let Some(vars) = registry.environment(name) {
            // One variable a line: `KEY (required unless …)`, then `BASE (default …)`.
            for (i, var) in vars.split("), ").enumerate() {
                let var = if var.ends_with(')') {
                    var.to_owned()
                } else {
                    format!("{var})")
                };
                let label = if i == 0 { name } else { "" };
                environment.push_str(&format!("    {label:<17} {var}\n"));
            }
        }
    }
    USAGE
        .replace("{providers}", &registry.names().join(", "))
        .replace("{environment}", &environment)
}

const USAGE: &str = "\
hello_llm: chat with an LLM provider, printing tokens as they arrive

USAGE:
    cargo run --example hello_llm -- [OPTIONS]

OPTIONS:
    --provider NAME[=MODEL]   one of: {providers}
                              (or a comma-separated list with --repeat, to compare)
                                                                      [default: mock]
    --model MODEL             the model to invoke                     [default: the provider's]
    --prompt TEXT             the user message                        [default: Hello]
    --prompt-file PATH        read the user message from a file (- for stdin)
    --system TEXT             a system prompt
    --temperature T           sampling temperature, 0 to 2
    --max-tokens N            the most tokens to generate
    --seed N                  sampling seed
    --json                    print one JSON object on stdout (the reply, the benchmark, or the error)
    --tools FILE              a JSON array of tools the model may call: {\"name\", \"description\",
                              \"parameters\"} (or OpenAI's {\"type\":\"function\",\"function\":{...}})
    --tool-choice CHOICE      auto | none | required | a tool's name (with --mcp: the first step's)
    --mcp \"COMMAND ARGS...\"   start an MCP server on stdio (split like a shell would, quotes
                              respected; no shell runs) and let the model use its tools: the
                              calls run and their results go back until the model answers;
                              repeatable
    --mcp-url URL             an MCP server over streamable HTTP, the same way; repeatable
    --max-steps N             with --mcp: the most model calls in the loop      [default: 8]
    --json-schema FILE        structured output: a reply that matches this JSON Schema
    --json-object             structured output: a JSON object (JSON mode)
    --image PATH_OR_URL       attach an image (a .png/.jpg/.gif/.webp file, or a URL); repeatable
    --no-stream               wait for the whole reply instead of printing tokens live
    --embed                   embed instead of chatting: the prompt, or each non-empty line of
                              --prompt-file, one vector each; prints the dimensions, a preview
                              of each vector and the usage line (with --json: {\"provider\",
                              \"model\", \"dimensions\", \"embeddings\", \"usage\"})
    --dimensions N            with --embed: the length of the vectors, for models that can
                              shorten theirs
    --raw                     print the model's text as it is, control characters included
                              (by default they are escaped, so a reply cannot drive the terminal)
    --trace                   print each call's tracing span (OpenTelemetry GenAI attributes)
                              to stderr as JSON lines; message content only with
                              OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true

  Time limits (seconds, fractions allowed) and retries:
    --connect-timeout SECS    to establish a connection               [default: 10]
    --first-chunk-timeout SECS  from sending to the first content     [default: 120]
    --idle-timeout SECS       longest gap between chunks              [default: 60]
    --timeout SECS            total deadline for the request          [default: none]
    --max-retries N           retries before the first content        [default: 2]

  Benchmark mode:
    --repeat N                send the request N times and print, per provider and model:
                              time to first token p50/p95, latency p50/p95, output
                              tokens per second p50, and errors by kind (with --budget:
                              the wait for the budget p50/p95)
    --concurrency C           requests in flight at once              [default: 1]
    --report FILE             also write a report: the distributions of time to first token,
                              latency and output speed per provider and model, drawn, with
                              the errors and the parameters (HTML; SVG if FILE ends in .svg)
    --samples FILE            also write each request as a JSON line (provider, model,
                              start_ms, ttft_ms, latency_ms, waited_ms, tokens, cost, error kind)
    On a terminal, the progress is shown on stderr while it runs.

  Beyond one server:
    --fallback                the --provider list is one chain: each entry in turn, moving on
                              only when one fails before any output (without --fallback a
                              list is compared side by side, with --repeat)
    --endpoints URL,URL,...   base URLs (Ollama: hosts) of the provider, as a pool: each
                              request to the one with the fewest in flight; a failing one is
                              skipped for a while
    --record PATH             write every exchange (request, chunks with their times, usage)
                              to PATH, for --replay
    --replay PATH             serve the recorded exchanges of PATH instead of a provider: no
                              network, no configuration, at the recorded pace

  Budget (every request admitted before it is sent; with --repeat too):
    --budget SPEC             comma-separated requests=N/P, tokens=N/P, usd_micros=N/P and
                              concurrent=N, the period P one of s, m, h, d
                              (e.g. requests=5/s,concurrent=2); a request waits its turn
    --budget-redis URL        share the budget through Redis (redis://host:port/db) with every
                              process that uses the same key; exits 1 if Redis cannot be reached
    --budget-key NAME         the shared budget's name    [default: the provider's name and base URL]
    --budget-wait SECS        the longest a request waits for the budget, then it fails with
                              rate_limited (exit 1)       [default: the first-chunk timeout]

    -h, --help                print this help

ENVIRONMENT:
{environment}
Without --json the reply goes to stdout and a usage line to stderr.
Exit status: 0 on success, 1 if the request failed or its output could not be written
(with --repeat: if every request to some provider failed; with --mcp: if a server could
not be started, before any model call), 2 for a bad command line,
130 when interrupted (Ctrl-C).";

/// One provider (and optionally a model) to talk to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub(crate) provider: String,
    pub(crate) model: Option<String>,
}

/// Where the prompt comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Prompt {
    Text(String),
    /// A file, or standard input for `-`.
    File(PathBuf),
}

/// The parsed command line.
#[derive(Debug)]
pub(crate) struct Args {
    pub(crate) targets: Vec<Target>,
    pub(crate) model: Option<String>,
    pub(crate) prompt: Prompt,
    pub(crate) system: Option<String>,
    pub(crate) temperature: Option<f32>,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) seed: Option<u64>,
    pub(crate) json: bool,
    pub(crate) stream: bool,
    pub(crate) raw: bool,
    pub(crate) trace: bool,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) timeouts: Timeouts,
    pub(crate) max_retries: Option<u32>,
    pub(crate) repeat: Option<usize>,
    pub(crate) concurrency: usize,
    pub(crate) tools_file: Option<PathBuf>,
    pub(crate) tool_choice: Option<ToolChoice>,
    pub(crate) json_schema_file: Option<PathBuf>,
    pub(crate) json_object: bool,
    /// Paths or URLs.
    pub(crate) images: Vec<String>,
    /// Benchmark mode: where to write the report, and the samples.
    pub(crate) report: Option<PathBuf>,
    pub(crate) samples: Option<PathBuf>,
    /// `--fallback`: the `--provider` list as one chain (then `targets` is the chain).
    pub(crate) chain: Vec<Target>,
    /// `--endpoints`: base URLs (or Ollama hosts) of the one provider.
    pub(crate) endpoints: Vec<String>,
    /// `--record`, `--replay`: a recording to write, or to serve.
    pub(crate) record: Option<PathBuf>,
    pub(crate) replay: Option<PathBuf>,
    /// `--embed`: embeddings instead of a chat; `--dimensions`.
    pub(crate) embed: bool,
    pub(crate) dimensions: Option<u32>,
    /// `--budget` and how it is kept and waited for.
    pub(crate) budget: Option<Limits>,
    pub(crate) budget_redis: Option<String>,
    pub(crate) budget_key: Option<String>,
    pub(crate) budget_wait: Option<Duration>,
    /// `--mcp`: stdio MCP servers, each a command and its arguments.
    pub(crate) mcp: Vec<Vec<String>>,
    /// `--mcp-url`: streamable-HTTP MCP servers.
    pub(crate) mcp_urls: Vec<String>,
    /// `--max-steps`: the most model calls of a tool loop.
    pub(crate) max_steps: Option<usize>,
}

impl Args {
    /// Whether the run is a tool loop over MCP servers.
    pub(crate) fn tool_loop(&self) -> bool {
        !self.mcp.is_empty() || !self.mcp_urls.is_empty()
    }
}

impl Default for Args {
    fn default() -> Args {
        Args {
            targets: vec![Target {
                provider: "mock".into(),
                model: None,
            }],
            model: None,
            prompt: Prompt::Text("Hello".into()),
            system: None,
            temperature: None,
            max_tokens: None,
            seed: None,
            json: false,
            stream: true,
            raw: false,
            trace: false,
            connect_timeout: None,
            timeouts: Timeouts::default(),
            max_retries: None,
            repeat: None,
            concurrency: 1,
            tools_file: None,
            tool_choice: None,
            json_schema_file: None,
            json_object: false,
            images: Vec::new(),
            report: None,
            samples: None,
            chain: Vec::new(),
            endpoints: Vec::new(),
            record: None,
            replay: None,
            embed: false,
            dimensions: None,
            budget: None,
            budget_redis: None,
            budget_key: None,
            budget_wait: None,
            mcp: Vec::new(),
            mcp_urls: Vec::new(),
            max_steps: None,
        }
    }
}

pub(crate) enum Parsed {
    Run(Box<Args>),
    Help,
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a valid number"))
}

fn temperature(v: &str) -> Result<f32, String> {
    let t: f32 = number("--temperature", v)?;
    if !(0.0..=2.0).contains(&t) {
        return Err(format!(
            "--temperature: '{v}' is out of range: use a number from 0 to 2"
        ));
    }
    Ok(t)
}

fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    let secs: f64 = number(flag, v)?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!(
            "{flag}: '{v}' must be a positive number of seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Seconds, 0 allowed (`--budget-wait 0`: never wait).
fn seconds_or_zero(flag: &str, v: &str) -> Result<Duration, String> {
    let secs: f64 = number(flag, v)?;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!(
            "{flag}: '{v}' must be a number of seconds, 0 or more"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn budget(v: &str) -> Result<Limits, String> {
    let limits: Limits = v
        .parse()
        .map_err(|e: theory_llm::Error| format!("--{}", e.message()))?;
    if limits.is_empty() {
        return Err("--budget needs at least one limit".into());
    }
    Ok(limits)
}

fn at_least_one(flag: &str, v: &str) -> Result<usize, String> {
    match number(flag, v)? {
        0 => Err(format!("{flag} must be at least 1")),
        n => Ok(n),
    }
}

fn tool_choice(v: &str) -> Result<ToolChoice, String> {
    Ok(match v.trim() {
        "" => return Err("--tool-choice needs auto, none, required or a tool's name".into()),
        "auto" => ToolChoice::Auto,
        "none" => ToolChoice::None,
        "required" => ToolChoice::Required,
        name => ToolChoice::Tool(name.to_owned()),
    })
}

/// `--mcp`'s value as a command and its arguments, split as a POSIX shell splits words
/// (quotes and backslashes respected; nothing expanded, no shell run).
fn mcp_command(v: &str) -> Result<Vec<String>, String> {
    match shlex::split(v) {
        Some(words) if !words.is_empty() => Ok(words),
        Some(_) => Err("--mcp needs a command, e.g. --mcp \"uvx mcp-server-time\"".into()),
        None => Err(format!(
            "--mcp: '{v}' is not a command line: a quote is not closed, or it ends in a backslash"
        )),
    }
}

fn targets(v: &str) -> Result<Vec<Target>, String> {
    let list: Vec<Target> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once('=') {
            Some((p, m)) => Target {
                provider: p.trim().to_owned(),
                model: Some(m.trim().to_owned()).filter(|m| !m.is_empty()),
            },
            None => Target {
                provider: item.to_owned(),
                model: None,
            },
        })
        .collect();
    if list.is_empty() {
        return Err("--provider needs a name".into());
    }
    Ok(list)
}

/// Parses the arguments (after the program name): `--flag value`, `--flag=value`, and
/// switches. Arguments that are not UTF-8 are an error, not a panic.
pub(crate) fn parse(argv: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    use lexopt::prelude::*;

    let mut args = Args::default();
    let mut prompt_given = false;
    let mut fallback = false;
    let mut parser = lexopt::Parser::from_args(argv);
    let fail = |e: lexopt::Error| e.to_string();
    fn text(parser: &mut lexopt::Parser) -> Result<String, String> {
        let fail = |e: lexopt::Error| e.to_string();
        parser.value().map_err(fail)?.string().map_err(fail)
    }
    while let Some(arg) = parser.next().map_err(fail)? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Long("provider") => args.targets = targets(&text(&mut parser)?)?,
            Long("model") => args.model = Some(text(&mut parser)?),
            Long("prompt") | Long("prompt-file") if prompt_given => {
                return Err("give the prompt once: --prompt or --prompt-file".into())
            }
            Long("prompt") => {
                args.prompt = Prompt::Text(text(&mut parser)?);
                prompt_given = true;
            }
            Long("prompt-file") => {
                args.prompt = Prompt::File(PathBuf::from(text(&mut parser)?));
                prompt_given = true;
            }
            Long("system") => args.system = Some(text(&mut parser)?),
            Long("temperature") => args.temperature = Some(temperature(&text(&mut parser)?)?),
            Long("max-tokens") => {
                args.max_tokens = Some(number("--max-tokens", &text(&mut parser)?)?)
            }
            Long("seed") => args.seed = Some(number("--seed", &text(&mut parser)?)?),
            Long("json") => args.json = true,
            Long("no-stream") => args.stream = false,
            Long("raw") => args.raw = true,
            Long("trace") => args.trace = true,
            Long("connect-timeout") => {
                args.connect_timeout = Some(seconds("--connect-timeout", &text(&mut parser)?)?)
            }
            Long("first-chunk-timeout") => {
                args.timeouts = args
                    .timeouts
                    .first_chunk(seconds("--first-chunk-timeout", &text(&mut parser)?)?)
            }
            Long("idle-timeout") => {
                args.timeouts = args
                    .timeouts
                    .idle(seconds("--idle-timeout", &text(&mut parser)?)?)
            }
            Long("timeout") => {
                args.timeouts = args
                    .timeouts
                    .deadline(seconds("--timeout", &text(&mut parser)?)?)
            }
            Long("max-retries") => {
                args.max_retries = Some(number("--max-retries", &text(&mut parser)?)?)
            }
            Long("repeat") => args.repeat = Some(at_least_one("--repeat", &text(&mut parser)?)?),
            Long("concurrency") => {
                args.concurrency = at_least_one("--concurrency", &text(&mut parser)?)?
            }
            Long("tools") => args.tools_file = Some(PathBuf::from(text(&mut parser)?)),
            Long("tool-choice") => args.tool_choice = Some(tool_choice(&text(&mut parser)?)?),
            Long("json-schema") => args.json_schema_file = Some(PathBuf::from(text(&mut parser)?)),
            Long("json-object") => args.json_object = true,
            Long("image") => args.images.push(text(&mut parser)?),
            Long("report") => args.report = Some(PathBuf::from(text(&mut parser)?)),
            Long("fallback") => fallback = true,
            Long("endpoints") => {
                args.endpoints = text(&mut parser)?
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if args.endpoints.is_empty() {
                    return Err("--endpoints needs at least one URL".into());
                }
            }
            Long("record") => args.record = Some(PathBuf::from(text(&mut parser)?)),
            Long("replay") => args.replay = Some(PathBuf::from(text(&mut parser)?)),
            Long("samples") => args.samples = Some(PathBuf::from(text(&mut parser)?)),
            Long("embed") => args.embed = true,
            Long("dimensions") => {
                args.dimensions = Some(number("--dimensions", &text(&mut parser)?)?);
                if args.dimensions == Some(0) {
                    return Err("--dimensions must be at least 1".into());
                }
            }
            Long("budget") => args.budget = Some(budget(&text(&mut parser)?)?),
            Long("budget-redis") => args.budget_redis = Some(text(&mut parser)?),
            Long("budget-key") => args.budget_key = Some(text(&mut parser)?),
            Long("budget-wait") => {
                args.budget_wait = Some(seconds_or_zero("--budget-wait", &text(&mut parser)?)?)
            }
            Long("mcp") => args.mcp.push(mcp_command(&text(&mut parser)?)?),
            Long("mcp-url") => {
                let url = text(&mut parser)?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!(
                        "--mcp-url: '{url}' is not an http:// or https:// URL"
                    ));
                }
                args.mcp_urls.push(url);
            }
            Long("max-steps") => {
                args.max_steps = Some(at_least_one("--max-steps", &text(&mut parser)?)?)
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    let budget_flags =
        args.budget_redis.is_some() || args.budget_key.is_some() || args.budget_wait.is_some();
    if budget_flags && args.budget.is_none() {
        return Err("--budget-redis, --budget-key and --budget-wait need --budget SPEC".into());
    }
    if args.json_object && args.json_schema_file.is_some() {
        return Err("give one of --json-schema and --json-object".into());
    }
    if fallback {
        if !args.endpoints.is_empty() {
            return Err("--endpoints is for one provider, not a --fallback chain".into());
        }
        // The list is one chain: one target that stands for it.
        args.chain = std::mem::take(&mut args.targets);
        args.targets = vec![Target {
            provider: crate::providers::CHAIN.to_owned(),
            model: None,
        }];
    }
    if !args.endpoints.is_empty() && args.targets.len() > 1 {
        return Err("--endpoints is for one provider, not a list".into());
    }
    if args.record.is_some() && args.replay.is_some() {
        return Err("give one of --record and --replay".into());
    }
    if args.targets.len() > 1 && args.repeat.is_none() {
        return Err("several providers can only be given with --repeat (benchmark mode)".into());
    }
    if (args.report.is_some() || args.samples.is_some()) && args.repeat.is_none() {
        return Err("--report and --samples need --repeat (benchmark mode)".into());
    }
    if args.tool_loop() && args.repeat.is_some() {
        return Err("--mcp and --mcp-url run a tool loop: not with --repeat".into());
    }
    if args.tool_loop() && args.tools_file.is_some() {
        return Err(
            "--tools lists tools hello_llm cannot run: with --mcp, the servers' tools are offered"
                .into(),
        );
    }
    if args.max_steps.is_some() && !args.tool_loop() {
        return Err("--max-steps is for a tool loop: give --mcp or --mcp-url".into());
    }
    if args.report.is_some() && args.report == args.samples {
        return Err("--report and --samples need different files".into());
    }
    chat_only(&args)?;
    Ok(Parsed::Run(Box::new(args)))
}

/// With `--embed`, the flags that only a chat has are an error; `--dimensions` needs it.
fn chat_only(args: &Args) -> Result<(), String> {
    if !args.embed {
        return match args.dimensions {
            Some(_) => Err("--dimensions needs --embed".into()),
            None => Ok(()),
        };
    }
    let chat_flags = [
        ("--system", args.system.is_some()),
        ("--temperature", args.temperature.is_some()),
        ("--max-tokens", args.max_tokens.is_some()),
        ("--seed", args.seed.is_some()),
        ("--tools", args.tools_file.is_some()),
        ("--tool-choice", args.tool_choice.is_some()),
        ("--json-schema", args.json_schema_file.is_some()),
        ("--json-object", args.json_object),
        ("--image", !args.images.is_empty()),
        ("--no-stream", !args.stream),
        ("--repeat", args.repeat.is_some()),
        ("--fallback", !args.chain.is_empty()),
        ("--record", args.record.is_some()),
        ("--replay", args.replay.is_some()),
        // A budget admits chats; embeddings do not go through it.
        ("--budget", args.budget.is_some()),
        ("--mcp", args.tool_loop()),
    ];
    match chat_flags.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(format!("{flag} is for chats, not --embed")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Parsed, String> {
        parse(v.iter().map(OsString::from))
    }

    fn run_args(v: &[&str]) -> Args {
        match args(v) {
            Ok(Parsed::Run(a)) => *a,
            _ => panic!("{v:?} did not parse"),
        }
    }

    #[test]
    fn flags_parse() {
        let a = run_args(&[
            "--provider",
            "openai",
            "--model=gpt-4o",
            "--json",
            "--max-tokens",
            "5",
        ]);
        assert_eq!(a.targets[0].provider, "openai");
        assert_eq!(
            (a.model.as_deref(), a.json, a.max_tokens),
            (Some("gpt-4o"), true, Some(5))
        );
        let a = run_args(&[
            "--idle-timeout",
            "0.5",
            "--timeout=30",
            "--connect-timeout",
            "2",
            "--max-retries",
            "0",
            "--raw",
            "--trace",
        ]);
        assert_eq!(a.timeouts.idle, Some(Duration::from_millis(500)));
        assert_eq!(a.timeouts.deadline, Some(Duration::from_secs(30)));
        assert_eq!(a.connect_timeout, Some(Duration::from_secs(2)));
        assert_eq!(a.max_retries, Some(0));
        assert!(a.raw);
        assert!(a.trace);
        for bad in [
            &["--bogus"][..],
            &["--model"],
            &["--temperature", "hot"],
            &["--idle-timeout", "-1"],
            &["--repeat", "0"],
            &["--concurrency", "0"],
            &["--json=yes"],
            &["stray"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
        assert!(args(&["--provider", "a,b"]).is_err(), "lists need --repeat");
        for flag in ["--report", "--samples"] {
            assert!(args(&[flag, "f"]).is_err(), "{flag} needs --repeat");
            assert!(args(&[flag]).is_err(), "{flag} needs a file");
        }
        assert!(args(&["--repeat=2", "--report", "f", "--samples", "f"]).is_err());
        let a = run_args(&["--repeat=2", "--report", "r.html", "--samples=s.jsonl"]);
        assert_eq!(a.report, Some(PathBuf::from("r.html")));
        assert_eq!(a.samples, Some(PathBuf::from("s.jsonl")));
        assert!(matches!(args(&["-h"]), Ok(Parsed::Help)));
    }

    #[test]
    fn budget_flags_parse_and_a_malformed_spec_is_a_usage_error() {
        let a = run_args(&[
            "--budget",
            "requests=5/s,concurrent=2",
            "--budget-redis",
            "redis://127.0.0.1:6379/0",
            "--budget-key",
            "team-a",
            "--budget-wait",
            "0",
        ]);
        assert_eq!(a.budget.unwrap().to_string(), "requests=5/s,concurrent=2");
        assert_eq!(a.budget_redis.as_deref(), Some("redis://127.0.0.1:6379/0"));
        assert_eq!(a.budget_key.as_deref(), Some("team-a"));
        assert_eq!(a.budget_wait, Some(Duration::ZERO));
        for (bad, why) in [
            (&["--budget", "requests=5"][..], "needs a period"),
            (&["--budget", "requests=5/w"], "is not a period"),
            (&["--budget", "rpm=5/m"], "unknown limit"),
            (&["--budget", ""], "is not NAME=VALUE"),
            (&["--budget-wait", "1"], "need --budget"),
            (&["--budget-redis", "redis://x"], "need --budget"),
            (
                &["--budget", "concurrent=1", "--budget-wait", "-1"],
                "0 or more",
            ),
        ] {
            let err = args(bad).err().unwrap();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let err = args(&["--budget", "tokens=1/x"]).err().unwrap();
        assert!(err.starts_with("--budget 'tokens=1/x'"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_usage_errors() {
        // Regression (issue 11): `--temperature NaN` was accepted and sent.
        for t in ["NaN", "nan", "inf", "-0.1", "2.5", "1e9"] {
            let err = args(&["--temperature", t]).err().unwrap();
            assert!(err.contains("--temperature"), "{err}");
        }
        assert_eq!(run_args(&["--temperature", "2"]).temperature, Some(2.0));
        for n in ["-1", "4294967296", "1.5"] {
            assert!(args(&["--max-tokens", n]).is_err(), "{n}");
        }
        for s in ["NaN", "inf", "0", "1e10"] {
            assert!(args(&["--timeout", s]).is_err(), "{s}");
        }
    }

    #[test]
    fn embed_takes_dimensions_and_refuses_chat_flags() {
        let a = run_args(&["--embed", "--dimensions", "256", "--json", "--model", "m"]);
        assert!(a.embed && a.json);
        assert_eq!(a.dimensions, Some(256));
        for bad in [
            &["--dimensions", "8"][..],
            &["--embed", "--dimensions", "0"],
            &["--embed", "--dimensions", "-1"],
            &["--embed", "--tools", "t.json"],
            &["--embed", "--repeat", "2"],
            &["--embed", "--system", "s"],
            &["--embed", "--image", "a.png"],
            &["--embed", "--provider", "mock,mock", "--fallback"],
            &["--embed", "--budget", "requests=1/s"],
            &["--embed", "--mcp", "x"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
        let err = args(&["--embed", "--seed", "1"]).err().unwrap();
        assert_eq!(err, "--seed is for chats, not --embed");
    }

    #[test]
    fn mcp_commands_are_split_like_a_shell_splits_them() {
        let a = run_args(&[
            "--mcp",
            r#"uvx mcp-server-time --local-timezone "America/New York""#,
            "--mcp=node 'my server.js' a\\ b",
            "--mcp-url",
            "http://127.0.0.1:9/mcp",
            "--max-steps",
            "3",
        ]);
        assert_eq!(
            a.mcp,
            [
                vec![
                    "uvx",
                    "mcp-server-time",
                    "--local-timezone",
                    "America/New York"
                ],
                vec!["node", "my server.js", "a b"],
            ]
        );
        assert_eq!(a.mcp_urls, ["http://127.0.0.1:9/mcp"]);
        assert_eq!(a.max_steps, Some(3));
        // No shell: `;`, `$` and `|` are letters of words.
        let a = run_args(&["--mcp", "echo $HOME; rm -rf / | cat"]);
        assert_eq!(a.mcp[0], ["echo", "$HOME;", "rm", "-rf", "/", "|", "cat"]);
        for bad in [
            &["--mcp", "uvx \"unclosed"][..],
            &["--mcp", "   "],
            &["--mcp", "x\\"],
            &["--mcp-url", "ftp://x"],
            &["--max-steps", "0"],
            &["--max-steps", "2"],
            &["--mcp", "x", "--repeat", "2"],
            &["--mcp", "x", "--tools", "t.json"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn arguments_that_are_not_utf8_are_an_error_not_a_panic() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0x6f, 0x80]);
        let err = parse([OsString::from("--prompt"), bad]).err().unwrap();
        assert!(!err.is_empty());
    }
}
