//! The one loopback HTTP/1.1 server of the tests, benches and probes: it replays
//! recorded bodies in chosen pieces, with delays, stalls and cuts, or generates long
//! bodies as it sends them; and it records what clients sent.
//!
//! It is written on raw tokio sockets (not hyper) so that tests control exactly which
//! bytes go out in which write: one HTTP chunk per piece, flushed, then the delay. It
//! runs on the test's runtime ([`Server::start`]) or on a thread of its own
//! ([`Server::start_on_thread`], [`Server::bench`]), so that a client's CPU time can be
//! measured apart from it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;

use crate::bodies::{self, Format};

/// Nanoseconds of the wall clock: the stamps a bench server writes, comparable across
/// processes on one machine (a server in a process of its own, the app in another).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// How a body is cut into writes.
#[derive(Debug, Clone)]
pub enum Split {
    /// One write.
    Whole,
    /// One write per frame: after each `\n\n` (SSE) or `\n` (NDJSON).
    Frames,
    /// One byte per write.
    EveryByte,
    /// Writes of these sizes, cycling.
    Sizes(Vec<usize>),
    /// Pseudo-random sizes from 1 to `max`, from a seed.
    Random { seed: u64, max: usize },
}

impl Split {
    /// The body cut into pieces.
    pub fn pieces(&self, body: &[u8]) -> Vec<Vec<u8>> {
        match self {
            Split::Whole => vec![body.to_vec()],
            Split::Frames => {
                let sep: &[u8] = if body.windows(2).any(|w| w == b"\n\n") {
                    b"\n\n"
                } else {
                    b"\n"
                };
                let mut out = Vec::new();
                let mut start = 0;
                let mut i = 0;
                while i + sep.len() <= body.len() {
                    if &body[i..i + sep.len()] == sep {
                        out.push(body[start..i + sep.len()].to_vec());
                        start = i + sep.len();
                        i = start;
                    } else {
                        i += 1;
                    }
                }
                if start < body.len() {
                    out.push(body[start..].to_vec());
                }
                out
            }
            Split::EveryByte => body.iter().map(|b| vec![*b]).collect(),
            Split::Sizes(sizes) => {
                let mut out = Vec::new();
                let mut rest = body;
                let mut k = 0;
                while !rest.is_empty() {
                    let n = sizes[k % sizes.len()].max(1).min(rest.len());
                    out.push(rest[..n].to_vec());
                    rest = &rest[n..];
                    k += 1;
                }
                out
            }
            Split::Random { seed, max } => {
                let mut state = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407)
                    | 1;
                let mut out = Vec::new();
                let mut rest = body;
                while !rest.is_empty() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let n = (state as usize % (*max).max(1)) + 1;
                    let n = n.min(rest.len());
                    out.push(rest[..n].to_vec());
                    rest = &rest[n..];
                }
                out
            }
        }
    }
}

/// A body made as it is sent (so that the server's memory does not grow with its
/// length): `tokens` frames of `format`, then its tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub format: Format,
    pub tokens: usize,
    /// Zero: frames in batches of about 64 KiB, as fast as the client reads. Else each
    /// frame written and flushed on its own, this far apart.
    pub interval: Duration,
    /// Each frame's text is the time it was written, in nanoseconds since [`origin`].
    pub stamp: bool,
}

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Made as it is sent, instead of `body` (one HTTP chunk per frame).
    pub generated: Option<Generated>,
    pub split: Split,
    /// Pause after each piece.
    pub delay: Duration,
    /// Pause before the response head.
    pub head_delay: Duration,
    /// After this many pieces, stop writing and keep the connection open until the
    /// client closes it.
    pub stall_after: Option<usize>,
    /// After this many pieces, close the connection without ending the chunked body.
    pub cut_after: Option<usize>,
}

impl Reply {
    /// A 200 with the given content type and body, in one write.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            generated: None,
            split: Split::Whole,
            delay: Duration::ZERO,
            head_delay: Duration::ZERO,
            stall_after: None,
            cut_after: None,
        }
    }

    /// A `text/event-stream` 200.
    pub fn sse(body: impl Into<Vec<u8>>) -> Reply {
        Reply::ok("text/event-stream", body)
    }

    /// An `application/x-ndjson` 200.
    pub fn ndjson(body: impl Into<Vec<u8>>) -> Reply {
        Reply::ok("application/x-ndjson", body)
    }

    /// A JSON response with `status`.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            ..Reply::ok("application/json", body)
        }
    }

    /// A response with `status`, content type and body.
    pub fn status(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            ..Reply::ok(content_type, body)
        }
    }

    pub fn split(mut self, split: Split) -> Reply {
        self.split = split;
        self
    }

    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub fn head_delay(mut self, delay: Duration) -> Reply {
        self.head_delay = delay;
        self
    }

    pub fn stall_after(mut self, pieces: usize) -> Reply {
        self.stall_after = Some(pieces);
        self
    }

    pub fn cut_after(mut self, pieces: usize) -> Reply {
        self.cut_after = Some(pieces);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A 200 of `generated` frames.
    pub fn generated(generated: Generated) -> Reply {
        let content_type = match generated.format {
            Format::Sse => "text/event-stream",
            Format::Ndjson => "application/x-ndjson",
        };
        Reply {
            generated: Some(generated),
            ..Reply::ok(content_type, Vec::new())
        }
    }

    /// What a path made by [`Server::openai_base`] or [`Server::ollama_host`] asks for:
    /// `/bench/{tokens}/{interval_ms}/{stamp}/v1/chat/completions` (SSE) or
    /// `…/api/chat` (NDJSON); a 404 for any other path.
    pub fn for_bench_path(path: &str) -> Reply {
        bench_spec(path).map_or_else(
            || Reply::status(404, "text/plain", "not a bench path"),
            Reply::generated,
        )
    }
}

fn bench_spec(path: &str) -> Option<Generated> {
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
    Some(Generated {
        format,
        tokens,
        interval,
        stamp,
    })
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

type Handler = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

/// A running server; stops when dropped.
#[derive(Debug)]
pub struct Server {
    pub addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    closed: Arc<AtomicUsize>,
    aborted: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
    closed_notify: Arc<Notify>,
    /// The accept loop, on the test's runtime; `None` for a server on its own thread,
    /// which lives as long as the process.
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// What every connection shares.
#[derive(Clone)]
struct Shared {
    handler: Arc<Handler>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    counter: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
    aborted: Arc<AtomicUsize>,
    closed_notify: Arc<Notify>,
}

impl Shared {
    fn new(handler: Arc<Handler>) -> Shared {
        Shared {
            handler,
            requests: Arc::default(),
            counter: Arc::default(),
            written: Arc::default(),
            closed: Arc::default(),
            aborted: Arc::default(),
            closed_notify: Arc::default(),
        }
    }

    fn server(&self, addr: SocketAddr, task: Option<tokio::task::JoinHandle<()>>) -> Server {
        Server {
            addr,
            requests: self.requests.clone(),
            closed: self.closed.clone(),
            aborted: self.aborted.clone(),
            written: self.written.clone(),
            closed_notify: self.closed_notify.clone(),
            task,
        }
    }

    /// Accepts connections until the listener fails, serving each on its own task.
    async fn accept_loop(self, listener: TcpListener) {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let shared = self.clone();
            tokio::spawn(async move {
                if serve(socket, &shared).await == Outcome::ClientLeft {
                    shared.aborted.fetch_add(1, Ordering::SeqCst);
                }
                shared.closed.fetch_add(1, Ordering::SeqCst);
                shared.closed_notify.notify_waiters();
            });
        }
    }
}

/// The URLs of a bench server at an address (one in another process, say).
#[derive(Debug, Clone, Copy)]
pub struct BenchPaths(pub SocketAddr);

impl BenchPaths {
    /// The OpenAI base URL for a reply of `tokens` tokens, `interval_ms` apart (0: as
    /// fast as the client reads), each stamped with its send time if `stamp`.
    pub fn openai_base(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        format!("{}/v1", self.prefix(tokens, interval_ms, stamp))
    }

    /// The Ollama host, with path prefix, for the same.
    pub fn ollama_host(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        self.prefix(tokens, interval_ms, stamp)
    }

    fn prefix(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        format!(
            "http://{}/bench/{tokens}/{interval_ms}/{}",
            self.0,
            u8::from(stamp)
        )
    }
}

/// Serves the bench paths (see [`Server::bench`]) forever on the current runtime,
/// calling `ready` with the address once listening: a server in a process of its own.
pub async fn serve_bench_forever(ready: impl FnOnce(SocketAddr)) {
    let listener = listen();
    ready(listener.local_addr().expect("local addr"));
    let handler: Arc<Handler> =
        Arc::new(|_, request: &Recorded| Reply::for_bench_path(&request.path));
    Shared::new(handler).accept_loop(listener).await;
}

/// A listener on loopback with a deep accept queue (a probe opens 10,000 connections
/// at once).
fn listen() -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("reuseaddr");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind loopback");
    socket.listen(8192).expect("listen")
}

impl Server {
    /// Answers every request with `reply`.
    pub async fn reply(reply: Reply) -> Server {
        Server::start(move |_, _| reply.clone()).await
    }

    /// Answers the n-th request (from 0) with `replies[n]`, repeating the last one.
    pub async fn sequence(replies: Vec<Reply>) -> Server {
        Server::start(move |n, _| replies[n.min(replies.len() - 1)].clone()).await
    }

    /// Answers with `handler(request_index, request)`, on the current runtime.
    pub async fn start(
        handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = listen();
        let addr = listener.local_addr().expect("local addr");
        let shared = Shared::new(Arc::new(handler));
        let task = tokio::spawn(shared.clone().accept_loop(listener));
        shared.server(addr, Some(task))
    }

    /// Answers with `handler`, on a thread and runtime of its own, so that a client's
    /// CPU time can be measured apart from the server's. It lives as long as the
    /// process.
    pub fn start_on_thread(
        handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let shared = Shared::new(Arc::new(handler));
        let (tx, rx) = std::sync::mpsc::channel();
        let serving = shared.clone();
        std::thread::Builder::new()
            .name("loopback-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("server runtime");
                rt.block_on(async move {
                    let listener = listen();
                    let _ = tx.send(listener.local_addr().expect("local addr"));
                    serving.accept_loop(listener).await;
                });
            })
            .expect("server thread");
        let addr = rx.recv().expect("server address");
        shared.server(addr, None)
    }

    /// The bench server: on its own thread, answering the paths of
    /// [`openai_base`](Self::openai_base) and [`ollama_host`](Self::ollama_host) with
    /// generated bodies.
    pub fn bench() -> Server {
        Server::start_on_thread(|_, request| Reply::for_bench_path(&request.path))
    }

    /// The OpenAI base URL (of [`Server::bench`]) for a reply of `tokens` tokens.
    pub fn openai_base(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        BenchPaths(self.addr).openai_base(tokens, interval_ms, stamp)
    }

    /// The Ollama host, with path prefix (of [`Server::bench`]), for a reply of `tokens`
    /// tokens.
    pub fn ollama_host(&self, tokens: usize, interval_ms: u64, stamp: bool) -> String {
        BenchPaths(self.addr).ollama_host(tokens, interval_ms, stamp)
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// How many connections have been closed (by either side) after being served.
    pub fn closed(&self) -> usize {
        self.closed.load(Ordering::SeqCst)
    }

    /// Body bytes the server has managed to write so far (over all connections).
    pub fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    /// How many connections the client closed before the server finished its reply.
    pub fn aborted(&self) -> usize {
        self.aborted.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` connections have closed, for at most 5 s.
    pub async fn wait_closed(&self, n: usize) -> bool {
        self.wait_for(|s| s.closed() >= n).await
    }

    /// Waits until the client has closed at least `n` connections early, for at most 5 s.
    pub async fn wait_aborted(&self, n: usize) -> bool {
        self.wait_for(|s| s.aborted() >= n).await
    }

    async fn wait_for(&self, done: impl Fn(&Server) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let notified = self.closed_notify.notified();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return done(self);
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
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
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = socket.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The reply was sent (or cut on purpose).
    Served,
    /// The client closed the connection before the reply was complete.
    ClientLeft,
}

/// Waits `dur`, watching the socket: `false` if the client closed it meanwhile.
async fn pause(socket: &mut TcpStream, dur: Duration) -> bool {
    let mut sink = [0u8; 64];
    let sleep = tokio::time::sleep(dur);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => return true,
            read = socket.read(&mut sink) => match read {
                Ok(0) | Err(_) => return false,
                Ok(_) => continue,
            },
        }
    }
}

/// Holds the connection until the client closes it.
async fn hold(socket: &mut TcpStream) {
    let mut sink = [0u8; 64];
    while let Ok(n) = socket.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

async fn serve(mut socket: TcpStream, shared: &Shared) -> Outcome {
    let _ = socket.set_nodelay(true);
    let Some(request) = read_request(&mut socket).await else {
        return Outcome::ClientLeft;
    };
    let index = shared.counter.fetch_add(1, Ordering::SeqCst);
    let reply = (shared.handler)(index, &request);
    shared.requests.lock().expect("requests lock").push(request);
    if !reply.head_delay.is_zero() && !pause(&mut socket, reply.head_delay).await {
        return Outcome::ClientLeft;
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return Outcome::ClientLeft;
    }
    if let Some(generated) = reply.generated {
        return match send_generated(&mut socket, generated, &shared.written).await {
            Ok(()) => Outcome::Served,
            Err(_) => Outcome::ClientLeft,
        };
    }
    let pieces = reply.split.pieces(&reply.body);
    let n_pieces = pieces.len();
    for (i, piece) in pieces.into_iter().enumerate() {
        if reply.cut_after == Some(i) {
            return Outcome::Served; // dropped socket: the body ends without its last chunk
        }
        if reply.stall_after == Some(i) {
            hold(&mut socket).await;
            return Outcome::ClientLeft;
        }
        let mut frame = Vec::with_capacity(piece.len() + 12);
        push_chunk(&mut frame, &piece);
        if socket.write_all(&frame).await.is_err() || socket.flush().await.is_err() {
            return Outcome::ClientLeft;
        }
        shared.written.fetch_add(piece.len(), Ordering::SeqCst);
        if !reply.delay.is_zero() && !pause(&mut socket, reply.delay).await {
            return Outcome::ClientLeft;
        }
    }
    if reply.stall_after.is_some_and(|n| n >= n_pieces) {
        hold(&mut socket).await;
        return Outcome::ClientLeft;
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let _ = socket.shutdown().await;
    // Wait for the client to close its side, so `closed()` counts finished exchanges.
    let mut sink = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut sink)).await;
    Outcome::Served
}

fn push_chunk(out: &mut Vec<u8>, frame: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", frame.len()).as_bytes());
    out.extend_from_slice(frame);
    out.extend_from_slice(b"\r\n");
}

/// Writes a generated body, one HTTP chunk per frame.
async fn send_generated(
    socket: &mut TcpStream,
    spec: Generated,
    written: &AtomicUsize,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(80 * 1024);
    for i in 0..spec.tokens {
        if spec.interval.is_zero() {
            push_chunk(&mut out, spec.format.frame(bodies::token(i)).as_bytes());
            if out.len() >= 64 * 1024 {
                socket.write_all(&out).await?;
                written.fetch_add(out.len(), Ordering::Relaxed);
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
    socket.shutdown().await
}

/// Every way to split a body that the transcript tests use.
pub fn all_splits() -> Vec<Split> {
    vec![
        Split::Whole,
        Split::Frames,
        Split::EveryByte,
        Split::Sizes(vec![1, 2, 3, 5, 7, 11, 13]),
        Split::Random { seed: 1, max: 64 },
        Split::Random { seed: 42, max: 9 },
    ]
}

/// The reply text of an SSE body (`choices[0].delta.content` joined), computed without the crate.
pub fn sse_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// A server that answers every connection with exactly the bytes `raw` (after reading
/// the request head), then closes the connection: for responses no well-behaved
/// server would send (bad chunked framing, huge or binary headers). Stops when dropped.
#[derive(Debug)]
pub struct RawServer {
    pub addr: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    pub async fn start(raw: Vec<u8>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let raw = Arc::new(raw);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let raw = raw.clone();
                tokio::spawn(async move {
                    if read_request(&mut socket).await.is_some() {
                        let _ = socket.write_all(&raw).await;
                        let _ = socket.flush().await;
                    }
                    let _ = socket.shutdown().await;
                });
            }
        });
        RawServer {
            addr,
            connections,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}
