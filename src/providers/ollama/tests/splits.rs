//! Any split of a transcript gives the same chunks.

use super::*;

const UNICODE: &[u8] =
    include_bytes!("../../../../tests/transcripts/ollama-compat/chat_unicode.body");
const STREAM: &[u8] =
    include_bytes!("../../../../tests/transcripts/ollama-compat/chat_stream.body");
const MIDSTREAM_ERROR: &[u8] =
    include_bytes!("../../../../tests/transcripts/ollama-compat/chat_backend_midstream_error.body");

/// Frames `pieces` with `NdjsonLines` and decodes them: each chunk or the error, as text.
fn decode_pieces(pieces: Vec<Vec<u8>>) -> Vec<String> {
    let bytes = futures::stream::iter(
        pieces
            .into_iter()
            .map(|p| Ok::<_, ()>(bytes::Bytes::from(p))),
    );
    let frames = NdjsonLines::new(bytes, 1 << 20)
        .map(|r| r.map_err(|_| Error::new(ErrorKind::Protocol, "framing failed")));
    let decoded = Decoded::new(frames, LineDecoder::new(endpoint()));
    futures::executor::block_on(decoded.collect::<Vec<_>>())
        .into_iter()
        .map(|item| match item {
            Ok(chunk) => format!("{chunk:?}"),
            Err(e) => format!("error {:?}: {e}", e.kind()),
        })
        .collect()
}

fn cut(body: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
    cuts.retain(|&c| c <= body.len());
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut last = 0;
    for c in cuts {
        pieces.push(body.get(last..c).unwrap_or_default().to_vec());
        last = c;
    }
    pieces.push(body.get(last..).unwrap_or_default().to_vec());
    pieces
}

#[test]
fn whole_transcripts_decode_as_expected() {
    let chunks = decode_pieces(vec![UNICODE.to_vec()]);
    assert_eq!(chunks.len(), 9);
    assert!(chunks[0].contains('🌌'), "{chunks:?}");
    assert!(chunks[8].starts_with("Finish"), "{chunks:?}");
    let chunks = decode_pieces(vec![MIDSTREAM_ERROR.to_vec()]);
    assert!(chunks
        .last()
        .unwrap()
        .contains("Context size has been exceeded."));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_split_gives_the_same_chunks(
        which in 0usize..3,
        cuts in proptest::collection::vec(0usize..40_000, 0..40),
    ) {
        let body = [UNICODE, STREAM, MIDSTREAM_ERROR][which];
        let cuts = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
        prop_assert_eq!(decode_pieces(cut(body, cuts)), decode_pieces(vec![body.to_vec()]));
    }
}
