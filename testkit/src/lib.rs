//! Test scaffolding for theory-llm: the one loopback server ([`loopback`]), the
//! invariants every decoding run keeps and the fuzz targets' bodies ([`invariants`]),
//! synthetic reply bodies ([`bodies`]), AWS event-stream messages ([`eventstream`]), a
//! small JSON Schema validator ([`schema`]) and the
//! recorded transcripts ([`transcript`]).
//!
//! It reaches the crate's private pipelines only through `theory_llm::__private`.

pub mod bodies;
pub mod eventstream;
pub mod invariants;
pub mod loopback;
pub mod schema;

use std::path::PathBuf;

/// The bytes of a recorded transcript file under theory-llm's `tests/transcripts/`.
///
/// # Panics
/// If the file cannot be read.
pub fn transcript(path: &str) -> Vec<u8> {
    let full = transcripts_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// theory-llm's `tests/transcripts/`.
pub fn transcripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/transcripts")
}
