//! What the CLI prints, made safe: text for a terminal, the JSON error object, the
//! usage line.

use std::borrow::Cow;
use std::io::{self, Write};

use theory_llm::pricing::Pricing;
use theory_llm::{ChatReply, Error};

/// `text` with control characters escaped (`\u{1b}`), newlines and tabs excepted, so
/// that what a model or a server wrote cannot drive the terminal (clear the screen, set
/// its title, hide text). `--raw` skips this for the reply text.
pub(crate) fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The reply text as printed: escaped unless `raw`.
pub(crate) fn reply_text(text: &str, raw: bool) -> Cow<'_, str> {
    if raw {
        Cow::Borrowed(text)
    } else {
        terminal_safe(text)
    }
}

/// `{"error":{"kind","message","status"}}`, as `--json` prints a failure, with
/// `"partial": {"text", "usage", …}` when some output had arrived, `"rate_limit"`
/// when the failed response reported its limits, and `"attempts"` (every entry tried,
/// `[{"provider","model","error":{"kind","message"}}]`) when a `--fallback` chain gave up.
pub(crate) fn error_json(e: &Error) -> serde_json::Value {
    let mut value = serde_json::json!({
        "error": { "kind": e.kind(), "message": e.to_string(), "status": e.status() }
    });
    if let Some(partial) = e.partial() {
        value["partial"] = serde_json::to_value(partial).unwrap_or_default();
    }
    if let Some(limits) = e.rate_limit() {
        value["rate_limit"] = serde_json::to_value(limits).unwrap_or_default();
    }
    if !e.attempts().is_empty() {
        value["attempts"] = serde_json::to_value(e.attempts()).unwrap_or_default();
    }
    value
}

/// One JSON value and a newline, flushed: a closed or full stdout is an error.
pub(crate) fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// `[mock · mock · 2 tokens in, 19 out · ttft 0.0 ms · latency 0.1 ms · free · stop]`
pub(crate) fn usage_line(reply: &ChatReply) -> String {
    let u = &reply.usage;
    let cost = match u.cost_basis {
        Pricing::Free => "free".to_owned(),
        Pricing::Unknown => "price unknown".to_owned(),
        _ => format!("${:.6}", u.usd_micros as f64 / 1e6),
    };
    let estimated = if u.tokens_estimated {
        " (estimated)"
    } else {
        ""
    };
    let ttft = u.ttft_ms.map_or("-".to_owned(), |t| format!("{t:.1} ms"));
    format!(
        "[{} · {} · {} tokens in, {} out{estimated} · ttft {ttft} · latency {:.1} ms · {cost} · {}]",
        terminal_safe(&reply.provider),
        terminal_safe(&reply.model),
        u.tokens_in,
        u.tokens_out,
        u.latency_ms,
        terminal_safe(reply.finish_reason.as_str())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_unless_raw() {
        // Regression (issue 11): ANSI escapes in model text reached the terminal raw.
        let evil = "hi\u{1b}[2J\u{1b}]0;title\u{7}\u{9b}\r\nok\tdone";
        assert_eq!(
            reply_text(evil, false),
            "hi\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{9b}\\u{d}\nok\tdone"
        );
        assert_eq!(reply_text(evil, true), evil);
        assert!(matches!(terminal_safe("plain\n"), Cow::Borrowed(_)));
    }

    /// A writer that fails like a closed pipe or a full disk.
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn a_failed_write_is_reported() {
        assert!(write_json(&mut Broken, &serde_json::json!({"a": 1})).is_err());
        let mut ok = Vec::new();
        write_json(&mut ok, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(ok, b"{\"a\":1}\n");
    }
}
