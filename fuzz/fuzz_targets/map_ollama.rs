//! One NDJSON line straight into the Ollama decoder (then the end of the body); and,
//! when it can be a line, the same through the NDJSON framing, which must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_map_ollama(data));
