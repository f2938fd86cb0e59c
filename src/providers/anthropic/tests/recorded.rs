//! The decoder on recorded llama.cpp bodies, whole and split anywhere.

use super::*;

#[test]
fn a_recorded_llama_cpp_stream() {
    let chunks = decode("stream.body");
    assert_eq!(text(&chunks), "I'm sorry for any confusion.");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Stop);
    // input_tokens 25 + cache_read_input_tokens 0; no cache_creation reported.
    assert_eq!((f.tokens_in, f.tokens_out), (Some(25), Some(8)));
    assert_eq!(
        (f.cached_tokens_in, f.cache_write_tokens_in),
        (Some(0), None)
    );
    assert_eq!(f.model.as_deref(), Some("smollm2"));
    assert_eq!(
        f.response_id.as_deref(),
        Some("chatcmpl-zY7xGXywF3mEy5AptDcuK1f0hpAHj6n2")
    );
    assert!(f.reasoning_blocks.is_empty());
}

#[test]
fn a_stream_without_message_start_still_works() {
    // llama.cpp: the first token was an incomplete UTF-8 sequence, and message_start
    // was never sent. No id, no model, no input count: only the output count.
    let chunks = decode("unicode_stream.body");
    assert_eq!(text(&chunks), "🌍🌐🌐🌐🌐🌐🌐🌐");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Length);
    assert_eq!((f.tokens_in, f.tokens_out), (None, Some(24)));
    assert_eq!((f.response_id.as_deref(), f.model.as_deref()), (None, None));
}

#[test]
fn recorded_cache_reads_count_in_the_prompt() {
    // max_tokens_1: input_tokens 10 + cache_read_input_tokens 24.
    let chunks = decode("max_tokens_1_stream.body");
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::Length);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(34), Some(1)));
    assert_eq!(f.cached_tokens_in, Some(24));
    assert_eq!(text(&chunks), "I");
}

/// A whole body as the one frame the kit gives for `application/json`.
fn whole(name: &str) -> Vec<Chunk> {
    let text = String::from_utf8(body(name)).unwrap();
    let (chunks, end) = run(&[&text]);
    end.unwrap();
    chunks
}

#[test]
fn a_whole_message_is_decoded_at_once() {
    let chunks = whole("nonstream.body");
    assert_eq!(
        text(&chunks),
        "Hello, welcome to my little corner of the world."
    );
    let f = finish(&chunks);
    assert_eq!((f.tokens_in, f.tokens_out), (Some(36), Some(12)));
    assert_eq!(f.reason, FinishReason::Stop);

    let chunks = whole("nonstream_tool_use.body");
    assert_eq!(text(&chunks), "Checking.");
    assert_eq!(reasoning(&chunks), "Need the weather.");
    assert!(matches!(&chunks[2], Chunk::ToolCallStart(s) if s.index == 0 && s.id == "toolu_W"));
    assert!(matches!(&chunks[3], Chunk::ToolCallDelta(d) if d.arguments == r#"{"city":"Rome"}"#));
    assert_eq!(
        calls(&chunks),
        vec![ToolCall::new(
            "toolu_W",
            "get_weather",
            json!({"city": "Rome"})
        )]
    );
    let f = finish(&chunks);
    assert_eq!(f.reason, FinishReason::ToolCalls);
    assert_eq!((f.tokens_in, f.cached_tokens_in), (Some(150), Some(50)));
    assert_eq!(
        f.reasoning_blocks,
        vec![ThinkingBlock::Thinking {
            thinking: "Need the weather.".into(),
            signature: "c2lnLXdob2xl".into()
        }]
    );
}

/// The chunks and the error of `body` cut at `cuts`, each as text, for comparison.
fn shown(pieces: Vec<Vec<u8>>) -> Vec<String> {
    let (chunks, err) = decode_pieces(pieces);
    chunks
        .iter()
        .map(|c| format!("{c:?}"))
        .chain(err.map(|e| format!("error {:?}: {e}", e.kind())))
        .collect()
}

fn cut(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut last = 0;
    for &c in cuts {
        pieces.push(body[last..c].to_vec());
        last = c;
    }
    pieces.push(body[last..].to_vec());
    pieces
}

/// Coalesces adjacent text and reasoning chunks: how text is cut into chunks follows the
/// events, never the reads, but this states what must hold either way.
#[test]
fn any_split_of_a_body_gives_the_same_chunks() {
    for name in [
        "stream.body",
        "unicode_stream.body",
        "tool_use_stream.body",
        "thinking_stream.body",
        "error_after_text.body",
        "newer_events_stream.body",
    ] {
        let whole = body(name);
        let want = shown(vec![whole.clone()]);
        assert!(want.len() >= 2, "{name}");
        for at in 0..=whole.len() {
            assert_eq!(shown(cut(&whole, &[at])), want, "{name} cut at {at}");
        }
        let every_byte: Vec<Vec<u8>> = whole.iter().map(|b| vec![*b]).collect();
        assert_eq!(shown(every_byte), want, "{name} byte by byte");
        // Two cuts, spread over the body.
        let step = (whole.len() / 40).max(1);
        for a in (0..whole.len()).step_by(step) {
            for b in (a..whole.len()).step_by(step * 3 + 1) {
                assert_eq!(shown(cut(&whole, &[a, b])), want, "{name} cut at {a}, {b}");
            }
        }
    }
}
