//! Property tests over the decoding pipelines (the same functions the cargo-fuzz
//! targets in `fuzz/` run; the invariants are in `testkit/src/invariants.rs`):
//! generated SSE and NDJSON bodies of mostly well-formed, sometimes wrong JSON (OpenAI,
//! Ollama and Gemini shapes), with CRLF, CR, comments, `[DONE]`, a BOM, garbage and
//! random bytes, each decoded whole and split at arbitrary read boundaries; header
//! values; model names.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
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

const GEMINI_KEYS: &[&str] = &[
    "candidates",
    "content",
    "parts",
    "text",
    "thought",
    "thoughtSignature",
    "functionCall",
    "id",
    "name",
    "args",
    "finishReason",
    "finishMessage",
    "index",
    "usageMetadata",
    "promptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "cachedContentTokenCount",
    "promptFeedback",
    "blockReason",
    "modelVersion",
    "responseId",
    "error",
    "status",
    "message",
    "details",
    "retryDelay",
];

/// A Gemini `GenerateContentResponse`, mostly well formed, or any JSON value.
fn gemini_response() -> impl Strategy<Value = Value> {
    let k = GEMINI_KEYS;
    let s = || text().prop_map(Value::String);
    let named = |names: Vec<&'static str>| prop_oneof![3 => prop::sample::select(names).prop_map(Value::from), 1 => text().prop_map(Value::String)];
    let call = (field(s(), k), field(s(), k), field(value(k), k))
        .prop_map(|(id, name, args)| object(vec![("id", id), ("name", name), ("args", args)]));
    let part = (
        field(s(), k),
        field(any::<bool>().prop_map(Value::Bool), k),
        prop_oneof![2 => Just(None), 1 => field(s(), k)],
        prop_oneof![3 => Just(None), 1 => field(call, k)],
    )
        .prop_map(|(t, thought, sig, fc)| {
            object(vec![
                ("text", t),
                ("thought", thought),
                ("thoughtSignature", sig),
                ("functionCall", fc),
            ])
        });
    let finish = named(vec![
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "MALFORMED_FUNCTION_CALL",
        "OTHER",
    ]);
    let candidate = (
        field(
            prop::collection::vec(part, 0..3).prop_map(|parts| json!({ "parts": parts })),
            k,
        ),
        prop_oneof![2 => Just(None), 1 => field(finish, k)],
        field((0u32..2).prop_map(Value::from), k),
    )
        .prop_map(|(c, f, i)| object(vec![("content", c), ("finishReason", f), ("index", i)]));
    let usage = prop::collection::vec(field(number(), k), 4).prop_map(|counts| {
        let names = [
            "promptTokenCount",
            "candidatesTokenCount",
            "thoughtsTokenCount",
            "cachedContentTokenCount",
        ];
        object(names.into_iter().zip(counts).collect())
    });
    let block = named(vec![
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKED_REASON_UNSPECIFIED",
    ])
    .prop_map(|reason| json!({ "blockReason": reason }));
    let status = named(vec![
        "RESOURCE_EXHAUSTED",
        "UNAVAILABLE",
        "INVALID_ARGUMENT",
    ]);
    let error = (field(status, k), field(s(), k))
        .prop_map(|(status, message)| object(vec![("status", status), ("message", message)]));
    let response = (
        field(
            prop::collection::vec(candidate, 0..2).prop_map(Value::Array),
            k,
        ),
        field(usage, k),
        prop_oneof![8 => Just(None), 1 => field(block, k)],
        field(s(), k),
        prop_oneof![8 => Just(None), 1 => field(error, k)],
    )
        .prop_map(|(c, u, feedback, id, e)| {
            object(vec![
                ("candidates", c),
                ("usageMetadata", u),
                ("promptFeedback", feedback),
                ("responseId", id),
                ("error", e),
            ])
        });
    prop_oneof![4 => response, 1 => value(GEMINI_KEYS)]
}

/// One piece of a Gemini SSE body: mostly response events, sometimes anything else.
fn gemini_piece() -> impl Strategy<Value = Sse> {
    prop_oneof![
        8 => (gemini_response(), any::<bool>(), prop::sample::select(END))
            .prop_map(|(v, pretty, end)| Sse::Event(v, pretty, end)),
        1 => "[ -~]{0,12}".prop_map(Sse::Comment),
        1 => prop::sample::select(EOL).prop_map(Sse::Blank),
        1 => prop::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(b':'), any::<u8>()],
            0..24,
        )
        .prop_map(Sse::Garbage),
    ]
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
        let whole = decode(wire("openai"), &[&body]);
        prop_assert_eq!(check(&whole, SECRET), Ok(()));
        let split = decode(wire("openai"), &cut(&body, cuts));
        prop_assert_eq!(check(&split, SECRET), Ok(()));
        prop_assert_eq!(describe(&split), describe(&whole));
        fuzz_body(wire("openai"), &body, &sizes);
    }

    #[test]
    fn sse_framing_passes_every_event_to_the_decoder_unchanged(
        pieces in prop::collection::vec(sse_piece(false), 0..8),
        cuts in cuts(),
    ) {
        let (body, frames) = render_sse(&pieces);
        let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let direct = map_frames(wire("openai"), &frames);
        prop_assert_eq!(check(&direct, SECRET), Ok(()));
        prop_assert_eq!(describe(&decode(wire("openai"), &cut(&body, cuts))), describe(&direct));
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
        let whole = decode(wire("ollama"), &[&body]);
        prop_assert_eq!(check(&whole, ""), Ok(()));
        let split = decode(wire("ollama"), &cut(&body, cuts));
        prop_assert_eq!(check(&split, ""), Ok(()));
        prop_assert_eq!(describe(&split), describe(&whole));
        fuzz_body(wire("ollama"), &body, &sizes);
    }

    #[test]
    fn ndjson_framing_passes_every_line_to_the_decoder_unchanged(
        lines in prop::collection::vec(ndjson_line(false), 0..8),
        cuts in cuts(),
    ) {
        let (body, frames) = render_ndjson(&lines);
        let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let direct = map_frames(wire("ollama"), &frames);
        prop_assert_eq!(check(&direct, ""), Ok(()));
        prop_assert_eq!(describe(&decode(wire("ollama"), &cut(&body, cuts))), describe(&direct));
    }

    #[test]
    fn random_bytes_keep_the_invariants_in_any_split(
        body in noisy_bytes(),
        sizes in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        // Every wire format of the table: a provider added later is fuzzed too.
        for wire in theory_llm::__private::Wire::all() {
            fuzz_body(wire, &body, &sizes);
        }
        let mut data = vec![u8::try_from(sizes.len()).unwrap()];
        data.extend_from_slice(&sizes);
        data.extend_from_slice(&body);
        for pick in 0..8u8 {
            fuzz_any_wire(&[&[pick][..], &data].concat());
        }
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
    fn gemini_bodies_keep_the_invariants_in_any_split(
        pieces in prop::collection::vec(gemini_piece(), 0..8),
        cuts in cuts(),
        sizes in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let (body, _) = render_sse(&pieces);
        let whole = decode(wire("gemini"), &[&body]);
        prop_assert_eq!(check(&whole, SECRET), Ok(()));
        let split = decode(wire("gemini"), &cut(&body, cuts));
        prop_assert_eq!(describe(&split), describe(&whole));
        fuzz_body(wire("gemini"), &body, &sizes);
    }

    #[test]
    fn any_gemini_response_or_bytes_as_one_frame_keep_the_invariants(
        response in gemini_response(),
        responses in prop::collection::vec(gemini_response(), 0..3),
        bytes in noisy_bytes(),
    ) {
        // One response, a JSON array of them (a reply of application/json), any bytes.
        for frame in [response.to_string(), Value::Array(responses).to_string()] {
            let items = map_frames(wire("gemini"), &[frame.as_bytes()]);
            prop_assert_eq!(check(&items, SECRET), Ok(()));
        }
        prop_assert_eq!(check(&map_frames(wire("gemini"), &[&bytes]), SECRET), Ok(()));
        fuzz_wire(wire("gemini"), &bytes);
    }

    #[test]
    fn token_frames_with_other_texts_decode_as_parsed(
        texts in prop::collection::vec("[a-z \"\\\\é🦀\u{1}]{0,5}", 1..5),
    ) {
        // A recorded llama.cpp token chunk followed by itself with other texts (some of
        // its shape, some not).
        let template = r#"{"choices":[{"finish_reason":null,"index":0,"delta":{"content":" the"}}],"created":1733000000,"id":"chatcmpl-x","model":"smollm2","system_fingerprint":"b1-x","object":"chat.completion.chunk"}"#;
        let data = [template, texts.join("\n").as_str()].join("\n");
        same_shape(wire("openai"), data.as_bytes());
        let texts: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        let plain = texts.iter().any(|t| !t.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20));
        let hit = theory_llm::__private::same_shape_agrees(wire("openai"), template.as_bytes(), &texts);
        prop_assert_eq!(hit, Ok(plain));
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
    let items = decode(wire("openai"), &[body]);
    assert_eq!(describe(&items)[0], r#"Text("hi")"#);
    assert!(matches!(items.last(), Some(Ok(Chunk::Finish(_)))));
    fuzz_wire(wire("openai"), &[&[1, 1][..], body].concat());
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
    let text = |t: &str| Ok(Chunk::Text(t.into()));
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
        let items = decode(wire("openai"), &[&body]);
        let finished = matches!(items.last(), Some(Ok(Chunk::Finish(_))));
        assert_eq!(finished, finishes, "{path}: {:#?}", describe(&items));
        fuzz_wire(wire("openai"), &[[3, 1, 7, 30].as_slice(), &body].concat());
    }
    for (path, finishes) in [
        ("gemini/text_stream.sse", true),
        ("gemini/thinking_stream.sse", true),
        ("gemini/parallel_calls_stream.sse", true),
        ("gemini/call_with_id_usage_last.sse", true),
        ("gemini/blocked_prompt_stream.sse", false),
        ("gemini/error_after_text_stream.sse", false),
    ] {
        let body = transcript(path);
        let items = decode(wire("gemini"), &[&body]);
        let finished = matches!(items.last(), Some(Ok(Chunk::Finish(_))));
        assert_eq!(finished, finishes, "{path}: {:#?}", describe(&items));
        fuzz_wire(wire("gemini"), &[[3, 1, 7, 30].as_slice(), &body].concat());
    }
    for (path, finishes) in [
        ("ollama-compat/chat_unicode.body", true),
        ("live/ollama_chat_num_predict_5.body", true),
        ("ollama-compat/chat_backend_midstream_error.body", false),
    ] {
        let body = transcript(path);
        let items = decode(wire("ollama"), &[&body]);
        let finished = matches!(items.last(), Some(Ok(Chunk::Finish(_))));
        assert_eq!(finished, finishes, "{path}: {:#?}", describe(&items));
        fuzz_wire(wire("ollama"), &[[2, 5, 11].as_slice(), &body].concat());
    }
}

// ---- tool calls ----

/// How a stream ties fragments to their call: OpenAI's `index` per call; index 0 for
/// every call, told apart by new ids (vLLM, lmdeploy); or no index, a new id starting
/// each call (Gemini).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Indexing {
    PerCall,
    ZeroReused,
    Absent,
}

/// One generated tool call: what it must assemble to, and how it is sent.
#[derive(Debug, Clone)]
struct GenCall {
    name: &'static str,
    arguments: Value,
    /// The id on its first fragment (always, unless `PerCall`).
    id: Option<String>,
    /// The arguments' JSON text pretty-printed.
    pretty: bool,
    /// Cut points in the arguments' text (as character positions, modulo its length).
    cuts: Vec<usize>,
    /// The name comes on the second fragment, not the first.
    name_later: bool,
    /// The arguments come as a JSON object, in one fragment (not JSON text).
    as_object: bool,
    /// `{}` sent as `""` (a tool without parameters).
    empty_text: bool,
    /// What later fragments carry as id: 0 none, 1 `""`, 2 the same id; and whether
    /// they repeat the name.
    later_id: u8,
    later_name: bool,
    /// A text chunk (with `tool_calls: []`) comes before each fragment marked.
    text_before: Vec<bool>,
}

fn argument_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        prop::sample::select(vec![0.5, -1.25, 1e-7, 3.0e10]).prop_map(Value::from),
        prop_oneof![
            prop::sample::select(vec![
                "Paris",
                "",
                "日本語",
                "🦀",
                "a\"b",
                "\\",
                "\n",
                "{\"x\":1}",
                "\u{0}"
            ])
            .prop_map(str::to_owned),
            "\\PC{0,8}",
        ]
        .prop_map(Value::String),
    ];
    let key = prop::sample::select(vec!["city", "unit", "q", "é", "a b", ""]);
    let field = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(vec!["k", "v"]), inner, 0..3)
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
        ]
    });
    prop::collection::btree_map(key, field, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn gen_call() -> impl Strategy<Value = GenCall> {
    (
        (
            prop::sample::select(vec!["get_weather", "get_time", "search", "now"]),
            argument_value(),
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.2),
            prop::collection::vec(any::<usize>(), 0..6),
        ),
        (
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.15),
            0u8..3,
            any::<bool>(),
            prop::collection::vec(prop::bool::weighted(0.15), 8),
        ),
    )
        .prop_map(
            |(
                (name, arguments, pretty, has_id, name_later, cuts),
                (as_object, empty_text, later_id, later_name, text_before),
            )| GenCall {
                name,
                arguments,
                // The id itself is set by `tool_call_stream`, which knows the others.
                id: has_id.then(String::new),
                pretty,
                cuts,
                name_later,
                as_object,
                empty_text,
                later_id,
                later_name,
                text_before,
            },
        )
}

/// A Chat Completions SSE body with these calls, then `finish` (the usage after it, if
/// asked) and `[DONE]`; every event ended by `end`.
fn render_tool_calls(
    indexing: Indexing,
    calls: &[GenCall],
    finish: &str,
    end: &str,
    usage: bool,
) -> Vec<u8> {
    let event = |delta: Value, finish: Option<&str>| {
        let chunk = json!({
            "id": "chatcmpl-x",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {chunk}{end}")
    };
    let mut body = event(json!({"role": "assistant", "content": null}), None);
    for (k, call) in calls.iter().enumerate() {
        let id = call.id.as_deref().unwrap_or("");
        let text = if call.arguments == json!({}) && call.empty_text {
            String::new()
        } else if call.pretty {
            serde_json::to_string_pretty(&call.arguments).unwrap()
        } else {
            call.arguments.to_string()
        };
        // The arguments in pieces (JSON text), or whole (an object).
        let pieces: Vec<Value> = if call.as_object {
            vec![call.arguments.clone(), json!("")]
        } else {
            let chars: Vec<char> = text.chars().collect();
            let mut cuts: Vec<usize> = call.cuts.iter().map(|c| c % (chars.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(chars.len());
            let mut last = 0;
            let mut pieces = Vec::new();
            for c in cuts {
                pieces.push(Value::String(chars[last..c].iter().collect()));
                last = c;
            }
            pieces
        };
        let fragments = pieces.len().max(if call.name_later { 2 } else { 1 });
        for f in 0..fragments {
            let mut fragment = Map::new();
            match indexing {
                Indexing::PerCall => {
                    fragment.insert("index".into(), json!(k));
                }
                Indexing::ZeroReused => {
                    fragment.insert("index".into(), json!(0));
                }
                Indexing::Absent => {}
            }
            let mut function = Map::new();
            if f == 0 {
                if !id.is_empty() {
                    fragment.insert("id".into(), json!(id));
                }
                fragment.insert("type".into(), json!("function"));
                if !call.name_later {
                    function.insert("name".into(), json!(call.name));
                }
            } else {
                match call.later_id {
                    1 => {
                        fragment.insert("id".into(), json!(""));
                    }
                    2 if !id.is_empty() => {
                        fragment.insert("id".into(), json!(id));
                    }
                    _ => {}
                }
                if (f == 1 && call.name_later) || call.later_name {
                    function.insert("name".into(), json!(call.name));
                }
            }
            function.insert(
                "arguments".into(),
                pieces.get(f).cloned().unwrap_or(json!("")),
            );
            fragment.insert("function".into(), Value::Object(function));
            if call.text_before[f % call.text_before.len()] {
                body.push_str(&event(
                    json!({"content": "Let me check. ", "tool_calls": []}),
                    None,
                ));
            }
            body.push_str(&event(json!({"tool_calls": [fragment]}), None));
        }
    }
    body.push_str(&event(json!({}), Some(finish)));
    if usage {
        let chunk = json!({"object": "chat.completion.chunk", "choices": [],
                           "usage": {"prompt_tokens": 9, "completion_tokens": 4}});
        body.push_str(&format!("data: {chunk}{end}"));
    }
    body.push_str(&format!("data: [DONE]{end}"));
    body.into_bytes()
}

fn tool_call_stream(
) -> impl Strategy<Value = (Indexing, Vec<GenCall>, &'static str, &'static str, bool)> {
    (
        prop::sample::select(vec![
            Indexing::PerCall,
            Indexing::ZeroReused,
            Indexing::Absent,
        ]),
        prop::collection::vec(gen_call(), 1..4),
        prop::sample::select(vec!["tool_calls", "stop"]),
        prop::sample::select(END),
        any::<bool>(),
    )
        .prop_map(|(indexing, mut calls, finish, end, usage)| {
            for (k, call) in calls.iter_mut().enumerate() {
                // Without a per-call index, a call is told from the one before by a new id.
                if call.id.is_some() || indexing != Indexing::PerCall {
                    call.id = Some(format!("call_{k}_{}", call.name));
                }
            }
            (indexing, calls, finish, end, usage)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_split_of_a_tool_call_stream_gives_the_same_calls(
        (indexing, calls, finish, end, usage) in tool_call_stream(),
        cuts in cuts(),
        sizes in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let body = render_tool_calls(indexing, &calls, finish, end, usage);
        let whole = decode(wire("openai"), &[&body]);
        prop_assert_eq!(check(&whole, SECRET), Ok(()));
        prop_assert_eq!(check_tool_calls(&whole), Ok(()), "{:#?}", describe(&whole));
        let expected = describe(&whole);
        let bytewise: Vec<&[u8]> = body.chunks(1).collect();
        for pieces in [cut(&body, cuts), bytewise] {
            let items = decode(wire("openai"), &pieces);
            prop_assert_eq!(check(&items, SECRET), Ok(()));
            prop_assert_eq!(describe(&items), expected.clone());
        }
        fuzz_body(wire("openai"), &body, &sizes);

        // The calls generated, complete, in order.
        let complete: Vec<&theory_llm::ToolCall> = whole
            .iter()
            .filter_map(|item| match item {
                Ok(Chunk::ToolCall(call)) => Some(&**call),
                _ => None,
            })
            .collect();
        prop_assert_eq!(complete.len(), calls.len(), "{:#?}", expected);
        for (k, (got, want)) in complete.iter().zip(&calls).enumerate() {
            prop_assert_eq!(got.name.as_str(), want.name);
            prop_assert_eq!(&got.arguments, &want.arguments);
            let id = want.id.clone().unwrap_or_else(|| format!("call_{k}"));
            prop_assert_eq!(&got.id, &id);
        }
        // The finish: the server's reason from the decoder; tool_calls for the reply.
        let Some(Ok(Chunk::Finish(f))) = whole.last() else {
            return Err(TestCaseError::fail(format!("no finish: {expected:#?}")));
        };
        let server = theory_llm::FinishReason::parse(finish);
        prop_assert_eq!(&f.reason, &server);
        let mut collector =
            theory_llm::reply::Collector::new(theory_llm::kit::StreamInfo::new("openai", "m"));
        for item in &whole {
            collector.push(item.as_ref().unwrap()).unwrap();
        }
        let reply = collector.finish().unwrap();
        prop_assert_eq!(reply.finish_reason, theory_llm::FinishReason::ToolCalls);
        prop_assert_eq!(reply.tool_calls.len(), calls.len());
    }

    #[test]
    fn tool_call_fragments_from_any_bytes_keep_the_invariants(
        data in prop::collection::vec(
            prop_oneof![
                3 => any::<u8>(),
                // Small values pick the common cases: an index, a name, a JSON piece.
                2 => 0u8..32,
            ],
            0..64,
        ),
    ) {
        fuzz_tool_calls(&data);
    }
}

#[test]
fn the_tool_calls_target_reads_its_bytes_as_documented() {
    // No read sizes; finish reason 0 (tool_calls); then one fragment per 3 bytes:
    // index 0, id call_2, name get_weather, no arguments; then index 0, no id, no
    // name, the arguments as the object {"city":"Paris"}.
    let data = [0, 0, 12, 2, 0, 0, 20, 0];
    let (sizes, body) = tool_calls_body(&data);
    assert!(sizes.is_empty());
    assert_eq!(
        describe(&decode(wire("openai"), &[&body])),
        [
            r#"ToolCallStart(ToolCallStart { index: 0, id: "call_2", name: "get_weather" })"#,
            r#"ToolCallDelta(ToolCallDelta { index: 0, arguments: "{\"city\":\"Paris\"}" })"#,
            r#"ToolCall(ToolCall { id: "call_2", name: "get_weather", arguments: Object {"city": String("Paris")} })"#,
            &format!(
                "{:?}",
                Chunk::from(theory_llm::Finish::new(theory_llm::FinishReason::ToolCalls))
            ),
        ],
        "{}",
        String::from_utf8_lossy(&body)
    );
    for data in [
        &[][..],
        &[7, 1, 2, 3, 4, 5, 6, 7, 255, 255, 255, 255],
        &[0, 1, 6, 4, 0],
    ] {
        fuzz_tool_calls(data);
    }
}

#[test]
fn check_tool_calls_catches_each_broken_order() {
    use theory_llm::{Finish, ToolCall};
    let start = |i, name: &str| Ok(Chunk::tool_call_start(i, format!("id{i}"), name));
    let delta = |i, a: &str| Ok(Chunk::tool_call_delta(i, a));
    let call = |i, name: &str, a: Value| Ok(Chunk::from(ToolCall::new(format!("id{i}"), name, a)));
    let finish = || Ok(Chunk::from(Finish::default()));
    let good = vec![
        start(0, "a"),
        delta(0, "{\"x\":"),
        delta(0, "1}"),
        call(0, "a", json!({"x": 1})),
        start(1, "b"),
        call(1, "b", json!({})),
        finish(),
    ];
    assert_eq!(check_tool_calls(&good), Ok(()));
    for bad in [
        vec![delta(0, "{}"), start(0, "a")],
        vec![call(0, "a", json!({}))],
        vec![start(1, "a")],
        vec![start(0, ""), call(0, "", json!({}))],
        vec![start(0, "a"), call(0, "b", json!({}))],
        vec![start(0, "a"), delta(0, "")],
        vec![start(0, "a"), call(0, "a", json!({})), delta(0, "{}")],
        vec![start(0, "a"), delta(0, "{}"), call(0, "a", json!({"x": 1}))],
    ] {
        assert!(check_tool_calls(&bad).is_err(), "{:?}", describe(&bad));
    }
}

#[test]
fn a_call_keeps_one_id_from_start_to_completion() {
    // Minimal (found by the tool_calls target): the first fragment has a name and no id,
    // so ToolCallStart carries a made-up "call_0"; the id arrives on the next fragment
    // and the complete ToolCall carries "call_x". An app tying its UI or tool result to
    // the start's id loses the call.
    let body = concat!(
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"now\",\"arguments\":\"\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_x\",\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
    );
    let items = decode(wire("openai"), &[body.as_bytes()]);
    let ids: Vec<&str> = items
        .iter()
        .filter_map(|item| match item {
            Ok(Chunk::ToolCallStart(s)) => Some(s.id.as_str()),
            Ok(Chunk::ToolCall(c)) => Some(c.id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2, "{:#?}", describe(&items));
    assert_eq!(ids[0], ids[1], "{:#?}", describe(&items));
}
