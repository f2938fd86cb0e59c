//! [`SameShape`]: a token frame that differs from the last one only in its text is
//! read by comparing bytes, not by parsing.
//!
//! Most servers write every token frame of a reply with the same fields and values
//! (llama.cpp, vLLM and the OpenAI API repeat the id, `created` and the model in
//! each; Ollama repeats the model, but its `created_at` changes per line, so its lines
//! rarely repeat): only the text changes. So the last token frame is kept cut around
//! its text, `prefix "text" suffix`, and a frame made of the same prefix, a string
//! body without quote, backslash or control character, and the same suffix is that
//! frame again with another text: JSON reads the string up to the first quote, which
//! is the suffix's, and everything else is byte for byte what the fast reader read
//! before. The decoders' differential property tests hold this to serde.

/// After this many frames in a row of another shape, a reply's frames are taken not
/// to repeat, and no more are kept (keeping one is a copy of it).
const MAX_MISSES: u8 = 8;

/// The last token frame of a reply, cut around its text.
#[derive(Debug, Default)]
pub(crate) struct SameShape {
    /// The frame up to its text (ending with the text's opening quote).
    prefix: Vec<u8>,
    /// The frame after its text (starting with the closing quote).
    suffix: Vec<u8>,
    /// A frame is kept.
    kept: bool,
    /// Frames in a row that did not have the kept shape.
    misses: u8,
}

impl SameShape {
    /// One that never keeps a frame: the reference in the decoders' tests and fuzzing.
    #[cfg(any(test, feature = "test-hooks"))]
    pub(crate) fn disabled() -> SameShape {
        SameShape {
            misses: MAX_MISSES,
            ..SameShape::default()
        }
    }

    /// The text of `frame`, when it is the kept frame with another text. Only the
    /// text's bytes are checked for UTF-8: the rest are the kept frame's, which was text.
    #[inline]
    pub(crate) fn text_of<'a>(&mut self, frame: &'a [u8]) -> Option<&'a str> {
        if !self.kept {
            return None;
        }
        let end = frame.len().checked_sub(self.suffix.len())?;
        let hit = end >= self.prefix.len()
            && frame.starts_with(&self.prefix)
            && frame.ends_with(&self.suffix);
        let text = hit
            .then(|| frame.get(self.prefix.len()..end))
            .flatten()
            .filter(|t| t.iter().all(|&b| b != b'"' && b != b'\\' && b >= 0x20))
            .and_then(|t| std::str::from_utf8(t).ok());
        if text.is_some() {
            self.misses = 0;
        } else {
            self.misses = self.misses.saturating_add(1);
        }
        text
    }

    /// Forgets the kept frame: the frame just read was not one to keep, and what it did
    /// to the decoder's state a frame of the kept shape would not undo.
    pub(crate) fn forget(&mut self) {
        self.kept = false;
    }

    /// Keeps `frame`, a token frame the fast reader read whole, whose text is `text`, a
    /// string without escapes borrowed from it. Nothing is kept when `text` is not a
    /// slice of `frame` between quotes, or when the reply's frames do not repeat.
    pub(crate) fn keep(&mut self, frame: &str, text: &str) {
        if self.misses >= MAX_MISSES {
            self.kept = false;
            return;
        }
        let start = (text.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
        let end = start.saturating_add(text.len());
        let (Some(prefix), Some(middle), Some(suffix)) =
            (frame.get(..start), frame.get(start..end), frame.get(end..))
        else {
            self.kept = false;
            return;
        };
        let quoted = prefix.ends_with('"') && suffix.starts_with('"');
        if !quoted || !std::ptr::eq(middle.as_ptr(), text.as_ptr()) {
            self.kept = false;
            return;
        }
        self.prefix.clear();
        self.prefix.extend_from_slice(prefix.as_bytes());
        self.suffix.clear();
        self.suffix.extend_from_slice(suffix.as_bytes());
        self.kept = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(frame: &str, text: &str) -> SameShape {
        let at = frame.find(text).unwrap();
        let mut shape = SameShape::default();
        shape.keep(frame, &frame[at..at + text.len()]);
        shape
    }

    #[test]
    fn a_frame_of_the_same_shape_gives_its_text() {
        let mut shape = kept(r#"{"a":"x","t":"hello","z":1}"#, "hello");
        let text_of =
            |shape: &mut SameShape, frame: &str| shape.text_of(frame.as_bytes()).map(str::to_owned);
        assert_eq!(
            text_of(&mut shape, r#"{"a":"x","t":" wörld 🦀","z":1}"#).as_deref(),
            Some(" wörld 🦀")
        );
        assert_eq!(
            text_of(&mut shape, r#"{"a":"x","t":"","z":1}"#).as_deref(),
            Some("")
        );
        // Not UTF-8 in the text.
        assert_eq!(shape.text_of(b"{\"a\":\"x\",\"t\":\"\xff\",\"z\":1}"), None);
        // Another value, a quote, an escape or a control character in the text: no.
        for other in [
            r#"{"a":"y","t":"hi","z":1}"#,
            r#"{"a":"x","t":"h"i","z":1}"#,
            r#"{"a":"x","t":"h\"i","z":1}"#,
            r#"{"a":"x","t":"h\ni","z":1}"#,
            "{\"a\":\"x\",\"t\":\"h\ni\",\"z\":1}",
            r#"{"a":"x","t":"hi","z":2}"#,
            r#"{"a":"x","t":"","z":1"#,
            "",
        ] {
            assert_eq!(shape.text_of(other.as_bytes()), None, "{other}");
        }
    }

    #[test]
    fn only_a_quoted_slice_of_the_frame_is_kept() {
        let frame = r#"{"t":"hello"}"#;
        let mut shape = SameShape::default();
        // Not a slice of the frame (an equal string elsewhere), or not between quotes.
        shape.keep(frame, "hello");
        assert_eq!(shape.text_of(br#"{"t":"bye"}"#), None);
        shape.keep(frame, &frame[7..10]);
        assert_eq!(shape.text_of(br#"{"t":"hebye"}"#), None);
        shape.keep(frame, &frame[6..11]);
        assert_eq!(shape.text_of(br#"{"t":"bye"}"#), Some("bye"));
    }

    #[test]
    fn frames_that_never_repeat_stop_being_kept() {
        let mut shape = kept(r#"{"n":0,"t":"a"}"#, "a");
        for n in 1..=u32::from(MAX_MISSES) {
            let frame = format!(r#"{{"n":{n},"t":"a"}}"#);
            assert_eq!(shape.text_of(frame.as_bytes()), None);
            let at = frame.len() - 3;
            shape.keep(&frame, &frame[at..at + 1]);
        }
        assert_eq!(shape.text_of(br#"{"n":8,"t":"b"}"#), None);
    }
}
