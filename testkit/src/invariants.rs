//! The invariants every decoding run must keep, and the fuzz targets' bodies: the
//! built-in pipelines (framing, the decoder, the scrub; `theory_llm::__private`) fed from
//! memory, checked whole, split anywhere, and with a small cap.
//!
//! The invariants ([`check`]): decoding never panics and never hangs (a stream fed
//! from memory never waits, and yields a bounded number of items); every failure is an
//! error of a kind a reply body can cause, with a non-empty message that does not
//! contain the API key; nothing follows an error or the finish; a run that does not
//! fail ends with exactly one finish; text and reasoning chunks are never empty. And
//! the same bytes split at any boundaries decode to the same items.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use futures::Stream;
use theory_llm::__private::{self as entry, Wire, DEFAULT_MAX_FRAME_BYTES, UNREASONABLE_WAIT};
use theory_llm::{Chunk, ErrorKind, Result};

/// The API key the OpenAI pipeline scrubs. No error message may contain it.
pub const SECRET: &str = "sk-fuzz-0123456789abcdef";

/// The small event/line cap of the `*_capped` runs, so that the cap's error paths are
/// exercised by small inputs.
pub const SMALL_CAP: usize = 64;

fn to_bytes(pieces: &[&[u8]]) -> Vec<Bytes> {
    pieces.iter().map(|p| Bytes::copy_from_slice(p)).collect()
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

/// The wire format of the provider named `name` (`"openai"`, `"ollama"`, …), from the
/// crate's table of them.
///
/// # Panics
/// For a name the table does not have: the test's mistake.
pub fn wire(name: &str) -> Wire {
    Wire::named(name).unwrap_or_else(|| panic!("no built-in wire format is named {name}"))
}

/// The items of a reply of `wire` whose body arrives in `pieces` (network reads): its
/// framing, then its decoder, then the scrub of the key, with the default 16 MiB frame
/// cap.
pub fn decode(wire: Wire, pieces: &[&[u8]]) -> Vec<Result<Chunk>> {
    decode_capped(wire, pieces, DEFAULT_MAX_FRAME_BYTES)
}

/// [`decode`] with a frame cap of `max_frame` bytes.
pub fn decode_capped(wire: Wire, pieces: &[&[u8]], max_frame: usize) -> Vec<Result<Chunk>> {
    let items = entry::decode(wire, to_bytes(pieces), max_frame, SECRET);
    drain(items, item_bound(total_len(pieces)))
}

/// The items of a reply of exactly these frames, given straight to `wire`'s decoder
/// (no framing), followed by the end of the body.
pub fn map_frames(wire: Wire, frames: &[&[u8]]) -> Vec<Result<Chunk>> {
    let stream = futures::stream::iter(to_bytes(frames).into_iter().map(Ok));
    drain(
        entry::map(wire, stream, SECRET),
        item_bound(total_len(frames) + frames.len()),
    )
}

/// One SSE data frame straight into the OpenAI decoder.
pub fn map_openai_frame(frame: &[u8]) -> Vec<Result<Chunk>> {
    map_frames(wire("openai"), &[frame])
}

/// One NDJSON line straight into the Ollama decoder.
pub fn map_ollama_line(line: &[u8]) -> Vec<Result<Chunk>> {
    map_frames(wire("ollama"), &[line])
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
                // A body can also say that the request was refused (Gemini's blocked
                // prompt, an INVALID_ARGUMENT error object; an invalid request error
                // event of the Responses API): invalid_request.
                if !matches!(
                    e.kind(),
                    ErrorKind::Protocol
                        | ErrorKind::Network
                        | ErrorKind::Server
                        | ErrorKind::RateLimited
                        | ErrorKind::InvalidRequest
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

/// Checks `wire` on `body` whole, in pieces of `sizes`, one byte at a time, and with
/// the small cap (split the same three ways): the invariants every time, and the same
/// items for every split.
pub fn fuzz_body(wire: Wire, body: &[u8], sizes: &[u8]) {
    let whole = decode(wire, &[body]);
    assert_valid("whole body", body, &whole, SECRET);
    let expected = describe(&whole);
    let bytewise: Vec<&[u8]> = body.chunks(1).collect();
    for (what, pieces) in [
        ("pieces of the chosen sizes", split_by(body, sizes)),
        ("one byte at a time", bytewise.clone()),
    ] {
        let items = decode(wire, &pieces);
        assert_valid(what, body, &items, SECRET);
        let got = describe(&items);
        assert!(
            got == expected,
            "{what} gave other items than the whole body\ninput: {:?}\nsizes: {sizes:?}\nwhole: {expected:#?}\nsplit: {got:#?}",
            String::from_utf8_lossy(body)
        );
    }
    let capped = decode_capped(wire, &split_by(body, sizes), SMALL_CAP);
    assert_valid("small cap", body, &capped, SECRET);
    assert_cap_only_cuts(body, &capped, &whole);
    // Where the cap fires does not depend on the split either.
    let capped = describe(&capped);
    for (what, pieces) in [("whole", vec![body]), ("one byte at a time", bytewise)] {
        let got = describe(&decode_capped(wire, &pieces, SMALL_CAP));
        assert!(
            got == capped,
            "with the small cap, {what} gave other items than pieces of the chosen sizes\ninput: {:?}\nsizes: {sizes:?}\nsplit: {capped:#?}\n{what}: {got:#?}",
            String::from_utf8_lossy(body)
        );
    }
}

/// The body fuzz targets (`sse`, `ndjson`, `responses`, `anthropic`, …): `data` as a
/// body of `wire`, through its framing and decoder, whole and split. The first byte of
/// `data` says how many of the next bytes (0 to 7) are read sizes for [`split_by`]; the
/// rest is the body.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_wire(wire: Wire, data: &[u8]) {
    let (sizes, body) = sizes_and_body(data);
    fuzz_body(wire, body, sizes);
}

/// The `wires` fuzz target: the first byte of `data` picks a wire format of the table
/// (every provider, the ones added later included), the rest is read as
/// [`fuzz_wire`] reads its input.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_any_wire(data: &[u8]) {
    let Some((pick, rest)) = data.split_first() else {
        return;
    };
    let wires: Vec<Wire> = Wire::all().collect();
    fuzz_wire(wires[usize::from(*pick) % wires.len()], rest);
}

/// The `bedrock` fuzz target: `data` made a ConverseStream body whose checksums are
/// right ([`eventstream::body_from_lines`](crate::eventstream::body_from_lines)), so that
/// the fuzzer reaches the decoder behind the framing (the `wires` target feeds the
/// framer raw bytes); read as [`fuzz_wire`] reads its input.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_bedrock(data: &[u8]) {
    let (sizes, rest) = sizes_and_body(data);
    let body = crate::eventstream::body_from_lines(rest);
    fuzz_body(wire("bedrock"), &body, sizes);
}

/// The `map_openai` fuzz target: the fast path for token chunks reads `data` as serde
/// does (or leaves it to serde); `data` as one SSE data frame, straight into the
/// decoder; and, when `data` can be an event's data, the same as `data: …` through
/// the SSE framing, which must give the same items. And `data` split at its line ends
/// into a token frame and texts (see [`same_shape`]).
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_map_openai(data: &[u8]) {
    if let Err(e) = entry::openai_fast_path_agrees_with_serde(data) {
        panic!("{e}\ninput: {:?}", String::from_utf8_lossy(data));
    }
    same_shape(wire("openai"), data);
    let items = map_openai_frame(data);
    assert_valid("one frame", data, &items, SECRET);
    let one_data_line = !data.is_empty()
        && !data.contains(&b'\n')
        && !data.contains(&b'\r')
        && std::str::from_utf8(data).is_ok();
    if one_data_line {
        let body = [b"data: ", data, b"\n\n"].concat();
        let framed = decode(wire("openai"), &[&body]);
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
    if let Err(e) = entry::ollama_fast_path_agrees_with_serde(data) {
        panic!("{e}\ninput: {:?}", String::from_utf8_lossy(data));
    }
    let items = map_ollama_line(data);
    assert_valid("one line", data, &items, SECRET);
    let one_line = !data.contains(&b'\n')
        && data.last() != Some(&b'\r')
        && !data.iter().all(u8::is_ascii_whitespace);
    if one_line {
        let body = [data, b"\n"].concat();
        let framed = decode(wire("ollama"), &[&body]);
        assert!(
            describe(&framed) == describe(&items),
            "the line decoded differently through NDJSON framing\ninput: {:?}\nline: {:#?}\nframed: {:#?}",
            String::from_utf8_lossy(data),
            describe(&items),
            describe(&framed)
        );
    }
}

/// `data` split at its line ends: a token frame, then texts to put in place of its
/// text. Read by their shape, the frames decode as parsed.
///
/// # Panics
/// When they do not, with the input.
pub fn same_shape(wire: Wire, data: &[u8]) {
    let mut parts = data.split(|b| *b == b'\n');
    let template = parts.next().unwrap_or_default();
    let texts: Vec<&[u8]> = parts.collect();
    if let Err(e) = entry::same_shape_agrees(wire, template, &texts) {
        panic!("{e}\ninput: {:?}", String::from_utf8_lossy(data));
    }
}

/// The `headers` fuzz target: `data` split at its first two newlines into the values of
/// `retry-after-ms`, `Retry-After` and `Content-Type` (and the same values as rate-limit
/// headers), read as the providers read them.
/// No value may panic, a wait is never longer than "longer than anyone will wait", and
/// a media type is lowercase, trimmed and without parameters.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_headers(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let (millis, after, content_type) = (
        parts.next().unwrap_or(b""),
        parts.next().unwrap_or(b""),
        parts.next().unwrap_or(b""),
    );
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    for wait in [
        entry::parse_retry_after(Some(millis), Some(after), now),
        entry::parse_retry_after(None, Some(after), now),
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
    if let Some(media) = entry::media_type(content_type) {
        assert!(
            !media.is_empty()
                && !media.contains(';')
                && media == media.trim()
                && media == media.to_ascii_lowercase(),
            "media type {media:?} of {:?}",
            String::from_utf8_lossy(content_type)
        );
    }
    // The same values as rate-limit headers, both vendors' forms.
    let headers = [
        ("x-ratelimit-remaining-requests", millis),
        ("x-ratelimit-reset-requests", after),
        ("x-ratelimit-reset-tokens", millis),
        ("anthropic-ratelimit-tokens-reset", after),
        ("anthropic-ratelimit-requests-reset", content_type),
        ("anthropic-ratelimit-input-tokens-limit", content_type),
    ];
    if let Some(limits) = theory_llm::reply::RateLimit::from_headers(headers, now) {
        for quota in [limits.requests, limits.tokens, limits.input_tokens] {
            assert!(
                quota.reset.is_none_or(|r| r <= UNREASONABLE_WAIT),
                "{quota:?} for {:?}",
                String::from_utf8_lossy(data)
            );
        }
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

    use theory_llm::pricing::PriceTable;
    use theory_llm::{
        ChatRequest, LlmStreamProvider, MockProvider, OllamaProvider, OpenAiProvider,
    };

    static PROVIDERS: OnceLock<(OpenAiProvider, OllamaProvider)> = OnceLock::new();
    let name = String::from_utf8_lossy(data).into_owned();
    let _ = PriceTable::openai().pricing(&name);
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

/// Checks the order and shape of the tool call chunks of one run: a call's
/// [`Chunk::ToolCallStart`] comes once, before its deltas and its complete
/// [`Chunk::ToolCall`]; calls start and complete in order (the k-th complete call is
/// index k), with the start's name; names and ids are never empty, deltas never empty
/// and none comes after its call completed; and a complete call's arguments are its
/// deltas, concatenated and parsed (empty text is `{}`). The first violation, described.
pub fn check_tool_calls(items: &[Result<Chunk>]) -> std::result::Result<(), String> {
    // By index: (id, name, the arguments streamed so far, complete).
    let mut calls: Vec<(String, String, String, bool)> = Vec::new();
    let mut completed = 0;
    for (i, item) in items.iter().enumerate() {
        match item {
            Ok(Chunk::ToolCallStart(start)) => {
                if start.index != calls.len() {
                    return Err(format!(
                        "item {i}: call {} starts after {} calls started",
                        start.index,
                        calls.len()
                    ));
                }
                if start.name.is_empty() || start.id.is_empty() {
                    return Err(format!(
                        "item {i}: a call starts without a name or id: {start:?}"
                    ));
                }
                calls.push((start.id.clone(), start.name.clone(), String::new(), false));
            }
            Ok(Chunk::ToolCallDelta(delta)) => match calls.get_mut(delta.index) {
                None => {
                    return Err(format!(
                        "item {i}: a delta of call {} before its start",
                        delta.index
                    ))
                }
                Some((.., true)) => {
                    return Err(format!(
                        "item {i}: a delta of call {} after it completed",
                        delta.index
                    ))
                }
                Some(_) if delta.arguments.is_empty() => {
                    return Err(format!("item {i}: an empty delta of call {}", delta.index))
                }
                Some((_, _, arguments, false)) => arguments.push_str(&delta.arguments),
            },
            Ok(Chunk::ToolCall(call)) => {
                let Some((id, name, arguments, done)) = calls.get_mut(completed) else {
                    return Err(format!(
                        "item {i}: call {completed} completes before it started: {call:?}"
                    ));
                };
                if call.name.is_empty() {
                    return Err(format!(
                        "item {i}: a complete call without a name: {call:?}"
                    ));
                }
                if call.name != *name || call.id != *id {
                    return Err(format!(
                        "item {i}: call {completed} started as {name:?} (id {id:?}) but completes as {:?} (id {:?})",
                        call.name, call.id
                    ));
                }
                let streamed = if arguments.trim().is_empty() {
                    Ok(serde_json::Value::Object(serde_json::Map::new()))
                } else {
                    serde_json::from_str::<serde_json::Value>(arguments)
                };
                if streamed.as_ref().ok() != Some(&call.arguments) {
                    return Err(format!(
                        "item {i}: call {completed} streamed {arguments:?} but completes with {}",
                        call.arguments
                    ));
                }
                *done = true;
                completed += 1;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Fragments of tool call arguments: JSON tokens, a piece at a time.
const ARGUMENT_TOKENS: [&str; 16] = [
    "{",
    "}",
    "\"",
    ":",
    ",",
    "0",
    "7",
    "-1.5e3",
    "\"city\"",
    "\"Paris\"",
    " ",
    "[",
    "]",
    "null",
    "\\",
    "é",
];

/// The `tool_calls` fuzz target: `data` read as a sequence of OpenAI tool call
/// fragments, rendered as an SSE body of chat completion chunks that ends with a
/// finish reason and `[DONE]`, then decoded whole and split as [`fuzz_body`] does;
/// the tool call chunks must keep [`check_tool_calls`].
///
/// The first byte says how many of the next bytes (0 to 7) are read sizes for
/// [`split_by`]; the next one picks the finish reason. Then each 3 bytes are one
/// fragment: the first picks its `index` (0 to 3, absent, or `null`), its `id` (absent,
/// empty, or one of three), and whether a text chunk (with `tool_calls: []`) comes
/// before it; the second its function `name` (absent, one of two, or empty), its
/// `arguments` (absent, `null`, a string of one or two JSON tokens, or an object), and
/// whether it shares the previous fragment's event; the third the tokens.
///
/// # Panics
/// On any broken invariant, with the input.
pub fn fuzz_tool_calls(data: &[u8]) {
    let (sizes, body) = tool_calls_body(data);
    fuzz_body(wire("openai"), &body, sizes);
    let items = decode(wire("openai"), &[&body]);
    if let Err(violation) = check_tool_calls(&items) {
        panic!(
            "{violation}\ninput: {:?}\nitems: {:#?}",
            String::from_utf8_lossy(&body),
            describe(&items)
        );
    }
}

/// The read sizes and the SSE body [`fuzz_tool_calls`] makes of `data` (see there).
pub fn tool_calls_body(data: &[u8]) -> (&[u8], Vec<u8>) {
    let (sizes, rest) = sizes_and_body(data);
    let (finish, fragments) = match rest.split_first() {
        Some((f, rest)) => (*f, rest),
        None => (0, rest),
    };
    let reason = ["tool_calls", "stop", "length", "function_call"][usize::from(finish % 4)];
    let event = |deltas: &[serde_json::Value], text: Option<&str>, reason: Option<&str>| {
        let mut delta = serde_json::json!({ "tool_calls": deltas });
        if let Some(text) = text {
            delta["content"] = text.into();
        }
        let chunk = serde_json::json!({
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        });
        format!("data: {chunk}\n\n")
    };
    let mut body = String::new();
    let mut pending: Vec<serde_json::Value> = Vec::new();
    for record in fragments.chunks(3).take(64) {
        let byte = |k: usize| usize::from(record.get(k).copied().unwrap_or(0));
        let (b0, b1, b2) = (byte(0), byte(1), byte(2));
        let mut fragment = serde_json::Map::new();
        match b0 % 6 {
            4 => {}
            5 => {
                fragment.insert("index".into(), serde_json::Value::Null);
            }
            n => {
                fragment.insert("index".into(), n.into());
            }
        }
        match (b0 / 6) % 5 {
            0 => {}
            1 => {
                fragment.insert("id".into(), "".into());
            }
            n => {
                fragment.insert("id".into(), format!("call_{n}").into());
            }
        }
        let mut function = serde_json::Map::new();
        match b1 % 5 {
            0 | 1 => {}
            2 => {
                function.insert("name".into(), "get_weather".into());
            }
            3 => {
                function.insert("name".into(), "get_time".into());
            }
            _ => {
                function.insert("name".into(), "".into());
            }
        }
        let mut piece = ARGUMENT_TOKENS[b2 % 16].to_owned();
        if (b2 / 16) % 2 == 1 {
            piece.push_str(ARGUMENT_TOKENS[(b2 / 32) % 8 + 8]);
        }
        match (b1 / 5) % 5 {
            0 => {}
            1 => {
                function.insert("arguments".into(), serde_json::Value::Null);
            }
            2 | 3 => {
                function.insert("arguments".into(), piece.into());
            }
            _ => {
                let object = if b2 % 2 == 0 {
                    serde_json::json!({"city": "Paris"})
                } else {
                    serde_json::json!({})
                };
                function.insert("arguments".into(), object);
            }
        }
        if !function.is_empty() {
            fragment.insert("function".into(), function.into());
        }
        // A new event unless this fragment shares the previous one's.
        if (b1 / 25) % 2 == 0 && !pending.is_empty() {
            body.push_str(&event(&pending, None, None));
            pending.clear();
        }
        if (b0 / 30) % 2 == 1 {
            if !pending.is_empty() {
                body.push_str(&event(&pending, None, None));
                pending.clear();
            }
            body.push_str(&event(&[], Some("Let me check."), None));
        }
        pending.push(fragment.into());
    }
    if !pending.is_empty() {
        body.push_str(&event(&pending, None, None));
    }
    body.push_str(&event(&[], None, Some(reason)));
    body.push_str("data: [DONE]\n\n");
    (sizes, body.into_bytes())
}
