//! `hello_llm`: talk to any provider from the command line, tokens printed as they arrive.
//!
//! ```text
//! cargo run --example hello_llm -- --provider mock
//! OPENAI_API_KEY=sk-... cargo run --example hello_llm -- --provider openai --prompt "Hi"
//! cargo run --example hello_llm -- --provider ollama --model qwen2.5:0.5b --json
//! ```

use std::io::Write;
use std::process::ExitCode;

use futures::StreamExt;
use theory_llm::{
    get_llm_provider, ChatRequest, Chunk, Collector, CostBasis, Error, LlmStreamProvider,
};

const USAGE: &str = "\
hello_llm: chat with an LLM provider, printing tokens as they arrive

USAGE:
    cargo run --example hello_llm -- [OPTIONS]

OPTIONS:
    --provider NAME     mock | openai | ollama              [default: mock]
    --model MODEL       the model to invoke                 [default: the provider's]
    --prompt TEXT       the user message                    [default: Hello]
    --system TEXT       a system prompt
    --temperature T     sampling temperature, 0 to 2
    --max-tokens N      the most tokens to generate
    --seed N            sampling seed
    --json              print one JSON object (reply and usage, or the error) on stdout
    --no-stream         wait for the whole reply instead of printing tokens live
    -h, --help          print this help

ENVIRONMENT:
    openai   OPENAI_API_KEY (required), OPENAI_BASE_URL (default https://api.openai.com/v1)
    ollama   OLLAMA_HOST (default http://localhost:11434)

Without --json the reply goes to stdout and a usage line to stderr.
Exit status: 0 on success, 1 if the request failed, 2 for a bad command line.";

/// The parsed command line.
#[derive(Debug)]
struct Args {
    provider: String,
    model: Option<String>,
    prompt: String,
    system: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    seed: Option<u64>,
    json: bool,
    stream: bool,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            provider: "mock".into(),
            model: None,
            prompt: "Hello".into(),
            system: None,
            temperature: None,
            max_tokens: None,
            seed: None,
            json: false,
            stream: true,
        }
    }
}

enum Parsed {
    Run(Args),
    Help,
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
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn number<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{flag}: '{v}' is not a valid number"))
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--provider" => args.provider = value("--provider")?,
            "--model" => args.model = Some(value("--model")?),
            "--prompt" => args.prompt = value("--prompt")?,
            "--system" => args.system = Some(value("--system")?),
            "--temperature" => args.temperature = Some(number(&flag, value(&flag)?)?),
            "--max-tokens" => args.max_tokens = Some(number(&flag, value(&flag)?)?),
            "--seed" => args.seed = Some(number(&flag, value(&flag)?)?),
            "--json" => args.json = true,
            "--no-stream" => args.stream = false,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Parsed::Run(args))
}

impl Args {
    fn request(&self) -> ChatRequest {
        let mut req = ChatRequest::new(self.prompt.clone());
        if let Some(m) = &self.model {
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
        req
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            let _ = writeln!(std::io::stderr(), "error: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if args.json {
                let json = serde_json::json!({
                    "error": { "kind": err.kind(), "message": err.to_string(), "status": err.status() }
                });
                let _ = writeln!(std::io::stdout(), "{json}");
            }
            let _ = writeln!(std::io::stderr(), "error: {err}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: &Args) -> Result<(), Error> {
    let llm = get_llm_provider(&args.provider)?;
    let request = args.request();
    let reply = if args.json || !args.stream {
        llm.chat(request).await?
    } else {
        stream_live(llm.as_ref(), request).await?
    };
    if args.json {
        let _ = writeln!(
            std::io::stdout(),
            "{}",
            serde_json::to_string(&reply).unwrap_or_default()
        );
    } else {
        if !args.stream {
            let _ = writeln!(std::io::stdout(), "{}", reply.text);
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
        let _ = writeln!(
            std::io::stderr(),
            "[{} · {} · {} tokens in, {} out{estimated} · ttft {ttft} · latency {:.1} ms · {cost} · {}]",
            reply.provider, reply.model, u.tokens_in, u.tokens_out, u.latency_ms, reply.finish_reason
        );
    }
    Ok(())
}

/// Prints text as it arrives (reasoning goes to stderr), and returns the collected reply.
async fn stream_live(
    llm: &dyn LlmStreamProvider,
    request: ChatRequest,
) -> Result<theory_llm::ChatReply, Error> {
    let mut stream = llm.stream_chat(request);
    let mut collector = Collector::for_stream(&stream);
    let mut stdout = std::io::stdout().lock();
    let mut in_reasoning = false;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.inspect_err(|_| {
            let _ = writeln!(stdout);
        })?;
        match &chunk {
            Chunk::Text(text) => {
                if in_reasoning {
                    let _ = writeln!(std::io::stderr());
                    in_reasoning = false;
                }
                // A closed stdout (e.g. `| head`) is not the provider's failure: keep collecting.
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
            }
            Chunk::Reasoning(text) => {
                in_reasoning = true;
                let _ = write!(std::io::stderr(), "{text}");
            }
            _ => {}
        }
        collector.push(&chunk);
    }
    let _ = writeln!(stdout);
    collector.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Parsed, String> {
        parse(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_parse() {
        let Ok(Parsed::Run(a)) = args(&[
            "--provider",
            "openai",
            "--model=gpt-4o",
            "--json",
            "--max-tokens",
            "5",
        ]) else {
            panic!()
        };
        assert_eq!(
            (
                a.provider.as_str(),
                a.model.as_deref(),
                a.json,
                a.max_tokens
            ),
            ("openai", Some("gpt-4o"), true, Some(5))
        );
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["--model"]).is_err());
        assert!(args(&["--temperature", "hot"]).is_err());
        assert!(matches!(args(&["-h"]), Ok(Parsed::Help)));
    }
}
