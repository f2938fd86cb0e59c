//! Error responses: the body read and parsed in every shape seen in the wild, the
//! status mapped to a kind, and the error that keeps the server's words.

use std::time::Duration;

use tokio::time::Instant;

use crate::duration::fmt_duration;
use crate::error::{excerpt, Error, ErrorKind, Result};

use super::headers::{rate_limit, retry_after};
use crate::rate_limit::RateLimit;

/// How much of an error body is read to find the server's message.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// What a server said in an error response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    /// The server's message, or an excerpt of a non-JSON body.
    pub(crate) message: String,
    /// `error.code` (string or number, as a string).
    pub(crate) code: Option<String>,
    /// `error.type`; else the error type an AWS service names in its `x-amzn-errortype`
    /// header (`ValidationException`).
    pub(crate) kind: Option<String>,
    /// `error.param`.
    pub(crate) param: Option<String>,
    /// The `error` object as sent, for a dialect that reads more of it than the fields
    /// above (Gemini: `status`, and `details` with the retry delay).
    pub(crate) json: Option<Box<serde_json::Value>>,
}

impl ErrorBody {
    /// Parses the error bodies seen in the wild: `{"error":{"message","type","param","code"}}`
    /// (OpenAI: code a string or null; llama.cpp: code a number), `{"error":"..."}`
    /// (Ollama), `{"detail": ...}` (FastAPI), `{"message": ...}`, and plain text or HTML
    /// (kept as a short excerpt).
    pub(crate) fn parse(body: &[u8]) -> ErrorBody {
        let text = String::from_utf8_lossy(body);
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ErrorBody {
                message: excerpt(&text, 300),
                ..ErrorBody::default()
            };
        };
        ErrorBody::from_json(&value).unwrap_or_else(|| ErrorBody {
            message: excerpt(&text, 300),
            ..ErrorBody::default()
        })
    }

    /// The message of a JSON error value, if it has one.
    pub(crate) fn from_json(value: &serde_json::Value) -> Option<ErrorBody> {
        use serde_json::Value;
        let as_string = |v: Option<&Value>| match v {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match value {
            Value::Object(map) => {
                if let Some(err) = map.get("error") {
                    return match err {
                        Value::Object(e) => Some(ErrorBody {
                            message: as_string(e.get("message"))
                                .unwrap_or_else(|| excerpt(&err.to_string(), 300)),
                            code: as_string(e.get("code")),
                            kind: as_string(e.get("type")),
                            param: as_string(e.get("param")),
                            json: Some(Box::new(err.clone())),
                        }),
                        Value::String(s) => Some(ErrorBody {
                            message: s.clone(),
                            ..ErrorBody::default()
                        }),
                        Value::Null => None,
                        other => Some(ErrorBody {
                            message: excerpt(&other.to_string(), 300),
                            ..ErrorBody::default()
                        }),
                    };
                }
                if let Some(detail) = map.get("detail") {
                    let message = match detail {
                        Value::String(s) => s.clone(),
                        // FastAPI validation errors: [{"loc": [...], "msg": "...", ...}]
                        Value::Array(items) => items
                            .iter()
                            .map(|i| match (i.get("msg"), i.get("loc")) {
                                // Where it was, as a path: `body.toolConfig: …`.
                                (Some(Value::String(m)), Some(Value::Array(loc))) => {
                                    let path: Vec<String> = loc
                                        .iter()
                                        .map(|p| match p {
                                            Value::String(s) => s.clone(),
                                            other => other.to_string(),
                                        })
                                        .collect();
                                    format!("{}: {m}", path.join("."))
                                }
                                (Some(Value::String(m)), _) => m.clone(),
                                _ => i.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                        other => other.to_string(),
                    };
                    return Some(ErrorBody {
                        message: excerpt(&message, 500),
                        ..ErrorBody::default()
                    });
                }
                as_string(map.get("message")).map(|message| ErrorBody {
                    message,
                    code: as_string(map.get("code")),
                    kind: as_string(map.get("type")),
                    ..ErrorBody::default()
                })
            }
            Value::String(s) => Some(ErrorBody {
                message: s.clone(),
                ..ErrorBody::default()
            }),
            _ => None,
        }
    }
}

/// The default kind for an HTTP error status (providers refine 404 and 429): 401 and
/// 403 are `auth`, 408 `timeout`, 429 `rate_limited`, other 4xx `invalid_request`, the
/// rest `server`.
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::Server,
    }
}

/// A non-2xx response, read: the status, `Retry-After`, and what the body said. A
/// [`Dialect`](crate::kit::Dialect) turns it into an [`Error`].
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) body: ErrorBody,
}

impl ErrorResponse {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The rate limits the response reported, if it did.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }

    /// How long the server asked to wait (`retry-after-ms`, `Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The server's message (`error.message`, `error` as a string, `detail`,
    /// `message`), or a short excerpt of a body that is not JSON.
    pub fn message(&self) -> &str {
        &self.body.message
    }

    /// `error.code`, as a string (OpenAI sends a string, llama.cpp a number).
    pub fn code(&self) -> Option<&str> {
        self.body.code.as_deref()
    }

    /// `error.type`, or the error type an AWS service names in its `x-amzn-errortype`
    /// header.
    pub fn error_type(&self) -> Option<&str> {
        self.body.kind.as_deref()
    }

    /// `error.param`.
    pub fn param(&self) -> Option<&str> {
        self.body.param.as_deref()
    }

    /// The error a status means by default: [`kind_for_status`], with advice for the
    /// kind, keeping the server's words.
    pub fn into_default_error(self, provider: &str) -> Error {
        let kind = kind_for_status(self.status);
        self.into_error(provider, kind, advice_for(kind))
    }

    /// Reads up to 64 KiB of the body of a non-2xx response, until `read_by`.
    pub(crate) async fn read(
        mut response: reqwest::Response,
        read_by: Instant,
        body_error: impl FnOnce(reqwest::Error) -> Error,
    ) -> Result<ErrorResponse> {
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let rate_limit = rate_limit(response.headers());
        let aws_error_type = aws_error_type(response.headers());
        let mut body = Vec::new();
        let read = async {
            loop {
                match response.chunk().await {
                    Ok(Some(bytes)) => {
                        let room = MAX_ERROR_BODY_BYTES - body.len();
                        body.extend_from_slice(&bytes[..bytes.len().min(room)]);
                        if body.len() >= MAX_ERROR_BODY_BYTES {
                            return Ok(());
                        }
                    }
                    Ok(None) => return Ok(()),
                    // The status is what matters; a body cut short still has its start.
                    Err(_) if !body.is_empty() => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        };
        let waited_since = Instant::now();
        let stalled = match tokio::time::timeout_at(read_by, read).await {
            Ok(Ok(())) => false,
            Ok(Err(e)) => {
                return Err(body_error(e)
                    .context(&format!("HTTP {status} and then: "))
                    .with_status(status))
            }
            Err(_elapsed) => true,
        };
        let mut parsed = ErrorBody::parse(&body);
        if parsed.kind.is_none() {
            parsed.kind = aws_error_type;
        }
        if stalled && body.is_empty() {
            parsed.message = format!(
                "(its body did not arrive within {})",
                fmt_duration(read_by.saturating_duration_since(waited_since))
            );
        } else if parsed.message.is_empty() {
            parsed.message = "(empty body)".to_owned();
        }
        Ok(ErrorResponse {
            status,
            retry_after,
            rate_limit,
            body: parsed,
        })
    }

    /// The error: `"<provider> <what> (HTTP <status>): <server message>. <advice>"`,
    /// with the status and `Retry-After` attached, retryable for 408, 429, 500, 502,
    /// 503 and 504 when `kind` is one that can pass.
    pub fn into_error(self, provider: &str, kind: ErrorKind, advice: &str) -> Error {
        let what = match kind {
            ErrorKind::Auth => "refused the credentials",
            ErrorKind::RateLimited => "is rate limiting",
            ErrorKind::InvalidRequest => "rejected the request",
            ErrorKind::ModelNotFound => "does not know the model",
            ErrorKind::Timeout => "timed out",
            ErrorKind::ProviderUnavailable => "is unavailable",
            _ => "failed",
        };
        let server_words = self.body.message.trim_end_matches('.');
        let mut message = format!("{provider} {what} (HTTP {}): {server_words}", self.status);
        if let Some(delay) = self.retry_after {
            message.push_str(&format!(
                " (the server asks to retry after {})",
                fmt_duration(delay)
            ));
        }
        if !advice.is_empty() {
            message.push_str(". ");
            message.push_str(advice);
        }
        let retryable = matches!(self.status, 408 | 429 | 500 | 502 | 503 | 504)
            && matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Timeout
            );
        let mut err = Error::new(kind, message)
            .with_status(self.status)
            .with_retryable(retryable);
        if let Some(delay) = self.retry_after {
            err = err.with_retry_after(delay);
        }
        if let Some(limits) = self.rate_limit {
            err = err.with_rate_limit(limits);
        }
        err
    }
}

/// The error type of an AWS service's `x-amzn-errortype` header:
/// `ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/` is
/// `ValidationException`.
fn aws_error_type(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let value = headers.get("x-amzn-errortype")?.to_str().ok()?;
    let name = value.split(':').next()?.trim();
    (!name.is_empty()).then(|| excerpt(name, 100))
}

/// Default advice for a kind of HTTP failure.
pub(crate) fn advice_for(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "Check the API key and its permissions",
        ErrorKind::RateLimited => "Wait and retry, or check your plan's limits",
        ErrorKind::InvalidRequest => "Fix the request and send it again",
        ErrorKind::Server => "This is the server's fault; retry later",
        ErrorKind::Timeout => "Retry the request",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_every_shape() {
        let openai = br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let b = ErrorBody::parse(openai);
        assert_eq!(b.message, "Incorrect API key");
        assert_eq!(b.code.as_deref(), Some("invalid_api_key"));
        assert_eq!(b.param, None);

        let llama = br#"{"error":{"code":400,"message":"request (2531 tokens) exceeds the available context size (1024 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":2531,"n_ctx":1024}}"#;
        let b = ErrorBody::parse(llama);
        assert!(b.message.starts_with("request (2531 tokens)"));
        assert_eq!(b.code.as_deref(), Some("400"));
        assert_eq!(b.kind.as_deref(), Some("exceed_context_size_error"));

        assert_eq!(
            ErrorBody::parse(br#"{"error":"model 'x' not found"}"#).message,
            "model 'x' not found"
        );
        assert_eq!(
            ErrorBody::parse(br#"{"detail":"Not authenticated"}"#).message,
            "Not authenticated"
        );
        assert_eq!(
            ErrorBody::parse(
                br#"{"detail":[{"loc":["body","model"],"msg":"field required"},{"msg":"bad"}]}"#
            )
            .message,
            "body.model: field required; bad"
        );
        assert_eq!(
            ErrorBody::parse(br#"{"message":"Bad gateway"}"#).message,
            "Bad gateway"
        );
        let html = ErrorBody::parse(b"<html>\n<body><h1>502 Bad Gateway</h1></body>\n</html>");
        assert_eq!(
            html.message,
            "<html> <body><h1>502 Bad Gateway</h1></body> </html>"
        );
        assert_eq!(
            ErrorBody::parse(b"Internal Server Error").message,
            "Internal Server Error"
        );
        assert_eq!(ErrorBody::parse(b"").message, "");
        assert_eq!(
            ErrorBody::parse(br#"{"unrelated":1}"#).message,
            r#"{"unrelated":1}"#
        );
        assert_eq!(ErrorBody::parse(&[0xff, 0xfe]).message, "\u{fffd}\u{fffd}");
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind_for_status(401), ErrorKind::Auth);
        assert_eq!(kind_for_status(403), ErrorKind::Auth);
        assert_eq!(kind_for_status(400), ErrorKind::InvalidRequest);
        assert_eq!(kind_for_status(422), ErrorKind::InvalidRequest);
        assert_eq!(kind_for_status(429), ErrorKind::RateLimited);
        assert_eq!(kind_for_status(500), ErrorKind::Server);
        assert_eq!(kind_for_status(503), ErrorKind::Server);
    }
}
