//! An OpenAI reply body through SSE framing and the Chat Completions decoder: the
//! first byte says how many of the next bytes (0 to 7) choose the read sizes, the
//! rest is the body. Checked whole, in those reads, one byte at a time, and with a
//! small event cap: the invariants every time, and the same items for every split.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_wire(
    theory_llm_testkit::invariants::wire("openai"),
    data
));
