//! The HTTP client the providers build: for streaming, no redirects, no proxy for
//! loopback servers.

use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// Default time to establish a TCP (and TLS) connection.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for streaming: a connect timeout, but no total request timeout (which
/// would cut long replies); stream timeouts are applied per chunk instead.
///
/// For a loopback base URL, proxies from the environment are not used: a local server
/// is never reached through `HTTP_PROXY`.
///
/// Redirects are never followed: an LLM API does not need them, and reqwest re-sends
/// the request's own headers (the API key) on every hop, checking only the hop before,
/// so a chain A → B → B delivered the key to B (issue 11). A redirect is an error that
/// names its target ([`Endpoint::send`](super::Endpoint::send)).
pub(crate) fn build_client(connect_timeout: Duration, base_url: &str) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if is_loopback(base_url) {
        builder = builder.no_proxy();
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("theory-llm/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::ProviderUnavailable,
                format!("could not build the HTTP client: {e}. Check the TLS setup, or pass your own reqwest::Client to the provider builder"),
            )
            .with_source(e)
        })
}

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
pub(crate) fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://localhost:11434",
            "http://127.0.0.1:8080/v1",
            "http://[::1]:1/",
            "http://a.localhost",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "https://api.openai.com/v1",
            "http://10.0.0.1",
            "not a url",
            "http://[::2]",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
