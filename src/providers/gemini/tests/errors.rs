//! Failure statuses with Google's error bodies: kinds by canonical status, the server's
//! words kept, `RetryInfo.retryDelay` honoured as `Retry-After`.

use std::time::Duration;

use super::*;
use crate::http::{ErrorBody, ErrorResponse};

fn failure(status: u16, body: &[u8]) -> ErrorResponse {
    ErrorResponse {
        status,
        retry_after: None,
        rate_limit: None,
        body: ErrorBody::parse(body),
    }
}

fn classify(status: u16, body: &[u8]) -> Error {
    super::super::errors::classify(failure(status, body), "gemini-9-ultra")
}

#[test]
fn each_status_is_its_kind_in_the_servers_words() {
    for (file, status, kind, words) in [
        (
            "error_404_model.json",
            404,
            ErrorKind::ModelNotFound,
            "models/gemini-9-ultra is not found for API version v1beta",
        ),
        (
            "error_429_retry.json",
            429,
            ErrorKind::RateLimited,
            "You exceeded your current quota",
        ),
        (
            "error_400_api_key_invalid.json",
            400,
            ErrorKind::Auth,
            "API key not valid",
        ),
        (
            "error_403_permission_denied.json",
            403,
            ErrorKind::Auth,
            "Method doesn't allow unregistered callers",
        ),
        (
            "error_400_invalid_argument.json",
            400,
            ErrorKind::InvalidRequest,
            "contents is not specified",
        ),
        (
            "error_503_unavailable.json",
            503,
            ErrorKind::Server,
            "The model is overloaded",
        ),
        (
            "error_500_internal.json",
            500,
            ErrorKind::Server,
            "An internal error has occurred",
        ),
    ] {
        let err = classify(status, &transcript(file));
        assert_eq!(
            (err.kind(), err.status()),
            (kind, Some(status)),
            "{file}: {err}"
        );
        assert!(err.to_string().contains(words), "{file}: {err}");
        assert!(err.to_string().starts_with("gemini "), "{file}: {err}");
    }
}

#[test]
fn the_canonical_status_decides_over_the_http_status() {
    let body = |status: &str| {
        format!(r#"{{"error": {{"code": 400, "message": "words", "status": "{status}"}}}}"#)
    };
    for (status, kind) in [
        ("UNAUTHENTICATED", ErrorKind::Auth),
        ("PERMISSION_DENIED", ErrorKind::Auth),
        ("NOT_FOUND", ErrorKind::ModelNotFound),
        ("RESOURCE_EXHAUSTED", ErrorKind::RateLimited),
        ("FAILED_PRECONDITION", ErrorKind::InvalidRequest),
        ("UNAVAILABLE", ErrorKind::Server),
        ("INTERNAL", ErrorKind::Server),
    ] {
        let err = classify(400, body(status).as_bytes());
        assert_eq!(err.kind(), kind, "{status}");
        assert!(err.to_string().contains(&format!("({status})")), "{err}");
    }
    // The model is named in the advice.
    let err = classify(404, &transcript("error_404_model.json"));
    assert!(err.to_string().contains("'gemini-9-ultra'"), "{err}");
}

#[test]
fn a_404_that_is_not_about_a_model_is_the_base_url() {
    let err = classify(404, b"<html><body>Not Found</body></html>");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("base URL"), "{err}");
    // api-for-gemini's own 404 names the model.
    let err = classify(404, br#"{"detail": "Model not found"}"#);
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
}

#[test]
fn retry_delay_is_honoured_as_retry_after() {
    let err = classify(429, &transcript("error_429_retry.json"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(17)));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("retry after 17 s"), "{err}");
    // A Retry-After header wins over the body.
    let mut with_header = failure(429, &transcript("error_429_retry.json"));
    with_header.retry_after = Some(Duration::from_secs(3));
    let err = super::super::errors::classify(with_header, "m");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    for (delay, want) in [
        ("1.5s", Some(Duration::from_millis(1500))),
        ("0s", Some(Duration::ZERO)),
        (" 2s ", Some(Duration::from_secs(2))),
        ("1e30s", Some(crate::duration::UNREASONABLE_WAIT)),
        ("-4s", Some(crate::duration::UNREASONABLE_WAIT)),
        ("17", None),
        ("soon", None),
        ("s", None),
    ] {
        let body = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "m",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}});
        let err = classify(429, body.to_string().as_bytes());
        assert_eq!(err.retry_after(), want, "{delay:?}");
    }
    // A delay given as something other than a string is ignored.
    let body = json!({"error": {"status": "RESOURCE_EXHAUSTED", "message": "m",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": 17}]}});
    assert_eq!(
        classify(429, body.to_string().as_bytes()).retry_after(),
        None
    );
}

#[test]
fn bodies_that_are_not_googles_fall_back_to_the_http_status() {
    let err = classify(429, b"Too Many Requests");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let err = classify(401, b"");
    assert_eq!(err.kind(), ErrorKind::Auth);
    let err = classify(500, b"Internal Server Error");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.is_retryable());
    let err = classify(
        422,
        br#"{"detail":[{"type":"extra_forbidden","loc":["body","toolConfig"],"msg":"Extra inputs are not permitted"}]}"#,
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string().contains("Extra inputs are not permitted"),
        "{err}"
    );
}
