//! Framing: bytes in, frames out. No JSON here.

pub(crate) mod ndjson;
pub(crate) mod sse;
