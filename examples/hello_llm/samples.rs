//! `--samples FILE`: what was measured for each request, one JSON line each, so that
//! people can plot it their own way. The table's percentiles are those of these
//! values (the requests without `error`, per provider and model).

use std::io::{self, Write};

/// One request, as `--samples` writes it. Times are milliseconds, rounded to the
/// microsecond as the table's are.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Sample {
    /// The provider and model as the table names them.
    pub(crate) provider: String,
    pub(crate) model: String,
    /// From the start of the benchmark (all providers) to this request being sent.
    pub(crate) start_ms: f64,
    /// Time to first token; `null` for a failed request or a reply with no text.
    pub(crate) ttft_ms: Option<f64>,
    /// To the reply's last chunk or, for a failed request, to the error; `null` when no
    /// request could be sent (the provider could not be built).
    pub(crate) latency_ms: Option<f64>,
    /// How long it waited for the budget (`--budget`; 0 without one); `null` for a
    /// failed request.
    pub(crate) waited_ms: Option<f64>,
    /// Output tokens per second after the first token, as the table's "out tok/s".
    pub(crate) output_tokens_per_s: Option<f64>,
    pub(crate) tokens_in: Option<u64>,
    pub(crate) tokens_out: Option<u64>,
    /// Whether the token counts were estimated (the server reported none).
    pub(crate) tokens_estimated: Option<bool>,
    /// Cost in micro-USD (0 for a free or unpriced model).
    pub(crate) usd_micros: Option<u64>,
    /// The error's kind (`timeout`, `server`, …); `null` for a reply.
    pub(crate) error: Option<&'static str>,
}

impl Sample {
    /// A request sent `start_ms` after the benchmark started, of which nothing else is
    /// known yet (the provider and model are the row's, set when it is complete).
    pub(crate) fn at(start_ms: f64) -> Sample {
        Sample {
            provider: String::new(),
            model: String::new(),
            start_ms: round_ms(start_ms),
            ttft_ms: None,
            latency_ms: None,
            waited_ms: None,
            output_tokens_per_s: None,
            tokens_in: None,
            tokens_out: None,
            tokens_estimated: None,
            usd_micros: None,
            error: None,
        }
    }
}

/// Milliseconds rounded to the microsecond: the precision of the table's percentiles,
/// so that the percentiles of the rounded samples are the table's exactly.
pub(crate) fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Writes `samples`, one JSON object a line.
pub(crate) fn write<'a>(
    out: &mut dyn Write,
    samples: impl IntoIterator<Item = &'a Sample>,
) -> io::Result<()> {
    for sample in samples {
        serde_json::to_writer(&mut *out, sample).map_err(io::Error::from)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_json_object_a_line() {
        let ok = Sample {
            provider: "openai".into(),
            model: "smollm2".into(),
            ttft_ms: Some(12.5),
            latency_ms: Some(80.25),
            waited_ms: Some(3.5),
            output_tokens_per_s: Some(40.0),
            tokens_in: Some(9),
            tokens_out: Some(3),
            tokens_estimated: Some(false),
            usd_micros: Some(0),
            ..Sample::at(0.0)
        };
        let failed = Sample {
            provider: "openai".into(),
            latency_ms: Some(80.25),
            error: Some("timeout"),
            ..Sample::at(1.000_4)
        };
        let mut out = Vec::new();
        write(&mut out, [&ok, &failed]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["ttft_ms"], 12.5);
        assert_eq!(lines[0]["waited_ms"], 3.5);
        assert_eq!(lines[1]["waited_ms"], serde_json::Value::Null);
        assert_eq!(lines[0]["error"], serde_json::Value::Null);
        assert_eq!(lines[1]["error"], "timeout");
        assert_eq!(lines[1]["latency_ms"], 80.25);
        assert_eq!(lines[1]["start_ms"], 1.0);
        assert_eq!(lines[1]["tokens_out"], serde_json::Value::Null);
        assert_eq!(round_ms(1.234_567_8), 1.235);
    }
}
