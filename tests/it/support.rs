//! An in-process HTTP/1.1 server on loopback that replays recorded bodies in chosen
//! pieces, with delays, stalls and cuts; and records what clients sent.
//!
//! It is written on raw tokio sockets (not hyper) so that tests control exactly which
//! bytes go out in which write: one HTTP chunk per piece, flushed, then the delay.

#![allow(dead_code)] // each test module uses a different part

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The bytes of a recorded transcript file under `tests/transcripts/`.
pub fn transcript(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
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

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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
pub struct Server {
    pub addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    closed: Arc<AtomicUsize>,
    aborted: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
    closed_notify: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
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

    /// Answers with `handler(request_index, request)`.
    pub async fn start(
        handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicUsize::new(0));
        let aborted = Arc::new(AtomicUsize::new(0));
        let closed_notify = Arc::new(Notify::new());
        let handler: Arc<Handler> = Arc::new(handler);
        let counter = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicUsize::new(0));
        let written_total = written.clone();
        let shared = (
            requests.clone(),
            closed.clone(),
            aborted.clone(),
            closed_notify.clone(),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (h, k, w) = (handler.clone(), counter.clone(), written.clone());
                let (r, c, a, n) = shared.clone();
                tokio::spawn(async move {
                    if serve(socket, h, r, k, w).await == Outcome::ClientLeft {
                        a.fetch_add(1, Ordering::SeqCst);
                    }
                    c.fetch_add(1, Ordering::SeqCst);
                    n.notify_waiters();
                });
            }
        });
        Server {
            addr,
            requests,
            closed,
            aborted,
            written: written_total,
            closed_notify,
            task,
        }
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

async fn serve(
    mut socket: TcpStream,
    handler: Arc<Handler>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    counter: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
) -> Outcome {
    let _ = socket.set_nodelay(true);
    let Some(request) = read_request(&mut socket).await else {
        return Outcome::ClientLeft;
    };
    let index = counter.fetch_add(1, Ordering::SeqCst);
    let reply = handler(index, &request);
    requests.lock().unwrap().push(request);
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
        let mut frame = format!("{:x}\r\n", piece.len()).into_bytes();
        frame.extend_from_slice(&piece);
        frame.extend_from_slice(b"\r\n");
        if socket.write_all(&frame).await.is_err() || socket.flush().await.is_err() {
            return Outcome::ClientLeft;
        }
        written.fetch_add(piece.len(), Ordering::SeqCst);
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
