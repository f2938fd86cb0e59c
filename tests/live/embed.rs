//! Embeddings against real servers: llama.cpp's `/v1/embeddings` (SmolLM2 with
//! embeddings on, mean pooling) and the Ollama shim's `/api/embed` in front of it.

use theory_llm::embed::{EmbedRequest, Embedder};
use theory_llm::pricing::Pricing;
use theory_llm::{ErrorKind, LlmStreamProvider, OllamaProvider, OpenAiProvider};

use crate::env;

fn embed_model() -> String {
    std::env::var("THEORY_LLM_LIVE_EMBED_MODEL").unwrap_or_else(|_| "smollm2-embed".into())
}

fn embedder() -> OpenAiProvider {
    OpenAiProvider::builder()
        .api_key("none")
        .base_url(env("OPENAI_EMBED_BASE_URL"))
        .default_embedding_model(embed_model())
        .build()
        .unwrap()
}

/// How alike two vectors of one text must be. Not 1: llama.cpp's vector for a text
/// moves with what else shares its batch, by a cosine of 0.93 when these tests ran at
/// once; one at a time (`one_at_a_time`), it stays above 0.999.
const SAME_TEXT: f32 = 0.99;

/// The embedding server, for one test at a time: requests of other tests in the same
/// batch move a text's vector (see `SAME_TEXT`).
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERVER: std::sync::LazyLock<tokio::sync::Mutex<()>> =
        std::sync::LazyLock::new(Default::default);
    SERVER.lock().await
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

const TEXTS: [&str; 3] = [
    "The cat sat on the mat.",
    "Quarterly revenue grew by four percent.",
    "Répète: « café 🦀 中文 »",
];

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn llama_cpp_embeds_in_base64_the_same_floats_it_sends_as_numbers() {
    let _server = one_at_a_time().await;
    let llm = embedder();
    let reply = llm.embed(EmbedRequest::new(TEXTS)).await.unwrap();
    assert_eq!(reply.vectors.len(), 3);
    assert_eq!(reply.dimensions(), 576, "SmolLM2-135M's width");
    assert_eq!(reply.model, embed_model());
    assert!(!reply.usage.tokens_estimated, "llama.cpp reports usage");
    assert!(reply.usage.tokens_in >= 3);
    assert_eq!(reply.usage.cost_basis, Pricing::Unknown);
    for vector in &reply.vectors {
        let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-3,
            "normalized by the server: {norm}"
        );
    }
    // Each text alone, asked in base64 by the crate and in numbers by hand: the same
    // floats, little-endian. (Alone, because llama.cpp's vectors move a little with
    // what shares a batch with them.)
    for text in TEXTS {
        let decoded = llm.embed(EmbedRequest::from(text)).await.unwrap();
        let body = serde_json::json!({"model": embed_model(), "input": [text]});
        let bytes = reqwest::Client::new()
            .post(format!("{}/embeddings", env("OPENAI_EMBED_BASE_URL")))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let floats: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let numbers: Vec<f32> = floats["data"][0]["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let similarity = cosine(&numbers, &decoded.vectors[0]);
        assert!(similarity > SAME_TEXT, "{text}: cosine {similarity}");
    }
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn vectors_come_back_in_input_order_and_the_same_text_gives_the_same_vector() {
    let _server = one_at_a_time().await;
    let llm = embedder();
    let inputs: Vec<String> = (0..10)
        .map(|i| format!("sentence number {i} about {}", ["cats", "taxes"][i % 2]))
        .collect();
    let all = llm.embed(EmbedRequest::new(inputs.clone())).await.unwrap();
    for i in [0, 5, 9] {
        let alone = llm
            .embed(EmbedRequest::from(inputs[i].as_str()))
            .await
            .unwrap();
        let similarity = cosine(&alone.vectors[0], &all.vectors[i]);
        assert!(similarity > SAME_TEXT, "input {i}: cosine {similarity}");
        for j in [0, 5, 9].into_iter().filter(|j| *j != i) {
            assert!(
                cosine(&alone.vectors[0], &all.vectors[j]) < similarity,
                "{i} vs {j}"
            );
        }
    }
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn what_the_server_cannot_do_is_a_clear_error() {
    // llama.cpp does not shorten its vectors: asked for 64, it sends 576.
    let err = embedder()
        .embed(EmbedRequest::from("hi").dimensions(64))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(
        err.to_string()
            .contains("576 dimensions where 64 were asked for"),
        "{err}"
    );
    // The chat server has no embeddings on: its 501 says how to start it.
    let chat = OpenAiProvider::builder()
        .api_key("none")
        .base_url(env("OPENAI_BASE_URL"))
        .build()
        .unwrap();
    let err = chat
        .embed(EmbedRequest::from("hi").model(embed_model()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(501), "{err}");
    assert!(err.to_string().contains("--embeddings"), "{err}");
}

#[tokio::test]
#[ignore = "live: start scripts/realservers.sh and set THEORY_LLM_LIVE=1"]
async fn the_ollama_shim_embeds_through_api_embed() {
    let _server = one_at_a_time().await;
    let llm = OllamaProvider::builder()
        .host(env("OLLAMA_HOST"))
        .build()
        .unwrap();
    // The shim sends "local/" models to the embeddings server.
    let model = format!("local/{}", embed_model());
    let reply = llm
        .embedder()
        .unwrap()
        .embed(EmbedRequest::new(TEXTS).model(model.as_str()))
        .await
        .unwrap();
    assert_eq!(reply.vectors.len(), 3);
    assert_eq!(reply.dimensions(), 576);
    assert_eq!(reply.model, model);
    assert_eq!(reply.usage.cost_basis, Pricing::Free);
    // The shim embeds one text at a time: so does this. Each vector is its own text's,
    // and closer to it than to the others.
    let mut direct = Vec::new();
    for text in TEXTS {
        direct.push(
            embedder()
                .embed(EmbedRequest::from(text))
                .await
                .unwrap()
                .vectors[0]
                .clone(),
        );
    }
    for (i, vector) in reply.vectors.iter().enumerate() {
        let similarity = cosine(vector, &direct[i]);
        assert!(similarity > SAME_TEXT, "{}: cosine {similarity}", TEXTS[i]);
        for (j, other) in direct.iter().enumerate().filter(|(j, _)| *j != i) {
            assert!(cosine(vector, other) < similarity, "{i} vs {j}");
        }
    }
}
