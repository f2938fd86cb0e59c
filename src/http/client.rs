//! The HTTP clients the providers build: for streaming, no redirects, no proxy for
//! loopback servers (decided per endpoint, [`Clients`]).

use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// Default time to establish a TCP (and TLS) connection.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for streaming: a connect timeout, but no total request timeout (which
/// would cut long replies); stream timeouts are applied per chunk instead.
///
/// For `loopback` servers, proxies from the environment are not used: a local server
/// is never reached through `HTTP_PROXY` (which would also carry the key to the proxy).
///
/// Redirects are never followed: an LLM API does not need them, and reqwest re-sends
/// the request's own headers (the API key) on every hop, checking only the hop before,
/// so a chain A → B → B delivered the key to B (issue 11). A redirect is an error that
/// names its target ([`Endpoint::send`](super::Endpoint::send)).
fn build_client(connect_timeout: Duration, loopback: bool) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if loopback {
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

/// The clients of one provider's endpoints: the app's own for every endpoint, or ours,
/// one for loopback endpoints (no proxy) and one for the others (the environment's
/// proxies), each built when an endpoint first needs it. The choice is per endpoint,
/// as reqwest's proxy choice is per request: an endpoint pool may mix both.
#[derive(Debug)]
pub(crate) struct Clients {
    custom: Option<reqwest::Client>,
    connect_timeout: Duration,
    loopback: Option<reqwest::Client>,
    remote: Option<reqwest::Client>,
}

impl Clients {
    pub(crate) fn new(custom: Option<reqwest::Client>, connect_timeout: Duration) -> Clients {
        Clients {
            custom,
            connect_timeout,
            loopback: None,
            remote: None,
        }
    }

    /// The client for requests to `base_url`.
    pub(crate) fn for_base_url(&mut self, base_url: &str) -> Result<reqwest::Client> {
        if let Some(client) = &self.custom {
            return Ok(client.clone());
        }
        let loopback = is_loopback(base_url);
        let slot = if loopback {
            &mut self.loopback
        } else {
            &mut self.remote
        };
        if let Some(client) = slot {
            return Ok(client.clone());
        }
        let client = build_client(self.connect_timeout, loopback)?;
        *slot = Some(client.clone());
        Ok(client)
    }
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
