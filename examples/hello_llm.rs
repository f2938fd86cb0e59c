//! `hello_llm`: talk to any provider from the command line, tokens printed as they
//! arrive; or benchmark providers and models against each other with `--repeat`.
//!
//! ```text
//! cargo run --example hello_llm -- --provider mock
//! OPENAI_API_KEY=sk-... cargo run --example hello_llm -- --provider openai --prompt "Hi"
//! cargo run --example hello_llm -- --provider ollama --model qwen2.5:0.5b --json
//! cargo run --example hello_llm -- --provider ollama=qwen2.5:0.5b,openai=gpt-4o-mini --repeat 20 --concurrency 4
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::StreamExt;
use theory_llm::{
    get_llm_provider, ChatReply, ChatRequest, Chunk, Collector, CostBasis, Error,
    LlmStreamProvider, OllamaProvider, OpenAiProvider, Timeouts,
};

const USAGE: &str = "\
hello_llm: chat with an LLM provider, printing tokens as they arrive

USAGE:
    cargo run --example hello_llm -- [OPTIONS]

OPTIONS:
    --provider NAME[=MODEL]   mock | openai | ollama (or a comma-separated list with
                              --repeat, to compare)                   [default: mock]
    --model MODEL             the model to invoke                     [default: the provider's]
    --prompt TEXT             the user message                        [default: Hello]
    --system TEXT             a system prompt
    --temperature T           sampling temperature, 0 to 2
    --max-tokens N            the most tokens to generate
    --seed N                  sampling seed
    --json                    print one JSON object on stdout (the reply, the benchmark, or the error)
    --no-stream               wait for the whole reply instead of printing tokens live

  Time limits (seconds, fractions allowed) and retries:
    --connect-timeout SECS    to establish a connection               [default: 10]
    --first-chunk-timeout SECS  from sending to the first content     [default: 120]
    --idle-timeout SECS       longest gap between chunks              [default: 60]
    --timeout SECS            total deadline for the request          [default: none]
    --max-retries N           retries before the first content        [default: 2]

  Benchmark mode:
    --repeat N                send the request N times and print, per provider and model:
                              time to first token p50/p95, latency p50/p95, output
                              tokens per second p50, and errors by kind
    --concurrency C           requests in flight at once              [default: 1]

    -h, --help                print this help

ENVIRONMENT:
    openai   OPENAI_API_KEY (required unless OPENAI_BASE_URL is on this machine),
             OPENAI_BASE_URL (default https://api.openai.com/v1)
    ollama   OLLAMA_HOST (default http://localhost:11434)

Without --json the reply goes to stdout and a usage line to stderr.
Exit status: 0 on success, 1 if the request failed (with --repeat: if every request
to some provider failed), 2 for a bad command line.";

/// One provider (and optionally a model) to talk to.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    provider: String,
    model: Option<String>,
}

/// The parsed command line.
#[derive(Debug)]
struct Args {
    targets: Vec<Target>,
    model: Option<String>,
    prompt: String,
    system: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    seed: Option<u64>,
    json: bool,
    stream: bool,
    connect_timeout: Option<Duration>,
    timeouts: Timeouts,
    max_retries: Option<u32>,
    repeat: Option<usize>,
    concurrency: usize,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            targets: vec![Target {
                provider: "mock".into(),
                model: None,
            }],
            model: None,
            prompt: "Hello".into(),
            system: None,
            temperature: None,
            max_tokens: None,
            seed: None,
            json: false,
            stream: true,
            connect_timeout: None,
            timeouts: Timeouts::default(),
            max_retries: None,
            repeat: None,
            concurrency: 1,
        }
    }
}

enum Parsed {
    Run(Box<Args>),
    Help,
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a valid number"))
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

/// Parses `--flag value`, `--flag=value` and switches. New flags are one match arm.
fn parse(argv: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut args = Args::default();
    let mut it = argv.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let f = flag.as_str();
        match f {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--provider" => args.targets = targets(&value()?)?,
            "--model" => args.model = Some(value()?),
            "--prompt" => args.prompt = value()?,
            "--system" => args.system = Some(value()?),
            "--temperature" => args.temperature = Some(number(f, &value()?)?),
            "--max-tokens" => args.max_tokens = Some(number(f, &value()?)?),
            "--seed" => args.seed = Some(number(f, &value()?)?),
            "--json" => args.json = true,
            "--no-stream" => args.stream = false,
            "--connect-timeout" => args.connect_timeout = Some(seconds(f, &value()?)?),
            "--first-chunk-timeout" => args.timeouts.first_chunk = Some(seconds(f, &value()?)?),
            "--idle-timeout" => args.timeouts.idle = Some(seconds(f, &value()?)?),
            "--timeout" => args.timeouts.deadline = Some(seconds(f, &value()?)?),
            "--max-retries" => args.max_retries = Some(number(f, &value()?)?),
            "--repeat" => {
                let n: usize = number(f, &value()?)?;
                if n == 0 {
                    return Err("--repeat must be at least 1".into());
                }
                args.repeat = Some(n);
            }
            "--concurrency" => {
                args.concurrency = number(f, &value()?)?;
                if args.concurrency == 0 {
                    return Err("--concurrency must be at least 1".into());
                }
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    if args.targets.len() > 1 && args.repeat.is_none() {
        return Err("several providers can only be given with --repeat (benchmark mode)".into());
    }
    Ok(Parsed::Run(Box::new(args)))
}

impl Args {
    fn request(&self, target: &Target) -> ChatRequest {
        let mut req = ChatRequest::new(self.prompt.clone()).timeouts(self.timeouts);
        if let Some(m) = target.model.as_ref().or(self.model.as_ref()) {
            req = req.model(m.clone());
        }
        if let Some(s) = &self.system {
            req = req.system(s.clone());
        }
        if let Some(t) = self.temperature {
            req = req.temperature(t);
        }
        if let Some(n) = self.max_tokens {
            req = req.max_tokens(n);
        }
        if let Some(s) = self.seed {
            req = req.seed(s);
        }
        if let Some(n) = self.max_retries {
            req = req.max_retries(n);
        }
        req
    }

    /// The provider, from the environment; the connect timeout needs the builder.
    fn provider(&self, target: &Target) -> Result<Box<dyn LlmStreamProvider>, Error> {
        match (
            target.provider.trim().to_ascii_lowercase().as_str(),
            self.connect_timeout,
        ) {
            ("openai", Some(limit)) => Ok(Box::new(
                OpenAiProvider::builder_from_env()?
                    .connect_timeout(limit)
                    .build()?,
            )),
            ("ollama", Some(limit)) => Ok(Box::new(
                OllamaProvider::builder_from_env()
                    .connect_timeout(limit)
                    .build()?,
            )),
            (name, _) => get_llm_provider(name),
        }
    }
}

fn out(text: impl std::fmt::Display) {
    // A closed stdout (e.g. `| head`) is not worth a panic.
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn err(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            out(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            err(format!("error: {msg}\n\n{USAGE}"));
            return ExitCode::from(2);
        }
    };
    let result = match args.repeat {
        Some(runs) => benchmark(&args, runs).await,
        None => run(&args).await.map(|()| None),
    };
    match result {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(why)) => {
            err(format!("error: {why}"));
            ExitCode::from(1)
        }
        Err(e) => {
            if args.json {
                let json = serde_json::json!({
                    "error": { "kind": e.kind(), "message": e.to_string(), "status": e.status() }
                });
                out(json);
            }
            err(format!("error: {e}"));
            ExitCode::from(1)
        }
    }
}

async fn run(args: &Args) -> Result<(), Error> {
    let target = &args.targets[0];
    let llm = args.provider(target)?;
    let request = args.request(target);
    let reply = if args.json || !args.stream {
        llm.chat(request).await?
    } else {
        stream_live(llm.as_ref(), request).await?
    };
    if args.json {
        out(serde_json::to_string(&reply).unwrap_or_default());
        return Ok(());
    }
    if !args.stream {
        out(&reply.text);
    }
    let u = &reply.usage;
    let cost = match u.cost_basis {
        CostBasis::Free => "free".to_owned(),
        CostBasis::UnknownPrice => "price unknown".to_owned(),
        _ => format!("${:.6}", u.usd_micros as f64 / 1e6),
    };
    let estimated = if u.tokens_estimated {
        " (estimated)"
    } else {
        ""
    };
    let ttft = u.ttft_ms.map_or("-".to_owned(), |t| format!("{t:.1} ms"));
    err(format!(
        "[{} · {} · {} tokens in, {} out{estimated} · ttft {ttft} · latency {:.1} ms · {cost} · {}]",
        reply.provider, reply.model, u.tokens_in, u.tokens_out, u.latency_ms, reply.finish_reason
    ));
    Ok(())
}

/// Prints text as it arrives (reasoning goes to stderr), and returns the collected reply.
async fn stream_live(
    llm: &dyn LlmStreamProvider,
    request: ChatRequest,
) -> Result<ChatReply, Error> {
    let mut stream = llm.stream_chat(request);
    let mut collector = Collector::for_stream(&stream);
    let mut stdout = std::io::stdout().lock();
    let mut in_reasoning = false;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = writeln!(stdout);
                return Err(e);
            }
        };
        match &chunk {
            Chunk::Text(text) => {
                if in_reasoning {
                    err("");
                    in_reasoning = false;
                }
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
            }
            Chunk::Reasoning(text) => {
                in_reasoning = true;
                let _ = write!(std::io::stderr(), "{text}");
            }
            _ => {}
        }
        collector.push(&chunk)?;
    }
    let _ = writeln!(stdout);
    collector.finish()
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What a benchmark of one provider and model measured.
#[derive(Debug, serde::Serialize)]
struct BenchRow {
    provider: String,
    model: String,
    runs: usize,
    ok: usize,
    ttft_ms: Stats,
    latency_ms: Stats,
    /// Generated tokens per second after the first token (decode speed).
    output_tokens_per_s: Stats,
    tokens_estimated: bool,
    usd_micros_total: u64,
    errors: BTreeMap<&'static str, usize>,
    /// The first error's message per kind, to say why.
    error_examples: BTreeMap<&'static str, String>,
    wall_ms: f64,
}

#[derive(Debug, Default, serde::Serialize)]
struct Stats {
    p50: Option<f64>,
    p95: Option<f64>,
}

impl Stats {
    fn of(mut values: Vec<f64>) -> Stats {
        values.sort_by(f64::total_cmp);
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        Stats {
            p50: percentile(&values, 50.0).map(round),
            p95: percentile(&values, 95.0).map(round),
        }
    }
}

async fn bench_target(args: &Args, target: &Target, runs: usize) -> Result<BenchRow, Error> {
    let llm = args.provider(target)?;
    let request = args.request(target);
    let model = request
        .model
        .clone()
        .unwrap_or_else(|| llm.default_model().to_owned());
    let started = Instant::now();
    let results: Vec<Result<ChatReply, Error>> = futures::stream::iter(0..runs)
        .map(|_| llm.chat(request.clone()))
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (mut ttft, mut latency, mut speed) = (Vec::new(), Vec::new(), Vec::new());
    let mut row = BenchRow {
        provider: llm.name().to_owned(),
        model,
        runs,
        ok: 0,
        ttft_ms: Stats::default(),
        latency_ms: Stats::default(),
        output_tokens_per_s: Stats::default(),
        tokens_estimated: false,
        usd_micros_total: 0,
        errors: BTreeMap::new(),
        error_examples: BTreeMap::new(),
        wall_ms: (wall_ms * 1000.0).round() / 1000.0,
    };
    for result in results {
        match result {
            Ok(reply) => {
                let u = reply.usage;
                row.ok += 1;
                row.tokens_estimated |= u.tokens_estimated;
                row.usd_micros_total += u.usd_micros;
                row.model = reply.model;
                latency.push(u.latency_ms);
                if let Some(t) = u.ttft_ms {
                    ttft.push(t);
                    let decode_s = (u.latency_ms - t) / 1000.0;
                    if decode_s > 0.0 && u.tokens_out > 1 {
                        speed.push((u.tokens_out - 1) as f64 / decode_s);
                    }
                }
            }
            Err(e) => {
                *row.errors.entry(e.kind().as_str()).or_default() += 1;
                row.error_examples
                    .entry(e.kind().as_str())
                    .or_insert_with(|| e.to_string());
            }
        }
    }
    row.ttft_ms = Stats::of(ttft);
    row.latency_ms = Stats::of(latency);
    row.output_tokens_per_s = Stats::of(speed);
    Ok(row)
}

/// Runs the benchmark and prints its report; `Ok(Some(why))` if it should exit with 1.
async fn benchmark(args: &Args, runs: usize) -> Result<Option<String>, Error> {
    let mut rows = Vec::new();
    for target in &args.targets {
        if !args.json {
            err(format!(
                "benchmarking {} ({runs} requests, {} at a time)…",
                target.provider, args.concurrency
            ));
        }
        rows.push(bench_target(args, target, runs).await?);
    }
    if args.json {
        let json =
            serde_json::json!({ "runs": runs, "concurrency": args.concurrency, "results": rows });
        out(json);
    } else {
        let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
        out(format!(
            "{:<8} {:<24} {:>6} {:>19} {:>21} {:>14}  errors",
            "provider", "model", "ok", "ttft p50/p95 ms", "latency p50/p95 ms", "out tok/s p50"
        ));
        for r in &rows {
            let errors = if r.errors.is_empty() {
                "-".to_owned()
            } else {
                r.errors
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out(format!(
                "{:<8} {:<24} {:>6} {:>19} {:>21} {:>14}  {errors}",
                r.provider,
                r.model,
                format!("{}/{}", r.ok, r.runs),
                format!("{} / {}", fmt(r.ttft_ms.p50), fmt(r.ttft_ms.p95)),
                format!("{} / {}", fmt(r.latency_ms.p50), fmt(r.latency_ms.p95)),
                fmt(r.output_tokens_per_s.p50),
            ));
            for (kind, message) in &r.error_examples {
                err(format!("  {} {kind}: {message}", r.provider));
            }
        }
    }
    // Exit 1 when some provider answered no request at all; the report says why.
    if let Some(r) = rows.iter().find(|r| r.ok == 0) {
        return Ok(Some(format!("every request to {} failed", r.provider)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Parsed, String> {
        parse(v.iter().map(|s| s.to_string()))
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
        ]);
        assert_eq!(a.timeouts.idle, Some(Duration::from_millis(500)));
        assert_eq!(a.timeouts.deadline, Some(Duration::from_secs(30)));
        assert_eq!(a.connect_timeout, Some(Duration::from_secs(2)));
        assert_eq!(a.max_retries, Some(0));
        for bad in [
            &["--bogus"][..],
            &["--model"],
            &["--temperature", "hot"],
            &["--idle-timeout", "-1"],
            &["--repeat", "0"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
        assert!(args(&["--provider", "a,b"]).is_err(), "lists need --repeat");
        assert!(matches!(args(&["-h"]), Ok(Parsed::Help)));
    }

    #[test]
    fn benchmark_targets() {
        let a = run_args(&[
            "--provider",
            "ollama=qwen2.5:0.5b, openai",
            "--model",
            "m",
            "--repeat",
            "3",
            "--concurrency",
            "2",
        ]);
        assert_eq!(a.targets.len(), 2);
        assert_eq!(
            a.request(&a.targets[0]).model.as_deref(),
            Some("qwen2.5:0.5b")
        );
        assert_eq!(a.request(&a.targets[1]).model.as_deref(), Some("m"));
        assert_eq!((a.repeat, a.concurrency), (Some(3), 2));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
