//! An MCP `tools/call` result as a tool result: read from its JSON as the protocol
//! defines it (`content` blocks, `structuredContent`, `isError`), so that what the model
//! reads does not depend on the SDK's types.
//!
//! Text blocks are kept as they are; an embedded text resource is its text under a line
//! naming it; what the model cannot read as text (images, audio, binary resources) is
//! described by its type and size; `structuredContent` is the result when there is no
//! text (servers are asked to send both).

use serde_json::Value;

use crate::agent::ToolOutput;

/// The result as the model gets it.
pub(crate) fn tool_output(result: &Value) -> ToolOutput {
    let mut parts: Vec<String> = Vec::new();
    let mut has_text = false;
    if let Some(Value::Array(blocks)) = result.get("content") {
        for block in blocks {
            let (part, is_text) = block_text(block);
            has_text |= is_text;
            parts.push(part);
        }
    }
    match result.get("structuredContent") {
        Some(structured) if !has_text => parts.push(structured.to_string()),
        _ => {}
    }
    let content = parts.join("\n");
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        ToolOutput::error(content)
    } else {
        ToolOutput::text(content)
    }
}

/// One content block as text, and whether it was text the model can read.
fn block_text(block: &Value) -> (String, bool) {
    let field = |name: &str| block.get(name).and_then(Value::as_str).unwrap_or("");
    match field("type") {
        "text" => (field("text").to_owned(), true),
        "image" | "audio" => (
            format!(
                "[{} {}, {}]",
                field("type"),
                or_unknown(field("mimeType")),
                base64_size(field("data"))
            ),
            false,
        ),
        "resource" => resource_text(block.get("resource").unwrap_or(&Value::Null)),
        "resource_link" => (
            format!(
                "[resource link {}{}]",
                field("uri"),
                described(field("description"))
            ),
            false,
        ),
        other => (format!("[content of type {}]", or_unknown(other)), false),
    }
}

/// An embedded resource: its text under a line naming it, or a description.
fn resource_text(resource: &Value) -> (String, bool) {
    let field = |name: &str| resource.get(name).and_then(Value::as_str);
    let uri = field("uri").unwrap_or("");
    let mime = field("mimeType")
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    match (field("text"), field("blob")) {
        (Some(text), _) => (format!("[resource {uri}{mime}]\n{text}"), true),
        (None, Some(blob)) => (
            format!("[resource {uri}{mime}, {}]", base64_size(blob)),
            false,
        ),
        (None, None) => (format!("[resource {uri}{mime}]"), false),
    }
}

fn or_unknown(text: &str) -> &str {
    if text.is_empty() {
        "of unknown type"
    } else {
        text
    }
}

fn described(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(": {description}")
    }
}

/// The size of base64 data once decoded, for a description.
fn base64_size(data: &str) -> String {
    let padding = data.bytes().rev().take_while(|b| *b == b'=').count();
    let bytes = (data.len() / 4 * 3).saturating_sub(padding);
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_content_becomes_text_for_the_model() {
        let result = json!({"content": [
            {"type": "text", "text": "It is 12:00."},
            {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
            {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
            {"type": "resource", "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "hello"}},
            {"type": "resource", "resource": {"uri": "file:///b.bin", "blob": "AAECAw=="}},
            {"type": "resource_link", "uri": "file:///c", "name": "c", "description": "a file"},
            {"type": "hologram"}
        ]});
        let out = tool_output(&result);
        assert!(!out.is_error);
        assert_eq!(
            out.content,
            "It is 12:00.\n[image image/png, 8 bytes]\n[audio audio/wav, 3 bytes]\n\
             [resource file:///a.txt (text/plain)]\nhello\n[resource file:///b.bin, 4 bytes]\n\
             [resource link file:///c: a file]\n[content of type hologram]"
        );
    }

    #[test]
    fn structured_content_stands_in_for_missing_text_and_is_error_is_honoured() {
        let out = tool_output(&json!({"content": [], "structuredContent": {"t": 1}}));
        assert_eq!(out.content, r#"{"t":1}"#);
        let both = json!({"content": [{"type": "text", "text": "{\"t\":1}"}], "structuredContent": {"t": 1}});
        assert_eq!(tool_output(&both).content, r#"{"t":1}"#);
        let failed =
            json!({"content": [{"type": "text", "text": "no such zone"}], "isError": true});
        assert_eq!(tool_output(&failed), ToolOutput::error("no such zone"));
        // Whatever a server sends, some text and no panic.
        for odd in [
            json!(null),
            json!({"content": "x"}),
            json!({"content": [1, null, {}]}),
        ] {
            let _ = tool_output(&odd);
        }
    }
}
