//! Embeddings of `ollama` (`/api/embed`), `gemini` (`batchEmbedContents`),
//! `azure-openai` (deployments) and `mock` over loopback or offline; and the providers
//! that have none.

use serde_json::json;
use theory_llm::azure_openai::AzureOpenAiProvider;
use theory_llm::embed::{EmbedRequest, Embedder};
use theory_llm::gemini::GeminiProvider;
use theory_llm::pricing::Pricing;
use theory_llm::routing::FallbackProvider;
use theory_llm::{
    get_llm_provider, AnthropicProvider, ErrorKind, LlmStreamProvider, MockProvider,
    OllamaProvider, OpenAiResponsesProvider,
};

use super::{fast_retries, openai_body};
use crate::support::{Reply, Server};

#[tokio::test]
async fn ollama_embeds_through_api_embed_with_its_token_count_for_free() {
    let server = Server::start(|_, request| {
        let n = request.json()["input"].as_array().unwrap().len();
        let vectors: Vec<_> = (0..n).map(|i| vec![i as f32, 0.5]).collect();
        Reply::json(
            200,
            json!({"model": "all-minilm", "embeddings": vectors, "total_duration": 14143917,
                   "load_duration": 1019500, "prompt_eval_count": n * 3})
            .to_string(),
        )
    })
    .await;
    let llm = OllamaProvider::builder()
        .host(server.url())
        .keep_alive(theory_llm::ollama::KeepAlive::Forever)
        .option("num_ctx", 512)
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    assert_eq!(llm.default_embedding_model(), "nomic-embed-text");
    let inputs: Vec<String> = (0..600).map(|i| format!("text {i}")).collect();
    let reply = llm
        .embedder()
        .unwrap()
        .embed(EmbedRequest::new(inputs).model("all-minilm").dimensions(2))
        .await
        .unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 2, "batches of 512");
    assert_eq!(sent[0].path, "/api/embed");
    let body = sent[0].json();
    assert_eq!(body["model"], "all-minilm");
    assert_eq!(body["input"].as_array().unwrap().len(), 512);
    assert_eq!(body["input"][0], "text 0");
    assert_eq!(
        (body["dimensions"].clone(), body["keep_alive"].clone()),
        (json!(2), json!(-1))
    );
    assert_eq!(body["options"], json!({"num_ctx": 512}));
    assert_eq!(sent[1].json()["input"][0], "text 512");
    assert_eq!(reply.vectors.len(), 600);
    assert_eq!(
        reply.vectors[599],
        [87.0, 0.5],
        "the second batch's 88th (600 - 512 - 1)"
    );
    assert_eq!(reply.usage.tokens_in, 1800);
    assert!(!reply.usage.tokens_estimated);
    assert_eq!(reply.usage.cost_basis, Pricing::Free);
    assert_eq!(reply.model, "all-minilm");
}

#[tokio::test]
async fn ollama_says_how_to_pull_a_missing_embedding_model() {
    let server = Server::reply(Reply::json(
        404,
        r#"{"error":"model \"nomic-embed-text\" not found, try pulling it first"}"#,
    ))
    .await;
    let llm = OllamaProvider::builder()
        .host(server.url())
        .build()
        .unwrap();
    let err = llm.embed("hi".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
    assert!(
        err.to_string().contains("ollama pull nomic-embed-text"),
        "{err}"
    );
}

const GEMINI_KEY: &str = "AIzaSy-test-0123456789abcdefghij";

fn gemini(server: &Server) -> GeminiProvider {
    GeminiProvider::builder()
        .base_url(server.url())
        .api_key(GEMINI_KEY)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn gemini_embeds_in_batches_of_100_in_order_with_tokens_estimated_and_priced() {
    let server = Server::start(|_, request| {
        let requests = request.json()["requests"].as_array().unwrap().clone();
        let embeddings: Vec<_> = requests
            .iter()
            .map(|r| {
                let text = r["content"]["parts"][0]["text"].as_str().unwrap();
                let i: f32 = text[1..].parse().unwrap();
                json!({"values": [i, 1.0, 2.0]})
            })
            .collect();
        Reply::json(200, json!({"embeddings": embeddings}).to_string())
    })
    .await;
    let llm = gemini(&server);
    assert_eq!(llm.default_embedding_model(), "gemini-embedding-001");
    let inputs: Vec<String> = (0..250).map(|i| format!("t{i}")).collect();
    let reply = llm
        .embed(EmbedRequest::new(inputs).dimensions(3))
        .await
        .unwrap();
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[0].path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(sent[0].header("x-goog-api-key"), Some(GEMINI_KEY));
    assert!(!sent[0].path.contains(GEMINI_KEY));
    let first = &sent[0].json()["requests"][0];
    assert_eq!(
        *first,
        json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "t0"}]},
               "outputDimensionality": 3})
    );
    let sizes: Vec<usize> = sent
        .iter()
        .map(|r| r.json()["requests"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    for (i, vector) in reply.vectors.iter().enumerate() {
        assert_eq!(vector[0], i as f32);
    }
    assert!(
        reply.usage.tokens_estimated,
        "the Gemini API reports no tokens"
    );
    assert_eq!(reply.usage.tokens_in, 250);
    assert!(matches!(reply.usage.cost_basis, Pricing::Metered(_)));
    assert_eq!(reply.model, "gemini-embedding-001");
}

#[tokio::test]
async fn gemini_reads_usage_metadata_where_a_server_sends_it_and_its_errors() {
    let server = Server::reply(Reply::json(
        200,
        r#"{"embeddings":[{"values":[1,2]}],"usageMetadata":{"promptTokenCount":7}}"#,
    ))
    .await;
    let reply = gemini(&server)
        .embed(EmbedRequest::from("t").model("models/gemini-embedding-2"))
        .await
        .unwrap();
    assert_eq!(reply.usage.tokens_in, 7);
    assert!(!reply.usage.tokens_estimated);
    assert_eq!(
        server.requests()[0].path,
        "/v1beta/models/gemini-embedding-2:batchEmbedContents"
    );

    let server = Server::reply(Reply::json(
        400,
        r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#,
    ))
    .await;
    let err = gemini(&server).embed("t".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");

    let server = Server::reply(Reply::json(200, r#"{"embeddings":[{"values":[1]}]}"#)).await;
    let err = gemini(&server)
        .embed(EmbedRequest::new(["a", "b"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(
        err.to_string().contains("1 embeddings for 2 inputs"),
        "{err}"
    );
}

#[tokio::test]
async fn azure_embeds_from_a_deployment_with_its_api_version_and_key_header() {
    const KEY: &str = "azure-test-key-0123456789abcdef";
    let server = Server::reply(Reply::json(200, openai_body(&[(0, json!([0.5]))], Some(2)))).await;
    let llm = AzureOpenAiProvider::builder()
        .base_url(server.url())
        .api_key(KEY)
        .build()
        .unwrap();
    let reply = llm
        .embed(EmbedRequest::from("t").model("my-embedding-deployment"))
        .await
        .unwrap();
    assert_eq!(reply.vectors, [[0.5]]);
    let sent = &server.requests()[0];
    assert_eq!(
        sent.path,
        "/openai/deployments/my-embedding-deployment/embeddings?api-version=2024-10-21"
    );
    assert_eq!(sent.header("api-key"), Some(KEY));
    assert_eq!(sent.json()["encoding_format"], "base64");
}

#[tokio::test]
async fn the_mock_embeds_deterministically_offline() {
    let llm = get_llm_provider("mock").unwrap();
    let embedder = llm.embedder().unwrap();
    assert_eq!(embedder.default_embedding_model(), "mock-embed");
    let a = embedder
        .embed(EmbedRequest::new(["a cat", "a dog", "a cat"]))
        .await
        .unwrap();
    assert_eq!(a.provider, "mock");
    assert_eq!(a.model, "mock-embed");
    assert_eq!(a.dimensions(), 16);
    assert_eq!(a.vectors[0], a.vectors[2]);
    assert_ne!(a.vectors[0], a.vectors[1]);
    assert_eq!(a.usage.cost_basis, Pricing::Free);
    assert!(!a.usage.tokens_estimated);
    assert_eq!(a.usage.tokens_in, 6);
    let again = embedder.embed(EmbedRequest::from("a cat")).await.unwrap();
    assert_eq!(again.vectors[0], a.vectors[0], "the same on every call");
    let short = embedder
        .embed(EmbedRequest::from("a cat").dimensions(4))
        .await
        .unwrap();
    assert_eq!(short.dimensions(), 4);

    let scripted = MockProvider::builder()
        .embedding_dimensions(3)
        .report_usage(false)
        .build();
    let reply = scripted.embed("x".into()).await.unwrap();
    assert_eq!(reply.dimensions(), 3);
    assert!(reply.usage.tokens_estimated);
    let failing = MockProvider::builder()
        .fail_after(0, ErrorKind::RateLimited, "scripted")
        .build();
    assert_eq!(
        failing.embed("x".into()).await.unwrap_err().kind(),
        ErrorKind::RateLimited
    );
    let err = MockProvider::new()
        .embed(EmbedRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn providers_without_embeddings_say_so_before_sending() {
    let server = Server::reply(Reply::json(200, "{}")).await;
    let anthropic = AnthropicProvider::builder()
        .base_url(server.url())
        .api_key("sk-ant-example")
        .build()
        .unwrap();
    let err = anthropic.embedder().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().contains("anthropic has no embeddings"),
        "{err}"
    );
    // Asked directly, the same, and nothing is sent.
    let err = anthropic.embed("t".into()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(anthropic.default_embedding_model(), "");
    let responses = OpenAiResponsesProvider::builder()
        .base_url(server.url())
        .api_key("sk-example")
        .build()
        .unwrap();
    assert!(responses.embedder().is_err());
    assert!(server.requests().is_empty());
    // Boxed, through the registry, and a fallback chain (which does not choose a member
    // for embeddings).
    let boxed: Box<dyn LlmStreamProvider> = Box::new(anthropic);
    assert_eq!(
        boxed.embedder().unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    let chain = FallbackProvider::builder()
        .entry(MockProvider::new(), None)
        .build()
        .unwrap();
    assert_eq!(
        chain.embedder().unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
}
