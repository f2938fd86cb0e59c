//! Hooks for fuzzing and property tests: the providers' private decoding pipelines
//! (framing, then mapping to [`Chunk`]s), fed from memory exactly as `http::Decoded`
//! runs them over a response body, and the invariants every run must keep.
//!
//! Compiled only with the `fuzzing` feature (and in the crate's own tests); hidden
//! from the docs, not part of the public API and not covered by semver. The
//! cargo-fuzz targets in `fuzz/` call the `fuzz_*` functions, and the property tests
//! at the bottom of this file run the same functions on generated inputs (see
//! CONTRIBUTING.md, "Fuzzing").
//!
//! The invariants ([`check`]): decoding never panics and never hangs (a stream fed
//! from memory never waits, and yields a bounded number of items); every failure is an
//! [`Error`](crate::Error) of a kind a reply body can cause, with a non-empty message
//! that does not contain the API key; nothing follows an error or the finish; a run
//! that does not fail ends with exactly one [`Chunk::Finish`]; text and reasoning
//! chunks are never empty. And ([`fuzz_openai_sse`], [`fuzz_ollama_ndjson`]) the same
//! bytes split at any boundaries decode to the same items.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use futures::Stream;

use crate::chunk::Chunk;
use crate::error::{ErrorKind, Result};
use crate::http::{Decoded, Decoder, Endpoint, DEFAULT_MAX_FRAME_BYTES};
use crate::providers::ollama::LineDecoder;
use crate::providers::openai::SseDecoder;
use crate::redact::Redactor;

/// The API key the OpenAI decoder is given. No error message may contain it.
pub const SECRET: &str = "sk-fuzz-0123456789abcdef";

/// The small event/line cap of the `*_capped` runs in the fuzz targets, so that the
/// cap's error paths are exercised by small inputs.
pub const SMALL_CAP: usize = 64;

fn endpoint(provider: &'static str) -> Endpoint {
    Endpoint {
        provider,
        base: "http://fuzz".to_owned(),
        unreachable_hint: "",
    }
}

fn byte_stream(pieces: &[&[u8]]) -> impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static {
    let owned: Vec<Bytes> = pieces.iter().map(|p| Bytes::copy_from_slice(p)).collect();
    futures::stream::iter(owned.into_iter().map(Ok))
}

/// The most items a run over `bytes` bytes of input may yield: every text, reasoning or
/// finish chunk takes at least one byte, and an error ends the run. More means the
/// stream is yielding without consuming input, which would never end on a live body.
fn item_bound(bytes: usize) -> usize {
    2 * bytes + 8
}

/// A waker that records that it was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls a stream fed from memory to its end, and once more after it.
///
/// # Panics
/// If the stream waits without having woken itself (with all of its input in memory,
/// it would never be polled again: a hang), yields more than `max_items` items, or
/// yields anything after it ended.
fn drain<S: Stream<Item = Result<Chunk>>>(stream: S, max_items: usize) -> Vec<Result<Chunk>> {
    let mut stream = std::pin::pin!(stream);
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut items = Vec::new();
    let mut self_wakes = 0;
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(item)) => {
                items.push(item);
                assert!(
                    items.len() <= max_items,
                    "the stream yielded more than {max_items} items: it does not consume its input"
                );
            }
            Poll::Ready(None) => break,
            Poll::Pending => {
                // A stream may yield to the executor by waking itself; anything else
                // waits for input that will never come.
                assert!(
                    flag.0.swap(false, Ordering::SeqCst) && self_wakes < max_items,
                    "the stream is waiting with all of its input in memory: it would hang (after {} items)",
                    items.len()
                );
                self_wakes += 1;
            }
        }
    }
    for _ in 0..2 {
        assert!(
            matches!(stream.as_mut().poll_next(&mut cx), Poll::Ready(None)),
            "the stream yielded again after it ended"
        );
    }
    items
}

/// The items of an OpenAI reply whose body arrives in `pieces` (network reads): SSE
/// framing, then the Chat Completions decoder, with the default 16 MiB event cap.
pub fn decode_openai_sse(pieces: &[&[u8]]) -> Vec<Result<Chunk>> {
    decode_openai_sse_capped(pieces, DEFAULT_MAX_FRAME_BYTES)
}

/// [`decode_openai_sse`] with an event cap of `max_event` bytes.
pub fn decode_openai_sse_capped(pieces: &[&[u8]], max_event: usize) -> Vec<Result<Chunk>> {
    let ep = endpoint("openai");
    let frames = ep.sse_frames_of(byte_stream(pieces), max_event);
    let decoded = Decoded::new(frames, SseDecoder::new(ep));
    scrubbed(drain(decoded, item_bound(total_len(pieces))))
}

/// The items of an Ollama reply whose body arrives in `pieces` (network reads): NDJSON
/// framing, then the `/api/chat` decoder, with the default 16 MiB line cap.
pub fn decode_ollama_ndjson(pieces: &[&[u8]]) -> Vec<Result<Chunk>> {
    decode_ollama_ndjson_capped(pieces, DEFAULT_MAX_FRAME_BYTES)
}

/// [`decode_ollama_ndjson`] with a line cap of `max_line` bytes.
pub fn decode_ollama_ndjson_capped(pieces: &[&[u8]], max_line: usize) -> Vec<Result<Chunk>> {
    let ep = endpoint("ollama");
    let frames = ep.ndjson_frames_of(byte_stream(pieces), max_line);
    let decoded = Decoded::new(frames, LineDecoder::new(ep));
    drain(decoded, item_bound(total_len(pieces)))
}

/// The items of an OpenAI reply of exactly one SSE data frame, `frame`, given straight
/// to the decoder (no framing), followed by the end of the body.
pub fn map_openai_frame(frame: &[u8]) -> Vec<Result<Chunk>> {
    let ep = endpoint("openai");
    scrubbed(decode_frames(&[frame], SseDecoder::new(ep)))
}

/// The items of an Ollama reply of exactly one NDJSON line, `line`, given straight to
/// the decoder (no framing), followed by the end of the body.
pub fn map_ollama_line(line: &[u8]) -> Vec<Result<Chunk>> {
    decode_frames(&[line], LineDecoder::new(endpoint("ollama")))
}

/// Frames given straight to a decoder, as `Decoded` runs it.
fn decode_frames<D: Decoder>(frames: &[&[u8]], decoder: D) -> Vec<Result<Chunk>> {
    let stream = futures::stream::iter(frames.iter().map(|f| Ok(*f)));
    drain(
        Decoded::new(stream, decoder),
        item_bound(total_len(frames) + frames.len()),
    )
}

/// The items as the OpenAI provider passes them on: scrubbed of its key, [`SECRET`].
fn scrubbed(items: Vec<Result<Chunk>>) -> Vec<Result<Chunk>> {
    let redactor = Redactor::new([SECRET]);
    items.into_iter().map(|item| redactor.item(item)).collect()
}

fn total_len(pieces: &[&[u8]]) -> usize {
    pieces.iter().map(|p| p.len()).sum()
}

/// `body` cut into pieces whose lengths are taken in turn from `sizes` (each modulo 32;
/// 0 makes an empty read), and the rest of the body as the last piece. Empty `sizes`
/// leaves the body whole.
pub fn split_by<'a>(body: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = body;
    for size in sizes
        .iter()
        .cycle()
        .take(if sizes.is_empty() { 0 } else { 4096 })
    {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(usize::from(size % 32).min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// Checks the invariants on the items of one run (see the module docs), with `secret`
/// the API key the decoder was given (`""` for none); the first violation, described.
pub fn check(items: &[Result<Chunk>], secret: &str) -> std::result::Result<(), String> {
    let Some((last, before)) = items.split_last() else {
        return Err("the stream ended without a finish or an error".to_owned());
    };
    for (i, item) in items.iter().enumerate() {
        match item {
            Ok(Chunk::Text(t)) if t.is_empty() => return Err(format!("item {i} is empty text")),
            Ok(Chunk::Reasoning(t)) if t.is_empty() => {
                return Err(format!("item {i} is empty reasoning"))
            }
            Err(e) => {
                if e.message().trim().is_empty() {
                    return Err(format!("item {i} is an error without a message: {e:?}"));
                }
                if !secret.is_empty() && e.message().contains(secret) {
                    return Err(format!(
                        "item {i} is an error that shows the API key: {e:?}"
                    ));
                }
                if !matches!(
                    e.kind(),
                    ErrorKind::Protocol
                        | ErrorKind::Network
                        | ErrorKind::Server
                        | ErrorKind::RateLimited
                ) {
                    return Err(format!(
                        "item {i} is an error of a kind a reply body cannot cause: {e:?}"
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some(i) = before
        .iter()
        .position(|item| matches!(item, Ok(Chunk::Finish(_)) | Err(_)))
    {
        return Err(format!(
            "item {i} ({:?}) is followed by {} more",
            items[i],
            items.len() - i - 1
        ));
    }
    match last {
        Ok(Chunk::Finish(_)) | Err(_) => Ok(()),
        Ok(other) => Err(format!(
            "the stream ended without a finish or an error, after {other:?}"
        )),
    }
}

/// The items as comparable strings: each chunk's `Debug`, or an error's kind and
/// message.
pub fn describe(items: &[Result<Chunk>]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            Ok(chunk) => format!("{chunk:?}"),
            Err(e) => format!("error {}: {}", e.kind(), e.message()),
        })
        .collect()
}

/// Panics with the input if `items` break an invariant.
fn assert_valid(what: &str, input: &[u8], items: &[Result<Chunk>], secret: &str) {
    if let Err(violation) = check(items, secret) {
        panic!(
            "{what}: {violation}\ninput: {:?}\nitems: {:#?}",
            String::from_utf8_lossy(input),
            describe(items)
        );
    }
}

/// Panics unless `capped` (a run with a small cap) equals `full` (the same input with
/// the default cap), or is a prefix of it ended by the cap's error.
fn assert_cap_only_cuts(input: &[u8], capped: &[Result<Chunk>], full: &[Result<Chunk>]) {
    let (capped, full) = (describe(capped), describe(full));
    if capped == full {
        return;
    }
    let cut_by_cap = capped.split_last().is_some_and(|(last, before)| {
        last.contains(&format!("longer than {SMALL_CAP} bytes")) && full.starts_with(before)
    });
    assert!(
        cut_by_cap,
        "a {SMALL_CAP}-byte cap changed more than where the run ends\ninput: {:?}\ncapped: {capped:#?}\nfull: {full:#?}",
        String::from_utf8_lossy(input)
    );
}

/// Splits fuzzer input into piece sizes and a body: the first byte says how many of
/// the next bytes (0 to 7) are sizes for [`split_by`]; the rest is the body.
fn sizes_and_body(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        None => (&[], &[]),
        Some((n, rest)) => rest.split_at(usize::from(n % 8).min(rest.len())),
    }
}

/// A pipeline run on a body in pieces, as [`decode_openai_sse`].
type Decode = fn(&[&[u8]]) -> Vec<Result<Chunk>>;
/// A pipeline run with a cap, as [`decode_openai_sse_capped`].
type DecodeCapped = fn(&[&[u8]], usize) -> Vec<Result<Chunk>>;

/// Checks `decode` on `body` whole, in pieces of `sizes`, one byte at a time, and with
/// the small cap (split the same three ways): the invariants every time, and the same
/// items for every split.
fn fuzz_body(body: &[u8], sizes: &[u8], secret: &str, decode: Decode, decode_capped: DecodeCapped) {
    let whole = decode(&[body]);
    assert_valid("whole body", body, &whole, secret);
    let expected = describe(&whole);
    let bytewise: Vec<&[u8]> = body.chunks(1).collect();
    for (what, pieces) in [
        ("pieces of the chosen sizes", split_by(body, sizes)),
        ("one byte at a time", bytewise.clone()),
    ] {
        let items = decode(&pieces);
        assert_valid(what, body, &items, secret);
        let got = describe(&items);
        assert!(
            got == expected,
            "{what} gave other items than the whole body\ninput: {:?}\nsizes: {sizes:?}\nwhole: {expected:#?}\nsplit: {got:#?}",
            String::from_utf8_lossy(body)
        );
    }
    let capped = decode_capped(&split_by(body, sizes), SMALL_CAP);
    assert_valid("small cap", body, &capped, secret);
    assert_cap_only_cuts(body, &capped, &whole);
    // Where the cap fires does not depend on the split either.
    let capped = describe(&capped);
    for (what, pieces) in [("whole", vec![body]), ("one byte at a time", bytewise)] {
        let got = describe(&decode_capped(&pieces, SMALL_CAP));
        assert!(
            got == capped,
            "with the small cap, {what} gave other items than pieces of the chosen sizes\ninput: {:?}\nsizes: {sizes:?}\nsplit: {capped:#?}\n{what}: {got:#?}",
            String::from_utf8_lossy(body)
        );
    }
}

/// The `sse` fuzz target: `data` as an OpenAI SSE body, through framing and the
/// decoder, whole and split. The first byte of `data` says how many of the next bytes
/// (0 to 7) are read sizes for [`split_by`]; the rest is the body.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_openai_sse(data: &[u8]) {
    let (sizes, body) = sizes_and_body(data);
    fuzz_body(
        body,
        sizes,
        SECRET,
        decode_openai_sse,
        decode_openai_sse_capped,
    );
}

/// The `ndjson` fuzz target: `data` as an Ollama NDJSON body, through framing and the
/// decoder, whole and split, read as [`fuzz_openai_sse`] reads it.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_ollama_ndjson(data: &[u8]) {
    let (sizes, body) = sizes_and_body(data);
    fuzz_body(
        body,
        sizes,
        "",
        decode_ollama_ndjson,
        decode_ollama_ndjson_capped,
    );
}

/// The `map_openai` fuzz target: `data` as one SSE data frame, straight into the
/// decoder; and, when `data` can be an event's data, the same as `data: …` through
/// the SSE framing, which must give the same items.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_map_openai(data: &[u8]) {
    let items = map_openai_frame(data);
    assert_valid("one frame", data, &items, SECRET);
    let one_data_line = !data.is_empty()
        && !data.contains(&b'\n')
        && !data.contains(&b'\r')
        && std::str::from_utf8(data).is_ok();
    if one_data_line {
        let body = [b"data: ", data, b"\n\n"].concat();
        let framed = decode_openai_sse(&[&body]);
        assert!(
            describe(&framed) == describe(&items),
            "the frame decoded differently through SSE framing\ninput: {:?}\nframe: {:#?}\nframed: {:#?}",
            String::from_utf8_lossy(data),
            describe(&items),
            describe(&framed)
        );
    }
}

/// The `map_ollama` fuzz target: the fast path for token lines reads `data` as serde
/// does (or leaves it to serde); `data` as one NDJSON line, straight into the decoder;
/// and, when `data` can be a line, the same as `data\n` through the NDJSON framing,
/// which must give the same items.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_map_ollama(data: &[u8]) {
    if let Err(e) = crate::providers::ollama::fast_path_agrees_with_serde(data) {
        panic!("{e}\ninput: {:?}", String::from_utf8_lossy(data));
    }
    let items = map_ollama_line(data);
    assert_valid("one line", data, &items, "");
    let one_line = !data.contains(&b'\n')
        && data.last() != Some(&b'\r')
        && !data.iter().all(u8::is_ascii_whitespace);
    if one_line {
        let body = [data, b"\n"].concat();
        let framed = decode_ollama_ndjson(&[&body]);
        assert!(
            describe(&framed) == describe(&items),
            "the line decoded differently through NDJSON framing\ninput: {:?}\nline: {:#?}\nframed: {:#?}",
            String::from_utf8_lossy(data),
            describe(&items),
            describe(&framed)
        );
    }
}

/// The `headers` fuzz target: `data` split at its first two newlines into the values of
/// `retry-after-ms`, `Retry-After` and `Content-Type`, read as the providers read them.
/// No value may panic, a wait is never longer than "longer than anyone will wait", and
/// a media type is lowercase, trimmed and without parameters.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_headers(data: &[u8]) {
    use crate::http::{media_type, parse_retry_after, retry_after, UNREASONABLE_WAIT};
    use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};

    let mut parts = data.splitn(3, |b| *b == b'\n');
    let (millis, after, content_type) = (
        parts.next().unwrap_or(b""),
        parts.next().unwrap_or(b""),
        parts.next().unwrap_or(b""),
    );
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    for wait in [
        parse_retry_after(Some(millis), Some(after), now),
        parse_retry_after(None, Some(after), now),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            wait <= UNREASONABLE_WAIT,
            "{wait:?} for {:?}",
            String::from_utf8_lossy(data)
        );
    }
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("retry-after-ms", millis),
        ("retry-after", after),
        (CONTENT_TYPE.as_str(), content_type),
    ] {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(name, value);
        }
    }
    if let Some(wait) = retry_after(&headers) {
        assert!(wait <= UNREASONABLE_WAIT);
    }
    if let Some(media) = media_type(&headers) {
        assert!(
            !media.is_empty()
                && !media.contains(';')
                && media == media.trim()
                && media == media.to_ascii_lowercase(),
            "media type {media:?} of {:?}",
            String::from_utf8_lossy(content_type)
        );
    }
}

/// The `model_name` fuzz target: `data` (lossily UTF-8) as a model name, through what
/// happens to one before anything is sent: validation, the price lookup, the request
/// prologue of the OpenAI and Ollama providers, and a whole chat with the mock.
///
/// # Panics
/// On any broken invariant (a panic anywhere), with the input.
pub fn fuzz_model_name(data: &[u8]) {
    use std::sync::OnceLock;

    use crate::provider::LlmStreamProvider;
    use crate::providers::{mock::MockProvider, ollama::OllamaProvider, openai::OpenAiProvider};
    use crate::request::ChatRequest;

    static PROVIDERS: OnceLock<(OpenAiProvider, OllamaProvider)> = OnceLock::new();
    let name = String::from_utf8_lossy(data).into_owned();
    let _ = crate::pricing::PriceTable::openai().pricing(&name);
    let request = ChatRequest::new("Hello").model(name.clone());
    let valid = request.validate().is_ok();
    assert_eq!(valid, !name.trim().is_empty(), "{name:?}");
    let (openai, ollama) = PROVIDERS.get_or_init(|| {
        let openai = OpenAiProvider::builder()
            .api_key(SECRET)
            .base_url("http://127.0.0.1:9/v1")
            .build();
        let ollama = OllamaProvider::builder().host("127.0.0.1:9").build();
        match (openai, ollama) {
            (Ok(a), Ok(b)) => (a, b),
            _ => panic!("the providers for the model_name target cannot be built"),
        }
    });
    // Building a stream runs the prologue (model, pricing, estimates); nothing is sent
    // until it is polled.
    drop(openai.stream_chat(request.clone()));
    drop(ollama.stream_chat(request.clone()));
    let reply = futures::executor::block_on(MockProvider::new().chat(request));
    if valid {
        let reply = reply.unwrap_or_else(|e| panic!("the mock failed for {name:?}: {e}"));
        assert_eq!(reply.model, name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

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
            let direct = scrubbed(decode_frames(&frames, SseDecoder::new(endpoint("openai"))));
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
            let direct = decode_frames(&frames, LineDecoder::new(endpoint("ollama")));
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
        // Regression: see framing::sse, `Edges`.
        let body = b"\xef\xbb\xbfdata: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\r\r";
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
        use crate::chunk::Finish;
        use crate::error::Error;
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

    /// Reads a recorded body from tests/transcripts.
    fn transcript(path: &str) -> Vec<u8> {
        let path = format!("{}/tests/transcripts/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
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
}
