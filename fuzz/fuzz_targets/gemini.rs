//! A Gemini `streamGenerateContent` body through SSE framing and the response-chunk
//! decoder, read as the `sse` target reads its input: checked whole, in the chosen
//! reads, one byte at a time and with a small event cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_wire(
    theory_llm_testkit::invariants::wire("gemini"),
    data
));
