//! One integration-test binary (one link instead of one per file).
#![allow(unreachable_pub)] // test helpers are `pub` for the modules of this binary

mod support; // the loopback server and transcripts, from testkit/

mod agent; // the tool loop over loopback: ids in each format, concurrency, failures, bounds, cancellation
mod anthropic; // the Anthropic Messages API over SSE, on loopback
mod architecture; // the layers of src/: no import cycles, no import from a layer above
mod azure; // Azure OpenAI over loopback: deployments, api-version, api-key, the content filter
mod bedrock; // Bedrock ConverseStream over loopback: event-stream replies, bearer and SigV4, exceptions
mod budget; // budgets in one process: windows, streams at once, arrival order, every way out
mod caps; // every byte a reply keeps counts toward its cap, whatever kept it
mod compatible; // the OpenAI-compatible clouds and local servers by name
mod core; // the public API on the mock provider: trait, collector, errors, factory
mod embed; // embeddings per provider over loopback: bodies, batches in order, base64, usage, hostile replies
mod framing; // the built-in SSE framer against eventsource-stream on every recording
mod fuzzing; // property tests over the decoding pipelines, headers and model names
mod gemini; // the Gemini API's wire over SSE, on loopback (through the kit's builder)
mod hostile; // hostile servers and careless users: redirects, absurd headers, secrets in URLs
mod kit; // a provider of our own on the public kit, over loopback
mod mcp; // the MCP client against real servers (scripts/mcpservers.sh): stdio, HTTP, crashes
mod ollama; // Ollama /api/chat over NDJSON, on loopback
mod openai; // OpenAI Chat Completions over SSE, on loopback
mod polls; // single polls (tokio-test): chunks on arrival, backpressure, cancellation
mod public_api; // the crate root's names, listed: a new one has to argue for its place
mod reasoning; // reasoning controls on the wire of every provider, and what each refuses
mod record; // recordings of any provider, replayed offline
mod resilience; // retries, cancellation, timeouts, concurrency
mod responses; // the openai-responses provider over loopback, splits and fuzz checks
mod routing; // fallback chains and endpoint pools over loopback
mod schemas; // structured output and required tool calls against generated JSON Schemas
mod secrets; // secrets echoed back in reply metadata, or in URLs that do not parse: never shown
mod tools; // tool calls in every quirk and split, structured output, images, the tool loop
mod usage; // cached, cache-write and reasoning tokens, cost per kind, partial and cancelled replies
