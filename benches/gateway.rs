//! A gateway's load: many long replies relayed at once through the public API, on
//! tokio's multi-thread runtime. A bench target that runs only when asked, so that a
//! plain `cargo bench` passes it by:
//!
//! ```text
//! cargo bench --features tracing --bench gateway -- run [STREAMS] [CHUNKS] [INTERVAL_MS]
//! # default: 1,000 streams of 2,000 chunks, one chunk every 20 ms per stream (~3 min)
//! ```
//!
//! A child process serves (the bench server of the test kit: one HTTP chunk per event,
//! each stamped with the wall-clock time of its write); each case runs in a child
//! process of its own, so that its CPU time and memory are its own. Per wire format
//! (OpenAI SSE, Ollama NDJSON) and per client (reqwest reading bytes only, theory-llm's
//! `stream_chat`), two cases:
//!
//! - one stream alone, CHUNKS / 10 chunks at the same pace: the single-stream figure;
//! - STREAMS streams at once, one task each (as a gateway spawns one per connection),
//!   their starts spread over one interval (a gateway's streams do not tick together).
//!
//! Each case reports CPU per chunk (all of the process's threads, from
//! `/proc/self/task/*/schedstat`, while streaming) and the delay from the server's
//! write to the app's receipt of that chunk, over every chunk of every stream: p50,
//! p99, max. Every reply is checked: each chunk's stamp arrived, and the finish.

use std::process::{Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use theory_llm::retry::RetryPolicy;
use theory_llm::{Chunk, LlmStreamProvider, OllamaProvider, OpenAiProvider};
use theory_llm_testkit::bodies::Format;
use theory_llm_testkit::loopback::{self, BenchPaths};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Error> {
    // `cargo bench` adds `--bench` to every bench target's arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let number = |i: usize, default: u64| arg(i).map_or(Ok(default), str::parse::<u64>);
    match arg(0) {
        None => println!("gateway: `run [STREAMS] [CHUNKS] [INTERVAL_MS]` to measure"),
        Some("run") => run(number(1, 1000)?, number(2, 2000)?, number(3, 20)?)?,
        // Internal: the server, in a process of its own.
        Some("serve") => serve()?,
        // Internal: one case, in a process of its own.
        Some("case") => {
            let case = Case {
                client: arg(1).ok_or("client")?.to_owned(),
                format: arg(2).ok_or("format")?.to_owned(),
                streams: number(4, 1)?,
                chunks: number(5, 1)?,
                interval_ms: number(6, 20)?,
            };
            let measured = case.measure(arg(3).ok_or("addr")?)?;
            println!("{}", measured.line());
        }
        Some(other) => return Err(format!("unknown mode {other}: use run").into()),
    }
    Ok(())
}

fn serve() -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(loopback::serve_bench_forever(|addr| println!("{addr}")));
    Ok(())
}

fn run(streams: u64, chunks: u64, interval_ms: u64) -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    let mut server = Command::new(&exe)
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut addr = String::new();
    if let Some(out) = server.stdout.take() {
        use std::io::BufRead;
        std::io::BufReader::new(out).read_line(&mut addr)?;
    }
    let addr = addr.trim().to_owned();
    println!(
        "\n## A gateway's load: {streams} streams × {chunks} chunks, one chunk every {interval_ms} ms per stream, multi-thread runtime\n"
    );
    println!("| wire | client | streams × chunks, pace | CPU µs/chunk | × one fast stream | p50 µs | p99 µs | max µs |");
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    let result = (|| -> Result<(), Error> {
        for format in ["sse", "ndjson"] {
            for client in ["bytes", "theory-llm"] {
                let case = |streams, chunks, interval_ms| Case {
                    client: client.to_owned(),
                    format: format.to_owned(),
                    streams,
                    chunks,
                    interval_ms,
                };
                let fast = case(1, FAST_CHUNKS, 0).in_child(&exe, &addr)?;
                let paced = case(1, PACED_CHUNKS, interval_ms).in_child(&exe, &addr)?;
                let many = case(streams, chunks, interval_ms).in_child(&exe, &addr)?;
                for m in [&fast, &paced, &many] {
                    let delay = |us: f64| {
                        if m.interval_ms == 0 {
                            "–".to_owned()
                        } else {
                            format!("{us:.0}")
                        }
                    };
                    println!(
                        "| {format} | {client} | {} × {}, {} ms | {:.2} | {:.2} | {} | {} | {} |",
                        m.streams,
                        m.chunks / m.streams.max(1),
                        m.interval_ms,
                        m.cpu_per_chunk(),
                        m.cpu_per_chunk() / fast.cpu_per_chunk(),
                        delay(m.p50_us),
                        delay(m.p99_us),
                        delay(m.max_us),
                    );
                }
            }
        }
        Ok(())
    })();
    // The server child is ours: end it by its handle.
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// The reference for CPU per chunk: one stream read as fast as the server writes.
const FAST_CHUNKS: u64 = 200_000;
/// The reference for delay: one stream alone at the gateway's pace.
const PACED_CHUNKS: u64 = 200;

/// One case: a client, a wire format, how many streams of how many chunks.
struct Case {
    client: String,
    format: String,
    streams: u64,
    chunks: u64,
    interval_ms: u64,
}

/// What a case measured.
struct Measured {
    streams: u64,
    interval_ms: u64,
    chunks: u64,
    cpu_ns: u64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

impl Measured {
    fn cpu_per_chunk(&self) -> f64 {
        self.cpu_ns as f64 / self.chunks.max(1) as f64 / 1000.0
    }

    fn line(&self) -> String {
        format!(
            "measured {} {} {} {} {} {} {}",
            self.streams,
            self.interval_ms,
            self.chunks,
            self.cpu_ns,
            self.p50_us,
            self.p99_us,
            self.max_us
        )
    }

    fn parse(text: &str) -> Option<Measured> {
        let line = text.lines().find_map(|l| l.strip_prefix("measured "))?;
        let v: Vec<&str> = line.split(' ').collect();
        Some(Measured {
            streams: v.first()?.parse().ok()?,
            interval_ms: v.get(1)?.parse().ok()?,
            chunks: v.get(2)?.parse().ok()?,
            cpu_ns: v.get(3)?.parse().ok()?,
            p50_us: v.get(4)?.parse().ok()?,
            p99_us: v.get(5)?.parse().ok()?,
            max_us: v.get(6)?.parse().ok()?,
        })
    }
}

impl Case {
    /// Runs this case in a child process of its own.
    fn in_child(&self, exe: &std::path::Path, addr: &str) -> Result<Measured, Error> {
        let out = Command::new(exe)
            .args(["case", &self.client, &self.format, addr])
            .args([self.streams, self.chunks, self.interval_ms].map(|n| n.to_string()))
            .stderr(Stdio::inherit())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "{} {} × {}: failed: {text}",
                self.client, self.format, self.streams
            )
            .into());
        }
        Measured::parse(&text)
            .ok_or_else(|| format!("{} {}: no result in {text:?}", self.client, self.format).into())
    }

    fn measure(&self, addr: &str) -> Result<Measured, Error> {
        let paths = BenchPaths(addr.parse()?);
        let chunks = usize::try_from(self.chunks)?;
        let base = match self.format.as_str() {
            "sse" => paths.openai_base(chunks, self.interval_ms, true),
            _ => paths.ollama_host(chunks, self.interval_ms, true),
        };
        // The server stamps paced chunks only: a fast stream's are counted.
        let stamped = self.interval_ms > 0;
        let client = Client::new(&self.client, &self.format, base)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let cpu_before = cpu_ns();
        let spread = Duration::from_millis(self.interval_ms);
        let streams = self.streams;
        let delays: Result<Vec<Vec<u64>>, Error> = rt.block_on(async {
            let tasks: Vec<_> = (0..streams)
                .map(|i| {
                    let client = client.clone();
                    let start = spread.mul_f64(i as f64 / streams as f64);
                    tokio::spawn(async move {
                        tokio::time::sleep(start).await;
                        client.stream(chunks, stamped).await
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(tasks.len());
            for task in tasks {
                all.push(task.await??);
            }
            Ok(all)
        });
        let cpu = cpu_ns().saturating_sub(cpu_before);
        drop(rt);
        let mut delays: Vec<u64> = delays?.into_iter().flatten().collect();
        let expected = chunks * usize::try_from(streams)?;
        if delays.len() != expected {
            return Err(format!("{} chunks arrived, {expected} were sent", delays.len()).into());
        }
        delays.sort_unstable();
        let at = |p: f64| delays[((delays.len() as f64 * p) as usize).min(delays.len() - 1)];
        let us = |ns: u64| ns as f64 / 1000.0;
        Ok(Measured {
            streams,
            interval_ms: self.interval_ms,
            chunks: expected as u64,
            cpu_ns: cpu,
            p50_us: us(at(0.50)),
            p99_us: us(at(0.99)),
            max_us: us(delays[delays.len() - 1]),
        })
    }
}

/// A client of the bench server: bytes only, or theory-llm.
#[derive(Clone)]
enum Client {
    Bytes { http: reqwest::Client, url: String },
    Llm(std::sync::Arc<dyn LlmStreamProvider>),
}

impl Client {
    fn new(client: &str, format: &str, base: String) -> Result<Client, Error> {
        let sse = format == "sse";
        Ok(match client {
            "bytes" => Client::Bytes {
                http: reqwest::Client::builder()
                    .no_proxy()
                    .tcp_nodelay(true)
                    .build()?,
                url: if sse {
                    format!("{base}/chat/completions")
                } else {
                    format!("{base}/api/chat")
                },
            },
            "theory-llm" if sse => Client::Llm(std::sync::Arc::new(
                OpenAiProvider::builder()
                    .api_key("none")
                    .base_url(base)
                    .retry_policy(RetryPolicy::none())
                    .build()?,
            )),
            "theory-llm" => Client::Llm(std::sync::Arc::new(
                OllamaProvider::builder()
                    .host(base)
                    .retry_policy(RetryPolicy::none())
                    .build()?,
            )),
            other => return Err(format!("unknown client {other}").into()),
        })
    }

    /// Reads one reply of `chunks` stamped chunks; each chunk's delay, in ns.
    /// Unstamped chunks count with a delay of 0.
    async fn stream(&self, chunks: usize, stamped: bool) -> Result<Vec<u64>, Error> {
        let mut delays = Vec::with_capacity(chunks);
        match self {
            Client::Bytes { http, url } => {
                let mut body = http.post(url).body("{}").send().await?.bytes_stream();
                let mut len = 0;
                while let Some(bytes) = body.next().await {
                    let now = loopback::now_ns();
                    let bytes = bytes?;
                    len += bytes.len();
                    if stamped {
                        delays.extend(stamps_in(&bytes).map(|stamp| now.saturating_sub(stamp)));
                    }
                }
                if !stamped {
                    // Unstamped: the body is checked whole, and each chunk counted.
                    let format = if url.ends_with("/api/chat") {
                        Format::Ndjson
                    } else {
                        Format::Sse
                    };
                    if len != format.body(chunks).0.len() {
                        return Err(format!("{len} bytes arrived, not the reply's").into());
                    }
                    delays.resize(chunks, 0);
                }
            }
            Client::Llm(llm) => {
                let mut stream = llm.stream_chat("hi".into());
                let mut finished = false;
                while let Some(item) = stream.next().await {
                    let now = loopback::now_ns();
                    match item? {
                        Chunk::Text(text) if stamped => {
                            delays.push(now.saturating_sub(text.parse()?));
                        }
                        Chunk::Text(_) => delays.push(0),
                        Chunk::Finish(_) => finished = true,
                        _ => {}
                    }
                }
                if !finished {
                    return Err("a reply ended without its finish".into());
                }
            }
        }
        Ok(delays)
    }
}

/// The stamps in raw bytes: the digits after each `"content":"` (a read may hold
/// several events).
fn stamps_in(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    const KEY: &[u8] = b"\"content\":\"";
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let at = rest.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
        rest = &rest[at..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        // The last event's empty content has no stamp: 0, filtered out.
        let stamp = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        rest = &rest[digits..];
        Some(stamp)
    })
    .filter(|&stamp| stamp > 0)
}

/// CPU time of all of this process's threads, in ns (the scheduler's own count, not
/// ticks).
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
