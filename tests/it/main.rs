//! One integration-test binary (one link instead of one per file).
#![allow(unreachable_pub)] // test helpers are `pub` for the modules of this binary

mod support; // loopback HTTP server replaying transcripts

mod core;
mod hostile; // hostile servers and careless users: redirects, absurd headers, secrets in URLs // the public API on the mock provider: trait, collector, errors, factory
mod ollama; // Ollama /api/chat over NDJSON, on loopback
mod openai; // OpenAI Chat Completions over SSE, on loopback
mod resilience; // retries, cancellation, timeouts, concurrency
