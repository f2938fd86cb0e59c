//! The `bedrock` provider without I/O: SigV4 against AWS's published test suite, the
//! request body, and event-stream messages to chunks.

mod body;
mod events;
mod sigv4;
