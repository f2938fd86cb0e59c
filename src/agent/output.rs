//! What a tool gives back: [`ToolOutput`] (from the tool) and [`ToolResult`] (what the
//! run sends to the model, tied to the call), and the bounds every result is held to.

use serde::Serialize;
use serde_json::Value;

use crate::redact::Redactor;

/// What a tool returned: the content for the model, and whether it is an error (the
/// model is told so, and the run goes on).
///
/// ```
/// use serde_json::json;
/// use theory_llm::agent::ToolOutput;
///
/// assert_eq!(ToolOutput::from("18 °C").content, "18 °C");
/// assert_eq!(ToolOutput::from(json!({"c": 18})).content, r#"{"c":18}"#);
/// assert!(ToolOutput::error("no such city").is_error);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToolOutput {
    /// The result as text (JSON results as JSON text).
    pub content: String,
    /// Whether the tool failed.
    pub is_error: bool,
}

impl ToolOutput {
    /// A result.
    pub fn text(content: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: content.into(),
            is_error: false,
        }
    }

    /// A failure, told to the model as such.
    pub fn error(message: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: message.into(),
            is_error: true,
        }
    }
}

impl From<String> for ToolOutput {
    fn from(content: String) -> ToolOutput {
        ToolOutput::text(content)
    }
}

impl From<&str> for ToolOutput {
    fn from(content: &str) -> ToolOutput {
        ToolOutput::text(content)
    }
}

/// A JSON value, as JSON text (a string as its text, unquoted).
impl From<Value> for ToolOutput {
    fn from(value: Value) -> ToolOutput {
        match value {
            Value::String(text) => ToolOutput::text(text),
            other => ToolOutput::text(other.to_string()),
        }
    }
}

/// The result of one tool call, as sent back to the model (a tool-result message with
/// the call's id) and shown to the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ToolResult {
    /// The id of the call it answers.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// What the model reads: the tool's result, or what went wrong.
    pub content: String,
    /// Whether the call failed (an error, a panic, a time limit, arguments that do not
    /// match the schema, an unknown tool, a refusal).
    pub is_error: bool,
}

impl ToolResult {
    pub(crate) fn new(id: &str, name: &str, output: ToolOutput) -> ToolResult {
        ToolResult {
            id: id.to_owned(),
            name: name.to_owned(),
            content: output.content,
            is_error: output.is_error,
        }
    }
}

/// The longest error message a failed call sends to the model, in characters: the
/// model needs what went wrong, not a whole backtrace or an HTML error page.
pub(crate) const MAX_ERROR_CHARS: usize = 2_000;

/// `output` as the model gets it: secrets redacted; an error message cut to
/// [`MAX_ERROR_CHARS`], a result to `max_bytes` (on a character boundary, saying how
/// much was cut).
pub(crate) fn bounded(output: ToolOutput, max_bytes: usize, redactor: &Redactor) -> ToolOutput {
    let content = redactor.text(&output.content);
    let content = if output.is_error {
        cut_chars(&content, MAX_ERROR_CHARS)
    } else {
        cut_bytes(&content, max_bytes)
    };
    ToolOutput {
        content,
        is_error: output.is_error,
    }
}

fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut at = max;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    format!(
        "{}… [{} more bytes cut]",
        &text[..at],
        text.len().saturating_sub(at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_results_are_cut_on_character_boundaries_and_redacted() {
        let redactor = Redactor::new(["sk-secret-token-123"]);
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        let cut = bounded(ToolOutput::error(long), 100, &redactor);
        assert_eq!(cut.content.chars().count(), MAX_ERROR_CHARS + 1);
        let result = bounded(ToolOutput::text("ééé"), 3, &redactor);
        assert_eq!(result.content, "é… [4 more bytes cut]");
        let leaked = bounded(
            ToolOutput::error("bad token sk-secret-token-123 refused"),
            100,
            &redactor,
        );
        assert!(
            !leaked.content.contains("secret-token"),
            "{}",
            leaked.content
        );
        assert!(leaked.is_error);
    }
}
