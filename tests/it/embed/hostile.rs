//! Hostile and broken embedding replies: fewer or more vectors than inputs, wrong or
//! repeated indexes, vectors of other lengths or of absurd length, numbers that are not
//! finite, base64 that is not floats, bodies past the cap. Each is a clear `protocol`
//! error naming what is wrong, never a panic and never vectors in the wrong place.

use serde_json::json;
use theory_llm::embed::{EmbedRequest, Embedder, MAX_DIMENSIONS};
use theory_llm::{ErrorKind, OpenAiProvider};

use super::{b64, fast_retries, openai_body};
use crate::support::{Reply, Server};

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key("sk-hostile-0123456789abcdefghij")
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

/// The error for `body` answering a request of `inputs` inputs (asking `dimensions`).
async fn error_for(body: String, inputs: usize, dimensions: Option<u32>) -> theory_llm::Error {
    let server = Server::reply(Reply::json(200, body)).await;
    let texts: Vec<String> = (0..inputs).map(|i| format!("input {i}")).collect();
    let mut request = EmbedRequest::new(texts);
    request.dimensions = dimensions;
    openai(&server).embed(request).await.unwrap_err()
}

#[tokio::test]
async fn every_broken_reply_is_a_protocol_error_that_says_what_is_wrong() {
    let one = |index: serde_json::Value, embedding: serde_json::Value| json!({"index": index, "embedding": embedding});
    let data = |items: Vec<serde_json::Value>| json!({"data": items}).to_string();
    let huge = format!("[{}0]", "0,".repeat(MAX_DIMENSIONS));
    let cases: Vec<(&str, String, usize, Option<u32>, &str)> = vec![
        (
            "fewer vectors",
            data(vec![one(json!(0), json!([1.0]))]),
            2,
            None,
            "1 embeddings for 2 inputs",
        ),
        (
            "more vectors",
            data(vec![
                one(json!(0), json!([1.0])),
                one(json!(1), json!([1.0])),
            ]),
            1,
            None,
            "2 embeddings for 1 inputs",
        ),
        (
            "an index twice",
            data(vec![
                one(json!(0), json!([1.0])),
                one(json!(0), json!([2.0])),
            ]),
            2,
            None,
            "two embeddings at index 0",
        ),
        (
            "an index past the end",
            data(vec![
                one(json!(0), json!([1.0])),
                one(json!(2), json!([2.0])),
            ]),
            2,
            None,
            "index 2, past the 2 inputs",
        ),
        (
            "a negative index",
            data(vec![one(json!(-1), json!([1.0]))]),
            1,
            None,
            "index is not a number",
        ),
        (
            "an index as a string",
            data(vec![one(json!("0"), json!([1.0]))]),
            1,
            None,
            "index is not a number",
        ),
        (
            "an index past u64",
            data(vec![one(json!(1e30), json!([1.0]))]),
            1,
            None,
            "index is not a number",
        ),
        (
            "vectors of two lengths",
            data(vec![
                one(json!(0), json!([1.0, 2.0])),
                one(json!(1), json!([1.0])),
            ]),
            2,
            None,
            "input 1 has 1 dimensions, the first one 2",
        ),
        (
            "another length than asked for",
            data(vec![one(json!(0), json!([1.0, 2.0]))]),
            1,
            Some(3),
            "has 2 dimensions where 3 were asked for",
        ),
        (
            "an empty vector",
            data(vec![one(json!(0), json!([]))]),
            1,
            None,
            "input 0 is empty",
        ),
        (
            "a number past f32",
            data(vec![one(json!(0), json!([1.0, 1e39]))]),
            1,
            None,
            "holds inf, not a finite number",
        ),
        (
            "NaN in base64",
            data(vec![one(json!(0), json!(b64(&[1.0, f32::NAN])))]),
            1,
            None,
            "holds NaN",
        ),
        (
            "infinity in base64",
            data(vec![one(json!(0), json!(b64(&[f32::NEG_INFINITY])))]),
            1,
            None,
            "holds -inf",
        ),
        (
            "base64 of 3 bytes",
            data(vec![one(json!(0), json!("AAAA"))]),
            1,
            None,
            "not a whole number of 32-bit floats",
        ),
        (
            "base64 with a stray character",
            data(vec![one(json!(0), json!("AAC*Pw=="))]),
            1,
            None,
            "not a base64 character",
        ),
        (
            "a vector of absurd length",
            data(vec![one(json!(0), serde_json::from_str(&huge).unwrap())]),
            1,
            None,
            "longer than 65536 numbers",
        ),
        (
            "no data",
            json!({"object": "list"}).to_string(),
            1,
            None,
            "no data",
        ),
        (
            "an error in a 200",
            json!({"error": {"message": "out of memory"}}).to_string(),
            1,
            None,
            "out of memory",
        ),
        (
            "not JSON",
            "<html>hi</html>".to_owned(),
            1,
            None,
            "not an embeddings reply",
        ),
        (
            "an embedding that is an object",
            data(vec![one(json!(0), json!({}))]),
            1,
            None,
            "not an embeddings reply",
        ),
    ];
    for (what, body, inputs, dimensions, says) in cases {
        let err = error_for(body, inputs, dimensions).await;
        assert_eq!(err.kind(), ErrorKind::Protocol, "{what}: {err}");
        assert!(err.to_string().contains(says), "{what}: {err}");
    }
}

#[tokio::test]
async fn items_out_of_order_are_put_in_order_by_their_index() {
    let items = [(2, json!([2.0])), (0, json!([0.0])), (1, json!([1.0]))];
    let server = Server::reply(Reply::json(200, openai_body(&items, Some(3)))).await;
    let reply = openai(&server)
        .embed(EmbedRequest::new(["a", "b", "c"]))
        .await
        .unwrap();
    assert_eq!(reply.vectors, [[0.0], [1.0], [2.0]]);
    // Without indexes, the order they came in.
    let body = r#"{"data":[{"embedding":[5.0]},{"embedding":[6.0]}]}"#;
    let server = Server::reply(Reply::json(200, body)).await;
    let reply = openai(&server)
        .embed(EmbedRequest::new(["a", "b"]))
        .await
        .unwrap();
    assert_eq!(reply.vectors, [[5.0], [6.0]]);
}

#[tokio::test]
async fn a_body_past_the_cap_and_vectors_past_the_cap_are_refused() {
    let vector = vec![0.5f32; 1000];
    let body = openai_body(&[(0, json!(b64(&vector)))], Some(1));
    let server = Server::reply(Reply::json(200, body.clone())).await;
    let small = OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key("sk-x")
        .max_reply_bytes(1000)
        .build()
        .unwrap();
    let err = small.embed("a".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(
        err.to_string()
            .contains("longer than the limit of 1000 bytes"),
        "{err}"
    );

    // Each body within the cap, the vectors of all batches past it (4 bytes a number).
    let server = Server::start(|_, request| {
        let n = request.json()["input"].as_array().unwrap().len();
        let items: Vec<_> = (0..n).map(|i| (i, json!(b64(&[1.0; 100])))).collect();
        Reply::json(200, openai_body(&items, None))
    })
    .await;
    let capped = OpenAiProvider::builder()
        .base_url(format!("{}/v1", server.url()))
        .api_key("sk-x")
        .max_reply_bytes(1_500_000)
        .build()
        .unwrap();
    let inputs = vec!["x".to_owned(); 4000];
    let err = capped.embed(EmbedRequest::new(inputs)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("would hold more than"), "{err}");
}

#[tokio::test]
async fn a_page_instead_of_json_is_refused() {
    let server = Server::reply(Reply::status(200, "text/html", "<html>login</html>")).await;
    let err = openai(&server).embed("a".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("text/html"), "{err}");
}
