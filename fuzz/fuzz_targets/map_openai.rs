//! One SSE data frame straight into the OpenAI decoder (then the end of the body); and,
//! when it can be one `data:` line, the same through the SSE framing, which must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| theory_llm_testkit::invariants::fuzz_map_openai(data));
