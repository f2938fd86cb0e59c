//! [`Auth`]: what a built-in provider adds to each request it sends: its default
//! headers, the app's extra headers and the API key, in the way its description says.

use reqwest::header::HeaderMap;

use crate::error::{Error, ErrorKind, Result};

use super::HttpRequest;

/// How a provider sends its API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyHeader {
    /// `Authorization: Bearer {key}`.
    Bearer,
    /// The key as the value of this header (`x-api-key`, `x-goog-api-key`, `api-key`).
    Named(&'static str),
}

/// The key and headers of one provider, checked.
pub(crate) struct Auth {
    /// Sent in `header` when not empty.
    pub(crate) key: String,
    pub(crate) header: KeyHeader,
    /// The app's extra headers, values sensitive.
    pub(crate) headers: HeaderMap,
    /// Sent unless the request or the app's headers have one of the same name.
    pub(crate) defaults: &'static [(&'static str, &'static str)],
    /// Where the key came from, for the error about a key HTTP cannot carry.
    pub(crate) key_source: &'static str,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("key", &(!self.key.is_empty()).then_some("[REDACTED]"))
            .field("header", &self.header)
            .field(
                "headers",
                &self.headers.keys().map(|n| n.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Auth {
    /// `request` with the default headers, the extra headers and the key.
    ///
    /// # Errors
    /// `invalid_request` for a key HTTP headers cannot carry.
    pub(crate) fn apply(&self, mut request: HttpRequest, provider: &str) -> Result<HttpRequest> {
        for (name, value) in self.defaults {
            if !request.headers.contains_key(*name) && !self.headers.contains_key(*name) {
                request = request.header(name, value)?;
            }
        }
        let request = request.with_headers(&self.headers);
        if self.key.is_empty() {
            return Ok(request);
        }
        let with_key = match self.header {
            KeyHeader::Bearer => request.bearer_auth(&self.key),
            KeyHeader::Named(name) => request.sensitive_header(name, &self.key),
        };
        with_key.map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "{provider}: the API key contains characters not allowed in an HTTP header; check {}",
                    self.key_source
                ),
            )
        })
    }
}
