//! A hand-written reader for the common Chat Completions chunk: the one every token of
//! a reply comes in,
//!
//! ```text
//! {"id":"chatcmpl-…","object":"chat.completion.chunk","created":1,"model":"…","system_fingerprint":"fp_…",
//!  "choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}
//! ```
//!
//! in any key order, with any JSON whitespace, and with escapes in `id`, `model` and
//! `content`. serde read it into a large struct of optional fields, and moving that
//! struct was most of the decoder's time (issue 18's profile: serde and the copies it
//! made were a quarter of the client's CPU). This reads only what such a chunk holds.
//!
//! It is only a fast path. Anything else (a finish reason, usage, an error, tool calls,
//! a refusal, reasoning, more than one choice, an unknown field, a duplicate key, an
//! escape in a key or in an ignored string, malformed JSON) makes it give up, and the
//! event goes to serde, which is the reference: the property tests and the `map_openai`
//! fuzz target check that whenever this reader accepts an event, serde reads the same.

use std::borrow::Cow;

use crate::json_scan::{once, Reader};

/// What a token chunk holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Token<'a> {
    pub(crate) id: Option<Cow<'a, str>>,
    pub(crate) model: Option<Cow<'a, str>>,
    /// The delta's text (`None` when absent or `null`).
    pub(crate) content: Option<Cow<'a, str>>,
    /// The event had a `choices` list.
    pub(crate) choices: bool,
}

/// The token chunk `text` is, or `None` to let serde read it.
pub(crate) fn read(text: &str) -> Option<Token<'_>> {
    let mut r = Reader::new(text);
    let (mut id, mut model, mut content) = (None, None, None);
    r.skip_ws();
    r.eat(b'{')?;
    r.skip_ws();
    if !r.eat_if(b'}') {
        loop {
            match r.key()? {
                "id" => once(&mut id, r.string()?)?,
                "model" => once(&mut model, r.string()?)?,
                "choices" => once(&mut content, choices(&mut r)?)?,
                // Ignored by serde whatever their value; only these values are skipped.
                "object" | "service_tier" | "obfuscation" => r.skip_plain_string()?,
                "created" => r.skip_digits()?,
                "system_fingerprint" => {
                    if r.null().is_none() {
                        r.skip_plain_string()?;
                    }
                }
                // usage, error, timings, …: left to serde.
                _ => return None,
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
    Some(Token {
        id,
        model,
        choices: content.is_some(),
        content: content.flatten(),
    })
}

/// `[]` or `[{one choice}]`: the choice's text, if any.
#[inline(always)]
fn choices<'a>(r: &mut Reader<'a>) -> Option<Option<Cow<'a, str>>> {
    r.eat(b'[')?;
    r.skip_ws();
    if r.eat_if(b']') {
        return Some(None);
    }
    let content = choice(r)?;
    r.skip_ws();
    r.eat(b']')?;
    Some(content)
}

/// `{"index":0,"delta":{…},"finish_reason":null,"logprobs":null}`, any of them.
#[inline(always)]
fn choice<'a>(r: &mut Reader<'a>) -> Option<Option<Cow<'a, str>>> {
    let (mut index, mut delta, mut finish, mut logprobs) = (None, None, None, None);
    r.eat(b'{')?;
    r.skip_ws();
    if r.eat_if(b'}') {
        return Some(None);
    }
    loop {
        match r.key()? {
            "index" => once(&mut index, r.zero()?)?,
            "delta" => once(&mut delta, delta_of(r)?)?,
            "finish_reason" => once(&mut finish, r.null()?)?,
            "logprobs" => once(&mut logprobs, r.null()?)?,
            // `message` (a whole completion), anything new: left to serde.
            _ => return None,
        }
        r.skip_ws();
        match r.next()? {
            b',' => r.skip_ws(),
            b'}' => return Some(delta.flatten()),
            _ => return None,
        }
    }
}

/// `{"role":"assistant","content":"…","refusal":null}`, any of them.
#[inline(always)]
fn delta_of<'a>(r: &mut Reader<'a>) -> Option<Option<Cow<'a, str>>> {
    let (mut content, mut refusal, mut reasoning, mut reasoning_content) = (None, None, None, None);
    r.eat(b'{')?;
    r.skip_ws();
    if r.eat_if(b'}') {
        return Some(None);
    }
    loop {
        match r.key()? {
            "content" => {
                let text = match r.null() {
                    Some(()) => None,
                    None => Some(r.string()?),
                };
                once(&mut content, text)?;
            }
            "role" => r.skip_plain_string()?,
            // Present but empty on OpenAI's first chunk; a value is left to serde.
            "refusal" => once(&mut refusal, r.null()?)?,
            "reasoning" => once(&mut reasoning, r.null()?)?,
            "reasoning_content" => once(&mut reasoning_content, r.null()?)?,
            // tool_calls, function_call, …: left to serde.
            _ => return None,
        }
        r.skip_ws();
        match r.next()? {
            b',' => r.skip_ws(),
            b'}' => return Some(content.flatten()),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::openai::wire::Event;

    /// What serde reads, as a token when that is all the event is.
    fn serde(text: &str) -> Option<Token<'_>> {
        serde_json::from_str::<Event<'_>>(text).ok()?.as_token()
    }

    fn agrees(text: &str) -> Token<'_> {
        let fast = read(text).unwrap_or_else(|| panic!("fast path gave up on {text}"));
        assert_eq!(Some(&fast), serde(text).as_ref(), "{text}");
        fast
    }

    #[test]
    fn reads_the_common_chunks_like_serde() {
        // OpenAI's, with the first chunk's role and refusal.
        let t = agrees(
            r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}"#,
        );
        assert_eq!(t.content.as_deref(), Some(""));
        assert!(matches!(
            t.model,
            Some(Cow::Borrowed("gpt-4o-mini-2024-07-18"))
        ));
        // llama.cpp's, keys in another order; peerbench's fake server's.
        agrees(
            r#"{"choices":[{"finish_reason":null,"index":0,"delta":{"content":" the"}}],"created":1796143496,"id":"chatcmpl-StMu","model":"smollm2","system_fingerprint":"b0-unknown","object":"chat.completion.chunk"}"#,
        );
        agrees(
            r#"{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}"#,
        );
        // Azure's first chunk, an empty list; whitespace; escapes.
        agrees(r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[]}"#.replace(r#","prompt_filter_results":[]"#, "").as_str());
        agrees(" { \"choices\" : [ { \"delta\" : { \"content\" : \"a\\nb\\u00e9\" } } ] } ");
        agrees("{}");
        agrees(r#"{"system_fingerprint":null,"choices":[{"delta":{"content":null}}]}"#);
    }

    #[test]
    fn gives_up_on_everything_else() {
        for text in [
            // events serde reads, but the fast path leaves to it
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            r#"{"error":{"message":"boom"}}"#,
            r#"{"choices":[{"index":0,"delta":{"refusal":"No."}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"hm"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[]}}]}"#,
            r#"{"choices":[{"index":1,"delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}"#,
            r#"{"choices":[{"index":0,"message":{"content":"whole"}}]}"#,
            r#"{"model":null}"#,
            r#"{"created":1.5}"#,
            r#"{"object":"a\nb"}"#,
            r#"{"timings":{"prompt_ms":1}}"#,
            r#"{"mod\u0065l":"m"}"#,
            // events serde rejects
            r#"{"model":"m","model":"n"}"#,
            r#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#,
            r#"{"model":"m",}"#,
            r#"{"model":"m"} x"#,
            r#"{"choices":[{"index":00}]}"#,
            r#"{"choices":[{"index":0.0}]}"#,
            // found by the map_openai fuzz target: a leading zero, which JSON forbids
            r#"{"created":0847134095}"#,
            "{\"model\":\"a\u{1}b\"}",
            r#"{"choices":[{"delta":{"content":"\ud83c"}}]}"#,
            r#"["model"]"#,
            "",
        ] {
            assert!(read(text).is_none(), "{text}");
        }
    }

    // ---- differential property tests against serde ----

    use proptest::prelude::*;

    use crate::json_scan::gen::{
        any_json, around_template, broken, broken_string, config, or_noise, plain, rendered,
        shuffled, text, texts, J,
    };

    /// A token chunk: the usual fields in any order, and when `noisy`, now and then an
    /// extra or duplicate field, a wrong type, or an escape where the fast path gives up.
    fn token_chunk(noisy: bool) -> impl Strategy<Value = J> {
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
                "id",
                "model",
                "choices",
                "object",
                "created",
                "usage",
                "error",
                "index",
                "delta",
                "finish_reason",
                "content",
                "role",
                "refusal",
                "tool_calls",
            ]);
            or_noise(
                noisy,
                Just(J::Plain(k.to_owned())),
                prop_oneof![text(), names.prop_map(str::to_owned)].prop_map(J::Str),
            )
        };
        let extra = move |k: &'static str| {
            if noisy {
                prop::option::weighted(0.15, (key(k), text_value())).boxed()
            } else {
                Just(None).boxed()
            }
        };
        let null = move || or_noise(noisy, Just(J::Null), any_json());
        let delta = (
            prop::option::weighted(0.3, (key("role"), ignored())),
            prop::option::weighted(
                0.9,
                (key("content"), or_noise(noisy, text_value(), Just(J::Null))),
            ),
            prop::option::weighted(0.2, (key("refusal"), null())),
            extra("content"),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(role, content, refusal, extra, at)| {
                let mut fields: Vec<_> = [role, content, refusal].into_iter().flatten().collect();
                if let Some(extra) = extra {
                    fields.insert(at.index(fields.len() + 1), extra);
                }
                J::Obj(fields)
            });
        let index = or_noise(noisy, Just(J::Num("0")), any_json());
        let choice = (
            prop::option::weighted(0.9, (key("index"), index)),
            prop::option::weighted(0.95, (key("delta"), or_noise(noisy, delta, any_json()))),
            prop::option::weighted(0.8, (key("finish_reason"), null())),
            prop::option::weighted(0.3, (key("logprobs"), null())),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(i, d, f, l, swap)| {
                let mut fields: Vec<_> = [i, d, f, l].into_iter().flatten().collect();
                if fields.len() > 1 {
                    let (at, last) = (swap.index(fields.len()), fields.len() - 1);
                    fields.swap(at, last);
                }
                J::Obj(fields)
            });
        let choices = prop_oneof![
            9 => choice.prop_map(|c| J::Arr(vec![c])),
            1 => Just(J::Arr(vec![])),
        ];
        (
            prop::option::weighted(0.9, (key("id"), text_value())),
            prop::option::weighted(0.8, (key("object"), ignored())),
            prop::option::weighted(
                0.8,
                (
                    key("created"),
                    or_noise(noisy, Just(J::Num("1694268190")), any_json()),
                ),
            ),
            prop::option::weighted(0.9, (key("model"), text_value())),
            prop::option::weighted(0.9, (key("choices"), or_noise(noisy, choices, any_json()))),
            (extra("usage"), extra("error")),
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(i, o, c, m, ch, (usage, error), swap_a, swap_b)| {
                shuffled([i, o, c, m, ch, usage, error], swap_a, swap_b)
            })
    }

    proptest! {
        #![proptest_config(config())]

        /// Token chunks as servers write them: the fast path always takes them, and
        /// reads what serde reads.
        #[test]
        fn the_fast_path_takes_every_token_chunk_and_reads_it_as_serde_does(
            chunk in token_chunk(false),
            style in prop::collection::vec(any::<u8>(), 1..32),
        ) {
            let text = rendered(&chunk, &style, false);
            let fast = read(&text);
            prop_assert!(fast.is_some(), "gave up on {}", text);
            prop_assert_eq!(fast, serde(&text), "{}", text);
        }

        /// Anything else: when the fast path takes an event, serde reads the same.
        #[test]
        fn whatever_the_fast_path_takes_serde_reads_the_same(
            chunk in token_chunk(true),
            style in prop::collection::vec(any::<u8>(), 1..32),
            cut in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            tail in prop::sample::select(vec!["", "", "", " \r\n", "x", "}", ",", "{}", "\u{c}"]),
        ) {
            let text = rendered(&chunk, &style, true) + tail;
            if let Some(fast) = read(&text) {
                prop_assert_eq!(Some(fast), serde(&text), "{}", text);
            }
            for broken in broken(&text, cut, byte) {
                prop_assert!(crate::__private::openai_fast_path_agrees_with_serde(&broken).is_ok(),
                    "{:?}", String::from_utf8_lossy(&broken));
            }
        }
    }

    /// Decodes `frames`, then the end, into what the decoder yields.
    fn decode(frames: &[String], shape: crate::json_scan::SameShape) -> Vec<String> {
        use crate::origin::Origin;
        let mut decoder = super::super::map::SseDecoder::new(Origin::new("openai", "http://t"));
        decoder.set_shape(shape);
        let end = ["[DONE]".as_bytes()];
        crate::__private::hooks::decoded(decoder, frames.iter().map(|f| f.as_bytes()).chain(end))
    }

    proptest! {
        #![proptest_config(config())]

        /// Events that repeat a token event with other text, among others: the decoder
        /// that reads them by their shape yields what the one that parses each yields.
        #[test]
        fn events_read_by_their_shape_decode_as_parsed_ones(
            template in token_chunk(false),
            style in prop::collection::vec(any::<u8>(), 1..32),
            texts in texts(),
            others in prop::collection::vec((token_chunk(true), any::<prop::sample::Index>()), 0..3),
        ) {
            let template = rendered(&template, &style, false);
            let Some(Token { content: Some(Cow::Borrowed(text)), .. }) = read(&template) else {
                return Ok(());
            };
            let others = others.into_iter().map(|(o, at)| (rendered(&o, &style, true), at)).collect();
            let frames = around_template(&template, text, &texts, others);
            let parsed = decode(&frames, crate::json_scan::SameShape::disabled());
            prop_assert_eq!(decode(&frames, Default::default()), parsed, "{:?}", frames);
        }
    }

    #[test]
    fn a_repeated_event_is_read_by_its_shape() {
        use crate::json_scan::SameShape;
        let template = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}"#;
        let text = &template[template.find("\"a\"").unwrap() + 1..][..1];
        let texts = ["b".to_owned(), " 日本".to_owned(), "".to_owned()];
        let frames = around_template(template, text, &texts, Vec::new());
        let mut shape = SameShape::default();
        shape.keep(template, text);
        assert_eq!(shape.text_of(frames[2].as_bytes()), Some(" 日本"));
        assert_eq!(
            decode(&frames, SameShape::default()),
            decode(&frames, SameShape::disabled())
        );
    }

    #[test]
    fn every_recorded_token_chunk_takes_the_fast_path_and_reads_as_serde_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
        let (mut fast_events, mut text_events) = (0, 0);
        for dir in [
            "llama-server",
            "live",
            "openai-docs",
            "tool-calls",
            "llama-cpp-python",
        ] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let body = std::fs::read_to_string(&path).unwrap_or_default();
                for data in body.lines().filter_map(|l| l.strip_prefix("data: ")) {
                    let took =
                        crate::__private::openai_fast_path_agrees_with_serde(data.as_bytes())
                            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    fast_events += usize::from(took);
                    let plain_text = data.contains(r#""content":"#)
                        && data.contains(r#""finish_reason":null"#)
                        && !data.contains("usage")
                        && !data.contains("tool_calls")
                        && !data.contains("reasoning")
                        && !data.contains("logprobs\":{")
                        && !data.contains("\"refusal\":\"")
                        && (!data.contains(r#""index":"#) || data.contains(r#""index":0"#));
                    if plain_text && serde(data).is_some() {
                        text_events += 1;
                        assert!(took, "{}: the fast path gave up on {data}", path.display());
                    }
                }
            }
        }
        assert!(
            text_events > 100 && fast_events >= text_events,
            "{text_events} {fast_events}"
        );
    }
}
