//! Failures below HTTP (connect, TLS, broken framing, out of file descriptors) as
//! errors that say what happened and whether trying again can help.

use crate::error::{Error, ErrorKind};

use super::Endpoint;

impl Endpoint {
    /// Maps a failure to send (or to receive headers) to an error.
    pub(crate) fn send_error(&self, e: reqwest::Error) -> Error {
        // The URL is left out of the cause: the base URL is named, with its password
        // hidden.
        let e = e.without_url();
        let cause = error_chain(&e);
        let (provider, base) = (self.origin.provider(), self.origin.base());
        match transport_failure(&e) {
            TransportFailure::TooManyFiles => too_many_files(provider, base, &cause).with_source(e),
            TransportFailure::Malformed => Error::new(
                ErrorKind::Protocol,
                format!("{provider}: {base} answered with a malformed HTTP response ({cause}). The server, or a proxy in front of it, is broken; check the base URL"),
            )
            .with_source(e),
            TransportFailure::Timeout => Error::new(
                ErrorKind::Timeout,
                format!("{provider} timed out: could not connect to {base} ({cause}). Check that the server is reachable, or raise the connect timeout"),
            )
            .with_retryable(true)
            .with_source(e),
            TransportFailure::Connect { tls } => Error::new(
                ErrorKind::ProviderUnavailable,
                format!(
                    "{provider} is unavailable: cannot connect to {base} ({cause}). {}",
                    if tls { "Check the server's TLS certificate and the https:// in the base URL" } else { &*self.unreachable_hint }
                ),
            )
            // Nothing was sent, so trying again is safe; it rides out a local server
            // that is restarting. A TLS failure will not pass by itself.
            .with_retryable(!tls)
            .with_source(e),
            TransportFailure::Builder => Error::new(
                ErrorKind::InvalidRequest,
                format!("{provider}: invalid request URL under {base} ({cause}). Fix the base URL"),
            )
            .with_source(e),
            TransportFailure::Other => Error::new(
                ErrorKind::Network,
                format!("{provider}: the request to {base} failed ({cause}). Check the network and retry"),
            )
            .with_retryable(true)
            .with_source(e),
        }
    }

    /// Maps a failure while reading the body of a streaming reply.
    pub(crate) fn body_error(&self, e: reqwest::Error) -> Error {
        let e = e.without_url();
        let cause = error_chain(&e);
        let (provider, base) = (self.origin.provider(), self.origin.base());
        match transport_failure(&e) {
            TransportFailure::Malformed => Error::new(
                ErrorKind::Protocol,
                format!("{provider}: the reply from {base} broke the HTTP framing ({cause}); the reply is incomplete. The server, or a proxy in front of it, is broken"),
            )
            .with_source(e),
            TransportFailure::TooManyFiles => too_many_files(provider, base, &cause).with_source(e),
            _ => Error::new(
                ErrorKind::Network,
                format!("{provider}: the connection to {base} broke mid-reply ({cause}); the reply is incomplete. Retry the request"),
            )
            .with_retryable(true)
            .with_source(e),
        }
    }
}

/// What went wrong below HTTP, read from the error's causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportFailure {
    /// The process is out of file descriptors (EMFILE, ENFILE).
    TooManyFiles,
    /// The server's bytes are not HTTP: bad status line or headers, headers too large or
    /// too many, broken chunked encoding.
    Malformed,
    Timeout,
    /// No connection (refused, unreachable, DNS); `tls` when the TLS handshake failed.
    Connect {
        tls: bool,
    },
    /// The request could not be built (a bad URL).
    Builder,
    Other,
}

fn transport_failure(e: &reqwest::Error) -> TransportFailure {
    let mut tls = false;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            // EMFILE (24) and ENFILE (23) on Linux and the BSDs.
            if matches!(io.raw_os_error(), Some(23 | 24)) {
                return TransportFailure::TooManyFiles;
            }
            let bad_bytes = matches!(
                io.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            );
            if bad_bytes && (e.is_body() || e.is_decode()) {
                return TransportFailure::Malformed;
            }
        }
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
        {
            return TransportFailure::Malformed;
        }
        let text = err.to_string().to_ascii_lowercase();
        tls |= ["certificate", "tls", "ssl", "handshake"]
            .iter()
            .any(|w| text.contains(w));
        cur = err.source();
    }
    if e.is_timeout() {
        TransportFailure::Timeout
    } else if e.is_connect() {
        TransportFailure::Connect { tls }
    } else if e.is_builder() {
        TransportFailure::Builder
    } else {
        TransportFailure::Other
    }
}

fn too_many_files(provider: &str, base: &str, cause: &str) -> Error {
    Error::new(
        ErrorKind::Network,
        format!("{provider}: too many open files: this process has used up its file descriptors, so no connection to {base} could be made ({cause}). Raise the limit (`ulimit -n`), or make fewer requests at once"),
    )
    // Descriptors are freed as other requests end.
    .with_retryable(true)
}

/// `e` and its causes, joined with `: ` (reqwest's own Display hides the root cause).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    out
}
