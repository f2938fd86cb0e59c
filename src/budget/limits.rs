//! [`Limits`]: what a budget allows, and the spec that says it
//! (`requests=5/s,tokens=90000/m,usd_micros=2000000/d,concurrent=4`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// What a windowed limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Metered {
    /// Requests sent.
    Requests,
    /// Tokens, input and output together: reserved as the prompt's estimate plus
    /// `max_tokens`, then what the reply reported.
    Tokens,
    /// Money, in micro-USD (1,000,000 = $1), at the provider's prices.
    UsdMicros,
}

impl Metered {
    /// The spec's name: `requests`, `tokens`, `usd_micros`.
    pub fn as_str(self) -> &'static str {
        match self {
            Metered::Requests => "requests",
            Metered::Tokens => "tokens",
            Metered::UsdMicros => "usd_micros",
        }
    }
}

/// At most `amount` of `what` in any window of `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rate {
    /// What is counted.
    pub what: Metered,
    /// The most in any window.
    pub amount: u64,
    /// The window's length.
    pub period: Duration,
}

impl Rate {
    /// The period in whole milliseconds (at least 1), the unit the ledgers count in.
    pub(crate) fn period_ms(&self) -> u64 {
        u64::try_from(self.period.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// What a budget allows: any combination of requests, tokens and micro-USD per period
/// (several periods of one kind too: per minute and per day), and streams at once.
///
/// A window is sliding: at most `amount` in *any* span of `period`, not per calendar
/// minute.
///
/// ```
/// use std::time::Duration;
/// use theory_llm::budget::Limits;
///
/// let limits: Limits = "requests=5/s,tokens=90000/m,concurrent=2".parse()?;
/// assert_eq!(limits, Limits::new()
///     .requests(5, Duration::from_secs(1))
///     .tokens(90_000, Duration::from_secs(60))
///     .concurrent(2));
/// assert_eq!(limits.to_string(), "requests=5/s,tokens=90000/m,concurrent=2");
/// assert!("requests=5".parse::<Limits>().is_err());
/// # Ok::<(), theory_llm::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    rates: Vec<Rate>,
    concurrent: Option<u32>,
}

impl Limits {
    /// No limits (add them with the setters).
    pub fn new() -> Limits {
        Limits::default()
    }

    /// At most `amount` requests in any `period`.
    #[must_use]
    pub fn requests(self, amount: u64, period: Duration) -> Limits {
        self.rate(Metered::Requests, amount, period)
    }

    /// At most `amount` tokens (input and output) in any `period`.
    #[must_use]
    pub fn tokens(self, amount: u64, period: Duration) -> Limits {
        self.rate(Metered::Tokens, amount, period)
    }

    /// At most `amount` micro-USD in any `period`.
    #[must_use]
    pub fn usd_micros(self, amount: u64, period: Duration) -> Limits {
        self.rate(Metered::UsdMicros, amount, period)
    }

    /// At most `streams` streams at once.
    #[must_use]
    pub fn concurrent(mut self, streams: u32) -> Limits {
        self.concurrent = Some(streams);
        self
    }

    /// A windowed limit; one of the same kind and period is replaced.
    #[must_use]
    pub fn rate(mut self, what: Metered, amount: u64, period: Duration) -> Limits {
        let rate = Rate {
            what,
            amount,
            period,
        };
        self.rates
            .retain(|r| (r.what, r.period_ms()) != (what, rate.period_ms()));
        self.rates.push(rate);
        self
    }

    /// The windowed limits, in the order given.
    pub fn rates(&self) -> &[Rate] {
        &self.rates
    }

    /// The most streams at once, if limited.
    pub fn concurrent_streams(&self) -> Option<u32> {
        self.concurrent
    }

    /// Whether anything is limited.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty() && self.concurrent.is_none()
    }

    /// Whether money is limited (a request then needs a known price).
    pub(crate) fn meters(&self, what: Metered) -> bool {
        self.rates.iter().any(|r| r.what == what)
    }
}

/// `s`, `m`, `h`, `d`.
fn period(unit: &str) -> Option<Duration> {
    Some(Duration::from_secs(match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    }))
}

fn unit_of(period: Duration) -> Option<&'static str> {
    match period.as_secs() {
        _ if period.subsec_nanos() != 0 => None,
        1 => Some("s"),
        60 => Some("m"),
        3600 => Some("h"),
        86_400 => Some("d"),
        _ => None,
    }
}

impl FromStr for Limits {
    type Err = Error;

    /// Comma-separated `requests=N/P`, `tokens=N/P`, `usd_micros=N/P` and
    /// `concurrent=N`, the period `P` one of `s`, `m`, `h`, `d`.
    fn from_str(spec: &str) -> Result<Limits> {
        let bad = |why: String| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("budget '{spec}': {why}. Write e.g. requests=5/s,tokens=90000/m,usd_micros=2000000/d,concurrent=2"),
            )
        };
        let mut limits = Limits::new();
        let mut seen = Vec::new();
        for item in spec.split(',').map(str::trim) {
            let Some((name, value)) = item.split_once('=') else {
                return Err(bad(format!("'{item}' is not NAME=VALUE")));
            };
            let (name, value) = (name.trim(), value.trim());
            let number = |text: &str| {
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("'{text}' in '{item}' is not a whole number")))
            };
            if name == "concurrent" {
                let streams = u32::try_from(number(value)?)
                    .map_err(|_| bad(format!("'{item}' is too many streams")))?;
                if limits.concurrent.is_some() {
                    return Err(bad("concurrent is given twice".into()));
                }
                limits = limits.concurrent(streams);
                continue;
            }
            let what = match name {
                "requests" => Metered::Requests,
                "tokens" => Metered::Tokens,
                "usd_micros" => Metered::UsdMicros,
                _ => {
                    return Err(bad(format!(
                        "unknown limit '{name}' (requests, tokens, usd_micros, concurrent)"
                    )))
                }
            };
            let Some((amount, unit)) = value.split_once('/') else {
                return Err(bad(format!(
                    "'{item}' needs a period: {name}=N/s, /m, /h or /d"
                )));
            };
            let Some(period) = period(unit.trim()) else {
                return Err(bad(format!(
                    "'{unit}' in '{item}' is not a period: s, m, h or d"
                )));
            };
            if seen.contains(&(what, period)) {
                return Err(bad(format!("{name} per {unit} is given twice")));
            }
            seen.push((what, period));
            limits = limits.rate(what, number(amount)?, period);
        }
        Ok(limits)
    }
}

impl fmt::Display for Limits {
    /// The spec [`FromStr`] reads (a period that is not a second, minute, hour or day
    /// is written in milliseconds, `/1500ms`, which does not read back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = self
            .rates
            .iter()
            .map(|r| match unit_of(r.period) {
                Some(unit) => format!("{}={}/{unit}", r.what.as_str(), r.amount),
                None => format!("{}={}/{}ms", r.what.as_str(), r.amount, r.period_ms()),
            })
            .collect();
        if let Some(n) = self.concurrent {
            items.push(format!("concurrent={n}"));
        }
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_read_and_write_back() {
        for spec in [
            "requests=5/s",
            "concurrent=0",
            "tokens=1/d,usd_micros=2000000/h,requests=100/m,requests=1000/d",
        ] {
            let limits: Limits = spec.parse().unwrap();
            assert_eq!(limits.to_string(), spec);
        }
        let spaced: Limits = " requests = 5 / s , concurrent=2 ".parse().unwrap();
        assert_eq!(spaced.to_string(), "requests=5/s,concurrent=2");
    }

    #[test]
    fn malformed_specs_say_why() {
        for (spec, why) in [
            ("", "is not NAME=VALUE"),
            ("requests=5", "needs a period"),
            ("requests=5/w", "is not a period"),
            ("requests=-1/s", "is not a whole number"),
            ("requests=1.5/s", "is not a whole number"),
            ("requests=99999999999999999999/s", "is not a whole number"),
            ("tokens=5/s,tokens=6/s", "given twice"),
            ("concurrent=1,concurrent=2", "given twice"),
            ("concurrent=4294967296", "too many"),
            ("rpm=5/m", "unknown limit 'rpm'"),
            ("requests=5/s,", "is not NAME=VALUE"),
            ("requests=5/s;concurrent=2", "is not a period"),
        ] {
            let err = spec.parse::<Limits>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest);
            assert!(err.to_string().contains(why), "{spec}: {err}");
        }
    }
}
