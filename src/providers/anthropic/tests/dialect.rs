//! The dialect (path, headers, defaults, prices), error classification and configuration.

use super::*;

fn provider() -> AnthropicProvider {
    AnthropicProvider::builder()
        .api_key("sk-ant-very-secret")
        .build()
        .unwrap()
}

#[test]
fn requests_go_to_v1_messages_with_the_headers() {
    let p = provider();
    let http = p
        .http
        .shared
        .prepared(&ChatRequest::new("hi"), "m")
        .unwrap();
    assert_eq!(http.path(), "/v1/messages");
    let header = |name: &str| {
        http.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(header("x-api-key").as_deref(), Some("sk-ant-very-secret"));
    assert!(http.headers.get("x-api-key").unwrap().is_sensitive());
    assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(header("accept").as_deref(), Some("text/event-stream"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert!(!format!("{http:?}").contains("very-secret"));
    // A base URL ending in /v1 is not doubled: the /v1 is the path's.
    for base in [
        "https://api.anthropic.com/v1",
        "https://api.anthropic.com/v1/",
    ] {
        let p = AnthropicProvider::builder()
            .api_key("k")
            .base_url(base)
            .endpoints([
                "https://eu.example/anthropic",
                "https://us.example/anthropic/v1",
            ])
            .build()
            .unwrap();
        assert_eq!(
            p.base_urls(),
            [
                "https://api.anthropic.com",
                "https://eu.example/anthropic",
                "https://us.example/anthropic"
            ],
            "{base}"
        );
        let http = p
            .http
            .shared
            .prepared(&ChatRequest::new("hi"), "m")
            .unwrap();
        assert_eq!(http.path(), "/v1/messages", "{base}");
    }
    // A version of one's own replaces the default; no key, no x-api-key.
    let p = AnthropicProvider::builder()
        .base_url("http://127.0.0.1:1")
        .header("anthropic-version", "2099-01-01")
        .header("anthropic-beta", "feature-x")
        .build()
        .unwrap();
    let http = p
        .http
        .shared
        .prepared(&ChatRequest::new("hi"), "m")
        .unwrap();
    let versions: Vec<_> = http.headers.get_all("anthropic-version").iter().collect();
    assert_eq!(versions, vec!["2099-01-01"]);
    assert!(http.headers.get("x-api-key").is_none());
    assert_eq!(http.headers.get("anthropic-beta").unwrap(), "feature-x");
}

#[test]
fn the_default_max_tokens_is_the_builders() {
    let p = AnthropicProvider::builder()
        .api_key("k")
        .default_max_tokens(99)
        .build()
        .unwrap();
    let http = p
        .http
        .shared
        .prepared(&ChatRequest::new("hi"), "m")
        .unwrap();
    let v: Value = serde_json::from_slice(&http.body).unwrap();
    assert_eq!(v["max_tokens"], json!(99));
    let err = AnthropicProvider::builder()
        .api_key("k")
        .default_max_tokens(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn the_price_table_is_anthropics() {
    let p = provider();
    assert!(matches!(
        p.http.shared.pricing("claude-haiku-5-5"),
        crate::pricing::Pricing::Metered(_)
    ));
    assert_eq!(
        p.http.shared.pricing("smollm2"),
        crate::pricing::Pricing::Unknown
    );
    let p = AnthropicProvider::builder()
        .api_key("k")
        .price("smollm2", crate::pricing::Price::per_million_usd(1.0, 2.0))
        .build()
        .unwrap();
    assert!(matches!(
        p.http.shared.pricing("smollm2"),
        crate::pricing::Pricing::Metered(_)
    ));
}

fn failure(status: u16, body: &str) -> ErrorResponse {
    ErrorResponse {
        status,
        retry_after: None,
        rate_limit: None,
        body: ErrorBody::parse(body.as_bytes()),
    }
}

fn classified(status: u16, body: &str) -> Error {
    classify(
        failure(status, body),
        "claude-x",
        "https://api.anthropic.com",
        "/v1/messages",
    )
}

#[test]
fn http_errors_by_status_and_type() {
    let anthropic = |kind: &str, msg: &str| {
        format!(
            r#"{{"type":"error","error":{{"type":"{kind}","message":"{msg}"}},"request_id":"req_1"}}"#
        )
    };
    let err = classified(401, &anthropic("authentication_error", "invalid x-api-key"));
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("invalid x-api-key"));
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"));
    let err = classified(403, &anthropic("permission_error", "not allowed"));
    assert_eq!(err.kind(), ErrorKind::Auth);
    let err = classified(404, &anthropic("not_found_error", "model: claude-x"));
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
    assert!(err.to_string().contains("model: claude-x"), "{err}");
    let err = classified(
        404,
        r#"{"error":{"message":"File Not Found","type":"not_found_error","code":404}}"#,
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("https://api.anthropic.com/v1/messages does not exist"),
        "{err}"
    );
    let mut limited = failure(
        429,
        &anthropic(
            "rate_limit_error",
            "Number of requests has exceeded your rate limit",
        ),
    );
    limited.retry_after = Some(Duration::from_secs(7));
    let err = classify(limited, "m", "b", "/v1/messages");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    let err = classified(529, &anthropic("overloaded_error", "Overloaded"));
    assert_eq!((err.kind(), err.is_retryable()), (ErrorKind::Server, true));
    assert!(err.to_string().contains("Overloaded"));
    let err = classified(500, &anthropic("api_error", "Internal server error"));
    assert_eq!((err.kind(), err.is_retryable()), (ErrorKind::Server, true));
    let err = classified(
        400,
        &anthropic("invalid_request_error", "max_tokens: Field required"),
    );
    assert_eq!(
        (err.kind(), err.is_retryable()),
        (ErrorKind::InvalidRequest, false)
    );
    assert!(err.to_string().contains("max_tokens: Field required"));
    let err = classified(
        413,
        &anthropic("request_too_large", "Request exceeds the maximum size"),
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = classified(413, "<html>413 Request Entity Too Large</html>");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    // llama.cpp's shape.
    let err = classified(
        400,
        &String::from_utf8(body("context_exceeded_stream.body")).unwrap(),
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("exceeds the available context size (1024 tokens)"),
        "{err}"
    );
    let err = classified(
        400,
        &String::from_utf8(body("malformed_json.body")).unwrap(),
    );
    assert!(err.to_string().contains("parse error"), "{err}");
    assert!(err.to_string().starts_with("anthropic "), "{err}");
}

fn from_lookup(pairs: &'static [(&'static str, &'static str)]) -> Result<AnthropicProvider> {
    AnthropicProvider::builder_from_lookup(move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .build()
}

#[test]
fn env_config() {
    let err = from_lookup(&[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
    let p = from_lookup(&[("ANTHROPIC_API_KEY", "k")]).unwrap();
    assert_eq!(p.base_url(), "https://api.anthropic.com");
    assert_eq!(p.default_model(), "claude-haiku-5-5");
    let p = from_lookup(&[
        ("ANTHROPIC_API_KEY", " "),
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:18080/"),
    ])
    .unwrap();
    assert_eq!(p.base_url(), "http://127.0.0.1:18080");
    let err = from_lookup(&[
        ("ANTHROPIC_API_KEY", "k"),
        ("ANTHROPIC_BASE_URL", "localhost:8080"),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("ANTHROPIC_BASE_URL"), "{err}");
    let err = from_lookup(&[("ANTHROPIC_BASE_URL", "https://gateway.example")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
    // Not from the environment: a plain invalid request.
    let err = AnthropicProvider::builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        AnthropicProvider::new(" ").unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
}

#[test]
fn debug_never_shows_secrets() {
    let p = AnthropicProvider::builder()
        .api_key("sk-ant-very-secret")
        .header("anthropic-beta", "beta-secret-value")
        .build()
        .unwrap();
    let dbg = format!("{p:?}");
    assert!(
        !dbg.contains("very-secret") && !dbg.contains("beta-secret-value"),
        "{dbg}"
    );
    assert!(
        dbg.contains("anthropic-beta") && dbg.contains("4096"),
        "{dbg}"
    );
    let b = AnthropicProvider::builder().api_key("sk-ant-very-secret");
    assert!(!format!("{b:?}").contains("very-secret"));
    assert!(!format!("{:?}", p.http.dialect()).contains("very-secret"));
}

#[test]
fn builder_errors_name_the_header() {
    let err = AnthropicProvider::builder()
        .api_key("k")
        .header("bad header", "v")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("bad header"));
    let p = AnthropicProvider::builder()
        .api_key("bad\nkey")
        .build()
        .unwrap();
    let err = p
        .http
        .shared
        .prepared(&ChatRequest::new("hi"), "m")
        .unwrap_err();
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
}

#[test]
fn roles_are_what_the_api_names() {
    // Role::Tool becomes a user turn, Role::System the top-level system.
    let req = ChatRequest::default().messages([Message::new(Role::Tool, "r")]);
    let mut req = req;
    req.messages[0].tool_call_id = Some("t".into());
    assert_eq!(body_of(&req)["messages"][0]["role"], json!("user"));
}
