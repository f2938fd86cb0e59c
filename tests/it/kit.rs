//! A provider of our own, built outside the crate on the public kit, over loopback: it
//! gets retries, time limits, redaction, caps and framing without writing any.

use std::collections::VecDeque;
use std::time::Duration;

use theory_llm::kit::{Decoder, Dialect, Flow, Framing, HttpProvider, HttpRequest, Origin};
use theory_llm::retry::RetryPolicy;
use theory_llm::{
    ChatRequest, Chunk, ErrorKind, Finish, FinishReason, LlmStreamProvider, Result, Timeouts,
};

use crate::support::{Reply, Server, Split};

/// A server that streams `{"text": …}` lines and ends with `{"done": true, "tokens": n}`.
#[derive(Debug)]
struct Lines;

impl Dialect for Lines {
    type Decoder = LineDecoder;

    fn name(&self) -> &str {
        "lines"
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn request(&self, chat: &ChatRequest, model: &str) -> Result<HttpRequest> {
        let prompt = chat.messages.last().map_or("", |m| m.content.as_str());
        HttpRequest::post_json(
            "/chat",
            &serde_json::json!({ "model": model, "prompt": prompt }),
        )?
        .bearer_auth(KEY)
    }

    fn decoder(&self, origin: &Origin) -> LineDecoder {
        LineDecoder {
            origin: origin.clone(),
        }
    }
}

struct LineDecoder {
    origin: Origin,
}

impl Decoder for LineDecoder {
    fn frame(&mut self, line: &[u8], out: &mut VecDeque<Chunk>) -> Result<Flow> {
        let value: serde_json::Value = serde_json::from_slice(line)
            .map_err(|e| self.origin.malformed(&format!("not JSON ({e})")))?;
        if let Some(error) = value["error"].as_str() {
            return Err(self.origin.malformed(error));
        }
        if let Some(text) = value["text"].as_str().filter(|t| !t.is_empty()) {
            out.push_back(Chunk::Text(text.into()));
        }
        if value["done"] == true {
            let finish =
                Finish::new(FinishReason::Stop).with_tokens(Some(3), value["tokens"].as_u64());
            out.push_back(Chunk::from(finish));
            return Ok(Flow::Done);
        }
        Ok(Flow::Continue)
    }

    fn end_of_body(&mut self, _out: &mut VecDeque<Chunk>) -> Result<()> {
        Err(self.origin.truncated("the line with \"done\": true"))
    }
}

const KEY: &str = "sk-kit-0123456789abcdef";
const BODY: &str = "{\"text\":\"Hello\"}\n{\"text\":\", kit\"}\n{\"done\":true,\"tokens\":2}\n";

fn provider(server: &Server) -> HttpProvider<Lines> {
    HttpProvider::builder(Lines)
        .base_url(server.url())
        .default_model("small")
        .secret(KEY)
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_provider_of_our_own_streams_and_counts() {
    let server = Server::reply(Reply::ndjson(BODY).split(Split::EveryByte)).await;
    let reply = provider(&server).chat("Hi".into()).await.unwrap();
    assert_eq!(
        (reply.text.as_str(), reply.provider.as_str()),
        ("Hello, kit", "lines")
    );
    assert_eq!((reply.usage.tokens_in, reply.usage.tokens_out), (3, 2));
    let request = &server.requests()[0];
    assert_eq!(request.path, "/chat");
    assert_eq!(request.json()["model"], "small");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn it_gets_retries_redaction_and_limits_for_free() {
    // A 503, then the reply: retried.
    let busy = Reply::json(503, r#"{"error":{"message":"busy"}}"#);
    let server = Server::sequence(vec![busy, Reply::ndjson(BODY)]).await;
    assert_eq!(
        provider(&server).chat("Hi".into()).await.unwrap().text,
        "Hello, kit"
    );
    assert_eq!(server.requests().len(), 2);

    // The key echoed by the server is scrubbed; the status is kept.
    let echo = format!(r#"{{"error":{{"message":"bad key {KEY}"}}}}"#);
    let server = Server::reply(Reply::json(401, echo)).await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Auth, Some(401)));
    assert!(!err.to_string().contains("0123456789"), "{err}");

    // A stall hits the idle limit.
    let server = Server::reply(Reply::ndjson(BODY).split(Split::Frames).stall_after(1)).await;
    let request =
        ChatRequest::new("Hi").timeouts(Timeouts::default().idle(Duration::from_millis(200)));
    let err = provider(&server).chat(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);

    // Not a stream of lines: a protocol error, not retried.
    let server = Server::reply(Reply::ok("text/html", "<html>login</html>")).await;
    let err = provider(&server).chat("Hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(server.requests().len(), 1);

    // The reply cap.
    let server = Server::reply(Reply::ndjson(BODY)).await;
    let err = provider(&server)
        .chat(ChatRequest::new("Hi").max_reply_bytes(4))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
}
