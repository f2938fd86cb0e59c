//! End to end over loopback: a server on its own thread sends a reply of 20,000 tokens,
//! one HTTP chunk per event, as fast as the client reads; the client runs on a
//! current-thread tokio runtime on the bench thread, and its CPU time (user + system,
//! from `/proc/thread-self/schedstat`) per content chunk is what is measured (criterion's
//! "time" below is that CPU time).
//!
//! `cargo bench --bench e2e`
//!
//! Clients, each on the same server and body:
//! - `bytes_sse`, `bytes_ndjson`: reqwest's `bytes_stream()` only, no parsing (the floor);
//! - `openai`: `OpenAiProvider::stream_chat`, every chunk consumed;
//! - `ollama`: `OllamaProvider::stream_chat`;
//! - `naive_sse`, `naive_ndjson`: the straightforward way (eventsource-stream or a line
//!   split, then `serde_json::Value`), for reference;
//! - `concurrent64/*`: 64 streams of 1,000 tokens at once on the same runtime.
//!
//! After criterion's report it prints the cost per chunk and the ratios to the
//! bytes-only baseline measured in this run.

#[path = "support/report.rs"]
mod report;

use std::time::{Duration, Instant};

use criterion::{black_box, Criterion, Throughput};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use theory_llm::retry::RetryPolicy;
use theory_llm::{Chunk, LlmStreamProvider, OllamaProvider, OpenAiProvider};
use theory_llm_testkit::loopback::Server;

const TOKENS: usize = 20_000;
const STREAMS: usize = 64;
const TOKENS_EACH: usize = 1_000;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .expect("client")
}

/// A request for a body; what the providers send is irrelevant to the server.
async fn open(client: &reqwest::Client, url: &str) -> reqwest::Response {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#)
        .send()
        .await
        .expect("request");
    assert!(resp.status().is_success());
    resp
}

async fn bytes_only(client: &reqwest::Client, url: &str) -> usize {
    let mut s = open(client, url).await.bytes_stream();
    let mut bytes = 0;
    while let Some(b) = s.next().await {
        bytes += b.expect("body").len();
    }
    bytes
}

async fn naive_sse(client: &reqwest::Client, url: &str) -> usize {
    let mut s = open(client, url).await.bytes_stream().eventsource();
    let mut chunks = 0;
    while let Some(event) = s.next().await {
        let event = event.expect("event");
        if event.data == "[DONE]" {
            break;
        }
        let v: serde_json::Value = serde_json::from_str(&event.data).expect("json");
        if let Some(text) = v["choices"][0]["delta"]["content"].as_str() {
            let text: String = black_box(text.to_owned());
            chunks += usize::from(!text.is_empty());
        }
    }
    chunks
}

async fn naive_ndjson(client: &reqwest::Client, url: &str) -> usize {
    let mut s = open(client, url).await.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut chunks = 0;
    while let Some(bytes) = s.next().await {
        buf.extend_from_slice(&bytes.expect("body"));
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            let v: serde_json::Value = serde_json::from_slice(&line).expect("json");
            if let Some(text) = v["message"]["content"].as_str() {
                let text: String = black_box(text.to_owned());
                chunks += usize::from(!text.is_empty());
            }
            if v["done"] == true {
                return chunks;
            }
        }
    }
    chunks
}

async fn provider(llm: &dyn LlmStreamProvider) -> usize {
    let mut s = llm.stream_chat("hi".into());
    let mut chunks = 0;
    while let Some(item) = s.next().await {
        match item.expect("chunk") {
            Chunk::Text(t) => chunks += usize::from(!black_box(t).is_empty()),
            Chunk::Finish(_) => break,
            _ => {}
        }
    }
    chunks
}

fn openai(base: String) -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key("none")
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("openai")
}

fn ollama(host: String) -> OllamaProvider {
    OllamaProvider::builder()
        .host(host)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("ollama")
}

/// Runs `work` (which handles `chunks` content chunks) `iters` times on `rt`, and
/// returns the bench thread's CPU time (wall time where that cannot be read).
fn measure<F, Fut>(
    rt: &tokio::runtime::Runtime,
    name: &str,
    iters: u64,
    chunks: u64,
    mut work: F,
) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (cpu0, wall0) = (report::thread_cpu(), Instant::now());
    rt.block_on(async {
        for _ in 0..iters {
            work().await;
        }
    });
    let spent = match (cpu0, report::thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall0.elapsed(),
    };
    report::record(name, spent, chunks * iters, 0);
    spent
}

fn e2e(c: &mut Criterion) {
    let server = Server::bench();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = client();
    let sse_url = format!("{}/chat/completions", server.openai_base(TOKENS, 0, false));
    let nd_url = format!("{}/api/chat", server.ollama_host(TOKENS, 0, false));
    let oa = openai(server.openai_base(TOKENS, 0, false));
    let ol = ollama(server.ollama_host(TOKENS, 0, false));

    // Every client sees the whole reply.
    rt.block_on(async {
        assert_eq!(provider(&oa).await, TOKENS);
        assert_eq!(provider(&ol).await, TOKENS);
        assert_eq!(naive_sse(&http, &sse_url).await, TOKENS);
        assert_eq!(naive_ndjson(&http, &nd_url).await, TOKENS);
        assert!(bytes_only(&http, &sse_url).await > 0);
    });

    let mut g = c.benchmark_group("e2e");
    g.throughput(Throughput::Elements(TOKENS as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let n = TOKENS as u64;
    g.bench_function("bytes_sse", |b| {
        b.iter_custom(|i| {
            measure(&rt, "bytes_sse", i, n, || async {
                black_box(bytes_only(&http, &sse_url).await);
            })
        })
    });
    g.bench_function("openai", |b| {
        b.iter_custom(|i| {
            measure(&rt, "openai", i, n, || async {
                black_box(provider(&oa).await);
            })
        })
    });
    g.bench_function("naive_sse", |b| {
        b.iter_custom(|i| {
            measure(&rt, "naive_sse", i, n, || async {
                black_box(naive_sse(&http, &sse_url).await);
            })
        })
    });
    g.bench_function("bytes_ndjson", |b| {
        b.iter_custom(|i| {
            measure(&rt, "bytes_ndjson", i, n, || async {
                black_box(bytes_only(&http, &nd_url).await);
            })
        })
    });
    g.bench_function("ollama", |b| {
        b.iter_custom(|i| {
            measure(&rt, "ollama", i, n, || async {
                black_box(provider(&ol).await);
            })
        })
    });
    g.bench_function("naive_ndjson", |b| {
        b.iter_custom(|i| {
            measure(&rt, "naive_ndjson", i, n, || async {
                black_box(naive_ndjson(&http, &nd_url).await);
            })
        })
    });
    g.finish();

    // 64 streams at once on the one runtime.
    let sse_url = format!(
        "{}/chat/completions",
        server.openai_base(TOKENS_EACH, 0, false)
    );
    let nd_url = format!("{}/api/chat", server.ollama_host(TOKENS_EACH, 0, false));
    let oa = openai(server.openai_base(TOKENS_EACH, 0, false));
    let ol = ollama(server.ollama_host(TOKENS_EACH, 0, false));
    let total = (STREAMS * TOKENS_EACH) as u64;
    let mut g = c.benchmark_group("concurrent64");
    g.throughput(Throughput::Elements(total));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("bytes_sse", |b| {
        b.iter_custom(|i| {
            measure(&rt, "concurrent64/bytes_sse", i, total, || async {
                let all =
                    futures::future::join_all((0..STREAMS).map(|_| bytes_only(&http, &sse_url)));
                black_box(all.await);
            })
        })
    });
    g.bench_function("openai", |b| {
        b.iter_custom(|i| {
            measure(&rt, "concurrent64/openai", i, total, || async {
                let all = futures::future::join_all((0..STREAMS).map(|_| provider(&oa))).await;
                assert!(all.iter().all(|&n| n == TOKENS_EACH));
            })
        })
    });
    g.bench_function("bytes_ndjson", |b| {
        b.iter_custom(|i| {
            measure(&rt, "concurrent64/bytes_ndjson", i, total, || async {
                let all =
                    futures::future::join_all((0..STREAMS).map(|_| bytes_only(&http, &nd_url)));
                black_box(all.await);
            })
        })
    });
    g.bench_function("ollama", |b| {
        b.iter_custom(|i| {
            measure(&rt, "concurrent64/ollama", i, total, || async {
                let all = futures::future::join_all((0..STREAMS).map(|_| provider(&ol))).await;
                assert!(all.iter().all(|&n| n == TOKENS_EACH));
            })
        })
    });
    g.finish();
}

// criterion_group! generates an undocumented function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::e2e);
}

// As criterion_main!, then the ratios.
fn main() {
    group::benches();
    Criterion::default().configure_from_args().final_summary();
    report::print_table(
        "end to end over loopback",
        "client CPU time per content chunk",
    );
    println!("\nratios to reading the bytes only (same server, same body, this run):");
    report::print_ratio("openai", "bytes_sse", Some(2.5));
    report::print_ratio("naive_sse", "bytes_sse", None);
    report::print_ratio("ollama", "bytes_ndjson", Some(1.5));
    report::print_ratio("naive_ndjson", "bytes_ndjson", None);
    report::print_ratio("concurrent64/openai", "concurrent64/bytes_sse", Some(2.5));
    report::print_ratio(
        "concurrent64/ollama",
        "concurrent64/bytes_ndjson",
        Some(1.5),
    );
}
