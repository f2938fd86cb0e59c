//! The `openai` provider's embeddings (`/v1/embeddings`) over loopback, and the
//! recordings of a real llama.cpp server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use theory_llm::embed::{EmbedRequest, Embedder};
use theory_llm::pricing::Pricing;
use theory_llm::{ErrorKind, LlmStreamProvider, OpenAiProvider};

use super::{b64, fast_retries, openai_body};
use crate::support::{transcript, Reply, Server};

const KEY: &str = "sk-test-0123456789abcdefghijklmnop";

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key(KEY)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

/// A server that embeds input `"t{i}"` as `[i, -i, 0.5]`, answering each batch with
/// its items in reverse order (their indexes say where they belong), as base64 or
/// numbers as asked.
async fn numbering_server() -> Server {
    Server::start(|_, request| {
        let sent = request.json();
        let base64 = sent["encoding_format"] == "base64";
        let inputs = sent["input"].as_array().unwrap().clone();
        let mut items: Vec<(usize, serde_json::Value)> = inputs
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let i: f32 = text.as_str().unwrap()[1..].parse().unwrap();
                let vector = [i, -i, 0.5];
                let embedding = if base64 {
                    json!(b64(&vector))
                } else {
                    json!(vector)
                };
                (index, embedding)
            })
            .collect();
        items.reverse();
        Reply::json(200, openai_body(&items, Some(inputs.len() as u64 * 2)))
    })
    .await
}

fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i}")).collect()
}

#[tokio::test]
async fn the_request_body_path_and_key_and_the_reply_decoded_from_base64() {
    let server = numbering_server().await;
    let llm = openai(&server);
    let request = EmbedRequest::new(numbered(3))
        .model("text-embedding-3-large")
        .dimensions(3);
    let reply = llm.embedder().unwrap().embed(request).await.unwrap();
    assert_eq!(
        reply.vectors,
        [[0.0, -0.0, 0.5], [1.0, -1.0, 0.5], [2.0, -2.0, 0.5]]
    );
    assert_eq!(reply.dimensions(), 3);
    assert_eq!(
        (reply.provider.as_str(), reply.model.as_str()),
        ("openai", "text-embedding-3-small")
    );
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/embeddings")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        sent.json(),
        json!({"model": "text-embedding-3-large", "input": ["t0", "t1", "t2"],
               "encoding_format": "base64", "dimensions": 3})
    );
    // Reported tokens, priced from the table: 6 tokens of text-embedding-3-small
    // (the model the server named) at $0.02 per 1M round to 0 micro-USD.
    assert_eq!(reply.usage.tokens_in, 6);
    assert!(!reply.usage.tokens_estimated);
    assert!(matches!(reply.usage.cost_basis, Pricing::Metered(_)));
}

#[tokio::test]
async fn the_default_model_is_text_embedding_3_small_unless_the_builder_says() {
    let server = numbering_server().await;
    let llm = openai(&server);
    assert_eq!(llm.default_embedding_model(), "text-embedding-3-small");
    llm.embed("t1".into()).await.unwrap();
    assert_eq!(
        server.requests()[0].json()["model"],
        "text-embedding-3-small"
    );
    assert!(server.requests()[0].json().get("dimensions").is_none());
    let own = OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key(KEY)
        .default_embedding_model("bge-m3")
        .build()
        .unwrap();
    assert_eq!(own.default_embedding_model(), "bge-m3");
    own.embed("t1".into()).await.unwrap();
    assert_eq!(server.requests()[1].json()["model"], "bge-m3");
}

#[tokio::test]
async fn a_long_list_goes_in_batches_of_2048_in_order_and_comes_back_in_input_order() {
    let server = numbering_server().await;
    let reply = openai(&server)
        .embed(EmbedRequest::new(numbered(4100)))
        .await
        .unwrap();
    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| r.json()["input"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [2048, 2048, 4]);
    let firsts: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.json()["input"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(firsts, ["t0", "t2048", "t4096"], "sent in order");
    assert_eq!(reply.vectors.len(), 4100);
    for (i, vector) in reply.vectors.iter().enumerate() {
        assert_eq!(vector[0], i as f32, "vector {i} is input {i}'s");
    }
    assert_eq!(reply.usage.tokens_in, 8200, "the batches' tokens summed");
}

#[tokio::test]
async fn long_texts_go_in_batches_under_300_000_characters() {
    let padding = "x".repeat(99_990);
    let inputs: Vec<String> = (0..7).map(|i| format!("t{i} {padding}")).collect();
    let server = Server::start(|_, request| {
        let n = request.json()["input"].as_array().unwrap().len();
        let items: Vec<_> = (0..n).map(|i| (i, json!([1.0, i as f32]))).collect();
        Reply::json(200, openai_body(&items, None))
    })
    .await;
    let reply = openai(&server)
        .embed(EmbedRequest::new(inputs))
        .await
        .unwrap();
    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| r.json()["input"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(reply.vectors.len(), 7);
}

#[tokio::test]
async fn numbers_are_read_when_the_server_sends_them_instead_of_base64() {
    let server = Server::reply(Reply::json(
        200,
        openai_body(&[(0, json!([0.25, -1e-7, 3]))], Some(1)),
    ))
    .await;
    let reply = openai(&server).embed("t0".into()).await.unwrap();
    assert_eq!(reply.vectors, [[0.25, -1e-7, 3.0]]);
}

#[tokio::test]
async fn a_server_that_refuses_encoding_format_is_asked_again_with_numbers_and_remembered() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let server = Server::start(move |_, request| {
        seen.fetch_add(1, Ordering::SeqCst);
        if request.json().get("encoding_format").is_some() {
            return Reply::json(
                400,
                r#"{"error":{"message":"unsupported encoding_format: base64","type":"invalid_request_error","param":"encoding_format"}}"#,
            );
        }
        Reply::json(200, openai_body(&[(0, json!([1.0, 2.0]))], Some(1)))
    })
    .await;
    let llm = OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key(KEY)
        .max_retries(0)
        .build()
        .unwrap();
    assert_eq!(llm.embed("a".into()).await.unwrap().vectors, [[1.0, 2.0]]);
    assert_eq!(llm.embed("b".into()).await.unwrap().vectors, [[1.0, 2.0]]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "asked with base64 once only"
    );
}

#[tokio::test]
async fn usage_is_estimated_and_flagged_when_the_server_reports_none() {
    let server = Server::reply(Reply::json(
        200,
        openai_body(&[(0, json!([1.0])), (1, json!([2.0]))], None),
    ))
    .await;
    let reply = openai(&server)
        .embed(EmbedRequest::new(["12345678", "1234"]).model("text-embedding-3-large"))
        .await
        .unwrap();
    // 8 and 4 characters: 2 + 1 tokens at about 4 characters a token.
    assert_eq!(reply.usage.tokens_in, 3);
    assert!(reply.usage.tokens_estimated);
}

#[tokio::test]
async fn the_cost_comes_from_the_price_table() {
    let server = Server::reply(Reply::json(
        200,
        r#"{"data":[{"index":0,"embedding":[1.0]}],"model":"text-embedding-3-large","usage":{"prompt_tokens":1000000}}"#,
    ))
    .await;
    let reply = openai(&server)
        .embed(EmbedRequest::from("t").model("text-embedding-3-large"))
        .await
        .unwrap();
    // $0.13 per 1M tokens: the model asked for is priced, as for a chat.
    assert_eq!(reply.usage.usd_micros, 130_000);
    let local = Server::reply(Reply::json(
        200,
        r#"{"data":[{"index":0,"embedding":[1.0]}],"model":"my-local-embedder","usage":{"prompt_tokens":5}}"#,
    ))
    .await;
    let reply = openai(&local)
        .embed(EmbedRequest::from("t").model("my-local-embedder"))
        .await
        .unwrap();
    assert_eq!(reply.usage.usd_micros, 0);
    assert_eq!(reply.usage.cost_basis, Pricing::Unknown);
}

#[tokio::test]
async fn failure_statuses_are_classified_retried_and_scrubbed_of_the_key() {
    let server = Server::reply(Reply::json(
        401,
        format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}","type":"invalid_request_error"}}}}"#),
    ))
    .await;
    let err = openai(&server).embed("t".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.to_string().contains(KEY), "{err}");
    assert_eq!(server.requests().len(), 1, "not retried");

    let server = Server::reply(Reply::json(
        404,
        r#"{"error":{"message":"The model `nope` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#,
    ))
    .await;
    let err = openai(&server)
        .embed(EmbedRequest::from("t").model("nope"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound, "{err}");

    let server = Server::reply(Reply::json(404, "Not Found")).await;
    let err = openai(&server).embed("t".into()).await.unwrap_err();
    assert!(
        err.to_string().contains("/embeddings does not exist"),
        "{err}"
    );

    let ok = Reply::json(200, openai_body(&[(0, json!([1.0]))], Some(1)));
    let server = Server::sequence(vec![
        Reply::json(503, r#"{"error":{"message":"busy"}}"#),
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#),
        ok,
    ])
    .await;
    let reply = openai(&server).embed("t".into()).await.unwrap();
    assert_eq!(reply.vectors, [[1.0]]);
    assert_eq!(server.requests().len(), 3, "503 and 429 retried");

    let server = Server::reply(Reply::json(500, r#"{"error":{"message":"boom"}}"#)).await;
    let err = openai(&server).embed("t".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.to_string().contains("gave up after 3 attempts"),
        "{err}"
    );
}

#[tokio::test]
async fn a_batch_that_fails_after_retries_fails_the_call_and_later_batches_are_not_sent() {
    let server = Server::start(|n, request| {
        if n == 0 {
            let inputs = request.json()["input"].as_array().unwrap().len();
            let items: Vec<_> = (0..inputs).map(|i| (i, json!([1.0]))).collect();
            return Reply::json(200, openai_body(&items, Some(1)));
        }
        Reply::json(400, r#"{"error":{"message":"input too long"}}"#)
    })
    .await;
    let err = openai(&server)
        .embed(EmbedRequest::new(vec!["x".to_owned(); 5000]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn time_limits_apply_to_the_whole_reply() {
    let slow = Reply::json(200, openai_body(&[(0, json!([1.0]))], Some(1)))
        .head_delay(Duration::from_secs(5));
    let server = Server::reply(slow).await;
    let llm = OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key(KEY)
        .first_chunk_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = llm.embed("t".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // A body that stops midway: the idle limit.
    let body = openai_body(&[(0, json!([1.0, 2.0, 3.0]))], Some(1));
    let stalled = Reply::json(200, body)
        .split(crate::support::Split::Sizes(vec![10]))
        .stall_after(1);
    let server = Server::reply(stalled).await;
    let llm = OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key(KEY)
        .idle_timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .unwrap();
    let err = llm.embed("t".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("idle limit"), "{err}");
}

#[tokio::test]
async fn nothing_is_sent_for_a_request_no_api_accepts() {
    let server = numbering_server().await;
    let llm = openai(&server);
    for request in [
        EmbedRequest::default(),
        EmbedRequest::new(["t1", ""]),
        EmbedRequest::from("t1").dimensions(0),
    ] {
        let err = llm.embed(request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_real_llama_cpp_reply_in_base64_and_in_numbers_gives_the_same_vectors() {
    let mut replies = Vec::new();
    for name in ["embeddings_base64", "embeddings_float"] {
        let body = transcript(&format!("llama-server/{name}.body"));
        let server = Server::reply(Reply::json(200, body)).await;
        let reply = openai(&server)
            .embed(EmbedRequest::new(["hello world", "the cat sat"]).model("smollm2-embed"))
            .await
            .unwrap();
        assert_eq!(reply.vectors.len(), 2, "{name}");
        assert_eq!(reply.dimensions(), 576, "{name}: SmolLM2-135M's width");
        assert_eq!(reply.model, "smollm2-embed");
        assert_eq!(reply.usage.tokens_in, 5);
        for vector in &reply.vectors {
            // Mean-pooled, then normalized to length 1 by the server.
            let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{name}: {norm}");
        }
        replies.push(reply.vectors);
    }
    assert_eq!(
        replies[0], replies[1],
        "base64 is the same floats, little-endian"
    );
}
