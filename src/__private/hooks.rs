//! The differential hooks of the fuzz targets and property tests: each hand-written
//! fast path read against serde, and the decoder that reads frames by their shape
//! against the one that parses each. Compiled only for tests and fuzzing (the
//! `test-hooks` feature, which the crate's own dev-dependencies and the test kit turn
//! on).

use std::borrow::Cow;

use crate::decode::{Decoder, Flow};
use crate::json_scan::SameShape;
use crate::origin::Origin;
use crate::providers::ollama::{fast as ollama_fast, wire as ollama_wire};
use crate::providers::openai::{fast as openai_fast, wire as openai_wire, SseDecoder};

/// Whenever the fast path reads `frame`, serde reads it too, the same way. Returns
/// whether the fast path read it (for the property tests and the fuzz target).
///
/// # Errors
/// What the two readings disagree on.
pub fn openai_fast_path_agrees_with_serde(frame: &[u8]) -> std::result::Result<bool, String> {
    let Ok(text) = std::str::from_utf8(frame) else {
        return Ok(false);
    };
    let Some(fast) = openai_fast::read(text) else {
        return Ok(false);
    };
    match serde_json::from_str::<openai_wire::Event<'_>>(text) {
        Ok(slow) => match slow.as_token() {
            Some(slow) if slow == fast => Ok(true),
            other => Err(format!("the fast path read {fast:?}, serde {other:?}")),
        },
        Err(e) => Err(format!(
            "the fast path read {fast:?}, serde rejects it: {e}"
        )),
    }
}

/// `template`, then the template with each of
/// `texts` in place of its text, decodes the same read by shape as parsed. Returns
/// whether a frame was read by its shape.
///
/// # Errors
/// The two decodings, when they differ.
pub(crate) fn openai_same_shape_agrees(
    template: &[u8],
    texts: &[&[u8]],
) -> std::result::Result<bool, String> {
    let Ok(template) = std::str::from_utf8(template) else {
        return Ok(false);
    };
    let Some(openai_fast::Token {
        content: Some(Cow::Borrowed(text)),
        ..
    }) = openai_fast::read(template)
    else {
        return Ok(false);
    };
    let decoder = |shape| {
        let mut decoder = SseDecoder::new(Origin::new("openai", "http://fuzz"));
        decoder.set_shape(shape);
        decoder
    };
    shape_agrees_with_parsing(decoder, template, text, texts, b"[DONE]")
}

/// Whenever the fast path reads `line`, serde
/// reads it too, the same way. Returns whether the fast path read it.
pub fn ollama_fast_path_agrees_with_serde(line: &[u8]) -> std::result::Result<bool, String> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Ok(false);
    };
    let Some(fast) = ollama_fast::read(text) else {
        return Ok(false);
    };
    match serde_json::from_str::<ollama_wire::Line<'_>>(text) {
        Ok(slow) if slow == fast => Ok(true),
        Ok(slow) => Err(format!("the fast path read {fast:?}, serde {slow:?}")),
        Err(e) => Err(format!(
            "the fast path read {fast:?}, serde rejects it: {e}"
        )),
    }
}

/// `template` (a token frame whose text is `text`, a
/// string borrowed from it), then the template with each of `texts` in place of its
/// text, then `end`, decoded by a decoder that reads frames by their shape and by one
/// that parses each (`decoder` makes one with the given `SameShape`). Returns whether
/// any frame was read by its shape.
///
/// # Errors
/// The two decodings, when they differ.
pub(crate) fn shape_agrees_with_parsing<D: Decoder>(
    decoder: impl Fn(SameShape) -> D,
    template: &str,
    text: &str,
    texts: &[&[u8]],
    end: &[u8],
) -> Result<bool, String> {
    let start = (text.as_ptr() as usize).wrapping_sub(template.as_ptr() as usize);
    let (Some(prefix), Some(suffix)) = (
        template.as_bytes().get(..start),
        template.as_bytes().get(start.saturating_add(text.len())..),
    ) else {
        return Ok(false);
    };
    let mut frames = vec![template.as_bytes().to_vec()];
    frames.extend(texts.iter().map(|t| [prefix, t, suffix].concat()));
    frames.push(end.to_vec());
    let run = |shape| decoded(decoder(shape), frames.iter().map(Vec::as_slice));
    let mut probe = SameShape::default();
    probe.keep(template, text);
    let hit = frames[1..].iter().any(|f| probe.text_of(f).is_some());
    let (by_shape, parsed) = (run(SameShape::default()), run(SameShape::disabled()));
    if by_shape == parsed {
        Ok(hit)
    } else {
        Err(format!(
            "read by shape: {by_shape:?}\nparsed: {parsed:?}\nframes: {:?}",
            frames
                .iter()
                .map(|f| String::from_utf8_lossy(f))
                .collect::<Vec<_>>()
        ))
    }
}

/// What `decoder` yields from `frames`, as text, up to its first error or done.
pub(crate) fn decoded<'a>(
    mut decoder: impl Decoder,
    frames: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<String> {
    let mut out = std::collections::VecDeque::new();
    let mut seen = Vec::new();
    for frame in frames {
        let flow = decoder.frame(frame, &mut out);
        seen.extend(out.drain(..).map(|c| format!("{c:?}")));
        if !matches!(flow, Ok(Flow::Continue)) {
            seen.push(format!("{flow:?}"));
            break;
        }
    }
    seen
}
