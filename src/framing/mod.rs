//! Framing: bytes in, frames out (SSE events' data, NDJSON lines, AWS event-stream
//! messages). No JSON here.

pub(crate) mod eventstream;
pub(crate) mod ndjson;
pub(crate) mod sse;

/// `body` cut at `cuts` (each taken modulo `body.len() + 1`, in any order): the reads
/// that the split-invariance tests feed to a framer.
#[cfg(test)]
pub(crate) fn cut(body: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
    cuts.iter_mut().for_each(|c| *c %= body.len() + 1);
    cuts.sort_unstable();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut last = 0;
    for c in cuts {
        pieces.push(body[last..c].to_vec());
        last = c;
    }
    pieces.push(body[last..].to_vec());
    pieces
}

/// `body` one byte per read.
#[cfg(test)]
pub(crate) fn bytewise(body: &[u8]) -> Vec<Vec<u8>> {
    body.iter().map(|b| vec![*b]).collect()
}
