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

/// The line as serde would read it, or `None` to let serde read it.
pub(super) fn read(text: &str) -> Option<Line<'_>> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    // Each field is kept apart and the line built once at the end: that keeps the
    // compiler from building it piecemeal in memory and then copying it whole.
    let mut model = None;
    let mut message = None;
    let mut done = None;
    r.skip_ws();
    r.eat(b'{')?;
    r.skip_ws();
    if !r.eat_if(b'}') {
        loop {
            match r.key()? {
                "model" => once(&mut model, r.string()?)?,
                "message" => once(&mut message, r.message()?)?,
                "done" => once(&mut done, r.boolean()?)?,
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
    if r.at != r.bytes.len() {
        return None;
    }
    Some(Line {
        model: model.unwrap_or_default(),
        message: message.map(|(content, thinking)| LineMessage {
            content: content.unwrap_or_default(),
            thinking: thinking.unwrap_or_default(),
            tool_calls: None,
        }),
        done,
        ..Line::default()
    })
}

/// Sets a field read once; `None` when it was already (serde rejects duplicate fields).
fn once<T>(field: &mut Option<T>, value: T) -> Option<()> {
    match field {
        Some(_) => None,
        None => {
            *field = Some(value);
            Some(())
        }
    }
}

/// `content` and `thinking`, each if present.
type Message<'a> = (Option<Cow<'a, str>>, Option<Cow<'a, str>>);

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn eat_if(&mut self, want: u8) -> bool {
        let hit = self.bytes.get(self.at) == Some(&want);
        self.at += usize::from(hit);
        hit
    }

    /// JSON's whitespace: space, tab, LF and CR.
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// Advances over string bytes up to the next `"`, `\` or control character, and
    /// returns that byte (not consumed).
    fn scan(&mut self) -> Option<u8> {
        // Eight bytes at a time first (measured: the byte loop alone was most of the
        // reader's time). For each byte b, `(b - k) & !b & 0x80` is set when b < k, and
        // b == c exactly when b ^ c == 0; a borrow can only flag a byte above one that
        // truly matched, so the lowest flag is exact. The byte loop below confirms it.
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let below = |w: u64, k: u64| w.wrapping_sub(ONES * k) & !w & HIGHS;
        while let Some(word) = self.bytes.get(self.at..self.at + 8) {
            let mut le = [0; 8];
            le.copy_from_slice(word);
            let w = u64::from_le_bytes(le);
            let hits = below(w ^ (ONES * u64::from(b'"')), 1)
                | below(w ^ (ONES * u64::from(b'\\')), 1)
                | below(w, 0x20);
            if hits != 0 {
                self.at += (hits.trailing_zeros() / 8) as usize;
                break;
            }
            self.at += 8;
        }
        loop {
            let b = *self.bytes.get(self.at)?;
            if b == b'"' || b == b'\\' || b < 0x20 {
                return Some(b);
            }
            self.at += 1;
        }
    }

    /// A string without escapes, borrowed. (The text is valid UTF-8 and the bounds are
    /// ASCII quotes, so the slice is on character boundaries; `get` makes sure.)
    #[inline(always)]
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        if self.scan()? != b'"' {
            return None;
        }
        let s = self.text.get(start..self.at)?;
        self.at += 1;
        Some(s)
    }

    fn skip_plain_string(&mut self) -> Option<()> {
        self.plain_string().map(drop)
    }

    /// A key and its colon. Keys with escapes are left to serde.
    #[inline(always)]
    fn key(&mut self) -> Option<&'a str> {
        let key = self.plain_string()?;
        self.skip_ws();
        self.eat(b':')?;
        self.skip_ws();
        Some(key)
    }

    fn boolean(&mut self) -> Option<bool> {
        let rest = self.bytes.get(self.at..)?;
        if rest.starts_with(b"true") {
            self.at += 4;
            Some(true)
        } else if rest.starts_with(b"false") {
            self.at += 5;
            Some(false)
        } else {
            None
        }
    }

    /// `{"role": …, "content": …, "thinking": …}`, any of them, in any order.
    #[inline(always)]
    fn message(&mut self) -> Option<Message<'a>> {
        let (mut content, mut thinking) = (None, None);
        self.eat(b'{')?;
        self.skip_ws();
        if self.eat_if(b'}') {
            return Some((content, thinking));
        }
        loop {
            match self.key()? {
                "content" => once(&mut content, self.string()?)?,
                "thinking" => once(&mut thinking, self.string()?)?,
                "role" => self.skip_plain_string()?,
                // tool_calls, images, …: left to serde.
                _ => return None,
            }
            self.skip_ws();
            match self.next()? {
                b',' => self.skip_ws(),
                b'}' => return Some((content, thinking)),
                _ => return None,
            }
        }
    }

    /// A string, borrowed when it has no escapes.
    ///
    /// (Inlined, like the other readers of the token line: called, they hand their
    /// result back through memory in pieces the caller then reads whole, and those
    /// store-forwarding stalls were a third of the reader's time.)
    #[inline(always)]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.at;
        match self.scan()? {
            b'"' => {
                let s = self.text.get(start..self.at)?;
                self.at += 1;
                Some(Cow::Borrowed(s))
            }
            b'\\' => {
                let mut out = String::with_capacity(self.at - start + 8);
                out.push_str(self.text.get(start..self.at)?);
                self.unescape_into(out).map(Cow::Owned)
            }
            _ => None,
        }
    }

    /// The rest of a string with escapes, from a `\`, appended to `out`.
    fn unescape_into(&mut self, mut out: String) -> Option<String> {
        loop {
            match self.next()? {
                b'"' => return Some(out),
                b'\\' => out.push(self.escape()?),
                _ => return None, // a control character
            }
            let start = self.at;
            self.scan()?;
            out.push_str(self.text.get(start..self.at)?);
        }
    }

    /// The character of the escape after a `\`.
    fn escape(&mut self) -> Option<char> {
        Some(match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate: only a low one may follow.
                        self.eat(b'\\')?;
                        self.eat(b'u')?;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                    }
                    _ => char::from_u32(unit)?, // `None` for a lone low surrogate
                }
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0;
        for _ in 0..4 {
            n = n * 16 + char::from(self.next()?).to_digit(16)?;
        }
        Some(n)
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

    /// A JSON tree that keeps duplicate keys and says how each string is written.
    #[derive(Debug, Clone)]
    enum J {
        Null,
        Bool(bool),
        Num(&'static str),
        /// Written with escapes chosen by the style bytes.
        Str(String),
        /// Written as is: printable ASCII without `"` or `\\`.
        Plain(String),
        /// Written as is, whatever it is: broken escapes, raw control characters.
        Raw(&'static str),
        Arr(Vec<J>),
        /// Keys are `Str` or `Plain`.
        Obj(Vec<(J, J)>),
    }

    /// Renders `j`, taking every free choice (whitespace, which legal escape) from
    /// `style`.
    /// When `noisy`, now and then whitespace JSON does not allow, or a stray byte.
    fn render(j: &J, style: &mut impl Iterator<Item = u8>, noisy: bool, out: &mut String) {
        let ws = |out: &mut String, style: &mut dyn Iterator<Item = u8>| {
            let pick = style.next().unwrap_or(0);
            if noisy && pick >= 248 {
                out.push_str(
                    ["\u{c}", "\u{b}", "\u{a0}", "x", ",", "\"", "}", "\u{0}"]
                        [usize::from(pick % 8)],
                );
            } else {
                out.push_str(["", "", "", " ", "\n  ", "\t", "\r\n", " "][usize::from(pick % 8)]);
            }
        };
        match j {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) | J::Raw(n) => out.push_str(n),
            J::Plain(s) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            J::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    let pick = style.next().unwrap_or(0);
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' if pick % 2 == 0 => out.push_str("\\n"),
                        '/' if pick % 2 == 0 => out.push_str("\\/"),
                        '\u{8}' if pick % 2 == 0 => out.push_str("\\b"),
                        '\u{c}' if pick % 2 == 0 => out.push_str("\\f"),
                        '\r' if pick % 2 == 0 => out.push_str("\\r"),
                        '\t' if pick % 2 == 0 => out.push_str("\\t"),
                        c if (c as u32) < 0x20 || pick % 5 == 1 => {
                            let mut units = [0u16; 2];
                            for u in c.encode_utf16(&mut units) {
                                if pick % 3 == 0 {
                                    out.push_str(&format!("\\u{u:04X}"));
                                } else {
                                    out.push_str(&format!("\\u{u:04x}"));
                                }
                            }
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            J::Arr(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    ws(out, style);
                    render(item, style, noisy, out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                ws(out, style);
                for (n, (k, v)) in fields.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                        ws(out, style);
                    }
                    render(k, style, noisy, out);
                    ws(out, style);
                    out.push(':');
                    ws(out, style);
                    render(v, style, noisy, out);
                    ws(out, style);
                }
                out.push('}');
            }
        }
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => prop::sample::select(vec![
                "", " the", "\n", "\"q\"", "a\\b", "é", "日本語", "🦀", "\u{0}", "\u{1f}", "a/b",
                "\u{7f}", "\u{ffff}", "\u{10ffff}", "\u{2028}", "\u{8}\u{c}\r\t", "a\u{1}b",
            ])
            .prop_map(str::to_owned),
            3 => any::<String>(),
        ]
    }

    /// Printable ASCII that needs no escape.
    fn plain() -> impl Strategy<Value = String> {
        "[ !#-\\[\\]-~]{0,32}"
    }

    /// String literals serde rejects, or reads as something else.
    fn broken_string() -> impl Strategy<Value = J> {
        prop::sample::select(vec![
            r#""\ud83c""#,
            r#""\ud83c\u0041""#,
            r#""\ud83c\ud83c""#,
            r#""\udf0c""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""\x""#,
            r#""\U0041""#,
            "\"a\u{1}b\"",
            "\"a\tb\"",
            r#""\"#,
            r#""a"#,
            r#"'a'"#,
            r#""\ud83c\udf0c""#,
            r#""\u00e9""#,
            r#"True"#,
            r#"nul"#,
        ])
        .prop_map(J::Raw)
    }

    fn any_json() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            broken_string(),
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            prop::sample::select(vec!["0", "-1", "1.5", "1e3", "18446744073709551615"])
                .prop_map(J::Num),
            text().prop_map(J::Str),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(J::Arr),
                prop::collection::vec((text().prop_map(J::Str), inner), 0..3).prop_map(J::Obj),
            ]
        })
    }

    /// `clean`, or when `noisy`, now and then `noise`.
    fn or_noise<T: std::fmt::Debug + 'static>(
        noisy: bool,
        clean: impl Strategy<Value = T> + 'static,
        noise: impl Strategy<Value = T> + 'static,
    ) -> BoxedStrategy<T> {
        if noisy {
            prop_oneof![6 => clean.boxed(), 1 => noise.boxed()].boxed()
        } else {
            clean.boxed()
        }
    }

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
                let mut fields: Vec<_> = [m, c, msg, d, reason, error]
                    .into_iter()
                    .flatten()
                    .collect();
                if !fields.is_empty() {
                    let (a, b) = (swap_a.index(fields.len()), swap_b.index(fields.len()));
                    fields.swap(a, b);
                }
                J::Obj(fields)
            })
    }

    fn rendered(line: &J, style: &[u8], noisy: bool) -> String {
        let mut out = String::new();
        let mut style = style.iter().copied().cycle();
        render(line, &mut style, noisy, &mut out);
        out
    }

    /// 512 cases (a fraction of a second), or `PROPTEST_CASES` for a longer soak.
    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok());
        ProptestConfig {
            cases: cases.unwrap_or(512),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
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
            let mut bytes = text.clone().into_bytes();
            if !bytes.is_empty() {
                let at = cut.index(bytes.len());
                let mut cut_short = bytes.clone();
                cut_short.truncate(at);
                bytes[at] = byte;
                for broken in [bytes, cut_short] {
                    prop_assert!(super::super::fast_path_agrees_with_serde(&broken).is_ok(),
                        "{:?}", String::from_utf8_lossy(&broken));
                }
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
                    let took = super::super::fast_path_agrees_with_serde(line.as_bytes())
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
}
