//! What the HTTP layer reads from response headers, so that no value can panic:
//! `Retry-After` and `retry-after-ms`, the rate limits, the media type.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, CONTENT_TYPE};

use crate::duration::UNREASONABLE_WAIT;
use crate::rate_limit::RateLimit;

/// How long the server asks to wait before a retry: `retry-after-ms` (milliseconds),
/// else `Retry-After` (seconds, or an HTTP date).
///
/// No header value can panic here. A number that is negative, NaN, infinite or absurdly
/// large means "longer than anyone will wait" ([`UNREASONABLE_WAIT`]), so the request is
/// not retried by itself; a value that is neither a number nor a date is ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).map(|v| v.as_bytes());
    parse_retry_after(get("retry-after-ms"), get("retry-after"), SystemTime::now())
}

/// [`retry_after`] on the raw header values, at time `now` (for HTTP dates).
pub(crate) fn parse_retry_after(
    millis: Option<&[u8]>,
    after: Option<&[u8]>,
    now: SystemTime,
) -> Option<Duration> {
    fn text(v: &[u8]) -> Option<&str> {
        std::str::from_utf8(v).ok().map(str::trim)
    }
    if let Some(ms) = millis.and_then(text).and_then(|v| v.parse::<f64>().ok()) {
        return Some(wait_of(ms / 1000.0));
    }
    let after = after.and_then(text)?;
    if let Ok(secs) = after.parse::<f64>() {
        return Some(wait_of(secs));
    }
    let date = httpdate::parse_http_date(after).ok()?;
    // A date in the past means "now".
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(UNREASONABLE_WAIT),
    )
}

/// `secs` as a wait; anything that is not a sane number of seconds is
/// [`UNREASONABLE_WAIT`].
fn wait_of(secs: f64) -> Duration {
    if secs.is_finite() && secs >= 0.0 && secs < UNREASONABLE_WAIT.as_secs_f64() {
        Duration::from_secs_f64(secs)
    } else {
        UNREASONABLE_WAIT
    }
}

/// The rate limits a response's headers report, reset times counted from now.
pub(crate) fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    RateLimit::from_headers(
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
        std::time::SystemTime::now(),
    )
}

/// The media type of a response, lowercase and without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let media = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_headers() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("20"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(20)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        // Garbage is ignored: the other header, or the usual backoff, applies.
        h.insert("retry-after-ms", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(20)));
    }

    #[test]
    fn retry_after_dates_and_absurd_values() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let parse = |ms: Option<&str>, after: Option<&str>| {
            parse_retry_after(ms.map(str::as_bytes), after.map(str::as_bytes), now)
        };
        assert_eq!(
            parse(None, Some("Wed, 21 Oct 2015 07:29:30 GMT")),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse(None, Some("Wed, 21 Oct 2015 07:00:00 GMT")),
            Some(Duration::ZERO)
        );
        // Regression (issue 11): `retry-after-ms: 1e23` panicked in Duration::from_secs_f64.
        for absurd in ["1e23", "1e300", "-5", "NaN", "inf", "-inf", "1e400"] {
            assert_eq!(
                parse(Some(absurd), None),
                Some(UNREASONABLE_WAIT),
                "{absurd}"
            );
            assert_eq!(
                parse(None, Some(absurd)),
                Some(UNREASONABLE_WAIT),
                "{absurd}"
            );
        }
        assert_eq!(parse(Some("-0"), None), Some(Duration::ZERO));
        for ignored in ["", "soon", "12 s", "Wed, 99 Oct 2015"] {
            assert_eq!(parse(None, Some(ignored)), None, "{ignored}");
        }
        assert_eq!(parse(Some("\u{0}"), Some("\u{ff}")), None);
        assert_eq!(
            parse_retry_after(Some(&[0xff, 0xfe]), Some(&[0x80]), now),
            None
        );
    }
}
