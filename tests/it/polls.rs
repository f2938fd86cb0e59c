//! The stream at the level of single polls (tokio-test): a chunk is handed over on the
//! first poll after its bytes arrive, and not before; a stream the app does not poll
//! reads nothing more (backpressure reaches the server); dropping the stream closes the
//! connection. The server is written by hand here, so that the test decides when each
//! byte is sent.

use std::time::Duration;

use theory_llm::{ChatRequest, Chunk, LlmStreamProvider, OpenAiProvider};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_test::{assert_pending, assert_ready};

/// A server with one connection, whose reply the test writes piece by piece.
struct HandServer {
    listener: TcpListener,
}

impl HandServer {
    async fn start() -> HandServer {
        HandServer {
            listener: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.listener.local_addr().unwrap())
    }

    /// Accepts the request and answers with the head of an SSE stream.
    async fn accept(&self) -> TcpStream {
        let (mut socket, _) = self.listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let body_start = loop {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed before sending its request");
            seen.extend_from_slice(&buf[..n]);
            if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = String::from_utf8_lossy(&seen[..body_start]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        while seen.len() < body_start + length {
            let n = socket.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        socket
    }
}

/// Writes `data` as one HTTP chunk.
async fn send(socket: &mut TcpStream, data: &[u8]) {
    let mut piece = format!("{:x}\r\n", data.len()).into_bytes();
    piece.extend_from_slice(data);
    piece.extend_from_slice(b"\r\n");
    socket.write_all(&piece).await.unwrap();
    socket.flush().await.unwrap();
}

fn token(text: &str) -> Vec<u8> {
    let event = serde_json::json!({"id": "c1", "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}}]});
    format!("data: {event}\n\n").into_bytes()
}

fn provider(server: &HandServer) -> OpenAiProvider {
    OpenAiProvider::builder()
        .base_url(server.base_url())
        .build()
        .unwrap()
}

/// Accepts the stream's request, polling the stream whenever it is woken meanwhile
/// (its request is sent from inside its polls); nothing may be ready before the reply.
async fn accept_driving<T: futures::Stream<Item: std::fmt::Debug>>(
    server: &HandServer,
    stream: &mut tokio_test::task::Spawn<T>,
) -> TcpStream {
    let accept = server.accept();
    tokio::pin!(accept);
    loop {
        tokio::select! {
            socket = &mut accept => return socket,
            () = tokio::time::sleep(Duration::from_millis(5)) => {
                if stream.is_woken() {
                    assert_pending!(stream.poll_next());
                }
            }
        }
    }
}

/// Lets the runtime's I/O driver run until `task` was woken (at most 5 s).
async fn until_woken<T>(task: &tokio_test::task::Spawn<T>) {
    for _ in 0..500 {
        if task.is_woken() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the stream was never woken");
}

#[tokio::test]
async fn a_chunk_is_ready_on_the_first_poll_after_its_bytes_arrive_and_not_before() {
    let server = HandServer::start().await;
    let llm = provider(&server);
    let mut stream = tokio_test::task::spawn(llm.stream_chat(ChatRequest::new("Hi")));
    // Lazy: polling sends the request; nothing is ready until the server answers.
    assert_pending!(stream.poll_next());
    let mut socket = accept_driving(&server, &mut stream).await;
    until_woken(&stream).await;
    assert_pending!(stream.poll_next(), "a head without events yields nothing");
    for text in ["Hel", "lo", " there"] {
        // An event cut in two: the first half gives nothing, the second the chunk.
        let event = token(text);
        let (a, b) = event.split_at(event.len() / 2);
        send(&mut socket, a).await;
        until_woken(&stream).await;
        assert_pending!(stream.poll_next(), "half an event is no chunk");
        send(&mut socket, b).await;
        until_woken(&stream).await;
        let chunk = assert_ready!(stream.poll_next());
        assert_eq!(chunk.unwrap().unwrap(), Chunk::Text(text.into()));
        assert_pending!(stream.poll_next(), "nothing more arrived");
    }
}

#[tokio::test]
async fn a_stream_the_app_does_not_poll_pushes_back_on_the_server() {
    let server = HandServer::start().await;
    let llm = provider(&server);
    let mut stream = tokio_test::task::spawn(llm.stream_chat(ChatRequest::new("Hi")));
    assert_pending!(stream.poll_next());
    let mut socket = accept_driving(&server, &mut stream).await;
    send(&mut socket, &token("Hi")).await;
    until_woken(&stream).await;
    assert!(assert_ready!(stream.poll_next()).is_some());
    // The app stops reading: the server can write only what the socket buffers hold,
    // then it waits, however much it has to send.
    let event = token(&"x".repeat(1000));
    let writing = async {
        for _ in 0..200_000 {
            send(&mut socket, &event).await;
        }
    };
    let blocked = tokio::time::timeout(Duration::from_millis(1500), writing).await;
    assert!(
        blocked.is_err(),
        "200 MB were taken without the app reading"
    );
    // Reading again drains what was buffered, in order.
    let chunk = assert_ready!(stream.poll_next());
    assert!(matches!(chunk, Some(Ok(Chunk::Text(t))) if t.len() == 1000));
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let server = HandServer::start().await;
    let llm = provider(&server);
    let mut stream = tokio_test::task::spawn(llm.stream_chat(ChatRequest::new("Hi")));
    assert_pending!(stream.poll_next());
    let mut socket = accept_driving(&server, &mut stream).await;
    send(&mut socket, &token("Hi")).await;
    until_woken(&stream).await;
    assert!(matches!(
        assert_ready!(stream.poll_next()),
        Some(Ok(Chunk::Text(_)))
    ));
    drop(stream);
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
        .await
        .expect("the connection stayed open after the stream was dropped");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}
