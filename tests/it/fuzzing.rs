//! Property tests over the decoding pipelines (the same functions the cargo-fuzz
//! targets in `fuzz/` run; the invariants are in `testkit/src/invariants.rs`):
//! generated SSE and NDJSON bodies of mostly well-formed, sometimes wrong JSON, with
//! CRLF, CR, comments, `[DONE]`, a BOM, garbage and random bytes, each decoded whole and
//! split at arbitrary read boundaries; header values; model names.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use theory_llm::entry::Wire;
use theory_llm::{Chunk, ErrorKind};
use theory_llm_testkit::invariants::*;
use theory_llm_testkit::transcript;

// ---- generators ----

/// Strings that matter to the decoders, and arbitrary ones.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        2 => prop::sample::select(vec![
            "stop", "length", "error", "content_filter", "tool_calls", "load", "a", " ",
            "héllo 🦀", "日本語", "\n", "\r\n", "\"", "\\", "[DONE]", "data: x\n\n", "\u{feff}",
            "\u{0}", "gpt-4o-mini", "qwen2.5:0.5b", "rate_limit_exceeded",
            "insufficient_quota", "429", SECRET, "sk-fuzz-01234567",
        ])
        .prop_map(str::to_owned),
        3 => any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..1000).prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(1e300)),
    ]
}

/// Any JSON value, nested, with object keys from `keys` (the fields the decoders
/// read) and arbitrary ones.
fn value(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    let key = prop_oneof![
        4 => prop::sample::select(keys).prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

const OPENAI_KEYS: &[&str] = &[
    "choices",
    "delta",
    "message",
    "content",
    "reasoning_content",
    "reasoning",
    "finish_reason",
    "index",
    "usage",
    "prompt_tokens",
    "completion_tokens",
    "model",
    "error",
    "message",
    "code",
    "type",
    "timings",
    "prompt_ms",
    "predicted_ms",
    "role",
];
const OLLAMA_KEYS: &[&str] = &[
    "model",
    "message",
    "content",
    "thinking",
    "done",
    "done_reason",
    "error",
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
    "role",
    "tool_calls",
];

/// `Some(well-typed)` or, now and then, any value or nothing: fields that are mostly
/// right, sometimes wrong, sometimes missing.
fn field<S: Strategy<Value = Value> + 'static>(
    typed: S,
    keys: &'static [&'static str],
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => typed.prop_map(Some),
        1 => value(keys).prop_map(Some),
        3 => Just(None),
    ]
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect(),
    )
}

/// An OpenAI `chat.completion.chunk`, mostly well formed, or any JSON value.
fn openai_event() -> impl Strategy<Value = Value> {
    let k = OPENAI_KEYS;
    let s = || text().prop_map(Value::String);
    let delta = (field(s(), k), field(s(), k), field(s(), k)).prop_map(|(c, rc, r)| {
        object(vec![
            ("content", c),
            ("reasoning_content", rc),
            ("reasoning", r),
        ])
    });
    let choice = (
        field((0u32..3).prop_map(Value::from), k),
        field(delta, k),
        field(s(), k),
    )
        .prop_map(|(i, d, f)| object(vec![("index", i), ("delta", d), ("finish_reason", f)]));
    let usage = (field(number(), k), field(number(), k))
        .prop_map(|(p, c)| object(vec![("prompt_tokens", p), ("completion_tokens", c)]));
    let error = prop_oneof![
        s(),
        (field(s(), k), field(s(), k), field(s(), k)).prop_map(|(m, c, t)| object(vec![
            ("message", m),
            ("code", c),
            ("type", t)
        ])),
    ];
    let chunk = (
        field(
            prop::collection::vec(choice, 0..3).prop_map(Value::Array),
            k,
        ),
        field(usage, k),
        field(s(), k),
        prop_oneof![4 => Just(None), 1 => field(error, k)],
    )
        .prop_map(|(c, u, m, e)| {
            object(vec![
                ("choices", c),
                ("usage", u),
                ("model", m),
                ("error", e),
            ])
        });
    prop_oneof![4 => chunk, 1 => value(OPENAI_KEYS)]
}

/// An Ollama `/api/chat` line, mostly well formed, or any JSON value.
fn ollama_line() -> impl Strategy<Value = Value> {
    let k = OLLAMA_KEYS;
    let s = || text().prop_map(Value::String);
    let message = (field(s(), k), field(s(), k))
        .prop_map(|(c, t)| object(vec![("content", c), ("thinking", t)]));
    let metrics = prop::collection::vec(field(number(), k), 6).prop_map(|m| {
        let names = [
            "total_duration",
            "load_duration",
            "prompt_eval_count",
            "prompt_eval_duration",
            "eval_count",
            "eval_duration",
        ];
        names.into_iter().zip(m).collect::<Vec<_>>()
    });
    let line = (
        field(s(), k),
        field(message, k),
        field(
            prop_oneof![3 => Just(json!(false)), 1 => Just(json!(true))],
            k,
        ),
        field(s(), k),
        prop_oneof![6 => Just(None), 1 => field(s(), k)],
        metrics,
    )
        .prop_map(|(m, msg, done, reason, err, metrics)| {
            let mut fields = vec![
                ("model", m),
                ("message", msg),
                ("done", done),
                ("done_reason", reason),
                ("error", err),
            ];
            fields.extend(metrics);
            object(fields)
        });
    prop_oneof![4 => line, 1 => value(OLLAMA_KEYS)]
}

/// One piece of an SSE body.
#[derive(Debug, Clone)]
enum Sse {
    /// An event with this JSON as data: compact or pretty (several `data:` lines),
    /// ended by one of the blank-line forms.
    Event(Value, bool, &'static str),
    Done(&'static str),
    Comment(String),
    /// A field that is not data (`event:`, `id:`, `retry:`, unknown), or a bare line.
    Field(&'static str),
    Blank(&'static str),
    /// Anything at all.
    Garbage(Vec<u8>),
}

/// The ways to end a line, and the blank line after an event.
const EOL: &[&str] = &["\n", "\r\n", "\r"];
const END: &[&str] = &["\n\n", "\r\n\r\n", "\r\r", "\n\r\n", "\r\n\n"];

fn sse_piece(garbage: bool) -> impl Strategy<Value = Sse> {
    let garbage_weight = if garbage { 1 } else { 0 };
    prop_oneof![
        8 => (openai_event(), any::<bool>(), prop::sample::select(END))
            .prop_map(|(v, pretty, end)| Sse::Event(v, pretty, end)),
        1 => prop::sample::select(END).prop_map(Sse::Done),
        1 => "[ -~]{0,12}".prop_map(Sse::Comment),
        1 => prop::sample::select(vec![
            "event: message\n", "event: keepalive\n\n", "id: 7\r\n", "retry: 10\n",
            "x-unknown: 1\n", "dat\n", "event\r",
        ])
        .prop_map(Sse::Field),
        1 => prop::sample::select(EOL).prop_map(Sse::Blank),
        garbage_weight => prop::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(b':'), any::<u8>()],
            0..24,
        )
        .prop_map(Sse::Garbage),
    ]
}

/// Renders SSE pieces: the body, and the data frames a correct framer finds in it
/// (only meaningful without garbage).
fn render_sse(pieces: &[Sse]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut body = Vec::new();
    let mut frames = Vec::new();
    for piece in pieces {
        match piece {
            Sse::Event(v, pretty, end) => {
                let data = if *pretty {
                    serde_json::to_string_pretty(v).unwrap()
                } else {
                    v.to_string()
                };
                let eol = &end[..end.len() / 2];
                for line in data.split('\n') {
                    body.extend_from_slice(b"data: ");
                    body.extend_from_slice(line.as_bytes());
                    body.extend_from_slice(eol.as_bytes());
                }
                body.extend_from_slice(&end.as_bytes()[end.len() / 2..]);
                frames.push(data.into_bytes());
            }
            Sse::Done(end) => {
                body.extend_from_slice(b"data: [DONE]");
                body.extend_from_slice(end.as_bytes());
                frames.push(b"[DONE]".to_vec());
            }
            Sse::Comment(c) => body.extend_from_slice(format!(":{c}\n").as_bytes()),
            Sse::Field(f) => body.extend_from_slice(f.as_bytes()),
            Sse::Blank(eol) => body.extend_from_slice(eol.as_bytes()),
            Sse::Garbage(g) => body.extend_from_slice(g),
        }
    }
    (body, frames)
}

/// One line of an NDJSON body.
#[derive(Debug, Clone)]
enum Line {
    Json(Value, &'static str),
    Blank(&'static str),
    Garbage(Vec<u8>),
}

fn ndjson_line(garbage: bool) -> impl Strategy<Value = Line> {
    let garbage_weight = if garbage { 1 } else { 0 };
    prop_oneof![
        8 => (ollama_line(), prop::sample::select(&["\n", "\r\n"][..]))
            .prop_map(|(v, eol)| Line::Json(v, eol)),
        1 => prop::sample::select(&["\n", "\r\n", " \n", "\t\r\n"][..]).prop_map(Line::Blank),
        garbage_weight => prop::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'{'), any::<u8>()],
            0..24,
        )
        .prop_map(Line::Garbage),
    ]
}

fn render_ndjson(lines: &[Line]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut body = Vec::new();
    let mut frames = Vec::new();
    for line in lines {
        match line {
            Line::Json(v, eol) => {
                let text = v.to_string();
                body.extend_from_slice(text.as_bytes());
                body.extend_from_slice(eol.as_bytes());
                frames.push(text.into_bytes());
            }
            Line::Blank(b) => body.extend_from_slice(b.as_bytes()),
            Line::Garbage(g) => body.extend_from_slice(g),
        }
    }
    (body, frames)
}

/// Bytes that look a little like either protocol.
fn noisy_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<u8>().prop_map(|b| vec![b]),
            2 => prop::sample::select(b"\n\r: {}[]\"\\,".to_vec()).prop_map(|b| vec![b]),
            1 => prop::sample::select(vec![
                &b"data: "[..], b"[DONE]", b"\xef\xbb\xbf", b"\"done\":true", b"\"choices\":[",
                b"\"finish_reason\":\"stop\"", b"\xf0\x9f\xa6", b"\xff",
            ])
            .prop_map(<[u8]>::to_vec),
        ],
        0..120,
    )
    .prop_map(|v| v.concat())
}

fn cut(body: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.iter_mut().for_each(|c| *c %= body.len() + 1);
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut last = 0;
    for c in cuts {
        pieces.push(&body[last..c]);
        last = c;
    }
    pieces.push(&body[last..]);
    pieces
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any::<usize>(), 0..12)
}

/// 256 cases (about a second in all), or `PROPTEST_CASES` for a longer soak. Failures
/// are not saved to proptest-regressions/: a failure is pinned by a named
/// regression test instead.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---- properties ----

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sse_bodies_keep_the_invariants_in_any_split(
        pieces in prop::collection::vec(sse_piece(true), 0..8),
        bom in prop::bool::weighted(0.1),
        cuts in cuts(),
        sizes in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let (mut body, _) = render_sse(&pieces);
        if bom {
            body.splice(0..0, b"\xef\xbb\xbf".iter().copied());
        }
        let whole = decode_openai_sse(&[&body]);
        prop_assert_eq!(check(&whole, SECRET), Ok(()));
        let split = decode_openai_sse(&cut(&body, cuts));
        prop_assert_eq!(check(&split, SECRET), Ok(()));
        prop_assert_eq!(describe(&split), describe(&whole));
        fuzz_body(&body, &sizes, SECRET, decode_openai_sse, decode_openai_sse_capped);
    }

    #[test]
    fn sse_framing_passes_every_event_to_the_decoder_unchanged(
        pieces in prop::collection::vec(sse_piece(false), 0..8),
        cuts in cuts(),
    ) {
        let (body, frames) = render_sse(&pieces);
        let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let direct = map_frames(Wire::OpenAiSse, &frames);
        prop_assert_eq!(check(&direct, SECRET), Ok(()));
        prop_assert_eq!(describe(&decode_openai_sse(&cut(&body, cuts))), describe(&direct));
    }

    #[test]
    fn ndjson_bodies_keep_the_invariants_in_any_split(
        lines in prop::collection::vec(ndjson_line(true), 0..8),
        last_newline in any::<bool>(),
        cuts in cuts(),
        sizes in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let (mut body, _) = render_ndjson(&lines);
        if !last_newline && body.last() == Some(&b'\n') {
            body.pop();
        }
        let whole = decode_ollama_ndjson(&[&body]);
        prop_assert_eq!(check(&whole, ""), Ok(()));
        let split = decode_ollama_ndjson(&cut(&body, cuts));
        prop_assert_eq!(check(&split, ""), Ok(()));
        prop_assert_eq!(describe(&split), describe(&whole));
        fuzz_body(&body, &sizes, "", decode_ollama_ndjson, decode_ollama_ndjson_capped);
    }

    #[test]
    fn ndjson_framing_passes_every_line_to_the_decoder_unchanged(
        lines in prop::collection::vec(ndjson_line(false), 0..8),
        cuts in cuts(),
    ) {
        let (body, frames) = render_ndjson(&lines);
        let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let direct = map_frames(Wire::OllamaNdjson, &frames);
        prop_assert_eq!(check(&direct, ""), Ok(()));
        prop_assert_eq!(describe(&decode_ollama_ndjson(&cut(&body, cuts))), describe(&direct));
    }

    #[test]
    fn random_bytes_keep_the_invariants_in_any_split(
        body in noisy_bytes(),
        sizes in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        fuzz_body(&body, &sizes, SECRET, decode_openai_sse, decode_openai_sse_capped);
        fuzz_body(&body, &sizes, "", decode_ollama_ndjson, decode_ollama_ndjson_capped);
        let mut data = vec![u8::try_from(sizes.len()).unwrap()];
        data.extend_from_slice(&sizes);
        data.extend_from_slice(&body);
        fuzz_openai_sse(&data);
        fuzz_ollama_ndjson(&data);
    }

    #[test]
    fn any_json_or_bytes_as_one_frame_keep_the_invariants(
        openai in openai_event(),
        ollama in ollama_line(),
        bytes in noisy_bytes(),
    ) {
        fuzz_map_openai(openai.to_string().as_bytes());
        fuzz_map_openai(&bytes);
        fuzz_map_ollama(ollama.to_string().as_bytes());
        fuzz_map_ollama(&bytes);
    }

    #[test]
    fn any_header_values_keep_the_invariants(
        millis in prop_oneof![
            "[-+]?[0-9]{0,30}(\\.[0-9]{0,5})?(e[-+]?[0-9]{1,3})?",
            "(NaN|inf|-inf|soon| 12 |)",
            "\\PC{0,12}",
        ],
        after in prop_oneof![
            "[0-9]{0,25}",
            "(Mon|Wed|Sun), [0-9]{2} (Jan|Oct|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
            "\\PC{0,20}",
        ],
        content_type in "\\PC{0,30}",
        noise in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        fuzz_headers(format!("{millis}\n{after}\n{content_type}").as_bytes());
        fuzz_headers(&noise);
    }

    #[test]
    fn any_model_name_keeps_the_invariants(
        name in "\\PC{0,24}",
        dated in "[a-zé🚀モ-]{0,6}-20[0-9]{2}-[0-9]{2}-[0-9]{2}",
        bytes in prop::collection::vec(any::<u8>(), 0..24),
    ) {
        fuzz_model_name(name.as_bytes());
        fuzz_model_name(dated.as_bytes());
        fuzz_model_name(&bytes);
    }
}

// ---- regressions ----

#[test]
fn a_wrong_typed_field_holding_the_key_does_not_leak_it_through_the_json_error() {
    // Regression: the JSON parser's own message quotes a string of the wrong type
    // (`invalid type: string "sk-…", expected a sequence`), and that part of the
    // "not a chat completion chunk" error was not redacted.
    let frame = format!(r#"{{"choices":"{SECRET}"}}"#);
    let items = map_openai_frame(frame.as_bytes());
    assert_eq!(check(&items, SECRET), Ok(()), "{:?}", describe(&items));
    assert!(matches!(&items[..], [Err(e)] if e.kind() == ErrorKind::Protocol));
}

#[test]
fn an_sse_body_starting_with_a_bom_decodes_instead_of_panicking() {
    // Regression: eventsource-stream 0.2.3 panicked on it (see src/framing/sse/reference.rs, `Edges`).
    let body =
        b"\xef\xbb\xbfdata: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\r\r";
    let items = decode_openai_sse(&[body]);
    assert_eq!(describe(&items)[0], r#"Text("hi")"#);
    assert!(matches!(items.last(), Some(Ok(Chunk::Finish(_)))));
    fuzz_openai_sse(&[&[1, 1][..], body].concat());
}

// ---- the harness itself ----

#[test]
fn split_by_cuts_where_the_sizes_say() {
    assert_eq!(split_by(b"abcdef", &[]), vec![&b"abcdef"[..]]);
    assert_eq!(
        split_by(b"abcdef", &[1, 2]),
        vec![&b"a"[..], b"bc", b"d", b"ef", b""]
    );
    assert_eq!(
        split_by(b"ab", &[0, 33]),
        vec![&b""[..], b"a", b"", b"b", b""]
    );
}

#[test]
fn check_catches_each_broken_invariant() {
    use theory_llm::{Error, Finish};
    let finish = || Ok(Chunk::from(Finish::default()));
    let text = |t: &str| Ok(Chunk::Text(t.to_owned()));
    let err = |kind, m: &str| Err(Error::new(kind, m));
    assert_eq!(check(&[text("a"), finish()], SECRET), Ok(()));
    assert_eq!(
        check(&[text("a"), err(ErrorKind::Protocol, "bad")], SECRET),
        Ok(())
    );
    // Ollama has no key to hide.
    assert_eq!(check(&[err(ErrorKind::Server, SECRET)], ""), Ok(()));
    for bad in [
        vec![],
        vec![text("a")],
        vec![text(""), finish()],
        vec![finish(), text("a")],
        vec![finish(), finish()],
        vec![err(ErrorKind::Protocol, "bad"), finish()],
        vec![err(ErrorKind::Protocol, " ")],
        vec![err(ErrorKind::Auth, "no")],
        vec![err(ErrorKind::Server, &format!("key {SECRET}"))],
    ] {
        assert!(check(&bad, SECRET).is_err(), "{:?}", describe(&bad));
    }
}

#[test]
fn the_recorded_transcripts_pass_every_target() {
    for (path, finishes) in [
        ("openai-docs/chat-stream.openapi-example.sse", true),
        ("live/chat_unicode_emoji_cjk_include_usage.body", true),
        ("llama-server/midstream_error_kv_pool_exhausted.body", false),
    ] {
        let body = transcript(path);
        let items = decode_openai_sse(&[&body]);
        let finished = matches!(items.last(), Some(Ok(Chunk::Finish(_))));
        assert_eq!(finished, finishes, "{path}: {:#?}", describe(&items));
        fuzz_openai_sse(&[[3, 1, 7, 30].as_slice(), &body].concat());
    }
    for (path, finishes) in [
        ("ollama-compat/chat_unicode.body", true),
        ("live/ollama_chat_num_predict_5.body", true),
        ("ollama-compat/chat_backend_midstream_error.body", false),
    ] {
        let body = transcript(path);
        let items = decode_ollama_ndjson(&[&body]);
        let finished = matches!(items.last(), Some(Ok(Chunk::Finish(_))));
        assert_eq!(finished, finishes, "{path}: {:#?}", describe(&items));
        fuzz_ollama_ndjson(&[[2, 5, 11].as_slice(), &body].concat());
    }
}
