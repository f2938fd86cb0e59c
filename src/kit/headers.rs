//! Extra headers a provider's builder was given (`OpenAI-Organization`, a proxy's key),
//! checked once, their values sensitive: never shown in `Debug`.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, ErrorKind, Result};

/// `headers`, checked, for the provider named `provider` (in messages).
///
/// # Errors
/// `invalid_request` naming a header whose name or value HTTP does not allow (the value
/// is not quoted: it may be a secret).
pub(crate) fn checked_headers(provider: &str, headers: &[(String, String)]) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("{provider}: '{name}' is not a valid HTTP header name"),
            )
        })?;
        let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!(
                    "{provider}: the value of header '{name}' is not a valid HTTP header value"
                ),
            )
        })?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}
