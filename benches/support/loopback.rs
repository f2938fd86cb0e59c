//! A loopback HTTP/1.1 server for benches and probes, on plain tokio sockets, on its
//! own thread and runtime (so the client's CPU time can be measured apart from it).
//!
//! What it sends is chosen by the request path, so every client (reqwest, the OpenAI
//! and Ollama providers) can ask for it through its base URL:
//!
//! `/bench/{tokens}/{interval_ms}/{stamp}/v1/chat/completions` → an OpenAI SSE body
//! `/bench/{tokens}/{interval_ms}/{stamp}/api/chat`            → an Ollama NDJSON body
//!
//! The body is chunked, one HTTP chunk per event or line. With `interval_ms` 0 it is
//! generated in batches of about 64 KiB and written as fast as the client reads; else
//! each event is written and flushed on its own, `interval_ms` apart. With `stamp` 1 each
//! event's text is the time it was written, in nanoseconds since [`origin`], so a client
//! in the same process can measure the delay from the server's write to its receipt.
//! Bodies are generated as they are sent, so the server's memory does not grow with
//! their length.

#![allow(dead_code, unreachable_pub)] // each bench or example uses a different part

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::bodies::{self, Format};

static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// The process's time origin for stamps.
pub fn origin() -> Instant {
    *ORIGIN.get_or_init(Instant::now)
}

/// Nanoseconds since [`origin`].
pub fn now_ns() -> u64 {
    origin().elapsed().as_nanos() as u64
}

/// A running server; it lives as long as the process.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    /// Starts a server on its own thread with a current-thread runtime.
    pub fn start() -> Server {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("loopback-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("server runtime");
                rt.block_on(async move {
                    let addr = serve_forever(move |addr| {
                        let _ = tx.send(addr);
                    });
                    addr.await;
                });
            })
            .expect("server thread");
        let addr = rx.recv().expect("server address");
        origin();
        Server { addr }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OpenAI base URL for a reply of `tokens` tokens.
    pub fn openai_base(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        format!("{}/v1", self.prefix(tokens, interval_ms, stamp))
    }

    /// The Ollama host (with path prefix) for a reply of `tokens` tokens.
    pub fn ollama_host(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        self.prefix(tokens, interval_ms, stamp)
    }

    fn prefix(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        format!(
            "{}/bench/{tokens}/{interval_ms}/{}",
            self.url(),
            u8::from(stamp)
        )
    }
}

/// Accepts connections forever, calling `ready` with the address once listening.
pub async fn serve_forever(ready: impl FnOnce(SocketAddr)) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("reuseaddr");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind loopback");
    // A deep accept queue: the concurrency probe opens 10,000 connections at once.
    let listener = socket.listen(8192).expect("listen");
    ready(listener.local_addr().expect("local addr"));
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = serve(socket).await;
        });
    }
}

/// Reads one request: its path (the body is read and dropped).
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = socket.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split(' ').nth(1)?.to_owned();
    let len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - (head_end + 4);
    while have < len {
        let n = socket.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        have += n;
    }
    Some(path)
}

/// What a path asks for.
struct Spec {
    format: Format,
    tokens: usize,
    interval: Duration,
    stamp: bool,
}

fn parse(path: &str) -> Option<Spec> {
    let mut parts = path.trim_start_matches('/').split('/');
    if parts.next()? != "bench" {
        return None;
    }
    let tokens = parts.next()?.parse().ok()?;
    let interval = Duration::from_millis(parts.next()?.parse().ok()?);
    let stamp = parts.next()? == "1";
    let format = if path.ends_with("/chat/completions") {
        Format::Sse
    } else if path.ends_with("/api/chat") {
        Format::Ndjson
    } else {
        return None;
    };
    Some(Spec {
        format,
        tokens,
        interval,
        stamp,
    })
}

fn push_chunk(out: &mut Vec<u8>, frame: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", frame.len()).as_bytes());
    out.extend_from_slice(frame);
    out.extend_from_slice(b"\r\n");
}

async fn serve(mut socket: TcpStream) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let Some(path) = read_request(&mut socket).await else {
        return Ok(());
    };
    let Some(spec) = parse(&path) else {
        socket
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await?;
        return Ok(());
    };
    let content_type = match spec.format {
        Format::Sse => "text/event-stream",
        Format::Ndjson => "application/x-ndjson",
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await?;
    let mut out = Vec::with_capacity(80 * 1024);
    for i in 0..spec.tokens {
        if spec.interval.is_zero() {
            push_chunk(&mut out, spec.format.frame(bodies::token(i)).as_bytes());
            if out.len() >= 64 * 1024 {
                socket.write_all(&out).await?;
                out.clear();
            }
        } else {
            tokio::time::sleep(spec.interval).await;
            let text = if spec.stamp {
                now_ns().to_string()
            } else {
                bodies::token(i).to_owned()
            };
            push_chunk(&mut out, spec.format.frame(&text).as_bytes());
            socket.write_all(&out).await?;
            out.clear();
        }
    }
    push_chunk(&mut out, spec.format.tail(spec.tokens).as_bytes());
    out.extend_from_slice(b"0\r\n\r\n");
    socket.write_all(&out).await?;
    socket.flush().await?;
    socket.shutdown().await?;
    Ok(())
}
