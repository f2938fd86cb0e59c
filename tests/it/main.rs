//! One integration-test binary (one link instead of one per file).
#![allow(unreachable_pub)] // test helpers are `pub` for the modules of this binary

mod support; // loopback HTTP server replaying transcripts

mod core; // the public API on the mock provider: trait, collector, errors, factory
mod ollama; // Ollama /api/chat over NDJSON, on loopback
mod openai; // OpenAI Chat Completions over SSE, on loopback
mod resilience; // retries, cancellation, timeouts, concurrency
