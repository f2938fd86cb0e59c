//! The `OLLAMA_HOST` grammar: where an Ollama server is, read the way the `ollama`
//! CLI reads it.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::redact::redact_url;

use super::OllamaProvider;

/// Parses a host the way Ollama reads `OLLAMA_HOST` (`envconfig.Host` and
/// `ConnectableHost`), returning `scheme://host:port[/prefix]`:
///
/// - surrounding spaces and quotes are ignored; empty means `localhost:11434`;
/// - no scheme means `http` and port 11434; `http://` and `https://` default to 80 and 443;
/// - `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (`::1`);
/// - a path after the host is a prefix (Ollama behind a reverse proxy); trailing
///   slashes are dropped;
/// - `0.0.0.0`, `[::]` and an empty host name this machine (`127.0.0.1`, `[::1]`);
/// - `ollama.com` alone means `https://ollama.com:443`.
///
/// Unlike Ollama, which falls back to the default port with a warning, a bad port
/// is an error here.
pub(crate) fn parse_host(raw: &str, source: &str) -> Result<String> {
    let value = raw.trim().trim_matches(['"', '\'']).trim();
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!(
                "ollama: {source} '{}' is not usable: {why}. Use a value such as localhost, 127.0.0.1:11434, [::1]:11434, http://gpu-box:11434 or https://example.com/ollama",
                excerpt(&redact_url(raw.trim()), 200)
            ),
        )
    };
    if value.is_empty() {
        return Ok(OllamaProvider::DEFAULT_HOST.to_owned());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains spaces or control characters"));
    }
    if value.contains(['?', '#']) {
        return Err(invalid("it must not have a query or fragment"));
    }
    let (scheme, rest, default_port) = match value.split_once("://") {
        None if value.eq_ignore_ascii_case("ollama.com") => {
            return Ok("https://ollama.com:443".to_owned());
        }
        None => ("http", value, 11434u16),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => ("http", rest, 80),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => ("https", rest, 443),
        Some((scheme, _)) => {
            return Err(invalid(&format!(
                "the scheme '{scheme}' is not supported (use http or https)"
            )))
        }
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.trim_end_matches('/');
    if hostport.contains('@') {
        return Err(invalid(
            "user names and passwords in the host are not supported (pass your own reqwest::Client to add credentials)",
        ));
    }

    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (inside, tail) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("the IPv6 address has no closing ']'"))?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| invalid(&format!("'{inside}' is not an IPv6 address")))?;
        let port = match tail {
            "" => None,
            _ => Some(
                tail.strip_prefix(':')
                    .ok_or_else(|| invalid("expected ':' and a port after the IPv6 address"))?,
            ),
        };
        (Host::V6(ip), port)
    } else if hostport.matches(':').count() > 1 {
        // A bare IPv6 address, as Ollama accepts it ("::1"); it cannot carry a port.
        let ip: Ipv6Addr = hostport.parse().map_err(|_| {
            invalid("an IPv6 address must be in brackets to have a port, e.g. [::1]:11434")
        })?;
        (Host::V6(ip), None)
    } else {
        let (name, port) = match hostport.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (hostport, None),
        };
        let host = match name.parse::<Ipv4Addr>() {
            Ok(ip) => Host::V4(ip),
            Err(_) if name.is_empty() => Host::V4(Ipv4Addr::UNSPECIFIED),
            Err(_) => {
                let ok = name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'));
                if !ok || name.starts_with(['.', '-']) {
                    return Err(invalid(&format!(
                        "'{name}' is not a host name or IP address"
                    )));
                }
                Host::Name(name)
            }
        };
        (host, port)
    };
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(invalid(&format!("'{p}' is not a port number (1 to 65535)"))),
        },
    };
    let host = match host {
        Host::V4(ip) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        Host::V4(ip) => ip.to_string(),
        Host::V6(ip) if ip.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
        Host::V6(ip) => format!("[{ip}]"),
        Host::Name(name) => name.to_owned(),
    };
    let url = if path.is_empty() {
        format!("{scheme}://{host}:{port}")
    } else {
        format!("{scheme}://{host}:{port}/{path}")
    };
    match reqwest::Url::parse(&url) {
        Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        Ok(_) => Err(invalid("it has no host")),
        Err(e) => Err(invalid(&e.to_string())),
    }
}

enum Host<'a> {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Name(&'a str),
}
