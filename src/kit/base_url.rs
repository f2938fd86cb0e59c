//! A base URL, checked: http(s), no query or fragment, no trailing slash, and any
//! user info taken out (sent as Basic authentication, never shown).

use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::redact::redact_url;

/// A checked base URL.
pub(crate) struct BaseUrl {
    /// Where requests go: the URL without user info or trailing slashes.
    pub(crate) url: String,
    /// The URL as configured, without trailing slashes (it may hold a password; show it
    /// only through [`BaseUrl::shown`]).
    shown: String,
    /// The user name and password of the user info, percent-decoded.
    pub(crate) credentials: Option<(String, String)>,
}

impl BaseUrl {
    /// Checks `raw` is an http(s) URL without query or fragment, drops trailing slashes
    /// and takes out user info. Errors name `provider`, `source` (`OPENAI_BASE_URL`, "the
    /// base URL") and the value with its password hidden, and suggest `example`.
    pub(crate) fn parse(raw: &str, provider: &str, source: &str, example: &str) -> Result<BaseUrl> {
        normalize(raw, provider, source, example)
    }

    /// The URL as shown: its password redacted.
    pub(crate) fn shown(&self) -> String {
        redact_url(&self.shown)
    }
}

fn normalize(raw: &str, provider: &str, source: &str, example: &str) -> Result<BaseUrl> {
    let trimmed = raw.trim().trim_end_matches('/');
    let invalid = |why: &str| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!(
                "{provider}: {source} '{}' is not usable: {why}. Use a URL such as {example}",
                redact_url(trimmed)
            ),
        )
    };
    let mut url = reqwest::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    let credentials = (!url.username().is_empty() || url.password().is_some()).then(|| {
        (
            percent_decode(url.username()),
            percent_decode(url.password().unwrap_or("")),
        )
    });
    if credentials.is_none() {
        return Ok(BaseUrl {
            url: trimmed.to_owned(),
            shown: trimmed.to_owned(),
            credentials,
        });
    }
    // Infallible for an http(s) URL with a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(BaseUrl {
        url: url.as_str().trim_end_matches('/').to_owned(),
        shown: trimmed.to_owned(),
        credentials,
    })
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseUrl")
            .field("url", &self.url)
            .field("shown", &redact_url(&self.shown))
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish()
    }
}

/// `%xx` escapes decoded (as in URL user info); invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str, source: &str) -> Result<BaseUrl> {
        BaseUrl::parse(raw, "openai", source, "http://localhost:8080/v1")
    }

    #[test]
    fn base_urls_are_checked_and_normalized() {
        assert_eq!(
            parse("https://api.openai.com/v1/", "x").unwrap().url,
            "https://api.openai.com/v1"
        );
        assert_eq!(
            parse(" http://[::1]:8080/v1 ", "x").unwrap().url,
            "http://[::1]:8080/v1"
        );
        for bad in [
            "",
            "api.openai.com/v1",
            "ftp://host/v1",
            "http://",
            "http://h/v1?x=1",
        ] {
            let err = parse(bad, "OPENAI_BASE_URL").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}");
            assert!(err.to_string().contains("OPENAI_BASE_URL"), "{err}");
        }
    }

    #[test]
    fn user_info_is_taken_out_of_the_base_url_and_never_shown() {
        let base = parse("http://ad%40min:p%3Ass@host:8080/v1/", "x").unwrap();
        assert_eq!(base.url, "http://host:8080/v1");
        assert_eq!(base.shown(), "http://ad%40min:[REDACTED]@host:8080/v1");
        assert_eq!(
            base.credentials,
            Some(("ad@min".to_owned(), "p:ss".to_owned()))
        );
        // An unusable URL is quoted without its password.
        let err = parse("http://admin:hunter2-secret@host/v1?x=1", "OPENAI_BASE_URL").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert_eq!(percent_decode("a%2Fb%zz%"), "a/b%zz%");
    }
}
