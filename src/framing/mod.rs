//! Framing: bytes in, frames out. No JSON here.

pub(crate) mod ndjson;
// eventsource-stream's framer: the reference for the built-in one, and what frames SSE
// with the `eventsource-stream` feature.
#[cfg(any(test, feature = "eventsource-stream", feature = "bench"))]
pub(crate) mod sse;
// The built-in SSE framer (unused, but still compiled and tested, with the
// `eventsource-stream` feature).
#[cfg_attr(feature = "eventsource-stream", allow(dead_code))]
pub(crate) mod sse_native;
