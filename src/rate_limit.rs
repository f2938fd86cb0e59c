//! [`RateLimit`]: the rate-limit headers of a response, parsed: OpenAI's
//! `x-ratelimit-*` (and every server that copies them) and Anthropic's
//! `anthropic-ratelimit-*`. Read leniently: a value that does not parse is left out,
//! never a panic and never a failed reply.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::UNREASONABLE_WAIT;

/// One limit: its size, what is left, and when it is whole again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quota {
    /// The most allowed in the window.
    pub limit: Option<u64>,
    /// What is left in the window.
    pub remaining: Option<u64>,
    /// How long until the window resets (from when the response was read).
    pub reset: Option<Duration>,
}

impl Quota {
    fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }
}

/// The rate limits a response reported, on a reply
/// ([`ChatReply::rate_limit`](crate::ChatReply::rate_limit)) and on an error
/// ([`Error::rate_limit`](crate::Error::rate_limit)). Anthropic also limits input and
/// output tokens apart.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use theory_llm::reply::RateLimit;
///
/// let headers = [
///     ("x-ratelimit-limit-requests", "500"),
///     ("x-ratelimit-remaining-requests", "499"),
///     ("x-ratelimit-reset-requests", "120ms"),
///     ("x-ratelimit-remaining-tokens", "149984"),
///     ("x-ratelimit-reset-tokens", "6m0s"),
/// ];
/// let limits = RateLimit::from_headers(
///     headers.iter().map(|(n, v)| (*n, v.as_bytes())),
///     UNIX_EPOCH,
/// )
/// .unwrap();
/// assert_eq!(limits.requests.remaining, Some(499));
/// assert_eq!(limits.requests.reset, Some(Duration::from_millis(120)));
/// assert_eq!(limits.tokens.reset, Some(Duration::from_secs(360)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests.
    pub requests: Quota,
    /// Tokens (input and output together).
    pub tokens: Quota,
    /// Input tokens (Anthropic).
    pub input_tokens: Quota,
    /// Output tokens (Anthropic).
    pub output_tokens: Quota,
}

/// Which limit a header is about, and which of its parts.
enum Part {
    Limit,
    Remaining,
    Reset,
}

impl RateLimit {
    /// The limits in `headers` (names lowercase, as HTTP libraries give them), with
    /// reset times counted from `now`; `None` when there are none.
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        now: SystemTime,
    ) -> Option<RateLimit> {
        let mut limits = RateLimit::default();
        for (name, value) in headers {
            let Some((which, part, anthropic)) = classify(name) else {
                continue;
            };
            let Ok(value) = std::str::from_utf8(value) else {
                continue;
            };
            let value = value.trim();
            let limit = match which {
                "requests" => &mut limits.requests,
                "tokens" => &mut limits.tokens,
                "input-tokens" => &mut limits.input_tokens,
                "output-tokens" => &mut limits.output_tokens,
                _ => continue,
            };
            match part {
                Part::Limit => limit.limit = count(value),
                Part::Remaining => limit.remaining = count(value),
                Part::Reset if anthropic => limit.reset = until(value, now),
                Part::Reset => limit.reset = go_duration(value),
            }
        }
        let found = [
            limits.requests,
            limits.tokens,
            limits.input_tokens,
            limits.output_tokens,
        ]
        .iter()
        .any(|l| !l.is_empty());
        found.then_some(limits)
    }
}

/// `x-ratelimit-remaining-requests` → (`requests`, remaining, OpenAI);
/// `anthropic-ratelimit-input-tokens-reset` → (`input-tokens`, reset, Anthropic).
fn classify(name: &str) -> Option<(&str, Part, bool)> {
    if let Some(rest) = name.strip_prefix("x-ratelimit-") {
        let (part, which) = rest.split_once('-')?;
        let part = match part {
            "limit" => Part::Limit,
            "remaining" => Part::Remaining,
            "reset" => Part::Reset,
            _ => return None,
        };
        return Some((which, part, false));
    }
    let rest = name.strip_prefix("anthropic-ratelimit-")?;
    let (which, part) = rest.rsplit_once('-')?;
    let part = match part {
        "limit" => Part::Limit,
        "remaining" => Part::Remaining,
        "reset" => Part::Reset,
        _ => return None,
    };
    Some((which, part, true))
}

/// A count: digits only, at most what a u64 holds.
fn count(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// A Go duration as OpenAI sends it (`1s`, `6m0s`, `20ms`, `1h2m3.5s`), or a plain
/// number of seconds; at most [`UNREASONABLE_WAIT`].
fn go_duration(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<f64>() {
        return seconds_to_duration(seconds);
    }
    let mut total = 0.0_f64;
    let mut rest = value;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_len);
        let number: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * scale;
        rest = tail;
    }
    seconds_to_duration(total)
}

fn seconds_to_duration(seconds: f64) -> Option<Duration> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(UNREASONABLE_WAIT)
            .min(UNREASONABLE_WAIT),
    )
}

/// The time from `now` until an RFC 3339 instant (`2026-12-01T18:00:30Z`), 0 if it
/// is past.
fn until(value: &str, now: SystemTime) -> Option<Duration> {
    let at = rfc3339_seconds(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    seconds_to_duration((at - now).max(0.0))
}

/// Seconds since the Unix epoch of an RFC 3339 date-time.
fn rfc3339_seconds(value: &str) -> Option<f64> {
    let bytes = value.as_bytes();
    if bytes.len() < 20 || !value.is_ascii() {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = value.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let shape = bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't' | b' ')
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    // Fractional seconds, then the offset.
    let mut rest = value.get(19..)?;
    let mut fraction = 0.0;
    if let Some(tail) = rest.strip_prefix('.') {
        let len = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        if len == 0 {
            return None;
        }
        fraction = format!("0.{}", tail.get(..len)?).parse().ok()?;
        rest = tail.get(len..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(seconds as f64 + fraction)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `{"requests": {"limit", "remaining", "reset_ms"}, "tokens": …}`, each limit only
/// when reported, each part `null` when not.
impl Serialize for RateLimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let parts = [
            ("requests", &self.requests),
            ("tokens", &self.tokens),
            ("input_tokens", &self.input_tokens),
            ("output_tokens", &self.output_tokens),
        ];
        let mut map = serializer.serialize_map(None)?;
        for (name, limit) in parts {
            if !limit.is_empty() {
                map.serialize_entry(name, limit)?;
            }
        }
        map.end()
    }
}

impl Serialize for Quota {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("limit", &self.limit)?;
        map.serialize_entry("remaining", &self.remaining)?;
        map.serialize_entry("reset_ms", &self.reset.map(|d| d.as_secs_f64() * 1000.0))?;
        map.end()
    }
}

/// Reads what [`Serialize`] writes (a recording's finish line, `hello_llm --json`): each
/// limit may be missing, each part `null`; a `reset_ms` that is negative or not a
/// number is left out.
impl<'de> Deserialize<'de> for RateLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Written {
            requests: Option<QuotaWritten>,
            tokens: Option<QuotaWritten>,
            input_tokens: Option<QuotaWritten>,
            output_tokens: Option<QuotaWritten>,
        }
        #[derive(Deserialize)]
        struct QuotaWritten {
            limit: Option<u64>,
            remaining: Option<u64>,
            reset_ms: Option<f64>,
        }
        let quota = |q: Option<QuotaWritten>| {
            q.map_or_else(Quota::default, |q| Quota {
                limit: q.limit,
                remaining: q.remaining,
                reset: q
                    .reset_ms
                    .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok()),
            })
        };
        let written = Written::deserialize(deserializer)?;
        Ok(RateLimit {
            requests: quota(written.requests),
            tokens: quota(written.tokens),
            input_tokens: quota(written.input_tokens),
            output_tokens: quota(written.output_tokens),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(headers: &[(&str, &str)], now: SystemTime) -> Option<RateLimit> {
        RateLimit::from_headers(headers.iter().map(|(n, v)| (*n, v.as_bytes())), now)
    }

    #[test]
    fn what_is_written_reads_back_and_odd_values_are_left_out() {
        let limits = parse(
            &[
                ("x-ratelimit-limit-requests", "10000"),
                ("x-ratelimit-remaining-tokens", "1999975"),
                ("x-ratelimit-reset-tokens", "1.5s"),
            ],
            UNIX_EPOCH,
        )
        .unwrap();
        let written = serde_json::to_string(&limits).unwrap();
        let read: RateLimit = serde_json::from_str(&written).unwrap();
        assert_eq!(read, limits);

        let odd: RateLimit = serde_json::from_str(
            r#"{"requests":{"limit":null,"reset_ms":-5},"tokens":{"reset_ms":1e300},"extra":1}"#,
        )
        .unwrap();
        assert_eq!(odd, RateLimit::default());
        assert!(serde_json::from_str::<RateLimit>(r#"{"requests":{"limit":-1}}"#).is_err());
    }

    #[test]
    fn openai_headers() {
        let limits = parse(
            &[
                ("x-ratelimit-limit-requests", "10000"),
                ("x-ratelimit-limit-tokens", "2000000"),
                ("x-ratelimit-remaining-requests", "9999"),
                ("x-ratelimit-remaining-tokens", "1999975"),
                ("x-ratelimit-reset-requests", "6ms"),
                ("x-ratelimit-reset-tokens", "1h2m3.5s"),
                ("content-type", "text/event-stream"),
            ],
            UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(limits.requests.limit, Some(10_000));
        assert_eq!(limits.tokens.remaining, Some(1_999_975));
        assert_eq!(limits.requests.reset, Some(Duration::from_millis(6)));
        assert_eq!(limits.tokens.reset, Some(Duration::from_secs_f64(3723.5)));
        assert!(limits.input_tokens.is_empty());
        assert_eq!(parse(&[("content-type", "x")], UNIX_EPOCH), None);
    }

    #[test]
    fn anthropic_headers_reset_at_an_instant() {
        let now = UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let limits = parse(
            &[
                ("anthropic-ratelimit-requests-limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "49"),
                ("anthropic-ratelimit-requests-reset", "2026-11-30T00:53:50Z"),
                ("anthropic-ratelimit-input-tokens-remaining", "39000"),
                (
                    "anthropic-ratelimit-output-tokens-reset",
                    "2026-11-30T00:53:20.5+00:00",
                ),
                ("anthropic-ratelimit-tokens-reset", "2020-01-01T00:00:00Z"),
            ],
            now,
        )
        .unwrap();
        assert_eq!(limits.requests.remaining, Some(49));
        // 1,796,000,000 is 2026-11-30T00:53:20Z.
        assert_eq!(limits.requests.reset, Some(Duration::from_secs(30)));
        assert_eq!(limits.output_tokens.reset, Some(Duration::from_millis(500)));
        assert_eq!(limits.input_tokens.remaining, Some(39_000));
        assert_eq!(limits.tokens.reset, Some(Duration::ZERO), "a past instant");
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            rfc3339_seconds("2000-03-01T01:00:00+01:00"),
            Some(951_868_800.0)
        );
    }

    #[test]
    fn odd_values_are_left_out_never_a_panic() {
        for value in [
            "",
            "-1",
            "1.5",
            "1e400",
            "99999999999999999999999",
            "NaN",
            "inf",
            "1x",
            "s",
            "1.2.3s",
            "5m-3s",
            "é",
            "🚀1s",
            "1s🚀",
            "2026-13-01T00:00:00Z",
            "2026-12-01T00:00:00",
            "2026-12-01T00:00:00+0100",
            "2026-12-01T00:00:00.Z",
            "9999-12-31T23:59:60Z",
            "0000-01-01T00:00:00Z",
        ] {
            for name in [
                "x-ratelimit-limit-requests",
                "x-ratelimit-reset-tokens",
                "anthropic-ratelimit-requests-reset",
                "anthropic-ratelimit-tokens-remaining",
            ] {
                let _ = parse(&[(name, value)], UNIX_EPOCH);
                let _ = parse(
                    &[(name, value)],
                    UNIX_EPOCH + Duration::from_secs(u32::MAX.into()),
                );
            }
        }
        let huge = parse(&[("x-ratelimit-reset-requests", "1e30")], UNIX_EPOCH).unwrap();
        assert_eq!(huge.requests.reset, Some(UNREASONABLE_WAIT));
        let bad = parse(&[("x-ratelimit-remaining-requests", "-1")], UNIX_EPOCH);
        assert_eq!(bad, None);
        let bytes = RateLimit::from_headers(
            [("x-ratelimit-limit-tokens", &[0xff, 0xfe][..])],
            UNIX_EPOCH,
        );
        assert_eq!(bytes, None);
    }

    #[test]
    fn serialized_as_the_cli_prints_it() {
        let limits = parse(
            &[
                ("x-ratelimit-remaining-requests", "3"),
                ("x-ratelimit-reset-requests", "1.5s"),
            ],
            UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(limits).unwrap(),
            serde_json::json!({"requests": {"limit": null, "remaining": 3, "reset_ms": 1500.0}})
        );
    }
}
