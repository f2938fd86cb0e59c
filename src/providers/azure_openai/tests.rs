//! The Azure dialect without I/O: the path, the key headers, the settings from the
//! environment, and the content filter's errors.

use super::*;
use crate::error::ErrorKind;
use crate::http::ErrorResponse;
use crate::kit::Dialect;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;

fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn prepared(llm: &AzureOpenAiProvider, model: &str) -> crate::kit::HttpRequest {
    llm.http
        .shared
        .prepared(&ChatRequest::new("hi"), model)
        .unwrap()
}

#[test]
fn the_deployment_and_the_api_version_are_the_path_and_the_key_a_header() {
    let llm = AzureOpenAiProvider::from_lookup(lookup(&[
        (
            "AZURE_OPENAI_ENDPOINT",
            "https://res.openai.azure.com/openai/",
        ),
        ("AZURE_OPENAI_API_KEY", "azure-secret-key-0123456789"),
    ]))
    .unwrap();
    assert_eq!(llm.base_url(), "https://res.openai.azure.com");
    let request = prepared(&llm, "my gpt/deploy");
    assert_eq!(
        request.path(),
        "/openai/deployments/my%20gpt%2Fdeploy/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(request.headers["api-key"], "azure-secret-key-0123456789");
    assert!(request.headers["api-key"].is_sensitive());
    assert!(request.headers.get("authorization").is_none());
    assert!(!format!("{llm:?}").contains("secret-key"));
    assert_eq!(llm.name(), "azure-openai");
}

#[test]
fn an_entra_id_token_is_a_bearer_token() {
    let llm = AzureOpenAiProvider::from_lookup(lookup(&[
        ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"),
        ("AZURE_OPENAI_AD_TOKEN", "eyJ-entra-token-0123456789"),
        ("AZURE_OPENAI_API_VERSION", "2025-04-01-preview"),
    ]))
    .unwrap();
    let request = prepared(&llm, "d");
    assert_eq!(
        request.headers["authorization"],
        "Bearer eyJ-entra-token-0123456789"
    );
    assert!(request.headers.get("api-key").is_none());
    assert!(request.path().ends_with("?api-version=2025-04-01-preview"));
    // Set in code, the same; and a key set after it wins.
    let llm = AzureOpenAiProvider::builder()
        .base_url("https://res.openai.azure.com")
        .ad_token("eyJ-token-in-code-0123")
        .build()
        .unwrap();
    assert!(prepared(&llm, "d").headers.contains_key("authorization"));
    let llm = AzureOpenAiProvider::builder()
        .base_url("https://res.openai.azure.com")
        .ad_token("eyJ-token-in-code-0123")
        .api_key("k-0123456789")
        .build()
        .unwrap();
    assert_eq!(prepared(&llm, "d").headers["api-key"], "k-0123456789");
}

#[test]
fn what_is_missing_or_wrong_is_named() {
    let err =
        AzureOpenAiProvider::from_lookup(lookup(&[("AZURE_OPENAI_API_KEY", "k")])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("AZURE_OPENAI_ENDPOINT"), "{err}");
    let err = AzureOpenAiProvider::from_lookup(lookup(&[(
        "AZURE_OPENAI_ENDPOINT",
        "https://res.openai.azure.com",
    )]))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("AZURE_OPENAI_API_KEY"), "{err}");
    let err = AzureOpenAiProvider::builder()
        .base_url("https://res.openai.azure.com")
        .api_key("k")
        .api_version("2024-10-21&evil=1")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("api-version"), "{err}");
}

#[test]
fn a_prompt_the_content_filter_refused_names_what_it_flagged() {
    let body = br#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":true,"detected":true},"violence":{"filtered":true,"severity":"medium"}}}}}"#;
    let failure = ErrorResponse {
        status: 400,
        retry_after: None,
        rate_limit: None,
        body: crate::http::ErrorBody::parse(body),
    };
    let llm = AzureOpenAiProvider::builder()
        .base_url("https://res.openai.azure.com")
        .api_key("k")
        .build()
        .unwrap();
    let err = llm.http.dialect().classify(failure, "d");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(text.contains("content management policy"), "{text}");
    assert!(
        text.contains("jailbreak") && text.contains("violence (medium)"),
        "{text}"
    );
    assert!(!text.contains("hate"), "{text}");
}
