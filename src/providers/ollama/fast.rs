//! A hand-written reader for the common `/api/chat` line: the one every token of a
//! reply comes in,
//!
//! ```text
//! {"model":"qwen2.5:0.5b","created_at":"…","message":{"role":"assistant","content":" the"},"done":false}
//! ```
//!
//! in any key order, with any JSON whitespace, and with escapes in `model`, `content`
//! and `thinking`. It reads what serde would read from such a line, about four times
//! faster (serde_json was most of the per-chunk cost of an Ollama stream).
//!
//! It is only a fast path. Anything else (a `done_reason`, an `error`, numbers,
//! `null`, arrays, an unknown field in `message`, a duplicate key, an escape in a key or
//! in an ignored string, malformed JSON) makes it give up, and the line goes to serde,
//! which is the reference: the property tests and the `map_ollama` fuzz target check
//! that whenever this reader accepts a line, serde accepts it too and reads the same.

use std::borrow::Cow;

use super::wire::{Line, LineMessage};
use crate::json_scan::{once, Reader};

/// The line as serde would read it, or `None` to let serde read it.
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) fn read(text: &str) -> Option<Line<'_>> {
    read_stamped(text).map(|(line, _)| line)
}

/// [`read`], and the line's `created_at` (which `Line` does not read), borrowed from
/// it: what changes in every token line besides the text.
pub(crate) fn read_stamped(text: &str) -> Option<(Line<'_>, Option<&str>)> {
    let mut r = Reader::new(text);
    // Each field is kept apart and the line built once at the end: that keeps the
    // compiler from building it piecemeal in memory and then copying it whole.
    let mut model = None;
    let mut message = None;
    let mut done = None;
    let mut created_at = None;
    r.skip_ws();
    r.eat(b'{')?;
    r.skip_ws();
    if !r.eat_if(b'}') {
        loop {
            match r.key()? {
                "model" => once(&mut model, r.string()?)?,
                "message" => once(&mut message, message_of(&mut r)?)?,
                "done" => once(&mut done, r.boolean()?)?,
                "created_at" => once(&mut created_at, r.plain_string()?)?,
                // Fields that Line reads, left to serde.
                "done_reason" | "error" => return None,
                // Ignored by serde whatever its value; only a plain string is skipped.
                _ => r.skip_plain_string()?,
            }
            r.skip_ws();
            match r.next()? {
                b',' => r.skip_ws(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    r.skip_ws();
    if !r.at_end() {
        return None;
    }
    let line = Line {
        model: model.unwrap_or_default(),
        message: message.map(|(content, thinking)| LineMessage {
            content: content.unwrap_or_default(),
            thinking: thinking.unwrap_or_default(),
            tool_calls: None,
        }),
        done,
        ..Line::default()
    };
    Some((line, created_at))
}

/// `content` and `thinking`, each if present.
type Message<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// `{"role": …, "content": …, "thinking": …}`, any of them, in any order.
#[inline(always)]
fn message_of<'a>(r: &mut Reader<'a>) -> Option<Message<'a>> {
    let (mut content, mut thinking) = (None, None);
    r.eat(b'{')?;
    r.skip_ws();
    if r.eat_if(b'}') {
        return Some((content, thinking));
    }
    loop {
        match r.key()? {
            "content" => once(&mut content, r.string()?)?,
            "thinking" => once(&mut thinking, r.string()?)?,
            "role" => r.skip_plain_string()?,
            // tool_calls, images, …: left to serde.
            _ => return None,
        }
        r.skip_ws();
        match r.next()? {
            b',' => r.skip_ws(),
            b'}' => return Some((content, thinking)),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde reads, for comparison.
    fn serde(text: &str) -> Option<Line<'_>> {
        serde_json::from_str(text).ok()
    }

    fn agrees(text: &str) -> Line<'_> {
        let fast = read(text).unwrap_or_else(|| panic!("fast path gave up on {text}"));
        assert_eq!(Some(&fast), serde(text).as_ref(), "{text}");
        fast
    }

    #[test]
    fn reads_the_common_lines_like_serde() {
        let l = agrees(
            r#"{"model":"qwen2.5:0.5b","created_at":"2024-11-25T10:27:25.123Z","message":{"role":"assistant","content":" the"},"done":false}"#,
        );
        assert_eq!(l.model, "qwen2.5:0.5b");
        assert!(matches!(
            l.message.as_ref().map(|m| &m.content),
            Some(Cow::Borrowed(" the"))
        ));
        assert_eq!(l.done, Some(false));
        // Python's json.dumps spacing (the shim), other orders, thinking.
        agrees(
            r#" { "done" : false , "message" : { "thinking" : "hm" , "content" : "" } , "model" : "m" } "#,
        );
        agrees("{}");
        agrees(r#"{"message":{}}"#);
        agrees(r#"{"model":"m","done":true}"#);
    }

    #[test]
    fn decodes_escapes_like_serde() {
        for content in [
            r#"\n"#,
            r#"a\"b\\c\/d\b\f\r\t"#,
            r#"\u00e9t\u00C9"#,
            r#"\ud83c\udf0c and \uD83E\uDD80"#,
            r#"日本\n語 🦀"#,
            r#"\u0000"#,
        ] {
            let line = format!(r#"{{"message":{{"content":"{content}"}}}}"#);
            let l = agrees(&line);
            assert!(matches!(l.message.map(|m| m.content), Some(Cow::Owned(_))));
        }
    }

    #[test]
    fn gives_up_on_everything_else() {
        for text in [
            // lines serde reads, but the fast path leaves to it
            r#"{"model":"m","done":true,"done_reason":"stop","eval_count":3}"#,
            r#"{"error":"boom"}"#,
            r#"{"model":null}"#,
            r#"{"message":null}"#,
            r#"{"message":{"content":"a","tool_calls":[]}}"#,
            r#"{"message":{"role":"a\nb"}}"#,
            r#"{"created_at":1}"#,
            r#"{"mod\u0065l":"m"}"#,
            // lines serde rejects
            r#"{"model":"m","model":"n"}"#,
            r#"{"message":{"content":"a","content":"b"}}"#,
            r#"{"done":false,"done":true}"#,
            r#"{"model":"m",}"#,
            r#"{"model":"m"} x"#,
            r#"{"model":"m""#,
            "{\"model\":\"a\u{1}b\"}",
            r#"{"message":{"content":"\ud83c"}}"#,
            r#"{"message":{"content":"\udf0c"}}"#,
            r#"{"message":{"content":"\ud83c\u0041"}}"#,
            r#"{"message":{"content":"\x"}}"#,
            r#"{"message":{"content":"\u12"}}"#,
            r#"{"done":tru}"#,
            r#"["model"]"#,
            "",
        ] {
            assert!(read(text).is_none(), "{text}");
        }
    }

    // ---- differential property tests against serde ----

    use proptest::prelude::*;

    use crate::json_scan::gen::{
        any_json, broken, broken_string, config, or_noise, plain, rendered, shuffled, text, J,
    };

    /// A token line: the usual fields in any order, and when `noisy`, now and then an
    /// extra or duplicate field, a wrong type, or an escape where the fast path gives up.
    fn token_line(noisy: bool) -> impl Strategy<Value = J> {
        let ignored = move || {
            or_noise(
                noisy,
                plain().prop_map(J::Plain),
                prop_oneof![text().prop_map(J::Str), any_json()],
            )
        };
        let text_value = move || {
            or_noise(
                noisy,
                text().prop_map(J::Str),
                prop_oneof![broken_string(), any_json()],
            )
        };
        let key = move |k: &'static str| {
            let names = prop::sample::select(vec![
                "model",
                "message",
                "done",
                "done_reason",
                "error",
                "content",
                "thinking",
                "role",
                "images",
                "created_at",
            ]);
            or_noise(
                noisy,
                Just(J::Plain(k.to_owned())),
                prop_oneof![text(), names.prop_map(str::to_owned)].prop_map(J::Str),
            )
        };
        // Now and then, when noisy, a field more.
        let extra = move |k: &'static str| {
            if noisy {
                prop::option::weighted(0.15, (key(k), text_value())).boxed()
            } else {
                Just(None).boxed()
            }
        };
        let message = (
            prop::option::weighted(0.8, (key("role"), ignored())),
            prop::option::weighted(0.9, (key("content"), text_value())),
            prop::option::weighted(0.2, (key("thinking"), text_value())),
            extra("content"),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(r, c, t, extra, at)| {
                let mut fields: Vec<_> = [r, c, t].into_iter().flatten().collect();
                if let Some(extra) = extra {
                    fields.insert(at.index(fields.len() + 1), extra);
                }
                J::Obj(fields)
            });
        let done = prop_oneof![8 => Just(J::Bool(false)), 1 => Just(J::Bool(true))];
        (
            prop::option::weighted(0.9, (key("model"), text_value())),
            prop::option::weighted(0.9, (key("created_at"), ignored())),
            prop::option::weighted(0.95, (key("message"), or_noise(noisy, message, any_json()))),
            prop::option::weighted(0.9, (key("done"), or_noise(noisy, done, any_json()))),
            (extra("done_reason"), extra("error")),
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(m, c, msg, d, (reason, error), swap_a, swap_b)| {
                shuffled([m, c, msg, d, reason, error], swap_a, swap_b)
            })
    }

    proptest! {
        #![proptest_config(config())]

        /// Token lines as servers write them: the fast path always takes them, and reads
        /// what serde reads.
        #[test]
        fn the_fast_path_takes_every_token_line_and_reads_it_as_serde_does(
            line in token_line(false),
            style in prop::collection::vec(any::<u8>(), 1..32),
        ) {
            let text = rendered(&line, &style, false);
            let fast = read(&text);
            prop_assert!(fast.is_some(), "gave up on {}", text);
            prop_assert_eq!(fast, serde(&text), "{}", text);
        }

        /// Anything else: when the fast path takes a line, serde reads the same from it.
        #[test]
        fn whatever_the_fast_path_takes_serde_reads_the_same(
            line in token_line(true),
            style in prop::collection::vec(any::<u8>(), 1..32),
            cut in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            tail in prop::sample::select(vec!["", "", "", " \r\n", "x", "}", ",", "{}", "\u{c}"]),
        ) {
            let text = rendered(&line, &style, true) + tail;
            if let Some(fast) = read(&text) {
                prop_assert_eq!(Some(fast), serde(&text), "{}", text);
            }
            // A byte changed or the line cut short.
            for broken in broken(&text, cut, byte) {
                prop_assert!(crate::__private::ollama_fast_path_agrees_with_serde(&broken).is_ok(),
                    "{:?}", String::from_utf8_lossy(&broken));
            }
        }
    }

    #[test]
    fn every_recorded_token_line_takes_the_fast_path_and_reads_as_serde_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
        let (mut fast_lines, mut token_lines) = (0, 0);
        for dir in ["ollama-compat", "ollama-docs", "live"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let ext = path.extension().and_then(|e| e.to_str());
                if !matches!(ext, Some("body" | "ndjson" | "json")) {
                    continue;
                }
                let body = std::fs::read_to_string(&path).unwrap();
                for line in body.lines() {
                    let took =
                        crate::__private::ollama_fast_path_agrees_with_serde(line.as_bytes())
                            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    fast_lines += usize::from(took);
                    let Some(slow) = serde(line) else { continue };
                    let is_token_line = slow.done == Some(false)
                        && slow.error.is_none()
                        && slow.done_reason.is_empty()
                        && slow.message.is_some()
                        && !line.contains("tool_calls")
                        && !line.contains("images");
                    if is_token_line {
                        token_lines += 1;
                        assert!(took, "{}: the fast path gave up on {line}", path.display());
                    }
                }
            }
        }
        assert!(
            token_lines > 100 && fast_lines >= token_lines,
            "{token_lines} {fast_lines}"
        );
    }

    /// Decodes `lines`, then the end, into what the decoder yields.
    fn decode(lines: &[String], shape: crate::json_scan::SameShape) -> Vec<String> {
        let origin = crate::origin::Origin::new("ollama", "http://t");
        let mut decoder = super::super::map::LineDecoder::new(origin);
        decoder.set_shape(shape);
        let end = [r#"{"done":true}"#.as_bytes()];
        crate::__private::hooks::decoded(decoder, lines.iter().map(|f| f.as_bytes()).chain(end))
    }

    proptest! {
        #![proptest_config(config())]

        /// Lines that repeat a token line with another text and another `created_at`
        /// (plain, escaped, with a quote, a control character), among others: the decoder
        /// that reads them by their shape yields what the one that parses each yields.
        #[test]
        fn lines_read_by_their_shape_decode_as_parsed_ones(
            template in token_line(false),
            style in prop::collection::vec(any::<u8>(), 1..32),
            texts in crate::json_scan::gen::texts(),
            stamps in prop::collection::vec(prop_oneof![
                6 => "[0-9:TZ.é-]{0,30}",
                1 => "[a\"\\\n\u{0}\u{1f}]{0,4}",
            ], 1..6),
            others in prop::collection::vec((token_line(true), any::<prop::sample::Index>()), 0..3),
        ) {
            let template = rendered(&template, &style, false);
            let Some((Line { message: Some(LineMessage { content: Cow::Borrowed(text), .. }), .. }, stamp)) =
                read_stamped(&template)
            else {
                return Ok(());
            };
            let others = others.into_iter().map(|(o, at)| (rendered(&o, &style, true), at)).collect();
            let mut lines = crate::json_scan::gen::around_template(&template, text, &texts, others);
            // Each line made from the template gets its own created_at.
            if let Some(stamp) = stamp.filter(|s| !s.is_empty()) {
                let quoted = format!("\"{stamp}\"");
                for (line, new) in lines.iter_mut().skip(1).zip(stamps.iter().cycle()) {
                    *line = line.replacen(&quoted, &format!("\"{new}\""), 1);
                }
            }
            let parsed = decode(&lines, crate::json_scan::SameShape::disabled());
            prop_assert_eq!(decode(&lines, Default::default()), parsed, "{:?}", lines);
        }
    }

    #[test]
    fn a_token_line_with_another_created_at_is_read_by_its_shape() {
        use crate::json_scan::SameShape;
        let line = |at: &str, text: &str| {
            format!(
                r#"{{"model":"m","created_at":"{at}","message":{{"role":"assistant","content":"{text}"}},"done":false}}"#
            )
        };
        let template = line("2024-08-01T10:00:00.1Z", "Hi");
        let (
            Line {
                message:
                    Some(LineMessage {
                        content: Cow::Borrowed(text),
                        ..
                    }),
                ..
            },
            stamp,
        ) = read_stamped(&template).unwrap()
        else {
            panic!("a borrowed text");
        };
        let mut shape = SameShape::default();
        shape.keep_skipping(&template, stamp, text);
        let next = line("2024-08-01T10:00:00.123456789Z", " 日本");
        assert_eq!(shape.text_of(next.as_bytes()), Some(" 日本"));
        let lines = [template, next, line("x", "!"), line("y\\n", "?")];
        assert_eq!(
            decode(&lines, SameShape::default()),
            decode(&lines, SameShape::disabled())
        );
    }
}
