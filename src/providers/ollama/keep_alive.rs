//! [`KeepAlive`]: how long Ollama keeps a model in memory, in its own syntax.

use std::time::Duration;

use crate::error::{excerpt, Error, ErrorKind, Result};

/// How long Ollama keeps a model in memory after a request (its `keep_alive`).
///
/// Converts from a [`Duration`] or from text in Ollama's own syntax, so the builder
/// takes either: `.keep_alive(Duration::from_secs(600))`, `.keep_alive("10m")`,
/// `.keep_alive("-1")` (forever), `.keep_alive("0")` (unload right after the reply).
/// Text is checked by [`OllamaProviderBuilder::build`](super::OllamaProviderBuilder::build).
///
/// ```
/// use std::time::Duration;
/// use theory_llm::ollama::KeepAlive;
///
/// assert_eq!(KeepAlive::from(Duration::from_secs(300)), KeepAlive::For(Duration::from_secs(300)));
/// assert_eq!(KeepAlive::from("1h30m"), KeepAlive::Text("1h30m".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepAlive {
    /// Keep the model loaded this long after each request (zero unloads it at once).
    For(Duration),
    /// Keep the model loaded until the server stops (sent as `-1`).
    Forever,
    /// Ollama's syntax: whole seconds (`"300"`, `"-1"` for forever) or a Go duration
    /// (`"5m"`, `"1h30m"`, `"90s"`; negative means forever).
    Text(String),
}

impl From<Duration> for KeepAlive {
    fn from(d: Duration) -> KeepAlive {
        KeepAlive::For(d)
    }
}

impl From<&str> for KeepAlive {
    fn from(s: &str) -> KeepAlive {
        KeepAlive::Text(s.to_owned())
    }
}

impl From<String> for KeepAlive {
    fn from(s: String) -> KeepAlive {
        KeepAlive::Text(s)
    }
}

impl KeepAlive {
    /// The JSON value Ollama accepts: a number of seconds, or a Go duration string.
    pub(crate) fn to_wire(&self) -> Result<serde_json::Value> {
        Ok(match self {
            KeepAlive::For(d) if d.subsec_nanos() == 0 => serde_json::Value::from(d.as_secs()),
            KeepAlive::For(d) => serde_json::Value::from(d.as_secs_f64()),
            KeepAlive::Forever => serde_json::Value::from(-1),
            KeepAlive::Text(text) => {
                let t = text.trim();
                if let Ok(secs) = t.parse::<i64>() {
                    serde_json::Value::from(secs)
                } else if is_go_duration(t) {
                    serde_json::Value::from(t)
                } else {
                    return Err(Error::new(
                        ErrorKind::InvalidRequest,
                        format!(
                            "ollama: keep_alive '{}' is not a duration Ollama understands. Use whole seconds (\"300\", \"-1\" for forever) or a duration such as \"5m\", \"1h30m\" or \"90s\"",
                            excerpt(text, 60)
                        ),
                    ));
                }
            }
        })
    }
}

/// Go's `time.ParseDuration` syntax: an optional sign, then `0`, or one or more
/// decimal numbers each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`).
fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        rest = tail;
    }
    true
}
