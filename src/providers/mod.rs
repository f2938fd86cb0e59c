//! The built-in providers, one folder each. Adding a provider is one new folder here
//! and one line in `Registry::builtin` (`src/registry.rs`).

pub mod anthropic;
pub(crate) mod gemini;
pub mod mock;
pub mod ollama;
pub mod openai;
pub mod openai_responses;
