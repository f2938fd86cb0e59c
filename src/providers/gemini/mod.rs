//! The `gemini` provider's wire: the Gemini API (`POST
//! /v1beta/models/{model}:streamGenerateContent?alt=sse`), streamed over Server-Sent
//! Events, the key in the `x-goog-api-key` header.
//!
//! Files: `dialect.rs` (the API as a kit dialect: path, key, errors, prices),
//! `request.rs` (the request body) with `contents.rs` (the conversation, thought
//! signatures sent back), `map.rs` (SSE data to chunks) with `parts.rs` (text,
//! thoughts, function calls and their signatures), `errors.rs` (Google's error bodies
//! and `RetryInfo`), `wire.rs` (the reply's serde types).

mod contents;
mod dialect;
mod errors;
mod map;
mod parts;
mod request;
#[cfg(test)]
mod tests;
mod wire;

pub(crate) use dialect::GeminiDialect;
pub(crate) use map::GeminiDecoder;
