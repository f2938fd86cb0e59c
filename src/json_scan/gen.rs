//! Generators for the differential tests of the fast readers: JSON trees that keep
//! duplicate keys and say how each string is written, rendered with every free choice
//! (whitespace, which legal escape) taken from a style, and, when noisy, with what
//! serde rejects.

use proptest::prelude::*;

/// A JSON tree that keeps duplicate keys and says how each string is written.
#[derive(Debug, Clone)]
pub(crate) enum J {
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
pub(crate) fn render(j: &J, style: &mut impl Iterator<Item = u8>, noisy: bool, out: &mut String) {
    let ws = |out: &mut String, style: &mut dyn Iterator<Item = u8>| {
        let pick = style.next().unwrap_or(0);
        if noisy && pick >= 248 {
            out.push_str(
                ["\u{c}", "\u{b}", "\u{a0}", "x", ",", "\"", "}", "\u{0}"][usize::from(pick % 8)],
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
                    '\n' if pick.is_multiple_of(2) => out.push_str("\\n"),
                    '/' if pick.is_multiple_of(2) => out.push_str("\\/"),
                    '\u{8}' if pick.is_multiple_of(2) => out.push_str("\\b"),
                    '\u{c}' if pick.is_multiple_of(2) => out.push_str("\\f"),
                    '\r' if pick.is_multiple_of(2) => out.push_str("\\r"),
                    '\t' if pick.is_multiple_of(2) => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || pick % 5 == 1 => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            if pick.is_multiple_of(3) {
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

pub(crate) fn text() -> impl Strategy<Value = String> {
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
pub(crate) fn plain() -> impl Strategy<Value = String> {
    "[ !#-\\[\\]-~]{0,32}"
}

/// String literals serde rejects, or reads as something else.
pub(crate) fn broken_string() -> impl Strategy<Value = J> {
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

pub(crate) fn any_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        broken_string(),
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        prop::sample::select(vec![
            "0",
            "-1",
            "1.5",
            "1e3",
            "18446744073709551615",
            "0847",
            "-0"
        ])
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
pub(crate) fn or_noise<T: std::fmt::Debug + 'static>(
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

pub(crate) fn rendered(line: &J, style: &[u8], noisy: bool) -> String {
    let mut out = String::new();
    let mut style = style.iter().copied().cycle();
    render(line, &mut style, noisy, &mut out);
    out
}

/// 512 cases (a fraction of a second), or `PROPTEST_CASES` for a longer soak.
pub(crate) fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok());
    ProptestConfig {
        cases: cases.unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The frames of a shape test: `template`, then the template with each of `texts` in
/// place of its text (the string `text`, borrowed from it) written raw (quotes,
/// backslashes, control characters and all, so that some are the template's shape and
/// some are not), with `others` put in among them at their indexes.
pub(crate) fn around_template(
    template: &str,
    text: &str,
    texts: &[String],
    others: Vec<(String, prop::sample::Index)>,
) -> Vec<String> {
    let start = text.as_ptr() as usize - template.as_ptr() as usize;
    let end = start + text.len();
    let mut frames = vec![template.to_owned()];
    frames.extend(
        texts
            .iter()
            .map(|t| format!("{}{t}{}", &template[..start], &template[end..])),
    );
    for (other, at) in others {
        frames.insert(at.index(frames.len() + 1), other);
    }
    frames
}

/// An object of the fields present, two of them (chosen by `a` and `b`) swapped: any
/// key order.
pub(crate) fn shuffled(
    fields: impl IntoIterator<Item = Option<(J, J)>>,
    a: prop::sample::Index,
    b: prop::sample::Index,
) -> J {
    let mut fields: Vec<_> = fields.into_iter().flatten().collect();
    if !fields.is_empty() {
        let (a, b) = (a.index(fields.len()), b.index(fields.len()));
        fields.swap(a, b);
    }
    J::Obj(fields)
}

/// `text` with the byte at `cut` changed to `byte`, and `text` cut short there (none
/// for an empty text).
pub(crate) fn broken(text: &str, cut: prop::sample::Index, byte: u8) -> Vec<Vec<u8>> {
    let mut bytes = text.as_bytes().to_vec();
    if bytes.is_empty() {
        return Vec::new();
    }
    let at = cut.index(bytes.len());
    let cut_short = bytes[..at].to_vec();
    bytes[at] = byte;
    vec![bytes, cut_short]
}

/// Texts to put in a template: plain ones (the usual token), and now and then a quote,
/// a backslash, an escape or a control character.
pub(crate) fn texts() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            6 => "[a-zA-Z0-9 .,!?é日本🦀]{0,6}",
            1 => "[a-z\"\\\n\u{0}\u{1f}]{0,4}",
            1 => Just("\\n".to_owned()),
            1 => Just("\"}],\"x\":\"".to_owned()),
        ],
        1..6,
    )
}
