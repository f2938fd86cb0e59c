//! The OpenAI-compatible clouds and local servers by name (issue 27): each is the
//! `openai` provider with its own base URL, key variable, default model and prices, and
//! reports its own name in replies and errors.

use theory_llm::pricing::Pricing;
use theory_llm::{ChatRequest, ErrorKind, LlmStreamProvider, OpenAiProvider, Registry};

use crate::support::{closed_port, transcript, Reply, Server};

const HOSTED: [&str; 8] = [
    "groq",
    "deepseek",
    "openrouter",
    "together",
    "fireworks",
    "mistral",
    "xai",
    "cerebras",
];
const LOCAL: [&str; 3] = ["vllm", "lmstudio", "llamacpp"];

#[test]
fn every_named_provider_is_in_the_registry_and_says_what_it_reads() {
    let names: Vec<&str> = OpenAiProvider::compatible_names().collect();
    assert_eq!(names, [&HOSTED[..], &LOCAL[..]].concat());
    let registry = Registry::builtin();
    for name in names {
        assert!(registry.names().contains(&name), "{name}");
        let env = registry.environment(name).unwrap();
        let upper = name.to_ascii_uppercase();
        assert!(
            env.contains(&format!("{upper}_BASE_URL (default http")),
            "{env}"
        );
        if HOSTED.contains(&name) {
            assert!(
                env.contains(&format!("{upper}_API_KEY (required unless")),
                "{env}"
            );
        } else {
            assert!(!env.contains("API_KEY"), "{env}");
        }
    }
    assert!(OpenAiProvider::compatible("nope").is_none());
}

#[tokio::test]
async fn each_reports_its_own_name_in_replies_and_errors() {
    let body = transcript("llama-server/stream_include_usage.body");
    for name in HOSTED.iter().chain(LOCAL.iter()) {
        let server = Server::reply(Reply::sse(body.clone())).await;
        let llm = OpenAiProvider::compatible(name)
            .unwrap()
            .api_key("sk-named-0123456789")
            .base_url(format!("{}/v1", server.url()))
            .build()
            .unwrap();
        assert_eq!(llm.name(), *name);
        let reply = llm.chat(ChatRequest::new("Hi")).await.unwrap();
        assert_eq!(reply.provider, *name);
        let sent = &server.requests()[0];
        assert_eq!(sent.path, "/v1/chat/completions");
        assert_eq!(
            sent.header("authorization"),
            Some("Bearer sk-named-0123456789")
        );

        let refused = OpenAiProvider::compatible(name)
            .unwrap()
            .api_key("sk-named-0123456789")
            .base_url(format!("http://127.0.0.1:{}/v1", closed_port()))
            .max_retries(0)
            .build()
            .unwrap();
        let err = refused.chat(ChatRequest::new("Hi")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert!(err.to_string().starts_with(name), "{err}");
        let upper = name.to_ascii_uppercase();
        assert!(
            err.to_string().contains(&format!("{upper}_BASE_URL")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_hosted_cloud_needs_its_key_a_local_server_none_and_prices_differ() {
    for name in HOSTED {
        let err = OpenAiProvider::compatible(name)
            .unwrap()
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{name}");
    }
    for name in LOCAL {
        let server = Server::reply(Reply::sse(transcript(
            "llama-server/stream_include_usage.body",
        )))
        .await;
        let llm = OpenAiProvider::compatible(name)
            .unwrap()
            .base_url(format!("{}/v1", server.url()))
            .build()
            .unwrap();
        let reply = llm.chat(ChatRequest::new("Hi")).await.unwrap();
        assert_eq!(reply.usage.cost_basis, Pricing::Free, "{name}");
        assert_eq!(server.requests()[0].header("authorization"), None);
        assert_eq!(server.requests()[0].json()["model"], "local");
    }
    // A hosted cloud's default model is priced from its table (OpenRouter excepted:
    // its price follows the routed model).
    for name in HOSTED {
        let server = Server::reply(Reply::sse(transcript(
            "llama-server/stream_include_usage.body",
        )))
        .await;
        let llm = OpenAiProvider::compatible(name)
            .unwrap()
            .api_key("k-0123456789")
            .base_url(format!("{}/v1", server.url()))
            .build()
            .unwrap();
        let reply = llm.chat(ChatRequest::new("Hi")).await.unwrap();
        let metered = matches!(reply.usage.cost_basis, Pricing::Metered(_));
        assert_eq!(metered, name != "openrouter", "{name}: {:?}", reply.usage);
    }
}
