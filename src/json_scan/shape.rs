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
//!
//! A frame may also have one string before its text whose value changes every time and
//! is not read (Ollama's `created_at`): then it is kept cut as `prefix "skipped" between
//! "text" suffix`, and the skipped value may be any string without escapes or control
//! characters, which is what a JSON reader that ignores it accepts.

/// After this many frames in a row of another shape, a reply's frames are taken not
/// to repeat, and no more are kept (keeping one is a copy of it).
const MAX_MISSES: u8 = 8;

/// The last token frame of a reply, cut around its text: its pieces end to end in one
/// buffer (every open stream has one).
#[derive(Debug, Default)]
pub(crate) struct SameShape {
    /// The prefix: the frame up to its text (ending with the text's opening quote), or
    /// with a skipped string, up to that string's opening quote. Then, with a skipped
    /// string, what is between: from its closing quote to the text's opening quote. Then
    /// the suffix: the frame after its text (starting with the closing quote).
    cut: Vec<u8>,
    prefix_len: usize,
    between_len: usize,
    /// Whether the kept frame has a skipped string before its text.
    skips: bool,
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
    /// text's bytes (and a skipped string's) are checked for UTF-8: the rest are the kept
    /// frame's, which was text.
    #[inline]
    pub(crate) fn text_of<'a>(&mut self, frame: &'a [u8]) -> Option<&'a str> {
        if !self.kept {
            return None;
        }
        let text = self.text_range(frame).and_then(|(start, end)| {
            frame
                .get(start..end)
                .filter(|t| plain(t))
                .and_then(|t| std::str::from_utf8(t).ok())
        });
        if text.is_some() {
            self.misses = 0;
        } else {
            self.misses = self.misses.saturating_add(1);
        }
        text
    }

    /// Where the text of `frame` is if it has the kept shape: after the prefix (and the
    /// skipped string and what follows it), before the suffix.
    #[inline]
    fn text_range(&self, frame: &[u8]) -> Option<(usize, usize)> {
        let (prefix, rest) = self.cut.split_at_checked(self.prefix_len)?;
        let (between, suffix) = rest.split_at_checked(self.between_len)?;
        let end = frame.len().checked_sub(suffix.len())?;
        if !frame.starts_with(prefix) || !frame.ends_with(suffix) {
            return None;
        }
        let mut start = prefix.len();
        if self.skips {
            let rest = frame.get(start..end)?;
            // A timestamp is ASCII: one pass finds its closing quote and checks it.
            let ascii = plain_ascii_len(rest);
            let close = match rest.get(ascii) {
                Some(b'"') => ascii,
                _ => {
                    let close = memchr::memchr(b'"', rest)?;
                    let skipped = &rest[..close];
                    if !plain(skipped) || std::str::from_utf8(skipped).is_err() {
                        return None;
                    }
                    close
                }
            };
            start = start.checked_add(close)?;
            if !frame.get(start..end)?.starts_with(between) {
                return None;
            }
            start = start.checked_add(between.len())?;
        }
        (start <= end).then_some((start, end))
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
        self.keep_skipping(frame, None, text);
    }

    /// Keeps `frame` as [`keep`](Self::keep) does; `skipped`, when given, is a string
    /// without escapes borrowed from it before `text`, whose value later frames may
    /// change (it is not read).
    pub(crate) fn keep_skipping(&mut self, frame: &str, skipped: Option<&str>, text: &str) {
        self.kept = false;
        if self.misses >= MAX_MISSES {
            return;
        }
        let Some((text_start, text_end)) = quoted_slice(frame, text) else {
            return;
        };
        let (prefix_end, between) = match skipped {
            Some(skipped) => match quoted_slice(frame, skipped) {
                Some((start, end)) if end < text_start => (start, frame.get(end..text_start)),
                _ => return,
            },
            None => (text_start, Some("")),
        };
        let (Some(prefix), Some(between), Some(suffix)) =
            (frame.get(..prefix_end), between, frame.get(text_end..))
        else {
            return;
        };
        self.cut.clear();
        self.cut.extend_from_slice(prefix.as_bytes());
        self.cut.extend_from_slice(between.as_bytes());
        self.cut.extend_from_slice(suffix.as_bytes());
        self.prefix_len = prefix.len();
        self.between_len = between.len();
        self.skips = skipped.is_some();
        self.kept = true;
    }
}

/// Where `inner`, a slice of `frame`, starts and ends, if it stands between quotes.
fn quoted_slice(frame: &str, inner: &str) -> Option<(usize, usize)> {
    let start = (inner.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
    let end = start.checked_add(inner.len())?;
    let middle = frame.get(start..end)?;
    let quoted = frame.get(..start)?.ends_with('"') && frame.get(end..)?.starts_with('"');
    (quoted && std::ptr::eq(middle.as_ptr(), inner.as_ptr())).then_some((start, end))
}

/// A string body JSON reads as it is: no quote, backslash or control character.
#[inline]
fn plain(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b != b'"' && b != b'\\' && b >= 0x20)
}

/// How many bytes at the start of `bytes` are ASCII that a JSON string holds as it is
/// (no quote, backslash or control character), read eight at a time: a byte-by-byte
/// check of a 30-byte timestamp cost more than the rest of a line's comparison.
#[inline]
fn plain_ascii_len(bytes: &[u8]) -> usize {
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    let mut at = 0;
    for word in words {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        if let Some(special) = first_special(word) {
            return at + special;
        }
        at += 8;
    }
    // The tail, padded with a control byte, which stops the scan at its end.
    let mut last = [0u8; 8];
    if let Some(start) = last.get_mut(..tail.len()) {
        start.copy_from_slice(tail);
    }
    at + first_special(last).map_or(tail.len(), |special| special.min(tail.len()))
}

/// Where the first byte of `word` is that is not plain ASCII (see [`plain_ascii_len`]).
#[inline]
fn first_special(word: [u8; 8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let w = u64::from_le_bytes(word);
    // The classic bit tricks: a byte that is zero, or below 0x20, borrows into its own
    // high bit. Bytes above the first such one may be flagged wrongly, never the first.
    let zero_in = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let control_or_high = (w.wrapping_sub(ONES * 0x20) | w) & HIGH;
    let special = control_or_high
        | zero_in(w ^ (ONES * u64::from(b'"')))
        | zero_in(w ^ (ONES * u64::from(b'\\')));
    (special != 0).then(|| (special.trailing_zeros() / 8) as usize)
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
    fn a_skipped_string_may_change_and_is_checked_as_json_reads_it() {
        let frame = r#"{"m":"x","at":"12:00:00.1Z","c":{"t":"hello"},"d":false}"#;
        let (at, t) = (frame.find("12:").unwrap(), frame.find("hello").unwrap());
        let mut shape = SameShape::default();
        shape.keep_skipping(frame, Some(&frame[at..at + 11]), &frame[t..t + 5]);
        for (line, text) in [
            (
                r#"{"m":"x","at":"12:00:00.123Z","c":{"t":" wörld"},"d":false}"#,
                Some(" wörld"),
            ),
            (r#"{"m":"x","at":"","c":{"t":""},"d":false}"#, Some("")),
            (r#"{"m":"x","at":"ü","c":{"t":"a"},"d":false}"#, Some("a")),
            // An escape or a control character in the skipped string; another field.
            (r#"{"m":"x","at":"1\"2","c":{"t":"a"},"d":false}"#, None),
            (
                "{\"m\":\"x\",\"at\":\"1\n\",\"c\":{\"t\":\"a\"},\"d\":false}",
                None,
            ),
            (r#"{"m":"y","at":"1","c":{"t":"a"},"d":false}"#, None),
            (r#"{"m":"x","at":"1","c":{"u":"a"},"d":false}"#, None),
            (r#"{"m":"x","at":"1","c":{"t":"a"},"d":true}"#, None),
            (r#"{"m":"x","at":"1"#, None),
        ] {
            assert_eq!(shape.text_of(line.as_bytes()), text, "{line}");
        }
        // Not UTF-8 in the skipped string.
        assert_eq!(
            shape.text_of(b"{\"m\":\"x\",\"at\":\"\xff\",\"c\":{\"t\":\"a\"},\"d\":false}"),
            None
        );
        // A skipped string after the text is not one.
        shape.keep_skipping(frame, Some(&frame[t..t + 5]), &frame[at..at + 11]);
        assert_eq!(shape.text_of(frame.as_bytes()), None);
    }

    proptest::proptest! {
        #[test]
        fn the_word_at_a_time_scan_agrees_with_byte_by_byte(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    0x20u8..0x7f,
                    proptest::prelude::Just(b'"'),
                    proptest::prelude::Just(b'\\'),
                    proptest::prelude::any::<u8>(),
                ],
                0..40,
            )
        ) {
            let byte_by_byte = bytes
                .iter()
                .position(|&b| b >= 0x80 || !plain(&[b]))
                .unwrap_or(bytes.len());
            proptest::prop_assert_eq!(plain_ascii_len(&bytes), byte_by_byte);
        }
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
