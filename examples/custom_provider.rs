//! A provider of your own for an HTTP API, on the provider kit, registered next to the
//! built-in ones.
//!
//! `cargo run --example custom_provider`
//!
//! The API here is a small server (started below, on loopback) that streams JSON
//! lines: `{"word": "…"}` for each word, then `{"done": true, "words": n}`. The
//! provider is only what is particular to it: the request, and lines to chunks. The
//! kit adds retries, time limits, redaction, caps and framing, and `chat()` on top.

use std::collections::VecDeque;
use std::time::Duration;

use futures::StreamExt;
use theory_llm::kit::{Decoder, Dialect, Flow, Framing, HttpProvider, HttpRequest, Origin};
use theory_llm::{ChatRequest, Chunk, Finish, FinishReason, LlmStreamProvider, Registry, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The words API: `POST /words {"model", "prompt"}`, answered in JSON lines.
#[derive(Debug)]
struct Words;

impl Dialect for Words {
    type Decoder = WordDecoder;

    fn name(&self) -> &str {
        "words"
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let prompt = chat.messages.last().map_or("", |m| m.content.as_str());
        HttpRequest::post_json(
            "/words",
            &serde_json::json!({ "model": model, "prompt": prompt }),
        )
    }

    fn decoder(&self, origin: &Origin) -> WordDecoder {
        WordDecoder {
            origin: origin.clone(),
            first: true,
        }
    }
}

/// One reply's lines to chunks.
struct WordDecoder {
    origin: Origin,
    first: bool,
}

impl Decoder for WordDecoder {
    fn frame(&mut self, line: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let line: serde_json::Value = serde_json::from_slice(line)
            .map_err(|e| self.origin.malformed(&format!("a line is not JSON ({e})")))?;
        if let Some(word) = line["word"].as_str() {
            let space = if self.first { "" } else { " " };
            self.first = false;
            out.push_back(Chunk::Text(format!("{space}{word}").into()));
        }
        if line["done"] == true {
            let words = line["words"].as_u64();
            out.push_back(Chunk::from(
                Finish::new(FinishReason::Stop).with_tokens(None, words),
            ));
            return Ok(Flow::Done);
        }
        Ok(Flow::Continue)
    }

    fn end_of_body(&mut self, _out: &mut VecDeque<Chunk>) -> Result<()> {
        // A reply without its last line is cut short, never a success.
        Err(self.origin.truncated("the line with \"done\": true"))
    }
}

/// The server: echoes the prompt back a word at a time, 20 ms apart.
async fn serve(listener: tokio::net::TcpListener) {
    while let Ok((mut socket, _)) = listener.accept().await {
        tokio::spawn(async move {
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // The head, then as many body bytes as Content-Length says.
            loop {
                let Ok(n @ 1..) = socket.read(&mut buf).await else {
                    return;
                };
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length {
                        request.drain(..head_end + 4);
                        break;
                    }
                }
            }
            let body: serde_json::Value = serde_json::from_slice(&request).unwrap_or_default();
            let prompt = body["prompt"].as_str().unwrap_or("").to_owned();
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut lines: Vec<String> = prompt
                .split_whitespace()
                .map(|w| serde_json::json!({ "word": w }).to_string())
                .collect();
            let words = lines.len();
            lines.push(serde_json::json!({ "done": true, "words": words }).to_string());
            for line in lines {
                let chunk = format!("{:x}\r\n{line}\n\r\n", line.len() + 1);
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return; // the client dropped the stream: stop
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| {
            theory_llm::Error::new(theory_llm::ErrorKind::ProviderUnavailable, e.to_string())
        })?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| {
            theory_llm::Error::new(theory_llm::ErrorKind::ProviderUnavailable, e.to_string())
        })?
    );
    tokio::spawn(serve(listener));

    // Registered next to the built-in providers; `hello_llm` lists a registry's names.
    let registry = Registry::builtin().with("words", move |options| {
        let mut builder = HttpProvider::builder(Words)
            .base_url(base.clone())
            .default_model("echo-1")
            .idle_timeout(Duration::from_secs(5));
        if let Some(limit) = options.connect_timeout {
            builder = builder.connect_timeout(limit);
        }
        Ok(Box::new(builder.build()?))
    });
    println!("providers: {}", registry.names().join(", "));
    let llm = registry.create("words")?;

    // Tokens as they arrive:
    let mut stream = llm.stream_chat("streams arrive word by word".into());
    while let Some(chunk) = stream.next().await {
        if let Chunk::Text(text) = chunk? {
            print!("{text}");
        }
    }
    println!();

    // The whole reply, with usage:
    let reply = llm.chat("the kit did the rest".into()).await?;
    println!(
        "{} [{} words out, {:.1} ms, provider {}]",
        reply.text, reply.usage.tokens_out, reply.usage.latency_ms, reply.provider
    );
    Ok(())
}
