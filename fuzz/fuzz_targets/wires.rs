//! A reply body of any built-in wire format, the first byte picking which from the
//! crate's table (so a provider added later is fuzzed with no target of its own); the
//! rest read as the `sse` target reads its input: checked whole, in the chosen reads, one
//! byte at a time and with a small frame cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_any_wire(data));
