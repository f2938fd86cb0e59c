//! Memory, concurrency and latency of theory-llm over a loopback server: the numbers
//! behind docs/PERFORMANCE.md that criterion does not measure. A bench target that runs
//! only what it is asked for, so that a plain `cargo bench` passes it by:
//!
//! ```text
//! cargo bench --bench perf_probe -- all         # all of it (about 40 s)
//! cargo bench --bench perf_probe -- memory      # peak RSS: 2,000 vs 200,000 chunks
//! cargo bench --bench perf_probe -- concurrent [STREAMS]   # default 10,000
//! cargo bench --bench perf_probe -- latency     # server write -> app receipt
//! ```
//!
//! - memory: each case runs in a fresh child process, which streams N chunks from a
//!   loopback server on its own thread (bodies are generated as they are sent) and
//!   reports its peak RSS (`VmHWM` in /proc/self/status); consumed as a stream, and
//!   through `chat()`, which keeps only the text.
//! - concurrent: a child process serves (so each process holds one side of each
//!   connection: 10,000 streams need 10,000 descriptors here, see `ulimit -n`); this
//!   process opens all the streams on one current-thread runtime, ramping up over a
//!   second, each reply 60 events 50 ms apart, checks every reply's text and finish,
//!   and reports the peak number open at once and the memory per stream.
//! - latency: the server sends one event every 50 ms with the time of its write in it
//!   (the wall clock); the app's receipt minus that time, p50/p99/max.

use std::cell::Cell;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use theory_llm::retry::RetryPolicy;
use theory_llm::{Chunk, LlmStreamProvider, OllamaProvider, OpenAiProvider};
use theory_llm_testkit::bodies;
use theory_llm_testkit::loopback::{self, BenchPaths, Server};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    // `cargo bench` adds `--bench` to every bench target's arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match arg(0) {
        None => {
            println!("perf_probe: give a case: all, memory, concurrent [STREAMS] or latency");
            return Ok(());
        }
        Some("all") => {
            memory()?;
            concurrent(10_000)?;
            latency()?;
        }
        Some("memory") => memory()?,
        Some("concurrent") => concurrent(arg(1).map_or(Ok(10_000), str::parse)?)?,
        Some("latency") => latency()?,
        // Internal: one memory case in this process.
        Some("rss") => rss_case(
            arg(1).ok_or("provider")?,
            arg(2).ok_or("mode")?,
            arg(3).ok_or("tokens")?.parse()?,
        )?,
        // Internal: the server for the concurrency case.
        Some("serve") => serve()?,
        // Internal: the client side of the concurrency case.
        Some("clients") => clients(
            arg(1).ok_or("provider")?,
            arg(2).ok_or("addr")?,
            arg(3).ok_or("streams")?.parse()?,
        )?,
        Some(other) => {
            return Err(format!("unknown mode {other}: use memory, concurrent or latency").into())
        }
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// `VmRSS` and `VmHWM` (peak RSS) of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn openai(base: String) -> Result<OpenAiProvider, Error> {
    Ok(OpenAiProvider::builder()
        .api_key("none")
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .build()?)
}

fn ollama(host: String) -> Result<OllamaProvider, Error> {
    Ok(OllamaProvider::builder()
        .host(host)
        .retry_policy(RetryPolicy::none())
        .build()?)
}

fn provider(
    name: &str,
    server: &dyn Fn(bool) -> String,
) -> Result<Box<dyn LlmStreamProvider>, Error> {
    Ok(match name {
        "openai" => Box::new(openai(server(true))?),
        "ollama" => Box::new(ollama(server(false))?),
        other => return Err(format!("unknown provider {other}").into()),
    })
}

// ---- memory ----

fn memory() -> Result<(), Error> {
    println!("\n## Peak RSS of one stream (fresh process each; KiB)");
    println!(
        "{:<8} {:<7} {:>9} {:>12} {:>12} {:>10}",
        "provider", "mode", "chunks", "before KiB", "peak KiB", "text KiB"
    );
    let exe = std::env::current_exe()?;
    for provider in ["openai", "ollama"] {
        let mut peaks = Vec::new();
        for mode in ["stream", "chat"] {
            for tokens in [2_000u64, 200_000] {
                let out = Command::new(&exe)
                    .args(["rss", provider, mode, &tokens.to_string()])
                    .stderr(Stdio::inherit())
                    .output()?;
                if !out.status.success() {
                    return Err(format!("the {provider} {mode} {tokens} case failed").into());
                }
                let line = String::from_utf8(out.stdout)?;
                let v: Vec<u64> = line
                    .split_whitespace()
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
                let (before, peak, text) = (v[0], v[1], v[2]);
                println!(
                    "{provider:<8} {mode:<7} {tokens:>9} {before:>12} {peak:>12} {:>10}",
                    text / 1024
                );
                peaks.push((mode, tokens, peak));
            }
        }
        let peak = |m: &str, n: u64| {
            peaks
                .iter()
                .find(|p| p.0 == m && p.1 == n)
                .map_or(0, |p| p.2)
        };
        println!(
            "{provider}: stream 200,000 vs 2,000 chunks: {:+} KiB; chat(): {:+} KiB",
            peak("stream", 200_000) as i64 - peak("stream", 2_000) as i64,
            peak("chat", 200_000) as i64 - peak("chat", 2_000) as i64
        );
    }
    Ok(())
}

/// One memory case: prints `rss_before peak text_bytes` (KiB, KiB, bytes).
fn rss_case(name: &str, mode: &str, tokens: usize) -> Result<(), Error> {
    let server = Server::bench();
    let rt = runtime()?;
    let llm = provider(name, &|sse| {
        if sse {
            server.openai_base(tokens, 0, false)
        } else {
            server.ollama_host(tokens, 0, false)
        }
    })?;
    // Warm up: connect once, so the client's pool and buffers exist before measuring.
    rt.block_on(async {
        let warm = provider(name, &|sse| {
            if sse {
                server.openai_base(10, 0, false)
            } else {
                server.ollama_host(10, 0, false)
            }
        })?;
        warm.chat("hi".into()).await?;
        Ok::<_, Error>(())
    })?;
    let (before, _) = rss_kib();
    let text_bytes = rt.block_on(async {
        match mode {
            "stream" => {
                let mut stream = llm.stream_chat("hi".into());
                let (mut n, mut bytes) = (0, 0);
                while let Some(chunk) = stream.next().await {
                    if let Chunk::Text(t) = chunk? {
                        n += 1;
                        bytes += t.len();
                    }
                }
                if n != tokens {
                    return Err(format!("{n} chunks, expected {tokens}").into());
                }
                Ok::<_, Error>(bytes)
            }
            _ => {
                let reply = llm.chat("hi".into()).await?;
                // (Compared without building the expected text, which would count in the peak.)
                let expected: usize = (0..tokens).map(|i| bodies::token(i).len()).sum();
                let ok = reply.text.len() == expected
                    && reply.text.ends_with(bodies::token(tokens - 1))
                    && reply.text.starts_with(bodies::token(0));
                if !ok {
                    return Err("the reply text is wrong".into());
                }
                Ok(reply.text.len())
            }
        }
    })?;
    let (_, peak) = rss_kib();
    println!("{before} {peak} {text_bytes}");
    Ok(())
}

// ---- concurrency ----

fn serve() -> Result<(), Error> {
    let rt = runtime()?;
    rt.block_on(loopback::serve_bench_forever(|addr| println!("{addr}")));
    Ok(())
}

fn concurrent(streams: usize) -> Result<(), Error> {
    let exe = std::env::current_exe()?;
    println!("\n## {streams} concurrent streams on one current-thread runtime");
    for name in ["reqwest", "openai", "ollama"] {
        let mut server = Command::new(&exe)
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()?;
        let mut addr = String::new();
        if let Some(out) = server.stdout.take() {
            use std::io::BufRead;
            std::io::BufReader::new(out).read_line(&mut addr)?;
        }
        let status = Command::new(&exe)
            .args(["clients", name, addr.trim(), &streams.to_string()])
            .status();
        // The server child is ours: end it by its handle.
        let _ = server.kill();
        let _ = server.wait();
        if !status?.success() {
            return Err(format!("the {name} concurrency case failed").into());
        }
    }
    Ok(())
}

/// Events per stream in the concurrency case, and their spacing.
const EVENTS: usize = 60;
const INTERVAL_MS: u64 = 50;

fn clients(name: &str, addr: &str, streams: usize) -> Result<(), Error> {
    let server = BenchPaths(addr.parse()?);
    let rt = runtime()?;
    // "reqwest": the same SSE replies read as bytes only, for comparison.
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()?;
    let raw_url = format!(
        "{}/chat/completions",
        server.openai_base(EVENTS, INTERVAL_MS, false)
    );
    let raw = name == "reqwest";
    let llm = provider(if raw { "openai" } else { name }, &|sse| {
        if sse {
            server.openai_base(EVENTS, INTERVAL_MS, false)
        } else {
            server.ollama_host(EVENTS, INTERVAL_MS, false)
        }
    })?;
    let expected = bodies::text(EVENTS);
    let expected_raw_len: usize = (0..EVENTS)
        .map(|i| bodies::openai_event(bodies::token(i)).len())
        .sum::<usize>()
        + bodies::openai_tail(EVENTS).len();
    let (before, _) = rss_kib();
    let open = Cell::new(0usize);
    let most_open = Cell::new(0usize);
    let started = Instant::now();
    let results: Vec<Result<(), String>> = rt.block_on(async {
        let mut all = FuturesUnordered::new();
        for i in 0..streams {
            let (llm, expected, open, most_open) = (&llm, &expected, &open, &most_open);
            let (http, raw_url) = (&http, &raw_url);
            all.push(async move {
                // Ramp up over about a second: 10 waves.
                tokio::time::sleep(Duration::from_millis((i * 10 / streams) as u64 * 100)).await;
                open.set(open.get() + 1);
                most_open.set(most_open.get().max(open.get()));
                if raw {
                    let len = async {
                        let resp = http.post(raw_url).body("{}").send().await?;
                        let mut body = resp.bytes_stream();
                        let mut len = 0;
                        while let Some(bytes) = body.next().await {
                            len += bytes?.len();
                        }
                        Ok::<_, reqwest::Error>(len)
                    }
                    .await;
                    open.set(open.get() - 1);
                    return match len {
                        Ok(n) if n == expected_raw_len => Ok(()),
                        Ok(n) => Err(format!("stream {i}: {n} bytes")),
                        Err(e) => Err(e.to_string()),
                    };
                }
                let mut stream = llm.stream_chat("hi".into());
                let mut text = String::new();
                let mut finished = false;
                let mut result = Ok(());
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(Chunk::Text(t)) => text.push_str(&t),
                        Ok(Chunk::Finish(_)) => finished = true,
                        Ok(_) => {}
                        Err(e) => result = Err(e.to_string()),
                    }
                }
                open.set(open.get() - 1);
                result?;
                if !finished || text != *expected {
                    return Err(format!("stream {i}: wrong text or no finish"));
                }
                Ok(())
            });
        }
        let mut results = Vec::with_capacity(streams);
        while let Some(r) = all.next().await {
            results.push(r);
        }
        results
    });
    let elapsed = started.elapsed();
    let (_, peak) = rss_kib();
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    println!(
        "{name}: {} of {streams} streams complete and correct ({} events each, {INTERVAL_MS} ms apart), at most {} open at once, {:.1} s",
        streams - failed.len(),
        EVENTS,
        most_open.get(),
        elapsed.as_secs_f64()
    );
    println!(
        "{name}: RSS {before} KiB before, peak {peak} KiB: {:.1} KiB per stream",
        (peak.saturating_sub(before)) as f64 / streams as f64
    );
    if let Some(first) = failed.first() {
        return Err(format!("{} streams failed, e.g. {first}", failed.len()).into());
    }
    Ok(())
}

// ---- latency ----

fn latency() -> Result<(), Error> {
    const EVENTS: usize = 100;
    println!("\n## Server write to app receipt, one event every 50 ms ({EVENTS} events; µs)");
    println!("{:<22} {:>8} {:>8} {:>8}", "client", "p50", "p99", "max");
    let server = Server::bench();
    let rt = runtime()?;
    let oa = openai(server.openai_base(EVENTS, 50, true))?;
    let ol = ollama(server.ollama_host(EVENTS, 50, true))?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()?;
    let bytes_url = format!("{}/chat/completions", server.openai_base(EVENTS, 50, true));
    for client in [
        "reqwest bytes_stream",
        "openai stream_chat",
        "ollama stream_chat",
    ] {
        let mut gaps: Vec<u64> = rt.block_on(async {
            let mut gaps = Vec::with_capacity(EVENTS);
            match client {
                "reqwest bytes_stream" => {
                    let resp = http.post(&bytes_url).body("{}").send().await?;
                    let mut body = resp.bytes_stream();
                    while let Some(bytes) = body.next().await {
                        let now = loopback::now_ns();
                        if let Some(stamp) = stamp_in(&bytes?) {
                            gaps.push(now.saturating_sub(stamp));
                        }
                    }
                }
                _ => {
                    let llm: &dyn LlmStreamProvider = if client.starts_with("openai") {
                        &oa
                    } else {
                        &ol
                    };
                    let mut stream = llm.stream_chat("hi".into());
                    while let Some(item) = stream.next().await {
                        let now = loopback::now_ns();
                        if let Chunk::Text(t) = item? {
                            gaps.push(now.saturating_sub(t.parse()?));
                        }
                    }
                }
            }
            Ok::<_, Error>(gaps)
        })?;
        if gaps.len() != EVENTS {
            return Err(format!("{client}: {} events, expected {EVENTS}", gaps.len()).into());
        }
        gaps.sort_unstable();
        let pct = |p: usize| gaps[(gaps.len() * p / 100).min(gaps.len() - 1)] as f64 / 1000.0;
        println!(
            "{client:<22} {:>8.1} {:>8.1} {:>8.1}",
            pct(50),
            pct(99),
            gaps[gaps.len() - 1] as f64 / 1000.0
        );
    }
    Ok(())
}

/// The stamp in a raw event: the digits after `"content":"`.
fn stamp_in(bytes: &[u8]) -> Option<u64> {
    let key = b"\"content\":\"";
    let at = bytes.windows(key.len()).position(|w| w == key)? + key.len();
    let digits: String = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().ok()
}
